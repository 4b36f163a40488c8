/*
 * Innovation vouchers (科技创新券; DOMAIN.md "Vouchers", API.md "Who may
 * read"): the commission gives an enterprise a balance for a year, tops it
 * up, and reads balances and their history; admins read too. Draws and
 * refunds are written by the usage records (usage_store.c) in the same
 * transaction as the record, so a balance never goes negative however many
 * records arrive at once: the group commit runs them one after another, the
 * balance CHECK of migration 001 and the triggers of migration 040 hold in
 * storage whatever the code does.
 *
 *   POST /api/v1/vouchers                 issue {org_id, year, amount_fen, rate_percent?}
 *   POST /api/v1/vouchers/{id}/top_up     {amount_fen, reason?}
 *   GET  /api/v1/vouchers?org_id=&year=   balances
 *   GET  /api/v1/vouchers/{id}            one, with its history checked
 *   GET  /api/v1/vouchers/{id}/events     its history, newest first
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "api/usage_store.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"
#include "domain/vouchers.h"

#define READERS (YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION)
#define MAX_EVENTS 100000 /* replayed per voucher for GET /vouchers/{id} */

#define VOUCHER_SELECT                                                                                                 \
    "SELECT v.id, v.org_id, o.code, o.name_zh, o.name_en, v.year, v.amount_fen, v.rate_percent, v.balance_fen, "       \
    "v.amount_fen - v.balance_fen, v.created_by, v.created_at, "                                                       \
    "(SELECT count(*) FROM voucher_events e WHERE e.voucher_id = v.id AND e.kind = 'draw') "                           \
    "FROM vouchers v JOIN orgs o ON o.id = v.org_id "

static cJSON *voucher_row(sqlite3_stmt *st) {
    static const char *const keys[] = {"id",         "org_id",     "org_code",     "org_name_zh", "org_name_en",
                                       "year",       "amount_fen", "rate_percent", "balance_fen", "used_fen",
                                       "created_by", NULL,         "draws"};
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++) {
        if (keys[i])
            yq_json_add_col(o, keys[i], st, i);
        else
            yq_json_add_time(o, "created_at", sqlite3_column_int64(st, i));
    }
    return o;
}

static cJSON *voucher_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, VOUCHER_SELECT "WHERE v.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = yq_db_step(db, st) == 1 ? voucher_row(st) : NULL;
    sqlite3_reset(st);
    return o;
}

/* ---- issuing and topping up ---- */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    int64_t id, org_id, year, amount, rate;
    char *reason;
    int status;
    const char *code, *message, *field;
    cJSON *out;
} job_t;

static int refuse(job_t *j, int status, const char *code, const char *message, const char *field) {
    j->status = status;
    j->code = code;
    j->message = message;
    j->field = field;
    return -1;
}

static void after_job(void *ctx, int rc) {
    job_t *j = ctx;
    if (j->status)
        yq_reply_error(j->req, j->status, j->code, j->message, j->field);
    else if (rc < 0 || !j->out)
        yq_api_internal(j->req);
    else {
        yq_api_json(j->req, j->id ? 200 : 201, j->out); /* takes ownership */
        j->out = NULL;
    }
    cJSON_Delete(j->out);
    free(j->reason);
    free(j);
}

static int run_issue(void *ctx) {
    job_t *j = ctx;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT kind FROM orgs WHERE id = ?1");
    sqlite3_bind_int64(st, 1, j->org_id);
    int found = yq_db_step(db, st) == 1, enterprise = found && strcmp(yq_col_text(st, 0), "enterprise") == 0;
    sqlite3_reset(st);
    if (!found)
        return refuse(j, 400, "invalid_field", "There is no such institution.", "org_id");
    if (!enterprise)
        return refuse(j, 400, "not_enterprise", "Vouchers are given to enterprises only.", "org_id");
    int64_t now = yq_now();
    st = yq_db_stmt(db, "INSERT INTO vouchers (org_id, year, amount_fen, rate_percent, balance_fen, created_by, "
                        "created_at) VALUES (?1, ?2, ?3, ?4, ?3, ?5, ?6)");
    sqlite3_bind_int64(st, 1, j->org_id);
    sqlite3_bind_int64(st, 2, j->year);
    sqlite3_bind_int64(st, 3, j->amount);
    sqlite3_bind_int64(st, 4, j->rate);
    sqlite3_bind_int64(st, 5, j->p->user_id);
    sqlite3_bind_int64(st, 6, now);
    int rc = yq_db_step(db, st);
    if (rc == YQ_DB_CONSTRAINT)
        return refuse(j, 409, "voucher_exists", "That enterprise already has a voucher for that year; top it up.",
                      "year");
    if (rc < 0)
        return rc;
    int64_t id = yq_db_last_id(db);
    rc = yq_voucher_event(db, id, "issue", j->amount, 0, now);
    if (rc < 0)
        return rc;
    j->out = voucher_json(id);
    return yq_audit(j->req, j->p, NULL, "voucher_issue", "voucher", id, j->org_id, NULL, j->out);
}

