/*
 * Group commit (db/batch.c) on a fresh database built by the real
 * migrations: jobs share one transaction, a failing job rolls back only its
 * own writes, done() runs only after COMMIT (the rows are visible to another
 * connection by then), answers held by the server's hold are sent by the WAL
 * sync thread only after an fdatasync that followed the COMMIT (and not at
 * all when it fails), and without a loop a job runs at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/batch.h"
#include "db/db.h"

static char path[64];
static yq_db_t *db;

typedef struct {
    int value, rc, done_calls, autocommit_in_done, visible_in_done;
} job_t;

static int count_other_connection(int value) {
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM t WHERE x = ?1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, value);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static int run_insert(void *ctx) {
    job_t *j = ctx;
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO t (x) VALUES (?1)");
    sqlite3_bind_int(st, 1, j->value);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    /* A second write of the same job, undone with it when the job fails. */
    st = yq_db_stmt(db, "INSERT INTO log (x) VALUES (?1)");
    sqlite3_bind_int(st, 1, j->value);
    rc = yq_db_step(db, st);
    return rc < 0 ? rc : j->value == 3 ? -77 : 0;
}

static void after_insert(void *ctx, int rc) {
    job_t *j = ctx;
    j->rc = rc;
    j->done_calls++;
    j->autocommit_in_done = sqlite3_get_autocommit(yq_db_handle(db));
    j->visible_in_done = count_other_connection(j->value);
}

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/yq-test-batch-%d.db", (int)getpid());
    unlink(path);
    db = yq_db_open(path);
    assert_non_null(db);
    yq_db_set_main(db);
    assert_int_equal(yq_db_exec(db, "CREATE TABLE t (x INTEGER UNIQUE)"), 0);
    assert_int_equal(yq_db_exec(db, "CREATE TABLE log (x INTEGER)"), 0);
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

static void test_one_commit_savepoints(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(yq_batch_start(&loop, db), 0);
    yq_batch_stats_t before, after;
    yq_batch_stats(&before);
    job_t jobs[4] = {{.value = 1}, {.value = 1}, {.value = 2}, {.value = 3}};
    for (int i = 0; i < 4; i++)
        yq_batch_submit(run_insert, after_insert, &jobs[i]);
    assert_int_equal(jobs[0].done_calls, 0); /* nothing answered before the loop runs */
    uv_run(&loop, UV_RUN_NOWAIT);            /* polls, then the check handle commits */
    yq_batch_stats(&after);
    assert_int_equal(after.commits - before.commits, 1);
    assert_int_equal(after.jobs - before.jobs, 4);
    /* Committed but not yet answered: the answers wait for the WAL sync
     * thread, which reports in a later poll phase. */
    assert_int_equal(jobs[0].done_calls, 0);
    /* And the connection is back at synchronous=FULL for writes outside
     * the batch. */
    sqlite3_stmt *sync = yq_db_stmt(db, "PRAGMA synchronous");
    assert_int_equal(yq_db_int(db, sync, -1), 2);
    for (int spins = 0; jobs[3].done_calls == 0 && spins < 1000; spins++)
        uv_run(&loop, UV_RUN_ONCE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].autocommit_in_done, 1);
    }
    assert_int_equal(jobs[0].rc, 0);
    assert_int_equal(jobs[1].rc, YQ_DB_CONSTRAINT);
    assert_int_equal(jobs[2].rc, 0);
    assert_int_equal(jobs[3].rc, -77);
    assert_int_equal(jobs[0].visible_in_done, 1);
    assert_int_equal(jobs[2].visible_in_done, 1);
    assert_int_equal(jobs[3].visible_in_done, 0); /* its savepoint was rolled back */
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(*) FROM log");
    assert_int_equal(yq_db_step(db, st), 1);
    assert_int_equal(sqlite3_column_int(st, 0), 2); /* only the two kept jobs' second writes */
    sqlite3_reset(st);
    yq_batch_stop();
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* fdatasync as the WAL sync thread calls it, counted (and made to fail on
 * demand): the real system call underneath. */
static atomic_int syncs, fail_syncs;
int fdatasync(int fd) {
    if (atomic_load(&fail_syncs)) {
        errno = EIO;
        return -1;
    }
    int rc = (int)syscall(SYS_fdatasync, fd);
    atomic_fetch_add(&syncs, 1);
    return rc;
}

/* A hold that records what the group commit does with the answers. */
static struct {
    int on, answered, syncs_at_answer, sent, syncs_at_send, send_err, finished, finish_err;
    pthread_t loop_thread, send_thread;
} H;
static int held_token;

static void hold_begin(void) {
    H.on = 1;
}
static void *hold_end(void) {
    H.on = 0;
    return H.answered ? &held_token : NULL;
}
static void hold_send(void *held, int err) {
    assert_ptr_equal(held, &held_token);
    H.send_thread = pthread_self();
    H.syncs_at_send = atomic_load(&syncs);
    H.send_err = err;
    H.sent++;
}
static void hold_finish(void *held, int err) {
    assert_ptr_equal(held, &held_token);
    H.finish_err = err;
    H.finished++;
}

static void after_held(void *ctx, int rc) {
    after_insert(ctx, rc);
    assert_true(H.on); /* answered inside the hold */
    H.answered++;
    H.syncs_at_answer = atomic_load(&syncs);
}

static void run_held_batch(int fail) {
    static int next = 100;
    memset(&H, 0, sizeof H);
    H.loop_thread = pthread_self();
    atomic_store(&fail_syncs, fail);
    static const yq_batch_hold_t hold = {hold_begin, hold_end, hold_send, hold_finish};
    uv_loop_t loop;
    uv_loop_init(&loop);
    yq_batch_set_hold(&hold);
    assert_int_equal(yq_batch_start(&loop, db), 0);
    job_t jobs[3] = {{.value = next++}, {.value = next++}, {.value = next++}};
    for (int i = 0; i < 3; i++)
        yq_batch_submit(run_insert, after_held, &jobs[i]);
    uv_run(&loop, UV_RUN_NOWAIT); /* commits; the answers are made at once, held */
    for (int i = 0; i < 3; i++)
        assert_int_equal(jobs[i].done_calls, 1);
    for (int spins = 0; !H.finished && spins < 1000; spins++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(H.answered, 3);
    assert_int_equal(H.sent, 1);
    assert_int_equal(H.finished, 1);
    /* Sent by the sync thread, after an fdatasync that began after the
     * answers were made (so after the COMMIT), with its outcome. */
    assert_false(pthread_equal(H.send_thread, H.loop_thread));
    if (!fail)
        assert_true(H.syncs_at_send > H.syncs_at_answer);
    assert_int_equal(H.send_err != 0, fail);
    assert_int_equal(H.finish_err != 0, fail);
    yq_batch_stop();
    yq_batch_set_hold(NULL);
    atomic_store(&fail_syncs, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_held_answers_sent_after_the_sync(void **state) {
    (void)state;
    run_held_batch(0);
}

static void test_held_answers_not_sent_when_the_sync_fails(void **state) {
    (void)state;
    run_held_batch(1);
}

static void test_without_loop_runs_at_once(void **state) {
    (void)state;
    job_t j = {.value = 10};
    yq_batch_submit(run_insert, after_insert, &j);
    assert_int_equal(j.done_calls, 1);
    assert_int_equal(j.rc, 0);
    assert_int_equal(j.visible_in_done, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_commit_savepoints),
        cmocka_unit_test(test_held_answers_sent_after_the_sync),
        cmocka_unit_test(test_held_answers_not_sent_when_the_sync_fails),
        cmocka_unit_test(test_without_loop_runs_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
