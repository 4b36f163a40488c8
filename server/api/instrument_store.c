/*
 * Catalogue storage: one column list (COLS) read by every query that shows
 * instruments, so the JSON of GET /{id}, the search results, the exports and
 * the audit snapshots are the same object. Writes bind the record by the same
 * parameter numbers in INSERT and UPDATE (bind_record). The FTS index is kept
 * in sync by the triggers of migration 020; the search lives in
 * instrument_search.c.
 */
#include "api/instrument_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/classes.h"
#include "json/json.h"

#define COLS YQ_INSTR_COLS
#define FROM YQ_INSTR_FROM

/* Column positions in COLS. */
enum {
    C_ID,
    C_ORG,
    C_ORG_CODE,
    C_ORG_ZH,
    C_ORG_EN,
    C_ZONE,
    C_ZONE_ZH,
    C_ZONE_EN,
    C_ASSET,
    C_NAME_ZH,
    C_NAME_EN,
    C_MODEL,
    C_MANUF,
    C_COUNTRY,
    C_DEPT,
    C_CLASS,
    C_CATEGORY,
    C_SHARE,
    C_STATUS,
    C_VALUE,
    C_PDATE,
    C_ADDRESS,
    C_ROOM,
    C_SPECS,
    C_FUNCS,
    C_SERVICE,
    C_SAMPLE,
    C_RULES_TEXT,
    C_CNAME,
    C_CPHONE,
    C_CEMAIL,
    C_OPEN,
    C_SLOT,
    C_MIN,
    C_MAX,
    C_NOTICE,
    C_HORIZON,
    C_CANCEL,
    C_APPROVAL,
    C_TRAINING,
    C_MODES,
    C_UNIT,
    C_INTERNAL,
    C_ZONE_FEN,
    C_CROSS,
    C_MINCHARGE,
    C_STEP,
    C_BASIS,
    C_RETIRED,
    C_CREATED,
    C_UPDATED,
    C_ZONE_ID,
};

/* The text fields in the order of yq_instrument_text_fields, by column. */
static const struct {
    const char *name;
    int col;
} text_cols[] = {
    {"asset_no", C_ASSET},
    {"name_zh", C_NAME_ZH},
    {"name_en", C_NAME_EN},
    {"model", C_MODEL},
    {"manufacturer", C_MANUF},
    {"country", C_COUNTRY},
    {"department", C_DEPT},
    {"class_code", C_CLASS},
    {"purchase_date", C_PDATE},
    {"address", C_ADDRESS},
    {"room", C_ROOM},
    {"tech_specs", C_SPECS},
    {"functions", C_FUNCS},
    {"service_content", C_SERVICE},
    {"sample_requirements", C_SAMPLE},
    {"open_rules", C_RULES_TEXT},
    {"contact_name", C_CNAME},
    {"contact_phone", C_CPHONE},
    {"contact_email", C_CEMAIL},
    {"category_type", C_CATEGORY},
    {"share_mode", C_SHARE},
    {"run_status", C_STATUS},
    {"price_unit", C_UNIT},
    {"basis", C_BASIS},
};

static const char *col_str(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* ---- open hours and service modes as stored JSON ---- */

static char *open_hours_json(const yq_instrument_t *in) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < in->n_open_hours; i++) {
        cJSON *o = cJSON_CreateObject();
        char a[6], b[6];
        yq_hhmm_format(in->open_hours[i].from, a);
        yq_hhmm_format(in->open_hours[i].to, b);
        cJSON_AddNumberToObject(o, "weekday", in->open_hours[i].weekday);
        cJSON_AddStringToObject(o, "from", a);
        cJSON_AddStringToObject(o, "to", b);
        cJSON_AddItemToArray(arr, o);
    }
    char *s = yq_json_print(arr);
    cJSON_Delete(arr);
    return s;
}

static void open_hours_read(const char *text, yq_instrument_t *in) {
    in->n_open_hours = 0;
    cJSON *arr = cJSON_Parse(text);
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        if (in->n_open_hours >= YQ_OPEN_SPANS_MAX)
            break;
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weekday");
        int from = yq_hhmm_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "from")));
        int to = yq_hhmm_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "to")));
        if (cJSON_IsNumber(w) && from >= 0 && to >= 0)
            in->open_hours[in->n_open_hours++] = (yq_open_span_t){w->valueint, from, to};
    }
    cJSON_Delete(arr);
}

