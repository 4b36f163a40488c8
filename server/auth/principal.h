/*
 * Who is calling: resolved from the session cookie or an API token.
 *
 * Cookie sessions: state-changing methods must carry X-CSRF-Token matching
 * the session (403 csrf) and an Origin, if sent, that is our own (403).
 * Bearer tokens: no CSRF check; scopes only narrow what the user may do.
 */
#ifndef YQ_AUTH_PRINCIPAL_H
#define YQ_AUTH_PRINCIPAL_H

#include <stdint.h>

#include "http/request.h"

enum {
    YQ_ROLE_RESEARCHER = 1 << 0,
    YQ_ROLE_PI = 1 << 1,
    YQ_ROLE_OPERATOR = 1 << 2,
    YQ_ROLE_COMMISSION = 1 << 3,
    YQ_ROLE_ADMIN = 1 << 4,
};

enum {
    YQ_SCOPE_ALL = 1 << 0,
    YQ_SCOPE_STATS_READ = 1 << 1,
    YQ_SCOPE_USAGE_WRITE = 1 << 2,
};

typedef struct yq_principal {
    int64_t user_id;
    int64_t org_id;   /* 0 when none (admin, commission) */
    int64_t group_id; /* 0 when none */
    int64_t zone_id;  /* the org's zone, 0 when none */
    unsigned roles;   /* YQ_ROLE_* */
    unsigned scopes;  /* YQ_SCOPE_* ; YQ_SCOPE_ALL for cookie sessions */
    int via_token;
    int64_t session_id; /* row id of the session, 0 for tokens */
    int64_t token_id;   /* row id of the API token, 0 for sessions */
    char login[64];
    char csrf[48]; /* the session's CSRF token ("" for bearer tokens) */
} yq_principal_t;

/* Server-wide settings for cookies. */
typedef struct {
    int behind_tls; /* Secure cookies with the __Host- prefix */
} yq_auth_settings_t;
extern yq_auth_settings_t yq_auth_settings;

#define YQ_SESSION_IDLE_SECONDS (30 * 60)
#define YQ_SESSION_MAX_SECONDS (12 * 3600)

/* The session cookie's name ("yiqi_session", or "__Host-yiqi_session" behind TLS). */
const char *yq_auth_cookie_name(void);
/* Refuses (403 forbidden_origin, returns -1) a request whose Origin header is
 * present and not this server's own origin. */
int yq_auth_check_origin(yq_req_t *req);

/* Role names <-> bits: "researcher", "pi", "operator", "commission", "admin". */
unsigned yq_role_from_name(const char *name);
const char *yq_role_name(unsigned bit);
/* Scope names <-> bits: "all", "stats:read", "usage:write". */
unsigned yq_scope_from_name(const char *name);
const char *yq_scope_name(unsigned bit);

/* Resolves (once per request) and returns the caller, or NULL when anonymous
 * or the credentials are invalid or expired. */
const yq_principal_t *yq_auth_principal(yq_req_t *req);

/* The caller as a public read sees it (the catalogue, its availability and
 * blocks, the exports): yq_auth_principal(), except that an API token without
 * the "all" scope counts as anonymous and NULL is returned. Scopes only narrow
 * (API.md): a usage:write or stats:read token reads no more than the public. */
const yq_principal_t *yq_auth_viewer(yq_req_t *req);

/* Requires a signed-in caller whose credential carries `scope` (YQ_SCOPE_ALL
 * for ordinary endpoints; a token with scope "all" satisfies every scope).
 * For cookie sessions on POST/PUT/PATCH/DELETE also checks CSRF and Origin.
 * On failure answers 401 unauthenticated / 403 csrf / 403 forbidden and
 * returns NULL. */
const yq_principal_t *yq_auth_require(yq_req_t *req, unsigned scope);

/* Like yq_auth_require, then also requires at least one of `roles`
 * (403 forbidden otherwise). */
const yq_principal_t *yq_auth_require_role(yq_req_t *req, unsigned scope, unsigned roles);

static inline int yq_has_role(const yq_principal_t *p, unsigned roles) {
    return p && (p->roles & roles) != 0;
}

#endif
