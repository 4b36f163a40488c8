/*
 * Usage records (上机记录; DOMAIN.md "Usage records", API.md "Usage entry",
 * "Corrections", "Who may read").
 *
 *   POST /api/v1/usage                 an operator's manual entry, or an
 *                                      instrument agent's with a usage:write token
 *   POST /api/v1/usage/{id}/correct    a correction or a void: new records
 *   GET  /api/v1/usage                 lists, filtered, by the read rules
 *   GET  /api/v1/usage/summary         sums by month, instrument or group
 *   GET  /api/v1/usage/{id}            one record and the records correcting it
 *   GET  /api/v1/usage/checkpoint      count and head hash (commission, admin)
 *   GET  /api/v1/usage/verify          walks the chain (commission, admin)
 *
 * Writes are group-commit jobs (db/batch.h), so they run one at a time on
 * the loop thread inside one transaction: reading the chain's head and
 * appending to it cannot interleave, and no answer is sent before the
 * COMMIT is on disk. The storage and the checks are in usage_store.c.
 *
 * Verification reads the whole ledger, which takes a noticeable fraction of
 * a second for a million records; it runs on the thread pool with its own
 * read-only connections (split over the machine's cores), so the loop keeps
 * serving meanwhile.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "api/usage_store.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "db/batch.h"

#define MAX_SAMPLES 1000000

static const char *const modes[] = {"self_operated", "assisted", "sample", "remote", NULL};

/* ---- writing ---- */

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    yq_usage_new_t in;
    yq_usage_fix_t fix;
    char *reason;
    yq_usage_refusal_t why;
    cJSON *out;
    int answered; /* refused by the request checks, and answered */
} job_t;

static void job_free(job_t *j) {
    cJSON_Delete(j->out);
    free(j->reason);
    free(j);
}

static void after_job(void *ctx, int rc) {
    job_t *j = ctx;
    if (j->answered) {
        job_free(j);
        return;
    }
    if (j->why.status)
        yq_reply_error(j->req, j->why.status, j->why.code, j->why.message, j->why.field);
    else if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(j->req, 409, "conflict", "The ledger changed meanwhile; try again.", NULL);
    else if (rc < 0 || !j->out)
        yq_api_internal(j->req);
    else {
        yq_api_json(j->req, 201, j->out); /* takes ownership */
        j->out = NULL;
    }
    job_free(j);
}

static int read_record(job_t *j);

static int run_record(void *ctx) {
    job_t *j = ctx;
    if (read_record(j) < 0) {
        j->answered = 1;
        return 0; /* nothing written */
    }
    j->in.now = yq_now();
    int64_t id = yq_usage_record(&j->in, j->p, &j->why, &j->out);
    if (id < 0)
        return (int)id;
    return j->out ? 0 : YQ_DB_ERROR;
}

/* Staff only: operators and admins record and correct; answers 403. */
static int require_staff(yq_req_t *req, const yq_principal_t *p) {
    if (yq_has_role(p, YQ_ROLE_OPERATOR | YQ_ROLE_ADMIN))
        return 0;
    yq_reply_error(req, 403, "forbidden", "Only operators record usage.", NULL);
    return -1;
}

/* POST /api/v1/usage {instrument_id, user_id, booking_id?, group_id?, start,
 * end, samples?, service_mode?}: 201 the record (fee_fen, voucher_fen,
 * cash_fen, hash, ...); 400 invalid_field / in_future; 401; 403 not an
 * operator of the instrument's institution (or a token without usage:write);
 * 404 no such instrument; 409 usage_overlap, period_closed,
 * already_recorded, invalid_state. */
static void usage_create(yq_req_t *req) {
    /* The caller and the body are read in the job too, inside the group
     * commit's transaction: no read transaction of their own per request. */
    job_t *j = yq_xcalloc(1, sizeof *j);
    j->req = req;
    yq_batch_submit(run_record, after_job, j);
}

