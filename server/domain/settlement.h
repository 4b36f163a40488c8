/*
 * Monthly settlement (DOMAIN.md "Monthly settlement"; API.md "Settlement"):
 * a statement built from the usage records of a period, and the invariants
 * it must meet. Pure: the caller reads the rows (one per usage record of
 * the period, reversals with negative minutes and money) and stores the
 * result.
 *
 * - Lines: one per (provider institution, payer institution), pairs within
 *   one institution included, sorted by provider then payer. uses = the
 *   number of original and correction records minus the number of
 *   reversals, so a corrected use counts once and a voided one not at all
 *   (a reversal landing in a later period than its original lowers that
 *   period's count, as it lowers its minutes and money: sums over periods
 *   stay true). minutes, fee, voucher and cash are plain sums.
 * - Zone flows: fee from the payer's zone to the provider's zone, same-zone
 *   pairs included, sorted by (from, to). Zone net: for each unordered pair
 *   of two different zones {a < b} that saw a flow, net = flow(a -> b) -
 *   flow(b -> a), positive when a pays b.
 * - Net positions (multilateral netting): per institution, fees receivable
 *   as provider - cash payable as payer, sorted by institution; the voucher
 *   fund's position is -(total voucher). Together they sum to zero exactly
 *   when every fee is voucher + cash.
 * - Invariants (checked on every build, and by yq_settle_check on any
 *   statement): the lines' fees sum to the period's usage fees (fee_sum);
 *   fee = voucher + cash on every row and every line (fee_split); the net
 *   positions and the voucher fund sum to zero (net_sum). Sums are checked
 *   for int64 overflow (overflow).
 */
#ifndef YQ_DOMAIN_SETTLEMENT_H
#define YQ_DOMAIN_SETTLEMENT_H

#include <stddef.h>
#include <stdint.h>

/* One usage record of the period. */
typedef struct {
    int64_t provider_org_id, payer_org_id;
    int64_t provider_zone_id, payer_zone_id;
    int reversal; /* 1 for a reversal record (negative minutes and money) */
    int64_t minutes, fee_fen, voucher_fen, cash_fen;
} yq_settle_row_t;

typedef struct {
    int64_t provider_org_id, payer_org_id;
    int64_t provider_zone_id, payer_zone_id;
    int64_t uses, minutes, fee_fen, voucher_fen, cash_fen;
} yq_settle_line_t;

typedef struct {
    int64_t from_zone_id, to_zone_id; /* payer's zone -> provider's zone */
    int64_t fee_fen;
} yq_settle_flow_t;

typedef struct {
    int64_t zone_a_id, zone_b_id; /* a < b */
    int64_t net_fen;              /* > 0: a pays b */
} yq_settle_zone_net_t;

typedef struct {
    int64_t org_id;
    int64_t net_fen; /* > 0: receives */
} yq_settle_net_t;

/* A statement. The arrays are malloc'd (NULL when empty) and released with
 * yq_settle_free. */
typedef struct {
    yq_settle_line_t *lines;
    size_t n_lines;
    yq_settle_flow_t *flows;
    size_t n_flows;
    yq_settle_zone_net_t *zone_net;
    size_t n_zone_net;
    yq_settle_net_t *net;
    size_t n_net;
    int64_t voucher_fund_net_fen;                          /* -(total voucher) */
    int64_t uses, minutes, fee_fen, voucher_fen, cash_fen; /* totals */
} yq_settlement_t;

/* Builds the statement of rows[0 .. n) into *out and checks it with
 * yq_settle_check against the rows' own fee total. Returns 0 (the caller
 * then calls yq_settle_free); or the first broken invariant —
 * YQ_DOM_EFEE_SPLIT (a row or line with fee != voucher + cash),
 * YQ_DOM_EFEE_SUM, YQ_DOM_ENET_SUM — or YQ_DOM_EOVERFLOW, or YQ_DOM_EINVAL
 * (NULL out, or NULL rows with n > 0). On failure *out is emptied and a
 * sentence naming the invariant and the offending row or line is written
 * into why (why_size bytes; why may be NULL). Never returns a statement that
 * breaks an invariant. Aborts only when out of memory (core/alloc.h). */
int yq_settle_build(const yq_settle_row_t *rows, size_t n, yq_settlement_t *out, char *why, size_t why_size);

/* Checks the invariants of a built or reloaded statement: every line's fee
 * = voucher + cash (YQ_DOM_EFEE_SPLIT), the lines' fees sum to
 * usage_fee_total, the period's usage fees counted independently by the
 * caller (YQ_DOM_EFEE_SUM), the net positions plus the voucher fund sum to
 * zero (YQ_DOM_ENET_SUM); YQ_DOM_EOVERFLOW when a sum overflows. Returns 0
 * or the first failure, with a sentence in why as above. */
int yq_settle_check(const yq_settlement_t *s, int64_t usage_fee_total, char *why, size_t why_size);

/* Releases the arrays and empties the statement; safe on an emptied one. */
void yq_settle_free(yq_settlement_t *s);

#endif
