/*
 * Group commit (see batch.h) on a writer thread.
 *
 * Three threads share the work of a write:
 *   - the loop thread parses, checks and submits a job (yq_batch_submit),
 *     and later answers it (done) once the WAL sync thread reports;
 *   - the writer thread (this file) takes every queued job, at most
 *     MAX_BATCH, runs them in one transaction on its own connection (which
 *     commits at synchronous=NORMAL: the COMMIT only writes the WAL), and
 *     asks the WAL sync thread for an fdatasync;
 *   - the WAL sync thread (wal_sync.c) syncs and wakes the loop, which
 *     answers every job whose commit is now on disk (on_synced).
 * While the writer runs one batch, the next one queues, and while the sync
 * thread syncs one commit the writer runs the next: a flood of requests
 * makes the batches larger, not the loop slower.
 *
 * Locking: B.mu guards the queue, the list of committed jobs waiting for
 * their sync, and the counters. The writer takes B.mu and then, to number
 * its commit, the sync thread's mutex; the loop never holds both (the sync
 * thread's callback has released its mutex before on_synced takes B.mu).
 *
 * Without a loop (command-line tools, unit tests), and after stop, a job
 * runs at once on the caller's thread in its own transaction.
 */
#include "db/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
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

typedef struct {
    job_t *v;
    size_t len, cap;
} jobs_t;

static struct {
    yq_db_t *db; /* the writer thread's connection */
    uv_check_t check;
    jobs_t local; /* submitted during this loop iteration (loop only) */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    int started, quit;
    jobs_t q;               /* submitted, not yet run (B.mu) */
    jobs_t wait;            /* committed, waiting for the WAL sync, oldest first (B.mu) */
    jobs_t run;             /* the writer's current batch (writer only) */
    jobs_t done;            /* synced, being answered (loop only) */
    yq_batch_stats_t stats; /* (B.mu) */
} B;

static void jobs_reserve(jobs_t *a, size_t n) {
    if (a->cap >= n)
        return;
    a->cap = n > 2 * a->cap ? n : 2 * a->cap;
    if (a->cap < 64)
        a->cap = 64;
    a->v = yq_xrealloc(a->v, a->cap * sizeof *a->v);
}

/* Moves the first n jobs of `from` to the end of `to`. */
static void jobs_move(jobs_t *to, jobs_t *from, size_t n) {
    jobs_reserve(to, to->len + n);
    memcpy(to->v + to->len, from->v, n * sizeof *from->v);
    to->len += n;
    memmove(from->v, from->v + n, (from->len - n) * sizeof *from->v);
    from->len -= n;
}

static void jobs_free(jobs_t *a) {
    free(a->v);
    *a = (jobs_t){0};
}

/* Runs one job in its own savepoint; returns its code. */
static int run_job(yq_db_t *db, job_t *j, uint64_t *failed) {
    if (!j->run)
        return 0;
    if (yq_db_exec(db, "SAVEPOINT yq_job") < 0)
        return YQ_DB_ERROR;
    int rc = j->run(j->ctx);
    if (rc < 0) {
        yq_db_exec(db, "ROLLBACK TO yq_job");
        ++*failed;
    }
    yq_db_exec(db, "RELEASE yq_job");
    return rc;
}

/* Runs jobs[0..n) in one transaction; returns 1 when it committed (every
 * job's rc is then its own), else 0 (every rc YQ_DB_ERROR). */
static int run_batch(yq_db_t *db, job_t *jobs, size_t n, uint64_t *failed) {
    int ok = yq_db_begin(db) == 0;
    for (size_t i = 0; i < n; i++)
        jobs[i].rc = ok ? run_job(db, &jobs[i], failed) : YQ_DB_ERROR;
    if (ok && yq_db_commit(db) < 0) {
        yq_log_error("group commit of %zu jobs failed", n);
        ok = 0;
    }
    if (!ok) {
        yq_db_rollback(db);
        for (size_t i = 0; i < n; i++)
            jobs[i].rc = YQ_DB_ERROR;
    }
    return ok;
}

static void writer_main(void *arg) {
    (void)arg;
    yq_db_set_thread_main(B.db);
    uv_mutex_lock(&B.mu);
    for (;;) {
        while (!B.quit && B.q.len == 0)
            uv_cond_wait(&B.cv, &B.mu);
        if (B.q.len == 0) /* quit with nothing left */
            break;
        size_t n = B.q.len < MAX_BATCH ? B.q.len : MAX_BATCH;
        jobs_move(&B.run, &B.q, n);
        uv_mutex_unlock(&B.mu);

        uint64_t failed = 0;
        int ok = run_batch(B.db, B.run.v, n, &failed);

        uv_mutex_lock(&B.mu);
        B.stats.commits += ok;
        B.stats.jobs += n;
        B.stats.failed += failed;
        if (n > B.stats.max_batch)
            B.stats.max_batch = n;
        /* Also after a failed batch: its errors are answered in order. */
        uint64_t seq = yq_wal_sync_request();
        for (size_t i = 0; i < n; i++)
            B.run.v[i].seq = seq;
        jobs_move(&B.wait, &B.run, n);
    }
    uv_mutex_unlock(&B.mu);
    yq_db_set_thread_main(NULL);
}

/* After each poll phase: hand what this iteration's requests submitted to
 * the writer at once, so that one batch holds them all rather than the
 * first alone (the writer would otherwise wake for every job). */
