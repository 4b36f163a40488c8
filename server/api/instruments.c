/*
 * The catalogue: instruments and the national classification.
 *
 *   GET   /api/v1/classes                 public: the classification table
 *   GET   /api/v1/instruments             public search (instrument_search.c)
 *   POST  /api/v1/instruments             operator of the owner org, or admin
 *   GET   /api/v1/instruments/{id}        public for external ones
 *   PATCH /api/v1/instruments/{id}        operator of the owner org, or admin
 *   POST  /api/v1/instruments/{id}/retire operator of the owner org, or admin
 *
 * Instruments are retired, never deleted. Every change is written to the
 * audit log with the object before and after, in the same transaction as the
 * change itself. An instrument the caller may not see is 404; one they may see
 * but not change is 403.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/instrument_fields.h"
#include "api/instrument_store.h"
#include "api/routes.h"
#include "auth/principal.h"
#include "core/arena.h"
#include "core/timeutil.h"
#include "domain/classes.h"

/* GET /api/v1/classes -> 200 {"items": [{code, name_zh, name_en, level, parent}]} */
static void on_classes(yq_req_t *req) {
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; i < yq_class_count(); i++) {
        const yq_class_t *c = yq_class_at(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", c->code);
        cJSON_AddStringToObject(o, "name_zh", c->name_zh);
        cJSON_AddStringToObject(o, "name_en", c->name_en);
        cJSON_AddNumberToObject(o, "level", c->level);
        char parent[8] = "";
        if (c->level == 2)
            snprintf(parent, sizeof parent, "%.2s0000", c->code);
        else if (c->level == 3)
            snprintf(parent, sizeof parent, "%.4s00", c->code);
        yq_json_add_str_or_null(o, "parent", parent[0] ? parent : NULL);
        cJSON_AddItemToArray(items, o);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    yq_api_json(req, 200, o);
}

/* Does the institution exist? */
static int org_exists(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT 1 FROM orgs WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int found = yq_db_step(db, st) == 1;
    sqlite3_reset(st);
    return found;
}

/* Commits the transaction and answers with the instrument, or answers 500. */
static void commit_and_reply(yq_req_t *req, int64_t id, int status) {
    yq_db_t *db = yq_db_main();
    if (yq_db_commit(db)) {
        yq_db_rollback(db);
        yq_api_internal(req);
        return;
    }
    cJSON *o = yq_instr_json(db, id);
    if (!o)
        yq_api_internal(req);
    else
        yq_api_json(req, status, o);
}

/* POST /api/v1/instruments -> 201 the instrument; 400 invalid field (named),
 * 401, 403 (role, or another institution), 409 asset_no_taken. */
static void on_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_OPERATOR | YQ_ROLE_ADMIN);
    cJSON *body;
    if (!p || yq_api_body(req, &body))
        return;
    yq_instrument_t in;
    yq_instrument_defaults(&in);
    if (yq_instr_from_json(req, body, &in, 1) || yq_instr_check_or_reply(req, &in))
        goto done;
    if (!org_exists(in.owner_org_id)) {
        yq_reply_error(req, 400, "invalid_field", "No institution has this id.", "owner_org_id");
        goto done;
    }
    if (!yq_instr_editable(p, in.owner_org_id)) {
        yq_reply_error(req, 403, "forbidden", "Operators add instruments of their own institution only.",
                       "owner_org_id");
        goto done;
    }
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    int rc = yq_instr_insert(db, &in);
    cJSON *after = rc == 0 ? yq_instr_json(db, in.id) : NULL;
    if (rc == 0)
        rc = yq_audit(req, p, NULL, "instrument_create", "instrument", in.id, in.owner_org_id, NULL, after);
    cJSON_Delete(after);
    if (rc) {
        yq_db_rollback(db);
        if (rc == YQ_DB_CONSTRAINT)
            yq_reply_error(req, 409, "asset_no_taken",
                           "This institution already has an instrument with this asset "
                           "number.",
                           "asset_no");
        else
            yq_api_internal(req);
        goto done;
    }
    commit_and_reply(req, in.id, 201);
done:
    cJSON_Delete(body);
}

/* Loads {id} for a caller: 404 when absent or not visible to them. */
static int load_visible(yq_req_t *req, const yq_principal_t *p, yq_instrument_t *in, yq_instr_meta_t *meta) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return -1;
    if (yq_instr_load(yq_db_main(), id, req->arena, in, meta) ||
        !yq_instr_visible(p, in->owner_org_id, in->share_mode, meta->retired_at != 0)) {
        yq_api_not_found(req);
        return -1;
    }
    return 0;
}

