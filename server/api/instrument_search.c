/*
 * Catalogue search (API.md "Search"): text match, filters, visibility, three
 * sorts with keyset cursors, and facet counts.
 *
 * The text match picks one of three modes, each a CTE m(id, r) of matching
 * ids and a relevance (lower is better):
 *   - none: every instrument;
 *   - fts:  every word of q has three or more characters: the trigram FTS5
 *           index of migration 020 (substring match, case folded, bm25 rank);
 *   - short: a word of one or two characters, which trigrams cannot match:
 *           a byte search (instr) over instrument_search.short, the
 *           lower-cased names, model and manufacturer.
 * Filters, sorts and facets read the narrow instrument_search rows of
 * migration 020; only the page shown is read from the wide instruments rows.
 * Each mode has its own statement text (the SQL is fixed; only bindings come
 * from the request). The filters and the visibility rule are one shared WHERE
 * clause whose parameters switch the unused parts off.
 *
 * Sorting uses one key expression sk (relevance, name, or -value) and the id
 * as tie-breaker; the cursor carries the last row's (sk, id), so paging never
 * repeats or skips a row even when rows share a key.
 *
 * Facets count by zone with every filter except zone, and by top-level class
 * with every filter except class, so the panel shows what each choice gives;
 * one grouped query serves both.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/instrument_store.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "domain/classes.h"

enum { MODE_NONE, MODE_FTS, MODE_SHORT };

#define M_NONE "m(id, r) AS (SELECT id, 0.0 FROM instrument_search)"
#define M_FTS "m(id, r) AS (SELECT rowid, rank FROM instruments_fts WHERE instruments_fts MATCH ?1)"
/* Short words: a byte search in the lower-cased names, model and manufacturer
 * (the words are lower-cased too, so ASCII matches without regard to case);
 * relevance is the position of the first word: names come first. */
#define M_SHORT                                                                                                        \
    "m(id, r) AS (SELECT id, instr(short, ?15) * 1.0 FROM instrument_search WHERE instr(short, ?15) > 0 AND "          \
    "instr(short, ?16) > 0 AND instr(short, ?17) > 0 AND instr(short, ?18) > 0)"

/* ?2 zone id (0 any), ?3 class prefix (NULL any), ?4 org id (0 any),
 * ?5 bookable only, ?6 run status (NULL any), ?7 include retired,
 * ?8 sees all, ?9 viewer's org (0 none). */
#define FILTERS                                                                                                        \
    " WHERE (?2 = 0 OR o.zone_id = ?2)"                                                                                \
    " AND (?3 IS NULL OR (i.class_code >= ?3 AND i.class_code < ?3 || 'z'))"                                           \
    " AND (?4 = 0 OR i.owner_org_id = ?4)"                                                                             \
    " AND (?5 = 0 OR (i.share_mode != 'none' AND i.retired = 0"                                                        \
    "      AND i.run_status IN ('normal', 'standby', 'occasional_fault')))"                                            \
    " AND (?6 IS NULL OR i.run_status = ?6)"                                                                           \
    " AND (i.retired = 0 OR ?7 = 1)"                                                                                   \
    " AND (?8 = 1 OR i.owner_org_id = ?9 OR (i.share_mode = 'external' AND i.retired = 0))"

/* ?20 sort, ?21 cursor id (0: first page), ?22 cursor key, ?23 limit. The
 * page is chosen on instrument_search (i); only its rows are read in full. */
#define SORTKEY "(CASE ?20 WHEN 0 THEN m.r WHEN 1 THEN i.name_zh ELSE -i.value_fen END)"
#define LIST(M)                                                                                                        \
    "WITH " M ", page(id, sk) AS (SELECT i.id, " SORTKEY " FROM m JOIN instrument_search i ON i.id = m.id "            \
    "JOIN orgs o ON o.id = i.owner_org_id" FILTERS " AND (?21 = 0 OR " SORTKEY " > ?22 OR (" SORTKEY                   \
    " = ?22 AND i.id > ?21)) ORDER BY 2, 1 LIMIT ?23) "                                                                \
    "SELECT " YQ_INSTR_COLS ", page.sk FROM page JOIN instruments i ON i.id = page.id "                                \
    "JOIN orgs o ON o.id = i.owner_org_id JOIN zones z ON z.id = o.zone_id ORDER BY page.sk, page.id"
