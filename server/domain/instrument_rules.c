/*
 * Validation of the instrument record (see instrument_rules.h). Each check is
 * a small function that appends to the error list; yq_instrument_check runs
 * them in the order of the API fields so the first error is the natural one
 * to show. Bounds are generous but finite: they keep a typo (a value in yuan
 * where fen were meant, a slot of 7 minutes) from reaching the bookings.
 */
#include "domain/instrument_rules.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/classes.h"

const char *const yq_category_types[] = {"general", "specialised", NULL};
const char *const yq_share_modes[] = {"external", "internal", "none", NULL};
const char *const yq_run_statuses[] = {
    "normal", "standby", "occasional_fault", "frequent_fault", "awaiting_repair", "awaiting_disposal", NULL};
const char *const yq_price_units[] = {"hour", "sample", NULL};
const char *const yq_price_bases[] = {"used", "booked", "greater", NULL};
const char *const yq_service_mode_names[] = {"self_operated", "assisted", "sample", "remote", NULL};

/* Chinese labels follow the national reporting form, so a list exported
 * from a university system maps onto these columns. */
const yq_text_field_t yq_instrument_text_fields[] = {
    {"asset_no", "资产编号", 64, 1},
    {"name_zh", "仪器名称", 200, 1},
    {"name_en", "英文名称", 200, 1},
    {"model", "规格型号", 200, 1},
    {"manufacturer", "生产制造商", 200, 1},
    {"country", "产地国别", 2, 0},
    {"department", "所属部门", 100, 0},
    {"class_code", "分类编码", 6, 1},
    {"purchase_date", "购置日期", 10, 0},
    {"address", "安放地址", 300, 0},
    {"room", "房间号", 64, 0},
    {"tech_specs", "主要技术指标", 4000, 0},
    {"functions", "主要功能", 4000, 0},
    {"service_content", "服务内容", 2000, 0},
    {"sample_requirements", "样品要求", 2000, 0},
    {"open_rules", "用户须知", 4000, 0},
    {"contact_name", "联系人", 64, 0},
    {"contact_phone", "联系电话", 32, 0},
    {"contact_email", "电子邮箱", 254, 0},
    {NULL, NULL, 0, 0},
};

/* ISO 3166-1 alpha-2, officially assigned codes (249). */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO "
    "FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE "
    "JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO "
    "MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW "
    "PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM "
    "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

int yq_country_valid(const char *code) {
    if (!code || strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
        return 0;
    for (const char *p = countries; *p; p += p[2] ? 3 : 2)
        if (p[0] == code[0] && p[1] == code[1])
            return 1;
    return 0;
}

void yq_instrument_defaults(yq_instrument_t *in) {
    memset(in, 0, sizeof *in);
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++)
        *yq_instrument_text(in, f->name) = "";
    in->category_type = "general";
    in->share_mode = "external";
    in->run_status = "normal";
    for (int d = 1; d <= 5; d++)
        in->open_hours[in->n_open_hours++] = (yq_open_span_t){d, 9 * 60, 18 * 60};
    in->slot_minutes = 30;
    in->min_minutes = 30;
    in->max_minutes = 480;
    in->notice_minutes = 120;
    in->horizon_days = 60;
    in->cancel_deadline_minutes = 1440;
    in->service_modes = YQ_SERVICE_SELF_OPERATED;
    in->price_unit = "hour";
    in->step_minutes = 15;
    in->basis = "used";
}

void yq_open_hours_normalise(yq_instrument_t *in) {
    /* insertion sort: at most 28 spans */
    for (size_t i = 1; i < in->n_open_hours && i < YQ_OPEN_SPANS_MAX; i++) {
        yq_open_span_t s = in->open_hours[i];
        size_t j = i;
        while (j > 0 && (in->open_hours[j - 1].weekday > s.weekday ||
                         (in->open_hours[j - 1].weekday == s.weekday && in->open_hours[j - 1].from > s.from))) {
            in->open_hours[j] = in->open_hours[j - 1];
            j--;
        }
        in->open_hours[j] = s;
    }
}

const char **yq_instrument_text(yq_instrument_t *in, const char *name) {
    static const struct {
        const char *name;
        size_t off;
    } map[] = {
#define M(f) {#f, offsetof(yq_instrument_t, f)}
        M(asset_no),   M(name_zh),      M(name_en),       M(model),           M(manufacturer),
        M(country),    M(department),   M(class_code),    M(purchase_date),   M(address),
        M(room),       M(tech_specs),   M(functions),     M(service_content), M(sample_requirements),
        M(open_rules), M(contact_name), M(contact_phone), M(contact_email),   M(category_type),
        M(share_mode), M(run_status),   M(price_unit),    M(basis),
#undef M
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0)
            return (const char **)((char *)in + map[i].off);
    return NULL;
}

