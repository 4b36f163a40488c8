/* The national instrument classification (domain/classes.c on the embedded
 * data/classes.tsv): the 15 top-level classes of DOMAIN.md, a well-formed
 * tree with no dropped rows, lookups, the search filter's prefixes, and every
 * class used by the demo instruments present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/data.h"
#include "domain/classes.h"

/* Data lines of an embedded TSV (header, blank and '#' lines excluded). */
static size_t data_lines(const char *name) {
    const yq_data_file_t *f = yq_data_get(name);
    assert_non_null(f);
    size_t n = 0;
    const char *p = f->bytes;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && p[0] != '#' && !(len == 1 && p[0] == '\r'))
            n++;
        p += len + (end ? 1 : 0);
    }
    return n - 1;
}

static void test_top_level(void **state) {
    (void)state;
    static const char *const top[][2] = {
        {"010000", "分析仪器"},           {"020000", "物理性能测试仪器"},
        {"030000", "计量仪器"},           {"040000", "电子测量仪器"},
        {"050000", "海洋仪器"},           {"060000", "地球探测仪器"},
        {"070000", "大气探测仪器"},       {"080000", "天文仪器"},
        {"090000", "医学诊断仪器"},       {"100000", "核仪器"},
        {"110000", "特种检测仪器"},       {"120000", "工艺实验设备"},
        {"130000", "计算机及其配套设备"}, {"140000", "激光器"},
        {"990000", "其他仪器"},
    };
    size_t level1 = 0;
    for (size_t i = 0; i < yq_class_count(); i++)
        level1 += yq_class_at(i)->level == 1;
    assert_int_equal(level1, 15);
    for (size_t i = 0; i < 15; i++) {
        const yq_class_t *c = yq_class_find(top[i][0]);
        assert_non_null(c);
        assert_string_equal(c->name_zh, top[i][1]);
        assert_int_equal(c->level, 1);
        assert_string_equal(c->parent, "");
    }
}

static void test_tree_is_whole(void **state) {
    (void)state;
    size_t n = yq_class_count(), per_level[4] = {0};
    assert_int_equal(n, data_lines("classes.tsv")); /* no row was dropped as malformed */
    for (size_t i = 0; i < n; i++) {
        const yq_class_t *c = yq_class_at(i);
        assert_int_equal(strlen(c->code), 6);
        assert_true(c->level >= 1 && c->level <= 3);
        per_level[c->level]++;
        assert_true(strlen(c->name_zh) > 0);
        assert_true(strlen(c->name_en) > 0);
        if (i)
            assert_true(strcmp(yq_class_at(i - 1)->code, c->code) < 0);
        if (c->level > 1) {
            const yq_class_t *p = yq_class_find(c->parent);
            assert_non_null(p);
            assert_int_equal(p->level, c->level - 1);
            assert_true(yq_class_matches(c->code, c->level == 2
                                                      ? (char[]){c->code[0], c->code[1], 0}
                                                      : (char[]){c->code[0], c->code[1], c->code[2], c->code[3], 0}));
        }
    }
    assert_null(yq_class_at(n));
    assert_true(per_level[2] >= 80);
    assert_true(per_level[3] >= 150);
}

static void test_find(void **state) {
    (void)state;
    const yq_class_t *c = yq_class_find("010102");
    assert_non_null(c);
    assert_string_equal(c->name_zh, "扫描电镜");
    assert_string_equal(c->name_en, "Scanning electron microscope");
    assert_string_equal(c->parent, "010100");
    assert_int_equal(c->level, 3);
    assert_string_equal(yq_class_find("010601")->name_zh, "核磁共振波谱仪");
    assert_string_equal(yq_class_find("010101")->name_zh, "透射电镜");
    assert_string_equal(yq_class_find("010100")->name_zh, "电子光学仪器");
    assert_string_equal(yq_class_find("010800")->name_zh, "显微镜及图象分析仪器");
    assert_string_equal(yq_class_find("019900")->name_zh, "其他");
    assert_string_equal(yq_class_top("010601")->code, "010000");
    assert_null(yq_class_top("019998"));
    static const char *const bad[] = {"01010", "0101021", "01a102", "019998", "000000", " 10102", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(yq_class_find(bad[i]));
        assert_int_equal(yq_class_valid(bad[i]), 0);
    }
    assert_null(yq_class_find(NULL));
    assert_int_equal(yq_class_valid("010102"), 1);
}

static void test_filter(void **state) {
    (void)state;
    static const struct {
        const char *filter;
        int rc;
        const char *prefix;
    } cases[] = {
        {"01", 0, "01"},       {"0101", 0, "0101"},  {"010102", 0, "010102"}, {"010000", 0, "01"},
        {"010100", 0, "0101"}, {"99", 0, "99"},      {"1", -1, NULL},         {"012", -1, NULL},
        {"0a", -1, NULL},      {"", -1, NULL},       {"01010203", -1, NULL},  {"0100", -2, NULL},
        {"98", -2, NULL},      {"019998", -2, NULL}, {"0198", -2, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char prefix[7] = "";
        int rc = yq_class_filter_parse(cases[i].filter, prefix);
        if (rc != cases[i].rc)
            print_error("filter '%s': %d\n", cases[i].filter, rc);
        assert_int_equal(rc, cases[i].rc);
        if (cases[i].prefix)
            assert_string_equal(prefix, cases[i].prefix);
    }
    assert_int_equal(yq_class_filter_parse(NULL, (char[7]){0}), -1);
    assert_int_equal(yq_class_matches("010102", "01"), 1);
    assert_int_equal(yq_class_matches("010102", "0101"), 1);
    assert_int_equal(yq_class_matches("010102", "010102"), 1);
    assert_int_equal(yq_class_matches("010201", "0101"), 0);
    assert_int_equal(yq_class_matches("020101", "01"), 0);
    assert_int_equal(yq_class_matches("0101", "01"), 0);
}

/* Every demo instrument template names a third-level class that exists. */
static void test_demo_instruments_classes(void **state) {
    (void)state;
    const yq_data_file_t *f = yq_data_get("demo_instruments.tsv");
    assert_non_null(f);
    char *text = strndup(f->bytes, f->len), *save = NULL;
    int col = -1;
    size_t rows = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *fields[32];
        int n = 0;
        for (char *cell = line; cell && n < 32;) { /* split on tabs, keeping empty fields */
            fields[n++] = cell;
            char *tab = strchr(cell, '\t');
            if (tab)
                *tab = '\0';
            cell = tab ? tab + 1 : NULL;
        }
        if (col < 0) {
            for (int i = 0; i < n; i++)
                if (!strcmp(fields[i], "class_code"))
                    col = i;
            assert_true(col >= 0);
            continue;
        }
        const yq_class_t *c = yq_class_find(fields[col]);
        if (!c)
            print_error("demo_instruments.tsv: class %s is not in classes.tsv\n", fields[col]);
        assert_non_null(c);
        assert_int_equal(c->level, 3);
        rows++;
    }
    assert_true(rows >= 100);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_tree_is_whole),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_demo_instruments_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
