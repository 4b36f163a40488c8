/*
 * The statistics rollups (migrations 060, 070-073; api/stats_store.c)
 * on a fresh database built by the real migrations: thousands of random
 * usage records (with reversals and corrections) and bookings (with status
 * changes and moves) are written straight into the tables, so the triggers
 * keep the rollups, folded every few records (api/stats_fold.c) so that
 * rollup rows are updated as well as inserted; then, for hundreds of random
 * ranges - whole months, whole days, partial days, across New Year - the
 * figures read from the rollups (month by month, as totals with years and
 * subtraction for several "now"s, distinct users one instrument at a time
 * and all at once) must equal the figures computed from the raw rows by the
 * pure formulas (domain/stats.h), and yq_st_verify must find the rollups
 * equal to a full recomputation, and notice one edited behind its back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/stats_fold.h"
#include "api/stats_store.h"
#include "core/arena.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "domain/stats.h"

#define NORGS 4
#define NUSERS 24
#define NINS 6
#define NUSAGE 3000
#define NBOOK 1500

static char path[64];
static yq_db_t *db;
static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static int64_t rnd(int64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((seed >> 33) % (uint64_t)n);
}

static int64_t T(const char *s) {
    int64_t t = 0;
    if (yq_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

typedef struct {
    int64_t instrument, user, payer, start, minutes, samples, fee;
    int reversal;
} rec_t;

typedef struct {
    int64_t instrument, start;
    const char *status;
} book_t;

static rec_t recs[NUSAGE + 8];
static size_t nrecs;
static book_t books[NBOOK];
static int64_t org_zone[NORGS + 1], user_org[NUSERS + 1], ins_org[NINS + 1];
static const char *ins_category[NINS + 1];
static int64_t span_from, span_to;

static void exec_ok(const char *sql) {
    assert_int_equal(yq_db_exec(db, sql), 0);
}

static void insert_world(void) {
    for (int o = 1; o <= NORGS; o++) {
        sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO orgs (id, code, name_zh, name_en, kind, zone_id, credit_code) "
                                          "VALUES (?1, ?2, ?2, ?2, 'university', ?3, ?2)");
        char code[16];
        snprintf(code, sizeof code, "O%d", o);
        org_zone[o] = o <= 2 ? 1 : 2;
        sqlite3_bind_int(st, 1, o);
        sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, org_zone[o]);
        assert_int_equal(yq_db_step(db, st), 0);
    }
    for (int u = 1; u <= NUSERS; u++) {
        sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO users (id, login, name, org_id, password_hash) "
                                          "VALUES (?1, 'u' || ?1, 'u', ?2, 'x')");
        user_org[u] = 1 + u % NORGS;
        sqlite3_bind_int(st, 1, u);
        sqlite3_bind_int64(st, 2, user_org[u]);
        assert_int_equal(yq_db_step(db, st), 0);
    }
    static const char *const purchase[NINS + 1] = {"", "", "2026-03-15", "", "2020-01-01", "", "2026-12-31"};
    for (int i = 1; i <= NINS; i++) {
        sqlite3_stmt *st = yq_db_stmt(
            db,
            "INSERT INTO instruments (id, owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, "
            "category_type, share_mode, run_status, original_value_fen, open_hours, purchase_date, retired_at) "
            "VALUES (?1, ?2, 'a' || ?1, 'n', 'n', 'm', 'm', '010101', ?3, 'external', 'normal', 1, '[]', ?4, ?5)");
        ins_org[i] = 1 + i % NORGS;
        ins_category[i] = i % 3 ? "general" : "specialised";
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int64(st, 2, ins_org[i]);
        sqlite3_bind_text(st, 3, ins_category[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, purchase[i], -1, SQLITE_STATIC);
        if (i == 5)
            sqlite3_bind_int64(st, 5, T("2026-08-20T12:00:00+08:00")); /* retired mid-range */
        assert_int_equal(yq_db_step(db, st), 0);
    }
}