/* ---- the error list ---- */

typedef struct {
    yq_field_error_t *errs;
    size_t max, n;
} report_t;

static void report(report_t *r, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(report_t *r, const char *field, const char *fmt, ...) {
    if (r->n < r->max) {
        va_list ap;
        va_start(ap, fmt);
        r->errs[r->n].field = field;
        vsnprintf(r->errs[r->n].message, sizeof r->errs[r->n].message, fmt, ap);
        va_end(ap);
    }
    r->n++;
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Control characters: none in one-line fields; tab and newline in long text. */
static int has_controls(const char *s, int multiline) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == 0x7F || (c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))))
            return 1;
    }
    return 0;
}

static int in_list(const char *s, const char *const *list) {
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static void check_enum(report_t *r, const char *field, const char *v, const char *const *list) {
    if (in_list(v, list))
        return;
    char allowed[128] = "";
    for (const char *const *a = list; *a; a++) {
        size_t len = strlen(allowed);
        snprintf(allowed + len, sizeof allowed - len, "%s%s", len ? ", " : "", *a);
    }
    report(r, field, "Field '%s' must be one of: %s.", field, allowed);
}

static void check_range(report_t *r, const char *field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
        report(r, field, "Field '%s' must be an integer from %lld to %lld.", field, (long long)lo, (long long)hi);
}

static int date_valid(const char *s) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static int email_valid(const char *s) {
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strchr(s, ' '))
        return 0;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1];
}

static int phone_valid(const char *s) {
    int digits = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (!strchr("+-() ", *s))
            return 0;
    }
    return digits >= 3;
}

static void check_texts(report_t *r, const yq_instrument_t *in) {
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++) {
        const char *v = *yq_instrument_text((yq_instrument_t *)in, f->name);
        int multiline = f->max_chars >= 2000;
        if (!v || (f->required && !*v))
            report(r, f->name, "Field '%s' is required.", f->name);
        else if (utf8_chars(v) > f->max_chars)
            report(r, f->name, "Field '%s' must be at most %zu characters.", f->name, f->max_chars);
        else if (has_controls(v, multiline))
            report(r, f->name, "Field '%s' must not contain control characters.", f->name);
    }
}

static void check_formats(report_t *r, const yq_instrument_t *in) {
    if (in->country && *in->country && !yq_country_valid(in->country))
        report(r, "country", "Field 'country' must be an ISO 3166 alpha-2 code such as CN, DE or US.");
    if (in->class_code && *in->class_code) {
        int six = strlen(in->class_code) == 6 && strspn(in->class_code, "0123456789") == 6;
        if (!six)
            report(r, "class_code", "Field 'class_code' must be six digits of the national classification.");
        else if (!yq_class_find(in->class_code))
            report(r, "class_code", "Class %s is not in the national classification.", in->class_code);
    }
    if (in->purchase_date && *in->purchase_date && !date_valid(in->purchase_date))
        report(r, "purchase_date", "Field 'purchase_date' must be a date YYYY-MM-DD.");
    if (in->contact_phone && *in->contact_phone && !phone_valid(in->contact_phone))
        report(r, "contact_phone", "Field 'contact_phone' may hold only digits, spaces and + - ( ).");
    if (in->contact_email && *in->contact_email && !email_valid(in->contact_email))
        report(r, "contact_email", "Field 'contact_email' must be an e-mail address.");
}

static void check_open_hours(report_t *r, const yq_instrument_t *in) {
    const char *f = "rules.open_hours";
    if (in->n_open_hours > YQ_OPEN_SPANS_MAX) {
        report(r, f, "Field '%s' may hold at most %d spans.", f, YQ_OPEN_SPANS_MAX);
        return;
    }
    for (size_t i = 0; i < in->n_open_hours; i++) {
        const yq_open_span_t *s = &in->open_hours[i];
        if (s->weekday < 1 || s->weekday > 7) {
            report(r, f, "Weekday must be 1 (Monday) to 7 (Sunday).");
            return;
        }
        if (s->from < 0 || s->from >= 1440 || s->to <= s->from || s->to > 1440) {
            report(r, f, "Each span must run from 00:00-23:59 to a later time up to 24:00.");
            return;
        }
        for (size_t j = 0; j < i; j++) {
            const yq_open_span_t *o = &in->open_hours[j];
            if (o->weekday == s->weekday && o->from < s->to && s->from < o->to) {
                report(r, f, "Spans on weekday %d overlap.", s->weekday);
                return;
            }
        }
    }
}