/* The request into j->in; answers a refusal itself and returns -1. */
static int read_record(job_t *j) {
    yq_req_t *req = j->req;
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_USAGE_WRITE);
    cJSON *body = NULL;
    if (!p || require_staff(req, p) || yq_api_body(req, &body))
        return -1;
    yq_usage_new_t *in = &j->in;
    const char *mode = NULL;
    if (yq_api_int(req, body, "instrument_id", 1, 1, INT64_MAX, &in->instrument_id, NULL) ||
        yq_api_int(req, body, "user_id", 1, 1, INT64_MAX, &in->user_id, NULL) ||
        yq_api_int(req, body, "booking_id", 0, 1, INT64_MAX, &in->booking_id, NULL) ||
        yq_api_int(req, body, "group_id", 0, 1, INT64_MAX, &in->group_id, NULL) ||
        yq_api_time(req, body, "start", 1, &in->start, NULL) || yq_api_time(req, body, "end", 1, &in->end, NULL) ||
        yq_api_int(req, body, "samples", 0, 0, MAX_SAMPLES, &in->samples, NULL) ||
        yq_api_enum(req, body, "service_mode", 0, modes, &mode)) {
        cJSON_Delete(body);
        return -1;
    }
    cJSON_Delete(body);
    j->p = p;
    for (int i = 0; mode && modes[i]; i++) /* keep the static name: the body is gone */
        if (strcmp(mode, modes[i]) == 0)
            in->service_mode = modes[i];
    in->source = p->via_token ? "agent" : "manual";
    in->recorded_by = p->user_id;
    return 0;
}

static int run_correct(void *ctx) {
    job_t *j = ctx;
    j->fix.now = yq_now();
    cJSON *before = yq_usage_json(j->fix.id);
    int64_t rev, cor;
    int rc = yq_usage_correct(&j->fix, j->p, &rev, &cor, &j->why);
    if (rc == 0) {
        j->out = yq_usage_json(cor ? cor : rev);
        if (j->out && cor)
            cJSON_AddItemToObject(j->out, "reversal", yq_usage_json(rev));
        rc = j->out ? 0 : YQ_DB_ERROR;
    }
    if (rc == 0) {
        const cJSON *org = cJSON_GetObjectItemCaseSensitive(before, "provider_org_id");
        rc = yq_audit(j->req, j->p, NULL, cor ? "usage_correct" : "usage_void", "usage", j->fix.id,
                      (int64_t)cJSON_GetNumberValue(org), before, j->out);
    }
    cJSON_Delete(before);
    return rc;
}

/* POST /api/v1/usage/{id}/correct {start, end, samples?, reason} or
 * {void: true, reason}: 201 the corrected record (kind correction) with its
 * "reversal", or for a void the reversal; 400; 401; 403 not an operator of
 * the instrument's institution; 404; 409 already_corrected,
 * not_correctable, period_closed, usage_overlap. */
static void usage_correct(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t id;
    cJSON *body = NULL;
    if (!p || yq_api_param_id(req, 0, &id) || require_staff(req, p) || yq_api_body(req, &body))
        return;
    job_t *j = yq_xcalloc(1, sizeof *j);
    const char *reason;
    int is_void = 0;
    j->fix.samples = -1;
    if (yq_api_bool(req, body, "void", 0, &is_void, NULL) || yq_api_str(req, body, "reason", 1, 500, &reason) ||
        (!is_void && (yq_api_time(req, body, "start", 1, &j->fix.start, NULL) ||
                      yq_api_time(req, body, "end", 1, &j->fix.end, NULL) ||
                      yq_api_int(req, body, "samples", 0, 0, MAX_SAMPLES, &j->fix.samples, NULL)))) {
        cJSON_Delete(body);
        job_free(j);
        return;
    }
    if (!*reason) {
        cJSON_Delete(body);
        job_free(j);
        yq_reply_error(req, 400, "invalid_field", "Give a reason for the correction.", "reason");
        return;
    }
    j->req = req;
    j->p = p;
    j->reason = yq_xstrdup(reason);
    cJSON_Delete(body);
    j->fix.id = id;
    j->fix.is_void = is_void;
    j->fix.reason = j->reason;
    j->fix.actor = p->user_id;
    yq_batch_submit(run_correct, after_job, j);
}

/* ---- reading ---- */

typedef struct {
    int64_t instrument_id, org_id, user_id, group_id, booking_id, from, to;
    const char *period, *kind;
    int mine;
} filter_t;