/* POST /api/v1/vouchers {org_id, year, amount_fen, rate_percent?}: 201 the
 * voucher; 400 invalid_field / not_enterprise; 401; 403 (not commission);
 * 409 voucher_exists. */
static void voucher_issue(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_COMMISSION);
    cJSON *body = NULL;
    if (!p || yq_api_body(req, &body))
        return;
    job_t *j = yq_xcalloc(1, sizeof *j);
    j->rate = YQ_VOUCHER_DEFAULT_RATE;
    if (yq_api_int(req, body, "org_id", 1, 1, INT64_MAX, &j->org_id, NULL) ||
        yq_api_int(req, body, "year", 1, 2000, 2100, &j->year, NULL) ||
        yq_api_int(req, body, "amount_fen", 1, 0, YQ_VOUCHER_MAX_FEN, &j->amount, NULL) ||
        yq_api_int(req, body, "rate_percent", 0, 0, 100, &j->rate, NULL)) {
        cJSON_Delete(body);
        free(j);
        return;
    }
    cJSON_Delete(body);
    j->req = req;
    j->p = p;
    yq_batch_submit(run_issue, after_job, j);
}

static int run_top_up(void *ctx) {
    job_t *j = ctx;
    yq_db_t *db = yq_db_main();
    cJSON *before = voucher_json(j->id);
    if (!before)
        return refuse(j, 404, "not_found", "No such voucher.", NULL);
    yq_voucher_t v = {(int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(before, "amount_fen")),
                      (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(before, "balance_fen")), 0};
    int64_t org = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(before, "org_id"));
    int64_t old_balance = v.balance_fen;
    if (yq_voucher_top_up(&v, j->amount)) {
        cJSON_Delete(before);
        return refuse(j, 400, "invalid_field", "That would make the voucher larger than allowed.", "amount_fen");
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE vouchers SET amount_fen = ?2, balance_fen = ?3 "
                                      "WHERE id = ?1 AND balance_fen = ?4");
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 2, v.amount_fen);
    sqlite3_bind_int64(st, 3, v.balance_fen);
    sqlite3_bind_int64(st, 4, old_balance);
    int rc = yq_db_step(db, st);
    if (rc == 0 && yq_db_changes(db) != 1)
        rc = YQ_DB_ERROR;
    if (rc == 0)
        rc = yq_voucher_event(db, j->id, "top_up", j->amount, 0, yq_now());
    if (rc == 0) {
        j->out = voucher_json(j->id);
        if (j->reason)
            cJSON_AddStringToObject(j->out, "reason", j->reason);
        rc = yq_audit(j->req, j->p, NULL, "voucher_top_up", "voucher", j->id, org, before, j->out);
        cJSON_DeleteItemFromObject(j->out, "reason");
    }
    cJSON_Delete(before);
    return rc;
}

/* POST /api/v1/vouchers/{id}/top_up {amount_fen, reason?}: 200 the voucher;
 * 400; 401; 403 (not commission); 404. */
static void voucher_top_up(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_COMMISSION);
    int64_t id;
    cJSON *body = NULL;
    const char *reason = NULL;
    if (!p || yq_api_param_id(req, 0, &id) || yq_api_body(req, &body))
        return;
    job_t *j = yq_xcalloc(1, sizeof *j);
    if (yq_api_int(req, body, "amount_fen", 1, 1, YQ_VOUCHER_MAX_FEN, &j->amount, NULL) ||
        yq_api_str(req, body, "reason", 0, 500, &reason)) {
        cJSON_Delete(body);
        free(j);
        return;
    }
    j->reason = reason ? yq_xstrdup(reason) : NULL;
    cJSON_Delete(body);
    j->req = req;
    j->p = p;
    j->id = id;
    yq_batch_submit(run_top_up, after_job, j);
}

/* ---- reading ---- */

/* GET /api/v1/vouchers?org_id=&year=&limit=&cursor=: 200 {items,
 * next_cursor}, newest year first; 400; 401; 403 (not commission or admin). */
static void voucher_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, READERS);
    int64_t org = 0, year = 0, limit, after;
    if (!p || yq_api_query_int(req, "org_id", 1, INT64_MAX, &org, NULL) ||
        yq_api_query_int(req, "year", 2000, 2100, &year, NULL) || yq_api_page(req, &limit, &after))
        return;
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, VOUCHER_SELECT "WHERE (?1 = 0 OR v.org_id = ?1) AND (?2 = 0 OR v.year = ?2) "
                                                     "AND (?3 = 0 OR v.id < ?3) ORDER BY v.id DESC LIMIT ?4");
    sqlite3_bind_int64(st, 1, org);
    sqlite3_bind_int64(st, 2, year);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, limit + 1);
    yq_api_list_rows(req, db, st, limit, voucher_row);
}

