/* The validity of a use's time: order, future, length, age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/usage_rules.h"

#define NOW 1796086800 /* 2026-12-01T09:00:00+08:00 */
#define H 3600

static const char *code_of(int64_t start, int64_t end, int64_t earliest) {
    yq_usage_time_refusal_t why = {0};
    if (yq_usage_time_check(start, end, NOW, earliest, &why) == 0)
        return "ok";
    assert_int_equal(why.status, 400);
    assert_non_null(why.message);
    assert_non_null(why.field);
    return why.code;
}

static void test_order_and_future(void **state) {
    (void)state;
    int64_t e = yq_usage_earliest_start(NOW);
    assert_string_equal(code_of(NOW - 2 * H, NOW - H, e), "ok");
    assert_string_equal(code_of(NOW - H, NOW - H, e), "ok"); /* an empty use: a sample handed in */
    assert_string_equal(code_of(NOW - H, NOW - H - 1, e), "invalid_field");
    assert_string_equal(code_of(NOW - H, NOW, e), "ok"); /* ending right now */
    assert_string_equal(code_of(NOW - H, NOW + 1, e), "in_future");
}

static void test_length(void **state) {
    (void)state;
    int64_t e = yq_usage_earliest_start(NOW);
    assert_string_equal(code_of(NOW - YQ_USAGE_MAX_SECONDS, NOW, e), "ok");
    assert_string_equal(code_of(NOW - YQ_USAGE_MAX_SECONDS - 1, NOW, e), "usage_too_long");
}

static void test_age(void **state) {
    (void)state;
    int64_t e = yq_usage_earliest_start(NOW);
    assert_int_equal(e, NOW - 400 * 86400);
    assert_string_equal(code_of(e, e + H, e), "ok");
    assert_string_equal(code_of(e - 1, e + H, e), "usage_too_old");
    /* A correction keeps its original's older start. */
    assert_string_equal(code_of(e - 30 * 86400, e - 30 * 86400 + H, e - 30 * 86400), "ok");
    yq_usage_time_refusal_t why;
    assert_int_equal(yq_usage_time_check(e - 1, e + H, NOW, e, &why), -1);
    assert_string_equal(why.field, "start");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_future),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