/* Reads the filters; answers 400 itself. */
static int read_filter(yq_req_t *req, filter_t *f) {
    static const char *const kinds[] = {"original", "reversal", "correction", NULL};
    int64_t mine = 0;
    memset(f, 0, sizeof *f);
    f->from = INT64_MIN;
    f->to = INT64_MAX;
    if (yq_api_query_int(req, "instrument_id", 1, INT64_MAX, &f->instrument_id, NULL) ||
        yq_api_query_int(req, "org_id", 1, INT64_MAX, &f->org_id, NULL) ||
        yq_api_query_int(req, "user_id", 1, INT64_MAX, &f->user_id, NULL) ||
        yq_api_query_int(req, "group_id", 1, INT64_MAX, &f->group_id, NULL) ||
        yq_api_query_int(req, "booking_id", 1, INT64_MAX, &f->booking_id, NULL) ||
        yq_api_query_int(req, "mine", 0, 1, &mine, NULL) || yq_api_query_time(req, "from", &f->from, NULL) ||
        yq_api_query_time(req, "to", &f->to, NULL))
        return -1;
    f->mine = (int)mine;
    f->period = yq_req_query(req, "period");
    int64_t a, b;
    if (f->period && *f->period && yq_period_bounds(f->period, &a, &b)) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'period' must be YYYY-MM.", "period");
        return -1;
    }
    if (f->period && !*f->period)
        f->period = NULL;
    f->kind = yq_req_query(req, "kind");
    if (f->kind && *f->kind) {
        int ok = 0;
        for (int i = 0; kinds[i]; i++)
            ok |= strcmp(f->kind, kinds[i]) == 0;
        if (!ok) {
            yq_reply_error(req, 400, "invalid_query",
                           "Query parameter 'kind' must be original, reversal or "
                           "correction.",
                           "kind");
            return -1;
        }
    } else {
        f->kind = NULL;
    }
    return 0;
}

/* The WHERE shared by the list and the summaries: the filters (?1 ... ?10)
 * and the read rules (?11 all, ?12 the caller, ?13 the caller's operator
 * institution). */
#define USAGE_WHERE_FOR(NARROW, START)                                                                                 \
    "WHERE " NARROW "(?1 = 0 OR u.instrument_id = ?1) AND (?2 = 0 OR u.provider_org_id = ?2 OR u.payer_org_id = ?2) "  \
    "AND (?3 = 0 OR u.user_id = ?3) AND (?4 = 0 OR u.group_id = ?4) AND (?5 = 0 OR u.booking_id = ?5) "                \
    "AND " START " >= ?6 AND " START " < ?7 AND (?8 IS NULL OR u.period = ?8) AND (?9 IS NULL OR u.kind = ?9) "        \
    "AND (?10 = 0 OR u.user_id = ?12) "                                                                                \
    "AND (?11 = 1 OR u.user_id = ?12 OR (?13 <> 0 AND u.provider_org_id = ?13) "                                       \
    "OR u.group_id IN (SELECT id FROM lab_groups WHERE pi_user_id = ?12)) "
#define USAGE_WHERE_BY(START) USAGE_WHERE_FOR("", START)
#define USAGE_WHERE USAGE_WHERE_BY("u.start")

static void bind_filter(sqlite3_stmt *st, const filter_t *f, const yq_principal_t *p) {
    sqlite3_bind_int64(st, 1, f->instrument_id);
    sqlite3_bind_int64(st, 2, f->org_id);
    sqlite3_bind_int64(st, 3, f->user_id);
    sqlite3_bind_int64(st, 4, f->group_id);
    sqlite3_bind_int64(st, 5, f->booking_id);
    sqlite3_bind_int64(st, 6, f->from);
    sqlite3_bind_int64(st, 7, f->to);
    if (f->period)
        sqlite3_bind_text(st, 8, f->period, -1, SQLITE_STATIC);
    if (f->kind)
        sqlite3_bind_text(st, 9, f->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, f->mine);
    sqlite3_bind_int(st, 11, yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION));
    sqlite3_bind_int64(st, 12, p->user_id);
    sqlite3_bind_int64(st, 13, yq_has_role(p, YQ_ROLE_OPERATOR) ? p->org_id : 0);
}

/* GET /api/v1/usage?instrument_id=&org_id=&user_id=&group_id=&booking_id=
 * &period=&kind=&mine=&from=&to=&limit=&cursor=: 200 {items, next_cursor},
 * newest first, only records the caller may read; 400; 401; 403 (a token
 * without the all scope). */
