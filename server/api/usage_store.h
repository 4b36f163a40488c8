/*
 * Storage of usage records and vouchers (DOMAIN.md "Usage records", "Fees",
 * "Vouchers"), shared by the usage and voucher API files, the booking
 * checkout (api/bookings.c) and the demo history (demo/history.c).
 *
 * Writing. Every write runs inside the caller's transaction on
 * yq_db_main(): a group-commit job (db/batch.h) in the server, the demo's
 * one transaction in `yiqi demo`. All of them run on the loop thread, one
 * after another, so reading the chain's head and appending to it is never
 * interleaved with another append; the trigger usage_records_chain
 * (migration 040) refuses an insert that does not extend the head anyway.
 *
 *   yq_usage_record()   a new use: checks (who, the instrument, the user and
 *                       group, the booking, the period, no future, no
 *                       overlap), prices it with the instrument's rates in
 *                       force (domain/fees.h), draws on the payer's voucher
 *                       (domain/vouchers.h), appends it to the chain, and
 *                       writes the voucher's 'draw' event.
 *   yq_usage_correct()  a correction or void: a reversal of the original
 *                       (everything negated, the voucher part refunded)
 *                       and, for a correction, a new record priced with the
 *                       rates copied into the original.
 *   yq_usage_append()   the chain step both use (and the demo).
 *
 * Reading: records as JSON, who may read them, the checkpoint, and the
 * verification of the whole chain on its own connections and threads
 * (yq_usage_verify), which never touches yq_db_main() and so may run on
 * the thread pool while the loop goes on serving.
 */
#ifndef YQ_API_USAGE_STORE_H
#define YQ_API_USAGE_STORE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "auth/principal.h"
#include "db/db.h"
#include "domain/fees.h"
#include "domain/ledger.h"

/* A refusal: the HTTP status, error code, English message and field (or
 * NULL) the API answers with. status 0 means none. */
typedef struct {
    int status;
    const char *code, *message, *field;
} yq_usage_refusal_t;

/* What a new record says happened. */
typedef struct {
    int64_t instrument_id, user_id;
    int64_t group_id;   /* 0: the booking's group, else the user's */
    int64_t booking_id; /* 0: none */
    int64_t start, end;
    int64_t samples;
    const char *service_mode; /* NULL: self_operated */
    const char *source;       /* checkout | manual | agent | kiosk */
    int64_t recorded_by;      /* the acting user; 0 for none */
    int64_t now;              /* the instant of the write (created_at) */
} yq_usage_new_t;

/* Records a use inside the caller's transaction. p is the caller whose
 * right to record is checked (operator of the owner institution, or admin);
 * NULL skips that check (the checkout, which checked its own). When json is
 * not NULL, *json receives the new record as the API shows it (built from
 * what was written; the caller cJSON_Deletes it). Returns the
 * new record's id (> 0); -1 with *why set when a rule refuses it (400
 * invalid_field / in_future, 403 forbidden, 404 not_found, 409
 * usage_overlap / period_closed / already_recorded / invalid_state); or
 * another negative YQ_DB_* code. */
int64_t yq_usage_record(const yq_usage_new_t *in, const yq_principal_t *p, yq_usage_refusal_t *why, cJSON **json);

/* Records the use of booking_id at its checkout (api/bookings.c), in the
 * checkout's transaction: from the check-in (or the booking's start) to
 * now, by actor, source "checkout". Returns the id, or -1 with *why, or a
 * negative YQ_DB_* code, as yq_usage_record. */
int64_t yq_usage_record_checkout(int64_t booking_id, int64_t actor, int64_t now, yq_usage_refusal_t *why);

/* A correction (new times and samples) or a void of record id. */
typedef struct {
    int64_t id;
    int is_void;
    int64_t start, end;
    int64_t samples;    /* < 0: the original's */
    const char *reason; /* required, non-empty */
    int64_t actor;      /* the acting user */
    int64_t now;
} yq_usage_fix_t;

/* Corrects or voids inside the caller's transaction: writes the reversal
 * (and, unless voiding, the corrected record), refunds and redraws the
 * voucher. p as for yq_usage_record (never NULL here). Sets *reversal_id and
 * *correction_id (0 for a void). Returns 0; -1 with *why set (400, 403, 404,
 * 409 already_corrected / not_correctable / period_closed / usage_overlap /
 * in_future); or another negative YQ_DB_* code. */
int yq_usage_correct(const yq_usage_fix_t *in, const yq_principal_t *p, int64_t *reversal_id, int64_t *correction_id,
                     yq_usage_refusal_t *why);

/* Appends r to the chain: sets r->id (the next id) and r->prev_hash (the
 * head's hash, written into prev, which must outlive the call), computes
 * the hash into hash and inserts the row. Returns r->id, or a negative
 * YQ_DB_* code. */
int64_t yq_usage_append(yq_db_t *db, yq_usage_record_t *r, char prev[YQ_LEDGER_HASH_HEX],
                        char hash[YQ_LEDGER_HASH_HEX]);

