/*
 * JSON -> instrument record (see instrument_fields.h). Two stages, as in the
 * rest of the API: here only the JSON types are checked (a string where a
 * string belongs, an integer where an integer belongs), so the messages can
 * name the nested field; the value rules live in domain/instrument_rules.c
 * and are shared with the CSV import.
 */
#include "api/instrument_fields.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"

/* Members a client may send back unchanged from a GET: ignored. */
static const char *const read_only[] = {"id",
                                        "owner_org_code",
                                        "owner_org_name_zh",
                                        "owner_org_name_en",
                                        "zone",
                                        "zone_name_zh",
                                        "zone_name_en",
                                        "class_name_zh",
                                        "class_name_en",
                                        "class_path",
                                        "bookable",
                                        "retired",
                                        "retired_at",
                                        "created_at",
                                        "updated_at",
                                        NULL};
static const char *const scalar_keys[] = {"owner_org_id",       "category_type", "share_mode", "run_status",
                                          "original_value_fen", "rules",         "price",      NULL};
static const char *const rules_keys[] = {"open_hours",
                                         "slot_minutes",
                                         "min_minutes",
                                         "max_minutes",
                                         "notice_minutes",
                                         "horizon_days",
                                         "cancel_deadline_minutes",
                                         "requires_approval",
                                         "requires_training",
                                         "service_modes",
                                         NULL};
static const char *const price_keys[] = {"unit",           "internal_fen", "zone_fen", "cross_zone_fen",
                                         "min_charge_fen", "step_minutes", "basis",    NULL};

static int in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static int refuse(yq_req_t *req, const char *field, const char *fmt, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, fmt, field, what);
    yq_reply_error(req, 400, "invalid_field", msg, field);
    return -1;
}

static int is_text_field(const char *name) {
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return 1;
    return 0;
}

static int check_known(yq_req_t *req, const cJSON *obj, const char *prefix, const char *const *keys) {
    const cJSON *m;
    cJSON_ArrayForEach(m, obj) {
        int known = in_list(m->string, keys);
        if (!prefix)
            known |= in_list(m->string, read_only) || in_list(m->string, scalar_keys) || is_text_field(m->string);
        if (!known) {
            char field[96];
            snprintf(field, sizeof field, "%s%s", prefix ? prefix : "", m->string);
            char msg[160];
            snprintf(msg, sizeof msg, "Unknown field '%s'.", field);
            yq_reply_error(req, 400, "unknown_field", msg, field);
            return -1;
        }
    }
    return 0;
}

/* A string member: absent leaves *out alone. */
static int get_str(yq_req_t *req, const cJSON *obj, const char *key, const char *field, int required,
                   const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return required ? refuse(req, field, "Field '%s' is required%s.", "") : 0;
    if (!cJSON_IsString(v))
        return refuse(req, field, "Field '%s' must be a string%s.", "");
    *out = v->valuestring;
    return 0;
}

static int get_int(yq_req_t *req, const cJSON *obj, const char *key, const char *field, int required, int64_t *out) {
    int64_t v;
    int rc = yq_json_int(obj, key, 0, INT64_C(1) << 53, &v);
    if (rc == -1)
        return required ? refuse(req, field, "Field '%s' is required%s.", "") : 0;
    if (rc == -2)
        return refuse(req, field, "Field '%s' must be a whole number, 0 or more%s.", "");
    *out = v;
    return 0;
}

static int get_bool(yq_req_t *req, const cJSON *obj, const char *key, const char *field, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return refuse(req, field, "Field '%s' must be true or false%s.", "");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_open_hours(yq_req_t *req, const cJSON *rules, yq_instrument_t *in) {
    const char *f = "rules.open_hours";
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rules, "open_hours");
    if (!arr || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > YQ_OPEN_SPANS_MAX)
        return refuse(req, f, "Field '%s' must be a list of at most 28 {weekday, from, to} spans%s.", "");
    in->n_open_hours = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        int64_t wd;
        const char *from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "from"));
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "to"));
        if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 3 || yq_json_int(o, "weekday", 1, 7, &wd) != 0)
            return refuse(req, f, "Each span in '%s' needs weekday 1-7 (1 = Monday), from and to%s.", "");
        int a = yq_hhmm_parse(from), b = yq_hhmm_parse(to);
        if (a < 0 || b < 0 || a >= 1440 || b <= a)
            return refuse(req, f, "Each span in '%s' runs from HH:MM to a later HH:MM, up to 24:00%s.", "");
        in->open_hours[in->n_open_hours++] = (yq_open_span_t){(int)wd, a, b};
    }
    yq_open_hours_normalise(in);
    return 0;
}

static int get_modes(yq_req_t *req, const cJSON *rules, yq_instrument_t *in) {
    const char *f = "rules.service_modes";
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rules, "service_modes");
    if (!arr || cJSON_IsNull(arr))
        return 0;
    unsigned bits = 0;
    const cJSON *m;
    if (!cJSON_IsArray(arr))
        return refuse(req, f, "Field '%s' must be a list%s.", "");
    cJSON_ArrayForEach(m, arr) {
        unsigned b = cJSON_IsString(m) ? yq_service_mode_from_name(m->valuestring) : 0;
        if (!b)
            return refuse(req, f, "Field '%s' takes %s.", "self_operated, assisted, sample, remote");
        bits |= b;
    }
    in->service_modes = bits;
    return 0;
}