static void usage_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    filter_t f;
    int64_t limit, before;
    if (!p || read_filter(req, &f) || yq_api_page(req, &limit, &before))
        return;
    yq_db_t *db = yq_db_main();
    /* Without a time range the newest records come first straight from the
     * rowid, and the scan stops at the page's end; with the range unusable
     * ("+u.start") SQLite would otherwise walk usage_start over every record
     * and sort them all (100-280 ms on the demo's 207k records, 3 ms so). */
#define LIST_TAIL "AND (?14 = 0 OR u.id < ?14) ORDER BY u.id DESC LIMIT ?15"
    /* Only one's own records (mine=1, or a caller who may read no one
     * else's): through usage_user, newest first, rather than a walk of the
     * whole ledger by id for a user with few records. */
    int own_only = f.mine || !yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION | YQ_ROLE_OPERATOR | YQ_ROLE_PI);
    int whole_range = f.from == INT64_MIN && f.to == INT64_MAX;
    static const char *const list_sql[2][2] = {
        {YQ_USAGE_SELECT USAGE_WHERE LIST_TAIL, YQ_USAGE_SELECT USAGE_WHERE_BY("+u.start") LIST_TAIL},
        {YQ_USAGE_SELECT USAGE_WHERE_FOR("u.user_id = ?12 AND ", "+u.start") LIST_TAIL,
         YQ_USAGE_SELECT USAGE_WHERE_FOR("u.user_id = ?12 AND ", "+u.start") LIST_TAIL},
    };
    sqlite3_stmt *st = yq_db_stmt(db, list_sql[own_only][whole_range]);
    bind_filter(st, &f, p);
    sqlite3_bind_int64(st, 14, before);
    sqlite3_bind_int64(st, 15, limit + 1);
    yq_api_list_rows(req, db, st, limit, yq_usage_row_json);
}

/* A summary sums every record it may read: for the commission and admins,
 * or an operator's institution, that is most of the ledger (a quarter of a
 * second for the demo's 200,000 records). It runs on the thread pool with a
 * read-only connection of its own, so the loop keeps answering meanwhile. */
typedef struct {
    uv_work_t work;
    yq_req_t *req;
    const char *sql; /* a literal */
    filter_t f;
    char period[16], kind[16];
    yq_principal_t p;
    char *path;
    cJSON *items; /* the result, NULL on error */
} summary_t;

static void do_summary(uv_work_t *w) {
    summary_t *j = w->data;
    sqlite3 *h = yq_db_open_reader(j->path);
    sqlite3_stmt *st = NULL;
    if (!h || sqlite3_prepare_v2(h, j->sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return;
    }
    bind_filter(st, &j->f, &j->p);
    static const char *const keys[] = {"key", "uses", "minutes", "samples", "fee_fen", "voucher_fen", "cash_fen"};
    cJSON *items = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < 7; i++)
            yq_json_add_col(o, keys[i], st, i);
        cJSON_AddItemToArray(items, o);
    }
    if (rc == SQLITE_DONE)
        j->items = items;
    else
        cJSON_Delete(items);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void after_summary(uv_work_t *w, int status) {
    summary_t *j = w->data;
    if (status || !j->items) {
        cJSON_Delete(j->items);
        yq_api_internal(j->req);
    } else {
        yq_api_list(j->req, j->items, 0);
    }
    free(j->path);
    free(j);
}

#define SUM_COLS                                                                                                       \
    "sum(CASE WHEN u.kind = 'reversal' THEN -1 ELSE 1 END), sum(u.minutes), sum(u.samples), sum(u.fee_fen), "          \
    "sum(u.voucher_fen), sum(u.cash_fen) FROM usage_records u "

/* GET /api/v1/usage/summary?group_by=period|instrument|group + the list's
 * filters: 200 {items: [{key, uses, minutes, samples, fee_fen, voucher_fen,
 * cash_fen}], next_cursor: null}, sums over the records the caller may read
 * (reversals count -1 use); 400; 401; 403. */
static void usage_summary(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    static const char *const groups[] = {"period", "instrument", "group", NULL};
    filter_t f;
    if (!p || read_filter(req, &f))
        return;
    const char *by = yq_req_query(req, "group_by");
    int k = by && *by ? -1 : 0;
    for (int i = 0; k < 0 && groups[i]; i++)
        if (strcmp(by, groups[i]) == 0)
            k = i;
    if (k < 0) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'group_by' must be period, instrument or group.",
                       "group_by");
        return;
    }
    /* A summary reads every record it sums: with mine=1 or a group, a plain
     * equality first lets SQLite read only those through usage_user or
     * usage_group (the optional-filter terms cannot use an index). */
