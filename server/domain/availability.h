/*
 * Availability (API.md "Availability"): an instrument's busy and free time
 * over a range of at most 62 days, and the first free slot of a wanted
 * length. Pure: the caller reads the live bookings and blocks from storage
 * and passes them in (in any order, overlapping or not, possibly reaching
 * beyond the range); the result is computed by one sweep over their
 * boundaries and the open-hour boundaries, O(n log n).
 *
 * The result partitions [from, to): every instant is either busy with one
 * kind or free. Where kinds overlap the strongest wins: block, then
 * booking, then closed (outside the open hours), so a booking left outside
 * changed open hours still shows as a booking. Adjacent intervals of one
 * kind merge; free intervals are the open time no booking or block holds,
 * not trimmed to the slot step (a free gap may start off the step when a
 * booking was made under an older step).
 */
#ifndef YQ_DOMAIN_AVAILABILITY_H
#define YQ_DOMAIN_AVAILABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "domain/instrument_rules.h"

#define YQ_AVAIL_MAX_SECONDS (62 * 86400LL)

/* Busy kinds, weakest first. */
enum { YQ_BUSY_CLOSED = 0, YQ_BUSY_BOOKING = 1, YQ_BUSY_BLOCK = 2 };

/* A half-open interval [start, end) of UTC seconds with a busy kind. */
typedef struct {
    int64_t start, end;
    int kind; /* YQ_BUSY_*; ignored in free lists */
} yq_busy_t;

/* The result; busy and free are malloc'd (NULL when empty) and released by
 * yq_avail_free. Both are sorted by start and do not overlap. */
typedef struct {
    yq_busy_t *busy;
    size_t n_busy;
    yq_busy_t *free;
    size_t n_free;
} yq_avail_t;

/* The kind's API name: "closed", "booking" or "block". */
const char *yq_busy_kind_name(int kind);

/* Computes the busy and free intervals of [from, to) for the instrument's
 * open hours and the taken intervals (kind YQ_BUSY_BOOKING or
 * YQ_BUSY_BLOCK; entries with end <= start or another kind are ignored).
 * Returns 0 and fills *out (the caller then calls yq_avail_free);
 * YQ_DOM_EINVAL when to <= from or an argument is NULL (taken may be NULL
 * with n 0); YQ_DOM_ERANGE_TOO_LONG when to - from > 62 days. On failure
 * *out is emptied and needs no yq_avail_free (calling it is harmless).
 * Aborts only when out of memory (core/alloc.h). */
int yq_availability(const yq_instrument_t *in, int64_t from, int64_t to, const yq_busy_t *taken, size_t n,
                    yq_avail_t *out);

/* The first instant a booking could start: now + notice, rounded up to the
 * slot step from local midnight. */
int64_t yq_avail_bookable_from(const yq_instrument_t *in, int64_t now);

/* Drops the free time before not_before from a result (the past, and the
 * notice period, are not free to book); busy intervals are kept. */
void yq_avail_clip_free(yq_avail_t *av, int64_t not_before);

/* Releases the arrays of a result and empties it; safe on an emptied one. */
void yq_avail_free(yq_avail_t *av);

/* The earliest start s in [from, to) such that a booking [s, s + minutes)
 * would pass the instrument's time rules and meet nothing taken: s and the
 * end on the slot step from local midnight, minutes within min_minutes ...
 * max_minutes, the whole interval in open hours, s >= now + notice and
 * s <= now + horizon, and no overlap with any taken interval (which should
 * therefore cover [from, to + minutes)). It does not check who books
 * (bar, training, share mode): that is yq_booking_check's work.
 * Returns 0 with *start set; YQ_DOM_ENOT_FOUND when there is no such start
 * (also when minutes is not a multiple of the slot or outside min/max);
 * YQ_DOM_EINVAL for NULL arguments, to <= from or minutes <= 0;
 * YQ_DOM_ERANGE_TOO_LONG when to - from > 62 days. */
int yq_avail_first_slot(const yq_instrument_t *in, int64_t from, int64_t to, int64_t now, int64_t minutes,
                        const yq_busy_t *taken, size_t n, int64_t *start);

#endif
