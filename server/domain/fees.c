/*
 * The fee engine; the rules and the decisions it makes are written down in
 * fees.h. All arithmetic is on int64 fen and minutes and checked for
 * overflow with the compiler's checked builtins, so a record of absurd
 * length fails with YQ_DOM_EOVERFLOW instead of wrapping round.
 */
#include <stddef.h>
#include <string.h>

#include "domain/errors.h"
#include "domain/fees.h"

static const char *const tier_names[] = {"internal", "zone", "cross_zone"};

yq_tier_t yq_fee_tier(int64_t owner_org_id, int64_t owner_zone_id, int64_t payer_org_id, int64_t payer_zone_id) {
    if (payer_org_id == owner_org_id)
        return YQ_TIER_INTERNAL;
    return payer_zone_id == owner_zone_id ? YQ_TIER_ZONE : YQ_TIER_CROSS_ZONE;
}

const char *yq_tier_name(yq_tier_t tier) {
    return (unsigned)tier < 3 ? tier_names[tier] : "unknown";
}

int yq_tier_parse(const char *name, yq_tier_t *out) {
    for (int i = 0; name && i < 3; i++) {
        if (strcmp(name, tier_names[i]) == 0) {
            *out = (yq_tier_t)i;
            return 0;
        }
    }
    return YQ_DOM_EINVAL;
}

int64_t yq_price_rate(const yq_price_t *p, yq_tier_t tier) {
    switch (tier) {
    case YQ_TIER_INTERNAL:
        return p->internal_fen;
    case YQ_TIER_ZONE:
        return p->zone_fen;
    default:
        return p->cross_zone_fen;
    }
}

int yq_price_from_instrument(const yq_instrument_t *in, yq_price_t *out) {
    const char *unit = in->price_unit && in->price_unit[0] ? in->price_unit : "hour";
    const char *basis = in->basis && in->basis[0] ? in->basis : "used";
    yq_price_t p = {
        .internal_fen = in->internal_fen,
        .zone_fen = in->zone_fen,
        .cross_zone_fen = in->cross_zone_fen,
        .min_charge_fen = in->min_charge_fen,
        .step_minutes = in->step_minutes,
    };
    if (strcmp(unit, "hour") == 0)
        p.unit = YQ_UNIT_HOUR;
    else if (strcmp(unit, "sample") == 0)
        p.unit = YQ_UNIT_SAMPLE;
    else
        return YQ_DOM_EINVAL;
    if (strcmp(basis, "used") == 0)
        p.basis = YQ_BASIS_USED;
    else if (strcmp(basis, "booked") == 0)
        p.basis = YQ_BASIS_BOOKED;
    else if (strcmp(basis, "greater") == 0)
        p.basis = YQ_BASIS_GREATER;
    else
        return YQ_DOM_EINVAL;
    *out = p;
    return 0;
}

/* ceil(a / b) for a >= 0, b > 0, without computing a + b - 1. */
static int64_t ceil_div(int64_t a, int64_t b) {
    return a / b + (a % b != 0);
}

int64_t yq_fee_billed_minutes(int64_t seconds, int64_t step_minutes) {
    if (seconds < 0 || step_minutes < 0)
        return YQ_DOM_EINVAL;
    if (step_minutes == 0)
        return ceil_div(seconds, 60);
    int64_t step_seconds, billed;
    if (__builtin_mul_overflow(step_minutes, (int64_t)60, &step_seconds) ||
        __builtin_mul_overflow(ceil_div(seconds, step_seconds), step_minutes, &billed))
        return YQ_DOM_EOVERFLOW;
    return billed;
}

/* round_half_up(minutes * rate / 60) for non-negative arguments, as
 * (minutes * rate + 30) / 60 but split at whole hours so that the
 * intermediate product stays small: with minutes = 60q + r the result is
 * exactly q * rate + (r * rate + 30) / 60. */