static char *modes_json(unsigned modes) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; yq_service_mode_names[i]; i++)
        if (modes & (1u << i))
            cJSON_AddItemToArray(arr, cJSON_CreateString(yq_service_mode_names[i]));
    char *s = yq_json_print(arr);
    cJSON_Delete(arr);
    return s;
}

static unsigned modes_read(const char *text) {
    unsigned bits = 0;
    cJSON *arr = cJSON_Parse(text);
    const cJSON *m;
    cJSON_ArrayForEach(m, arr) if (cJSON_IsString(m)) bits |= yq_service_mode_from_name(m->valuestring);
    cJSON_Delete(arr);
    return bits;
}

/* ---- reading ---- */

static void row_to_record(sqlite3_stmt *st, yq_arena_t *a, yq_instrument_t *in) {
    yq_instrument_defaults(in);
    in->id = sqlite3_column_int64(st, C_ID);
    in->owner_org_id = sqlite3_column_int64(st, C_ORG);
    for (size_t i = 0; i < sizeof text_cols / sizeof text_cols[0]; i++)
        *yq_instrument_text(in, text_cols[i].name) = yq_arena_strdup(a, col_str(st, text_cols[i].col));
    in->original_value_fen = sqlite3_column_int64(st, C_VALUE);
    open_hours_read(col_str(st, C_OPEN), in);
    in->slot_minutes = sqlite3_column_int64(st, C_SLOT);
    in->min_minutes = sqlite3_column_int64(st, C_MIN);
    in->max_minutes = sqlite3_column_int64(st, C_MAX);
    in->notice_minutes = sqlite3_column_int64(st, C_NOTICE);
    in->horizon_days = sqlite3_column_int64(st, C_HORIZON);
    in->cancel_deadline_minutes = sqlite3_column_int64(st, C_CANCEL);
    in->requires_approval = sqlite3_column_int(st, C_APPROVAL);
    in->requires_training = sqlite3_column_int(st, C_TRAINING);
    in->service_modes = modes_read(col_str(st, C_MODES));
    in->internal_fen = sqlite3_column_int64(st, C_INTERNAL);
    in->zone_fen = sqlite3_column_int64(st, C_ZONE_FEN);
    in->cross_zone_fen = sqlite3_column_int64(st, C_CROSS);
    in->min_charge_fen = sqlite3_column_int64(st, C_MINCHARGE);
    in->step_minutes = sqlite3_column_int64(st, C_STEP);
}

int yq_instr_load(yq_db_t *db, int64_t id, yq_arena_t *a, yq_instrument_t *in, yq_instr_meta_t *meta) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT " COLS FROM " WHERE i.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1) {
        sqlite3_reset(st);
        return -1;
    }
    row_to_record(st, a, in);
    if (meta) {
        meta->retired_at = sqlite3_column_int64(st, C_RETIRED);
        meta->zone_id = sqlite3_column_int64(st, C_ZONE_ID);
    }
    sqlite3_reset(st);
    return 0;
}

int64_t yq_instr_find(yq_db_t *db, int64_t owner_org_id, const char *asset_no) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM instruments WHERE owner_org_id = ?1 AND asset_no = ?2");
    sqlite3_bind_int64(st, 1, owner_org_id);
    sqlite3_bind_text(st, 2, asset_no, -1, SQLITE_STATIC);
    int64_t id = yq_db_int(db, st, 0);
    return id;
}

/* ---- writing ---- */

/* Binds the record as ?1 ... ?44 in the order of the INSERT columns. The two
 * JSON texts are returned for the caller to free after the step. */
