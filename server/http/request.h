/*
 * One HTTP request as handlers see it, and the calls that answer it.
 *
 * The network layer (net/conn.c) fills a yq_req_t when a message is complete
 * and hands it to yq_http_dispatch(). The handler answers by calling
 * yq_reply() exactly once, either before it returns or later (after work on
 * the thread pool or a group commit). The request, its arena and every string
 * in it stay valid until that reply, even if the client has gone away: the
 * connection keeps the request until it is answered, and writes responses in
 * request order (pipelining, RFC 9112 section 9.3.2).
 */
#ifndef YQ_HTTP_REQUEST_H
#define YQ_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

typedef enum {
    YQ_M_OTHER = 0,
    YQ_M_GET,
    YQ_M_HEAD,
    YQ_M_POST,
    YQ_M_PUT,
    YQ_M_PATCH,
    YQ_M_DELETE,
    YQ_M_OPTIONS,
} yq_method_t;

typedef struct {
    const char *name; /* lower-cased */
    const char *value;
} yq_header_t;

#define YQ_MAX_PARAMS 6

struct yq_route;
struct yq_principal;

typedef struct yq_req {
    yq_method_t method;
    const char *method_name;
    const char *target; /* raw request target as sent */
    const char *path;   /* target up to '?', not percent-decoded */
    const char *query;  /* after '?', "" when none */
    yq_header_t *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    const char *params[YQ_MAX_PARAMS]; /* path parameters, percent-decoded, in pattern order */
    size_t nparams;
    const struct yq_route *route; /* matched route, NULL for static files */
    char peer[64];                /* client address (the proxy's, behind one) */
    int http_major, http_minor;
    uint64_t start_ns; /* when the headers had arrived */
    yq_arena_t *arena; /* freed after the reply is written */

    /* Authentication, resolved lazily by auth/ (NULL until then). */
    struct yq_principal *principal;
    int principal_resolved;

    /* Response under construction (owned by the network layer). */
    yq_buf_t res_headers; /* extra header lines, "Name: value\r\n" each */
    int replied;
    void *conn_private;
} yq_req_t;

/* Returns the value of the first header of that (lower-case) name, or NULL. */
const char *yq_req_header(const yq_req_t *req, const char *lname);
/* 1 when every part of the query string percent-decodes to UTF-8 without a
 * NUL; the router answers 400 invalid_query to an API request otherwise, so
 * that a parameter sent wrongly is never taken as absent. */
int yq_req_query_valid(yq_req_t *req);
/* Returns the percent-decoded value of a query parameter ('+' is a space), in
 * the request's arena, or NULL when absent. Invalid encodings count as absent. */
const char *yq_req_query(yq_req_t *req, const char *name);

/* Adds a response header; call before yq_reply(). Name and value are copied.
 * Values with CR or LF are dropped (header injection). */
void yq_reply_header(yq_req_t *req, const char *name, const char *value);
/* Answers the request: status, Content-Type (NULL for none) and body, which is
 * copied. Call exactly once per request. Security headers, Content-Length,
 * Date and Connection are added by the network layer. A HEAD request gets the
 * headers only. */
void yq_reply(yq_req_t *req, int status, const char *content_type, const void *body, size_t len);
/* Answers with the JSON error shape {"error":{"code","message","field"?}}. */
void yq_reply_error(yq_req_t *req, int status, const char *code, const char *message, const char *field);

#endif
