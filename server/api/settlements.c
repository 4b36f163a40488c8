/*
 * Monthly settlement (结算; DOMAIN.md "Monthly settlement", API.md
 * "Settlement", "Status codes", "Who may read").
 *
 *   POST /api/v1/settlements {period}                      build (201) or rebuild a draft (200); commission
 *   GET  /api/v1/settlements                               the statements, newest first
 *   GET  /api/v1/settlements/{period}                      one statement
 *   POST /api/v1/settlements/{period}/lines/{line}/confirm  the provider institution's operator (or an admin)
 *   POST /api/v1/settlements/{period}/lines/{line}/dispute  {reason}, the same
 *   POST /api/v1/settlements/{period}/close                 commission, once no line is disputed
 *   GET  /api/v1/settlements/{period}/export?format=csv|xlsx
 *
 * Reading: the commission and admins read everything; an operator reads the
 * lines where their institution is provider or payer (with their totals and
 * their own net position; no zone flows). Everyone else gets 403.
 *
 * Every write is a group-commit job (db/batch.h) and writes its audit entry
 * in the same transaction. A statement that breaks an invariant is never
 * stored: the build answers 500 settlement_invariant naming the invariant,
 * logs it, and leaves only an audit entry saying so. The XLSX is written on
 * the thread pool from a loaded statement, so the loop keeps serving.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "api/settlement_export.h"
#include "api/settlement_store.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "db/batch.h"

#define INVARIANT_BROKEN 2 /* a job's rc: nothing stored but the audit entry */
#define MAX_REASON 500

/* ---- JSON ----------------------------------------------------------------------- */

static void add_id_or_null(cJSON *o, const char *key, int64_t id) {
    if (id)
        yq_json_add_int(o, key, id);
    else
        cJSON_AddNullToObject(o, key);
}

static const char *zone_code(const yq_statement_t *st, int64_t id) {
    const yq_st_zone_t *z = yq_statement_zone(st, id);
    return z ? z->code : "";
}

static void add_org(cJSON *o, const yq_statement_t *st, const char *prefix, int64_t id) {
    char key[48];
    const yq_st_org_t *org = yq_statement_org(st, id);
    snprintf(key, sizeof key, "%s_org_id", prefix);
    yq_json_add_int(o, key, id);
    snprintf(key, sizeof key, "%s_org_code", prefix);
    cJSON_AddStringToObject(o, key, org ? org->code : "");
    snprintf(key, sizeof key, "%s_org_name_zh", prefix);
    cJSON_AddStringToObject(o, key, org ? org->name_zh : "");
    snprintf(key, sizeof key, "%s_org_name_en", prefix);
    cJSON_AddStringToObject(o, key, org ? org->name_en : "");
}

static cJSON *line_json(const yq_statement_t *st, const yq_st_line_t *l) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int(o, "id", l->id);
    cJSON_AddStringToObject(o, "period", st->period);
    add_org(o, st, "provider", l->provider_org_id);
    add_org(o, st, "payer", l->payer_org_id);
    cJSON_AddStringToObject(o, "provider_zone", zone_code(st, l->provider_zone_id));
    cJSON_AddStringToObject(o, "payer_zone", zone_code(st, l->payer_zone_id));
    yq_json_add_int(o, "uses", l->uses);
    yq_json_add_int(o, "minutes", l->minutes);
    yq_json_add_int(o, "fee_fen", l->fee_fen);
    yq_json_add_int(o, "voucher_fen", l->voucher_fen);
    yq_json_add_int(o, "cash_fen", l->cash_fen);
    cJSON_AddStringToObject(o, "state", l->state);
    cJSON_AddStringToObject(o, "reason", l->reason);
    add_id_or_null(o, "acted_by", l->acted_by);
    yq_json_add_time_or_null(o, "acted_at", l->acted_at);
    return o;
}

