/* Strict JSON reading (json/json.c): everything Debian's cJSON would accept
 * but RFC 8259 / I-JSON forbid must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"

static cJSON *parse(const char *s) {
    char msg[128];
    return yq_json_parse(s, strlen(s), msg, sizeof msg);
}

static void test_accepts_valid(void **state) {
    (void)state;
    static const char *const ok[] = {
        "{}", "{\"a\":1}", " {\"a\":[1,2,{\"b\":null}]} \n", "{\"名\":\"仪器\"}", "{\"a\":\"\\u00e9\\\\u0000\"}", "[]",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cJSON *j = parse(ok[i]);
        assert_non_null(j);
        cJSON_Delete(j);
    }
}

static void test_refuses_invalid(void **state) {
    (void)state;
    static const char *const bad[] = {
        "{\"a\":1} x",               /* bytes after the value */
        "{\"a\":1}{}",               /* a second value */
        "{\"a\":1,\"a\":2}",         /* duplicate keys */
        "{\"o\":{\"k\":1,\"k\":1}}", /* duplicate keys, nested */
        "{\"a\":\"x\\u0000y\"}",     /* escaped NUL */
        "{\"a\":\"\xff\"}",          /* invalid UTF-8 */
        "{\"a\":\"\xc0\xaf\"}",      /* overlong encoding */
        "{\"a\":\"\xed\xa0\x80\"}",  /* UTF-16 surrogate in UTF-8 */
        "{\"a\":",                   /* truncated */
        "",                          /* empty */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = parse(bad[i]);
        if (j)
            print_error("accepted: %s\n", bad[i]);
        assert_null(j);
    }
}

static void test_depth_limit(void **state) {
    (void)state;
    char deep[200], ok[200];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        deep[n++] = '[';
    for (int i = 0; i < 65; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_null(parse(deep));
    n = 0;
    for (int i = 0; i < 64; i++)
        ok[n++] = '[';
    for (int i = 0; i < 64; i++)
        ok[n++] = ']';
    ok[n] = '\0';
    cJSON *j = parse(ok);
    assert_non_null(j);
    cJSON_Delete(j);
}

static void test_integers(void **state) {
    (void)state;
    cJSON *j = parse("{\"a\":5,\"b\":1.5,\"c\":1e300,\"d\":\"5\",\"e\":-3,\"f\":9007199254740993,\"A\":7}");
    assert_non_null(j);
    int64_t v = 0;
    assert_int_equal(yq_json_int(j, "a", 0, 10, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(yq_json_int(j, "b", 0, 10, &v), -2);
    assert_int_equal(yq_json_int(j, "c", 0, INT64_MAX, &v), -2);
    assert_int_equal(yq_json_int(j, "d", 0, 10, &v), -2);
    assert_int_equal(yq_json_int(j, "e", 0, 10, &v), -2);
    assert_int_equal(yq_json_int(j, "f", 0, INT64_MAX, &v), -2);
    assert_int_equal(yq_json_int(j, "missing", 0, 10, &v), -1);
    /* keys are case-sensitive */
    assert_int_equal(yq_json_int(j, "a", 0, 10, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(yq_json_int(j, "A", 0, 10, &v), 0);
    assert_int_equal(v, 7);
    cJSON_Delete(j);
}

static void test_utf8(void **state) {
    (void)state;
    assert_true(yq_utf8_valid("仪器 Yiqi", strlen("仪器 Yiqi")));
    assert_true(yq_utf8_valid("\xf0\x9f\x94\xac", 4));
    assert_false(yq_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(yq_utf8_valid("\xe4\xbb", 2));         /* truncated */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_valid), cmocka_unit_test(test_refuses_invalid),
        cmocka_unit_test(test_depth_limit),   cmocka_unit_test(test_integers),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
