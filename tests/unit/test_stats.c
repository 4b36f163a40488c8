/* Statistics formulas (domain/stats.c) on small hand-computed cases: used,
 * external and cross-zone minutes with corrections and voids, uses,
 * distinct users and institutions, rated minutes prorated in common and
 * leap years and reduced by maintenance, utilisation, share rate, idleness;
 * calendar keys, the range plans the rollups are read by, the in-service
 * window, distinct positive tallies, and no-show and cancellation rates. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "domain/errors.h"
#include "domain/stats.h"

static int64_t T(const char *s) {
    int64_t t = 0;
    if (yq_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

/* The instrument belongs to institution 10 in zone 1. */
static void test_usage_figures(void **state) {
    (void)state;
    /* user, payer org, payer zone, reversal, minutes, samples, fee */
    static const yq_stats_row_t rows[] = {
        {1, 10, 1, 0, 60, 0, 6000},    /* internal */
        {2, 11, 1, 0, 90, 2, 13500},   /* external, same zone */
        {3, 20, 2, 0, 30, 0, 6000},    /* external, cross-zone */
        {3, 20, 2, 0, 30, 0, 6000},    /* corrected: */
        {3, 20, 2, 1, -30, 0, -6000},  /*   reversal */
        {4, 21, 2, 0, 45, 1, 9000},    /* voided: */
        {4, 21, 2, 1, -45, -1, -9000}, /*   reversal: user 4 and institution 21 vanish */
        {2, 11, 1, 0, 15, 0, 2250},    /* user 2 again */
    };
    yq_stats_t s;
    assert_int_equal(yq_stats_instrument(10, 1, rows, sizeof rows / sizeof rows[0], &s), 0);
    assert_int_equal(s.used_minutes, 60 + 90 + 30 + 15);
    assert_int_equal(s.external_minutes, 90 + 30 + 15);
    assert_int_equal(s.cross_zone_minutes, 30);
    assert_int_equal(s.uses, 4);
    assert_int_equal(s.users, 3);
    assert_int_equal(s.orgs, 3);
    assert_int_equal(s.samples, 2);
    assert_int_equal(s.fee_fen, 6000 + 13500 + 6000 + 2250);

    assert_int_equal(yq_stats_instrument(10, 1, NULL, 0, &s), 0);
    assert_int_equal(s.used_minutes + s.uses + s.users + s.orgs, 0);
    assert_int_equal(yq_stats_instrument(10, 1, NULL, 3, &s), YQ_DOM_EINVAL);
    static const yq_stats_row_t huge[] = {{1, 10, 1, 0, INT64_MAX, 0, 0}, {1, 10, 1, 0, 1, 0, 0}};
    assert_int_equal(yq_stats_instrument(10, 1, huge, 2, &s), YQ_DOM_EOVERFLOW);
}

typedef struct {
    const char *name;
    int64_t hours;
    const char *from, *to;
    int64_t want;
} prorate_case_t;

static void test_prorated(void **state) {
    (void)state;
    static const prorate_case_t c[] = {
        {"a common year", 1400, "2026-01-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00", 84000},
        {"a leap year", 1400, "2028-01-01T00:00:00+08:00", "2029-01-01T00:00:00+08:00", 84000},
        {"specialised year", 800, "2026-01-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00", 48000},
        /* 84000 x 31 / 365 = 7134.25 */
        {"January 2026", 1400, "2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00", 7134},
        /* 84000 x 29 / 366 = 6655.74 */
        {"February 2028", 1400, "2028-02-01T00:00:00+08:00", "2028-03-01T00:00:00+08:00", 6656},
        /* 84000 x 28 / 365 = 6443.84 */
        {"February 2026", 1400, "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00", 6444},
        /* 84000 x 31 / 365 + 84000 x 30 / 366 = 7134.25 + 6885.25 = 14019.49 */
        {"across New Year into a leap year", 1400, "2027-12-01T00:00:00+08:00", "2028-01-31T00:00:00+08:00", 14019},
        /* 48000 x 90 / 365 = 11835.62 */
        {"90 days specialised", 800, "2026-03-01T00:00:00+08:00", "2026-05-30T00:00:00+08:00", 11836},
        /* half a day: 84000 / 730 = 115.07 */
        {"twelve hours", 1400, "2026-06-01T08:00:00+08:00", "2026-06-01T20:00:00+08:00", 115},
        /* 60 x 262800 s / 31536000 s = exactly 0.5: rounds up */
        {"exactly half a minute", 1, "2026-01-01T00:00:00+08:00", "2026-01-04T01:00:00+08:00", 1},
        {"empty", 1400, "2026-01-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00", 0},
        /* the local year 2026, given in UTC: years are counted in local time */
        {"a local year given in UTC", 1400, "2025-12-31T16:00:00Z", "2026-12-31T16:00:00Z", 84000},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t got = yq_stats_prorated_minutes(c[i].hours, T(c[i].from), T(c[i].to));
        if (got != c[i].want)
            fail_msg("case '%s': %lld, want %lld", c[i].name, (long long)got, (long long)c[i].want);
    }
    assert_int_equal(yq_stats_prorated_minutes(1400, 100, 99), YQ_DOM_EINVAL);
    assert_int_equal(yq_stats_prorated_minutes(-1, 0, 99), YQ_DOM_EINVAL);
}

