/*
 * Writing the audit log (DOMAIN.md "Audit"): who, what, when, from which
 * address, before and after. Callers pass JSON snapshots that hold no
 * password, token or session id. Read by GET /api/v1/audit.
 */
#ifndef YQ_API_AUDIT_LOG_H
#define YQ_API_AUDIT_LOG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "auth/principal.h"
#include "http/request.h"

/* Records one action. p may be NULL (e.g. a failed sign-in; then login names
 * who was tried). before/after may be NULL; they are not freed. Returns 0 or
 * a negative storage code. */
int yq_audit(yq_req_t *req, const yq_principal_t *p, const char *login, const char *action, const char *object_type,
             int64_t object_id, int64_t org_id, const cJSON *before, const cJSON *after);

#endif
