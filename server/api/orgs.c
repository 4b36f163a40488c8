/*
 * Institutions (单位, "orgs"). Each belongs to one zone and carries its
 * unified social credit code (GB 32100-2015), whose check character is
 * verified by domain/credit_code.c. Institutions are public: the catalogue
 * names them as owners and filters by them, so anyone may list and read them.
 *
 *   GET   /api/v1/orgs[?zone=]   public
 *   GET   /api/v1/orgs/{id}      public
 *   POST  /api/v1/orgs           admin
 *   PATCH /api/v1/orgs/{id}      admin
 */
#include <ctype.h>
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "domain/credit_code.h"

#define ORG_BODY_MAX 8192

static const char *const kinds[] = {"university", "institute", "enterprise", "hospital", "platform", "other", NULL};

cJSON *yq_org_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT o.id, o.code, o.name_zh, o.name_en, o.kind, z.code, o.credit_code, "
                                      "o.created_at, o.updated_at FROM orgs o JOIN zones z ON z.id = o.zone_id "
                                      "WHERE o.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    static const char *const keys[] = {"id", "code", "name_zh", "name_en", "kind", "zone", "credit_code"};
    for (int i = 0; i < 7; i++)
        yq_json_add_col(o, keys[i], st, i);
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 7));
    yq_json_add_time(o, "updated_at", sqlite3_column_int64(st, 8));
    sqlite3_reset(st);
    return o;
}

int64_t yq_org_zone(int64_t org_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT zone_id FROM orgs WHERE id = ?1");
    sqlite3_bind_int64(st, 1, org_id);
    int64_t z = yq_db_int(db, st, 0);
    return z;
}

/* Input fields of POST (all required) and PATCH (any). Strings point into
 * the request body's cJSON tree, except credit_code (upper-cased copy). */
typedef struct {
    const char *code, *name_zh, *name_en, *kind, *zone;
    char credit_code[32];
    int has_credit_code;
    int64_t zone_id;
} org_in_t;

/* An org code: 1-32 characters of A-Z, a-z, 0-9, '-', '_', '.'. */
static int code_ok(const char *s) {
    size_t n = strlen(s);
    return n >= 1 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

/* Reads and checks the fields; answers 400 itself and returns -1. */
static int read_org(yq_req_t *req, const cJSON *body, int required, org_in_t *in) {
    const char *cc;
    memset(in, 0, sizeof *in);
    if (yq_api_str(req, body, "code", required, 32, &in->code) ||
        yq_api_str(req, body, "name_zh", required, 200, &in->name_zh) ||
        yq_api_str(req, body, "name_en", required, 300, &in->name_en) ||
        yq_api_enum(req, body, "kind", required, kinds, &in->kind) ||
        yq_api_str(req, body, "zone", required, 32, &in->zone) ||
        yq_api_str(req, body, "credit_code", required, 18, &cc))
        return -1;
    if (in->code && !code_ok(in->code)) {
        yq_reply_error(req, 400, "invalid_field", "An institution code has 1-32 characters: A-Z, a-z, 0-9, -, _, .",
                       "code");
        return -1;
    }
    if ((in->name_zh && !*in->name_zh) || (in->name_en && !*in->name_en)) {
        yq_reply_error(req, 400, "invalid_field", "Names must not be empty.",
                       in->name_zh && !*in->name_zh ? "name_zh" : "name_en");
        return -1;
    }
    if (in->zone) {
        yq_db_t *db = yq_db_main();
        sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM zones WHERE code = ?1");
        sqlite3_bind_text(st, 1, in->zone, -1, SQLITE_TRANSIENT);
        in->zone_id = yq_db_int(db, st, 0);
        if (!in->zone_id) {
            yq_reply_error(req, 400, "unknown_zone", "No zone has this code.", "zone");
            return -1;
        }
    }
    if (cc) {
        size_t n = strlen(cc);
        for (size_t i = 0; i <= n; i++)
            in->credit_code[i] = (char)toupper((unsigned char)cc[i]);
        in->has_credit_code = 1;
        if (!yq_credit_code_valid(in->credit_code)) {
            yq_reply_error(req, 400, "invalid_credit_code",
                           "Not a valid unified social credit code (18 characters; check character per GB 32100-2015).",
                           "credit_code");
            return -1;
        }
    }
    return 0;
}

/* Answers 409 and returns 1 when another org (not `self`) has the code or
 * the credit code. */
static int taken(yq_req_t *req, const org_in_t *in, int64_t self) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT code = ?1, credit_code = ?2 FROM orgs "
                                      "WHERE (code = ?1 OR credit_code = ?2) AND id <> ?3");
    if (in->code)
        sqlite3_bind_text(st, 1, in->code, -1, SQLITE_TRANSIENT);
    if (in->has_credit_code)
        sqlite3_bind_text(st, 2, in->credit_code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, self);
    if (yq_db_step(db, st) != 1)
        return 0;
    int same_code = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    yq_reply_error(req, 409, "org_exists",
                   same_code ? "Another institution has this code." : "Another institution has this credit code.",
                   same_code ? "code" : "credit_code");
    return 1;
}

