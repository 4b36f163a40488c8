/*
 * Group commit: many requests' writes share one transaction and one fsync.
 *
 * A handler that writes validates its input, then submits a job instead of
 * writing itself. A writer thread with its own connection runs the queued
 * jobs, as many as are waiting (up to a bound), in ONE transaction:
 *
 *     BEGIN IMMEDIATE
 *       SAVEPOINT job; run(job 1); RELEASE job      -- or ROLLBACK TO job
 *       SAVEPOINT job; run(job 2); RELEASE job
 *       ...
 *     COMMIT                                        -- writes the WAL
 *     fdatasync(WAL) on the sync thread             -- now on disk
 *     done(job 1, rc1); done(job 2, rc2); ...       -- on the loop: answer
 *
 * Each job runs in its own savepoint, so a job that fails (a 409, a rule
 * found broken inside the transaction) rolls back only its own writes. The
 * done callbacks run on the loop thread only after the commit is on disk,
 * so no response that reports a write (a 201) is sent before the write is
 * durable. If BEGIN or COMMIT fails, every job of the batch gets
 * YQ_DB_ERROR in done (and its writes are gone).
 *
 * Rules for job functions:
 *   - run() executes on the WRITER thread inside the open transaction, while
 *     the loop goes on serving other requests. It uses yq_db_main(), which
 *     on that thread is the writer's connection, and only its ctx and the
 *     request it was submitted for (which nobody else touches until done);
 *     never loop-thread state (handles, caches shared with the loop, the
 *     response). It must not BEGIN/COMMIT itself, nor answer the request.
 *   - run() returns >= 0 (keep the writes) or a negative code (roll them
 *     back); the value is passed to done() unchanged, so jobs can use their
 *     own codes (e.g. YQ_DB_CONSTRAINT for "slot taken").
 *   - done() runs on the loop thread, exactly once per submitted job, also
 *     when the server stops. It answers the request and frees ctx.
 *
 * Example (usage records would do the same):
 *
 *     static int run_insert(void *ctx) { ... yq_db_step(yq_db_main(), ...); return rc < 0 ? rc : 0; }
 *     static void after_insert(void *ctx, int rc) { job_t *j = ctx; if (rc) reply error; else 201; free(j); }
 *     yq_batch_submit(run_insert, after_insert, job);
 *
 * Without yq_batch_start() (CLI commands, unit tests) yq_batch_submit() runs
 * the job at once on the caller's connection in its own transaction and
 * calls done() before returning.
 */
#ifndef YQ_DB_BATCH_H
#define YQ_DB_BATCH_H

#include <stdint.h>
#include <uv.h>

#include "db/db.h"

typedef int (*yq_batch_run_fn)(void *ctx);
typedef void (*yq_batch_done_fn)(void *ctx, int rc);

/* Starts group commit for the database of `db` (the server's main
 * connection): opens the writer's connection and starts the writer and WAL
 * sync threads; answers arrive on `loop`. Returns 0 or a negative libuv
 * code. Stopped by yq_batch_stop() (registered with yq_server_on_stop by the
 * caller). */
int yq_batch_start(uv_loop_t *loop, yq_db_t *db);
/* Runs and answers what is still queued (so nothing accepted is lost),
 * then joins the threads and closes the writer's connection. Safe to call
 * twice. */
void yq_batch_stop(void);
/* The writer thread's connection while started, else NULL. */
yq_db_t *yq_batch_writer_db(void);

/* Queues a job for the next group commit. run may be NULL (done then only
 * waits for the next commit). done must not be NULL. */
void yq_batch_submit(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx);

/* Counters since start, for /metrics and benchmarks. */
typedef struct {
    uint64_t commits; /* transactions committed */
    uint64_t jobs;    /* jobs run */
    uint64_t failed;  /* jobs whose run() returned an error */
    uint64_t max_batch;
} yq_batch_stats_t;
void yq_batch_stats(yq_batch_stats_t *out);

#endif
