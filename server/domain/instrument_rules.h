/*
 * The instrument record's rules (DOMAIN.md "The instrument record", API.md
 * "Instrument fields"): one plain struct holding every field, its defaults,
 * and a validator that reports every bad field with the field's API name
 * ("name_zh", "rules.open_hours", "price.zone_fen"). The same checks serve
 * POST/PATCH (the first error becomes the 400) and CSV import (every error
 * of every row is reported).
 *
 * Pure: no I/O. Whether a class code exists is asked of domain/classes.h.
 * Strings in the struct are borrowed; the struct owns nothing.
 */
#ifndef YQ_DOMAIN_INSTRUMENT_RULES_H
#define YQ_DOMAIN_INSTRUMENT_RULES_H

#include <stddef.h>
#include <stdint.h>

#define YQ_OPEN_SPANS_MAX 28
#define YQ_INSTR_MAX_FEN 1000000000000000LL /* 10^13 yuan: bounds original_value_fen */
#define YQ_RATE_MAX_FEN 100000000LL         /* 1,000,000 yuan per hour or sample */

/* Service modes (DOMAIN.md): bit set. */
enum {
    YQ_SERVICE_SELF_OPERATED = 1 << 0, /* 自主上机 */
    YQ_SERVICE_ASSISTED = 1 << 1,      /* 技术共享 */
    YQ_SERVICE_SAMPLE = 1 << 2,        /* 委托送样 */
    YQ_SERVICE_REMOTE = 1 << 3,        /* 远程 */
};

/* One weekly opening span in local minutes from midnight: [from, to). */
typedef struct {
    int weekday; /* ISO 8601: 1 = Monday ... 7 = Sunday */
    int from;    /* 0 ... 1439 */
    int to;      /* 1 ... 1440 ("24:00") */
} yq_open_span_t;

typedef struct yq_instrument {
    int64_t id; /* 0 until stored */
    int64_t owner_org_id;
    const char *asset_no, *name_zh, *name_en, *model, *manufacturer;
    const char *country, *department, *class_code;
    const char *category_type; /* general | specialised */
    const char *share_mode;    /* external | internal | none */
    const char *run_status;    /* normal ... awaiting_disposal */
    int64_t original_value_fen;
    const char *purchase_date; /* "YYYY-MM-DD" or "" */
    const char *address, *room;
    const char *tech_specs, *functions, *service_content, *sample_requirements, *open_rules;
    const char *contact_name, *contact_phone, *contact_email;
    /* booking rules */
    yq_open_span_t open_hours[YQ_OPEN_SPANS_MAX];
    size_t n_open_hours;
    int64_t slot_minutes, min_minutes, max_minutes, notice_minutes, horizon_days, cancel_deadline_minutes;
    int requires_approval, requires_training;
    unsigned service_modes; /* YQ_SERVICE_* */
    /* price rule */
    const char *price_unit; /* hour | sample */
    int64_t internal_fen, zone_fen, cross_zone_fen, min_charge_fen, step_minutes;
    const char *basis; /* used | booked | greater */
} yq_instrument_t;

/* One reported problem; field is a static string (the API name), message a
 * static English sentence or text in msg. */
typedef struct {
    const char *field;
    char message[160];
} yq_field_error_t;

/* A text field's API name, its Chinese label (CSV headers) and its bound in
 * Unicode characters. The table ends with {NULL}. */
typedef struct {
    const char *name;
    const char *label_zh;
    size_t max_chars;
    int required; /* must be non-empty */
} yq_text_field_t;
extern const yq_text_field_t yq_instrument_text_fields[];

/* Enumerations, NULL-terminated, in the order of DOMAIN.md. */
extern const char *const yq_category_types[];
extern const char *const yq_share_modes[];
extern const char *const yq_run_statuses[];
extern const char *const yq_price_units[];
extern const char *const yq_price_bases[];
extern const char *const yq_service_mode_names[]; /* index i is bit 1 << i */

/* Fills every field with the defaults of DOMAIN.md (Mon-Fri 09:00-18:00,
 * 30-minute slots, 2 h notice, 60 days ahead, 24 h cancellation, 15-minute
 * billing step, ...); strings become "". */
void yq_instrument_defaults(yq_instrument_t *in);

/* Sorts the open hours by weekday and start, so equal schedules compare equal
 * and read the same way in every export. */
void yq_open_hours_normalise(yq_instrument_t *in);

/* Returns the address of the text member of that API name ("model"), or NULL. */
const char **yq_instrument_text(yq_instrument_t *in, const char *name);

/* Checks every field. Writes up to max errors into errs (in field order) and
 * returns how many there were (0 when the record is valid). */
size_t yq_instrument_check(const yq_instrument_t *in, yq_field_error_t *errs, size_t max);

/* "HH:MM" (00:00 ... 24:00) -> minutes; -1 when malformed. */
int yq_hhmm_parse(const char *s);
/* minutes -> "HH:MM" into out (6 bytes). */
void yq_hhmm_format(int minutes, char *out);

/* Open hours as compact text and back, for CSV cells:
 * "1-5 09:00-18:00; 6 09:00-12:00" (weekday or weekday range, then spans
 * separated by commas). Format writes into out (size bytes; 512 suffice for
 * 28 spans). Parse returns 0, or -1 with a message in err (size errsize). */
void yq_open_hours_format(const yq_open_span_t *spans, size_t n, char *out, size_t size);
int yq_open_hours_parse(const char *s, yq_open_span_t *spans, size_t *n, char *err, size_t errsize);

/* Service modes as "self_operated,sample" and back; parse returns -1 on an
 * unknown name. */
void yq_service_modes_format(unsigned modes, char *out, size_t size);
int yq_service_modes_parse(const char *s, unsigned *out);
unsigned yq_service_mode_from_name(const char *name);

/* ISO 3166-1 alpha-2: 1 when code is an assigned two-letter code. */
int yq_country_valid(const char *code);

/* A run status in which the instrument can be used (normal, standby,
 * occasional_fault). */
int yq_run_status_usable(const char *run_status);
/* Bookable: shared (share_mode != none), usable and not retired. */
int yq_instrument_bookable(const char *share_mode, const char *run_status, int retired);

#endif
