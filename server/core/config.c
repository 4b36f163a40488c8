/*
 * The configuration file (see config.h for the format).
 *
 * Design: one table (yq_conf_keys) names every key, its flag and its type;
 * yq_config_set() is the only place a value is checked and stored, so the
 * file and the command line accept exactly the same values. Parsing is a
 * single pass over lines with no allocation; errors name the line and key.
 * Defaults come from yq_server_config_defaults() so they cannot drift apart.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIB (1024 * 1024)

const yq_conf_keyinfo_t yq_conf_keys[YQ_CONF_NKEYS] = {
    [YQ_CONF_LISTEN] = {"listen", "listen", YQ_CONF_T_STRING, 0, 0},
    [YQ_CONF_DB] = {"db", "db", YQ_CONF_T_STRING, 0, 0},
    [YQ_CONF_WEB] = {"web", "web", YQ_CONF_T_STRING, 0, 0},
    [YQ_CONF_MAX_CONNECTIONS] = {"max_connections", "max-connections", YQ_CONF_T_INT, 1, 1000000},
    [YQ_CONF_HEADER_TIMEOUT_MS] = {"header_timeout_ms", "header-timeout-ms", YQ_CONF_T_INT, 100, 3600000},
    [YQ_CONF_IDLE_TIMEOUT_MS] = {"idle_timeout_ms", "idle-timeout-ms", YQ_CONF_T_INT, 100, 86400000},
    [YQ_CONF_DRAIN_TIMEOUT_MS] = {"drain_timeout_ms", "drain-timeout-ms", YQ_CONF_T_INT, 0, 3600000},
    [YQ_CONF_MAX_WRITE_QUEUE] = {"max_write_queue", "max-write-queue", YQ_CONF_T_SIZE, 4096, 1024LL * MIB},
    [YQ_CONF_TRUSTED_PROXY] = {"trusted_proxy", "trusted-proxy", YQ_CONF_T_ADDR, 0, 0},
    [YQ_CONF_BEHIND_TLS] = {"behind_tls", "behind-tls", YQ_CONF_T_BOOL, 0, 1},
    [YQ_CONF_QUIET] = {"quiet", "quiet", YQ_CONF_T_BOOL, 0, 1},
    [YQ_CONF_BACKUP_DIR] = {"backup_dir", "backup-dir", YQ_CONF_T_STRING, 0, 0},
    [YQ_CONF_BACKUP_KEEP] = {"backup_keep", "backup-keep", YQ_CONF_T_INT, 1, 3650},
};

static const char *const origin_names[] = {"default", "file", "flag"};

void yq_config_defaults(yq_config_t *c) {
    memset(c, 0, sizeof *c);
    yq_server_config_t s;
    yq_server_config_defaults(&s);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->web, sizeof c->web, "web/dist");
    c->max_connections = s.max_connections;
    c->header_timeout_ms = (int64_t)s.header_timeout_ms;
    c->idle_timeout_ms = (int64_t)s.idle_timeout_ms;
    c->drain_timeout_ms = (int64_t)s.drain_timeout_ms;
    c->max_write_queue = (int64_t)s.max_write_queue;
    if (s.trusted_proxy)
        snprintf(c->trusted_proxy, sizeof c->trusted_proxy, "%s", s.trusted_proxy);
    snprintf(c->backup_dir, sizeof c->backup_dir, "/var/lib/yiqi/backups");
    c->backup_keep = 14;
}

int yq_config_key(const char *name) {
    for (int k = 0; k < YQ_CONF_NKEYS; k++)
        if (strcmp(name, yq_conf_keys[k].name) == 0 || strcmp(name, yq_conf_keys[k].flag) == 0)
            return k;
    return -1;
}

/* Decimal integer with an optional binary-unit suffix for sizes (k, m, g,
 * also written K, KiB, MiB...). Returns 0 or -1. */
