/*
 * Migrations: apply each embedded NNN_name.sql newer than PRAGMA user_version
 * in its own transaction, then set user_version to its number. A database
 * newer than this binary is refused rather than guessed at.
 *
 * Foreign keys are off while migrations run, as SQLite's procedure for
 * rebuilding a table requires (dropping the old table must not cascade or
 * fail on the rows that refer to it; PRAGMA foreign_keys cannot change inside
 * a transaction), and PRAGMA foreign_key_check must find nothing before each
 * migration commits. They are on again afterwards if they were on before.
 */
#include "db/migrate.h"

#include <stdio.h>

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

/* Returns 1 when a query returns a row, 0 when none, -1 on error. */
static int has_row(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Applies one migration in its own transaction. */
static int apply(sqlite3 *db, const yq_migration_t *m, char *msg, size_t size) {
    char *err = NULL;
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version=%d", m->version);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(db, m->sql, NULL, NULL, &err) != SQLITE_OK) {
        snprintf(msg, size, "migration %s failed: %s", m->name, err ? err : sqlite3_errmsg(db));
        goto fail;
    }
    int dangling = has_row(db, "PRAGMA foreign_key_check");
    if (dangling) {
        snprintf(msg, size, "migration %s failed: %s", m->name,
                 dangling > 0 ? "it leaves rows whose foreign keys point nowhere" : sqlite3_errmsg(db));
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
    int fk = has_row(db, "SELECT 1 FROM pragma_foreign_keys WHERE foreign_keys = 1") == 1;
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    int rc = 0;
    for (size_t i = 0; i < yq_migrations_count && rc == 0; i++) {
        const yq_migration_t *m = &yq_migrations[i];
        if (m->version > current && m->version <= target)
            rc = apply(db, m, msg, size);
    }
    if (fk)
        sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return rc;
}
