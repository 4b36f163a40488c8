/*
 * The catalogue in and out as files (API.md "CSV"):
 *
 *   POST /api/v1/instruments/import       CSV body, all or nothing
 *   GET  /api/v1/instruments/export.csv   the same columns back (UTF-8 + BOM)
 *   GET  /api/v1/instruments/export.json  the public list as open data
 *
 * Import runs on the loop, so it is bounded: a file of more than
 * IMPORT_MAX_ROWS data rows is refused after a count of its records, before
 * any row is read. Then two passes. The first reads every row into a record
 * (the stored one when (institution, asset_no) exists, else the defaults),
 * applies the cells, and runs the domain checks, collecting every error of
 * every row; a hash set of (institution, asset_no) finds a repeated row in
 * constant time (it was a scan of every earlier row: 80,000 rows took 18 s).
 * Only when no row has an error does the second pass open one transaction and
 * write: inserts, and updates of rows whose values changed, each with its
 * audit row. So a bad row anywhere leaves the catalogue untouched.
 *
 * The exports are rendered on the thread pool and kept per catalogue version
 * (see "export" below).
 *
 * Cells: numbers are whole numbers (money in fen); an empty cell of a number,
 * an enumeration or a rule keeps the stored or default value; an empty text
 * cell clears the text. Chinese header labels (domain/instrument_rules.c and
 * the table below) are accepted for every column. The export guards text
 * that a spreadsheet would run as a formula with a leading apostrophe
 * (domain/csv.c); the import takes it off again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/instrument_fields.h"
#include "api/instrument_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/timeutil.h"
#include "domain/csv.h"
#include "json/json.h"
#include "net/server.h"

#define IMPORT_MAX_BODY (8u * 1024 * 1024)
/* A real institution's catalogue is at most a few thousand instruments; a
 * larger file is refused before any row is read (413 too_many_rows), so one
 * import holds the loop for at most about a second (bench/catalogue_io.sh). */
#define IMPORT_MAX_ROWS 5000
#define MAX_REPORTED_ERRORS 1000

/* ---- columns ---- */

typedef enum { K_ORG, K_TEXT, K_ENUM, K_INT, K_BOOL, K_HOURS, K_MODES } kind_t;

typedef struct {
    const char *name;     /* API name, the English header */
    const char *label_zh; /* Chinese header (NULL: from the text field table) */
    kind_t kind;
    size_t off; /* int64_t / int member for K_INT / K_BOOL */
} column_t;

#define OFF(m) offsetof(yq_instrument_t, m)
static const column_t columns[] = {
    {"owner_org_code", "单位代码", K_ORG, 0},
    {"asset_no", NULL, K_TEXT, 0},
    {"name_zh", NULL, K_TEXT, 0},
    {"name_en", NULL, K_TEXT, 0},
    {"model", NULL, K_TEXT, 0},
    {"manufacturer", NULL, K_TEXT, 0},
    {"country", NULL, K_TEXT, 0},
    {"department", NULL, K_TEXT, 0},
    {"class_code", NULL, K_TEXT, 0},
    {"category_type", "仪器类型", K_ENUM, 0},
    {"share_mode", "共享方式", K_ENUM, 0},
    {"run_status", "运行状态", K_ENUM, 0},
    {"original_value_fen", "原值(分)", K_INT, OFF(original_value_fen)},
    {"purchase_date", NULL, K_TEXT, 0},
    {"address", NULL, K_TEXT, 0},
    {"room", NULL, K_TEXT, 0},
    {"tech_specs", NULL, K_TEXT, 0},
    {"functions", NULL, K_TEXT, 0},
    {"service_content", NULL, K_TEXT, 0},
    {"sample_requirements", NULL, K_TEXT, 0},
    {"open_rules", NULL, K_TEXT, 0},
    {"contact_name", NULL, K_TEXT, 0},
    {"contact_phone", NULL, K_TEXT, 0},
    {"contact_email", NULL, K_TEXT, 0},
    {"rules.open_hours", "开放时间", K_HOURS, 0},
    {"rules.slot_minutes", "预约时间单位(分钟)", K_INT, OFF(slot_minutes)},
    {"rules.min_minutes", "最短预约(分钟)", K_INT, OFF(min_minutes)},
    {"rules.max_minutes", "最长预约(分钟)", K_INT, OFF(max_minutes)},
    {"rules.notice_minutes", "提前预约(分钟)", K_INT, OFF(notice_minutes)},
    {"rules.horizon_days", "可预约天数", K_INT, OFF(horizon_days)},
    {"rules.cancel_deadline_minutes", "取消期限(分钟)", K_INT, OFF(cancel_deadline_minutes)},
    {"rules.requires_approval", "需要审批", K_BOOL, OFF(requires_approval)},
    {"rules.requires_training", "需要培训", K_BOOL, OFF(requires_training)},
    {"rules.service_modes", "服务方式", K_MODES, 0},
    {"price.unit", "计费单位", K_ENUM, 0},
    {"price.internal_fen", "本单位价格(分)", K_INT, OFF(internal_fen)},
    {"price.zone_fen", "片区内价格(分)", K_INT, OFF(zone_fen)},
    {"price.cross_zone_fen", "跨片区价格(分)", K_INT, OFF(cross_zone_fen)},
    {"price.min_charge_fen", "开机费(分)", K_INT, OFF(min_charge_fen)},
    {"price.step_minutes", "计费步长(分钟)", K_INT, OFF(step_minutes)},
    {"price.basis", "计费依据", K_ENUM, 0},
};
#define NCOLS (sizeof columns / sizeof columns[0])

static const char *label_of(const column_t *c) {
    if (c->label_zh)
        return c->label_zh;
    for (const yq_text_field_t *f = yq_instrument_text_fields; f->name; f++)
        if (strcmp(f->name, c->name) == 0)
            return f->label_zh;
    return c->name;
}

