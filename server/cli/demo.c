/*
 * yiqi demo --db FILE: fills an EMPTY database with the demo world
 * (server/demo/world.c) and, twelve months of history
 * (server/demo/history.c), all in one transaction, then prints the demo
 * logins. Deterministic: the same seed gives the same world.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "db/db.h"
#include "demo/demo.h"

static const char usage_text[] =
    "usage: yiqi demo --db FILE [--seed N]\n"
    "Fills an empty database with a realistic demo world: both zones, about 30 institutions, lab groups,\n"
    "users of every role, about 1,500 instruments and twelve months of bookings and usage.\n"
    "Refuses a database that already holds institutions, users or instruments. Prints the demo logins.\n";

static int is_empty(yq_db_t *db) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT (SELECT count(*) FROM orgs) + (SELECT count(*) FROM users) + "
                                      "(SELECT count(*) FROM instruments)");
    int n = yq_db_step(db, st) == 1 ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return n == 0;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int build(yq_db_t *db, uint64_t seed) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    yq_rng_t rng = {seed};
    yq_demo_counts_t counts = {0};
    if (yq_db_begin(db))
        return 1;
    /* Logins are printed only after the commit, so a failed run prints none. */
    char *logins = NULL;
    size_t logins_len = 0;
    FILE *out = open_memstream(&logins, &logins_len);
    int rc = yq_demo_world(db, &rng, out, &counts);
    fclose(out);
    if (rc == 0) {
        rc = yq_demo_history(db, &rng, &counts);
        if (rc)
            fprintf(stderr, "yiqi demo: building the history failed (%d)\n", rc);
    }
    if (rc == 0)
        rc = yq_db_commit(db);
    if (rc) {
        yq_db_rollback(db);
        free(logins);
        fprintf(stderr, "yiqi demo: nothing was written\n");
        return 1;
    }
    printf("Demo world built in %.1f s: %d institutions, %d lab groups, %d users, %d instruments, %d vouchers, "
           "twelve months of bookings and usage.\n\n",
           seconds_since(&t0), counts.orgs, counts.groups, counts.users, counts.instruments, counts.vouchers);
    fputs(logins, stdout);
    free(logins);
    return 0;
}

int yq_cli_demo(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"seed", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL;
    uint64_t seed = YQ_DEMO_SEED;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            path = optarg;
            break;
        case 's': {
            char *end;
            seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg)
                return yq_cli_usage_error("demo", "--seed needs a number");
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return yq_cli_usage_error("demo", "unknown or incomplete option");
        }
    }
    if (!path || optind != argc)
        return yq_cli_usage_error("demo", "--db FILE is required");
    yq_db_t *db = yq_db_open(path);
    if (!db)
        return 1;
    int rc = 1;
    if (!is_empty(db)) {
        fprintf(stderr,
                "yiqi demo: %s is not empty (it holds institutions, users or instruments); "
                "the demo fills only an empty database\n",
                path);
    } else {
        yq_db_set_main(db); /* the history code uses the main connection */
        rc = build(db, seed);
        yq_db_set_main(NULL);
    }
    yq_db_close(db);
    return rc;
}
