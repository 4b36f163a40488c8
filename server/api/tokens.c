/*
 * API tokens: long-lived bearer credentials for scripts and instrument
 * agents. A token authenticates as its user, limited to its scopes (`all`,
 * `stats:read`, `usage:write`); scopes only narrow what the user may do
 * (auth/principal.c). The token text is shown once, in the 201 answer; only
 * its SHA-256 is stored. Tokens are created from a signed-in browser session
 * (a token cannot mint more tokens), listed with their last use, and revoked.
 *
 *   GET    /api/v1/tokens[?user_id=]   own tokens (admins: any user's)
 *   POST   /api/v1/tokens              cookie session only
 *   DELETE /api/v1/tokens/{id}         own token (admins: any)
 */
#include <sodium.h>
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "auth/token.h"
#include "core/timeutil.h"

#define TOKEN_BODY_MAX 4096
#define TOKENS_PER_USER 50

static cJSON *scopes_json(unsigned scopes) {
    cJSON *a = cJSON_CreateArray();
    for (unsigned b = 1; b <= YQ_SCOPE_USAGE_WRITE; b <<= 1)
        if (scopes & b)
            cJSON_AddItemToArray(a, cJSON_CreateString(yq_scope_name(b)));
    return a;
}

/* The token's public fields (never the secret); NULL when no such token. */
static cJSON *token_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, user_id, name, scopes, created_at, last_used_at, revoked_at "
                                      "FROM api_tokens WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_col(o, "user_id", st, 1);
    yq_json_add_col(o, "name", st, 2);
    cJSON_AddItemToObject(o, "scopes", scopes_json((unsigned)sqlite3_column_int(st, 3)));
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 4));
    for (int i = 5; i <= 6; i++) {
        const char *key = i == 5 ? "last_used_at" : "revoked_at";
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            cJSON_AddNullToObject(o, key);
        else
            yq_json_add_time(o, key, sqlite3_column_int64(st, i));
    }
    sqlite3_reset(st);
    return o;
}

/* Reads "scopes": a non-empty array of distinct scope names. */
static int read_scopes(yq_req_t *req, const cJSON *body, unsigned *out) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "scopes"), *s;
    unsigned bits = 0;
    int ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) > 0 && cJSON_GetArraySize(a) <= 3;
    cJSON_ArrayForEach(s, a) {
        unsigned b = ok && cJSON_IsString(s) ? yq_scope_from_name(s->valuestring) : 0;
        if (!b || (bits & b))
            ok = 0;
        bits |= b;
    }
    if (!ok) {
        yq_reply_error(req, 400, "invalid_field",
                       "Field 'scopes' must list one or more of all, stats:read, usage:write.", "scopes");
        return -1;
    }
    *out = bits;
    return 0;
}

static int active_tokens(int64_t user_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL");
    sqlite3_bind_int64(st, 1, user_id);
    int n = yq_db_step(db, st) == 1 ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

/* POST /api/v1/tokens {name, scopes}: 201 {id, token, name, scopes, ...}
 * (the token is shown only here); 400; 401; 403 (csrf, or called with a
 * token); 409 too_many_tokens. */
static void token_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body = NULL;
    const char *name;
    unsigned scopes;
    if (!p)
        return;
    if (p->via_token) {
        yq_reply_error(req, 403, "forbidden", "Create API tokens from a signed-in session.", NULL);
        return;
    }
    if (yq_api_body(req, &body))
        return;
    if (yq_api_str(req, body, "name", 1, 100, &name) || read_scopes(req, body, &scopes))
        goto done;
    if (active_tokens(p->user_id) >= TOKENS_PER_USER) {
        yq_reply_error(req, 409, "too_many_tokens", "Revoke an unused token first (50 at most).", NULL);
        goto done;
    }
    char token[YQ_TOKEN_CHARS];
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    yq_token_new(token);
    yq_token_hash(token, hash);
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5)");
    sqlite3_bind_int64(st, 1, p->user_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, hash, sizeof hash, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, (int)scopes);
    sqlite3_bind_int64(st, 5, yq_now());
    int rc = yq_db_step(db, st);
    int64_t id = yq_db_last_id(db);
    cJSON *o = rc < 0 ? NULL : token_json(id);
    if (o)
        rc = yq_audit(req, p, NULL, "token_create", "token", id, p->org_id, NULL, o);
    if (yq_tx_end(o ? rc : YQ_DB_ERROR) < 0) {
        cJSON_Delete(o);
        yq_api_internal(req);
    } else {
        cJSON_AddStringToObject(o, "token", token);
        yq_api_json(req, 201, o);
    }
    sodium_memzero(token, sizeof token);
done:
    cJSON_Delete(body);
}

/* GET /api/v1/tokens[?user_id=]: 200 {items, next_cursor}, newest first;
 * 400; 401; 403 (another user's, not admin). */
static void tokens_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t limit, after, user = 0;
    if (!p || yq_api_page(req, &limit, &after) || yq_api_query_int(req, "user_id", 1, INT64_MAX, &user, NULL))
        return;
    if (user && user != p->user_id && !yq_has_role(p, YQ_ROLE_ADMIN)) {
        yq_reply_error(req, 403, "forbidden", "Only admins list other users' tokens.", NULL);
        return;
    }
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM api_tokens WHERE user_id = ?3 AND (?1 = 0 OR id < ?1) "
                                      "ORDER BY id DESC LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit + 1);
    sqlite3_bind_int64(st, 3, user ? user : p->user_id);
    int64_t ids[501], n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, token_json(ids[i]));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* DELETE /api/v1/tokens/{id}: 204 (also when already revoked); 401; 403; 404. */
static void token_delete(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t id;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    cJSON *before = token_json(id);
    const cJSON *owner = cJSON_GetObjectItem(before, "user_id");
    if (!before || (owner->valuedouble != (double)p->user_id && !yq_has_role(p, YQ_ROLE_ADMIN))) {
        cJSON_Delete(before);
        yq_api_not_found(req);
        return;
    }
    int rc = 0;
    if (cJSON_IsNull(cJSON_GetObjectItem(before, "revoked_at"))) {
        yq_db_t *db = yq_db_main();
        if (yq_db_begin(db)) {
            rc = YQ_DB_ERROR;
        } else {
            sqlite3_stmt *st = yq_db_stmt(db, "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1");
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, yq_now());
            rc = yq_db_step(db, st);
            if (rc >= 0)
                rc = yq_audit(req, p, NULL, "token_revoke", "token", id, 0, before, NULL);
            rc = yq_tx_end(rc);
        }
    }
    cJSON_Delete(before);
    if (rc < 0)
        yq_api_internal(req);
    else
        yq_reply(req, 204, NULL, "", 0);
}

const yq_route_t yq_api_tokens_routes[] = {
    {YQ_M_GET, "/api/v1/tokens", tokens_list, 0, NULL},
    {YQ_M_POST, "/api/v1/tokens", token_create, TOKEN_BODY_MAX, NULL},
    {YQ_M_DELETE, "/api/v1/tokens/{id}", token_delete, 0, NULL},
};
const size_t yq_api_tokens_routes_count = sizeof yq_api_tokens_routes / sizeof yq_api_tokens_routes[0];
