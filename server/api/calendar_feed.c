/*
 * The private iCalendar feed (RFC 5545) of a user's bookings. The secret is
 * a random token (auth/token.h) shown once; only its SHA-256 is stored
 * (users.ical_token_hash), so creating a feed again rotates the URL and
 * deleting it revokes it. The feed itself needs no session: calendar
 * applications fetch it with the secret URL alone.
 *
 *   POST   /api/v1/me/calendar-feed   -> 201 {url, path} (new secret URL)
 *   GET    /api/v1/me/calendar-feed   -> 200 {active}
 *   DELETE /api/v1/me/calendar-feed   -> 204 (revoked)
 *   GET    /api/v1/calendar/{token}.ics -> text/calendar
 */

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "auth/token.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"
#include "domain/ical.h"

#define FEED_PAST_DAYS 90
#define FEED_MAX 2000

typedef struct {
    yq_req_t *req;
    int64_t user_id;
    int revoke;
    char token[YQ_TOKEN_CHARS];
} feed_t;

static int run_feed(void *ctx) {
    feed_t *f = ctx;
    yq_db_t *db = yq_db_main();
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE users SET ical_token_hash = ?2 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, f->user_id);
    if (!f->revoke) {
        yq_token_new(f->token);
        yq_token_hash(f->token, hash);
        sqlite3_bind_blob(st, 2, hash, sizeof hash, SQLITE_TRANSIENT);
    }
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

static void after_feed(void *ctx, int rc) {
    feed_t *f = ctx;
    if (rc < 0) {
        yq_api_internal(f->req);
    } else if (f->revoke) {
        yq_reply(f->req, 204, NULL, NULL, 0);
    } else {
        char path[128], url[512];
        snprintf(path, sizeof path, "/api/v1/calendar/%s.ics", f->token);
        const char *host = yq_req_header(f->req, "host");
        snprintf(url, sizeof url, "%s://%s%s", yq_auth_settings.behind_tls ? "https" : "http",
                 host ? host : "localhost", path);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "url", url);
        cJSON_AddStringToObject(o, "path", path);
        yq_api_json(f->req, 201, o);
    }
    free(f);
}

static void feed_write(yq_req_t *req, int revoke) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    if (!p)
        return;
    feed_t *f = yq_xcalloc(1, sizeof *f);
    f->req = req;
    f->user_id = p->user_id;
    f->revoke = revoke;
    yq_batch_submit(run_feed, after_feed, f);
}

/* POST /api/v1/me/calendar-feed: 201 {url, path} (any earlier URL stops
 * working); 401; 403 csrf. */
static void feed_create(yq_req_t *req) {
    feed_write(req, 0);
}

/* DELETE /api/v1/me/calendar-feed: 204; 401; 403 csrf. */
static void feed_delete(yq_req_t *req) {
    feed_write(req, 1);
}

/* GET /api/v1/me/calendar-feed: 200 {active}; 401. */
static void feed_status(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    if (!p)
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT ical_token_hash IS NOT NULL FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, p->user_id);
    int active = yq_db_step(db, st) == 1 && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "active", active);
    yq_api_json(req, 200, o);
}

/* The user whose feed token is the path parameter ("TOKEN.ics"); 0 when none. */
static int64_t feed_user(yq_req_t *req) {
    const char *file = req->params[0];
    size_t n = strlen(file);
    if (n < 5 || n - 4 >= YQ_TOKEN_CHARS || strcmp(file + n - 4, ".ics") != 0)
        return 0;
    char token[YQ_TOKEN_CHARS];
    memcpy(token, file, n - 4);
    token[n - 4] = '\0';
    unsigned char hash[YQ_TOKEN_HASH_BYTES];
    yq_token_hash(token, hash);
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM users WHERE ical_token_hash = ?1 AND disabled = 0");
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    int64_t id = yq_db_int(db, st, 0);
    return id;
}

/* GET /api/v1/calendar/{token}.ics: 200 text/calendar with the user's
 * bookings from 90 days ago on (cancelled and rejected ones as CANCELLED so
 * calendar applications remove them); 404 unknown or revoked token. */
static void feed_get(yq_req_t *req) {
    int64_t user_id = feed_user(req);
    if (!user_id) {
        yq_api_not_found(req);
        return;
    }
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(
        db, "SELECT b.id, b.start, b.end, b.status, i.name_zh, i.name_en, i.address, i.room, b.purpose, b.updated_at "
            "FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
            "WHERE b.user_id = ?1 AND b.start >= ?2 ORDER BY b.start LIMIT 2000");
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, yq_now() - FEED_PAST_DAYS * 86400);
    yq_ical_event_t *ev = yq_arena_alloc(req->arena, FEED_MAX * sizeof *ev);
    size_t n = 0;
    while (n < FEED_MAX && yq_db_step(db, st) == 1) {
        yq_ical_event_t *e = &ev[n++];
        memset(e, 0, sizeof *e);
        e->uid = yq_arena_printf(req->arena, "booking-%lld@yiqi", (long long)sqlite3_column_int64(st, 0));
        e->start = sqlite3_column_int64(st, 1);
        e->end = sqlite3_column_int64(st, 2);
        e->status = yq_arena_strdup(req->arena, (const char *)sqlite3_column_text(st, 3));
        e->summary = yq_arena_printf(req->arena, "%s / %s", sqlite3_column_text(st, 4), sqlite3_column_text(st, 5));
        e->location = yq_arena_printf(req->arena, "%s %s", sqlite3_column_text(st, 6), sqlite3_column_text(st, 7));
        e->description = yq_arena_strdup(req->arena, (const char *)sqlite3_column_text(st, 8));
        e->stamp = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    char *text = yq_ical_calendar("Yiqi bookings / 仪器预约", ev, n);
    yq_reply_header(req, "Cache-Control", "private, no-store");
    yq_reply(req, 200, "text/calendar; charset=utf-8", text, strlen(text));
    free(text);
}

const yq_route_t yq_api_calendar_feed_routes[] = {
    {YQ_M_POST, "/api/v1/me/calendar-feed", feed_create, 0, NULL},
    {YQ_M_GET, "/api/v1/me/calendar-feed", feed_status, 0, NULL},
    {YQ_M_DELETE, "/api/v1/me/calendar-feed", feed_delete, 0, NULL},
    {YQ_M_GET, "/api/v1/calendar/{file}", feed_get, 0, NULL},
};
const size_t yq_api_calendar_feed_routes_count =
    sizeof yq_api_calendar_feed_routes / sizeof yq_api_calendar_feed_routes[0];
