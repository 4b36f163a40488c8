/*
 * Usage records of the demo history; see usage_history.h. The uses are
 * remembered as history.c draws them (instrument by instrument), then
 * written in the order they ended, each through yq_usage_record() as a
 * check-out, agent or manual entry would be, and the corrections through
 * yq_usage_correct() on the day they were made.
 */
#include "demo/usage_history.h"

#include <stdlib.h>
#include <string.h>

#include "api/usage_store.h"
#include "auth/principal.h"
#include "core/log.h"
#include "domain/fees.h"
#include "core/timeutil.h"

typedef struct {
    int64_t booking_id, instrument_id, user_id, group_id, payer_org_id, start, end;
    int64_t usage_id; /* once written */
    int32_t samples;
    uint8_t source; /* index into sources[] */
} use_t;

typedef struct {
    int64_t at;  /* when the operator corrected it */
    int64_t end; /* the corrected end; 0 for a void */
    uint32_t of; /* index of the use */
} fix_t;

static const char *const sources[] = {"checkout", "agent", "manual"};
static const char *const reasons[] = {"签退时间记错，按实际结束时间更正 (checked out late; actual end)",
                                      "仪器故障，未实际使用 (instrument fault; not used)"};

static struct {
    use_t *uses;
    size_t n, cap;
    fix_t *fixes;
    size_t nfix, capfix;
} D;

static int grow(void **p, size_t *cap, size_t n, size_t size) {
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4096;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Does [start, end) overlap a use of the same instrument remembered since
 * history.c moved to it (its uses are the last ones added)? */
static int overlaps(int64_t instrument_id, int64_t start, int64_t end) {
    for (size_t i = D.n; i-- > 0 && D.uses[i].instrument_id == instrument_id;)
        if (D.uses[i].start < end && start < D.uses[i].end)
            return 1;
    return 0;
}

int yq_demo_usage_add(yq_rng_t *rng, int64_t booking_id, int64_t instrument_id, int64_t user_id, int64_t group_id,
                      int64_t payer_org_id, int64_t start, int64_t end) {
    if (overlaps(instrument_id, start, end))
        return YQ_DB_CONSTRAINT;
    if (grow((void **)&D.uses, &D.cap, D.n, sizeof *D.uses))
        return YQ_DB_ERROR;
    int64_t r = yq_rng_between(rng, 1, 100);
    use_t u = {booking_id,
               instrument_id,
               user_id,
               group_id,
               payer_org_id,
               start,
               end,
               0,
               (int32_t)yq_rng_between(rng, 1, 8),
               (uint8_t)(r <= 85   ? 0
                         : r <= 95 ? 1
                                   : 2)};
    /* About 2% are corrected a few days later (ended earlier than checked
     * out), 0.5% voided. */
    int64_t f = yq_rng_between(rng, 1, 1000);
    int64_t at = end + yq_rng_between(rng, 1, 5) * 86400;
    int64_t shorter = yq_rng_between(rng, 1, 4) * 15 * 60;
    if (f <= 25 && (f <= 5 || end - start > shorter) && at < yq_now()) {
        if (grow((void **)&D.fixes, &D.capfix, D.nfix, sizeof *D.fixes))
            return YQ_DB_ERROR;
        D.fixes[D.nfix++] = (fix_t){at, f <= 5 ? 0 : end - shorter, (uint32_t)D.n};
    }
    D.uses[D.n++] = u;
    return 0;
}

static const use_t *sort_base;
static int by_end(const void *a, const void *b) {
    const use_t *x = &sort_base[*(const uint32_t *)a], *y = &sort_base[*(const uint32_t *)b];
    return x->end < y->end   ? -1
           : x->end > y->end ? 1
                             : (x->booking_id > y->booking_id) - (x->booking_id < y->booking_id);
}
static int by_at(const void *a, const void *b) {
    const fix_t *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : (x->of > y->of) - (x->of < y->of);
}

/* What pricing needs, read once: instruments' owners and price rules, and
 * institutions' zones, indexed by id. */
typedef struct {
    int64_t owner_org_id;
    yq_price_t price;
    int ok;
} facts_t;

static struct {
    facts_t *instr;
    int64_t *zone;
    int64_t n_instr, n_org;
} F;

static int load_facts(yq_db_t *db) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT (SELECT coalesce(max(id), 0) FROM instruments), "
                                      "(SELECT coalesce(max(id), 0) FROM orgs)");
    if (yq_db_step(db, st) != 1)
        return YQ_DB_ERROR;
    F.n_instr = sqlite3_column_int64(st, 0) + 1;
    F.n_org = sqlite3_column_int64(st, 1) + 1;
    sqlite3_reset(st);
    F.instr = calloc((size_t)F.n_instr, sizeof *F.instr);
    F.zone = calloc((size_t)F.n_org, sizeof *F.zone);
    if (!F.instr || !F.zone)
        return YQ_DB_ERROR;
    st = yq_db_stmt(db, "SELECT id, zone_id FROM orgs");
    while (yq_db_step(db, st) == 1)
        F.zone[sqlite3_column_int64(st, 0)] = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    st = yq_db_stmt(db, "SELECT id, owner_org_id, price_unit, price_internal_fen, price_zone_fen, "
                        "price_cross_zone_fen, min_charge_fen, step_minutes, basis FROM instruments");
    while (yq_db_step(db, st) == 1) {
        facts_t *f = &F.instr[sqlite3_column_int64(st, 0)];
        yq_instrument_t in;
        memset(&in, 0, sizeof in);
        f->owner_org_id = sqlite3_column_int64(st, 1);
        in.price_unit = (const char *)sqlite3_column_text(st, 2);
        in.internal_fen = sqlite3_column_int64(st, 3);
        in.zone_fen = sqlite3_column_int64(st, 4);
        in.cross_zone_fen = sqlite3_column_int64(st, 5);
        in.min_charge_fen = sqlite3_column_int64(st, 6);
        in.step_minutes = sqlite3_column_int64(st, 7);
        in.basis = (const char *)sqlite3_column_text(st, 8);
        f->ok = yq_price_from_instrument(&in, &f->price) == 0;
    }
    sqlite3_reset(st);
    return 0;
}

