/*
 * Logging to standard error, one line per event, with a UTC timestamp.
 * Never pass a password, token or session id to these functions.
 */
#ifndef YQ_CORE_LOG_H
#define YQ_CORE_LOG_H

void yq_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void yq_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void yq_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Silences info lines (access log included); used by benchmarks. */
void yq_log_set_quiet(int quiet);
int yq_log_quiet(void);

#endif
