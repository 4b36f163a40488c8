/*
 * Bookings (DOMAIN.md "Bookings", API.md "Which refusal wins").
 *
 * Creating a booking: the handler submits a job to the group commit
 * (db/batch.h), and the job does the rest inside the batch's write
 * transaction: it reads what the rules need (caller, instrument, user,
 * qualification), asks the pure rules (domain/booking_rules.h) for the first
 * refusal, computes the fee estimate (domain/fees.h) and inserts the booking;
 * the trigger bookings_no_overlap_insert (migration 030) refuses an overlap,
 * which the job reports as 409 slot_taken. A refusal is answered at once
 * (nothing was written); a booking's answer is built from the values written
 * and sent only after the COMMIT is on disk.
 *
 * Recurring bookings ({"repeat": {"weekly": N, "mode": ...}}) are N weekly
 * occurrences in one job: all_or_nothing rolls back the job's savepoint when
 * one is taken; skip_taken keeps the others and lists the skipped ones.
 *
 * Idempotency-Key: the first successful answer to a key is stored with the
 * booking, per user, with a hash of the request body; the same key again
 * gets that answer (and no second booking), a different body with the same
 * key 409 idempotency_key_reused. The lookup runs inside the job, so two
 * concurrent requests with one key cannot both insert.
 *
 * Transitions (cancel, approve, reject, checkin, checkout) run as jobs too:
 * each re-reads the booking inside the transaction, checks who may do it and
 * whether the state machine allows it, writes the status and an event (who
 * and when), audits staff actions and notifies the booking's user.
 */

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_log.h"
#include "api/bookings.h"
#include "api/bookings_store.h"
#include "api/routes.h"
#include "api/usage_store.h"
#include "auth/principal.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "db/batch.h"
#include "domain/booking_rules.h"
#include "domain/fees.h"
#include "net/server.h"

#define MAX_REPEAT 52
#define WEEK (7 * 86400)

/* ---- creating ---------------------------------------------------------- */

typedef struct {
    yq_req_t *req;
    int64_t user_id, group_id, payer_org_id, instrument_id;
    int64_t start[MAX_REPEAT], end[MAX_REPEAT], fee[MAX_REPEAT];
    int64_t ids[MAX_REPEAT]; /* inserted, or a negative code (skipped) */
    int64_t created_at, owner_org_id;
    /* For the answer (in the request's arena, alive until it is answered). */
    const char *instrument_name_zh, *instrument_name_en, *user_name;
    int n, skip_taken, series;
    int needs_pi, needs_operator;
    char *purpose;
    char key[129];
    unsigned char hash[crypto_hash_sha256_BYTES];
    /* result */
    int answered; /* the checks refused the request and answered it */
    int status;
    char *response;
} create_t;

static void create_free(create_t *c) {
    free(c->purpose);
    free(c->response);
    free(c);
}

/* Looks up a stored answer for (user, key). Returns 1 and fills status and
 * response (malloc'd) when there is one, else 0. */
