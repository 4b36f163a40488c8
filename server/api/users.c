/*
 * Users: accounts of researchers, PIs, operators, the commission and admins.
 *
 * Who may see a user: the user, admins, operators of the user's institution
 * and the PI of the user's group; anyone else gets 404. Who may change what:
 * admins everything (roles, institution, group, disabling); operators of the
 * user's institution the name, email, phone and group; the user their own
 * name, email and phone. Roles change only by an admin, and every role change
 * is audited as `role_change` with the roles before and after. Disabling ends
 * the user's sessions at once; their API tokens stop working while disabled.
 *
 * The no-show bar (DOMAIN.md "Bookings"; set by the sweep in api/bookings.c)
 * shows as barred_until to whoever may see the user, null when the user may
 * book. Only an admin lifts it, with PATCH {"barred_until": null}, audited as
 * `user_unbar`; a bar is never set by hand. A PATCH that names a field it
 * does not change (a typo, or login, disabled, ...) is refused with 400
 * unknown_field, as for instruments, so no change only looks made.
 *
 *   GET   /api/v1/users[?org_id=&group_id=&role=&q=]   admin (all), operator (own institution)
 *   POST  /api/v1/users                                admin
 *   GET   /api/v1/users/{id}                           as above
 *   PATCH /api/v1/users/{id}                           as above
 *   POST  /api/v1/users/{id}/disable | enable          admin
 *
 * Creating a user hashes the password with Argon2id on libuv's thread pool
 * (auth/password.h); the request is answered from the callback.
 */
#include <sodium.h>
#include <string.h>
#include <uv.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/audit_log.h"
#include "api/routes.h"
#include "auth/password.h"
#include "auth/principal.h"
#include "core/arena.h"
#include "core/timeutil.h"

#define USER_BODY_MAX 8192
#define STAFF_ROLES (YQ_ROLE_RESEARCHER | YQ_ROLE_PI | YQ_ROLE_OPERATOR)

cJSON *yq_roles_json(unsigned roles) {
    cJSON *a = cJSON_CreateArray();
    for (unsigned b = 1; b <= YQ_ROLE_ADMIN; b <<= 1)
        if (roles & b)
            cJSON_AddItemToArray(a, cJSON_CreateString(yq_role_name(b)));
    return a;
}

cJSON *yq_user_json(int64_t id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id, login, name, email, phone, org_id, group_id, roles, disabled, "
                                      "created_at, updated_at, barred_until FROM users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    static const char *const keys[] = {"id", "login", "name", "email", "phone", "org_id", "group_id"};
    for (int i = 0; i < 7; i++)
        yq_json_add_col(o, keys[i], st, i);
    cJSON_AddItemToObject(o, "roles", yq_roles_json((unsigned)sqlite3_column_int(st, 7)));
    cJSON_AddBoolToObject(o, "disabled", sqlite3_column_int(st, 8));
    yq_json_add_time(o, "created_at", sqlite3_column_int64(st, 9));
    yq_json_add_time(o, "updated_at", sqlite3_column_int64(st, 10));
    /* A bar that has run out is no bar: the booking check is barred_until > now. */
    int64_t barred = sqlite3_column_int64(st, 11);
    yq_json_add_time_or_null(o, "barred_until", barred > yq_now() ? barred : 0);
    sqlite3_reset(st);
    return o;
}

int yq_sessions_end_all(int64_t user_id) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "DELETE FROM sessions WHERE user_id = ?1");
    sqlite3_bind_int64(st, 1, user_id);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : yq_db_changes(db);
}

/* The facts about a user that decide who may see and change them. */
typedef struct {
    int64_t id, org_id, group_id, pi_user_id;
    unsigned roles;
    int disabled;
} target_t;

static int load_target(int64_t id, target_t *t) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT u.org_id, u.group_id, u.roles, u.disabled, g.pi_user_id "
                                      "FROM users u LEFT JOIN lab_groups g ON g.id = u.group_id WHERE u.id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (yq_db_step(db, st) != 1)
        return -1;
    t->id = id;
    t->org_id = sqlite3_column_int64(st, 0);
    t->group_id = sqlite3_column_int64(st, 1);
    t->roles = (unsigned)sqlite3_column_int(st, 2);
    t->disabled = sqlite3_column_int(st, 3);
    t->pi_user_id = sqlite3_column_int64(st, 4);
    sqlite3_reset(st);
    return 0;
}

