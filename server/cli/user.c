/*
 * yiqi user add --db FILE --login L --name N --role R [--role R2] [--org CODE]
 *               [--email E] [--group NAME]
 * The password is read from standard input (one line), never from the
 * command line, where other users could see it in the process list.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "auth/principal.h"
#include "cli/cli.h"
#include "db/db.h"

static const char usage_text[] =
    "usage: yiqi user add --db FILE --login L --name N --role R [--role R2 ...] [--org CODE] [--email E]\n"
    "Adds a user; the password is read from standard input (one line, at least 12 characters).\n"
    "Roles: researcher, pi, operator, commission, admin. Admin and commission may have no --org.\n";

static int read_password(char *pw, size_t size) {
    if (!fgets(pw, (int)size, stdin))
        return -1;
    pw[strcspn(pw, "\r\n")] = '\0';
    return 0;
}

static int64_t org_id_of(yq_db_t *db, const char *code) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM orgs WHERE code = ?1");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int64_t id = yq_db_int(db, st, 0);
    return id;
}

static int add_user(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},   {"login", required_argument, 0, 'l'},
                                         {"name", required_argument, 0, 'n'}, {"role", required_argument, 0, 'r'},
                                         {"org", required_argument, 0, 'o'},  {"email", required_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *path = NULL, *login = NULL, *name = NULL, *org = NULL, *email = "";
    unsigned roles = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            path = optarg;
            break;
        case 'l':
            login = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'o':
            org = optarg;
            break;
        case 'e':
            email = optarg;
            break;
        case 'r':
            if (!yq_role_from_name(optarg))
                return yq_cli_usage_error("user add", "unknown role (researcher, pi, operator, commission, admin)");
            roles |= yq_role_from_name(optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return yq_cli_usage_error("user add", "unknown or incomplete option");
        }
    }
    if (!path || !login || !name || !roles || optind != argc)
        return yq_cli_usage_error("user add", "--db, --login, --name and at least one --role are required");
    if (!org && (roles & (YQ_ROLE_RESEARCHER | YQ_ROLE_PI | YQ_ROLE_OPERATOR)))
        return yq_cli_usage_error("user add", "researchers, PIs and operators need --org CODE");
    char pw[YQ_PASSWORD_MAX_BYTES + 2];
    if (read_password(pw, sizeof pw)) {
        fprintf(stderr, "yiqi user add: no password on standard input\n");
        return 1;
    }
    const char *why = yq_password_policy(pw);
    if (why) {
        fprintf(stderr, "yiqi user add: %s\n", why);
        return 1;
    }
    yq_db_t *db = yq_db_open(path);
    if (!db)
        return 1;
    int rc = 1;
    int64_t org_id = org ? org_id_of(db, org) : 0;
    char hash[YQ_PASSWORD_HASH_MAX];
    if (org && !org_id) {
        fprintf(stderr, "yiqi user add: no institution with code '%s'\n", org);
    } else if (yq_password_hash(pw, hash)) {
        fprintf(stderr, "yiqi user add: hashing failed\n");
    } else {
        sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO users (login, name, email, org_id, roles, password_hash) "
                                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
        if (org_id)
            sqlite3_bind_int64(st, 4, org_id);
        sqlite3_bind_int(st, 5, (int)roles);
        sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
        int s = yq_db_step(db, st);
        if (s == YQ_DB_CONSTRAINT)
            fprintf(stderr, "yiqi user add: login '%s' is taken\n", login);
        else if (s == 0) {
            printf("user %s added (id %lld)\n", login, (long long)yq_db_last_id(db));
            rc = 0;
        }
    }
    sodium_memzero(pw, sizeof pw);
    yq_db_close(db);
    return rc;
}

int yq_cli_user(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return add_user(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    return yq_cli_usage_error("user", "expected: user add ...");
}