static int idem_lookup(create_t *c) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT request_hash, status, response FROM booking_idempotency "
                                      "WHERE user_id = ?1 AND key = ?2");
    sqlite3_bind_int64(st, 1, c->user_id);
    sqlite3_bind_text(st, 2, c->key, -1, SQLITE_STATIC);
    if (yq_db_step(db, st) != 1)
        return 0;
    const void *h = sqlite3_column_blob(st, 0);
    if (sqlite3_column_bytes(st, 0) != (int)sizeof c->hash || memcmp(h, c->hash, sizeof c->hash) != 0) {
        c->status = 409;
        c->response = yq_xstrdup("{\"error\":{\"code\":\"idempotency_key_reused\",\"message\":\"This "
                                 "Idempotency-Key was used for a different request.\"}}");
    } else {
        c->status = sqlite3_column_int(st, 1);
        c->response = yq_xstrdup((const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return 1;
}

static int idem_store(create_t *c) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO booking_idempotency (user_id, key, request_hash, status, "
                                      "response, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_int64(st, 1, c->user_id);
    sqlite3_bind_text(st, 2, c->key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, c->hash, sizeof c->hash, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, c->status);
    sqlite3_bind_text(st, 5, c->response, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, yq_now());
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

/* Inserts occurrence i; returns its id, YQ_DB_CONSTRAINT when the slot is
 * taken, or another negative code. */
static int64_t insert_one(create_t *c, int i, int64_t now) {
    yq_db_t *db = yq_db_main();
    const char *status = c->needs_pi || c->needs_operator ? "pending" : "confirmed";
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO bookings (instrument_id, user_id, group_id, payer_org_id, start, "
                                      "end, purpose, status, needs_pi, needs_operator, fee_estimate_fen, created_at, "
                                      "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
    sqlite3_bind_int64(st, 1, c->instrument_id);
    sqlite3_bind_int64(st, 2, c->user_id);
    if (c->group_id)
        sqlite3_bind_int64(st, 3, c->group_id);
    sqlite3_bind_int64(st, 4, c->payer_org_id);
    sqlite3_bind_int64(st, 5, c->start[i]);
    sqlite3_bind_int64(st, 6, c->end[i]);
    sqlite3_bind_text(st, 7, c->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, c->needs_pi);
    sqlite3_bind_int(st, 10, c->needs_operator);
    sqlite3_bind_int64(st, 11, c->fee[i]);
    sqlite3_bind_int64(st, 12, now);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    int64_t id = yq_db_last_id(db);
    rc = yq_bk_event(id, c->user_id, NULL, status, "");
    return rc < 0 ? rc : id;
}

static int set_series(int64_t id, int64_t series) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE bookings SET series_id = ?2 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, series);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

/* Occurrence i as the API shows it, from the values just written. */
static cJSON *occurrence_json(const create_t *c, int i) {
    int pending = c->needs_pi || c->needs_operator;
    int64_t series = 0;
    for (int k = 0; c->series && k < c->n && !series; k++)
        if (c->ids[k] > 0)
            series = c->ids[k];
    yq_bk_row_t r = {
        .id = c->ids[i],
        .instrument_id = c->instrument_id,
        .instrument_name_zh = c->instrument_name_zh,
        .instrument_name_en = c->instrument_name_en,
        .owner_org_id = c->owner_org_id,
        .user_id = c->user_id,
        .user_name = c->user_name,
        .group_id = c->group_id,
        .payer_org_id = c->payer_org_id,
        .start = c->start[i],
        .end = c->end[i],
        .purpose = c->purpose,
        .status = pending ? "pending" : "confirmed",
        .needs_pi = c->needs_pi,
        .needs_operator = c->needs_operator,
        .fee_estimate_fen = c->fee[i],
        .series_id = series,
        .reason = "",
        .created_at = c->created_at,
        .updated_at = c->created_at,
    };
    return yq_bk_row_json(&r);
}

/* The answer: the first booking, plus {"series": {id, items, skipped}} for a
 * recurring request. Built from the values written (the same JSON as
 * GET /bookings/{id} without its events; a test compares them). */
static cJSON *created_json(const create_t *c) {
    int first = -1;
    for (int i = 0; i < c->n && first < 0; i++)
        if (c->ids[i] > 0)
            first = i;
    cJSON *o = occurrence_json(c, first);
    if (!c->series)
        return o;
    cJSON *s = cJSON_AddObjectToObject(o, "series");
    yq_json_add_int(s, "id", c->ids[first]);
    cJSON *items = cJSON_AddArrayToObject(s, "items"), *skipped = cJSON_AddArrayToObject(s, "skipped");
    for (int i = 0; i < c->n; i++) {
        if (c->ids[i] > 0) {
            cJSON_AddItemToArray(items, occurrence_json(c, i));
        } else {
            cJSON *k = cJSON_CreateObject();
            yq_json_add_time(k, "start", c->start[i]);
            yq_json_add_time(k, "end", c->end[i]);
            cJSON_AddItemToArray(skipped, k);
        }
    }
    return o;
}

/* The answer's JSON text (created_json); NULL on error. */
static char *created_text(create_t *c) {
    cJSON *o = created_json(c);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}

static int create_check(create_t *c);

/* The job ends without a booking: a taken slot (the trigger of migration
 * 030 refused the insert) is answered at once, as nothing is kept to wait
 * for; other errors after the commit. Returns rc. */
static int refused(create_t *c, int64_t rc) {
    if (rc == YQ_DB_CONSTRAINT) {
        yq_reply_error(c->req, 409, "slot_taken", "That time is already booked or blocked.", NULL);
        c->answered = 1;
    }
    return (int)rc;
}

static int run_create(void *ctx) {
    create_t *c = ctx;
    if (create_check(c) < 0) {
        c->answered = 1;
        return 0; /* nothing written */
    }
    int64_t *ids = c->ids, now = yq_now(), series = 0;
    c->created_at = now;
    int made = 0;
    for (int i = 0; i < c->n; i++) {
        ids[i] = insert_one(c, i, now);
        if (ids[i] == YQ_DB_CONSTRAINT && c->skip_taken)
            continue;
        if (ids[i] < 0)
            return refused(c, ids[i]);
        if (!series)
            series = ids[i];
        made++;
        if (c->series && set_series(ids[i], series) < 0)
            return YQ_DB_ERROR;
    }
    if (!made)
        return refused(c, YQ_DB_CONSTRAINT);
    c->status = 201;
    if (!c->key[0])
        return 0; /* the loop writes the answer, after the commit (after_create) */
    /* With an Idempotency-Key the answer is stored with the booking. */
    c->response = created_text(c);
    return c->response ? idem_store(c) : YQ_DB_ERROR;
}

static void after_create(void *ctx, int rc) {
    create_t *c = ctx;
    if (c->answered) {
        create_free(c);
        return;
    }
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(c->req, 409, "slot_taken", "That time is already booked or blocked.", NULL);
    else if (rc >= 0 && c->response) /* stored with its Idempotency-Key */
        yq_reply(c->req, c->status, "application/json", c->response, strlen(c->response));
    else if (rc >= 0 && c->status == 201) /* built here, after the transaction every other write waits for */
        yq_api_json(c->req, 201, created_json(c));
    else
        yq_api_internal(c->req);
    create_free(c);
}

/* What the rules need to know about the booker. Returns 0, or answers
 * (400 group_id) and returns -1. */
typedef struct {
    int64_t barred_until, qualified_until, group_id, pi_user_id, payer_org_id, payer_zone_id;
    int requires_pi;
    int leads;        /* the booker is the group's PI */
    const char *name; /* in the request's arena */
} booker_t;

static int load_booker(yq_req_t *req, const yq_principal_t *p, int64_t group_id, int64_t instrument_id, booker_t *b) {
    yq_db_t *db = yq_db_main();
    memset(b, 0, sizeof *b);
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT u.barred_until, coalesce(q.expires, 0), u.name FROM users u "
                                      "LEFT JOIN qualifications q ON q.user_id = u.id AND q.instrument_id = ?2 "
                                      "WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, p->user_id);
    sqlite3_bind_int64(st, 2, instrument_id);
    if (yq_db_step(db, st) == 1) {
        b->barred_until = sqlite3_column_int64(st, 0);
        b->qualified_until = sqlite3_column_int64(st, 1);
        const char *name = yq_col_text(st, 2);
        b->name = name ? yq_arena_strdup(req->arena, name) : NULL;
    }
    sqlite3_reset(st);
    b->group_id = group_id ? group_id : p->group_id;
    if (b->group_id) {
        st = yq_db_stmt(db, "SELECT g.org_id, o.zone_id, coalesce(g.pi_user_id, 0), g.requires_pi_approval "
                            "FROM lab_groups g JOIN orgs o ON o.id = g.org_id WHERE g.id = ?1");
        sqlite3_bind_int64(st, 1, b->group_id);
        int found = yq_db_step(db, st) == 1;
        if (found) {
            b->payer_org_id = sqlite3_column_int64(st, 0);
            b->payer_zone_id = sqlite3_column_int64(st, 1);
            b->pi_user_id = sqlite3_column_int64(st, 2);
            b->requires_pi = sqlite3_column_int(st, 3);
        }
        sqlite3_reset(st);
        /* Book for one's own group, or for the group one leads (as its PI,
         * holding the PI role, like every PI power). */
        b->leads = yq_has_role(p, YQ_ROLE_PI) && b->pi_user_id == p->user_id;
        if (!found || (b->group_id != p->group_id && !b->leads)) {
            yq_reply_error(req, 400, "invalid_field", "You can only book for your own lab group.", "group_id");
            return -1;
        }
        return 0;
    }
    if (!p->org_id) {
        yq_reply_error(req, 400, "invalid_field", "Join a lab group or institution before booking.", "group_id");
        return -1;
    }
    b->payer_org_id = p->org_id;
    b->payer_zone_id = p->zone_id;
    return 0;
}

/* Reads {"repeat": {"weekly": N, "mode": "all_or_nothing"|"skip_taken"}}
 * into c (n occurrences, a week apart). Answers 400 itself. */
static int read_repeat(yq_req_t *req, const cJSON *body, create_t *c) {
    static const char *const modes[] = {"all_or_nothing", "skip_taken", NULL};
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(body, "repeat");
    c->n = 1;
    if (!r || cJSON_IsNull(r))
        return 0;
    int64_t weekly;
    const char *mode;
    if (!cJSON_IsObject(r)) {
        yq_reply_error(req, 400, "invalid_field", "'repeat' must be {\"weekly\": N, \"mode\": ...}.", "repeat");
        return -1;
    }
    if (yq_api_int(req, r, "weekly", 1, 1, MAX_REPEAT, &weekly, NULL) || yq_api_enum(req, r, "mode", 1, modes, &mode))
        return -1;
    c->n = (int)weekly;
    c->series = weekly > 1;
    c->skip_taken = mode[0] == 's';
    for (int i = 1; i < c->n; i++) {
        c->start[i] = c->start[0] + (int64_t)i * WEEK;
        c->end[i] = c->end[0] + (int64_t)i * WEEK;
    }
    return 0;
}

/* Asks the rules about every occurrence; answers 400 with the first refusal
 * (API.md "Which refusal wins") and returns -1. */
static int check_rules(yq_req_t *req, const yq_bk_instrument_t *ins, const booker_t *b, create_t *c, int64_t now) {
    for (int i = 0; i < c->n; i++) {
        yq_booking_request_t r = {
            .instrument = &ins->in,
            .retired = ins->retired,
            .start = c->start[i],
            .end = c->end[i],
            .now = now,
            .barred_until = b->barred_until,
            .qualified_until = b->qualified_until,
        };
        const yq_booking_refusal_t *ref = yq_booking_check(&r);
        if (ref) {
            char msg[300];
            if (c->n > 1)
                snprintf(msg, sizeof msg, "%s (occurrence %d of %d)", ref->message, i + 1, c->n);
            else
                snprintf(msg, sizeof msg, "%s", ref->message);
            yq_reply_error(req, 400, ref->code, msg, NULL);
            return -1;
        }
    }
    return 0;
}

/* Fee estimate of each occurrence with the payer's tier. */
static void estimate(const yq_bk_instrument_t *ins, const booker_t *b, create_t *c) {
    yq_tier_t tier = yq_fee_tier(ins->in.owner_org_id, ins->owner_zone_id, b->payer_org_id, b->payer_zone_id);
    for (int i = 0; i < c->n; i++)
        c->fee[i] = yq_fee_estimate(&ins->in, tier, c->end[i] - c->start[i]);
}

/* Reads the Idempotency-Key header and hashes the body; answers 400 when
 * the key is too long. */
static int read_key(yq_req_t *req, create_t *c) {
    const char *key = yq_req_header(req, "idempotency-key");
    if (!key)
        return 0;
    size_t n = strlen(key);
    if (n == 0 || n >= sizeof c->key) {
        yq_reply_error(req, 400, "invalid_header", "Idempotency-Key must be 1 to 128 characters.", "Idempotency-Key");
        return -1;
    }
    memcpy(c->key, key, n + 1);
    crypto_hash_sha256(c->hash, (const unsigned char *)(req->body ? req->body : ""), req->body_len);
    return 0;
}

/* Validates the request body into c; answers 400/404 itself. */
static int read_create(yq_req_t *req, const yq_principal_t *p, const cJSON *body, create_t *c,
                       yq_bk_instrument_t *ins) {
    const char *purpose;
    int64_t group_id = 0;
    if (yq_api_int(req, body, "instrument_id", 1, 1, INT64_MAX, &c->instrument_id, NULL) ||
        yq_api_time(req, body, "start", 1, &c->start[0], NULL) || yq_api_time(req, body, "end", 1, &c->end[0], NULL) ||
        yq_api_str(req, body, "purpose", 0, 500, &purpose) ||
        yq_api_int(req, body, "group_id", 0, 1, INT64_MAX, &group_id, NULL) || read_repeat(req, body, c))
        return -1;
    if (c->end[0] <= c->start[0]) {
        yq_reply_error(req, 400, "invalid_field", "'end' must be after 'start'.", "end");
        return -1;
    }
    if (yq_bk_instrument_load(c->instrument_id, req->arena, ins) || !yq_bk_instrument_visible(ins, p)) {
        yq_api_not_found(req);
        return -1;
    }
    c->purpose = yq_xstrdup(purpose ? purpose : "");
    c->group_id = group_id;
    return 0;
}

/* POST /api/v1/bookings {instrument_id, start, end, purpose?, group_id?,
 * repeat?} (+ Idempotency-Key): 201 the booking (status confirmed or pending,
 * fee_estimate_fen; "series" when recurring); 400 invalid input or a rule
 * code (in_past, not_bookable, barred, not_qualified, off_step, too_short,
 * too_long, outside_open_hours, too_soon, too_far_ahead); 401; 403 not a
 * researcher or PI; 404 no such instrument; 409 slot_taken or
 * idempotency_key_reused. */
static int create_check(create_t *c) {
    yq_req_t *req = c->req;
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_RESEARCHER | YQ_ROLE_PI);
    cJSON *body;
    if (!p || yq_api_body(req, &body))
        return -1;
    c->user_id = p->user_id;
    yq_bk_instrument_t ins;
    booker_t b;
    int64_t now = yq_now();
    if (read_key(req, c))
        goto fail;
    if (c->key[0] && idem_lookup(c)) { /* a retry: the first answer, before any rule */
        yq_reply(req, c->status, "application/json", c->response, strlen(c->response));
        goto fail;
    }
    if (read_create(req, p, body, c, &ins) || load_booker(req, p, c->group_id, c->instrument_id, &b) ||
        check_rules(req, &ins, &b, c, now))
        goto fail;
    c->group_id = b.group_id;
    c->payer_org_id = b.payer_org_id;
    c->user_name = b.name;
    c->owner_org_id = ins.in.owner_org_id;
    c->instrument_name_zh = ins.in.name_zh;
    c->instrument_name_en = ins.in.name_en;
    c->needs_pi = b.requires_pi && !b.leads;
    c->needs_operator = ins.in.requires_approval && !yq_bk_is_staff(&ins, p);
    estimate(&ins, &b, c);
    cJSON_Delete(body);
    return 0;
fail:
    cJSON_Delete(body);
    return -1;
}

static void booking_create(yq_req_t *req) {
    /* Everything, the checks included, runs in the group commit's write
     * transaction: its reads take no read lock of their own, and they see
     * the bookings made just before in the same batch. A refusal is
     * answered from there at once (it writes nothing); a booking is answered
     * once its commit is durable. */
    create_t *c = yq_xcalloc(1, sizeof *c);
    c->req = req;
    yq_batch_submit(run_create, after_create, c);
}

/* ---- reading ----------------------------------------------------------- */

/* GET /api/v1/bookings/{id}: 200 the booking with its events; 401; 404
 * (absent, or not the caller's to read). */
static void booking_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t id;
    yq_bk_booking_t b;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    if (yq_bk_booking_load(id, &b) || !yq_bk_booking_readable(&b, p)) {
        yq_api_not_found(req);
        return;
    }
    yq_api_json(req, 200, yq_bk_booking_json(id, 1));
}

static const char *const statuses[] = {"pending",  "confirmed", "in_use",  "completed",
                                       "rejected", "cancelled", "no_show", NULL};

/* Reads ?status= (one of statuses); answers 400 itself. */
static int query_status(yq_req_t *req, const char **out) {
    const char *s = yq_req_query(req, "status");
    *out = NULL;
    if (!s || !*s)
        return 0;
    for (const char *const *a = statuses; *a; a++)
        if (strcmp(*a, s) == 0)
            *out = *a;
    if (!*out)
        yq_reply_error(req, 400, "invalid_query", "Unknown status.", "status");
    return *out ? 0 : -1;
}

/* GET /api/v1/bookings?instrument_id=&mine=1&status=&from=&to=&approvable=1
 * &limit=&cursor=: 200 list, newest first, of the bookings the caller may
 * read (own; the institution's instruments for operators; the group's for
 * its PI; all for admins); approvable=1 keeps the pending ones whose next
 * approval step is the caller's. 400; 401. */
static void booking_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t limit, after, instrument = 0, mine = 0, approvable = 0, from = INT64_MIN, to = INT64_MAX;
    const char *status;
    if (!p || yq_api_page(req, &limit, &after) ||
        yq_api_query_int(req, "instrument_id", 1, INT64_MAX, &instrument, NULL) ||
        yq_api_query_int(req, "mine", 0, 1, &mine, NULL) ||
        yq_api_query_int(req, "approvable", 0, 1, &approvable, NULL) || yq_api_query_time(req, "from", &from, NULL) ||
        yq_api_query_time(req, "to", &to, NULL) || query_status(req, &status))
        return;
    yq_db_t *db = yq_db_main();
    /* The approval queue holds live bookings only: reach them through
     * bookings_live_end, instrument by instrument, rather than walking every
     * booking ever made by id (50-75 ms on the demo's 268k bookings). */
#define BOOKING_LIST_WHERE_FOR(NARROW)                                                                                 \
    "WHERE " NARROW "(?1 = 0 OR b.instrument_id = ?1) AND (?2 = 0 OR b.user_id = ?3) "                                 \
    "AND (?4 IS NULL OR b.status = ?4) AND b.end > ?5 AND b.start < ?6 AND (?7 = 0 OR b.id < ?7) "                     \
    "AND (?8 = 1 OR b.user_id = ?3 OR (?9 <> 0 AND i.owner_org_id = ?9) OR (?12 = 1 AND g.pi_user_id = ?3)) "          \
    "AND (?10 = 0 OR (b.status = 'pending' AND ((b.needs_pi = 1 AND ((?12 = 1 AND g.pi_user_id = ?3) OR ?8 = 1)) "     \
    "OR (b.needs_pi = 0 AND b.needs_operator = 1 AND (?8 = 1 OR (?9 <> 0 AND i.owner_org_id = ?9)))))) "               \
    "ORDER BY b.id DESC LIMIT ?11"
#define BOOKING_LIST_WHERE BOOKING_LIST_WHERE_FOR("")
    int admin = yq_has_role(p, YQ_ROLE_ADMIN);
    int64_t op_org = yq_has_role(p, YQ_ROLE_OPERATOR) ? p->org_id : 0;
    /* Only one's own bookings (mine=1, or a caller who may read no one
     * else's: neither admin, operator nor PI): a plain equality first lets
     * SQLite walk bookings_user, newest first, instead of every booking by
     * id until a page is full (a whole scan for a user with few bookings,
     * 70 ms on the demo's 246k). */
    int own_only = mine || (!admin && !op_org && !yq_has_role(p, YQ_ROLE_PI));
    /* The live index also serves a filter on a live status (pending,
     * confirmed, in use) when more than one's own bookings are read: every
     * such booking is in it, a few among many. */
    int live = approvable ||
               (!own_only && status &&
                (strcmp(status, "pending") == 0 || strcmp(status, "confirmed") == 0 || strcmp(status, "in_use") == 0));
    sqlite3_stmt *st;
    if (live)
        st = yq_db_stmt(db, "SELECT b.id FROM instruments i JOIN bookings b INDEXED BY bookings_live_end "
                            "ON b.instrument_id = i.id AND " YQ_BK_LIVE_B_STATUS " "
                            "LEFT JOIN lab_groups g ON g.id = b.group_id " BOOKING_LIST_WHERE);
    else if (instrument)
        /* One instrument's bookings: its live ones through bookings_live_end,
         * the others through bookings_ended (migration 078), a few hundred
         * ids looked up and sorted, rather than a walk over every booking. */
        st = yq_db_stmt(db, "SELECT b.id FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
                            "LEFT JOIN lab_groups g ON g.id = b.group_id " BOOKING_LIST_WHERE_FOR(
                                "b.id IN (SELECT id FROM bookings INDEXED BY bookings_live_end "
                                "WHERE instrument_id = ?1 AND " YQ_BK_LIVE_STATUS " UNION ALL "
                                "SELECT id FROM bookings INDEXED BY bookings_ended "
                                "WHERE instrument_id = ?1 AND NOT " YQ_BK_LIVE_STATUS ") AND "));
    else if (own_only)
        st = yq_db_stmt(db,
                        "SELECT b.id FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
                        "LEFT JOIN lab_groups g ON g.id = b.group_id " BOOKING_LIST_WHERE_FOR("b.user_id = ?3 AND "));
    else if (from != INT64_MIN)
        /* A time window [from, to): the bookings that start before `to` and
         * at most the longest booking's length (migration 075) before
         * `from`. Those no longer live through bookings_start (migration
         * 081); the live ones instrument by instrument through
         * bookings_live_end, where they end after `from` and before `to` +
         * that length (a booking of an instrument never overlaps another). */
        st = yq_db_stmt(
            db, "SELECT b.id FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
                "LEFT JOIN lab_groups g ON g.id = b.group_id " BOOKING_LIST_WHERE_FOR(
                    "b.id IN (SELECT id FROM bookings INDEXED BY bookings_ended_start "
                    "WHERE NOT " YQ_BK_LIVE_STATUS " AND start > ?5 - (SELECT longest FROM booking_span "
                    "WHERE id = 1) AND start < ?6 UNION ALL SELECT w.id FROM instruments v CROSS JOIN bookings w "
                    "INDEXED BY bookings_live_end ON w.instrument_id = v.id AND " YQ_BK_LIVE(
                        "w.status") " "
                                    "AND w.end > ?5 AND w.end < ?6 + (SELECT longest FROM booking_span WHERE id = 1)) "
                                    "AND "));
    else
        st = yq_db_stmt(db, "SELECT b.id FROM bookings b JOIN instruments i ON i.id = b.instrument_id "
                            "LEFT JOIN lab_groups g ON g.id = b.group_id " BOOKING_LIST_WHERE);
    sqlite3_bind_int64(st, 1, instrument);
    sqlite3_bind_int64(st, 2, mine);
    sqlite3_bind_int64(st, 3, p->user_id);
    if (status)
        sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, from);
    sqlite3_bind_int64(st, 6, to);
    sqlite3_bind_int64(st, 7, after);
    sqlite3_bind_int(st, 8, admin);
    sqlite3_bind_int64(st, 9, op_org);
    sqlite3_bind_int64(st, 10, approvable);
    sqlite3_bind_int64(st, 11, limit + 1);
    /* A group's PI reads and approves its bookings only while holding the PI
     * role (as yq_bk_booking_readable): a user recorded as a group's PI whose
     * role was taken away, or never given, is a plain member. */
    sqlite3_bind_int(st, 12, yq_has_role(p, YQ_ROLE_PI));
    int64_t *ids = yq_arena_alloc(req->arena, (size_t)(limit + 1) * sizeof *ids);
    int64_t n = 0;
    while (n <= limit && yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, yq_bk_booking_json(ids[i], 0));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* ---- transitions ------------------------------------------------------- */