static int may_see(const yq_principal_t *p, const target_t *t) {
    return p->user_id == t->id || yq_has_role(p, YQ_ROLE_ADMIN) || yq_is_operator_of(p, t->org_id) ||
           (t->pi_user_id && t->pi_user_id == p->user_id);
}

/* Path parameter 0 as a user the caller may see (404 otherwise). */
static int visible_user(yq_req_t *req, const yq_principal_t *p, target_t *t) {
    int64_t id;
    if (yq_api_param_id(req, 0, &id))
        return -1;
    if (load_target(id, t) || !may_see(p, t)) {
        yq_api_not_found(req);
        return -1;
    }
    return 0;
}

/* A login: 2-64 characters of A-Z, a-z, 0-9, '.', '_', '-', '@'. */
static int login_ok(const char *s) {
    size_t n = strlen(s);
    return n >= 2 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@") == n;
}

/* An email address, loosely: local@domain with a dot in the domain and no
 * spaces (the exact grammar of RFC 5321 is not worth refusing people over). */
static int email_ok(const char *s) {
    const char *at = strchr(s, '@');
    return at && at != s && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[1] != '.' && s[strlen(s) - 1] != '.' &&
           !strpbrk(s, " \t\r\n<>,;\"");
}

static int phone_ok(const char *s) {
    return strspn(s, "0123456789+-() ") == strlen(s);
}

/* Reads "roles": a non-empty array of distinct role names. */
static int read_roles(yq_req_t *req, const cJSON *body, int required, unsigned *out, int *present) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "roles");
    *present = a && !cJSON_IsNull(a);
    if (!*present) {
        if (!required)
            return 0;
        yq_reply_error(req, 400, "invalid_field", "Field 'roles' is required.", "roles");
        return -1;
    }
    unsigned bits = 0;
    const cJSON *r;
    int ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) > 0 && cJSON_GetArraySize(a) <= 5;
    cJSON_ArrayForEach(r, a) {
        unsigned b = ok && cJSON_IsString(r) ? yq_role_from_name(r->valuestring) : 0;
        if (!b || (bits & b))
            ok = 0;
        bits |= b;
    }
    if (!ok) {
        yq_reply_error(req, 400, "invalid_field",
                       "Field 'roles' must list one or more of researcher, pi, operator, commission, admin.", "roles");
        return -1;
    }
    *out = bits;
    return 0;
}

/* Checks the text fields shared by POST and PATCH (absent ones are NULL). */
static int check_contact(yq_req_t *req, const char *name, const char *email, const char *phone) {
    if (name && !*name) {
        yq_reply_error(req, 400, "invalid_field", "The name must not be empty.", "name");
        return -1;
    }
    if (email && *email && !email_ok(email)) {
        yq_reply_error(req, 400, "invalid_field", "Not an email address.", "email");
        return -1;
    }
    if (phone && !phone_ok(phone)) {
        yq_reply_error(req, 400, "invalid_field", "A phone number has digits, spaces, +, - and parentheses.", "phone");
        return -1;
    }
    return 0;
}

/* Checks that the roles fit the institution and the group the institution. */
static int check_placement(yq_req_t *req, unsigned roles, int64_t org, int64_t group) {
    if (org && !yq_org_zone(org)) {
        yq_reply_error(req, 400, "unknown_org", "No institution has this id.", "org_id");
        return -1;
    }
    if ((roles & STAFF_ROLES) && !org) {
        yq_reply_error(req, 400, "org_required", "Researchers, PIs and operators belong to an institution.", "org_id");
        return -1;
    }
    if (group && (!org || yq_group_org(group) != org)) {
        yq_reply_error(req, 400, "invalid_group", "The group must belong to the user's institution.", "group_id");
        return -1;
    }
    return 0;
}

static int login_taken(const char *login) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT 1 FROM users WHERE login = ?1");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    int found = yq_db_step(db, st) == 1;
    sqlite3_reset(st);
    return found;
}

/* GET /api/v1/users[?org_id=&group_id=&role=&q=]: 200 {items, next_cursor}
 * by id; 400; 401; 403 (not admin or operator). Operators see their own
 * institution's users only. */
