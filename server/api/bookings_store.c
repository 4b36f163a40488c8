/*
 * Storage shared by the booking API files (see bookings_store.h). Every
 * statement is a literal prepared once (db/db.h).
 */
#include "api/bookings_store.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#include "api/api.h"
#include "api/instrument_store.h"
#include "core/timeutil.h"
#include "db/db.h"

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", s ? s : "");
}

/* ---- instruments, kept in memory ----
 *
 * Every booking request loads its instrument (about 17 us from the wide
 * instruments row, a quarter of a booking's CPU time before this cache). The
 * cache keeps loaded instruments in its own arena, keyed by id, and is dropped
 * whenever the catalogue version (migration 021, renewed by every change to
 * an instrument or an institution's zone, by any connection) differs from the
 * one it was filled under. A hit copies the record and its strings into the
 * caller's arena, so callers keep the record as long as before. */

#define INS_SLOTS 8192 /* power of two; at most half filled */

typedef struct {
    int64_t id; /* 0: empty */
    yq_bk_instrument_t ins;
} ins_slot_t;

static struct {
    int valid; /* filled under catalogue version `version` */
    int64_t version;
    yq_arena_t *arena;
    ins_slot_t *slots;
    size_t n;
} IC;

/* Every string member of yq_instrument_t. The assertion below fails when the
 * record changes: add any new string member here (a member left out would
 * point into the cache's arena, which is freed when the version changes). */
/* clang-format off */
#define INSTR_STRINGS(X)                                                                              \
    X(asset_no) X(name_zh) X(name_en) X(model) X(manufacturer) X(country) X(department)               \
    X(class_code) X(category_type) X(share_mode) X(run_status) X(purchase_date) X(address) X(room)    \
    X(tech_specs) X(functions) X(service_content) X(sample_requirements) X(open_rules)                \
    X(contact_name) X(contact_phone) X(contact_email) X(price_unit) X(basis)
/* clang-format on */
/* 24 strings, 14 integers, the spans, their count, 3 ints (and padding). */
_Static_assert(sizeof(yq_instrument_t) == 24 * sizeof(const char *) + 14 * sizeof(int64_t) +
                                              sizeof(yq_open_span_t) * YQ_OPEN_SPANS_MAX + sizeof(size_t) +
                                              4 * sizeof(int),
               "yq_instrument_t changed: update INSTR_STRINGS");

static void copy_strings(yq_instrument_t *dst, const yq_instrument_t *src, yq_arena_t *a) {
#define COPY_STR(f) dst->f = src->f ? yq_arena_strdup(a, src->f) : NULL;
    INSTR_STRINGS(COPY_STR)
#undef COPY_STR
}

static void ic_clear(void) {
    if (IC.arena)
        yq_arena_destroy(IC.arena);
    IC.arena = NULL;
    if (IC.slots)
        memset(IC.slots, 0, INS_SLOTS * sizeof *IC.slots);
    IC.n = 0;
    IC.valid = 0;
}

static ins_slot_t *ic_slot(int64_t id) {
    size_t i = ((uint64_t)id * 0x9E3779B97F4A7C15u) >> 51; /* 13 bits: INS_SLOTS */
    while (IC.slots[i].id && IC.slots[i].id != id)
        i = (i + 1) & (INS_SLOTS - 1);
    return &IC.slots[i];
}

static int load_db(yq_db_t *db, int64_t id, yq_arena_t *a, yq_bk_instrument_t *out) {
    yq_instr_meta_t meta;
    memset(out, 0, sizeof *out);
    if (yq_instr_load(db, id, a, &out->in, &meta))
        return -1;
    out->in.id = id;
    out->owner_zone_id = meta.zone_id;
    out->retired = meta.retired_at != 0;
    return 0;
}

int yq_bk_instrument_load(int64_t id, yq_arena_t *a, yq_bk_instrument_t *out) {
    yq_db_t *db = yq_db_main();
    int64_t v;
    if (yq_catalogue_version(db, &v)) { /* cannot tell whether a copy is current */
        ic_clear();
        return load_db(db, id, a, out);
    }
    if (!IC.valid || IC.version != v) {
        ic_clear();
        if (!IC.slots)
            IC.slots = yq_xcalloc(INS_SLOTS, sizeof *IC.slots);
        IC.arena = yq_arena_create();
        IC.valid = 1;
        IC.version = v;
    }
    ins_slot_t *slot = ic_slot(id);
    if (!slot->id) {
        if (IC.n >= INS_SLOTS / 2) { /* full: start over */
            ic_clear();
            IC.arena = yq_arena_create();
            IC.valid = 1;
            IC.version = v;
            slot = ic_slot(id);
        }
        if (load_db(db, id, IC.arena, &slot->ins))
            return -1; /* absent ones are not kept */
        slot->id = id;
        IC.n++;
    }
    *out = slot->ins;
    copy_strings(&out->in, &slot->ins.in, a);
    return 0;
}

