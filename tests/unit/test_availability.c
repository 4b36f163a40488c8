/* Availability (domain/availability.c) on small hand-made weeks: busy
 * intervals with kinds (booking, block, closed), merging, precedence where
 * they overlap, free intervals, the 62-day limit, and the first free slot
 * under the time rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "domain/availability.h"
#include "domain/errors.h"

static int64_t T(const char *s) {
    int64_t t = 0;
    if (yq_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

/* Mon-Fri 09:00-18:00, 30-minute slots, 30 min to 8 h, 2 h notice, 60 days. */
static yq_instrument_t instrument(void) {
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    in.share_mode = "external";
    in.run_status = "normal";
    return in;
}

typedef struct {
    const char *start, *end;
    int kind;
} want_t;

static void expect(const yq_busy_t *got, size_t n, const want_t *want, size_t m, int with_kind, const char *what) {
    for (size_t i = 0; i < n || i < m; i++) {
        char gs[YQ_TIME_STRLEN] = "-", ge[YQ_TIME_STRLEN] = "-";
        if (i < n) {
            yq_time_format(got[i].start, gs);
            yq_time_format(got[i].end, ge);
        }
        if (i >= n || i >= m || got[i].start != T(want[i].start) || got[i].end != T(want[i].end) ||
            (with_kind && got[i].kind != want[i].kind))
            fail_msg("%s[%zu]: got %s .. %s (%s), want %s .. %s (%s); %zu vs %zu intervals", what, i, gs, ge,
                     i < n ? yq_busy_kind_name(got[i].kind) : "-", i < m ? want[i].start : "-",
                     i < m ? want[i].end : "-", i < m ? yq_busy_kind_name(want[i].kind) : "-", n, m);
    }
}

/* The week of 2026-11-30 (a Monday), taken intervals given out of order. */
static const yq_busy_t *week_taken(size_t *n) {
    static yq_busy_t t[8];
    static const struct {
        const char *s, *e;
        int kind;
    } src[] = {
        {"2026-12-04T14:00:00+08:00", "2026-12-04T16:00:00+08:00", YQ_BUSY_BOOKING}, /* under a block in part */
        {"2026-12-01T11:00:00+08:00", "2026-12-01T12:00:00+08:00", YQ_BUSY_BOOKING}, /* adjacent to the next */
        {"2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", YQ_BUSY_BOOKING},
        {"2026-12-02T09:00:00+08:00", "2026-12-02T18:00:00+08:00", YQ_BUSY_BLOCK},   /* a whole day */
        {"2026-12-03T08:00:00+08:00", "2026-12-03T10:00:00+08:00", YQ_BUSY_BOOKING}, /* from before opening */
        {"2026-12-04T13:00:00+08:00", "2026-12-04T15:00:00+08:00", YQ_BUSY_BLOCK},
        {"2026-12-03T12:00:00+08:00", "2026-12-03T12:00:00+08:00", YQ_BUSY_BOOKING}, /* empty: ignored */
        {"2026-11-20T09:00:00+08:00", "2026-11-30T10:00:00+08:00", YQ_BUSY_BLOCK},   /* reaches in from before */
    };
    for (size_t i = 0; i < 8; i++)
        t[i] = (yq_busy_t){T(src[i].s), T(src[i].e), src[i].kind};
    *n = 8;
    return t;
}

