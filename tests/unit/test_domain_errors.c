/* Domain error codes (domain/errors.c): every code has a distinct negative
 * value, a snake_case name and a sentence; unknown values say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/errors.h"

static void test_table(void **state) {
    (void)state;
    static const int codes[] = {
#define XX(name, value, text, message) YQ_DOM_##name,
        YQ_DOM_ERRNO_MAP(XX)
#undef XX
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(codes[i], codes[j]);
        assert_string_not_equal(yq_dom_err_name(codes[i]), "unknown_error");
        assert_true(strlen(yq_dom_strerror(codes[i])) > 10);
    }
    assert_string_equal(yq_dom_err_name(YQ_DOM_ENET_SUM), "net_sum");
    assert_string_equal(yq_dom_err_name(YQ_DOM_ERANGE_TOO_LONG), "range_too_long");
    assert_string_equal(yq_dom_err_name(0), "unknown_error");
    assert_string_equal(yq_dom_err_name(-999), "unknown_error");
    assert_string_equal(yq_dom_strerror(-999), "Unknown error.");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