static void bind_record(sqlite3_stmt *st, const yq_instrument_t *in, char **oh, char **modes) {
    static const char *const texts[] = {
        "asset_no",   "name_zh",      "name_en",       "model",         "manufacturer",    "country",
        "department", "class_code",   "category_type", "share_mode",    "run_status",      "purchase_date",
        "address",    "room",         "tech_specs",    "functions",     "service_content", "sample_requirements",
        "open_rules", "contact_name", "contact_phone", "contact_email", "price_unit",      "basis"};
    sqlite3_bind_int64(st, 1, in->owner_org_id);
    for (int i = 0; i < 24; i++)
        sqlite3_bind_text(st, 2 + i, *yq_instrument_text((yq_instrument_t *)in, texts[i]), -1, SQLITE_STATIC);
    *oh = open_hours_json(in);
    *modes = modes_json(in->service_modes);
    sqlite3_bind_int64(st, 26, in->original_value_fen);
    sqlite3_bind_text(st, 27, *oh, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 28, in->slot_minutes);
    sqlite3_bind_int64(st, 29, in->min_minutes);
    sqlite3_bind_int64(st, 30, in->max_minutes);
    sqlite3_bind_int64(st, 31, in->notice_minutes);
    sqlite3_bind_int64(st, 32, in->horizon_days);
    sqlite3_bind_int64(st, 33, in->cancel_deadline_minutes);
    sqlite3_bind_int(st, 34, in->requires_approval ? 1 : 0);
    sqlite3_bind_int(st, 35, in->requires_training ? 1 : 0);
    sqlite3_bind_text(st, 36, *modes, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 37, in->internal_fen);
    sqlite3_bind_int64(st, 38, in->zone_fen);
    sqlite3_bind_int64(st, 39, in->cross_zone_fen);
    sqlite3_bind_int64(st, 40, in->min_charge_fen);
    sqlite3_bind_int64(st, 41, in->step_minutes);
    sqlite3_bind_int64(st, 42, yq_now());
}

int yq_instr_insert(yq_db_t *db, yq_instrument_t *in) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "INSERT INTO instruments (owner_org_id, asset_no, name_zh, name_en, model, manufacturer, country, "
            "department, class_code, category_type, share_mode, run_status, purchase_date, address, room, tech_specs, "
            "functions, service_content, sample_requirements, open_rules, contact_name, contact_phone, "
            "contact_email, price_unit, basis, original_value_fen, open_hours, slot_minutes, min_minutes, "
            "max_minutes, notice_minutes, horizon_days, cancel_deadline_minutes, requires_approval, "
            "requires_training, service_modes, price_internal_fen, price_zone_fen, price_cross_zone_fen, "
            "min_charge_fen, step_minutes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
            "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "
            "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?42)");
    char *oh, *modes;
    bind_record(st, in, &oh, &modes);
    int rc = yq_db_step(db, st);
    sqlite3_reset(st);
    free(oh);
    free(modes);
    if (rc < 0)
        return rc;
    in->id = yq_db_last_id(db);
    return 0;
}

int yq_instr_update(yq_db_t *db, const yq_instrument_t *in) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "UPDATE instruments SET owner_org_id = ?1, asset_no = ?2, name_zh = ?3, name_en = ?4, model = ?5, "
            "manufacturer = ?6, country = ?7, department = ?8, class_code = ?9, category_type = ?10, "
            "share_mode = ?11, run_status = ?12, purchase_date = ?13, address = ?14, room = ?15, tech_specs = ?16, "
            "functions = ?17, service_content = ?18, sample_requirements = ?19, open_rules = ?20, "
            "contact_name = ?21, contact_phone = ?22, contact_email = ?23, price_unit = ?24, basis = ?25, "
            "original_value_fen = ?26, open_hours = ?27, slot_minutes = ?28, min_minutes = ?29, max_minutes = ?30, "
            "notice_minutes = ?31, horizon_days = ?32, cancel_deadline_minutes = ?33, requires_approval = ?34, "
            "requires_training = ?35, service_modes = ?36, price_internal_fen = ?37, price_zone_fen = ?38, "
            "price_cross_zone_fen = ?39, min_charge_fen = ?40, step_minutes = ?41, updated_at = ?42 "
            "WHERE id = ?43");
    char *oh, *modes;
    bind_record(st, in, &oh, &modes);
    sqlite3_bind_int64(st, 43, in->id);
    int rc = yq_db_step(db, st);
    sqlite3_reset(st);
    free(oh);
    free(modes);
    return rc < 0 ? rc : 0;
}

