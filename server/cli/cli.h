/*
 * The command line: one file per command, each `int yq_cli_<name>(int argc,
 * char **argv)` returning the process exit status (0 ok, 1 failure, 2 bad
 * arguments). argv[0] is the command's name.
 */
#ifndef YQ_CLI_CLI_H
#define YQ_CLI_CLI_H

int yq_cli_init(int argc, char **argv);
int yq_cli_serve(int argc, char **argv);
int yq_cli_user(int argc, char **argv);
int yq_cli_backup(int argc, char **argv);
int yq_cli_restore(int argc, char **argv);
int yq_cli_demo(int argc, char **argv);

/* Prints "yiqi CMD: MSG" and the usage hint to stderr; returns 2. */
int yq_cli_usage_error(const char *cmd, const char *msg);

#endif
