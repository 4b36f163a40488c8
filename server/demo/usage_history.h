/*
 * Usage records of the demo history (issue 6): demo/history.c hands every
 * completed booking to yq_demo_usage_add() as it draws the year, and calls
 * yq_demo_usage_write() once at the end, which writes the records in the
 * order the uses ended, so the ledger reads like a real year: checkouts,
 * some agent and manual entries, a few corrections and voids days later,
 * and voucher draws that drain the enterprises' balances month by month.
 * Every record goes through the real chain (api/usage_store.h).
 *
 * Deterministic: every random choice is drawn from the rng passed to
 * yq_demo_usage_add, in the order history.c calls it.
 */
#ifndef YQ_DEMO_USAGE_HISTORY_H
#define YQ_DEMO_USAGE_HISTORY_H

#include <stdint.h>

#include "db/db.h"
#include "demo/demo.h"

/* Remembers the use of a completed booking [start, end) by user_id of
 * group_id (payer payer_org_id) on instrument_id. Returns 0;
 * YQ_DB_CONSTRAINT when it overlaps a use already remembered on the same
 * instrument (the caller drops that booking; history.c hands the bookings
 * over instrument by instrument); YQ_DB_ERROR when out of memory. */
int yq_demo_usage_add(yq_rng_t *rng, int64_t booking_id, int64_t instrument_id, int64_t user_id, int64_t group_id,
                      int64_t payer_org_id, int64_t start, int64_t end);

/* Writes every remembered use (and the corrections drawn for some) into db,
 * inside the demo's transaction, and forgets them. Returns 0 or a negative
 * code. */
int yq_demo_usage_write(yq_db_t *db);

#endif
