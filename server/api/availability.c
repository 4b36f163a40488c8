/*
 * Availability (API.md "Availability"): an instrument's busy and free time
 * over at most 62 days, and a search for the first free slot of a wanted
 * length across the instruments of a class, zone or institution.
 *
 * Storage gives the taken intervals (live bookings, blocks) that meet the
 * range, through the partial index bookings_live_end (migration 030) and
 * blocks_instrument_end; the pure domain/availability.h turns them, with
 * the open hours, into busy intervals with kinds (booking, block, closed;
 * adjacent ones of a kind merged) and free intervals, and finds free slots
 * under the booking rules. Busy intervals carry no personal data.
 *
 *   GET /api/v1/instruments/{id}/availability?from=&to=
 *   GET /api/v1/availability/search?minutes=&from=&to=&class=&zone=&org=&limit=
 */

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/bookings_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "domain/availability.h"

#define MAX_RANGE (62 * 86400)
#define MAX_TAKEN 20000

/* Reads the live bookings and blocks of the instrument meeting [from, to)
 * into a malloc'd array (the caller frees it); *n gets the count. */
static yq_busy_t *load_taken(int64_t instrument_id, int64_t from, int64_t to, size_t *n) {
    yq_db_t *db = yq_db_main();
    size_t cap = 64;
    yq_busy_t *out = yq_xmalloc(cap * sizeof *out);
    *n = 0;
    sqlite3_stmt *sts[2] = {
        yq_db_stmt(db, "SELECT start, end FROM bookings WHERE instrument_id = ?1 "
                       "AND " YQ_BK_LIVE_STATUS " AND end > ?2 AND start < ?3"),
        yq_db_stmt(db, "SELECT start, end FROM blocks WHERE instrument_id = ?1 AND end > ?2 AND start < ?3"),
    };
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *st = sts[k];
        sqlite3_bind_int64(st, 1, instrument_id);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        while (*n < MAX_TAKEN && yq_db_step(db, st) == 1) {
            if (*n == cap)
                out = yq_xrealloc(out, (cap *= 2) * sizeof *out);
            out[*n].start = sqlite3_column_int64(st, 0);
            out[*n].end = sqlite3_column_int64(st, 1);
            out[*n].kind = k == 0 ? YQ_BUSY_BOOKING : YQ_BUSY_BLOCK;
            (*n)++;
        }
        sqlite3_reset(st);
    }
    return out;
}

/* Reads from/to (both required, from < to, at most 62 days); answers 400. */
static int read_range(yq_req_t *req, int64_t *from, int64_t *to, int required, int64_t default_days) {
    int has_from = 0, has_to = 0;
    if (yq_api_query_time(req, "from", from, &has_from) || yq_api_query_time(req, "to", to, &has_to))
        return -1;
    if (required && (!has_from || !has_to)) {
        yq_reply_error(req, 400, "invalid_query", "Give 'from' and 'to' (RFC 3339).", has_from ? "to" : "from");
        return -1;
    }
    if (!has_from)
        *from = yq_now();
    if (!has_to)
        *to = *from + default_days * 86400;
    if (*to <= *from) {
        yq_reply_error(req, 400, "invalid_query", "'to' must be after 'from'.", "to");
        return -1;
    }
    if (*to - *from > MAX_RANGE) {
        yq_reply_error(req, 400, "range_too_long", "Ask for at most 62 days at a time.", "to");
        return -1;
    }
    return 0;
}

static const char *kind_name(int kind) {
    return kind == YQ_BUSY_BOOKING ? "booking" : kind == YQ_BUSY_BLOCK ? "block" : "closed";
}

/* GET /api/v1/instruments/{id}/availability?from=&to=: 200 {from, to,
 * slot_minutes, busy: [{start, end, kind}], free: [{start, end}]}; 400
 * invalid range or range_too_long; 404 (absent or not visible). Public for
 * instruments the caller may see (a token without the "all" scope: as
 * anonymous). */
static void availability_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_viewer(req);
    yq_bk_instrument_t ins;
    int64_t id, from, to;
    if (yq_api_param_id(req, 0, &id))
        return;
    if (yq_bk_instrument_load(id, req->arena, &ins) || !yq_bk_instrument_visible(&ins, p)) {
        yq_api_not_found(req);
        return;
    }
    if (read_range(req, &from, &to, 1, 7))
        return;
    size_t n;
    yq_busy_t *taken = load_taken(id, from, to, &n);
    yq_avail_t av;
    yq_availability(&ins.in, from, to, taken, n, &av);
    free(taken);
    /* Time that can no longer be booked (the past, the notice period) is not free. */
    yq_avail_clip_free(&av, yq_avail_bookable_from(&ins.in, yq_now()));
    cJSON *o = cJSON_CreateObject();
    yq_json_add_time(o, "from", from);
    yq_json_add_time(o, "to", to);
    yq_json_add_int(o, "slot_minutes", ins.in.slot_minutes);
    cJSON *busy = cJSON_AddArrayToObject(o, "busy"), *freea = cJSON_AddArrayToObject(o, "free");
    for (size_t i = 0; i < av.n_busy; i++) {
        cJSON *b = cJSON_CreateObject();
        yq_json_add_time(b, "start", av.busy[i].start);
        yq_json_add_time(b, "end", av.busy[i].end);
        cJSON_AddStringToObject(b, "kind", kind_name(av.busy[i].kind));
        cJSON_AddItemToArray(busy, b);
    }
    for (size_t i = 0; i < av.n_free; i++) {
        cJSON *f = cJSON_CreateObject();
        yq_json_add_time(f, "start", av.free[i].start);
        yq_json_add_time(f, "end", av.free[i].end);
        cJSON_AddItemToArray(freea, f);
    }
    yq_avail_free(&av);
    yq_api_json(req, 200, o);
}

