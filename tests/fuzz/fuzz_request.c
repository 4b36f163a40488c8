/*
 * libFuzzer target for the request path: bytes in, responses out, through
 * the in-process loopback connection (net/conn.h). The first two input bytes
 * seed how the rest is split into reads, so the parser sees every kind of
 * boundary. Routes: /healthz and /metrics, a small-limit echo, and a handler
 * that answers only after all input was fed (asynchronous replies and
 * pipelining order). Static files come from a temporary web root.
 *
 * Invariant checked besides memory safety (ASan/UBSan): whatever the server
 * writes starts with a status line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/routes.h"
#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "http/static.h"
#include "net/conn.h"

#define MAX_DEFERRED 512

static yq_req_t *deferred[MAX_DEFERRED];
static size_t ndeferred;

static void h_defer(yq_req_t *req) {
    if (ndeferred < MAX_DEFERRED)
        deferred[ndeferred++] = req;
    else
        yq_reply(req, 503, "text/plain", "full", 4);
}

static void h_echo(yq_req_t *req) {
    const char *q = yq_req_query(req, "x");
    yq_reply_header(req, "X-Echo", q ? q : "-");
    yq_reply(req, 200, "application/octet-stream", req->body, req->body_len);
}

static const yq_route_t routes[] = {
    {YQ_M_GET, "/defer/{id}", h_defer, 0, NULL},
    {YQ_M_POST, "/echo", h_echo, 64, NULL},
    {YQ_M_PUT, "/echo", h_echo, 0, NULL},
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char web_dir[64];

/* Removes the temporary web root when the fuzzer exits. */
static void remove_web(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/index.html", web_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/assets", web_dir);
    rmdir(path);
    rmdir(web_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    yq_log_set_quiet(1);
    yq_router_add(yq_api_health_routes, yq_api_health_routes_count);
    yq_router_add(routes, sizeof routes / sizeof routes[0]);
    char dir[] = "/tmp/yiqi-fuzz-web-XXXXXX";
    if (mkdtemp(dir)) {
        snprintf(web_dir, sizeof web_dir, "%s", dir);
        atexit(remove_web);
        char path[256];
        snprintf(path, sizeof path, "%s/index.html", dir);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("<!doctype html><p>fuzz</p>\n", f);
            fclose(f);
        }
        snprintf(path, sizeof path, "%s/assets", dir);
        mkdir(path, 0700);
        yq_static_set_root(dir);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    uint32_t seed = (uint32_t)data[0] << 8 | data[1];
    data += 2;
    size -= 2;
    ndeferred = 0;
    yq_conn_t *c = yq_conn_loopback_new();
    size_t off = 0;
    while (off < size) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 97;
        if (n > size - off)
            n = size - off;
        yq_conn_loopback_feed(c, data + off, n);
        off += n;
        if ((seed >> 8) % 5 == 0 && ndeferred) { /* answer the oldest late request */
            yq_reply(deferred[0], 200, "text/plain", "late", 4);
            memmove(deferred, deferred + 1, (ndeferred - 1) * sizeof deferred[0]);
            ndeferred--;
        }
    }
    if (seed % 2)
        yq_conn_loopback_eof(c);
    size_t keep = seed % 3 == 0 ? ndeferred / 2 : 0; /* some answered after the client left */
    for (size_t i = keep; i < ndeferred; i++)
        yq_reply(deferred[i], 201, "text/plain", "done", 4);
    const yq_buf_t *out = yq_conn_loopback_output(c);
    if (out->len && strncmp(out->data, "HTTP/1.1 ", out->len < 9 ? out->len : 9) != 0)
        __builtin_trap();
    yq_conn_loopback_free(c);
    for (size_t i = 0; i < keep; i++)
        yq_reply(deferred[i], 200, "text/plain", "orphan", 6);
    ndeferred = 0;
    return 0;
}