static void users_list(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN | YQ_ROLE_OPERATOR);
    int64_t limit, after, org = 0, group = 0;
    if (!p || yq_api_page(req, &limit, &after) || yq_api_query_int(req, "org_id", 1, INT64_MAX, &org, NULL) ||
        yq_api_query_int(req, "group_id", 1, INT64_MAX, &group, NULL))
        return;
    const char *role = yq_req_query(req, "role"), *q = yq_req_query(req, "q");
    unsigned role_bit = role && *role ? yq_role_from_name(role) : 0;
    if (role && *role && !role_bit) {
        yq_reply_error(req, 400, "invalid_query", "Query parameter 'role' is not a role.", "role");
        return;
    }
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM users WHERE id > ?1 AND (?3 = 0 OR org_id = ?3) "
                                      "AND (?4 = 0 OR org_id = ?4) AND (?5 = 0 OR group_id = ?5) "
                                      "AND (?6 = 0 OR roles & ?6) AND (?7 IS NULL OR instr(lower(login), lower(?7)) "
                                      "OR instr(lower(name), lower(?7))) ORDER BY id LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit + 1);
    sqlite3_bind_int64(st, 3, org);
    sqlite3_bind_int64(st, 4, yq_has_role(p, YQ_ROLE_ADMIN) ? 0 : (p->org_id ? p->org_id : -1));
    sqlite3_bind_int64(st, 5, group);
    sqlite3_bind_int(st, 6, (int)role_bit);
    if (q && *q)
        sqlite3_bind_text(st, 7, q, -1, SQLITE_TRANSIENT);
    int64_t ids[501], n = 0;
    while (yq_db_step(db, st) == 1)
        ids[n++] = sqlite3_column_int64(st, 0);
    cJSON *items = cJSON_CreateArray();
    for (int64_t i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(items, yq_user_json(ids[i]));
    yq_api_list(req, items, n > limit ? ids[limit - 1] : 0);
}

/* GET /api/v1/users/{id}: 200 user; 401; 404. */
static void user_get(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    target_t t;
    if (!p || visible_user(req, p, &t))
        return;
    cJSON *o = yq_user_json(t.id);
    if (o)
        yq_api_json(req, 200, o);
    else
        yq_api_internal(req);
}

/* A user being created while the password is hashed off the loop. Lives in
 * the request's arena (valid until the reply). */
typedef struct {
    yq_req_t *req;
    const yq_principal_t *p;
    const char *login, *name, *email, *phone;
    int64_t org, group;
    unsigned roles;
} create_t;

