/*
 * The fee engine (DOMAIN.md "Fees", "Vouchers"; API.md "Precise points:
 * Fees"). Pure integer arithmetic on fen; no I/O.
 *
 * - Payer tier from the institutions and zones: internal (the payer's
 *   institution owns the instrument), zone (another institution of the
 *   owner's zone), cross_zone (an institution of another zone).
 * - Time pricing: the basis duration (used, booked, or the greater of the
 *   two; booked and greater fall back to used without a booking) is taken in
 *   exact seconds and rounded UP to the billing step:
 *       billed_minutes = ceil(seconds / (60 * step)) * step
 *       fee = max(min_charge, round_half_up(billed_minutes * rate / 60))
 *   computed as (billed_minutes * rate + 30) / 60 without overflow.
 * - Sample pricing: fee = max(min_charge, samples * rate), same tier fields.
 * - Decisions the documents leave open:
 *   * A billing step of 0 means "no step": the duration is rounded up to the
 *     whole minute (the instrument validator only accepts 1 ... 1440, so this
 *     only matters for data written by hand). A negative step is EINVAL.
 *   * A zero-length use (or zero samples) still costs the minimum charge:
 *     the minimum charge (开机费) is per usage record, and a record says the
 *     instrument was switched on. With no minimum charge it costs 0. Whether
 *     a zero-length record may be entered at all is the usage API's call.
 *   * Negative durations or sample counts are EINVAL: reversals are never
 *     priced, they negate the original record's stored fee, voucher and cash.
 * - The voucher split: voucher = round_half_up(fee * rate_percent / 100),
 *   capped by the remaining balance; cash = fee - voucher.
 */
#ifndef YQ_DOMAIN_FEES_H
#define YQ_DOMAIN_FEES_H

#include <stdint.h>

#include "domain/instrument_rules.h"

typedef enum { YQ_TIER_INTERNAL = 0, YQ_TIER_ZONE = 1, YQ_TIER_CROSS_ZONE = 2 } yq_tier_t;
typedef enum { YQ_UNIT_HOUR = 0, YQ_UNIT_SAMPLE = 1 } yq_price_unit_t;
typedef enum { YQ_BASIS_USED = 0, YQ_BASIS_BOOKED = 1, YQ_BASIS_GREATER = 2 } yq_basis_t;

/* An instrument's price rule (the price.* fields of the API). Rates are fen
 * per hour or per sample. */
typedef struct {
    yq_price_unit_t unit;
    int64_t internal_fen, zone_fen, cross_zone_fen;
    int64_t min_charge_fen; /* per usage record */
    int64_t step_minutes;   /* billing step for time; 0 = whole minutes */
    yq_basis_t basis;
} yq_price_t;

/* What happened (or, for an estimate, what was booked). */
typedef struct {
    int64_t used_seconds;   /* end - start of the use, >= 0 */
    int has_booking;        /* 1 when the use belongs to a booking */
    int64_t booked_seconds; /* the booking's end - start, >= 0; read only with has_booking */
    int64_t samples;        /* >= 0; read only for per-sample pricing */
} yq_fee_input_t;

/* The priced result; everything a usage record copies. */
typedef struct {
    yq_tier_t tier;
    int64_t rate_fen;       /* the tier's rate in force */
    int64_t used_minutes;   /* used_seconds rounded up to the whole minute */
    int64_t booked_minutes; /* booked_seconds rounded up to the whole minute; 0 without a booking */
    int64_t billed_minutes; /* the basis rounded up to the step (0 for per-sample pricing) */
    int64_t fee_fen;
} yq_fee_t;

/* The voucher split of one fee. */
typedef struct {
    int64_t voucher_fen, cash_fen;
} yq_fee_split_t;

/* The payer tier: internal when payer_org == owner_org, else zone when
 * payer_zone == owner_zone, else cross_zone. Never fails. */
yq_tier_t yq_fee_tier(int64_t owner_org_id, int64_t owner_zone_id, int64_t payer_org_id, int64_t payer_zone_id);

/* Names as the API and the usage_records.tier column spell them
 * ("internal", "zone", "cross_zone"); static storage. */
const char *yq_tier_name(yq_tier_t tier);
/* Parses a tier name. Returns 0, or YQ_DOM_EINVAL for an unknown or NULL name. */
int yq_tier_parse(const char *name, yq_tier_t *out);

/* The rate of a tier under rule p. */
int64_t yq_price_rate(const yq_price_t *p, yq_tier_t tier);

/* Copies the price.* fields of an instrument record into *out. Returns 0,
 * or YQ_DOM_EINVAL when price_unit or basis is not a known name (NULL
 * counts as the defaults "hour" and "used"). */
int yq_price_from_instrument(const yq_instrument_t *in, yq_price_t *out);

/* Rounds seconds up to a whole number of billing steps and returns the
 * minutes; step_minutes 0 rounds up to the whole minute. Returns
 * YQ_DOM_EINVAL for negative arguments. */
int64_t yq_fee_billed_minutes(int64_t seconds, int64_t step_minutes);

/* Prices one use under rule p for a payer of tier `tier`. Returns 0 and
 * fills *out; YQ_DOM_EINVAL when a duration, sample count, rate, minimum
 * charge or step is negative or an enum is out of range; YQ_DOM_EOVERFLOW
 * when the fee would not fit in int64. *out is written only on success. */
int yq_fee_compute(const yq_price_t *p, yq_tier_t tier, const yq_fee_input_t *in, yq_fee_t *out);

/* fee_estimate_fen of a booking: the fee of the booked interval as if used
 * in full (every basis then gives the same duration). Per-sample pricing
 * knows no samples yet, so its estimate is the minimum charge. Returns 0
 * with *fee_fen set, or a negative code as yq_fee_compute. */
int yq_fee_estimate_price(const yq_price_t *p, yq_tier_t tier, int64_t booked_seconds, int64_t *fee_fen);

/* The same estimate straight from an instrument record. Returns the fee
 * (>= 0), or a negative YQ_DOM_* code (bad price names, negative or
 * overflowing input) — callers store only non-negative results. */
int64_t yq_fee_estimate(const yq_instrument_t *in, yq_tier_t tier, int64_t booked_seconds);

/* Splits fee_fen between the payer's voucher and cash: voucher =
 * round_half_up(fee * rate_percent / 100), at most balance_fen; cash = the
 * rest. Returns 0 and fills *out, or YQ_DOM_EINVAL when fee_fen or
 * balance_fen is negative or rate_percent is outside 0 ... 100 (a balance
 * never goes negative; reversals negate a stored split instead),
 * YQ_DOM_EOVERFLOW when fee * rate_percent does not fit. */
int yq_fee_split(int64_t fee_fen, int rate_percent, int64_t balance_fen, yq_fee_split_t *out);

#endif
