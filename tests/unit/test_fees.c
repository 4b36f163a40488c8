/* The fee engine (domain/fees.c), table-driven: every tier, unit and basis,
 * step boundaries (exactly on, one second over), the minimum charge,
 * rounding half up to a fen, zero-length and very long uses, the voucher
 * split, and the failure contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/errors.h"
#include "domain/fees.h"

#define H 3600
#define M 60

typedef struct {
    const char *name;
    yq_price_unit_t unit;
    yq_basis_t basis;
    yq_tier_t tier;
    int64_t step, min_charge;
    int64_t used, has_booking, booked, samples; /* seconds, flag, seconds, count */
    int64_t billed, fee;                        /* expected */
} fee_case_t;

/* Rates: internal 60 yuan/h, zone 90, cross-zone 120 (distinct, so a wrong
 * tier shows); per sample the same fields. */
static const fee_case_t cases[] = {
    /* tiers */
    {"internal 1 h", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 1 * H, 0, 0, 0, 60, 6000},
    {"zone 1 h", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_ZONE, 15, 0, 1 * H, 0, 0, 0, 60, 9000},
    {"cross-zone 1 h", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_CROSS_ZONE, 15, 0, 1 * H, 0, 0, 0, 60, 12000},
    /* step boundaries */
    {"exactly on the step", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 45 * M, 0, 0, 0, 45, 4500},
    {"one second over", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 45 * M + 1, 0, 0, 0, 60, 6000},
    {"one second under", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 45 * M - 1, 0, 0, 0, 45, 4500},
    {"one second", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 1, 0, 0, 0, 15, 1500},
    {"hour step, one second over", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_ZONE, 60, 0, H + 1, 0, 0, 0, 120, 18000},
    {"step 0: whole minutes", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 0, 0, 61, 0, 0, 0, 2, 200},
    {"step 0, exactly a minute", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 0, 0, 60, 0, 0, 0, 1, 100},
    /* minimum charge */
    {"below the minimum", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 2000, 10 * M, 0, 0, 0, 15, 2000},
    {"equal to the minimum", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 1500, 15 * M, 0, 0, 0, 15, 1500},
    {"above the minimum", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 2000, 1 * H, 0, 0, 0, 60, 6000},
    /* zero length: the minimum charge, or nothing without one */
    {"zero length, no minimum", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_ZONE, 15, 0, 0, 0, 0, 0, 0, 0},
    {"zero length, minimum", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_ZONE, 15, 5000, 0, 0, 0, 0, 0, 5000},
    /* bases */
    {"used, booked longer", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 30 * M, 1, 2 * H, 0, 30, 3000},
    {"booked, used shorter", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_INTERNAL, 15, 0, 30 * M, 1, 2 * H, 0, 120, 12000},
    {"booked, used longer", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_INTERNAL, 15, 0, 3 * H, 1, 2 * H, 0, 120, 12000},
    {"booked without booking", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_INTERNAL, 15, 0, 30 * M, 0, 2 * H, 0, 30, 3000},
    {"greater: used", YQ_UNIT_HOUR, YQ_BASIS_GREATER, YQ_TIER_ZONE, 15, 0, 3 * H + 1, 1, 2 * H, 0, 195, 29250},
    {"greater: booked", YQ_UNIT_HOUR, YQ_BASIS_GREATER, YQ_TIER_ZONE, 15, 0, 30 * M, 1, 2 * H, 0, 120, 18000},
    {"greater without booking", YQ_UNIT_HOUR, YQ_BASIS_GREATER, YQ_TIER_ZONE, 15, 0, 30 * M, 0, 0, 0, 30, 4500},
    {"booked: booked time rounds up", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_CROSS_ZONE, 15, 0, 0, 1, H + 1, 0, 75,
     15000},
    /* step boundaries under the booked and greater bases, and ties */
    {"booked exactly on the step", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_ZONE, 30, 0, 1, 1, 90 * M, 0, 90, 13500},
    {"booked one second over", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_ZONE, 30, 0, 1, 1, 90 * M + 1, 0, 120, 18000},
    {"greater: a tie", YQ_UNIT_HOUR, YQ_BASIS_GREATER, YQ_TIER_INTERNAL, 15, 0, 2 * H, 1, 2 * H, 0, 120, 12000},
    {"greater: used one second over", YQ_UNIT_HOUR, YQ_BASIS_GREATER, YQ_TIER_INTERNAL, 15, 0, 2 * H + 1, 1, 2 * H, 0,
     135, 13500},
    {"booked zero length, minimum", YQ_UNIT_HOUR, YQ_BASIS_BOOKED, YQ_TIER_CROSS_ZONE, 15, 700, 0, 1, 0, 0, 0, 700},
    /* per sample: duration and basis do not matter; minimum per record */
    {"samples internal", YQ_UNIT_SAMPLE, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 5 * H, 0, 0, 5, 0, 30000},
    {"samples zone", YQ_UNIT_SAMPLE, YQ_BASIS_BOOKED, YQ_TIER_ZONE, 15, 0, 1, 1, 9 * H, 5, 0, 45000},
    {"samples cross-zone", YQ_UNIT_SAMPLE, YQ_BASIS_GREATER, YQ_TIER_CROSS_ZONE, 15, 0, 0, 0, 0, 5, 0, 60000},
    {"samples below the minimum", YQ_UNIT_SAMPLE, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 10000, 0, 0, 0, 1, 0, 10000},
    {"zero samples, minimum", YQ_UNIT_SAMPLE, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 10000, H, 0, 0, 0, 0, 10000},
    {"samples above the minimum", YQ_UNIT_SAMPLE, YQ_BASIS_USED, YQ_TIER_ZONE, 15, 10000, H, 0, 0, 2, 0, 18000},
    {"many samples", YQ_UNIT_SAMPLE, YQ_BASIS_USED, YQ_TIER_CROSS_ZONE, 15, 0, 0, 0, 0, 1000000, 0, 12000000000},
    /* very long: a year and a century of continuous use */
    {"a year", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_CROSS_ZONE, 15, 0, 365LL * 86400, 0, 0, 0, 525600, 105120000},
    {"a century plus a second", YQ_UNIT_HOUR, YQ_BASIS_USED, YQ_TIER_INTERNAL, 15, 0, 36525LL * 86400 + 1, 0, 0, 0,
     52596015, 5259601500},
};

