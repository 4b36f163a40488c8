/*
 * Booking rules: the checks of a request in API.md's order, the state
 * machine as a table, and the time conditions around it. The decisions
 * behind each rule are listed in booking_rules.h.
 */
#include <string.h>

#include "core/timeutil.h"
#include "domain/booking_rules.h"
#include "domain/errors.h"

static const yq_booking_refusal_t refusals[] = {
    {YQ_REFUSE_NONE, "", ""},
    {YQ_REFUSE_INVALID, "invalid_interval", "The end must come after the start."},
    {YQ_REFUSE_IN_PAST, "in_past", "The start is in the past."},
    {YQ_REFUSE_NOT_BOOKABLE, "not_bookable",
     "This instrument cannot be booked (not shared, out of service or retired)."},
    {YQ_REFUSE_BARRED, "barred", "Booking is suspended after repeated no-shows."},
    {YQ_REFUSE_NOT_QUALIFIED, "not_qualified", "This instrument requires training you do not (yet) hold."},
    {YQ_REFUSE_OFF_STEP, "off_step", "Start and end must fall on the instrument's slot step."},
    {YQ_REFUSE_TOO_SHORT, "too_short", "The booking is shorter than the instrument's minimum."},
    {YQ_REFUSE_TOO_LONG, "too_long", "The booking is longer than the instrument's maximum."},
    {YQ_REFUSE_OUTSIDE_OPEN_HOURS, "outside_open_hours", "The booking lies outside the instrument's open hours."},
    {YQ_REFUSE_TOO_SOON, "too_soon", "The booking starts too soon: the instrument needs more notice."},
    {YQ_REFUSE_TOO_FAR_AHEAD, "too_far_ahead", "The booking starts beyond the instrument's booking horizon."},
};

const yq_booking_refusal_t *yq_booking_refusal(yq_refusal_id_t id) {
    if (id <= YQ_REFUSE_NONE || (size_t)id >= sizeof refusals / sizeof refusals[0])
        return NULL;
    return &refusals[id];
}

int yq_on_slot(int64_t t, int64_t slot_minutes) {
    int64_t step = (slot_minutes > 0 ? slot_minutes : 1) * 60;
    return (t - yq_local_midnight(t)) % step == 0;
}

int yq_open_hours_cover(const yq_open_span_t *spans, size_t n, int64_t start, int64_t end) {
    if (end <= start)
        return 0;
    int64_t t = start;
    while (t < end) {
        int64_t midnight = yq_local_midnight(t);
        int64_t second = t - midnight;
        int weekday = yq_local_weekday(t);
        int reach = -1; /* the furthest end, in minutes, of a span holding t */
        for (size_t i = 0; i < n; i++) {
            const yq_open_span_t *s = &spans[i];
            if (s->weekday == weekday && (int64_t)s->from * 60 <= second && second < (int64_t)s->to * 60 &&
                s->to > reach)
                reach = s->to;
        }
        if (reach < 0)
            return 0;
        t = midnight + (int64_t)reach * 60; /* > t: the span holds t */
    }
    return 1;
}

static const yq_booking_refusal_t *refuse(yq_refusal_id_t id) {
    return &refusals[id];
}

const yq_booking_refusal_t *yq_booking_check(const yq_booking_request_t *r) {
    if (!r || !r->instrument || r->end <= r->start)
        return refuse(YQ_REFUSE_INVALID);
    const yq_instrument_t *in = r->instrument;
    if (r->start < r->now)
        return refuse(YQ_REFUSE_IN_PAST);
    if (!yq_instrument_bookable(in->share_mode, in->run_status, r->retired) ||
        (r->outsider && in->share_mode && strcmp(in->share_mode, "internal") == 0))
        return refuse(YQ_REFUSE_NOT_BOOKABLE);
    if (r->barred_until > r->now)
        return refuse(YQ_REFUSE_BARRED);
    if (in->requires_training && r->qualified_until <= r->start)
        return refuse(YQ_REFUSE_NOT_QUALIFIED);
    if (!yq_on_slot(r->start, in->slot_minutes) || !yq_on_slot(r->end, in->slot_minutes))
        return refuse(YQ_REFUSE_OFF_STEP);
    int64_t minutes = (r->end - r->start) / 60; /* whole: both ends are on the step */
    if (minutes < in->min_minutes)
        return refuse(YQ_REFUSE_TOO_SHORT);
    if (in->max_minutes > 0 && minutes > in->max_minutes)
        return refuse(YQ_REFUSE_TOO_LONG);
    if (!yq_open_hours_cover(in->open_hours, in->n_open_hours, r->start, r->end))
        return refuse(YQ_REFUSE_OUTSIDE_OPEN_HOURS);
    if (r->start < r->now + in->notice_minutes * 60)
        return refuse(YQ_REFUSE_TOO_SOON);
    if (r->start > r->now + in->horizon_days * 86400)
        return refuse(YQ_REFUSE_TOO_FAR_AHEAD);
    return NULL;
}

