/*
 * Storage of usage records and vouchers; what each function does and the
 * transaction it expects are in usage_store.h. Rules that are arithmetic
 * live in the domain layer (fees.h, vouchers.h, ledger.h); this file reads
 * the facts they need, asks them, and writes the results.
 */
#include "api/usage_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "api/api.h"
#include "api/bookings_store.h"
#include "api/instrument_store.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "domain/usage_rules.h"
#include "domain/vouchers.h"

/* A record u is reversed when a reversal points at it; live otherwise. */
#define REVERSED_SQL "EXISTS (SELECT 1 FROM usage_records r WHERE r.corrects_id = u.id AND r.kind = 'reversal')"
#define LIVE_SQL "NOT " REVERSED_SQL

static const char *const service_modes[] = {"self_operated", "assisted", "sample", "remote", NULL};

static int refuse(yq_usage_refusal_t *why, int status, const char *code, const char *message, const char *field) {
    why->status = status;
    why->code = code;
    why->message = message;
    why->field = field;
    return -1;
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", s ? s : "");
}

static void bind_id(sqlite3_stmt *st, int i, int64_t v) {
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* ---- facts ---- */

typedef struct {
    int64_t owner_org_id, owner_zone_id;
    char share_mode[16];
    int retired;
    yq_price_t price;
    char name_zh[512], name_en[512];
} instr_t;

/* Returns 0, 1 when there is no such instrument, or YQ_DB_ERROR for a
 * price rule that cannot be read. */
static int load_instrument(yq_db_t *db, int64_t id, instr_t *out) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT i.owner_org_id, o.zone_id, i.share_mode, i.retired_at IS NOT NULL, "
                                      "i.price_unit, i.price_internal_fen, i.price_zone_fen, i.price_cross_zone_fen, "
                                      "i.min_charge_fen, i.step_minutes, i.basis, i.name_zh, i.name_en "
                                      "FROM instruments i JOIN orgs o ON o.id = i.owner_org_id WHERE i.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return 1;
    char unit[16], basis[16];
    yq_instrument_t in;
    memset(&in, 0, sizeof in);
    out->owner_org_id = sqlite3_column_int64(st, 0);
    out->owner_zone_id = sqlite3_column_int64(st, 1);
    copy_text(out->share_mode, sizeof out->share_mode, st, 2);
    out->retired = sqlite3_column_int(st, 3);
    copy_text(unit, sizeof unit, st, 4);
    in.internal_fen = sqlite3_column_int64(st, 5);
    in.zone_fen = sqlite3_column_int64(st, 6);
    in.cross_zone_fen = sqlite3_column_int64(st, 7);
    in.min_charge_fen = sqlite3_column_int64(st, 8);
    in.step_minutes = sqlite3_column_int64(st, 9);
    copy_text(basis, sizeof basis, st, 10);
    copy_text(out->name_zh, sizeof out->name_zh, st, 11);
    copy_text(out->name_en, sizeof out->name_en, st, 12);
    sqlite3_reset(st);
    in.price_unit = unit;
    in.basis = basis;
    return yq_price_from_instrument(&in, &out->price) ? YQ_DB_ERROR : 0;
}

/* The payer of a use by user_id in group_id (0: the user's own group):
 * the group's institution, or the user's when there is no group; and the
 * user's name. Returns 0, or -1 with *why. */
static int load_payer(yq_db_t *db, int64_t user_id, int64_t *group_id, int64_t *payer_org, int64_t *payer_zone,
                      char user_name[256], yq_usage_refusal_t *why) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT coalesce(u.org_id, 0), coalesce(u.group_id, 0), coalesce(o.zone_id, 0), "
                                      "u.name FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    if (yq_db_step(db, st) != 1)
        return refuse(why, 400, "invalid_field", "There is no such user.", "user_id");
    int64_t org = sqlite3_column_int64(st, 0), own_group = sqlite3_column_int64(st, 1);
    int64_t zone = sqlite3_column_int64(st, 2);
    copy_text(user_name, 256, st, 3);
    sqlite3_reset(st);
    if (!*group_id)
        *group_id = own_group;
    if (!*group_id) {
        if (!org)
            return refuse(why, 400, "invalid_field", "The user has no lab group or institution to pay.", "user_id");
        *payer_org = org;
        *payer_zone = zone;
        return 0;
    }
    st = yq_db_stmt(db, "SELECT g.org_id, o.zone_id, coalesce(g.pi_user_id, 0) FROM lab_groups g "
                        "JOIN orgs o ON o.id = g.org_id WHERE g.id = ?1");
    sqlite3_bind_int64(st, 1, *group_id);
    int found = yq_db_step(db, st) == 1;
    if (found) {
        *payer_org = sqlite3_column_int64(st, 0);
        *payer_zone = sqlite3_column_int64(st, 1);
        found = *group_id == own_group || sqlite3_column_int64(st, 2) == user_id;
    }
    sqlite3_reset(st);
    if (!found)
        return refuse(why, 400, "invalid_field", "The user is not a member of that lab group.", "group_id");
    return 0;
}

typedef struct {
    int64_t instrument_id, user_id, group_id, start, end;
    char status[16];
    int recorded; /* a live usage record exists */
} booking_t;

static int load_booking(yq_db_t *db, int64_t id, booking_t *b) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT b.instrument_id, b.user_id, coalesce(b.group_id, 0), b.start, b.end, "
                                      "b.status, EXISTS (SELECT 1 FROM usage_records u WHERE u.booking_id = b.id "
                                      "AND u.kind <> 'reversal' AND " LIVE_SQL ") FROM bookings b WHERE b.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return -1;
    b->instrument_id = sqlite3_column_int64(st, 0);
    b->user_id = sqlite3_column_int64(st, 1);
    b->group_id = sqlite3_column_int64(st, 2);
    b->start = sqlite3_column_int64(st, 3);
    b->end = sqlite3_column_int64(st, 4);
    copy_text(b->status, sizeof b->status, st, 5);
    b->recorded = sqlite3_column_int(st, 6);
    sqlite3_reset(st);
    return 0;
}