static void test_fee_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fee_case_t *c = &cases[i];
        yq_price_t p = {c->unit, 6000, 9000, 12000, c->min_charge, c->step, c->basis};
        yq_fee_input_t in = {c->used, (int)c->has_booking, c->booked, c->samples};
        yq_fee_t f;
        int rc = yq_fee_compute(&p, c->tier, &in, &f);
        if (rc || f.fee_fen != c->fee || f.billed_minutes != c->billed)
            print_error("case '%s': rc %d billed %lld (want %lld) fee %lld (want %lld)\n", c->name, rc,
                        (long long)f.billed_minutes, (long long)c->billed, (long long)f.fee_fen, (long long)c->fee);
        assert_int_equal(rc, 0);
        assert_int_equal(f.billed_minutes, c->billed);
        assert_int_equal(f.fee_fen, c->fee);
        assert_int_equal(f.tier, c->tier);
        assert_int_equal(f.rate_fen, c->tier == YQ_TIER_INTERNAL ? 6000 : c->tier == YQ_TIER_ZONE ? 9000 : 12000);
    }
}

/* Rounding half up to a fen on odd rates, one minute at a time. */
static void test_rounding_half_up(void **state) {
    (void)state;
    static const struct {
        int64_t rate, minutes, fee;
    } r[] = {
        {29, 1, 0},         /* 0.483 -> 0 */
        {30, 1, 1},         /* 0.5 -> 1 */
        {31, 1, 1},         /* 0.517 -> 1 */
        {89, 1, 1},         /* 1.483 -> 1 */
        {90, 1, 2},         /* 1.5 -> 2 */
        {100, 1, 2},        /* 1.667 -> 2 */
        {100, 7, 12},       /* 11.667 -> 12 */
        {1, 29, 0},         /* 0.483 -> 0 */
        {1, 30, 1},         /* 0.5 -> 1 */
        {12345, 61, 12551}, /* 12550.75 -> 12551 */
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        yq_price_t p = {YQ_UNIT_HOUR, r[i].rate, r[i].rate, r[i].rate, 0, 1, YQ_BASIS_USED};
        yq_fee_input_t in = {.used_seconds = r[i].minutes * 60};
        yq_fee_t f;
        assert_int_equal(yq_fee_compute(&p, YQ_TIER_ZONE, &in, &f), 0);
        if (f.fee_fen != r[i].fee)
            print_error("rate %lld x %lld min: %lld\n", (long long)r[i].rate, (long long)r[i].minutes,
                        (long long)f.fee_fen);
        assert_int_equal(f.fee_fen, r[i].fee);
    }
}

