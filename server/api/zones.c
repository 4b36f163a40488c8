/*
 * Zones (片区): the science areas whose instruments are on the list. Two come
 * from the first migration (neobay, zhangjiang); admins add more. A zone's
 * code is its public identifier (orgs and the catalogue name zones by code),
 * so it never changes; the names may.
 *
 *   GET   /api/v1/zones          public
 *   GET   /api/v1/zones/{code}   public
 *   POST  /api/v1/zones          admin
 *   PATCH /api/v1/zones/{code}   admin
 */
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/principal.h"

#define ZONE_BODY_MAX 4096

cJSON *yq_zone_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, code, name_zh, name_en FROM zones WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_col(o, "code", st, 1);
    yq_json_add_col(o, "name_zh", st, 2);
    yq_json_add_col(o, "name_en", st, 3);
    sqlite3_reset(st);
    return o;
}

static int64_t zone_id_of(const char *code) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM zones WHERE code = ?1");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int64_t id = yq_db_int(db, st, 0);
    return id;
}

/* A zone code: 2-32 characters of a-z, 0-9, '-' and '_', starting with a letter. */
static int code_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || n > 32 || s[0] < 'a' || s[0] > 'z')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* GET /api/v1/zones: 200 {items, next_cursor} (every zone, by id); 400 bad page. */
static void zones_list(yq_req_t *req) {
    int64_t limit, after;
    if (yq_api_page(req, &limit, &after))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM zones WHERE id > ?1 ORDER BY id LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit + 1);
    int64_t ids[501], n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, yq_zone_json(ids[i]));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* GET /api/v1/zones/{code}: 200 zone; 404. */
static void zone_get(yq_req_t *req) {
    int64_t id = zone_id_of(req->params[0]);
    cJSON *o = id ? yq_zone_json(id) : NULL;
    if (!o) {
        yq_api_not_found(req);
        return;
    }
    yq_api_json(req, 200, o);
}

/* POST /api/v1/zones {code, name_zh, name_en}: 201 zone; 400; 401; 403;
 * 409 zone_exists. */
static void zone_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN);
    cJSON *body = NULL;
    const char *code, *zh, *en;
    if (!p || yq_api_body(req, &body))
        return;
    if (yq_api_str(req, body, "code", 1, 32, &code) || yq_api_str(req, body, "name_zh", 1, 100, &zh) ||
        yq_api_str(req, body, "name_en", 1, 200, &en))
        goto done;
    if (!code_ok(code)) {
        yq_reply_error(req, 400, "invalid_field", "A zone code has 2-32 characters: a-z, 0-9, '-', '_'.", "code");
        goto done;
    }
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO zones (code, name_zh, name_en) VALUES (?1, ?2, ?3)");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, en, -1, SQLITE_TRANSIENT);
    int rc = yq_db_step(db, st);
    int64_t id = yq_db_last_id(db);
    cJSON *o = rc < 0 ? NULL : yq_zone_json(id);
    if (o)
        rc = yq_audit(req, p, NULL, "zone_create", "zone", id, 0, NULL, o);
    rc = yq_tx_end(rc);
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(req, 409, "zone_exists", "A zone with this code exists.", "code");
    else if (rc < 0 || !o)
        yq_api_internal(req);
    else {
        yq_api_json(req, 201, o);
        o = NULL;
    }
    cJSON_Delete(o);
done:
    cJSON_Delete(body);
}

/* PATCH /api/v1/zones/{code} {name_zh?, name_en?}: 200 zone; 400; 401; 403; 404. */
static void zone_patch(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN);
    cJSON *body = NULL, *before = NULL;
    const char *zh, *en;
    if (!p || yq_api_body(req, &body))
        return;
    int64_t id = zone_id_of(req->params[0]);
    if (!id) {
        yq_api_not_found(req);
        goto done;
    }
    if (yq_api_str(req, body, "name_zh", 0, 100, &zh) || yq_api_str(req, body, "name_en", 0, 200, &en))
        goto done;
    if ((zh && !*zh) || (en && !*en)) {
        yq_reply_error(req, 400, "invalid_field", "Names must not be empty.", zh && !*zh ? "name_zh" : "name_en");
        goto done;
    }
    before = yq_zone_json(id);
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE zones SET name_zh = coalesce(?2, name_zh), "
                                      "name_en = coalesce(?3, name_en) WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (zh)
        sqlite3_bind_text(st, 2, zh, -1, SQLITE_TRANSIENT);
    if (en)
        sqlite3_bind_text(st, 3, en, -1, SQLITE_TRANSIENT);
    int rc = yq_db_step(db, st);
    cJSON *o = rc < 0 ? NULL : yq_zone_json(id);
    if (o)
        rc = yq_audit(req, p, NULL, "zone_update", "zone", id, 0, before, o);
    if (yq_tx_end(o ? rc : YQ_DB_ERROR) < 0) {
        cJSON_Delete(o);
        yq_api_internal(req);
        goto done;
    }
    yq_api_json(req, 200, o);
done:
    cJSON_Delete(before);
    cJSON_Delete(body);
}

const yq_route_t yq_api_zones_routes[] = {
    {YQ_M_GET, "/api/v1/zones", zones_list, 0, NULL},
    {YQ_M_POST, "/api/v1/zones", zone_create, ZONE_BODY_MAX, NULL},
    {YQ_M_GET, "/api/v1/zones/{code}", zone_get, 0, NULL},
    {YQ_M_PATCH, "/api/v1/zones/{code}", zone_patch, ZONE_BODY_MAX, NULL},
};
const size_t yq_api_zones_routes_count = sizeof yq_api_zones_routes / sizeof yq_api_zones_routes[0];
