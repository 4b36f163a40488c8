/*
 * Statistics formulas; the definitions and the choices behind them are in
 * stats.h. Proration works in exact integers: a period's share of a year is
 * seconds / (days_in_year x 86400), and the shares of a 365- and a 366-day
 * year are put over the common denominator 365 x 366 so that one rounding
 * happens at the very end.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/errors.h"
#include "domain/stats.h"

typedef struct {
    int64_t key, count;
} tally_t;

static int by_key(const void *a, const void *b) {
    const tally_t *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* Sorts the tallies, sums the counts of equal keys and returns how many keys
 * end with a positive count. */
static int64_t positive_keys(tally_t *t, size_t n) {
    qsort(t, n, sizeof *t, by_key);
    int64_t keys = 0;
    for (size_t i = 0; i < n;) {
        int64_t sum = 0, key = t[i].key;
        for (; i < n && t[i].key == key; i++)
            sum += t[i].count;
        keys += sum > 0;
    }
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
    tally_t *users = yq_xmalloc((n ? n : 1) * sizeof *users), *orgs = yq_xmalloc((n ? n : 1) * sizeof *orgs);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const yq_stats_row_t *r = &rows[i];
        int64_t one = r->reversal ? -1 : 1;
        users[i] = (tally_t){r->user_id, one};
        orgs[i] = (tally_t){r->payer_org_id, one};
        s.uses += one;
        bad |= add(&s.used_minutes, r->minutes) | add(&s.samples, r->samples) | add(&s.fee_fen, r->fee_fen);
        if (r->payer_org_id != owner_org_id)
            bad |= add(&s.external_minutes, r->minutes);
        if (r->payer_zone_id != owner_zone_id)
            bad |= add(&s.cross_zone_minutes, r->minutes);
    }
    s.users = positive_keys(users, n);
    s.orgs = positive_keys(orgs, n);
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
