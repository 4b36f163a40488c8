/*
 * Training records (DOMAIN.md "Bookings", "The instrument record"): an
 * operator of the owner institution (or an admin) records that a user is
 * trained on an instrument until an expiry instant; bookings of instruments
 * with requires_training check them (not_qualified). One record per user and
 * instrument: recording again replaces the expiry.
 *
 *   POST   /api/v1/instruments/{id}/qualifications {user_id, expires}
 *   GET    /api/v1/instruments/{id}/qualifications?user_id=
 *   DELETE /api/v1/instruments/{id}/qualifications/{qid}
 *
 * `expires` is an RFC 3339 instant, or a date "YYYY-MM-DD" meaning the end of
 * that local day.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/bookings_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"

static cJSON *qual_json(int64_t qid) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT q.id, q.user_id, u.login, u.name, q.instrument_id, q.expires, "
                                      "q.granted_by, q.created_at FROM qualifications q "
                                      "JOIN users u ON u.id = q.user_id WHERE q.id = ?1");
    sqlite3_bind_int64(st, 1, qid);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    yq_json_add_col(o, "id", st, 0);
    yq_json_add_col(o, "user_id", st, 1);
    yq_json_add_col(o, "user_login", st, 2);
    yq_json_add_col(o, "user_name", st, 3);
    yq_json_add_col(o, "instrument_id", st, 4);
    int64_t expires = sqlite3_column_int64(st, 5);
    yq_json_add_time(o, "expires", expires);
    cJSON_AddBoolToObject(o, "valid", expires > yq_now());
    yq_json_add_col(o, "granted_by", st, 6);
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 7));
    sqlite3_reset(st);
    return o;
}

/* Reads `expires` (instant or local date); answers 400 itself. */
static int read_expires(yq_req_t *req, const cJSON *body, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "expires");
    int y, m, d;
    if (cJSON_IsString(v) && strlen(v->valuestring) == 10 && yq_date_parse(v->valuestring, &y, &m, &d) == 0) {
        *out = (yq_days_from_civil(y, m, d) + 1) * 86400 - YQ_LOCAL_OFFSET;
        return 0;
    }
    if (yq_api_time(req, body, "expires", 1, out, NULL))
        return -1;
    return 0;
}

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t instrument_id, owner_org_id, user_id, expires, qid;
    cJSON *out;
} grant_t;

static int run_grant(void *ctx) {
    grant_t *g = ctx;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO qualifications (user_id, instrument_id, expires, granted_by, "
                                      "created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, instrument_id) "
                                      "DO UPDATE SET expires = excluded.expires, granted_by = excluded.granted_by, "
                                      "created_at = excluded.created_at RETURNING id");
    sqlite3_bind_int64(st, 1, g->user_id);
    sqlite3_bind_int64(st, 2, g->instrument_id);
    sqlite3_bind_int64(st, 3, g->expires);
    sqlite3_bind_int64(st, 4, g->p->user_id);
    sqlite3_bind_int64(st, 5, yq_now());
    if (yq_db_step(db, st) != 1)
        return YQ_DB_ERROR;
    g->qid = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    g->out = qual_json(g->qid);
    return yq_audit(g->req, g->p, NULL, "qualification_grant", "qualification", g->qid, g->owner_org_id, NULL, g->out);
}

static void after_grant(void *ctx, int rc) {
    grant_t *g = ctx;
    if (rc < 0 || !g->out) {
        cJSON_Delete(g->out);
        yq_api_internal(g->req);
    } else {
        yq_api_json(g->req, 201, g->out);
    }
    free(g);
}

static int user_exists(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT 1 FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int ok = yq_db_step(db, st) == 1;
    sqlite3_reset(st);
    return ok;
}

/* Loads the instrument of path parameter 0 and requires staff; answers
 * 404 (invisible or absent) or 403 itself. */
static int staff_instrument(yq_req_t *req, const yq_principal_t *p, yq_bk_instrument_t *ins) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return -1;
    if (yq_bk_instrument_load(id, req->arena, ins) || !yq_bk_instrument_visible(ins, p)) {
        yq_api_not_found(req);
        return -1;
    }
    if (!yq_bk_is_staff(ins, p)) {
        yq_reply_error(req, 403, "forbidden", "Only an operator of the owner institution may do this.", NULL);
        return -1;
    }
    return 0;
}