static void check_rules(report_t *r, const yq_instrument_t *in) {
    check_open_hours(r, in);
    int64_t slot = in->slot_minutes;
    if (slot < 5 || slot > 1440 || 1440 % slot)
        report(r, "rules.slot_minutes", "Field 'rules.slot_minutes' must divide a day (5, 10, 15, 20, 30, 60 ...).");
    else {
        if (in->min_minutes < slot || in->min_minutes > 10080 || in->min_minutes % slot)
            report(r, "rules.min_minutes", "Field 'rules.min_minutes' must be a multiple of the slot, up to a week.");
        else if (in->max_minutes < in->min_minutes || in->max_minutes > 10080 || in->max_minutes % slot)
            report(r, "rules.max_minutes",
                   "Field 'rules.max_minutes' must be a multiple of the slot from the minimum up to a week.");
    }
    check_range(r, "rules.notice_minutes", in->notice_minutes, 0, 30 * 1440);
    check_range(r, "rules.horizon_days", in->horizon_days, 1, 730);
    check_range(r, "rules.cancel_deadline_minutes", in->cancel_deadline_minutes, 0, 30 * 1440);
    if (!in->service_modes || in->service_modes > 0xF)
        report(r, "rules.service_modes",
               "Field 'rules.service_modes' must list one or more of self_operated, assisted, sample, remote.");
}

static void check_price(report_t *r, const yq_instrument_t *in) {
    check_enum(r, "price.unit", in->price_unit, yq_price_units);
    check_range(r, "price.internal_fen", in->internal_fen, 0, YQ_RATE_MAX_FEN);
    check_range(r, "price.zone_fen", in->zone_fen, 0, YQ_RATE_MAX_FEN);
    check_range(r, "price.cross_zone_fen", in->cross_zone_fen, 0, YQ_RATE_MAX_FEN);
    check_range(r, "price.min_charge_fen", in->min_charge_fen, 0, YQ_RATE_MAX_FEN);
    check_range(r, "price.step_minutes", in->step_minutes, 1, 1440);
    check_enum(r, "price.basis", in->basis, yq_price_bases);
}

size_t yq_instrument_check(const yq_instrument_t *in, yq_field_error_t *errs, size_t max) {
    report_t r = {errs, max, 0};
    if (in->owner_org_id <= 0)
        report(&r, "owner_org_id", "Field 'owner_org_id' is required.");
    check_texts(&r, in);
    check_formats(&r, in);
    check_enum(&r, "category_type", in->category_type, yq_category_types);
    check_enum(&r, "share_mode", in->share_mode, yq_share_modes);
    check_enum(&r, "run_status", in->run_status, yq_run_statuses);
    check_range(&r, "original_value_fen", in->original_value_fen, 0, YQ_INSTR_MAX_FEN);
    check_rules(&r, in);
    check_price(&r, in);
    return r.n;
}

/* ---- text forms ---- */

int yq_hhmm_parse(const char *s) {
    if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[3] < '0' ||
        s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && m))
        return -1;
    return h * 60 + m;
}

void yq_hhmm_format(int minutes, char *out) {
    unsigned m = minutes < 0 ? 0u : minutes > 1440 ? 1440u : (unsigned)minutes;
    out[0] = (char)('0' + m / 600);
    out[1] = (char)('0' + m / 60 % 10);
    out[2] = ':';
    out[3] = (char)('0' + m % 60 / 10);
    out[4] = (char)('0' + m % 10);
    out[5] = '\0';
}

/* Groups consecutive weekdays that have identical spans: "1-5 09:00-18:00". */
static int same_day(const yq_open_span_t *s, size_t n, int a, int b) {
    size_t ca = 0, cb = 0;
    for (size_t i = 0; i < n; i++) {
        ca += s[i].weekday == a;
        cb += s[i].weekday == b;
    }
    if (ca != cb || ca == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].weekday != a)
            continue;
        int found = 0;
        for (size_t j = 0; j < n && !found; j++)
            found = s[j].weekday == b && s[j].from == s[i].from && s[j].to == s[i].to;
        if (!found)
            return 0;
    }
    return 1;
}

void yq_open_hours_format(const yq_open_span_t *spans, size_t n, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int d = 1; d <= 7; d++) {
        int end = d;
        int has = 0;
        for (size_t i = 0; i < n; i++)
            has |= spans[i].weekday == d;
        if (!has)
            continue;
        while (end < 7 && same_day(spans, n, d, end + 1))
            end++;
        len += (size_t)snprintf(out + len, len < size ? size - len : 0, len ? "; " : "");
        len += (size_t)snprintf(out + len, len < size ? size - len : 0, end > d ? "%d-%d " : "%d ", d, end);
        int first = 1;
        for (int from = 0; from < 1440; from++) {
            for (size_t i = 0; i < n; i++) {
                if (spans[i].weekday != d || spans[i].from != from)
                    continue;
                char a[6], b[6];
                yq_hhmm_format(spans[i].from, a);
                yq_hhmm_format(spans[i].to, b);
                len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s-%s", first ? "" : ",", a, b);
                first = 0;
            }
        }
        d = end;
    }
}