static cJSON *totals_json(int64_t uses, int64_t minutes, int64_t fee, int64_t voucher, int64_t cash) {
    cJSON *t = cJSON_CreateObject();
    yq_json_add_int(t, "uses", uses);
    yq_json_add_int(t, "minutes", minutes);
    yq_json_add_int(t, "fee_fen", fee);
    yq_json_add_int(t, "voucher_fen", voucher);
    yq_json_add_int(t, "cash_fen", cash);
    return t;
}

static cJSON *checkpoint_json(int64_t count, const char *hash) {
    cJSON *c = cJSON_CreateObject();
    yq_json_add_int(c, "count", count);
    cJSON_AddStringToObject(c, "head_hash", hash);
    return c;
}

static cJSON *statement_json(const yq_statement_t *st) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "period", st->period);
    cJSON_AddStringToObject(o, "status", st->closed ? "closed" : "draft");
    cJSON_AddStringToObject(o, "scope", st->org_scope ? "org" : "all");
    add_id_or_null(o, "org_id", st->org_scope);
    yq_json_add_time(o, "built_at", st->built_at);
    add_id_or_null(o, "built_by", st->built_by);
    yq_json_add_time_or_null(o, "closed_at", st->closed ? st->closed_at : 0);
    add_id_or_null(o, "closed_by", st->closed ? st->closed_by : 0);
    yq_json_add_int(o, "records", st->records);
    cJSON_AddBoolToObject(o, "stale", st->records_now != st->records);
    cJSON_AddItemToObject(o, "checkpoint", checkpoint_json(st->checkpoint_count, st->checkpoint_hash));
    cJSON_AddItemToObject(o, "totals", totals_json(st->uses, st->minutes, st->fee_fen, st->voucher_fen, st->cash_fen));
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    yq_json_add_int(counts, "open", st->n_open);
    yq_json_add_int(counts, "confirmed", st->n_confirmed);
    yq_json_add_int(counts, "disputed", st->n_disputed);

    cJSON *lines = cJSON_AddArrayToObject(o, "lines");
    for (size_t i = 0; i < st->n_lines; i++)
        cJSON_AddItemToArray(lines, line_json(st, &st->lines[i]));
    cJSON *flows = cJSON_AddArrayToObject(o, "zone_flows");
    for (size_t i = 0; i < st->n_flows; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "from_zone", zone_code(st, st->flows[i].from_zone_id));
        cJSON_AddStringToObject(f, "to_zone", zone_code(st, st->flows[i].to_zone_id));
        yq_json_add_int(f, "fee_fen", st->flows[i].fee_fen);
        cJSON_AddItemToArray(flows, f);
    }
    cJSON *znet = cJSON_AddArrayToObject(o, "zone_net");
    for (size_t i = 0; i < st->n_zone_net; i++) {
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "zone_a", zone_code(st, st->zone_net[i].zone_a_id));
        cJSON_AddStringToObject(z, "zone_b", zone_code(st, st->zone_net[i].zone_b_id));
        yq_json_add_int(z, "net_fen", st->zone_net[i].net_fen);
        cJSON_AddItemToArray(znet, z);
    }
    cJSON *net = cJSON_AddArrayToObject(o, "net_positions");
    for (size_t i = 0; i < st->n_net; i++) {
        const yq_st_net_t *n = &st->net[i];
        const yq_st_org_t *org = yq_statement_org(st, n->org_id);
        cJSON *x = cJSON_CreateObject();
        yq_json_add_int(x, "org_id", n->org_id);
        cJSON_AddStringToObject(x, "org_code", org ? org->code : "");
        cJSON_AddStringToObject(x, "name_zh", org ? org->name_zh : "");
        cJSON_AddStringToObject(x, "name_en", org ? org->name_en : "");
        cJSON_AddStringToObject(x, "zone", org ? zone_code(st, org->zone_id) : "");
        yq_json_add_int(x, "receivable_fen", n->receivable_fen);
        yq_json_add_int(x, "payable_fen", n->payable_fen);
        yq_json_add_int(x, "net_fen", n->net_fen);
        cJSON_AddItemToArray(net, x);
    }
    if (!st->org_scope) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "party", "voucher_fund");
        yq_json_add_int(x, "net_fen", st->voucher_fund_net_fen);
        cJSON_AddItemToArray(net, x);
    }
    cJSON *zones = cJSON_AddArrayToObject(o, "zones");
    for (size_t i = 0; i < st->n_zones; i++) {
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "code", st->zones[i].code);
        cJSON_AddStringToObject(z, "name_zh", st->zones[i].name_zh);
        cJSON_AddStringToObject(z, "name_en", st->zones[i].name_en);
        cJSON_AddItemToArray(zones, z);
    }
    return o;
}

