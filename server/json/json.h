/*
 * Strict JSON reading on top of cJSON. Debian's cJSON 1.7.15 accepts invalid
 * UTF-8, bytes after the value, duplicate keys, "\u0000" inside strings and
 * very deep nesting; RFC 8259 (and I-JSON, RFC 7493) make those errors, so the
 * server checks them before and after cJSON parses.
 */
#ifndef YQ_JSON_JSON_H
#define YQ_JSON_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define YQ_JSON_MAX_DEPTH 64

/* Parses text strictly. Returns the tree (free with cJSON_Delete), or NULL
 * with a human message in msg (size bytes). */
cJSON *yq_json_parse(const char *text, size_t len, char *msg, size_t size);

/* Checks that text is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
int yq_utf8_valid(const char *s, size_t len);

/* Reads an integer member: 0 on success; -1 when absent; -2 when not a
 * number, not integral, or outside [min, max]. Keys are case-sensitive. */
int yq_json_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out);

/* Serialises without formatting; the caller frees the string with free(). */
char *yq_json_print(const cJSON *json);

#endif
