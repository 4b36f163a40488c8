/*
 * Serialising a response: status line, the headers every response carries
 * (Date, Content-Length, Connection and the security headers), the
 * handler's extra headers, then the body (none for HEAD, 204 and 304).
 */
#ifndef YQ_NET_RESPONSE_H
#define YQ_NET_RESPONSE_H

#include <stddef.h>

#include "core/buf.h"
#include "http/request.h"

/* Appends the whole response to out. keep_alive selects the Connection
 * header. */
void yq_response_serialize(yq_buf_t *out, const yq_req_t *req, int status, const char *content_type, const void *body,
                           size_t len, int keep_alive);

/* The reason phrase of a status ("Not Found"), "Unknown" when unlisted. */
const char *yq_response_reason(int status);

#endif
