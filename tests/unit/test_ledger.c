/* The usage ledger's hash chain (domain/ledger.c): the canonical content
 * byte for byte against a vector computed with sha256sum, injectivity of
 * the encoding, every field taking part in the hash, long and extreme
 * values, integers as printf writes them, SHA-256 (OpenSSL's) as
 * libsodium computes it at every length, and walks that name an edited, deleted, inserted or reordered
 * record, split into ranges and merged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "domain/errors.h"
#include "domain/ledger.h"

#define GEN YQ_LEDGER_GENESIS

static yq_usage_record_t sample(void) {
    yq_usage_record_t r = {
        .id = 1,
        .instrument_id = 12,
        .provider_org_id = 3,
        .user_id = 45,
        .group_id = 6,
        .payer_org_id = 7,
        .kind = "original",
        .start = 1764550800,
        .end = 1764558000,
        .minutes = 120,
        .service_mode = "self_operated",
        .source = "manual",
        .recorded_by = 9,
        .period = "2025-12",
        .tier = "cross_zone",
        .price_unit = "hour",
        .rate_fen = 20000,
        .min_charge_fen = 5000,
        .step_minutes = 15,
        .basis = "used",
        .fee_fen = 40000,
        .voucher_fen = 20000,
        .cash_fen = 20000,
        .voucher_id = 2,
        .created_at = 1764558100,
        .prev_hash = GEN,
        .reason = "",
    };
    return r;
}

static const char sample_canon[] =
    "yq1|1|12|3|45|6|7||8:original||1764550800|1764558000|120|0|13:self_operated|6:manual|9|7:2025-12|"
    "10:cross_zone|4:hour|20000|5000|15|4:used|0|40000|20000|20000|2|1764558100|" GEN "|0:";
/* printf '%s' "<sample_canon>" | sha256sum */
static const char sample_hash[] = "ea51b416c788d813564e4c2c7d2da02a8d0d1e737c796d64287894c3102349c1";

static void test_canonical_vector(void **state) {
    (void)state;
    yq_usage_record_t r = sample();
    char buf[YQ_LEDGER_CANON_MAX], h[YQ_LEDGER_HASH_HEX];
    size_t n = yq_ledger_canonical(&r, buf, sizeof buf);
    assert_string_equal(buf, sample_canon);
    assert_int_equal(n, strlen(sample_canon));
    assert_int_equal(yq_ledger_hash(&r, h), 0);
    assert_string_equal(h, sample_hash);
    /* Too small a buffer: the needed length, a NUL-terminated prefix. */
    char small[10];
    assert_int_equal(yq_ledger_canonical(&r, small, sizeof small), n);
    assert_string_equal(small, "yq1|1|12|");
    assert_int_equal(yq_ledger_canonical(&r, NULL, 0), n);
    assert_int_equal(yq_ledger_hash(NULL, h), YQ_DOM_EINVAL);
}

/* Negative amounts (reversals), absent ids, INT64 extremes, UTF-8 texts. */
static void test_canonical_values(void **state) {
    (void)state;
    yq_usage_record_t r = sample();
    r.kind = "reversal";
    r.corrects_id = 7;
    r.group_id = 0;
    r.voucher_id = 0;
    r.recorded_by = 0;
    r.minutes = -120;
    r.fee_fen = INT64_MIN;
    r.cash_fen = INT64_MAX;
    r.reason = "时间记错 wrong";
    r.prev_hash = NULL;
    char buf[YQ_LEDGER_CANON_MAX];
    yq_ledger_canonical(&r, buf, sizeof buf);
    assert_non_null(strstr(buf, "|45||7||8:reversal|7|"));
    assert_non_null(strstr(buf, "|-120|"));
    assert_non_null(strstr(buf, "|-9223372036854775808|"));
    assert_non_null(strstr(buf, "|9223372036854775807|"));
    assert_non_null(strstr(buf, "|13:self_operated|6:manual||7:2025-12|"));
    assert_non_null(strstr(buf, "||18:时间记错 wrong")); /* empty prev_hash; length in bytes */
    r.kind = NULL;                                       /* NULL texts read as "" */
    yq_ledger_canonical(&r, buf, sizeof buf);
    assert_non_null(strstr(buf, "|0:|7|"));
}

