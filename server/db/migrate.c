/*
 * Migrations: apply each embedded NNN_name.sql newer than PRAGMA user_version
 * in its own transaction, then set user_version to its number. A database
 * newer than this binary is refused rather than guessed at.
 *
 * Foreign keys are off while migrations run, as SQLite's procedure for
 * rebuilding a table requires (dropping the old table must not cascade or
 * fail on the rows that refer to it; PRAGMA foreign_keys cannot change inside
 * a transaction). A migration that drops a table (a rebuild) must leave no
 * more rows with dangling foreign keys than there were before it: rows that
 * already dangled (written with foreign keys off, by hand) do not block an
 * upgrade, and a rebuild that lost rows others point to is rolled back.
 * Foreign keys are on again afterwards if they were on before, and the WAL a
 * large upgrade left behind is truncated.
 */
#include "db/migrate.h"

#include <stdio.h>
#include <string.h>

int yq_migrate_latest(void) {
    int v = 0;
    for (size_t i = 0; i < yq_migrations_count; i++)
        if (yq_migrations[i].version > v)
            v = yq_migrations[i].version;
    return v;
}

static int user_version(sqlite3 *db, int *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The integer a one-row query returns, or -1 on error (or no row). */
static long long query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

#define DANGLING_SQL "SELECT count(*) FROM pragma_foreign_key_check"

/* Applies one migration in its own transaction. */
static int apply(sqlite3 *db, const yq_migration_t *m, char *msg, size_t size) {
    char *err = NULL;
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version=%d", m->version);
    int rebuild = strstr(m->sql, "DROP TABLE") != NULL;
    long long before = 0, after = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
        (rebuild && (before = query_int(db, DANGLING_SQL)) < 0) ||
        sqlite3_exec(db, m->sql, NULL, NULL, &err) != SQLITE_OK ||
        (rebuild && (after = query_int(db, DANGLING_SQL)) < 0)) {
        snprintf(msg, size, "migration %s failed: %s", m->name, err ? err : sqlite3_errmsg(db));
        goto fail;
    }
    if (after > before) {
        snprintf(msg, size, "migration %s failed: it would leave %lld more rows whose foreign keys point nowhere",
                 m->name, after - before);
        goto fail;
    }
    if (sqlite3_exec(db, set, NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
        snprintf(msg, size, "migration %s failed: %s", m->name, err ? err : sqlite3_errmsg(db));
        goto fail;
    }
    return 0;
fail:
    sqlite3_free(err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int yq_migrate(sqlite3 *db, int target, char *msg, size_t size) {
    int current;
    if (user_version(db, &current)) {
        snprintf(msg, size, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    int latest = yq_migrate_latest();
    if (target <= 0)
        target = latest;
    if (current > latest) {
        snprintf(msg, size, "the database has schema version %d, newer than this program's %d", current, latest);
        return -1;
    }
    int fk = query_int(db, "PRAGMA foreign_keys") == 1;
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    int rc = 0, applied = 0;
    for (size_t i = 0; i < yq_migrations_count && rc == 0; i++) {
        const yq_migration_t *m = &yq_migrations[i];
        if (m->version > current && m->version <= target) {
            rc = apply(db, m, msg, size);
            applied += rc == 0;
        }
    }
    if (fk)
        sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (applied && current > 0) /* an upgrade (a rebuild's WAL holds whole tables): give the space back */
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return rc;
}
