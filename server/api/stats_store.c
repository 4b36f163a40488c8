/*
 * Reading the statistics rollups; see stats_store.h. Each reader walks the
 * pieces of yq_stats_plan() in order and hands every row to the caller's
 * visitor, so one pass serves per-instrument totals, monthly series and
 * zone flows alike. Rows of instruments outside the loaded catalogue (other
 * institutions, zones or classes) are skipped here.
 */
#include "api/stats_store.h"

#include <stdlib.h>
#include <string.h>

#include "api/bookings_store.h"
#include "api/stats_fold.h"
#include "core/alloc.h"
#include "core/timeutil.h"

static const char *col(yq_arena_t *a, sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return yq_arena_strdup(a, s ? (const char *)s : "");
}

/* Local midnight starting a "YYYY-MM-DD" date, 0 when the text is not one. */
static int64_t date_start(const char *s) {
    int y, m, d;
    if (!s || yq_date_parse(s, &y, &m, &d))
        return 0;
    return yq_stats_day_start(yq_days_from_civil(y, m, d));
}

static int load_instruments(yq_db_t *db, const yq_st_filter_t *f, yq_arena_t *a, yq_st_catalogue_t *c) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT i.id, i.owner_org_id, o.zone_id, i.class_code, i.category_type, i.purchase_date, "
            "coalesce(i.retired_at, 0), i.asset_no, i.name_zh, i.name_en, i.model, i.manufacturer, i.country, "
            "i.department, i.address, i.room, i.run_status, i.share_mode, i.original_value_fen, o.code, o.name_zh, "
            "o.name_en, o.credit_code, z.code, i.created_at "
            "FROM instruments i JOIN orgs o ON o.id = i.owner_org_id JOIN zones z ON z.id = o.zone_id "
            "WHERE (?1 = 0 OR i.owner_org_id = ?1) AND (?2 = 0 OR o.zone_id = ?2) "
            "AND (?3 = '' OR substr(i.class_code, 1, length(?3)) = ?3) ORDER BY i.id");
    sqlite3_bind_int64(st, 1, f->org_id);
    sqlite3_bind_int64(st, 2, f->zone_id);
    sqlite3_bind_text(st, 3, f->class_prefix, -1, SQLITE_TRANSIENT);
    size_t cap = 0;
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        if (c->n == cap) {
            cap = cap ? cap * 2 : 256;
            c->ins = yq_xrealloc(c->ins, cap * sizeof *c->ins);
        }
        yq_st_instrument_t *in = &c->ins[c->n++];
        memset(in, 0, sizeof *in);
        in->id = sqlite3_column_int64(st, 0);
        in->owner_org_id = sqlite3_column_int64(st, 1);
        in->zone_id = sqlite3_column_int64(st, 2);
        const char *cls = (const char *)sqlite3_column_text(st, 3);
        strncpy(in->class_code, cls ? cls : "", sizeof in->class_code - 1);
        in->category_type = col(a, st, 4);
        in->purchase_date = col(a, st, 5);
        /* In service from its purchase date; without one, from the day it
         * was listed here, so that listing an instrument today changes no
         * past period's rated hours (nor makes it idle at once). */
        in->since =
            in->purchase_date[0] ? date_start(in->purchase_date) : yq_local_midnight(sqlite3_column_int64(st, 24));
        in->until = sqlite3_column_int64(st, 6);
        in->asset_no = col(a, st, 7);
        in->name_zh = col(a, st, 8);
        in->name_en = col(a, st, 9);
        in->model = col(a, st, 10);
        in->manufacturer = col(a, st, 11);
        in->country = col(a, st, 12);
        in->department = col(a, st, 13);
        in->address = col(a, st, 14);
        in->room = col(a, st, 15);
        in->run_status = col(a, st, 16);
        in->share_mode = col(a, st, 17);
        in->value_fen = sqlite3_column_int64(st, 18);
        in->org_code = col(a, st, 19);
        in->org_name_zh = col(a, st, 20);
        in->org_name_en = col(a, st, 21);
        in->org_credit_code = col(a, st, 22);
        in->zone_code = col(a, st, 23);
        if (in->id > c->max_id)
            c->max_id = in->id;
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static int load_blocks(yq_db_t *db, const yq_st_filter_t *f, yq_st_catalogue_t *c) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT instrument_id, start, end FROM blocks WHERE end > ?1 AND start < ?2 "
                                      "ORDER BY instrument_id, start");
    sqlite3_bind_int64(st, 1, f->from);
    sqlite3_bind_int64(st, 2, f->to);
    size_t cap = 0;
    int64_t last = -1;
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        int64_t idx = yq_st_index(c, sqlite3_column_int64(st, 0));
        if (idx < 0)
            continue;
        if (c->nblocks == cap) {
            cap = cap ? cap * 2 : 64;
            c->blocks = yq_xrealloc(c->blocks, cap * sizeof *c->blocks);
        }
        if (idx != last)
            c->ins[idx].block_first = c->nblocks;
        c->ins[idx].block_count++;
        last = idx;
        c->blocks[c->nblocks++] = (yq_stats_block_t){sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)};
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

int yq_st_load(yq_db_t *db, const yq_st_filter_t *f, yq_arena_t *a, yq_st_catalogue_t *out) {
    memset(out, 0, sizeof *out);
    int rc = yq_st_fold(db); /* every rollup complete before a request reads any (migrations 070, 071) */
    if (rc == 0)
        rc = load_instruments(db, f, a, out);
    if (rc == 0) {
        out->slot = yq_xmalloc((size_t)(out->max_id + 1) * sizeof *out->slot);
        memset(out->slot, 0xff, (size_t)(out->max_id + 1) * sizeof *out->slot);
        for (size_t i = 0; i < out->n; i++)
            out->slot[out->ins[i].id] = (int32_t)i;
        rc = load_blocks(db, f, out);
    }
    if (rc < 0)
        yq_st_release(out);
    return rc;
}