static int parse_number(const char *v, int with_units, int64_t *out) {
    if (!isdigit((unsigned char)v[0]))
        return -1;
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (errno)
        return -1;
    int64_t mul = 1;
    if (*end && with_units) {
        char u = (char)tolower((unsigned char)*end);
        mul = u == 'k' ? 1024 : u == 'm' ? MIB : u == 'g' ? 1024LL * MIB : 0;
        if (!mul)
            return -1;
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "ib") == 0 || strcmp(end, "b") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    }
    if (*end || n > INT64_MAX / mul)
        return -1;
    *out = (int64_t)n * mul;
    return 0;
}

static int parse_bool(const char *v, int *out) {
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* "HOST:PORT" or "[v6]:PORT" into host and port. Returns 0 or -1. */
static int parse_listen(const char *v, char *host, size_t hsize, int *port) {
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || colon[1] == '\0')
        return -1;
    int64_t p;
    if (parse_number(colon + 1, 0, &p) || p > 65535)
        return -1;
    const char *h = v;
    size_t hlen = (size_t)(colon - v);
    if (v[0] == '[') {
        if (colon[-1] != ']' || hlen < 3)
            return -1;
        h++;
        hlen -= 2;
    } else if (memchr(v, ':', hlen)) {
        return -1; /* a bare IPv6 address needs brackets */
    }
    if (hlen >= hsize)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static int copy_string(char *dst, size_t size, const char *v) {
    size_t n = strlen(v);
    if (n >= size)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

int yq_config_set(yq_config_t *c, yq_conf_key_t key, const char *v, yq_conf_origin_t origin, char *err,
                  size_t errsize) {
    const yq_conf_keyinfo_t *info = &yq_conf_keys[key];
    int64_t n = 0;
    int b = 0, bad = 0;
    switch (info->type) {
    case YQ_CONF_T_INT:
    case YQ_CONF_T_SIZE:
        if (parse_number(v, info->type == YQ_CONF_T_SIZE, &n)) {
            snprintf(err, errsize, "%s: '%s' is not a %s", info->name, v,
                     info->type == YQ_CONF_T_SIZE ? "size (bytes, or with k/m/g)" : "whole number");
            return -1;
        }
        if (n < info->min || n > info->max) {
            snprintf(err, errsize, "%s: %s is outside %" PRId64 "..%" PRId64, info->name, v, info->min, info->max);
            return -1;
        }
        break;
    case YQ_CONF_T_BOOL:
        if (parse_bool(v, &b)) {
            snprintf(err, errsize, "%s: '%s' is not true or false", info->name, v);
            return -1;
        }
        break;
    case YQ_CONF_T_ADDR: {
        unsigned char a[16];
        if (v[0] && strcmp(v, "none") != 0 && inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
            snprintf(err, errsize, "%s: '%s' is not an IPv4 or IPv6 address", info->name, v);
            return -1;
        }
        break;
    }
    case YQ_CONF_T_STRING:
        if (!v[0]) {
            snprintf(err, errsize, "%s: needs a value", info->name);
            return -1;
        }
        break;
    }
    switch (key) {
    case YQ_CONF_LISTEN: {
        char host[sizeof c->listen_host];
        int port;
        if (parse_listen(v, host, sizeof host, &port) || copy_string(c->listen, sizeof c->listen, v)) {
            snprintf(err, errsize, "listen: '%s' is not HOST:PORT (or [IPv6]:PORT)", v);
            return -1;
        }
        memcpy(c->listen_host, host, sizeof host);
        c->listen_port = port;
        break;
    }
    case YQ_CONF_DB:
        bad = copy_string(c->db, sizeof c->db, v);
        break;
    case YQ_CONF_WEB:
        bad = copy_string(c->web, sizeof c->web, v);
        break;
    case YQ_CONF_BACKUP_DIR:
        bad = copy_string(c->backup_dir, sizeof c->backup_dir, v);
        break;
    case YQ_CONF_TRUSTED_PROXY:
        bad = copy_string(c->trusted_proxy, sizeof c->trusted_proxy, strcmp(v, "none") == 0 ? "" : v);
        break;
    case YQ_CONF_MAX_CONNECTIONS:
        c->max_connections = n;
        break;
    case YQ_CONF_HEADER_TIMEOUT_MS:
        c->header_timeout_ms = n;
        break;
    case YQ_CONF_IDLE_TIMEOUT_MS:
        c->idle_timeout_ms = n;
        break;
    case YQ_CONF_DRAIN_TIMEOUT_MS:
        c->drain_timeout_ms = n;
        break;
    case YQ_CONF_MAX_WRITE_QUEUE:
        c->max_write_queue = n;
        break;
    case YQ_CONF_BACKUP_KEEP:
        c->backup_keep = n;
        break;
    case YQ_CONF_BEHIND_TLS:
        c->behind_tls = b;
        break;
    case YQ_CONF_QUIET:
        c->quiet = b;
        break;
    case YQ_CONF_NKEYS:
        bad = 1;
        break;
    }
    if (bad) {
        snprintf(err, errsize, "%s: value too long", info->name);
        return -1;
    }
    c->origin[key] = origin;
    return 0;
}

static int is_blank(char ch) {
    return ch == ' ' || ch == '\t';
}

/* Parses the value part of one line (after '=') into out. Returns 0 or -1
 * with a message in err. */
static int line_value(const char *p, const char *end, char *out, size_t size, char *err, size_t errsize) {
    while (p < end && is_blank(*p))
        p++;
    const char *vs = p, *ve;
    if (p < end && *p == '"') {
        vs = ++p;
        while (p < end && *p != '"')
            p++;
        if (p == end) {
            snprintf(err, errsize, "unterminated quoted value");
            return -1;
        }
        ve = p++;
        while (p < end && is_blank(*p))
            p++;
        if (p < end && *p != '#') {
            snprintf(err, errsize, "text after the closing quote");
            return -1;
        }
    } else {
        /* A '#' at the start of the value or after a blank starts a comment. */
        while (p < end && !(*p == '#' && (p == vs || is_blank(p[-1]))))
            p++;
        ve = p;
        while (ve > vs && is_blank(ve[-1]))
            ve--;
    }
    size_t n = (size_t)(ve - vs);
    if (n >= size) {
        snprintf(err, errsize, "value too long");
        return -1;
    }
    memcpy(out, vs, n);
    out[n] = '\0';
    return 0;
}

int yq_config_parse(yq_config_t *c, const char *text, size_t len, char *err, size_t errsize) {
    int seen[YQ_CONF_NKEYS] = {0};
    const char *p = text, *end = text + len;
    char value[YQ_CONF_PATH_MAX], msg[YQ_CONF_PATH_MAX + 128];
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *next = eol < end ? eol + 1 : end;
        size_t linelen = (size_t)(eol - p);
        if (linelen > 0 && p[linelen - 1] == '\r')
            linelen--;
        eol = p + linelen;
        if (memchr(p, '\0', linelen)) {
            snprintf(err, errsize, "line %d: NUL byte", line);
            return -1;
        }
        while (p < eol && is_blank(*p))
            p++;
        if (p == eol || *p == '#') {
            p = next;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        if (!eq) {
            snprintf(err, errsize, "line %d: expected 'key = value'", line);
            return -1;
        }
        const char *ke = eq;
        while (ke > p && is_blank(ke[-1]))
            ke--;
        char key[64];
        size_t klen = (size_t)(ke - p);
        if (klen == 0 || klen >= sizeof key) {
            snprintf(err, errsize, "line %d: expected 'key = value'", line);
            return -1;
        }
        memcpy(key, p, klen);
        key[klen] = '\0';
        int k = yq_config_key(key);
        if (k < 0 || strcmp(key, yq_conf_keys[k].name) != 0) {
            snprintf(err, errsize, "line %d: unknown key '%s'", line, key);
            return -1;
        }
        if (seen[k]) {
            snprintf(err, errsize, "line %d: '%s' was already set on line %d", line, key, seen[k]);
            return -1;
        }
        seen[k] = line;
        if (line_value(eq + 1, eol, value, sizeof value, msg, sizeof msg) ||
            yq_config_set(c, (yq_conf_key_t)k, value, YQ_CONF_FILE, msg, sizeof msg)) {
            if (strncmp(msg, key, klen) == 0 && msg[klen] == ':')
                snprintf(err, errsize, "line %d: %s", line, msg);
            else
                snprintf(err, errsize, "line %d: %s: %s", line, key, msg);
            return -1;
        }
        p = next;
    }
    return 0;
}

int yq_config_load(yq_config_t *c, const char *path, char *err, size_t errsize) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    static char text[MIB + 1];
    size_t n = fread(text, 1, sizeof text, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || n > MIB) {
        snprintf(err, errsize, "%s: %s", path, rerr ? "read error" : "larger than 1 MiB");
        return -1;
    }
    char msg[YQ_CONF_PATH_MAX + 256];
    if (yq_config_parse(c, text, n, msg, sizeof msg)) {
        snprintf(err, errsize, "%s: %s", path, msg);
        return -1;
    }
    if (copy_string(c->file, sizeof c->file, path)) {
        snprintf(err, errsize, "configuration file name too long");
        return -1;
    }
    return 0;
}

void yq_config_apply(const yq_config_t *c, yq_server_config_t *s) {
    s->host = c->listen_host;
    s->port = c->listen_port;
    s->max_connections = (int)c->max_connections;
    s->max_write_queue = (size_t)c->max_write_queue;
    s->header_timeout_ms = (uint64_t)c->header_timeout_ms;
    s->idle_timeout_ms = (uint64_t)c->idle_timeout_ms;
    s->drain_timeout_ms = (uint64_t)c->drain_timeout_ms;
    s->trusted_proxy = c->trusted_proxy[0] ? c->trusted_proxy : NULL;
}

void yq_config_value(const yq_config_t *c, yq_conf_key_t key, char *out, size_t size) {
    const int64_t *num[YQ_CONF_NKEYS] = {
        [YQ_CONF_MAX_CONNECTIONS] = &c->max_connections, [YQ_CONF_HEADER_TIMEOUT_MS] = &c->header_timeout_ms,
        [YQ_CONF_IDLE_TIMEOUT_MS] = &c->idle_timeout_ms, [YQ_CONF_DRAIN_TIMEOUT_MS] = &c->drain_timeout_ms,
        [YQ_CONF_MAX_WRITE_QUEUE] = &c->max_write_queue, [YQ_CONF_BACKUP_KEEP] = &c->backup_keep,
    };
    const char *str[YQ_CONF_NKEYS] = {
        [YQ_CONF_LISTEN] = c->listen,
        [YQ_CONF_DB] = c->db,
        [YQ_CONF_WEB] = c->web,
        [YQ_CONF_TRUSTED_PROXY] = c->trusted_proxy,
        [YQ_CONF_BACKUP_DIR] = c->backup_dir,
    };
    if (key == YQ_CONF_BEHIND_TLS || key == YQ_CONF_QUIET)
        snprintf(out, size, "%s", (key == YQ_CONF_QUIET ? c->quiet : c->behind_tls) ? "true" : "false");
    else if (num[key])
        snprintf(out, size, "%" PRId64, *num[key]);
    else
        snprintf(out, size, "%s", str[key] ? str[key] : "");
}

void yq_config_describe(const yq_config_t *c, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < YQ_CONF_NKEYS && used < size; k++) {
        char v[YQ_CONF_PATH_MAX];
        yq_config_value(c, (yq_conf_key_t)k, v, sizeof v);
        int n = snprintf(out + used, size - used, "%s%s = %s (%s)", k ? "\n" : "", yq_conf_keys[k].name,
                         v[0] ? v : "none", origin_names[c->origin[k]]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
