/*
 * Availability by one sweep: every boundary (open spans of each local day
 * in the range, taken intervals clipped to it) becomes an event that raises
 * or lowers a counter per kind; between two consecutive event instants the
 * counters say what the time is, and equal neighbours merge as they are
 * appended. The first-slot search walks the free intervals of the same
 * sweep. See availability.h for the rules.
 */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/availability.h"
#include "domain/errors.h"

enum { EV_OPEN = 3, FREE = -1 };

typedef struct {
    int64_t t;
    int kind; /* YQ_BUSY_BOOKING, YQ_BUSY_BLOCK or EV_OPEN */
    int delta;
} event_t;

typedef struct {
    event_t *ev;
    size_t n, cap;
} events_t;

const char *yq_busy_kind_name(int kind) {
    return kind == YQ_BUSY_BOOKING ? "booking" : kind == YQ_BUSY_BLOCK ? "block" : "closed";
}

static void push_interval(events_t *e, int64_t start, int64_t end, int kind, int64_t from, int64_t to) {
    if (start < from)
        start = from;
    if (end > to)
        end = to;
    if (end <= start)
        return;
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->ev = yq_xrealloc(e->ev, e->cap * sizeof *e->ev);
    }
    e->ev[e->n++] = (event_t){start, kind, 1};
    e->ev[e->n++] = (event_t){end, kind, -1};
}

static int by_time(const void *a, const void *b) {
    const event_t *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static void append(yq_busy_t **arr, size_t *n, int64_t start, int64_t end, int kind) {
    if (*n && (*arr)[*n - 1].end == start && (*arr)[*n - 1].kind == kind) {
        (*arr)[*n - 1].end = end;
        return;
    }
    if ((*n & (*n - 1)) == 0) /* 0, 1, 2, 4, ...: grow to the next power of two */
        *arr = yq_xrealloc(*arr, (*n ? *n * 2 : 1) * sizeof **arr);
    (*arr)[(*n)++] = (yq_busy_t){start, end, kind};
}

/* The sweep over [from, to) without the range limit (checked by callers). */
static void sweep(const yq_instrument_t *in, int64_t from, int64_t to, const yq_busy_t *taken, size_t n,
                  yq_avail_t *out) {
    events_t e = {0};
    for (int64_t day = yq_local_midnight(from); day < to; day += 86400) {
        int weekday = yq_local_weekday(day);
        for (size_t i = 0; i < in->n_open_hours; i++)
            if (in->open_hours[i].weekday == weekday)
                push_interval(&e, day + (int64_t)in->open_hours[i].from * 60, day + (int64_t)in->open_hours[i].to * 60,
                              EV_OPEN, from, to);
    }
    for (size_t i = 0; taken && i < n; i++)
        if (taken[i].kind == YQ_BUSY_BOOKING || taken[i].kind == YQ_BUSY_BLOCK)
            push_interval(&e, taken[i].start, taken[i].end, taken[i].kind, from, to);
    if (e.n)
        qsort(e.ev, e.n, sizeof *e.ev, by_time);
    int count[4] = {0};
    size_t i = 0;
    for (int64_t cur = from; cur < to;) {
        for (; i < e.n && e.ev[i].t <= cur; i++)
            count[e.ev[i].kind] += e.ev[i].delta;
        int64_t next = i < e.n && e.ev[i].t < to ? e.ev[i].t : to;
        int kind = count[YQ_BUSY_BLOCK]     ? YQ_BUSY_BLOCK
                   : count[YQ_BUSY_BOOKING] ? YQ_BUSY_BOOKING
                   : count[EV_OPEN]         ? FREE
                                            : YQ_BUSY_CLOSED;
        if (kind == FREE)
            append(&out->free, &out->n_free, cur, next, 0);
        else
            append(&out->busy, &out->n_busy, cur, next, kind);
        cur = next;
    }
    free(e.ev);
}

static int check_range(const yq_instrument_t *in, int64_t from, int64_t to) {
    if (!in || to <= from)
        return YQ_DOM_EINVAL;
    return to - from > YQ_AVAIL_MAX_SECONDS ? YQ_DOM_ERANGE_TOO_LONG : 0;
}

int yq_availability(const yq_instrument_t *in, int64_t from, int64_t to, const yq_busy_t *taken, size_t n,
                    yq_avail_t *out) {
    if (!out)
        return YQ_DOM_EINVAL;
    *out = (yq_avail_t){0};
    int rc = check_range(in, from, to);
    if (rc)
        return rc;
    sweep(in, from, to, taken, n, out);
    return 0;
}

void yq_avail_free(yq_avail_t *av) {
    if (!av)
        return;
    free(av->busy);
    free(av->free);
    *av = (yq_avail_t){0};
}

/* The first instant >= t on the slot step counted from t's local midnight. */
static int64_t ceil_to_step(int64_t t, int64_t step) {
    int64_t midnight = yq_local_midnight(t), into = t - midnight;
    int64_t s = midnight + (into + step - 1) / step * step;
    return s < midnight + 86400 ? s : midnight + 86400;
}

int64_t yq_avail_bookable_from(const yq_instrument_t *in, int64_t now) {
    int64_t step = (in->slot_minutes > 0 ? in->slot_minutes : 1) * 60;
    return ceil_to_step(now + in->notice_minutes * 60, step);
}

void yq_avail_clip_free(yq_avail_t *av, int64_t not_before) {
    size_t k = 0;
    for (size_t i = 0; i < av->n_free; i++) {
        yq_busy_t f = av->free[i];
        if (f.end <= not_before)
            continue;
        if (f.start < not_before)
            f.start = not_before;
        av->free[k++] = f;
    }
    av->n_free = k;
}

int yq_avail_first_slot(const yq_instrument_t *in, int64_t from, int64_t to, int64_t now, int64_t minutes,
                        const yq_busy_t *taken, size_t n, int64_t *start) {
    if (!start || minutes <= 0)
        return YQ_DOM_EINVAL;
    int rc = check_range(in, from, to);
    if (rc)
        return rc;
    int64_t slot = in->slot_minutes > 0 ? in->slot_minutes : 1;
    if (minutes % slot || minutes < in->min_minutes || (in->max_minutes > 0 && minutes > in->max_minutes))
        return YQ_DOM_ENOT_FOUND;
    int64_t len = minutes * 60, step = slot * 60;
    int64_t earliest = now + in->notice_minutes * 60, latest = now + in->horizon_days * 86400;
    if (earliest < from)
        earliest = from;
    if (latest > to - 1)
        latest = to - 1;
    if (earliest > latest)
        return YQ_DOM_ENOT_FOUND;
    yq_avail_t av = {0};
    sweep(in, earliest, latest + len, taken, n, &av);
    rc = YQ_DOM_ENOT_FOUND;
    for (size_t i = 0; i < av.n_free && rc; i++) {
        int64_t s = ceil_to_step(av.free[i].start, step);
        if (s <= latest && s + len <= av.free[i].end) {
            *start = s;
            rc = 0;
        }
    }
    yq_avail_free(&av);
    return rc;
}
