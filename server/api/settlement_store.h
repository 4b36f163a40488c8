/*
 * Storage of monthly settlement statements (DOMAIN.md "Monthly settlement";
 * API.md "Settlement"), used by api/settlements.c and the bench.
 *
 * Building. yq_settle_store_build reads every usage record of the period
 * (reversals included) with its institutions' zones, hands them to the pure
 * yq_settle_build (domain/settlement.h), checks the statement once more
 * against the period's usage fees summed independently by SQL, and only then
 * writes it: lines (kept by (provider, payer) so their ids and states
 * survive a rebuild; a line whose figures changed goes back to `open`),
 * zone flows, zone nets, net positions, totals, and the ledger's checkpoint
 * (count and head hash of usage_records). A broken invariant writes nothing
 * and returns YQ_SETTLE_INVARIANT with a sentence naming it.
 *
 * Closing re-reads the period's usage and refuses when it no longer gives the
 * stored lines (YQ_SETTLE_STALE: rebuild first), when a line is disputed, or
 * when the month has not ended; it then stamps the checkpoint of the moment.
 * Migration 050's triggers refuse any write to a closed statement.
 *
 * Every write runs inside the caller's transaction on the given connection
 * (a group-commit job in the server). Reading (yq_settle_store_load) gives a
 * self-contained yq_statement_t that may be handed to another thread (the
 * XLSX export runs on the thread pool).
 */
#ifndef YQ_API_SETTLEMENT_STORE_H
#define YQ_API_SETTLEMENT_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "domain/settlement.h"

/* Store codes (negative, apart from the YQ_DB_* ones). */
#define YQ_SETTLE_CLOSED (-60)     /* 409 period_closed */
#define YQ_SETTLE_INVARIANT (-61)  /* 500 settlement_invariant: nothing stored */
#define YQ_SETTLE_NOT_FOUND (-62)  /* 404 */
#define YQ_SETTLE_DISPUTED (-63)   /* 409 disputed_lines */
#define YQ_SETTLE_STALE (-64)      /* 409 statement_stale */
#define YQ_SETTLE_NOT_ENDED (-65)  /* 409 period_not_ended */
#define YQ_SETTLE_IN_FUTURE (-66)  /* 400 in_future */
#define YQ_SETTLE_BAD_PERIOD (-67) /* 400: not "YYYY-MM" */

/* One line as stored. Strings live in the statement's arena. */
typedef struct {
    int64_t id;
    int64_t provider_org_id, payer_org_id, provider_zone_id, payer_zone_id;
    int64_t uses, minutes, fee_fen, voucher_fen, cash_fen;
    const char *state; /* open | confirmed | disputed */
    const char *reason;
    int64_t acted_by, acted_at; /* 0: none */
} yq_st_line_t;

/* An institution's net position: receivable = fees as provider, payable =
 * cash as payer, net = receivable - payable (> 0: receives). */
typedef struct {
    int64_t org_id;
    int64_t receivable_fen, payable_fen, net_fen;
} yq_st_net_t;

typedef struct {
    int64_t id, zone_id;
    const char *code, *name_zh, *name_en;
} yq_st_org_t;

typedef struct {
    int64_t id;
    const char *code, *name_zh, *name_en;
} yq_st_zone_t;

typedef struct {
    yq_arena_t *arena;
    char period[8];
    int closed;
    int64_t org_scope; /* 0: the whole statement; else only that institution's lines */
    int64_t built_at, built_by, closed_at, closed_by;
    int64_t records;          /* usage records of the period at build */
    int64_t records_now;      /* usage records of the period now (stale when different) */
    int64_t checkpoint_count; /* the ledger at build (drafts) or at closing */
    char checkpoint_hash[65];
    yq_st_line_t *lines;
    size_t n_lines;
    yq_settle_flow_t *flows;
    size_t n_flows;
    yq_settle_zone_net_t *zone_net;
    size_t n_zone_net;
    yq_st_net_t *net;
    size_t n_net;
    int64_t voucher_fund_net_fen;
    int64_t uses, minutes, fee_fen, voucher_fen, cash_fen;
    int64_t n_open, n_confirmed, n_disputed;
    yq_st_org_t *orgs; /* every institution a line names, by id */
    size_t n_orgs;
    yq_st_zone_t *zones; /* every zone, by id */
    size_t n_zones;
} yq_statement_t;