typedef struct {
    int64_t instrument_id, start;
} hit_t;

static int by_start(const void *a, const void *b) {
    const hit_t *x = a, *y = b;
    return x->start < y->start   ? -1
           : x->start > y->start ? 1
                                 : (x->instrument_id > y->instrument_id) - (x->instrument_id < y->instrument_id);
}

/* Reads the search filters; answers 400 itself. */
static int read_filters(yq_req_t *req, const char **klass, const char **zone, int64_t *org, int64_t *minutes,
                        int64_t *limit) {
    *klass = yq_req_query(req, "class");
    *zone = yq_req_query(req, "zone");
    *org = 0;
    *limit = 20;
    int has_minutes = 0;
    if (yq_api_query_int(req, "minutes", 1, 7 * 1440, minutes, &has_minutes) ||
        yq_api_query_int(req, "org", 1, INT64_MAX, org, NULL) || yq_api_query_int(req, "limit", 1, 100, limit, NULL))
        return -1;
    if (!has_minutes) {
        yq_reply_error(req, 400, "invalid_query", "Give the wanted length in 'minutes'.", "minutes");
        return -1;
    }
    size_t len = *klass ? strlen(*klass) : 0;
    if (len && ((len != 2 && len != 4 && len != 6) || strspn(*klass, "0123456789") != len)) {
        yq_reply_error(req, 400, "invalid_query", "'class' is a prefix of 2, 4 or 6 digits.", "class");
        return -1;
    }
    if (!len)
        *klass = "";
    if (!*zone)
        *zone = "";
    return 0;
}

/* GET /api/v1/availability/search?minutes=&from=&to=&class=&zone=&org=&limit=
 * -> 200 {items: [{instrument_id, name_zh, name_en, zone, owner_org_id,
 * class_code, start, end}], next_cursor: null}: for each bookable instrument
 * the caller may see and book that matches the filters, the earliest start
 * in [from, to) (default now .. 7 days on) where `minutes` fit under its
 * rules (open hours, slot step, length, notice, horizon); earliest first.
 * 400 invalid or range_too_long. Public (anonymous callers, and tokens without
 * the "all" scope, see external instruments). */
static void availability_search(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_viewer(req);
    const char *klass, *zone;
    int64_t org, minutes, limit, from, to, now = yq_now();
    if (read_filters(req, &klass, &zone, &org, &minutes, &limit) || read_range(req, &from, &to, 0, 7))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT i.id FROM instruments i JOIN orgs o ON o.id = i.owner_org_id JOIN zones z ON z.id = o.zone_id "
            "WHERE i.retired_at IS NULL AND i.share_mode <> 'none' "
            "AND i.run_status IN ('normal', 'standby', 'occasional_fault') "
            "AND (?1 = '' OR substr(i.class_code, 1, length(?1)) = ?1) AND (?2 = '' OR z.code = ?2) "
            "AND (?3 = 0 OR i.owner_org_id = ?3) AND (i.share_mode = 'external' OR i.owner_org_id = ?4 OR ?5 = 1) "
            "ORDER BY i.id LIMIT 5000");
    sqlite3_bind_text(st, 1, klass, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, org);
    sqlite3_bind_int64(st, 4, p ? p->org_id : -1);
    sqlite3_bind_int(st, 5, yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION));
    int64_t *ids = yq_xmalloc(5000 * sizeof *ids);
    size_t n = 0;
    while (n < 5000 && yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    hit_t *hits = yq_xmalloc((n ? n : 1) * sizeof *hits);
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        yq_bk_instrument_t ins;
        if (yq_bk_instrument_load(ids[i], req->arena, &ins))
            continue;
        size_t nt;
        yq_busy_t *taken = load_taken(ids[i], from, to + minutes * 60, &nt);
        int64_t start;
        if (yq_avail_first_slot(&ins.in, from, to, now, minutes, taken, nt, &start) == 0)
            hits[nh++] = (hit_t){ids[i], start};
        free(taken);
    }
    free(ids);
    qsort(hits, nh, sizeof *hits, by_start);
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; i < nh && (int64_t)i < limit; i++) {
        st =
            yq_db_stmt(db, "SELECT i.id, i.name_zh, i.name_en, z.code, i.owner_org_id, i.class_code FROM instruments i "
                           "JOIN orgs o ON o.id = i.owner_org_id JOIN zones z ON z.id = o.zone_id WHERE i.id = ?1");
        sqlite3_bind_int64(st, 1, hits[i].instrument_id);
        if (yq_db_step(db, st) == 1) {
            cJSON *o = cJSON_CreateObject();
            yq_json_add_col(o, "instrument_id", st, 0);
            yq_json_add_col(o, "name_zh", st, 1);
            yq_json_add_col(o, "name_en", st, 2);
            yq_json_add_col(o, "zone", st, 3);
            yq_json_add_col(o, "owner_org_id", st, 4);
            yq_json_add_col(o, "class_code", st, 5);
            yq_json_add_time(o, "start", hits[i].start);
            yq_json_add_time(o, "end", hits[i].start + minutes * 60);
            cJSON_AddItemToArray(items, o);
        }
        sqlite3_reset(st);
    }
    free(hits);
    yq_api_list(req, items, 0);
}

const yq_route_t yq_api_availability_routes[] = {
    {YQ_M_GET, "/api/v1/instruments/{id}/availability", availability_get, 0, NULL},
    {YQ_M_GET, "/api/v1/availability/search", availability_search, 0, NULL},
};
const size_t yq_api_availability_routes_count =
    sizeof yq_api_availability_routes / sizeof yq_api_availability_routes[0];
