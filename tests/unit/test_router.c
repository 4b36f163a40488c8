/* Routing (http/router.c): patterns with parameters, 405 with Allow, decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void h_list(yq_req_t *req) {
    (void)req;
}
static void h_one(yq_req_t *req) {
    (void)req;
}
static void h_action(yq_req_t *req) {
    (void)req;
}
static void h_create(yq_req_t *req) {
    (void)req;
}

static const yq_route_t routes[] = {
    {YQ_M_GET, "/api/v1/bookings", h_list, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings", h_create, 0, NULL},
    {YQ_M_GET, "/api/v1/bookings/{id}", h_one, 0, NULL},
    {YQ_M_POST, "/api/v1/settlements/{period}/lines/{line}/confirm", h_action, 0, NULL},
};

static int setup(void **state) {
    (void)state;
    yq_router_clear();
    yq_router_add(routes, sizeof routes / sizeof routes[0]);
    return 0;
}

static yq_route_match_t match(yq_method_t m, const char *path, const yq_route_t **r, yq_req_t *req, char *allow) {
    memset(req, 0, sizeof *req);
    req->method = m;
    req->path = path;
    req->arena = yq_arena_create();
    return yq_router_match(req, r, allow, 128);
}

static void test_match(void **state) {
    (void)state;
    yq_req_t req;
    const yq_route_t *r = NULL;
    char allow[128];
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings", &r, &req, allow), YQ_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_list);
    yq_arena_destroy(req.arena);
    assert_int_equal(match(YQ_M_POST, "/api/v1/bookings", &r, &req, allow), YQ_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_create);
    yq_arena_destroy(req.arena);
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings/42", &r, &req, allow), YQ_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_one);
    assert_int_equal(req.nparams, 1);
    assert_string_equal(req.params[0], "42");
    yq_arena_destroy(req.arena);
    assert_int_equal(match(YQ_M_POST, "/api/v1/settlements/2026-11/lines/7/confirm", &r, &req, allow), YQ_ROUTE_FOUND);
    assert_int_equal(req.nparams, 2);
    assert_string_equal(req.params[0], "2026-11");
    assert_string_equal(req.params[1], "7");
    yq_arena_destroy(req.arena);
    /* HEAD is served by GET routes. */
    assert_int_equal(match(YQ_M_HEAD, "/api/v1/bookings/1", &r, &req, allow), YQ_ROUTE_FOUND);
    yq_arena_destroy(req.arena);
}

static void test_no_match(void **state) {
    (void)state;
    yq_req_t req;
    const yq_route_t *r = NULL;
    char allow[128];
    static const char *const paths[] = {"/api/v1/bookings/", "/api/v1/bookings/1/x", "/api/v1/booking", "/",
                                        "/api/v1/bookingsx", "/api/v1/bookings//"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(match(YQ_M_GET, paths[i], &r, &req, allow), YQ_ROUTE_NO_PATH);
        yq_arena_destroy(req.arena);
    }
}

static void test_bad_method_allow(void **state) {
    (void)state;
    yq_req_t req;
    const yq_route_t *r = NULL;
    char allow[128];
    assert_int_equal(match(YQ_M_DELETE, "/api/v1/bookings", &r, &req, allow), YQ_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, POST");
    yq_arena_destroy(req.arena);
}

static void test_param_decoding(void **state) {
    (void)state;
    yq_req_t req;
    const yq_route_t *r = NULL;
    char allow[128];
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings/%E4%BB%AA", &r, &req, allow), YQ_ROUTE_FOUND);
    assert_string_equal(req.params[0], "仪");
    yq_arena_destroy(req.arena);
    /* An encoded slash or NUL, or a broken escape, matches nothing. */
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings/a%2Fb", &r, &req, allow), YQ_ROUTE_NO_PATH);
    yq_arena_destroy(req.arena);
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings/a%00", &r, &req, allow), YQ_ROUTE_NO_PATH);
    yq_arena_destroy(req.arena);
    assert_int_equal(match(YQ_M_GET, "/api/v1/bookings/%G1", &r, &req, allow), YQ_ROUTE_NO_PATH);
    yq_arena_destroy(req.arena);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_match, setup),
        cmocka_unit_test_setup(test_no_match, setup),
        cmocka_unit_test_setup(test_bad_method_allow, setup),
        cmocka_unit_test_setup(test_param_decoding, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