int yq_bk_instrument_visible(const yq_bk_instrument_t *ins, const yq_principal_t *p) {
    return yq_instr_visible(p, ins->in.owner_org_id, ins->in.share_mode, ins->retired);
}

int yq_bk_is_staff(const yq_bk_instrument_t *ins, const yq_principal_t *p) {
    return p && yq_instr_editable(p, ins->in.owner_org_id);
}

static void add_events(cJSON *obj, int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT e.at, e.actor_user_id, u.name, e.from_status, e.to_status, e.reason "
                                      "FROM booking_events e LEFT JOIN users u ON u.id = e.actor_user_id "
                                      "WHERE e.booking_id = ?1 ORDER BY e.id");
    sqlite3_bind_int64(st, 1, id);
    cJSON *arr = cJSON_AddArrayToObject(obj, "events");
    while (yq_db_step(db, st) == 1) {
        cJSON *e = cJSON_CreateObject();
        yq_json_add_time(e, "at", sqlite3_column_int64(st, 0));
        yq_json_add_col(e, "actor_user_id", st, 1);
        yq_json_add_col(e, "actor_name", st, 2);
        yq_json_add_col(e, "from_status", st, 3);
        yq_json_add_col(e, "to_status", st, 4);
        yq_json_add_col(e, "reason", st, 5);
        cJSON_AddItemToArray(arr, e);
    }
    sqlite3_reset(st);
}

static void add_id_or_null(cJSON *obj, const char *key, int64_t id) {
    if (id)
        yq_json_add_int_printed(obj, key, id);
    else
        cJSON_AddNullToObject(obj, key);
}

cJSON *yq_bk_row_json(const yq_bk_row_t *r) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int_printed(o, "id", r->id);
    yq_json_add_int_printed(o, "instrument_id", r->instrument_id);
    yq_json_add_str_or_null(o, "instrument_name_zh", r->instrument_name_zh);
    yq_json_add_str_or_null(o, "instrument_name_en", r->instrument_name_en);
    yq_json_add_int_printed(o, "owner_org_id", r->owner_org_id);
    yq_json_add_int_printed(o, "user_id", r->user_id);
    yq_json_add_str_or_null(o, "user_name", r->user_name);
    add_id_or_null(o, "group_id", r->group_id);
    yq_json_add_int_printed(o, "payer_org_id", r->payer_org_id);
    yq_json_add_time(o, "start", r->start);
    yq_json_add_time(o, "end", r->end);
    yq_json_add_str_or_null(o, "purpose", r->purpose);
    yq_json_add_str_or_null(o, "status", r->status);
    int pending = r->status && strcmp(r->status, "pending") == 0;
    const char *awaiting = !pending ? NULL : r->needs_pi ? "pi" : r->needs_operator ? "operator" : NULL;
    yq_json_add_str_or_null(o, "awaiting", awaiting);
    yq_json_add_int_printed(o, "fee_estimate_fen", r->fee_estimate_fen);
    add_id_or_null(o, "series_id", r->series_id);
    yq_json_add_time_or_null(o, "checkin_at", r->checkin_at);
    yq_json_add_time_or_null(o, "checkout_at", r->checkout_at);
    yq_json_add_str_or_null(o, "reason", r->reason);
    yq_json_add_time(o, "created_at", r->created_at);
    yq_json_add_time(o, "updated_at", r->updated_at);
    return o;
}

