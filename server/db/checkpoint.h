/*
 * Background checkpoints: copying the WAL into the database file off the
 * loop thread.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * threshold, on the loop thread: it copies thousands of pages into the
 * database file and fsyncs it while every request waits. Instead, the
 * loop's connection reports the WAL size after each commit (a wal hook), and
 * past CHECKPOINT_FRAMES a passive checkpoint runs on a libuv worker thread
 * with a connection of its own, while the loop goes on committing.
 *
 * A passive checkpoint copies what was committed when it began; under
 * steady load new frames keep arriving, so the WAL file itself is only
 * restarted from its beginning when a checkpoint finds nothing left to copy.
 * To keep it bounded anyway, once the WAL holds RESTART_FRAMES the group
 * commit holds its writes (they queue; reads and everything else go on)
 * while the worker copies what is left and syncs the database file; the
 * next write then starts the WAL over. The loop itself neither copies pages
 * nor waits for that fsync (before, it ran that last checkpoint itself: a stall of
 * 5-10 ms, and over a second once on a busy disk, for every request).
 */
#ifndef YQ_DB_CHECKPOINT_H
#define YQ_DB_CHECKPOINT_H

#include <stdint.h>
#include <uv.h>

#include "db/db.h"

/* Takes over checkpointing of `db` (the loop's connection). Returns 0 or a
 * negative code. */
int yq_checkpoint_start(uv_loop_t *loop, yq_db_t *db);
/* Stops starting new checkpoints (one running finishes on its own) and
 * gives the connection its automatic checkpoint back. */
void yq_checkpoint_stop(void);

/* 1 while group-commit writes must wait for the worker's checkpoint (the
 * WAL is about to start over); fn (the group commit's) runs when they may
 * go on. */
int yq_checkpoint_holds_writes(void);
void yq_checkpoint_on_resume(void (*fn)(void));

typedef struct {
    uint64_t background; /* checkpoints run on the worker */
    uint64_t inline_;    /* checkpoints the loop ran itself (no worker connection) */
    uint64_t restarts;   /* commits that started the WAL over */
} yq_checkpoint_stats_t;
void yq_checkpoint_stats(yq_checkpoint_stats_t *out);

#endif
