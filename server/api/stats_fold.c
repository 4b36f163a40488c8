/*
 * Booking deltas into booking rollups (see stats_fold.h).
 */
#include "api/stats_fold.h"

#include "core/log.h"
#include "db/batch.h"
#include "net/server.h"

#define FOLD_MS 200

static uv_timer_t fold_timer;
static int fold_running, fold_queued;

static int pending(yq_db_t *db) {
    return yq_db_int(db, yq_db_stmt(db, "SELECT EXISTS (SELECT 1 FROM stats_bookings_delta)"), 0) > 0;
}

/* The fold itself, in an open transaction. A local day number times 86400
 * is that day's midnight as if local time were UTC, so strftime gives the
 * local month. */
static int fold(yq_db_t *db) {
    static const char *const steps[] = {
        "INSERT INTO stats_bookings_day (day, instrument_id, status, n) "
        "SELECT day, instrument_id, status, sum(d) FROM stats_bookings_delta GROUP BY 1, 2, 3 "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n",
        "INSERT INTO stats_bookings_month (month, instrument_id, status, n) "
        "SELECT CAST(strftime('%Y%m', day * 86400, 'unixepoch') AS INTEGER), instrument_id, status, sum(d) "
        "FROM stats_bookings_delta GROUP BY 1, 2, 3 "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n",
        "DELETE FROM stats_bookings_delta",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = yq_db_exec(db, steps[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int yq_st_fold_bookings(yq_db_t *db) {
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
