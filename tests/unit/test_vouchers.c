/* Innovation vouchers (domain/vouchers.c): the local year a record draws
 * on, draws (rate, rounding half up, capped by the balance), refunds that
 * never raise a balance above what was issued, top-ups, the negation a
 * reversal writes, many draws that never take a balance below zero, and the
 * replay that checks a stored history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/errors.h"
#include "domain/vouchers.h"

/* 2025-12-31 23:59:59 +08:00 and one second later. */
#define NEW_YEAR_LOCAL 1767196800LL

static void test_year(void **state) {
    (void)state;
    assert_int_equal(yq_voucher_year(NEW_YEAR_LOCAL - 1), 2025);
    assert_int_equal(yq_voucher_year(NEW_YEAR_LOCAL), 2026);
    /* 16:00 UTC on 31 December is already the new year in Shanghai. */
    assert_int_equal(yq_voucher_year(NEW_YEAR_LOCAL - 8 * 3600 + 8 * 3600), 2026);
    assert_int_equal(yq_voucher_year(0), 1970);
}

typedef struct {
    int64_t amount, balance;
    int rate;
    int64_t fee;
    int64_t voucher, cash, after; /* expected */
} draw_case_t;

static void test_draw(void **state) {
    (void)state;
    static const draw_case_t c[] = {
        {100000, 100000, 50, 9000, 4500, 4500, 95500}, /* the default rate */
        {100000, 100000, 50, 9001, 4501, 4500, 95499}, /* 4500.5 rounds up */
        {100000, 100000, 30, 1001, 300, 701, 99700},   /* 300.3 rounds down */
        {100000, 3000, 50, 9000, 3000, 6000, 0},       /* capped by the balance: runs dry */
        {100000, 0, 50, 9000, 0, 9000, 0},             /* nothing left: all cash */
        {100000, 100000, 0, 9000, 0, 9000, 100000},    /* rate 0 */
        {100000, 100000, 100, 9000, 9000, 0, 91000},   /* rate 100 */
        {100000, 100000, 50, 0, 0, 0, 100000},         /* a free use draws nothing */
        {100000, 1, 50, 3, 1, 2, 0},                   /* the last fen */
        {YQ_VOUCHER_MAX_FEN, YQ_VOUCHER_MAX_FEN, 100, INT64_MAX / 2, YQ_VOUCHER_MAX_FEN,
         INT64_MAX / 2 - YQ_VOUCHER_MAX_FEN, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        yq_voucher_t v = {c[i].amount, c[i].balance, c[i].rate};
        yq_fee_split_t s = {-1, -1};
        int64_t after = -1;
        assert_int_equal(yq_voucher_draw(&v, c[i].fee, &s, &after), 0);
        if (s.voucher_fen != c[i].voucher || s.cash_fen != c[i].cash || after != c[i].after)
            print_error("case %zu: voucher %lld cash %lld after %lld\n", i, (long long)s.voucher_fen,
                        (long long)s.cash_fen, (long long)after);
        assert_int_equal(s.voucher_fen, c[i].voucher);
        assert_int_equal(s.cash_fen, c[i].cash);
        assert_int_equal(after, c[i].after);
        assert_int_equal(s.voucher_fen + s.cash_fen, c[i].fee);
    }
}

static void test_draw_invalid(void **state) {
    (void)state;
    yq_fee_split_t s = {-1, -1};
    int64_t after = -7;
    yq_voucher_t ok = {1000, 500, 50};
    assert_int_equal(yq_voucher_draw(&ok, -1, &s, &after), YQ_DOM_EINVAL);
    yq_voucher_t over = {1000, 1001, 50}; /* balance above the amount */
    assert_int_equal(yq_voucher_draw(&over, 10, &s, &after), YQ_DOM_EINVAL);
    yq_voucher_t neg = {1000, -1, 50};
    assert_int_equal(yq_voucher_draw(&neg, 10, &s, &after), YQ_DOM_EINVAL);
    yq_voucher_t rate = {1000, 500, 101};
    assert_int_equal(yq_voucher_draw(&rate, 10, &s, &after), YQ_DOM_EINVAL);
    assert_int_equal(yq_voucher_draw(NULL, 10, &s, &after), YQ_DOM_EINVAL);
    assert_int_equal(after, -7);
    assert_int_equal(s.voucher_fen, -1);
}

/* A thousand draws of odd fees against a small balance: the balance only
 * falls, never below zero, and what was drawn is exactly what it lost. */
static void test_draws_never_negative(void **state) {
    (void)state;
    yq_voucher_t v = {50000, 50000, 50};
    int64_t drawn = 0, cash = 0, fees = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t fee = 1 + (i * 7919) % 20000;
        yq_fee_split_t s;
        int64_t after;
        assert_int_equal(yq_voucher_draw(&v, fee, &s, &after), 0);
        assert_true(after >= 0);
        assert_true(after <= v.balance_fen);
        assert_true(s.voucher_fen >= 0 && s.cash_fen >= 0);
        drawn += s.voucher_fen;
        cash += s.cash_fen;
        fees += fee;
        v.balance_fen = after;
    }
    assert_int_equal(v.balance_fen, 0);
    assert_int_equal(drawn, 50000);
    assert_int_equal(drawn + cash, fees);
}