/* Field contents cannot shift field boundaries: moving a '|' between two
 * texts, or text between a text and its neighbour, changes the bytes. */
static void test_injective(void **state) {
    (void)state;
    yq_usage_record_t a = sample(), b = sample();
    char ha[YQ_LEDGER_HASH_HEX], hb[YQ_LEDGER_HASH_HEX];
    a.service_mode = "self|6:x";
    a.source = "y";
    b.service_mode = "self";
    b.source = "6:x|y";
    yq_ledger_hash(&a, ha);
    yq_ledger_hash(&b, hb);
    assert_string_not_equal(ha, hb);
    a = sample();
    b = sample();
    a.reason = "1|2";
    b.prev_hash = GEN "|1";
    b.reason = "2";
    yq_ledger_hash(&a, ha);
    yq_ledger_hash(&b, hb);
    assert_string_not_equal(ha, hb);
    /* An absent id differs from any present one, 0 included in meaning. */
    a = sample();
    b = sample();
    b.booking_id = 1;
    yq_ledger_hash(&a, ha);
    yq_ledger_hash(&b, hb);
    assert_string_not_equal(ha, hb);
}

/* Changing any one field changes the hash. */
static void test_every_field_counts(void **state) {
    (void)state;
    yq_usage_record_t base = sample();
    char h0[YQ_LEDGER_HASH_HEX], h[YQ_LEDGER_HASH_HEX];
    yq_ledger_hash(&base, h0);
    int64_t *ints[] = {
        &base.id,           &base.instrument_id,  &base.provider_org_id, &base.user_id,     &base.group_id,
        &base.payer_org_id, &base.booking_id,     &base.corrects_id,     &base.start,       &base.end,
        &base.minutes,      &base.samples,        &base.recorded_by,     &base.rate_fen,    &base.min_charge_fen,
        &base.step_minutes, &base.booked_minutes, &base.fee_fen,         &base.voucher_fen, &base.cash_fen,
        &base.voucher_id,   &base.created_at,
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t keep = *ints[i];
        *ints[i] = keep + 1;
        yq_ledger_hash(&base, h);
        if (strcmp(h, h0) == 0)
            print_error("integer field %zu does not count\n", i);
        assert_string_not_equal(h, h0);
        *ints[i] = keep;
    }
    const char **texts[] = {&base.kind,       &base.service_mode, &base.source,    &base.period, &base.tier,
                            &base.price_unit, &base.basis,        &base.prev_hash, &base.reason};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *keep = *texts[i];
        *texts[i] = "changed";
        yq_ledger_hash(&base, h);
        if (strcmp(h, h0) == 0)
            print_error("text field %zu does not count\n", i);
        assert_string_not_equal(h, h0);
        *texts[i] = keep;
    }
    yq_ledger_hash(&base, h);
    assert_string_equal(h, h0);
}