void yq_st_release(yq_st_catalogue_t *c) {
    free(c->ins);
    free(c->slot);
    free(c->blocks);
    memset(c, 0, sizeof *c);
}

int64_t yq_st_rated(const yq_st_catalogue_t *c, size_t idx, int64_t from, int64_t to) {
    const yq_st_instrument_t *in = &c->ins[idx];
    int64_t lo, hi;
    yq_stats_in_service(from, to, in->since, in->until, &lo, &hi);
    if (hi <= lo)
        return 0;
    int64_t blocked = yq_stats_block_minutes(c->blocks + in->block_first, in->block_count, lo, hi);
    int64_t rated = yq_stats_rated_minutes(in->category_type, lo, hi, blocked < 0 ? 0 : blocked);
    return rated < 0 ? 0 : rated;
}

/* The month a row of a piece counts in, from its first column. */
static int row_month(int kind, sqlite3_stmt *st) {
    int64_t key = sqlite3_column_int64(st, 0);
    if (kind == YQ_STATS_SEG_MONTH)
        return (int)key;
    if (kind == YQ_STATS_SEG_DAY)
        return yq_stats_month_of_day(key);
    return yq_stats_month_of(key);
}

static sqlite3_stmt *usage_stmt(yq_db_t *db, int kind) {
    if (kind == YQ_STATS_SEG_MONTH)
        return yq_db_stmt(db, "SELECT month, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
                              "cross_zone_minutes, samples, fee_fen FROM stats_usage_month "
                              "WHERE month >= ?1 AND month < ?2");
    if (kind == YQ_STATS_SEG_DAY)
        return yq_db_stmt(db, "SELECT day, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
                              "cross_zone_minutes, samples, fee_fen FROM stats_usage_day "
                              "WHERE day >= ?1 AND day < ?2");
    return yq_db_stmt(db, "SELECT u.start, u.instrument_id, coalesce(o.zone_id, 0), "
                          "CASE u.kind WHEN 'reversal' THEN -1 ELSE 1 END, u.minutes, "
                          "CASE WHEN u.payer_org_id <> u.provider_org_id THEN u.minutes ELSE 0 END, "
                          "CASE WHEN u.tier = 'cross_zone' THEN u.minutes ELSE 0 END, u.samples, u.fee_fen "
                          "FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id "
                          "WHERE u.start >= ?1 AND u.start < ?2");
}

/* One rollup read over a range: the deltas folded first, then each piece of
 * yq_stats_plan's split read with the statement `pick` gives for its kind
 * (rows keyed by column 0, instrument in column 1), and every row of a
 * catalogued instrument handed to `row` with its month and index. */
typedef void (*row_fn)(void *ctx, sqlite3_stmt *st, int month, size_t idx);

