/*
 * Names and messages of the domain error codes (domain/errors.h), both
 * generated from the one table so they cannot drift apart.
 */
#include "domain/errors.h"

const char *yq_dom_err_name(int code) {
    switch (code) {
#define XX(name, value, text, message)                                                                                 \
    case YQ_DOM_##name:                                                                                                \
        return text;
        YQ_DOM_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown_error";
}

const char *yq_dom_strerror(int code) {
    switch (code) {
#define XX(name, value, text, message)                                                                                 \
    case YQ_DOM_##name:                                                                                                \
        return message;
        YQ_DOM_ERRNO_MAP(XX)
#undef XX
    }
    return "Unknown error.";
}
