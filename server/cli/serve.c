/*
 * yiqi serve [--config FILE] --db FILE --listen HOST:PORT [--web DIR] [--behind-tls]
 *            [--trusted-proxy ADDR] [--quiet] [--KEY VALUE for any key of the config file]
 * Opens (and migrates, after a backup) the database, registers the API and
 * serves until SIGTERM/SIGINT, then drains, closes the database and exits 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api/bookings.h"
#include "api/routes.h"
#include "api/stats_fold.h"
#include "auth/principal.h"
#include "auth/session_cache.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "db/batch.h"
#include "db/checkpoint.h"
#include "db/db.h"
#include "http/static.h"
#include "net/conn.h"
#include "net/server.h"

static const char usage_text[] =
    "usage: yiqi serve [--config FILE] --db FILE --listen HOST:PORT [--web DIR] [--behind-tls]\n"
    "                  [--trusted-proxy ADDR] [--quiet] [--KEY VALUE ...]\n"
    "Serves the API and the web UI (default web directory: web/dist). Logs one line per request.\n"
    "--config FILE      read settings from FILE (key = value lines; deploy/yiqi.conf documents each key);\n"
    "                   flags override the file, and the values used are logged at start-up\n"
    "--listen with port 0 picks a free port (printed as 'listening on http://HOST:PORT').\n"
    "--behind-tls       cookies get Secure and the __Host- prefix (run behind an HTTPS proxy)\n"
    "--trusted-proxy A  believe X-Forwarded-For only from this peer address\n"
    "--quiet            no access log\n"
    "Every key of the file is a flag too: --max-connections N, --header-timeout-ms MS, --idle-timeout-ms MS,\n"
    "--drain-timeout-ms MS, --max-write-queue BYTES (k/m/g), --backup-dir DIR, --backup-keep DAYS.\n";

#define FLAG_BASE 1000 /* getopt value of the flag of configuration key k: FLAG_BASE + k */

/* Reads the command line into conf: --config FILE first (wherever it is
 * given), then every other flag on top, so flags override the file. Returns
 * -1 to go on, or the exit status (0 after --help, 2 for bad arguments). */
static int read_settings(int argc, char **argv, yq_config_t *conf) {
    struct option opts[YQ_CONF_NKEYS + 3];
    size_t n = 0;
    opts[n++] = (struct option){"config", required_argument, 0, 'c'};
    opts[n++] = (struct option){"help", no_argument, 0, 'h'};
    for (int k = 0; k < YQ_CONF_NKEYS; k++) {
        int arg = yq_conf_keys[k].type == YQ_CONF_T_BOOL ? no_argument : required_argument;
        opts[n++] = (struct option){yq_conf_keys[k].flag, arg, 0, FLAG_BASE + k};
    }
    opts[n] = (struct option){0, 0, 0, 0};
    struct {
        int key;
        const char *value;
    } flags[256];
    size_t nflags = 0;
    const char *file = NULL;
    char err[YQ_CONF_PATH_MAX + 256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            return fputs(usage_text, stdout), 0;
        if (c == 'c')
            file = optarg;
        else if (c >= FLAG_BASE && c < FLAG_BASE + YQ_CONF_NKEYS) {
            if (nflags == sizeof flags / sizeof flags[0])
                return yq_cli_usage_error("serve", "too many options");
            flags[nflags].key = c - FLAG_BASE;
            flags[nflags++].value = optarg ? optarg : "true";
        } else
            return yq_cli_usage_error("serve", "unknown or incomplete option");
    }
    if (optind != argc)
        return yq_cli_usage_error("serve", "unexpected argument");
    yq_config_defaults(conf);
    if (file && yq_config_load(conf, file, err, sizeof err)) {
        fprintf(stderr, "yiqi serve: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < nflags; i++)
        if (yq_config_set(conf, (yq_conf_key_t)flags[i].key, flags[i].value, YQ_CONF_FLAG, err, sizeof err))
            return yq_cli_usage_error("serve", err);
    if (!conf->db[0])
        return yq_cli_usage_error("serve", "--db FILE (or db in the --config file) is required");
    return -1;
}

/* The start-up report: which file, and every value with where it came from. */
static void report_settings(const yq_config_t *conf) {
    static char text[YQ_CONF_NKEYS * (YQ_CONF_PATH_MAX + 64)];
    yq_config_describe(conf, text, sizeof text);
    fprintf(stderr, "yiqi serve: %s%s\n", conf->file[0] ? "configuration file " : "no configuration file (--config)",
            conf->file);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "yiqi serve:   %s\n", line);
}

/* The group commit's held answers are the connections' (net/conn.h). */
static void *hold_end(void) {
    return yq_conn_hold_end();
}

static void held_send(void *held, int err) {
    yq_conn_held_send(held, err);
}

static void held_finish(void *held, int err) {
    yq_conn_held_finish(held, err);
}

static void stop_batch(void *ctx) {
    (void)ctx;
    yq_batch_stop();
    yq_checkpoint_stop();
    yq_session_cache_stop();
}

/* A failed WAL fdatasync (db/batch.h): nothing more may be answered as
 * durable, so the process ends at once; SQLite rebuilds the database from
 * what is on disk when it starts again (the service restarts on failure). */
static void sync_failed(void) {
    yq_log_error("stopping: the WAL could not be written to disk; restart once the disk is fixed");
    _exit(EXIT_FAILURE);
}

int yq_cli_serve(int argc, char **argv) {
    static yq_config_t conf; /* large; serve runs once per process */
    int status = read_settings(argc, argv, &conf);
    if (status >= 0)
        return status;
    yq_server_config_t cfg;
    yq_server_config_defaults(&cfg);
    yq_config_apply(&conf, &cfg);
    yq_auth_settings.behind_tls = conf.behind_tls;
    yq_log_set_quiet(conf.quiet);
    report_settings(&conf);
    const char *path = conf.db, *web = conf.web;
    if (yq_static_set_root(web))
        yq_log_warn("web directory %s not found; only the API is served", web);
    yq_db_t *db = yq_db_open(path);
    if (!db)
        return 1;
    yq_db_set_main(db);
    /* Statistics deltas left by writers without a server (command-line
     * tools, bulk fills) are folded now, before anyone waits on the loop. */
    if (yq_st_fold(db) < 0) {
        yq_db_close(db);
        return 1;
    }
    yq_api_register();
    yq_session_cache_start(db);
    yq_log_info("database %s, web %s", path, web);
    /* Group commit for every write that goes through it (db/batch.h), and
     * the bookings' no-show sweep; both stop when the server begins to stop. */
    if (yq_batch_start(uv_default_loop(), db) || yq_bookings_start(uv_default_loop()) ||
        yq_st_fold_start(uv_default_loop()) || yq_checkpoint_start(uv_default_loop(), db)) {
        yq_db_close(db);
        return 1;
    }
    /* Answers of group commits leave from the WAL sync thread (net/conn.h). */
    static const yq_batch_hold_t hold = {yq_conn_hold_begin, hold_end, held_send, held_finish};
    yq_batch_set_hold(&hold);
    yq_batch_on_sync_failure(sync_failed);
    yq_server_on_stop(stop_batch, NULL);
    int rc = yq_server_run(uv_default_loop(), &cfg);
    yq_db_close(db);
    if (rc) {
        fprintf(stderr, "yiqi serve: cannot listen on %s:%d: %s\n", cfg.host, cfg.port, uv_strerror(rc));
        return 1;
    }
    yq_log_info("stopped cleanly");
    return 0;
}
