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
            "o.name_en, o.credit_code, z.code "
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
        in->since = date_start(in->purchase_date);
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

int yq_st_usage(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_usage_fn fn, void *ctx) {
    int folded = yq_st_fold(db);
    if (folded < 0)
        return folded;
    yq_stats_seg_t segs[YQ_STATS_MAX_SEGS];
    int nseg = yq_stats_plan(from, to, segs);
    if (nseg < 0)
        return YQ_DB_ERROR;
    for (int k = 0; k < nseg; k++) {
        sqlite3_stmt *st = usage_stmt(db, segs[k].kind);
        sqlite3_bind_int64(st, 1, segs[k].lo);
        sqlite3_bind_int64(st, 2, segs[k].hi);
        int rc;
        while ((rc = yq_db_step(db, st)) == 1) {
            int64_t idx = yq_st_index(c, sqlite3_column_int64(st, 1));
            if (idx < 0)
                continue;
            yq_st_sums_t s = {sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                              sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 8)};
            fn(ctx, row_month(segs[k].kind, st), (size_t)idx, sqlite3_column_int64(st, 2), &s);
        }
        sqlite3_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Bits of months a .. b (1 .. 12) of a year. */
static int64_t month_bits(int a, int b) {
    return ((1LL << b) - 1) & ~((1LL << (a - 1)) - 1);
}

/* Distinct users and payer institutions in one statement. A rollup row's
 * uses are already net (a reversal carries its original's instrument, user,
 * payer and start, so the two always share a row) and never negative, so a
 * user counts when any row in the range has uses left. Whole months are
 * read from the yearly month masks (one row per user and year), whole days
 * from the day rows, and the records of partial days are netted by (user,
 * payer, start). Absent pieces bind empty ranges. */
int yq_st_people(yq_db_t *db, int64_t instrument_id, int64_t from, int64_t to, int64_t *users, int64_t *orgs) {
    yq_stats_seg_t segs[YQ_STATS_MAX_SEGS];
    int nseg = yq_stats_plan(from, to, segs);
    if (nseg < 0)
        return YQ_DB_ERROR;
    int64_t y[4] = {1, 0, 0, 0}; /* first year, last year, first year's mask, last year's mask */
    int64_t b[8] = {0};          /* day lo, hi (x2); raw lo, hi (x2) */
    int days = 0, raws = 0;
    for (int k = 0; k < nseg; k++) {
        if (segs[k].kind == YQ_STATS_SEG_MONTH) {
            int first = (int)segs[k].lo, hi = (int)segs[k].hi;
            int last = hi % 100 == 1 ? (hi / 100 - 1) * 100 + 12 : hi - 1;
            y[0] = first / 100;
            y[1] = last / 100;
            y[2] = month_bits(first % 100, 12);
            y[3] = month_bits(1, last % 100);
            continue;
        }
        int64_t *slot = segs[k].kind == YQ_STATS_SEG_DAY ? &b[2 * days++] : &b[4 + 2 * raws++];
        slot[0] = segs[k].lo;
        slot[1] = segs[k].hi;
    }
    sqlite3_stmt *st;
    if (!days && !raws) /* whole months only: the masks alone */
        st = yq_db_stmt(db,
                        "SELECT count(DISTINCT user_id), count(DISTINCT payer_org_id) FROM stats_users_year "
                        "WHERE instrument_id = ?1 AND year >= ?2 AND year <= ?3 AND months & (CASE WHEN year = ?2 "
                        "AND year = ?3 THEN ?4 & ?5 WHEN year = ?2 THEN ?4 WHEN year = ?3 THEN ?5 ELSE 4095 END) <> 0");
    else
        st = yq_db_stmt(
            db,
            "SELECT count(DISTINCT user_id), count(DISTINCT payer_org_id) FROM ("
            "SELECT user_id, payer_org_id FROM stats_users_year "
            "WHERE instrument_id = ?1 AND year >= ?2 AND year <= ?3 AND months & (CASE WHEN year = ?2 AND year = ?3 "
            "THEN ?4 & ?5 WHEN year = ?2 THEN ?4 WHEN year = ?3 THEN ?5 ELSE 4095 END) <> 0 "
            "UNION ALL SELECT user_id, payer_org_id FROM stats_users_day "
            "WHERE instrument_id = ?1 AND day >= ?6 AND day < ?7 AND uses > 0 "
            "UNION ALL SELECT user_id, payer_org_id FROM stats_users_day "
            "WHERE instrument_id = ?1 AND day >= ?8 AND day < ?9 AND uses > 0 "
            "UNION ALL SELECT user_id, payer_org_id FROM usage_records "
            "WHERE instrument_id = ?1 AND ((start >= ?10 AND start < ?11) OR (start >= ?12 AND start < ?13)) "
            "GROUP BY user_id, payer_org_id, start HAVING sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) > 0)");
    sqlite3_bind_int64(st, 1, instrument_id);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_int64(st, i + 2, y[i]);
    for (int i = 0; i < 8 && (days || raws); i++)
        sqlite3_bind_int64(st, i + 6, b[i]);
    int rc = yq_db_step(db, st);
    *users = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    *orgs = rc == 1 ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static sqlite3_stmt *bookings_stmt(yq_db_t *db, int kind) {
    if (kind == YQ_STATS_SEG_MONTH)
        return yq_db_stmt(db, "SELECT month, instrument_id, status, n FROM stats_bookings_month "
                              "WHERE month >= ?1 AND month < ?2 AND n <> 0");
    if (kind == YQ_STATS_SEG_DAY)
        return yq_db_stmt(db, "SELECT day, instrument_id, status, n FROM stats_bookings_day "
                              "WHERE day >= ?1 AND day < ?2 AND n <> 0");
    return yq_db_stmt(db, "SELECT start, instrument_id, status, 1 FROM bookings WHERE start >= ?1 AND start < ?2");
}

int yq_st_bookings(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_bookings_fn fn, void *ctx) {
    int folded = yq_st_fold(db);
    if (folded < 0)
        return folded;
    yq_stats_seg_t segs[YQ_STATS_MAX_SEGS];
    int nseg = yq_stats_plan(from, to, segs);
    if (nseg < 0)
        return YQ_DB_ERROR;
    for (int k = 0; k < nseg; k++) {
        sqlite3_stmt *st = bookings_stmt(db, segs[k].kind);
        sqlite3_bind_int64(st, 1, segs[k].lo);
        sqlite3_bind_int64(st, 2, segs[k].hi);
        int rc;
        while ((rc = yq_db_step(db, st)) == 1) {
            int64_t idx = yq_st_index(c, sqlite3_column_int64(st, 1));
            if (idx >= 0)
                fn(ctx, row_month(segs[k].kind, st), (size_t)idx, (const char *)sqlite3_column_text(st, 2),
                   sqlite3_column_int64(st, 3));
        }
        sqlite3_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
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

/* The backfill of migration 060, statement for statement (the triggers
 * are deferred meanwhile, stats_users_month's too). */
static const char *const rebuild_sql[] = {
    "DELETE FROM stats_usage_day",
    "DELETE FROM stats_usage_month",
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
    "INSERT INTO stats_users_month (instrument_id, month, user_id, payer_org_id, uses) "
    "SELECT instrument_id, " MONTH_OF(
        "start") ", user_id, payer_org_id, "
                 "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) FROM usage_records GROUP BY 1, 2, 3, 4",
    "INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months) "
    "SELECT instrument_id, month / 100, user_id, payer_org_id, "
    "sum(CASE WHEN uses > 0 THEN 1 << (month % 100 - 1) ELSE 0 END) FROM stats_users_month GROUP BY 1, 2, 3, 4",
    "INSERT INTO stats_users_day (instrument_id, day, user_id, payer_org_id, uses) "
    "SELECT instrument_id, (start + 28800) / 86400, user_id, payer_org_id, "
    "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) FROM usage_records GROUP BY 1, 2, 3, 4",
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

    "WITH r AS (SELECT instrument_id, month, user_id, payer_org_id, sum(uses) AS uses FROM (SELECT instrument_id, "
    "month, user_id, payer_org_id, uses FROM stats_users_month UNION ALL SELECT instrument_id, " DELTA_MONTH ", "
    "user_id, payer_org_id, uses FROM stats_usage_delta) GROUP BY 1, 2, 3, 4 HAVING sum(uses) <> 0), "
    "a AS (SELECT instrument_id, " MONTH_OF(
        "start") " AS month, user_id, payer_org_id, "
                 "sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END) AS uses FROM usage_records GROUP BY 1, 2, 3, 4), "
                 "c AS (SELECT * FROM a WHERE uses <> 0) " DIFF(r, c),

    /* The year masks follow the folded month rows (their triggers), which
     * the entry before checks against the records. */
    "WITH r AS (SELECT instrument_id, year, user_id, payer_org_id, months FROM stats_users_year WHERE months <> 0), "
    "c AS (SELECT instrument_id, month / 100 AS year, user_id, payer_org_id, sum(1 << (month % 100 - 1)) AS months "
    "FROM stats_users_month WHERE uses > 0 GROUP BY 1, 2, 3, 4) " DIFF(r, c),

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

static const char *const verify_names[YQ_ST_ROLLUPS] = {
    "stats_usage_day", "stats_usage_month",  "stats_users_month",   "stats_users_year",
    "stats_users_day", "stats_bookings_day", "stats_bookings_month"};

int yq_st_verify(const char *path, yq_st_verify_t *out) {
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return YQ_DB_ERROR;
    }
    sqlite3_busy_timeout(h, 5000);
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
