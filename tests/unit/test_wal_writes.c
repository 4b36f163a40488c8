/*
 * WAL writes combined (db/wal_writes.c), on real SQLite files. Underneath
 * the shim sits a VFS of this test over the default one that counts the
 * writes reaching the WAL file and can make them fail. Checked:
 * - a commit of many frames reaches the WAL in a few writes, not two per
 *   frame, and another connection sees it as soon as COMMIT returns;
 * - once COMMIT returns the frames are in the file: a copy of the database
 *   and its WAL taken then, without closing anything, holds the commit;
 * - a failing write fails the COMMIT; nothing of it is visible, the next
 *   commit works, and the database passes integrity_check;
 * - a transaction larger than the page cache (frames written before the
 *   commit, pages rewritten in place, read back) and larger than the buffer
 *   commits the same rows as through the default VFS;
 * - synchronous=FULL (xSync) and reopening the file work as usual.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/wal_writes.h"

/* ---- the counting, failing VFS underneath ---- */

typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
    int wal;
} under_file_t;

static sqlite3_vfs under, *deflt;
static sqlite3_io_methods under_methods;
static int wal_writes; /* xWrite calls on WAL files */
static int fail_wal;   /* make them fail */

static int u_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off) {
    under_file_t *f = (under_file_t *)file;
    if (f->wal) {
        wal_writes++;
        if (fail_wal)
            return SQLITE_IOERR_WRITE;
    }
    return f->real->pMethods->xWrite(f->real, data, n, off);
}

#define U(file) (((under_file_t *)(file))->real)
static int u_close(sqlite3_file *file) {
    return U(file)->pMethods->xClose(U(file));
}
static int u_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off) {
    return U(file)->pMethods->xRead(U(file), out, n, off);
}
static int u_truncate(sqlite3_file *file, sqlite3_int64 size) {
    return U(file)->pMethods->xTruncate(U(file), size);
}
static int u_sync(sqlite3_file *file, int flags) {
    return U(file)->pMethods->xSync(U(file), flags);
}
static int u_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    return U(file)->pMethods->xFileSize(U(file), size);
}
static int u_lock(sqlite3_file *file, int level) {
    return U(file)->pMethods->xLock(U(file), level);
}
static int u_unlock(sqlite3_file *file, int level) {
    return U(file)->pMethods->xUnlock(U(file), level);
}
static int u_check(sqlite3_file *file, int *out) {
    return U(file)->pMethods->xCheckReservedLock(U(file), out);
}
static int u_fcntl(sqlite3_file *file, int op, void *arg) {
    return U(file)->pMethods->xFileControl(U(file), op, arg);
}
static int u_sector(sqlite3_file *file) {
    return U(file)->pMethods->xSectorSize(U(file));
}
static int u_dev(sqlite3_file *file) {
    return U(file)->pMethods->xDeviceCharacteristics(U(file));
}
static int u_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out) {
    return U(file)->pMethods->xShmMap(U(file), page, size, extend, out);
}
static int u_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    return U(file)->pMethods->xShmLock(U(file), offset, n, flags);
}
static void u_shm_barrier(sqlite3_file *file) {
    U(file)->pMethods->xShmBarrier(U(file));
}
static int u_shm_unmap(sqlite3_file *file, int del) {
    return U(file)->pMethods->xShmUnmap(U(file), del);
}
static int u_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out) {
    return U(file)->pMethods->xFetch(U(file), off, n, out);
}
static int u_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p) {
    return U(file)->pMethods->xUnfetch(U(file), off, p);
}

static int u_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    under_file_t *f = (under_file_t *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = deflt->xOpen(deflt, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods)
        return rc;
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &under_methods;
    return SQLITE_OK;
}

static void install_under(void) {
    deflt = sqlite3_vfs_find(NULL);
    under = *deflt;
    under.zName = "test-under";
    under.szOsFile = (int)sizeof(under_file_t) + deflt->szOsFile;
    under.xOpen = u_open;
    under_methods = (sqlite3_io_methods){
        3,       u_close,  u_read, u_write,   u_truncate, u_sync,        u_file_size, u_lock,  u_unlock, u_check,
        u_fcntl, u_sector, u_dev,  u_shm_map, u_shm_lock, u_shm_barrier, u_shm_unmap, u_fetch, u_unfetch};
    assert_int_equal(sqlite3_vfs_register(&under, 1), SQLITE_OK); /* the default: the shim wraps it */
    assert_int_equal(yq_wal_writes_register(), SQLITE_OK);
}

/* ---- helpers ---- */

static char dir[64], path[96];

static sqlite3 *open_with(const char *vfs, const char *sync) {
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA wal_autocheckpoint=0", sync);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    return h;
}

