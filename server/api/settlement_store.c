/* Storage of settlement statements: see settlement_store.h. */
#include "api/settlement_store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/usage_store.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "domain/errors.h"

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_size, const char *fmt, ...) {
    if (!why || !why_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

int yq_settle_period_valid(const char *period) {
    int64_t a, b;
    if (!period || strlen(period) != 7 || yq_period_bounds(period, &a, &b))
        return YQ_SETTLE_BAD_PERIOD;
    return 0;
}

int64_t yq_settle_period_number(const char *period) {
    return (int64_t)atoi(period) * 100 + atoi(period + 5);
}

/* Reads the status of period: 1 draft, 2 closed, 0 none, or a negative code. */
static int period_status(yq_db_t *db, const char *period) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT status FROM settlements WHERE period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    int out = rc < 0 ? rc : rc == 0 ? 0 : strcmp((const char *)sqlite3_column_text(st, 0), "closed") == 0 ? 2 : 1;
    sqlite3_reset(st);
    return out;
}

/* ---- computing a statement from the usage records ------------------------- */

/* Reads the period's usage records and builds the statement into *s, then
 * checks it against the period's usage counted independently: every record
 * on a line (an INNER JOIN drops a record naming an unknown institution) and
 * the lines' fees equal to SQL's sum of the fees. Returns 0, YQ_SETTLE_INVARIANT
 * (why; logged) or a negative YQ_DB_* code. */
static int compute(yq_db_t *db, const char *period, yq_settlement_t *s, int64_t *records, double *read_s, char *why,
                   size_t why_size) {
    double t0 = mono();
    sqlite3_stmt *st =
        yq_db_stmt(db, "SELECT count(*), coalesce(sum(fee_fen), 0) FROM usage_records WHERE period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    int64_t count = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    int64_t fee_total = rc == 1 ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != 1)
        return rc < 0 ? rc : YQ_DB_ERROR;

    size_t cap = count > 0 ? (size_t)count : 1, n = 0;
    yq_settle_row_t *rows = yq_xmalloc(cap * sizeof *rows);
    st = yq_db_stmt(db, "SELECT u.provider_org_id, u.payer_org_id, po.zone_id, pa.zone_id, u.kind = 'reversal', "
                        "u.minutes, u.fee_fen, u.voucher_fen, u.cash_fen "
                        "FROM usage_records u JOIN orgs po ON po.id = u.provider_org_id "
                        "JOIN orgs pa ON pa.id = u.payer_org_id WHERE u.period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    while ((rc = yq_db_step(db, st)) == 1) {
        if (n == cap)
            rows = yq_xrealloc(rows, (cap *= 2) * sizeof *rows);
        rows[n++] = (yq_settle_row_t){
            .provider_org_id = sqlite3_column_int64(st, 0),
            .payer_org_id = sqlite3_column_int64(st, 1),
            .provider_zone_id = sqlite3_column_int64(st, 2),
            .payer_zone_id = sqlite3_column_int64(st, 3),
            .reversal = sqlite3_column_int(st, 4),
            .minutes = sqlite3_column_int64(st, 5),
            .fee_fen = sqlite3_column_int64(st, 6),
            .voucher_fen = sqlite3_column_int64(st, 7),
            .cash_fen = sqlite3_column_int64(st, 8),
        };
    }
    sqlite3_reset(st);
    if (rc < 0) {
        free(rows);
        return rc;
    }
    if (read_s)
        *read_s = mono() - t0;
    *records = count;

    rc = yq_settle_build(rows, n, s, why, why_size);
    free(rows);
    if (rc == 0)
        rc = yq_settle_check(s, fee_total, why, why_size);
    if (rc == 0 && (int64_t)n != count) {
        say(why, why_size,
            "records: %" PRId64 " usage records in the period but %zu on lines; %" PRId64
            " name an institution that does not exist",
            count, n, count - (int64_t)n);
        rc = YQ_DOM_EFEE_SUM;
    }
    if (rc) {
        yq_settle_free(s);
        yq_log_error("settlement %s: invariant broken, statement not stored: %s", period, why ? why : "");
        return YQ_SETTLE_INVARIANT;
    }
    return 0;
}

/* ---- building --------------------------------------------------------------- */

typedef struct {
    int64_t id, provider, payer, pz, yz, uses, minutes, fee, voucher, cash;
    int open;
} old_line_t;

static int same_figures(const old_line_t *o, const yq_settle_line_t *l) {
    return o->pz == l->provider_zone_id && o->yz == l->payer_zone_id && o->uses == l->uses &&
           o->minutes == l->minutes && o->fee == l->fee_fen && o->voucher == l->voucher_fen && o->cash == l->cash_fen;
}

/* The stored lines of period, sorted by (provider, payer). */
static int old_lines(yq_db_t *db, const char *period, old_line_t **out, size_t *n) {
    size_t cap = 64;
    *n = 0;
    *out = yq_xmalloc(cap * sizeof **out);
    sqlite3_stmt *st =
        yq_db_stmt(db, "SELECT id, provider_org_id, payer_org_id, coalesce(provider_zone_id, 0), "
                       "coalesce(payer_zone_id, 0), uses, minutes, fee_fen, voucher_fen, cash_fen, state = 'open' "
                       "FROM settlement_lines WHERE period = ?1 ORDER BY provider_org_id, payer_org_id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        if (*n == cap)
            *out = yq_xrealloc(*out, (cap *= 2) * sizeof **out);
        old_line_t *o = &(*out)[(*n)++];
        int64_t v[10];
        for (int i = 0; i < 10; i++)
            v[i] = sqlite3_column_int64(st, i);
        *o = (old_line_t){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], sqlite3_column_int(st, 10)};
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static int cmp_pair(int64_t p1, int64_t y1, int64_t p2, int64_t y2) {
    if (p1 != p2)
        return p1 < p2 ? -1 : 1;
    return (y1 > y2) - (y1 < y2);
}

static int write_line(yq_db_t *db, const char *period, const yq_settle_line_t *l, int64_t id, int keep_state) {
    sqlite3_stmt *st;
    if (id == 0)
        st = yq_db_stmt(db, "INSERT INTO settlement_lines (period, provider_org_id, payer_org_id, provider_zone_id, "
                            "payer_zone_id, uses, minutes, fee_fen, voucher_fen, cash_fen) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    else if (keep_state)
        return 0;
    else
        st = yq_db_stmt(db, "UPDATE settlement_lines SET provider_zone_id = ?4, payer_zone_id = ?5, uses = ?6, "
                            "minutes = ?7, fee_fen = ?8, voucher_fen = ?9, cash_fen = ?10, state = 'open', "
                            "reason = '', acted_by = NULL, acted_at = NULL WHERE id = ?11 AND period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, l->provider_org_id);
    sqlite3_bind_int64(st, 3, l->payer_org_id);
    sqlite3_bind_int64(st, 4, l->provider_zone_id);
    sqlite3_bind_int64(st, 5, l->payer_zone_id);
    sqlite3_bind_int64(st, 6, l->uses);
    sqlite3_bind_int64(st, 7, l->minutes);
    sqlite3_bind_int64(st, 8, l->fee_fen);
    sqlite3_bind_int64(st, 9, l->voucher_fen);
    sqlite3_bind_int64(st, 10, l->cash_fen);
    if (id)
        sqlite3_bind_int64(st, 11, id);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

static int delete_line(yq_db_t *db, int64_t id) {
    sqlite3_stmt *st = yq_db_stmt(db, "DELETE FROM settlement_lines WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

/* Merges the new lines into the stored ones by (provider, payer). */
static int write_lines(yq_db_t *db, const char *period, const yq_settlement_t *s, size_t *reopened) {
    old_line_t *old;
    size_t n_old, i = 0, j = 0;
    int rc = old_lines(db, period, &old, &n_old);
    while (rc == 0 && (i < s->n_lines || j < n_old)) {
        const yq_settle_line_t *l = i < s->n_lines ? &s->lines[i] : NULL;
        const old_line_t *o = j < n_old ? &old[j] : NULL;
        int c = !l ? 1 : !o ? -1 : cmp_pair(l->provider_org_id, l->payer_org_id, o->provider, o->payer);
        if (c < 0) {
            rc = write_line(db, period, l, 0, 0);
            i++;
        } else if (c > 0) {
            rc = delete_line(db, o->id);
            j++;
        } else {
            int same = same_figures(o, l);
            if (!same && !o->open)
                (*reopened)++;
            rc = write_line(db, period, l, o->id, same);
            i++, j++;
        }
    }
    free(old);
    return rc;
}

static int write_sums(yq_db_t *db, const char *period, const yq_settlement_t *s) {
    static const char *const clear[] = {
        "DELETE FROM settlement_flows WHERE period = ?1",
        "DELETE FROM settlement_zone_net WHERE period = ?1",
        "DELETE FROM settlement_net WHERE period = ?1",
    };
    int rc = 0;
    for (size_t k = 0; k < 3 && rc >= 0; k++) {
        sqlite3_stmt *st = yq_db_stmt(db, clear[k]);
        sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
        rc = yq_db_step(db, st);
    }
    for (size_t k = 0; k < s->n_flows && rc >= 0; k++) {
        sqlite3_stmt *st = yq_db_stmt(
            db, "INSERT INTO settlement_flows (period, from_zone_id, to_zone_id, fee_fen) VALUES (?1, ?2, ?3, ?4)");
        sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, s->flows[k].from_zone_id);
        sqlite3_bind_int64(st, 3, s->flows[k].to_zone_id);
        sqlite3_bind_int64(st, 4, s->flows[k].fee_fen);
        rc = yq_db_step(db, st);
    }
    for (size_t k = 0; k < s->n_zone_net && rc >= 0; k++) {
        sqlite3_stmt *st = yq_db_stmt(
            db, "INSERT INTO settlement_zone_net (period, zone_a_id, zone_b_id, net_fen) VALUES (?1, ?2, ?3, ?4)");
        sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, s->zone_net[k].zone_a_id);
        sqlite3_bind_int64(st, 3, s->zone_net[k].zone_b_id);
        sqlite3_bind_int64(st, 4, s->zone_net[k].net_fen);
        rc = yq_db_step(db, st);
    }
    for (size_t k = 0; k < s->n_net && rc >= 0; k++) {
        sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO settlement_net (period, org_id, net_fen) VALUES (?1, ?2, ?3)");
        sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, s->net[k].org_id);
        sqlite3_bind_int64(st, 3, s->net[k].net_fen);
        rc = yq_db_step(db, st);
    }
    return rc < 0 ? rc : 0;
}

static int write_head(yq_db_t *db, const char *period, const yq_settlement_t *s, int64_t records, int64_t actor,
                      int64_t now) {
    yq_usage_checkpoint_t cp;
    int rc = yq_usage_checkpoint(db, &cp);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = yq_db_stmt(
        db, "INSERT INTO settlements (period, status, built_at, built_by, records, uses, minutes, fee_fen, "
            "voucher_fen, cash_fen, voucher_fund_net_fen, checkpoint_count, checkpoint_hash) "
            "VALUES (?1, 'draft', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
            "ON CONFLICT (period) DO UPDATE SET built_at = excluded.built_at, built_by = excluded.built_by, "
            "records = excluded.records, uses = excluded.uses, minutes = excluded.minutes, "
            "fee_fen = excluded.fee_fen, voucher_fen = excluded.voucher_fen, cash_fen = excluded.cash_fen, "
            "voucher_fund_net_fen = excluded.voucher_fund_net_fen, checkpoint_count = excluded.checkpoint_count, "
            "checkpoint_hash = excluded.checkpoint_hash WHERE status = 'draft'");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if (actor)
        sqlite3_bind_int64(st, 3, actor);
    sqlite3_bind_int64(st, 4, records);
    sqlite3_bind_int64(st, 5, s->uses);
    sqlite3_bind_int64(st, 6, s->minutes);
    sqlite3_bind_int64(st, 7, s->fee_fen);
    sqlite3_bind_int64(st, 8, s->voucher_fen);
    sqlite3_bind_int64(st, 9, s->cash_fen);
    sqlite3_bind_int64(st, 10, s->voucher_fund_net_fen);
    sqlite3_bind_int64(st, 11, cp.count);
    sqlite3_bind_text(st, 12, cp.head_hash, -1, SQLITE_TRANSIENT);
    rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

int yq_settle_store_build(yq_db_t *db, const char *period, int64_t actor, int64_t now, yq_settle_built_t *out,
                          char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    if (yq_settle_period_valid(period))
        return YQ_SETTLE_BAD_PERIOD;
    char current[8];
    yq_period_of(now, current);
    if (strcmp(period, current) > 0)
        return YQ_SETTLE_IN_FUTURE;
    int status = period_status(db, period);
    if (status < 0)
        return status;
    if (status == 2)
        return YQ_SETTLE_CLOSED;
    out->created = status == 0;

    yq_settlement_t s;
    double t0 = mono();
    int rc = compute(db, period, &s, &out->records, &out->read_s, why, why_size);
    if (rc)
        return rc;
    double t1 = mono();
    out->build_s = t1 - t0 - out->read_s;
    /* The head first: the lines reference it. */
    rc = write_head(db, period, &s, out->records, actor, now);
    if (rc == 0)
        rc = write_lines(db, period, &s, &out->reopened);
    if (rc == 0)
        rc = write_sums(db, period, &s);
    out->lines = s.n_lines;
    out->write_s = mono() - t1;
    yq_settle_free(&s);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

static const char *dup_col(yq_arena_t *a, sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return yq_arena_strdup(a, t ? (const char *)t : "");
}

/* Grows *arr (of elements of size sz) so that index n fits. */
static void *grow(void *arr, size_t n, size_t *cap, size_t sz) {
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 16;
    return yq_xrealloc(arr, *cap * sz);
}

static int load_head(yq_db_t *db, const char *period, yq_statement_t *out) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT status, built_at, coalesce(built_by, 0), coalesce(closed_at, 0), coalesce(closed_by, 0), "
            "records, uses, minutes, fee_fen, voucher_fen, cash_fen, voucher_fund_net_fen, checkpoint_count, "
            "checkpoint_hash FROM settlements WHERE period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    if (rc == 1) {
        out->closed = strcmp((const char *)sqlite3_column_text(st, 0), "closed") == 0;
        out->built_at = sqlite3_column_int64(st, 1);
        out->built_by = sqlite3_column_int64(st, 2);
        out->closed_at = sqlite3_column_int64(st, 3);
        out->closed_by = sqlite3_column_int64(st, 4);
        out->records = sqlite3_column_int64(st, 5);
        out->uses = sqlite3_column_int64(st, 6);
        out->minutes = sqlite3_column_int64(st, 7);
        out->fee_fen = sqlite3_column_int64(st, 8);
        out->voucher_fen = sqlite3_column_int64(st, 9);
        out->cash_fen = sqlite3_column_int64(st, 10);
        out->voucher_fund_net_fen = sqlite3_column_int64(st, 11);
        out->checkpoint_count = sqlite3_column_int64(st, 12);
        const unsigned char *h = sqlite3_column_text(st, 13);
        snprintf(out->checkpoint_hash, sizeof out->checkpoint_hash, "%s", h ? (const char *)h : "");
    }
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return YQ_SETTLE_NOT_FOUND;
    st = yq_db_stmt(db, "SELECT count(*) FROM usage_records WHERE period = ?1");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    rc = yq_db_step(db, st);
    out->records_now = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static void line_from_row(yq_arena_t *a, sqlite3_stmt *st, yq_st_line_t *l) {
    *l = (yq_st_line_t){
        .id = sqlite3_column_int64(st, 0),
        .provider_org_id = sqlite3_column_int64(st, 1),
        .payer_org_id = sqlite3_column_int64(st, 2),
        .provider_zone_id = sqlite3_column_int64(st, 3),
        .payer_zone_id = sqlite3_column_int64(st, 4),
        .uses = sqlite3_column_int64(st, 5),
        .minutes = sqlite3_column_int64(st, 6),
        .fee_fen = sqlite3_column_int64(st, 7),
        .voucher_fen = sqlite3_column_int64(st, 8),
        .cash_fen = sqlite3_column_int64(st, 9),
        .state = dup_col(a, st, 10),
        .reason = dup_col(a, st, 11),
        .acted_by = sqlite3_column_int64(st, 12),
        .acted_at = sqlite3_column_int64(st, 13),
    };
}

#define LINE_COLS                                                                                                      \
    "l.id, l.provider_org_id, l.payer_org_id, coalesce(l.provider_zone_id, 0), coalesce(l.payer_zone_id, 0), "         \
    "l.uses, l.minutes, l.fee_fen, l.voucher_fen, l.cash_fen, l.state, l.reason, coalesce(l.acted_by, 0), "            \
    "coalesce(l.acted_at, 0) "

static int load_lines(yq_db_t *db, const char *period, yq_statement_t *out) {
    size_t cap = 0;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT " LINE_COLS "FROM settlement_lines l WHERE l.period = ?1 "
                                      "ORDER BY l.provider_org_id, l.payer_org_id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        out->lines = grow(out->lines, out->n_lines, &cap, sizeof *out->lines);
        yq_st_line_t *l = &out->lines[out->n_lines++];
        line_from_row(out->arena, st, l);
        out->n_open += l->state[0] == 'o';
        out->n_confirmed += l->state[0] == 'c';
        out->n_disputed += l->state[0] == 'd';
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static int load_sums(yq_db_t *db, const char *period, yq_statement_t *out) {
    size_t cap = 0;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT from_zone_id, to_zone_id, fee_fen FROM settlement_flows "
                                      "WHERE period = ?1 ORDER BY from_zone_id, to_zone_id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        out->flows = grow(out->flows, out->n_flows, &cap, sizeof *out->flows);
        out->flows[out->n_flows++] =
            (yq_settle_flow_t){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)};
    }
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    cap = 0;
    st = yq_db_stmt(db, "SELECT zone_a_id, zone_b_id, net_fen FROM settlement_zone_net WHERE period = ?1 "
                        "ORDER BY zone_a_id, zone_b_id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    while ((rc = yq_db_step(db, st)) == 1) {
        out->zone_net = grow(out->zone_net, out->n_zone_net, &cap, sizeof *out->zone_net);
        out->zone_net[out->n_zone_net++] = (yq_settle_zone_net_t){
            sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)};
    }
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    cap = 0;
    st = yq_db_stmt(db, "SELECT org_id, net_fen FROM settlement_net WHERE period = ?1 ORDER BY org_id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    while ((rc = yq_db_step(db, st)) == 1) {
        out->net = grow(out->net, out->n_net, &cap, sizeof *out->net);
        out->net[out->n_net++] =
            (yq_st_net_t){.org_id = sqlite3_column_int64(st, 0), .net_fen = sqlite3_column_int64(st, 1)};
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static int load_names(yq_db_t *db, const char *period, yq_statement_t *out) {
    size_t cap = 0;
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT id, zone_id, code, name_zh, name_en FROM orgs WHERE id IN (SELECT provider_org_id FROM "
            "settlement_lines WHERE period = ?1 UNION SELECT payer_org_id FROM settlement_lines WHERE period = ?1) "
            "ORDER BY id");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        out->orgs = grow(out->orgs, out->n_orgs, &cap, sizeof *out->orgs);
        out->orgs[out->n_orgs++] =
            (yq_st_org_t){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), dup_col(out->arena, st, 2),
                          dup_col(out->arena, st, 3), dup_col(out->arena, st, 4)};
    }
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    cap = 0;
    st = yq_db_stmt(db, "SELECT id, code, name_zh, name_en FROM zones ORDER BY id");
    while ((rc = yq_db_step(db, st)) == 1) {
        out->zones = grow(out->zones, out->n_zones, &cap, sizeof *out->zones);
        out->zones[out->n_zones++] = (yq_st_zone_t){sqlite3_column_int64(st, 0), dup_col(out->arena, st, 1),
                                                    dup_col(out->arena, st, 2), dup_col(out->arena, st, 3)};
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static yq_st_net_t *net_of(yq_statement_t *st, int64_t org_id) {
    size_t lo = 0, hi = st->n_net;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->net[mid].org_id < org_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->n_net && st->net[lo].org_id == org_id ? &st->net[lo] : NULL;
}

/* The stored statement's invariants, with the domain's own check on the
 * lines and net positions, plus: the lines give the stored totals and
 * every institution's stored net position. */
static int check_loaded(yq_statement_t *out, char *why, size_t why_size) {
    yq_settlement_t s = {
        .n_lines = out->n_lines, .n_net = out->n_net, .voucher_fund_net_fen = out->voucher_fund_net_fen};
    s.lines = yq_xcalloc(out->n_lines ? out->n_lines : 1, sizeof *s.lines);
    s.net = yq_xcalloc(out->n_net ? out->n_net : 1, sizeof *s.net);
    int64_t uses = 0, minutes = 0, voucher = 0, cash = 0, missing = 0;
    for (size_t i = 0; i < out->n_lines; i++) {
        const yq_st_line_t *l = &out->lines[i];
        s.lines[i] =
            (yq_settle_line_t){l->provider_org_id, l->payer_org_id, l->provider_zone_id, l->payer_zone_id, l->uses,
                               l->minutes,         l->fee_fen,      l->voucher_fen,      l->cash_fen};
        uses += l->uses, minutes += l->minutes, voucher += l->voucher_fen, cash += l->cash_fen;
        yq_st_net_t *a = net_of(out, l->provider_org_id), *b = net_of(out, l->payer_org_id);
        if (a)
            a->receivable_fen += l->fee_fen;
        if (b)
            b->payable_fen += l->cash_fen;
        if ((!a || !b) && !missing)
            missing = a ? l->payer_org_id : l->provider_org_id;
    }
    for (size_t i = 0; i < out->n_net; i++)
        s.net[i] = (yq_settle_net_t){out->net[i].org_id, out->net[i].net_fen};
    int rc = yq_settle_check(&s, out->fee_fen, why, why_size);
    if (rc == 0 && missing) {
        say(why, why_size, "net_sum: institution %" PRId64 " is on a line but has no net position", missing);
        rc = YQ_DOM_ENET_SUM;
    }
    if (rc == 0 &&
        (uses != out->uses || minutes != out->minutes || voucher != out->voucher_fen || cash != out->cash_fen)) {
        say(why, why_size, "totals: the lines do not sum to the stored totals");
        rc = YQ_DOM_EFEE_SUM;
    }
    for (size_t i = 0; rc == 0 && i < out->n_net; i++) {
        const yq_st_net_t *n = &out->net[i];
        if (n->net_fen != n->receivable_fen - n->payable_fen) {
            say(why, why_size,
                "net_sum: institution %" PRId64 " has net %" PRId64 " fen but its lines give %" PRId64 " fen",
                n->org_id, n->net_fen, n->receivable_fen - n->payable_fen);
            rc = YQ_DOM_ENET_SUM;
        }
    }
    free(s.lines);
    free(s.net);
    return rc;
}

int yq_settle_store_load(yq_db_t *db, const char *period, yq_statement_t *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    out->arena = yq_arena_create();
    snprintf(out->period, sizeof out->period, "%s", period);
    int rc = load_head(db, period, out);
    if (rc == 0)
        rc = load_lines(db, period, out);
    if (rc == 0)
        rc = load_sums(db, period, out);
    if (rc == 0)
        rc = load_names(db, period, out);
    if (rc == 0 && check_loaded(out, why, why_size)) {
        yq_log_error("settlement %s: the stored statement breaks an invariant: %s", period, why ? why : "");
        rc = YQ_SETTLE_INVARIANT;
    }
    if (rc)
        yq_statement_free(out);
    return rc;
}

void yq_statement_restrict(yq_statement_t *st, int64_t org_id) {
    size_t m = 0;
    st->uses = st->minutes = st->fee_fen = st->voucher_fen = st->cash_fen = 0;
    st->n_open = st->n_confirmed = st->n_disputed = 0;
    for (size_t i = 0; i < st->n_lines; i++) {
        yq_st_line_t *l = &st->lines[i];
        if (l->provider_org_id != org_id && l->payer_org_id != org_id)
            continue;
        st->lines[m++] = *l;
        st->uses += l->uses, st->minutes += l->minutes, st->fee_fen += l->fee_fen;
        st->voucher_fen += l->voucher_fen, st->cash_fen += l->cash_fen;
        st->n_open += l->state[0] == 'o';
        st->n_confirmed += l->state[0] == 'c';
        st->n_disputed += l->state[0] == 'd';
    }
    st->n_lines = m;
    yq_st_net_t *own = net_of(st, org_id);
    if (own) {
        st->net[0] = *own;
        st->n_net = 1;
    } else {
        st->n_net = 0;
    }
    st->n_flows = st->n_zone_net = 0;
    st->voucher_fund_net_fen = 0;
    st->org_scope = org_id;
}

void yq_statement_free(yq_statement_t *st) {
    if (!st)
        return;
    free(st->lines);
    free(st->flows);
    free(st->zone_net);
    free(st->net);
    free(st->orgs);
    free(st->zones);
    if (st->arena)
        yq_arena_destroy(st->arena);
    memset(st, 0, sizeof *st);
}

const yq_st_org_t *yq_statement_org(const yq_statement_t *st, int64_t id) {
    for (size_t i = 0; i < st->n_orgs; i++)
        if (st->orgs[i].id == id)
            return &st->orgs[i];
    return NULL;
}

const yq_st_zone_t *yq_statement_zone(const yq_statement_t *st, int64_t id) {
    for (size_t i = 0; i < st->n_zones; i++)
        if (st->zones[i].id == id)
            return &st->zones[i];
    return NULL;
}

/* ---- lines ------------------------------------------------------------------ */

int yq_settle_store_line(yq_db_t *db, const char *period, int64_t line_id, yq_arena_t *arena, yq_st_line_t *out,
                         int *closed) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT " LINE_COLS ", s.status = 'closed' FROM settlement_lines l "
                                      "JOIN settlements s ON s.period = l.period WHERE l.id = ?1 AND l.period = ?2");
    sqlite3_bind_int64(st, 1, line_id);
    sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    if (rc == 1) {
        line_from_row(arena, st, out);
        *closed = sqlite3_column_int(st, 14);
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : rc == 0 ? YQ_SETTLE_NOT_FOUND : 0;
}

int yq_settle_store_line_act(yq_db_t *db, const char *period, int64_t line_id, const char *state, const char *reason,
                             int64_t actor, int64_t now) {
    int status = period_status(db, period);
    if (status < 0)
        return status;
    if (status == 0)
        return YQ_SETTLE_NOT_FOUND;
    if (status == 2)
        return YQ_SETTLE_CLOSED;
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE settlement_lines SET state = ?3, reason = ?4, acted_by = ?5, "
                                      "acted_at = ?6 WHERE id = ?1 AND period = ?2");
    sqlite3_bind_int64(st, 1, line_id);
    sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, reason ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, actor);
    sqlite3_bind_int64(st, 6, now);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    return yq_db_changes(db) == 1 ? 0 : YQ_SETTLE_NOT_FOUND;
}

/* ---- closing ---------------------------------------------------------------- */

/* Compares the stored lines of period with a fresh statement; 0 when they
 * agree, YQ_SETTLE_STALE with why otherwise. */
static int compare_stored(yq_db_t *db, const char *period, const yq_settlement_t *s, char *why, size_t why_size) {
    old_line_t *old;
    size_t n_old;
    int rc = old_lines(db, period, &old, &n_old);
    if (rc < 0)
        return rc;
    if (n_old != s->n_lines) {
        say(why, why_size, "the usage of %s now gives %zu lines, the statement has %zu", period, s->n_lines, n_old);
        rc = YQ_SETTLE_STALE;
    }
    for (size_t i = 0; rc == 0 && i < n_old; i++) {
        const yq_settle_line_t *l = &s->lines[i];
        if (old[i].provider != l->provider_org_id || old[i].payer != l->payer_org_id || !same_figures(&old[i], l)) {
            say(why, why_size,
                "the usage of provider %" PRId64 " and payer %" PRId64 " changed since the statement was built",
                l->provider_org_id, l->payer_org_id);
            rc = YQ_SETTLE_STALE;
        }
    }
    free(old);
    return rc;
}

int yq_settle_store_close(yq_db_t *db, const char *period, int64_t actor, int64_t now, char *why, size_t why_size) {
    int status = period_status(db, period);
    if (status < 0)
        return status;
    if (status == 0)
        return YQ_SETTLE_NOT_FOUND;
    if (status == 2)
        return YQ_SETTLE_CLOSED;
    int64_t from, to;
    if (yq_period_bounds(period, &from, &to))
        return YQ_SETTLE_NOT_FOUND;
    if (now < to)
        return YQ_SETTLE_NOT_ENDED;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(*) FROM settlement_lines WHERE period = ?1 AND state = 'disputed'");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    int64_t disputed = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    if (disputed)
        return YQ_SETTLE_DISPUTED;

    yq_settlement_t s;
    int64_t records;
    rc = compute(db, period, &s, &records, NULL, why, why_size);
    if (rc)
        return rc;
    rc = compare_stored(db, period, &s, why, why_size);
    yq_settle_free(&s);
    if (rc)
        return rc;

    yq_usage_checkpoint_t cp;
    rc = yq_usage_checkpoint(db, &cp);
    if (rc < 0)
        return rc;
    st = yq_db_stmt(db, "UPDATE settlements SET status = 'closed', closed_at = ?2, closed_by = ?3, "
                        "checkpoint_count = ?4, checkpoint_hash = ?5 WHERE period = ?1 AND status = 'draft'");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, actor);
    sqlite3_bind_int64(st, 4, cp.count);
    sqlite3_bind_text(st, 5, cp.head_hash, -1, SQLITE_TRANSIENT);
    rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

/* ---- list ------------------------------------------------------------------- */

cJSON *yq_settle_store_list(yq_db_t *db, int64_t org_id) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT s.period, s.status, s.built_at, s.closed_at, count(l.id), coalesce(sum(l.state = 'open'), 0), "
            "coalesce(sum(l.state = 'confirmed'), 0), coalesce(sum(l.state = 'disputed'), 0), "
            "coalesce(sum(l.fee_fen), 0) FROM settlements s LEFT JOIN settlement_lines l ON l.period = s.period "
            "AND (?1 = 0 OR l.provider_org_id = ?1 OR l.payer_org_id = ?1) "
            "GROUP BY s.period ORDER BY s.period DESC LIMIT 500");
    sqlite3_bind_int64(st, 1, org_id);
    cJSON *items = cJSON_CreateArray();
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        cJSON *o = cJSON_CreateObject();
        yq_json_add_col(o, "period", st, 0);
        yq_json_add_col(o, "status", st, 1);
        yq_json_add_time(o, "built_at", sqlite3_column_int64(st, 2));
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
            cJSON_AddNullToObject(o, "closed_at");
        else
            yq_json_add_time(o, "closed_at", sqlite3_column_int64(st, 3));
        yq_json_add_int(o, "lines", sqlite3_column_int64(st, 4));
        yq_json_add_int(o, "open", sqlite3_column_int64(st, 5));
        yq_json_add_int(o, "confirmed", sqlite3_column_int64(st, 6));
        yq_json_add_int(o, "disputed", sqlite3_column_int64(st, 7));
        yq_json_add_int(o, "fee_fen", sqlite3_column_int64(st, 8));
        cJSON_AddItemToArray(items, o);
    }
    sqlite3_reset(st);
    if (rc < 0) {
        cJSON_Delete(items);
        return NULL;
    }
    return items;
}
