/*
 * Signing in and out, and who am I.
 *
 * POST /api/v1/session: throttled per login (5 failures in 15 minutes ->
 * 429 for the 15 minutes after the fifth) and per address (50 in 15
 * minutes, likewise); only failures count, refused (429) attempts do not.
 * The password is verified on the thread pool, and an unknown login
 * verifies a dummy hash so both failures look and take the same.
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/password.h"
#include "auth/principal.h"
#include "auth/token.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "http/router.h"

#define THROTTLE_WINDOW (15 * 60)
#define THROTTLE_PER_LOGIN 5
#define THROTTLE_PER_ADDRESS 50

/* Adds the user's public fields (the GET /api/v1/me shape) to obj. */
int yq_api_user_fields(cJSON *obj, int64_t user_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st =
        yq_db_stmt(db, "SELECT u.id, u.login, u.name, u.org_id, u.group_id, u.roles, u.email, u.barred_until, "
                       "o.name_zh, o.name_en, g.name FROM users u LEFT JOIN orgs o ON o.id = u.org_id "
                       "LEFT JOIN lab_groups g ON g.id = u.group_id WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    if (yq_db_step(db, st) != 1)
        return -1;
    yq_json_add_col(obj, "id", st, 0);
    yq_json_add_col(obj, "login", st, 1);
    yq_json_add_col(obj, "name", st, 2);
    yq_json_add_col(obj, "org_id", st, 3);
    yq_json_add_col(obj, "group_id", st, 4);
    cJSON *roles = cJSON_AddArrayToObject(obj, "roles");
    unsigned bits = (unsigned)sqlite3_column_int(st, 5);
    for (unsigned b = 1; b <= YQ_ROLE_ADMIN; b <<= 1)
        if (bits & b)
            cJSON_AddItemToArray(roles, cJSON_CreateString(yq_role_name(b)));
    yq_json_add_col(obj, "email", st, 6);
    /* A bar that has run out is no bar (the booking check is barred_until > now). */
    int64_t barred = sqlite3_column_int64(st, 7);
    yq_json_add_time_or_null(obj, "barred_until", barred > yq_now() ? barred : 0);
    yq_json_add_col(obj, "org_name_zh", st, 8);
    yq_json_add_col(obj, "org_name_en", st, 9);
    yq_json_add_col(obj, "group_name", st, 10);
    sqlite3_reset(st);
    return 0;
}

/* When a lock on key (a login or an address) ends: 15 minutes after the
 * latest failure that made `limit` failures within 15 minutes, or 0 when
 * there is no such failure in the last 15 minutes. */
static int64_t locked_until(const char *sql, const char *key, int limit) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, sql);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, yq_now() - THROTTLE_WINDOW);
    sqlite3_bind_int(st, 3, limit);
    sqlite3_bind_int(st, 4, THROTTLE_WINDOW);
    int64_t until = 0;
    if (yq_db_step(db, st) == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        until = sqlite3_column_int64(st, 0) + THROTTLE_WINDOW;
    sqlite3_reset(st);
    return until;
}

int yq_signin_throttled(yq_req_t *req, const char *login) {
    static const char by_login[] =
        "SELECT max(f.at) FROM login_failures f WHERE f.login = ?1 AND f.at > ?2 AND (SELECT count(*) FROM "
        "login_failures g WHERE g.login = ?1 AND g.at > f.at - ?4 AND g.at <= f.at) >= ?3";
    static const char by_ip[] =
        "SELECT max(f.at) FROM login_failures f WHERE f.ip = ?1 AND f.at > ?2 AND (SELECT count(*) FROM "
        "login_failures g WHERE g.ip = ?1 AND g.at > f.at - ?4 AND g.at <= f.at) >= ?3";
    int64_t a = locked_until(by_login, login, THROTTLE_PER_LOGIN);
    int64_t b = locked_until(by_ip, req->peer, THROTTLE_PER_ADDRESS);
    int64_t until = a > b ? a : b, now = yq_now();
    if (until <= now)
        return 0;
    char retry[24];
    snprintf(retry, sizeof retry, "%lld", (long long)(until - now));
    yq_reply_header(req, "Retry-After", retry);
    yq_reply_error(req, 429, "too_many_attempts", "Too many failed sign-ins; try again in 15 minutes.", NULL);
    return 1;
}

typedef struct {
    yq_req_t *req;
    int64_t user_id;
    char login[128];
} signin_t;

void yq_signin_failed(yq_req_t *req, const char *login) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO login_failures (login, ip, at) VALUES (?1, ?2, ?3)");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->peer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, yq_now());
    yq_db_step(db, st);
}