typedef enum { A_CANCEL, A_APPROVE, A_REJECT, A_CHECKIN, A_CHECKOUT } action_t;
static const char *const action_names[] = {"cancel", "approve", "reject", "checkin", "checkout"};

typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    action_t action;
    int64_t id;
    char *reason;
    /* result */
    int status;
    const char *code, *message;
    cJSON *out;
} act_t;

static int refuse(act_t *a, int status, const char *code, const char *message) {
    a->status = status;
    a->code = code;
    a->message = message;
    return -1;
}

static void notify_user(const yq_bk_booking_t *b, const char *kind, const char *zh_what, const char *en_what,
                        const char *reason) {
    char when[20], zh[700], en[700];
    yq_bk_local_text(b->start, when);
    snprintf(zh, sizeof zh, "您 %s 的预约%s%s%s", when, zh_what, reason && *reason ? "：" : "", reason ? reason : "");
    snprintf(en, sizeof en, "Your booking at %s %s%s%s", when, en_what, reason && *reason ? ": " : "",
             reason ? reason : "");
    yq_bk_notify(b->user_id, kind, zh, en, b->id);
}

static int do_cancel(act_t *a, const yq_bk_booking_t *b, const yq_bk_instrument_t *ins, int staff, int64_t now) {
    int own = b->user_id == a->p->user_id;
    if (!own && !staff)
        return refuse(a, 403, "forbidden", "Only the booker or an operator of the instrument may cancel.");
    if (!yq_booking_can_transition(b->status, "cancelled"))
        return refuse(a, 409, "invalid_state", "This booking can no longer be cancelled.");
    if (!staff && !yq_booking_cancel_allowed(b->start, ins->in.cancel_deadline_minutes, now))
        return refuse(a, 409, "past_deadline", "The cancellation deadline has passed; ask the operator.");
    if (!own && (!a->reason || !*a->reason))
        return refuse(a, 400, "reason_required", "Give a reason when cancelling someone else's booking.");
    int rc = yq_bk_set_status(b->id, a->p->user_id, b->status, "cancelled", a->reason ? a->reason : "");
    if (rc == 0 && !own)
        notify_user(b, "booking_cancelled", "已被管理员取消", "was cancelled by the operator", a->reason);
    return rc;
}

