/*
 * Settlement statements: rows are grouped into lines by sorting an index
 * array by (provider, payer); flows, zone nets and net positions are built
 * from the lines by the same sort-and-merge, so the cost is O(n log n) in
 * the rows and tiny after that. Every sum is overflow-checked. The rules
 * are in settlement.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "domain/errors.h"
#include "domain/settlement.h"

/* Adds v to *acc; sets *bad on overflow (and leaves *acc alone). */
static void add(int64_t *acc, int64_t v, int *bad) {
    int64_t r;
    if (__builtin_add_overflow(*acc, v, &r))
        *bad = 1;
    else
        *acc = r;
}

/* Writes the sentence into why (when given) and returns rc. */
__attribute__((format(printf, 4, 5))) static int fail(int rc, char *why, size_t why_size, const char *fmt, ...) {
    if (why && why_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- sort-and-merge by a pair of keys ------------------------------------ */

typedef struct {
    int64_t k1, k2, v;
} keyed_t;

static int by_keys(const void *a, const void *b) {
    const keyed_t *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    return (x->k2 > y->k2) - (x->k2 < y->k2);
}

/* Sorts e[0 .. n) and merges equal keys by summing v; returns the new count.
 * Sets *bad on overflow. */
static size_t merge_keyed(keyed_t *e, size_t n, int *bad) {
    qsort(e, n, sizeof *e, by_keys);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && e[m - 1].k1 == e[i].k1 && e[m - 1].k2 == e[i].k2)
            add(&e[m - 1].v, e[i].v, bad);
        else
            e[m++] = e[i];
    }
    return m;
}

/* ---- lines ----------------------------------------------------------------- */

static void build_lines(const yq_settle_row_t *rows, size_t n, yq_settlement_t *s, int *bad) {
    /* (provider, payer, row index): sorting it groups the rows of a line. */
    keyed_t *idx = yq_xmalloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = (keyed_t){rows[i].provider_org_id, rows[i].payer_org_id, (int64_t)i};
    qsort(idx, n, sizeof *idx, by_keys);
    s->lines = n ? yq_xmalloc(n * sizeof *s->lines) : NULL;
    for (size_t i = 0; i < n; i++) {
        const yq_settle_row_t *r = &rows[idx[i].v];
        yq_settle_line_t *l = s->n_lines ? &s->lines[s->n_lines - 1] : NULL;
        if (!l || l->provider_org_id != r->provider_org_id || l->payer_org_id != r->payer_org_id) {
            l = &s->lines[s->n_lines++];
            *l = (yq_settle_line_t){.provider_org_id = r->provider_org_id,
                                    .payer_org_id = r->payer_org_id,
                                    .provider_zone_id = r->provider_zone_id,
                                    .payer_zone_id = r->payer_zone_id};
        }
        l->uses += r->reversal ? -1 : 1;
        add(&l->minutes, r->minutes, bad);
        add(&l->fee_fen, r->fee_fen, bad);
        add(&l->voucher_fen, r->voucher_fen, bad);
        add(&l->cash_fen, r->cash_fen, bad);
    }
    free(idx);
}