/* A short summary for the audit log. */
static cJSON *audit_summary(const yq_statement_t *st) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "period", st->period);
    cJSON_AddStringToObject(o, "status", st->closed ? "closed" : "draft");
    yq_json_add_int(o, "records", st->records);
    yq_json_add_int(o, "lines", (int64_t)st->n_lines);
    cJSON_AddItemToObject(o, "totals", totals_json(st->uses, st->minutes, st->fee_fen, st->voucher_fen, st->cash_fen));
    cJSON_AddItemToObject(o, "checkpoint", checkpoint_json(st->checkpoint_count, st->checkpoint_hash));
    return o;
}

/* ---- who may read ------------------------------------------------------------ */

/* Resolves the caller for a read: returns 1 with *org = 0 (everything) or
 * the operator's institution; 0 after answering 401/403. */
static int reader(yq_req_t *req, const yq_principal_t **pp, int64_t *org) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    if (!p)
        return 0;
    *pp = p;
    if (yq_has_role(p, YQ_ROLE_COMMISSION | YQ_ROLE_ADMIN)) {
        *org = 0;
        return 1;
    }
    if (yq_has_role(p, YQ_ROLE_OPERATOR) && p->org_id) {
        *org = p->org_id;
        return 1;
    }
    yq_reply_error(req, 403, "forbidden", "Settlements are for the commission, admins and operators.", NULL);
    return 0;
}

/* The period of path parameter 0; answers 404 for anything but "YYYY-MM". */
static const char *path_period(yq_req_t *req) {
    const char *period = req->nparams ? req->params[0] : NULL;
    if (yq_settle_period_valid(period)) {
        yq_api_not_found(req);
        return NULL;
    }
    return period;
}

static void reply_invariant(yq_req_t *req, const char *why) {
    char msg[700];
    snprintf(msg, sizeof msg, "The statement breaks a settlement invariant and was not stored: %s", why);
    yq_reply_error(req, 500, "settlement_invariant", msg, NULL);
}

/* Loads the statement (narrowed for operators); answers 404/500 itself. */
static int load_visible(yq_req_t *req, const char *period, int64_t org, yq_statement_t *st) {
    char why[512] = "";
    int rc = yq_settle_store_load(yq_db_main(), period, st, why, sizeof why);
    if (rc == YQ_SETTLE_NOT_FOUND)
        yq_api_not_found(req);
    else if (rc == YQ_SETTLE_INVARIANT)
        reply_invariant(req, why);
    else if (rc)
        yq_api_internal(req);
    if (rc)
        return -1;
    if (org)
        yq_statement_restrict(st, org);
    return 0;
}

/* ---- building ------------------------------------------------------------------ */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    char period[8];
    char why[512];
    yq_settle_built_t built;
    cJSON *out;
} build_t;