/* PI step first (where the group requires it), then the operator step. */
static int do_approve(act_t *a, const yq_bk_booking_t *b, int staff, int reject) {
    int admin = yq_has_role(a->p, YQ_ROLE_ADMIN);
    int pi_step = b->needs_pi;
    int can_pi = (yq_has_role(a->p, YQ_ROLE_PI) && b->pi_user_id == a->p->user_id) || admin;
    if (strcmp(b->status, "pending") != 0)
        return refuse(a, 409, "invalid_state", "This booking is not awaiting approval.");
    if ((pi_step && !can_pi) || (!pi_step && !staff))
        return refuse(a, 403, "forbidden",
                      pi_step ? "The group's PI approves this booking first."
                              : "Only an operator of the instrument may approve this booking.");
    yq_db_t *db = yq_db_main();
    if (reject) {
        int rc = yq_bk_set_status(b->id, a->p->user_id, "pending", "rejected", a->reason ? a->reason : "");
        if (rc == 0)
            notify_user(b, "booking_rejected", "未获批准", "was not approved", a->reason);
        return rc;
    }
    int needs_pi = 0, needs_operator = pi_step ? b->needs_operator && !staff : 0;
    const char *to = needs_operator ? "pending" : "confirmed";
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE bookings SET needs_pi = ?2, needs_operator = ?3, status = ?4, "
                                      "updated_at = ?5 WHERE id = ?1 AND status = 'pending'");
    sqlite3_bind_int64(st, 1, b->id);
    sqlite3_bind_int(st, 2, needs_pi);
    sqlite3_bind_int(st, 3, needs_operator);
    sqlite3_bind_text(st, 4, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, yq_now());
    int rc = yq_db_step(db, st);
    if (rc == 0)
        rc = yq_bk_event(b->id, a->p->user_id, "pending", to, pi_step ? "pi_approved" : "operator_approved");
    if (rc == 0 && !needs_operator)
        notify_user(b, "booking_confirmed", "已确认", "is confirmed", NULL);
    return rc;
}

