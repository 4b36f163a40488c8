/*
 * Reading the statistics rollups (migration 060) for the stats API
 * (api/stats.c, api/stats_export.c). The formulas are domain/stats.h; this
 * file only fetches what they need, never by scanning the usage log:
 *
 *   yq_st_load()      the instruments a query is about (filters by owner
 *                     institution, zone and class prefix), each with its
 *                     in-service window and the maintenance blocks inside
 *                     the query's range;
 *   yq_st_usage()     usage sums over [from, to), visited per (month,
 *                     instrument, payer zone), read as yq_stats_plan()
 *                     splits the range: month rows, day rows, and the
 *                     records of partial days;
 *   yq_st_usage_totals() the same sums without months, read with year
 *                     rows and subtraction where that reads fewer rows;
 *   yq_st_rated()     an instrument's rated minutes over [from, to);
 *   yq_st_people_many() distinct users and payer institutions of
 *                     instruments over [from, to);
 *   yq_st_bookings()  booking counts by status, visited like the usage;
 *   yq_st_verify()    recomputes every rollup from the log and the bookings
 *                     and counts the rows that differ (a full scan, on its
 *                     own connection: on demand only, off the loop).
 *
 * The others read through the statement cache of the connection given (the
 * server's yq_db_main()) and return 0 or a negative YQ_DB_* code.
 */
#ifndef YQ_API_STATS_STORE_H
#define YQ_API_STATS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "domain/stats.h"

/* Which instruments, over which range. Zero / "" fields do not filter. */
typedef struct {
    int64_t from, to;
    int64_t org_id;       /* owner institution */
    int64_t zone_id;      /* owner's zone */
    char class_prefix[7]; /* 2, 4 or 6 digits (domain/classes.h) */
} yq_st_filter_t;

/* One instrument as statistics see it. Strings live in the load's arena. */
typedef struct {
    int64_t id, owner_org_id, zone_id, value_fen;
    int64_t since; /* in service from (local midnight of the purchase date), 0 when unknown */
    int64_t until; /* retired at, 0 when in service */
    char class_code[8];
    const char *category_type, *asset_no, *name_zh, *name_en, *model, *manufacturer, *country, *department,
        *purchase_date, *address, *room, *run_status, *share_mode, *org_code, *org_name_zh, *org_name_en,
        *org_credit_code, *zone_code;
    size_t block_first, block_count; /* its blocks in the catalogue's blocks[] */
} yq_st_instrument_t;

typedef struct {
    yq_st_instrument_t *ins; /* in id order */
    size_t n;
    int32_t *slot; /* instrument id -> index in ins, -1 when not loaded; ids 0 .. max_id */
    int64_t max_id;
    yq_stats_block_t *blocks; /* grouped by instrument, in start order */
    size_t nblocks;
} yq_st_catalogue_t;

/* Loads the instruments matching f and their blocks overlapping [f->from,
 * f->to). Strings are copied into the arena a; the arrays are malloc'd and
 * freed by yq_st_release. Returns 0 or a negative code (then nothing needs
 * releasing). */
int yq_st_load(yq_db_t *db, const yq_st_filter_t *f, yq_arena_t *a, yq_st_catalogue_t *out);
void yq_st_release(yq_st_catalogue_t *c);

/* The index of an instrument in c, or -1 when it is not loaded. */
static inline int64_t yq_st_index(const yq_st_catalogue_t *c, int64_t instrument_id) {
    return instrument_id >= 0 && instrument_id <= c->max_id ? c->slot[instrument_id] : -1;
}

/* Usage sums of a set of records. */
typedef struct {
    int64_t uses, minutes, external_minutes, cross_zone_minutes, samples, fee_fen;
} yq_st_sums_t;

static inline void yq_st_sums_add(yq_st_sums_t *acc, const yq_st_sums_t *s) {
    acc->uses += s->uses;
    acc->minutes += s->minutes;
    acc->external_minutes += s->external_minutes;
    acc->cross_zone_minutes += s->cross_zone_minutes;
    acc->samples += s->samples;
    acc->fee_fen += s->fee_fen;
}