/* The pricing and chain step of yq_usage_record, for callers that checked
 * the facts themselves (the demo history): prices r under rule p for
 * `tier` (filling tier, price_unit, basis, rates, minutes, booked_minutes
 * and fee), draws the payer's voucher, appends r (its prev_hash then
 * points into prev, its hash is written into hash) and writes the 'draw'
 * event. r's other fields must be set. Returns the id, YQ_USAGE_UNPRICEABLE
 * when the fee does not fit in int64, or a negative YQ_DB_* code. */
#define YQ_USAGE_UNPRICEABLE (-50)
int64_t yq_usage_price_append(yq_db_t *db, yq_usage_record_t *r, const yq_price_t *p, yq_tier_t tier,
                              const yq_fee_input_t *fi, char prev[YQ_LEDGER_HASH_HEX], char hash[YQ_LEDGER_HASH_HEX]);

/* Draws the voucher part of fee_fen for payer_org_id on its voucher of the
 * local year of `start`, if it holds one: lowers the balance and fills
 * *split and *voucher_id (0 when none; the whole fee is then cash). The
 * caller writes the 'draw' event once the record has its id
 * (yq_voucher_event). Returns 0 or a negative YQ_DB_* code. */
int yq_usage_voucher_draw(yq_db_t *db, int64_t payer_org_id, int64_t start, int64_t fee_fen, int64_t *voucher_id,
                          yq_fee_split_t *split);

/* Writes a voucher event with the voucher's current balance. kind: issue,
 * top_up, draw, refund; usage_id 0 for none. Returns 0 or a negative code. */
int yq_voucher_event(yq_db_t *db, int64_t voucher_id, const char *kind, int64_t delta_fen, int64_t usage_id,
                     int64_t at);

/* Is the settlement period ("2026-11") closed? */
int yq_usage_period_closed(yq_db_t *db, const char *period);

/* The record as the API shows it, or NULL when there is none. The caller
 * cJSON_Deletes it. */
cJSON *yq_usage_json(int64_t id);

/* The columns of a record as the API shows it (u = usage_records, i =
 * instruments, us = users), for yq_usage_row_json; append WHERE/ORDER. */
#define YQ_USAGE_SELECT                                                                                                \
    "SELECT u.id, u.instrument_id, i.name_zh, i.name_en, u.provider_org_id, u.user_id, us.name, u.group_id, "          \
    "u.payer_org_id, u.booking_id, u.kind, u.corrects_id, u.start, u.end, u.minutes, u.samples, u.service_mode, "      \
    "u.source, u.recorded_by, u.period, u.tier, u.price_unit, u.rate_fen, u.min_charge_fen, u.step_minutes, "          \
    "u.basis, u.booked_minutes, u.fee_fen, u.voucher_fen, u.cash_fen, u.voucher_id, u.reason, u.created_at, "          \
    "u.prev_hash, u.hash, EXISTS (SELECT 1 FROM usage_records r WHERE r.corrects_id = u.id AND r.kind = 'reversal') "  \
    "FROM usage_records u JOIN instruments i ON i.id = u.instrument_id JOIN users us ON us.id = u.user_id "

/* The JSON of the current row of a YQ_USAGE_SELECT statement; the caller
 * cJSON_Deletes it. */
cJSON *yq_usage_row_json(sqlite3_stmt *st);

/* May p read record id? Own records; the provider institution's for its
 * operators; the group's for its PI; all for commission and admins.
 * Returns 1 or 0 (also when there is no such record). */
int yq_usage_readable(int64_t id, const yq_principal_t *p);

/* The ledger's checkpoint now: how many records and the head's stored hash
 * (64 zeros when empty). Returns 0 or a negative code. */
typedef struct {
    int64_t count;
    int64_t head_id;
    char head_hash[YQ_LEDGER_HASH_HEX];
} yq_usage_checkpoint_t;
int yq_usage_checkpoint(yq_db_t *db, yq_usage_checkpoint_t *out);

/* ---- verification ---- */

#define YQ_USAGE_VERIFY_MAX_PROBLEMS 100

typedef struct {
    int64_t id;
    yq_ledger_problem_t problem;
} yq_usage_problem_t;

typedef struct {
    yq_ledger_walk_t walk; /* records, bad, first_bad_id, last_id, prev = head hash */
    yq_usage_checkpoint_t checkpoint;
    yq_usage_problem_t problems[YQ_USAGE_VERIFY_MAX_PROBLEMS]; /* the first ones, in id order */
    int nproblems;
    /* Against a checkpoint given by the caller (against_count > 0): */
    int against_checked, against_ok;
    char against_found[YQ_LEDGER_HASH_HEX]; /* the hash now at that position, "" when there is none */
    double seconds;
} yq_usage_verify_t;

/* Walks the whole chain of the database file at path in id order, on its
 * own read-only connections, split over up to `threads` threads. When
 * against_count > 0, also checks that the record at that position (1-based,
 * in id order) still has hash against_hash. Thread-safe; does not use
 * yq_db_main(). Returns 0 and fills *out, or -1 when the file cannot be
 * read (the reason is logged). */
int yq_usage_verify(const char *path, int threads, int64_t against_count, const char *against_hash,
                    yq_usage_verify_t *out);

#endif
