/*
 * Booking rules (DOMAIN.md "Bookings"; API.md "Slots", "Which refusal
 * wins"): whether a booking request may be made, the booking state machine,
 * the cancellation deadline, the check-in window, no-shows and the bar.
 * Pure: instants are int64 UTC seconds, local time is Asia/Shanghai (fixed
 * +8, core/timeutil.h); nothing here reads the clock or the database.
 *
 * Decisions the documents leave open, written down once:
 * - in_past: start < now (a booking may start at this very second).
 * - not_bookable: retired; share_mode none; run_status other than normal,
 *   standby or occasional_fault (frequent_fault, awaiting_repair and
 *   awaiting_disposal cannot be booked: yq_instrument_bookable); share_mode
 *   internal when the requester is from another institution.
 * - barred: barred_until > now. not_qualified: training is required and the
 *   qualification does not still count at the booking's start
 *   (qualified_until <= start; 0 means none).
 * - off_step: start and end must be whole multiples of slot_minutes counted
 *   from local midnight (slot_minutes <= 0 is read as 1 minute).
 * - too_short / too_long: the length in minutes against min_minutes and
 *   max_minutes (max_minutes <= 0: no upper bound).
 * - outside_open_hours: every instant of [start, end) lies in an open span
 *   of its local weekday. Spans chain: Mon 09:00-12:00 + 12:00-18:00 hold a
 *   10:00-14:00 booking, and a night booking may run across midnight when the
 *   first day is open to 24:00 and the next from 00:00.
 * - too_soon: start < now + notice; too_far_ahead: start > now + horizon
 *   (both measured from now to start, the limits themselves allowed).
 * - slot_taken is storage's answer (the trigger of migration 030), not ours.
 */
#ifndef YQ_DOMAIN_BOOKING_RULES_H
#define YQ_DOMAIN_BOOKING_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "domain/instrument_rules.h"

#define YQ_CHECKIN_EARLY_SECONDS (15 * 60)       /* check-in opens 15 min before the start */
#define YQ_NO_SHOW_SECONDS (15 * 60)             /* no check-in by start + 15 min: no_show */
#define YQ_NO_SHOW_LIMIT 3                       /* no-shows within the window that bar */
#define YQ_NO_SHOW_WINDOW_SECONDS (90 * 86400LL) /* the window: 90 days */
#define YQ_BAR_SECONDS (30 * 86400LL)            /* the bar lasts 30 days */

/* Refusals, in the order API.md checks them. */
typedef enum {
    YQ_REFUSE_NONE = 0,
    YQ_REFUSE_INVALID, /* end <= start or a NULL instrument: malformed input */
    YQ_REFUSE_IN_PAST,
    YQ_REFUSE_NOT_BOOKABLE,
    YQ_REFUSE_BARRED,
    YQ_REFUSE_NOT_QUALIFIED,
    YQ_REFUSE_OFF_STEP,
    YQ_REFUSE_TOO_SHORT,
    YQ_REFUSE_TOO_LONG,
    YQ_REFUSE_OUTSIDE_OPEN_HOURS,
    YQ_REFUSE_TOO_SOON,
    YQ_REFUSE_TOO_FAR_AHEAD,
} yq_refusal_id_t;

/* A refusal: its id, its API error code ("too_soon") and an English
 * sentence for the error message. Static storage. */
typedef struct {
    yq_refusal_id_t id;
    const char *code;
    const char *message;
} yq_booking_refusal_t;

/* One booking request and the facts the rules need. The instrument
 * supplies open_hours, slot_minutes, min/max_minutes, notice_minutes,
 * horizon_days, requires_training, share_mode and run_status. */
typedef struct {
    const yq_instrument_t *instrument;
    int retired;             /* 1 when the instrument is retired */
    int64_t start, end, now; /* UTC seconds */
    int64_t barred_until;    /* the requester's bar (0: none) */
    int64_t qualified_until; /* the requester's training expiry on this instrument (0: none) */
    int outsider;            /* 1 when the requester's institution is not the owner's */
} yq_booking_request_t;

/* The first refusal that applies to r, in API.md's order (in_past,
 * not_bookable, barred, not_qualified, off_step, too_short/too_long,
 * outside_open_hours, too_soon, too_far_ahead), or NULL when the booking may
 * be made (storage still checks slot_taken). A NULL r or instrument, or
 * end <= start, gives the YQ_REFUSE_INVALID refusal (code
 * "invalid_interval"). Never fails otherwise. */
const yq_booking_refusal_t *yq_booking_check(const yq_booking_request_t *r);

/* The refusal of an id (static), or NULL for YQ_REFUSE_NONE / unknown ids. */
const yq_booking_refusal_t *yq_booking_refusal(yq_refusal_id_t id);

