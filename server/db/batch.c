/*
 * Group commit (see batch.h). Jobs queue in a growable array; a uv_check
 * handle runs them after each poll phase, and a uv_idle handle is active
 * while jobs wait so that the poll phase does not block with work queued
 * (jobs submitted from a timer callback would otherwise wait for I/O).
 *
 * One transaction holds at most MAX_BATCH jobs, so a flood of requests cannot
 * make one commit (and every response waiting for it) arbitrarily late.
 */
#include "db/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "db/checkpoint.h"
#include "db/wal_sync.h"
#include "http/metrics.h"

#define MAX_BATCH 1024

typedef struct {
    yq_batch_run_fn run;
    yq_batch_done_fn done;
    void *ctx;
    int rc;
    uint64_t seq; /* the commit's WAL sync number, while it waits for it */
} job_t;

static struct {
    yq_db_t *db;
    uv_check_t check;
    uv_idle_t idle;
    int started;
    job_t *q;
    size_t len, cap;
    job_t *cur; /* the batch being run (swapped out of q) */
    size_t cur_cap;
    job_t *wait; /* committed, waiting for the WAL sync (oldest first) */
    size_t wait_len, wait_cap;
    const yq_batch_hold_t *hold;
    struct held {
        uint64_t seq;
        void *held;
    } * held; /* answers out with the sync thread (oldest first) */
    size_t held_len, held_cap;
    yq_batch_stats_t stats;
} B;

static void on_idle(uv_idle_t *h) {
    (void)h; /* only keeps the poll phase from blocking */
}

/* Runs one job in its own savepoint; returns its code. */
static int run_job(yq_db_t *db, job_t *j) {
    if (!j->run)
        return 0;
    if (yq_db_exec(db, "SAVEPOINT yq_job") < 0)
        return YQ_DB_ERROR;
    int rc = j->run(j->ctx);
    if (rc < 0) {
        yq_db_exec(db, "ROLLBACK TO yq_job");
        B.stats.failed++;
    }
    yq_db_exec(db, "RELEASE yq_job");
    return rc;
}

/* Runs the queued jobs (the first MAX_BATCH) in one transaction; while a
 * checkpoint holds writes (db/checkpoint.h) only when `force`. */
static void flush_batch(int force) {
    if (B.len == 0)
        return;
    if (!force && yq_checkpoint_holds_writes()) {
        uv_idle_stop(&B.idle); /* nothing to do until resume() */
        return;
    }
    size_t n = B.len < MAX_BATCH ? B.len : MAX_BATCH;
    if (B.cur_cap < n) {
        B.cur = yq_xrealloc(B.cur, n * sizeof *B.cur);
        B.cur_cap = n;
    }
    memcpy(B.cur, B.q, n * sizeof *B.q);
    memmove(B.q, B.q + n, (B.len - n) * sizeof *B.q);
    B.len -= n;
    job_t *jobs = B.cur;

    yq_db_t *db = B.db ? B.db : yq_db_main();
    /* With the sync thread, COMMIT only writes the WAL; the thread's
     * fdatasync makes it durable before anyone is answered (wal_sync.h). */
    int deferred = yq_wal_sync_running() && yq_db_exec(db, "PRAGMA synchronous=NORMAL") == 0;
    int ok = yq_db_begin(db) == 0;
    for (size_t i = 0; i < n; i++)
        jobs[i].rc = ok ? run_job(db, &jobs[i]) : YQ_DB_ERROR;
    if (ok && yq_db_commit(db) < 0) {
        yq_log_error("group commit of %zu jobs failed", n);
        ok = 0;
    }
    if (!ok)
        yq_db_rollback(db);
    if (deferred && yq_db_exec(db, "PRAGMA synchronous=FULL") < 0)
        yq_log_error("cannot restore synchronous=FULL");
    B.stats.commits += ok;
    B.stats.jobs += n;
    if (n > B.stats.max_batch)
        B.stats.max_batch = n;
    if (B.len == 0 && B.started)
        uv_idle_stop(&B.idle);
    if (ok && deferred && B.hold) {
        /* Answered now, sent by the sync thread once the commit is durable. */
        B.hold->begin();
        for (size_t i = 0; i < n; i++)
            jobs[i].done(jobs[i].ctx, jobs[i].rc);
        void *held = B.hold->end();
        uint64_t seq = yq_wal_sync_request_then(held ? B.hold->send : NULL, held);
        if (held) {
            if (B.held_len == B.held_cap) {
                B.held_cap = B.held_cap ? 2 * B.held_cap : 16;
                B.held = yq_xrealloc(B.held, B.held_cap * sizeof *B.held);
            }
            B.held[B.held_len++] = (struct held){seq, held};
        }
        return;
    }
    if (ok && deferred) {
        uint64_t seq = yq_wal_sync_request();
        if (B.wait_cap < B.wait_len + n) {
            B.wait_cap = (B.wait_len + n) * 2;
            B.wait = yq_xrealloc(B.wait, B.wait_cap * sizeof *B.wait);
        }
        for (size_t i = 0; i < n; i++) {
            jobs[i].seq = seq;
            B.wait[B.wait_len++] = jobs[i];
        }
        return;
    }
    /* done() may submit new jobs; they land in q, not in the array we walk
     * (cur is only reused by the next flush, which cannot run from here). */
    for (size_t i = 0; i < n; i++)
        jobs[i].done(jobs[i].ctx, ok ? jobs[i].rc : YQ_DB_ERROR);
}