/* The struct member a text or enum column writes. */
static const char **text_member(yq_instrument_t *in, const column_t *c) {
    if (strcmp(c->name, "price.unit") == 0)
        return &in->price_unit;
    if (strcmp(c->name, "price.basis") == 0)
        return &in->basis;
    return yq_instrument_text(in, c->name);
}

/* Header cell -> column: the English name or the Chinese label, ignoring
 * spaces and treating full-width parentheses as ASCII ones. */
static void normalise(const char *s, char *out, size_t size) {
    size_t n = 0;
    for (; *s && n + 4 < size; s++) {
        if (*s == ' ' || *s == '\t')
            continue;
        if (!strncmp(s, "\xEF\xBC\x88", 3)) { /* （ */
            out[n++] = '(';
            s += 2;
        } else if (!strncmp(s, "\xEF\xBC\x89", 3)) { /* ） */
            out[n++] = ')';
            s += 2;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

static int column_of(const char *header) {
    char h[128], l[128];
    normalise(header, h, sizeof h);
    for (size_t i = 0; i < NCOLS; i++) {
        normalise(label_of(&columns[i]), l, sizeof l);
        if (strcasecmp(h, columns[i].name) == 0 || strcmp(h, l) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- the import ---- */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    yq_arena_t *arena;
    int colmap[NCOLS + 64]; /* CSV column index -> columns[] index, -1 ignored */
    size_t ncells;
    cJSON *errors; /* [{row, field, message}] */
    size_t nerrors;
    /* the rows read (malloc, grown by doubling; freed when the import ends) */
    yq_instrument_t *recs;
    int *exists; /* 1 when updating a stored record */
    size_t nrecs, cap;
    /* (institution, asset number) of every row read: an open-addressing
     * hash set of indexes into recs, 0 for a free slot else index + 1 (malloc) */
    size_t *seen;
    size_t seen_cap; /* a power of two, at least twice nrecs */
} import_t;

static void row_error(import_t *im, size_t row, const char *field, const char *message) {
    if (im->nerrors++ >= MAX_REPORTED_ERRORS)
        return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "row", (double)row);
    cJSON_AddStringToObject(e, "field", field);
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddItemToArray(im->errors, e);
}

static int64_t org_by_code(const char *code) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM orgs WHERE code = ?1");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int64_t id = yq_db_int(db, st, 0);
    return id;
}

/* Trims ASCII blanks at both ends, in place. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_whole(const char *s, int64_t *out) {
    char *end;
    if (!*s || (*s == '0' && s[1]) || *s == '+' || *s == '-')
        return *s == '0' && !s[1] ? (*out = 0, 0) : -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out) {
    static const char *const yes[] = {"true", "1", "yes", "y", "是", NULL};
    static const char *const no[] = {"false", "0", "no", "n", "否", NULL};
    for (const char *const *y = yes; *y; y++)
        if (!strcasecmp(s, *y))
            return (*out = 1, 0);
    for (const char *const *n = no; *n; n++)
        if (!strcasecmp(s, *n))
            return (*out = 0, 0);
    return -1;
}

/* Applies one cell; reports a malformed one. */
static void apply_cell(import_t *im, size_t row, yq_instrument_t *in, const column_t *c, char *v) {
    char msg[200];
    switch (c->kind) {
    case K_ORG:
        break;   /* read before the record is loaded */
    case K_TEXT: /* cells live only until the next row: copy; the export's formula guard comes off */
        *text_member(in, c) = yq_arena_strdup(im->arena, yq_csv_unguard(v));
        break;
    case K_ENUM:
        if (*v)
            *text_member(in, c) = yq_arena_strdup(im->arena, v);
        break;
    case K_INT:
        if (*v && parse_whole(v, (int64_t *)((char *)in + c->off))) {
            snprintf(msg, sizeof msg, "'%.40s' is not a whole number (money in fen, e.g. 12000 for 120 yuan).", v);
            row_error(im, row, c->name, msg);
        }
        break;
    case K_BOOL:
        if (*v && parse_bool(v, (int *)((char *)in + c->off)))
            row_error(im, row, c->name, "Use true or false (是/否).");
        break;
    case K_HOURS:
        if (*v && yq_open_hours_parse(v, in->open_hours, &in->n_open_hours, msg, sizeof msg))
            row_error(im, row, c->name, msg);
        yq_open_hours_normalise(in);
        break;
    case K_MODES:
        if (*v && yq_service_modes_parse(v, &in->service_modes))
            row_error(im, row, c->name, "List of self_operated, assisted, sample, remote separated by commas.");
        break;
    }
}

static uint64_t asset_hash(int64_t org, const char *asset) {
    uint64_t h = 1469598103934665603u ^ (uint64_t)org; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)asset; *c; c++)
        h = (h ^ *c) * 1099511628211u;
    return h;
}

/* Looks (org, asset) up among the rows read so far. Returns 1 when an earlier
 * row has it; else 0 with *slot the free slot where it belongs. */
static int seen_find(const import_t *im, int64_t org, const char *asset, size_t *slot) {
    size_t mask = im->seen_cap - 1, i = (size_t)asset_hash(org, asset) & mask;
    for (; im->seen[i]; i = (i + 1) & mask) {
        const yq_instrument_t *r = &im->recs[im->seen[i] - 1];
        if (r->owner_org_id == org && strcmp(r->asset_no, asset) == 0)
            return 1;
    }
    *slot = i;
    return 0;
}

/* Makes room for one more row: recs and exists grow by doubling, the hash
 * set is rebuilt at twice the size when it would be more than half full. */
static void reserve_row(import_t *im) {
    if (im->nrecs == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 64;
        im->recs = yq_xrealloc(im->recs, im->cap * sizeof *im->recs);
        im->exists = yq_xrealloc(im->exists, im->cap * sizeof *im->exists);
    }
    if (2 * (im->nrecs + 1) <= im->seen_cap)
        return;
    free(im->seen);
    im->seen_cap = im->seen_cap ? im->seen_cap * 2 : 256;
    im->seen = yq_xcalloc(im->seen_cap, sizeof *im->seen);
    for (size_t r = 0; r < im->nrecs; r++) {
        size_t slot;
        seen_find(im, im->recs[r].owner_org_id, im->recs[r].asset_no, &slot);
        im->seen[slot] = r + 1;
    }
}

/* Reads one data row (row counts from 1) into a record and checks it. */
static void read_row(import_t *im, size_t row, char **cells, size_t n) {
    char *org_code = NULL, *asset = NULL;
    for (size_t i = 0; i < n && i < im->ncells; i++) {
        int k = im->colmap[i];
        if (k >= 0 && columns[k].kind == K_ORG)
            org_code = trim(cells[i]);
        if (k >= 0 && strcmp(columns[k].name, "asset_no") == 0)
            asset = (char *)yq_csv_unguard(trim(cells[i]));
    }
    int64_t org = 0;
    if (org_code && *org_code) {
        org = org_by_code(org_code);
        if (!org) {
            row_error(im, row, "owner_org_code", "No institution has this code.");
            return;
        }
    } else {
        org = im->p->org_id; /* an operator's own institution */
        if (!org) {
            row_error(im, row, "owner_org_code", "Name the owning institution's code.");
            return;
        }
    }
    if (!yq_instr_editable(im->p, org)) {
        row_error(im, row, "owner_org_code", "You may import only your own institution's instruments.");
        return;
    }
    if (!asset || !*asset) {
        row_error(im, row, "asset_no", "Field 'asset_no' is required.");
        return;
    }
    reserve_row(im);
    size_t slot;
    if (seen_find(im, org, asset, &slot)) {
        row_error(im, row, "asset_no", "This asset number appears twice in the file.");
        return;
    }
    yq_instrument_t *in = &im->recs[im->nrecs];
    int64_t id = yq_instr_find(yq_db_main(), org, asset);
    if (!id || yq_instr_load(yq_db_main(), id, im->arena, in, NULL))
        yq_instrument_defaults(in), id = 0;
    in->owner_org_id = org;
    in->asset_no = yq_arena_strdup(im->arena, asset);
    int cross_given = 0;
    for (size_t i = 0; i < n && i < im->ncells; i++) {
        int k = im->colmap[i];
        if (k < 0)
            continue;
        char *v = trim(cells[i]);
        cross_given |= strcmp(columns[k].name, "price.cross_zone_fen") == 0 && *v;
        apply_cell(im, row, in, &columns[k], v);
    }
    /* A new record's cross-zone rate defaults to its zone rate (DOMAIN.md Fees). */
    if (!id && !cross_given)
        in->cross_zone_fen = in->zone_fen;
    yq_field_error_t errs[16];
    size_t ne = yq_instrument_check(in, errs, 16);
    for (size_t e = 0; e < ne && e < 16; e++)
        row_error(im, row, errs[e].field, errs[e].message);
    im->seen[slot] = im->nrecs + 1;
    im->exists[im->nrecs++] = id != 0;
}

/* Maps the header row. Returns 0 or -1 after answering 400. */
static int read_header(import_t *im, char **cells, size_t n) {
    int seen[NCOLS] = {0};
    if (n > sizeof im->colmap / sizeof im->colmap[0]) {
        yq_reply_error(im->req, 400, "invalid_csv", "The header row has too many columns.", NULL);
        return -1;
    }
    im->ncells = n;
    for (size_t i = 0; i < n; i++) {
        char *h = trim(cells[i]);
        int k = *h ? column_of(h) : -1;
        if (*h && k < 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "Unknown column '%.60s' in the header row.", h);
            yq_reply_error(im->req, 400, "unknown_column", msg, h);
            return -1;
        }
        if (k >= 0 && seen[k]++) {
            yq_reply_error(im->req, 400, "duplicate_column", "A column appears twice in the header row.",
                           columns[k].name);
            return -1;
        }
        im->colmap[i] = k;
    }
    if (!seen[1]) {
        yq_reply_error(im->req, 400, "missing_column", "The header row needs an asset_no (资产编号) column.",
                       "asset_no");
        return -1;
    }
    return 0;
}

