/*
 * yiqi serve --db FILE --listen HOST:PORT [--web DIR] [--behind-tls]
 *            [--trusted-proxy ADDR] [--quiet]
 * Opens (and migrates, after a backup) the database, registers the API and
 * serves until SIGTERM/SIGINT, then drains, closes the database and exits 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/routes.h"
#include "auth/principal.h"
#include "cli/cli.h"
#include "core/log.h"
#include "db/db.h"
#include "http/static.h"
#include "net/server.h"

static const char usage_text[] =
    "usage: yiqi serve --db FILE --listen HOST:PORT [--web DIR] [--behind-tls] [--trusted-proxy ADDR] [--quiet]\n"
    "Serves the API and the web UI (default web directory: web/dist). Logs one line per request.\n"
    "--listen with port 0 picks a free port (printed as 'listening on http://HOST:PORT').\n"
    "--behind-tls       cookies get Secure and the __Host- prefix (run behind an HTTPS proxy)\n"
    "--trusted-proxy A  believe X-Forwarded-For only from this peer address\n"
    "--quiet            no access log\n";

/* Splits "HOST:PORT" (or "[v6]:PORT"). Returns 0 or -1. */
static int parse_listen(char *s, const char **host, int *port)
{
    char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    *colon = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535 || colon[1] == '\0')
        return -1;
    if (s[0] == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        s++;
    }
    *host = s;
    *port = (int)p;
    return 0;
}

int yq_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},     {"listen", required_argument, 0, 'l'},
                                         {"web", required_argument, 0, 'w'},    {"behind-tls", no_argument, 0, 't'},
                                         {"trusted-proxy", required_argument, 0, 'p'},
                                         {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    yq_server_config_t cfg;
    yq_server_config_defaults(&cfg);
    const char *path = NULL, *web = "web/dist";
    char listen[300] = "127.0.0.1:8080";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            path = optarg;
            break;
        case 'l':
            snprintf(listen, sizeof listen, "%s", optarg);
            break;
        case 'w':
            web = optarg;
            break;
        case 't':
            yq_auth_settings.behind_tls = 1;
            break;
        case 'p':
            cfg.trusted_proxy = optarg;
            break;
        case 'q':
            yq_log_set_quiet(1);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return yq_cli_usage_error("serve", "unknown or incomplete option");
        }
    }
    if (!path || optind != argc)
        return yq_cli_usage_error("serve", "--db FILE is required");
    if (parse_listen(listen, &cfg.host, &cfg.port))
        return yq_cli_usage_error("serve", "--listen must be HOST:PORT");
    if (yq_static_set_root(web))
        yq_log_warn("web directory %s not found; only the API is served", web);
    yq_db_t *db = yq_db_open(path);
    if (!db)
        return 1;
    yq_db_set_main(db);
    yq_api_register();
    yq_log_info("database %s, web %s", path, web);
    int rc = yq_server_run(uv_default_loop(), &cfg);
    yq_db_close(db);
    if (rc) {
        fprintf(stderr, "yiqi serve: cannot listen on %s:%d: %s\n", cfg.host, cfg.port, uv_strerror(rc));
        return 1;
    }
    yq_log_info("stopped cleanly");
    return 0;
}
