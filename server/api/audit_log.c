/* Audit log writer: see audit_log.h. */
#include "api/audit_log.h"

#include <stdlib.h>

#include "core/timeutil.h"
#include "db/db.h"
#include "json/json.h"

static void bind_json(sqlite3_stmt *st, int i, const cJSON *json) {
    if (!json) {
        sqlite3_bind_null(st, i);
        return;
    }
    char *text = yq_json_print(json);
    sqlite3_bind_text(st, i, text, -1, free);
}

int yq_audit(yq_req_t *req, const yq_principal_t *p, const char *login, const char *action, const char *object_type,
             int64_t object_id, int64_t org_id, const cJSON *before, const cJSON *after) {
    yq_db_t *db = yq_db_main();
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO audit (at, actor_user_id, actor_login, ip, action, object_type, "
                                      "object_id, org_id, before_json, after_json) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    sqlite3_bind_int64(st, 1, yq_now());
    if (p)
        sqlite3_bind_int64(st, 2, p->user_id);
    sqlite3_bind_text(st, 3, p ? p->login : (login ? login : ""), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, req ? req->peer : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, object_type ? object_type : "", -1, SQLITE_STATIC);
    if (object_id)
        sqlite3_bind_int64(st, 7, object_id);
    if (org_id)
        sqlite3_bind_int64(st, 8, org_id);
    bind_json(st, 9, before);
    bind_json(st, 10, after);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}