static void after_hash(void *ctx, int rc, const char *hash) {
    create_t *c = ctx;
    yq_req_t *req = c->req;
    yq_db_t *db = yq_db_main();
    if (rc || yq_db_begin(db)) {
        yq_api_internal(req);
        return;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO users (login, name, email, phone, org_id, group_id, roles, "
                                      "password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    sqlite3_bind_text(st, 1, c->login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->phone, -1, SQLITE_STATIC);
    if (c->org)
        sqlite3_bind_int64(st, 5, c->org);
    if (c->group)
        sqlite3_bind_int64(st, 6, c->group);
    sqlite3_bind_int(st, 7, (int)c->roles);
    sqlite3_bind_text(st, 8, hash, -1, SQLITE_TRANSIENT);
    rc = yq_db_step(db, st);
    int64_t id = yq_db_last_id(db);
    cJSON *o = rc < 0 ? NULL : yq_user_json(id);
    if (o)
        rc = yq_audit(req, c->p, NULL, "user_create", "user", id, c->org, NULL, o);
    rc = yq_tx_end(o ? rc : (rc < 0 ? rc : YQ_DB_ERROR));
    if (rc == YQ_DB_CONSTRAINT)
        yq_reply_error(req, 409, "login_taken", "Another user has this login.", "login");
    else if (rc < 0)
        yq_api_internal(req);
    else {
        yq_api_json(req, 201, o);
        o = NULL;
    }
    cJSON_Delete(o);
}

/* POST /api/v1/users {login, name, email, phone?, org_id?, group_id?, roles, password}:
 * 201 user; 400 (weak_password, org_required, invalid_group, ...); 401; 403;
 * 409 login_taken. */
static void user_create(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require_role(req, YQ_SCOPE_ALL, YQ_ROLE_ADMIN);
    cJSON *body = NULL;
    const char *login, *name, *email, *phone, *pw = NULL;
    int64_t org = 0, group = 0;
    unsigned roles = 0;
    int has_roles;
    if (!p || yq_api_body(req, &body))
        return;
    if (yq_api_str(req, body, "login", 1, 64, &login) || yq_api_str(req, body, "name", 1, 100, &name) ||
        yq_api_str(req, body, "email", 1, 254, &email) || yq_api_str(req, body, "phone", 0, 32, &phone) ||
        yq_api_int(req, body, "org_id", 0, 1, INT64_MAX, &org, NULL) ||
        yq_api_int(req, body, "group_id", 0, 1, INT64_MAX, &group, NULL) ||
        read_roles(req, body, 1, &roles, &has_roles) ||
        yq_api_str(req, body, "password", 1, YQ_PASSWORD_MAX_BYTES, &pw) || check_contact(req, name, email, phone) ||
        check_placement(req, roles, org, group))
        goto done;
    if (!login_ok(login)) {
        yq_reply_error(req, 400, "invalid_field", "A login has 2-64 characters: letters, digits, '.', '_', '-', '@'.",
                       "login");
        goto done;
    }
    const char *why = yq_password_policy(pw);
    if (why) {
        yq_reply_error(req, 400, "weak_password", why, "password");
        goto done;
    }
    if (login_taken(login)) {
        yq_reply_error(req, 409, "login_taken", "Another user has this login.", "login");
        goto done;
    }
    create_t *c = yq_arena_alloc(req->arena, sizeof *c);
    *c = (create_t){req,
                    p,
                    yq_arena_strdup(req->arena, login),
                    yq_arena_strdup(req->arena, name),
                    yq_arena_strdup(req->arena, email),
                    yq_arena_strdup(req->arena, phone ? phone : ""),
                    org,
                    group,
                    roles};
    yq_password_hash_async(uv_default_loop(), pw, after_hash, c);
done:
    if (pw)
        sodium_memzero((char *)pw, strlen(pw));
    cJSON_Delete(body);
}

/* The changes a PATCH asks for (absent fields unchanged). */
typedef struct {
    const char *name, *email, *phone;
    int64_t org, group;
    int has_org, has_group, has_roles, lift_bar;
    unsigned roles;
} patch_t;

/* The members a PATCH changes. */
static const char *const patch_fields[] = {"name", "email", "phone", "org_id", "group_id", "roles", "barred_until"};

/* Refuses a member the PATCH would not change: 400 unknown_field naming it. */
static int check_patch_fields(yq_req_t *req, const cJSON *body) {
    const cJSON *m;
    cJSON_ArrayForEach(m, body) {
        size_t i = 0;
        while (i < sizeof patch_fields / sizeof patch_fields[0] && strcmp(m->string, patch_fields[i]) != 0)
            i++;
        if (i == sizeof patch_fields / sizeof patch_fields[0]) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "Field '%.64s' cannot be changed here (name, email, phone, org_id, group_id, roles, "
                     "barred_until).",
                     m->string);
            yq_reply_error(req, 400, "unknown_field", msg, m->string);
            return -1;
        }
    }
    return 0;
}

/* Reads "barred_until": absent, or null to lift the bar (nothing else: a bar
 * comes from no-shows, never by hand). */
static int read_bar(yq_req_t *req, const cJSON *body, int *lift) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(body, "barred_until");
    *lift = b != NULL;
    if (b && !cJSON_IsNull(b)) {
        yq_reply_error(req, 400, "invalid_field", "Field 'barred_until' can only be null, which lifts the bar.",
                       "barred_until");
        return -1;
    }
    return 0;
}

/* Reads the PATCH body and checks the caller may change what it names:
 * 400 invalid; 403 a field the caller may not change. */
