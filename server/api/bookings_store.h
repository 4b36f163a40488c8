/*
 * Storage shared by the booking API files (bookings, availability, blocks,
 * qualifications, notifications, calendar feed, the no-show sweep and the
 * demo history): loading an instrument's booking rules, who may see or
 * manage it, booking rows as JSON, and the writes every transition makes
 * (an event row, a notification). All functions use yq_db_main() and run on
 * the loop thread; the writes are meant to run inside a group-commit job
 * (db/batch.h).
 */
#ifndef YQ_API_BOOKINGS_STORE_H
#define YQ_API_BOOKINGS_STORE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "domain/instrument_rules.h"

/* Live statuses hold the slot: the test "col is live" in SQL, written as the
 * WHERE of the partial index bookings_live_end (migration 077) so that a
 * query carrying it can use that index. An OR chain, not an IN list: SQLite
 * builds a temporary table for a constant IN list of three or more each time
 * a statement runs, and an insert runs the index's WHERE for every row. */
#define YQ_BK_LIVE(col) "(" col " = 'pending' OR " col " = 'confirmed' OR " col " = 'in_use')"
#define YQ_BK_LIVE_STATUS YQ_BK_LIVE("status")     /* of bookings unaliased */
#define YQ_BK_LIVE_B_STATUS YQ_BK_LIVE("b.status") /* of bookings as b */

/* An instrument as the booking code needs it: the catalogue's record
 * (api/instrument_store.h) plus the facts the rules ask about. */
typedef struct {
    yq_instrument_t in; /* strings live in the arena given to the loader */
    int64_t owner_zone_id;
    int retired;
} yq_bk_instrument_t;

/* Loads instrument id, copying its strings into arena a (from a copy kept in
 * memory while the catalogue does not change). Returns 0, or -1 when there
 * is none. */
int yq_bk_instrument_load(int64_t id, yq_arena_t *a, yq_bk_instrument_t *out);
/* May p (NULL: anonymous) see this instrument and its calendar? (The
 * catalogue's rule, yq_instr_visible.) */
int yq_bk_instrument_visible(const yq_bk_instrument_t *ins, const yq_principal_t *p);
/* Operator of the owner institution, or admin. */
int yq_bk_is_staff(const yq_bk_instrument_t *ins, const yq_principal_t *p);

/* The booking row as the API shows it ({id, instrument_id, ..., status,
 * awaiting, fee_estimate_fen, ...}); with_events adds the transitions.
 * Returns NULL when there is no such booking; the caller cJSON_Deletes it. */
cJSON *yq_bk_booking_json(int64_t id, int with_events);

/* What that JSON shows, for a booking whose values the caller already has
 * (a new booking's 201: no read back). Ids and instants 0 and NULL strings
 * are shown as null (group_id, series_id, checkin_at, checkout_at). */
typedef struct {
    int64_t id, instrument_id, owner_org_id, user_id, group_id, payer_org_id, start, end, fee_estimate_fen;
    int64_t series_id, checkin_at, checkout_at, created_at, updated_at;
    const char *instrument_name_zh, *instrument_name_en, *user_name, *purpose, *status, *reason;
    int needs_pi, needs_operator;
} yq_bk_row_t;
cJSON *yq_bk_row_json(const yq_bk_row_t *r);

/* Facts about a booking for permission checks. Returns 0 or -1 (none). */
typedef struct {
    int64_t id, instrument_id, user_id, group_id, owner_org_id, pi_user_id;
    int64_t start, end;
    int needs_pi, needs_operator;
    char status[16];
} yq_bk_booking_t;
int yq_bk_booking_load(int64_t id, yq_bk_booking_t *out);
/* May p read this booking? Own, the instrument's operators, the group's PI
 * (who approves it), admins. */
int yq_bk_booking_readable(const yq_bk_booking_t *b, const yq_principal_t *p);

/* Writes (inside a transaction). Return 0 or a negative YQ_DB_* code. */
int yq_bk_event(int64_t booking_id, int64_t actor_user_id, const char *from, const char *to, const char *reason);
int yq_bk_notify(int64_t user_id, const char *kind, const char *message_zh, const char *message_en, int64_t booking_id);
/* Sets a booking's status (and reason when non-NULL), records the event. */
int yq_bk_set_status(int64_t booking_id, int64_t actor_user_id, const char *from, const char *to, const char *reason);

/* "2026-12-01 09:00" local, for notification texts (out: 20 bytes). */
void yq_bk_local_text(int64_t t, char *out);

#endif