static void on_check(uv_check_t *h) {
    (void)h;
    if (B.local.len == 0)
        return;
    uv_mutex_lock(&B.mu);
    int was_empty = B.q.len == 0;
    jobs_move(&B.q, &B.local, B.local.len);
    if (was_empty)
        uv_cond_signal(&B.cv);
    uv_mutex_unlock(&B.mu);
}

/* The WAL is on disk up to `seq`: answer those commits' requests. */
static void on_synced(uint64_t seq, int err) {
    if (err)
        yq_log_error("WAL fdatasync failed: answering the waiting writes with errors");
    uv_mutex_lock(&B.mu);
    size_t n = 0;
    while (n < B.wait.len && B.wait.v[n].seq <= seq)
        n++;
    jobs_move(&B.done, &B.wait, n);
    uv_mutex_unlock(&B.mu);
    /* done() may submit jobs (to B.q), never answer others from B.done. */
    for (size_t i = 0; i < B.done.len; i++)
        B.done.v[i].done(B.done.v[i].ctx, err ? YQ_DB_ERROR : B.done.v[i].rc);
    B.done.len = 0;
}

static void collect(yq_buf_t *out) {
    yq_batch_stats_t st;
    yq_batch_stats(&st);
    yq_buf_printf(out,
                  "# HELP yiqi_group_commits_total Transactions committed by the group commit.\n"
                  "# TYPE yiqi_group_commits_total counter\nyiqi_group_commits_total %llu\n"
                  "# HELP yiqi_group_commit_jobs_total Writes run inside group commits.\n"
                  "# TYPE yiqi_group_commit_jobs_total counter\nyiqi_group_commit_jobs_total %llu\n"
                  "# HELP yiqi_group_commit_max_batch Largest number of writes in one commit.\n"
                  "# TYPE yiqi_group_commit_max_batch gauge\nyiqi_group_commit_max_batch %llu\n",
                  (unsigned long long)st.commits, (unsigned long long)st.jobs, (unsigned long long)st.max_batch);
}

int yq_batch_start(uv_loop_t *loop, yq_db_t *db) {
    if (B.started)
        return 0;
    /* The writer's own connection: it commits at NORMAL, and the sync
     * thread's fdatasync makes each commit durable (wal_sync.h). */
    B.db = yq_db_open_raw(yq_db_path(db));
    if (!B.db)
        return UV_EIO;
    int rc = yq_db_exec(B.db, "PRAGMA synchronous=NORMAL") < 0 ? UV_EIO : 0;
    if (rc == 0)
        rc = uv_mutex_init(&B.mu);
    if (rc) {
        yq_db_close(B.db);
        B.db = NULL;
        return rc;
    }
    if ((rc = uv_cond_init(&B.cv))) {
        uv_mutex_destroy(&B.mu);
        yq_db_close(B.db);
        B.db = NULL;
        return rc;
    }
    B.quit = 0;
    if ((rc = uv_check_init(loop, &B.check)) == 0 && (rc = uv_check_start(&B.check, on_check)) == 0 &&
        (rc = yq_wal_sync_start(loop, db, on_synced)) == 0)
        rc = uv_thread_create(&B.thread, writer_main, NULL);
    if (rc) {
        yq_wal_sync_stop();
        if (B.check.loop && !uv_is_closing((uv_handle_t *)&B.check))
            uv_close((uv_handle_t *)&B.check, NULL);
        uv_cond_destroy(&B.cv);
        uv_mutex_destroy(&B.mu);
        yq_db_close(B.db);
        B.db = NULL;
        return rc;
    }
    static int collecting;
    if (!collecting++)
        yq_metrics_add_collector(collect);
    B.started = 1;
    return 0;
}

yq_db_t *yq_batch_writer_db(void) {
    return B.db;
}

/* Without a writer thread: one job, one transaction on the caller's
 * connection, answered before returning. */
static void run_alone(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx) {
    job_t j = {run, done, ctx, 0, 0};
    uint64_t failed = 0;
    run_batch(yq_db_main(), &j, 1, &failed);
    done(ctx, j.rc);
}

void yq_batch_stop(void) {
    if (!B.started)
        return;
    uv_check_stop(&B.check);
    uv_close((uv_handle_t *)&B.check, NULL);
    uv_mutex_lock(&B.mu);
    jobs_move(&B.q, &B.local, B.local.len);
    B.quit = 1;
    uv_cond_signal(&B.cv);
    uv_mutex_unlock(&B.mu);
    uv_thread_join(&B.thread); /* it runs what was queued before it ends */
    B.started = 0;
    yq_wal_sync_stop(); /* syncs, then answers what waited for the disk */
    /* Jobs submitted by those answers run at once (run_alone). */
    uv_cond_destroy(&B.cv);
    uv_mutex_destroy(&B.mu);
    yq_db_close(B.db);
    B.db = NULL;
    jobs_free(&B.q);
    jobs_free(&B.local);
    jobs_free(&B.wait);
    jobs_free(&B.run);
    jobs_free(&B.done);
}

void yq_batch_submit(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx) {
    if (!B.started) {
        run_alone(run, done, ctx);
        return;
    }
    jobs_reserve(&B.local, B.local.len + 1);
    B.local.v[B.local.len++] = (job_t){run, done, ctx, 0, 0};
}

void yq_batch_stats(yq_batch_stats_t *out) {
    if (!B.started) {
        *out = B.stats;
        return;
    }
    uv_mutex_lock(&B.mu);
    *out = B.stats;
    uv_mutex_unlock(&B.mu);
}
