/*
 * Routing: each API file declares one table of routes; main registers the
 * tables. A pattern is a path with `{name}` segments ("/api/v1/bookings/{id}");
 * each parameter matches one non-empty segment and is percent-decoded.
 *
 * The network layer matches a request as soon as its headers are complete,
 * so that the route's body limit applies before the body is read (413).
 */
#ifndef YQ_HTTP_ROUTER_H
#define YQ_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

typedef void (*yq_handler_fn)(yq_req_t *req);

typedef struct yq_route {
    yq_method_t method;
    const char *pattern;
    yq_handler_fn handler;
    size_t max_body;  /* 0: the default (1 MiB) */
    const char *name; /* label for metrics; the pattern when NULL */
} yq_route_t;

typedef enum {
    YQ_ROUTE_FOUND = 0,
    YQ_ROUTE_NO_PATH,    /* no route has this path: static file or 404 */
    YQ_ROUTE_BAD_METHOD, /* the path exists with other methods: 405 */
} yq_route_match_t;

#define YQ_DEFAULT_MAX_BODY (1024 * 1024)

/* Registers a table of n routes (the table must outlive the server). */
void yq_router_add(const yq_route_t *routes, size_t n);
void yq_router_clear(void);
/* Matches method and raw path. On YQ_ROUTE_FOUND fills *route and the
 * request's params (decoded into its arena). On YQ_ROUTE_BAD_METHOD writes the
 * allowed methods ("GET, POST") into allow (size bytes). */
yq_route_match_t yq_router_match(yq_req_t *req, const yq_route_t **route, char *allow, size_t size);

/* Called by the network layer with a complete request: routes it, serves a
 * static file, or answers 404/405. Handlers answer with yq_reply(). */
void yq_http_dispatch(yq_req_t *req);

#endif
