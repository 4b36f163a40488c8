/*
 * The usage ledger's hash chain (DOMAIN.md "Usage records"): every usage
 * record carries the SHA-256 of its canonical content, and that content
 * includes the previous record's hash, so editing, deleting or inserting a
 * stored record breaks the chain at that record. Pure: SHA-256 (OpenSSL's
 * libcrypto) and string building, no I/O.
 *
 * Canonical content, version 1 (one line of bytes, no trailing newline):
 *
 *     yq1|id|instrument_id|provider_org_id|user_id|group_id|payer_org_id|
 *     booking_id|kind|corrects_id|start|end|minutes|samples|service_mode|
 *     source|recorded_by|period|tier|price_unit|rate_fen|min_charge_fen|
 *     step_minutes|basis|booked_minutes|fee_fen|voucher_fen|cash_fen|
 *     voucher_id|created_at|prev_hash|reason
 *
 * (written above on several lines, it is one). Integers are in decimal with
 * a leading '-' when negative; the nullable ids (group_id, booking_id,
 * corrects_id, recorded_by, voucher_id) are empty when absent. Every text
 * field is written as its length in bytes, ':' and the bytes
 * ("8:original"), so no field's content can shift another field's
 * boundary: the encoding is injective. prev_hash is 64 lower-case hex
 * digits; the first record's prev_hash is 64 zeros (YQ_LEDGER_GENESIS).
 * The record's hash is the lower-case hex SHA-256 of these bytes, so an
 * auditor can recompute any record with `sqlite3` and `sha256sum`.
 *
 * Verifying walks the records in id order: a record is bad when its stored
 * hash is not the hash of its content (it was edited, or inserted by hand)
 * or when its prev_hash is not the stored hash of the record before it (a
 * record before it was deleted, or records were reordered). Each record's
 * check needs only itself and its predecessor's stored hash, so a walk may
 * be split into ranges that are checked independently and merged.
 *
 * A chain proves nothing on its own: whoever can write the database can
 * also recompute every hash after an edit. It proves the ledger unchanged
 * against a checkpoint (count, head hash) written down OUTSIDE the
 * database (a settlement statement, the commission's records); see
 * deploy/README.md "The usage ledger".
 */
#ifndef YQ_DOMAIN_LEDGER_H
#define YQ_DOMAIN_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#define YQ_LEDGER_HASH_HEX 65 /* 64 hex digits and a NUL */
#define YQ_LEDGER_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
/* Room for any record the API writes: 22 integers of at most 20
 * characters, 31 separators, the prefix, the hash and 8 length-prefixed
 * texts, of which only the reason is long (500 characters, at most 2,000
 * bytes of UTF-8). Hand-edited rows may be longer; yq_ledger_canonical
 * reports the length it needs. */
#define YQ_LEDGER_CANON_MAX 4096

/* One usage record as the ledger sees it. Texts are borrowed; NULL reads as
 * "". Nullable ids are 0 when absent. */
typedef struct {
    int64_t id;
    int64_t instrument_id, provider_org_id, user_id, group_id, payer_org_id, booking_id;
    const char *kind; /* original | reversal | correction */
    int64_t corrects_id;
    int64_t start, end, minutes, samples;
    const char *service_mode, *source;
    int64_t recorded_by;
    const char *period, *tier, *price_unit;
    int64_t rate_fen, min_charge_fen, step_minutes;
    const char *basis;
    int64_t booked_minutes, fee_fen, voucher_fen, cash_fen, voucher_id;
    int64_t created_at;
    const char *prev_hash; /* 64 hex digits */
    const char *reason;
} yq_usage_record_t;

/* Writes the canonical content of r into buf (size bytes, NUL-terminated
 * when it fits) and returns its length without the NUL, like snprintf: a
 * result >= size means buf was too small and holds a truncated prefix. */
size_t yq_ledger_canonical(const yq_usage_record_t *r, char *buf, size_t size);

/* SHA-256 of n bytes at data into out (32 bytes), by OpenSSL (which uses
 * the CPU's SHA extensions where it has them). Thread-safe. */
void yq_ledger_sha256(unsigned char out[32], const void *data, size_t n);

/* The hash of r: lower-case hex SHA-256 of its canonical content, into out
 * (YQ_LEDGER_HASH_HEX bytes). Returns 0, or YQ_DOM_EINVAL when r or out is
 * NULL. Never fails otherwise (long content is hashed from the heap). */
int yq_ledger_hash(const yq_usage_record_t *r, char out[YQ_LEDGER_HASH_HEX]);

/* What is wrong with one record. */
typedef enum {
    YQ_LEDGER_OK = 0,
    YQ_LEDGER_BAD_HASH = 1, /* stored hash is not the hash of the content */
    YQ_LEDGER_BAD_LINK = 2, /* prev_hash is not the previous record's hash */
} yq_ledger_problem_t;

/* "ok", "hash_mismatch", "broken_link". */
const char *yq_ledger_problem_name(yq_ledger_problem_t p);

/* The state of a walk over records in id order. */
typedef struct {
    char prev[YQ_LEDGER_HASH_HEX]; /* the stored hash of the last record seen */
    int64_t records;               /* records seen */
    int64_t bad;                   /* bad records seen */
    int64_t first_bad_id;          /* id of the first bad record; read only when bad > 0 */
    int64_t last_id;               /* id of the last record seen, 0 when none */
} yq_ledger_walk_t;

/* Starts a walk. prev is the stored hash of the record just before the
 * first one to be walked, or NULL for a walk from the start of the chain
 * (the genesis value). */
void yq_ledger_walk_init(yq_ledger_walk_t *w, const char *prev);

/* Checks the next record r (its prev_hash field as stored) against its
 * stored hash and the walk so far, and advances the walk. Returns the
 * problem found (a bad hash wins over a bad link). The walk continues from
 * the stored hash either way, so one edited record is named once. */
yq_ledger_problem_t yq_ledger_walk_step(yq_ledger_walk_t *w, const yq_usage_record_t *r, const char *stored_hash);

/* Counts the next record as bad (a hash mismatch) without hashing it, for
 * a record whose stored values cannot be the ones that were hashed (an
 * integer column holding a fraction, say), and advances the walk. */
void yq_ledger_walk_mark_bad(yq_ledger_walk_t *w, int64_t id, const char *stored_hash);

/* Merges the walk of a later range into an earlier one (records, bad,
 * first_bad_id, last position). */
void yq_ledger_walk_merge(yq_ledger_walk_t *into, const yq_ledger_walk_t *later);

#endif
