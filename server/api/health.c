/*
 * GET /healthz and GET /metrics, and, only when YIQI_TEST_ROUTES=1 is set in
 * the environment at start-up, routes the engine's tests use:
 *   GET  /api/v1/test/slow?ms=N  answers after N ms (a libuv timer): an
 *        asynchronous handler, for pipelining order and the SIGTERM drain;
 *   POST /api/v1/test/echo       answers {"bytes": n} (body limit 4 KiB).
 * Without the variable those routes are never registered, so the paths are
 * unknown (404) and are not part of the API contract.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/routes.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/router.h"

/* 200 {"status":"ok"} */
static void health_get(yq_req_t *req) {
    static const char body[] = "{\"status\":\"ok\"}";
    yq_reply(req, 200, "application/json", body, sizeof body - 1);
}

/* 200 Prometheus text */
static void metrics_get(yq_req_t *req) {
    yq_buf_t out = {0};
    yq_metrics_render(&out);
    yq_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    yq_buf_free(&out);
}

typedef struct {
    uv_timer_t timer;
    yq_req_t *req;
    long ms;
} slow_t;

static void after_slow_close(uv_handle_t *h) {
    free(h->data);
}

static void on_slow_timer(uv_timer_t *t) {
    slow_t *s = t->data;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "slept_ms", (double)s->ms);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    yq_reply(s->req, 200, "application/json", text, strlen(text));
    cJSON_free(text);
    uv_close((uv_handle_t *)&s->timer, after_slow_close);
}

/* 200 {"slept_ms": N} after N ms (0..60000, default 100). */
static void slow_get(yq_req_t *req) {
    const char *ms = yq_req_query(req, "ms");
    long n = ms ? strtol(ms, NULL, 10) : 100;
    if (n < 0 || n > 60000)
        n = 100;
    slow_t *s = yq_xcalloc(1, sizeof *s);
    s->req = req;
    s->ms = n;
    uv_timer_init(uv_default_loop(), &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_slow_timer, (uint64_t)n, 0);
}

/* 200 {"bytes": n} */
static void echo_post(yq_req_t *req) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "bytes", (double)req->body_len);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    yq_reply(req, 200, "application/json", text, strlen(text));
    cJSON_free(text);
}

const yq_route_t yq_api_health_routes[] = {
    {YQ_M_GET, "/healthz", health_get, 0, NULL},
    {YQ_M_GET, "/metrics", metrics_get, 0, NULL},
};
const size_t yq_api_health_routes_count = sizeof yq_api_health_routes / sizeof yq_api_health_routes[0];

static const yq_route_t test_routes[] = {
    {YQ_M_GET, "/api/v1/test/slow", slow_get, 0, NULL},
    {YQ_M_POST, "/api/v1/test/echo", echo_post, 4096, NULL},
};

/* Registered before main() runs, and only for the engine's tests. */
__attribute__((constructor)) static void register_test_routes(void) {
    const char *v = getenv("YIQI_TEST_ROUTES");
    if (v && strcmp(v, "1") == 0)
        yq_router_add(test_routes, sizeof test_routes / sizeof test_routes[0]);
}
