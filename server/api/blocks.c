/*
 * Maintenance blocks (DOMAIN.md "Bookings"): an operator of the owner
 * institution (or an admin) takes time off an instrument's calendar. In the
 * same transaction the pending and confirmed bookings the block hits are
 * cancelled with the block's reason and their users notified in the app; a
 * booking already in use is not cut short (409 in_use). The storage trigger
 * blocks_no_live_booking refuses a block over any live booking, so the
 * no-overlap invariant holds whatever the order of writers.
 *
 *   POST   /api/v1/instruments/{id}/blocks {start, end, reason}
 *   GET    /api/v1/instruments/{id}/blocks?from=&to=
 *   DELETE /api/v1/instruments/{id}/blocks/{block_id}
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/bookings_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"

#define MAX_BLOCK_SECONDS (366 * 86400)
#define E_IN_USE (-100)

static cJSON *block_json(sqlite3_stmt *st) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_col(o, "instrument_id", st, 1);
    yq_json_add_time(o, "start", sqlite3_column_int64(st, 2));
    yq_json_add_time(o, "end", sqlite3_column_int64(st, 3));
    yq_json_add_col(o, "reason", st, 4);
    yq_json_add_col(o, "created_by", st, 5);
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 6));
    return o;
}

static cJSON *block_by_id(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, instrument_id, start, end, reason, created_by, created_at "
                                      "FROM blocks WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = yq_db_step(db, st) == 1 ? block_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t instrument_id, owner_org_id, start, end;
    char *reason;
    cJSON *out;
} block_job_t;

/* Cancels every pending/confirmed booking in [start, end) with the reason
 * and notifies its user; fails with E_IN_USE when one is in use. */
static int cancel_hit(block_job_t *j, cJSON *ids) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, user_id, status, start FROM bookings WHERE instrument_id = ?1 "
                                      "AND " YQ_BK_LIVE_STATUS " AND end > ?2 AND start < ?3");
    sqlite3_bind_int64(st, 1, j->instrument_id);
    sqlite3_bind_int64(st, 2, j->start);
    sqlite3_bind_int64(st, 3, j->end);
    int64_t hit[512][3];
    size_t n = 0;
    int in_use = 0;
    while (yq_db_step(db, st) == 1 && n < 512) {
        in_use |= sqlite3_column_text(st, 2)[0] == 'i';
        hit[n][0] = sqlite3_column_int64(st, 0);
        hit[n][1] = sqlite3_column_int64(st, 1);
        hit[n][2] = sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_reset(st);
    if (in_use)
        return E_IN_USE;
    for (size_t i = 0; i < n; i++) {
        yq_bk_booking_t b;
        if (yq_bk_booking_load(hit[i][0], &b))
            return YQ_DB_ERROR;
        int rc = yq_bk_set_status(b.id, j->p->user_id, b.status, "cancelled", j->reason);
        char when[20], zh[600], en[600];
        yq_bk_local_text(hit[i][2], when);
        snprintf(zh, sizeof zh, "您 %s 的预约因仪器维护被取消：%s", when, j->reason);
        snprintf(en, sizeof en, "Your booking at %s was cancelled for maintenance: %s", when, j->reason);
        if (rc == 0)
            rc = yq_bk_notify(hit[i][1], "booking_cancelled", zh, en, b.id);
        if (rc < 0)
            return rc;
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)b.id));
    }
    return 0;
}

static int run_block(void *ctx) {
    block_job_t *j = ctx;
    yq_db_t *db = yq_db_main();
    cJSON *ids = cJSON_CreateArray();
    int rc = cancel_hit(j, ids);
    if (rc < 0) {
        cJSON_Delete(ids);
        return rc;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO blocks (instrument_id, start, end, reason, created_by, created_at) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_int64(st, 1, j->instrument_id);
    sqlite3_bind_int64(st, 2, j->start);
    sqlite3_bind_int64(st, 3, j->end);
    sqlite3_bind_text(st, 4, j->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, j->p->user_id);
    sqlite3_bind_int64(st, 6, yq_now());
    rc = yq_db_step(db, st);
    if (rc < 0) {
        cJSON_Delete(ids);
        return rc;
    }
    int64_t id = yq_db_last_id(db);
    j->out = block_by_id(id);
    cJSON_AddItemToObject(j->out, "cancelled_booking_ids", ids);
    return yq_audit(j->req, j->p, NULL, "block_create", "block", id, j->owner_org_id, NULL, j->out);
}

static void after_block(void *ctx, int rc) {
    block_job_t *j = ctx;
    if (rc == E_IN_USE)
        yq_reply_error(j->req, 409, "in_use", "A booking in that time is in use; check it out first.", NULL);
    else if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(j->req, 409, "slot_taken", "A booking was made in that time meanwhile; try again.", NULL);
    else if (rc < 0 || !j->out)
        yq_api_internal(j->req);
    else {
        yq_api_json(j->req, 201, j->out); /* takes ownership */
        j->out = NULL;
    }
    cJSON_Delete(j->out);
    free(j->reason);
    free(j);
}

/* Loads the visible instrument of path parameter 0; answers 404 itself. With
 * staff set, also requires an operator of the owner or an admin (403). */
static int load_instrument(yq_req_t *req, const yq_principal_t *p, int staff, yq_bk_instrument_t *ins) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return -1;
    if (yq_bk_instrument_load(id, req->arena, ins) || !yq_bk_instrument_visible(ins, p)) {
        yq_api_not_found(req);
        return -1;
    }
    if (staff && !yq_bk_is_staff(ins, p)) {
        yq_reply_error(req, 403, "forbidden", "Only an operator of the owner institution may do this.", NULL);
        return -1;
    }
    return 0;
}