static int do_check(act_t *a, const yq_bk_booking_t *b, int staff, int64_t now) {
    int in = a->action == A_CHECKIN;
    if (b->user_id != a->p->user_id && !staff)
        return refuse(a, 403, "forbidden", "Only the booker or an operator of the instrument may do this.");
    if (!yq_booking_can_transition(b->status, in ? "in_use" : "completed"))
        return refuse(a, 409, "invalid_state",
                      in ? "Only a confirmed booking can be checked in." : "Only a booking in use can be checked out.");
    if (in && now < b->start - YQ_CHECKIN_EARLY_SECONDS)
        return refuse(a, 409, "too_early", "Check-in opens 15 minutes before the start.");
    if (in && now > b->start + YQ_NO_SHOW_SECONDS)
        return refuse(a, 409, "too_late", "The check-in window has passed.");
    int rc = yq_bk_set_status(b->id, a->p->user_id, b->status, in ? "in_use" : "completed", NULL);
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = in ? yq_db_stmt(db, "UPDATE bookings SET checkin_at = ?2 WHERE id = ?1")
                          : yq_db_stmt(db, "UPDATE bookings SET checkout_at = ?2 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, b->id);
    sqlite3_bind_int64(st, 2, now);
    if (rc == 0)
        rc = yq_db_step(db, st);
    /* The usage record of the checkout, in the same write (api/usage_store.h). */
    yq_usage_refusal_t why = {0};
    if (rc == 0 && !in && yq_usage_record_checkout(b->id, a->p->user_id, now, &why) < 0)
        return why.status ? refuse(a, why.status, why.code, why.message) : YQ_DB_ERROR;
    return rc < 0 ? rc : 0;
}

static int run_action(void *ctx) {
    act_t *a = ctx;
    yq_bk_booking_t b;
    yq_bk_instrument_t ins;
    if (yq_bk_booking_load(a->id, &b) || !yq_bk_booking_readable(&b, a->p) ||
        yq_bk_instrument_load(b.instrument_id, a->req->arena, &ins))
        return refuse(a, 404, "not_found", "No such object.");
    int staff = yq_bk_is_staff(&ins, a->p), rc;
    int64_t now = yq_now();
    cJSON *before = yq_bk_booking_json(a->id, 0);
    switch (a->action) {
    case A_CANCEL:
        rc = do_cancel(a, &b, &ins, staff, now);
        break;
    case A_APPROVE:
    case A_REJECT:
        rc = do_approve(a, &b, staff, a->action == A_REJECT);
        break;
    default:
        rc = do_check(a, &b, staff, now);
        break;
    }
    if (rc == 0) {
        a->out = yq_bk_booking_json(a->id, 1);
        /* Staff actions on others' bookings are audited (DOMAIN.md "Audit"). */
        if (b.user_id != a->p->user_id && a->action != A_CHECKIN && a->action != A_CHECKOUT) {
            char action[32];
            snprintf(action, sizeof action, "booking_%s", action_names[a->action]);
            rc = yq_audit(a->req, a->p, NULL, action, "booking", a->id, b.owner_org_id, before, a->out);
        }
    } else if (rc == YQ_DB_CONSTRAINT && !a->status) {
        refuse(a, 409, "invalid_state", "The booking changed meanwhile; reload it.");
    }
    cJSON_Delete(before);
    return rc;
}

static void after_action(void *ctx, int rc) {
    act_t *a = ctx;
    if (a->status)
        yq_reply_error(a->req, a->status, a->code, a->message, a->status == 400 ? "reason" : NULL);
    else if (rc < 0 || !a->out)
        yq_api_internal(a->req);
    else {
        yq_api_json(a->req, 200, a->out); /* takes ownership */
        a->out = NULL;
    }
    cJSON_Delete(a->out);
    free(a->reason);
    free(a);
}

/* POST /api/v1/bookings/{id}/{action} with optional {"reason"}: 200 the
 * updated booking; 400 reason_required; 401; 403 not the caller's step;
 * 404; 409 invalid_state, past_deadline, too_early, too_late. */
static void booking_action(yq_req_t *req, action_t action) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    int64_t id;
    cJSON *body = NULL;
    const char *reason = NULL;
    if (!p || yq_api_param_id(req, 0, &id))
        return;
    if (req->body_len && (yq_api_body(req, &body) || yq_api_str(req, body, "reason", 0, 500, &reason))) {
        cJSON_Delete(body);
        return;
    }
    act_t *a = yq_xcalloc(1, sizeof *a);
    a->req = req;
    a->p = p;
    a->action = action;
    a->id = id;
    a->reason = reason ? yq_xstrdup(reason) : NULL;
    cJSON_Delete(body);
    yq_batch_submit(run_action, after_action, a);
}

