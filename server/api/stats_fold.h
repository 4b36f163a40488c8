/*
 * Folding the statistics deltas (migrations 070 and 071) into the rollups.
 *
 * Triggers on bookings append +1/-1 rows to stats_bookings_delta, and the
 * trigger on usage_records one row of sums to stats_usage_delta, which costs
 * a write no random page; this module adds them to the rollups of migration
 * 060 in one grouped pass per rollup and empties the logs. Readers of the
 * rollups call yq_st_fold() first,
 * so what they read always equals a full recomputation; a timer folds every
 * fifth of a second so that the log, and each fold, stays short (a fold of a
 * whole second of heavy load took about 20 ms and showed in the p99).
 */
#ifndef YQ_API_STATS_FOLD_H
#define YQ_API_STATS_FOLD_H

#include <uv.h>

#include "db/db.h"

/* Folds every pending delta: inside the caller's transaction when one is
 * open, else in a transaction of its own. Returns 0 or a negative code. */
int yq_st_fold(yq_db_t *db);
/* Starts the timed fold (through the group commit); it stops when
 * the server stops. Returns 0 or a negative libuv code. */
int yq_st_fold_start(uv_loop_t *loop);

#endif
