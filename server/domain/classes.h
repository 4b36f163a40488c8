/*
 * The national classification of research instruments (国家科技基础条件平台
 * 仪器分类, the scheme of the national large-instrument sharing reporting
 * form): 15 top-level classes, their second-level classes and third-level
 * codes, shipped as data/classes.tsv and embedded in the binary.
 *
 * Every code is six digits: level 1 ends in 0000 (010000 分析仪器), level 2
 * ends in 00 (010100 电子光学仪器), level 3 uses all six (010102 扫描电镜).
 * An instrument's class_code is one of these codes.
 *
 * Pure: the table is parsed once from the embedded bytes on first use
 * (thread-safe), never freed, and read-only afterwards. Every pointer it
 * hands out stays valid for the life of the process; callers free nothing.
 */
#ifndef YQ_DOMAIN_CLASSES_H
#define YQ_DOMAIN_CLASSES_H

#include <stddef.h>

typedef struct {
    char code[7];   /* six digits */
    char parent[7]; /* code of the level above; "" for level 1 */
    int level;      /* 1, 2 or 3 */
    const char *name_zh;
    const char *name_en;
} yq_class_t;

/* Number of classes in the table (0 only if the data file is missing or
 * broken, which the unit test guards against). */
size_t yq_class_count(void);

/* The i-th class in code order (parents before their children), or NULL
 * when i >= yq_class_count(). */
const yq_class_t *yq_class_at(size_t i);

/* The class with exactly this six-digit code, or NULL (also for NULL, a
 * wrong length or non-digits). */
const yq_class_t *yq_class_find(const char *code);

/* 1 when code is six digits and in the table (at any level), else 0. */
int yq_class_valid(const char *code);

/* Parses a class filter as the search API takes it: 2, 4 or 6 digits
 * ("01", "0101", "010102"); a six-digit level-1 or level-2 code ("010000",
 * "010100") is accepted as its 2- or 4-digit prefix. Writes the significant
 * prefix (2, 4 or 6 digits, NUL-terminated) to prefix. Returns 0; -1 when
 * the filter is malformed; -2 when it is well-formed but names no class. */
int yq_class_filter_parse(const char *filter, char prefix[7]);

/* 1 when the six-digit code lies under prefix (as yq_class_filter_parse
 * writes it; a six-digit prefix matches only itself), else 0. */
int yq_class_matches(const char *code, const char *prefix);

/* The top-level class (level 1) above code, or NULL when code is unknown. */
const yq_class_t *yq_class_top(const char *code);

#endif
