/* Unified social credit codes (domain/credit_code.c, GB 32100-2015): real
 * published codes pass, every single-character change of them fails, and so
 * do wrong lengths, excluded letters and lower case; the check character
 * computed for the first 17 characters is the published 18th. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/credit_code.h"
#include "domain/errors.h"

/* Codes as printed on business licences and in public registers. */
static const char *const published[] = {
    "91350100M000100Y43", /* the example code widely printed in guides to the standard */
    "91330100716105852F", /* Alibaba (China) Co., Ltd. */
    "914403001922038216", /* Huawei Technologies Co., Ltd. */
    "91110108551385082Q", /* Beijing Xiaomi Technology Co., Ltd. */
    "91440300708461136T", /* Shenzhen Tencent Computer Systems Co., Ltd. */
};
#define N_PUBLISHED (sizeof published / sizeof published[0])

static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static void test_published_codes_pass(void **state) {
    (void)state;
    for (size_t i = 0; i < N_PUBLISHED; i++) {
        if (!yq_credit_code_valid(published[i]))
            print_error("refused: %s\n", published[i]);
        assert_true(yq_credit_code_valid(published[i]));
        char c = 0;
        assert_int_equal(yq_credit_code_check_char(published[i], &c), 0);
        assert_int_equal(c, published[i][17]);
    }
}

/* Any single substitution within the set breaks the check: the weights are
 * non-zero mod 31, a prime, so one changed value always changes the sum. */
static void test_every_single_change_fails(void **state) {
    (void)state;
    for (size_t i = 0; i < N_PUBLISHED; i++) {
        char code[19];
        for (int pos = 0; pos < 18; pos++) {
            for (const char *c = charset; *c; c++) {
                memcpy(code, published[i], 19);
                if (code[pos] == *c)
                    continue;
                code[pos] = *c;
                if (yq_credit_code_valid(code))
                    print_error("accepted: %s\n", code);
                assert_false(yq_credit_code_valid(code));
            }
        }
    }
}

static void test_malformed_fail(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "91350100M000100Y4",   /* 17 characters */
        "91350100M000100Y433", /* 19 */
        "91350100m000100y43",  /* lower case */
        "91350100I000100Y43",  /* I is not in the set */
        "91350100O000100Y43",  /* O */
        "91350100S000100Y43",  /* S */
        "91350100V000100Y43",  /* V */
        "91350100Z000100Y43",  /* Z */
        "91350100M000100Y4O",  /* O as the check character */
        "91350100M00 100Y43",  /* a space */
        "９1350100M000100Y43", /* a full-width digit */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (yq_credit_code_valid(bad[i]))
            print_error("accepted: %s\n", bad[i]);
        assert_false(yq_credit_code_valid(bad[i]));
    }
    assert_false(yq_credit_code_valid(NULL));
}

static void test_check_char(void **state) {
    (void)state;
    char c = 'x';
    /* 31 - (sum mod 31) == 31 stands for '0': seventeen zeros sum to 0. */
    assert_int_equal(yq_credit_code_check_char("00000000000000000", &c), 0);
    assert_int_equal(c, '0');
    /* A single 1 in the first place: sum 1, check 30 -> 'Y'. */
    assert_int_equal(yq_credit_code_check_char("10000000000000000", &c), 0);
    assert_int_equal(c, 'Y');
    /* Generated codes validate. */
    char code[19] = "12310112AB3456789";
    assert_int_equal(yq_credit_code_check_char(code, &code[17]), 0);
    code[18] = '\0';
    assert_true(yq_credit_code_valid(code));
    /* Failures leave *out alone. */
    c = 'x';
    assert_int_equal(yq_credit_code_check_char("1231011IAB3456789", &c), YQ_DOM_EINVAL);
    assert_int_equal(c, 'x');
    assert_int_equal(yq_credit_code_check_char("123", &c), YQ_DOM_EINVAL);
    assert_int_equal(yq_credit_code_check_char(NULL, &c), YQ_DOM_EINVAL);
    assert_int_equal(c, 'x');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_codes_pass),
        cmocka_unit_test(test_every_single_change_fails),
        cmocka_unit_test(test_malformed_fail),
        cmocka_unit_test(test_check_char),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
