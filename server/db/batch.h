/*
 * Group commit: many requests' writes share one transaction and one fsync.
 *
 * A handler that writes validates its input, then submits a job instead of
 * writing itself. Once per loop iteration (in a uv_check handle, after the
 * poll phase has read every request that arrived) the batch runs all queued
 * jobs in ONE transaction:
 *
 *     BEGIN IMMEDIATE
 *       SAVEPOINT job; run(job 1); RELEASE job      -- or ROLLBACK TO job
 *       SAVEPOINT job; run(job 2); RELEASE job
 *       ...
 *     COMMIT                                        -- synchronous=FULL: on disk
 *     done(job 1, rc1); done(job 2, rc2); ...       -- only now answer
 *
 * In the server the COMMIT only writes the WAL and a sync thread makes it
 * durable (wal_sync.h); done() then runs right after the COMMIT inside a
 * "hold" (yq_batch_set_hold below): the answers it makes are not sent until
 * that thread's fdatasync has returned, and the thread sends them itself.
 *
 * Each job runs in its own savepoint, so a job that fails (a 409, a rule
 * found broken inside the transaction) rolls back only its own writes. The
 * done callbacks run only after COMMIT has returned, so no response that
 * reports a write (a 201) is sent before the write is durable. If BEGIN or
 * COMMIT fails, every job of the batch gets YQ_DB_ERROR in done (and its
 * writes are gone).
 *
 * Rules for job functions:
 *   - run() executes on the loop thread inside the open transaction; it uses
 *     yq_db_main() statements as usual and must not BEGIN/COMMIT itself, nor
 *     answer the request (nothing is durable yet).
 *   - run() returns >= 0 (keep the writes) or a negative code (roll them
 *     back); the value is passed to done() unchanged, so jobs can use their
 *     own codes (e.g. YQ_DB_CONSTRAINT for "slot taken").
 *   - done() is always called exactly once per submitted job, also when the
 *     server stops (then with YQ_DB_ERROR if the job never ran). It answers
 *     the request and frees ctx.
 *
 * Example (usage records would do the same):
 *
 *     static int run_insert(void *ctx) { ... yq_db_step(...) ...; return rc < 0 ? rc : 0; }
 *     static void after_insert(void *ctx, int rc) { job_t *j = ctx; if (rc) reply error; else 201; free(j); }
 *     yq_batch_submit(run_insert, after_insert, job);
 *
 * Without yq_batch_start() (CLI commands, unit tests) yq_batch_submit() runs
 * the job at once in its own transaction and calls done() before returning.
 */
#ifndef YQ_DB_BATCH_H
#define YQ_DB_BATCH_H

#include <stdint.h>
#include <uv.h>

#include "db/db.h"

typedef int (*yq_batch_run_fn)(void *ctx);
typedef void (*yq_batch_done_fn)(void *ctx, int rc);

/* Starts group commit on the loop for the database (the server's main
 * connection). Returns 0 or a negative libuv code. The handles are closed by
 * yq_batch_stop() (registered with yq_server_on_stop by the caller). */
int yq_batch_start(uv_loop_t *loop, yq_db_t *db);
/* Runs what is still queued (so nothing accepted is lost) and closes the
 * handles. Safe to call twice. */
void yq_batch_stop(void);

/* Queues a job for the next group commit. run may be NULL (done then only
 * waits for the next commit). done must not be NULL. */
void yq_batch_submit(yq_batch_run_fn run, yq_batch_done_fn done, void *ctx);

/* Runs the queued jobs now (normally called by the loop). Exposed for tests. */
void yq_batch_flush(void);

/* Held answers (set by the server, net/conn.h): with the WAL sync thread
 * running, a batch's done() callbacks run right after its COMMIT, between
 * begin() and end(); what they answer is not sent but returned by end() and
 * handed with the commit to the sync thread, which calls send() right after
 * the fdatasync that makes the commit durable. finish() then runs on the
 * loop (err != 0: the sync failed, nothing was sent). Without these, done()
 * waits for the sync on the loop. */
typedef struct {
    void (*begin)(void);
    void *(*end)(void);
    void (*send)(void *held, int err);
    void (*finish)(void *held, int err);
} yq_batch_hold_t;
void yq_batch_set_hold(const yq_batch_hold_t *hold);

/* Called on the loop after a failed WAL fdatasync, once the writes that
 * waited for it were answered with errors (their held answers dropped). The
 * server stops there (cli/serve.c): after a failed fdatasync the kernel may
 * have dropped the pages it could not write, so a later fdatasync could
 * succeed over a hole in the WAL and make answers durable in name only. */
void yq_batch_on_sync_failure(void (*fn)(void));

/* Counters since start, for /metrics and benchmarks. */
typedef struct {
    uint64_t commits; /* transactions committed */
    uint64_t jobs;    /* jobs run */
    uint64_t failed;  /* jobs whose run() returned an error */
    uint64_t max_batch;
} yq_batch_stats_t;
void yq_batch_stats(yq_batch_stats_t *out);

#endif
