/*
 * Deltas into rollups (see stats_fold.h).
 */
#include "api/stats_fold.h"

#include "core/log.h"
#include "db/batch.h"
#include "net/server.h"

#define FOLD_MS 200

static uv_timer_t fold_timer;
static int fold_running, fold_queued;

static int pending(yq_db_t *db) {
    return yq_db_int(db,
                     yq_db_stmt(db, "SELECT EXISTS (SELECT 1 FROM stats_bookings_delta) OR "
                                    "EXISTS (SELECT 1 FROM stats_usage_delta)"),
                     0) > 0;
}

#define USAGE_SUMS                                                                                                     \
    "sum(uses), sum(minutes), sum(external_minutes), sum(cross_zone_minutes), sum(samples), sum(fee_fen) "
#define USAGE_ADD                                                                                                      \
    "ON CONFLICT DO UPDATE SET uses = uses + excluded.uses, minutes = minutes + excluded.minutes, "                    \
    "external_minutes = external_minutes + excluded.external_minutes, "                                                \
    "cross_zone_minutes = cross_zone_minutes + excluded.cross_zone_minutes, samples = samples + excluded.samples, "    \
    "fee_fen = fee_fen + excluded.fee_fen"
/* A local day number times 86400 is that day's midnight as if local time
 * were UTC, so strftime of it gives the local month. */
#define MONTH_OF_DAY "CAST(strftime('%Y%m', day * 86400, 'unixepoch') AS INTEGER)"

/* The fold itself, in an open transaction: each rollup gets the grouped sum
 * of the deltas (the upserts fire the triggers that keep the derived rows:
 * stats_users_year's masks from stats_users_day, migration 072, and
 * stats_usage_year from stats_usage_month, migration 073), then the logs
 * are emptied. */
static int fold(yq_db_t *db) {
    static const char *const steps[] = {
        "INSERT INTO stats_bookings_day (day, instrument_id, status, n) "
        "SELECT day, instrument_id, status, sum(d) FROM stats_bookings_delta GROUP BY 1, 2, 3 "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n",
        "INSERT INTO stats_bookings_month (month, instrument_id, status, n) "
        "SELECT " MONTH_OF_DAY ", instrument_id, status, sum(d) FROM stats_bookings_delta GROUP BY 1, 2, 3 "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n",
        "DELETE FROM stats_bookings_delta",
        "INSERT INTO stats_usage_day (day, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
        "cross_zone_minutes, samples, fee_fen) "
        "SELECT day, instrument_id, payer_zone_id, " USAGE_SUMS "FROM stats_usage_delta GROUP BY 1, 2, 3 " USAGE_ADD,
        "INSERT INTO stats_usage_month (month, instrument_id, payer_zone_id, uses, minutes, external_minutes, "
        "cross_zone_minutes, samples, fee_fen) "
        "SELECT " MONTH_OF_DAY ", instrument_id, payer_zone_id, " USAGE_SUMS "FROM stats_usage_delta "
        "GROUP BY 1, 2, 3 " USAGE_ADD,
        "INSERT INTO stats_users_month (instrument_id, month, user_id, payer_org_id, uses) "
        "SELECT instrument_id, " MONTH_OF_DAY ", user_id, payer_org_id, sum(uses) FROM stats_usage_delta "
        "GROUP BY 1, 2, 3, 4 ON CONFLICT DO UPDATE SET uses = uses + excluded.uses",
        "INSERT INTO stats_users_day (instrument_id, day, user_id, payer_org_id, uses) "
        "SELECT instrument_id, day, user_id, payer_org_id, sum(uses) FROM stats_usage_delta "
        "GROUP BY 1, 2, 3, 4 ON CONFLICT DO UPDATE SET uses = uses + excluded.uses",
        "DELETE FROM stats_usage_delta",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = yq_db_exec(db, steps[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int yq_st_fold(yq_db_t *db) {
    if (!pending(db))
        return 0;
    if (!sqlite3_get_autocommit(yq_db_handle(db)))
        return fold(db);
    int rc = yq_db_begin(db);
    if (rc < 0)
        return rc;
    rc = fold(db);
    if (rc < 0) {
        yq_db_rollback(db);
        return rc;
    }
    return yq_db_commit(db);
}

static int run_fold(void *ctx) {
    (void)ctx;
    yq_db_t *db = yq_db_main();
    return pending(db) ? fold(db) : 0;
}

static void after_fold(void *ctx, int rc) {
    (void)ctx;
    fold_queued = 0;
    if (rc < 0)
        yq_log_error("folding the booking statistics failed; the next fold retries");
}

static void on_fold(uv_timer_t *t) {
    (void)t;
    if (fold_queued || !pending(yq_db_main()))
        return;
    fold_queued = 1;
    yq_batch_submit(run_fold, after_fold, NULL);
}

static void on_stop(void *ctx) {
    (void)ctx;
    if (!fold_running)
        return;
    fold_running = 0;
    uv_timer_stop(&fold_timer);
    uv_close((uv_handle_t *)&fold_timer, NULL);
}

int yq_st_fold_start(uv_loop_t *loop) {
    int rc = uv_timer_init(loop, &fold_timer);
    if (rc == 0)
        rc = uv_timer_start(&fold_timer, on_fold, FOLD_MS, FOLD_MS);
    if (rc)
        return rc;
    fold_running = 1;
    yq_server_on_stop(on_stop, NULL);
    return 0;
}
