/* Booking rules (domain/booking_rules.c): every refusal and the order in
 * which they win (API.md "Which refusal wins"), slots from local midnight,
 * open hours chained across spans and midnight, the state machine by actor,
 * the cancellation deadline, the check-in window, no-shows and the bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "domain/booking_rules.h"
#include "domain/errors.h"

static int64_t T(const char *s) {
    int64_t t = 0;
    if (yq_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

/* Defaults of DOMAIN.md: Mon-Fri 09:00-18:00, 30-minute slots, 30 min to
 * 8 h, 2 h notice, 60 days ahead; shared with everyone and in service. */
static yq_instrument_t instrument(void) {
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    in.share_mode = "external";
    in.run_status = "normal";
    return in;
}

/* 2026-11-30 is a Monday. */
#define NOW "2026-11-30T08:00:00+08:00"

typedef struct {
    const char *name;
    const char *start, *end;
    const char *share_mode, *run_status; /* NULL: external, normal */
    int retired, requires_training, outsider;
    int64_t barred_for;      /* bar ends now + this many seconds (0: none) */
    int64_t qualified_until; /* seconds after start (0: no qualification) */
    int64_t min_minutes;     /* 0: default 30 */
    const char *want;        /* refusal code, NULL: accepted */
} rule_case_t;

