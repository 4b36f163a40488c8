/*
 * yiqi: the cross-zone research-instrument sharing server. main only picks
 * the command; each command lives in server/cli/.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"init", yq_cli_init, "create or migrate the database"},
    {"serve", yq_cli_serve, "serve the API and the web UI"},
    {"user", yq_cli_user, "manage users (user add)"},
    {"demo", yq_cli_demo, "fill an empty database with realistic demo data"},
    {"backup", yq_cli_backup, "consistent online backup while the server runs"},
    {"restore", yq_cli_restore, "restore a backup into a database file"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: yiqi COMMAND [OPTIONS]   (yiqi COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "yiqi: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "yiqi: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
