/*
 * Reading the audit log (DOMAIN.md "Audit"): admins and the commission.
 * Newest first; the cursor is the id of the last row of the page, and the
 * next page holds older rows. Filters combine: from (inclusive) and to
 * (exclusive) instants, actor (login or user id), action, object_type,
 * object_id, org_id. The rows never hold a password, token or session id:
 * writers (audit_log.h) pass only public snapshots.
 *
 *   GET /api/v1/audit
 */
#include <stdlib.h>
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/routes.h"
#include "auth/principal.h"

static cJSON *row_json(sqlite3_stmt *st) {
    static const char *const keys[] = {"id",     "at",          "actor_user_id", "actor_login", "ip",
                                       "action", "object_type", "object_id",     "org_id"};
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < 9; i++) {
        if (i == 1)
            yq_json_add_time(o, "at", sqlite3_column_int64(st, 1));
        else
            yq_json_add_col(o, keys[i], st, i);
    }
    for (int i = 9; i <= 10; i++) {
        const char *text = yq_col_text(st, i);
        cJSON *v = text ? cJSON_Parse(text) : NULL;
        cJSON_AddItemToObject(o, i == 9 ? "before" : "after", v ? v : cJSON_CreateNull());
    }
    return o;
}

/* Binds an optional text query parameter (absent or empty: NULL). */
static void bind_query(yq_req_t *req, sqlite3_stmt *st, int i, const char *name) {
    const char *v = yq_req_query(req, name);
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* GET /api/v1/audit?from=&to=&actor=&action=&object_type=&object_id=&org_id=&limit=&cursor=:
 * 200 {items, next_cursor}; 400; 401; 403 (not admin or commission). */
static void audit_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION);
    int64_t limit, before, from, to, object_id, org_id;
    int has_from, has_to, has_object, has_org;
    if (!p || yq_api_page(req, &limit, &before) || yq_api_query_time(req, "from", &from, &has_from) ||
        yq_api_query_time(req, "to", &to, &has_to) ||
        yq_api_query_int(req, "object_id", 1, INT64_MAX, &object_id, &has_object) ||
        yq_api_query_int(req, "org_id", 1, INT64_MAX, &org_id, &has_org))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT id, at, actor_user_id, actor_login, ip, action, object_type, object_id, org_id, before_json, "
            "after_json FROM audit WHERE (?1 = 0 OR id < ?1) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) "
            "AND (?5 IS NULL OR actor_login = ?5 OR actor_user_id = CAST(?5 AS INTEGER)) "
            "AND (?6 IS NULL OR action = ?6) AND (?7 IS NULL OR object_type = ?7) "
            "AND (?8 IS NULL OR object_id = ?8) AND (?9 IS NULL OR org_id = ?9) ORDER BY id DESC LIMIT ?2");
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int64(st, 2, limit + 1);
    if (has_from)
        sqlite3_bind_int64(st, 3, from);
    if (has_to)
        sqlite3_bind_int64(st, 4, to);
    bind_query(req, st, 5, "actor");
    bind_query(req, st, 6, "action");
    bind_query(req, st, 7, "object_type");
    if (has_object)
        sqlite3_bind_int64(st, 8, object_id);
    if (has_org)
        sqlite3_bind_int64(st, 9, org_id);
    cJSON *items = cJSON_CreateArray();
    int64_t n = 0, last = 0;
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        if (n++ == limit)
            break;
        last = sqlite3_column_int64(st, 0);
        cJSON_AddItemToArray(items, row_json(st));
    }
    sqlite3_reset(st);
    if (rc < 0) {
        cJSON_Delete(items);
        yq_api_internal(req);
        return;
    }
    yq_api_list(req, items, n > limit ? last : 0);
}

const yq_route_t yq_api_audit_routes[] = {
    {YQ_M_GET, "/api/v1/audit", audit_list, 0, NULL},
};
const size_t yq_api_audit_routes_count = sizeof yq_api_audit_routes / sizeof yq_api_audit_routes[0];