/* Content longer than the stack buffer is hashed whole. */
static void test_long_reason(void **state) {
    (void)state;
    size_t n = 3 * YQ_LEDGER_CANON_MAX;
    char *reason = malloc(n + 1);
    assert_non_null(reason);
    memset(reason, 'x', n);
    reason[n] = '\0';
    yq_usage_record_t r = sample();
    r.reason = reason;
    size_t len = yq_ledger_canonical(&r, NULL, 0);
    char *canon = malloc(len + 1);
    assert_non_null(canon);
    assert_int_equal(yq_ledger_canonical(&r, canon, len + 1), len);
    unsigned char bin[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(bin, (const unsigned char *)canon, len);
    char want[YQ_LEDGER_HASH_HEX], got[YQ_LEDGER_HASH_HEX];
    sodium_bin2hex(want, sizeof want, bin, sizeof bin);
    assert_int_equal(yq_ledger_hash(&r, got), 0);
    assert_string_equal(got, want);
    /* One more byte changes it. */
    reason[n - 1] = 'y';
    yq_ledger_hash(&r, got);
    assert_string_not_equal(got, want);
    free(canon);
    free(reason);
}

/* Every integer field is written as "%lld" would, around every power of
 * ten and at the extremes (the formatter writes two digits at a time and
 * counts digits from the bit length). */
static void test_integers_as_printf(void **state) {
    (void)state;
    int64_t values[64 * 2 + 4];
    size_t nv = 0;
    values[nv++] = 0;
    values[nv++] = INT64_MAX;
    values[nv++] = INT64_MIN;
    values[nv++] = INT64_MIN + 1;
    for (int64_t p = 1;; p *= 10) { /* 10^0 ... 10^18 */
        int64_t around[] = {p - 1, p, p + 1, -p, -(p - 1)};
        for (size_t i = 0; i < 5; i++)
            values[nv++] = around[i];
        if (p > INT64_MAX / 10)
            break;
    }
    for (size_t i = 0; i < nv; i++) {
        yq_usage_record_t r = sample();
        r.id = values[i];
        r.group_id = values[i]; /* nullable: empty when 0 */
        r.fee_fen = values[i];
        char want[YQ_LEDGER_CANON_MAX], got[YQ_LEDGER_CANON_MAX], id[24];
        snprintf(id, sizeof id, "%lld", (long long)values[i]);
        int n = snprintf(want, sizeof want,
                         "yq1|%s|12|3|45|%s|7||8:original||1764550800|1764558000|120|0|13:self_operated|6:manual|9|"
                         "7:2025-12|10:cross_zone|4:hour|20000|5000|15|4:used|0|%s|20000|20000|2|1764558100|" GEN "|0:",
                         id, values[i] ? id : "", id);
        assert_int_equal(yq_ledger_canonical(&r, got, sizeof got), n);
        assert_string_equal(got, want);
    }
}

/* A buffer of any size gets the needed length and the prefix that fits. */
static void test_canonical_prefixes(void **state) {
    (void)state;
    yq_usage_record_t r = sample();
    r.reason = "时间记错 wrong";
    char whole[YQ_LEDGER_CANON_MAX], part[YQ_LEDGER_CANON_MAX];
    size_t n = yq_ledger_canonical(&r, whole, sizeof whole);
    for (size_t size = 1; size <= n + 2; size++) {
        memset(part, 'z', sizeof part);
        assert_int_equal(yq_ledger_canonical(&r, part, size), n);
        size_t k = n < size ? n : size - 1;
        assert_memory_equal(part, whole, k);
        assert_int_equal(part[k], '\0');
        assert_int_equal(part[size], 'z'); /* nothing written past size */
    }
}

/* yq_ledger_sha256 (OpenSSL) gives libsodium's bytes at
 * every length over several blocks, so every position of the padding. */
static void test_sha256_as_libsodium(void **state) {
    (void)state;
    enum { MAX = 1100 };
    unsigned char *data = malloc(MAX);
    assert_non_null(data);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < MAX; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    unsigned char want[32], got[32];
    for (size_t n = 0; n <= MAX; n++) {
        crypto_hash_sha256(want, data, n);
        yq_ledger_sha256(got, data, n);
        if (memcmp(want, got, 32))
            print_error("SHA-256 differs at length %zu\n", n);
        assert_memory_equal(got, want, 32);
    }
    /* FIPS 180-2's "abc". */
    char hex[65];
    yq_ledger_sha256(got, "abc", 3);
    sodium_bin2hex(hex, sizeof hex, got, 32);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(data);
}

/* Records of every content length from one to several blocks hash as
 * libsodium hashes their canonical content. */
static void test_hash_every_length(void **state) {
    (void)state;
    char reason[400], canon[YQ_LEDGER_CANON_MAX], want[YQ_LEDGER_HASH_HEX], got[YQ_LEDGER_HASH_HEX];
    unsigned char bin[crypto_hash_sha256_BYTES];
    for (size_t len = 0; len < sizeof reason; len++) {
        memset(reason, 'a' + (int)(len % 26), len);
        reason[len] = '\0';
        yq_usage_record_t r = sample();
        r.reason = reason;
        size_t n = yq_ledger_canonical(&r, canon, sizeof canon);
        crypto_hash_sha256(bin, (const unsigned char *)canon, n);
        sodium_bin2hex(want, sizeof want, bin, sizeof bin);
        assert_int_equal(yq_ledger_hash(&r, got), 0);
        assert_string_equal(got, want);
    }
}

/* ---- chains ---- */

#define N 10
typedef struct {
    yq_usage_record_t r[N];
    char prev[N][YQ_LEDGER_HASH_HEX];
    char hash[N][YQ_LEDGER_HASH_HEX];
} chain_t;

/* Records 1 ... N, each linked to the one before. */
static void build(chain_t *c) {
    for (int i = 0; i < N; i++) {
        c->r[i] = sample();
        c->r[i].id = i + 1;
        c->r[i].fee_fen = 1000 * (i + 1);
        c->r[i].cash_fen = c->r[i].fee_fen - c->r[i].voucher_fen;
        snprintf(c->prev[i], sizeof c->prev[i], "%s", i ? c->hash[i - 1] : GEN);
        c->r[i].prev_hash = c->prev[i];
        yq_ledger_hash(&c->r[i], c->hash[i]);
    }
}

/* Walks the records at the given indexes (-1 ends the list); returns the walk
 * and writes each problem into problems[]. */
static yq_ledger_walk_t walk(chain_t *c, const int *order, yq_ledger_problem_t *problems) {
    yq_ledger_walk_t w;
    yq_ledger_walk_init(&w, NULL);
    for (int k = 0; order[k] >= 0; k++)
        problems[k] = yq_ledger_walk_step(&w, &c->r[order[k]], c->hash[order[k]]);
    return w;
}

static void test_walk_intact(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    int all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1};
    yq_ledger_problem_t p[N];
    yq_ledger_walk_t w = walk(&c, all, p);
    assert_int_equal(w.records, N);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.last_id, N);
    assert_string_equal(w.prev, c.hash[N - 1]); /* the head: the checkpoint's hash */
    for (int i = 0; i < N; i++)
        assert_int_equal(p[i], YQ_LEDGER_OK);
    assert_string_equal(yq_ledger_problem_name(YQ_LEDGER_OK), "ok");
}

