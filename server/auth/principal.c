/*
 * Resolving the caller: a Bearer token (Authorization header) or the session
 * cookie. Sessions expire after 30 idle minutes and 12 hours in all; the
 * last-seen time is written at most once a minute so that reads stay reads.
 * API tokens record their last use at the same granularity.
 */
#include "auth/principal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/session_cache.h"
#include "auth/token.h"
#include "core/timeutil.h"
#include "core/alloc.h"
#include "db/batch.h"
#include "db/db.h"

yq_auth_settings_t yq_auth_settings;

static const struct {
    unsigned bit;
    const char *name;
} roles[] = {
    {YQ_ROLE_RESEARCHER, "researcher"}, {YQ_ROLE_PI, "pi"},       {YQ_ROLE_OPERATOR, "operator"},
    {YQ_ROLE_COMMISSION, "commission"}, {YQ_ROLE_ADMIN, "admin"},
};
static const struct {
    unsigned bit;
    const char *name;
} scopes[] = {{YQ_SCOPE_ALL, "all"}, {YQ_SCOPE_STATS_READ, "stats:read"}, {YQ_SCOPE_USAGE_WRITE, "usage:write"}};

unsigned yq_role_from_name(const char *name) {
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *yq_role_name(unsigned bit) {
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].bit == bit)
            return roles[i].name;
    return NULL;
}

unsigned yq_scope_from_name(const char *name) {
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
        if (strcmp(scopes[i].name, name) == 0)
            return scopes[i].bit;
    return 0;
}

const char *yq_scope_name(unsigned bit) {
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
        if (scopes[i].bit == bit)
            return scopes[i].name;
    return NULL;
}

const char *yq_auth_cookie_name(void) {
    return yq_auth_settings.behind_tls ? "__Host-yiqi_session" : "yiqi_session";
}

/* Finds name=value in a Cookie header (RFC 6265 section 5.4) and copies the
 * value into out. Returns 0 when found. */
static int cookie_value(const char *header, const char *name, char *out, size_t size) {
    size_t nlen = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = strcspn(v, ";");
            if (vlen >= size)
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

static void fill_user(yq_principal_t *p, sqlite3_stmt *st, int col) {
    p->user_id = sqlite3_column_int64(st, col);
    snprintf(p->login, sizeof p->login, "%s", (const char *)sqlite3_column_text(st, col + 1));
    p->org_id = sqlite3_column_int64(st, col + 2);
    p->group_id = sqlite3_column_int64(st, col + 3);
    p->roles = (unsigned)sqlite3_column_int(st, col + 4);
    p->zone_id = sqlite3_column_int64(st, col + 5);
}

/* Bookkeeping writes of a sign-in (last seen, last used, an expired session
 * removed) go through the group commit like every other write: the loop's
 * own connection never waits for the writer thread's lock, nor fails to
 * upgrade a read transaction whose snapshot a commit has made stale. */
typedef struct {
    const char *sql; /* a literal with ?1 = id, ?2 = now */
    int64_t id, now;
} touch_t;

static int run_touch(void *ctx) {
    touch_t *t = ctx;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, t->sql);
    sqlite3_bind_int64(st, 1, t->id);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, t->now);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

static void after_touch(void *ctx, int rc) {
    (void)rc; /* a lost touch only shortens an idle timeout; the next request retries */
    free(ctx);
}

static void touch(const char *sql, int64_t id, int64_t now) {
    touch_t *t = yq_xcalloc(1, sizeof *t);
    *t = (touch_t){sql, id, now};
    yq_batch_submit(run_touch, after_touch, t);
}

static yq_principal_t *from_session(yq_req_t *req, const char *token) {
    yq_db_t *db = yq_db_main();
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    yq_token_hash(token, hash);
    const yq_session_cached_t *hit = yq_session_cache_get(hash);
    if (hit) {
        int64_t now = yq_now();
        /* Expired, or due for its last-seen update: the lookup below does it. */
        if (now - hit->last_seen_at < 60 && now - hit->created_at <= YQ_SESSION_MAX_SECONDS) {
            yq_principal_t *p = yq_arena_alloc(req->arena, sizeof *p);
            *p = hit->principal;
            return p;
        }
    }
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT s.id, s.created_at, s.last_seen_at, s.csrf_token, "
                                      "u.id, u.login, u.org_id, u.group_id, u.roles, o.zone_id "
                                      "FROM sessions s JOIN users u ON u.id = s.user_id "
                                      "LEFT JOIN orgs o ON o.id = u.org_id "
                                      "WHERE s.token_hash = ?1 AND u.disabled = 0");
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    if (yq_db_step(db, st) != 1)
        return NULL;
    int64_t id = sqlite3_column_int64(st, 0), created = sqlite3_column_int64(st, 1);
    int64_t seen = sqlite3_column_int64(st, 2), now = yq_now();
    if (now - seen > YQ_SESSION_IDLE_SECONDS || now - created > YQ_SESSION_MAX_SECONDS) {
        sqlite3_reset(st);
        touch("DELETE FROM sessions WHERE id = ?1", id, now);
        return NULL;
    }
    yq_principal_t *p = yq_arena_alloc(req->arena, sizeof *p);
    memset(p, 0, sizeof *p);
    p->session_id = id;
    snprintf(p->csrf, sizeof p->csrf, "%s", (const char *)sqlite3_column_text(st, 3));
    fill_user(p, st, 4);
    p->scopes = YQ_SCOPE_ALL;
    sqlite3_reset(st);
    if (now - seen >= 60)
        touch("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", id, now);
    else
        yq_session_cache_put(hash, &(yq_session_cached_t){*p, created, seen});
    return p;
}