/* Appends one usage record; returns its id. */
static int64_t insert_usage(const rec_t *r, const char *kind, int64_t corrects) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, corrects_id, "
            "start, end, minutes, samples, source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, "
            "basis, fee_fen, cash_fen, created_at, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7 + 60 * "
            "abs(?8), ?8, ?9, 'manual', '2026-01', ?10, 'hour', 100, 0, 15, 'used', ?11, ?11, 0, '', '')");
    int64_t provider = ins_org[r->instrument];
    const char *tier = r->payer == provider                       ? "internal"
                       : org_zone[r->payer] == org_zone[provider] ? "zone"
                                                                  : "cross_zone";
    sqlite3_bind_int64(st, 1, r->instrument);
    sqlite3_bind_int64(st, 2, provider);
    sqlite3_bind_int64(st, 3, r->user);
    sqlite3_bind_int64(st, 4, r->payer);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
    if (corrects)
        sqlite3_bind_int64(st, 6, corrects);
    sqlite3_bind_int64(st, 7, r->start);
    sqlite3_bind_int64(st, 8, r->minutes);
    sqlite3_bind_int64(st, 9, r->samples);
    sqlite3_bind_text(st, 10, tier, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, r->fee);
    assert_int_equal(yq_db_step(db, st), 0);
    return yq_db_last_id(db);
}

static void insert_usage_history(void) {
    span_from = T("2025-10-01T00:00:00+08:00");
    span_to = T("2027-02-01T00:00:00+08:00");
    while (nrecs < NUSAGE - 2) {
        rec_t r = {.instrument = 1 + rnd(NINS), .user = 1 + rnd(NUSERS)};
        r.payer = user_org[r.user];
        r.start = span_from + rnd(span_to - span_from);
        r.minutes = 15 + rnd(300);
        r.samples = rnd(5);
        r.fee = rnd(50000);
        recs[nrecs++] = r;
        if (nrecs % 5 == 0) /* folded now and then: later records update the rollup rows */
            assert_int_equal(yq_st_fold(db), 0);
        int64_t id = insert_usage(&r, "original", 0);
        int64_t dice = rnd(10);
        if (dice < 2) { /* voided or corrected: a reversal with the original's start */
            rec_t rev = r;
            rev.reversal = 1;
            rev.minutes = -r.minutes;
            rev.samples = -r.samples;
            rev.fee = -r.fee;
            recs[nrecs++] = rev;
            if (rnd(3) == 0) /* the void in a later fold: its day's bit is cleared */
                assert_int_equal(yq_st_fold(db), 0);
            insert_usage(&rev, "reversal", id);
            if (dice == 1) { /* the correction, on another day */
                rec_t c = r;
                c.start = r.start + (rnd(2) ? 1 : -1) * (3600 + rnd(40 * 86400));
                c.minutes = 15 + rnd(100);
                recs[nrecs++] = c;
                insert_usage(&c, "correction", id);
            }
        }
    }
}

static const char *const statuses[] = {"completed", "cancelled", "no_show", "rejected"};

static void insert_bookings(void) {
    for (int i = 0; i < NBOOK; i++) {
        book_t *b = &books[i];
        b->instrument = 1 + rnd(NINS);
        b->start = span_from + rnd(span_to - span_from);
        b->status = statuses[rnd(4)];
        sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO bookings (id, instrument_id, user_id, payer_org_id, start, end, "
                                          "status) VALUES (?1, ?2, 1, 1, ?3, ?3 + 1800, ?4)");
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_int64(st, 2, b->instrument);
        sqlite3_bind_int64(st, 3, b->start);
        sqlite3_bind_text(st, 4, b->status, -1, SQLITE_STATIC);
        assert_int_equal(yq_db_step(db, st), 0);
    }
    /* Status changes and moves (to other days, months, instruments). */
    for (int k = 0; k < NBOOK / 3; k++) {
        int i = (int)rnd(NBOOK);
        book_t *b = &books[i];
        b->status = statuses[rnd(4)];
        if (rnd(3) == 0)
            b->start += rnd(2 * 86400 * 30) - 86400 * 30;
        if (rnd(5) == 0)
            b->instrument = 1 + rnd(NINS);
        sqlite3_stmt *st = yq_db_stmt(
            db, "UPDATE bookings SET status = ?2, start = ?3, end = ?3 + 1800, instrument_id = ?4 WHERE id = ?1");
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_text(st, 2, b->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, b->start);
        sqlite3_bind_int64(st, 4, b->instrument);
        assert_int_equal(yq_db_step(db, st), 0);
    }
}

