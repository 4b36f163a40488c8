/*
 * GB 32100-2015 check character (see credit_code.h for the rule). The
 * weights are 3^i mod 31 for i = 0 ... 16, written out as the standard
 * prints them.
 */
#include <stddef.h>
#include <string.h>

#include "domain/credit_code.h"
#include "domain/errors.h"

static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* Index of c in the set, or -1. */
static int value_of(char c) {
    if (c == '\0')
        return -1;
    const char *p = strchr(charset, c);
    return p ? (int)(p - charset) : -1;
}

int yq_credit_code_check_char(const char *code, char *out) {
    if (!code || !out)
        return YQ_DOM_EINVAL;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = value_of(code[i]);
        if (v < 0)
            return YQ_DOM_EINVAL;
        sum += v * weights[i];
    }
    *out = charset[(31 - sum % 31) % 31];
    return 0;
}

int yq_credit_code_valid(const char *code) {
    char check;
    if (!code || strlen(code) != YQ_CREDIT_CODE_LEN || yq_credit_code_check_char(code, &check) != 0)
        return 0;
    return code[17] == check;
}
