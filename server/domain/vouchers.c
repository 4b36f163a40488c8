/*
 * Innovation vouchers; the rules are in vouchers.h. The split itself is the
 * fee engine's yq_fee_split (domain/fees.h); this file adds the balance
 * bookkeeping around it and the replay that checks a stored history.
 */
#include "domain/vouchers.h"

#include <string.h>

#include "core/timeutil.h"
#include "domain/errors.h"

static int valid(const yq_voucher_t *v) {
    return v && v->rate_percent >= 0 && v->rate_percent <= 100 && v->amount_fen >= 0 && v->balance_fen >= 0 &&
           v->balance_fen <= v->amount_fen;
}

int yq_voucher_year(int64_t t) {
    int y, m, d;
    yq_local_date(t, &y, &m, &d);
    return y;
}

int yq_voucher_draw(const yq_voucher_t *v, int64_t fee_fen, yq_fee_split_t *split, int64_t *balance_after) {
    if (!valid(v) || fee_fen < 0 || !split || !balance_after)
        return YQ_DOM_EINVAL;
    yq_fee_split_t s;
    int rc = yq_fee_split(fee_fen, v->rate_percent, v->balance_fen, &s);
    if (rc)
        return rc;
    *split = s;
    *balance_after = v->balance_fen - s.voucher_fen;
    return 0;
}

int yq_voucher_refund(const yq_voucher_t *v, int64_t drawn_fen, int64_t *balance_after) {
    if (!valid(v) || drawn_fen < 0 || !balance_after || drawn_fen > v->amount_fen - v->balance_fen)
        return YQ_DOM_EINVAL;
    *balance_after = v->balance_fen + drawn_fen;
    return 0;
}

int yq_voucher_top_up(yq_voucher_t *v, int64_t add_fen) {
    if (!valid(v) || add_fen <= 0)
        return YQ_DOM_EINVAL;
    if (add_fen > YQ_VOUCHER_MAX_FEN || v->amount_fen > YQ_VOUCHER_MAX_FEN - add_fen)
        return YQ_DOM_EOVERFLOW;
    v->amount_fen += add_fen;
    v->balance_fen += add_fen;
    return 0;
}

static int neg(int64_t in, int64_t *out) {
    if (in == INT64_MIN)
        return YQ_DOM_EOVERFLOW;
    *out = -in;
    return 0;
}

int yq_usage_amounts_negate(const yq_usage_amounts_t *in, yq_usage_amounts_t *out) {
    int64_t sum;
    if (!in || !out || __builtin_add_overflow(in->voucher_fen, in->cash_fen, &sum) || sum != in->fee_fen)
        return YQ_DOM_EINVAL;
    yq_usage_amounts_t r;
    if (neg(in->minutes, &r.minutes) || neg(in->samples, &r.samples) || neg(in->booked_minutes, &r.booked_minutes) ||
        neg(in->fee_fen, &r.fee_fen) || neg(in->voucher_fen, &r.voucher_fen) || neg(in->cash_fen, &r.cash_fen))
        return YQ_DOM_EOVERFLOW;
    *out = r;
    return 0;
}

const char *yq_voucher_history_name(yq_voucher_history_t h) {
    static const char *const names[] = {"ok", "kind", "sign", "balance", "negative", "above_issued", "final"};
    return (unsigned)h < sizeof names / sizeof names[0] ? names[h] : "unknown";
}

/* Kinds and the sign their delta must have: +1 gives, -1 takes, 0 for a
 * kind that cannot stand here (the first event is the issue, and only it). */
static int kind_sign(const char *kind, int first) {
    if (!kind || first != (strcmp(kind, "issue") == 0))
        return 0;
    if (first)
        return 1;
    if (strcmp(kind, "top_up") == 0 || strcmp(kind, "refund") == 0)
        return 1;
    if (strcmp(kind, "draw") == 0)
        return -1;
    return 0;
}

static yq_voucher_history_t fail(size_t i, size_t *bad_index, yq_voucher_history_t h) {
    if (bad_index)
        *bad_index = i;
    return h;
}

yq_voucher_history_t yq_voucher_replay(const yq_voucher_t *v, const yq_voucher_event_t *ev, size_t n,
                                       size_t *bad_index) {
    int64_t balance = 0, issued = 0;
    for (size_t i = 0; i < n; i++) {
        int sign = kind_sign(ev[i].kind, i == 0);
        if (!sign)
            return fail(i, bad_index, YQ_VOUCHER_HISTORY_KIND);
        if ((sign > 0 && ev[i].delta_fen < 0) || (sign < 0 && ev[i].delta_fen > 0))
            return fail(i, bad_index, YQ_VOUCHER_HISTORY_SIGN);
        if (__builtin_add_overflow(balance, ev[i].delta_fen, &balance) || balance != ev[i].balance_fen)
            return fail(i, bad_index, YQ_VOUCHER_HISTORY_BALANCE);
        if (ev[i].kind[0] == 'i' || ev[i].kind[0] == 't') {
            if (__builtin_add_overflow(issued, ev[i].delta_fen, &issued))
                return fail(i, bad_index, YQ_VOUCHER_HISTORY_BALANCE);
        }
        if (balance < 0)
            return fail(i, bad_index, YQ_VOUCHER_HISTORY_NEGATIVE);
        if (balance > issued)
            return fail(i, bad_index, YQ_VOUCHER_HISTORY_ABOVE);
    }
    if (!v || balance != v->balance_fen || issued != v->amount_fen)
        return fail(n, bad_index, YQ_VOUCHER_HISTORY_FINAL);
    return YQ_VOUCHER_HISTORY_OK;
}