#define SUMMARY_SQL(KEY, ORDER, NARROW)                                                                                \
    "SELECT " KEY ", " SUM_COLS USAGE_WHERE_FOR(NARROW, "u.start") "GROUP BY 1 ORDER BY " ORDER " DESC LIMIT 500"
#define SUMMARY_ROW(NARROW)                                                                                            \
    {                                                                                                                  \
        SUMMARY_SQL("u.period", "1", NARROW), SUMMARY_SQL("u.instrument_id", "5", NARROW),                             \
            SUMMARY_SQL("u.group_id", "5", NARROW)                                                                     \
    }
    static const char *const summary_sql[3][3] = {SUMMARY_ROW(""), SUMMARY_ROW("u.user_id = ?12 AND "),
                                                  SUMMARY_ROW("u.group_id = ?4 AND ")};
    summary_t *j = yq_xcalloc(1, sizeof *j);
    j->req = req;
    j->sql = summary_sql[f.mine ? 1 : f.group_id ? 2 : 0][k];
    j->f = f;
    /* The job outlives nothing it points at: the query strings are copied. */
    if (f.period)
        j->f.period = snprintf(j->period, sizeof j->period, "%s", f.period) < (int)sizeof j->period ? j->period : "";
    if (f.kind)
        j->f.kind = snprintf(j->kind, sizeof j->kind, "%s", f.kind) < (int)sizeof j->kind ? j->kind : "";
    j->p = *p;
    j->path = yq_xstrdup(yq_db_path(yq_db_main()));
    j->work.data = j;
    if (uv_queue_work(uv_default_loop(), &j->work, do_summary, after_summary)) {
        free(j->path);
        free(j);
        yq_api_internal(req);
    }
}

/* GET /api/v1/usage/{id}: 200 the record with "corrections" (the records
 * pointing at it); 401; 403 (token scope); 404 none, or not readable. */
static void usage_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t id;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    cJSON *o = yq_usage_readable(id, p) ? yq_usage_json(id) : NULL;
    if (!o) {
        yq_api_not_found(req);
        return;
    }
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, YQ_USAGE_SELECT "WHERE u.corrects_id = ?1 ORDER BY u.id");
    sqlite3_bind_int64(st, 1, id);
    cJSON *arr = cJSON_AddArrayToObject(o, "corrections");
    while (yq_db_step(db, st) == 1)
        cJSON_AddItemToArray(arr, yq_usage_row_json(st));
    sqlite3_reset(st);
    yq_api_json(req, 200, o);
}

static cJSON *checkpoint_json(const yq_usage_checkpoint_t *c) {
    cJSON *o = cJSON_CreateObject();
    yq_json_add_int(o, "count", c->count);
    if (c->count)
        yq_json_add_int(o, "head_id", c->head_id);
    else
        cJSON_AddNullToObject(o, "head_id");
    cJSON_AddStringToObject(o, "head_hash", c->head_hash);
    return o;
}

/* GET /api/v1/usage/checkpoint: 200 {count, head_id, head_hash, at};
 * 401; 403 (not commission or admin). */
static void usage_checkpoint(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION);
    yq_usage_checkpoint_t c;
    if (!p)
        return;
    if (yq_usage_checkpoint(yq_db_main(), &c)) {
        yq_api_internal(req);
        return;
    }
    cJSON *o = checkpoint_json(&c);
    yq_json_add_time(o, "at", yq_now());
    yq_api_json(req, 200, o);
}

typedef struct {
    uv_work_t work;
    yq_req_t *req;
    char *path;
    int64_t against_count;
    char against_hash[YQ_LEDGER_HASH_HEX];
    int threads, rc;
    yq_usage_verify_t result;
} verify_t;

static void do_verify(uv_work_t *w) {
    verify_t *v = w->data;
    v->rc = yq_usage_verify(v->path, v->threads, v->against_count, v->against_hash, &v->result);
}

