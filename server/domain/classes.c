/*
 * The classification table (see classes.h), parsed from the embedded
 * data/classes.tsv on first use.
 *
 * The file has a header row and five tab-separated columns: code, level,
 * parent, name_zh, name_en. Rows are kept in code order, which puts every
 * parent before its children, so lookups are a binary search. The parsed
 * table and its strings live for the whole process (one allocation each,
 * never freed), which is what lets yq_class_* hand out plain pointers.
 *
 * A row that breaks the rules (not six digits, level not matching the code,
 * parent missing or not the code's own parent) is left out and counted; the
 * unit test asserts none are, so a typo in the data fails `make test`.
 */
#include "domain/classes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/data.h"

static yq_class_t *table;
static size_t count;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int six_digits(const char *s) {
    if (!s)
        return 0;
    for (int i = 0; i < 6; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[6] == '\0';
}

/* The level a code's shape implies: 1 for NN0000, 2 for NNNN00, else 3. */
static int level_of(const char *code) {
    if (memcmp(code + 2, "0000", 4) == 0)
        return 1;
    if (memcmp(code + 4, "00", 2) == 0)
        return 2;
    return 3;
}

static int cmp_code(const void *a, const void *b) {
    return strcmp(((const yq_class_t *)a)->code, ((const yq_class_t *)b)->code);
}

/* Splits line into exactly n tab-separated fields in place. Returns 0 or -1. */
static int split(char *line, char **f, int n) {
    for (int i = 0; i < n; i++) {
        f[i] = line;
        char *tab = strchr(line, '\t');
        if (i < n - 1) {
            if (!tab)
                return -1;
            *tab = '\0';
            line = tab + 1;
        } else if (tab) {
            return -1;
        }
    }
    return 0;
}

/* Checks one parsed row against the shape of its code and the rows before
 * it (the file is in code order, parents first). */
static int row_ok(const yq_class_t *c, int level) {
    if (level != level_of(c->code) || !*c->name_zh || !*c->name_en)
        return 0;
    if (level == 1)
        return c->parent[0] == '\0';
    char want[7];
    memcpy(want, c->code, 6);
    memset(want + (level == 2 ? 2 : 4), '0', level == 2 ? 4 : 2);
    want[6] = '\0';
    if (strcmp(c->parent, want) != 0)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].code, want) == 0)
            return 1;
    return 0;
}

static void load(void) {
    const yq_data_file_t *f = yq_data_get("classes.tsv");
    if (!f)
        return;
    char *text = yq_xstrndup(f->bytes, f->len); /* kept: the names point into it */
    size_t cap = 0;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    table = yq_xcalloc(cap + 1, sizeof *table);
    int header = 1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        if (header) {
            header = 0;
            continue;
        }
        char *fld[5];
        if (split(line, fld, 5) || !six_digits(fld[0]) || (*fld[2] && !six_digits(fld[2])))
            continue;
        yq_class_t *c = &table[count];
        memcpy(c->code, fld[0], 7);
        memcpy(c->parent, fld[2], strlen(fld[2]) + 1);
        c->level = atoi(fld[1]);
        c->name_zh = fld[3];
        c->name_en = fld[4];
        if (row_ok(c, c->level))
            count++;
    }
    qsort(table, count, sizeof *table, cmp_code);
}

static void ensure(void) {
    pthread_once(&once, load);
}

size_t yq_class_count(void) {
    ensure();
    return count;
}

const yq_class_t *yq_class_at(size_t i) {
    ensure();
    return i < count ? &table[i] : NULL;
}

const yq_class_t *yq_class_find(const char *code) {
    if (!six_digits(code))
        return NULL;
    ensure();
    yq_class_t key;
    memcpy(key.code, code, 7);
    return bsearch(&key, table, count, sizeof *table, cmp_code);
}

int yq_class_valid(const char *code) {
    return yq_class_find(code) != NULL;
}

int yq_class_filter_parse(const char *filter, char prefix[7]) {
    if (!filter)
        return -1;
    size_t len = strlen(filter);
    if ((len != 2 && len != 4 && len != 6) || strspn(filter, "0123456789") != len)
        return -1;
    char code[7] = "000000";
    memcpy(code, filter, len);
    if (len == 6) { /* 010000 -> 01, 010100 -> 0101 */
        int level = level_of(code);
        len = level == 1 ? 2 : level == 2 ? 4 : 6;
    } else if (memcmp(code + len - 2, "00", 2) == 0) {
        return -2; /* "0100" is no class: level-2 numbers start at 01 */
    }
    memcpy(prefix, code, len);
    prefix[len] = '\0';
    return yq_class_find(code) ? 0 : -2;
}

int yq_class_matches(const char *code, const char *prefix) {
    if (!six_digits(code) || !prefix)
        return 0;
    size_t len = strlen(prefix);
    return len > 0 && len <= 6 && strncmp(code, prefix, len) == 0;
}

const yq_class_t *yq_class_top(const char *code) {
    if (!yq_class_find(code))
        return NULL;
    char top[7] = "000000";
    memcpy(top, code, 2);
    return yq_class_find(top);
}
