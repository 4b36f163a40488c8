/*
 * Strict JSON: a pre-scan of the raw bytes for what cJSON lets through
 * (invalid UTF-8, "\u0000" escapes, nesting deeper than YQ_JSON_MAX_DEPTH),
 * then cJSON parses, then a walk of the tree refuses duplicate keys (RFC 8259
 * section 4 leaves them undefined; I-JSON, RFC 7493 section 2.3, forbids
 * them) and the end pointer must be followed by whitespace only.
 */
#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yq_utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n >= len)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Scans strings for \u0000 and counts nesting depth outside strings. */
static int prescan(const char *s, size_t len, char *msg, size_t size) {
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) {
                    snprintf(msg, size, "Strings may not contain \\u0000.");
                    return -1;
                }
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > YQ_JSON_MAX_DEPTH) {
                snprintf(msg, size, "JSON nested deeper than %d levels.", YQ_JSON_MAX_DEPTH);
                return -1;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

static int has_duplicate_keys(const cJSON *node) {
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(node) && c->string)
            for (const cJSON *d = c->next; d; d = d->next)
                if (d->string && strcmp(c->string, d->string) == 0)
                    return 1;
        if (has_duplicate_keys(c))
            return 1;
    }
    return 0;
}

cJSON *yq_json_parse(const char *text, size_t len, char *msg, size_t size) {
    if (!yq_utf8_valid(text, len)) {
        snprintf(msg, size, "The body is not valid UTF-8.");
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        snprintf(msg, size, "The body contains a NUL byte.");
        return NULL;
    }
    if (prescan(text, len, msg, size))
        return NULL;
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!json) {
        snprintf(msg, size, "The body is not valid JSON.");
        return NULL;
    }
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            snprintf(msg, size, "Unexpected bytes after the JSON value.");
            cJSON_Delete(json);
            return NULL;
        }
    }
    if (has_duplicate_keys(json)) {
        snprintf(msg, size, "Duplicate keys in a JSON object.");
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

int yq_json_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return -1;
    if (!cJSON_IsNumber(v))
        return -2;
    double d = v->valuedouble;
    /* From 2^53 on, integers cannot be told apart from their neighbours. */
    if (!isfinite(d) || d != floor(d) || d >= 9007199254740992.0 || d <= -9007199254740992.0)
        return -2;
    int64_t i = (int64_t)d;
    if (i < min || i > max)
        return -2;
    *out = i;
    return 0;
}

char *yq_json_print(const cJSON *json) {
    return cJSON_PrintUnformatted(json);
}
