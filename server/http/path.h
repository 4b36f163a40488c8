/*
 * URL path sanitising for static files: decode once, refuse anything that
 * could name a file outside the web root or that no UI asset would use.
 */
#ifndef YQ_HTTP_PATH_H
#define YQ_HTTP_PATH_H

#include <stddef.h>

/* Percent-decodes the raw request path (starting with '/') exactly once into
 * out (size bytes; strlen(raw) + 1 always suffices). Returns 0, or -1 when the
 * path is refused: a bad or truncated escape, a decoded NUL, a backslash or a
 * control character (raw or decoded), a '%' left after decoding (a
 * double-encoded path), a "." or ".." segment, or a segment that starts with
 * a dot (hidden files). */
int yq_path_decode(const char *raw, char *out, size_t size);

/* The MIME type for a file name, by extension ("application/octet-stream"
 * when unknown). Text types carry "; charset=utf-8". */
const char *yq_path_mime(const char *name);

#endif
