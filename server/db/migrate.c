/*
 * Migrations: apply each embedded NNN_name.sql newer than PRAGMA user_version
 * in its own transaction, then set user_version to its number. A database
 * newer than this binary is refused rather than guessed at.
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
    for (size_t i = 0; i < yq_migrations_count; i++) {
        const yq_migration_t *m = &yq_migrations[i];
        if (m->version <= current || m->version > target)
            continue;
        char *err = NULL;
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version=%d", m->version);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
            snprintf(msg, size, "migration %s failed: %s", m->name, err ? err : sqlite3_errmsg(db));
            sqlite3_free(err);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}