/* The result equals (billed * rate + 30) / 60 wherever that product fits. */
static void test_matches_plain_formula(void **state) {
    (void)state;
    for (int64_t rate = 0; rate < 2000; rate += 37) {
        for (int64_t s = 0; s < 4 * H; s += 97) {
            yq_price_t p = {YQ_UNIT_HOUR, rate, rate, rate, 0, 15, YQ_BASIS_USED};
            yq_fee_input_t in = {.used_seconds = s};
            yq_fee_t f;
            assert_int_equal(yq_fee_compute(&p, YQ_TIER_INTERNAL, &in, &f), 0);
            int64_t billed = (s + 899) / 900 * 15;
            assert_int_equal(f.billed_minutes, billed);
            assert_int_equal(f.fee_fen, (billed * rate + 30) / 60);
            assert_int_equal(f.used_minutes, (s + 59) / 60);
        }
    }
}

static void test_overflow_and_invalid(void **state) {
    (void)state;
    yq_price_t p = {YQ_UNIT_HOUR, YQ_RATE_MAX_FEN, YQ_RATE_MAX_FEN, YQ_RATE_MAX_FEN, 0, 15, YQ_BASIS_USED};
    yq_fee_t f = {.fee_fen = -7};
    /* The longest use and the highest rate the validator allows still fit:
     * 1000 years at 1,000,000 yuan an hour. */
    yq_fee_input_t in = {.used_seconds = 365250LL * 86400};
    assert_int_equal(yq_fee_compute(&p, YQ_TIER_ZONE, &in, &f), 0);
    assert_int_equal(f.fee_fen, 365250LL * 24 * YQ_RATE_MAX_FEN);
    /* Beyond int64: an error, never a wrapped fee; *out untouched. */
    f.fee_fen = -7;
    in.used_seconds = INT64_MAX;
    assert_int_equal(yq_fee_compute(&p, YQ_TIER_ZONE, &in, &f), YQ_DOM_EOVERFLOW);
    assert_int_equal(f.fee_fen, -7);
    yq_price_t ps = {YQ_UNIT_SAMPLE, INT64_MAX / 2, 0, 0, 0, 15, YQ_BASIS_USED};
    yq_fee_input_t many = {.samples = 3};
    assert_int_equal(yq_fee_compute(&ps, YQ_TIER_INTERNAL, &many, &f), YQ_DOM_EOVERFLOW);
    assert_int_equal(yq_fee_billed_minutes(INT64_MAX, INT64_MAX / 2), YQ_DOM_EOVERFLOW);
    /* Negative input. */
    yq_price_t ok = {YQ_UNIT_HOUR, 100, 100, 100, 0, 15, YQ_BASIS_USED};
    yq_fee_input_t neg = {.used_seconds = -1};
    assert_int_equal(yq_fee_compute(&ok, YQ_TIER_INTERNAL, &neg, &f), YQ_DOM_EINVAL);
    yq_fee_input_t negs = {.samples = -1};
    assert_int_equal(yq_fee_compute(&ok, YQ_TIER_INTERNAL, &negs, &f), YQ_DOM_EINVAL);
    yq_fee_input_t negb = {.has_booking = 1, .booked_seconds = -60};
    assert_int_equal(yq_fee_compute(&ok, YQ_TIER_INTERNAL, &negb, &f), YQ_DOM_EINVAL);
    yq_fee_input_t zero = {0};
    assert_int_equal(yq_fee_compute(&ok, (yq_tier_t)3, &zero, &f), YQ_DOM_EINVAL);
    ok.step_minutes = -15;
    assert_int_equal(yq_fee_compute(&ok, YQ_TIER_INTERNAL, &zero, &f), YQ_DOM_EINVAL);
    ok.step_minutes = 15;
    ok.zone_fen = -1;
    assert_int_equal(yq_fee_compute(&ok, YQ_TIER_INTERNAL, &zero, &f), YQ_DOM_EINVAL);
    assert_int_equal(yq_fee_billed_minutes(-1, 15), YQ_DOM_EINVAL);
    assert_int_equal(yq_fee_compute(NULL, YQ_TIER_INTERNAL, &zero, &f), YQ_DOM_EINVAL);
}

