/*
 * Lab groups (课题组): an institution's research groups, each with a PI who
 * approves the group's bookings where the group requires it. Researchers
 * book as members of a group, and the group pays.
 *
 * Who may see a group: admins and the commission every group; everyone else
 * the groups of their own institution (any other group is 404). Who may
 * create or change one: admins, and operators of the group's institution.
 * The PI must be a user of the same institution.
 *
 *   GET   /api/v1/groups[?org_id=]   signed in
 *   GET   /api/v1/groups/{id}        signed in, as above
 *   POST  /api/v1/groups             admin, operator of the org
 *   PATCH /api/v1/groups/{id}        admin, operator of the org
 */
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/principal.h"

#define GROUP_BODY_MAX 4096

cJSON *yq_group_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st =
        yq_db_stmt(db, "SELECT g.id, g.org_id, g.name, g.pi_user_id, g.requires_pi_approval, g.created_at, "
                       "(SELECT count(*) FROM users u WHERE u.group_id = g.id) FROM lab_groups g WHERE g.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_col(o, "org_id", st, 1);
    yq_json_add_col(o, "name", st, 2);
    yq_json_add_col(o, "pi_user_id", st, 3);
    cJSON_AddBoolToObject(o, "requires_pi_approval", sqlite3_column_int(st, 4));
    yq_json_add_int(o, "members", sqlite3_column_int64(st, 6));
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 5));
    sqlite3_reset(st);
    return o;
}

int64_t yq_group_org(int64_t group_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT org_id FROM lab_groups WHERE id = ?1");
    sqlite3_bind_int64(st, 1, group_id);
    int64_t org = yq_db_int(db, st, 0);
    return org;
}

static int sees_all(const yq_principal_t *p) {
    return yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION);
}

/* Checks pi_user_id (present: *pi set; JSON null: *pi = 0 and *clear = 1):
 * a user of org who holds the PI role (a PI's reading and approving come
 * with the role: GET /bookings, approve), or the group's current PI
 * unchanged (current; 0 for a new group). Answers 400 and returns -1
 * otherwise. */
static int read_pi(yq_req_t *req, const cJSON *body, int64_t org, int64_t current, int64_t *pi, int *clear) {
    int present = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "pi_user_id");
    *clear = v && cJSON_IsNull(v);
    if (*clear)
        return 0;
    if (yq_api_int(req, body, "pi_user_id", 0, 1, INT64_MAX, pi, &present))
        return -1;
    if (!present || (current && *pi == current))
        return 0;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT 1 FROM users WHERE id = ?1 AND org_id = ?2 AND roles & ?3 <> 0");
    sqlite3_bind_int64(st, 1, *pi);
    sqlite3_bind_int64(st, 2, org);
    sqlite3_bind_int(st, 3, YQ_ROLE_PI);
    int ok = yq_db_step(db, st) == 1;
    sqlite3_reset(st);
    if (!ok) {
        yq_reply_error(req, 400, "invalid_pi", "The PI must be a user of the group's institution with the PI role.",
                       "pi_user_id");
        return -1;
    }
    return 0;
}

/* GET /api/v1/groups[?org_id=]: 200 {items, next_cursor} by id; 400; 401. */
static void groups_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t limit, after, org = 0;
    if (!p || yq_api_page(req, &limit, &after) || yq_api_query_int(req, "org_id", 1, INT64_MAX, &org, NULL))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM lab_groups WHERE id > ?1 AND (?3 = 0 OR org_id = ?3) "
                                      "AND (?4 = 0 OR org_id = ?4) ORDER BY id LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit + 1);
    sqlite3_bind_int64(st, 3, org);
    sqlite3_bind_int64(st, 4, sees_all(p) ? 0 : (p->org_id ? p->org_id : -1));
    int64_t ids[501], n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, yq_group_json(ids[i]));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* Resolves path parameter 0 to a group the caller may see; answers 404
 * otherwise and returns 0. */
static int64_t visible_group(yq_req_t *req, const yq_principal_t *p, int64_t *org) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return 0;
    *org = yq_group_org(id);
    if (!*org || (!sees_all(p) && p->org_id != *org)) {
        yq_api_not_found(req);
        return 0;
    }
    return id;
}

/* GET /api/v1/groups/{id}: 200 group; 401; 404. */
static void group_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t org, id;
    if (!p || !(id = visible_group(req, p, &org)))
        return;
    cJSON *o = yq_group_json(id);
    if (o)
        yq_api_json(req, 200, o);
    else
        yq_api_internal(req);
}

/* Audits, commits and answers with the group, or rolls back and answers. */
static void finish(yq_req_t *req, const yq_principal_t *p, int rc, int64_t id, int64_t org, const char *action,
                   const cJSON *before, int status) {
    cJSON *o = rc < 0 ? NULL : yq_group_json(id);
    if (o)
        rc = yq_audit(req, p, NULL, action, "group", id, org, before, o);
    rc = yq_tx_end(o ? rc : (rc < 0 ? rc : YQ_DB_ERROR));
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(req, 409, "group_exists", "The institution has a group with this name.", "name");
    else if (rc < 0)
        yq_api_internal(req);
    else {
        yq_api_json(req, status, o);
        o = NULL;
    }
    cJSON_Delete(o);
}

