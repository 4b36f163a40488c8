/*
 * Shared handler helpers: strict body parsing, typed member readers that
 * answer 400 themselves (the redis "...OrReply" pattern), list and error
 * replies, and JSON building from SQLite columns.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "json/json.h"

int yq_api_body(yq_req_t *req, cJSON **out) {
    char msg[160];
    const char *ct = yq_req_header(req, "content-type");
    if (ct && strncmp(ct, "application/json", 16) != 0) {
        yq_reply_error(req, 415, "unsupported_media_type", "Send JSON with Content-Type: application/json.", NULL);
        return -1;
    }
    cJSON *json = yq_json_parse(req->body ? req->body : "", req->body_len, msg, sizeof msg);
    if (!json) {
        yq_reply_error(req, 400, "invalid_json", msg, NULL);
        return -1;
    }
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        yq_reply_error(req, 400, "invalid_json", "The body must be a JSON object.", NULL);
        return -1;
    }
    *out = json;
    return 0;
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int bad(yq_req_t *req, const char *key, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "Field '%s' %s.", key, what);
    yq_reply_error(req, 400, "invalid_field", msg, key);
    return -1;
}

int yq_api_str(yq_req_t *req, const cJSON *obj, const char *key, int required, size_t maxlen, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return bad(req, key, "is required");
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(v))
        return bad(req, key, "must be a string");
    if (utf8_chars(v->valuestring) > maxlen) {
        char what[64];
        snprintf(what, sizeof what, "must be at most %zu characters", maxlen);
        return bad(req, key, what);
    }
    if (required && v->valuestring[0] == '\0')
        return bad(req, key, "must not be empty");
    *out = v->valuestring;
    return 0;
}

int yq_api_int(yq_req_t *req, const cJSON *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
               int *present) {
    int rc = yq_json_int(obj, key, min, max, out);
    if (present)
        *present = rc == 0;
    if (rc == -1 && !required)
        return 0;
    if (rc == -1)
        return bad(req, key, "is required");
    if (rc == -2) {
        char what[96];
        snprintf(what, sizeof what, "must be an integer from %lld to %lld", (long long)min, (long long)max);
        return bad(req, key, what);
    }
    return 0;
}

int yq_api_bool(yq_req_t *req, const cJSON *obj, const char *key, int required, int *out, int *present) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (present)
        *present = v && !cJSON_IsNull(v);
    if (!v || cJSON_IsNull(v))
        return required ? bad(req, key, "is required") : 0;
    if (!cJSON_IsBool(v))
        return bad(req, key, "must be true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

int yq_api_time(yq_req_t *req, const cJSON *obj, const char *key, int required, int64_t *out, int *present) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (present)
        *present = v && !cJSON_IsNull(v);
    if (!v || cJSON_IsNull(v))
        return required ? bad(req, key, "is required") : 0;
    if (!cJSON_IsString(v) || yq_time_parse(v->valuestring, out))
        return bad(req, key, "must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+08:00");
    return 0;
}

int yq_api_enum(yq_req_t *req, const cJSON *obj, const char *key, int required, const char *const *allowed,
                const char **out) {
    const char *s;
    if (yq_api_str(req, obj, key, required, 64, &s))
        return -1;
    if (!s) {
        *out = NULL;
        return 0;
    }
    for (const char *const *a = allowed; *a; a++) {
        if (strcmp(*a, s) == 0) {
            *out = *a;
            return 0;
        }
    }
    char what[256] = "must be one of:";
    for (const char *const *a = allowed; *a; a++) {
        size_t len = strlen(what);
        snprintf(what + len, sizeof what - len, " %s", *a);
    }
    return bad(req, key, what);
}

static int bad_query(yq_req_t *req, const char *name, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "Query parameter '%s' %s.", name, what);
    yq_reply_error(req, 400, "invalid_query", msg, name);
    return -1;
}

static int parse_int(const char *s, int64_t *out) {
    if (!s || !*s)
        return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || (s[0] == '0' && s[1]) || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

int yq_api_query_int(yq_req_t *req, const char *name, int64_t min, int64_t max, int64_t *out, int *present) {
    const char *s = yq_req_query(req, name);
    if (present)
        *present = s != NULL && *s;
    if (!s || !*s)
        return 0;
    int64_t v;
    if (parse_int(s, &v) || v < min || v > max) {
        char what[96];
        snprintf(what, sizeof what, "must be an integer from %lld to %lld", (long long)min, (long long)max);
        return bad_query(req, name, what);
    }
    *out = v;
    return 0;
}

int yq_api_query_time(yq_req_t *req, const char *name, int64_t *out, int *present) {
    const char *s = yq_req_query(req, name);
    if (present)
        *present = s != NULL && *s;
    if (!s || !*s)
        return 0;
    if (yq_time_parse(s, out))
        return bad_query(req, name, "must be an RFC 3339 time with an offset");
    return 0;
}

int yq_api_page(yq_req_t *req, int64_t *limit, int64_t *after) {
    *limit = 50;
    *after = 0;
    if (yq_api_query_int(req, "limit", 1, 500, limit, NULL))
        return -1;
    const char *c = yq_req_query(req, "cursor");
    if (c && *c && (parse_int(c, after) || *after < 0))
        return bad_query(req, "cursor", "is not a cursor this server gave out");
    return 0;
}

int yq_api_param_id(yq_req_t *req, size_t i, int64_t *out) {
    if (i >= req->nparams || parse_int(req->params[i], out) || *out <= 0) {
        yq_api_not_found(req);
        return -1;
    }
    return 0;
}

void yq_api_json(yq_req_t *req, int status, cJSON *json) {
    /* Most answers fit a scratch buffer (answers are made on the loop thread
     * only, and yq_reply copies the body): no allocation per answer. */
    static char scratch[65536];
    if (json && cJSON_PrintPreallocated(json, scratch, sizeof scratch, 0)) {
        cJSON_Delete(json);
        yq_reply(req, status, "application/json", scratch, strlen(scratch));
        return;
    }
    char *text = yq_json_print(json);
    cJSON_Delete(json);
    if (!text) {
        yq_api_internal(req);
        return;
    }
    yq_reply(req, status, "application/json", text, strlen(text));
    free(text);
}