static void test_tier(void **state) {
    (void)state;
    assert_int_equal(yq_fee_tier(1, 10, 1, 10), YQ_TIER_INTERNAL);
    assert_int_equal(yq_fee_tier(1, 10, 2, 10), YQ_TIER_ZONE);
    assert_int_equal(yq_fee_tier(1, 10, 3, 20), YQ_TIER_CROSS_ZONE);
    assert_int_equal(yq_fee_tier(1, 10, 1, 20), YQ_TIER_INTERNAL); /* the institution decides first */
    assert_string_equal(yq_tier_name(YQ_TIER_INTERNAL), "internal");
    assert_string_equal(yq_tier_name(YQ_TIER_ZONE), "zone");
    assert_string_equal(yq_tier_name(YQ_TIER_CROSS_ZONE), "cross_zone");
    yq_tier_t t = YQ_TIER_INTERNAL;
    assert_int_equal(yq_tier_parse("cross_zone", &t), 0);
    assert_int_equal(t, YQ_TIER_CROSS_ZONE);
    assert_int_equal(yq_tier_parse("cross-zone", &t), YQ_DOM_EINVAL);
    assert_int_equal(yq_tier_parse(NULL, &t), YQ_DOM_EINVAL);
}

static void test_estimate(void **state) {
    (void)state;
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    in.price_unit = "hour";
    in.basis = "used";
    in.internal_fen = 6000;
    in.zone_fen = 9000;
    in.cross_zone_fen = 9000;
    in.min_charge_fen = 2000;
    in.step_minutes = 15;
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_ZONE, 2 * H), 18000);
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_INTERNAL, 30 * M), 3000);
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_INTERNAL, 15 * M), 2000); /* the minimum */
    in.basis = "booked"; /* every basis estimates the booked interval */
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_CROSS_ZONE, 90 * M), 13500);
    in.basis = "greater";
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_CROSS_ZONE, 90 * M), 13500);
    in.price_unit = "sample"; /* samples unknown: the minimum charge */
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_CROSS_ZONE, 90 * M), 2000);
    in.price_unit = "litre";
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_ZONE, H), YQ_DOM_EINVAL);
    in.price_unit = "hour";
    in.basis = "planned";
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_ZONE, H), YQ_DOM_EINVAL);
    in.basis = NULL; /* NULL reads as the default */
    assert_int_equal(yq_fee_estimate(&in, YQ_TIER_ZONE, H), 9000);
    yq_price_t p;
    assert_int_equal(yq_price_from_instrument(&in, &p), 0);
    int64_t fee = -1;
    assert_int_equal(yq_fee_estimate_price(&p, YQ_TIER_ZONE, H + 1, &fee), 0);
    assert_int_equal(fee, 11250);
    assert_int_equal(yq_price_rate(&p, YQ_TIER_CROSS_ZONE), 9000);
}

typedef struct {
    int64_t fee;
    int rate;
    int64_t balance, voucher, cash;
} split_case_t;

static void test_voucher_split(void **state) {
    (void)state;
    static const split_case_t s[] = {
        {1000, 50, 100000, 500, 500},
        {1001, 50, 100000, 501, 500}, /* 500.5 -> 501 */
        {3, 50, 100000, 2, 1},
        {1, 49, 100000, 0, 1},     /* 0.49 -> 0 */
        {1000, 50, 300, 300, 700}, /* capped by the balance */
        {1000, 50, 0, 0, 1000},    /* no balance left */
        {1000, 0, 100000, 0, 1000},
        {1000, 100, 100000, 1000, 0},
        {0, 50, 100000, 0, 0},
        {999, 33, 100000, 330, 669}, /* 329.67 -> 330 */
        {INT64_MAX, 100, INT64_MAX, INT64_MAX, 0},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        yq_fee_split_t out = {-1, -1};
        assert_int_equal(yq_fee_split(s[i].fee, s[i].rate, s[i].balance, &out), 0);
        if (out.voucher_fen != s[i].voucher || out.cash_fen != s[i].cash)
            print_error("split %zu: %lld + %lld\n", i, (long long)out.voucher_fen, (long long)out.cash_fen);
        assert_int_equal(out.voucher_fen, s[i].voucher);
        assert_int_equal(out.cash_fen, s[i].cash);
        assert_int_equal(out.voucher_fen + out.cash_fen, s[i].fee);
    }
    yq_fee_split_t out = {-1, -1};
    assert_int_equal(yq_fee_split(-1, 50, 100, &out), YQ_DOM_EINVAL);
    assert_int_equal(yq_fee_split(100, 101, 100, &out), YQ_DOM_EINVAL);
    assert_int_equal(yq_fee_split(100, -1, 100, &out), YQ_DOM_EINVAL);
    assert_int_equal(yq_fee_split(100, 50, -1, &out), YQ_DOM_EINVAL);
    assert_int_equal(out.voucher_fen, -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fee_table),
        cmocka_unit_test(test_rounding_half_up),
        cmocka_unit_test(test_matches_plain_formula),
        cmocka_unit_test(test_overflow_and_invalid),
        cmocka_unit_test(test_tier),
        cmocka_unit_test(test_estimate),
        cmocka_unit_test(test_voucher_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