static void test_blocks_and_rated(void **state) {
    (void)state;
    int64_t from = T("2026-01-01T00:00:00+08:00"), to = T("2026-02-01T00:00:00+08:00");
    yq_stats_block_t b[] = {
        {T("2026-01-05T11:00:00+08:00"), T("2026-01-05T13:00:00+08:00")}, /* overlaps the next: once */
        {T("2026-01-05T10:00:00+08:00"), T("2026-01-05T12:00:00+08:00")},
        {T("2025-12-31T23:00:00+08:00"), T("2026-01-01T01:00:00+08:00")}, /* clipped: 60 min inside */
        {T("2026-01-31T23:30:00+08:00"), T("2026-02-03T00:00:00+08:00")}, /* clipped: 30 min inside */
        {T("2026-03-01T00:00:00+08:00"), T("2026-03-02T00:00:00+08:00")}, /* outside */
    };
    int64_t blocked = yq_stats_block_minutes(b, 5, from, to);
    assert_int_equal(blocked, 180 + 60 + 30);
    assert_int_equal(yq_stats_block_minutes(NULL, 0, from, to), 0);
    assert_int_equal(yq_stats_block_minutes(NULL, 1, from, to), YQ_DOM_EINVAL);
    /* January 2026, general: 7134 - 270 = 6864. */
    assert_int_equal(yq_stats_rated_minutes("general", from, to, blocked), 6864);
    assert_int_equal(yq_stats_rated_minutes("specialised", from, to, 0), 4077); /* 48000 x 31 / 365 = 4076.7 */
    assert_int_equal(yq_stats_rated_minutes("general", from, to, 10000), 0);    /* floored at 0 */
    assert_int_equal(yq_stats_rated_minutes("other", from, to, 0), YQ_DOM_EINVAL);
    assert_int_equal(yq_stats_rated_minutes("general", from, to, -1), YQ_DOM_EINVAL);
    assert_int_equal(yq_stats_rated_hours_per_year("general"), 1400);
    assert_int_equal(yq_stats_rated_hours_per_year("specialised"), 800);
    assert_int_equal(yq_stats_rated_hours_per_year(NULL), YQ_DOM_EINVAL);
}

static void test_rates_and_idle(void **state) {
    (void)state;
    assert_true(fabs(yq_stats_utilisation(195, 6864) - 195.0 / 6864.0) < 1e-12);
    assert_true(yq_stats_utilisation(100, 0) == 0.0);
    assert_true(fabs(yq_stats_share_rate(135, 195) - 135.0 / 195.0) < 1e-12);
    assert_true(yq_stats_share_rate(0, 0) == 0.0);
    assert_true(yq_stats_share_rate(10, -5) == 0.0);
    /* Idle below 10%: 90 days general = 84000 x 90 / 365 = 20712 rated
     * minutes; 2071 used is 9.9989%, 2072 is 10.0039%. */
    int64_t rated =
        yq_stats_rated_minutes("general", T("2026-03-01T00:00:00+08:00"), T("2026-05-30T00:00:00+08:00"), 0);
    assert_int_equal(rated, 20712);
    assert_true(yq_stats_is_idle(2071, rated));
    assert_false(yq_stats_is_idle(2072, rated));
    assert_false(yq_stats_is_idle(100, 1000)); /* exactly 10% is not under it */
    assert_true(yq_stats_is_idle(99, 1000));
    assert_true(yq_stats_is_idle(100, 1001));
    assert_true(yq_stats_is_idle(0, 1));
    assert_false(yq_stats_is_idle(0, 0)); /* blocked all along: maintenance, not idle */
}