static void test_week(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    size_t n;
    const yq_busy_t *taken = week_taken(&n);
    yq_avail_t av;
    assert_int_equal(
        yq_availability(&in, T("2026-11-30T00:00:00+08:00"), T("2026-12-07T00:00:00+08:00"), taken, n, &av), 0);
    static const want_t busy[] = {
        {"2026-11-30T00:00:00+08:00", "2026-11-30T10:00:00+08:00", YQ_BUSY_BLOCK}, /* the block wins over closed */
        {"2026-11-30T18:00:00+08:00", "2026-12-01T09:00:00+08:00", YQ_BUSY_CLOSED},
        {"2026-12-01T10:00:00+08:00", "2026-12-01T12:00:00+08:00", YQ_BUSY_BOOKING}, /* two merged */
        {"2026-12-01T18:00:00+08:00", "2026-12-02T09:00:00+08:00", YQ_BUSY_CLOSED},
        {"2026-12-02T09:00:00+08:00", "2026-12-02T18:00:00+08:00", YQ_BUSY_BLOCK},
        {"2026-12-02T18:00:00+08:00", "2026-12-03T08:00:00+08:00", YQ_BUSY_CLOSED},
        {"2026-12-03T08:00:00+08:00", "2026-12-03T10:00:00+08:00", YQ_BUSY_BOOKING}, /* booking wins over closed */
        {"2026-12-03T18:00:00+08:00", "2026-12-04T09:00:00+08:00", YQ_BUSY_CLOSED},
        {"2026-12-04T13:00:00+08:00", "2026-12-04T15:00:00+08:00", YQ_BUSY_BLOCK}, /* block wins over booking */
        {"2026-12-04T15:00:00+08:00", "2026-12-04T16:00:00+08:00", YQ_BUSY_BOOKING},
        {"2026-12-04T18:00:00+08:00", "2026-12-07T00:00:00+08:00", YQ_BUSY_CLOSED}, /* the weekend */
    };
    static const want_t free_[] = {
        {"2026-11-30T10:00:00+08:00", "2026-11-30T18:00:00+08:00", 0},
        {"2026-12-01T09:00:00+08:00", "2026-12-01T10:00:00+08:00", 0},
        {"2026-12-01T12:00:00+08:00", "2026-12-01T18:00:00+08:00", 0},
        {"2026-12-03T10:00:00+08:00", "2026-12-03T18:00:00+08:00", 0},
        {"2026-12-04T09:00:00+08:00", "2026-12-04T13:00:00+08:00", 0},
        {"2026-12-04T16:00:00+08:00", "2026-12-04T18:00:00+08:00", 0},
    };
    expect(av.busy, av.n_busy, busy, sizeof busy / sizeof busy[0], 1, "busy");
    expect(av.free, av.n_free, free_, sizeof free_ / sizeof free_[0], 0, "free");
    yq_avail_free(&av);
    assert_null(av.busy);
    assert_int_equal(av.n_free, 0);
}

/* A range inside one open afternoon with nothing taken: all free; and a
 * range on a Sunday: all closed. Range ends need not be on midnight. */
static void test_partial_ranges(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    yq_avail_t av;
    assert_int_equal(yq_availability(&in, T("2026-12-01T13:15:00+08:00"), T("2026-12-01T19:00:00+08:00"), NULL, 0, &av),
                     0);
    static const want_t f[] = {{"2026-12-01T13:15:00+08:00", "2026-12-01T18:00:00+08:00", 0}};
    static const want_t b[] = {{"2026-12-01T18:00:00+08:00", "2026-12-01T19:00:00+08:00", YQ_BUSY_CLOSED}};
    expect(av.free, av.n_free, f, 1, 0, "free");
    expect(av.busy, av.n_busy, b, 1, 1, "busy");
    yq_avail_free(&av);
    assert_int_equal(yq_availability(&in, T("2026-12-06T00:00:00+08:00"), T("2026-12-07T00:00:00+08:00"), NULL, 0, &av),
                     0);
    static const want_t sun[] = {{"2026-12-06T00:00:00+08:00", "2026-12-07T00:00:00+08:00", YQ_BUSY_CLOSED}};
    expect(av.busy, av.n_busy, sun, 1, 1, "busy");
    assert_int_equal(av.n_free, 0);
    yq_avail_free(&av);
}

/* Open round the clock (every day 00:00-24:00): free time runs across
 * midnight in one piece; overlapping spans count once. */
static void test_round_the_clock(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    in.n_open_hours = 8;
    for (int d = 1; d <= 7; d++)
        in.open_hours[d - 1] = (yq_open_span_t){d, 0, 1440};
    in.open_hours[7] = (yq_open_span_t){2, 600, 720}; /* overlaps Tuesday's */
    yq_busy_t taken[] = {{T("2026-12-01T22:00:00+08:00"), T("2026-12-02T02:00:00+08:00"), YQ_BUSY_BOOKING}};
    yq_avail_t av;
    assert_int_equal(
        yq_availability(&in, T("2026-12-01T00:00:00+08:00"), T("2026-12-03T00:00:00+08:00"), taken, 1, &av), 0);
    static const want_t f[] = {{"2026-12-01T00:00:00+08:00", "2026-12-01T22:00:00+08:00", 0},
                               {"2026-12-02T02:00:00+08:00", "2026-12-03T00:00:00+08:00", 0}};
    static const want_t b[] = {{"2026-12-01T22:00:00+08:00", "2026-12-02T02:00:00+08:00", YQ_BUSY_BOOKING}};
    expect(av.free, av.n_free, f, 2, 0, "free");
    expect(av.busy, av.n_busy, b, 1, 1, "busy");
    yq_avail_free(&av);
}