static int hourly_fee(int64_t minutes, int64_t rate, int64_t *out) {
    int64_t whole, part;
    if (__builtin_mul_overflow(minutes / 60, rate, &whole) || __builtin_mul_overflow(minutes % 60, rate, &part) ||
        __builtin_add_overflow(part, (int64_t)30, &part) || __builtin_add_overflow(whole, part / 60, out))
        return YQ_DOM_EOVERFLOW;
    return 0;
}

static int64_t basis_seconds(const yq_price_t *p, const yq_fee_input_t *in) {
    if (!in->has_booking || p->basis == YQ_BASIS_USED)
        return in->used_seconds;
    if (p->basis == YQ_BASIS_BOOKED)
        return in->booked_seconds;
    return in->used_seconds > in->booked_seconds ? in->used_seconds : in->booked_seconds;
}

static int price_valid(const yq_price_t *p, yq_tier_t tier) {
    return (unsigned)tier < 3 && (p->unit == YQ_UNIT_HOUR || p->unit == YQ_UNIT_SAMPLE) && (unsigned)p->basis < 3 &&
           p->internal_fen >= 0 && p->zone_fen >= 0 && p->cross_zone_fen >= 0 && p->min_charge_fen >= 0 &&
           p->step_minutes >= 0;
}

int yq_fee_compute(const yq_price_t *p, yq_tier_t tier, const yq_fee_input_t *in, yq_fee_t *out) {
    if (!p || !in || !out || !price_valid(p, tier) || in->used_seconds < 0 || in->samples < 0 ||
        (in->has_booking && in->booked_seconds < 0))
        return YQ_DOM_EINVAL;
    yq_fee_t f = {.tier = tier, .rate_fen = yq_price_rate(p, tier)};
    f.used_minutes = ceil_div(in->used_seconds, 60);
    f.booked_minutes = in->has_booking ? ceil_div(in->booked_seconds, 60) : 0;
    int64_t fee;
    if (p->unit == YQ_UNIT_SAMPLE) {
        if (__builtin_mul_overflow(in->samples, f.rate_fen, &fee))
            return YQ_DOM_EOVERFLOW;
    } else {
        f.billed_minutes = yq_fee_billed_minutes(basis_seconds(p, in), p->step_minutes);
        if (f.billed_minutes < 0)
            return (int)f.billed_minutes;
        int rc = hourly_fee(f.billed_minutes, f.rate_fen, &fee);
        if (rc)
            return rc;
    }
    f.fee_fen = fee > p->min_charge_fen ? fee : p->min_charge_fen;
    *out = f;
    return 0;
}

int yq_fee_estimate_price(const yq_price_t *p, yq_tier_t tier, int64_t booked_seconds, int64_t *fee_fen) {
    yq_fee_input_t in = {.used_seconds = booked_seconds, .has_booking = 1, .booked_seconds = booked_seconds};
    yq_fee_t f;
    int rc = yq_fee_compute(p, tier, &in, &f);
    if (rc)
        return rc;
    *fee_fen = f.fee_fen;
    return 0;
}

int64_t yq_fee_estimate(const yq_instrument_t *in, yq_tier_t tier, int64_t booked_seconds) {
    yq_price_t p;
    int64_t fee;
    int rc = yq_price_from_instrument(in, &p);
    if (rc == 0)
        rc = yq_fee_estimate_price(&p, tier, booked_seconds, &fee);
    return rc ? rc : fee;
}

int yq_fee_split(int64_t fee_fen, int rate_percent, int64_t balance_fen, yq_fee_split_t *out) {
    if (!out || fee_fen < 0 || balance_fen < 0 || rate_percent < 0 || rate_percent > 100)
        return YQ_DOM_EINVAL;
    /* fee * rate / 100 half up, split at whole hundreds like hourly_fee. */
    int64_t whole, part;
    if (__builtin_mul_overflow(fee_fen / 100, (int64_t)rate_percent, &whole))
        return YQ_DOM_EOVERFLOW;
    part = ((fee_fen % 100) * rate_percent + 50) / 100;
    int64_t voucher = whole + part;
    if (voucher > balance_fen)
        voucher = balance_fen;
    out->voucher_fen = voucher;
    out->cash_fen = fee_fen - voucher;
    return 0;
}