static void test_calendar_keys(void **state) {
    (void)state;
    /* Local midnight of 1 January 2026 is 2025-12-31T16:00:00Z. */
    assert_int_equal(yq_stats_month_of(T("2025-12-31T16:00:00Z")), 202601);
    assert_int_equal(yq_stats_month_of(T("2025-12-31T15:59:59Z")), 202512);
    assert_int_equal(yq_stats_day_of(T("2026-01-01T00:00:00+08:00")), 20454); /* 56 years + 14 leap days */
    assert_int_equal(yq_stats_day_of(T("2026-01-01T23:59:59+08:00")), 20454);
    assert_int_equal(yq_stats_day_start(20454), T("2026-01-01T00:00:00+08:00"));
    assert_int_equal(yq_stats_month_next(202612), 202701);
    assert_int_equal(yq_stats_month_next(202601), 202602);
    assert_int_equal(yq_stats_month_start(202603), T("2026-03-01T00:00:00+08:00"));
    assert_int_equal(yq_stats_month_first_day(202601), 20454);
    assert_int_equal(yq_stats_month_of_day(20454 + 31), 202602);
}

typedef struct {
    const char *name, *from, *to;
    int n;
    yq_stats_seg_t want[YQ_STATS_MAX_SEGS]; /* RAW bounds as instants; DAY as day numbers; MONTH as keys */
} plan_case_t;

#define D(s) ((int64_t)yq_stats_day_of(T(s)))
static void test_plan(void **state) {
    (void)state;
    const plan_case_t c[] = {
        {"a calendar year: twelve month rows",
         "2026-01-01T00:00:00+08:00",
         "2027-01-01T00:00:00+08:00",
         1,
         {{YQ_STATS_SEG_MONTH, 202601, 202701}}},
        {"every kind of piece",
         "2026-01-15T10:30:00+08:00",
         "2026-03-10T12:00:00+08:00",
         5,
         {{YQ_STATS_SEG_RAW, T("2026-01-15T10:30:00+08:00"), T("2026-01-16T00:00:00+08:00")},
          {YQ_STATS_SEG_DAY, D("2026-01-16T00:00:00+08:00"), D("2026-02-01T00:00:00+08:00")},
          {YQ_STATS_SEG_MONTH, 202602, 202603},
          {YQ_STATS_SEG_DAY, D("2026-03-01T00:00:00+08:00"), D("2026-03-10T00:00:00+08:00")},
          {YQ_STATS_SEG_RAW, T("2026-03-10T00:00:00+08:00"), T("2026-03-10T12:00:00+08:00")}}},
        {"inside one day: the records themselves",
         "2026-05-04T09:00:00+08:00",
         "2026-05-04T18:00:00+08:00",
         1,
         {{YQ_STATS_SEG_RAW, T("2026-05-04T09:00:00+08:00"), T("2026-05-04T18:00:00+08:00")}}},
        {"across one midnight, no whole day",
         "2026-05-04T20:00:00+08:00",
         "2026-05-05T08:00:00+08:00",
         1,
         {{YQ_STATS_SEG_RAW, T("2026-05-04T20:00:00+08:00"), T("2026-05-05T08:00:00+08:00")}}},
        {"one whole day",
         "2026-05-04T00:00:00+08:00",
         "2026-05-05T00:00:00+08:00",
         1,
         {{YQ_STATS_SEG_DAY, D("2026-05-04T00:00:00+08:00"), D("2026-05-05T00:00:00+08:00")}}},
        {"whole days across a month's start but no whole month",
         "2026-01-05T00:00:00+08:00",
         "2026-02-03T00:00:00+08:00",
         1,
         {{YQ_STATS_SEG_DAY, D("2026-01-05T00:00:00+08:00"), D("2026-02-03T00:00:00+08:00")}}},
        {"across New Year",
         "2026-12-01T00:00:00+08:00",
         "2027-02-01T00:00:00+08:00",
         1,
         {{YQ_STATS_SEG_MONTH, 202612, 202702}}},
        {"a UTC midnight is 08:00 local: a partial first day",
         "2026-01-01T00:00:00Z",
         "2026-03-01T00:00:00+08:00",
         3,
         {{YQ_STATS_SEG_RAW, T("2026-01-01T00:00:00Z"), T("2026-01-02T00:00:00+08:00")},
          {YQ_STATS_SEG_DAY, D("2026-01-02T00:00:00+08:00"), D("2026-02-01T00:00:00+08:00")},
          {YQ_STATS_SEG_MONTH, 202602, 202603}}},
        {"whole months then a partial day",
         "2026-01-01T00:00:00+08:00",
         "2026-03-01T10:00:00+08:00",
         2,
         {{YQ_STATS_SEG_MONTH, 202601, 202603},
          {YQ_STATS_SEG_RAW, T("2026-03-01T00:00:00+08:00"), T("2026-03-01T10:00:00+08:00")}}},
        {"empty", "2026-01-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00", 0, {{0, 0, 0}}},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        yq_stats_seg_t got[YQ_STATS_MAX_SEGS];
        int n = yq_stats_plan(T(c[i].from), T(c[i].to), got);
        if (n != c[i].n)
            fail_msg("case '%s': %d pieces, want %d", c[i].name, n, c[i].n);
        for (int k = 0; k < n; k++)
            if (got[k].kind != c[i].want[k].kind || got[k].lo != c[i].want[k].lo || got[k].hi != c[i].want[k].hi)
                fail_msg("case '%s' piece %d: {%d, %lld, %lld}, want {%d, %lld, %lld}", c[i].name, k, got[k].kind,
                         (long long)got[k].lo, (long long)got[k].hi, c[i].want[k].kind, (long long)c[i].want[k].lo,
                         (long long)c[i].want[k].hi);
    }
    yq_stats_seg_t s[YQ_STATS_MAX_SEGS];
    assert_int_equal(yq_stats_plan(100, 99, s), YQ_DOM_EINVAL);
}