static int read_patch(yq_req_t *req, const yq_principal_t *p, const target_t *t, const cJSON *body, patch_t *in) {
    memset(in, 0, sizeof *in);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "group_id");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(body, "org_id");
    in->has_group = g != NULL;
    in->has_org = o != NULL;
    if (check_patch_fields(req, body) || read_bar(req, body, &in->lift_bar) ||
        yq_api_str(req, body, "name", 0, 100, &in->name) || yq_api_str(req, body, "email", 0, 254, &in->email) ||
        yq_api_str(req, body, "phone", 0, 32, &in->phone) || read_roles(req, body, 0, &in->roles, &in->has_roles) ||
        (g && !cJSON_IsNull(g) && yq_api_int(req, body, "group_id", 1, 1, INT64_MAX, &in->group, NULL)) ||
        (o && !cJSON_IsNull(o) && yq_api_int(req, body, "org_id", 1, 1, INT64_MAX, &in->org, NULL)) ||
        check_contact(req, in->name, in->email, in->phone))
        return -1;
    int admin = yq_has_role(p, YQ_ROLE_ADMIN), op = yq_is_operator_of(p, t->org_id);
    const char *denied = (in->has_roles || in->has_org) && !admin ? (in->has_roles ? "roles" : "org_id")
                         : in->lift_bar && !admin                 ? "barred_until"
                         : in->has_group && !admin && !op         ? "group_id"
                         : !admin && !op && p->user_id != t->id   ? "name"
                                                                  : NULL;
    if (denied) {
        yq_reply_error(req, 403, "forbidden", "You may not change this field of this user.", denied);
        return -1;
    }
    if (!in->has_org)
        in->org = t->org_id;
    if (!in->has_group)
        in->group = in->has_org && in->org != t->org_id ? 0 : t->group_id;
    if (check_placement(req, in->has_roles ? in->roles : t->roles, in->org, in->group))
        return -1;
    if (in->has_roles && t->id == p->user_id && (t->roles & YQ_ROLE_ADMIN) && !(in->roles & YQ_ROLE_ADMIN)) {
        yq_reply_error(req, 409, "cannot_demote_self", "An admin cannot take the admin role from themselves.", "roles");
        return -1;
    }
    return 0;
}

/* Moves member key of before and after into an audit row of its own,
 * written as `action` when it changed. Returns 0 or a negative code. */
static int audit_member(yq_req_t *req, const yq_principal_t *p, int64_t id, int64_t org, cJSON *before, cJSON *after,
                        const char *key, const char *action) {
    cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject();
    cJSON *vb = cJSON_DetachItemFromObject(before, key), *va = cJSON_DetachItemFromObject(after, key);
    int changed = (vb || va) && !cJSON_Compare(vb, va, 1);
    cJSON_AddItemToObject(b, key, vb ? vb : cJSON_CreateNull());
    cJSON_AddItemToObject(a, key, va ? va : cJSON_CreateNull());
    int rc = changed ? yq_audit(req, p, NULL, action, "user", id, org, b, a) : 0;
    cJSON_Delete(b);
    cJSON_Delete(a);
    return rc;
}

/* Writes the audit rows of a PATCH: role_change (roles before/after),
 * user_unbar (barred_until before/after) and user_update (the other fields
 * before/after), each only when it changed. */
static int audit_patch(yq_req_t *req, const yq_principal_t *p, int64_t id, int64_t org, cJSON *before, cJSON *after) {
    cJSON_DeleteItemFromObject(before, "updated_at");
    cJSON_DeleteItemFromObject(after, "updated_at");
    int rc = audit_member(req, p, id, org, before, after, "roles", "role_change");
    if (rc == 0)
        rc = audit_member(req, p, id, org, before, after, "barred_until", "user_unbar");
    if (rc == 0 && !cJSON_Compare(before, after, 1))
        rc = yq_audit(req, p, NULL, "user_update", "user", id, org, before, after);
    return rc;
}

/* PATCH /api/v1/users/{id} {name?, email?, phone?, group_id?, org_id?, roles?,
 * barred_until? (null only: lifts the bar)}: 200 user; 400 (unknown_field,
 * invalid_field, ...); 401; 403 (a field the caller may not change); 404;
 * 409 cannot_demote_self. */