/* An edit of record 4's fee: record 4 (only) has a bad hash. */
static void test_walk_edit(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    c.r[3].fee_fen += 1;
    int all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1};
    yq_ledger_problem_t p[N];
    yq_ledger_walk_t w = walk(&c, all, p);
    assert_int_equal(w.bad, 1);
    assert_int_equal(w.first_bad_id, 4);
    assert_int_equal(p[3], YQ_LEDGER_BAD_HASH);
    assert_string_equal(yq_ledger_problem_name(p[3]), "hash_mismatch");
    /* Recomputing record 4's hash moves the break to record 5's link. */
    yq_ledger_hash(&c.r[3], c.hash[3]);
    w = walk(&c, all, p);
    assert_int_equal(w.bad, 1);
    assert_int_equal(w.first_bad_id, 5);
    assert_int_equal(p[4], YQ_LEDGER_BAD_LINK);
    assert_string_equal(yq_ledger_problem_name(p[4]), "broken_link");
}

/* Deleting record 6: record 7's link is broken. Deleting the first: record 2. */
static void test_walk_delete(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    int gap[] = {0, 1, 2, 3, 4, 6, 7, 8, 9, -1};
    yq_ledger_problem_t p[N];
    yq_ledger_walk_t w = walk(&c, gap, p);
    assert_int_equal(w.records, N - 1);
    assert_int_equal(w.bad, 1);
    assert_int_equal(w.first_bad_id, 7);
    assert_int_equal(p[5], YQ_LEDGER_BAD_LINK);
    int head[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, -1};
    w = walk(&c, head, p);
    assert_int_equal(w.first_bad_id, 2);
    /* Deleting the last record leaves a consistent chain: only a checkpoint
     * kept elsewhere (count 10, head hash) shows it. */
    int tail[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, -1};
    w = walk(&c, tail, p);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.records, N - 1);
    assert_string_not_equal(w.prev, c.hash[N - 1]);
}

