/*
 * The usage ledger's hash chain; the format and the rules are in ledger.h.
 * Verifying a million records must take well under two seconds, so the
 * canonical content is built with a hand-written integer formatter into a
 * stack buffer (snprintf would cost more than the hashing), and hashes are
 * compared as hex text without decoding.
 */
#include "domain/ledger.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "domain/errors.h"

/* A bounded writer: counts every byte, stores those that fit. */
typedef struct {
    char *buf;
    size_t size, len;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void put_int(out_t *o, int64_t v) {
    char tmp[24];
    char *p = tmp + sizeof tmp;
    /* Negate in unsigned arithmetic so INT64_MIN is exact. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    put(o, p, (size_t)(tmp + sizeof tmp - p));
}

static void sep_int(out_t *o, int64_t v) {
    put(o, "|", 1);
    put_int(o, v);
}

/* A nullable id: empty when absent. */
static void sep_id(out_t *o, int64_t v) {
    put(o, "|", 1);
    if (v)
        put_int(o, v);
}

static void sep_text(out_t *o, const char *s) {
    size_t n = s ? strlen(s) : 0;
    put(o, "|", 1);
    put_int(o, (int64_t)n);
    put(o, ":", 1);
    put(o, s ? s : "", n);
}

size_t yq_ledger_canonical(const yq_usage_record_t *r, char *buf, size_t size) {
    out_t o = {buf, size, 0};
    put(&o, "yq1", 3);
    sep_int(&o, r->id);
    sep_int(&o, r->instrument_id);
    sep_int(&o, r->provider_org_id);
    sep_int(&o, r->user_id);
    sep_id(&o, r->group_id);
    sep_int(&o, r->payer_org_id);
    sep_id(&o, r->booking_id);
    sep_text(&o, r->kind);
    sep_id(&o, r->corrects_id);
    sep_int(&o, r->start);
    sep_int(&o, r->end);
    sep_int(&o, r->minutes);
    sep_int(&o, r->samples);
    sep_text(&o, r->service_mode);
    sep_text(&o, r->source);
    sep_id(&o, r->recorded_by);
    sep_text(&o, r->period);
    sep_text(&o, r->tier);
    sep_text(&o, r->price_unit);
    sep_int(&o, r->rate_fen);
    sep_int(&o, r->min_charge_fen);
    sep_int(&o, r->step_minutes);
    sep_text(&o, r->basis);
    sep_int(&o, r->booked_minutes);
    sep_int(&o, r->fee_fen);
    sep_int(&o, r->voucher_fen);
    sep_int(&o, r->cash_fen);
    sep_id(&o, r->voucher_id);
    sep_int(&o, r->created_at);
    put(&o, "|", 1);
    put(&o, r->prev_hash ? r->prev_hash : "", r->prev_hash ? strlen(r->prev_hash) : 0);
    sep_text(&o, r->reason);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}

static void to_hex(const unsigned char *bin, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < crypto_hash_sha256_BYTES; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * crypto_hash_sha256_BYTES] = '\0';
}

int yq_ledger_hash(const yq_usage_record_t *r, char out[YQ_LEDGER_HASH_HEX]) {
    if (!r || !out)
        return YQ_DOM_EINVAL;
    char stack[YQ_LEDGER_CANON_MAX];
    unsigned char bin[crypto_hash_sha256_BYTES];
    size_t n = yq_ledger_canonical(r, stack, sizeof stack);
    if (n < sizeof stack) {
        crypto_hash_sha256(bin, (const unsigned char *)stack, n);
    } else {
        char *heap = yq_xmalloc(n + 1);
        yq_ledger_canonical(r, heap, n + 1);
        crypto_hash_sha256(bin, (const unsigned char *)heap, n);
        free(heap);
    }
    to_hex(bin, out);
    return 0;
}

const char *yq_ledger_problem_name(yq_ledger_problem_t p) {
    switch (p) {
    case YQ_LEDGER_OK:
        return "ok";
    case YQ_LEDGER_BAD_HASH:
        return "hash_mismatch";
    case YQ_LEDGER_BAD_LINK:
        return "broken_link";
    }
    return "unknown";
}

static void copy_hash(char dst[YQ_LEDGER_HASH_HEX], const char *src) {
    size_t n = src ? strnlen(src, YQ_LEDGER_HASH_HEX - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void yq_ledger_walk_init(yq_ledger_walk_t *w, const char *prev) {
    memset(w, 0, sizeof *w);
    copy_hash(w->prev, prev ? prev : YQ_LEDGER_GENESIS);
}

static int same(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

yq_ledger_problem_t yq_ledger_walk_step(yq_ledger_walk_t *w, const yq_usage_record_t *r, const char *stored_hash) {
    char h[YQ_LEDGER_HASH_HEX];
    yq_ledger_hash(r, h);
    yq_ledger_problem_t p = !same(h, stored_hash)          ? YQ_LEDGER_BAD_HASH
                            : !same(r->prev_hash, w->prev) ? YQ_LEDGER_BAD_LINK
                                                           : YQ_LEDGER_OK;
    w->records++;
    if (p != YQ_LEDGER_OK && w->bad++ == 0)
        w->first_bad_id = r->id;
    w->last_id = r->id;
    copy_hash(w->prev, stored_hash);
    return p;
}

void yq_ledger_walk_mark_bad(yq_ledger_walk_t *w, int64_t id, const char *stored_hash) {
    w->records++;
    if (w->bad++ == 0)
        w->first_bad_id = id;
    w->last_id = id;
    copy_hash(w->prev, stored_hash);
}

void yq_ledger_walk_merge(yq_ledger_walk_t *into, const yq_ledger_walk_t *later) {
    if (!later->records)
        return;
    into->records += later->records;
    if (!into->bad)
        into->first_bad_id = later->first_bad_id;
    into->bad += later->bad;
    into->last_id = later->last_id;
    memcpy(into->prev, later->prev, sizeof into->prev);
}
