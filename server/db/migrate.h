/*
 * Numbered schema migrations: server/db/migrations/NNN_name.sql, embedded at
 * build time. PRAGMA user_version holds the number of the last one applied;
 * each newer file runs in its own transaction, in order.
 */
#ifndef YQ_DB_MIGRATE_H
#define YQ_DB_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} yq_migration_t;

extern const yq_migration_t yq_migrations[];
extern const size_t yq_migrations_count;

/* The highest migration number. */
int yq_migrate_latest(void);
/* Applies pending migrations up to `target` (or all when target <= 0).
 * Returns 0, or -1 with the reason in msg. */
int yq_migrate(sqlite3 *db, int target, char *msg, size_t size);

#endif