static void test_tally_and_service(void **state) {
    (void)state;
    yq_stats_tally_t t[] = {{7, 1}, {3, 2}, {7, -1}, {5, 1}, {3, -1}, {9, 0}};
    assert_int_equal(yq_stats_count_positive(t, 6), 2); /* 3 (2 - 1) and 5; 7 cancels; 9 never used */
    assert_int_equal(yq_stats_count_positive(NULL, 0), 0);
    int64_t lo, hi;
    yq_stats_in_service(100, 200, 0, 0, &lo, &hi);
    assert_int_equal(lo, 100);
    assert_int_equal(hi, 200);
    yq_stats_in_service(100, 200, 150, 0, &lo, &hi); /* bought within the range */
    assert_int_equal(lo, 150);
    assert_int_equal(hi, 200);
    yq_stats_in_service(100, 200, 0, 120, &lo, &hi); /* retired within it */
    assert_int_equal(lo, 100);
    assert_int_equal(hi, 120);
    yq_stats_in_service(100, 200, 250, 0, &lo, &hi); /* bought after it */
    assert_int_equal(hi - lo, 0);
    yq_stats_in_service(100, 200, 0, 50, &lo, &hi); /* retired before it */
    assert_int_equal(hi - lo, 0);
}

static void test_booking_rates(void **state) {
    (void)state;
    /* 40 bookings: 25 completed, 1 in use, 4 no-shows, 6 cancelled, 2 rejected, 2 still confirmed. */
    yq_stats_bookings_t b = {0};
    assert_int_equal(yq_stats_bookings_add(&b, "completed", 25), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "in_use", 1), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "no_show", 4), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "cancelled", 6), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "rejected", 2), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "confirmed", 3), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "confirmed", -1), 0);
    assert_int_equal(yq_stats_bookings_add(&b, "teleported", 1), YQ_DOM_EINVAL);
    assert_int_equal(yq_stats_bookings_total(&b), 40);
    assert_true(fabs(yq_stats_no_show_rate(&b) - 4.0 / 30.0) < 1e-12); /* 4 of the 30 that came due */
    assert_true(fabs(yq_stats_cancellation_rate(&b) - 6.0 / 40.0) < 1e-12);
    yq_stats_bookings_t none = {0};
    assert_true(yq_stats_no_show_rate(&none) == 0.0);
    assert_true(yq_stats_cancellation_rate(&none) == 0.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_figures),     cmocka_unit_test(test_prorated),
        cmocka_unit_test(test_blocks_and_rated),  cmocka_unit_test(test_rates_and_idle),
        cmocka_unit_test(test_calendar_keys),     cmocka_unit_test(test_plan),
        cmocka_unit_test(test_tally_and_service), cmocka_unit_test(test_booking_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
