/*
 * Sessions resolved recently, kept so that a signed-in request need not look
 * its session, user and organisation up again while none of them changed.
 *
 * An entry holds what the lookup returned (the principal, the session's
 * creation and last-seen times) under its token hash. Every entry is dropped
 * at once ("the epoch moves") when anything that lookup reads may have
 * changed:
 *   - a row of sessions, users or orgs inserted, updated or deleted through
 *     the server's own connection (an SQLite update hook; the server deletes
 *     such rows only with a WHERE, so SQLite's truncate shortcut, which skips
 *     the hook, never applies);
 *   - any commit by another connection, such as a command-line tool in
 *     another process (PRAGMA data_version, checked at every lookup).
 * The idle and absolute session limits are checked against the cached times
 * on every use, and a session due for its last-seen update is looked up
 * afresh, so expiry works as without the cache.
 */
#ifndef YQ_AUTH_SESSION_CACHE_H
#define YQ_AUTH_SESSION_CACHE_H

#include <stdint.h>

#include "auth/principal.h"
#include "auth/token.h"
#include "db/db.h"

typedef struct {
    yq_principal_t principal;
    int64_t created_at, last_seen_at;
} yq_session_cached_t;

/* Watches `db` (the server's main connection) for changes; 0 or -1. Without
 * it the cache keeps nothing. */
int yq_session_cache_start(yq_db_t *db);
void yq_session_cache_stop(void);

/* The entry for a token hash, or NULL; valid until the next call. */
const yq_session_cached_t *yq_session_cache_get(const unsigned char hash[YQ_TOKEN_HASH_BYTES]);
/* Keeps what a lookup just read from the database. */
void yq_session_cache_put(const unsigned char hash[YQ_TOKEN_HASH_BYTES], const yq_session_cached_t *s);

#endif
