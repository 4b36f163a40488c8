/*
 * Helpers shared by the API handlers (one file per resource in api/). In the
 * redis "...OrReply" style, every reader below answers the request itself on
 * failure (400 with the error shape naming the field) and returns -1, so a
 * handler is a column of guard clauses:
 *
 *     cJSON *body;
 *     if (yq_api_body(req, &body)) return;
 *     const char *name;
 *     if (yq_api_str(req, body, "name", 1, 200, &name)) goto done;
 */
#ifndef YQ_API_API_H
#define YQ_API_API_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "db/db.h"
#include "http/request.h"

/* Parses the body strictly as a JSON object (400 invalid_json otherwise).
 * The caller frees *out with cJSON_Delete. */
int yq_api_body(yq_req_t *req, cJSON **out);

/* String member: required or optional (absent -> *out = NULL, returns 0);
 * must be a string of at most maxlen Unicode characters. Returned pointer
 * points into the cJSON tree. */
int yq_api_str(yq_req_t *req, const cJSON *obj, const char *key, int required, size_t maxlen, const char **out);
/* Integer member within [min, max]; optional when !required (then *out keeps
 * its value and *present (may be NULL) is set to 0). */
int yq_api_int(yq_req_t *req, const cJSON *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
               int *present);
/* Boolean member. */
int yq_api_bool(yq_req_t *req, const cJSON *obj, const char *key, int required, int *out, int *present);
/* RFC 3339 instant member. */
int yq_api_time(yq_req_t *req, const cJSON *obj, const char *key, int required, int64_t *out, int *present);
/* String member that must be one of the NULL-terminated list. */
int yq_api_enum(yq_req_t *req, const cJSON *obj, const char *key, int required, const char *const *allowed,
                const char **out);

/* Query parameters: integer id / RFC 3339 instant / limit+cursor. */
int yq_api_query_int(yq_req_t *req, const char *name, int64_t min, int64_t max, int64_t *out, int *present);
int yq_api_query_time(yq_req_t *req, const char *name, int64_t *out, int *present);
/* limit (default 50, max 500) and an opaque cursor that encodes the last id
 * seen (*after = 0 when absent). */
int yq_api_page(yq_req_t *req, int64_t *limit, int64_t *after);
/* Path parameter i as a positive integer id; answers 404 not_found otherwise. */
int yq_api_param_id(yq_req_t *req, size_t i, int64_t *out);

/* Answers with JSON; takes ownership of json and deletes it. */
void yq_api_json(yq_req_t *req, int status, cJSON *json);
/* {"items": [...], "next_cursor": "..."|null}; takes ownership of items. */
void yq_api_list(yq_req_t *req, cJSON *items, int64_t next_after);
/* Steps st (bound with LIMIT limit + 1, ordered by its first column, the id),
 * turns up to limit rows into items with row(), resets st and answers with
 * yq_api_list: the cursor is the last id when there is more. */
void yq_api_list_rows(yq_req_t *req, yq_db_t *db, sqlite3_stmt *st, int64_t limit, cJSON *(*row)(sqlite3_stmt *));
/* The answer to a DELETE done in a write job: 500 when rc < 0, 404 when
 * nothing was found, else 204. */
void yq_api_deleted(yq_req_t *req, int rc, int found);
/* Common errors. */
void yq_api_not_found(yq_req_t *req);
void yq_api_internal(yq_req_t *req);

/* JSON building helpers. */
void yq_json_add_time(cJSON *obj, const char *key, int64_t t); /* RFC 3339, +08:00 */
void yq_json_add_int(cJSON *obj, const char *key, int64_t v);
/* The same number as a raw item, for objects that are only printed, never
 * read back with cJSON_GetNumberValue (a raw item is not cJSON_IsNumber).
 * cJSON 1.7.15 prints every number with "%1.15g" and checks it with sscanf,
 * about half a microsecond each; this prints the integer's digits. */
void yq_json_add_int_printed(cJSON *obj, const char *key, int64_t v);
void yq_json_add_str_or_null(cJSON *obj, const char *key, const char *s);
/* An instant, or null when t is 0 (never set). */
void yq_json_add_time_or_null(cJSON *obj, const char *key, int64_t t);
/* Column helpers: text of column i or NULL; add column i as string/int/null. */
const char *yq_col_text(sqlite3_stmt *st, int i);
void yq_json_add_col(cJSON *obj, const char *key, sqlite3_stmt *st, int i);

#endif