static void test_clip_to_bookable(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    in.n_open_hours = 7;
    for (int d = 1; d <= 7; d++)
        in.open_hours[d - 1] = (yq_open_span_t){d, 0, 1440};
    in.slot_minutes = 30;
    in.notice_minutes = 120;
    /* 10:07 now, two hours' notice: the first bookable start is 12:30. */
    int64_t now = T("2026-12-01T10:07:00+08:00");
    int64_t from = yq_avail_bookable_from(&in, now);
    assert_int_equal(from, T("2026-12-01T12:30:00+08:00"));
    in.notice_minutes = 0;
    assert_int_equal(yq_avail_bookable_from(&in, T("2026-12-01T10:30:00+08:00")), T("2026-12-01T10:30:00+08:00"));
    yq_busy_t taken[] = {{T("2026-12-01T14:00:00+08:00"), T("2026-12-01T15:00:00+08:00"), YQ_BUSY_BOOKING},
                         {T("2026-12-01T08:00:00+08:00"), T("2026-12-01T09:00:00+08:00"), YQ_BUSY_BOOKING}};
    yq_avail_t av;
    assert_int_equal(
        yq_availability(&in, T("2026-12-01T00:00:00+08:00"), T("2026-12-02T00:00:00+08:00"), taken, 2, &av), 0);
    yq_avail_clip_free(&av, from);
    static const want_t f[] = {{"2026-12-01T12:30:00+08:00", "2026-12-01T14:00:00+08:00", 0},
                               {"2026-12-01T15:00:00+08:00", "2026-12-02T00:00:00+08:00", 0}};
    static const want_t b[] = {{"2026-12-01T08:00:00+08:00", "2026-12-01T09:00:00+08:00", YQ_BUSY_BOOKING},
                               {"2026-12-01T14:00:00+08:00", "2026-12-01T15:00:00+08:00", YQ_BUSY_BOOKING}};
    expect(av.free, av.n_free, f, 2, 0, "free");
    expect(av.busy, av.n_busy, b, 2, 1, "busy kept");
    /* Everything in the past: nothing free. */
    yq_avail_clip_free(&av, T("2026-12-03T00:00:00+08:00"));
    assert_int_equal(av.n_free, 0);
    yq_avail_free(&av);
}

static void test_range_limits(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    yq_avail_t av;
    int64_t from = T("2026-12-01T00:00:00+08:00");
    assert_int_equal(yq_availability(&in, from, from + 62 * 86400, NULL, 0, &av), 0);
    /* 62 days of Mon-Fri opening: 9 weeks minus ... each weekday a free piece. */
    assert_int_equal(av.n_free, 44);
    yq_avail_free(&av);
    assert_int_equal(yq_availability(&in, from, from + 62 * 86400 + 1, NULL, 0, &av), YQ_DOM_ERANGE_TOO_LONG);
    assert_null(av.busy);
    assert_int_equal(yq_availability(&in, from, from, NULL, 0, &av), YQ_DOM_EINVAL);
    assert_int_equal(yq_availability(NULL, from, from + 60, NULL, 0, &av), YQ_DOM_EINVAL);
    assert_int_equal(yq_availability(&in, from, from + 60, NULL, 0, NULL), YQ_DOM_EINVAL);
    yq_avail_free(&av); /* harmless on an emptied result */
    yq_avail_free(NULL);
    assert_string_equal(yq_busy_kind_name(YQ_BUSY_CLOSED), "closed");
    assert_string_equal(yq_busy_kind_name(YQ_BUSY_BOOKING), "booking");
    assert_string_equal(yq_busy_kind_name(YQ_BUSY_BLOCK), "block");
}

typedef struct {
    const char *name, *now, *from, *to;
    int64_t minutes;
    const char *want; /* NULL: not found */
} slot_case_t;