static void booking_cancel(yq_req_t *req) {
    booking_action(req, A_CANCEL);
}
static void booking_approve(yq_req_t *req) {
    booking_action(req, A_APPROVE);
}
static void booking_reject(yq_req_t *req) {
    booking_action(req, A_REJECT);
}
static void booking_checkin(yq_req_t *req) {
    booking_action(req, A_CHECKIN);
}
static void booking_checkout(yq_req_t *req) {
    booking_action(req, A_CHECKOUT);
}

/* ---- the no-show sweep --------------------------------------------------- */

#define SWEEP_MS 30000
#define SWEEP_BATCH 1000

static uv_timer_t sweep_timer;
static int sweep_running, sweep_queued;

/* Bars users with YQ_NO_SHOW_LIMIT no-shows in the window; returns 0 or a
 * negative code. */
static int bar_user(int64_t user_id, int64_t now) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT barred_until, bar_lifted_at FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    int64_t count = 0, barred = 0, lifted = 0;
    if (yq_db_step(db, st) == 1) {
        barred = sqlite3_column_int64(st, 0);
        lifted = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    /* No-shows since the window's start (before a lifted bar: forgiven). */
    st = yq_db_stmt(db, "SELECT count(*) FROM bookings WHERE user_id = ?1 AND status = 'no_show' AND start > ?2");
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, yq_booking_no_show_window_start(now, lifted));
    if (yq_db_step(db, st) == 1)
        count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    int64_t until = yq_booking_bar_until(count, barred, now);
    if (until <= barred)
        return 0;
    st = yq_db_stmt(db, "UPDATE users SET barred_until = ?2 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, until);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    char day[20], zh[200], en[200];
    yq_bk_local_text(until, day);
    snprintf(zh, sizeof zh, "90 天内 %lld 次未到，暂停预约至 %s", (long long)count, day);
    snprintf(en, sizeof en, "%lld no-shows in 90 days: booking is suspended until %s", (long long)count, day);
    return yq_bk_notify(user_id, "barred", zh, en, 0);
}