static int run_build(void *ctx) {
    build_t *j = ctx;
    yq_db_t *db = yq_db_main();
    int64_t now = yq_now();
    int64_t object = yq_settle_period_number(j->period);
    int rc = yq_settle_store_build(db, j->period, j->p->user_id, now, &j->built, j->why, sizeof j->why);
    if (rc == YQ_SETTLE_INVARIANT) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "period", j->period);
        cJSON_AddStringToObject(after, "invariant", j->why);
        rc = yq_audit(j->req, j->p, NULL, "settlement_build_failed", "settlement", object, 0, NULL, after);
        cJSON_Delete(after);
        return rc < 0 ? rc : INVARIANT_BROKEN;
    }
    if (rc)
        return rc;
    yq_settle_built_t *b = &j->built;
    yq_log_info("settlement %s %s: %lld usage records, %zu lines (%zu reopened) in %.3f s: read %.3f, build %.3f, "
                "write %.3f",
                j->period, b->created ? "built" : "rebuilt", (long long)b->records, b->lines, b->reopened,
                b->read_s + b->build_s + b->write_s, b->read_s, b->build_s, b->write_s);
    yq_statement_t st;
    rc = yq_settle_store_load(db, j->period, &st, j->why, sizeof j->why);
    if (rc)
        return rc == YQ_SETTLE_INVARIANT ? YQ_DB_ERROR : rc;
    j->out = statement_json(&st);
    cJSON *after = audit_summary(&st);
    yq_json_add_int(after, "reopened", (int64_t)b->reopened);
    yq_statement_free(&st);
    rc = yq_audit(j->req, j->p, NULL, b->created ? "settlement_build" : "settlement_rebuild", "settlement", object, 0,
                  NULL, after);
    cJSON_Delete(after);
    return rc < 0 ? rc : 0;
}

static void after_build(void *ctx, int rc) {
    build_t *j = ctx;
    yq_req_t *req = j->req;
    if (rc == YQ_SETTLE_CLOSED)
        yq_reply_error(req, 409, "period_closed", "That month's settlement is closed; it can no longer be rebuilt.",
                       "period");
    else if (rc == YQ_SETTLE_IN_FUTURE)
        yq_reply_error(req, 400, "in_future", "That month has not begun.", "period");
    else if (rc == YQ_SETTLE_BAD_PERIOD)
        yq_reply_error(req, 400, "invalid_field", "Field 'period' must be a month, YYYY-MM.", "period");
    else if (rc == INVARIANT_BROKEN)
        reply_invariant(req, j->why);
    else if (rc < 0 || !j->out)
        yq_api_internal(req);
    else {
        char timing[96];
        yq_settle_built_t *b = &j->built;
        snprintf(timing, sizeof timing, "read;dur=%.1f, build;dur=%.1f, write;dur=%.1f", b->read_s * 1000,
                 b->build_s * 1000, b->write_s * 1000);
        yq_reply_header(req, "Server-Timing", timing);
        yq_api_json(req, b->created ? 201 : 200, j->out);
        j->out = NULL;
    }
    cJSON_Delete(j->out);
    free(j);
}

/* POST /api/v1/settlements {period}: 201 a new statement; 200 a draft
 * rebuilt; 400 invalid_field / in_future; 401; 403 not commission; 409
 * period_closed; 500 settlement_invariant (nothing stored). */
static void settle_build(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_COMMISSION);
    cJSON *body;
    if (!p || yq_api_body(req, &body))
        return;
    const char *period;
    if (yq_api_str(req, body, "period", 1, 7, &period)) {
        cJSON_Delete(body);
        return;
    }
    if (yq_settle_period_valid(period)) {
        cJSON_Delete(body);
        yq_reply_error(req, 400, "invalid_field", "Field 'period' must be a month, YYYY-MM.", "period");
        return;
    }
    build_t *j = yq_xcalloc(1, sizeof *j);
    j->req = req;
    j->p = p;
    snprintf(j->period, sizeof j->period, "%s", period);
    cJSON_Delete(body);
    yq_batch_submit(run_build, after_build, j);
}

/* ---- reading ------------------------------------------------------------------- */

/* GET /api/v1/settlements: 200 {items, next_cursor: null}; 401; 403. */
static void settle_list(yq_req_t *req) {
    const yq_principal_t *p;
    int64_t org;
    if (!reader(req, &p, &org))
        return;
    cJSON *items = yq_settle_store_list(yq_db_main(), org);
    if (!items) {
        yq_api_internal(req);
        return;
    }
    yq_api_list(req, items, 0);
}