static void test_first_slot(void **state) {
    (void)state;
    static const slot_case_t c[] = {
        {"notice from now", "2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00+08:00", "2026-12-07T00:00:00+08:00", 60,
         "2026-11-30T10:00:00+08:00"},
        {"after Tuesday's bookings", "2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00+08:00",
         "2026-12-07T00:00:00+08:00", 120, "2026-12-01T12:00:00+08:00"},
        {"eight hours: Wednesday blocked, Thursday", "2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00+08:00",
         "2026-12-07T00:00:00+08:00", 480, "2026-12-03T10:00:00+08:00"},
        {"Friday between block and booking", "2026-12-04T08:00:00+08:00", "2026-12-04T08:00:00+08:00",
         "2026-12-07T00:00:00+08:00", 180, "2026-12-04T10:00:00+08:00"},
        {"Friday, four hours: next week", "2026-12-04T08:00:00+08:00", "2026-12-04T08:00:00+08:00",
         "2026-12-09T00:00:00+08:00", 240, "2026-12-07T09:00:00+08:00"},
        {"window ends first", "2026-12-04T08:00:00+08:00", "2026-12-04T08:00:00+08:00", "2026-12-07T00:00:00+08:00",
         240, NULL},
        {"start before 'to', end after it", "2026-11-29T08:00:00+08:00", "2026-11-30T10:00:00+08:00",
         "2026-11-30T17:30:00+08:00", 480, "2026-11-30T10:00:00+08:00"},
        {"not a multiple of the slot", "2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00+08:00",
         "2026-12-07T00:00:00+08:00", 45, NULL},
        {"zero minutes", "2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00+08:00", "2026-12-07T00:00:00+08:00", 0,
         "EINVAL"},
        {"longer than the maximum", "2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00+08:00",
         "2026-12-07T00:00:00+08:00", 510, NULL},
        {"beyond the horizon", "2026-11-30T08:00:00+08:00", "2027-01-30T00:00:00+08:00", "2027-02-05T00:00:00+08:00",
         60, NULL},
    };
    yq_instrument_t in = instrument();
    size_t n;
    const yq_busy_t *taken = week_taken(&n);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t start = -1;
        int rc = yq_avail_first_slot(&in, T(c[i].from), T(c[i].to), T(c[i].now), c[i].minutes, taken, n, &start);
        char got[YQ_TIME_STRLEN] = "-";
        if (rc == 0)
            yq_time_format(start, got);
        if (c[i].want && strcmp(c[i].want, "EINVAL") == 0) {
            if (rc != YQ_DOM_EINVAL)
                fail_msg("case '%s': rc %d, want EINVAL", c[i].name, rc);
        } else if (c[i].want ? (rc != 0 || start != T(c[i].want)) : rc != YQ_DOM_ENOT_FOUND) {
            fail_msg("case '%s': rc %d start %s, want %s", c[i].name, rc, got, c[i].want ? c[i].want : "not found");
        }
    }
}

/* A booking made under an older step ends off the current one: the free
 * time starts there, the first slot at the next step. */
static void test_first_slot_off_step(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    yq_busy_t taken[] = {{T("2026-11-30T09:00:00+08:00"), T("2026-11-30T10:20:00+08:00"), YQ_BUSY_BOOKING}};
    int64_t start = 0;
    assert_int_equal(yq_avail_first_slot(&in, T("2026-11-30T00:00:00+08:00"), T("2026-12-01T00:00:00+08:00"),
                                         T("2026-11-29T12:00:00+08:00"), 60, taken, 1, &start),
                     0);
    assert_int_equal(start, T("2026-11-30T10:30:00+08:00"));
    assert_int_equal(yq_avail_first_slot(&in, 10, 10, 0, 60, NULL, 0, &start), YQ_DOM_EINVAL);
    assert_int_equal(yq_avail_first_slot(&in, 0, 63 * 86400, 0, 60, NULL, 0, &start), YQ_DOM_ERANGE_TOO_LONG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_week),
        cmocka_unit_test(test_partial_ranges),
        cmocka_unit_test(test_round_the_clock),
        cmocka_unit_test(test_range_limits),
        cmocka_unit_test(test_clip_to_bookable),
        cmocka_unit_test(test_first_slot),
        cmocka_unit_test(test_first_slot_off_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
