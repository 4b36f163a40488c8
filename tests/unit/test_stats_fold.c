/*
 * The statistics deltas (migrations 070, 071; api/stats_fold.c) on a fresh
 * database built by the real migrations: writes append to the delta logs
 * and leave the rollups alone; yq_st_verify counts pending deltas as if
 * folded; yq_st_fold moves them into every rollup (stats_users_year too,
 * through the month table's triggers) and empties the logs; a reversal and a
 * booking's status change fold to the same rollups as the rows they net.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/stats_fold.h"
#include "api/stats_store.h"
#include "core/timeutil.h"
#include "db/db.h"

static char path[64];
static yq_db_t *db;

static void exec_ok(const char *sql) {
    assert_int_equal(yq_db_exec(db, sql), 0);
}

static int64_t count(const char *sql) {
    return yq_db_int(db, yq_db_stmt(db, sql), -1);
}

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/yq-test-fold-%d.db", (int)getpid());
    unlink(path);
    db = yq_db_open(path);
    assert_non_null(db);
    yq_db_set_main(db);
    exec_ok("INSERT INTO orgs (id, code, name_zh, name_en, kind, zone_id, credit_code) VALUES "
            "(1, 'A', 'A', 'A', 'university', 1, 'A'), (2, 'B', 'B', 'B', 'university', 2, 'B')");
    exec_ok("INSERT INTO users (id, login, name, org_id, password_hash) VALUES (1, 'u1', 'u', 2, 'x')");
    exec_ok("INSERT INTO instruments (id, owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, "
            "category_type, share_mode, run_status, original_value_fen, open_hours) "
            "VALUES (1, 1, 'a', 'n', 'n', 'm', 'm', '010101', 'general', 'external', 'normal', 1, '[]')");
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

/* A 90-minute cross-zone use at `start` (RFC 3339), or its reversal. */
static void insert_usage(const char *start, const char *kind, int64_t corrects) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, corrects_id, "
            "start, end, minutes, samples, source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, "
            "basis, fee_fen, cash_fen, created_at, prev_hash, hash) VALUES (1, 1, 1, 2, ?1, ?2, ?3, ?3 + 5400, ?4, "
            "0, 'manual', '2026-03', 'cross_zone', 'hour', 100, 0, 15, 'used', ?5, ?5, 0, '', '')");
    int64_t t = 0;
    assert_int_equal(yq_time_parse(start, &t), 0);
    int reversal = corrects != 0;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (corrects)
        sqlite3_bind_int64(st, 2, corrects);
    sqlite3_bind_int64(st, 3, t);
    sqlite3_bind_int64(st, 4, reversal ? -90 : 90);
    sqlite3_bind_int64(st, 5, reversal ? -15000 : 15000);
    assert_int_equal(yq_db_step(db, st), 0);
}

static void assert_verified(void) {
    yq_st_verify_t v;
    assert_int_equal(yq_st_verify(path, &v), 0);
    for (int i = 0; i < YQ_ST_ROLLUPS; i++)
        if (v.diff[i])
            fail_msg("%s differs from a recomputation in %lld rows", v.name[i], (long long)v.diff[i]);
}

static void test_writes_append_deltas_and_fold_into_rollups(void **state) {
    (void)state;
    insert_usage("2026-03-31T23:30:00+08:00", "original", 0); /* local 31 March, UTC 31 March */
    insert_usage("2026-04-01T07:00:00+08:00", "original", 0); /* local 1 April, UTC 31 March */
    insert_usage("2026-04-02T09:00:00+08:00", "original", 0);
    insert_usage("2026-04-02T09:00:00+08:00", "reversal", 3); /* nets the third out */
    exec_ok("INSERT INTO bookings (id, instrument_id, user_id, payer_org_id, start, end, status) VALUES "
            "(1, 1, 1, 2, unixepoch('2026-04-05 02:00:00'), unixepoch('2026-04-05 03:00:00'), 'confirmed'), "
            "(2, 1, 1, 2, unixepoch('2026-04-06 02:00:00'), unixepoch('2026-04-06 03:00:00'), 'confirmed')");
    exec_ok("UPDATE bookings SET status = 'cancelled' WHERE id = 2");

    /* Nothing in the rollups yet, everything in the logs. */
    assert_int_equal(count("SELECT count(*) FROM stats_usage_delta"), 4);
    assert_int_equal(count("SELECT count(*) FROM stats_bookings_delta"), 4);
    assert_int_equal(count("SELECT count(*) FROM stats_usage_day"), 0);
    assert_int_equal(count("SELECT count(*) FROM stats_bookings_day"), 0);
    assert_verified(); /* pending deltas count as folded */

    assert_int_equal(yq_st_fold(db), 0);
    assert_int_equal(count("SELECT count(*) FROM stats_usage_delta"), 0);
    assert_int_equal(count("SELECT count(*) FROM stats_bookings_delta"), 0);
    /* By local month: 90 min in March, 90 + 90 - 90 in April. */
    assert_int_equal(count("SELECT minutes FROM stats_usage_month WHERE month = 202603"), 90);
    assert_int_equal(count("SELECT minutes FROM stats_usage_month WHERE month = 202604"), 90);
    assert_int_equal(count("SELECT cross_zone_minutes FROM stats_usage_month WHERE month = 202604"), 90);
    assert_int_equal(count("SELECT payer_zone_id FROM stats_usage_month WHERE month = 202604"), 2);
    assert_int_equal(count("SELECT uses FROM stats_usage_day WHERE day = (unixepoch('2026-04-02') / 86400)"), 0);
    /* The user used it in March and April: both bits of the year mask. */
    assert_int_equal(count("SELECT months FROM stats_users_year WHERE year = 2026 AND user_id = 1"),
                     (1 << 2) | (1 << 3));
    assert_int_equal(count("SELECT n FROM stats_bookings_month WHERE month = 202604 AND status = 'confirmed'"), 1);
    assert_int_equal(count("SELECT n FROM stats_bookings_month WHERE month = 202604 AND status = 'cancelled'"), 1);
    assert_verified();

    /* A second fold of more writes adds to the rows already there. */
    insert_usage("2026-04-03T09:00:00+08:00", "original", 0);
    assert_int_equal(yq_st_fold(db), 0);
    assert_int_equal(count("SELECT minutes FROM stats_usage_month WHERE month = 202604"), 180);
    assert_int_equal(yq_st_fold(db), 0); /* nothing pending: a no-op */
    assert_verified();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_append_deltas_and_fold_into_rollups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