/* The live bookings that started before `cutoff`: confirmed ones into
 * conf[] (id, user, start), pending ones into pend[], at most SWEEP_BATCH of
 * each. Each instrument's live bookings never overlap, so in the end order of
 * bookings_live_end those that started before the cut-off come first and the
 * walk of an instrument stops at the first that did not: a sweep costs one
 * index seek per instrument plus the bookings that are due, and needs no
 * index of its own (an index by start would cost every new booking one more
 * random page; migration 070). */
static int due_bookings(yq_db_t *db, int64_t cutoff, int64_t conf[][3], size_t *nconf, int64_t *pend, size_t *npend) {
    sqlite3_stmt *ins = yq_db_stmt(db, "SELECT id FROM instruments ORDER BY id");
    int rc;
    while ((rc = yq_db_step(db, ins)) == 1 && *nconf < SWEEP_BATCH && *npend < SWEEP_BATCH) {
        sqlite3_stmt *st =
            yq_db_stmt(db, "SELECT id, user_id, start, status FROM bookings INDEXED BY bookings_live_end "
                           "WHERE instrument_id = ?1 AND " YQ_BK_LIVE_STATUS " "
                           "ORDER BY end");
        sqlite3_bind_int64(st, 1, sqlite3_column_int64(ins, 0));
        while ((rc = yq_db_step(db, st)) == 1 && sqlite3_column_int64(st, 2) < cutoff) {
            const char *status = (const char *)sqlite3_column_text(st, 3);
            if (strcmp(status, "confirmed") == 0 && *nconf < SWEEP_BATCH) {
                for (int k = 0; k < 3; k++)
                    conf[*nconf][k] = sqlite3_column_int64(st, k);
                ++*nconf;
            } else if (strcmp(status, "pending") == 0 && *npend < SWEEP_BATCH) {
                pend[(*npend)++] = sqlite3_column_int64(st, 0);
            }
        }
        sqlite3_reset(st);
        if (rc < 0)
            break;
    }
    sqlite3_reset(ins);
    return rc < 0 ? rc : 0;
}