/* The search index's terms (FTS5) of the instruments whose ids are in the
 * JSON array `ids`: removed ("delete", with the values they were indexed
 * under) or added. One statement for the whole import (migration 082). */
static int search_terms(yq_db_t *db, const char *ids, int remove) {
    sqlite3_stmt *st =
        remove ? yq_db_stmt(db, "INSERT INTO instruments_fts (instruments_fts, rowid, name_zh, name_en, model, "
                                "manufacturer, functions) SELECT 'delete', id, name_zh, name_en, model, manufacturer, "
                                "functions FROM instruments WHERE id IN (SELECT value FROM json_each(?1))")
               : yq_db_stmt(db, "INSERT INTO instruments_fts (rowid, name_zh, name_en, model, manufacturer, functions) "
                                "SELECT id, name_zh, name_en, model, manufacturer, functions FROM instruments "
                                "WHERE id IN (SELECT value FROM json_each(?1))");
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

/* Second pass: every row in one transaction, the search index's terms
 * written once at the end (migration 082). Returns 0 or a negative code. */
static int write_rows(import_t *im, int64_t *created, int64_t *updated) {
    yq_db_t *db = yq_db_main();
    int rc = yq_db_begin(db);
    if (rc == 0)
        rc = yq_db_exec(db, "INSERT INTO search_deferred (id) VALUES (1)");
    /* Which stored rows change; their terms go before they do. */
    unsigned char *changes = yq_arena_alloc(im->arena, im->nrecs ? im->nrecs : 1);
    yq_buf_t ids = {0}, touched = {0};
    yq_buf_puts(&ids, "[");
    for (size_t r = 0; rc == 0 && r < im->nrecs; r++) {
        yq_instrument_t *in = &im->recs[r], stored;
        changes[r] = 1;
        if (!im->exists[r])
            continue;
        in->id = yq_instr_find(db, in->owner_org_id, in->asset_no);
        changes[r] = !(yq_instr_load(db, in->id, im->arena, &stored, NULL) == 0 && yq_instr_equal(&stored, in));
        if (changes[r])
            yq_buf_printf(&ids, "%s%lld", ids.len > 1 ? "," : "", (long long)in->id);
    }
    yq_buf_puts(&ids, "]");
    if (rc == 0 && ids.len > 2)
        rc = search_terms(db, ids.data, 1);
    yq_buf_puts(&touched, "[");
    for (size_t r = 0; rc == 0 && r < im->nrecs; r++) {
        yq_instrument_t *in = &im->recs[r];
        if (!changes[r])
            continue;
        cJSON *before = NULL;
        if (im->exists[r]) {
            before = yq_instr_json(db, in->id);
            rc = yq_instr_update(db, in);
            (*updated)++;
        } else {
            rc = yq_instr_insert(db, in);
            (*created)++;
        }
        cJSON *after = rc == 0 ? yq_instr_json(db, in->id) : NULL;
        if (rc == 0)
            rc = yq_audit(im->req, im->p, NULL, before ? "instrument_update" : "instrument_create", "instrument",
                          in->id, in->owner_org_id, before, after);
        if (rc == 0)
            yq_buf_printf(&touched, "%s%lld", touched.len > 1 ? "," : "", (long long)in->id);
        cJSON_Delete(before);
        cJSON_Delete(after);
    }
    yq_buf_puts(&touched, "]");
    if (rc == 0 && touched.len > 2)
        rc = search_terms(db, touched.data, 0);
    if (rc == 0)
        rc = yq_db_exec(db, "DELETE FROM search_deferred");
    if (rc == 0)
        rc = yq_db_commit(db);
    if (rc)
        yq_db_rollback(db);
    yq_buf_free(&ids);
    yq_buf_free(&touched);
    return rc;
}

static void reply_rows(import_t *im) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu problem%s found; nothing was imported.", im->nerrors, im->nerrors == 1 ? "" : "s");
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", "invalid_rows");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToObject(o, "rows", im->errors);
    im->errors = NULL;
    yq_api_json(im->req, 400, o);
}