/* Flows, zone nets, net positions and totals, from the lines. */
static void build_sums(yq_settlement_t *s, int *bad) {
    size_t n = s->n_lines;
    keyed_t *e = yq_xmalloc((2 * n + 1) * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (keyed_t){s->lines[i].payer_zone_id, s->lines[i].provider_zone_id, s->lines[i].fee_fen};
    size_t m = merge_keyed(e, n, bad);
    s->flows = m ? yq_xmalloc(m * sizeof *s->flows) : NULL;
    for (size_t i = 0; i < m; i++)
        s->flows[s->n_flows++] = (yq_settle_flow_t){e[i].k1, e[i].k2, e[i].v};

    m = 0;
    for (size_t i = 0; i < s->n_flows; i++) {
        const yq_settle_flow_t *f = &s->flows[i];
        if (f->from_zone_id < f->to_zone_id)
            e[m++] = (keyed_t){f->from_zone_id, f->to_zone_id, f->fee_fen};
        else if (f->from_zone_id > f->to_zone_id)
            e[m++] = (keyed_t){f->to_zone_id, f->from_zone_id, -f->fee_fen};
    }
    m = merge_keyed(e, m, bad);
    s->zone_net = m ? yq_xmalloc(m * sizeof *s->zone_net) : NULL;
    for (size_t i = 0; i < m; i++)
        s->zone_net[s->n_zone_net++] = (yq_settle_zone_net_t){e[i].k1, e[i].k2, e[i].v};

    for (size_t i = 0; i < n; i++) {
        e[2 * i] = (keyed_t){s->lines[i].provider_org_id, 0, s->lines[i].fee_fen};
        e[2 * i + 1] = (keyed_t){s->lines[i].payer_org_id, 0, -s->lines[i].cash_fen};
    }
    m = merge_keyed(e, 2 * n, bad);
    s->net = m ? yq_xmalloc(m * sizeof *s->net) : NULL;
    for (size_t i = 0; i < m; i++)
        s->net[s->n_net++] = (yq_settle_net_t){e[i].k1, e[i].v};
    free(e);

    for (size_t i = 0; i < n; i++) {
        add(&s->uses, s->lines[i].uses, bad);
        add(&s->minutes, s->lines[i].minutes, bad);
        add(&s->fee_fen, s->lines[i].fee_fen, bad);
        add(&s->voucher_fen, s->lines[i].voucher_fen, bad);
        add(&s->cash_fen, s->lines[i].cash_fen, bad);
    }
    if (s->voucher_fen == INT64_MIN)
        *bad = 1;
    else
        s->voucher_fund_net_fen = -s->voucher_fen;
}

/* Checks fee = voucher + cash on every row; returns 0 or a failure. */
static int check_rows(const yq_settle_row_t *rows, size_t n, int64_t *fee_total, char *why, size_t why_size) {
    int bad = 0;
    *fee_total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t parts = rows[i].voucher_fen;
        add(&parts, rows[i].cash_fen, &bad);
        if (!bad && parts != rows[i].fee_fen)
            return fail(YQ_DOM_EFEE_SPLIT, why, why_size,
                        "fee_split: usage row %zu has fee %" PRId64 " != voucher %" PRId64 " + cash %" PRId64 " fen", i,
                        rows[i].fee_fen, rows[i].voucher_fen, rows[i].cash_fen);
        add(fee_total, rows[i].fee_fen, &bad);
        if (bad)
            return fail(YQ_DOM_EOVERFLOW, why, why_size, "overflow: summing usage row %zu", i);
    }
    return 0;
}

int yq_settle_build(const yq_settle_row_t *rows, size_t n, yq_settlement_t *out, char *why, size_t why_size) {
    if (!out)
        return YQ_DOM_EINVAL;
    *out = (yq_settlement_t){0};
    if (!rows && n)
        return YQ_DOM_EINVAL;
    int64_t fee_total;
    int rc = check_rows(rows, n, &fee_total, why, why_size);
    if (rc)
        return rc;
    int bad = 0;
    build_lines(rows, n, out, &bad);
    build_sums(out, &bad);
    rc = bad ? fail(YQ_DOM_EOVERFLOW, why, why_size, "overflow: a statement sum does not fit in 64 bits")
             : yq_settle_check(out, fee_total, why, why_size);
    if (rc)
        yq_settle_free(out);
    return rc;
}

int yq_settle_check(const yq_settlement_t *s, int64_t usage_fee_total, char *why, size_t why_size) {
    if (!s)
        return YQ_DOM_EINVAL;
    int bad = 0;
    int64_t fees = 0, net = s->voucher_fund_net_fen;
    for (size_t i = 0; i < s->n_lines; i++) {
        const yq_settle_line_t *l = &s->lines[i];
        int64_t parts = l->voucher_fen;
        add(&parts, l->cash_fen, &bad);
        if (!bad && parts != l->fee_fen)
            return fail(YQ_DOM_EFEE_SPLIT, why, why_size,
                        "fee_split: line provider %" PRId64 " payer %" PRId64 " has fee %" PRId64
                        " != voucher + cash %" PRId64 " fen",
                        l->provider_org_id, l->payer_org_id, l->fee_fen, parts);
        add(&fees, l->fee_fen, &bad);
    }
    for (size_t i = 0; i < s->n_net; i++)
        add(&net, s->net[i].net_fen, &bad);
    if (bad)
        return fail(YQ_DOM_EOVERFLOW, why, why_size, "overflow: a statement sum does not fit in 64 bits");
    if (fees != usage_fee_total)
        return fail(YQ_DOM_EFEE_SUM, why, why_size,
                    "fee_sum: the lines' fees sum to %" PRId64 " fen but the period's usage fees are %" PRId64 " fen",
                    fees, usage_fee_total);
    if (net != 0)
        return fail(YQ_DOM_ENET_SUM, why, why_size,
                    "net_sum: the net positions and the voucher fund (%" PRId64 " fen) sum to %" PRId64 " fen, not 0",
                    s->voucher_fund_net_fen, net);
    return 0;
}

void yq_settle_free(yq_settlement_t *s) {
    if (!s)
        return;
    free(s->lines);
    free(s->flows);
    free(s->zone_net);
    free(s->net);
    *s = (yq_settlement_t){0};
}
