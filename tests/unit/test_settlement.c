/* Settlement statements (domain/settlement.c): lines per (provider, payer)
 * with uses counting corrections and voids right, zone flows and their net,
 * multilateral net positions with the voucher fund, totals, and the
 * invariants failing loudly on broken input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/errors.h"
#include "domain/settlement.h"

/* Zones 1 (neobay) and 2 (zhangjiang); institutions 10, 11 in zone 1 and
 * 20 in zone 2. */
#define NB 1
#define ZJ 2

/* provider, payer, provider zone, payer zone, reversal, minutes, fee, voucher, cash */
static const yq_settle_row_t rows[] = {
    {10, 20, NB, ZJ, 0, 60, 9000, 4500, 4500}, /* ZJ enterprise on a NB instrument, half by voucher */
    {10, 20, NB, ZJ, 0, 30, 4500, 2250, 2250}, /* again */
    {10, 11, NB, NB, 0, 120, 18000, 0, 18000}, /* same zone */
    {20, 10, ZJ, NB, 0, 90, 13500, 0, 13500},  /* NB university on a ZJ instrument */
    {10, 10, NB, NB, 0, 45, 4500, 0, 4500},    /* internal use: a line too */
    {20, 10, ZJ, NB, 0, 60, 9000, 0, 9000},    /* corrected below: */
    {20, 10, ZJ, NB, 1, -60, -9000, 0, -9000}, /*   its reversal */
    {20, 10, ZJ, NB, 0, 30, 4500, 0, 4500},    /*   and the corrected record */
    {10, 11, NB, NB, 0, 15, 1500, 0, 1500},    /* voided below: */
    {10, 11, NB, NB, 1, -15, -1500, 0, -1500}, /*   its reversal */
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static void test_statement(void **state) {
    (void)state;
    yq_settlement_t s;
    char why[200] = "";
    int rc = yq_settle_build(rows, N_ROWS, &s, why, sizeof why);
    if (rc)
        fail_msg("build failed: %s (%s)", yq_dom_err_name(rc), why);
    /* Lines sorted by provider then payer. */
    static const yq_settle_line_t lines[] = {
        {10, 10, NB, NB, 1, 45, 4500, 0, 4500},
        {10, 11, NB, NB, 1, 120, 18000, 0, 18000}, /* the voided use is gone */
        {10, 20, NB, ZJ, 2, 90, 13500, 6750, 6750},
        {20, 10, ZJ, NB, 2, 120, 18000, 0, 18000}, /* 90 + the corrected 30 */
    };
    assert_int_equal(s.n_lines, 4);
    for (size_t i = 0; i < 4; i++) {
        if (memcmp(&s.lines[i], &lines[i], sizeof lines[i]) != 0)
            fail_msg("line %zu: %lld->%lld uses %lld minutes %lld fee %lld voucher %lld cash %lld", i,
                     (long long)s.lines[i].payer_org_id, (long long)s.lines[i].provider_org_id,
                     (long long)s.lines[i].uses, (long long)s.lines[i].minutes, (long long)s.lines[i].fee_fen,
                     (long long)s.lines[i].voucher_fen, (long long)s.lines[i].cash_fen);
    }
    /* Flows payer zone -> provider zone: NB->NB 22500, NB->ZJ 18000, ZJ->NB 13500. */
    assert_int_equal(s.n_flows, 3);
    assert_int_equal(s.flows[0].from_zone_id, NB);
    assert_int_equal(s.flows[0].to_zone_id, NB);
    assert_int_equal(s.flows[0].fee_fen, 22500);
    assert_int_equal(s.flows[1].from_zone_id, NB);
    assert_int_equal(s.flows[1].to_zone_id, ZJ);
    assert_int_equal(s.flows[1].fee_fen, 18000);
    assert_int_equal(s.flows[2].from_zone_id, ZJ);
    assert_int_equal(s.flows[2].to_zone_id, NB);
    assert_int_equal(s.flows[2].fee_fen, 13500);
    /* Zone net {NB, ZJ}: NB pays ZJ 18000 - 13500 = 4500. */
    assert_int_equal(s.n_zone_net, 1);
    assert_int_equal(s.zone_net[0].zone_a_id, NB);
    assert_int_equal(s.zone_net[0].zone_b_id, ZJ);
    assert_int_equal(s.zone_net[0].net_fen, 4500);
    /* Net positions: receivable as provider - cash payable as payer.
     * 10: 4500 + 18000 + 13500 - (4500 + 18000) = 13500
     * 11: 0 - 18000 = -18000
     * 20: 18000 - 6750 = 11250
     * voucher fund: -6750. Sum: 13500 - 18000 + 11250 - 6750 = 0. */
    assert_int_equal(s.n_net, 3);
    assert_int_equal(s.net[0].org_id, 10);
    assert_int_equal(s.net[0].net_fen, 13500);
    assert_int_equal(s.net[1].org_id, 11);
    assert_int_equal(s.net[1].net_fen, -18000);
    assert_int_equal(s.net[2].org_id, 20);
    assert_int_equal(s.net[2].net_fen, 11250);
    assert_int_equal(s.voucher_fund_net_fen, -6750);
    /* Totals. */
    assert_int_equal(s.uses, 6);
    assert_int_equal(s.minutes, 375);
    assert_int_equal(s.fee_fen, 54000);
    assert_int_equal(s.voucher_fen, 6750);
    assert_int_equal(s.cash_fen, 47250);
    /* The check passes against an independent total, fails against another. */
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), 0);
    assert_int_equal(yq_settle_check(&s, 54001, why, sizeof why), YQ_DOM_EFEE_SUM);
    assert_non_null(strstr(why, "fee_sum"));
    yq_settle_free(&s);
    assert_null(s.lines);
    yq_settle_free(&s);
}