/* The charset parameter of Content-Type: "utf-8" (default), "gb18030"
 * (GBK and GB2312 are subsets), or NULL when the type is not text/csv. */
static const char *csv_charset(yq_req_t *req, int *named) {
    const char *ct = yq_req_header(req, "content-type");
    *named = 0;
    if (!ct || strncasecmp(ct, "text/csv", 8) != 0 || (ct[8] && ct[8] != ';' && ct[8] != ' '))
        return NULL;
    const char *cs = strcasestr(ct, "charset=");
    if (!cs)
        return "utf-8";
    *named = 1;
    cs += 8;
    if (*cs == '"')
        cs++;
    if (!strncasecmp(cs, "utf-8", 5) || !strncasecmp(cs, "utf8", 4))
        return "utf-8";
    if (!strncasecmp(cs, "gb18030", 7) || !strncasecmp(cs, "gbk", 3) || !strncasecmp(cs, "gb2312", 6))
        return "gb18030";
    return "";
}

/* A blank line (one empty cell) is skipped, not a row. */
/* A row with nothing in it: an empty line, or only separators (spreadsheets
 * write ",,,,," for empty rows below the data). */
static int blank_row(char **cells, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (*trim(cells[i]))
            return 0;
    return 1;
}

/* Counts the data rows up to one past the limit, then rewinds. Returns 0, or
 * -1 after answering 413 too_many_rows. A malformed file is left for the
 * reading pass to report. */
static int check_row_count(yq_req_t *req, yq_csv_t *csv) {
    char **cells;
    size_t n, rows = 0;
    int first = 1;
    while (rows <= IMPORT_MAX_ROWS && yq_csv_next(csv, &cells, &n) == 1) {
        if (!first && !blank_row(cells, n))
            rows++;
        first = 0;
    }
    yq_csv_rewind(csv);
    if (rows <= IMPORT_MAX_ROWS)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "The file has more than %d data rows; import at most %d rows at a time (split the file).",
             IMPORT_MAX_ROWS, IMPORT_MAX_ROWS);
    yq_reply_error(req, 413, "too_many_rows", msg, NULL);
    return -1;
}

/* POST /api/v1/instruments/import (text/csv) -> 200 {created, updated,
 * unchanged}; 400 {error, rows} with every problem and nothing written; 401;
 * 403 (not an operator or admin); 413 (body over 8 MiB: body_too_large; more
 * than IMPORT_MAX_ROWS data rows: too_many_rows); 415 (not CSV, or an unknown
 * charset). */