static const rule_case_t cases[] = {
    {"accepted", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    {"malformed: end before start", "2026-12-01T11:00:00+08:00", "2026-12-01T10:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "invalid_interval"},
    {"malformed: empty", "2026-12-01T11:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "invalid_interval"},
    /* in_past, and it wins over everything after it */
    {"in the past", "2026-11-30T07:30:00+08:00", "2026-11-30T07:45:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, "in_past"},
    {"past beats not_bookable", "2026-11-27T10:00:00+08:00", "2026-11-27T11:00:00+08:00", "none", 0, 1, 0, 0, 0, 0, 0,
     "in_past"},
    {"starting this second is not in_past", NOW, "2026-11-30T09:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "outside_open_hours"},
    /* not_bookable */
    {"retired", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 1, 0, 0, 0, 0, 0, "not_bookable"},
    {"share none", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", "none", 0, 0, 0, 0, 0, 0, 0,
     "not_bookable"},
    {"internal, outsider", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", "internal", 0, 0, 0, 1, 0, 0, 0,
     "not_bookable"},
    {"internal, own institution", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", "internal", 0, 0, 0, 0, 0,
     0, 0, NULL},
    {"awaiting repair", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, "awaiting_repair", 0, 0, 0, 0, 0,
     0, "not_bookable"},
    {"awaiting disposal", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, "awaiting_disposal", 0, 0, 0, 0,
     0, 0, "not_bookable"},
    {"frequent fault", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, "frequent_fault", 0, 0, 0, 0, 0, 0,
     "not_bookable"},
    {"standby", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, "standby", 0, 0, 0, 0, 0, 0, NULL},
    {"occasional fault", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, "occasional_fault", 0, 0, 0, 0, 0,
     0, NULL},
    {"not_bookable beats barred", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", "none", 0, 0, 0, 0, 3600, 0,
     0, "not_bookable"},
    /* barred */
    {"barred", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 1, 0, 0, "barred"},
    {"bar ended", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, -1, 0, 0, NULL},
    {"barred beats not_qualified", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 1, 0, 86400, 0, 0,
     "barred"},
    /* not_qualified */
    {"untrained", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 1, 0, 0, 0, 0, "not_qualified"},
    {"training expired before the start", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 1, 0, 0,
     -3600 * 24, 0, "not_qualified"},
    {"trained at the start", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 1, 0, 0, 1, 0, NULL},
    {"not_qualified beats off_step", "2026-12-01T10:10:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 1, 0, 0, 0, 0,
     "not_qualified"},
    /* off_step */
    {"start off the step", "2026-12-01T10:15:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "off_step"},
    {"end off the step", "2026-12-01T10:00:00+08:00", "2026-12-01T11:10:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, "off_step"},
    {"a second off", "2026-12-01T10:00:01+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, "off_step"},
    {"off_step beats too_short", "2026-12-01T10:00:00+08:00", "2026-12-01T10:15:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "off_step"},
    /* too_short / too_long */
    {"too short", "2026-12-01T10:00:00+08:00", "2026-12-01T10:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 60, "too_short"},
    {"exactly the minimum", "2026-12-01T10:00:00+08:00", "2026-12-01T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 60, NULL},
    {"exactly the maximum", "2026-12-01T09:00:00+08:00", "2026-12-01T17:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    {"too long", "2026-12-01T09:00:00+08:00", "2026-12-01T17:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, "too_long"},
    {"too_long beats outside_open_hours", "2026-12-01T06:00:00+08:00", "2026-12-01T16:00:00+08:00", 0, 0, 0, 0, 0, 0, 0,
     0, "too_long"},
    /* outside_open_hours */
    {"Saturday", "2026-12-05T10:00:00+08:00", "2026-12-05T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "outside_open_hours"},
    {"past closing", "2026-12-01T17:30:00+08:00", "2026-12-01T18:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "outside_open_hours"},
    {"before opening", "2026-12-01T08:30:00+08:00", "2026-12-01T09:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "outside_open_hours"},
    {"up to closing", "2026-12-01T17:00:00+08:00", "2026-12-01T18:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    {"outside beats too_soon", "2026-11-30T08:30:00+08:00", "2026-11-30T09:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "outside_open_hours"},
    /* too_soon: notice 2 h from 08:00 */
    {"too soon", "2026-11-30T09:30:00+08:00", "2026-11-30T10:30:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, "too_soon"},
    {"exactly the notice", "2026-11-30T10:00:00+08:00", "2026-11-30T11:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    /* too_far_ahead: 60 days from 2026-11-30 08:00 is 2027-01-29 08:00 */
    {"too far ahead", "2027-01-29T09:00:00+08:00", "2027-01-29T10:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0,
     "too_far_ahead"},
    {"within the horizon", "2027-01-28T17:00:00+08:00", "2027-01-28T18:00:00+08:00", 0, 0, 0, 0, 0, 0, 0, 0, NULL},
};

static void test_refusal_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rule_case_t *c = &cases[i];
        yq_instrument_t in = instrument();
        if (c->share_mode)
            in.share_mode = c->share_mode;
        if (c->run_status)
            in.run_status = c->run_status;
        in.requires_training = c->requires_training;
        if (c->min_minutes)
            in.min_minutes = c->min_minutes;
        int64_t now = T(NOW), start = T(c->start);
        yq_booking_request_t r = {
            .instrument = &in,
            .retired = c->retired,
            .start = start,
            .end = T(c->end),
            .now = now,
            .barred_until = c->barred_for ? now + c->barred_for : 0,
            .qualified_until = c->qualified_until ? start + c->qualified_until : 0,
            .outsider = c->outsider,
        };
        const yq_booking_refusal_t *got = yq_booking_check(&r);
        const char *code = got ? got->code : NULL;
        if ((code == NULL) != (c->want == NULL) || (code && strcmp(code, c->want) != 0))
            fail_msg("case '%s': got %s, want %s", c->name, code ? code : "(accepted)",
                     c->want ? c->want : "(accepted)");
        if (got) {
            assert_non_null(got->message);
            assert_ptr_equal(yq_booking_refusal(got->id), got);
        }
    }
}

static void test_exact_horizon_and_nulls(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    /* now 09:00, start exactly 60 days later (a Friday, 09:00): allowed. */
    yq_booking_request_t r = {.instrument = &in,
                              .now = T("2026-11-30T09:00:00+08:00"),
                              .start = T("2027-01-29T09:00:00+08:00"),
                              .end = T("2027-01-29T10:00:00+08:00")};
    assert_null(yq_booking_check(&r));
    r.now -= 1;
    assert_string_equal(yq_booking_check(&r)->code, "too_far_ahead");
    assert_string_equal(yq_booking_check(NULL)->code, "invalid_interval");
    r.instrument = NULL;
    assert_string_equal(yq_booking_check(&r)->code, "invalid_interval");
    assert_null(yq_booking_refusal(YQ_REFUSE_NONE));
    assert_string_equal(yq_booking_refusal(YQ_REFUSE_TOO_SOON)->code, "too_soon");
}

/* Spans chain: adjacent spans of one day, and across midnight. */
static void test_open_hours_chain(void **state) {
    (void)state;
    yq_instrument_t in = instrument();
    in.max_minutes = 1440;
    in.n_open_hours = 4;
    in.open_hours[0] = (yq_open_span_t){1, 9 * 60, 12 * 60};
    in.open_hours[1] = (yq_open_span_t){1, 12 * 60, 18 * 60};
    in.open_hours[2] = (yq_open_span_t){2, 18 * 60, 1440}; /* Tue evening to midnight */
    in.open_hours[3] = (yq_open_span_t){3, 0, 8 * 60};     /* Wed night */
    const yq_open_span_t *s = in.open_hours;
    assert_true(yq_open_hours_cover(s, 4, T("2026-12-07T10:00:00+08:00"), T("2026-12-07T14:00:00+08:00")));
    assert_true(yq_open_hours_cover(s, 4, T("2026-12-07T09:00:00+08:00"), T("2026-12-07T18:00:00+08:00")));
    assert_true(yq_open_hours_cover(s, 4, T("2026-12-08T22:00:00+08:00"), T("2026-12-09T02:00:00+08:00")));
    assert_true(yq_open_hours_cover(s, 4, T("2026-12-08T18:00:00+08:00"), T("2026-12-09T08:00:00+08:00")));
    assert_false(yq_open_hours_cover(s, 4, T("2026-12-08T18:00:00+08:00"), T("2026-12-09T08:30:00+08:00")));
    assert_false(yq_open_hours_cover(s, 4, T("2026-12-07T17:00:00+08:00"), T("2026-12-07T18:30:00+08:00")));
    assert_false(yq_open_hours_cover(s, 4, T("2026-12-07T10:00:00+08:00"), T("2026-12-07T10:00:00+08:00")));
    /* A gap between spans breaks the chain. */
    in.open_hours[1].from = 13 * 60;
    assert_false(yq_open_hours_cover(s, 4, T("2026-12-07T10:00:00+08:00"), T("2026-12-07T14:00:00+08:00")));
    assert_true(yq_open_hours_cover(s, 4, T("2026-12-07T13:00:00+08:00"), T("2026-12-07T14:00:00+08:00")));
    /* Wednesday opening at 01:00 leaves 00:00-01:00 closed. */
    in.open_hours[3].from = 60;
    assert_false(yq_open_hours_cover(s, 4, T("2026-12-08T22:00:00+08:00"), T("2026-12-09T02:00:00+08:00")));
    /* Through yq_booking_check too, with the midnight booking. */
    in.open_hours[3].from = 0;
    yq_booking_request_t r = {.instrument = &in,
                              .now = T(NOW),
                              .start = T("2026-12-08T22:00:00+08:00"),
                              .end = T("2026-12-09T02:00:00+08:00")};
    assert_null(yq_booking_check(&r));
}

static void test_slots(void **state) {
    (void)state;
    /* 90-minute slots from local midnight: 09:00 and 10:30 are on, 10:00 is not. */
    assert_true(yq_on_slot(T("2026-12-01T09:00:00+08:00"), 90));
    assert_true(yq_on_slot(T("2026-12-01T10:30:00+08:00"), 90));
    assert_false(yq_on_slot(T("2026-12-01T10:00:00+08:00"), 90));
    assert_true(yq_on_slot(T("2026-12-01T00:00:00+08:00"), 90));
    /* 16:00 UTC is local midnight. */
    assert_true(yq_on_slot(T("2026-12-01T16:00:00Z"), 720));
    assert_false(yq_on_slot(T("2026-12-01T12:00:00Z"), 720));
    /* slot 0 reads as whole minutes */
    assert_true(yq_on_slot(T("2026-12-01T10:07:00+08:00"), 0));
    assert_false(yq_on_slot(T("2026-12-01T10:07:30+08:00"), 0));
}

static void test_transitions(void **state) {
    (void)state;
    static const struct {
        const char *from, *to;
        int booker, pi, operator_, system;
    } t[] = {
        {"pending", "confirmed", 0, 1, 1, 0},   {"pending", "rejected", 0, 1, 1, 1},
        {"pending", "cancelled", 1, 0, 1, 1},   {"confirmed", "cancelled", 1, 0, 1, 1},
        {"confirmed", "in_use", 1, 0, 1, 0},    {"confirmed", "no_show", 0, 0, 1, 1},
        {"in_use", "completed", 1, 0, 1, 0},    {"pending", "in_use", 0, 0, 0, 0},
        {"confirmed", "completed", 0, 0, 0, 0}, {"in_use", "cancelled", 0, 0, 0, 0},
        {"completed", "cancelled", 0, 0, 0, 0}, {"cancelled", "confirmed", 0, 0, 0, 0},
        {"rejected", "pending", 0, 0, 0, 0},    {"no_show", "in_use", 0, 0, 0, 0},
        {"confirmed", "confirmed", 0, 0, 0, 0}, {"pending", "bogus", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int want[4] = {t[i].booker, t[i].pi, t[i].operator_, t[i].system};
        for (int a = YQ_ACTOR_BOOKER; a <= YQ_ACTOR_SYSTEM; a++)
            if (yq_booking_transition_allowed(t[i].from, t[i].to, (yq_actor_t)a) != want[a])
                fail_msg("%s -> %s by actor %d: want %d", t[i].from, t[i].to, a, want[a]);
        assert_int_equal(yq_booking_can_transition(t[i].from, t[i].to), want[0] | want[1] | want[2] | want[3]);
    }
    assert_false(yq_booking_can_transition(NULL, "confirmed"));
    assert_false(yq_booking_transition_allowed("pending", "confirmed", (yq_actor_t)9));
}

static void test_cancel_deadline(void **state) {
    (void)state;
    int64_t start = T("2026-12-02T10:00:00+08:00");
    /* 24 h deadline: before 2026-12-01 10:00 yes, at it no. */
    assert_true(yq_booking_cancel_allowed(start, 1440, start - 86400 - 1));
    assert_false(yq_booking_cancel_allowed(start, 1440, start - 86400));
    assert_false(yq_booking_cancel_allowed(start, 1440, start - 3600));
    assert_true(yq_booking_cancel_allowed(start, 0, start - 1));
    assert_false(yq_booking_cancel_allowed(start, 0, start));
    assert_true(yq_booking_can_cancel(start - 3600, start, 1440, 1)); /* operators at any time */
    assert_true(yq_booking_can_cancel(start + 3600, start, 1440, 1));
    assert_false(yq_booking_can_cancel(start - 3600, start, 1440, 0));
}

static void test_checkin_and_no_show(void **state) {
    (void)state;
    int64_t start = T("2026-12-02T10:00:00+08:00");
    assert_int_equal(yq_booking_checkin_check(start, start - 15 * 60 - 1), YQ_DOM_ETOO_EARLY);
    assert_int_equal(yq_booking_checkin_check(start, start - 15 * 60), 0);
    assert_int_equal(yq_booking_checkin_check(start, start), 0);
    assert_int_equal(yq_booking_checkin_check(start, start + 15 * 60), 0);
    assert_int_equal(yq_booking_checkin_check(start, start + 15 * 60 + 1), YQ_DOM_ETOO_LATE);
    assert_false(yq_booking_no_show_due(start, start + 15 * 60));
    assert_true(yq_booking_no_show_due(start, start + 15 * 60 + 1));
}

static void test_bar(void **state) {
    (void)state;
    int64_t now = T("2026-12-02T10:00:00+08:00"), day = 86400;
    assert_int_equal(yq_booking_bar_until(2, 0, now), 0);
    assert_int_equal(yq_booking_bar_until(3, 0, now), now + 30 * day);
    assert_int_equal(yq_booking_bar_until(4, 0, now), now + 30 * day);
    assert_int_equal(yq_booking_bar_until(3, now + 40 * day, now), now + 40 * day); /* a longer bar stays */
    /* From instants: the window is (now - 90 days, now]. */
    int64_t three[] = {now - 89 * day, now - 10 * day, now - 1};
    assert_int_equal(yq_booking_bar_from_no_shows(three, 3, 0, now), now + 30 * day);
    int64_t old[] = {now - 90 * day, now - 10 * day, now - 1};
    assert_int_equal(yq_booking_bar_from_no_shows(old, 3, 0, now), 0);
    int64_t future[] = {now + 1, now - 10 * day, now - 1};
    assert_int_equal(yq_booking_bar_from_no_shows(future, 3, 0, now), 0);
    assert_int_equal(yq_booking_bar_from_no_shows(NULL, 0, 5, now), 5);
    /* The window starts 90 days back, or when a bar was last lifted if later. */
    assert_int_equal(yq_booking_no_show_window_start(now, 0), now - 90 * day);
    assert_int_equal(yq_booking_no_show_window_start(now, now - 100 * day), now - 90 * day);
    assert_int_equal(yq_booking_no_show_window_start(now, now - 5 * day), now - 5 * day);
}

/* A history replayed no-show by no-show, as the sweep marks them 15 minutes
 * after each start (the demo's no-shows go through this). */
static void test_bar_replay(void **state) {
    (void)state;
    int64_t d0 = T("2026-03-02T10:00:00+08:00"), day = 86400, mark = 15 * 60;
    assert_int_equal(yq_booking_no_show_marked_at(d0), d0 + mark);
    int64_t s[] = {d0, d0 + 40 * day, d0 + 89 * day, d0 + 100 * day, d0 + 200 * day, d0 + 200 * day + 600};
    int64_t barred = 0;
    barred = yq_booking_bar_after_no_show(s, 1, barred);
    assert_int_equal(barred, 0);
    barred = yq_booking_bar_after_no_show(s, 2, barred);
    assert_int_equal(barred, 0);
    /* The third inside 90 days bars for 30 days from when it was marked. */
    barred = yq_booking_bar_after_no_show(s, 3, barred);
    assert_int_equal(barred, s[2] + mark + 30 * day);
    /* The fourth: the first has left the window, two remain with it: the
     * bar is renewed from this one. */
    barred = yq_booking_bar_after_no_show(s, 4, barred);
    assert_int_equal(barred, s[3] + mark + 30 * day);
    int64_t kept = barred;
    /* Two more, 100 days later: only two in the window, the old bar stays. */
    barred = yq_booking_bar_after_no_show(s, 5, barred);
    barred = yq_booking_bar_after_no_show(s, 6, barred);
    assert_int_equal(barred, kept);
    /* The first no-show of a window exactly 90 days back no longer counts. */
    int64_t edge[] = {d0, d0 + 10 * day, d0 + 90 * day - mark};
    assert_int_equal(yq_booking_bar_after_no_show(edge, 3, 0), 0);
    int64_t inside[] = {d0 + 1, d0 + 10 * day, d0 + 90 * day - mark};
    assert_int_equal(yq_booking_bar_after_no_show(inside, 3, 0), d0 + 90 * day + 30 * day);
    assert_int_equal(yq_booking_bar_after_no_show(NULL, 0, 7), 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal_table),       cmocka_unit_test(test_exact_horizon_and_nulls),
        cmocka_unit_test(test_open_hours_chain),    cmocka_unit_test(test_slots),
        cmocka_unit_test(test_transitions),         cmocka_unit_test(test_cancel_deadline),
        cmocka_unit_test(test_checkin_and_no_show), cmocka_unit_test(test_bar),
        cmocka_unit_test(test_bar_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