typedef struct {
    int created;     /* 1: a new statement; 0: a draft rebuilt */
    size_t lines;    /* lines in the statement */
    size_t reopened; /* confirmed or disputed lines whose figures changed */
    int64_t records; /* usage records read */
    double read_s, build_s, write_s;
} yq_settle_built_t;

/* Checks "YYYY-MM" (month 01-12); returns 0 or YQ_SETTLE_BAD_PERIOD. */
int yq_settle_period_valid(const char *period);

/* Builds or rebuilds the statement of period as of `now`, inside the
 * caller's transaction. Returns 0 and fills *out; YQ_SETTLE_BAD_PERIOD;
 * YQ_SETTLE_IN_FUTURE (a month after now's); YQ_SETTLE_CLOSED;
 * YQ_SETTLE_INVARIANT with the sentence in why (nothing written; also
 * logged); or a negative YQ_DB_* code. */
int yq_settle_store_build(yq_db_t *db, const char *period, int64_t actor, int64_t now, yq_settle_built_t *out,
                          char *why, size_t why_size);

/* Loads the statement of period into *out (release with
 * yq_statement_free), and checks the stored invariants (fee = voucher +
 * cash per line, the lines sum to the stored totals, the net positions
 * sum to zero). Returns 0; YQ_SETTLE_NOT_FOUND; YQ_SETTLE_INVARIANT with
 * why (logged); or a negative YQ_DB_* code. */
int yq_settle_store_load(yq_db_t *db, const char *period, yq_statement_t *out, char *why, size_t why_size);

/* Narrows a loaded statement to the lines where org_id is provider or payer:
 * totals and counts of those lines, that institution's net position only,
 * no zone flows or nets, no voucher fund. */
void yq_statement_restrict(yq_statement_t *st, int64_t org_id);

void yq_statement_free(yq_statement_t *st);

/* Lookups in a loaded statement; NULL when unknown. */
const yq_st_org_t *yq_statement_org(const yq_statement_t *st, int64_t id);
const yq_st_zone_t *yq_statement_zone(const yq_statement_t *st, int64_t id);

/* One line of period (in `arena`) and whether the period is closed.
 * Returns 0, YQ_SETTLE_NOT_FOUND or a negative YQ_DB_* code. */
int yq_settle_store_line(yq_db_t *db, const char *period, int64_t line_id, yq_arena_t *arena, yq_st_line_t *out,
                         int *closed);

/* Sets a line's state (confirmed or disputed) with the reason, inside the
 * caller's transaction. Returns 0, YQ_SETTLE_NOT_FOUND, YQ_SETTLE_CLOSED or
 * a negative YQ_DB_* code. */
int yq_settle_store_line_act(yq_db_t *db, const char *period, int64_t line_id, const char *state, const char *reason,
                             int64_t actor, int64_t now);

/* Closes the period inside the caller's transaction. Returns 0;
 * YQ_SETTLE_NOT_FOUND; YQ_SETTLE_CLOSED; YQ_SETTLE_NOT_ENDED; YQ_SETTLE_DISPUTED;
 * YQ_SETTLE_STALE (the usage no longer gives the stored lines, why says
 * how); YQ_SETTLE_INVARIANT (why; logged); or a negative YQ_DB_* code. */
int yq_settle_store_close(yq_db_t *db, const char *period, int64_t actor, int64_t now, char *why, size_t why_size);

/* The statements, newest period first (at most 500): period, status,
 * built_at, closed_at, lines, open, confirmed, disputed, fee_fen, and for
 * org_id > 0 only that institution's lines. NULL on a storage error. */
cJSON *yq_settle_store_list(yq_db_t *db, int64_t org_id);

/* "2026-11" -> 202611, the audit log's object id of a period. */
int64_t yq_settle_period_number(const char *period);

#endif
