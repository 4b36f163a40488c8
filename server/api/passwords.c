/*
 * Changing passwords.
 *
 *   POST /api/v1/me/password {old_password, new_password}
 *       The signed-in user (a cookie session: API tokens cannot change the
 *       password). The old password is verified off the loop; a wrong one
 *       counts as a failed sign-in for the throttle (so a stolen session
 *       cannot guess it quickly). On success EVERY session of the user ends,
 *       this one included, and a fresh session is issued in the same answer
 *       (new cookie, new CSRF token): the person who changed the password stays
 *       signed in, everyone else holding an old cookie is out. API tokens are
 *       kept: they are separate credentials, revoked one by one.
 *   POST /api/v1/users/{id}/password {new_password}
 *       Admin reset: sets the password and ends all of that user's sessions.
 *
 * Passwords are hashed with Argon2id on libuv's thread pool; copies held
 * between the two steps are wiped when freed.
 */
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
#include "core/alloc.h"

#define PASSWORD_BODY_MAX 4096

/* One password change in flight. Freed (and wiped) by finish(). */
typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t user_id, org_id;
    int reset; /* admin reset of another account */
    char *new_password;
} change_t;

static void finish(change_t *c) {
    sodium_memzero(c->new_password, strlen(c->new_password));
    free(c->new_password);
    free(c);
}

/* Reads a password member (not logged, wiped by the caller). */
static int read_pw(yq_req_t *req, const cJSON *body, const char *key, const char **out) {
    return yq_api_str(req, body, key, 1, YQ_PASSWORD_MAX_BYTES, out);
}

static void wipe_body(cJSON *body) {
    const cJSON *v;
    cJSON_ArrayForEach(v, body) if (cJSON_IsString(v)) sodium_memzero(v->valuestring, strlen(v->valuestring));
    cJSON_Delete(body);
}

static void after_hash(void *ctx, int rc, const char *hash) {
    change_t *c = ctx;
    yq_req_t *req = c->req;
    yq_db_t *db = yq_db_main();
    cJSON *out = cJSON_CreateObject();
    if (rc || yq_db_begin(db)) {
        rc = YQ_DB_ERROR;
        goto reply;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE users SET password_hash = ?2, updated_at = unixepoch() WHERE id = ?1");
    sqlite3_bind_int64(st, 1, c->user_id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    rc = yq_db_step(db, st);
    if (rc >= 0)
        rc = yq_sessions_end_all(c->user_id);
    if (rc >= 0 && !c->reset)
        rc = yq_session_start(req, c->user_id, out);
    if (rc >= 0)
        rc = yq_audit(req, c->p, NULL, c->reset ? "password_reset" : "password_change", "user", c->user_id, c->org_id,
                      NULL, NULL);
    rc = yq_tx_end(rc);
reply:
    if (rc < 0) {
        cJSON_Delete(out);
        yq_api_internal(req);
    } else if (c->reset) {
        cJSON_Delete(out);
        yq_reply(req, 204, NULL, "", 0);
    } else {
        yq_api_json(req, 200, out);
    }
    finish(c);
}

static void after_verify(void *ctx, int ok) {
    change_t *c = ctx;
    if (!ok) {
        yq_signin_failed(c->req, c->p->login);
        yq_audit(c->req, c->p, NULL, "password_change_failed", "user", c->user_id, c->org_id, NULL, NULL);
        yq_reply_error(c->req, 400, "wrong_password", "The current password is wrong.", "old_password");
        finish(c);
        return;
    }
    yq_password_hash_async(uv_default_loop(), c->new_password, after_hash, c);
}

/* The stored hash of a user, copied into out (empty when none). */
static void stored_hash(int64_t user_id, char *out, size_t size) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT password_hash FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    out[0] = '\0';
    if (yq_db_step(db, st) == 1)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

/* POST /api/v1/me/password {old_password, new_password}: 200 {user, csrf_token}
 * with a new session cookie; 400 (wrong_password, weak_password,
 * same_password); 401; 403 (API token, csrf); 429 too many failures. */
static void me_password(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body = NULL;
    const char *old_pw, *new_pw, *why;
    if (!p)
        return;
    if (p->via_token) {
        yq_reply_error(req, 403, "forbidden", "Sign in with your password to change it.", NULL);
        return;
    }
    if (yq_api_body(req, &body))
        return;
    if (read_pw(req, body, "old_password", &old_pw) || read_pw(req, body, "new_password", &new_pw) ||
        yq_signin_throttled(req, p->login))
        goto done;
    if ((why = yq_password_policy(new_pw))) {
        yq_reply_error(req, 400, "weak_password", why, "new_password");
        goto done;
    }
    if (strcmp(old_pw, new_pw) == 0) {
        yq_reply_error(req, 400, "same_password", "The new password must differ from the current one.", "new_password");
        goto done;
    }
    char hash[YQ_PASSWORD_HASH_MAX];
    stored_hash(p->user_id, hash, sizeof hash);
    change_t *c = yq_xcalloc(1, sizeof *c);
    *c = (change_t){req, p, p->user_id, p->org_id, 0, yq_xstrdup(new_pw)};
    yq_password_verify_async(uv_default_loop(), hash[0] ? hash : NULL, old_pw, after_verify, c);
done:
    wipe_body(body);
}

/* POST /api/v1/users/{id}/password {new_password}: 204; 400 weak_password;
 * 401; 403 not admin; 404. */
static void user_password(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body = NULL;
    const char *new_pw, *why;
    int64_t id;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT coalesce(org_id, 0) FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int64_t org = yq_db_int(db, st, -1);
    int admin = yq_has_role(p, YQ_ROLE_ADMIN);
    if (org < 0 || (!admin && id != p->user_id && !yq_is_operator_of(p, org))) {
        yq_api_not_found(req);
        return;
    }
    if (!admin) {
        yq_reply_error(req, 403, "forbidden", "Only admins reset passwords.", NULL);
        return;
    }
    if (yq_api_body(req, &body))
        return;
    if (read_pw(req, body, "new_password", &new_pw))
        goto done;
    if ((why = yq_password_policy(new_pw))) {
        yq_reply_error(req, 400, "weak_password", why, "new_password");
        goto done;
    }
    change_t *c = yq_xcalloc(1, sizeof *c);
    *c = (change_t){req, p, id, org, 1, yq_xstrdup(new_pw)};
    yq_password_hash_async(uv_default_loop(), new_pw, after_hash, c);
done:
    wipe_body(body);
}

const yq_route_t yq_api_passwords_routes[] = {
    {YQ_M_POST, "/api/v1/me/password", me_password, PASSWORD_BODY_MAX, NULL},
    {YQ_M_POST, "/api/v1/users/{id}/password", user_password, PASSWORD_BODY_MAX, NULL},
};
const size_t yq_api_passwords_routes_count = sizeof yq_api_passwords_routes / sizeof yq_api_passwords_routes[0];