static void user_patch(yq_req_t *req) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    cJSON *body = NULL, *before = NULL, *after = NULL;
    target_t t;
    patch_t in;
    if (!p || visible_user(req, p, &t) || yq_api_body(req, &body))
        return;
    if (read_patch(req, p, &t, body, &in))
        goto done;
    yq_db_t *db = yq_db_main();
    before = yq_user_json(t.id);
    if (!before || yq_db_begin(db)) {
        yq_api_internal(req);
        goto done;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE users SET name = coalesce(?2, name), email = coalesce(?3, email), "
                                      "phone = coalesce(?4, phone), org_id = ?5, group_id = ?6, "
                                      "roles = coalesce(?7, roles), "
                                      "barred_until = CASE WHEN ?8 THEN 0 ELSE barred_until END, "
                                      "bar_lifted_at = CASE WHEN ?8 AND barred_until > ?9 THEN ?9 "
                                      "ELSE bar_lifted_at END, "
                                      "updated_at = unixepoch() WHERE id = ?1");
    sqlite3_bind_int64(st, 1, t.id);
    const char *texts[] = {in.name, in.email, in.phone};
    for (int i = 0; i < 3; i++)
        if (texts[i])
            sqlite3_bind_text(st, 2 + i, texts[i], -1, SQLITE_TRANSIENT);
    if (in.org)
        sqlite3_bind_int64(st, 5, in.org);
    if (in.group)
        sqlite3_bind_int64(st, 6, in.group);
    if (in.has_roles)
        sqlite3_bind_int(st, 7, (int)in.roles);
    sqlite3_bind_int(st, 8, in.lift_bar);
    sqlite3_bind_int64(st, 9, yq_now()); /* a lifted bar forgives the no-shows before it */
    int rc = yq_db_step(db, st);
    if (rc >= 0 && !(after = yq_user_json(t.id)))
        rc = YQ_DB_ERROR;
    cJSON *reply = after ? cJSON_Duplicate(after, 1) : NULL;
    if (rc >= 0)
        rc = audit_patch(req, p, t.id, in.org ? in.org : t.org_id, before, after);
    if (yq_tx_end(rc) < 0) {
        cJSON_Delete(reply);
        yq_api_internal(req);
    } else {
        yq_api_json(req, 200, reply);
    }
done:
    cJSON_Delete(after);
    cJSON_Delete(before);
    cJSON_Delete(body);
}

/* Sets the disabled flag (ending the user's sessions when disabling) and
 * answers 200 with the user. Admin only; 401; 403; 404; 409 cannot_disable_self. */
static void set_disabled(yq_req_t *req, int disabled) {
    const yq_principal_t *p = yq_auth_require(req, YQ_SCOPE_ALL);
    target_t t;
    if (!p || visible_user(req, p, &t))
        return;
    if (!yq_has_role(p, YQ_ROLE_ADMIN)) {
        yq_reply_error(req, 403, "forbidden", "Only admins disable and enable users.", NULL);
        return;
    }
    if (disabled && t.id == p->user_id) {
        yq_reply_error(req, 409, "cannot_disable_self", "You cannot disable your own account.", NULL);
        return;
    }
    yq_db_t *db = yq_db_main();
    if (yq_db_begin(db)) {
        yq_api_internal(req);
        return;
    }
    sqlite3_stmt *st = yq_db_stmt(db, "UPDATE users SET disabled = ?2, updated_at = unixepoch() WHERE id = ?1");
    sqlite3_bind_int64(st, 1, t.id);
    sqlite3_bind_int(st, 2, disabled);
    int rc = yq_db_step(db, st);
    if (rc >= 0 && disabled)
        rc = yq_sessions_end_all(t.id);
    if (rc >= 0 && t.disabled != disabled) {
        cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject();
        cJSON_AddBoolToObject(b, "disabled", t.disabled);
        cJSON_AddBoolToObject(a, "disabled", disabled);
        rc = yq_audit(req, p, NULL, disabled ? "user_disable" : "user_enable", "user", t.id, t.org_id, b, a);
        cJSON_Delete(b);
        cJSON_Delete(a);
    }
    cJSON *o = rc < 0 ? NULL : yq_user_json(t.id);
    if (yq_tx_end(o ? rc : YQ_DB_ERROR) < 0) {
        cJSON_Delete(o);
        yq_api_internal(req);
        return;
    }
    yq_api_json(req, 200, o);
}

static void user_disable(yq_req_t *req) {
    set_disabled(req, 1);
}

static void user_enable(yq_req_t *req) {
    set_disabled(req, 0);
}

const yq_route_t yq_api_users_routes[] = {
    {YQ_M_GET, "/api/v1/users", users_list, 0, NULL},
    {YQ_M_POST, "/api/v1/users", user_create, USER_BODY_MAX, NULL},
    {YQ_M_GET, "/api/v1/users/{id}", user_get, 0, NULL},
    {YQ_M_PATCH, "/api/v1/users/{id}", user_patch, USER_BODY_MAX, NULL},
    {YQ_M_POST, "/api/v1/users/{id}/disable", user_disable, 0, NULL},
    {YQ_M_POST, "/api/v1/users/{id}/enable", user_enable, 0, NULL},
};
const size_t yq_api_users_routes_count = sizeof yq_api_users_routes / sizeof yq_api_users_routes[0];
