/*
 * Storage: one SQLite connection used from the loop thread, in WAL mode with
 * synchronous=FULL (a 2xx means the write is on disk), foreign keys on and a
 * busy timeout. Every statement is prepared once and cached by the address of
 * its SQL text, so callers write `yq_db_stmt(db, "SELECT ...")` with a string
 * literal and never build SQL from input.
 */
#ifndef YQ_DB_DB_H
#define YQ_DB_DB_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct yq_db yq_db_t;

/* Error codes: negative, shared by the storage layer. */
#define YQ_DB_OK 0
#define YQ_DB_ERROR (-1)
#define YQ_DB_CONSTRAINT (-2) /* unique/foreign key/trigger refusal: usually a 409 */
#define YQ_DB_BUSY (-3)

/* Opens (creating when absent) and configures the database, then migrates it
 * to the current schema. Returns NULL and prints the reason to stderr when it
 * cannot. Close with yq_db_close(). */
yq_db_t *yq_db_open(const char *path);
/* Opens without migrating (backup, inspection). */
yq_db_t *yq_db_open_raw(const char *path);
/* A read-only connection of its own for a thread-pool job (long reads off
 * the loop): busy timeout set, pages read in place (mmap). NULL when the file
 * cannot be opened. Close with sqlite3_close(). */
sqlite3 *yq_db_open_reader(const char *path);
void yq_db_close(yq_db_t *db);
sqlite3 *yq_db_handle(yq_db_t *db);
const char *yq_db_path(yq_db_t *db);

/* The process-wide connection of the running server (set by serve). */
yq_db_t *yq_db_main(void);
void yq_db_set_main(yq_db_t *db);

/* Returns the cached prepared statement for this literal SQL, reset and with
 * bindings cleared. Aborts on a SQL syntax error (a programming error). */
sqlite3_stmt *yq_db_stmt(yq_db_t *db, const char *sql);
/* sqlite3_step with the project's error mapping: SQLITE_ROW -> 1,
 * SQLITE_DONE -> 0, constraint -> YQ_DB_CONSTRAINT, else YQ_DB_ERROR (logged). */
int yq_db_step(yq_db_t *db, sqlite3_stmt *st);
/* Runs a statement that returns no rows; returns 0 or a negative code. */
int yq_db_exec(yq_db_t *db, const char *sql);

/* Transactions: BEGIN IMMEDIATE / COMMIT (timed for /metrics) / ROLLBACK. */
int yq_db_begin(yq_db_t *db);
int yq_db_commit(yq_db_t *db);
void yq_db_rollback(yq_db_t *db);

int64_t yq_db_last_id(yq_db_t *db);
/* Steps a bound statement once and resets it: column 0 of the first row as
 * an integer, or `none` when there is no row (or on error). */
int64_t yq_db_int(yq_db_t *db, sqlite3_stmt *st, int64_t none);
int yq_db_changes(yq_db_t *db);

/* Online backup (sqlite3_backup_*) of src into the file `to`; returns 0 or -1
 * with the reason on stderr. */
int yq_db_backup(yq_db_t *src, const char *to);

#endif