static int walk_range(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to,
                      sqlite3_stmt *(*pick)(yq_db_t *, int), row_fn row, void *ctx) {
    int folded = yq_st_fold(db);
    if (folded < 0)
        return folded;
    yq_stats_seg_t segs[YQ_STATS_MAX_SEGS];
    int nseg = yq_stats_plan(from, to, segs);
    if (nseg < 0)
        return YQ_DB_ERROR;
    for (int k = 0; k < nseg; k++) {
        sqlite3_stmt *st = pick(db, segs[k].kind);
        sqlite3_bind_int64(st, 1, segs[k].lo);
        sqlite3_bind_int64(st, 2, segs[k].hi);
        int rc;
        while ((rc = yq_db_step(db, st)) == 1) {
            int64_t idx = yq_st_index(c, sqlite3_column_int64(st, 1));
            if (idx >= 0)
                row(ctx, st, row_month(segs[k].kind, st), (size_t)idx);
        }
        sqlite3_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct {
    yq_st_usage_fn fn;
    void *ctx;
} usage_walk_t;

static void usage_row(void *ctx, sqlite3_stmt *st, int month, size_t idx) {
    usage_walk_t *w = ctx;
    yq_st_sums_t s = {sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                      sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 8)};
    w->fn(w->ctx, month, idx, sqlite3_column_int64(st, 2), &s);
}

int yq_st_usage(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_usage_fn fn, void *ctx) {
    usage_walk_t w = {fn, ctx};
    return walk_range(db, c, from, to, usage_stmt, usage_row, &w);
}

/* ---- range totals: whole years, months and days, added or subtracted ----
 *
 * Sums can be subtracted, so a range's totals may also be read as a larger
 * unit less what lies outside the range: a year less some months, a month
 * less some days, a day less some records. For each year and partial month
 * of the range (and each partial day at its edges) the plan below takes
 * whichever way reads fewer rows, counting units after the request's day as
 * empty (usage starts in the past): the last 365 days are last year's tail
 * (a month and a day) plus this year less today, with the records of the
 * partial days, about five rows per instrument and payer zone instead of
 * about forty. */

enum { PIECE_YEAR = 3 }; /* after YQ_STATS_SEG_RAW, _DAY, _MONTH */

typedef struct {
    int kind, sign;
    int64_t lo, hi; /* instants, day numbers, month keys or years, as the kind */
} piece_t;

#define MAX_PIECES 96

typedef struct {
    piece_t p[MAX_PIECES];
    int n;
    int64_t now, today; /* the request's instant and local day */
    int this_month, this_year;
} totals_plan_t;

/* Costs of reading a unit, relative to a day's rows: a month's or a year's
 * rows are about twice a day's (nearly every instrument and payer zone has
 * one), a day's records about twice its rows. Units wholly after today
 * cost nothing. */
#define COST_DAY 1.0
#define COST_MONTH 2.0
#define COST_YEAR 2.0
#define COST_RECORDS_PER_DAY 2.0

static void piece(totals_plan_t *t, int emit, int kind, int sign, int64_t lo, int64_t hi) {
    if (emit && lo < hi && t->n < MAX_PIECES)
        t->p[t->n++] = (piece_t){kind, sign, lo, hi};
}

static double days_cost(const totals_plan_t *t, int64_t a, int64_t b) {
    int64_t last = b - 1 < t->today ? b - 1 : t->today;
    return last >= a ? COST_DAY * (double)(last - a + 1) : 0;
}

static double records_cost(const totals_plan_t *t, int64_t a, int64_t b) {
    int64_t hi = b < t->now + 1 ? b : t->now + 1;
    return hi > a ? COST_RECORDS_PER_DAY * (double)(hi - a) / 86400.0 : 0;
}

/* Days [a, b) of one month: the days, or the month less the other days. */
static double partial_month(totals_plan_t *t, int emit, int sign, int64_t a, int64_t b) {
    if (a >= b)
        return 0;
    int m = yq_stats_month_of_day(a);
    int64_t ms = yq_stats_month_first_day(m), me = yq_stats_month_first_day(yq_stats_month_next(m));
    double direct = days_cost(t, a, b);
    double other = (m <= t->this_month ? COST_MONTH : 0) + days_cost(t, ms, a) + days_cost(t, b, me);
    if (direct <= other) {
        piece(t, emit, YQ_STATS_SEG_DAY, sign, a, b);
        return direct;
    }
    piece(t, emit, YQ_STATS_SEG_MONTH, sign, m, yq_stats_month_next(m));
    piece(t, emit, YQ_STATS_SEG_DAY, -sign, ms, a);
    piece(t, emit, YQ_STATS_SEG_DAY, -sign, b, me);
    return other;
}

/* Days [a, b) of one year, as its partial months and whole months. */
static double months_of_year(totals_plan_t *t, int emit, int sign, int64_t a, int64_t b) {
    if (a >= b)
        return 0;
    int ma = yq_stats_month_of_day(a), mb = yq_stats_month_of_day(b - 1);
    if (ma == mb)
        return partial_month(t, emit, sign, a, b);
    int lo = yq_stats_month_first_day(ma) == a ? ma : yq_stats_month_next(ma);
    int hi = yq_stats_month_first_day(yq_stats_month_next(mb)) == b ? yq_stats_month_next(mb) : mb;
    double cost = partial_month(t, emit, sign, a, yq_stats_month_first_day(lo));
    for (int m = lo; m < hi; m = yq_stats_month_next(m))
        cost += m <= t->this_month ? COST_MONTH : 0;
    piece(t, emit, YQ_STATS_SEG_MONTH, sign, lo, hi);
    return cost + partial_month(t, emit, sign, yq_stats_month_first_day(hi), b);
}

/* Days [a, b) of one year: its months, or the year less the other days. */
static void year_part(totals_plan_t *t, int64_t a, int64_t b) {
    int y, mo, d;
    yq_civil_from_days(a, &y, &mo, &d);
    int64_t ys = yq_days_from_civil(y, 1, 1), ye = yq_days_from_civil(y + 1, 1, 1);
    double direct = a == ys && b == ye ? 1e300 : months_of_year(t, 0, 1, a, b);
    double other =
        (y <= t->this_year ? COST_YEAR : 0) + months_of_year(t, 0, -1, ys, a) + months_of_year(t, 0, -1, b, ye);
    if (direct <= other) {
        months_of_year(t, 1, 1, a, b);
        return;
    }
    piece(t, 1, PIECE_YEAR, 1, y, y + 1);
    months_of_year(t, 1, -1, ys, a);
    months_of_year(t, 1, -1, b, ye);
}

/* Instants [a, b) of local day `day`: the records, or the day less the other records. */
static void partial_day(totals_plan_t *t, int64_t day, int64_t a, int64_t b) {
    int64_t ds = yq_stats_day_start(day), de = yq_stats_day_start(day + 1);
    double direct = records_cost(t, a, b);
    double other = days_cost(t, day, day + 1) + records_cost(t, ds, a) + records_cost(t, b, de);
    if (direct <= other) {
        piece(t, 1, YQ_STATS_SEG_RAW, 1, a, b);
        return;
    }
    piece(t, 1, YQ_STATS_SEG_DAY, 1, day, day + 1);
    piece(t, 1, YQ_STATS_SEG_RAW, -1, ds, a);
    piece(t, 1, YQ_STATS_SEG_RAW, -1, b, de);
}

static int totals_plan(totals_plan_t *t, int64_t from, int64_t to, int64_t now) {
    if (to < from)
        return -1;
    memset(t, 0, sizeof *t);
    t->now = now;
    t->today = yq_stats_day_of(now);
    t->this_month = yq_stats_month_of(now);
    t->this_year = t->this_month / 100;
    if (from == to)
        return 0;
    int64_t d0 = yq_stats_day_of(from), d1 = yq_stats_day_of(to);
    if (yq_stats_day_start(d0) < from)
        d0++;       /* the first whole day */
    if (d0 >= d1) { /* no whole day: one or two partial days */
        if (d1 > yq_stats_day_of(from)) {
            partial_day(t, d1 - 1, from, yq_stats_day_start(d1));
            partial_day(t, d1, yq_stats_day_start(d1), to);
        } else {
            partial_day(t, d1, from, to);
        }
        return t->n < MAX_PIECES ? 0 : -1;
    }
    if (from < yq_stats_day_start(d0))
        partial_day(t, d0 - 1, from, yq_stats_day_start(d0));
    for (int64_t a = d0; a < d1;) {
        int y, mo, d;
        yq_civil_from_days(a, &y, &mo, &d);
        int64_t next = yq_days_from_civil(y + 1, 1, 1), b = next < d1 ? next : d1;
        year_part(t, a, b);
        a = b;
    }
    if (yq_stats_day_start(d1) < to)
        partial_day(t, d1, yq_stats_day_start(d1), to);
    return t->n < MAX_PIECES ? 0 : -1;
}

int yq_st_usage_totals(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, int64_t now,
                       yq_st_usage_fn fn, void *ctx) {
    int rc = yq_st_fold(db);
    if (rc < 0)
        return rc;
    totals_plan_t *t = yq_xmalloc(sizeof *t);
    if (totals_plan(t, from, to, now) < 0) {
        free(t);
        return YQ_DB_ERROR;
    }
    for (int k = 0; k < t->n && rc == 0; k++) {
        const piece_t *pc = &t->p[k];
        sqlite3_stmt *st =
            pc->kind == PIECE_YEAR
                ? yq_db_stmt(db, "SELECT year, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
                                 "cross_zone_minutes, samples, fee_fen FROM stats_usage_year "
                                 "WHERE year >= ?1 AND year < ?2")
                : usage_stmt(db, pc->kind);
        sqlite3_bind_int64(st, 1, pc->lo);
        sqlite3_bind_int64(st, 2, pc->hi);
        while ((rc = yq_db_step(db, st)) == 1) {
            int64_t idx = yq_st_index(c, sqlite3_column_int64(st, 1));
            if (idx < 0)
                continue;
            int64_t sg = pc->sign;
            yq_st_sums_t s = {sg * sqlite3_column_int64(st, 3), sg * sqlite3_column_int64(st, 4),
                              sg * sqlite3_column_int64(st, 5), sg * sqlite3_column_int64(st, 6),
                              sg * sqlite3_column_int64(st, 7), sg * sqlite3_column_int64(st, 8)};
            fn(ctx, 0, (size_t)idx, sqlite3_column_int64(st, 2), &s);
        }
        sqlite3_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    free(t);
    return rc;
}

/* ---- distinct users and institutions ----
 *
 * A rollup row's uses are net (a reversal carries its original's
 * instrument, user, payer and start, so the two always share a row) and
 * never negative, so a user counts when any day of the range has uses left.
 * Whole days come from stats_users_year (migrations 060, 072): one row per
 * instrument, year, user and payer institution, with the months and the days
 * of that year the user had uses left. SQLite keeps the rows with a month
 * among the range's whole months or, failing that, a day among its edge
 * days; partial first and last days come from the records themselves,
 * netted per start. Each instrument's users and institutions are
 * de-duplicated in C by stamping their ids with the instrument's number,
 * so nothing is sorted or hashed. */

#define DAY_WORDS 6
#define DAY_BITS 61

/* The whole days of a range: the first and last year they touch, the whole
 * months of those two years (a year between them is whole) and the days of
 * the partial months at the edges (bit k % 61 of word k / 61 for the k-th
 * day of the year, as in migration 072). */
typedef struct {
    int y[2]; /* y[1] < y[0]: no whole day */
    int64_t months[2];
    int64_t days[2][DAY_WORDS];
} range_masks_t;

static void masks_add_day(range_masks_t *m, int64_t day) {
    int y, mo, d;
    yq_civil_from_days(day, &y, &mo, &d);
    int64_t k = day - yq_days_from_civil(y, 1, 1);
    for (int e = 0; e < 2; e++)
        if (y == m->y[e])
            m->days[e][k / DAY_BITS] |= 1LL << (k % DAY_BITS);
}

/* From the plan's DAY and MONTH pieces (contiguous, in time order). */
static void masks_init(range_masks_t *m, const yq_stats_seg_t *segs, int nseg) {
    memset(m, 0, sizeof *m);
    m->y[0] = 1;
    int64_t first = 0, last = -1;
    for (int k = 0; k < nseg; k++) {
        if (segs[k].kind == YQ_STATS_SEG_RAW)
            continue;
        int64_t lo = segs[k].lo, hi = segs[k].hi;
        if (segs[k].kind == YQ_STATS_SEG_MONTH) {
            lo = yq_stats_month_first_day((int)lo);
            hi = yq_stats_month_first_day((int)hi);
        }
        if (last < first)
            first = lo;
        last = hi - 1;
    }
    if (last < first)
        return;
    int mo, d;
    yq_civil_from_days(first, &m->y[0], &mo, &d);
    yq_civil_from_days(last, &m->y[1], &mo, &d);
    for (int k = 0; k < nseg; k++) {
        if (segs[k].kind == YQ_STATS_SEG_DAY) {
            for (int64_t day = segs[k].lo; day < segs[k].hi; day++)
                masks_add_day(m, day);
        } else if (segs[k].kind == YQ_STATS_SEG_MONTH) {
            for (int mon = (int)segs[k].lo; mon < (int)segs[k].hi; mon = yq_stats_month_next(mon))
                for (int e = 0; e < 2; e++)
                    if (mon / 100 == m->y[e])
                        m->months[e] |= 1LL << (mon % 100 - 1);
        }
    }
}

/* The rows of stats_users_year with a day in the range (?1 .. ?16, bound by
 * bind_masks): a month among the whole months, else a day among the edge days. */
#define PEOPLE_HIT                                                                                                     \
    "s.year >= ?1 AND s.year <= ?2 AND ((s.months & CASE s.year WHEN ?1 THEN ?3 WHEN ?2 THEN ?4 ELSE 4095 END) <> 0 "  \
    "OR (s.year = ?1 AND ((s.d0 & ?5) <> 0 OR (s.d1 & ?6) <> 0 OR (s.d2 & ?7) <> 0 OR (s.d3 & ?8) <> 0 "               \
    "OR (s.d4 & ?9) <> 0 OR (s.d5 & ?10) <> 0)) "                                                                      \
    "OR (s.year = ?2 AND ((s.d0 & ?11) <> 0 OR (s.d1 & ?12) <> 0 OR (s.d2 & ?13) <> 0 OR (s.d3 & ?14) <> 0 "           \
    "OR (s.d4 & ?15) <> 0 OR (s.d5 & ?16) <> 0)))"

static void bind_masks(sqlite3_stmt *st, const range_masks_t *m) {
    sqlite3_bind_int(st, 1, m->y[0]);
    sqlite3_bind_int(st, 2, m->y[1]);
    sqlite3_bind_int64(st, 3, m->months[0]);
    sqlite3_bind_int64(st, 4, m->months[1]);
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < DAY_WORDS; i++)
            sqlite3_bind_int64(st, 5 + 6 * e + i, m->days[e][i]);
}

/* Ids stamped with the instrument they were last counted for. */
typedef struct {
    int32_t *stamp;
    size_t cap;
} seen_t;

/* 1 when id is new for stamp (and marks it), else 0. */
static int seen_mark(seen_t *s, int64_t id, int32_t stamp) {
    if (id < 0)
        return 0;
    if ((size_t)id >= s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap <= (size_t)id)
            cap *= 2;
        s->stamp = yq_xrealloc(s->stamp, cap * sizeof *s->stamp);
        memset(s->stamp + s->cap, 0, (cap - s->cap) * sizeof *s->stamp);
        s->cap = cap;
    }
    if (s->stamp[id] == stamp)
        return 0;
    s->stamp[id] = stamp;
    return 1;
}