/* GET /api/v1/settlements/{period}: 200 the statement (an operator's
 * narrowed to their institution); 401; 403; 404. */
static void settle_get(yq_req_t *req) {
    const yq_principal_t *p;
    int64_t org;
    if (!reader(req, &p, &org))
        return;
    const char *period = path_period(req);
    yq_statement_t st;
    if (!period || load_visible(req, period, org, &st))
        return;
    yq_api_json(req, 200, statement_json(&st));
    yq_statement_free(&st);
}

/* ---- confirming and disputing lines --------------------------------------------- */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    char period[8];
    int64_t line_id, provider_org_id;
    const char *state;
    char *reason;
    cJSON *out;
} act_t;

/* The JSON of line id in the stored statement of period, or NULL. */
static cJSON *stored_line(const char *period, int64_t id) {
    yq_statement_t st;
    char why[512];
    if (yq_settle_store_load(yq_db_main(), period, &st, why, sizeof why))
        return NULL;
    cJSON *o = NULL;
    for (size_t i = 0; i < st.n_lines && !o; i++)
        if (st.lines[i].id == id)
            o = line_json(&st, &st.lines[i]);
    yq_statement_free(&st);
    return o;
}

static int run_act(void *ctx) {
    act_t *j = ctx;
    cJSON *before = stored_line(j->period, j->line_id);
    int rc =
        yq_settle_store_line_act(yq_db_main(), j->period, j->line_id, j->state, j->reason, j->p->user_id, yq_now());
    if (rc == 0) {
        j->out = stored_line(j->period, j->line_id);
        rc = j->out ? yq_audit(j->req, j->p, NULL,
                               j->state[0] == 'c' ? "settlement_line_confirm" : "settlement_line_dispute",
                               "settlement_line", j->line_id, j->provider_org_id, before, j->out)
                    : YQ_DB_ERROR;
    }
    cJSON_Delete(before);
    return rc;
}

static void after_act(void *ctx, int rc) {
    act_t *j = ctx;
    if (rc == YQ_SETTLE_CLOSED)
        yq_reply_error(j->req, 409, "period_closed", "That month's settlement is closed.", NULL);
    else if (rc == YQ_SETTLE_NOT_FOUND)
        yq_api_not_found(j->req);
    else if (rc < 0 || !j->out)
        yq_api_internal(j->req);
    else {
        yq_api_json(j->req, 200, j->out);
        j->out = NULL;
    }
    cJSON_Delete(j->out);
    free(j->reason);
    free(j);
}

/* POST .../lines/{line}/confirm {reason?} and .../dispute {reason}: 200 the
 * line; 400 no reason for a dispute; 401; 403 not the provider
 * institution's operator (or an admin); 404 no such line, or one the caller
 * may not see; 409 period_closed. */
static void line_action(yq_req_t *req, const char *state) {
    const yq_principal_t *p;
    int64_t org, line_id;
    if (!reader(req, &p, &org))
        return;
    const char *period = path_period(req);
    if (!period || yq_api_param_id(req, 1, &line_id))
        return;
    yq_st_line_t line;
    int closed;
    int rc = yq_settle_store_line(yq_db_main(), period, line_id, req->arena, &line, &closed);
    if (rc == YQ_SETTLE_NOT_FOUND || (rc == 0 && org && line.provider_org_id != org && line.payer_org_id != org)) {
        yq_api_not_found(req);
        return;
    }
    if (rc) {
        yq_api_internal(req);
        return;
    }
    if (!yq_has_role(p, YQ_ROLE_ADMIN) &&
        !(yq_has_role(p, YQ_ROLE_OPERATOR) && p->org_id && p->org_id == line.provider_org_id)) {
        yq_reply_error(req, 403, "forbidden",
                       "Only an operator of the provider institution confirms or disputes a line.", NULL);
        return;
    }
    const char *reason = NULL;
    cJSON *body = NULL;
    if (req->body_len || state[0] == 'd') {
        if (yq_api_body(req, &body))
            return;
        if (yq_api_str(req, body, "reason", state[0] == 'd', MAX_REASON, &reason)) {
            cJSON_Delete(body);
            return;
        }
    }
    act_t *j = yq_xcalloc(1, sizeof *j);
    *j = (act_t){.req = req, .p = p, .line_id = line_id, .provider_org_id = line.provider_org_id, .state = state};
    snprintf(j->period, sizeof j->period, "%s", period);
    j->reason = yq_xstrdup(reason ? reason : "");
    cJSON_Delete(body);
    yq_batch_submit(run_act, after_act, j);
}