static yq_principal_t *from_bearer(yq_req_t *req, const char *token) {
    yq_db_t *db = yq_db_main();
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    yq_token_hash(token, hash);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT t.id, t.scopes, coalesce(t.last_used_at, 0), "
                                      "u.id, u.login, u.org_id, u.group_id, u.roles, o.zone_id "
                                      "FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                      "LEFT JOIN orgs o ON o.id = u.org_id "
                                      "WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.disabled = 0");
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    if (yq_db_step(db, st) != 1)
        return NULL;
    yq_principal_t *p = yq_arena_alloc(req->arena, sizeof *p);
    memset(p, 0, sizeof *p);
    p->token_id = sqlite3_column_int64(st, 0);
    p->scopes = (unsigned)sqlite3_column_int(st, 1);
    int64_t used = sqlite3_column_int64(st, 2), now = yq_now();
    fill_user(p, st, 3);
    p->via_token = 1;
    sqlite3_reset(st);
    if (now - used >= 60)
        touch("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", p->token_id, now);
    return p;
}

const yq_principal_t *yq_auth_principal(yq_req_t *req) {
    if (req->principal_resolved)
        return req->principal;
    req->principal_resolved = 1;
    const char *authz = yq_req_header(req, "authorization");
    char token[128];
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) == 0 && strlen(authz + 7) < sizeof token)
            req->principal = from_bearer(req, authz + 7);
        return req->principal;
    }
    const char *cookie = yq_req_header(req, "cookie");
    if (cookie && cookie_value(cookie, yq_auth_cookie_name(), token, sizeof token) == 0)
        req->principal = from_session(req, token);
    return req->principal;
}

const yq_principal_t *yq_auth_viewer(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_principal(req);
    return p && p->via_token && !(p->scopes & YQ_SCOPE_ALL) ? NULL : p;
}

int yq_auth_check_origin(yq_req_t *req) {
    const char *origin = yq_req_header(req, "origin");
    const char *host = yq_req_header(req, "x-forwarded-host");
    if (!host)
        host = yq_req_header(req, "host");
    if (!origin)
        return 0;
    const char *authority = strstr(origin, "://");
    if (authority && host && strcmp(authority + 3, host) == 0)
        return 0;
    yq_reply_error(req, 403, "forbidden_origin", "Requests from another site are refused.", NULL);
    return -1;
}

static int state_changing(const yq_req_t *req) {
    return req->method != YQ_M_GET && req->method != YQ_M_HEAD && req->method != YQ_M_OPTIONS;
}

const yq_principal_t *yq_auth_require(yq_req_t *req, unsigned scope) {
    const yq_principal_t *p = yq_auth_principal(req);
    if (!p) {
        yq_reply_error(req, 401, "unauthenticated", "Sign in first.", NULL);
        return NULL;
    }
    if (p->via_token) {
        if (!(p->scopes & YQ_SCOPE_ALL) && !(p->scopes & scope)) {
            yq_reply_error(req, 403, "forbidden", "This token's scopes do not allow that.", NULL);
            return NULL;
        }
        return p;
    }
    if (state_changing(req)) {
        if (yq_auth_check_origin(req))
            return NULL;
        const char *csrf = yq_req_header(req, "x-csrf-token");
        size_t n = strlen(p->csrf);
        if (!csrf || strlen(csrf) != n || n == 0 || sodium_memcmp(csrf, p->csrf, n) != 0) {
            yq_reply_error(req, 403, "csrf", "Missing or wrong X-CSRF-Token header.", NULL);
            return NULL;
        }
    }
    return p;
}

const yq_principal_t *yq_auth_require_role(yq_req_t *req, unsigned scope, unsigned roles_needed) {
    const yq_principal_t *p = yq_auth_require(req, scope);
    if (p && !(p->roles & roles_needed)) {
        yq_reply_error(req, 403, "forbidden", "Your role does not allow that.", NULL);
        return NULL;
    }
    return p;
}
