/*
 * Usage statistics for the science commission (DOMAIN.md "Statistics",
 * API.md stats): per-instrument figures, summaries by zone, institution,
 * class and month, the zone-to-zone flow matrix, top and idle instruments,
 * no-show and cancellation rates, each as JSON or (format=csv) as a CSV
 * table; a check of the rollups against the log; and the business gauges
 * of /metrics.
 *
 * Every figure comes from the rollups of migration 060 through
 * api/stats_store.h, so a request over a year reads a few rows per
 * instrument and month, however long the log. The formulas are
 * domain/stats.h. Who may read: see api/stats.h.
 *
 *   GET /api/v1/stats/instruments  ?from&to [&zone&org&class&sort&order&limit&cursor&format]
 *   GET /api/v1/stats/top          ?from&to [&by&limit&zone&org&class&format]
 *   GET /api/v1/stats/idle         [?at&zone&org&class&limit&cursor&format]
 *   GET /api/v1/stats/summary      ?from&to [&group_by&class_level&zone&org&class&format]
 *   GET /api/v1/stats/flows        ?from&to [&zone&org&class&format]
 *   GET /api/v1/stats/bookings     ?from&to [&group_by&class_level&zone&org&class&format]
 *   GET /api/v1/stats/verify       (commission, admin)
 *   GET /api/v1/stats/annual-report ?year [&format] (stats_export.c)
 */
#include "api/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api.h"
#include "api/routes.h"
#include "api/stats_fold.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/timeutil.h"
#include "domain/classes.h"
#include "domain/csv.h"
#include "http/metrics.h"

/* ---- the query ---- */

static int bad(yq_req_t *req, const char *code, const char *name, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "Query parameter '%s' %s.", name, what);
    yq_reply_error(req, 400, code, msg, name);
    return -1;
}

/* from/to: required with YQ_STATS_RANGE, to after from, at most ten years. */
static int read_range(yq_req_t *req, yq_stats_query_t *q, int flags) {
    int has_from, has_to;
    if (yq_api_query_time(req, "from", &q->f.from, &has_from) || yq_api_query_time(req, "to", &q->f.to, &has_to))
        return -1;
    if (!(flags & YQ_STATS_RANGE))
        return 0;
    if (!has_from)
        return bad(req, "invalid_query", "from", "is required (an RFC 3339 time)");
    if (!has_to)
        return bad(req, "invalid_query", "to", "is required (an RFC 3339 time)");
    if (q->f.to <= q->f.from)
        return bad(req, "invalid_query", "to", "must be after 'from'");
    if (q->f.to - q->f.from > YQ_STATS_MAX_RANGE_SECONDS)
        return bad(req, "range_too_long", "to", "must be at most ten years after 'from'");
    return 0;
}

/* zone (code), org (id), class (prefix); operators are held to their own. */
static int read_filters(yq_req_t *req, yq_stats_query_t *q) {
    const char *zone = yq_req_query(req, "zone"), *cls = yq_req_query(req, "class");
    if (zone && *zone) {
        for (int i = 0; i < q->nzones && !q->f.zone_id; i++)
            if (strcmp(q->zones[i].code, zone) == 0)
                q->f.zone_id = q->zones[i].id;
        if (!q->f.zone_id)
            return bad(req, "invalid_query", "zone", "names no zone");
    }
    int has_org;
    if (yq_api_query_int(req, "org", 1, INT64_MAX, &q->f.org_id, &has_org))
        return -1;
    if (cls && *cls) {
        int rc = yq_class_filter_parse(cls, q->f.class_prefix);
        if (rc == -1)
            return bad(req, "invalid_query", "class", "must be a class code of 2, 4 or 6 digits");
        if (rc < 0)
            return bad(req, "invalid_query", "class", "names no class");
    }
    if (yq_has_role(q->p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION))
        return 0;
    if (has_org && q->f.org_id != q->p->org_id) {
        yq_reply_error(req, 403, "forbidden", "Operators see only their own institution's figures.", "org");
        return -1;
    }
    q->f.org_id = q->p->org_id;
    return 0;
}

int yq_stats_open(yq_req_t *req, yq_stats_query_t *q, int flags) {
    memset(q, 0, sizeof *q);
    q->req = req;
    q->p = yq_auth_require_role(req, YQ_SCOPE_STATS_READ, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION | YQ_ROLE_OPERATOR);
    if (!q->p)
        return -1;
    if (!yq_has_role(q->p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION) && !q->p->org_id) {
        yq_reply_error(req, 403, "forbidden", "An operator without an institution has no figures to read.", NULL);
        return -1;
    }
    q->nzones = yq_st_zones(yq_db_main(), req->arena, &q->zones);
    if (q->nzones < 0) {
        yq_api_internal(req);
        return -1;
    }
    if (read_range(req, q, flags) || read_filters(req, q))
        return -1;
    const char *format = yq_req_query(req, "format");
    if (!format || !*format || strcmp(format, "json") == 0)
        return 0;
    q->csv = (flags & YQ_STATS_CSV) && strcmp(format, "csv") == 0;
    q->xlsx = (flags & YQ_STATS_XLSX) && strcmp(format, "xlsx") == 0;
    if (!q->csv && !q->xlsx)
        return bad(req, "invalid_query", "format",
                   (flags & YQ_STATS_XLSX)  ? "must be csv or xlsx"
                   : (flags & YQ_STATS_CSV) ? "must be json or csv"
                                            : "must be json");
    return 0;
}

int yq_stats_load(yq_stats_query_t *q) {
    if (yq_st_load(yq_db_main(), &q->f, q->req->arena, &q->cat) == 0)
        return 0;
    yq_api_internal(q->req);
    return -1;
}

void yq_stats_close(yq_stats_query_t *q) {
    yq_st_release(&q->cat);
}

