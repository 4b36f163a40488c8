/* yiqi backup --db FILE --to FILE: consistent online backup (SQLite's backup
 * API), safe while the server runs; the copy is checked before success. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "db/db.h"

static const char usage_text[] = "usage: yiqi backup --db FILE --to FILE\n"
                                 "Copies the live database consistently into a new file, then checks it.\n";

static int check_integrity(const char *path) {
    sqlite3 *h;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return -1;
    }
    sqlite3_stmt *st;
    int ok = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return ok ? 0 : -1;
}

int yq_cli_backup(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"to", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL, *to = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            path = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'h')
            return fputs(usage_text, stdout), 0;
        else
            return yq_cli_usage_error("backup", "unknown or incomplete option");
    }
    if (!path || !to || optind != argc)
        return yq_cli_usage_error("backup", "--db FILE and --to FILE are required");
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "yiqi backup: cannot read %s\n", path);
        return 1;
    }
    yq_db_t *db = yq_db_open_raw(path);
    if (!db)
        return 1;
    int rc = yq_db_backup(db, to);
    yq_db_close(db);
    if (rc || check_integrity(to)) {
        fprintf(stderr, "yiqi backup: the backup %s failed its integrity check\n", to);
        return 1;
    }
    printf("backup of %s written to %s (integrity ok)\n", path, to);
    return 0;
}
