/*
 * Background checkpoints (see checkpoint.h).
 *
 * Only the loop thread touches C except the worker's connection `C.bg`,
 * which only the one queued work item uses (never two at a time: `busy`).
 */
#include "db/checkpoint.h"

#include "core/log.h"
#include "http/metrics.h"

/* About 48 MB of WAL at 4 KiB pages. At 4,000, four times as many
 * checkpoints copied the same hot pages again and synced the database file
 * as often, on the core the WAL syncs and the clients share: about 10%
 * fewer usage records/s in bench/usage.sh. */
#define CHECKPOINT_FRAMES 12000
#define RESTART_FRAMES 16000

static struct {
    uv_loop_t *loop;
    yq_db_t *db;
    sqlite3 *bg; /* the worker's connection, opened on first use */
    uv_work_t work;
    int busy, started, failed_open;
    int mark;        /* the WAL's size when the last background checkpoint was queued */
    int holding;     /* group-commit writes wait for the running checkpoint (to restart the WAL) */
    int hold_mark;   /* the WAL's size when they last did */
    int last_frames; /* the WAL's size after the previous commit */
    void (*resume)(void);
    yq_checkpoint_stats_t stats;
} C;

static void work_checkpoint(uv_work_t *w) {
    (void)w;
    if (!C.bg && !C.failed_open) {
        /* A new connection knows the database is in WAL mode only once it
         * has read it: until then a checkpoint returns at once, copying
         * nothing (it reports -1 frames). Hence the read. */
        if (sqlite3_open_v2(yq_db_path(C.db), &C.bg, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
            sqlite3_busy_timeout(C.bg, 5000) != SQLITE_OK ||
            sqlite3_exec(C.bg, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
            sqlite3_close(C.bg);
            C.bg = NULL;
            C.failed_open = 1;
        }
    }
    if (C.bg)
        sqlite3_wal_checkpoint_v2(C.bg, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static void after_checkpoint(uv_work_t *w, int status) {
    (void)w;
    (void)status;
    C.busy = 0;
    C.stats.background++;
    if (C.holding) {
        C.holding = 0;
        if (C.resume)
            C.resume();
    }
    if (!C.started) { /* stopped meanwhile */
        sqlite3_close(C.bg);
        C.bg = NULL;
    }
    if (C.failed_open == 1) {
        yq_log_warn("background checkpoint: cannot open %s; the loop checkpoints instead", yq_db_path(C.db));
        C.failed_open = 2;
    }
}

/* After every commit on the loop's connection, with the WAL's size. */
static int on_wal(void *arg, sqlite3 *h, const char *name, int frames) {
    (void)arg;
    if (!C.started || C.failed_open) {
        if (frames >= CHECKPOINT_FRAMES)
            sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (frames < C.last_frames) { /* this commit started the WAL over */
        C.stats.restarts++;
        C.hold_mark = 0;
    }
    C.last_frames = frames;
    if (frames >= RESTART_FRAMES) {
        /* The worker copies what is left while group-commit writes wait,
         * so that it copies everything and the next write starts the WAL
         * over. Once per CHECKPOINT_FRAMES at most: a reader still on an
         * old snapshot can keep a checkpoint from finishing the copy. */
        if (!C.busy && (!C.hold_mark || frames - C.hold_mark >= CHECKPOINT_FRAMES) &&
            uv_queue_work(C.loop, &C.work, work_checkpoint, after_checkpoint) == 0) {
            C.busy = 1;
            C.holding = 1;
            C.mark = C.hold_mark = frames;
        }
        return SQLITE_OK;
    }
    /* Only once CHECKPOINT_FRAMES were added since the last one was queued
     * (or since the WAL restarted): queueing after every commit past the
     * threshold copied a few pages and fsynced the database file hundreds
     * of times a second, slowing the WAL syncs that answers wait for. */
    int added = frames >= C.mark ? frames - C.mark : frames;
    if (added >= CHECKPOINT_FRAMES && !C.busy) {
        if (uv_queue_work(C.loop, &C.work, work_checkpoint, after_checkpoint) == 0) {
            C.busy = 1;
            C.mark = frames;
        }
    }
    return SQLITE_OK;
}

static void collect(yq_buf_t *out) {
    yq_buf_printf(out,
                  "# HELP yiqi_checkpoints_total WAL checkpoints, by where they ran.\n"
                  "# TYPE yiqi_checkpoints_total counter\n"
                  "yiqi_checkpoints_total{on=\"worker\"} %llu\nyiqi_checkpoints_total{on=\"loop\"} %llu\n"
                  "# HELP yiqi_wal_restarts_total Times the WAL file was started over from its beginning.\n"
                  "# TYPE yiqi_wal_restarts_total counter\nyiqi_wal_restarts_total %llu\n",
                  (unsigned long long)C.stats.background, (unsigned long long)C.stats.inline_,
                  (unsigned long long)C.stats.restarts);
}

int yq_checkpoint_holds_writes(void) {
    return C.holding;
}

void yq_checkpoint_on_resume(void (*fn)(void)) {
    C.resume = fn;
}

int yq_checkpoint_start(uv_loop_t *loop, yq_db_t *db) {
    C.loop = loop;
    C.db = db;
    C.started = 1;
    sqlite3_wal_hook(yq_db_handle(db), on_wal, NULL);
    static int collecting;
    if (!collecting++)
        yq_metrics_add_collector(collect);
    return 0;
}

void yq_checkpoint_stop(void) {
    if (!C.started)
        return;
    C.started = 0;
    if (C.holding) { /* stopping: the writes go on; the WAL restarts another time */
        C.holding = 0;
        if (C.resume)
            C.resume();
    }
    sqlite3_wal_autocheckpoint(yq_db_handle(C.db), CHECKPOINT_FRAMES);
    if (!C.busy) { /* else after_checkpoint closes it */
        sqlite3_close(C.bg);
        C.bg = NULL;
    }
}

void yq_checkpoint_stats(yq_checkpoint_stats_t *out) {
    *out = C.stats;
}