/* A record inserted by hand with a made-up hash, and two records swapped. */
static void test_walk_insert_and_reorder(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    /* Insert: a copy of record 10 as record 11, linked right, hash made up. */
    chain_t d = c;
    int all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1};
    yq_ledger_problem_t p[N + 1];
    yq_ledger_walk_t w = walk(&d, all, p);
    yq_usage_record_t extra = c.r[9];
    extra.id = 11;
    extra.prev_hash = c.hash[9];
    assert_int_equal(
        yq_ledger_walk_step(&w, &extra, "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface"),
        YQ_LEDGER_BAD_HASH);
    assert_int_equal(w.first_bad_id, 11);
    /* Swap records 3 and 4 (ids too): both links break. */
    int swapped[] = {0, 1, 3, 2, 4, 5, 6, 7, 8, 9, -1};
    w = walk(&c, swapped, p);
    assert_int_equal(w.first_bad_id, 4);
    assert_int_equal(p[2], YQ_LEDGER_BAD_LINK);
    assert_int_equal(p[3], YQ_LEDGER_BAD_LINK);
    assert_int_equal(p[4], YQ_LEDGER_BAD_LINK);
}

/* A walk split into ranges, each started from the stored hash before it,
 * merges into the same result as one walk. */
static void test_walk_split_merge(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    c.r[7].cash_fen = 1; /* record 8 edited */
    for (int cut = 0; cut <= N; cut++) {
        yq_ledger_walk_t a, b;
        yq_ledger_walk_init(&a, NULL);
        yq_ledger_walk_init(&b, cut ? c.hash[cut - 1] : NULL);
        for (int i = 0; i < cut; i++)
            yq_ledger_walk_step(&a, &c.r[i], c.hash[i]);
        for (int i = cut; i < N; i++)
            yq_ledger_walk_step(&b, &c.r[i], c.hash[i]);
        yq_ledger_walk_merge(&a, &b);
        assert_int_equal(a.records, N);
        assert_int_equal(a.bad, 1);
        assert_int_equal(a.first_bad_id, 8);
        assert_int_equal(a.last_id, N);
        assert_string_equal(a.prev, c.hash[N - 1]);
    }
    /* The earlier range's first bad record wins. */
    yq_ledger_walk_t x = {.records = 3, .bad = 1, .first_bad_id = 2}, y = {.records = 2, .bad = 2, .first_bad_id = 9};
    yq_ledger_walk_merge(&x, &y);
    assert_int_equal(x.first_bad_id, 2);
    assert_int_equal(x.bad, 3);
    yq_ledger_walk_t empty;
    yq_ledger_walk_init(&empty, NULL);
    yq_ledger_walk_merge(&x, &empty);
    assert_int_equal(x.records, 5);
}

/* A record counted bad without hashing (its stored values cannot be what
 * was hashed) is named, and the walk goes on from its stored hash. */
static void test_walk_mark_bad(void **state) {
    (void)state;
    chain_t c;
    build(&c);
    yq_ledger_walk_t w;
    yq_ledger_walk_init(&w, NULL);
    for (int i = 0; i < N; i++) {
        if (i == 2)
            yq_ledger_walk_mark_bad(&w, c.r[i].id, c.hash[i]);
        else
            assert_int_equal(yq_ledger_walk_step(&w, &c.r[i], c.hash[i]), YQ_LEDGER_OK);
    }
    assert_int_equal(w.records, N);
    assert_int_equal(w.bad, 1);
    assert_int_equal(w.first_bad_id, 3);
    assert_int_equal(w.last_id, N);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_vector),
        cmocka_unit_test(test_canonical_values),
        cmocka_unit_test(test_injective),
        cmocka_unit_test(test_every_field_counts),
        cmocka_unit_test(test_long_reason),
        cmocka_unit_test(test_integers_as_printf),
        cmocka_unit_test(test_canonical_prefixes),
        cmocka_unit_test(test_sha256_as_libsodium),
        cmocka_unit_test(test_hash_every_length),
        cmocka_unit_test(test_walk_intact),
        cmocka_unit_test(test_walk_edit),
        cmocka_unit_test(test_walk_delete),
        cmocka_unit_test(test_walk_insert_and_reorder),
        cmocka_unit_test(test_walk_split_merge),
        cmocka_unit_test(test_walk_mark_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
