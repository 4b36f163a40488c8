/*
 * Catalogue search (API.md "Search"): text match, filters, visibility, three
 * sorts with keyset cursors, and facet counts.
 *
 * The text match picks one of three modes:
 *   - none: every instrument;
 *   - fts:  every word of q has three or more characters: the trigram FTS5
 *           index of migration 020 (substring match, case folded, bm25 rank);
 *   - short: a word of one or two characters, which trigrams cannot match:
 *           a byte search (memmem) in `short`, the lower-cased names, model
 *           and manufacturer; the relevance is the character position of the
 *           first word (what instr() gives), so names come first.
 *
 * The narrow instrument_search rows of migration 020 (owner, class, share
 * mode, run status, retired, value, name, short) are kept in memory, one
 * array in id order, and scanned there: a pass over 20,000 of them takes about
 * a millisecond, where stepping a SQLite statement over them took several
 * (bench/search.sh). Before each search the one-row catalogue_version of
 * migration 021, which every change to instrument_search renews, says whether
 * the copy is still current; if not, it is reloaded. The institutions' zones
 * are read afresh for each search (a few dozen rows).
 *
 * One pass serves the page and the facets: for each row (each FTS match, in
 * the fts mode) the visibility rule and the filters, the facet sums (by zone
 * with every filter but zone, by top-level class with every filter but class),
 * the cursor, and a bounded max-heap that keeps the page (the `limit` smallest
 * sort keys). Only the rows of the page are then read in full from the wide
 * instruments rows.
 *
 * A word may also name the instrument's class: "电镜" finds every instrument
 * classed 透射电镜 or 扫描电镜 although their names say 电子显微镜, and
 * "mass spectrometer" the mass spectrometers whatever their names. Each word
 * is matched against the Chinese and English names of the third-level
 * classes once per search, giving each class a bit mask of the words it
 * answers; a row then needs every word in its text or in its class's mask.
 * Rows found through their class alone rank after every row found through
 * its text.
 *
 * Sorting uses one key (relevance, name as SQLite's BINARY collation orders
 * it, or -value) and the id as tie-breaker; the cursor carries the last row's
 * (key, id), so paging never repeats or skips a row even when rows share a key.
 */
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/instrument_store.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "domain/classes.h"
#include "domain/instrument_rules.h"

enum { MODE_NONE, MODE_FTS, MODE_SHORT };

/* With the bm25 rank only when sorting by relevance: it costs more than the match. */
static const char fts_ranked[] = "SELECT rowid, rank FROM instruments_fts WHERE instruments_fts MATCH ?1";
static const char fts_matches[] = "SELECT rowid, 0.0 FROM instruments_fts WHERE instruments_fts MATCH ?1";
static const char page_row[] = "SELECT " YQ_INSTR_COLS YQ_INSTR_FROM " WHERE i.id = ?1";

/* ---- the query text ---- */

typedef struct {
    int mode;
    char *match;                     /* FTS5 expression (malloc) */
    char *word[YQ_SEARCH_TERMS_MAX]; /* the words, ASCII lower-cased (malloc), "" when unused */
    size_t word_len[YQ_SEARCH_TERMS_MAX];
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

/* Appends word w as an FTS5 string: quoted, inner quotes doubled, so no FTS
 * syntax gets through. */
static void put_fts_word(yq_buf_t *b, const char *w, size_t len) {
    yq_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (w[i] == '"')
            yq_buf_putc(b, '"');
        yq_buf_putc(b, w[i]);
    }
    yq_buf_putc(b, '"');
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
        t->word_len[n] = len;
        for (char *c = t->word[n]; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        if (n)
            yq_buf_putc(&fts, ' ');
        put_fts_word(&fts, w, len);
        n++;
    }
    for (int i = n; i < YQ_SEARCH_TERMS_MAX; i++)
        t->word[i] = yq_xstrdup("");
    t->mode = n == 0 ? MODE_NONE : short_word ? MODE_SHORT : MODE_FTS;
    t->match = yq_buf_steal(&fts);
    return 0;
}