const yq_st_zone_t *yq_stats_zone(const yq_stats_query_t *q, int64_t id) {
    for (int i = 0; i < q->nzones; i++)
        if (q->zones[i].id == id)
            return &q->zones[i];
    return NULL;
}

/* ---- per-instrument figures ---- */

static void add_to_fig(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s) {
    (void)month;
    (void)payer_zone_id;
    yq_st_sums_add(&((yq_stats_fig_t *)ctx)[idx].s, s);
}

int yq_stats_figures(yq_stats_query_t *q, int64_t from, int64_t to, yq_stats_fig_t *figs) {
    memset(figs, 0, q->cat.n * sizeof *figs);
    int rc = yq_st_usage_totals(yq_db_main(), &q->cat, from, to, yq_now(), add_to_fig, figs);
    for (size_t i = 0; i < q->cat.n; i++) {
        int64_t lo, hi;
        yq_stats_in_service(from, to, q->cat.ins[i].since, q->cat.ins[i].until, &lo, &hi);
        figs[i].rated = yq_st_rated(&q->cat, i, from, to);
        figs[i].users = figs[i].orgs = -1;
        figs[i].in_scope = hi > lo || figs[i].s.uses || figs[i].s.minutes || figs[i].s.fee_fen;
    }
    return rc;
}

