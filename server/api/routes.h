/*
 * Every API file's route table. main registers them all with
 * yq_api_register(); add one extern pair here and one line in routes.c for a
 * new API file.
 */
#ifndef YQ_API_ROUTES_H
#define YQ_API_ROUTES_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "http/router.h"

#define YQ_ROUTE_TABLE(name)                                                                                           \
    extern const yq_route_t yq_api_##name##_routes[];                                                                  \
    extern const size_t yq_api_##name##_routes_count

YQ_ROUTE_TABLE(health);
YQ_ROUTE_TABLE(session);
/* accounts (issue 3) */
YQ_ROUTE_TABLE(zones);
YQ_ROUTE_TABLE(orgs);
YQ_ROUTE_TABLE(groups);
YQ_ROUTE_TABLE(users);
YQ_ROUTE_TABLE(passwords);
YQ_ROUTE_TABLE(tokens);
YQ_ROUTE_TABLE(audit);
/* catalogue (issue 4) */
YQ_ROUTE_TABLE(instrument_csv);
YQ_ROUTE_TABLE(instruments);
/* bookings (issue 5) */
YQ_ROUTE_TABLE(bookings);
YQ_ROUTE_TABLE(availability);
YQ_ROUTE_TABLE(blocks);
YQ_ROUTE_TABLE(qualifications);
YQ_ROUTE_TABLE(notifications);
YQ_ROUTE_TABLE(calendar_feed);
/* usage and vouchers (issue 6) */
YQ_ROUTE_TABLE(usage);
YQ_ROUTE_TABLE(vouchers);
/* settlement (issue 7) */
YQ_ROUTE_TABLE(settlements);
/* statistics (issue 8) */
YQ_ROUTE_TABLE(stats);

void yq_api_register(void);

/* Shared by API files: adds a user's public fields (GET /api/v1/me shape). */
int yq_api_user_fields(cJSON *obj, int64_t user_id);

#endif