/* A record of a partial day: instrument's position in the request, user,
 * payer, start and +1 or -1. */
typedef struct {
    int64_t pos, user, org, start, d;
} raw_use_t;

static int raw_order(const void *a, const void *b) {
    const raw_use_t *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->org != y->org)
        return x->org < y->org ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

/* Position of id in the ascending ids[0 .. n), or -1. */
static int64_t id_pos(const int64_t *ids, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (int64_t)lo : -1;
}

/* The records of the partial day [lo, hi) of the requested instruments,
 * appended to *raw. */
static int read_raw(yq_db_t *db, const int64_t *ids, size_t n, int64_t lo, int64_t hi, raw_use_t **raw, size_t *nraw,
                    size_t *cap) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT instrument_id, user_id, payer_org_id, start, "
                                      "CASE kind WHEN 'reversal' THEN -1 ELSE 1 END FROM usage_records "
                                      "WHERE start >= ?1 AND start < ?2");
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        int64_t pos = id_pos(ids, n, sqlite3_column_int64(st, 0));
        if (pos < 0)
            continue;
        if (*nraw == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *raw = yq_xrealloc(*raw, *cap * sizeof **raw);
        }
        (*raw)[(*nraw)++] = (raw_use_t){pos, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                                        sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

/* Sorts the partial-day records and keeps one entry per (instrument, user,
 * payer) with a start whose uses sum to more than zero. Returns the count. */
static size_t net_raw(raw_use_t *raw, size_t n) {
    if (n == 0)
        return 0;
    qsort(raw, n, sizeof *raw, raw_order);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t sum = 0;
        while (j < n && raw[j].pos == raw[i].pos && raw[j].user == raw[i].user && raw[j].org == raw[i].org &&
               raw[j].start == raw[i].start)
            sum += raw[j++].d;
        if (sum > 0 && !(out > 0 && raw[out - 1].pos == raw[i].pos && raw[out - 1].user == raw[i].user &&
                         raw[out - 1].org == raw[i].org))
            raw[out++] = raw[i];
        i = j;
    }
    return out;
}