static int by_index(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int yq_stats_people(yq_stats_query_t *q, const size_t *idx, size_t n, int64_t from, int64_t to, yq_stats_fig_t *figs) {
    if (n == 0)
        return 0;
    /* The catalogue is in id order: indexes in order are ids in order. */
    size_t *sorted = yq_xmalloc(n * sizeof *sorted);
    memcpy(sorted, idx, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_index);
    int64_t *ids = yq_xmalloc(3 * n * sizeof *ids), *users = ids + n, *orgs = ids + 2 * n;
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (m == 0 || sorted[m - 1] != sorted[k])
            sorted[m++] = sorted[k];
    for (size_t k = 0; k < m; k++)
        ids[k] = q->cat.ins[sorted[k]].id;
    int rc = yq_st_people_many(yq_db_main(), ids, m, from, to, users, orgs);
    for (size_t k = 0; k < m && rc == 0; k++) {
        figs[sorted[k]].users = users[k];
        figs[sorted[k]].orgs = orgs[k];
    }
    free(ids);
    free(sorted);
    return rc;
}

double yq_stats_ratio(double x) {
    return round(x * 1e6) / 1e6;
}

static void add_figures(cJSON *o, const yq_st_sums_t *s, int64_t rated) {
    yq_json_add_int(o, "used_minutes", s->minutes);
    yq_json_add_int(o, "external_minutes", s->external_minutes);
    yq_json_add_int(o, "cross_zone_minutes", s->cross_zone_minutes);
    yq_json_add_int(o, "rated_minutes", rated);
    cJSON_AddNumberToObject(o, "utilisation", yq_stats_ratio(yq_stats_utilisation(s->minutes, rated)));
    cJSON_AddNumberToObject(o, "share_rate", yq_stats_ratio(yq_stats_share_rate(s->external_minutes, s->minutes)));
    yq_json_add_int(o, "uses", s->uses);
}

/* The JSON of one instrument's figures (the items of /instruments, /top, /idle). */
static cJSON *instrument_json(const yq_stats_query_t *q, size_t idx, const yq_stats_fig_t *fig) {
    const yq_st_instrument_t *in = &q->cat.ins[idx];
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int(o, "instrument_id", in->id);
    cJSON_AddStringToObject(o, "asset_no", in->asset_no);
    cJSON_AddStringToObject(o, "name_zh", in->name_zh);
    cJSON_AddStringToObject(o, "name_en", in->name_en);
    cJSON_AddStringToObject(o, "class_code", in->class_code);
    cJSON_AddStringToObject(o, "category_type", in->category_type);
    cJSON_AddStringToObject(o, "run_status", in->run_status);
    cJSON_AddStringToObject(o, "share_mode", in->share_mode);
    cJSON_AddBoolToObject(o, "retired", in->until != 0);
    yq_json_add_int(o, "org_id", in->owner_org_id);
    cJSON_AddStringToObject(o, "org_code", in->org_code);
    cJSON_AddStringToObject(o, "org_name_zh", in->org_name_zh);
    cJSON_AddStringToObject(o, "org_name_en", in->org_name_en);
    cJSON_AddStringToObject(o, "zone", in->zone_code);
    add_figures(o, &fig->s, fig->rated);
    yq_json_add_int(o, "users", fig->users);
    yq_json_add_int(o, "orgs", fig->orgs);
    yq_json_add_int(o, "samples", fig->s.samples);
    yq_json_add_int(o, "fee_fen", fig->s.fee_fen);
    return o;
}

static const char *const instrument_keys[] = {"instrument_id",
                                              "asset_no",
                                              "name_zh",
                                              "name_en",
                                              "class_code",
                                              "category_type",
                                              "run_status",
                                              "share_mode",
                                              "retired",
                                              "org_id",
                                              "org_code",
                                              "org_name_zh",
                                              "org_name_en",
                                              "zone",
                                              "used_minutes",
                                              "external_minutes",
                                              "cross_zone_minutes",
                                              "rated_minutes",
                                              "utilisation",
                                              "share_rate",
                                              "uses",
                                              "users",
                                              "orgs",
                                              "samples",
                                              "fee_fen",
                                              NULL};

/* ---- ordering ---- */

typedef struct {
    size_t idx;
    double key;
    int64_t id;
} order_t;

static int by_key_asc(const void *a, const void *b) {
    const order_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int by_key_desc(const void *a, const void *b) {
    const order_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static const char *const sort_names[] = {"instrument",  "used",       "external", "cross_zone", "rated",
                                         "utilisation", "share_rate", "uses",     "fee",        NULL};

static double sort_key(int sort, const yq_stats_fig_t *f, int64_t id) {
    switch (sort) {
    case 1:
        return (double)f->s.minutes;
    case 2:
        return (double)f->s.external_minutes;
    case 3:
        return (double)f->s.cross_zone_minutes;
    case 4:
        return (double)f->rated;
    case 5:
        return yq_stats_utilisation(f->s.minutes, f->rated);
    case 6:
        return yq_stats_share_rate(f->s.external_minutes, f->s.minutes);
    case 7:
        return (double)f->s.uses;
    case 8:
        return (double)f->s.fee_fen;
    default:
        return (double)id;
    }
}

/* Reads a name from the NULL-terminated list (default def); -1 answered. */
static int read_choice(yq_req_t *req, const char *name, const char *const *names, int def, int *out) {
    const char *v = yq_req_query(req, name);
    *out = def;
    if (!v || !*v)
        return 0;
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char what[200] = "must be one of";
    for (int i = 0; names[i]; i++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s %s", i ? "," : "", names[i]);
    return bad(req, "invalid_query", name, what);
}

/* The in-scope instruments (and, with idle_at, only those idle then), in
 * order. Returns how many; *out is malloc'd (free it). */
static size_t ordered(const yq_stats_query_t *q, const yq_stats_fig_t *figs, int sort, int desc, int64_t idle_at,
                      order_t **out) {
    order_t *o = yq_xmalloc((q->cat.n ? q->cat.n : 1) * sizeof *o);
    size_t n = 0;
    for (size_t i = 0; i < q->cat.n; i++) {
        if (!figs[i].in_scope)
            continue;
        if (idle_at && ((q->cat.ins[i].until && q->cat.ins[i].until <= idle_at) ||
                        !yq_stats_is_idle(figs[i].s.minutes, figs[i].rated)))
            continue;
        o[n++] = (order_t){i, sort_key(sort, &figs[i], q->cat.ins[i].id), q->cat.ins[i].id};
    }
    qsort(o, n, sizeof *o, desc ? by_key_desc : by_key_asc);
    *out = o;
    return n;
}

/* Answers with the page [offset, offset + limit) of the ordered instruments
 * (or, for CSV, all of them), users counted for the rows shown, all at once. */
static void reply_instruments(yq_stats_query_t *q, yq_stats_fig_t *figs, const order_t *o, size_t n, int64_t offset,
                              int64_t limit, const char *csv_name, int64_t from, int64_t to) {
    size_t lo = q->csv ? 0 : (size_t)offset < n ? (size_t)offset : n;
    size_t hi = q->csv ? n : lo + (size_t)limit < n ? lo + (size_t)limit : n;
    size_t *shown = yq_xmalloc((hi > lo ? hi - lo : 1) * sizeof *shown);
    for (size_t k = lo; k < hi; k++)
        shown[k - lo] = o[k].idx;
    int rc = yq_stats_people(q, shown, hi - lo, from, to, figs);
    free(shown);
    if (rc < 0) {
        yq_api_internal(q->req);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    for (size_t k = lo; k < hi; k++)
        cJSON_AddItemToArray(items, instrument_json(q, o[k].idx, &figs[o[k].idx]));
    if (q->csv) {
        yq_stats_reply_csv(q->req, csv_name, items, instrument_keys);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", items);
    if (hi < n) {
        char c[24];
        snprintf(c, sizeof c, "%zu", hi);
        cJSON_AddStringToObject(out, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    yq_json_add_int(out, "total", (int64_t)n);
    yq_json_add_time(out, "from", from);
    yq_json_add_time(out, "to", to);
    yq_api_json(q->req, 200, out);
}

/* GET /api/v1/stats/instruments?from&to[&zone&org&class&sort&order&limit&cursor&format]:
 * 200 {items, next_cursor, total, from, to} or text/csv (every row); 400; 401; 403. */
static void stats_instruments(yq_req_t *req) {
    yq_stats_query_t q;
    int sort, order;
    int64_t limit, offset;
    static const char *const orders[] = {"asc", "desc", NULL};
    if (yq_stats_open(req, &q, YQ_STATS_RANGE | YQ_STATS_CSV) || read_choice(req, "sort", sort_names, 0, &sort) ||
        read_choice(req, "order", orders, sort ? 1 : 0, &order) || yq_api_page(req, &limit, &offset) ||
        yq_stats_load(&q))
        return;
    yq_stats_fig_t *figs = yq_xmalloc((q.cat.n ? q.cat.n : 1) * sizeof *figs);
    order_t *o = NULL;
    if (yq_stats_figures(&q, q.f.from, q.f.to, figs) < 0)
        yq_api_internal(req);
    else {
        size_t n = ordered(&q, figs, sort, order, 0, &o);
        reply_instruments(&q, figs, o, n, offset, limit, "yiqi-stats-instruments.csv", q.f.from, q.f.to);
    }
    free(o);
    free(figs);
    yq_stats_close(&q);
}

/* GET /api/v1/stats/top?from&to[&by&limit&zone&org&class&format]: the
 * instruments with the most of `by` (default used hours), at most limit
 * (default 10, at most 100). 200 {items, next_cursor: null, total, from, to}; 400; 401; 403. */
static void stats_top(yq_req_t *req) {
    static const char *const by_names[] = {"used",       "external", "cross_zone", "utilisation",
                                           "share_rate", "uses",     "fee",        NULL};
    static const int by_sort[] = {1, 2, 3, 5, 6, 7, 8};
    yq_stats_query_t q;
    int by;
    int64_t limit = 10;
    if (yq_stats_open(req, &q, YQ_STATS_RANGE | YQ_STATS_CSV) || read_choice(req, "by", by_names, 0, &by) ||
        yq_api_query_int(req, "limit", 1, 100, &limit, NULL) || yq_stats_load(&q))
        return;
    yq_stats_fig_t *figs = yq_xmalloc((q.cat.n ? q.cat.n : 1) * sizeof *figs);
    order_t *o = NULL;
    if (yq_stats_figures(&q, q.f.from, q.f.to, figs) < 0)
        yq_api_internal(req);
    else {
        size_t n = ordered(&q, figs, by_sort[by], 1, 0, &o);
        if (n > (size_t)limit)
            n = (size_t)limit;
        reply_instruments(&q, figs, o, n, 0, limit, "yiqi-stats-top.csv", q.f.from, q.f.to);
    }
    free(o);
    free(figs);
    yq_stats_close(&q);
}

/* GET /api/v1/stats/idle[?at&zone&org&class&limit&cursor&format]: the
 * instruments in service at `at` (default now) whose utilisation over the
 * 90 days before it is under 10%, least used first. 200 {items,
 * next_cursor, total, from, to} (from/to: the window); 400; 401; 403. */
static void stats_idle(yq_req_t *req) {
    yq_stats_query_t q;
    int64_t limit, offset, at = yq_now();
    if (yq_stats_open(req, &q, YQ_STATS_CSV) || yq_api_query_time(req, "at", &at, NULL) ||
        yq_api_page(req, &limit, &offset))
        return;
    q.f.from = at - YQ_IDLE_WINDOW_SECONDS;
    q.f.to = at;
    if (yq_stats_load(&q))
        return;
    yq_stats_fig_t *figs = yq_xmalloc((q.cat.n ? q.cat.n : 1) * sizeof *figs);
    order_t *o = NULL;
    if (yq_stats_figures(&q, q.f.from, q.f.to, figs) < 0)
        yq_api_internal(req);
    else {
        size_t n = ordered(&q, figs, 5, 0, at, &o);
        reply_instruments(&q, figs, o, n, offset, limit, "yiqi-stats-idle.csv", q.f.from, q.f.to);
    }
    free(o);
    free(figs);
    yq_stats_close(&q);
}

/* ---- groups: by zone, institution, class or month ---- */

enum { G_ZONE, G_ORG, G_CLASS, G_MONTH };
static const char *const group_names[] = {"zone", "org", "class", "month", NULL};

typedef struct {
    const char *key, *name_zh, *name_en;
    int64_t id; /* zone or institution id; 0 for class and month */
    yq_st_sums_t s;
    int64_t rated, instruments;
    yq_stats_bookings_t b;
} group_t;

typedef struct {
    int mode;
    group_t *g;
    size_t n;
    int32_t *of; /* instrument index -> group (not for G_MONTH) */
    int month0;  /* G_MONTH: first month key */
} grouping_t;

static int month_ordinal(int month) {
    return (month / 100) * 12 + month % 100 - 1;
}

static size_t find_group(grouping_t *gr, yq_arena_t *a, const char *key) {
    for (size_t i = 0; i < gr->n; i++)
        if (strcmp(gr->g[i].key, key) == 0)
            return i;
    memset(&gr->g[gr->n], 0, sizeof gr->g[0]);
    gr->g[gr->n].key = yq_arena_strdup(a, key);
    return gr->n++;
}

/* The group of instrument i, created on first sight. */
static size_t group_for(grouping_t *gr, const yq_stats_query_t *q, int class_level, size_t i) {
    const yq_st_instrument_t *in = &q->cat.ins[i];
    yq_arena_t *a = q->req->arena;
    size_t g;
    if (gr->mode == G_ZONE) {
        g = find_group(gr, a, in->zone_code);
        const yq_st_zone_t *z = yq_stats_zone(q, in->zone_id);
        gr->g[g].id = in->zone_id;
        gr->g[g].name_zh = z ? z->name_zh : in->zone_code;
        gr->g[g].name_en = z ? z->name_en : in->zone_code;
    } else if (gr->mode == G_ORG) {
        g = find_group(gr, a, in->org_code);
        gr->g[g].id = in->owner_org_id;
        gr->g[g].name_zh = in->org_name_zh;
        gr->g[g].name_en = in->org_name_en;
    } else {
        char code[7] = "000000";
        memcpy(code, in->class_code, class_level == 1 ? 2 : 4);
        g = find_group(gr, a, code);
        const yq_class_t *c = yq_class_find(code);
        gr->g[g].name_zh = c ? c->name_zh : code;
        gr->g[g].name_en = c ? c->name_en : code;
    }
    return g;
}

static int group_order(const void *a, const void *b) {
    return strcmp(((const group_t *)a)->key, ((const group_t *)b)->key);
}

/* Builds the groups of the loaded instruments (every month of the range for
 * G_MONTH), sorted by key, with gr->of mapping instruments to them. */
static void grouping_init(grouping_t *gr, const yq_stats_query_t *q, int mode, int class_level) {
    memset(gr, 0, sizeof *gr);
    gr->mode = mode;
    if (mode == G_MONTH) {
        gr->month0 = yq_stats_month_of(q->f.from);
        int last = yq_stats_month_of(q->f.to - 1);
        gr->n = (size_t)(month_ordinal(last) - month_ordinal(gr->month0) + 1);
        gr->g = yq_xcalloc(gr->n, sizeof *gr->g);
        for (size_t i = 0, m = (size_t)gr->month0; i < gr->n; i++, m = (size_t)yq_stats_month_next((int)m)) {
            char *key = yq_arena_printf(q->req->arena, "%04d-%02d", (int)m / 100, (int)m % 100);
            gr->g[i].key = gr->g[i].name_zh = gr->g[i].name_en = key;
        }
        return;
    }
    gr->g = yq_xcalloc(q->cat.n ? q->cat.n : 1, sizeof *gr->g);
    gr->of = yq_xmalloc((q->cat.n ? q->cat.n : 1) * sizeof *gr->of);
    for (size_t i = 0; i < q->cat.n; i++)
        group_for(gr, q, class_level, i);
    qsort(gr->g, gr->n, sizeof *gr->g, group_order);
    for (size_t i = 0; i < q->cat.n; i++) /* found again, now in sorted order */
        gr->of[i] = (int32_t)group_for(gr, q, class_level, i);
}

static void grouping_free(grouping_t *gr) {
    free(gr->g);
    free(gr->of);
}

static size_t group_of(const grouping_t *gr, int month, size_t idx) {
    return gr->mode == G_MONTH ? (size_t)(month_ordinal(month) - month_ordinal(gr->month0)) : (size_t)gr->of[idx];
}

static int read_grouping(yq_req_t *req, int *mode, int *class_level) {
    int64_t level = 2;
    if (read_choice(req, "group_by", group_names, G_ZONE, mode) ||
        yq_api_query_int(req, "class_level", 1, 2, &level, NULL))
        return -1;
    *class_level = (int)level;
    return 0;
}

static cJSON *group_json(const group_t *g, const char *key) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key ? key : g->key);
    if (g->id)
        yq_json_add_int(o, "id", g->id);
    else
        cJSON_AddNullToObject(o, "id");
    cJSON_AddStringToObject(o, "name_zh", g->name_zh ? g->name_zh : "");
    cJSON_AddStringToObject(o, "name_en", g->name_en ? g->name_en : "");
    return o;
}

static cJSON *usage_group_json(const group_t *g, const char *key) {
    cJSON *o = group_json(g, key);
    yq_json_add_int(o, "instruments", g->instruments);
    add_figures(o, &g->s, g->rated);
    yq_json_add_int(o, "samples", g->s.samples);
    yq_json_add_int(o, "fee_fen", g->s.fee_fen);
    return o;
}

static const char *const summary_keys[] = {"key",
                                           "id",
                                           "name_zh",
                                           "name_en",
                                           "instruments",
                                           "used_minutes",
                                           "external_minutes",
                                           "cross_zone_minutes",
                                           "rated_minutes",
                                           "utilisation",
                                           "share_rate",
                                           "uses",
                                           "samples",
                                           "fee_fen",
                                           NULL};

typedef struct {
    grouping_t *gr;
    yq_stats_fig_t *figs;
    unsigned char *used; /* G_MONTH: [instrument x month] had usage */
} summary_ctx_t;

static void add_to_group(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s) {
    summary_ctx_t *c = ctx;
    (void)payer_zone_id;
    yq_st_sums_add(&c->figs[idx].s, s);
    if (c->gr->mode != G_MONTH)
        return;
    size_t g = group_of(c->gr, month, idx);
    yq_st_sums_add(&c->gr->g[g].s, s);
    if (s->uses || s->minutes || s->fee_fen)
        c->used[idx * c->gr->n + g] = 1;
}

/* Rated minutes and instrument counts per month slice of the range. */
static void month_rated(const yq_stats_query_t *q, grouping_t *gr, const unsigned char *used) {
    for (size_t g = 0, m = (size_t)gr->month0; g < gr->n; g++, m = (size_t)yq_stats_month_next((int)m)) {
        int64_t a = yq_stats_month_start((int)m), b = yq_stats_month_start(yq_stats_month_next((int)m));
        a = a > q->f.from ? a : q->f.from;
        b = b < q->f.to ? b : q->f.to;
        for (size_t i = 0; i < q->cat.n; i++) {
            int64_t lo, hi;
            yq_stats_in_service(a, b, q->cat.ins[i].since, q->cat.ins[i].until, &lo, &hi);
            if (hi > lo || used[i * gr->n + g]) {
                gr->g[g].instruments++;
                gr->g[g].rated += yq_st_rated(&q->cat, i, a, b);
            }
        }
    }
}

static cJSON *national_json(void) {
    cJSON *a = cJSON_CreateArray();
    static const int years[][3] = {
        {2019, YQ_NATIONAL_2019_EFFECTIVE_HOURS, YQ_NATIONAL_2019_EXTERNAL_HOURS},
        {2025, YQ_NATIONAL_2025_EFFECTIVE_HOURS, YQ_NATIONAL_2025_EXTERNAL_HOURS},
    };
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
        cJSON *o = cJSON_CreateObject();
        yq_json_add_int(o, "year", years[i][0]);
        yq_json_add_int(o, "effective_hours", years[i][1]);
        yq_json_add_int(o, "external_hours", years[i][2]);
        cJSON_AddNumberToObject(o, "share_rate", yq_stats_ratio((double)years[i][2] / years[i][1]));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void reply_groups(yq_stats_query_t *q, int mode, cJSON *items, cJSON *totals, const char *csv_name,
                         const char *const *keys) {
    if (q->csv) {
        cJSON_Delete(totals);
        yq_stats_reply_csv(q->req, csv_name, items, keys);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "group_by", group_names[mode]);
    yq_json_add_time(out, "from", q->f.from);
    yq_json_add_time(out, "to", q->f.to);
    cJSON_AddItemToObject(out, "items", items);
    cJSON_AddItemToObject(out, "totals", totals);
    if (keys == summary_keys)
        cJSON_AddItemToObject(out, "national", national_json());
    yq_api_json(q->req, 200, out);
}

/* GET /api/v1/stats/summary?from&to[&group_by&class_level&zone&org&class&format]:
 * 200 {group_by, from, to, items, totals, national} or text/csv; 400; 401; 403. */
static void stats_summary(yq_req_t *req) {
    yq_stats_query_t q;
    int mode, level;
    if (yq_stats_open(req, &q, YQ_STATS_RANGE | YQ_STATS_CSV) || read_grouping(req, &mode, &level) || yq_stats_load(&q))
        return;
    grouping_t gr;
    grouping_init(&gr, &q, mode, level);
    yq_stats_fig_t *figs = yq_xcalloc(q.cat.n ? q.cat.n : 1, sizeof *figs);
    unsigned char *used = mode == G_MONTH ? yq_xcalloc((q.cat.n ? q.cat.n : 1) * gr.n, 1) : NULL;
    summary_ctx_t ctx = {&gr, figs, used};
    /* By month the rows' months matter; otherwise only the totals. */
    if ((mode == G_MONTH
             ? yq_st_usage(yq_db_main(), &q.cat, q.f.from, q.f.to, add_to_group, &ctx)
             : yq_st_usage_totals(yq_db_main(), &q.cat, q.f.from, q.f.to, yq_now(), add_to_group, &ctx)) < 0) {
        yq_api_internal(req);
    } else {
        group_t total = {.key = "total", .name_zh = "合计", .name_en = "Total"};
        for (size_t i = 0; i < q.cat.n; i++) {
            int64_t lo, hi;
            yq_stats_in_service(q.f.from, q.f.to, q.cat.ins[i].since, q.cat.ins[i].until, &lo, &hi);
            if (hi <= lo && !figs[i].s.uses && !figs[i].s.minutes && !figs[i].s.fee_fen)
                continue;
            figs[i].rated = yq_st_rated(&q.cat, i, q.f.from, q.f.to);
            yq_st_sums_add(&total.s, &figs[i].s);
            total.rated += figs[i].rated;
            total.instruments++;
            if (mode != G_MONTH) {
                group_t *g = &gr.g[gr.of[i]];
                yq_st_sums_add(&g->s, &figs[i].s);
                g->rated += figs[i].rated;
                g->instruments++;
            }
        }
        if (mode == G_MONTH)
            month_rated(&q, &gr, used);
        cJSON *items = cJSON_CreateArray();
        for (size_t g = 0; g < gr.n; g++)
            if (mode == G_MONTH || gr.g[g].instruments)
                cJSON_AddItemToArray(items, usage_group_json(&gr.g[g], NULL));
        reply_groups(&q, mode, items, usage_group_json(&total, NULL), "yiqi-stats-summary.csv", summary_keys);
    }
    free(used);
    free(figs);
    grouping_free(&gr);
    yq_stats_close(&q);
}

/* ---- zone-to-zone flows ---- */

typedef struct {
    const yq_stats_query_t *q;
    yq_st_sums_t *m; /* [payer zone][provider zone], zones in q->zones order */
} flows_ctx_t;

static int zone_index(const yq_stats_query_t *q, int64_t id) {
    for (int i = 0; i < q->nzones; i++)
        if (q->zones[i].id == id)
            return i;
    return -1;
}

static void add_flow(void *ctx, int month, size_t idx, int64_t payer_zone_id, const yq_st_sums_t *s) {
    flows_ctx_t *c = ctx;
    (void)month;
    int from = zone_index(c->q, payer_zone_id), to = zone_index(c->q, c->q->cat.ins[idx].zone_id);
    if (from >= 0 && to >= 0)
        yq_st_sums_add(&c->m[from * c->q->nzones + to], s);
}

static cJSON *flow_json(const char *from, const char *to, const yq_st_sums_t *s) {
    cJSON *o = cJSON_CreateObject();
    if (from)
        cJSON_AddStringToObject(o, "from_zone", from);
    if (to)
        cJSON_AddStringToObject(o, "to_zone", to);
    yq_json_add_int(o, "uses", s->uses);
    yq_json_add_int(o, "minutes", s->minutes);
    yq_json_add_int(o, "fee_fen", s->fee_fen);
    return o;
}

static const char *const flow_keys[] = {"from_zone", "to_zone", "uses", "minutes", "fee_fen", NULL};

/* GET /api/v1/stats/flows?from&to[&zone&org&class&format]: usage of the
 * instruments in each zone (to_zone) by institutions of each zone
 * (from_zone, the payer's), same-zone pairs included. 200 {from, to,
 * zones, items, totals} or text/csv; 400; 401; 403. */
static void stats_flows(yq_req_t *req) {
    yq_stats_query_t q;
    if (yq_stats_open(req, &q, YQ_STATS_RANGE | YQ_STATS_CSV) || yq_stats_load(&q))
        return;
    size_t nz = (size_t)(q.nzones ? q.nzones : 1);
    flows_ctx_t ctx = {&q, yq_xcalloc(nz * nz, sizeof(yq_st_sums_t))};
    if (yq_st_usage_totals(yq_db_main(), &q.cat, q.f.from, q.f.to, yq_now(), add_flow, &ctx) < 0) {
        yq_api_internal(req);
    } else {
        cJSON *items = cJSON_CreateArray(), *zones = cJSON_CreateArray();
        yq_st_sums_t total = {0};
        for (int a = 0; a < q.nzones; a++) {
            cJSON *z = cJSON_CreateObject();
            cJSON_AddStringToObject(z, "code", q.zones[a].code);
            cJSON_AddStringToObject(z, "name_zh", q.zones[a].name_zh);
            cJSON_AddStringToObject(z, "name_en", q.zones[a].name_en);
            cJSON_AddItemToArray(zones, z);
            for (int b = 0; b < q.nzones; b++) {
                const yq_st_sums_t *s = &ctx.m[a * q.nzones + b];
                if (!s->uses && !s->minutes && !s->fee_fen)
                    continue;
                yq_st_sums_add(&total, s);
                cJSON_AddItemToArray(items, flow_json(q.zones[a].code, q.zones[b].code, s));
            }
        }
        if (q.csv) {
            cJSON_Delete(zones);
            yq_stats_reply_csv(req, "yiqi-stats-flows.csv", items, flow_keys);
        } else {
            cJSON *out = cJSON_CreateObject();
            yq_json_add_time(out, "from", q.f.from);
            yq_json_add_time(out, "to", q.f.to);
            cJSON_AddItemToObject(out, "zones", zones);
            cJSON_AddItemToObject(out, "items", items);
            cJSON_AddItemToObject(out, "totals", flow_json(NULL, NULL, &total));
            yq_api_json(req, 200, out);
        }
    }
    free(ctx.m);
    yq_stats_close(&q);
}

/* ---- bookings: no-show and cancellation rates ---- */

typedef struct {
    grouping_t *gr;
    yq_stats_bookings_t total;
} bookings_ctx_t;

static void add_booking(void *ctx, int month, size_t idx, const char *status, int64_t n) {
    bookings_ctx_t *c = ctx;
    yq_stats_bookings_add(&c->gr->g[group_of(c->gr, month, idx)].b, status, n);
    yq_stats_bookings_add(&c->total, status, n);
}

static cJSON *bookings_group_json(const group_t *g) {
    cJSON *o = group_json(g, NULL);
    const yq_stats_bookings_t *b = &g->b;
    yq_json_add_int(o, "bookings", yq_stats_bookings_total(b));
    yq_json_add_int(o, "pending", b->pending);
    yq_json_add_int(o, "confirmed", b->confirmed);
    yq_json_add_int(o, "in_use", b->in_use);
    yq_json_add_int(o, "completed", b->completed);
    yq_json_add_int(o, "rejected", b->rejected);
    yq_json_add_int(o, "cancelled", b->cancelled);
    yq_json_add_int(o, "no_show", b->no_show);
    cJSON_AddNumberToObject(o, "no_show_rate", yq_stats_ratio(yq_stats_no_show_rate(b)));
    cJSON_AddNumberToObject(o, "cancellation_rate", yq_stats_ratio(yq_stats_cancellation_rate(b)));
    return o;
}

static const char *const bookings_keys[] = {"key",       "id",        "name_zh",      "name_en",           "bookings",
                                            "pending",   "confirmed", "in_use",       "completed",         "rejected",
                                            "cancelled", "no_show",   "no_show_rate", "cancellation_rate", NULL};

/* GET /api/v1/stats/bookings?from&to[&group_by&class_level&zone&org&class&format]:
 * bookings starting in the range by status, with no-show and cancellation
 * rates. 200 {group_by, from, to, items, totals} or text/csv; 400; 401; 403. */
static void stats_bookings(yq_req_t *req) {
    yq_stats_query_t q;
    int mode, level;
    if (yq_stats_open(req, &q, YQ_STATS_RANGE | YQ_STATS_CSV) || read_grouping(req, &mode, &level) || yq_stats_load(&q))
        return;
    grouping_t gr;
    grouping_init(&gr, &q, mode, level);
    bookings_ctx_t ctx = {&gr, {0}};
    if (yq_st_bookings(yq_db_main(), &q.cat, q.f.from, q.f.to, add_booking, &ctx) < 0) {
        yq_api_internal(req);
    } else {
        cJSON *items = cJSON_CreateArray();
        for (size_t g = 0; g < gr.n; g++)
            if (mode == G_MONTH || yq_stats_bookings_total(&gr.g[g].b))
                cJSON_AddItemToArray(items, bookings_group_json(&gr.g[g]));
        group_t total = {.key = "total", .name_zh = "合计", .name_en = "Total", .b = ctx.total};
        reply_groups(&q, mode, items, bookings_group_json(&total), "yiqi-stats-bookings.csv", bookings_keys);
    }
    grouping_free(&gr);
    yq_stats_close(&q);
}

/* ---- the rollups against the log ---- */

typedef struct {
    uv_work_t work;
    yq_req_t *req;
    char *path;
    int rc;
    yq_st_verify_t v;
} verify_job_t;

static void do_verify(uv_work_t *w) {
    verify_job_t *j = w->data;
    j->rc = yq_st_verify(j->path, &j->v);
}

static void after_verify(uv_work_t *w, int status) {
    verify_job_t *j = w->data;
    if (status || j->rc < 0) {
        yq_api_internal(j->req);
    } else {
        cJSON *out = cJSON_CreateObject(), *tables = cJSON_CreateArray();
        int ok = 1;
        for (int i = 0; i < YQ_ST_ROLLUPS; i++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "name", j->v.name[i]);
            yq_json_add_int(t, "rows", j->v.rows[i]);
            yq_json_add_int(t, "differing", j->v.diff[i]);
            cJSON_AddItemToArray(tables, t);
            ok &= j->v.diff[i] == 0;
        }
        cJSON_AddBoolToObject(out, "ok", ok);
        cJSON_AddItemToObject(out, "tables", tables);
        yq_api_json(j->req, 200, out);
    }
    free(j->path);
    free(j);
}

/* GET /api/v1/stats/verify: recomputes every rollup from the usage log and
 * the bookings (a full scan, on the thread pool with its own connection)
 * and compares. 200 {ok, tables: [{name, rows, differing}]}; 401; 403 (not
 * commission or admin). */
static void stats_verify(yq_req_t *req) {
    if (!yq_auth_require_role(req, YQ_SCOPE_STATS_READ, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION))
        return;
    verify_job_t *j = yq_xcalloc(1, sizeof *j);
    j->req = req;
    j->path = yq_xstrdup(yq_db_path(yq_db_main()));
    j->work.data = j;
    if (uv_queue_work(uv_default_loop(), &j->work, do_verify, after_verify)) {
        free(j->path);
        free(j);
        yq_api_internal(req);
    }
}

/* ---- CSV ---- */

static void csv_money(yq_csv_writer_t *w, double fen) {
    char s[32];
    long long v = (long long)fen, a = v < 0 ? -v : v;
    snprintf(s, sizeof s, "%s%lld.%02lld", v < 0 ? "-" : "", a / 100, a % 100);
    yq_csv_cell(w, s);
}

static int is_ratio(const char *key) {
    size_t n = strlen(key);
    return strcmp(key, "utilisation") == 0 || (n >= 4 && strcmp(key + n - 4, "rate") == 0);
}

static int is_money(const char *key) {
    size_t n = strlen(key);
    return n >= 4 && strcmp(key + n - 4, "_fen") == 0;
}

void yq_stats_reply_csv(yq_req_t *req, const char *filename, cJSON *items, const char *const *keys) {
    yq_csv_writer_t *w = yq_csv_writer_new();
    char name[64];
    for (int k = 0; keys[k]; k++) {
        if (is_money(keys[k])) {
            snprintf(name, sizeof name, "%.*s_yuan", (int)strlen(keys[k]) - 4, keys[k]);
            yq_csv_cell(w, name);
        } else {
            yq_csv_cell(w, keys[k]);
        }
    }
    yq_csv_end_row(w);
    const cJSON *item;
    cJSON_ArrayForEach(item, items) {
        const cJSON *next = item->child; /* the items hold the keys in this order: no lookups */
        for (int k = 0; keys[k]; k++) {
            const cJSON *v =
                next && strcmp(next->string, keys[k]) == 0 ? next : cJSON_GetObjectItemCaseSensitive(item, keys[k]);
            next = v ? v->next : NULL;
            char s[48];
            if (cJSON_IsString(v))
                yq_csv_cell(w, v->valuestring);
            else if (cJSON_IsBool(v))
                yq_csv_cell(w, cJSON_IsTrue(v) ? "1" : "0");
            else if (cJSON_IsNumber(v) && is_money(keys[k]))
                csv_money(w, v->valuedouble);
            else if (cJSON_IsNumber(v)) {
                if (is_ratio(keys[k]))
                    snprintf(s, sizeof s, "%.4f", v->valuedouble);
                else
                    snprintf(s, sizeof s, "%lld", (long long)v->valuedouble);
                yq_csv_cell(w, s);
            } else
                yq_csv_cell(w, NULL);
        }
        yq_csv_end_row(w);
    }
    cJSON_Delete(items);
    size_t len;
    const char *text = yq_csv_writer_data(w, &len);
    char disposition[128];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    yq_reply_header(req, "Content-Disposition", disposition);
    yq_reply(req, 200, "text/csv; charset=utf-8", text, len);
    yq_csv_writer_free(w);
}

/* ---- /metrics: business gauges ---- */

static const char *const booking_statuses[] = {"pending",  "confirmed", "in_use", "completed",
                                               "rejected", "cancelled", "no_show"};
static const char *const run_statuses[] = {"normal",         "standby",         "occasional_fault",
                                           "frequent_fault", "awaiting_repair", "awaiting_disposal"};

static void metric_bookings_today(yq_db_t *db, yq_buf_t *out) {
    int64_t n[7] = {0};
    yq_st_fold(db);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT status, sum(n) FROM stats_bookings_day WHERE day = ?1 GROUP BY status");
    sqlite3_bind_int64(st, 1, yq_stats_day_of(yq_now()));
    while (yq_db_step(db, st) == 1)
        for (int i = 0; i < 7; i++)
            if (strcmp((const char *)sqlite3_column_text(st, 0), booking_statuses[i]) == 0)
                n[i] = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    yq_buf_puts(out, "# HELP yiqi_bookings_today Bookings starting today (Asia/Shanghai), by status.\n"
                     "# TYPE yiqi_bookings_today gauge\n");
    for (int i = 0; i < 7; i++)
        yq_buf_printf(out, "yiqi_bookings_today{status=\"%s\"} %lld\n", booking_statuses[i], (long long)n[i]);
}

static void metric_active_users(yq_db_t *db, yq_buf_t *out) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(DISTINCT user_id) FROM sessions WHERE last_seen_at > ?1");
    sqlite3_bind_int64(st, 1, yq_now() - YQ_SESSION_IDLE_SECONDS);
    long long n = yq_db_int(db, st, 0);
    yq_buf_printf(out,
                  "# HELP yiqi_active_users Users with a session used in the last 30 minutes.\n"
                  "# TYPE yiqi_active_users gauge\nyiqi_active_users %lld\n",
                  n);
}

static void metric_instruments(yq_db_t *db, yq_buf_t *out) {
    int64_t n[6] = {0}, retired = 0;
    sqlite3_stmt *st =
        yq_db_stmt(db, "SELECT run_status, retired, count(*) FROM instrument_search GROUP BY run_status, retired");
    while (yq_db_step(db, st) == 1) {
        if (sqlite3_column_int(st, 1)) {
            retired += sqlite3_column_int64(st, 2);
            continue;
        }
        for (int i = 0; i < 6; i++)
            if (strcmp((const char *)sqlite3_column_text(st, 0), run_statuses[i]) == 0)
                n[i] = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    yq_buf_puts(out, "# HELP yiqi_instruments Instruments by run status (retired ones apart).\n"
                     "# TYPE yiqi_instruments gauge\n");
    for (int i = 0; i < 6; i++)
        yq_buf_printf(out, "yiqi_instruments{run_status=\"%s\"} %lld\n", run_statuses[i], (long long)n[i]);
    yq_buf_printf(out, "yiqi_instruments{run_status=\"retired\"} %lld\n", (long long)retired);
}

static void collect_business(yq_buf_t *out) {
    yq_db_t *db = yq_db_main();
    if (!db)
        return;
    metric_bookings_today(db, out);
    metric_active_users(db, out);
    metric_instruments(db, out);
}

/* Registered before main() runs; the gauges are read only when /metrics is. */
__attribute__((constructor)) static void register_business_gauges(void) {
    yq_metrics_add_collector(collect_business);
}

const yq_route_t yq_api_stats_routes[] = {
    {YQ_M_GET, "/api/v1/stats/instruments", stats_instruments, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/top", stats_top, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/idle", stats_idle, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/summary", stats_summary, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/flows", stats_flows, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/bookings", stats_bookings, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/verify", stats_verify, 0, NULL},
    {YQ_M_GET, "/api/v1/stats/annual-report", yq_stats_annual_report, 0, NULL},
};
const size_t yq_api_stats_routes_count = sizeof yq_api_stats_routes / sizeof yq_api_stats_routes[0];