void yq_api_list(yq_req_t *req, cJSON *items, int64_t next_after) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    if (next_after > 0) {
        char c[32];
        snprintf(c, sizeof c, "%lld", (long long)next_after);
        cJSON_AddStringToObject(o, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    yq_api_json(req, 200, o);
}

void yq_api_list_rows(yq_req_t *req, yq_db_t *db, sqlite3_stmt *st, int64_t limit, cJSON *(*row)(sqlite3_stmt *)) {
    cJSON *items = cJSON_CreateArray();
    int64_t n = 0, last = 0;
    while (yq_db_step(db, st) == 1) {
        if (++n > limit)
            break;
        last = sqlite3_column_int64(st, 0);
        cJSON_AddItemToArray(items, row(st));
    }
    sqlite3_reset(st);
    yq_api_list(req, items, n > limit ? last : 0);
}

void yq_api_deleted(yq_req_t *req, int rc, int found) {
    if (rc < 0)
        yq_api_internal(req);
    else if (!found)
        yq_api_not_found(req);
    else
        yq_reply(req, 204, NULL, NULL, 0);
}

void yq_api_not_found(yq_req_t *req) {
    yq_reply_error(req, 404, "not_found", "No such object.", NULL);
}

void yq_api_internal(yq_req_t *req) {
    yq_reply_error(req, 500, "internal", "The server could not complete the request.", NULL);
}

void yq_json_add_time(cJSON *obj, const char *key, int64_t t) {
    char s[YQ_TIME_STRLEN];
    yq_time_format(t, s);
    cJSON_AddStringToObject(obj, key, s);
}

void yq_json_add_int(cJSON *obj, const char *key, int64_t v) {
    cJSON_AddNumberToObject(obj, key, (double)v);
}

void yq_json_add_int_printed(cJSON *obj, const char *key, int64_t v) {
    char digits[24], *p = digits + sizeof digits;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* also INT64_MIN */
    *--p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    cJSON_AddRawToObject(obj, key, p);
}

void yq_json_add_time_or_null(cJSON *obj, const char *key, int64_t t) {
    if (t)
        yq_json_add_time(obj, key, t);
    else
        cJSON_AddNullToObject(obj, key);
}

void yq_json_add_str_or_null(cJSON *obj, const char *key, const char *s) {
    if (s)
        cJSON_AddStringToObject(obj, key, s);
    else
        cJSON_AddNullToObject(obj, key);
}

const char *yq_col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

void yq_json_add_col(cJSON *obj, const char *key, sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        yq_json_add_int(obj, key, sqlite3_column_int64(st, i));
        break;
    case SQLITE_NULL:
        cJSON_AddNullToObject(obj, key);
        break;
    default:
        cJSON_AddStringToObject(obj, key, yq_col_text(st, i));
        break;
    }
}