/* Writes one use as the check-out (or agent, or operator) would: the rules
 * were kept when the uses were drawn (a completed booking of the payer's
 * group, no overlap, nothing closed), so this is the pricing and chain step
 * of yq_usage_record() with the facts read once. */
static int write_use(yq_db_t *db, use_t *u) {
    const facts_t *f = u->instrument_id < F.n_instr ? &F.instr[u->instrument_id] : NULL;
    if (!f || !f->ok || u->payer_org_id >= F.n_org || f->owner_org_id >= F.n_org)
        return 0;
    char period[8];
    yq_period_of(u->start, period);
    yq_usage_record_t r = {
        .instrument_id = u->instrument_id,
        .provider_org_id = f->owner_org_id,
        .user_id = u->user_id,
        .group_id = u->group_id,
        .payer_org_id = u->payer_org_id,
        .booking_id = u->booking_id,
        .kind = "original",
        .start = u->start,
        .end = u->end,
        .samples = u->samples,
        .service_mode = f->price.unit == YQ_UNIT_SAMPLE ? "sample" : "self_operated",
        .source = sources[u->source],
        .recorded_by = u->source == 0 ? u->user_id : 0,
        .period = period,
        .created_at = u->end,
        .reason = "",
    };
    yq_fee_input_t fi = {.used_seconds = u->end - u->start,
                         .has_booking = 1,
                         .booked_seconds = u->end - u->start,
                         .samples = u->samples};
    yq_tier_t tier = yq_fee_tier(f->owner_org_id, F.zone[f->owner_org_id], u->payer_org_id, F.zone[u->payer_org_id]);
    char prev[YQ_LEDGER_HASH_HEX], hash[YQ_LEDGER_HASH_HEX];
    int64_t id = yq_usage_price_append(db, &r, &f->price, tier, &fi, prev, hash);
    if (id == YQ_USAGE_UNPRICEABLE)
        return 0;
    u->usage_id = id > 0 ? id : 0;
    return id < 0 ? (int)id : 0;
}

/* The first operator of each institution corrects its records. */
static int64_t operator_of(yq_db_t *db, int64_t instrument_id, int64_t *org_id) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT i.owner_org_id, coalesce((SELECT u.id FROM users u WHERE "
                                      "u.org_id = i.owner_org_id AND (u.roles & 4) <> 0 ORDER BY u.id LIMIT 1), 0) "
                                      "FROM instruments i WHERE i.id = ?1");
    sqlite3_bind_int64(st, 1, instrument_id);
    int64_t op = 0;
    if (yq_db_step(db, st) == 1) {
        *org_id = sqlite3_column_int64(st, 0);
        op = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return op;
}

static int write_fix(yq_db_t *db, const fix_t *f) {
    const use_t *u = &D.uses[f->of];
    int64_t org = 0, op = operator_of(db, u->instrument_id, &org);
    if (!u->usage_id || !op)
        return 0;
    yq_principal_t p = {.user_id = op, .org_id = org, .roles = YQ_ROLE_OPERATOR, .scopes = YQ_SCOPE_ALL};
    yq_usage_fix_t fix = {
        .id = u->usage_id,
        .is_void = f->end == 0,
        .start = u->start,
        .end = f->end,
        .samples = -1,
        .reason = reasons[f->end == 0],
        .actor = op,
        .now = f->at,
    };
    int64_t rev, cor;
    yq_usage_refusal_t why = {0};
    int rc = yq_usage_correct(&fix, &p, &rev, &cor, &why);
    return rc < 0 && !why.status ? rc : 0;
}

int yq_demo_usage_write(yq_db_t *db) {
    int rc = load_facts(db);
    uint32_t *order = malloc((D.n ? D.n : 1) * sizeof *order);
    if (!order)
        rc = YQ_DB_ERROR;
    for (size_t i = 0; i < D.n && order; i++)
        order[i] = (uint32_t)i;
    sort_base = D.uses;
    if (order)
        qsort(order, D.n, sizeof *order, by_end);
    if (D.nfix)
        qsort(D.fixes, D.nfix, sizeof *D.fixes, by_at);
    /* Merge: uses by their end, corrections on their day. */
    size_t i = 0, k = 0;
    while (rc == 0 && (i < D.n || k < D.nfix)) {
        if (k < D.nfix && (i == D.n || D.fixes[k].at < D.uses[order[i]].end))
            rc = write_fix(db, &D.fixes[k++]);
        else
            rc = write_use(db, &D.uses[order[i++]]);
    }
    free(order);
    free(D.uses);
    free(D.fixes);
    free(F.instr);
    free(F.zone);
    memset(&D, 0, sizeof D);
    memset(&F, 0, sizeof F);
    return rc;
}
