/*
 * What the statistics API files (stats.c: the JSON and CSV tables;
 * stats_export.c: the annual report) share: who may ask and about what, the
 * per-instrument figures of a range, and CSV replies of JSON tables.
 *
 * Access (API.md "Who may read"): commission and admins read everything;
 * operators read their own institution's instruments only (an explicit
 * other `org` is 403); a bearer token needs the stats:read (or all) scope,
 * and only narrows what its user may do.
 */
#ifndef YQ_API_STATS_H
#define YQ_API_STATS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "api/stats_store.h"
#include "auth/principal.h"
#include "http/request.h"

/* The longest range a request may cover (400 range_too_long). */
#define YQ_STATS_MAX_RANGE_SECONDS (3660LL * 86400)

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    yq_st_filter_t f;
    int csv;               /* format=csv */
    int xlsx;              /* format=xlsx */
    yq_st_catalogue_t cat; /* loaded by yq_stats_load */
    yq_st_zone_t *zones;   /* every zone (arena) */
    int nzones;
} yq_stats_query_t;

/* Flags for yq_stats_open. */
enum {
    YQ_STATS_RANGE = 1, /* from and to are required */
    YQ_STATS_CSV = 2,   /* format=csv is allowed */
    YQ_STATS_XLSX = 4,  /* format=xlsx is allowed */
};

/* Authenticates (401/403), reads from, to (when flags has YQ_STATS_RANGE),
 * zone, org, class and format (400 invalid_query / range_too_long) and
 * narrows an operator to their institution (403 for another one). Answers
 * the request itself and returns -1 on failure; 0 otherwise. */
int yq_stats_open(yq_req_t *req, yq_stats_query_t *q, int flags);

/* Loads the catalogue for q->f (500 on failure: answers, returns -1). */
int yq_stats_load(yq_stats_query_t *q);
void yq_stats_close(yq_stats_query_t *q);

/* The zone with that id, or NULL. */
const yq_st_zone_t *yq_stats_zone(const yq_stats_query_t *q, int64_t id);

/* One instrument's figures over a range. */
typedef struct {
    yq_st_sums_t s;
    int64_t rated;
    int64_t users, orgs; /* -1 until yq_stats_people */
    int in_scope;        /* in service during the range, or used in it */
} yq_stats_fig_t;

/* Figures of every loaded instrument over [from, to) (within the load's
 * range), into figs[0 .. q->cat.n). Returns 0 or a negative code. */
int yq_stats_figures(yq_stats_query_t *q, int64_t from, int64_t to, yq_stats_fig_t *figs);

/* Fills users and orgs of figs[idx[k]] for k < n (catalogue indexes, any
 * order) over [from, to), all in one call (api/stats_store.h,
 * yq_st_people_many). Returns 0 or < 0. */
int yq_stats_people(yq_stats_query_t *q, const size_t *idx, size_t n, int64_t from, int64_t to, yq_stats_fig_t *figs);

/* A ratio rounded to six decimals, for JSON. */
double yq_stats_ratio(double x);

/* Replies 200 text/csv (UTF-8 with BOM, attachment `filename`) with one
 * row per item of the JSON array, columns in the order of keys. A key
 * ending in _fen is written as yuan with two decimals under the header
 * <name>_yuan (API.md: CSV exports show money in yuan); numbers that are
 * not integers with four decimals; null as an empty cell. Takes
 * ownership of items. */
void yq_stats_reply_csv(yq_req_t *req, const char *filename, cJSON *items, const char *const *keys);

/* Route handler of stats_export.c: GET /api/v1/stats/annual-report. */
void yq_stats_annual_report(yq_req_t *req);

#endif
