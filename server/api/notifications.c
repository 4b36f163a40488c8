/*
 * In-app notifications (a booking cancelled by a block or an operator, an
 * approval, a no-show, a bar): the caller's own list with the unread count,
 * and marking them read. Written by the booking code (yq_bk_notify).
 *
 *   GET  /api/v1/notifications?unread=1&limit=&cursor=  newest first
 *   POST /api/v1/notifications/read {"ids": [..]} | {"all": true}
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/bookings_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"

static int64_t unread_count(int64_t user_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL");
    sqlite3_bind_int64(st, 1, user_id);
    int64_t n = yq_db_int(db, st, 0);
    return n;
}

static cJSON *row_json(sqlite3_stmt *st) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_time(o, "at", sqlite3_column_int64(st, 1));
    yq_json_add_col(o, "kind", st, 2);
    yq_json_add_col(o, "message_zh", st, 3);
    yq_json_add_col(o, "message_en", st, 4);
    yq_json_add_col(o, "booking_id", st, 5);
    cJSON_AddBoolToObject(o, "read", sqlite3_column_type(st, 6) != SQLITE_NULL);
    return o;
}

/* GET /api/v1/notifications: 200 {items, next_cursor, unread_count}; 400; 401. */
static void notifications_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t limit, after, unread = 0;
    if (!p || yq_api_page(req, &limit, &after) || yq_api_query_int(req, "unread", 0, 1, &unread, NULL))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, at, kind, message_zh, message_en, booking_id, read_at "
                                      "FROM notifications WHERE user_id = ?1 AND (?2 = 0 OR id < ?2) "
                                      "AND (?3 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT ?4");
    sqlite3_bind_int64(st, 1, p->user_id);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, unread);
    sqlite3_bind_int64(st, 4, limit + 1);
    cJSON *items = cJSON_CreateArray();
    int64_t n = 0, last = 0, more = 0;
    while (yq_db_step(db, st) == 1) {
        if (n++ == limit) {
            more = 1;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        cJSON_AddItemToArray(items, row_json(st));
    }
    sqlite3_reset(st);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", items);
    if (more) {
        char c[32];
        snprintf(c, sizeof c, "%lld", (long long)last);
        cJSON_AddStringToObject(out, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    yq_json_add_int(out, "unread_count", unread_count(p->user_id));
    yq_api_json(req, 200, out);
}

typedef struct {
    yq_req_t *req;
    int64_t user_id;
    int all;
    int64_t ids[500];
    size_t n;
} mark_t;

static int run_mark(void *ctx) {
    mark_t *m = ctx;
    yq_db_t *db = yq_db_main();
    int64_t now = yq_now();
    if (m->all) {
        sqlite3_stmt *st =
            yq_db_stmt(db, "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL");
        sqlite3_bind_int64(st, 1, m->user_id);
        sqlite3_bind_int64(st, 2, now);
        return yq_db_step(db, st) < 0 ? YQ_DB_ERROR : 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        sqlite3_stmt *st = yq_db_stmt(db, "UPDATE notifications SET read_at = ?3 "
                                          "WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL");
        sqlite3_bind_int64(st, 1, m->ids[i]);
        sqlite3_bind_int64(st, 2, m->user_id);
        sqlite3_bind_int64(st, 3, now);
        if (yq_db_step(db, st) < 0)
            return YQ_DB_ERROR;
    }
    return 0;
}

static void after_mark(void *ctx, int rc) {
    mark_t *m = ctx;
    if (rc < 0) {
        yq_api_internal(m->req);
    } else {
        cJSON *out = cJSON_CreateObject();
        yq_json_add_int(out, "unread_count", unread_count(m->user_id));
        yq_api_json(m->req, 200, out);
    }
    free(m);
}

/* POST /api/v1/notifications/read {"ids": [...]} or {"all": true}: 200
 * {unread_count}; ids of other users' notifications are ignored; 400; 401; 403. */
static void notifications_read(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body;
    if (!p || yq_api_body(req, &body))
        return;
    mark_t *m = yq_xcalloc(1, sizeof *m);
    m->req = req;
    m->user_id = p->user_id;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    if (yq_api_bool(req, body, "all", 0, &m->all, NULL))
        goto fail;
    if (!m->all) {
        if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > 500) {
            yq_reply_error(req, 400, "invalid_field", "Give 'ids' (at most 500) or 'all': true.", "ids");
            goto fail;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, ids) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble != (double)(int64_t)it->valuedouble) {
                yq_reply_error(req, 400, "invalid_field", "Each id must be a positive integer.", "ids");
                goto fail;
            }
            m->ids[m->n++] = (int64_t)it->valuedouble;
        }
    }
    cJSON_Delete(body);
    yq_batch_submit(run_mark, after_mark, m);
    return;
fail:
    cJSON_Delete(body);
    free(m);
}

const yq_route_t yq_api_notifications_routes[] = {
    {YQ_M_GET, "/api/v1/notifications", notifications_list, 0, NULL},
    {YQ_M_POST, "/api/v1/notifications/read", notifications_read, 0, NULL},
};
const size_t yq_api_notifications_routes_count =
    sizeof yq_api_notifications_routes / sizeof yq_api_notifications_routes[0];
