/* yiqi init --db FILE [--schema-version N]: create or migrate the database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "db/db.h"
#include "db/migrate.h"

static const char usage_text[] = "usage: yiqi init --db FILE [--schema-version N]\n"
                                 "Creates the database, or migrates it to the current schema. Idempotent.\n"
                                 "--schema-version N stops at version N (for upgrade tests).\n";

int yq_cli_init(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"schema-version", required_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL;
    int target = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            path = optarg;
            break;
        case 'v':
            target = atoi(optarg);
            if (target <= 0)
                return yq_cli_usage_error("init", "--schema-version needs a positive number");
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return yq_cli_usage_error("init", "unknown or incomplete option");
        }
    }
    if (!path || optind != argc)
        return yq_cli_usage_error("init", "--db FILE is required");
    yq_db_t *db = yq_db_open_raw(path);
    if (!db)
        return 1;
    char msg[512];
    if (yq_migrate(yq_db_handle(db), target, msg, sizeof msg)) {
        fprintf(stderr, "yiqi init: %s\n", msg);
        yq_db_close(db);
        return 1;
    }
    yq_db_close(db);
    printf("database %s is at schema version %d\n", path, target ? target : yq_migrate_latest());
    return 0;
}