static void (*sync_failure_fn)(void);

void yq_batch_on_sync_failure(void (*fn)(void)) {
    sync_failure_fn = fn;
}

/* Answers the requests of the commits up to `seq`. */
static void answer_synced(uint64_t seq, int err) {
    if (err)
        yq_log_error("WAL fdatasync failed: the waiting writes are answered with errors (held answers: their "
                     "connections are closed unanswered)");
    size_t k = 0;
    while (k < B.held_len && B.held[k].seq <= seq)
        k++;
    if (k) {
        for (size_t i = 0; i < k; i++)
            B.hold->finish(B.held[i].held, err);
        memmove(B.held, B.held + k, (B.held_len - k) * sizeof *B.held);
        B.held_len -= k;
    }
    size_t n = 0;
    while (n < B.wait_len && B.wait[n].seq <= seq)
        n++;
    if (n == 0)
        return;
    /* Move them out first: done() may submit jobs, never flush or sync. */
    if (B.cur_cap < n) {
        B.cur = yq_xrealloc(B.cur, n * sizeof *B.cur);
        B.cur_cap = n;
    }
    job_t *ready = B.cur;
    memcpy(ready, B.wait, n * sizeof *ready);
    memmove(B.wait, B.wait + n, (B.wait_len - n) * sizeof *B.wait);
    B.wait_len -= n;
    for (size_t i = 0; i < n; i++)
        ready[i].done(ready[i].ctx, err ? YQ_DB_ERROR : ready[i].rc);
}

/* The WAL is on disk up to `seq` (or its fdatasync failed). */
static void on_synced(uint64_t seq, int err) {
    answer_synced(seq, err);
    if (err && sync_failure_fn)
        sync_failure_fn();
}

void yq_batch_flush(void) {
    flush_batch(0);
}

static void on_check(uv_check_t *h) {
    (void)h;
    flush_batch(0);
}

/* The checkpoint that held the writes is over: flush at the next turn. */
static void resume(void) {
    if (B.len && B.started)
        uv_idle_start(&B.idle, on_idle);
}

static void collect(yq_buf_t *out) {
    yq_buf_printf(out,
                  "# HELP yiqi_group_commits_total Transactions committed by the group commit.\n"
                  "# TYPE yiqi_group_commits_total counter\nyiqi_group_commits_total %llu\n"
                  "# HELP yiqi_group_commit_jobs_total Writes run inside group commits.\n"
                  "# TYPE yiqi_group_commit_jobs_total counter\nyiqi_group_commit_jobs_total %llu\n"
                  "# HELP yiqi_group_commit_max_batch Largest number of writes in one commit.\n"
                  "# TYPE yiqi_group_commit_max_batch gauge\nyiqi_group_commit_max_batch %llu\n",
                  (unsigned long long)B.stats.commits, (unsigned long long)B.stats.jobs,
                  (unsigned long long)B.stats.max_batch);
}

int yq_batch_start(uv_loop_t *loop, yq_db_t *db) {
    int rc = uv_check_init(loop, &B.check);
    if (rc == 0)
        rc = uv_idle_init(loop, &B.idle);
    if (rc == 0)
        rc = uv_check_start(&B.check, on_check);
    if (rc == 0)
        rc = yq_wal_sync_start(loop, db, on_synced);
    if (rc)
        return rc;
    static int collecting;
    if (!collecting++)
        yq_metrics_add_collector(collect);
    B.db = db;
    B.started = 1;
    yq_checkpoint_on_resume(resume);
    return 0;
}

void yq_batch_stop(void) {
    while (B.len)
        flush_batch(1);
    yq_wal_sync_stop(); /* answers what waited for the disk */
    while (B.len)
        flush_batch(1);
    if (!B.started)
        return;
    B.started = 0;
    uv_check_stop(&B.check);
    uv_idle_stop(&B.idle);
    uv_close((uv_handle_t *)&B.check, NULL);
    uv_close((uv_handle_t *)&B.idle, NULL);
}

/* Without a loop: one job, one transaction, answered before returning. */
static void run_alone(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx) {
    yq_db_t *db = B.db ? B.db : yq_db_main();
    job_t j = {run, done, ctx, 0, 0};
    int rc = yq_db_begin(db);
    if (rc == 0) {
        rc = run_job(db, &j);
        if (yq_db_commit(db) < 0)
            rc = YQ_DB_ERROR;
    }
    done(ctx, rc);
}

void yq_batch_submit(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx) {
    if (B.len == B.cap) {
        B.cap = B.cap ? B.cap * 2 : 64;
        B.q = yq_xrealloc(B.q, B.cap * sizeof *B.q);
    }
    if (!B.started) {
        run_alone(run, done, ctx);
        return;
    }
    B.q[B.len++] = (job_t){run, done, ctx, 0, 0};
    if (B.len == 1)
        uv_idle_start(&B.idle, on_idle);
}

void yq_batch_set_hold(const yq_batch_hold_t *hold) {
    B.hold = hold;
}

void yq_batch_stats(yq_batch_stats_t *out) {
    *out = B.stats;
}