static void test_refund_and_top_up(void **state) {
    (void)state;
    yq_voucher_t v = {10000, 4000, 50};
    int64_t after = -1;
    assert_int_equal(yq_voucher_refund(&v, 6000, &after), 0); /* everything drawn comes back */
    assert_int_equal(after, 10000);
    assert_int_equal(yq_voucher_refund(&v, 0, &after), 0);
    assert_int_equal(after, 4000);
    after = -1;
    assert_int_equal(yq_voucher_refund(&v, 6001, &after), YQ_DOM_EINVAL); /* more than was drawn */
    assert_int_equal(yq_voucher_refund(&v, -1, &after), YQ_DOM_EINVAL);
    assert_int_equal(after, -1);

    assert_int_equal(yq_voucher_top_up(&v, 5000), 0);
    assert_int_equal(v.amount_fen, 15000);
    assert_int_equal(v.balance_fen, 9000);
    assert_int_equal(yq_voucher_top_up(&v, 0), YQ_DOM_EINVAL);
    assert_int_equal(yq_voucher_top_up(&v, -5), YQ_DOM_EINVAL);
    assert_int_equal(yq_voucher_top_up(&v, YQ_VOUCHER_MAX_FEN), YQ_DOM_EOVERFLOW);
    assert_int_equal(v.amount_fen, 15000);
    yq_voucher_t full = {YQ_VOUCHER_MAX_FEN - 1, 0, 50};
    assert_int_equal(yq_voucher_top_up(&full, 1), 0);
    assert_int_equal(yq_voucher_top_up(&full, 1), YQ_DOM_EOVERFLOW);
}

static void test_negate(void **state) {
    (void)state;
    yq_usage_amounts_t a = {120, 3, 180, 18000, 9000, 9000}, r;
    assert_int_equal(yq_usage_amounts_negate(&a, &r), 0);
    assert_int_equal(r.minutes, -120);
    assert_int_equal(r.samples, -3);
    assert_int_equal(r.booked_minutes, -180);
    assert_int_equal(r.fee_fen, -18000);
    assert_int_equal(r.voucher_fen, -9000);
    assert_int_equal(r.cash_fen, -9000);
    yq_usage_amounts_t back;
    assert_int_equal(yq_usage_amounts_negate(&r, &back), 0);
    assert_memory_equal(&back, &a, sizeof a);
    /* Original plus reversal sums to zero in every field. */
    assert_int_equal(a.fee_fen + r.fee_fen, 0);
    yq_usage_amounts_t broken = {60, 0, 0, 100, 40, 50};
    assert_int_equal(yq_usage_amounts_negate(&broken, &r), YQ_DOM_EINVAL);
    yq_usage_amounts_t extreme = {INT64_MIN, 0, 0, 0, 0, 0};
    assert_int_equal(yq_usage_amounts_negate(&extreme, &r), YQ_DOM_EOVERFLOW);
    assert_int_equal(yq_usage_amounts_negate(NULL, &r), YQ_DOM_EINVAL);
}

static void test_replay(void **state) {
    (void)state;
    const yq_voucher_event_t good[] = {
        {"issue", 10000, 10000}, {"draw", -4500, 5500},  {"draw", -5500, 0},
        {"refund", 4500, 4500},  {"top_up", 2000, 6500}, {"draw", -100, 6400},
    };
    yq_voucher_t v = {12000, 6400, 50};
    size_t bad = 99;
    assert_int_equal(yq_voucher_replay(&v, good, 6, &bad), YQ_VOUCHER_HISTORY_OK);
    assert_string_equal(yq_voucher_history_name(YQ_VOUCHER_HISTORY_OK), "ok");

    static const struct {
        yq_voucher_event_t ev[3];
        size_t n;
        yq_voucher_t v;
        yq_voucher_history_t want;
        size_t at;
    } cases[] = {
        {{{"issue", 100, 100}, {"draw", -150, -50}}, 2, {100, 0, 50}, YQ_VOUCHER_HISTORY_NEGATIVE, 1},
        {{{"issue", 100, 100}, {"refund", 10, 110}}, 2, {100, 110, 50}, YQ_VOUCHER_HISTORY_ABOVE, 1},
        {{{"issue", 100, 100}, {"draw", -10, 80}}, 2, {100, 80, 50}, YQ_VOUCHER_HISTORY_BALANCE, 1},
        {{{"issue", 100, 100}, {"draw", 10, 110}}, 2, {100, 110, 50}, YQ_VOUCHER_HISTORY_SIGN, 1},
        {{{"issue", 100, 100}, {"issue", 100, 200}}, 2, {200, 200, 50}, YQ_VOUCHER_HISTORY_KIND, 1},
        {{{"draw", -1, -1}}, 1, {0, 0, 50}, YQ_VOUCHER_HISTORY_KIND, 0},
        {{{"issue", 100, 100}, {"gift", 1, 101}}, 2, {101, 101, 50}, YQ_VOUCHER_HISTORY_KIND, 1},
        {{{"issue", 100, 100}, {"draw", -10, 90}}, 2, {100, 80, 50}, YQ_VOUCHER_HISTORY_FINAL, 2},
        {{{"issue", 100, 100}}, 1, {90, 100, 50}, YQ_VOUCHER_HISTORY_FINAL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad = 99;
        yq_voucher_history_t h = yq_voucher_replay(&cases[i].v, cases[i].ev, cases[i].n, &bad);
        if (h != cases[i].want || bad != cases[i].at)
            print_error("replay case %zu: %s at %zu\n", i, yq_voucher_history_name(h), bad);
        assert_int_equal(h, cases[i].want);
        assert_int_equal(bad, cases[i].at);
    }
    /* No events: only a voucher of nothing matches. */
    yq_voucher_t none = {0, 0, 50};
    assert_int_equal(yq_voucher_replay(&none, NULL, 0, NULL), YQ_VOUCHER_HISTORY_OK);
    assert_string_equal(yq_voucher_history_name(YQ_VOUCHER_HISTORY_ABOVE), "above_issued");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_draw_invalid),
        cmocka_unit_test(test_draws_never_negative),
        cmocka_unit_test(test_refund_and_top_up),
        cmocka_unit_test(test_negate),
        cmocka_unit_test(test_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