static void test_empty_period(void **state) {
    (void)state;
    yq_settlement_t s;
    assert_int_equal(yq_settle_build(NULL, 0, &s, NULL, 0), 0);
    assert_int_equal(s.n_lines + s.n_flows + s.n_zone_net + s.n_net, 0);
    assert_int_equal(s.fee_fen, 0);
    assert_int_equal(s.voucher_fund_net_fen, 0);
    yq_settle_free(&s);
    assert_int_equal(yq_settle_build(NULL, 1, &s, NULL, 0), YQ_DOM_EINVAL);
    assert_int_equal(yq_settle_build(rows, 1, NULL, NULL, 0), YQ_DOM_EINVAL);
}

/* A row whose fee is not voucher + cash must stop the build, naming the
 * invariant and the row; nothing is returned. */
static void test_broken_row_fails_loudly(void **state) {
    (void)state;
    yq_settle_row_t bad[N_ROWS];
    memcpy(bad, rows, sizeof rows);
    bad[3].cash_fen -= 1; /* 13500 != 0 + 13499 */
    yq_settlement_t s;
    char why[200] = "";
    assert_int_equal(yq_settle_build(bad, N_ROWS, &s, why, sizeof why), YQ_DOM_EFEE_SPLIT);
    assert_null(s.lines);
    assert_int_equal(s.n_lines, 0);
    if (!strstr(why, "fee_split") || !strstr(why, "row 3"))
        fail_msg("message does not name the invariant and the row: %s", why);
    assert_string_equal(yq_dom_err_name(YQ_DOM_EFEE_SPLIT), "fee_split");
}

/* Statements reloaded from storage (or tampered with) are checked too:
 * one broken invariant at a time. */