static void refuse(signin_t *s) {
    yq_signin_failed(s->req, s->login);
    yq_audit(s->req, NULL, s->login, "login_failed", "user", s->user_id, 0, NULL, NULL);
    yq_reply_error(s->req, 401, "invalid_credentials", "Wrong login or password.", NULL);
}

static void set_cookie(yq_req_t *req, const char *token, int clear) {
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s", yq_auth_cookie_name(), clear ? "" : token,
             yq_auth_settings.behind_tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
    yq_reply_header(req, "Set-Cookie", c);
}

int yq_session_start(yq_req_t *req, int64_t user_id, cJSON *out) {
    yq_db_t *db = yq_db_main();
    char token[YQ_TOKEN_CHARS], csrf[YQ_TOKEN_CHARS];
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    yq_token_new(token);
    yq_token_new(csrf);
    yq_token_hash(token, hash);
    int64_t now = yq_now();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, "
                                      "last_seen_at, ip) VALUES (?1, ?2, ?3, ?4, ?4, ?5)");
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, csrf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, user_id);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, req->peer, -1, SQLITE_TRANSIENT);
    cJSON *user = cJSON_AddObjectToObject(out, "user");
    int rc = yq_db_step(db, st);
    if (rc >= 0 && yq_api_user_fields(user, user_id) == 0) {
        cJSON_AddStringToObject(out, "csrf_token", csrf);
        set_cookie(req, token, 0);
    } else {
        rc = YQ_DB_ERROR;
    }
    sodium_memzero(token, sizeof token);
    return rc < 0 ? rc : 0;
}

static void after_verify(void *ctx, int ok) {
    signin_t *s = ctx;
    yq_req_t *req = s->req;
    if (!ok || !s->user_id) {
        refuse(s);
        free(s);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    if (yq_session_start(req, s->user_id, out)) {
        cJSON_Delete(out);
        yq_api_internal(req);
        free(s);
        return;
    }
    yq_audit(req, NULL, s->login, "login", "user", s->user_id, 0, NULL, NULL);
    yq_api_json(req, 200, out);
    free(s);
}

/* POST /api/v1/session {login, password}: 200 {user, csrf_token} + cookie;
 * 400 malformed; 401 invalid_credentials; 403 forbidden_origin; 429. */
static void session_create(yq_req_t *req) {
    cJSON *body;
    const char *login, *password;
    if (yq_auth_check_origin(req) || yq_api_body(req, &body))
        return;
    if (yq_api_str(req, body, "login", 1, 64, &login) || yq_api_str(req, body, "password", 1, 1024, &password) ||
        yq_signin_throttled(req, login)) {
        cJSON_Delete(body);
        return;
    }
    signin_t *s = yq_xcalloc(1, sizeof *s);
    s->req = req;
    snprintf(s->login, sizeof s->login, "%s", login);
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, password_hash, disabled FROM users WHERE login = ?1");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    char hash[YQ_PASSWORD_HASH_MAX] = "";
    if (yq_db_step(db, st) == 1 && sqlite3_column_int(st, 2) == 0) {
        s->user_id = sqlite3_column_int64(st, 0);
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    yq_password_verify_async(uv_default_loop(), s->user_id ? hash : NULL, password, after_verify, s);
    cJSON_Delete(body);
}

/* DELETE /api/v1/session: 204, ends this session; 401. */
static void session_delete(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    if (!p)
        return;
    if (p->session_id) {
        yq_db_t *db = yq_db_main();
        sqlite3_stmt *st = yq_db_stmt(db, "DELETE FROM sessions WHERE id = ?1");
        sqlite3_bind_int64(st, 1, p->session_id);
        yq_db_step(db, st);
        yq_audit(req, p, NULL, "logout", "user", p->user_id, 0, NULL, NULL);
    }
    set_cookie(req, "", 1);
    yq_reply(req, 204, NULL, "", 0);
}

/* GET /api/v1/me: 200 the caller (with csrf_token for cookie sessions); 401. */
static void me_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    if (!p)
        return;
    cJSON *out = cJSON_CreateObject();
    if (yq_api_user_fields(out, p->user_id)) {
        cJSON_Delete(out);
        yq_api_internal(req);
        return;
    }
    if (p->csrf[0])
        cJSON_AddStringToObject(out, "csrf_token", p->csrf);
    yq_api_json(req, 200, out);
}

const yq_route_t yq_api_session_routes[] = {
    {YQ_M_POST, "/api/v1/session", session_create, 4096, NULL},
    {YQ_M_DELETE, "/api/v1/session", session_delete, 0, NULL},
    {YQ_M_GET, "/api/v1/me", me_get, 0, NULL},
};
const size_t yq_api_session_routes_count = sizeof yq_api_session_routes / sizeof yq_api_session_routes[0];