/* 1 when every instant of [start, end) lies in the instrument's open hours
 * (spans chained as described above), else 0 (also for end <= start). */
int yq_open_hours_cover(const yq_open_span_t *spans, size_t n, int64_t start, int64_t end);

/* 1 when t is a whole multiple of slot_minutes from its local midnight. */
int yq_on_slot(int64_t t, int64_t slot_minutes);

/* ---- state machine ------------------------------------------------------ */

/* Who asks for a transition. */
typedef enum {
    YQ_ACTOR_BOOKER,   /* the researcher who made the booking */
    YQ_ACTOR_PI,       /* the PI of the booking's group (approval) */
    YQ_ACTOR_OPERATOR, /* an operator of the owner institution, or an admin */
    YQ_ACTOR_SYSTEM,   /* the server itself: no-show sweep, expiry, maintenance blocks */
} yq_actor_t;

/* Transitions (statuses as the bookings.status column spells them):
 *   pending   -> confirmed  PI, operator (the last approval confirms)
 *   pending   -> rejected   PI, operator; system (not approved before the start)
 *   pending   -> cancelled  booker, operator; system (a maintenance block)
 *   confirmed -> cancelled  booker, operator; system (a maintenance block)
 *   confirmed -> in_use     booker, operator (check-in)
 *   confirmed -> no_show    operator, system (no check-in by start + 15 min)
 *   in_use    -> completed  booker, operator (check-out)
 * Everything else is refused; completed, rejected, cancelled and no_show are
 * final. Returns 1 when actor may move a booking from `from` to `to`, else 0
 * (also for unknown or NULL statuses). Time conditions are separate:
 * yq_booking_cancel_allowed, yq_booking_checkin_check, yq_booking_no_show_due. */
int yq_booking_transition_allowed(const char *from, const char *to, yq_actor_t actor);

/* 1 when some actor may make the transition (the table above). */
int yq_booking_can_transition(const char *from, const char *to);

/* 1 when the booker may still cancel a booking starting at start: now is
 * strictly before start - deadline_minutes. Never fails. */
int yq_booking_cancel_allowed(int64_t start, int64_t deadline_minutes, int64_t now);

/* The same with the actor's say: operators may cancel at any time (the
 * state machine still applies), others only before the deadline. */
int yq_booking_can_cancel(int64_t now, int64_t start, int64_t deadline_minutes, int is_operator);

/* Check-in window: from start - 15 min to start + 15 min, both included.
 * Returns 0 inside it, YQ_DOM_ETOO_EARLY before, YQ_DOM_ETOO_LATE after. */
int yq_booking_checkin_check(int64_t start, int64_t now);

/* 1 when a confirmed booking starting at start without a check-in becomes a
 * no_show: now > start + 15 min. */
int yq_booking_no_show_due(int64_t start, int64_t now);

/* ---- the bar -------------------------------------------------------------- */

/* The bar after a no-show: with at least 3 no-shows in the 90 days up to now
 * (count, counted by the caller), the bar runs to now + 30 days, unless an
 * existing bar already runs longer. Returns the new barred_until (equal to
 * barred_until when nothing changes). Never fails. */
int64_t yq_booking_bar_until(int64_t count, int64_t barred_until, int64_t now);

/* Where the no-shows that count start: the 90 days up to now, but not before
 * an admin last lifted a bar (bar_lifted_at, 0: never). Lifting a bar forgives
 * the no-shows that led to it; otherwise the next no-show, one of three still
 * inside the window, would bar the user again at once. Counted: no-shows of
 * bookings that start after the returned instant. */
int64_t yq_booking_no_show_window_start(int64_t now, int64_t bar_lifted_at);

/* The same from the no-show instants themselves (the bookings' starts, in any
 * order): counts those in (now - 90 days, now]. */
int64_t yq_booking_bar_from_no_shows(const int64_t *no_show_starts, size_t n, int64_t barred_until, int64_t now);

/* The instant the no-show sweep marks a confirmed booking that starts at start
 * and is not checked in: 15 minutes after the start (YQ_NO_SHOW_SECONDS). The
 * sweep runs every 30 seconds, so this is when a server that is up marks it. */
int64_t yq_booking_no_show_marked_at(int64_t start);

/* The bar as the sweep leaves it after marking the last of a user's no-shows,
 * for replaying a history (the demo's): starts holds the user's no-shows in
 * order of start, the newest last; the sweep marked each at
 * yq_booking_no_show_marked_at(start) and then counted those already marked,
 * so the newest is counted with the ones before it at that instant.
 * barred_until is the bar before it (0: none). Returns the new barred_until;
 * when it grew, the bar runs from yq_booking_no_show_marked_at(starts[n - 1]).
 * Never fails. */
int64_t yq_booking_bar_after_no_show(const int64_t *starts, size_t n, int64_t barred_until);

#endif