/* The counting state: the instrument being counted (its position in the
 * request), the partial-day entries not consumed yet, the answers. */
typedef struct {
    seen_t users, orgs;
    int64_t cur;
    const raw_use_t *raw;
    size_t nraw, r;
    int64_t *out_users, *out_orgs;
} people_t;

static void people_add(people_t *p, int64_t user, int64_t org) {
    int32_t stamp = (int32_t)p->cur + 1;
    p->out_users[p->cur] += seen_mark(&p->users, user, stamp);
    p->out_orgs[p->cur] += seen_mark(&p->orgs, org, stamp);
}

/* Ends the current instrument (adding its partial-day users), then counts
 * the partial-day users of the instruments before pos that have no other,
 * and makes pos the current one. */
static void people_start(people_t *p, int64_t pos) {
    if (p->cur >= 0)
        for (; p->r < p->nraw && p->raw[p->r].pos == p->cur; p->r++)
            people_add(p, p->raw[p->r].user, p->raw[p->r].org);
    for (; p->r < p->nraw && p->raw[p->r].pos < pos; p->r++) {
        p->cur = p->raw[p->r].pos;
        people_add(p, p->raw[p->r].user, p->raw[p->r].org);
    }
    p->cur = pos;
}

int yq_st_people_many(yq_db_t *db, const int64_t *ids, size_t n, int64_t from, int64_t to, int64_t *users,
                      int64_t *orgs) {
    memset(users, 0, n * sizeof *users);
    memset(orgs, 0, n * sizeof *orgs);
    yq_stats_seg_t segs[YQ_STATS_MAX_SEGS];
    int nseg = yq_stats_plan(from, to, segs);
    if (nseg < 0)
        return YQ_DB_ERROR;
    if (n == 0 || nseg == 0)
        return 0;
    int rc = yq_st_fold(db);
    /* One read transaction for the statement of every instrument, not one
     * each (a savepoint: inside the caller's transaction if one is open). */
    int txn = rc == 0 && yq_db_exec(db, "SAVEPOINT st_people") == 0;
    raw_use_t *raw = NULL;
    size_t nraw = 0, cap = 0;
    for (int k = 0; k < nseg && rc == 0; k++)
        if (segs[k].kind == YQ_STATS_SEG_RAW)
            rc = read_raw(db, ids, n, segs[k].lo, segs[k].hi, &raw, &nraw, &cap);
    range_masks_t m;
    masks_init(&m, segs, nseg);
    people_t p = {
        .cur = -1, .raw = raw, .nraw = rc == 0 ? net_raw(raw, nraw) : 0, .out_users = users, .out_orgs = orgs};
    if (rc == 0 && m.y[1] >= m.y[0]) {
        sqlite3_stmt *st = yq_db_stmt(db, "SELECT s.user_id, s.payer_org_id FROM stats_users_year s "
                                          "WHERE s.instrument_id = ?17 AND " PEOPLE_HIT);
        bind_masks(st, &m);
        for (size_t pos = 0; pos < n && rc == 0; pos++) {
            people_start(&p, (int64_t)pos);
            sqlite3_bind_int64(st, 17, ids[pos]);
            while ((rc = yq_db_step(db, st)) == 1)
                people_add(&p, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
            sqlite3_reset(st);
            rc = rc < 0 ? rc : 0;
        }
    }
    if (rc == 0)
        people_start(&p, (int64_t)n); /* the rest of the partial-day users */
    if (txn)
        yq_db_exec(db, "RELEASE st_people");
    free(p.users.stamp);
    free(p.orgs.stamp);
    free(raw);
    return rc;
}

int yq_st_people(yq_db_t *db, int64_t instrument_id, int64_t from, int64_t to, int64_t *users, int64_t *orgs) {
    return yq_st_people_many(db, &instrument_id, 1, from, to, users, orgs);
}

static sqlite3_stmt *bookings_stmt(yq_db_t *db, int kind) {
    if (kind == YQ_STATS_SEG_MONTH)
        return yq_db_stmt(db, "SELECT month, instrument_id, status, n FROM stats_bookings_month "
                              "WHERE month >= ?1 AND month < ?2 AND n <> 0");
    if (kind == YQ_STATS_SEG_DAY)
        return yq_db_stmt(db, "SELECT day, instrument_id, status, n FROM stats_bookings_day "
                              "WHERE day >= ?1 AND day < ?2 AND n <> 0");
    /* The bookings that start in [?1, ?2): those no longer live through
     * bookings_start, the live ones instrument by instrument through
     * bookings_live_end (migration 081). */
    return yq_db_stmt(db, "SELECT start, instrument_id, status, 1 FROM bookings INDEXED BY bookings_ended_start "
                          "WHERE NOT " YQ_BK_LIVE_STATUS " AND start >= ?1 AND start < ?2 UNION ALL "
                          "SELECT b.start, b.instrument_id, b.status, 1 FROM instruments i CROSS JOIN bookings b "
                          "INDEXED BY bookings_live_end ON b.instrument_id = i.id AND " YQ_BK_LIVE_B_STATUS " "
                          "AND b.end > ?1 AND b.end < ?2 + (SELECT longest FROM booking_span WHERE id = 1) "
                          "WHERE b.start >= ?1 AND b.start < ?2");
}

typedef struct {
    yq_st_bookings_fn fn;
    void *ctx;
} bookings_walk_t;

static void bookings_row(void *ctx, sqlite3_stmt *st, int month, size_t idx) {
    bookings_walk_t *w = ctx;
    w->fn(w->ctx, month, idx, (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
}

int yq_st_bookings(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_bookings_fn fn, void *ctx) {
    bookings_walk_t w = {fn, ctx};
    return walk_range(db, c, from, to, bookings_stmt, bookings_row, &w);
}

int yq_st_zones(yq_db_t *db, yq_arena_t *a, yq_st_zone_t **out) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, code, name_zh, name_en FROM zones ORDER BY id");
    size_t cap = 16, n = 0;
    yq_st_zone_t *z = yq_arena_alloc(a, cap * sizeof *z);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        if (n == cap) {
            yq_st_zone_t *more = yq_arena_alloc(a, cap * 2 * sizeof *z);
            memcpy(more, z, n * sizeof *z);
            z = more;
            cap *= 2;
        }
        z[n++] = (yq_st_zone_t){sqlite3_column_int64(st, 0), col(a, st, 1), col(a, st, 2), col(a, st, 3)};
    }
    sqlite3_reset(st);
    *out = z;
    return rc < 0 ? rc : (int)n;
}

/* ---- verification: each rollup against the same sums recomputed ---- */

#define USAGE_SUMS                                                                                                     \
    "sum(CASE u.kind WHEN 'reversal' THEN -1 ELSE 1 END) AS uses, sum(u.minutes) AS minutes, "                         \
    "sum(CASE WHEN u.payer_org_id <> u.provider_org_id THEN u.minutes ELSE 0 END) AS external_minutes, "               \
    "sum(CASE WHEN u.tier = 'cross_zone' THEN u.minutes ELSE 0 END) AS cross_zone_minutes, "                           \
    "sum(u.samples) AS samples, sum(u.fee_fen) AS fee_fen "
#define USAGE_COLS "uses, minutes, external_minutes, cross_zone_minutes, samples, fee_fen"
#define USAGE_LIVE                                                                                                     \
    "(uses <> 0 OR minutes <> 0 OR external_minutes <> 0 OR cross_zone_minutes <> 0 OR samples <> 0 OR fee_fen <> 0)"
#define MONTH_OF(t) "CAST(strftime('%Y%m', " t " + 28800, 'unixepoch') AS INTEGER)"
/* Rows in r but not c, plus rows in c but not r, and r's row count. */
#define DIFF(r, c)                                                                                                     \
    "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM c)) + "              \
    "(SELECT count(*) FROM (SELECT * FROM c EXCEPT SELECT * FROM r))"

/* ---- bulk writers: defer the triggers, rebuild at once ---- */

int yq_st_defer(yq_db_t *db) {
    return yq_db_exec(db, "INSERT OR IGNORE INTO stats_deferred (id) VALUES (1)");
}

/* The bits of stats_users_year (migrations 060, 072): per row of
 * stats_users_month, its month's bit when it has uses left (0 otherwise:
 * the trigger makes a year row for every month row); per row of
 * stats_users_day with uses left, its day's bit: the k-th day of the local
 * year is bit k % 61 of word d<k / 61>. Summed per key, that is their OR. */
#define DAY_WORD(n) "CASE k / 61 WHEN " #n " THEN 1 << k % 61 ELSE 0 END AS d" #n
#define YEAR_MASKS                                                                                                     \
    "SELECT instrument_id, month / 100 AS year, user_id, payer_org_id, "                                               \
    "CASE WHEN uses > 0 THEN 1 << (month % 100 - 1) ELSE 0 END AS months, 0 AS d0, 0 AS d1, 0 AS d2, 0 AS d3, "        \
    "0 AS d4, 0 AS d5 FROM stats_users_month UNION ALL "                                                               \
    "SELECT instrument_id, year, user_id, payer_org_id, 0, " DAY_WORD(0) ", " DAY_WORD(1) ", " DAY_WORD(               \
        2) ", " DAY_WORD(3) ", " DAY_WORD(4) ", " DAY_WORD(5) " FROM (SELECT instrument_id, user_id, payer_org_id, "   \
                                                              "CAST(strftime('%Y', day * 86400, 'unixepoch') AS "      \
                                                              "INTEGER) AS year, "                                     \
                                                              "CAST(strftime('%j', day * 86400, 'unixepoch') AS "      \
                                                              "INTEGER) - 1 AS k FROM stats_users_day WHERE uses > 0)"

/* The backfill of migrations 060 and 072, statement for statement (the
 * triggers are deferred meanwhile, those of stats_users_month and
 * stats_users_day too). */
static const char *const rebuild_sql[] = {
    "DELETE FROM stats_usage_day",
    "DELETE FROM stats_usage_month",
    "DELETE FROM stats_usage_year",
    "DELETE FROM stats_users_month",
    "DELETE FROM stats_users_year",
    "DELETE FROM stats_users_day",
    "DELETE FROM stats_bookings_day",
    "DELETE FROM stats_bookings_month",
    "DELETE FROM stats_bookings_delta",
    "DELETE FROM stats_usage_delta",
    "INSERT INTO stats_usage_day (day, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
    "cross_zone_minutes, samples, fee_fen) "
    "SELECT (u.start + 28800) / 86400, u.instrument_id, coalesce(o.zone_id, 0), " USAGE_SUMS
    "FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id GROUP BY 1, 2, 3",
    "INSERT INTO stats_usage_month (month, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
    "cross_zone_minutes, samples, fee_fen) "
    "SELECT " MONTH_OF("u.start") ", u.instrument_id, coalesce(o.zone_id, 0), " USAGE_SUMS
                                  "FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id GROUP BY 1, 2, 3",
    "INSERT INTO stats_usage_year (year, instrument_id, payer_zone_id, " USAGE_COLS ") "
    "SELECT month / 100, instrument_id, payer_zone_id, sum(uses), sum(minutes), sum(external_minutes), "
    "sum(cross_zone_minutes), sum(samples), sum(fee_fen) FROM stats_usage_month GROUP BY 1, 2, 3",
    "INSERT INTO stats_users_month (instrument_id, month, user_id, payer_org_id, uses) "
    "SELECT instrument_id, " MONTH_OF(
        "start") ", user_id, payer_org_id, "
                 "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) FROM usage_records GROUP BY 1, 2, 3, 4",
    "INSERT INTO stats_users_day (instrument_id, day, user_id, payer_org_id, uses) "
    "SELECT instrument_id, (start + 28800) / 86400, user_id, payer_org_id, "
    "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) FROM usage_records GROUP BY 1, 2, 3, 4",
    "INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months, d0, d1, d2, d3, d4, d5) "
    "SELECT instrument_id, year, user_id, payer_org_id, sum(months), sum(d0), sum(d1), sum(d2), sum(d3), sum(d4), "
    "sum(d5) FROM (" YEAR_MASKS ") GROUP BY 1, 2, 3, 4",
    "INSERT INTO stats_bookings_day (day, instrument_id, status, n) "
    "SELECT (start + 28800) / 86400, instrument_id, status, count(*) FROM bookings GROUP BY 1, 2, 3",
    "INSERT INTO stats_bookings_month (month, instrument_id, status, n) "
    "SELECT " MONTH_OF("start") ", instrument_id, status, count(*) FROM bookings GROUP BY 1, 2, 3",
    "DELETE FROM stats_deferred",
};

int yq_st_rebuild(yq_db_t *db) {
    int rc = yq_st_defer(db);
    for (size_t i = 0; i < sizeof rebuild_sql / sizeof rebuild_sql[0] && rc == 0; i++)
        rc = yq_db_exec(db, rebuild_sql[i]);
    return rc;
}

/* A rollup's rows plus the deltas not folded into it yet (migrations 070,
 * 071): what it will hold after the next fold. */
#define DELTA_SUMS                                                                                                     \
    "sum(uses) AS uses, sum(minutes) AS minutes, sum(external_minutes) AS external_minutes, "                          \
    "sum(cross_zone_minutes) AS cross_zone_minutes, sum(samples) AS samples, sum(fee_fen) AS fee_fen "
#define DELTA_MONTH MONTH_OF("day * 86400 - 28800")

static const char *const verify_sql[YQ_ST_ROLLUPS] = {
    "WITH f AS (SELECT day, instrument_id, payer_zone_id, " DELTA_SUMS "FROM (SELECT day, instrument_id, "
    "payer_zone_id, " USAGE_COLS " FROM stats_usage_day UNION ALL SELECT day, instrument_id, payer_zone_id, " USAGE_COLS
    " FROM stats_usage_delta) GROUP BY 1, 2, 3), r AS (SELECT * FROM f WHERE " USAGE_LIVE "), "
    "a AS (SELECT (u.start + 28800) / 86400 AS day, u.instrument_id, coalesce(o.zone_id, 0) AS "
    "payer_zone_id, " USAGE_SUMS "FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id GROUP BY 1, 2, 3), "
    "c AS (SELECT * FROM a WHERE " USAGE_LIVE ") " DIFF(r, c),

    "WITH f AS (SELECT month, instrument_id, payer_zone_id, " DELTA_SUMS "FROM (SELECT month, instrument_id, "
    "payer_zone_id, " USAGE_COLS " FROM stats_usage_month UNION ALL SELECT " DELTA_MONTH " AS month, instrument_id, "
    "payer_zone_id, " USAGE_COLS " FROM stats_usage_delta) GROUP BY 1, 2, 3), r AS (SELECT * FROM f WHERE " USAGE_LIVE
    "), a AS (SELECT " MONTH_OF(
        "u.start") " AS month, u.instrument_id, coalesce(o.zone_id, 0) AS payer_zone_id, " USAGE_SUMS
                   "FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id GROUP BY 1, 2, 3), "
                   "c AS (SELECT * FROM a WHERE " USAGE_LIVE ") " DIFF(r, c),

    /* The year sums follow the folded month rows (their triggers), which
     * the entry before checks against the records. */
    "WITH r AS (SELECT year, instrument_id, payer_zone_id, " USAGE_COLS " FROM stats_usage_year WHERE " USAGE_LIVE
    "), c AS (SELECT * FROM (SELECT month / 100 AS year, instrument_id, payer_zone_id, sum(uses) AS uses, "
    "sum(minutes) AS minutes, sum(external_minutes) AS external_minutes, sum(cross_zone_minutes) AS "
    "cross_zone_minutes, sum(samples) AS samples, sum(fee_fen) AS fee_fen FROM stats_usage_month GROUP BY 1, 2, 3) "
    "WHERE " USAGE_LIVE ") " DIFF(r, c),

    "WITH r AS (SELECT instrument_id, month, user_id, payer_org_id, sum(uses) AS uses FROM (SELECT instrument_id, "
    "month, user_id, payer_org_id, uses FROM stats_users_month UNION ALL SELECT instrument_id, " DELTA_MONTH ", "
    "user_id, payer_org_id, uses FROM stats_usage_delta) GROUP BY 1, 2, 3, 4 HAVING sum(uses) <> 0), "
    "a AS (SELECT instrument_id, " MONTH_OF(
        "start") " AS month, user_id, payer_org_id, "
                 "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) AS uses FROM usage_records GROUP BY 1, 2, 3, 4), "
                 "c AS (SELECT * FROM a WHERE uses <> 0) " DIFF(r, c),

    /* The year masks follow the folded month and day rows (their
     * triggers), which the entries before and after check against the
     * records. */
    "WITH r AS (SELECT instrument_id, year, user_id, payer_org_id, months, d0, d1, d2, d3, d4, d5 "
    "FROM stats_users_year WHERE months <> 0 OR d0 <> 0 OR d1 <> 0 OR d2 <> 0 OR d3 <> 0 OR d4 <> 0 OR d5 <> 0), "
    "c AS (SELECT instrument_id, year, user_id, payer_org_id, sum(months) AS months, sum(d0) AS d0, sum(d1) AS d1, "
    "sum(d2) AS d2, sum(d3) AS d3, sum(d4) AS d4, sum(d5) AS d5 FROM (" YEAR_MASKS ") GROUP BY 1, 2, 3, 4 "
    "HAVING sum(months) <> 0 OR sum(d0) <> 0 OR sum(d1) <> 0 OR sum(d2) <> 0 OR sum(d3) <> 0 OR sum(d4) <> 0 "
    "OR sum(d5) <> 0) " DIFF(r, c),

    "WITH r AS (SELECT instrument_id, day, user_id, payer_org_id, sum(uses) AS uses FROM (SELECT instrument_id, day, "
    "user_id, payer_org_id, uses FROM stats_users_day UNION ALL SELECT instrument_id, day, user_id, payer_org_id, uses "
    "FROM stats_usage_delta) GROUP BY 1, 2, 3, 4 HAVING sum(uses) <> 0), "
    "a AS (SELECT instrument_id, (start + 28800) / 86400 AS day, user_id, payer_org_id, "
    "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) AS uses FROM usage_records GROUP BY 1, 2, 3, 4), "
    "c AS (SELECT * FROM a WHERE uses <> 0) " DIFF(r, c),

    "WITH r AS (SELECT day, instrument_id, status, sum(n) AS n FROM (SELECT day, instrument_id, status, n "
    "FROM stats_bookings_day UNION ALL SELECT day, instrument_id, status, d FROM stats_bookings_delta) "
    "GROUP BY 1, 2, 3 HAVING sum(n) <> 0), "
    "c AS (SELECT (start + 28800) / 86400 AS day, instrument_id, status, count(*) AS n FROM bookings "
    "GROUP BY 1, 2, 3) " DIFF(r, c),

    "WITH r AS (SELECT month, instrument_id, status, sum(n) AS n FROM (SELECT month, instrument_id, status, n "
    "FROM stats_bookings_month UNION ALL SELECT " MONTH_OF(
        "day * 86400 - 28800") ", instrument_id, status, d "
                               "FROM stats_bookings_delta) GROUP BY 1, 2, 3 HAVING sum(n) <> 0), "
                               "c AS (SELECT " MONTH_OF(
                                   "start") " AS month, instrument_id, status, count(*) AS n FROM bookings "
                                            "GROUP BY 1, 2, 3) " DIFF(r, c),
};

static const char *const verify_names[YQ_ST_ROLLUPS] = {"stats_usage_day",    "stats_usage_month",   "stats_usage_year",
                                                        "stats_users_month",  "stats_users_year",    "stats_users_day",
                                                        "stats_bookings_day", "stats_bookings_month"};

int yq_st_verify(const char *path, yq_st_verify_t *out) {
    sqlite3 *h = yq_db_open_reader(path);
    if (!h)
        return YQ_DB_ERROR;
    /* One read transaction: every table is compared in the same snapshot. */
    int rc = sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : YQ_DB_ERROR;
    for (int i = 0; i < YQ_ST_ROLLUPS && rc == 0; i++) {
        sqlite3_stmt *st = NULL;
        out->name[i] = verify_names[i];
        if (sqlite3_prepare_v2(h, verify_sql[i], -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
            rc = YQ_DB_ERROR;
        } else {
            out->rows[i] = sqlite3_column_int64(st, 0);
            out->diff[i] = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}
