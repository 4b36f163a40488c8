/* Time conversions (core/timeutil.c): RFC 3339 both ways, Asia/Shanghai views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/timeutil.h"

static void test_parse_format(void **state) {
    (void)state;
    int64_t t;
    assert_int_equal(yq_time_parse("2026-12-01T09:00:00+08:00", &t), 0);
    assert_int_equal(t, 1796086800);
    int64_t u;
    assert_int_equal(yq_time_parse("2026-12-01T01:00:00Z", &u), 0);
    assert_int_equal(t, u);
    char s[YQ_TIME_STRLEN];
    yq_time_format(t, s);
    assert_string_equal(s, "2026-12-01T09:00:00+08:00");
    assert_int_equal(yq_time_parse("2026-11-30T20:00:00-05:00", &u), 0);
    assert_int_equal(u, t);
}

/* RFC 3339 time-secfrac, as JavaScript's toISOString writes it: the
 * fraction is dropped, whole seconds are kept. */
static void test_parse_fraction(void **state) {
    (void)state;
    int64_t t, u;
    assert_int_equal(yq_time_parse("2026-12-01T01:00:00Z", &t), 0);
    assert_int_equal(yq_time_parse("2026-12-01T01:00:00.000Z", &u), 0);
    assert_int_equal(u, t);
    assert_int_equal(yq_time_parse("2026-12-01T09:00:00.999999999+08:00", &u), 0);
    assert_int_equal(u, t);
    assert_int_equal(yq_time_parse("2026-12-01T01:00:01.5z", &u), 0);
    assert_int_equal(u, t + 1);
}

/* The last instant whose local year is 9999 is accepted and written back;
 * one second later is refused (it would print as year 10000). */
static void test_parse_last_year(void **state) {
    (void)state;
    int64_t t;
    assert_int_equal(yq_time_parse("9999-12-31T23:59:59+08:00", &t), 0);
    char s[YQ_TIME_STRLEN];
    yq_time_format(t, s);
    assert_string_equal(s, "9999-12-31T23:59:59+08:00");
    assert_int_equal(yq_time_parse("9999-12-31T16:00:00Z", &t), -1);
}

/* The digit-by-digit writer agrees with the C library over the whole range
 * yq_time_parse accepts (years 1900 to 9999), at odd steps through the day. */
static void test_format_matches_libc(void **state) {
    (void)state;
    int64_t first, last;
    assert_int_equal(yq_time_parse("1900-01-01T00:00:00+08:00", &first), 0);
    assert_int_equal(yq_time_parse("9999-12-31T23:59:59+08:00", &last), 0);
    for (int64_t t = first; t <= last; t += 86400 * 37 + 3607) {
        time_t local = (time_t)(t + 8 * 3600);
        struct tm tm;
        char want[64], got[YQ_TIME_STRLEN];
        gmtime_r(&local, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        yq_time_format(t, got);
        assert_string_equal(got, want);
    }
    char s[YQ_TIME_STRLEN];
    yq_time_format(last, s);
    assert_string_equal(s, "9999-12-31T23:59:59+08:00");
    yq_time_format(0, s);
    assert_string_equal(s, "1970-01-01T08:00:00+08:00");
}

static void test_parse_refuses(void **state) {
    (void)state;
    static const char *const bad[] = {"2026-12-01T09:00:00",
                                      "2026-12-01 09:00:00+08:00",
                                      "2026-02-30T09:00:00Z",
                                      "2026-12-01T24:00:00Z",
                                      "2026-12-01T09:00:00.Z",
                                      "2026-12-01T09:00:00+8:00",
                                      "x026-12-01T09:00:00Z",
                                      "",
                                      "2026-12-01T09:00:00.1234567890Z",
                                      "2026-12-01T09:00:00.5",
                                      "9999-12-31T23:00:00-23:59",
                                      "9999-12-31T16:00:00Z"};
    int64_t t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (yq_time_parse(bad[i], &t) == 0)
            print_error("accepted: %s\n", bad[i]);
        assert_int_equal(yq_time_parse(bad[i], &t), -1);
    }
}

static void test_local_views(void **state) {
    (void)state;
    int64_t t;
    /* 2026-11-30 is a Monday; 23:30 local is 15:30 UTC. */
    yq_time_parse("2026-11-30T23:30:00+08:00", &t);
    assert_int_equal(yq_local_weekday(t), 1);
    assert_int_equal(yq_local_minute_of_day(t), 23 * 60 + 30);
    int64_t m = yq_local_midnight(t);
    char s[YQ_TIME_STRLEN];
    yq_time_format(m, s);
    assert_string_equal(s, "2026-11-30T00:00:00+08:00");
    /* 2026-12-01 00:30 local is still 2026-11-30 in UTC. */
    yq_time_parse("2026-12-01T00:30:00+08:00", &t);
    char p[8];
    yq_period_of(t, p);
    assert_string_equal(p, "2026-12");
    assert_int_equal(yq_local_weekday(t), 2);
}

static void test_period_bounds(void **state) {
    (void)state;
    int64_t from, to, want;
    assert_int_equal(yq_period_bounds("2026-12", &from, &to), 0);
    yq_time_parse("2026-12-01T00:00:00+08:00", &want);
    assert_int_equal(from, want);
    yq_time_parse("2027-01-01T00:00:00+08:00", &want);
    assert_int_equal(to, want);
    assert_int_equal(yq_period_bounds("2026-13", &from, &to), -1);
    assert_int_equal(yq_period_bounds("2026-1", &from, &to), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),    cmocka_unit_test(test_format_matches_libc),
        cmocka_unit_test(test_parse_refuses),   cmocka_unit_test(test_parse_fraction),
        cmocka_unit_test(test_parse_last_year), cmocka_unit_test(test_local_views),
        cmocka_unit_test(test_period_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