int yq_usage_period_closed(yq_db_t *db, const char *period) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT 1 FROM settlements WHERE period = ?1 AND status = 'closed'");
    sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
    int closed = yq_db_step(db, st) == 1;
    sqlite3_reset(st);
    return closed;
}

/* Does a live record on the instrument overlap [start, end)? Live records
 * never overlap one another, so the live record with the greatest (start,
 * end) among those starting before `end` is the only candidate (migration
 * 040 explains why); an empty new interval overlaps a record it lies
 * strictly inside. */
static int overlaps(yq_db_t *db, int64_t instrument_id, int64_t start, int64_t end) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT u.end FROM usage_records u WHERE u.instrument_id = ?1 "
                                      "AND u.start < ?2 AND u.kind <> 'reversal' AND " LIVE_SQL
                                      " ORDER BY u.start DESC, u.end DESC LIMIT 1");
    sqlite3_bind_int64(st, 1, instrument_id);
    sqlite3_bind_int64(st, 2, end > start ? end : start + 1);
    int hit = yq_db_step(db, st) == 1 && sqlite3_column_int64(st, 0) > start;
    sqlite3_reset(st);
    return hit;
}

/* Common checks of a use's interval; returns 0 or -1 with *why. */
static int check_interval(yq_db_t *db, int64_t instrument_id, int64_t start, int64_t end, int64_t now, int64_t earliest,
                          yq_usage_refusal_t *why) {
    yq_usage_time_refusal_t t;
    if (yq_usage_time_check(start, end, now, earliest, &t))
        return refuse(why, t.status, t.code, t.message, t.field);
    if (overlaps(db, instrument_id, start, end))
        return refuse(why, 409, "usage_overlap", "Another usage record of this instrument covers part of that time.",
                      NULL);
    return 0;
}

/* ---- the chain ---- */

int64_t yq_usage_append(yq_db_t *db, yq_usage_record_t *r, char prev[YQ_LEDGER_HASH_HEX],
                        char hash[YQ_LEDGER_HASH_HEX]) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, hash FROM usage_records ORDER BY id DESC LIMIT 1");
    int64_t last = 0;
    snprintf(prev, YQ_LEDGER_HASH_HEX, "%s", YQ_LEDGER_GENESIS);
    if (yq_db_step(db, st) == 1) {
        last = sqlite3_column_int64(st, 0);
        copy_text(prev, YQ_LEDGER_HASH_HEX, st, 1);
    }
    sqlite3_reset(st);
    r->id = last + 1;
    r->prev_hash = prev;
    yq_ledger_hash(r, hash);
    st = yq_db_stmt(db, "INSERT INTO usage_records (id, instrument_id, provider_org_id, user_id, group_id, "
                        "payer_org_id, booking_id, kind, corrects_id, start, end, minutes, samples, service_mode, "
                        "source, recorded_by, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, "
                        "basis, booked_minutes, fee_fen, voucher_fen, cash_fen, voucher_id, reason, created_at, "
                        "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                        "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)");
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->instrument_id);
    sqlite3_bind_int64(st, 3, r->provider_org_id);
    sqlite3_bind_int64(st, 4, r->user_id);
    bind_id(st, 5, r->group_id);
    sqlite3_bind_int64(st, 6, r->payer_org_id);
    bind_id(st, 7, r->booking_id);
    sqlite3_bind_text(st, 8, r->kind, -1, SQLITE_STATIC);
    bind_id(st, 9, r->corrects_id);
    sqlite3_bind_int64(st, 10, r->start);
    sqlite3_bind_int64(st, 11, r->end);
    sqlite3_bind_int64(st, 12, r->minutes);
    sqlite3_bind_int64(st, 13, r->samples);
    sqlite3_bind_text(st, 14, r->service_mode, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, r->source, -1, SQLITE_STATIC);
    bind_id(st, 16, r->recorded_by);
    sqlite3_bind_text(st, 17, r->period, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 18, r->tier, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 19, r->price_unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 20, r->rate_fen);
    sqlite3_bind_int64(st, 21, r->min_charge_fen);
    sqlite3_bind_int64(st, 22, r->step_minutes);
    sqlite3_bind_text(st, 23, r->basis, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 24, r->booked_minutes);
    sqlite3_bind_int64(st, 25, r->fee_fen);
    sqlite3_bind_int64(st, 26, r->voucher_fen);
    sqlite3_bind_int64(st, 27, r->cash_fen);
    bind_id(st, 28, r->voucher_id);
    sqlite3_bind_text(st, 29, r->reason ? r->reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 30, r->created_at);
    sqlite3_bind_text(st, 31, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 32, hash, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : r->id;
}

/* ---- vouchers ---- */

int yq_voucher_event(yq_db_t *db, int64_t voucher_id, const char *kind, int64_t delta_fen, int64_t usage_id,
                     int64_t at) {
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO voucher_events (voucher_id, at, kind, delta_fen, balance_fen, "
                                      "usage_id) SELECT ?1, ?2, ?3, ?4, balance_fen, ?5 FROM vouchers WHERE id = ?1");
    sqlite3_bind_int64(st, 1, voucher_id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, delta_fen);
    bind_id(st, 5, usage_id);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    return yq_db_changes(db) == 1 ? 0 : YQ_DB_ERROR;
}