/* GET /api/v1/orgs[?zone=CODE]: 200 {items, next_cursor} by id; 400. */
static void orgs_list(yq_req_t *req) {
    int64_t limit, after;
    if (yq_api_page(req, &limit, &after))
        return;
    const char *zone = yq_req_query(req, "zone");
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT o.id FROM orgs o JOIN zones z ON z.id = o.zone_id "
                                      "WHERE o.id > ?1 AND (?3 IS NULL OR z.code = ?3) ORDER BY o.id LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit + 1);
    if (zone && *zone)
        sqlite3_bind_text(st, 3, zone, -1, SQLITE_TRANSIENT);
    int64_t ids[501], n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, yq_org_json(ids[i]));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* GET /api/v1/orgs/{id}: 200 org; 404. */
static void org_get(yq_req_t *req) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return;
    cJSON *o = yq_org_json(id);
    if (!o) {
        yq_api_not_found(req);
        return;
    }
    yq_api_json(req, 200, o);
}

/* Writes the audit row, commits and answers with the org (status), or rolls
 * back and answers 409/500. */
static void finish(yq_req_t *req, const yq_principal_t *p, int rc, int64_t id, const char *action, const cJSON *before,
                   int status) {
    cJSON *o = rc < 0 ? NULL : yq_org_json(id);
    if (o)
        rc = yq_audit(req, p, NULL, action, "org", id, id, before, o);
    rc = yq_tx_end(o ? rc : (rc < 0 ? rc : YQ_DB_ERROR));
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(req, 409, "org_exists", "Another institution has this code or credit code.", NULL);
    else if (rc < 0)
        yq_api_internal(req);
    else {
        yq_api_json(req, status, o);
        o = NULL;
    }
    cJSON_Delete(o);
}

/* POST /api/v1/orgs {code, name_zh, name_en, zone, kind, credit_code}:
 * 201 org; 400 (invalid_credit_code names the field); 401; 403; 409 org_exists. */
static void org_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN);
    cJSON *body = NULL;
    org_in_t in;
    if (!p || yq_api_body(req, &body))
        return;
    if (read_org(req, body, 1, &in) || taken(req, &in, 0))
        goto done;
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_text(st, 1, in.code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, in.name_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, in.name_en, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, in.kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in.zone_id);
    sqlite3_bind_text(st, 6, in.credit_code, -1, SQLITE_TRANSIENT);
    int rc = yq_db_step(db, st);
    finish(req, p, rc, yq_db_last_id(db), "org_create", NULL, 201);
done:
    cJSON_Delete(body);
}

/* PATCH /api/v1/orgs/{id} {any of the POST fields}: 200 org; 400; 401;
 * 403; 404; 409 org_exists. */
static void org_patch(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN);
    cJSON *body = NULL, *before = NULL;
    org_in_t in;
    int64_t id;
    if (!p || yq_api_param_id(req, 0, &id) || yq_api_body(req, &body))
        return;
    if (!(before = yq_org_json(id))) {
        yq_api_not_found(req);
        goto done;
    }
    if (read_org(req, body, 0, &in) || taken(req, &in, id))
        goto done;
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE orgs SET code = coalesce(?2, code), name_zh = coalesce(?3, name_zh), "
                                      "name_en = coalesce(?4, name_en), kind = coalesce(?5, kind), "
                                      "zone_id = coalesce(?6, zone_id), credit_code = coalesce(?7, credit_code), "
                                      "updated_at = unixepoch() WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    const char *texts[] = {in.code, in.name_zh, in.name_en, in.kind};
    for (int i = 0; i < 4; i++)
        if (texts[i])
            sqlite3_bind_text(st, 2 + i, texts[i], -1, SQLITE_TRANSIENT);
    if (in.zone_id)
        sqlite3_bind_int64(st, 6, in.zone_id);
    if (in.has_credit_code)
        sqlite3_bind_text(st, 7, in.credit_code, -1, SQLITE_TRANSIENT);
    finish(req, p, yq_db_step(db, st), id, "org_update", before, 200);
done:
    cJSON_Delete(before);
    cJSON_Delete(body);
}

const yq_route_t yq_api_orgs_routes[] = {
    {YQ_M_GET, "/api/v1/orgs", orgs_list, 0, NULL},
    {YQ_M_POST, "/api/v1/orgs", org_create, ORG_BODY_MAX, NULL},
    {YQ_M_GET, "/api/v1/orgs/{id}", org_get, 0, NULL},
    {YQ_M_PATCH, "/api/v1/orgs/{id}", org_patch, ORG_BODY_MAX, NULL},
};
const size_t yq_api_orgs_routes_count = sizeof yq_api_orgs_routes / sizeof yq_api_orgs_routes[0];