#define FACETS(M)                                                                                                      \
    "WITH " M " SELECT o.zone_id, i.class_code, count(*) FROM m JOIN instrument_search i ON i.id = m.id "              \
    "JOIN orgs o ON o.id = i.owner_org_id" FILTERS " GROUP BY 1, 2"

static const char list_none[] = LIST(M_NONE);
static const char list_fts[] = LIST(M_FTS);
static const char list_short[] = LIST(M_SHORT);
static const char facets_none[] = FACETS(M_NONE);
static const char facets_fts[] = FACETS(M_FTS);
static const char facets_short[] = FACETS(M_SHORT);

#define SK_COL 52 /* the column after YQ_INSTR_COLS */

/* ---- the query text ---- */

typedef struct {
    int mode;
    char *match;                     /* FTS5 expression (malloc) */
    char *word[YQ_SEARCH_TERMS_MAX]; /* the words, ASCII lower-cased (malloc), "" when unused */
} terms_t;

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* Word separators: ASCII white space and the ideographic space U+3000. */
static size_t sep_len(const char *p) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        return 1;
    if ((unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80)
        return 3;
    return 0;
}

static void terms_free(terms_t *t) {
    free(t->match);
    for (int i = 0; i < YQ_SEARCH_TERMS_MAX; i++) {
        free(t->word[i]);
    }
}

/* Splits q into words and builds the FTS5 expression ("w1" "w2": each word a
 * quoted string, so no FTS syntax gets through) and the lower-cased words for
 * the short-word search. Returns 0, or -1 when q has too many words. */
static int terms_parse(const char *q, terms_t *t) {
    memset(t, 0, sizeof *t);
    yq_buf_t fts = {0};
    int n = 0, short_word = 0;
    const char *p = q ? q : "";
    while (*p) {
        size_t s;
        while ((s = sep_len(p)))
            p += s;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !sep_len(p))
            p++;
        if (n == YQ_SEARCH_TERMS_MAX) {
            yq_buf_free(&fts);
            terms_free(t);
            return -1;
        }
        size_t len = (size_t)(p - w);
        short_word |= utf8_chars(w, len) < 3;
        t->word[n] = yq_xstrndup(w, len);
        for (char *c = t->word[n]; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        yq_buf_puts(&fts, n ? " \"" : "\"");
        for (size_t i = 0; i < len; i++) {
            if (w[i] == '"')
                yq_buf_putc(&fts, '"');
            yq_buf_putc(&fts, w[i]);
        }
        yq_buf_putc(&fts, '"');
        n++;
    }
    for (int i = n; i < YQ_SEARCH_TERMS_MAX; i++)
        t->word[i] = yq_xstrdup("");
    t->mode = n == 0 ? MODE_NONE : short_word ? MODE_SHORT : MODE_FTS;
    t->match = yq_buf_steal(&fts);
    return 0;
}

/* ---- cursors: base64url("s|key|id") with s one of r, n, v ---- */

static const char sort_letter[] = "rnv";

/* The sort key of the last row shown, kept while stepping. */
typedef struct {
    double r;
    int64_t v, id;
    yq_buf_t name;
} last_t;

static void last_keep(last_t *l, yq_instr_sort_t sort, sqlite3_stmt *st) {
    l->id = sqlite3_column_int64(st, 0);
    if (sort == YQ_SORT_RELEVANCE) {
        l->r = sqlite3_column_double(st, SK_COL);
    } else if (sort == YQ_SORT_VALUE) {
        l->v = sqlite3_column_int64(st, SK_COL);
    } else {
        yq_buf_reset(&l->name);
        yq_buf_puts(&l->name, (const char *)sqlite3_column_text(st, SK_COL));
    }
}