static void line_confirm(yq_req_t *req) {
    line_action(req, "confirmed");
}

static void line_dispute(yq_req_t *req) {
    line_action(req, "disputed");
}

/* ---- closing --------------------------------------------------------------------- */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    char period[8];
    char why[512];
    cJSON *out;
} close_t;

static int run_close(void *ctx) {
    close_t *j = ctx;
    yq_db_t *db = yq_db_main();
    int64_t object = yq_settle_period_number(j->period);
    yq_statement_t st;
    int rc = yq_settle_store_load(db, j->period, &st, j->why, sizeof j->why);
    if (rc)
        return rc == YQ_SETTLE_INVARIANT ? INVARIANT_BROKEN : rc;
    cJSON *before = audit_summary(&st);
    yq_statement_free(&st);
    rc = yq_settle_store_close(db, j->period, j->p->user_id, yq_now(), j->why, sizeof j->why);
    if (rc == YQ_SETTLE_INVARIANT) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "period", j->period);
        cJSON_AddStringToObject(after, "invariant", j->why);
        rc = yq_audit(j->req, j->p, NULL, "settlement_close_failed", "settlement", object, 0, before, after);
        cJSON_Delete(after);
        cJSON_Delete(before);
        return rc < 0 ? rc : INVARIANT_BROKEN;
    }
    if (rc == 0)
        rc = yq_settle_store_load(db, j->period, &st, j->why, sizeof j->why);
    if (rc) {
        cJSON_Delete(before);
        return rc;
    }
    j->out = statement_json(&st);
    cJSON *after = audit_summary(&st);
    yq_statement_free(&st);
    rc = yq_audit(j->req, j->p, NULL, "settlement_close", "settlement", object, 0, before, after);
    cJSON_Delete(before);
    cJSON_Delete(after);
    return rc < 0 ? rc : 0;
}

static void after_close(void *ctx, int rc) {
    close_t *j = ctx;
    yq_req_t *req = j->req;
    char msg[700];
    switch (rc) {
    case 0:
        if (j->out) {
            yq_api_json(req, 200, j->out);
            j->out = NULL;
        } else {
            yq_api_internal(req);
        }
        break;
    case YQ_SETTLE_NOT_FOUND:
        yq_api_not_found(req);
        break;
    case YQ_SETTLE_CLOSED:
        yq_reply_error(req, 409, "period_closed", "That month's settlement is already closed.", NULL);
        break;
    case YQ_SETTLE_NOT_ENDED:
        yq_reply_error(req, 409, "period_not_ended", "That month has not ended yet.", NULL);
        break;
    case YQ_SETTLE_DISPUTED:
        yq_reply_error(req, 409, "disputed_lines", "Some lines are disputed; settle the disputes first.", NULL);
        break;
    case YQ_SETTLE_STALE:
        snprintf(msg, sizeof msg, "The usage changed since the statement was built (%s); rebuild it first.", j->why);
        yq_reply_error(req, 409, "statement_stale", msg, NULL);
        break;
    case INVARIANT_BROKEN:
        reply_invariant(req, j->why);
        break;
    default:
        yq_api_internal(req);
    }
    cJSON_Delete(j->out);
    free(j);
}

/* POST /api/v1/settlements/{period}/close: 200 the closed statement; 401;
 * 403 not commission; 404; 409 period_closed / period_not_ended /
 * disputed_lines / statement_stale; 500 settlement_invariant. */