/* Called once per rollup row (or record of a partial day) of a loaded
 * instrument: the local month (YYYYMM) the row counts in, the instrument's
 * index in the catalogue, the payer's zone and the sums. */
typedef void (*yq_st_usage_fn)(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s);

/* Visits the usage of c's instruments whose start lies in [from, to).
 * Returns 0, YQ_DOM_EINVAL-like -1 when to < from, or a negative code. */
int yq_st_usage(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_usage_fn fn, void *ctx);

/* The same sums as yq_st_usage, but totals only: every row is visited with
 * month 0, and some are subtracted (their sums negated), as the range is
 * read as whole years, months and days less what lies outside it where
 * that reads fewer rows (stats_usage_year, migration 073). For visitors
 * that only add, per instrument and payer zone. `now` (yq_now()) only
 * guides the choice: units after it are taken to be empty, and read
 * anyway where the plan needs them, so the sums never depend on it. */
int yq_st_usage_totals(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, int64_t now,
                       yq_st_usage_fn fn, void *ctx);

/* Rated minutes of instrument idx over [from, to): its category's hours
 * prorated over the part of the range it was in service, less the
 * maintenance blocks there (only blocks loaded with the catalogue count, so
 * [from, to) must lie within the load's range). */
int64_t yq_st_rated(const yq_st_catalogue_t *c, size_t idx, int64_t from, int64_t to);

/* Distinct users and payer institutions with uses left (records minus
 * reversals) on each of the instruments ids[0 .. n) (ascending, distinct)
 * over [from, to), into users[i] and orgs[i]: whole days from the month and
 * day masks of stats_users_year (migration 072), one row per instrument,
 * user, payer and year the range touches; the records of partial days once
 * for all the instruments. Returns 0 or a negative code. */
int yq_st_people_many(yq_db_t *db, const int64_t *ids, size_t n, int64_t from, int64_t to, int64_t *users,
                      int64_t *orgs);
/* The same for one instrument. */
int yq_st_people(yq_db_t *db, int64_t instrument_id, int64_t from, int64_t to, int64_t *users, int64_t *orgs);

/* Called once per booking rollup row (or booking of a partial day): the
 * month, the instrument's index, the status and how many. */
typedef void (*yq_st_bookings_fn)(void *ctx, int month, size_t idx, const char *status, int64_t n);
int yq_st_bookings(yq_db_t *db, const yq_st_catalogue_t *c, int64_t from, int64_t to, yq_st_bookings_fn fn, void *ctx);

/* Bulk writers (the demo's year of history): yq_st_defer() inside the
 * writer's transaction switches the rollup triggers off (migration 060,
 * table stats_deferred); yq_st_rebuild(), before the commit, recomputes
 * every rollup from the log and the bookings at once and switches them on
 * again. Both return 0 or a negative code. */
int yq_st_defer(yq_db_t *db);
int yq_st_rebuild(yq_db_t *db);

/* A zone (for names in answers). */
typedef struct {
    int64_t id;
    const char *code, *name_zh, *name_en;
} yq_st_zone_t;

/* Every zone, in id order, strings in the arena. Returns the count (>= 0)
 * or a negative code; *out is arena memory. */
int yq_st_zones(yq_db_t *db, yq_arena_t *a, yq_st_zone_t **out);

/* Recomputes each rollup table from usage_records and bookings and counts
 * the rows (ignoring rows whose figures are all zero) that are in one and
 * not the other: name[i], rows[i], diff[i] for the YQ_ST_ROLLUPS tables.
 * Works on its own read-only connection to the database file at path, in
 * one read transaction, and never touches yq_db_main(): thread-safe, for
 * the thread pool (a full scan takes seconds on a year of records).
 * Returns 0 or YQ_DB_ERROR. */
#define YQ_ST_ROLLUPS 8
typedef struct {
    const char *name[YQ_ST_ROLLUPS];
    int64_t rows[YQ_ST_ROLLUPS]; /* non-zero rows in the rollup */
    int64_t diff[YQ_ST_ROLLUPS]; /* rows in either but not both */
} yq_st_verify_t;
int yq_st_verify(const char *path, yq_st_verify_t *out);

#endif