static cJSON *verify_json(const verify_t *v) {
    const yq_usage_verify_t *r = &v->result;
    cJSON *o = cJSON_CreateObject();
    int against_ok = !r->against_checked || r->against_ok;
    cJSON_AddBoolToObject(o, "ok", r->walk.bad == 0 && against_ok);
    yq_json_add_int(o, "records", r->walk.records);
    if (r->walk.bad)
        yq_json_add_int(o, "first_bad_id", r->walk.first_bad_id);
    else
        cJSON_AddNullToObject(o, "first_bad_id");
    yq_json_add_int(o, "bad_records", r->walk.bad);
    cJSON *arr = cJSON_AddArrayToObject(o, "problems");
    for (int i = 0; i < r->nproblems; i++) {
        cJSON *x = cJSON_CreateObject();
        yq_json_add_int(x, "id", r->problems[i].id);
        cJSON_AddStringToObject(x, "problem", yq_ledger_problem_name(r->problems[i].problem));
        cJSON_AddItemToArray(arr, x);
    }
    cJSON_AddItemToObject(o, "checkpoint", checkpoint_json(&r->checkpoint));
    if (r->against_checked) {
        cJSON *a = cJSON_AddObjectToObject(o, "against");
        yq_json_add_int(a, "count", v->against_count);
        cJSON_AddStringToObject(a, "head_hash", v->against_hash);
        cJSON_AddBoolToObject(a, "ok", r->against_ok);
        yq_json_add_str_or_null(a, "found_hash", r->against_found[0] ? r->against_found : NULL);
    } else {
        cJSON_AddNullToObject(o, "against");
    }
    cJSON_AddNumberToObject(o, "seconds", (double)(int64_t)(r->seconds * 1000 + 0.5) / 1000);
    yq_json_add_time(o, "at", yq_now());
    return o;
}

static void after_verify(uv_work_t *w, int status) {
    verify_t *v = w->data;
    if (status || v->rc)
        yq_api_internal(v->req);
    else
        yq_api_json(v->req, 200, verify_json(v));
    free(v->path);
    free(v);
}

/* Reads ?checkpoint_count=&checkpoint_hash= (both or neither); answers 400. */
static int read_against(yq_req_t *req, verify_t *v) {
    int has_count;
    if (yq_api_query_int(req, "checkpoint_count", 1, INT64_MAX, &v->against_count, &has_count))
        return -1;
    const char *h = yq_req_query(req, "checkpoint_hash");
    int has_hash = h && *h;
    if (has_count != has_hash || (has_hash && (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64))) {
        yq_reply_error(req, 400, "invalid_query",
                       "Give checkpoint_count and checkpoint_hash (64 lower-case hex digits) together.",
                       has_count ? "checkpoint_hash" : "checkpoint_count");
        return -1;
    }
    if (has_hash)
        memcpy(v->against_hash, h, 65);
    return 0;
}

/* GET /api/v1/usage/verify?checkpoint_count=&checkpoint_hash=: 200 {ok,
 * records, first_bad_id, bad_records, problems, checkpoint, against,
 * seconds, at}; 400; 401; 403 (not commission or admin). */
static void usage_verify(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION);
    if (!p)
        return;
    verify_t *v = yq_xcalloc(1, sizeof *v);
    if (read_against(req, v)) {
        free(v);
        return;
    }
    unsigned cores = uv_available_parallelism();
    v->threads = cores > 4 ? 4 : (int)cores;
    v->req = req;
    v->path = yq_xstrdup(yq_db_path(yq_db_main()));
    v->work.data = v;
    if (uv_queue_work(uv_default_loop(), &v->work, do_verify, after_verify)) {
        free(v->path);
        free(v);
        yq_api_internal(req);
    }
}

const yq_route_t yq_api_usage_routes[] = {
    {YQ_M_POST, "/api/v1/usage", usage_create, 0, NULL},
    {YQ_M_GET, "/api/v1/usage", usage_list, 0, NULL},
    {YQ_M_GET, "/api/v1/usage/summary", usage_summary, 0, NULL},
    {YQ_M_GET, "/api/v1/usage/checkpoint", usage_checkpoint, 0, NULL},
    {YQ_M_GET, "/api/v1/usage/verify", usage_verify, 0, NULL},
    {YQ_M_GET, "/api/v1/usage/{id}", usage_get, 0, NULL},
    {YQ_M_POST, "/api/v1/usage/{id}/correct", usage_correct, 0, NULL},
};
const size_t yq_api_usage_routes_count = sizeof yq_api_usage_routes / sizeof yq_api_usage_routes[0];