/* POST /api/v1/instruments/{id}/qualifications: 201 the record; 400 bad
 * user_id/expires; 401; 403 not staff; 404 no such instrument. */
static void qualification_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    yq_bk_instrument_t ins;
    cJSON *body;
    if (!p || staff_instrument(req, p, &ins) || yq_api_body(req, &body))
        return;
    grant_t *g = yq_xcalloc(1, sizeof *g);
    g->req = req;
    g->p = p;
    g->instrument_id = ins.in.id;
    g->owner_org_id = ins.in.owner_org_id;
    int bad =
        yq_api_int(req, body, "user_id", 1, 1, INT64_MAX, &g->user_id, NULL) || read_expires(req, body, &g->expires);
    cJSON_Delete(body);
    if (!bad && !user_exists(g->user_id)) {
        yq_reply_error(req, 400, "invalid_field", "No such user.", "user_id");
        bad = 1;
    }
    if (bad) {
        free(g);
        return;
    }
    yq_batch_submit(run_grant, after_grant, g);
}

/* GET /api/v1/instruments/{id}/qualifications?user_id=: 200 list; staff see
 * every record, others only their own; 401; 404. */
static void qualification_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    yq_bk_instrument_t ins;
    int64_t id, user_id = 0;
    if (!p || yq_api_param_id(req, 0, &id) || yq_api_query_int(req, "user_id", 1, INT64_MAX, &user_id, NULL))
        return;
    if (yq_bk_instrument_load(id, req->arena, &ins) || !yq_bk_instrument_visible(&ins, p)) {
        yq_api_not_found(req);
        return;
    }
    if (!yq_bk_is_staff(&ins, p))
        user_id = p->user_id;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM qualifications WHERE instrument_id = ?1 "
                                      "AND (?2 = 0 OR user_id = ?2) ORDER BY id LIMIT 2000");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, user_id);
    int64_t ids[2000];
    size_t n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *q = qual_json(ids[i]);
        if (q)
            cJSON_AddItemToArray(items, q);
    }
    yq_api_list(req, items, 0);
}

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t instrument_id, owner_org_id, qid;
    int found;
} revoke_t;

static int run_revoke(void *ctx) {
    revoke_t *r = ctx;
    yq_db_t *db = yq_db_main();
    cJSON *before = qual_json(r->qid);
    sqlite3_stmt *st = yq_db_stmt(db, "DELETE FROM qualifications WHERE id = ?1 AND instrument_id = ?2");
    sqlite3_bind_int64(st, 1, r->qid);
    sqlite3_bind_int64(st, 2, r->instrument_id);
    int rc = yq_db_step(db, st);
    r->found = rc == 0 && yq_db_changes(db) == 1;
    if (r->found)
        rc = yq_audit(r->req, r->p, NULL, "qualification_revoke", "qualification", r->qid, r->owner_org_id, before,
                      NULL);
    cJSON_Delete(before);
    return rc < 0 ? rc : 0;
}

static void after_revoke(void *ctx, int rc) {
    revoke_t *r = ctx;
    yq_api_deleted(r->req, rc, r->found);
    free(r);
}

/* DELETE /api/v1/instruments/{id}/qualifications/{qid}: 204; 401; 403; 404. */
static void qualification_delete(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    yq_bk_instrument_t ins;
    int64_t qid;
    if (!p || staff_instrument(req, p, &ins) || yq_api_param_id(req, 1, &qid))
        return;
    revoke_t *r = yq_xcalloc(1, sizeof *r);
    *r = (revoke_t){req, p, ins.in.id, ins.in.owner_org_id, qid, 0};
    yq_batch_submit(run_revoke, after_revoke, r);
}

const yq_route_t yq_api_qualifications_routes[] = {
    {YQ_M_POST, "/api/v1/instruments/{id}/qualifications", qualification_create, 0, NULL},
    {YQ_M_GET, "/api/v1/instruments/{id}/qualifications", qualification_list, 0, NULL},
    {YQ_M_DELETE, "/api/v1/instruments/{id}/qualifications/{qid}", qualification_delete, 0, NULL},
};
const size_t yq_api_qualifications_routes_count =
    sizeof yq_api_qualifications_routes / sizeof yq_api_qualifications_routes[0];
