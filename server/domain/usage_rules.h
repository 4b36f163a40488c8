/*
 * What makes a use's time valid, before anything is stored (pure).
 *
 * A use ends no later than now; it does not end before it starts (an empty
 * use, a sample handed in, is allowed); it lasts at most
 * YQ_USAGE_MAX_SECONDS (a longer run is recorded as several uses, so that
 * no single record carries months of fees by a slip of the year); and it
 * starts no earlier than `earliest`: for a new record, YQ_USAGE_MAX_AGE_SECONDS
 * before now (older paper records are a data migration, not an entry, and
 * would open long-gone settlement periods); a correction may also keep its
 * original's start.
 */
#ifndef YQ_DOMAIN_USAGE_RULES_H
#define YQ_DOMAIN_USAGE_RULES_H

#include <stdint.h>

#define YQ_USAGE_MAX_SECONDS (31 * 86400)
#define YQ_USAGE_MAX_AGE_SECONDS (400 * 86400)

typedef struct {
    int status;          /* HTTP status: 400 */
    const char *code;    /* invalid_field, in_future, usage_too_long, usage_too_old */
    const char *message; /* English, for the error body */
    const char *field;   /* "start" or "end" */
} yq_usage_time_refusal_t;

/* The earliest start a new record may have at `now`. */
int64_t yq_usage_earliest_start(int64_t now);

/* 0 when [start, end) is a valid use at `now`, starting no earlier than
 * `earliest`; else -1 and *why. */
int yq_usage_time_check(int64_t start, int64_t end, int64_t now, int64_t earliest, yq_usage_time_refusal_t *why);

#endif
