/*
 * The configuration file of `yiqi serve --config FILE` (deploy/yiqi.conf).
 *
 * Format: one `key = value` per line; blank lines and lines whose first
 * non-blank character is '#' are ignored, and a '#' after whitespace starts a
 * comment at the end of a line. Values may be wrapped in double quotes (to
 * keep a '#' or surrounding spaces). A key may appear once. An unknown key, a
 * line without '=', or a value that does not fit its key is an error naming the
 * line, so a typo never silently falls back to a default.
 *
 * Command-line flags override the file: serve calls yq_config_set() for each
 * flag with YQ_CONF_FLAG after loading the file. Every key is also a flag:
 * `--max-connections 500` is `max_connections = 500` (underscores become
 * dashes; boolean keys are flags without a value).
 *
 * Pure: no libuv, no SQLite. The struct holds copies; nothing to free.
 */
#ifndef YQ_CORE_CONFIG_H
#define YQ_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "net/server.h"

typedef enum {
    YQ_CONF_LISTEN,
    YQ_CONF_DB,
    YQ_CONF_WEB,
    YQ_CONF_MAX_CONNECTIONS,
    YQ_CONF_HEADER_TIMEOUT_MS,
    YQ_CONF_IDLE_TIMEOUT_MS,
    YQ_CONF_DRAIN_TIMEOUT_MS,
    YQ_CONF_MAX_WRITE_QUEUE,
    YQ_CONF_TRUSTED_PROXY,
    YQ_CONF_BEHIND_TLS,
    YQ_CONF_QUIET,
    YQ_CONF_BACKUP_DIR,
    YQ_CONF_BACKUP_KEEP,
    YQ_CONF_NKEYS
} yq_conf_key_t;

/* Where a value came from (printed at start-up). */
typedef enum { YQ_CONF_DEFAULT = 0, YQ_CONF_FILE, YQ_CONF_FLAG } yq_conf_origin_t;

typedef enum { YQ_CONF_T_STRING, YQ_CONF_T_INT, YQ_CONF_T_SIZE, YQ_CONF_T_BOOL, YQ_CONF_T_ADDR } yq_conf_type_t;

typedef struct {
    const char *name; /* as written in the file: "max_connections" */
    const char *flag; /* as a command-line flag, without "--": "max-connections" */
    yq_conf_type_t type;
    int64_t min, max; /* for INT and SIZE */
} yq_conf_keyinfo_t;

extern const yq_conf_keyinfo_t yq_conf_keys[YQ_CONF_NKEYS];

#define YQ_CONF_PATH_MAX 4096

typedef struct {
    char listen[300];          /* HOST:PORT or [v6]:PORT, as given; default 127.0.0.1:8080 */
    char listen_host[300];     /* split from listen when it is set */
    int listen_port;           /* 0: an ephemeral port */
    char db[YQ_CONF_PATH_MAX]; /* "" when not given (serve then refuses to start) */
    char web[YQ_CONF_PATH_MAX];
    int64_t max_connections;
    int64_t header_timeout_ms;
    int64_t idle_timeout_ms;
    int64_t drain_timeout_ms;
    int64_t max_write_queue; /* bytes */
    char trusted_proxy[64];  /* "" = none */
    int behind_tls;
    int quiet;
    char backup_dir[YQ_CONF_PATH_MAX]; /* read by deploy/yiqi-backup.sh; serve ignores it */
    int64_t backup_keep;               /* days of nightly backups kept */
    yq_conf_origin_t origin[YQ_CONF_NKEYS];
    char file[YQ_CONF_PATH_MAX]; /* the file loaded, "" when none */
} yq_config_t;

/* Fills every key with its default (the same defaults as
 * yq_server_config_defaults and serve's). */
void yq_config_defaults(yq_config_t *c);

/* Looks a key up by file name ("max_connections") or flag name
 * ("max-connections"). Returns the key or -1. */
int yq_config_key(const char *name);

/* Sets one key from its text value. Returns 0, or -1 with a message (without
 * a line number) in err. */
int yq_config_set(yq_config_t *c, yq_conf_key_t key, const char *value, yq_conf_origin_t origin, char *err,
                  size_t errsize);

/* Parses configuration text (len bytes, need not be NUL-terminated). Returns 0,
 * or -1 with "line N: ..." in err; on error c may hold the lines before it. */
int yq_config_parse(yq_config_t *c, const char *text, size_t len, char *err, size_t errsize);

/* Reads and parses a file (at most 1 MiB); records its name in c->file.
 * Returns 0, or -1 with "FILE: line N: ..." or "FILE: <system error>" in err. */
int yq_config_load(yq_config_t *c, const char *path, char *err, size_t errsize);

/* Copies the network settings (listen, limits, timeouts, trusted proxy) onto
 * the server's configuration. host and trusted_proxy point into c, which must
 * outlive s. */
void yq_config_apply(const yq_config_t *c, yq_server_config_t *s);

/* Writes the value of one key as text ("true", "8388608", "" for none). */
void yq_config_value(const yq_config_t *c, yq_conf_key_t key, char *out, size_t size);

/* Formats every key as "name=value (origin)" lines for the start-up log; out
 * gets one line per key, separated by '\n', without a final newline. */
void yq_config_describe(const yq_config_t *c, char *out, size_t size);

#endif
