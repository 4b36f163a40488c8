/*
 * The list of commonly used passwords (data/common-passwords.txt, embedded),
 * which the password policy refuses (issue 3: "refused when in a list of
 * common passwords shipped as data").
 *
 * The list is loaded once on first use (thread-safe) into a sorted table and
 * looked up by binary search; it is never freed. Pure: no I/O.
 */
#ifndef YQ_AUTH_WEAK_PASSWORD_H
#define YQ_AUTH_WEAK_PASSWORD_H

#include <stddef.h>

/* 1 when pw is on the list, compared case-insensitively (ASCII letters; the
 * list is lower-case), else 0. NULL is not common. */
int yq_password_is_common(const char *pw);

/* Number of distinct entries in the list (for tests and the log). */
size_t yq_password_common_count(void);

#endif
