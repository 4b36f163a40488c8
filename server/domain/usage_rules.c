/* The validity of a use's time (see usage_rules.h). */
#include "domain/usage_rules.h"

static int refuse(yq_usage_time_refusal_t *why, const char *code, const char *message, const char *field) {
    why->status = 400;
    why->code = code;
    why->message = message;
    why->field = field;
    return -1;
}

int64_t yq_usage_earliest_start(int64_t now) {
    return now - YQ_USAGE_MAX_AGE_SECONDS;
}

int yq_usage_time_check(int64_t start, int64_t end, int64_t now, int64_t earliest, yq_usage_time_refusal_t *why) {
    if (end < start)
        return refuse(why, "invalid_field", "'end' must not be before 'start'.", "end");
    if (end > now)
        return refuse(why, "in_future", "Usage can only be recorded once it has happened.", "end");
    if (end - start > YQ_USAGE_MAX_SECONDS)
        return refuse(why, "usage_too_long", "A single use lasts at most 31 days; record a longer run as several uses.",
                      "end");
    if (start < earliest)
        return refuse(why, "usage_too_old", "Usage that started more than 400 days ago cannot be recorded.", "start");
    return 0;
}