static void on_import(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_OPERATOR | YQ_ROLE_ADMIN);
    if (!p)
        return;
    int named;
    const char *charset = csv_charset(req, &named);
    if (!charset || !*charset) {
        yq_reply_error(req, 415, "unsupported_media_type",
                       "Send the list as text/csv with charset utf-8 (default) or gb18030.", NULL);
        return;
    }
    yq_csv_t *csv = NULL;
    char why[160];
    if (yq_csv_open(req->body ? req->body : "", req->body_len, charset, !named, &csv, why, sizeof why)) {
        yq_reply_error(req, 400, "invalid_csv", why, NULL);
        return;
    }
    if (check_row_count(req, csv)) {
        yq_csv_close(csv);
        return;
    }
    import_t im = {.req = req, .p = p, .arena = req->arena, .errors = cJSON_CreateArray()};
    /* The rows are checked against the catalogue (institutions, asset
     * numbers) in one read transaction rather than one per statement. */
    yq_db_t *db = yq_db_main();
    int reading = yq_db_exec(db, "BEGIN") == 0;
    char **cells;
    size_t n, row = 0; /* data rows so far (0 until the header is read); blank rows do not count */
    int rc, header = 0;
    while ((rc = yq_csv_next(csv, &cells, &n)) == 1) {
        if (!header) {
            if (read_header(&im, cells, n))
                goto done;
            header = 1;
            continue;
        }
        if (!blank_row(cells, n))
            read_row(&im, ++row, cells, n);
    }
    if (reading)
        yq_db_exec(db, "COMMIT"); /* nothing written: ends the read */
    reading = 0;
    if (rc < 0) {
        snprintf(why, sizeof why, "The CSV is malformed near data row %zu: %s", row + 1, yq_csv_error(csv));
        yq_reply_error(req, 400, "invalid_csv", why, NULL);
        goto done;
    }
    if (!header) {
        yq_reply_error(req, 400, "invalid_csv", "The file is empty: send a header row and data rows.", NULL);
        goto done;
    }
    if (im.nerrors) {
        reply_rows(&im);
        goto done;
    }
    int64_t created = 0, updated = 0;
    if (write_rows(&im, &created, &updated)) {
        yq_api_internal(req);
        goto done;
    }
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int(o, "created", created);
    yq_json_add_int(o, "updated", updated);
    yq_json_add_int(o, "unchanged", (int64_t)im.nrecs - created - updated);
    yq_api_json(req, 200, o);
done:
    if (reading)
        yq_db_exec(db, "COMMIT");
    cJSON_Delete(im.errors);
    free(im.recs);
    free(im.exists);
    free(im.seen);
    yq_csv_close(csv);
}

/* ---- export: one record ---- */

/* One instrument object -> one CSV record. */
static void write_record(yq_csv_writer_t *w, const cJSON *o) {
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(o, "rules");
    const cJSON *price = cJSON_GetObjectItemCaseSensitive(o, "price");
    char buf[512];
    for (size_t i = 0; i < NCOLS; i++) {
        const column_t *c = &columns[i];
        const cJSON *v;
        if (c->kind == K_ORG)
            v = cJSON_GetObjectItemCaseSensitive(o, "owner_org_code");
        else if (!strncmp(c->name, "rules.", 6))
            v = cJSON_GetObjectItemCaseSensitive(rules, c->name + 6);
        else if (!strncmp(c->name, "price.", 6))
            v = cJSON_GetObjectItemCaseSensitive(price, c->name + 6);
        else
            v = cJSON_GetObjectItemCaseSensitive(o, c->name);
        buf[0] = '\0';
        if (c->kind == K_HOURS) {
            yq_open_span_t sp[YQ_OPEN_SPANS_MAX];
            size_t n = 0;
            const cJSON *s;
            cJSON_ArrayForEach(s, v) {
                if (n < YQ_OPEN_SPANS_MAX)
                    sp[n++] = (yq_open_span_t){
                        cJSON_GetObjectItemCaseSensitive(s, "weekday")->valueint,
                        yq_hhmm_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "from"))),
                        yq_hhmm_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "to")))};
            }
            yq_open_hours_format(sp, n, buf, sizeof buf);
        } else if (c->kind == K_MODES) {
            size_t len = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, v) len +=
                (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "", m->valuestring);
        } else if (cJSON_IsBool(v)) {
            snprintf(buf, sizeof buf, "%s", cJSON_IsTrue(v) ? "true" : "false");
        } else if (cJSON_IsNumber(v)) {
            snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
        } else if (cJSON_IsString(v)) {
            yq_csv_cell(w, v->valuestring);
            continue;
        }
        yq_csv_cell(w, buf);
    }
    yq_csv_end_row(w);
}

/* ---- export: rendered off the loop, kept per catalogue version ----
 *
 * An export holds every instrument the caller may see (export.json is 3 MB
 * on the demo): reading and printing it takes about 100 ms, which on the loop
 * thread held up every other request, and anyone may ask for it. So:
 *
 *   - the loop runs only the search (the in-memory pass of
 *     instrument_search.c) for the ids in order; a thread-pool job reads those
 *     rows through a read-only connection of its own (yq_db_open_reader), in
 *     one read transaction, and renders the bytes;
 *   - the bytes are kept, keyed by what was asked (format, filters, and what
 *     the caller may see) and by the catalogue version (migrations 021 and
 *     076: renewed by every change to an instrument, to an institution's
 *     zone, and to the institution and zone names an instrument shows). A
 *     request reads the version before anything else, so it never gets bytes
 *     of an older catalogue than the one its own earlier writes made; asking
 *     again costs a lookup and a copy;
 *   - a request for an export that is being rendered at the same version
 *     waits for that job instead of starting another;
 *   - the job reads the version again inside its transaction; when it is no
 *     longer the one the ids were found at (a change in between), the loop
 *     searches again and the job runs again (EXPORT_TRIES in all; after that
 *     the answer goes out but is not kept);
 *   - at most EXPORT_JOBS jobs use the thread pool at a time (it has four
 *     threads, and password hashing needs them too); the others queue;
 *   - answers are paced: a uv_idle handle sends about EXPORT_PACE_BYTES of
 *     them per loop iteration, so forty 3 MB answers due at once (copied
 *     twice on their way to the socket) are spread over forty iterations and
 *     the requests that arrive meanwhile are served between them.
 *
 * An export is freed when it is neither kept, nor being rendered, nor waiting
 * to be sent. On a database without the version nothing is kept; the work is
 * still done off the loop.
 */

#define EXPORT_KEEP 8                 /* exports kept */
#define EXPORT_KEEP_BYTES (64u << 20) /* their bytes in all */
#define EXPORT_JOBS 2
#define EXPORT_TRIES 4
#define EXPORT_PACE_BYTES (4u << 20) /* answer bytes sent per loop iteration */