/* Sets a voucher's balance from `from` to `to`; the WHERE makes a balance
 * that moved meanwhile a failure rather than a lost update. */
static int set_balance(yq_db_t *db, int64_t voucher_id, int64_t from, int64_t to) {
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE vouchers SET balance_fen = ?3 WHERE id = ?1 AND balance_fen = ?2");
    sqlite3_bind_int64(st, 1, voucher_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    return yq_db_changes(db) == 1 ? 0 : YQ_DB_CONSTRAINT;
}

static int load_voucher(yq_db_t *db, sqlite3_stmt *st, int64_t *id, yq_voucher_t *v) {
    if (yq_db_step(db, st) != 1)
        return -1;
    *id = sqlite3_column_int64(st, 0);
    v->amount_fen = sqlite3_column_int64(st, 1);
    v->balance_fen = sqlite3_column_int64(st, 2);
    v->rate_percent = sqlite3_column_int(st, 3);
    sqlite3_reset(st);
    return 0;
}

int yq_usage_voucher_draw(yq_db_t *db, int64_t payer_org_id, int64_t start, int64_t fee_fen, int64_t *voucher_id,
                          yq_fee_split_t *split) {
    *voucher_id = 0;
    split->voucher_fen = 0;
    split->cash_fen = fee_fen;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, amount_fen, balance_fen, rate_percent FROM vouchers "
                                      "WHERE org_id = ?1 AND year = ?2");
    sqlite3_bind_int64(st, 1, payer_org_id);
    sqlite3_bind_int(st, 2, yq_voucher_year(start));
    int64_t id;
    yq_voucher_t v;
    if (load_voucher(db, st, &id, &v))
        return 0;
    int64_t after;
    yq_fee_split_t s;
    if (yq_voucher_draw(&v, fee_fen, &s, &after))
        return YQ_DB_ERROR;
    *voucher_id = id;
    *split = s;
    return s.voucher_fen ? set_balance(db, id, v.balance_fen, after) : 0;
}

/* Gives a reversed record's voucher part back to its voucher. */
static int voucher_refund(yq_db_t *db, int64_t voucher_id, int64_t drawn, int64_t usage_id, int64_t now) {
    if (!voucher_id || drawn <= 0)
        return 0;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, amount_fen, balance_fen, rate_percent FROM vouchers WHERE id = ?1");
    sqlite3_bind_int64(st, 1, voucher_id);
    int64_t id, after;
    yq_voucher_t v;
    if (load_voucher(db, st, &id, &v) || yq_voucher_refund(&v, drawn, &after))
        return YQ_DB_ERROR;
    int rc = set_balance(db, id, v.balance_fen, after);
    return rc ? rc : yq_voucher_event(db, id, "refund", drawn, usage_id, now);
}

/* ---- recording ---- */

int64_t yq_usage_price_append(yq_db_t *db, yq_usage_record_t *r, const yq_price_t *p, yq_tier_t tier,
                              const yq_fee_input_t *fi, char prev[YQ_LEDGER_HASH_HEX], char hash[YQ_LEDGER_HASH_HEX]) {
    yq_fee_t f;
    if (yq_fee_compute(p, tier, fi, &f))
        return YQ_USAGE_UNPRICEABLE;
    static const char *const units[] = {"hour", "sample"};
    static const char *const bases[] = {"used", "booked", "greater"};
    r->tier = yq_tier_name(tier);
    r->price_unit = units[p->unit];
    r->basis = bases[p->basis];
    r->rate_fen = f.rate_fen;
    r->min_charge_fen = p->min_charge_fen;
    r->step_minutes = p->step_minutes;
    r->minutes = f.used_minutes;
    r->booked_minutes = f.booked_minutes;
    r->fee_fen = f.fee_fen;
    yq_fee_split_t s;
    int rc = yq_usage_voucher_draw(db, r->payer_org_id, r->start, r->fee_fen, &r->voucher_id, &s);
    if (rc < 0)
        return rc;
    r->voucher_fen = s.voucher_fen;
    r->cash_fen = s.cash_fen;
    int64_t id = yq_usage_append(db, r, prev, hash);
    if (id > 0 && r->voucher_fen)
        rc = yq_voucher_event(db, r->voucher_id, "draw", -r->voucher_fen, id, r->created_at);
    return id < 0 ? id : rc < 0 ? rc : id;
}

/* yq_usage_price_append, answering a fee that does not fit as a 400. */
static int64_t price_and_append(yq_db_t *db, yq_usage_record_t *r, const yq_price_t *p, yq_tier_t tier,
                                const yq_fee_input_t *fi, yq_usage_refusal_t *why, char prev[YQ_LEDGER_HASH_HEX],
                                char hash[YQ_LEDGER_HASH_HEX]) {
    int64_t id = yq_usage_price_append(db, r, p, tier, fi, prev, hash);
    if (id == YQ_USAGE_UNPRICEABLE)
        return refuse(why, 400, "invalid_field", "That use is too long or too large to price.", "end");
    return id;
}

/* The booking part of a new record: checks and facts. */
static int use_booking(yq_db_t *db, const yq_usage_new_t *in, booking_t *b, yq_usage_refusal_t *why) {
    if (load_booking(db, in->booking_id, b))
        return refuse(why, 400, "invalid_field", "There is no such booking.", "booking_id");
    if (b->instrument_id != in->instrument_id || b->user_id != in->user_id)
        return refuse(why, 400, "invalid_field", "That booking is for another instrument or user.", "booking_id");
    if (strcmp(b->status, "completed") && strcmp(b->status, "in_use") && strcmp(b->status, "confirmed") &&
        strcmp(b->status, "no_show"))
        return refuse(why, 409, "invalid_state", "That booking was cancelled or rejected; it was not used.", NULL);
    if (b->recorded)
        return refuse(why, 409, "already_recorded", "That booking's use is already recorded; correct it instead.",
                      NULL);
    return 0;
}