int yq_instr_retire(yq_db_t *db, int64_t id, int64_t at) {
    sqlite3_stmt *st =
        yq_db_stmt(db, "UPDATE instruments SET retired_at = ?2, updated_at = ?2 WHERE id = ?1 AND retired_at IS NULL");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    int rc = yq_db_step(db, st);
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

static int str_eq(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int yq_instr_equal(const yq_instrument_t *a, const yq_instrument_t *b) {
    for (size_t i = 0; i < sizeof text_cols / sizeof text_cols[0]; i++)
        if (!str_eq(*yq_instrument_text((yq_instrument_t *)a, text_cols[i].name),
                    *yq_instrument_text((yq_instrument_t *)b, text_cols[i].name)))
            return 0;
    if (a->n_open_hours != b->n_open_hours ||
        memcmp(a->open_hours, b->open_hours, a->n_open_hours * sizeof a->open_hours[0]) != 0)
        return 0;
    return a->owner_org_id == b->owner_org_id && a->original_value_fen == b->original_value_fen &&
           a->slot_minutes == b->slot_minutes && a->min_minutes == b->min_minutes && a->max_minutes == b->max_minutes &&
           a->notice_minutes == b->notice_minutes && a->horizon_days == b->horizon_days &&
           a->cancel_deadline_minutes == b->cancel_deadline_minutes && !a->requires_approval == !b->requires_approval &&
           !a->requires_training == !b->requires_training && a->service_modes == b->service_modes &&
           a->internal_fen == b->internal_fen && a->zone_fen == b->zone_fen && a->cross_zone_fen == b->cross_zone_fen &&
           a->min_charge_fen == b->min_charge_fen && a->step_minutes == b->step_minutes;
}

/* ---- the public JSON object ---- */

static void add_path_entry(cJSON *path, const char *code) {
    const yq_class_t *c = yq_class_find(code);
    if (!c)
        return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "name_zh", c->name_zh);
    cJSON_AddStringToObject(e, "name_en", c->name_en);
    cJSON_AddItemToArray(path, e);
}

/* class_name_* of the code itself, and class_path: its top, second and third
 * levels (those that are not "00"). */
static void add_class(cJSON *o, const char *code) {
    const yq_class_t *c = yq_class_find(code);
    cJSON_AddStringToObject(o, "class_name_zh", c ? c->name_zh : "");
    cJSON_AddStringToObject(o, "class_name_en", c ? c->name_en : "");
    cJSON *path = cJSON_AddArrayToObject(o, "class_path");
    if (strlen(code) != 6)
        return;
    char level[8];
    snprintf(level, sizeof level, "%.2s0000", code);
    add_path_entry(path, level);
    if (memcmp(code + 2, "00", 2) != 0) {
        snprintf(level, sizeof level, "%.4s00", code);
        add_path_entry(path, level);
    }
    if (memcmp(code + 4, "00", 2) != 0)
        add_path_entry(path, code);
}

static cJSON *rules_json(const yq_instrument_t *in) {
    cJSON *r = cJSON_CreateObject();
    cJSON *oh = cJSON_AddArrayToObject(r, "open_hours");
    for (size_t i = 0; i < in->n_open_hours; i++) {
        cJSON *o = cJSON_CreateObject();
        char a[6], b[6];
        yq_hhmm_format(in->open_hours[i].from, a);
        yq_hhmm_format(in->open_hours[i].to, b);
        cJSON_AddNumberToObject(o, "weekday", in->open_hours[i].weekday);
        cJSON_AddStringToObject(o, "from", a);
        cJSON_AddStringToObject(o, "to", b);
        cJSON_AddItemToArray(oh, o);
    }
    yq_json_add_int(r, "slot_minutes", in->slot_minutes);
    yq_json_add_int(r, "min_minutes", in->min_minutes);
    yq_json_add_int(r, "max_minutes", in->max_minutes);
    yq_json_add_int(r, "notice_minutes", in->notice_minutes);
    yq_json_add_int(r, "horizon_days", in->horizon_days);
    yq_json_add_int(r, "cancel_deadline_minutes", in->cancel_deadline_minutes);
    cJSON_AddBoolToObject(r, "requires_approval", in->requires_approval);
    cJSON_AddBoolToObject(r, "requires_training", in->requires_training);
    cJSON *m = cJSON_AddArrayToObject(r, "service_modes");
    for (int i = 0; yq_service_mode_names[i]; i++)
        if (in->service_modes & (1u << i))
            cJSON_AddItemToArray(m, cJSON_CreateString(yq_service_mode_names[i]));
    return r;
}

static cJSON *price_json(const yq_instrument_t *in) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "unit", in->price_unit);
    yq_json_add_int(p, "internal_fen", in->internal_fen);
    yq_json_add_int(p, "zone_fen", in->zone_fen);
    yq_json_add_int(p, "cross_zone_fen", in->cross_zone_fen);
    yq_json_add_int(p, "min_charge_fen", in->min_charge_fen);
    yq_json_add_int(p, "step_minutes", in->step_minutes);
    cJSON_AddStringToObject(p, "basis", in->basis);
    return p;
}