static void exec_ok(sqlite3 *h, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

static long long one(sqlite3 *h, const char *sql) {
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void text_of(sqlite3 *h, const char *sql, char *out, size_t size) {
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/yiqi-walw-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    sqlite3 *h = open_with(YQ_WAL_WRITES_VFS, "NORMAL");
    exec_ok(h, "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT); CREATE INDEX t_k ON t(k)");
    sqlite3_close(h);
    wal_writes = fail_wal = 0;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Inserts n rows with keys spread over the index, in one transaction. */
static int insert_rows(sqlite3 *h, int from, int n) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; WITH RECURSIVE s(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM s WHERE i < %d) "
             "INSERT INTO t (id, k, v) SELECT i, (i * 7919) %% 100003, printf('%%0300d', i) FROM s",
             from, from + n - 1);
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- tests ---- */

static void test_commit_is_few_writes_and_visible(void **state) {
    (void)state;
    sqlite3 *h = open_with(YQ_WAL_WRITES_VFS, "NORMAL");
    sqlite3 *other = open_with(NULL, "NORMAL");
    assert_int_equal(insert_rows(h, 1, 5000), SQLITE_OK); /* the WAL starts */
    int before = wal_writes;
    assert_int_equal(insert_rows(h, 100001, 300), SQLITE_OK);
    int writes = wal_writes - before;
    /* 300 rows of 300 bytes over a random index: dozens of frames, which
     * through the default VFS are two writes each. */
    print_message("WAL writes for the commit: %d\n", writes);
    assert_true(writes >= 1);
    assert_true(writes <= 8);
    assert_int_equal(one(other, "SELECT count(*) FROM t"), 5300);
    assert_int_equal(one(other, "SELECT count(*) FROM t WHERE id > 100000 AND v = printf('%0300d', id)"), 300);
    sqlite3_close(other);
    sqlite3_close(h);
}

static void test_frames_in_file_when_commit_returns(void **state) {
    (void)state;
    sqlite3 *h = open_with(YQ_WAL_WRITES_VFS, "NORMAL");
    assert_int_equal(insert_rows(h, 1, 2000), SQLITE_OK);
    assert_int_equal(insert_rows(h, 2001, 100), SQLITE_OK);
    /* Copy the files as they are now, the writer still open. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cp %s %s/copy.db && cp %s-wal %s/copy.db-wal", path, dir, path, dir);
    assert_int_equal(system(cmd), 0);
    sqlite3_close(h);
    char copy[128];
    snprintf(copy, sizeof copy, "%s/copy.db", dir);
    sqlite3 *c;
    assert_int_equal(sqlite3_open_v2(copy, &c, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(one(c, "SELECT count(*) FROM t"), 2100);
    char ok[32];
    text_of(c, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    sqlite3_close(c);
}

static void test_failed_write_fails_commit(void **state) {
    (void)state;
    sqlite3 *h = open_with(YQ_WAL_WRITES_VFS, "NORMAL");
    sqlite3 *other = open_with(NULL, "NORMAL");
    assert_int_equal(insert_rows(h, 1, 1000), SQLITE_OK);
    int before = wal_writes;
    fail_wal = 1;
    int rc = insert_rows(h, 5001, 200);
    fail_wal = 0;
    assert_int_equal(rc & 0xff, SQLITE_IOERR);
    assert_true(wal_writes > before); /* it did try, at COMMIT */
    assert_int_equal(one(other, "SELECT count(*) FROM t"), 1000);
    assert_int_equal(one(h, "SELECT count(*) FROM t"), 1000);
    /* The connection goes on: the same rows commit now. */
    assert_int_equal(insert_rows(h, 5001, 200), SQLITE_OK);
    assert_int_equal(one(other, "SELECT count(*) FROM t"), 1200);
    char ok[32];
    text_of(other, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    sqlite3_close(other);
    sqlite3_close(h);
    /* And after reopening (WAL recovery reads the file). */
    h = open_with(YQ_WAL_WRITES_VFS, "NORMAL");
    assert_int_equal(one(h, "SELECT count(*) FROM t"), 1200);
    sqlite3_close(h);
}

/* The same big transaction through the shim and through the default VFS:
 * a page cache of 20 pages makes SQLite write frames before the commit,
 * rewrite some in place and read them back; 8 MB of rows pass the buffer's
 * limit. */
static void big_transaction(const char *vfs, char *sum, size_t size) {
    sqlite3 *h = open_with(vfs, "FULL");
    exec_ok(h, "PRAGMA cache_size=20");
    exec_ok(h, "BEGIN IMMEDIATE");
    exec_ok(h, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) "
               "INSERT INTO t (id, k, v) SELECT i, (i * 7919) % 100003, printf('%0400d', i) FROM s");
    exec_ok(h, "UPDATE t SET v = v || 'x', k = k + 1 WHERE id % 3 = 0");
    exec_ok(h, "DELETE FROM t WHERE id % 7 = 0");
    exec_ok(h, "UPDATE t SET v = substr(v, 1, 50) WHERE id % 5 = 0");
    exec_ok(h, "COMMIT");
    sqlite3_close(h);
    h = open_with(NULL, "NORMAL");
    text_of(h, "SELECT count(*) || '/' || sum(k) || '/' || sum(length(v)) || '/' || sum(id) FROM t", sum, size);
    char ok[32];
    text_of(h, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    sqlite3_close(h);
}

static void test_big_transaction_same_as_default(void **state) {
    char through_shim[128], through_default[128];
    int before = wal_writes;
    big_transaction(YQ_WAL_WRITES_VFS, through_shim, sizeof through_shim);
    print_message("WAL writes for the big transaction: %d\n", wal_writes - before);
    teardown(state);
    setup(state);
    big_transaction(NULL, through_default, sizeof through_default);
    assert_string_equal(through_shim, through_default);
}

int main(void) {
    install_under();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_is_few_writes_and_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_in_file_when_commit_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_fails_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_transaction_same_as_default, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