/* The API's JSON of a record just written (the shape of yq_usage_row_json,
 * without reading it back; only printed, so its integers are raw items). */
static cJSON *written_json(const yq_usage_record_t *r, const char *hash, const char *name_zh, const char *name_en,
                           const char *user_name) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int_printed(o, "id", r->id);
    yq_json_add_int_printed(o, "instrument_id", r->instrument_id);
    cJSON_AddStringToObject(o, "instrument_name_zh", name_zh);
    cJSON_AddStringToObject(o, "instrument_name_en", name_en);
    yq_json_add_int_printed(o, "provider_org_id", r->provider_org_id);
    yq_json_add_int_printed(o, "user_id", r->user_id);
    cJSON_AddStringToObject(o, "user_name", user_name);
    const struct {
        const char *key;
        int64_t v;
    } ids[] = {{"group_id", r->group_id}, {"payer_org_id", r->payer_org_id}, {"booking_id", r->booking_id}};
    for (int i = 0; i < 3; i++) {
        if (ids[i].v)
            yq_json_add_int_printed(o, ids[i].key, ids[i].v);
        else
            cJSON_AddNullToObject(o, ids[i].key);
    }
    cJSON_AddStringToObject(o, "kind", r->kind);
    if (r->corrects_id)
        yq_json_add_int_printed(o, "corrects_id", r->corrects_id);
    else
        cJSON_AddNullToObject(o, "corrects_id");
    yq_json_add_time(o, "start", r->start);
    yq_json_add_time(o, "end", r->end);
    yq_json_add_int_printed(o, "minutes", r->minutes);
    yq_json_add_int_printed(o, "samples", r->samples);
    cJSON_AddStringToObject(o, "service_mode", r->service_mode);
    cJSON_AddStringToObject(o, "source", r->source);
    if (r->recorded_by)
        yq_json_add_int_printed(o, "recorded_by", r->recorded_by);
    else
        cJSON_AddNullToObject(o, "recorded_by");
    cJSON_AddStringToObject(o, "period", r->period);
    cJSON_AddStringToObject(o, "tier", r->tier);
    cJSON_AddStringToObject(o, "price_unit", r->price_unit);
    yq_json_add_int_printed(o, "rate_fen", r->rate_fen);
    yq_json_add_int_printed(o, "min_charge_fen", r->min_charge_fen);
    yq_json_add_int_printed(o, "step_minutes", r->step_minutes);
    cJSON_AddStringToObject(o, "basis", r->basis);
    yq_json_add_int_printed(o, "booked_minutes", r->booked_minutes);
    yq_json_add_int_printed(o, "fee_fen", r->fee_fen);
    yq_json_add_int_printed(o, "voucher_fen", r->voucher_fen);
    yq_json_add_int_printed(o, "cash_fen", r->cash_fen);
    if (r->voucher_id)
        yq_json_add_int_printed(o, "voucher_id", r->voucher_id);
    else
        cJSON_AddNullToObject(o, "voucher_id");
    cJSON_AddStringToObject(o, "reason", r->reason ? r->reason : "");
    yq_json_add_time(o, "created_at", r->created_at);
    cJSON_AddStringToObject(o, "prev_hash", r->prev_hash);
    cJSON_AddStringToObject(o, "hash", hash);
    cJSON_AddBoolToObject(o, "reversed", 0);
    return o;
}

int64_t yq_usage_record(const yq_usage_new_t *in, const yq_principal_t *p, yq_usage_refusal_t *why, cJSON **json) {
    yq_db_t *db = yq_db_main();
    instr_t ins;
    int rc = load_instrument(db, in->instrument_id, &ins);
    if (rc == 1)
        return refuse(why, 404, "not_found", "No such instrument.", NULL);
    if (rc < 0)
        return rc;
    if (p && !yq_instr_editable(p, ins.owner_org_id))
        return yq_instr_visible(p, ins.owner_org_id, ins.share_mode, ins.retired)
                   ? refuse(why, 403, "forbidden", "Only an operator of the instrument's institution may record.", NULL)
                   : refuse(why, 404, "not_found", "No such instrument.", NULL);
    booking_t b = {0};
    if (in->booking_id && use_booking(db, in, &b, why))
        return -1;
    int64_t group_id = in->group_id ? in->group_id : b.group_id, payer_org = 0, payer_zone = 0;
    char user_name[256];
    if (load_payer(db, in->user_id, &group_id, &payer_org, &payer_zone, user_name, why))
        return -1;
    char period[8];
    yq_period_of(in->start, period);
    if (yq_usage_period_closed(db, period))
        return refuse(why, 409, "period_closed", "That month's settlement is closed.", "start");
    if (check_interval(db, in->instrument_id, in->start, in->end, in->now, yq_usage_earliest_start(in->now), why))
        return -1;
    yq_usage_record_t r = {
        .instrument_id = in->instrument_id,
        .provider_org_id = ins.owner_org_id,
        .user_id = in->user_id,
        .group_id = group_id,
        .payer_org_id = payer_org,
        .booking_id = in->booking_id,
        .kind = "original",
        .start = in->start,
        .end = in->end,
        .samples = in->samples,
        .service_mode = in->service_mode ? in->service_mode : service_modes[0],
        .source = in->source,
        .recorded_by = in->recorded_by,
        .period = period,
        .created_at = in->now,
        .reason = "",
    };
    yq_fee_input_t fi = {.used_seconds = in->end - in->start,
                         .has_booking = in->booking_id != 0,
                         .booked_seconds = b.end - b.start,
                         .samples = in->samples};
    yq_tier_t tier = yq_fee_tier(ins.owner_org_id, ins.owner_zone_id, payer_org, payer_zone);
    char prev[YQ_LEDGER_HASH_HEX], hash[YQ_LEDGER_HASH_HEX];
    int64_t id = price_and_append(db, &r, &ins.price, tier, &fi, why, prev, hash);
    if (id > 0 && json)
        *json = written_json(&r, hash, ins.name_zh, ins.name_en, user_name);
    if (id < 0 || strcmp(b.status, "in_use") != 0 || !strcmp(in->source, "checkout"))
        return id;
    /* Recording the use of a booking still checked in completes it. */
    rc = yq_bk_set_status(in->booking_id, in->recorded_by, "in_use", "completed", NULL);
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE bookings SET checkout_at = ?2 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, in->booking_id);
    sqlite3_bind_int64(st, 2, in->end);
    if (rc == 0)
        rc = yq_db_step(db, st);
    return rc < 0 ? rc : id;
}

