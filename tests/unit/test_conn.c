/* HTTP connections (net/conn.c) through the in-process loopback connection:
 * responses in request order when handlers answer later, limits, keep-alive
 * and close, obs-fold, 100-continue, and requests outliving their client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "net/conn.h"

#define MAX_DEFERRED 256

static yq_req_t *deferred[MAX_DEFERRED];
static size_t ndeferred;

/* Keeps the request to answer it later, as an asynchronous handler would. */
static void h_defer(yq_req_t *req) {
    assert_true(ndeferred < MAX_DEFERRED);
    deferred[ndeferred++] = req;
}

static void h_now(yq_req_t *req) {
    yq_reply(req, 200, "text/plain", "now", 3);
}

static void h_echo(yq_req_t *req) {
    yq_reply(req, 200, "text/plain", req->body, req->body_len);
}

static const yq_route_t routes[] = {
    {YQ_M_GET, "/t/defer", h_defer, 0, NULL},
    {YQ_M_GET, "/t/now", h_now, 0, NULL},
    {YQ_M_POST, "/t/echo", h_echo, 16, NULL},
};

static int setup(void **state) {
    (void)state;
    yq_router_clear();
    yq_router_add(routes, sizeof routes / sizeof routes[0]);
    ndeferred = 0;
    return 0;
}

/* Answers a deferred request with its index as the body. */
static void answer(size_t i) {
    char body[16];
    int n = snprintf(body, sizeof body, "d%zu", i);
    yq_reply(deferred[i], 200, "text/plain", body, (size_t)n);
}

static void feed(yq_conn_t *c, const char *s) {
    yq_conn_loopback_feed(c, s, strlen(s));
}

static const char *out(yq_conn_t *c) {
    const yq_buf_t *b = yq_conn_loopback_output(c);
    return b->data ? b->data : "";
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The status codes of every response in the output, in order. */
static void statuses(yq_conn_t *c, char *buf, size_t size) {
    buf[0] = '\0';
    for (const char *p = strstr(out(c), "HTTP/1.1 "); p; p = strstr(p + 1, "HTTP/1.1 ")) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%.3s", len ? " " : "", p + 9);
    }
}

