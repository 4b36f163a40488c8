/*
 * Static files from the web directory (the built UI). The request path is
 * percent-decoded exactly once; NUL, backslashes, ".." segments (also when
 * percent- or double-encoded) and anything that resolves outside the root,
 * symlinks included, are refused. Answers with the right MIME type, an ETag,
 * If-None-Match -> 304, and Cache-Control.
 */
#ifndef YQ_HTTP_STATIC_H
#define YQ_HTTP_STATIC_H

#include "http/request.h"

/* Sets the web root (a directory); returns 0, or -1 when it cannot be resolved. */
int yq_static_set_root(const char *dir);
/* Serves GET/HEAD for req->path ("/" is "/index.html"); answers 404 or 405
 * itself. */
void yq_static_serve(yq_req_t *req);

#endif