int64_t yq_usage_record_checkout(int64_t booking_id, int64_t actor, int64_t now, yq_usage_refusal_t *why) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT instrument_id, user_id, coalesce(checkin_at, start), end FROM bookings "
                                      "WHERE id = ?1");
    sqlite3_bind_int64(st, 1, booking_id);
    if (yq_db_step(db, st) != 1)
        return YQ_DB_ERROR;
    yq_usage_new_t in = {
        .instrument_id = sqlite3_column_int64(st, 0),
        .user_id = sqlite3_column_int64(st, 1),
        .booking_id = booking_id,
        .start = sqlite3_column_int64(st, 2),
        .end = now,
        .source = "checkout",
        .recorded_by = actor,
        .now = now,
    };
    int64_t booked_end = sqlite3_column_int64(st, 3);
    sqlite3_reset(st);
    if (in.start > now) /* checked in early and out again before the start */
        in.start = now;
    /* A check-out forgotten for weeks is not when the use ended: past the
     * longest use a record may have, the booking's end stands in (the
     * operator corrects the record if the use ran longer). */
    if (in.end - in.start > YQ_USAGE_MAX_SECONDS)
        in.end = booked_end > in.start ? booked_end : in.start;
    return yq_usage_record(&in, NULL, why, NULL);
}

/* ---- corrections ---- */

/* A stored record with its texts. */
typedef struct {
    yq_usage_record_t r;
    char kind[16], service_mode[16], source[16], period[8], tier[16], unit[8], basis[8];
    int reversed;
} stored_t;

static int load_record(yq_db_t *db, int64_t id, stored_t *s) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT u.instrument_id, u.provider_org_id, u.user_id, coalesce(u.group_id, 0), u.payer_org_id, "
            "coalesce(u.booking_id, 0), u.kind, coalesce(u.corrects_id, 0), u.start, u.end, u.minutes, u.samples, "
            "u.service_mode, u.source, u.period, u.tier, u.price_unit, u.rate_fen, u.min_charge_fen, u.step_minutes, "
            "u.basis, u.booked_minutes, u.fee_fen, u.voucher_fen, u.cash_fen, coalesce(u.voucher_id, 0), " REVERSED_SQL
            " FROM usage_records u WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return -1;
    memset(s, 0, sizeof *s);
    yq_usage_record_t *r = &s->r;
    r->id = id;
    r->instrument_id = sqlite3_column_int64(st, 0);
    r->provider_org_id = sqlite3_column_int64(st, 1);
    r->user_id = sqlite3_column_int64(st, 2);
    r->group_id = sqlite3_column_int64(st, 3);
    r->payer_org_id = sqlite3_column_int64(st, 4);
    r->booking_id = sqlite3_column_int64(st, 5);
    copy_text(s->kind, sizeof s->kind, st, 6);
    r->corrects_id = sqlite3_column_int64(st, 7);
    r->start = sqlite3_column_int64(st, 8);
    r->end = sqlite3_column_int64(st, 9);
    r->minutes = sqlite3_column_int64(st, 10);
    r->samples = sqlite3_column_int64(st, 11);
    copy_text(s->service_mode, sizeof s->service_mode, st, 12);
    copy_text(s->source, sizeof s->source, st, 13);
    copy_text(s->period, sizeof s->period, st, 14);
    copy_text(s->tier, sizeof s->tier, st, 15);
    copy_text(s->unit, sizeof s->unit, st, 16);
    r->rate_fen = sqlite3_column_int64(st, 17);
    r->min_charge_fen = sqlite3_column_int64(st, 18);
    r->step_minutes = sqlite3_column_int64(st, 19);
    copy_text(s->basis, sizeof s->basis, st, 20);
    r->booked_minutes = sqlite3_column_int64(st, 21);
    r->fee_fen = sqlite3_column_int64(st, 22);
    r->voucher_fen = sqlite3_column_int64(st, 23);
    r->cash_fen = sqlite3_column_int64(st, 24);
    r->voucher_id = sqlite3_column_int64(st, 25);
    s->reversed = sqlite3_column_int(st, 26);
    sqlite3_reset(st);
    r->kind = s->kind;
    r->service_mode = s->service_mode;
    r->source = s->source;
    r->period = s->period;
    r->tier = s->tier;
    r->price_unit = s->unit;
    r->basis = s->basis;
    return 0;
}

/* The period a correction's record lands in: the month of `start`, or the
 * current month when that one is closed. Returns 0 or -1 with *why. */
