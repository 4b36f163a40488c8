/*
 * The SQLite connection: pragmas, a statement cache keyed by the address of
 * the SQL literal, step with error mapping, transactions and online backup.
 * Used from the loop thread only (SQLite is compiled thread-safe, but one
 * connection keeps the statement cache simple).
 */
#include "db/db.h"
#include "db/wal_writes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "db/migrate.h"
#include "http/metrics.h"

#define CACHE_SIZE 1024 /* open-addressing table of statements */

struct yq_db {
    sqlite3 *h;
    char *path;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[CACHE_SIZE];
};

static yq_db_t *main_db;

yq_db_t *yq_db_main(void) {
    return main_db;
}

void yq_db_set_main(yq_db_t *db) {
    main_db = db;
}

sqlite3 *yq_db_handle(yq_db_t *db) {
    return db->h;
}

const char *yq_db_path(yq_db_t *db) {
    return db->path;
}

static int configure(sqlite3 *h) {
    static const char *const pragmas[] = {
        "PRAGMA journal_mode=WAL",        "PRAGMA synchronous=FULL",  "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=5000",       "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536",
        "PRAGMA wal_autocheckpoint=4000",
    };
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
        char *err = NULL;
        if (sqlite3_exec(h, pragmas[i], NULL, NULL, &err) != SQLITE_OK) {
            fprintf(stderr, "yiqi: %s failed: %s\n", pragmas[i], err ? err : "?");
            sqlite3_free(err);
            return -1;
        }
    }
    return 0;
}

/* Process-wide settings, before SQLite initialises: no memory statistics
 * (each allocation would otherwise take a global mutex; nothing reads them). */
static void configure_library(void) {
    static int done;
    if (!done && sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK)
        done = 1;
}

yq_db_t *yq_db_open_raw(const char *path) {
    sqlite3 *h = NULL;
    configure_library();
    int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             yq_wal_writes_register() == SQLITE_OK ? YQ_WAL_WRITES_VFS : NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "yiqi: cannot open database %s: %s\n", path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_extended_result_codes(h, 1);
    /* A file that is not a database fails here, on the first read. */
    if (configure(h)) {
        fprintf(stderr, "yiqi: %s is not a usable SQLite database\n", path);
        sqlite3_close(h);
        return NULL;
    }
    yq_db_t *db = yq_xcalloc(1, sizeof *db);
    db->h = h;
    db->path = yq_xstrdup(path);
    return db;
}

sqlite3 *yq_db_open_reader(const char *path) {
    configure_library();
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 5000);
    sqlite3_exec(h, "PRAGMA mmap_size=4294967296", NULL, NULL, NULL); /* read pages in place, no copies */
    return h;
}

/* Before migrating a database that already holds data, copy it aside
 * (PATH.pre-vN.bak, N the version it had), so a failed upgrade can be undone. */
static int backup_before_migrate(yq_db_t *db) {
    sqlite3_stmt *st = yq_db_stmt(db, "PRAGMA user_version");
    int current = yq_db_step(db, st) == 1 ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (current <= 0 || current >= yq_migrate_latest())
        return 0;
    char to[4096];
    snprintf(to, sizeof to, "%s.pre-v%d.bak", db->path, current);
    fprintf(stderr, "yiqi: schema version %d -> %d; backing up to %s first\n", current, yq_migrate_latest(), to);
    return yq_db_backup(db, to);
}

yq_db_t *yq_db_open(const char *path) {
    yq_db_t *db = yq_db_open_raw(path);
    if (!db)
        return NULL;
    if (backup_before_migrate(db)) {
        fprintf(stderr, "yiqi: refusing to migrate %s without a backup\n", path);
        yq_db_close(db);
        return NULL;
    }
    char msg[512];
    if (yq_migrate(db->h, 0, msg, sizeof msg)) {
        fprintf(stderr, "yiqi: cannot migrate database %s: %s\n", path, msg);
        yq_db_close(db);
        return NULL;
    }
    return db;
}

void yq_db_close(yq_db_t *db) {
    if (!db)
        return;
    for (size_t i = 0; i < CACHE_SIZE; i++)
        sqlite3_finalize(db->cache[i].st);
    if (sqlite3_close(db->h) != SQLITE_OK)
        yq_log_warn("database close: %s", sqlite3_errmsg(db->h));
    if (main_db == db)
        main_db = NULL;
    free(db->path);
    free(db);
}

sqlite3_stmt *yq_db_stmt(yq_db_t *db, const char *sql) {
    size_t h = ((uintptr_t)sql >> 3) % CACHE_SIZE;
    for (size_t probe = 0; probe < CACHE_SIZE; probe++) {
        size_t i = (h + probe) % CACHE_SIZE;
        if (db->cache[i].sql == sql) {
            sqlite3_reset(db->cache[i].st);
            sqlite3_clear_bindings(db->cache[i].st);
            return db->cache[i].st;
        }
        if (!db->cache[i].sql) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
                yq_log_error("SQL prepare failed: %s in: %s", sqlite3_errmsg(db->h), sql);
                abort();
            }
            db->cache[i].sql = sql;
            db->cache[i].st = st;
            return st;
        }
    }
    yq_log_error("statement cache full");
    abort();
}

int yq_db_step(yq_db_t *db, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return YQ_DB_CONSTRAINT;
    if ((rc & 0xff) == SQLITE_BUSY)
        return YQ_DB_BUSY;
    yq_log_error("SQL step failed: %s in: %s", sqlite3_errmsg(db->h), sqlite3_sql(st));
    return YQ_DB_ERROR;
}

int yq_db_exec(yq_db_t *db, const char *sql) {
    int rc = yq_db_step(db, yq_db_stmt(db, sql));
    return rc < 0 ? rc : 0;
}

int yq_db_begin(yq_db_t *db) {
    return yq_db_exec(db, "BEGIN IMMEDIATE");
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int yq_db_commit(yq_db_t *db) {
    uint64_t t0 = now_us();
    int rc = yq_db_exec(db, "COMMIT");
    yq_metrics_commit(now_us() - t0);
    if (rc < 0)
        yq_db_rollback(db);
    return rc;
}

void yq_db_rollback(yq_db_t *db) {
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int64_t yq_db_int(yq_db_t *db, sqlite3_stmt *st, int64_t none) {
    int64_t v = yq_db_step(db, st) == 1 ? sqlite3_column_int64(st, 0) : none;
    sqlite3_reset(st);
    return v;
}

int64_t yq_db_last_id(yq_db_t *db) {
    return sqlite3_last_insert_rowid(db->h);
}

int yq_db_changes(yq_db_t *db) {
    return sqlite3_changes(db->h);
}

int yq_db_backup(yq_db_t *src, const char *to) {
    sqlite3 *dst = NULL;
    if (sqlite3_open(to, &dst) != SQLITE_OK) {
        fprintf(stderr, "yiqi: cannot create backup %s: %s\n", to, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src->h, "main");
    if (!b) {
        fprintf(stderr, "yiqi: backup failed: %s\n", sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return -1;
    }
    /* Copy every page in ONE step: that is one read transaction, a consistent
     * snapshot, and in WAL mode the server's writers go on committing while it
     * runs. Copying in several steps would release the snapshot between them,
     * and any write by another connection (the running server) restarts the
     * copy from page 1 (SQLite's backup docs): under steady load a large
     * database then never finishes (measured: a 67 MiB file did not finish
     * in 15 s under continuous writes; with one step it takes well under 1 s). */
    int rc;
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(5);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "yiqi: backup failed: %s\n", sqlite3_errstr(rc));
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    return sqlite3_close(dst) == SQLITE_OK ? 0 : -1;
}