int yq_instr_query_ok(const char *q) {
    terms_t t;
    if (terms_parse(q, &t))
        return 0;
    terms_free(&t);
    return 1;
}

/* ---- sort keys ---- */

/* A row's place in the order: its sort key and id. name is set for the name
 * sort only. */
typedef struct {
    double r;
    int64_t v, id;
    const char *name;
    size_t name_len;
} sort_key_t;

/* SQLite's BINARY collation: bytes, then length. */
static int name_cmp(const sort_key_t *a, const sort_key_t *b) {
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int key_cmp(yq_instr_sort_t sort, const sort_key_t *a, const sort_key_t *b) {
    int c = 0;
    if (sort == YQ_SORT_RELEVANCE)
        c = a->r < b->r ? -1 : a->r > b->r;
    else if (sort == YQ_SORT_VALUE)
        c = a->v < b->v ? -1 : a->v > b->v;
    else
        c = name_cmp(a, b);
    return c ? c : a->id < b->id ? -1 : a->id > b->id;
}

/* ---- cursors: base64url("s|key|id") with s one of r, n, v ---- */

static const char sort_letter[] = "rnv";

/* Returns the cursor after row k (free() it). */
static char *cursor_make(yq_instr_sort_t sort, const sort_key_t *k) {
    yq_buf_t b = {0};
    yq_buf_printf(&b, "%c|", sort_letter[sort]);
    if (sort == YQ_SORT_RELEVANCE)
        yq_buf_printf(&b, "%.17g", k->r);
    else if (sort == YQ_SORT_NAME)
        yq_buf_append(&b, k->name, k->name_len);
    else
        yq_buf_printf(&b, "%lld", (long long)k->v);
    yq_buf_printf(&b, "|%lld", (long long)k->id);
    size_t size = sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = yq_xmalloc(size);
    sodium_bin2base64(out, size, (const unsigned char *)b.data, b.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    yq_buf_free(&b);
    return out;
}

/* Decodes a cursor into *k; k->name then points into *raw (free() it).
 * Returns 0 or -1. */
static int cursor_parse(yq_instr_sort_t sort, const char *cursor, sort_key_t *k, char **raw_out) {
    size_t clen = strlen(cursor), len;
    *raw_out = NULL;
    if (clen > 2048)
        return -1;
    char *raw = yq_xmalloc(clen + 1);
    if (sodium_base642bin((unsigned char *)raw, clen, cursor, clen, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        goto bad;
    raw[len] = '\0';
    char *bar = strrchr(raw, '|');
    if (len < 4 || raw[0] != sort_letter[sort] || raw[1] != '|' || !bar || bar < raw + 2)
        goto bad;
    *bar = '\0';
    char *end;
    long long id = strtoll(bar + 1, &end, 10);
    if (*end || id <= 0)
        goto bad;
    const char *key = raw + 2;
    memset(k, 0, sizeof *k);
    k->id = id;
    if (sort == YQ_SORT_RELEVANCE) {
        double r = strtod(key, &end);
        if (*end || end == key)
            goto bad;
        k->r = r;
    } else if (sort == YQ_SORT_NAME) {
        k->name = key;
        k->name_len = strlen(key);
    } else {
        long long v = strtoll(key, &end, 10);
        if (*end || end == key)
            goto bad;
        k->v = v;
    }
    *raw_out = raw;
    return 0;
bad:
    free(raw);
    return -1;
}

/* ---- the page: a max-heap of the `cap` smallest keys seen ---- */

typedef struct {
    yq_instr_sort_t sort;
    sort_key_t *k;
    size_t n, alloc, cap;
} heap_t;

static int heap_less(const heap_t *h, size_t a, size_t b) {
    return key_cmp(h->sort, &h->k[a], &h->k[b]) < 0;
}

static void heap_swap(heap_t *h, size_t a, size_t b) {
    sort_key_t t = h->k[a];
    h->k[a] = h->k[b];
    h->k[b] = t;
}

static void heap_down(heap_t *h, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_less(h, m, l))
            m = l;
        if (r < h->n && heap_less(h, m, r))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

/* Keeps k when it is among the cap smallest so far. Names are not copied:
 * they point into the catalogue copy, which stays put during a search. */
static void heap_offer(heap_t *h, const sort_key_t *k) {
    if (h->n == h->cap) {
        if (key_cmp(h->sort, k, &h->k[0]) >= 0)
            return;
        h->k[0] = *k;
        heap_down(h, 0);
        return;
    }
    if (h->n == h->alloc) {
        h->alloc = h->alloc ? 2 * h->alloc : 64;
        h->k = yq_xrealloc(h->k, h->alloc * sizeof *h->k);
    }
    size_t i = h->n++;
    h->k[i] = *k;
    while (i && heap_less(h, (i - 1) / 2, i)) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Sorts the heap in place, smallest first (heapsort). */
static void heap_sort(heap_t *h) {
    size_t n = h->n;
    while (h->n > 1) {
        heap_swap(h, 0, --h->n);
        heap_down(h, 0);
    }
    h->n = n;
}

static void heap_free(heap_t *h) {
    free(h->k);
}

/* ---- the institutions' zones ---- */

typedef struct {
    int64_t org, zone;
} org_zone_t;

typedef struct {
    org_zone_t *a;
    size_t n;
} org_zones_t;

static void org_zones_load(yq_db_t *db, org_zones_t *z) {
    size_t alloc = 0;
    memset(z, 0, sizeof *z);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, zone_id FROM orgs ORDER BY id");
    while (yq_db_step(db, st) == 1) {
        if (z->n == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            z->a = yq_xrealloc(z->a, alloc * sizeof *z->a);
        }
        z->a[z->n].org = sqlite3_column_int64(st, 0);
        z->a[z->n++].zone = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
}

/* The zone of institution org, 0 when there is no such institution. */
static int64_t org_zone(const org_zones_t *z, int64_t org) {
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->a[mid].org < org)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < z->n && z->a[lo].org == org ? z->a[lo].zone : 0;
}

/* ---- facets ---- */

/* Does class code c fall under the filter prefix (of length n; 0 for any)? */
static int class_matches(const char *c, const char *prefix, size_t n) {
    return !n || strncmp(c, prefix, n) == 0;
}

/* Sums while reading: by zone over the rows that pass the class filter, by
 * top-level class over the rows that pass the zone filter. */
typedef struct {
    int64_t zc[64][2];
    int nz;
    int64_t cc[100];
} facet_sums_t;

static void facets_add(facet_sums_t *f, int64_t zid, const char *code, int zone_ok, int class_ok) {
    if (class_ok) {
        int k = 0;
        while (k < f->nz && f->zc[k][0] != zid)
            k++;
        if (k == f->nz && f->nz < 64)
            f->zc[f->nz][0] = zid, f->zc[f->nz++][1] = 0;
        if (k < f->nz)
            f->zc[k][1]++;
    }
    if (zone_ok && code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9')
        f->cc[(code[0] - '0') * 10 + (code[1] - '0')]++;
}

/* The facet panel: every zone with its count, and the top-level classes that
 * have matches. */
static cJSON *facets_json(yq_db_t *db, const facet_sums_t *f) {
    cJSON *zones = cJSON_CreateArray(), *classes = cJSON_CreateArray();
    sqlite3_stmt *zs = yq_db_stmt(db, "SELECT id, code, name_zh, name_en FROM zones ORDER BY id");
    while (yq_db_step(db, zs) == 1) {
        int64_t zid = sqlite3_column_int64(zs, 0), c = 0;
        for (int k = 0; k < f->nz; k++)
            if (f->zc[k][0] == zid)
                c = f->zc[k][1];
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "code", (const char *)sqlite3_column_text(zs, 1));
        cJSON_AddStringToObject(z, "name_zh", (const char *)sqlite3_column_text(zs, 2));
        cJSON_AddStringToObject(z, "name_en", (const char *)sqlite3_column_text(zs, 3));
        cJSON_AddNumberToObject(z, "count", (double)c);
        cJSON_AddItemToArray(zones, z);
    }
    sqlite3_reset(zs);
    for (int k = 0; k < 100; k++) {
        if (!f->cc[k])
            continue;
        char code[16];
        snprintf(code, sizeof code, "%02d0000", k);
        const yq_class_t *c = yq_class_find(code);
        cJSON *o = cJSON_CreateObject();
        code[2] = '\0';
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "name_zh", c ? c->name_zh : "");
        cJSON_AddStringToObject(o, "name_en", c ? c->name_en : "");
        cJSON_AddNumberToObject(o, "count", (double)f->cc[k]);
        cJSON_AddItemToArray(classes, o);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "zone", zones);
    cJSON_AddItemToObject(out, "class", classes);
    return out;
}

/* ---- the catalogue in memory ---- */

typedef struct {
    int64_t id, owner, value;
    size_t class_off, name_off, name_len, short_off, short_len; /* in cat.pool */
    int cls;                                                    /* index in the class table, -1 none */
    signed char run;                                            /* index in yq_run_statuses, -1 other */
    unsigned char retired, external, bookable;
} cat_row_t;

static struct {
    int valid; /* the copy is of catalogue version `version` */
    int64_t version;
    int versioned; /* the version could be read (migration 021) */
    cat_row_t *rows;
    size_t n, cap;
    yq_buf_t pool;
} cat;

static size_t pool_add(const unsigned char *s, size_t len) {
    size_t off = cat.pool.len;
    yq_buf_append(&cat.pool, s ? (const char *)s : "", s ? len : 0);
    yq_buf_putc(&cat.pool, '\0');
    return off;
}

static int run_index(const char *r) {
    for (int k = 0; r && yq_run_statuses[k]; k++)
        if (strcmp(yq_run_statuses[k], r) == 0)
            return k;
    return -1;
}

int yq_catalogue_version(yq_db_t *db, int64_t *v) {
    /* Migration 021 may be missing from a database made before it (one at
     * schema 030 or later never runs it); probed once per database file. */
    static char probed_path[4096];
    static int probed, versioned;
    const char *path = yq_db_path(db);
    if (!probed || strncmp(probed_path, path ? path : "", sizeof probed_path) != 0) {
        sqlite3_stmt *probe = NULL;
        versioned = sqlite3_prepare_v2(yq_db_handle(db), "SELECT v FROM catalogue_version WHERE id = 1", -1, &probe,
                                       NULL) == SQLITE_OK;
        sqlite3_finalize(probe);
        probed = 1;
        snprintf(probed_path, sizeof probed_path, "%s", path ? path : "");
    }
    if (!versioned)
        return -1;
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT v FROM catalogue_version WHERE id = 1");
    int rc = yq_db_step(db, st);
    *v = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == 1 ? 0 : -1;
}

/* Makes the copy current. Returns 0 or -1. */
static int cat_refresh(yq_db_t *db) {
    int64_t v = 0;
    /* read before the rows: a change in between only costs a reload */
    cat.versioned = yq_catalogue_version(db, &v) == 0;
    if (cat.versioned && cat.valid && v == cat.version)
        return 0;
    cat.valid = 0;
    cat.n = 0;
    yq_buf_reset(&cat.pool);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, owner_org_id, class_code, share_mode, run_status, retired, "
                                      "value_fen, name_zh, short FROM instrument_search ORDER BY id");
    int rc;
    while ((rc = yq_db_step(db, st)) == 1) {
        if (cat.n == cat.cap) {
            cat.cap = cat.cap ? 2 * cat.cap : 1024;
            cat.rows = yq_xrealloc(cat.rows, cat.cap * sizeof *cat.rows);
        }
        cat_row_t *r = &cat.rows[cat.n++];
        r->id = sqlite3_column_int64(st, 0);
        r->owner = sqlite3_column_int64(st, 1);
        r->class_off = pool_add(sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        const yq_class_t *cls = yq_class_find(cat.pool.data + r->class_off);
        r->cls = cls ? (int)(cls - yq_class_at(0)) : -1;
        const char *share = (const char *)sqlite3_column_text(st, 3);
        r->run = (signed char)run_index((const char *)sqlite3_column_text(st, 4));
        r->retired = sqlite3_column_int(st, 5) != 0;
        r->value = sqlite3_column_int64(st, 6);
        r->name_len = (size_t)sqlite3_column_bytes(st, 7);
        r->name_off = pool_add(sqlite3_column_text(st, 7), r->name_len);
        r->short_len = (size_t)sqlite3_column_bytes(st, 8);
        r->short_off = pool_add(sqlite3_column_text(st, 8), r->short_len);
        r->external = share && strcmp(share, "external") == 0;
        /* as the bookable filter has it: shared, in service, running */
        r->bookable =
            share && strcmp(share, "none") != 0 && !r->retired && r->run >= 0 &&
            (strcmp(yq_run_statuses[r->run], "normal") == 0 || strcmp(yq_run_statuses[r->run], "standby") == 0 ||
             strcmp(yq_run_statuses[r->run], "occasional_fault") == 0);
    }
    sqlite3_reset(st);
    if (rc < 0)
        return -1;
    cat.version = v;
    cat.valid = cat.versioned; /* no way to know it is current: never reuse it */
    return 0;
}

/* The row of id, or NULL. */
static const cat_row_t *cat_find(int64_t id) {
    size_t lo = 0, hi = cat.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cat.rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cat.n && cat.rows[lo].id == id ? &cat.rows[lo] : NULL;
}

/* ---- running it ---- */

/* Relevance of a row found through its class alone: after every text match
 * (short mode positions are small, bm25 ranks negative). */
#define CLASS_ONLY_REL 1e9

/* Does the lower-cased word occur in text, ASCII case folded? */
static int contains_folded(const char *text, const char *word, size_t wl) {
    char buf[512];
    size_t n = strlen(text);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
    return memmem(buf, n, word, wl) != NULL;
}

/* For each class, the bit mask of the words its names contain (malloc,
 * yq_class_count() entries); *any says whether a bit is set. Only the
 * third-level classes take part: their names say what an instrument is
 * (扫描电镜, 热重分析仪); the upper levels' (分析仪器, 显微镜及图象分析仪器)
 * are so broad that "分析仪" would answer with every microscope. */
static uint8_t *class_masks(const terms_t *t, int *any) {
    size_t n = yq_class_count();
    uint8_t *m = yq_xcalloc(n ? n : 1, 1);
    *any = 0;
    for (size_t c = 0; c < n; c++) {
        const yq_class_t *k = yq_class_at(c);
        if (k->level != 3)
            continue;
        for (int i = 0; i < YQ_SEARCH_TERMS_MAX; i++)
            if (t->word_len[i] && (contains_folded(k->name_zh, t->word[i], t->word_len[i]) ||
                                   contains_folded(k->name_en, t->word[i], t->word_len[i])))
                m[c] |= (uint8_t)(1u << i);
        *any |= m[c] != 0;
    }
    return m;
}

/* The words in use, as a mask. */
static uint8_t words_mask(const terms_t *t) {
    uint8_t all = 0;
    for (int i = 0; i < YQ_SEARCH_TERMS_MAX; i++)
        if (t->word_len[i])
            all |= (uint8_t)(1u << i);
    return all;
}

/* Short mode: 1-based character position of the first word in the text s
 * (what instr() gives); CLASS_ONLY_REL when the first word is only in the
 * class (`cls`, the words the row's class answers); 0 when a word is in
 * neither. Unused words are "". */
static double short_match(const char *s, size_t len, const terms_t *t, uint8_t cls) {
    const char *first = NULL;
    for (int i = 0; i < YQ_SEARCH_TERMS_MAX; i++) {
        size_t wl = t->word_len[i];
        if (!wl) {
            if (!i)
                first = s;
            continue;
        }
        const char *at = memmem(s, len, t->word[i], wl);
        if (!at && !(cls & (1u << i)))
            return 0;
        if (!i)
            first = at;
    }
    return first ? (double)(utf8_chars(s, (size_t)(first - s)) + 1) : CLASS_ONLY_REL;
}

/* One search in progress. */
typedef struct {
    const yq_search_t *s;
    int run;          /* the run status filter: -2 none, -1 matches nothing, else an index */
    size_t class_len; /* of the class prefix filter, 0 for none */
    org_zones_t zones;
    facet_sums_t f;
    heap_t page;
    int has_cursor;
    sort_key_t after;
    int64_t total, more;
} pass_t;

/* Takes row r with relevance rel through the filters, facets, cursor and
 * page. */
static void consider(pass_t *p, const cat_row_t *r, double rel) {
    const yq_search_t *s = p->s;
    if (s->org_id && r->owner != s->org_id)
        return;
    if (s->bookable && !r->bookable)
        return;
    if (p->run != -2 && r->run != p->run)
        return;
    if (r->retired && !s->include_retired)
        return;
    if (!s->see_all && r->owner != s->viewer_org && !(r->external && !r->retired))
        return;
    int64_t zid = org_zone(&p->zones, r->owner);
    if (!zid) /* no such institution */
        return;
    const char *code = cat.pool.data + r->class_off;
    int zone_ok = !s->zone_id || zid == s->zone_id, class_ok = class_matches(code, s->class_prefix, p->class_len);
    if (s->facets)
        facets_add(&p->f, zid, code, zone_ok, class_ok);
    if (!zone_ok || !class_ok)
        return;
    p->total++;
    sort_key_t k = {.id = r->id, .r = rel};
    if (s->sort == YQ_SORT_VALUE) {
        k.v = -r->value;
    } else if (s->sort == YQ_SORT_NAME) {
        k.name = cat.pool.data + r->name_off;
        k.name_len = r->name_len;
    }
    if (p->has_cursor && key_cmp(s->sort, &k, &p->after) <= 0)
        return;
    p->more++;
    heap_offer(&p->page, &k);
}

/* FTS mode when some word names a class: a row needs each word in its text
 * (the word's own FTS match) or in its class. Rows matching every word in
 * their text keep the rank of the whole query. Returns 0 or a negative code. */
static int fts_with_classes(yq_db_t *db, pass_t *p, const terms_t *t, const uint8_t *cmask) {
    uint8_t *hit = yq_xcalloc(cat.n ? cat.n : 1, 1);
    double *rank = yq_xmalloc((cat.n ? cat.n : 1) * sizeof *rank);
    for (size_t i = 0; i < cat.n; i++)
        rank[i] = NAN;
    int rc = 0;
    sqlite3_stmt *st = yq_db_stmt(db, p->s->sort == YQ_SORT_RELEVANCE ? fts_ranked : fts_matches);
    for (int w = -1; w < YQ_SEARCH_TERMS_MAX && rc >= 0; w++) {
        if (w >= 0 && !t->word_len[w])
            continue;
        yq_buf_t one = {0};
        if (w >= 0)
            put_fts_word(&one, t->word[w], t->word_len[w]);
        sqlite3_bind_text(st, 1, w < 0 ? t->match : one.data, -1, SQLITE_STATIC);
        while ((rc = yq_db_step(db, st)) == 1) {
            const cat_row_t *r = cat_find(sqlite3_column_int64(st, 0));
            if (!r)
                continue;
            if (w < 0)
                rank[r - cat.rows] = sqlite3_column_double(st, 1);
            else
                hit[r - cat.rows] |= (uint8_t)(1u << w);
        }
        sqlite3_reset(st);
        yq_buf_free(&one);
    }
    uint8_t all = words_mask(t);
    for (size_t i = 0; i < cat.n && rc >= 0; i++) {
        const cat_row_t *r = &cat.rows[i];
        if (!isnan(rank[i]))
            consider(p, r, rank[i]);
        else if ((uint8_t)(hit[i] | (r->cls >= 0 ? cmask[r->cls] : 0)) == all)
            consider(p, r, CLASS_ONLY_REL);
    }
    free(hit);
    free(rank);
    return rc < 0 ? rc : 0;
}

int yq_instr_search(yq_db_t *db, const yq_search_t *s, yq_search_result_t *out, const char **bad) {
    memset(out, 0, sizeof *out);
    out->total = -1;
    terms_t t;
    if (terms_parse(s->q, &t)) {
        *bad = "q";
        return -1;
    }
    pass_t p = {.s = s,
                .run = s->run_status && *s->run_status ? run_index(s->run_status) : -2,
                .class_len = s->class_prefix ? strlen(s->class_prefix) : 0};
    char *cursor_raw = NULL;
    p.has_cursor = s->cursor && *s->cursor;
    if (p.has_cursor && cursor_parse(s->sort, s->cursor, &p.after, &cursor_raw)) {
        terms_free(&t);
        *bad = "cursor";
        return -1;
    }
    p.page = (heap_t){.sort = s->sort, .cap = s->limit > 0 ? (size_t)s->limit : 1};
    int rc = cat_refresh(db);
    if (rc == 0) {
        org_zones_load(db, &p.zones);
        int by_class = 0;
        uint8_t *cmask = t.mode == MODE_NONE ? NULL : class_masks(&t, &by_class);
        if (t.mode == MODE_FTS && by_class) {
            rc = fts_with_classes(db, &p, &t, cmask);
        } else if (t.mode == MODE_FTS) {
            sqlite3_stmt *st = yq_db_stmt(db, s->sort == YQ_SORT_RELEVANCE ? fts_ranked : fts_matches);
            sqlite3_bind_text(st, 1, t.match, -1, SQLITE_STATIC);
            while ((rc = yq_db_step(db, st)) == 1) {
                const cat_row_t *r = cat_find(sqlite3_column_int64(st, 0));
                if (r)
                    consider(&p, r, sqlite3_column_double(st, 1));
            }
            sqlite3_reset(st);
        } else {
            for (size_t i = 0; i < cat.n; i++) {
                const cat_row_t *r = &cat.rows[i];
                double rel = 0.0;
                if (t.mode == MODE_SHORT && !(rel = short_match(cat.pool.data + r->short_off, r->short_len, &t,
                                                                r->cls >= 0 ? cmask[r->cls] : 0)))
                    continue;
                consider(&p, r, rel);
            }
        }
        free(cmask);
        free(p.zones.a);
    }
    heap_sort(&p.page);
    out->items = cJSON_CreateArray();
    if (rc == 0 && s->ids_only) {
        out->ids = yq_xmalloc((p.page.n ? p.page.n : 1) * sizeof *out->ids);
        for (size_t i = 0; i < p.page.n; i++)
            out->ids[i] = p.page.k[i].id;
        out->nids = p.page.n;
    } else if (rc == 0) {
        sqlite3_stmt *row = yq_db_stmt(db, page_row);
        for (size_t i = 0; i < p.page.n; i++) {
            sqlite3_bind_int64(row, 1, p.page.k[i].id);
            if (yq_db_step(db, row) == 1)
                cJSON_AddItemToArray(out->items, yq_instr_row_json(row));
            sqlite3_reset(row);
        }
        if (p.more > (int64_t)p.page.n && p.page.n) /* rows remain after the last shown */
            out->next_cursor = cursor_make(s->sort, &p.page.k[p.page.n - 1]);
        if (s->facets) {
            out->facets = facets_json(db, &p.f);
            out->total = p.total;
        }
    }
    heap_free(&p.page);
    free(cursor_raw);
    terms_free(&t);
    return rc < 0 ? -1 : 0;
}
