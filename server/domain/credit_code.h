/*
 * Unified social credit code (统一社会信用代码), GB 32100-2015.
 *
 * Eighteen characters from the 31-character set 0-9 A-Z without I, O, S, V
 * and Z; each character stands for its index in that set (0 ... 30). The
 * 18th is the check character over the first 17: with the weights
 * 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
 * (3^i mod 31), check = 31 - (sum of value x weight mod 31), where 31
 * stands for 0. Only upper-case letters belong to the set; callers that
 * accept lower case fold it first.
 */
#ifndef YQ_DOMAIN_CREDIT_CODE_H
#define YQ_DOMAIN_CREDIT_CODE_H

#define YQ_CREDIT_CODE_LEN 18

/* 1 when code is a NUL-terminated string of exactly 18 characters of the
 * set whose last one is the check character of the first 17; 0 otherwise
 * (also for NULL, lower case or a wrong length). Never fails otherwise. */
int yq_credit_code_valid(const char *code);

/* Computes the check character of the first 17 characters of code (which
 * need not be terminated after them) into *out. Returns 0, or YQ_DOM_EINVAL
 * (domain/errors.h) when code is NULL or one of the 17 is not in the set;
 * *out is then left untouched. Used to generate demo data. */
int yq_credit_code_check_char(const char *code, char *out);

#endif