static void insert_blocks(void) {
    for (int k = 0; k < 40; k++) {
        int64_t s = span_from + rnd(span_to - span_from);
        sqlite3_stmt *st =
            yq_db_stmt(db, "INSERT INTO blocks (instrument_id, start, end, reason) VALUES (?1, ?2, ?3, 'm')");
        sqlite3_bind_int64(st, 1, 1 + rnd(NINS));
        sqlite3_bind_int64(st, 2, s);
        sqlite3_bind_int64(st, 3, s + 3600 + rnd(20 * 86400));
        assert_int_equal(yq_db_step(db, st), 0);
    }
}

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/yq-test-stats-store-%d.db", (int)getpid());
    unlink(path);
    db = yq_db_open(path);
    assert_non_null(db);
    yq_db_set_main(db);
    exec_ok("BEGIN");
    insert_world();
    insert_usage_history();
    insert_bookings();
    insert_blocks();
    exec_ok("COMMIT");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    yq_db_close(db);
    char p[80];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

/* A random instant in the span, often a local midnight or a month's start. */
static int64_t random_instant(void) {
    int64_t t = span_from - 20 * 86400 + rnd(span_to - span_from + 40 * 86400);
    switch (rnd(4)) {
    case 0:
        return yq_stats_day_start(yq_stats_day_of(t));
    case 1:
        return yq_stats_month_start(yq_stats_month_of(t));
    default:
        return t;
    }
}

static void visit_sums(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s) {
    (void)month;
    (void)payer_zone_id;
    yq_st_sums_add(&((yq_st_sums_t *)ctx)[idx], s);
}

static void visit_total(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s) {
    assert_int_equal(month, 0);
    (void)payer_zone_id;
    yq_st_sums_add(&((yq_st_sums_t *)ctx)[idx], s);
}

static void visit_bookings(void *ctx, int month, size_t idx, const char *status, int64_t n) {
    (void)month;
    assert_int_equal(yq_stats_bookings_add(&((yq_stats_bookings_t *)ctx)[idx], status, n), 0);
}