cJSON *yq_instr_row_json(sqlite3_stmt *st) {
    yq_arena_t *a = yq_arena_create();
    yq_instrument_t in;
    row_to_record(st, a, &in);
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int(o, "id", in.id);
    yq_json_add_int(o, "owner_org_id", in.owner_org_id);
    cJSON_AddStringToObject(o, "owner_org_code", col_str(st, C_ORG_CODE));
    cJSON_AddStringToObject(o, "owner_org_name_zh", col_str(st, C_ORG_ZH));
    cJSON_AddStringToObject(o, "owner_org_name_en", col_str(st, C_ORG_EN));
    cJSON_AddStringToObject(o, "zone", col_str(st, C_ZONE));
    cJSON_AddStringToObject(o, "zone_name_zh", col_str(st, C_ZONE_ZH));
    cJSON_AddStringToObject(o, "zone_name_en", col_str(st, C_ZONE_EN));
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++) {
        cJSON_AddStringToObject(o, f->name, *yq_instrument_text(&in, f->name));
        if (strcmp(f->name, "class_code") == 0)
            add_class(o, in.class_code);
    }
    cJSON_AddStringToObject(o, "category_type", in.category_type);
    cJSON_AddStringToObject(o, "share_mode", in.share_mode);
    cJSON_AddStringToObject(o, "run_status", in.run_status);
    yq_json_add_int(o, "original_value_fen", in.original_value_fen);
    int retired = sqlite3_column_type(st, C_RETIRED) != SQLITE_NULL;
    cJSON_AddBoolToObject(o, "bookable", yq_instrument_bookable(in.share_mode, in.run_status, retired));
    cJSON_AddBoolToObject(o, "retired", retired);
    if (retired)
        yq_json_add_time(o, "retired_at", sqlite3_column_int64(st, C_RETIRED));
    else
        cJSON_AddNullToObject(o, "retired_at");
    cJSON_AddItemToObject(o, "rules", rules_json(&in));
    cJSON_AddItemToObject(o, "price", price_json(&in));
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, C_CREATED));
    yq_json_add_time(o, "updated_at", sqlite3_column_int64(st, C_UPDATED));
    yq_arena_destroy(a);
    return o;
}

cJSON *yq_instr_json(yq_db_t *db, int64_t id) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT " COLS FROM " WHERE i.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = yq_db_step(db, st) == 1 ? yq_instr_row_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

/* ---- permissions ---- */

int yq_instr_visible(const yq_principal_t *p, int64_t owner_org_id, const char *share_mode, int retired) {
    if (p && (p->roles & (YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION)))
        return 1;
    if (p && p->org_id && p->org_id == owner_org_id)
        return 1;
    if (strcmp(share_mode, "external") != 0)
        return 0;
    return p != NULL || !retired;
}

int yq_instr_editable(const yq_principal_t *p, int64_t owner_org_id) {
    if (!p)
        return 0;
    if (p->roles & YQ_ROLE_ADMIN)
        return 1;
    return (p->roles & YQ_ROLE_OPERATOR) && p->org_id && p->org_id == owner_org_id;
}