static int correction_period(yq_db_t *db, int64_t start, int64_t now, char period[8], yq_usage_refusal_t *why) {
    yq_period_of(start, period);
    if (!yq_usage_period_closed(db, period))
        return 0;
    yq_period_of(now, period);
    if (!yq_usage_period_closed(db, period))
        return 0;
    return refuse(why, 409, "period_closed", "The current month's settlement is closed too.", NULL);
}

static int64_t write_reversal(yq_db_t *db, const stored_t *o, const yq_usage_fix_t *in, yq_usage_refusal_t *why) {
    char period[8], prev[YQ_LEDGER_HASH_HEX], hash[YQ_LEDGER_HASH_HEX];
    if (correction_period(db, o->r.start, in->now, period, why))
        return -1;
    yq_usage_amounts_t a = {o->r.minutes, o->r.samples,     o->r.booked_minutes,
                            o->r.fee_fen, o->r.voucher_fen, o->r.cash_fen},
                       neg;
    if (yq_usage_amounts_negate(&a, &neg))
        return refuse(why, 409, "not_correctable", "That record's amounts cannot be reversed.", NULL);
    yq_usage_record_t r = o->r;
    r.kind = "reversal";
    r.corrects_id = o->r.id;
    r.minutes = neg.minutes;
    r.samples = neg.samples;
    r.booked_minutes = neg.booked_minutes;
    r.fee_fen = neg.fee_fen;
    r.voucher_fen = neg.voucher_fen;
    r.cash_fen = neg.cash_fen;
    r.source = "correction";
    r.recorded_by = in->actor;
    r.period = period;
    r.reason = in->reason;
    r.created_at = in->now;
    int64_t id = yq_usage_append(db, &r, prev, hash);
    if (id < 0)
        return id;
    int rc = voucher_refund(db, o->r.voucher_id, o->r.voucher_fen, id, in->now);
    return rc < 0 ? rc : id;
}

static int64_t write_correction(yq_db_t *db, const stored_t *o, const yq_usage_fix_t *in, yq_usage_refusal_t *why) {
    char period[8];
    /* A correction may keep an old record's start. */
    int64_t earliest = yq_usage_earliest_start(in->now);
    if (o->r.start < earliest)
        earliest = o->r.start;
    if (check_interval(db, o->r.instrument_id, in->start, in->end, in->now, earliest, why) ||
        correction_period(db, in->start, in->now, period, why))
        return -1;
    /* The rates copied into the original still rule: one rate for its tier. */
    yq_price_t p = {.internal_fen = o->r.rate_fen,
                    .zone_fen = o->r.rate_fen,
                    .cross_zone_fen = o->r.rate_fen,
                    .min_charge_fen = o->r.min_charge_fen,
                    .step_minutes = o->r.step_minutes};
    yq_tier_t tier;
    yq_instrument_t names;
    memset(&names, 0, sizeof names);
    names.price_unit = o->r.price_unit;
    names.basis = o->r.basis;
    yq_price_t parsed;
    if (yq_tier_parse(o->r.tier, &tier) || yq_price_from_instrument(&names, &parsed))
        return refuse(why, 409, "not_correctable", "That record's price rule cannot be read.", NULL);
    p.unit = parsed.unit;
    p.basis = parsed.basis;
    yq_usage_record_t r = o->r;
    r.kind = "correction";
    r.corrects_id = o->r.id;
    r.start = in->start;
    r.end = in->end;
    r.samples = in->samples < 0 ? o->r.samples : in->samples;
    r.source = "correction";
    r.recorded_by = in->actor;
    r.period = period;
    r.reason = in->reason;
    r.created_at = in->now;
    yq_fee_input_t fi = {.used_seconds = in->end - in->start,
                         .has_booking = o->r.booking_id != 0,
                         .booked_seconds = o->r.booked_minutes * 60,
                         .samples = r.samples};
    char prev[YQ_LEDGER_HASH_HEX], hash[YQ_LEDGER_HASH_HEX];
    return price_and_append(db, &r, &p, tier, &fi, why, prev, hash);
}

int yq_usage_correct(const yq_usage_fix_t *in, const yq_principal_t *p, int64_t *reversal_id, int64_t *correction_id,
                     yq_usage_refusal_t *why) {
    yq_db_t *db = yq_db_main();
    stored_t o;
    *reversal_id = *correction_id = 0;
    if (load_record(db, in->id, &o) || !yq_usage_readable(in->id, p))
        return refuse(why, 404, "not_found", "No such usage record.", NULL);
    if (!yq_instr_editable(p, o.r.provider_org_id))
        return refuse(why, 403, "forbidden", "Only an operator of the instrument's institution may correct it.", NULL);
    if (strcmp(o.kind, "reversal") == 0)
        return refuse(why, 409, "not_correctable", "A reversal cannot be corrected; correct the record it reverses.",
                      NULL);
    if (o.reversed)
        return refuse(why, 409, "already_corrected", "That record was already corrected or voided.", NULL);
    int64_t rev = write_reversal(db, &o, in, why);
    if (rev < 0)
        return (int)rev;
    *reversal_id = rev;
    if (in->is_void)
        return 0;
    int64_t cor = write_correction(db, &o, in, why);
    if (cor < 0)
        return (int)cor;
    *correction_id = cor;
    return 0;
}

/* ---- reading ---- */