/* Replays the voucher's stored history (domain/vouchers.h) and adds
 * {"history": {"ok", "events", "problem", "event_id"}} to o. */
static void add_history_check(cJSON *o, int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT e.id, e.kind, e.delta_fen, e.balance_fen FROM voucher_events e "
                                      "WHERE e.voucher_id = ?1 ORDER BY e.id LIMIT 100000");
    sqlite3_bind_int64(st, 1, id);
    size_t n = 0, cap = 64;
    yq_voucher_event_t *ev = yq_xmalloc(cap * sizeof *ev);
    int64_t *ids = yq_xmalloc(cap * sizeof *ids);
    char(*kinds)[8] = yq_xmalloc(cap * sizeof *kinds);
    while (n < MAX_EVENTS && yq_db_step(db, st) == 1) {
        if (n == cap) {
            cap *= 2;
            ev = yq_xrealloc(ev, cap * sizeof *ev);
            ids = yq_xrealloc(ids, cap * sizeof *ids);
            kinds = yq_xrealloc(kinds, cap * sizeof *kinds);
        }
        ids[n] = sqlite3_column_int64(st, 0);
        const char *k = yq_col_text(st, 1);
        size_t len = k ? strnlen(k, sizeof kinds[n] - 1) : 0;
        memcpy(kinds[n], k ? k : "", len);
        kinds[n][len] = '\0';
        ev[n].delta_fen = sqlite3_column_int64(st, 2);
        ev[n].balance_fen = sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++)
        ev[i].kind = kinds[i];
    yq_voucher_t v = {(int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "amount_fen")),
                      (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "balance_fen")), 0};
    size_t bad = 0;
    yq_voucher_history_t h = yq_voucher_replay(&v, ev, n, &bad);
    cJSON *x = cJSON_AddObjectToObject(o, "history");
    cJSON_AddBoolToObject(x, "ok", h == YQ_VOUCHER_HISTORY_OK);
    yq_json_add_int(x, "events", (int64_t)n);
    yq_json_add_str_or_null(x, "problem", h == YQ_VOUCHER_HISTORY_OK ? NULL : yq_voucher_history_name(h));
    if (h != YQ_VOUCHER_HISTORY_OK && bad < n)
        yq_json_add_int(x, "event_id", ids[bad]);
    else
        cJSON_AddNullToObject(x, "event_id");
    free(ev);
    free(ids);
    free(kinds);
}

/* GET /api/v1/vouchers/{id}: 200 the voucher with "history" (its stored
 * events replayed and checked); 401; 403; 404. */
static void voucher_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, READERS);
    int64_t id;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    cJSON *o = voucher_json(id);
    if (!o) {
        yq_api_not_found(req);
        return;
    }
    add_history_check(o, id);
    yq_api_json(req, 200, o);
}

/* One voucher event (id, voucher_id, at, kind, delta_fen, balance_fen, usage_id). */
static cJSON *voucher_event_row(sqlite3_stmt *st) {
    static const char *const keys[] = {"id", "voucher_id", NULL, "kind", "delta_fen", "balance_fen", "usage_id"};
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < 7; i++) {
        if (keys[i])
            yq_json_add_col(o, keys[i], st, i);
        else
            yq_json_add_time(o, "at", sqlite3_column_int64(st, i));
    }
    return o;
}

/* GET /api/v1/vouchers/{id}/events?limit=&cursor=: 200 {items: [{id, at,
 * kind, delta_fen, balance_fen, usage_id}], next_cursor}, newest first;
 * 400; 401; 403; 404. */
static void voucher_events(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, READERS);
    int64_t id, limit, after;
    if (!p || yq_api_param_id(req, 0, &id) || yq_api_page(req, &limit, &after))
        return;
    cJSON *v = voucher_json(id);
    if (!v) {
        yq_api_not_found(req);
        return;
    }
    cJSON_Delete(v);
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, voucher_id, at, kind, delta_fen, balance_fen, usage_id "
                                      "FROM voucher_events WHERE voucher_id = ?1 AND (?2 = 0 OR id < ?2) "
                                      "ORDER BY id DESC LIMIT ?3");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, limit + 1);
    yq_api_list_rows(req, db, st, limit, voucher_event_row);
}

const yq_route_t yq_api_vouchers_routes[] = {
    {YQ_M_POST, "/api/v1/vouchers", voucher_issue, 0, NULL},
    {YQ_M_GET, "/api/v1/vouchers", voucher_list, 0, NULL},
    {YQ_M_GET, "/api/v1/vouchers/{id}", voucher_get, 0, NULL},
    {YQ_M_GET, "/api/v1/vouchers/{id}/events", voucher_events, 0, NULL},
    {YQ_M_POST, "/api/v1/vouchers/{id}/top_up", voucher_top_up, 0, NULL},
};
const size_t yq_api_vouchers_routes_count = sizeof yq_api_vouchers_routes / sizeof yq_api_vouchers_routes[0];