static void settle_close(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_COMMISSION);
    if (!p)
        return;
    const char *period = path_period(req);
    if (!period)
        return;
    close_t *j = yq_xcalloc(1, sizeof *j);
    j->req = req;
    j->p = p;
    snprintf(j->period, sizeof j->period, "%s", period);
    yq_batch_submit(run_close, after_close, j);
}

/* ---- export ---------------------------------------------------------------------- */

typedef struct {
    uv_work_t work;
    yq_req_t *req;
    yq_statement_t st;
    char filename[96];
    char *data;
    size_t len;
    char why[256];
} xlsx_t;

static void do_xlsx(uv_work_t *w) {
    xlsx_t *x = w->data;
    x->data = yq_settle_export_xlsx(&x->st, &x->len, x->why, sizeof x->why);
}

static void after_xlsx(uv_work_t *w, int status) {
    xlsx_t *x = w->data;
    if (status || !x->data) {
        yq_log_error("settlement %s: XLSX export failed: %s", x->st.period, status ? "cancelled" : x->why);
        yq_api_internal(x->req);
    } else {
        char disp[160];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", x->filename);
        yq_reply_header(x->req, "Content-Disposition", disp);
        yq_reply(x->req, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", x->data, x->len);
    }
    free(x->data);
    yq_statement_free(&x->st);
    free(x);
}

/* GET /api/v1/settlements/{period}/export?format=csv|xlsx: 200 the file
 * (an operator's narrowed to their institution); 400 format; 401; 403; 404. */
static void settle_export(yq_req_t *req) {
    const yq_principal_t *p;
    int64_t org;
    if (!reader(req, &p, &org))
        return;
    const char *period = path_period(req);
    if (!period)
        return;
    const char *format = yq_req_query(req, "format");
    int xlsx = format && strcmp(format, "xlsx") == 0;
    if (format && *format && !xlsx && strcmp(format, "csv") != 0) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'format' must be csv or xlsx.", "format");
        return;
    }
    yq_statement_t st;
    if (load_visible(req, period, org, &st))
        return;
    char filename[96];
    const yq_st_org_t *own = org ? yq_statement_org(&st, org) : NULL;
    snprintf(filename, sizeof filename, "yiqi-settlement-%s%s%s.%s", period, own ? "-" : "", own ? own->code : "",
             xlsx ? "xlsx" : "csv");
    if (!xlsx) {
        size_t len;
        char *csv = yq_settle_export_csv(&st, &len);
        char disp[160];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
        yq_reply_header(req, "Content-Disposition", disp);
        yq_reply(req, 200, "text/csv; charset=utf-8", csv, len);
        free(csv);
        yq_statement_free(&st);
        return;
    }
    xlsx_t *x = yq_xcalloc(1, sizeof *x);
    x->req = req;
    x->st = st;
    snprintf(x->filename, sizeof x->filename, "%s", filename);
    x->work.data = x;
    if (uv_queue_work(uv_default_loop(), &x->work, do_xlsx, after_xlsx)) {
        yq_statement_free(&x->st);
        free(x);
        yq_api_internal(req);
    }
}

const yq_route_t yq_api_settlements_routes[] = {
    {YQ_M_POST, "/api/v1/settlements", settle_build, 0, NULL},
    {YQ_M_GET, "/api/v1/settlements", settle_list, 0, NULL},
    {YQ_M_GET, "/api/v1/settlements/{period}", settle_get, 0, NULL},
    {YQ_M_POST, "/api/v1/settlements/{period}/lines/{line}/confirm", line_confirm, 0, NULL},
    {YQ_M_POST, "/api/v1/settlements/{period}/lines/{line}/dispute", line_dispute, 0, NULL},
    {YQ_M_POST, "/api/v1/settlements/{period}/close", settle_close, 0, NULL},
    {YQ_M_GET, "/api/v1/settlements/{period}/export", settle_export, 0, NULL},
};
const size_t yq_api_settlements_routes_count = sizeof yq_api_settlements_routes / sizeof yq_api_settlements_routes[0];