/* POST /api/v1/instruments/{id}/blocks {start, end, reason}: 201 the block
 * with cancelled_booking_ids; 400 bad times/reason; 401; 403 not staff;
 * 404; 409 in_use. */
static void block_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    yq_bk_instrument_t ins;
    cJSON *body;
    if (!p || load_instrument(req, p, 1, &ins) || yq_api_body(req, &body))
        return;
    block_job_t *j = yq_xcalloc(1, sizeof *j);
    const char *reason;
    int bad = yq_api_time(req, body, "start", 1, &j->start, NULL) || yq_api_time(req, body, "end", 1, &j->end, NULL) ||
              yq_api_str(req, body, "reason", 1, 500, &reason);
    if (!bad && (j->end <= j->start || j->end - j->start > MAX_BLOCK_SECONDS)) {
        yq_reply_error(req, 400, "invalid_field", "'end' must be after 'start', at most 366 days later.", "end");
        bad = 1;
    }
    if (bad) {
        cJSON_Delete(body);
        free(j);
        return;
    }
    j->req = req;
    j->p = p;
    j->instrument_id = ins.in.id;
    j->owner_org_id = ins.in.owner_org_id;
    j->reason = yq_xstrdup(reason);
    cJSON_Delete(body);
    yq_batch_submit(run_block, after_block, j);
}

/* GET /api/v1/instruments/{id}/blocks?from=&to=: 200 list (blocks ending
 * after from and starting before to; default: from now on); 400; 404 (absent
 * or not visible; a token without the "all" scope sees as anonymous). */
static void block_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_viewer(req);
    yq_bk_instrument_t ins;
    int64_t from = yq_now(), to = INT64_MAX;
    if (load_instrument(req, p, 0, &ins) || yq_api_query_time(req, "from", &from, NULL) ||
        yq_api_query_time(req, "to", &to, NULL))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, instrument_id, start, end, reason, created_by, created_at "
                                      "FROM blocks WHERE instrument_id = ?1 AND end > ?2 AND start < ?3 "
                                      "ORDER BY start LIMIT 500");
    sqlite3_bind_int64(st, 1, ins.in.id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    cJSON *items = cJSON_CreateArray();
    while (yq_db_step(db, st) == 1)
        cJSON_AddItemToArray(items, block_json(st));
    sqlite3_reset(st);
    yq_api_list(req, items, 0);
}

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t instrument_id, owner_org_id, block_id;
    int found;
} unblock_t;

static int run_unblock(void *ctx) {
    unblock_t *u = ctx;
    yq_db_t *db = yq_db_main();
    cJSON *before = block_by_id(u->block_id);
    sqlite3_stmt *st = yq_db_stmt(db, "DELETE FROM blocks WHERE id = ?1 AND instrument_id = ?2");
    sqlite3_bind_int64(st, 1, u->block_id);
    sqlite3_bind_int64(st, 2, u->instrument_id);
    int rc = yq_db_step(db, st);
    u->found = rc == 0 && yq_db_changes(db) == 1;
    if (u->found)
        rc = yq_audit(u->req, u->p, NULL, "block_delete", "block", u->block_id, u->owner_org_id, before, NULL);
    cJSON_Delete(before);
    return rc < 0 ? rc : 0;
}

static void after_unblock(void *ctx, int rc) {
    unblock_t *u = ctx;
    yq_api_deleted(u->req, rc, u->found);
    free(u);
}

/* DELETE /api/v1/instruments/{id}/blocks/{block_id}: 204 (the bookings it
 * cancelled stay cancelled); 401; 403; 404. */
static void block_delete(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    yq_bk_instrument_t ins;
    int64_t bid;
    if (!p || load_instrument(req, p, 1, &ins) || yq_api_param_id(req, 1, &bid))
        return;
    unblock_t *u = yq_xcalloc(1, sizeof *u);
    *u = (unblock_t){req, p, ins.in.id, ins.in.owner_org_id, bid, 0};
    yq_batch_submit(run_unblock, after_unblock, u);
}

const yq_route_t yq_api_blocks_routes[] = {
    {YQ_M_POST, "/api/v1/instruments/{id}/blocks", block_create, 0, NULL},
    {YQ_M_GET, "/api/v1/instruments/{id}/blocks", block_list, 0, NULL},
    {YQ_M_DELETE, "/api/v1/instruments/{id}/blocks/{block_id}", block_delete, 0, NULL},
};
const size_t yq_api_blocks_routes_count = sizeof yq_api_blocks_routes / sizeof yq_api_blocks_routes[0];
