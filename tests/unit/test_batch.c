/*
 * Group commit (db/batch.c) on a fresh database built by the real
 * migrations: jobs run on the writer thread with its own connection and
 * share one transaction, a failing job rolls back only its own writes,
 * done() runs on the loop thread only after COMMIT and the WAL sync (the
 * rows are visible to another connection by then), and without a loop a job
 * runs at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/batch.h"
#include "db/db.h"
#include "db/wal_sync.h"

static char path[64];
static yq_db_t *db;

typedef struct {
    int value, rc, done_calls, autocommit_in_done, visible_in_done;
    int run_on_other_connection; /* run() saw a connection other than the loop's */
    uv_thread_t run_thread, done_thread;
    uint64_t syncs_in_done; /* WAL syncs completed when done() ran */
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
    yq_db_t *w = yq_db_main(); /* the writer's connection on its thread */
    j->run_on_other_connection = w != db;
    j->run_thread = uv_thread_self();
    sqlite3_stmt *st = yq_db_stmt(w, "INSERT INTO t (x) VALUES (?1)");
    sqlite3_bind_int(st, 1, j->value);
    int rc = yq_db_step(w, st);
    if (rc < 0)
        return rc;
    /* A second write of the same job, undone with it when the job fails. */
    st = yq_db_stmt(w, "INSERT INTO log (x) VALUES (?1)");
    sqlite3_bind_int(st, 1, j->value);
    rc = yq_db_step(w, st);
    return rc < 0 ? rc : j->value == 3 ? -77 : 0;
}

static void after_insert(void *ctx, int rc) {
    job_t *j = ctx;
    j->rc = rc;
    j->done_calls++;
    j->done_thread = uv_thread_self();
    j->autocommit_in_done = sqlite3_get_autocommit(yq_db_handle(db));
    j->visible_in_done = count_other_connection(j->value);
    yq_wal_sync_stats_t st;
    yq_wal_sync_stats(&st);
    j->syncs_in_done = st.syncs;
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
    assert_non_null(yq_batch_writer_db());
    assert_ptr_not_equal(yq_batch_writer_db(), db);
    yq_batch_stats_t before, after;
    yq_batch_stats(&before);
    yq_wal_sync_stats_t syncs_before;
    yq_wal_sync_stats(&syncs_before);
    job_t jobs[4] = {{.value = 1}, {.value = 1}, {.value = 2}, {.value = 3}};
    for (int i = 0; i < 4; i++)
        yq_batch_submit(run_insert, after_insert, &jobs[i]);
    assert_int_equal(jobs[0].done_calls, 0); /* nothing answered before the loop runs */
    uv_run(&loop, UV_RUN_NOWAIT);            /* the check handle hands all four to the writer */
    assert_int_equal(jobs[0].done_calls, 0); /* answers come back in a later poll phase */
    for (int spins = 0; jobs[3].done_calls == 0 && spins < 1000; spins++)
        uv_run(&loop, UV_RUN_ONCE);
    yq_batch_stats(&after);
    assert_int_equal(after.commits - before.commits, 1); /* one transaction for the four */
    assert_int_equal(after.jobs - before.jobs, 4);
    uv_thread_t self = uv_thread_self();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].autocommit_in_done, 1);
        /* run() on the writer thread with its own connection, done() here,
         * and only after a WAL sync completed. */
        assert_true(jobs[i].run_on_other_connection);
        assert_false(uv_thread_equal(&jobs[i].run_thread, &self));
        assert_true(uv_thread_equal(&jobs[i].done_thread, &self));
        assert_true(jobs[i].syncs_in_done > syncs_before.syncs);
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
    /* The loop's connection keeps synchronous=FULL for its own writes. */
    sqlite3_stmt *sync = yq_db_stmt(db, "PRAGMA synchronous");
    assert_int_equal(yq_db_int(db, sync, -1), 2);
    yq_batch_stop();
    assert_null(yq_batch_writer_db());
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* What is queued when the server stops still runs and is answered. */
static void test_stop_runs_what_is_queued(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(yq_batch_start(&loop, db), 0);
    job_t jobs[3] = {{.value = 20}, {.value = 21}, {.value = 22}};
    for (int i = 0; i < 3; i++)
        yq_batch_submit(run_insert, after_insert, &jobs[i]);
    yq_batch_stop(); /* before the loop ever ran */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].rc, 0);
        assert_int_equal(jobs[i].visible_in_done, 1);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_without_loop_runs_at_once(void **state) {
    (void)state;
    job_t j = {.value = 10};
    yq_batch_submit(run_insert, after_insert, &j);
    assert_false(j.run_on_other_connection);
    assert_int_equal(j.done_calls, 1);
    assert_int_equal(j.rc, 0);
    assert_int_equal(j.visible_in_done, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_commit_savepoints),
        cmocka_unit_test(test_stop_runs_what_is_queued),
        cmocka_unit_test(test_without_loop_runs_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