/* Loads {id} for a change: 401, 403 (role), 404 (not visible), 403 (another
 * institution's). */
static const yq_principal_t *load_editable(yq_req_t *req, yq_instrument_t *in, yq_instr_meta_t *meta) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_OPERATOR | YQ_ROLE_ADMIN);
    if (!p || load_visible(req, p, in, meta))
        return NULL;
    if (!yq_instr_editable(p, in->owner_org_id)) {
        yq_reply_error(req, 403, "forbidden", "Only operators of the owning institution may change it.", NULL);
        return NULL;
    }
    return p;
}

/* GET /api/v1/instruments/{id} -> 200 the instrument; 404 (absent, or not
 * visible to the caller: a token without the "all" scope sees what the
 * public sees). */
static void on_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_viewer(req);
    yq_instrument_t in;
    yq_instr_meta_t meta;
    if (load_visible(req, p, &in, &meta))
        return;
    cJSON *o = yq_instr_json(yq_db_main(), in.id);
    if (o)
        yq_api_json(req, 200, o);
    else
        yq_api_not_found(req);
}

/* Writes a change with its audit row; before is the stored object. */
static int write_change(yq_req_t *req, const yq_principal_t *p, const yq_instrument_t *in, const char *action) {
    yq_db_t *db = yq_db_main();
    cJSON *before = yq_instr_json(db, in->id);
    int rc = yq_db_begin(db);
    if (rc == 0)
        rc = strcmp(action, "instrument_retire") == 0 ? yq_instr_retire(db, in->id, yq_now()) : yq_instr_update(db, in);
    cJSON *after = rc == 0 ? yq_instr_json(db, in->id) : NULL;
    if (rc == 0)
        rc = yq_audit(req, p, NULL, action, "instrument", in->id, in->owner_org_id, before, after);
    cJSON_Delete(before);
    cJSON_Delete(after);
    if (rc)
        yq_db_rollback(db);
    return rc;
}

/* PATCH /api/v1/instruments/{id} -> 200 the updated instrument; 400, 401,
 * 403, 404, 409 asset_no_taken. A change to nothing writes nothing. */
static void on_patch(yq_req_t *req) {
    yq_instrument_t in;
    yq_instr_meta_t meta;
    const yq_principal_t *p = load_editable(req, &in, &meta);
    cJSON *body;
    if (!p || yq_api_body(req, &body))
        return;
    yq_instrument_t before = in;
    if (yq_instr_from_json(req, body, &in, 0) || yq_instr_check_or_reply(req, &in))
        goto done;
    if (yq_instr_equal(&before, &in)) {
        cJSON *o = yq_instr_json(yq_db_main(), in.id);
        yq_api_json(req, 200, o);
        goto done;
    }
    int rc = write_change(req, p, &in, "instrument_update");
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(req, 409, "asset_no_taken", "This institution already has an instrument with this asset number.",
                       "asset_no");
    else if (rc)
        yq_api_internal(req);
    else
        commit_and_reply(req, in.id, 200);
done:
    cJSON_Delete(body);
}

/* POST /api/v1/instruments/{id}/retire -> 200 the retired instrument; 401,
 * 403, 404, 409 already_retired. */
static void on_retire(yq_req_t *req) {
    yq_instrument_t in;
    yq_instr_meta_t meta;
    const yq_principal_t *p = load_editable(req, &in, &meta);
    if (!p)
        return;
    if (meta.retired_at) {
        yq_reply_error(req, 409, "already_retired", "The instrument is already retired.", NULL);
        return;
    }
    if (write_change(req, p, &in, "instrument_retire"))
        yq_api_internal(req);
    else
        commit_and_reply(req, in.id, 200);
}

/* GET /api/v1/instruments -> 200 {items, next_cursor, total, facets}; 400
 * naming the query parameter. */
static void on_search(yq_req_t *req);

const yq_route_t yq_api_instruments_routes[] = {
    {YQ_M_GET, "/api/v1/classes", on_classes, 0, NULL},
    {YQ_M_GET, "/api/v1/instruments", on_search, 0, NULL},
    {YQ_M_POST, "/api/v1/instruments", on_create, 0, NULL},
    {YQ_M_GET, "/api/v1/instruments/{id}", on_get, 0, NULL},
    {YQ_M_PATCH, "/api/v1/instruments/{id}", on_patch, 0, NULL},
    {YQ_M_POST, "/api/v1/instruments/{id}/retire", on_retire, 0, NULL},
};
const size_t yq_api_instruments_routes_count = sizeof yq_api_instruments_routes / sizeof yq_api_instruments_routes[0];