cJSON *yq_bk_booking_json(int64_t id, int with_events) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT b.id, b.instrument_id, i.name_zh, i.name_en, b.user_id, u.name, coalesce(b.group_id, 0), "
            "b.payer_org_id, b.start, b.end, b.purpose, b.status, b.needs_pi, b.needs_operator, b.fee_estimate_fen, "
            "coalesce(b.series_id, 0), coalesce(b.checkin_at, 0), coalesce(b.checkout_at, 0), b.reason, "
            "b.created_at, b.updated_at, i.owner_org_id "
            "FROM bookings b JOIN instruments i ON i.id = b.instrument_id JOIN users u ON u.id = b.user_id "
            "WHERE b.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    yq_bk_row_t r = {
        .id = sqlite3_column_int64(st, 0),
        .instrument_id = sqlite3_column_int64(st, 1),
        .instrument_name_zh = yq_col_text(st, 2),
        .instrument_name_en = yq_col_text(st, 3),
        .owner_org_id = sqlite3_column_int64(st, 21),
        .user_id = sqlite3_column_int64(st, 4),
        .user_name = yq_col_text(st, 5),
        .group_id = sqlite3_column_int64(st, 6),
        .payer_org_id = sqlite3_column_int64(st, 7),
        .start = sqlite3_column_int64(st, 8),
        .end = sqlite3_column_int64(st, 9),
        .purpose = yq_col_text(st, 10),
        .status = yq_col_text(st, 11),
        .needs_pi = sqlite3_column_int(st, 12),
        .needs_operator = sqlite3_column_int(st, 13),
        .fee_estimate_fen = sqlite3_column_int64(st, 14),
        .series_id = sqlite3_column_int64(st, 15),
        .checkin_at = sqlite3_column_int64(st, 16),
        .checkout_at = sqlite3_column_int64(st, 17),
        .reason = yq_col_text(st, 18),
        .created_at = sqlite3_column_int64(st, 19),
        .updated_at = sqlite3_column_int64(st, 20),
    };
    cJSON *o = yq_bk_row_json(&r); /* copies the strings before the reset */
    sqlite3_reset(st);
    if (with_events)
        add_events(o, id);
    return o;
}

int yq_bk_booking_load(int64_t id, yq_bk_booking_t *out) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT b.instrument_id, b.user_id, coalesce(b.group_id, 0), i.owner_org_id, "
                                      "coalesce(g.pi_user_id, 0), b.start, b.end, b.needs_pi, b.needs_operator, "
                                      "b.status FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
                                      "LEFT JOIN lab_groups g ON g.id = b.group_id WHERE b.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return -1;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->instrument_id = sqlite3_column_int64(st, 0);
    out->user_id = sqlite3_column_int64(st, 1);
    out->group_id = sqlite3_column_int64(st, 2);
    out->owner_org_id = sqlite3_column_int64(st, 3);
    out->pi_user_id = sqlite3_column_int64(st, 4);
    out->start = sqlite3_column_int64(st, 5);
    out->end = sqlite3_column_int64(st, 6);
    out->needs_pi = sqlite3_column_int(st, 7);
    out->needs_operator = sqlite3_column_int(st, 8);
    copy_col(out->status, sizeof out->status, st, 9);
    sqlite3_reset(st);
    return 0;
}

int yq_bk_booking_readable(const yq_bk_booking_t *b, const yq_principal_t *p) {
    if (!p)
        return 0;
    if (b->user_id == p->user_id || yq_has_role(p, YQ_ROLE_ADMIN))
        return 1;
    if (yq_has_role(p, YQ_ROLE_OPERATOR) && p->org_id && p->org_id == b->owner_org_id)
        return 1;
    return yq_has_role(p, YQ_ROLE_PI) && b->pi_user_id == p->user_id;
}

int yq_bk_event(int64_t booking_id, int64_t actor_user_id, const char *from, const char *to, const char *reason) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO booking_events (booking_id, at, actor_user_id, from_status, "
                                      "to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_int64(st, 1, booking_id);
    sqlite3_bind_int64(st, 2, yq_now());
    if (actor_user_id)
        sqlite3_bind_int64(st, 3, actor_user_id);
    if (from)
        sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, reason ? reason : "", -1, SQLITE_TRANSIENT);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

int yq_bk_notify(int64_t user_id, const char *kind, const char *message_zh, const char *message_en,
                 int64_t booking_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO notifications (user_id, at, kind, message_zh, message_en, "
                                      "booking_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, yq_now());
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, message_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, message_en, -1, SQLITE_TRANSIENT);
    if (booking_id)
        sqlite3_bind_int64(st, 6, booking_id);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

int yq_bk_set_status(int64_t booking_id, int64_t actor_user_id, const char *from, const char *to, const char *reason) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE bookings SET status = ?2, reason = coalesce(?3, reason), "
                                      "updated_at = ?4 WHERE id = ?1 AND status = ?5");
    sqlite3_bind_int64(st, 1, booking_id);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    if (reason)
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, yq_now());
    sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    if (yq_db_changes(db) != 1)
        return YQ_DB_CONSTRAINT; /* the status moved under us */
    return yq_bk_event(booking_id, actor_user_id, from, to, reason);
}

void yq_bk_local_text(int64_t t, char *out) {
    int y, m, d;
    yq_local_date(t, &y, &m, &d);
    int min = yq_local_minute_of_day(t);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d", y, m, d, min / 60, min % 60);
    size_t n = strnlen(tmp, 19);
    memcpy(out, tmp, n);
    out[n] = '\0';
}