cJSON *yq_usage_row_json(sqlite3_stmt *st) {
    static const char *const keys[] = {
        "id",
        "instrument_id",
        "instrument_name_zh",
        "instrument_name_en",
        "provider_org_id",
        "user_id",
        "user_name",
        "group_id",
        "payer_org_id",
        "booking_id",
        "kind",
        "corrects_id",
        NULL /* start */,
        NULL /* end */,
        "minutes",
        "samples",
        "service_mode",
        "source",
        "recorded_by",
        "period",
        "tier",
        "price_unit",
        "rate_fen",
        "min_charge_fen",
        "step_minutes",
        "basis",
        "booked_minutes",
        "fee_fen",
        "voucher_fen",
        "cash_fen",
        "voucher_id",
        "reason",
        NULL /* created_at */,
        "prev_hash",
        "hash",
    };
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++) {
        if (keys[i])
            yq_json_add_col(o, keys[i], st, i);
        else
            yq_json_add_time(o, i == 12 ? "start" : i == 13 ? "end" : "created_at", sqlite3_column_int64(st, i));
    }
    cJSON_AddBoolToObject(o, "reversed", sqlite3_column_int(st, 35));
    return o;
}

cJSON *yq_usage_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, YQ_USAGE_SELECT "WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = yq_db_step(db, st) == 1 ? yq_usage_row_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

int yq_usage_readable(int64_t id, const yq_principal_t *p) {
    if (!p)
        return 0;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT u.user_id, u.provider_org_id, coalesce(g.pi_user_id, 0) "
                                      "FROM usage_records u LEFT JOIN lab_groups g ON g.id = u.group_id "
                                      "WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int ok = 0;
    if (yq_db_step(db, st) == 1) {
        ok = yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION) || sqlite3_column_int64(st, 0) == p->user_id ||
             (yq_has_role(p, YQ_ROLE_OPERATOR) && p->org_id && sqlite3_column_int64(st, 1) == p->org_id) ||
             sqlite3_column_int64(st, 2) == p->user_id;
    }
    sqlite3_reset(st);
    return ok;
}

int yq_usage_checkpoint(yq_db_t *db, yq_usage_checkpoint_t *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->head_hash, sizeof out->head_hash, "%s", YQ_LEDGER_GENESIS);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(*) FROM usage_records");
    if (yq_db_step(db, st) != 1)
        return YQ_DB_ERROR;
    out->count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = yq_db_stmt(db, "SELECT id, hash FROM usage_records ORDER BY id DESC LIMIT 1");
    if (yq_db_step(db, st) == 1) {
        out->head_id = sqlite3_column_int64(st, 0);
        copy_text(out->head_hash, sizeof out->head_hash, st, 1);
    }
    sqlite3_reset(st);
    return 0;
}

/* ---- verification (own connections; thread-safe) ---- */

typedef struct {
    const char *path;
    int64_t lo, hi; /* ids, inclusive */
    yq_ledger_walk_t walk;
    yq_usage_problem_t problems[YQ_USAGE_VERIFY_MAX_PROBLEMS];
    int nproblems;
    int failed;
} chunk_t;

static sqlite3 *open_ro(const char *path) {
    sqlite3 *h = yq_db_open_reader(path);
    if (!h)
        yq_log_error("usage verify: cannot open %s", path);
    return h;
}

static void problem(chunk_t *c, int64_t id, yq_ledger_problem_t p) {
    if (c->nproblems < YQ_USAGE_VERIFY_MAX_PROBLEMS)
        c->problems[c->nproblems++] = (yq_usage_problem_t){id, p};
}

/* The integer columns of the walk's SELECT, and which of them may be NULL.
 * A stored value of another type (a fraction, text) or a 0 where the
 * ledger writes NULL cannot be what was hashed: such a record counts as bad
 * without hashing. */
static const int int_cols[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 15, 19, 20, 21, 23, 24, 25, 26, 27, 28};
#define N_INT_COLS (sizeof int_cols / sizeof int_cols[0])
static const unsigned nullable_cols = 1u << 4 | 1u << 6 | 1u << 8 | 1u << 15 | 1u << 27;

/* Reads the integer columns into v[] (by column index); returns 0 when one
 * does not hold what the ledger writes there. The values are read through
 * sqlite3_column_value once each: this connection is used by this thread
 * alone (SQLITE_OPEN_NOMUTEX), the case the value API allows. */
static int read_ints(sqlite3_stmt *st, int64_t *v) {
    for (size_t k = 0; k < N_INT_COLS; k++) {
        int i = int_cols[k];
        sqlite3_value *x = sqlite3_column_value(st, i);
        int t = sqlite3_value_type(x);
        if (t == SQLITE_NULL) {
            if (!(nullable_cols >> i & 1))
                return 0;
            v[i] = 0;
        } else if (t != SQLITE_INTEGER || ((v[i] = sqlite3_value_int64(x)) == 0 && (nullable_cols >> i & 1))) {
            return 0;
        }
    }
    return 1;
}

#define T(i) ((const char *)sqlite3_column_text(st, (i)))

static void walk_rows(chunk_t *c, sqlite3_stmt *st) {
    int64_t v[32];
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *stored = T(31);
        if (!read_ints(st, v)) {
            yq_ledger_walk_mark_bad(&c->walk, sqlite3_column_int64(st, 0), stored);
            problem(c, sqlite3_column_int64(st, 0), YQ_LEDGER_BAD_HASH);
            continue;
        }
        yq_usage_record_t r = {
            .id = v[0],
            .instrument_id = v[1],
            .provider_org_id = v[2],
            .user_id = v[3],
            .group_id = v[4],
            .payer_org_id = v[5],
            .booking_id = v[6],
            .kind = T(7),
            .corrects_id = v[8],
            .start = v[9],
            .end = v[10],
            .minutes = v[11],
            .samples = v[12],
            .service_mode = T(13),
            .source = T(14),
            .recorded_by = v[15],
            .period = T(16),
            .tier = T(17),
            .price_unit = T(18),
            .rate_fen = v[19],
            .min_charge_fen = v[20],
            .step_minutes = v[21],
            .basis = T(22),
            .booked_minutes = v[23],
            .fee_fen = v[24],
            .voucher_fen = v[25],
            .cash_fen = v[26],
            .voucher_id = v[27],
            .created_at = v[28],
            .prev_hash = T(29),
            .reason = T(30),
        };
        yq_ledger_problem_t p = yq_ledger_walk_step(&c->walk, &r, stored);
        if (p != YQ_LEDGER_OK)
            problem(c, r.id, p);
    }
}