/* Returns the cursor after l (free() it). */
static char *cursor_make(yq_instr_sort_t sort, const last_t *l) {
    yq_buf_t b = {0};
    yq_buf_printf(&b, "%c|", sort_letter[sort]);
    if (sort == YQ_SORT_RELEVANCE)
        yq_buf_printf(&b, "%.17g", l->r);
    else if (sort == YQ_SORT_NAME)
        yq_buf_puts(&b, l->name.data ? l->name.data : "");
    else
        yq_buf_printf(&b, "%lld", (long long)l->v);
    yq_buf_printf(&b, "|%lld", (long long)l->id);
    size_t size = sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = yq_xmalloc(size);
    sodium_bin2base64(out, size, (const unsigned char *)b.data, b.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    yq_buf_free(&b);
    return out;
}

/* Decodes a cursor and binds ?21 and ?22 on st. Returns 0 or -1. */
static int cursor_bind(sqlite3_stmt *st, yq_instr_sort_t sort, const char *cursor) {
    size_t clen = strlen(cursor), len;
    if (clen > 2048)
        return -1;
    unsigned char *raw = yq_xmalloc(clen + 1);
    int rc = -1;
    if (sodium_base642bin(raw, clen, cursor, clen, NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        goto done;
    raw[len] = '\0';
    char *s = (char *)raw, *bar = strrchr(s, '|');
    if (len < 4 || s[0] != sort_letter[sort] || s[1] != '|' || !bar || bar < s + 2)
        goto done;
    *bar = '\0';
    char *end;
    long long id = strtoll(bar + 1, &end, 10);
    if (*end || id <= 0)
        goto done;
    const char *key = s + 2;
    if (sort == YQ_SORT_RELEVANCE) {
        double r = strtod(key, &end);
        if (*end || end == key)
            goto done;
        sqlite3_bind_double(st, 22, r);
    } else if (sort == YQ_SORT_NAME) {
        sqlite3_bind_text(st, 22, key, -1, SQLITE_TRANSIENT);
    } else {
        long long v = strtoll(key, &end, 10);
        if (*end || end == key)
            goto done;
        sqlite3_bind_int64(st, 22, v);
    }
    sqlite3_bind_int64(st, 21, id);
    rc = 0;
done:
    free(raw);
    return rc;
}

/* ---- running it ---- */

static void bind_common(sqlite3_stmt *st, const yq_search_t *s, const terms_t *t, int with_zone, int with_class) {
    if (t->mode == MODE_FTS)
        sqlite3_bind_text(st, 1, t->match, -1, SQLITE_STATIC);
    if (t->mode == MODE_SHORT) /* instr(x, '') is 1: unused words match everything */
        for (int i = 0; i < YQ_SEARCH_TERMS_MAX; i++)
            sqlite3_bind_text(st, 15 + i, t->word[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, with_zone ? s->zone_id : 0);
    if (with_class && s->class_prefix && *s->class_prefix)
        sqlite3_bind_text(st, 3, s->class_prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, s->org_id);
    sqlite3_bind_int(st, 5, s->bookable ? 1 : 0);
    if (s->run_status && *s->run_status)
        sqlite3_bind_text(st, 6, s->run_status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, s->include_retired ? 1 : 0);
    sqlite3_bind_int(st, 8, s->see_all ? 1 : 0);
    sqlite3_bind_int64(st, 9, s->viewer_org);
}

typedef struct {
    int64_t id;
    const char *code;
    const char *name_zh, *name_en;
    int64_t count;
} zone_count_t;

/* Does class code c fall under the filter prefix (NULL or "" for any)? */
static int class_matches(const char *c, const char *prefix) {
    return !prefix || !*prefix || strncmp(c, prefix, strlen(prefix)) == 0;
}

/* The facet panel: every zone with its count, and the top-level classes that
 * have matches. One query grouped by (zone, class) without the zone and class
 * filters; the sums here apply each filter to the other facet only. Returns
 * the number of matches under every filter (total). */
static int64_t facets_run(yq_db_t *db, const char *sql, const yq_search_t *s, const terms_t *t, cJSON **out) {
    int64_t total = 0, cc[100] = {0};
    int64_t zc[64][2];
    int nz = 0;
    sqlite3_stmt *st = yq_db_stmt(db, sql);
    bind_common(st, s, t, 0, 0);
    while (yq_db_step(db, st) == 1) {
        int64_t zid = sqlite3_column_int64(st, 0), c = sqlite3_column_int64(st, 2);
        const char *code = (const char *)sqlite3_column_text(st, 1);
        int zone_ok = !s->zone_id || zid == s->zone_id, class_ok = class_matches(code, s->class_prefix);
        if (zone_ok && class_ok)
            total += c;
        if (class_ok) {
            int k = 0;
            while (k < nz && zc[k][0] != zid)
                k++;
            if (k == nz && nz < 64)
                zc[nz][0] = zid, zc[nz++][1] = 0;
            if (k < nz)
                zc[k][1] += c;
        }
        if (zone_ok && code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9')
            cc[(code[0] - '0') * 10 + (code[1] - '0')] += c;
    }
    sqlite3_reset(st);
    cJSON *zones = cJSON_CreateArray(), *classes = cJSON_CreateArray();
    sqlite3_stmt *zs = yq_db_stmt(db, "SELECT id, code, name_zh, name_en FROM zones ORDER BY id");
    while (yq_db_step(db, zs) == 1) {
        int64_t zid = sqlite3_column_int64(zs, 0), c = 0;
        for (int k = 0; k < nz; k++)
            if (zc[k][0] == zid)
                c = zc[k][1];
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "code", (const char *)sqlite3_column_text(zs, 1));
        cJSON_AddStringToObject(z, "name_zh", (const char *)sqlite3_column_text(zs, 2));
        cJSON_AddStringToObject(z, "name_en", (const char *)sqlite3_column_text(zs, 3));
        cJSON_AddNumberToObject(z, "count", (double)c);
        cJSON_AddItemToArray(zones, z);
    }
    sqlite3_reset(zs);
    for (int k = 0; k < 100; k++) {
        if (!cc[k])
            continue;
        char code[16];
        snprintf(code, sizeof code, "%02d0000", k);
        const yq_class_t *c = yq_class_find(code);
        cJSON *o = cJSON_CreateObject();
        code[2] = '\0';
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "name_zh", c ? c->name_zh : "");
        cJSON_AddStringToObject(o, "name_en", c ? c->name_en : "");
        cJSON_AddNumberToObject(o, "count", (double)cc[k]);
        cJSON_AddItemToArray(classes, o);
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "zone", zones);
    cJSON_AddItemToObject(*out, "class", classes);
    return total;
}

int yq_instr_search(yq_db_t *db, const yq_search_t *s, yq_search_result_t *out, const char **bad) {
    static const char *const lists[] = {list_none, list_fts, list_short};
    static const char *const facet_sqls[] = {facets_none, facets_fts, facets_short};
    memset(out, 0, sizeof *out);
    out->total = -1;
    terms_t t;
    if (terms_parse(s->q, &t)) {
        *bad = "q";
        return -1;
    }
    sqlite3_stmt *st = yq_db_stmt(db, lists[t.mode]);
    bind_common(st, s, &t, 1, 1);
    sqlite3_bind_int(st, 20, (int)s->sort);
    sqlite3_bind_int64(st, 21, 0);
    sqlite3_bind_int64(st, 23, s->limit + 1);
    if (s->cursor && *s->cursor && cursor_bind(st, s->sort, s->cursor)) {
        sqlite3_reset(st);
        terms_free(&t);
        *bad = "cursor";
        return -1;
    }
    out->items = cJSON_CreateArray();
    int64_t n = 0;
    int rc;
    last_t last = {0};
    while ((rc = yq_db_step(db, st)) == 1) {
        if (n == s->limit) { /* one more row exists: the next page starts after the last shown */
            out->next_cursor = cursor_make(s->sort, &last);
            break;
        }
        cJSON_AddItemToArray(out->items, yq_instr_row_json(st));
        last_keep(&last, s->sort, st);
        n++;
    }
    yq_buf_free(&last.name);
    sqlite3_reset(st);
    if (s->facets)
        out->total = facets_run(db, facet_sqls[t.mode], s, &t, &out->facets);
    terms_free(&t);
    return rc < 0 ? -1 : 0;
}
