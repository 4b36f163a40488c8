/*
 * Who is who (issue 3): zones, institutions, lab groups, users, API tokens
 * and the audit log. Each resource has its own file in api/ (zones.c,
 * orgs.c, groups.c, users.c, tokens.c, audit.c); this header shares their
 * JSON shapes and the few checks that more than one of them makes, so other
 * API files can embed the same objects.
 */
#ifndef YQ_API_ACCOUNTS_H
#define YQ_API_ACCOUNTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "auth/principal.h"
#include "http/request.h"

/* The public JSON of one object, or NULL when there is no such row. The
 * caller frees the result with cJSON_Delete. */
cJSON *yq_zone_json(int64_t id);  /* {id, code, name_zh, name_en} */
cJSON *yq_org_json(int64_t id);   /* {id, code, name_zh, name_en, kind, zone, credit_code, ...} */
cJSON *yq_group_json(int64_t id); /* {id, org_id, name, pi_user_id, requires_pi_approval, ...} */
cJSON *yq_user_json(int64_t id);  /* {id, login, name, email, phone, org_id, group_id, roles, disabled, ...} */

/* Roles as a JSON array of names, in the fixed order of the role bits. */
cJSON *yq_roles_json(unsigned roles);

/* The org a group belongs to (0 when no such group); the org's zone id (0
 * when no such org). */
int64_t yq_group_org(int64_t group_id);
int64_t yq_org_zone(int64_t org_id);

/* Is the caller an operator of that institution (admins are not, by this
 * test: callers check YQ_ROLE_ADMIN themselves)? */
static inline int yq_is_operator_of(const yq_principal_t *p, int64_t org_id) {
    return p && (p->roles & YQ_ROLE_OPERATOR) && org_id && p->org_id == org_id;
}

/* Ends a transaction opened with yq_db_begin(): commits when rc >= 0, else
 * (or when the commit fails) rolls back. Returns rc, or YQ_DB_ERROR when the
 * commit failed. */
int yq_tx_end(int rc);

/* Sign-in helpers of session.c. yq_signin_throttled answers 429 and returns
 * 1 when the login or the caller's address has had too many failures;
 * yq_signin_failed counts one failure. yq_session_start creates a session
 * for the user, sets the cookie on the response and adds {user, csrf_token}
 * to out; returns 0 or a negative storage code. */
int yq_signin_throttled(yq_req_t *req, const char *login);
void yq_signin_failed(yq_req_t *req, const char *login);
int yq_session_start(yq_req_t *req, int64_t user_id, cJSON *out);

/* Ends every session of a user (password change, disabling). Returns the
 * number ended or a negative storage code. */
int yq_sessions_end_all(int64_t user_id);

#endif
