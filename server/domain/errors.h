/*
 * Error codes of the pure domain layer (server/domain): one X-macro table
 * gives each code its value, its snake_case name and an English sentence,
 * in the manner of libuv's UV_ERRNO_MAP. Domain functions return 0 or one of
 * these negative codes; none of them touches errno.
 *
 * Codes from -1 to -9 are generic argument failures; from -10 on they name a
 * rule: the settlement invariants each have their own code so that a broken
 * statement says which invariant broke.
 */
#ifndef YQ_DOMAIN_ERRORS_H
#define YQ_DOMAIN_ERRORS_H

#define YQ_DOM_ERRNO_MAP(XX)                                                                                           \
    XX(EINVAL, -1, "invalid_argument", "An argument is outside its documented range.")                                 \
    XX(EOVERFLOW, -2, "overflow", "The result does not fit in a 64-bit integer.")                                      \
    XX(ERANGE_TOO_LONG, -3, "range_too_long", "The range is longer than 62 days.")                                     \
    XX(ENOT_FOUND, -4, "not_found", "Nothing matches the request.")                                                    \
    XX(ETOO_EARLY, -5, "too_early", "It is too early for this action.")                                                \
    XX(ETOO_LATE, -6, "too_late", "It is too late for this action.")                                                   \
    XX(EFEE_SUM, -10, "fee_sum", "The lines' fees do not sum to the period's usage fees.")                             \
    XX(EFEE_SPLIT, -11, "fee_split", "A fee is not equal to its voucher part plus its cash part.")                     \
    XX(ENET_SUM, -12, "net_sum", "The net positions do not sum to zero.")

enum {
#define XX(name, value, code, message) YQ_DOM_##name = (value),
    YQ_DOM_ERRNO_MAP(XX)
#undef XX
};

/* The snake_case name of a code ("fee_split"), or "unknown_error" for a value
 * that is not in the table. Static storage; never NULL. */
const char *yq_dom_err_name(int code);

/* An English sentence for a code, or "Unknown error." Static storage. */
const char *yq_dom_strerror(int code);

#endif