static void test_simple_and_headers(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "GET /t/now HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *o = out(c);
    assert_non_null(strstr(o, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(o, "Content-Length: 3\r\n"));
    assert_non_null(strstr(o, "Connection: keep-alive\r\n"));
    assert_non_null(strstr(o, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(o, "X-Frame-Options: DENY\r\n"));
    assert_non_null(strstr(o, "Referrer-Policy: "));
    assert_non_null(strstr(o, "Date: "));
    assert_true(strlen(o) > 3 && strcmp(o + strlen(o) - 7, "\r\n\r\nnow") == 0);
    assert_int_equal(yq_conn_loopback_closed(c), 0);
    yq_conn_loopback_free(c);
}

static void test_pipelined_order_with_late_answers(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "GET /t/defer HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /t/now HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /t/defer HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /t/now HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(ndeferred, 2);
    assert_string_equal(out(c), ""); /* the first answer is not there yet */
    answer(1);
    assert_string_equal(out(c), "");
    answer(0);
    const char *o = out(c);
    const char *p0 = strstr(o, "d0"), *pn = strstr(o, "now"), *p1 = strstr(o, "d1");
    assert_non_null(p0);
    assert_non_null(pn);
    assert_non_null(p1);
    assert_true(p0 < pn && pn < p1);
    assert_int_equal(count(o, "HTTP/1.1 200"), 4);
    yq_conn_loopback_free(c);
}

static void test_deep_pipeline_pauses_and_resumes(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    char req[] = "GET /t/defer HTTP/1.1\r\nHost: x\r\n\r\n";
    char all[sizeof req * 200];
    all[0] = '\0';
    for (int i = 0; i < 200; i++)
        strcat(all, req);
    feed(c, all);
    assert_true(ndeferred < 200); /* reading paused with a full pipeline */
    for (size_t i = 0; i < ndeferred; i++)
        answer(i); /* answering lets the held input be parsed */
    assert_int_equal(ndeferred, 200);
    assert_int_equal(count(out(c), "HTTP/1.1 200"), 200);
    const char *o = out(c);
    char want[32];
    for (int i = 0; i < 200; i++) {
        snprintf(want, sizeof want, "\r\n\r\nd%d", i % 1000);
        const char *p = strstr(o, want);
        assert_non_null(p);
        o = p + 1;
    }
    yq_conn_loopback_free(c);
}

static void test_deep_pipeline_of_quick_answers(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    char req[] = "GET /t/now HTTP/1.1\r\nHost: x\r\n\r\n";
    char all[sizeof req * 300];
    all[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(all, req);
    feed(c, all);
    assert_int_equal(count(out(c), "HTTP/1.1 200"), 300);
    yq_conn_loopback_free(c);
}

static void test_byte_by_byte(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    const char *req = "POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    for (const char *p = req; *p; p++)
        yq_conn_loopback_feed(c, p, 1);
    assert_non_null(strstr(out(c), "\r\n\r\nabcde"));
    yq_conn_loopback_free(c);
}

static void expect_status(const char *request, const char *status) {
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, request);
    char got[64];
    statuses(c, got, sizeof got);
    if (strcmp(got, status) != 0)
        fail_msg("%s -> %s, expected %s", request, got, status);
    assert_non_null(strstr(out(c), "X-Content-Type-Options: nosniff"));
    if (status[0] != '2')
        assert_int_equal(yq_conn_loopback_closed(c), 1);
    yq_conn_loopback_free(c);
}

static void test_limits(void **state) {
    (void)state;
    static char big[20000];
    snprintf(big, sizeof big, "GET /%08200d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    expect_status(big, "414");
    snprintf(big, sizeof big, "GET /t/now HTTP/1.1\r\nHost: x\r\nX: %017000d\r\n\r\n", 0);
    expect_status(big, "431");
    char *p = big + sprintf(big, "GET /t/now HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 101; i++)
        p += sprintf(p, "X-%d: 1\r\n", i);
    strcpy(p, "\r\n");
    expect_status(big, "431");
    expect_status("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", "413");
    expect_status("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n", "413");
    expect_status("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef", "200");
    expect_status("GET /t/now HTTP/1.1\r\n\r\n", "400");
    expect_status("GET /t/now HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "400");
    expect_status("GET /t/now HTTP/1.0\r\n\r\n", "200");
    expect_status("GET /t/now HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", "400");
    expect_status("GET /t/now HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\n\r\n", "400");
    expect_status("GET /t/now HTTP/1.1\r\nHost: a\r\nExpect: nope\r\n\r\n", "417");
    expect_status("NOPE / HTTP/1.1\r\nHost: a\r\n\r\n", "400");
}

static void test_obs_fold_split_across_reads(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "GET /t/now HTTP/1.1\r\nHost: a\r\nX: 1\r");
    feed(c, "\n");
    feed(c, "\t2\r\n\r\n");
    char got[64];
    statuses(c, got, sizeof got);
    assert_string_equal(got, "400");
    yq_conn_loopback_free(c);
}

static void test_close_stops_parsing(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "GET /t/now HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /t/now HTTP/1.1\r\nHost: a\r\n\r\n");
    feed(c, "GET /t/now HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(count(out(c), "HTTP/1.1 "), 1);
    assert_non_null(strstr(out(c), "Connection: close\r\n"));
    assert_int_equal(yq_conn_loopback_closed(c), 1);
    yq_conn_loopback_free(c);

    c = yq_conn_loopback_new();
    feed(c, "GET /t/now HTTP/1.0\r\n\r\nGET /t/now HTTP/1.0\r\n\r\n");
    assert_int_equal(count(out(c), "HTTP/1.1 "), 1);
    yq_conn_loopback_free(c);

    c = yq_conn_loopback_new();
    feed(c, "GET /t/now HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /t/now HTTP/1.0\r\n\r\n");
    assert_int_equal(count(out(c), "HTTP/1.1 200"), 2);
    assert_non_null(strstr(out(c), "Connection: keep-alive\r\n"));
    yq_conn_loopback_free(c);
}

static void test_continue(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "POST /t/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_string_equal(out(c), "HTTP/1.1 100 Continue\r\n\r\n");
    feed(c, "hi");
    assert_non_null(strstr(out(c), "HTTP/1.1 200 OK"));
    assert_non_null(strstr(out(c), "\r\n\r\nhi"));
    yq_conn_loopback_free(c);

    /* Behind an unanswered request the interim response waits its turn. */
    c = yq_conn_loopback_new();
    feed(c, "GET /t/defer HTTP/1.1\r\nHost: a\r\n\r\n"
            "POST /t/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_string_equal(out(c), "");
    answer(0);
    const char *o = out(c);
    assert_non_null(strstr(o, "d0"));
    assert_true(strstr(o, "100 Continue") > strstr(o, "d0"));
    yq_conn_loopback_free(c);
}

static void test_head_and_eof(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "HEAD /t/now HTTP/1.1\r\nHost: a\r\n\r\n");
    const char *o = out(c);
    assert_non_null(strstr(o, "Content-Length: 3\r\n"));
    assert_true(strcmp(o + strlen(o) - 4, "\r\n\r\n") == 0);
    feed(c, "GET /t/defer HTTP/1.1\r\nHost: a\r\n\r\n");
    yq_conn_loopback_eof(c); /* half-close: the answer still goes out */
    assert_int_equal(yq_conn_loopback_closed(c), 0);
    answer(0);
    assert_non_null(strstr(out(c), "d0"));
    assert_int_equal(yq_conn_loopback_closed(c), 1);
    yq_conn_loopback_free(c);
}

static void test_orphaned_request(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "GET /t/defer HTTP/1.1\r\nHost: a\r\n\r\nGET /t/defer HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(ndeferred, 2);
    size_t before = yq_conn_inflight();
    yq_conn_loopback_free(c);                           /* the client has gone */
    assert_string_equal(deferred[0]->path, "/t/defer"); /* still valid */
    answer(1);
    answer(0);
    assert_int_equal(yq_conn_inflight(), before - 2);
}

static void test_partial_request_then_free(void **state) {
    (void)state;
    yq_conn_t *c = yq_conn_loopback_new();
    feed(c, "POST /t/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    assert_string_equal(out(c), "");
    yq_conn_loopback_free(c);
    c = yq_conn_loopback_new();
    feed(c, "GET /t/no");
    yq_conn_loopback_free(c);
}

int main(void) {
    yq_log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_simple_and_headers, setup),
        cmocka_unit_test_setup(test_pipelined_order_with_late_answers, setup),
        cmocka_unit_test_setup(test_deep_pipeline_pauses_and_resumes, setup),
        cmocka_unit_test_setup(test_deep_pipeline_of_quick_answers, setup),
        cmocka_unit_test_setup(test_byte_by_byte, setup),
        cmocka_unit_test_setup(test_limits, setup),
        cmocka_unit_test_setup(test_obs_fold_split_across_reads, setup),
        cmocka_unit_test_setup(test_close_stops_parsing, setup),
        cmocka_unit_test_setup(test_continue, setup),
        cmocka_unit_test_setup(test_head_and_eof, setup),
        cmocka_unit_test_setup(test_orphaned_request, setup),
        cmocka_unit_test_setup(test_partial_request_then_free, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
