/*
 * Request accessors and the reply helpers that do not depend on the
 * connection (yq_reply itself lives in net/conn.c, which owns the response
 * queue).
 */
#include "http/request.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "json/json.h"

const char *yq_req_header(const yq_req_t *req, const char *lname) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, lname) == 0)
            return req->headers[i].value;
    return NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes of a form-encoded component into the arena. Returns NULL
 * for a bad escape or a decoded NUL. */
static char *form_decode(yq_arena_t *a, const char *s, size_t n) {
    char *out = yq_arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return NULL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return NULL;
            i += 2;
        }
        out[j++] = c;
    }
    out[j] = '\0';
    return out;
}

int yq_req_query_valid(yq_req_t *req) {
    const char *q = req->query;
    while (q && *q) {
        size_t n = strcspn(q, "&");
        char *part = form_decode(req->arena, q, n); /* key=value as one: '=' decodes to itself */
        if (!part || !yq_utf8_valid(part, strlen(part)))
            return 0;
        q += n;
        if (*q == '&')
            q++;
    }
    return 1;
}

const char *yq_req_query(yq_req_t *req, const char *name) {
    const char *q = req->query;
    if (!q)
        return NULL;
    size_t nlen = strlen(name);
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        size_t klen = eq ? (size_t)(eq - q) : n;
        char *key = form_decode(req->arena, q, klen);
        if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0)
            return eq ? form_decode(req->arena, eq + 1, n - klen - 1) : "";
        q += n;
        if (*q == '&')
            q++;
    }
    return NULL;
}

/* Header names are tokens (RFC 9110 section 5.6.2). */
static int is_token(const char *s) {
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 32 || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c))
            return 0;
    }
    return 1;
}

void yq_reply_header(yq_req_t *req, const char *name, const char *value) {
    if (!is_token(name) || strpbrk(value, "\r\n")) {
        yq_log_warn("dropped response header %s with an invalid name or value", name);
        return;
    }
    yq_buf_printf(&req->res_headers, "%s: %s\r\n", name, value);
}

void yq_reply_error(yq_req_t *req, int status, const char *code, const char *message, const char *field) {
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    if (field)
        cJSON_AddStringToObject(err, "field", field);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"Out of memory.\"}}";
        yq_reply(req, status, "application/json", fallback, sizeof fallback - 1);
        return;
    }
    yq_reply(req, status, "application/json", text, strlen(text));
    cJSON_free(text);
}