/* ---- state machine ------------------------------------------------------ */

#define A_BOOKER (1u << YQ_ACTOR_BOOKER)
#define A_PI (1u << YQ_ACTOR_PI)
#define A_OPERATOR (1u << YQ_ACTOR_OPERATOR)
#define A_SYSTEM (1u << YQ_ACTOR_SYSTEM)

static const struct {
    const char *from, *to;
    unsigned actors;
} transitions[] = {
    {"pending", "confirmed", A_PI | A_OPERATOR},
    {"pending", "rejected", A_PI | A_OPERATOR | A_SYSTEM},
    {"pending", "cancelled", A_BOOKER | A_OPERATOR | A_SYSTEM},
    {"confirmed", "cancelled", A_BOOKER | A_OPERATOR | A_SYSTEM},
    {"confirmed", "in_use", A_BOOKER | A_OPERATOR},
    {"confirmed", "no_show", A_OPERATOR | A_SYSTEM},
    {"in_use", "completed", A_BOOKER | A_OPERATOR},
};

static unsigned actors_of(const char *from, const char *to) {
    if (!from || !to)
        return 0;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (strcmp(transitions[i].from, from) == 0 && strcmp(transitions[i].to, to) == 0)
            return transitions[i].actors;
    return 0;
}

int yq_booking_transition_allowed(const char *from, const char *to, yq_actor_t actor) {
    if ((unsigned)actor > YQ_ACTOR_SYSTEM)
        return 0;
    return (actors_of(from, to) & (1u << actor)) != 0;
}

int yq_booking_can_transition(const char *from, const char *to) {
    return actors_of(from, to) != 0;
}

int yq_booking_cancel_allowed(int64_t start, int64_t deadline_minutes, int64_t now) {
    return now < start - deadline_minutes * 60;
}

int yq_booking_can_cancel(int64_t now, int64_t start, int64_t deadline_minutes, int is_operator) {
    return is_operator || yq_booking_cancel_allowed(start, deadline_minutes, now);
}

int yq_booking_checkin_check(int64_t start, int64_t now) {
    if (now < start - YQ_CHECKIN_EARLY_SECONDS)
        return YQ_DOM_ETOO_EARLY;
    if (now > start + YQ_NO_SHOW_SECONDS)
        return YQ_DOM_ETOO_LATE;
    return 0;
}

int yq_booking_no_show_due(int64_t start, int64_t now) {
    return now > start + YQ_NO_SHOW_SECONDS;
}

/* ---- the bar -------------------------------------------------------------- */

int64_t yq_booking_bar_until(int64_t count, int64_t barred_until, int64_t now) {
    if (count < YQ_NO_SHOW_LIMIT)
        return barred_until;
    int64_t until = now + YQ_BAR_SECONDS;
    return until > barred_until ? until : barred_until;
}

int64_t yq_booking_no_show_window_start(int64_t now, int64_t bar_lifted_at) {
    int64_t start = now - YQ_NO_SHOW_WINDOW_SECONDS;
    return bar_lifted_at > start ? bar_lifted_at : start;
}

int64_t yq_booking_bar_from_no_shows(const int64_t *no_show_starts, size_t n, int64_t barred_until, int64_t now) {
    int64_t count = 0;
    for (size_t i = 0; no_show_starts && i < n; i++)
        if (no_show_starts[i] > now - YQ_NO_SHOW_WINDOW_SECONDS && no_show_starts[i] <= now)
            count++;
    return yq_booking_bar_until(count, barred_until, now);
}

int64_t yq_booking_no_show_marked_at(int64_t start) {
    return start + YQ_NO_SHOW_SECONDS;
}

int64_t yq_booking_bar_after_no_show(const int64_t *starts, size_t n, int64_t barred_until) {
    if (!starts || !n)
        return barred_until;
    return yq_booking_bar_from_no_shows(starts, n, barred_until, yq_booking_no_show_marked_at(starts[n - 1]));
}
