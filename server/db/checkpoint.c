/*
 * Background checkpoints (see checkpoint.h).
 *
 * The loop thread owns C, except: the worker's connection `C.bg`, which
 * only the one queued work item uses (never two at a time: `busy`); and
 * what the wal hook reads or counts on the writer thread (`busy`,
 * `failed_open`, `started`, the inline count), accessed atomically. The
 * hook never queues work itself: it wakes the loop (C.async).
 */
#include "db/checkpoint.h"

#include "core/log.h"
#include "http/metrics.h"

#define CHECKPOINT_FRAMES 4000 /* about 16 MB of WAL at 4 KiB pages */
#define RESTART_FRAMES 16000

static struct {
    uv_loop_t *loop;
    yq_db_t *db;
    sqlite3 *bg; /* the worker's connection, opened on first use */
    uv_work_t work;
    uv_async_t async;
    int busy, started, failed_open;
    int mark; /* the WAL's size when the last background checkpoint was asked for */
    yq_checkpoint_stats_t stats;
} C;

static void work_checkpoint(uv_work_t *w) {
    (void)w;
    if (!C.bg && !C.failed_open) {
        if (sqlite3_open_v2(yq_db_path(C.db), &C.bg, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
            sqlite3_close(C.bg);
            C.bg = NULL;
            __atomic_store_n(&C.failed_open, 1, __ATOMIC_RELAXED);
        }
    }
    if (C.bg)
        sqlite3_wal_checkpoint_v2(C.bg, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static void after_checkpoint(uv_work_t *w, int status) {
    (void)w;
    (void)status;
    __atomic_store_n(&C.busy, 0, __ATOMIC_RELAXED);
    C.stats.background++;
    if (!C.started) { /* stopped meanwhile */
        sqlite3_close(C.bg);
        C.bg = NULL;
    }
    if (__atomic_load_n(&C.failed_open, __ATOMIC_RELAXED) == 1) {
        yq_log_warn("background checkpoint: cannot open %s; the committing threads checkpoint instead",
                    yq_db_path(C.db));
        __atomic_store_n(&C.failed_open, 2, __ATOMIC_RELAXED);
    }
}

/* On the loop: a committing connection passed CHECKPOINT_FRAMES. */
static void on_async(uv_async_t *h) {
    (void)h;
    if (C.started && !C.busy && uv_queue_work(C.loop, &C.work, work_checkpoint, after_checkpoint) == 0)
        __atomic_store_n(&C.busy, 1, __ATOMIC_RELAXED);
}

/* After every commit on a watched connection (the loop's or the writer's
 * thread), with the WAL's size. */
static int on_wal(void *arg, sqlite3 *h, const char *name, int frames) {
    (void)arg;
    int started = __atomic_load_n(&C.started, __ATOMIC_RELAXED);
    if (!started || __atomic_load_n(&C.failed_open, __ATOMIC_RELAXED)) {
        if (frames >= CHECKPOINT_FRAMES)
            sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (frames >= RESTART_FRAMES) {
        /* Busy when the worker holds the checkpoint lock: then next time. */
        if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
            __atomic_fetch_add(&C.stats.inline_, 1, __ATOMIC_RELAXED);
        return SQLITE_OK;
    }
    /* Only once CHECKPOINT_FRAMES were added since the last one was asked
     * for (or since the WAL restarted): asking after every commit past the
     * threshold would copy a few pages and fsync the database file hundreds
     * of times a second, slowing the WAL syncs that answers wait for. */
    int mark = __atomic_load_n(&C.mark, __ATOMIC_RELAXED);
    int added = frames >= mark ? frames - mark : frames;
    if (added >= CHECKPOINT_FRAMES && !__atomic_load_n(&C.busy, __ATOMIC_RELAXED)) {
        __atomic_store_n(&C.mark, frames, __ATOMIC_RELAXED);
        uv_async_send(&C.async);
    }
    return SQLITE_OK;
}

static void collect(yq_buf_t *out) {
    yq_checkpoint_stats_t st;
    yq_checkpoint_stats(&st);
    yq_buf_printf(out,
                  "# HELP yiqi_checkpoints_total WAL checkpoints, by where they ran.\n"
                  "# TYPE yiqi_checkpoints_total counter\n"
                  "yiqi_checkpoints_total{on=\"worker\"} %llu\nyiqi_checkpoints_total{on=\"loop\"} %llu\n",
                  (unsigned long long)st.background, (unsigned long long)st.inline_);
}

int yq_checkpoint_start(uv_loop_t *loop, yq_db_t *db) {
    if (C.started)
        return 0;
    int rc = uv_async_init(loop, &C.async, on_async);
    if (rc)
        return rc;
    C.loop = loop;
    C.db = db;
    __atomic_store_n(&C.started, 1, __ATOMIC_RELAXED);
    sqlite3_wal_hook(yq_db_handle(db), on_wal, NULL);
    static int collecting;
    if (!collecting++)
        yq_metrics_add_collector(collect);
    return 0;
}

void yq_checkpoint_watch(yq_db_t *other) {
    if (other)
        sqlite3_wal_hook(yq_db_handle(other), on_wal, NULL);
}

void yq_checkpoint_stop(void) {
    if (!C.started)
        return;
    __atomic_store_n(&C.started, 0, __ATOMIC_RELAXED);
    uv_close((uv_handle_t *)&C.async, NULL);
    sqlite3_wal_autocheckpoint(yq_db_handle(C.db), CHECKPOINT_FRAMES);
    if (!C.busy) { /* else after_checkpoint closes it */
        sqlite3_close(C.bg);
        C.bg = NULL;
    }
}

void yq_checkpoint_stats(yq_checkpoint_stats_t *out) {
    out->background = C.stats.background;
    out->inline_ = __atomic_load_n(&C.stats.inline_, __ATOMIC_RELAXED);
}
