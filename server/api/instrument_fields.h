/*
 * Reading an instrument from a JSON body (POST and PATCH /api/v1/instruments)
 * into the domain struct, answering 400 with the exact field name
 * ("rules.open_hours", "price.zone_fen") on a type error, and then the domain
 * checks (domain/instrument_rules.h) with the first error as the 400.
 */
#ifndef YQ_API_INSTRUMENT_FIELDS_H
#define YQ_API_INSTRUMENT_FIELDS_H

#include <cjson/cJSON.h>

#include "api/instrument_store.h"
#include "domain/instrument_rules.h"
#include "http/request.h"

/* Applies the members present in body onto *in (which holds the defaults on
 * create, the stored record on PATCH). On create the fixed fields are
 * required. Strings point into body, which must outlive *in. Unknown members
 * are refused; the read-only members of the response object are ignored, so a
 * client may send back what it got. Returns 0, or -1 after answering 400. */
int yq_instr_from_json(yq_req_t *req, const cJSON *body, yq_instrument_t *in, int create);

/* Runs the domain checks; on an error answers 400 invalid_field naming the
 * field and returns -1. */
int yq_instr_check_or_reply(yq_req_t *req, const yq_instrument_t *in);

/* Reads the query parameters shared by the search and the exports (q, zone,
 * class, org, bookable, run_status, include_retired, sort, limit, cursor) and
 * who asks into *s; strings stay in the request. Returns 0, or -1 after
 * answering 400 invalid_query naming the parameter. */
int yq_instr_search_params(yq_req_t *req, yq_search_t *s);

#endif