#undef T

static void walk_chunk(void *arg) {
    chunk_t *c = arg;
    sqlite3 *h = open_ro(c->path);
    sqlite3_stmt *prev = NULL, *rows = NULL;
    c->failed = 1;
    if (!h || sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT hash FROM usage_records WHERE id < ?1 ORDER BY id DESC LIMIT 1", -1, &prev,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h,
                           "SELECT id, instrument_id, provider_org_id, user_id, group_id, payer_org_id, booking_id, "
                           "kind, corrects_id, start, end, minutes, samples, service_mode, source, recorded_by, "
                           "period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, "
                           "booked_minutes, fee_fen, voucher_fen, cash_fen, voucher_id, created_at, prev_hash, "
                           "reason, hash FROM usage_records WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
                           -1, &rows, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(prev, 1, c->lo);
    if (sqlite3_step(prev) == SQLITE_ROW)
        yq_ledger_walk_init(&c->walk, (const char *)sqlite3_column_text(prev, 0));
    else
        yq_ledger_walk_init(&c->walk, NULL);
    sqlite3_bind_int64(rows, 1, c->lo);
    sqlite3_bind_int64(rows, 2, c->hi);
    walk_rows(c, rows);
    c->failed =
        sqlite3_errcode(h) != SQLITE_OK && sqlite3_errcode(h) != SQLITE_DONE && sqlite3_errcode(h) != SQLITE_ROW;
    if (c->failed)
        yq_log_error("usage verify: reading %s failed: %s", c->path, sqlite3_errmsg(h));
done:
    sqlite3_finalize(prev);
    sqlite3_finalize(rows);
    if (h)
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(h);
}

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The id range, the checkpoint, and the record at position `against`. */
static int survey(const char *path, int64_t against, const char *against_hash, int64_t *lo, int64_t *hi,
                  yq_usage_verify_t *out) {
    sqlite3 *h = open_ro(path);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (!h || sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h,
                           /* min() and max() together would scan the table; alone, each reads one end. */
                           "SELECT coalesce((SELECT min(id) FROM usage_records), 1), "
                           "coalesce((SELECT max(id) FROM usage_records), 0)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto done;
    *lo = sqlite3_column_int64(st, 0);
    *hi = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    if (against > 0) {
        if (sqlite3_prepare_v2(h, "SELECT hash FROM usage_records ORDER BY id LIMIT 1 OFFSET ?1", -1, &st, NULL))
            goto done;
        sqlite3_bind_int64(st, 1, against - 1);
        out->against_checked = 1;
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(out->against_found, sizeof out->against_found, "%s", (const char *)sqlite3_column_text(st, 0));
        out->against_ok = against_hash && strcmp(out->against_found, against_hash) == 0;
    }
    rc = 0;
done:
    if (rc)
        yq_log_error("usage verify: cannot read %s: %s", path, h ? sqlite3_errmsg(h) : "open failed");
    sqlite3_finalize(st);
    if (h)
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

#define MAX_THREADS 8
#define MIN_CHUNK 50000

int yq_usage_verify(const char *path, int threads, int64_t against_count, const char *against_hash,
                    yq_usage_verify_t *out) {
    double t0 = mono_seconds();
    memset(out, 0, sizeof *out);
    int64_t lo, hi;
    if (survey(path, against_count, against_hash, &lo, &hi, out))
        return -1;
    /* 128 bits: hand-inserted ids may lie anywhere in int64. */
    __int128 span = hi >= lo ? (__int128)hi - lo + 1 : 0;
    int n = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    if (span / MIN_CHUNK + 1 < n)
        n = (int)(span / MIN_CHUNK + 1);
    chunk_t *c = yq_xcalloc((size_t)n, sizeof *c);
    uv_thread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int i = 0; i < n; i++) {
        c[i].path = path;
        c[i].lo = (int64_t)(lo + span * i / n);
        c[i].hi = (int64_t)(lo + span * (i + 1) / n - 1);
        if (i == 0)
            c[i].lo = INT64_MIN; /* also rows below the range seen (none, unless added meanwhile) */
        if (i == n - 1)
            c[i].hi = hi;
        if (i > 0)
            started[i] = uv_thread_create(&tid[i], walk_chunk, &c[i]) == 0;
        if (i > 0 && !started[i])
            walk_chunk(&c[i]);
    }
    walk_chunk(&c[0]);
    int failed = c[0].failed;
    yq_ledger_walk_init(&out->walk, NULL);
    for (int i = 0; i < n; i++) {
        if (i > 0 && started[i])
            uv_thread_join(&tid[i]);
        failed |= c[i].failed;
        for (int k = 0; k < c[i].nproblems && out->nproblems < YQ_USAGE_VERIFY_MAX_PROBLEMS; k++)
            out->problems[out->nproblems++] = c[i].problems[k];
        yq_ledger_walk_merge(&out->walk, &c[i].walk);
    }
    free(c);
    out->checkpoint.count = out->walk.records;
    out->checkpoint.head_id = out->walk.last_id;
    memcpy(out->checkpoint.head_hash, out->walk.prev, sizeof out->checkpoint.head_hash);
    out->seconds = mono_seconds() - t0;
    return failed ? -1 : 0;
}