enum { FMT_CSV, FMT_JSON };

typedef struct waiter {
    yq_req_t *req;
    struct waiter *next;
} waiter_t;

/* One export: being rendered (with the requests waiting for it), or kept. */
typedef struct export_job {
    char *key;       /* format, filters and viewer (malloc) */
    int versioned;   /* the database has a catalogue version */
    int64_t version; /* the version the ids were found at */
    int kept;        /* in ex.kept */
    int rendering;   /* a job is queued or running */
    int pins;        /* answers waiting to be sent with these bytes */
    char *data;      /* the bytes (malloc), NULL until rendered */
    size_t len;
    uint64_t used; /* last use, for eviction */
    waiter_t *waiters;
    /* the job; the loop leaves the worker's fields alone while it runs */
    uv_work_t work;
    int fmt, zh;
    yq_search_t s;                       /* its strings are the three below */
    char *q, *class_prefix, *run_status; /* malloc, or NULL */
    int64_t *ids;                        /* the rows to render, in order (malloc) */
    size_t nids;
    char *path;                /* of the database (malloc) */
    int tries;                 /* searches made so far */
    struct export_job *queued; /* next in the queue */
    /* the worker's: */
    char *out; /* the bytes rendered (malloc) */
    size_t out_len;
    int64_t seen; /* the version in the job's read transaction */
    int failed;
} export_t;

/* An answer waiting for its turn. */
typedef struct paced {
    yq_req_t *req;
    export_t *e;
    struct paced *next;
} paced_t;

static struct {
    export_t *kept[EXPORT_KEEP];
    uint64_t clock;
    int running;                  /* jobs on the thread pool */
    export_t *queue, *queue_tail; /* jobs waiting for their turn */
    paced_t *paced, *paced_tail;  /* answers waiting for theirs */
    uv_idle_t pacer;
    int pacer_state; /* 0 not made yet, 1 ready, 2 closed (the server is stopping) */
} ex;

/* The cache key: everything that decides an export's bytes but the catalogue
 * itself. Strings are length-prefixed so no two requests share a key. The
 * caller frees it. */
static char *export_key(int fmt, int zh, const yq_search_t *s) {
    yq_buf_t b = {0};
    const char *q = s->q ? s->q : "", *c = s->class_prefix ? s->class_prefix : "",
               *r = s->run_status ? s->run_status : "";
    yq_buf_printf(
        &b, "%s|zh=%d|q=%zu:%s|zone=%lld|class=%zu:%s|org=%lld|bookable=%d|run=%zu:%s|retired=%d|all=%d|org_of=%lld",
        fmt == FMT_CSV ? "csv" : "json", zh, strlen(q), q, (long long)s->zone_id, strlen(c), c, (long long)s->org_id,
        s->bookable, strlen(r), r, s->include_retired, s->see_all, (long long)s->viewer_org);
    return yq_buf_steal(&b);
}

/* Frees e once nothing holds it any more. */
static void export_release(export_t *e) {
    if (e->kept || e->rendering || e->pins)
        return;
    free(e->key);
    free(e->data);
    free(e->q);
    free(e->class_prefix);
    free(e->run_status);
    free(e->ids);
    free(e->path);
    free(e->out);
    free(e);
}

/* Takes e out of the table (and frees it if nothing else holds it). */
static void export_unkeep(export_t *e) {
    for (size_t i = 0; i < EXPORT_KEEP; i++)
        if (ex.kept[i] == e)
            ex.kept[i] = NULL;
    e->kept = 0;
    export_release(e);
}

/* A kept export of this key at this version (rendered or being rendered),
 * other than `other`; or NULL. */
