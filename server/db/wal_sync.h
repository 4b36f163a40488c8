/*
 * WAL sync: a thread that makes committed transactions durable while the
 * loop goes on with the next ones.
 *
 * The group commit (batch.h) commits its transaction with
 * synchronous=NORMAL: SQLite writes the frames to the WAL file but does not
 * fsync it. It then calls yq_wal_sync_request(), which returns a sequence
 * number and wakes this thread; the thread runs fdatasync() on the WAL file
 * and reports back to the loop (a uv_async_t) the highest sequence number
 * that is now on disk. Only then are the requests of those commits answered:
 * their held answers are sent by this thread right after the fdatasync
 * (yq_wal_sync_request_then, batch.h).
 *
 * Why this is as durable as synchronous=FULL for every answered request:
 *   - fdatasync() of the WAL file flushes everything written to it before
 *     the call, by any descriptor, so a commit whose sequence number was
 *     requested before the sync began is on disk when it returns;
 *   - WAL frames are checksummed in a chain, so after a crash SQLite's
 *     recovery keeps a prefix of whole transactions: a commit that is on
 *     disk survives, a later one that is not is dropped whole;
 *   - checkpoints (which copy the WAL into the database file) sync the WAL
 *     first at synchronous=NORMAL too, so nothing reaches the database file
 *     before the WAL holding it is durable.
 * Meanwhile the loop is not blocked by the disk: while one fdatasync runs,
 * the next batches are parsed, run and committed, and one later sync covers
 * them all. (Checkpoints: checkpoint.h.)
 */
#ifndef YQ_DB_WAL_SYNC_H
#define YQ_DB_WAL_SYNC_H

#include <stdint.h>
#include <uv.h>

#include "db/db.h"

/* Called on the loop thread with the highest sequence number now durable
 * (every earlier one is durable too), and err != 0 when the fdatasync failed
 * (those commits may not be on disk). */
typedef void (*yq_wal_synced_fn)(uint64_t seq, int err);

/* Starts the thread for the database `db` (the loop's connection; the
 * thread only uses its WAL file's name); on_synced is called on `loop`. Returns 0 or a negative libuv code. */
int yq_wal_sync_start(uv_loop_t *loop, yq_db_t *db, yq_wal_synced_fn on_synced);
/* Whether the thread runs (batch.c commits with synchronous=NORMAL then). */
int yq_wal_sync_running(void);
/* After a commit: the sequence number that on_synced will
 * report once that commit is on disk. */
uint64_t yq_wal_sync_request(void);
/* The same, and fn(arg, err) runs ON THE SYNC THREAD right after the
 * fdatasync that covers the commit (err != 0: it failed), before on_synced
 * reports it on the loop. fn must not touch the loop's state; the group
 * commit sends its held answers from there (batch.h). */
typedef void (*yq_wal_after_fn)(void *arg, int err);
uint64_t yq_wal_sync_request_then(yq_wal_after_fn fn, void *arg);
/* Lets the thread sync what was requested, joins it, reports the last
 * on_synced (on the calling thread) and closes the handles; safe to call
 * twice. */
void yq_wal_sync_stop(void);

/* Counters for /metrics and benchmarks. */
typedef struct {
    uint64_t syncs;   /* fdatasync calls made by the thread */
    uint64_t sync_ns; /* time spent in them */
} yq_wal_sync_stats_t;
void yq_wal_sync_stats(yq_wal_sync_stats_t *out);

#endif
