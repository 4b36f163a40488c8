/*
 * Session cache (see session_cache.h): a small direct-mapped table; an entry
 * is used only while the epoch it was stored in is the current one.
 */
#include "auth/session_cache.h"

#include <string.h>

#define SLOTS 1024 /* a power of two */

typedef struct {
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    uint64_t epoch; /* 0: empty */
    yq_session_cached_t s;
} slot_t;

static struct {
    yq_db_t *db;
    uint64_t epoch;        /* current; starts at 1 */
    sqlite3_int64 version; /* PRAGMA data_version last seen */
    slot_t slots[SLOTS];
} C;

static void on_update(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 rowid) {
    (void)arg, (void)op, (void)dbname, (void)rowid;
    if (strcmp(table, "sessions") == 0 || strcmp(table, "users") == 0 || strcmp(table, "orgs") == 0)
        C.epoch++;
}

int yq_session_cache_start(yq_db_t *db) {
    memset(&C, 0, sizeof C);
    C.db = db;
    C.epoch = 1;
    C.version = -1;
    sqlite3_update_hook(yq_db_handle(db), on_update, NULL);
    return 0;
}

void yq_session_cache_stop(void) {
    if (C.db)
        sqlite3_update_hook(yq_db_handle(C.db), NULL, NULL);
    memset(&C, 0, sizeof C);
}

/* Moves the epoch when another connection has committed since last time. */
static void check_others(void) {
    sqlite3_stmt *st = yq_db_stmt(C.db, "PRAGMA data_version");
    sqlite3_int64 v = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (st)
        sqlite3_reset(st);
    if (v < 0 || v != C.version) {
        C.epoch++;
        C.version = v;
    }
}

static slot_t *slot_of(const unsigned char *hash) {
    uint32_t k;
    memcpy(&k, hash, sizeof k); /* the hash is SHA-256 output: its bytes are uniform */
    return &C.slots[k & (SLOTS - 1)];
}

const yq_session_cached_t *yq_session_cache_get(const unsigned char hash[YQ_TOKEN_HASH_BYTES]) {
    if (!C.db)
        return NULL;
    check_others();
    slot_t *s = slot_of(hash);
    if (s->epoch != C.epoch || memcmp(s->hash, hash, YQ_TOKEN_HASH_BYTES) != 0)
        return NULL;
    return &s->s;
}

void yq_session_cache_put(const unsigned char hash[YQ_TOKEN_HASH_BYTES], const yq_session_cached_t *v) {
    if (!C.db)
        return;
    slot_t *s = slot_of(hash);
    memcpy(s->hash, hash, YQ_TOKEN_HASH_BYTES);
    s->s = *v;
    s->epoch = C.epoch;
}
