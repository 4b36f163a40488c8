/* Shared command-line error reporting. */
#include <stdio.h>

#include "cli/cli.h"

int yq_cli_usage_error(const char *cmd, const char *msg) {
    fprintf(stderr, "yiqi %s: %s\n(try: yiqi %s --help)\n", cmd, msg, cmd);
    return 2;
}
