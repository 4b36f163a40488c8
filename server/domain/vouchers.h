/*
 * Innovation vouchers (科技创新券; DOMAIN.md "Vouchers", API.md "Fees"): the
 * commission gives an enterprise a balance for a calendar year with a rate
 * (default 50%). A usage record whose payer holds a voucher of the record's
 * local year has rate_percent of its fee paid by voucher, rounded half up,
 * up to the remaining balance; the rest is cash. A reversal gives back what
 * its original drew. Pure integer arithmetic on fen; no I/O.
 *
 * Invariants these functions keep, and yq_voucher_replay checks on a
 * stored history: a balance is never negative and never above what was
 * issued (issue plus top-ups); every event's balance is the previous
 * balance plus its delta; draws take, refunds, issues and top-ups give.
 */
#ifndef YQ_DOMAIN_VOUCHERS_H
#define YQ_DOMAIN_VOUCHERS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fees.h"

#define YQ_VOUCHER_DEFAULT_RATE 50
#define YQ_VOUCHER_MAX_FEN 1000000000000LL /* 10^10 yuan: bounds amounts and top-ups */

typedef struct {
    int64_t amount_fen;  /* issued in total (issue plus top-ups) */
    int64_t balance_fen; /* what is left, 0 ... amount_fen */
    int rate_percent;    /* 0 ... 100 */
} yq_voucher_t;

/* The local (Asia/Shanghai) calendar year of instant t: the voucher year a
 * usage record starting at t draws on. */
int yq_voucher_year(int64_t t);

/* Draws the voucher share of fee_fen from v: fills *split (voucher + cash
 * = fee) and *balance_after. Returns 0; YQ_DOM_EINVAL when fee_fen is
 * negative or v is not a valid voucher (rate outside 0 ... 100, balance
 * outside 0 ... amount); YQ_DOM_EOVERFLOW as yq_fee_split. Outputs are
 * written only on success. */
int yq_voucher_draw(const yq_voucher_t *v, int64_t fee_fen, yq_fee_split_t *split, int64_t *balance_after);

/* Gives drawn_fen back to v (a reversed record's voucher part). Returns 0
 * with *balance_after; YQ_DOM_EINVAL when drawn_fen is negative, v is not
 * valid, or the balance would exceed what was issued (more would come back
 * than was ever drawn). */
int yq_voucher_refund(const yq_voucher_t *v, int64_t drawn_fen, int64_t *balance_after);

/* Adds add_fen (> 0) to both the amount and the balance of *v. Returns 0;
 * YQ_DOM_EINVAL when add_fen <= 0 or v is not valid; YQ_DOM_EOVERFLOW when
 * the amount would pass YQ_VOUCHER_MAX_FEN. *v is changed only on success. */
int yq_voucher_top_up(yq_voucher_t *v, int64_t add_fen);

/* The quantities of a usage record that a reversal negates. */
typedef struct {
    int64_t minutes, samples, booked_minutes, fee_fen, voucher_fen, cash_fen;
} yq_usage_amounts_t;

/* *out = -*in, field by field. Returns 0, or YQ_DOM_EOVERFLOW when a field
 * is INT64_MIN; YQ_DOM_EINVAL when fee != voucher + cash (a record that
 * breaks the split is never reversed into another such record). */
int yq_usage_amounts_negate(const yq_usage_amounts_t *in, yq_usage_amounts_t *out);

/* One stored voucher event. kind: "issue", "top_up", "draw", "refund". */
typedef struct {
    const char *kind;
    int64_t delta_fen, balance_fen;
} yq_voucher_event_t;

/* What a replay found wrong (0: nothing). */
typedef enum {
    YQ_VOUCHER_HISTORY_OK = 0,
    YQ_VOUCHER_HISTORY_KIND = 1,     /* unknown kind; the first event is not the issue, or a later one is */
    YQ_VOUCHER_HISTORY_SIGN = 2,     /* a draw that gives, or an issue, top-up or refund that takes */
    YQ_VOUCHER_HISTORY_BALANCE = 3,  /* balance != previous balance + delta */
    YQ_VOUCHER_HISTORY_NEGATIVE = 4, /* balance below zero */
    YQ_VOUCHER_HISTORY_ABOVE = 5,    /* balance above what was issued so far */
    YQ_VOUCHER_HISTORY_FINAL = 6,    /* the last balance or the total is not the voucher's */
} yq_voucher_history_t;

/* "ok", "kind", "sign", "balance", "negative", "above_issued", "final". */
const char *yq_voucher_history_name(yq_voucher_history_t h);

/* Replays n events (oldest first) of a voucher whose stored amount and
 * balance are v->amount_fen and v->balance_fen. Returns the first problem
 * and sets *bad_index to its event (n for YQ_VOUCHER_HISTORY_FINAL), or
 * YQ_VOUCHER_HISTORY_OK. bad_index may be NULL. */
yq_voucher_history_t yq_voucher_replay(const yq_voucher_t *v, const yq_voucher_event_t *ev, size_t n,
                                       size_t *bad_index);

#endif