static const char *skip_spaces(const char *p) {
    while (*p == ' ')
        p++;
    return p;
}

/* "1-5 09:00-18:00,19:00-21:00" -> spans appended. */
static int parse_group(const char *p, yq_open_span_t *spans, size_t *n, char *err, size_t errsize) {
    p = skip_spaces(p);
    if (*p < '1' || *p > '7') {
        snprintf(err, errsize, "Open hours start each group with a weekday 1-7 (1 = Monday).");
        return -1;
    }
    int d1 = *p++ - '0', d2 = d1;
    if (*p == '-') {
        if (p[1] < '1' || p[1] > '7' || p[1] - '0' < d1) {
            snprintf(err, errsize, "Weekday range must be like 1-5.");
            return -1;
        }
        d2 = p[1] - '0';
        p += 2;
    }
    if (*p != ' ') {
        snprintf(err, errsize, "Open hours look like \"1-5 09:00-18:00; 6 09:00-12:00\".");
        return -1;
    }
    yq_open_span_t day[YQ_OPEN_SPANS_MAX];
    size_t nday = 0;
    for (;;) {
        p = skip_spaces(p);
        char a[6] = "", b[6] = "";
        if (strlen(p) < 11 || p[5] != '-') {
            snprintf(err, errsize, "Each span must look like 09:00-18:00.");
            return -1;
        }
        memcpy(a, p, 5);
        memcpy(b, p + 6, 5);
        int from = yq_hhmm_parse(a), to = yq_hhmm_parse(b);
        if (from < 0 || to < 0) {
            snprintf(err, errsize, "Times must be HH:MM (00:00 to 24:00).");
            return -1;
        }
        if (nday == YQ_OPEN_SPANS_MAX) {
            snprintf(err, errsize, "At most %d open-hour spans.", YQ_OPEN_SPANS_MAX);
            return -1;
        }
        day[nday++] = (yq_open_span_t){0, from, to};
        p = skip_spaces(p + 11);
        if (*p != ',')
            break;
        p++;
    }
    for (int d = d1; d <= d2; d++) {
        for (size_t i = 0; i < nday; i++) {
            if (*n >= YQ_OPEN_SPANS_MAX) {
                snprintf(err, errsize, "At most %d open-hour spans.", YQ_OPEN_SPANS_MAX);
                return -1;
            }
            spans[(*n)++] = (yq_open_span_t){d, day[i].from, day[i].to};
        }
    }
    if (*p) {
        snprintf(err, errsize, "Unexpected text in open hours: \"%.20s\".", p);
        return -1;
    }
    return 0;
}

int yq_open_hours_parse(const char *s, yq_open_span_t *spans, size_t *n, char *err, size_t errsize) {
    *n = 0;
    char group[256];
    while (*s) {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        if (len >= sizeof group) {
            snprintf(err, errsize, "Open hours group too long.");
            return -1;
        }
        memcpy(group, s, len);
        group[len] = '\0';
        if (*skip_spaces(group) && parse_group(group, spans, n, err, errsize))
            return -1;
        s += len + (semi ? 1 : 0);
    }
    return 0;
}

unsigned yq_service_mode_from_name(const char *name) {
    for (int i = 0; yq_service_mode_names[i]; i++)
        if (strcmp(yq_service_mode_names[i], name) == 0)
            return 1u << i;
    return 0;
}

void yq_service_modes_format(unsigned modes, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; yq_service_mode_names[i]; i++)
        if (modes & (1u << i))
            len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s", len ? "," : "",
                                    yq_service_mode_names[i]);
}

int yq_service_modes_parse(const char *s, unsigned *out) {
    *out = 0;
    char name[32];
    while (*s) {
        s = skip_spaces(s);
        size_t len = strcspn(s, ",; ");
        if (len == 0 || len >= sizeof name)
            return -1;
        memcpy(name, s, len);
        name[len] = '\0';
        unsigned bit = yq_service_mode_from_name(name);
        if (!bit)
            return -1;
        *out |= bit;
        s = skip_spaces(s + len);
        if (*s == ',' || *s == ';')
            s++;
    }
    return 0;
}

int yq_run_status_usable(const char *run_status) {
    return run_status &&
           (!strcmp(run_status, "normal") || !strcmp(run_status, "standby") || !strcmp(run_status, "occasional_fault"));
}

int yq_instrument_bookable(const char *share_mode, const char *run_status, int retired) {
    return !retired && share_mode && strcmp(share_mode, "none") != 0 && yq_run_status_usable(run_status);
}