static void test_check_each_invariant(void **state) {
    (void)state;
    yq_settlement_t s;
    char why[200] = "";
    assert_int_equal(yq_settle_build(rows, N_ROWS, &s, why, sizeof why), 0);

    s.lines[2].voucher_fen += 100; /* fee != voucher + cash on a line */
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), YQ_DOM_EFEE_SPLIT);
    if (!strstr(why, "provider 10 payer 20"))
        fail_msg("message does not name the line: %s", why);
    s.lines[2].voucher_fen -= 100;

    s.lines[0].fee_fen += 1; /* lines no longer sum to the usage fees (and split breaks first) */
    s.lines[0].cash_fen += 1;
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), YQ_DOM_EFEE_SUM);
    s.lines[0].fee_fen -= 1;
    s.lines[0].cash_fen -= 1;

    s.net[1].net_fen += 1; /* net positions no longer sum to zero */
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), YQ_DOM_ENET_SUM);
    if (!strstr(why, "net_sum"))
        fail_msg("message does not name the invariant: %s", why);
    s.net[1].net_fen -= 1;
    s.voucher_fund_net_fen = 0; /* the fund left out */
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), YQ_DOM_ENET_SUM);
    s.voucher_fund_net_fen = -6750;
    assert_int_equal(yq_settle_check(&s, 54000, why, sizeof why), 0);
    yq_settle_free(&s);
    assert_int_equal(yq_settle_check(NULL, 0, NULL, 0), YQ_DOM_EINVAL);
}

static void test_overflow(void **state) {
    (void)state;
    yq_settle_row_t big[] = {
        {1, 2, 1, 1, 0, 1, INT64_MAX, 0, INT64_MAX},
        {1, 2, 1, 1, 0, 1, 1, 0, 1},
    };
    yq_settlement_t s;
    char why[200] = "";
    assert_int_equal(yq_settle_build(big, 2, &s, why, sizeof why), YQ_DOM_EOVERFLOW);
    assert_null(s.lines);
    yq_settle_row_t split[] = {{1, 2, 1, 1, 0, 1, 0, INT64_MAX, 1}};
    assert_int_equal(yq_settle_build(split, 1, &s, why, sizeof why), YQ_DOM_EOVERFLOW);
}

/* Many rows in random order give the same statement as the sorted ones,
 * and every invariant holds; counts and sums match a direct tally. */
static void test_many_rows(void **state) {
    (void)state;
    enum { N = 20000, ORGS = 12 };
    yq_settle_row_t *r = malloc(N * sizeof *r);
    assert_non_null(r);
    unsigned seed = 12345;
    int64_t fee = 0, voucher = 0, uses = 0;
    int64_t pair_fee[ORGS][ORGS] = {{0}};
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int64_t p = (seed >> 8) % ORGS, q = (seed >> 16) % ORGS, f = (seed >> 4) % 50000;
        int64_t v = (seed % 3 == 0) ? f / 2 : 0;
        int rev = (seed >> 20) % 10 == 0;
        r[i] = (yq_settle_row_t){
            p, q, p % 3, q % 3, rev, rev ? -30 : 30, rev ? -f : f, rev ? -v : v, rev ? -(f - v) : f - v};
        fee += r[i].fee_fen;
        voucher += r[i].voucher_fen;
        uses += rev ? -1 : 1;
        pair_fee[p][q] += r[i].fee_fen;
    }
    yq_settlement_t s;
    char why[200] = "";
    int rc = yq_settle_build(r, N, &s, why, sizeof why);
    if (rc)
        fail_msg("%s", why);
    assert_int_equal(s.fee_fen, fee);
    assert_int_equal(s.voucher_fen, voucher);
    assert_int_equal(s.uses, uses);
    for (size_t i = 0; i < s.n_lines; i++) {
        assert_int_equal(s.lines[i].fee_fen, pair_fee[s.lines[i].provider_org_id][s.lines[i].payer_org_id]);
        if (i)
            assert_true(s.lines[i - 1].provider_org_id < s.lines[i].provider_org_id ||
                        (s.lines[i - 1].provider_org_id == s.lines[i].provider_org_id &&
                         s.lines[i - 1].payer_org_id < s.lines[i].payer_org_id));
    }
    assert_int_equal(s.n_lines, ORGS * ORGS);
    assert_int_equal(s.n_flows, 9);
    assert_int_equal(s.n_zone_net, 3);
    yq_settle_free(&s);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement),
        cmocka_unit_test(test_empty_period),
        cmocka_unit_test(test_broken_row_fails_loudly),
        cmocka_unit_test(test_check_each_invariant),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
