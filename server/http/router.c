/*
 * Routing: a flat list of route tables, matched segment by segment. The
 * number of routes is small (about a hundred), so a linear scan over
 * pre-split patterns is fast enough and simple to read; matching happens once
 * per request, when its headers are complete.
 */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "http/static.h"

#define MAX_TABLES 64

static struct {
    const yq_route_t *routes;
    size_t n;
} tables[MAX_TABLES];
static size_t ntables;

void yq_router_add(const yq_route_t *routes, size_t n) {
    if (ntables < MAX_TABLES) {
        tables[ntables].routes = routes;
        tables[ntables].n = n;
        ntables++;
    }
}

void yq_router_clear(void) {
    ntables = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes of a path segment into out (n + 1 bytes). Returns
 * -1 for a bad escape or a decoded NUL or slash. */
static int decode_segment(const char *s, size_t n, char *out) {
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0' || c == '/')
                return -1;
            i += 2;
        }
        out[j++] = c;
    }
    out[j] = '\0';
    return 0;
}

/* Matches one pattern against the raw path. Returns 1 on a match and, when req
 * is non-NULL, stores the decoded parameters in it. */
static int match_pattern(const char *pattern, const char *path, yq_req_t *req) {
    const char *p = pattern, *s = path;
    size_t np = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                return 0;
            size_t n = strcspn(s, "/");
            if (n == 0 || np >= YQ_MAX_PARAMS)
                return 0;
            if (req) {
                char *v = yq_arena_alloc(req->arena, n + 1);
                if (decode_segment(s, n, v) < 0)
                    return 0;
                req->params[np] = v;
            }
            np++;
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*p || *s)
        return 0;
    if (req)
        req->nparams = np;
    return 1;
}

static const char *method_name(yq_method_t m) {
    switch (m) {
    case YQ_M_GET:
        return "GET";
    case YQ_M_HEAD:
        return "HEAD";
    case YQ_M_POST:
        return "POST";
    case YQ_M_PUT:
        return "PUT";
    case YQ_M_PATCH:
        return "PATCH";
    case YQ_M_DELETE:
        return "DELETE";
    case YQ_M_OPTIONS:
        return "OPTIONS";
    default:
        return "";
    }
}

yq_route_match_t yq_router_match(yq_req_t *req, const yq_route_t **route, char *allow, size_t size) {
    int path_seen = 0;
    if (allow && size)
        allow[0] = '\0';
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < tables[t].n; i++) {
            const yq_route_t *r = &tables[t].routes[i];
            if (!match_pattern(r->pattern, req->path, NULL))
                continue;
            /* HEAD is answered by GET handlers (RFC 9110 section 9.3.2). */
            if (r->method == req->method || (req->method == YQ_M_HEAD && r->method == YQ_M_GET)) {
                /* A parameter that does not decode (bad escape, NUL, slash) matches nothing. */
                if (!match_pattern(r->pattern, req->path, req))
                    continue;
                *route = r;
                return YQ_ROUTE_FOUND;
            }
            if (allow && size) {
                const char *m = method_name(r->method);
                if (!strstr(allow, m)) {
                    size_t len = strlen(allow);
                    snprintf(allow + len, size - len, "%s%s", len ? ", " : "", m);
                }
            }
            path_seen = 1;
        }
    }
    return path_seen ? YQ_ROUTE_BAD_METHOD : YQ_ROUTE_NO_PATH;
}

static int is_api_path(const char *path) {
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

void yq_http_dispatch(yq_req_t *req) {
    if (is_api_path(req->path) && !yq_req_query_valid(req)) {
        yq_reply_error(req, 400, "invalid_query",
                       "The query string must be percent-encoded UTF-8 without NUL characters.", NULL);
        return;
    }
    if (req->route) {
        req->route->handler(req);
        return;
    }
    char allow[128];
    const yq_route_t *route = NULL;
    switch (yq_router_match(req, &route, allow, sizeof allow)) {
    case YQ_ROUTE_FOUND:
        req->route = route;
        route->handler(req);
        return;
    case YQ_ROUTE_BAD_METHOD:
        yq_reply_header(req, "Allow", allow);
        yq_reply_error(req, 405, "method_not_allowed", "This path does not accept that method.", NULL);
        return;
    case YQ_ROUTE_NO_PATH:
        break;
    }
    if (is_api_path(req->path)) {
        yq_reply_error(req, 404, "not_found", "No such API path.", NULL);
        return;
    }
    yq_static_serve(req);
}