/* ---- search parameters ---- */

static int bad_query(yq_req_t *req, const char *name, const char *msg) {
    yq_reply_error(req, 400, "invalid_query", msg, name);
    return -1;
}

int yq_instr_search_params(yq_req_t *req, yq_search_t *s) {
    memset(s, 0, sizeof *s);
    s->q = yq_req_query(req, "q");
    if (s->q && strlen(s->q) > 300)
        return bad_query(req, "q", "Query parameter 'q' is too long.");
    const char *zone = yq_req_query(req, "zone");
    if (zone && *zone) {
        yq_db_t *db = yq_db_main();
        sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM zones WHERE code = ?1");
        sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
        s->zone_id = yq_db_int(db, st, 0);
        if (!s->zone_id)
            return bad_query(req, "zone", "Query parameter 'zone' is not a zone code (neobay, zhangjiang, ...).");
    }
    s->class_prefix = yq_req_query(req, "class");
    if (s->class_prefix && *s->class_prefix) {
        size_t n = strlen(s->class_prefix);
        if ((n != 2 && n != 4 && n != 6) || strspn(s->class_prefix, "0123456789") != n)
            return bad_query(req, "class", "Query parameter 'class' is a class code prefix of 2, 4 or 6 digits.");
    }
    if (yq_api_query_int(req, "org", 1, INT64_MAX, &s->org_id, NULL))
        return -1;
    const char *b = yq_req_query(req, "bookable");
    s->bookable = b && (strcmp(b, "1") == 0 || strcmp(b, "true") == 0);
    s->run_status = yq_req_query(req, "run_status");
    if (s->run_status && *s->run_status) {
        int ok = 0;
        for (const char *const *r = yq_run_statuses; *r; r++)
            ok |= strcmp(*r, s->run_status) == 0;
        if (!ok)
            return bad_query(req, "run_status", "Query parameter 'run_status' is not a run status.");
    }
    const char *r = yq_req_query(req, "include_retired");
    s->include_retired = r && (strcmp(r, "1") == 0 || strcmp(r, "true") == 0);
    const char *sort = yq_req_query(req, "sort");
    s->sort = s->q && *s->q ? YQ_SORT_RELEVANCE : YQ_SORT_NAME;
    if (sort && *sort) {
        if (strcmp(sort, "relevance") == 0)
            s->sort = YQ_SORT_RELEVANCE;
        else if (strcmp(sort, "name") == 0)
            s->sort = YQ_SORT_NAME;
        else if (strcmp(sort, "value") == 0)
            s->sort = YQ_SORT_VALUE;
        else
            return bad_query(req, "sort", "Query parameter 'sort' is relevance, name or value.");
    }
    s->limit = 50;
    if (yq_api_query_int(req, "limit", 1, 500, &s->limit, NULL))
        return -1;
    s->cursor = yq_req_query(req, "cursor");
    const yq_principal_t *p = yq_auth_viewer(req); /* a narrow token: as anonymous */
    s->see_all = yq_has_role(p, YQ_ROLE_ADMIN | YQ_ROLE_COMMISSION);
    s->viewer_org = p ? p->org_id : 0;
    return 0;
}

static void on_search(yq_req_t *req) {
    yq_search_t s;
    if (yq_instr_search_params(req, &s))
        return;
    const char *f = yq_req_query(req, "facets");
    s.facets = !(f && strcmp(f, "0") == 0);
    yq_search_result_t res;
    const char *bad = NULL;
    if (yq_instr_search(yq_db_main(), &s, &res, &bad)) {
        if (bad && strcmp(bad, "cursor") == 0)
            bad_query(req, "cursor", "Query parameter 'cursor' is not a cursor this server gave for this sort.");
        else if (bad)
            bad_query(req, "q", "Query parameter 'q' may hold at most 4 words.");
        else
            yq_api_internal(req);
        cJSON_Delete(res.items);
        cJSON_Delete(res.facets);
        free(res.next_cursor);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", res.items);
    yq_json_add_str_or_null(o, "next_cursor", res.next_cursor);
    free(res.next_cursor);
    if (res.facets) {
        yq_json_add_int(o, "total", res.total);
        cJSON_AddItemToObject(o, "facets", res.facets);
    }
    yq_api_json(req, 200, o);
}
