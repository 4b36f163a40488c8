/* The common-password list (auth/weak_password.c on the embedded
 * data/common-passwords.txt): loaded once under concurrency, at least 1,000
 * entries, case-insensitive, every entry found, and long real-world ones
 * that pass the 12-character minimum refused. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/weak_password.h"
#include "core/data.h"

static void *lookup_many(void *arg) {
    (void)arg;
    intptr_t hits = 0;
    for (int i = 0; i < 2000; i++)
        hits += yq_password_is_common(i % 2 ? "woaini1314520" : "not-on-any-list-7c41");
    return (void *)hits;
}

/* Runs first, so the list is built while eight threads race for it. */
static void test_concurrent_first_use(void **state) {
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, lookup_many, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *hits;
        assert_int_equal(pthread_join(t[i], &hits), 0);
        assert_int_equal((intptr_t)hits, 1000);
    }
}

static void test_known_common(void **state) {
    (void)state;
    assert_true(yq_password_common_count() >= 1000);
    static const char *const common[] = {
        "password1234",  "qwertyuiop123",
        "1q2w3e4r5t6y",  "aa123456789a",
        "woaini1314520", "5201314520abc",
        "123456789012",  "1qaz2wsx3edc",
        "123456",        "password",
        "iloveyou",      "admin123",
        "PassWord1234",  /* case does not help */ "WOAINI1314520",
        "QwErTyUiOp123",
    };
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        if (!yq_password_is_common(common[i]))
            print_error("not refused: %s\n", common[i]);
        assert_int_equal(yq_password_is_common(common[i]), 1);
    }
}

static void test_not_common(void **state) {
    (void)state;
    char longpw[300];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    static const char *const fine[] = {
        "demo-admin-2026",      "demo-commission-2026",
        "demo-operator-2026",   "demo-pi-2026-yiqi",
        "demo-researcher-2026", "correct horse battery staple",
        "张江仪器共享2026",     "password12345 ",
        " password1234",        "",
        "password1234x",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        if (yq_password_is_common(fine[i]))
            print_error("refused: %s\n", fine[i]);
        assert_int_equal(yq_password_is_common(fine[i]), 0);
    }
    assert_int_equal(yq_password_is_common(longpw), 0);
    assert_int_equal(yq_password_is_common(NULL), 0);
}

/* Every line of the shipped file is lower-case and found; the count is the
 * number of distinct lines. */
static void test_every_entry(void **state) {
    (void)state;
    const yq_data_file_t *f = yq_data_get("common-passwords.txt");
    assert_non_null(f);
    char *text = strndup(f->bytes, f->len), *save = NULL;
    size_t lines = 0, long_ones = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        for (const char *p = line; *p; p++)
            assert_false(*p >= 'A' && *p <= 'Z');
        if (!yq_password_is_common(line))
            print_error("entry not found: %s\n", line);
        assert_int_equal(yq_password_is_common(line), 1);
        lines++;
        long_ones += strlen(line) >= 12;
    }
    assert_int_equal(lines, yq_password_common_count()); /* sorted unique in the file */
    assert_true(long_ones >= 300);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_first_use),
        cmocka_unit_test(test_known_common),
        cmocka_unit_test(test_not_common),
        cmocka_unit_test(test_every_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
