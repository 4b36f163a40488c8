/*
 * Background checkpoints: copying the WAL into the database file off the
 * committing threads.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * threshold: it copies thousands of pages into the database file and fsyncs
 * it while every write waits. Instead, the committing connections (the
 * loop's, and the group commit writer's) report the WAL size after each
 * commit (a wal hook), and past CHECKPOINT_FRAMES a passive checkpoint runs
 * on a libuv worker thread with a connection of its own (queued by the loop,
 * woken through a uv_async when the writer's commit crossed the threshold),
 * while the writes go on.
 *
 * A passive checkpoint copies what was committed when it began; under
 * steady load new frames keep arriving, so the WAL file itself is only
 * restarted from its beginning when a checkpoint finds nothing left to copy.
 * To keep it bounded anyway, once the WAL holds RESTART_FRAMES the committing
 * thread runs one passive checkpoint itself right after a commit; by then the worker has
 * copied nearly everything, so that one is short, and the next transaction
 * starts the WAL over.
 */
#ifndef YQ_DB_CHECKPOINT_H
#define YQ_DB_CHECKPOINT_H

#include <stdint.h>
#include <uv.h>

#include "db/db.h"

/* Takes over checkpointing of `db` (the loop's connection). Returns 0 or a
 * negative code. */
int yq_checkpoint_start(uv_loop_t *loop, yq_db_t *db);
/* Watches another committing connection of the same database too (the
 * writer's; its hook goes when it is closed). Call after start. */
void yq_checkpoint_watch(yq_db_t *other);
/* Stops starting new checkpoints (one running finishes on its own) and
 * gives the connection its automatic checkpoint back. */
void yq_checkpoint_stop(void);

typedef struct {
    uint64_t background; /* checkpoints run on the worker */
    uint64_t inline_;    /* checkpoints a committing thread ran itself to restart the WAL */
} yq_checkpoint_stats_t;
void yq_checkpoint_stats(yq_checkpoint_stats_t *out);

#endif