/* POST /api/v1/groups {org_id, name, pi_user_id?, requires_pi_approval?}:
 * 201 group; 400 (invalid_pi, pi_required); 401; 403; 409 group_exists. */
static void group_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN | YQ_ROLE_OPERATOR);
    cJSON *body = NULL;
    const char *name;
    int64_t org = 0, pi = 0;
    int needs_pi = 0, clear;
    if (!p || yq_api_body(req, &body))
        return;
    if (yq_api_int(req, body, "org_id", 1, 1, INT64_MAX, &org, NULL))
        goto done;
    if (!yq_org_zone(org)) {
        yq_reply_error(req, 400, "unknown_org", "No institution has this id.", "org_id");
        goto done;
    }
    if (!yq_has_role(p, YQ_ROLE_ADMIN) && !yq_is_operator_of(p, org)) {
        yq_reply_error(req, 403, "forbidden", "Only operators of that institution may add its groups.", NULL);
        goto done;
    }
    if (yq_api_str(req, body, "name", 1, 100, &name) || read_pi(req, body, org, 0, &pi, &clear) ||
        yq_api_bool(req, body, "requires_pi_approval", 0, &needs_pi, NULL))
        goto done;
    if (needs_pi && !pi) {
        yq_reply_error(req, 400, "pi_required", "A group that requires PI approval needs a PI.", "pi_user_id");
        goto done;
    }
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO lab_groups (org_id, name, pi_user_id, requires_pi_approval) "
                                      "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_bind_int64(st, 1, org);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    if (pi)
        sqlite3_bind_int64(st, 3, pi);
    sqlite3_bind_int(st, 4, needs_pi);
    int rc = yq_db_step(db, st);
    finish(req, p, rc, yq_db_last_id(db), org, "group_create", NULL, 201);
done:
    cJSON_Delete(body);
}

/* PATCH /api/v1/groups/{id} {name?, pi_user_id? (null clears), requires_pi_approval?}:
 * 200 group; 400; 401; 403; 404; 409 group_exists. */
static void group_patch(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body = NULL, *before = NULL;
    const char *name;
    int64_t org, id, pi = 0;
    int needs_pi = -1, clear = 0;
    if (!p || !(id = visible_group(req, p, &org)))
        return;
    if (!yq_has_role(p, YQ_ROLE_ADMIN) && !yq_is_operator_of(p, org)) {
        yq_reply_error(req, 403, "forbidden", "Only operators of the group's institution may change it.", NULL);
        return;
    }
    if (yq_api_body(req, &body))
        return;
    before = yq_group_json(id);
    const cJSON *old_pi = cJSON_GetObjectItem(before, "pi_user_id");
    int64_t current = cJSON_IsNumber(old_pi) ? (int64_t)old_pi->valuedouble : 0;
    if (yq_api_str(req, body, "name", 0, 100, &name) || read_pi(req, body, org, current, &pi, &clear) ||
        yq_api_bool(req, body, "requires_pi_approval", 0, &needs_pi, NULL))
        goto done;
    int will_have_pi = pi || (!clear && cJSON_IsNumber(old_pi));
    int will_need = needs_pi >= 0 ? needs_pi : cJSON_IsTrue(cJSON_GetObjectItem(before, "requires_pi_approval"));
    if ((name && !*name) || (will_need && !will_have_pi)) {
        yq_reply_error(req, 400, name && !*name ? "invalid_field" : "pi_required",
                       name && !*name ? "The name must not be empty." : "A group that requires PI approval needs a PI.",
                       name && !*name ? "name" : "pi_user_id");
        goto done;
    }
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE lab_groups SET name = coalesce(?2, name), "
                                      "pi_user_id = CASE WHEN ?5 THEN NULL ELSE coalesce(?3, pi_user_id) END, "
                                      "requires_pi_approval = coalesce(?4, requires_pi_approval) WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (name)
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    if (pi)
        sqlite3_bind_int64(st, 3, pi);
    if (needs_pi >= 0)
        sqlite3_bind_int(st, 4, needs_pi);
    sqlite3_bind_int(st, 5, clear);
    finish(req, p, yq_db_step(db, st), id, org, "group_update", before, 200);
done:
    cJSON_Delete(before);
    cJSON_Delete(body);
}

const yq_route_t yq_api_groups_routes[] = {
    {YQ_M_GET, "/api/v1/groups", groups_list, 0, NULL},
    {YQ_M_POST, "/api/v1/groups", group_create, GROUP_BODY_MAX, NULL},
    {YQ_M_GET, "/api/v1/groups/{id}", group_get, 0, NULL},
    {YQ_M_PATCH, "/api/v1/groups/{id}", group_patch, GROUP_BODY_MAX, NULL},
};
const size_t yq_api_groups_routes_count = sizeof yq_api_groups_routes / sizeof yq_api_groups_routes[0];
