/*
 * Statistics formulas; the definitions and the choices behind them are in
 * stats.h. Proration works in exact integers: a period's share of a year is
 * seconds / (days_in_year x 86400), and the shares of a 365- and a 366-day
 * year are put over the common denominator 365 x 366 so that one rounding
 * happens at the very end.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/errors.h"
#include "domain/stats.h"

int64_t yq_stats_count_positive(const yq_stats_tally_t *t, size_t n) {
    if (!n)
        return 0;
    /* Open addressing, linear probing, at most half full: one pass to sum
     * the counts per key, one over the table to count the positive sums. */
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    yq_stats_tally_t *h = yq_xmalloc(cap * sizeof *h);
    unsigned char *used = yq_xcalloc(cap, 1);
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(((uint64_t)t[i].key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
        while (used[j] && h[j].key != t[i].key)
            j = (j + 1) & (cap - 1);
        if (!used[j]) {
            used[j] = 1;
            h[j] = (yq_stats_tally_t){t[i].key, 0};
        }
        h[j].count += t[i].count;
    }
    int64_t keys = 0;
    for (size_t j = 0; j < cap; j++)
        keys += used[j] && h[j].count > 0;
    free(h);
    free(used);
    return keys;
}

static int add(int64_t *acc, int64_t v) {
    return __builtin_add_overflow(*acc, v, acc);
}

int yq_stats_instrument(int64_t owner_org_id, int64_t owner_zone_id, const yq_stats_row_t *rows, size_t n,
                        yq_stats_t *out) {
    if (!out || (!rows && n))
        return YQ_DOM_EINVAL;
    yq_stats_t s = {0};
    yq_stats_tally_t *users = yq_xmalloc((n ? n : 1) * sizeof *users), *orgs = yq_xmalloc((n ? n : 1) * sizeof *orgs);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const yq_stats_row_t *r = &rows[i];
        int64_t one = r->reversal ? -1 : 1;
        users[i] = (yq_stats_tally_t){r->user_id, one};
        orgs[i] = (yq_stats_tally_t){r->payer_org_id, one};
        s.uses += one;
        bad |= add(&s.used_minutes, r->minutes) | add(&s.samples, r->samples) | add(&s.fee_fen, r->fee_fen);
        if (r->payer_org_id != owner_org_id)
            bad |= add(&s.external_minutes, r->minutes);
        if (r->payer_zone_id != owner_zone_id)
            bad |= add(&s.cross_zone_minutes, r->minutes);
    }
    s.users = yq_stats_count_positive(users, n);
    s.orgs = yq_stats_count_positive(orgs, n);
    free(users);
    free(orgs);
    if (bad)
        return YQ_DOM_EOVERFLOW;
    *out = s;
    return 0;
}

int yq_stats_rated_hours_per_year(const char *category_type) {
    if (category_type && strcmp(category_type, "general") == 0)
        return YQ_RATED_HOURS_GENERAL;
    if (category_type && strcmp(category_type, "specialised") == 0)
        return YQ_RATED_HOURS_SPECIALISED;
    return YQ_DOM_EINVAL;
}

/* UTC instant of local midnight on 1 January of year y. */
static int64_t year_start(int y) {
    return yq_days_from_civil(y, 1, 1) * 86400 - YQ_LOCAL_OFFSET;
}

int64_t yq_stats_prorated_minutes(int64_t hours_per_year, int64_t from, int64_t to) {
    if (to < from || hours_per_year < 0)
        return YQ_DOM_EINVAL;
    /* minutes = sum over years of hours x seconds / (days x 1440); with the
     * denominator 365 x 366 x 1440 a year of `days` days weighs 731 - days
     * (366 for a common year, 365 for a leap year). */
    const int64_t den = 365LL * 366 * 1440;
    int y0, y1, m, d;
    yq_local_date(from, &y0, &m, &d);
    yq_local_date(to, &y1, &m, &d);
    int64_t num = 0;
    for (int y = y0; y <= y1; y++) {
        int64_t a = year_start(y), b = year_start(y + 1);
        int64_t days = (b - a) / 86400;
        int64_t lo = from > a ? from : a, hi = to < b ? to : b, term;
        if (hi <= lo)
            continue;
        if (__builtin_mul_overflow(hours_per_year, hi - lo, &term) || __builtin_mul_overflow(term, 731 - days, &term) ||
            __builtin_add_overflow(num, term, &num))
            return YQ_DOM_EOVERFLOW;
    }
    return num / den + (num % den * 2 >= den);
}

static int by_start(const void *a, const void *b) {
    const yq_stats_block_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

int64_t yq_stats_block_minutes(const yq_stats_block_t *blocks, size_t n, int64_t from, int64_t to) {
    if ((!blocks && n) || to < from)
        return YQ_DOM_EINVAL;
    yq_stats_block_t *b = yq_xmalloc((n ? n : 1) * sizeof *b);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lo = blocks[i].start > from ? blocks[i].start : from;
        int64_t hi = blocks[i].end < to ? blocks[i].end : to;
        if (hi > lo)
            b[m++] = (yq_stats_block_t){lo, hi};
    }
    qsort(b, m, sizeof *b, by_start);
    int64_t seconds = 0, reach = from;
    for (size_t i = 0; i < m; i++) {
        int64_t lo = b[i].start > reach ? b[i].start : reach;
        if (b[i].end > lo)
            seconds += b[i].end - lo;
        if (b[i].end > reach)
            reach = b[i].end;
    }
    free(b);
    return seconds / 60;
}