static int get_rules(yq_req_t *req, const cJSON *body, yq_instrument_t *in, int create) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(body, "rules");
    if (!r || cJSON_IsNull(r))
        return create ? refuse(req, "rules", "Field '%s' is required%s.", "") : 0;
    if (!cJSON_IsObject(r))
        return refuse(req, "rules", "Field '%s' must be an object%s.", "");
    if (check_known(req, r, "rules.", rules_keys) || get_open_hours(req, r, in) || get_modes(req, r, in))
        return -1;
    static const struct {
        const char *key, *field;
        size_t off;
    } ints[] = {
        {"slot_minutes", "rules.slot_minutes", offsetof(yq_instrument_t, slot_minutes)},
        {"min_minutes", "rules.min_minutes", offsetof(yq_instrument_t, min_minutes)},
        {"max_minutes", "rules.max_minutes", offsetof(yq_instrument_t, max_minutes)},
        {"notice_minutes", "rules.notice_minutes", offsetof(yq_instrument_t, notice_minutes)},
        {"horizon_days", "rules.horizon_days", offsetof(yq_instrument_t, horizon_days)},
        {"cancel_deadline_minutes", "rules.cancel_deadline_minutes",
         offsetof(yq_instrument_t, cancel_deadline_minutes)},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (get_int(req, r, ints[i].key, ints[i].field, 0, (int64_t *)((char *)in + ints[i].off)))
            return -1;
    return get_bool(req, r, "requires_approval", "rules.requires_approval", &in->requires_approval) ||
           get_bool(req, r, "requires_training", "rules.requires_training", &in->requires_training);
}

static int get_price(yq_req_t *req, const cJSON *body, yq_instrument_t *in, int create) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "price");
    if (!p || cJSON_IsNull(p))
        return create ? refuse(req, "price", "Field '%s' is required%s.", "") : 0;
    if (!cJSON_IsObject(p))
        return refuse(req, "price", "Field '%s' must be an object%s.", "");
    if (check_known(req, p, "price.", price_keys))
        return -1;
    /* On create the cross-zone rate defaults to the zone rate (DOMAIN.md Fees). */
    int cross_given = cJSON_GetObjectItemCaseSensitive(p, "cross_zone_fen") != NULL;
    if (get_str(req, p, "unit", "price.unit", create, &in->price_unit) ||
        get_int(req, p, "internal_fen", "price.internal_fen", create, &in->internal_fen) ||
        get_int(req, p, "zone_fen", "price.zone_fen", create, &in->zone_fen) ||
        get_int(req, p, "cross_zone_fen", "price.cross_zone_fen", 0, &in->cross_zone_fen) ||
        get_int(req, p, "min_charge_fen", "price.min_charge_fen", 0, &in->min_charge_fen) ||
        get_int(req, p, "step_minutes", "price.step_minutes", 0, &in->step_minutes) ||
        get_str(req, p, "basis", "price.basis", 0, &in->basis))
        return -1;
    if (create && !cross_given)
        in->cross_zone_fen = in->zone_fen;
    return 0;
}

int yq_instr_from_json(yq_req_t *req, const cJSON *body, yq_instrument_t *in, int create) {
    if (check_known(req, body, NULL, scalar_keys))
        return -1;
    if (create && get_int(req, body, "owner_org_id", "owner_org_id", 1, &in->owner_org_id))
        return -1;
    if (!create && cJSON_GetObjectItemCaseSensitive(body, "owner_org_id")) {
        int64_t org = 0;
        if (get_int(req, body, "owner_org_id", "owner_org_id", 0, &org))
            return -1;
        if (org != in->owner_org_id)
            return refuse(req, "owner_org_id", "Field '%s' cannot be changed%s; retire and create anew.", "");
    }
    static const char *const fixed_texts[] = {"asset_no",     "name_zh",    "name_en", "model",
                                              "manufacturer", "class_code", NULL};
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++)
        if (get_str(req, body, f->name, f->name, create && in_list(f->name, fixed_texts),
                    yq_instrument_text(in, f->name)))
            return -1;
    if (get_str(req, body, "category_type", "category_type", create, &in->category_type) ||
        get_str(req, body, "share_mode", "share_mode", create, &in->share_mode) ||
        get_str(req, body, "run_status", "run_status", create, &in->run_status) ||
        get_int(req, body, "original_value_fen", "original_value_fen", create, &in->original_value_fen))
        return -1;
    return get_rules(req, body, in, create) || get_price(req, body, in, create) ? -1 : 0;
}

int yq_instr_check_or_reply(yq_req_t *req, const yq_instrument_t *in) {
    yq_field_error_t err;
    if (yq_instrument_check(in, &err, 1) == 0)
        return 0;
    yq_reply_error(req, 400, "invalid_field", err.message, err.field);
    return -1;
}