static export_t *export_find(const char *key, int64_t version, const export_t *other) {
    for (size_t i = 0; i < EXPORT_KEEP; i++) {
        export_t *e = ex.kept[i];
        if (e && e != other && e->version == version && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

/* Drops rendered exports of another version than the current one: no
 * request can use them again. */
static void export_drop_old(int64_t version) {
    for (size_t i = 0; i < EXPORT_KEEP; i++)
        if (ex.kept[i] && ex.kept[i]->data && ex.kept[i]->version != version)
            export_unkeep(ex.kept[i]);
}

/* Puts e in the table, in a free place or that of the least recently used
 * rendered export. When every place holds one being rendered, e is not kept. */
static void export_keep(export_t *e) {
    size_t at = EXPORT_KEEP;
    for (size_t i = 0; i < EXPORT_KEEP; i++) {
        export_t *o = ex.kept[i];
        if (!o) {
            at = i;
            break;
        }
        if (o->data && (at == EXPORT_KEEP || o->used < ex.kept[at]->used))
            at = i;
    }
    if (at == EXPORT_KEEP)
        return;
    if (ex.kept[at])
        export_unkeep(ex.kept[at]);
    ex.kept[at] = e;
    e->kept = 1;
}

/* Keeps the rendered bytes under EXPORT_KEEP_BYTES, dropping the least
 * recently used exports other than `keep`. */
static void export_trim(const export_t *keep) {
    for (;;) {
        size_t total = 0, lru = EXPORT_KEEP;
        for (size_t i = 0; i < EXPORT_KEEP; i++) {
            export_t *e = ex.kept[i];
            if (!e || !e->data)
                continue;
            total += e->len;
            if (e != keep && (lru == EXPORT_KEEP || e->used < ex.kept[lru]->used))
                lru = i;
        }
        if (total <= EXPORT_KEEP_BYTES || lru == EXPORT_KEEP)
            return;
        export_unkeep(ex.kept[lru]);
    }
}

static void export_reply(yq_req_t *req, const export_t *e) {
    if (e->fmt == FMT_CSV) {
        yq_reply_header(req, "Content-Disposition", "attachment; filename=\"yiqi-instruments.csv\"");
        yq_reply(req, 200, "text/csv; charset=utf-8", e->data, e->len);
    } else {
        yq_reply(req, 200, "application/json", e->data, e->len);
    }
}

/* Sends answers in order until about EXPORT_PACE_BYTES have gone (at least
 * one), once per loop iteration while any wait. */
static void on_pace(uv_idle_t *h) {
    size_t sent = 0;
    while (ex.paced && sent < EXPORT_PACE_BYTES) {
        paced_t *p = ex.paced;
        ex.paced = p->next;
        if (!ex.paced)
            ex.paced_tail = NULL;
        export_reply(p->req, p->e);
        sent += p->e->len;
        p->e->pins--;
        export_release(p->e);
        free(p);
    }
    if (!ex.paced)
        uv_idle_stop(h);
}

/* The server is stopping: sends what waits now and closes the handle. */
static void pacer_close(void *ctx) {
    (void)ctx;
    while (ex.paced)
        on_pace(&ex.pacer);
    uv_idle_stop(&ex.pacer);
    uv_close((uv_handle_t *)&ex.pacer, NULL);
    ex.pacer_state = 2;
}

/* Answers req with e's bytes in its turn (at once when the server stops). */
static void export_send(yq_req_t *req, export_t *e) {
    if (ex.pacer_state == 0) {
        uv_idle_init(uv_default_loop(), &ex.pacer);
        yq_server_on_stop(pacer_close, NULL);
        ex.pacer_state = 1;
    }
    if (ex.pacer_state == 2) {
        export_reply(req, e);
        return;
    }
    paced_t *p = yq_xcalloc(1, sizeof *p);
    p->req = req;
    p->e = e;
    e->pins++;
    if (ex.paced_tail)
        ex.paced_tail->next = p;
    else
        ex.paced = p;
    ex.paced_tail = p;
    uv_idle_start(&ex.pacer, on_pace);
}

/* Renders the CSV of the rows st steps through (one id at a time). */
static void render_csv(export_t *e, sqlite3_stmt *st, yq_buf_t *out) {
    yq_csv_writer_t *w = yq_csv_writer_new();
    for (size_t i = 0; i < NCOLS; i++)
        yq_csv_cell(w, e->zh ? label_of(&columns[i]) : columns[i].name);
    yq_csv_end_row(w);
    for (size_t i = 0; i < e->nids && !e->failed; i++) {
        sqlite3_bind_int64(st, 1, e->ids[i]);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            cJSON *o = yq_instr_row_json(st);
            write_record(w, o);
            cJSON_Delete(o);
        } else if (rc != SQLITE_DONE) {
            e->failed = 1;
        }
        sqlite3_reset(st);
    }
    size_t len;
    const char *data = yq_csv_writer_data(w, &len);
    yq_buf_append(out, data, len);
    yq_csv_writer_free(w);
}

/* Renders {generated_at, count, items} of the rows st steps through. */
static void render_json(export_t *e, sqlite3_stmt *st, yq_buf_t *out) {
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; i < e->nids && !e->failed; i++) {
        sqlite3_bind_int64(st, 1, e->ids[i]);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            cJSON_AddItemToArray(items, yq_instr_row_json(st));
        else if (rc != SQLITE_DONE)
            e->failed = 1;
        sqlite3_reset(st);
    }
    cJSON *o = cJSON_CreateObject();
    yq_json_add_time(o, "generated_at", yq_now());
    yq_json_add_int(o, "count", cJSON_GetArraySize(items));
    cJSON_AddItemToObject(o, "items", items);
    char *text = yq_json_print(o);
    cJSON_Delete(o);
    if (text)
        yq_buf_puts(out, text);
    else
        e->failed = 1;
    free(text);
}

/* On a thread-pool thread: reads the version and the rows in one snapshot
 * and renders them into e->out. Touches nothing but e's worker fields. */
static void do_render(uv_work_t *w) {
    export_t *e = w->data;
    sqlite3 *h = yq_db_open_reader(e->path);
    sqlite3_stmt *vst = NULL, *st = NULL;
    e->failed = !h || sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK;
    if (!e->failed && e->versioned) {
        e->failed =
            sqlite3_prepare_v2(h, "SELECT v FROM catalogue_version WHERE id = 1", -1, &vst, NULL) != SQLITE_OK ||
            sqlite3_step(vst) != SQLITE_ROW;
        e->seen = e->failed ? 0 : sqlite3_column_int64(vst, 0);
    }
    /* A change since the search: the ids may be wrong, so the loop searches
     * again (the last try renders what it has; it is not kept). */
    int stale = e->versioned && e->seen != e->version && e->tries < EXPORT_TRIES;
    if (!e->failed && !stale &&
        sqlite3_prepare_v2(h, "SELECT " YQ_INSTR_COLS YQ_INSTR_FROM " WHERE i.id = ?1", -1, &st, NULL) != SQLITE_OK)
        e->failed = 1;
    if (!e->failed && !stale) {
        yq_buf_t out = {0};
        if (e->fmt == FMT_CSV)
            render_csv(e, st, &out);
        else
            render_json(e, st, &out);
        e->out_len = out.len;
        e->out = yq_buf_steal(&out);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(vst);
    if (h)
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(h);
}

static void after_render(uv_work_t *w, int status);

/* Finds the ids on the loop and hands the job to the thread pool. Returns 0,
 * or -1 when it could not (the caller answers the waiters). */
static int export_dispatch(export_t *e) {
    yq_db_t *db = yq_db_main();
    e->versioned = yq_catalogue_version(db, &e->version) == 0;
    free(e->ids);
    free(e->out);
    e->ids = NULL, e->out = NULL, e->nids = 0, e->out_len = 0, e->failed = 0, e->seen = 0;
    yq_search_result_t res;
    const char *bad = NULL;
    int rc = yq_instr_search(db, &e->s, &res, &bad);
    cJSON_Delete(res.items);
    if (rc) {
        free(res.ids);
        return -1;
    }
    e->ids = res.ids;
    e->nids = res.nids;
    e->tries++;
    e->work.data = e;
    if (uv_queue_work(uv_default_loop(), &e->work, do_render, after_render))
        return -1;
    ex.running++;
    return 0;
}

/* Gives up on e: answers every waiting request 500 and lets e go. */
static void export_fail(export_t *e) {
    waiter_t *wt = e->waiters;
    e->waiters = NULL;
    while (wt) {
        waiter_t *next = wt->next;
        yq_api_internal(wt->req);
        free(wt);
        wt = next;
    }
    e->rendering = 0;
    export_unkeep(e);
}

/* Starts queued jobs while there is room. */
static void export_pump(void) {
    while (ex.queue && ex.running < EXPORT_JOBS) {
        export_t *e = ex.queue;
        ex.queue = e->queued;
        if (!ex.queue)
            ex.queue_tail = NULL;
        if (export_dispatch(e))
            export_fail(e);
    }
}

static void after_render(uv_work_t *w, int status) {
    export_t *e = w->data;
    ex.running--;
    int stale = !status && !e->failed && e->versioned && e->seen != e->version;
    if (stale && e->tries < EXPORT_TRIES) {
        if (export_dispatch(e))
            export_fail(e);
        export_pump();
        return;
    }
    if (status || e->failed || !e->out) {
        export_fail(e);
        export_pump();
        return;
    }
    e->rendering = 0;
    e->data = e->out;
    e->len = e->out_len;
    e->out = NULL;
    free(e->ids);
    e->ids = NULL;
    e->used = ++ex.clock;
    for (waiter_t *wt = e->waiters, *next; wt; wt = next) {
        next = wt->next;
        export_send(wt->req, e);
        free(wt);
    }
    e->waiters = NULL;
    /* Kept only when it shows the version it is filed under, once. */
    if (stale || !e->versioned || export_find(e->key, e->version, e))
        export_unkeep(e);
    else if (e->kept)
        export_trim(e);
    else
        export_release(e);
    export_pump();
}

static char *dup_or_null(const char *s) {
    return s ? yq_xstrdup(s) : NULL;
}

/* Answers req with the export of s (filters and viewer) in format fmt: kept
 * bytes when there are some for the current catalogue, else after a job. */
static void export_serve(yq_req_t *req, int fmt, int zh, const yq_search_t *s) {
    int64_t version = 0;
    int versioned = yq_catalogue_version(yq_db_main(), &version) == 0;
    char *key = export_key(fmt, zh, s);
    export_t *e = versioned ? export_find(key, version, NULL) : NULL;
    if (e && e->data) {
        free(key);
        e->used = ++ex.clock;
        export_send(req, e);
        return;
    }
    waiter_t *wt = yq_xcalloc(1, sizeof *wt);
    wt->req = req;
    if (e) { /* being rendered at this version: wait for it */
        free(key);
        wt->next = e->waiters;
        e->waiters = wt;
        return;
    }
    if (versioned)
        export_drop_old(version);
    e = yq_xcalloc(1, sizeof *e);
    e->key = key;
    e->version = version;
    e->versioned = versioned;
    e->rendering = 1;
    e->waiters = wt;
    e->fmt = fmt;
    e->zh = zh;
    e->s = *s;
    e->s.q = e->q = dup_or_null(s->q);
    e->s.class_prefix = e->class_prefix = dup_or_null(s->class_prefix);
    e->s.run_status = e->run_status = dup_or_null(s->run_status);
    e->s.cursor = NULL;
    e->s.limit = 1000000;
    e->s.sort = YQ_SORT_NAME;
    e->s.facets = 0;
    e->s.ids_only = 1;
    e->path = yq_xstrdup(yq_db_path(yq_db_main()));
    if (versioned)
        export_keep(e);
    if (ex.running < EXPORT_JOBS) {
        if (export_dispatch(e))
            export_fail(e);
        return;
    }
    if (ex.queue_tail)
        ex.queue_tail->queued = e;
    else
        ex.queue = e;
    ex.queue_tail = e;
}

/* GET /api/v1/instruments/export.csv -> 200 text/csv (UTF-8 with BOM); 400
 * naming a bad filter; 500. Takes the search filters; shows what the caller
 * may see (a token without the "all" scope: what the public sees);
 * `headers=zh` writes the Chinese labels. */
static void on_export_csv(yq_req_t *req) {
    yq_search_t s;
    if (yq_instr_search_params(req, &s))
        return;
    if (!yq_instr_query_ok(s.q)) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'q' may hold at most 4 words.", "q");
        return;
    }
    const char *h = yq_req_query(req, "headers");
    export_serve(req, FMT_CSV, h && strcmp(h, "zh") == 0, &s);
}

/* GET /api/v1/instruments/export.json -> 200 {generated_at, count, items}:
 * every external instrument in service, whoever asks (open data); 500.
 * generated_at is when these bytes were made: they are served again until
 * the catalogue changes. */
static void on_export_json(yq_req_t *req) {
    yq_search_t s = {.sort = YQ_SORT_NAME, .limit = 1000000};
    export_serve(req, FMT_JSON, 0, &s);
}

const yq_route_t yq_api_instrument_csv_routes[] = {
    {YQ_M_POST, "/api/v1/instruments/import", on_import, IMPORT_MAX_BODY, NULL},
    {YQ_M_GET, "/api/v1/instruments/export.csv", on_export_csv, 0, NULL},
    {YQ_M_GET, "/api/v1/instruments/export.json", on_export_json, 0, NULL},
};
const size_t yq_api_instrument_csv_routes_count =
    sizeof yq_api_instrument_csv_routes / sizeof yq_api_instrument_csv_routes[0];