static void check_range(int64_t from, int64_t to) {
    yq_arena_t *a = yq_arena_create();
    yq_st_catalogue_t cat;
    yq_st_filter_t f = {.from = from, .to = to};
    assert_int_equal(yq_st_load(db, &f, a, &cat), 0);
    assert_int_equal(cat.n, NINS);
    yq_st_sums_t got[NINS] = {{0}};
    yq_stats_bookings_t got_b[NINS] = {{0}};
    assert_int_equal(yq_st_usage(db, &cat, from, to, visit_sums, got), 0);
    assert_int_equal(yq_st_bookings(db, &cat, from, to, visit_bookings, got_b), 0);
    /* The totals, planned for a "now" before, inside and after the range
     * (the plan changes, the sums must not). */
    const int64_t nows[] = {from - 40 * 86400, from + (to - from) / 2, to, T("2026-11-29T10:00:00+08:00")};
    for (size_t k = 0; k < sizeof nows / sizeof nows[0]; k++) {
        int64_t now = nows[k];
        yq_st_sums_t tot[NINS] = {{0}};
        assert_int_equal(yq_st_usage_totals(db, &cat, from, to, now, visit_total, tot), 0);
        for (size_t idx = 0; idx < cat.n; idx++)
            if (memcmp(&tot[idx], &got[idx], sizeof tot[idx]) != 0)
                fail_msg("instrument %lld over [%lld, %lld), now %lld: totals {%lld min, %lld uses} differ from the "
                         "month rows {%lld min, %lld uses}",
                         (long long)cat.ins[idx].id, (long long)from, (long long)to, (long long)now,
                         (long long)tot[idx].minutes, (long long)tot[idx].uses, (long long)got[idx].minutes,
                         (long long)got[idx].uses);
    }
    /* Distinct users of every instrument in one call. */
    int64_t ids[NINS], all_users[NINS], all_orgs[NINS];
    for (size_t idx = 0; idx < cat.n; idx++)
        ids[idx] = cat.ins[idx].id;
    assert_int_equal(yq_st_people_many(db, ids, cat.n, from, to, all_users, all_orgs), 0);
    for (size_t idx = 0; idx < cat.n; idx++) {
        int64_t id = cat.ins[idx].id;
        yq_stats_row_t rows[NUSAGE + 8];
        size_t n = 0;
        for (size_t k = 0; k < nrecs; k++)
            if (recs[k].instrument == id && recs[k].start >= from && recs[k].start < to)
                rows[n++] = (yq_stats_row_t){recs[k].user,     recs[k].payer,   org_zone[recs[k].payer],
                                             recs[k].reversal, recs[k].minutes, recs[k].samples,
                                             recs[k].fee};
        yq_stats_t want;
        assert_int_equal(yq_stats_instrument(ins_org[id], org_zone[ins_org[id]], rows, n, &want), 0);
        const yq_st_sums_t *g = &got[idx];
        if (g->minutes != want.used_minutes || g->external_minutes != want.external_minutes ||
            g->cross_zone_minutes != want.cross_zone_minutes || g->uses != want.uses || g->samples != want.samples ||
            g->fee_fen != want.fee_fen)
            fail_msg("instrument %lld over [%lld, %lld): rollups {%lld %lld %lld %lld %lld %lld}, records {%lld %lld "
                     "%lld %lld %lld %lld}",
                     (long long)id, (long long)from, (long long)to, (long long)g->minutes,
                     (long long)g->external_minutes, (long long)g->cross_zone_minutes, (long long)g->uses,
                     (long long)g->samples, (long long)g->fee_fen, (long long)want.used_minutes,
                     (long long)want.external_minutes, (long long)want.cross_zone_minutes, (long long)want.uses,
                     (long long)want.samples, (long long)want.fee_fen);
        int64_t users, orgs;
        assert_int_equal(yq_st_people(db, id, from, to, &users, &orgs), 0);
        if (users != want.users || orgs != want.orgs || all_users[idx] != want.users || all_orgs[idx] != want.orgs)
            fail_msg("instrument %lld over [%lld, %lld): users %lld / orgs %lld (all at once %lld / %lld), records "
                     "say %lld / %lld",
                     (long long)id, (long long)from, (long long)to, (long long)users, (long long)orgs,
                     (long long)all_users[idx], (long long)all_orgs[idx], (long long)want.users, (long long)want.orgs);
        /* Rated: the in-service part of the range, less every block of the instrument. */
        yq_stats_block_t blocks[64];
        size_t nb = 0;
        sqlite3_stmt *st = yq_db_stmt(db, "SELECT start, end FROM blocks WHERE instrument_id = ?1");
        sqlite3_bind_int64(st, 1, id);
        while (yq_db_step(db, st) == 1 && nb < 64)
            blocks[nb++] = (yq_stats_block_t){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
        sqlite3_reset(st);
        int64_t lo, hi;
        yq_stats_in_service(from, to, cat.ins[idx].since, cat.ins[idx].until, &lo, &hi);
        int64_t rated =
            hi > lo ? yq_stats_rated_minutes(ins_category[id], lo, hi, yq_stats_block_minutes(blocks, nb, lo, hi)) : 0;
        assert_int_equal(yq_st_rated(&cat, idx, from, to), rated);
        yq_stats_bookings_t want_b = {0};
        for (int k = 0; k < NBOOK; k++)
            if (books[k].instrument == id && books[k].start >= from && books[k].start < to)
                yq_stats_bookings_add(&want_b, books[k].status, 1);
        assert_memory_equal(&got_b[idx], &want_b, sizeof want_b);
    }
    yq_st_release(&cat);
    yq_arena_destroy(a);
}

static void test_rollups_equal_records(void **state) {
    (void)state;
    /* Named ranges first: a calendar year, one across New Year, one day, one partial day. */
    check_range(T("2026-01-01T00:00:00+08:00"), T("2027-01-01T00:00:00+08:00"));
    check_range(T("2026-11-17T13:05:00+08:00"), T("2027-01-20T09:00:00+08:00"));
    check_range(T("2026-05-04T00:00:00+08:00"), T("2026-05-05T00:00:00+08:00"));
    check_range(T("2026-05-04T08:00:00+08:00"), T("2026-05-04T19:00:00+08:00"));
    check_range(span_from - 86400 * 400, span_to + 86400 * 400);
    for (int k = 0; k < 300; k++) {
        int64_t a = random_instant(), b = random_instant();
        check_range(a < b ? a : b, a < b ? b : a + 1);
    }
}

static void test_verify(void **state) {
    (void)state;
    yq_st_verify_t v;
    assert_int_equal(yq_st_verify(path, &v), 0);
    for (int i = 0; i < YQ_ST_ROLLUPS; i++) {
        if (v.diff[i] != 0)
            fail_msg("%s: %lld rows differ from the recomputation", v.name[i], (long long)v.diff[i]);
        assert_true(v.rows[i] > 0);
    }
    /* A rebuild from scratch (the bulk writers' path) gives the same rollups,
     * and leaves the triggers on: a record written afterwards is counted. */
    yq_st_verify_t before = v;
    exec_ok("BEGIN");
    assert_int_equal(yq_st_defer(db), 0);
    rec_t late = {.instrument = 1, .user = 1, .payer = user_org[1], .start = span_from + 86400, .minutes = 30};
    recs[nrecs++] = late;
    insert_usage(&late, "original", 0); /* deferred: not in the rollups until the rebuild */
    assert_int_equal(yq_st_rebuild(db), 0);
    exec_ok("COMMIT");
    assert_int_equal(yq_st_verify(path, &v), 0);
    for (int i = 0; i < YQ_ST_ROLLUPS; i++)
        if (v.diff[i] != 0 || v.rows[i] < before.rows[i])
            fail_msg("%s after the rebuild: %lld rows differ, %lld rows (%lld before)", v.name[i], (long long)v.diff[i],
                     (long long)v.rows[i], (long long)before.rows[i]);
    late.start += 3600;
    recs[nrecs++] = late;
    insert_usage(&late, "original", 0);
    assert_int_equal(yq_st_verify(path, &v), 0);
    for (int i = 0; i < YQ_ST_ROLLUPS; i++)
        assert_int_equal(v.diff[i], 0);
    check_range(span_from, span_from + 3 * 86400);

    /* A lone user's day, folded step by step: the record sets the day's bit
     * in stats_users_year, its void clears it, a new record sets it again. */
    int64_t day = yq_stats_day_of(T("2026-03-10T00:00:00+08:00")), t0 = yq_stats_day_start(day);
    rec_t lone = {.instrument = 2, .user = NUSERS, .payer = user_org[NUSERS], .start = t0 + 9 * 3600, .minutes = 40};
    int64_t users, orgs, before_users;
    assert_int_equal(yq_st_people(db, 2, t0, t0 + 86400, &before_users, &orgs), 0);
    for (size_t k = 0; k < nrecs; k++)
        assert_false(recs[k].instrument == 2 && recs[k].user == NUSERS && yq_stats_day_of(recs[k].start) == day);
    recs[nrecs++] = lone;
    int64_t lone_id = insert_usage(&lone, "original", 0);
    assert_int_equal(yq_st_fold(db), 0);
    assert_int_equal(yq_st_people(db, 2, t0, t0 + 86400, &users, &orgs), 0);
    assert_int_equal(users, before_users + 1);
    rec_t lone_void = lone;
    lone_void.reversal = 1;
    lone_void.minutes = -lone.minutes;
    recs[nrecs++] = lone_void;
    insert_usage(&lone_void, "reversal", lone_id);
    assert_int_equal(yq_st_fold(db), 0);
    assert_int_equal(yq_st_people(db, 2, t0, t0 + 86400, &users, &orgs), 0);
    assert_int_equal(users, before_users);
    lone.start += 3600;
    recs[nrecs++] = lone;
    insert_usage(&lone, "original", 0);
    assert_int_equal(yq_st_fold(db), 0);
    assert_int_equal(yq_st_people(db, 2, t0, t0 + 86400, &users, &orgs), 0);
    assert_int_equal(users, before_users + 1);
    assert_int_equal(yq_st_verify(path, &v), 0);
    for (int i = 0; i < YQ_ST_ROLLUPS; i++)
        assert_int_equal(v.diff[i], 0);
    check_range(t0 - 40 * 86400, t0 + 86400);
    check_range(t0 + 3600, t0 + 86400 * 300);

    /* One row edited behind the triggers' back is found (it differs both
     * ways), in its own table only: the ones kept from it follow it. */
    static const char *const edits[][3] = {
        {"stats_users_month",
         "UPDATE stats_users_month SET uses = uses + 1 WHERE (instrument_id, month, user_id, "
         "payer_org_id) = (SELECT instrument_id, month, user_id, payer_org_id FROM "
         "stats_users_month WHERE uses > 0 LIMIT 1)",
         "UPDATE stats_users_month SET uses = uses - 1 WHERE (instrument_id, month, user_id, payer_org_id) = (SELECT "
         "instrument_id, month, user_id, payer_org_id FROM stats_users_month WHERE uses > 0 LIMIT 1)"},
        {"stats_users_year",
         "UPDATE stats_users_year SET d3 = (d3 | 8) - (d3 & 8) WHERE (instrument_id, year, "
         "user_id, payer_org_id) = (SELECT instrument_id, year, user_id, payer_org_id FROM "
         "stats_users_year WHERE months <> 0 LIMIT 1)",
         "UPDATE stats_users_year SET d3 = (d3 | 8) - (d3 & 8) WHERE (instrument_id, year, user_id, payer_org_id) = "
         "(SELECT instrument_id, year, user_id, payer_org_id FROM stats_users_year WHERE months <> 0 LIMIT 1)"},
        {"stats_usage_year",
         "UPDATE stats_usage_year SET minutes = minutes + 7 WHERE (year, instrument_id, "
         "payer_zone_id) = (SELECT year, instrument_id, payer_zone_id FROM stats_usage_year "
         "LIMIT 1)",
         "UPDATE stats_usage_year SET minutes = minutes - 7 WHERE (year, instrument_id, payer_zone_id) = (SELECT "
         "year, instrument_id, payer_zone_id FROM stats_usage_year LIMIT 1)"},
    };
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        exec_ok(edits[e][1]);
        assert_int_equal(yq_st_verify(path, &v), 0);
        for (int i = 0; i < YQ_ST_ROLLUPS; i++)
            if (v.diff[i] != (strcmp(v.name[i], edits[e][0]) == 0 ? 2 : 0))
                fail_msg("after editing %s: %s differs in %lld rows", edits[e][0], v.name[i], (long long)v.diff[i]);
        exec_ok(edits[e][2]);
        assert_int_equal(yq_st_verify(path, &v), 0);
        for (int i = 0; i < YQ_ST_ROLLUPS; i++)
            assert_int_equal(v.diff[i], 0);
    }
    assert_int_equal(yq_st_verify("/nonexistent/yq.db", &v), YQ_DB_ERROR);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollups_equal_records),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