static int run_sweep(void *ctx) {
    (void)ctx;
    yq_db_t *db = yq_db_main();
    int64_t now = yq_now(), ids[SWEEP_BATCH][3], pend[SWEEP_BATCH];
    size_t n = 0, m = 0;
    if (due_bookings(db, now - YQ_NO_SHOW_SECONDS, ids, &n, pend, &m) < 0)
        return YQ_DB_ERROR;
    for (size_t i = 0; i < n; i++) {
        yq_bk_booking_t b = {.id = ids[i][0], .user_id = ids[i][1], .start = ids[i][2]};
        int rc = yq_bk_set_status(b.id, 0, "confirmed", "no_show", "no check-in within 15 minutes of the start");
        if (rc == 0) {
            notify_user(&b, "no_show", "未在开始后 15 分钟内签到，已记为爽约并释放时段",
                        "was marked as a no-show (no check-in within 15 minutes); the slot is released", NULL);
            rc = bar_user(b.user_id, now);
        }
        if (rc < 0)
            return rc;
    }
    /* Pending bookings whose start has passed unapproved cannot be used. */
    for (size_t i = 0; i < m; i++) {
        int rc = yq_bk_set_status(pend[i], 0, "pending", "rejected", "not approved before the start");
        if (rc < 0)
            return rc;
    }
    if (n)
        yq_log_info("no-show sweep: %zu booking(s) marked no_show", n);
    return (int)(n == SWEEP_BATCH || m == SWEEP_BATCH); /* 1: more to do */
}

static void after_sweep(void *ctx, int rc) {
    (void)ctx;
    sweep_queued = 0;
    if (rc == 1 && sweep_running) { /* a backlog (e.g. after downtime): continue at once */
        sweep_queued = 1;
        yq_batch_submit(run_sweep, after_sweep, NULL);
    }
}

static void on_sweep(uv_timer_t *t) {
    (void)t;
    if (sweep_queued)
        return;
    sweep_queued = 1;
    yq_batch_submit(run_sweep, after_sweep, NULL);
}

static void on_stop(void *ctx) {
    (void)ctx;
    if (!sweep_running)
        return;
    sweep_running = 0;
    uv_timer_stop(&sweep_timer);
    uv_close((uv_handle_t *)&sweep_timer, NULL);
}

int yq_bookings_start(uv_loop_t *loop) {
    int rc = uv_timer_init(loop, &sweep_timer);
    if (rc == 0)
        rc = uv_timer_start(&sweep_timer, on_sweep, 0, SWEEP_MS);
    if (rc)
        return rc;
    sweep_running = 1;
    yq_server_on_stop(on_stop, NULL);
    return 0;
}

const yq_route_t yq_api_bookings_routes[] = {
    {YQ_M_POST, "/api/v1/bookings", booking_create, 0, NULL},
    {YQ_M_GET, "/api/v1/bookings", booking_list, 0, NULL},
    {YQ_M_GET, "/api/v1/bookings/{id}", booking_get, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings/{id}/cancel", booking_cancel, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings/{id}/approve", booking_approve, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings/{id}/reject", booking_reject, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings/{id}/checkin", booking_checkin, 0, NULL},
    {YQ_M_POST, "/api/v1/bookings/{id}/checkout", booking_checkout, 0, NULL},
};
const size_t yq_api_bookings_routes_count = sizeof yq_api_bookings_routes / sizeof yq_api_bookings_routes[0];