int64_t yq_stats_rated_minutes(const char *category_type, int64_t from, int64_t to, int64_t block_minutes) {
    int hours = yq_stats_rated_hours_per_year(category_type);
    if (hours < 0 || block_minutes < 0)
        return YQ_DOM_EINVAL;
    int64_t rated = yq_stats_prorated_minutes(hours, from, to);
    if (rated < 0)
        return rated;
    return rated > block_minutes ? rated - block_minutes : 0;
}

double yq_stats_utilisation(int64_t used_minutes, int64_t rated_minutes) {
    return rated_minutes > 0 ? (double)used_minutes / (double)rated_minutes : 0.0;
}

double yq_stats_share_rate(int64_t external_minutes, int64_t used_minutes) {
    return used_minutes > 0 ? (double)external_minutes / (double)used_minutes : 0.0;
}

int yq_stats_is_idle(int64_t used_minutes_90d, int64_t rated_minutes_90d) {
    if (rated_minutes_90d <= 0)
        return 0;
    /* used / rated < 1/10, compared without division or overflow. */
    return used_minutes_90d < rated_minutes_90d / 10 + (rated_minutes_90d % 10 != 0);
}

/* ---- Calendar keys ---- */

/* Floor division (instants before 1970 stay on the right day). */
static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t yq_stats_day_of(int64_t t) {
    return floor_div(t + YQ_LOCAL_OFFSET, 86400);
}

int64_t yq_stats_day_start(int64_t day) {
    return day * 86400 - YQ_LOCAL_OFFSET;
}

int yq_stats_month_of_day(int64_t day) {
    int y, m, d;
    yq_civil_from_days(day, &y, &m, &d);
    return y * 100 + m;
}

int yq_stats_month_of(int64_t t) {
    return yq_stats_month_of_day(yq_stats_day_of(t));
}

int64_t yq_stats_month_first_day(int month) {
    return yq_days_from_civil(month / 100, month % 100, 1);
}

int64_t yq_stats_month_start(int month) {
    return yq_stats_day_start(yq_stats_month_first_day(month));
}

int yq_stats_month_next(int month) {
    return month % 100 == 12 ? (month / 100 + 1) * 100 + 1 : month + 1;
}

/* ---- Range plans ---- */

static void push(yq_stats_seg_t *segs, int *n, int kind, int64_t lo, int64_t hi) {
    if (lo < hi)
        segs[(*n)++] = (yq_stats_seg_t){kind, lo, hi};
}

int yq_stats_plan(int64_t from, int64_t to, yq_stats_seg_t segs[YQ_STATS_MAX_SEGS]) {
    if (to < from)
        return YQ_DOM_EINVAL;
    int n = 0;
    int64_t d0 = yq_stats_day_of(from), d1 = yq_stats_day_of(to);
    if (yq_stats_day_start(d0) < from)
        d0++; /* the first whole day */
    if (d0 >= d1) {
        push(segs, &n, YQ_STATS_SEG_RAW, from, to);
        return n;
    }
    push(segs, &n, YQ_STATS_SEG_RAW, from, yq_stats_day_start(d0));
    int m0 = yq_stats_month_of_day(d0), m1 = yq_stats_month_of_day(d1);
    if (yq_stats_month_first_day(m0) < d0)
        m0 = yq_stats_month_next(m0); /* the first whole month */
    if (m0 < m1) {
        push(segs, &n, YQ_STATS_SEG_DAY, d0, yq_stats_month_first_day(m0));
        push(segs, &n, YQ_STATS_SEG_MONTH, m0, m1);
        push(segs, &n, YQ_STATS_SEG_DAY, yq_stats_month_first_day(m1), d1);
    } else {
        push(segs, &n, YQ_STATS_SEG_DAY, d0, d1);
    }
    push(segs, &n, YQ_STATS_SEG_RAW, yq_stats_day_start(d1), to);
    return n;
}

void yq_stats_in_service(int64_t from, int64_t to, int64_t since, int64_t until, int64_t *lo, int64_t *hi) {
    *lo = since > from ? since : from;
    *hi = until > 0 && until < to ? until : to;
    if (*hi < *lo)
        *hi = *lo;
}

/* ---- Bookings ---- */

int64_t yq_stats_bookings_total(const yq_stats_bookings_t *b) {
    return b->pending + b->confirmed + b->in_use + b->completed + b->rejected + b->cancelled + b->no_show;
}

double yq_stats_no_show_rate(const yq_stats_bookings_t *b) {
    int64_t due = b->completed + b->in_use + b->no_show;
    return due > 0 ? (double)b->no_show / (double)due : 0.0;
}

double yq_stats_cancellation_rate(const yq_stats_bookings_t *b) {
    int64_t total = yq_stats_bookings_total(b);
    return total > 0 ? (double)b->cancelled / (double)total : 0.0;
}

int yq_stats_bookings_add(yq_stats_bookings_t *b, const char *status, int64_t n) {
    static const struct {
        const char *name;
        size_t offset;
    } map[] = {
        {"pending", offsetof(yq_stats_bookings_t, pending)},   {"confirmed", offsetof(yq_stats_bookings_t, confirmed)},
        {"in_use", offsetof(yq_stats_bookings_t, in_use)},     {"completed", offsetof(yq_stats_bookings_t, completed)},
        {"rejected", offsetof(yq_stats_bookings_t, rejected)}, {"cancelled", offsetof(yq_stats_bookings_t, cancelled)},
        {"no_show", offsetof(yq_stats_bookings_t, no_show)},
    };
    for (size_t i = 0; status && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(status, map[i].name) == 0) {
            *(int64_t *)((char *)b + map[i].offset) += n;
            return 0;
        }
    return YQ_DOM_EINVAL;
}
