/* Static path sanitising (http/path.c): decode once, refuse traversal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/path.h"

static void accepts(const char *raw, const char *want) {
    char out[256];
    int rc = yq_path_decode(raw, out, sizeof out);
    if (rc != 0)
        fail_msg("refused %s", raw);
    assert_string_equal(out, want);
}

static void refuses(const char *raw) {
    char out[256];
    if (yq_path_decode(raw, out, sizeof out) == 0)
        fail_msg("accepted %s as %s", raw, out);
}

static void test_plain_and_encoded(void **state) {
    (void)state;
    accepts("/", "/");
    accepts("/index.html", "/index.html");
    accepts("/assets/index-BXjoyX-T.js", "/assets/index-BXjoyX-T.js");
    accepts("/a%20b.txt", "/a b.txt");
    accepts("/%E4%BB%AA%E5%99%A8.png", "/\xe4\xbb\xaa\xe5\x99\xa8.png");
    accepts("/dir/", "/dir/");
    accepts("/a..b/c...d", "/a..b/c...d"); /* dots inside names are fine */
}

static void test_dot_segments(void **state) {
    (void)state;
    refuses("/..");
    refuses("/../etc/passwd");
    refuses("/a/../../etc/passwd");
    refuses("/a/..");
    refuses("/./index.html");
    refuses("/%2e%2e/etc/passwd");
    refuses("/%2E%2E/etc/passwd");
    refuses("/.%2e/etc/passwd");
    refuses("/a/%2e%2e%2f%2e%2e%2fetc");
    refuses("/.git/config");
    refuses("/%2egit/config");
}

static void test_double_encoding(void **state) {
    (void)state;
    refuses("/%252e%252e/etc/passwd"); /* decodes once to "%2e%2e": a '%' remains */
    refuses("/%25");
    refuses("/a%2525b");
}

static void test_bad_bytes(void **state) {
    (void)state;
    refuses("/index.html%00.js");
    refuses("/a\\..\\b");
    refuses("/a%5c..%5cb");
    refuses("/a%0d%0aSet-Cookie:x");
    refuses("/a%7f");
    refuses("/a%1");
    refuses("/a%");
    refuses("/a%g0");
    refuses("relative");
    refuses("");
}

static void test_output_bound(void **state) {
    (void)state;
    char small[4];
    assert_int_equal(yq_path_decode("/abcdef", small, sizeof small), -1);
    assert_int_equal(yq_path_decode("/ab", small, sizeof small), 0);
    assert_string_equal(small, "/ab");
}

static void test_mime(void **state) {
    (void)state;
    assert_string_equal(yq_path_mime("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(yq_path_mime("/assets/app-1234abcd.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(yq_path_mime("/a.css"), "text/css; charset=utf-8");
    assert_string_equal(yq_path_mime("/a.svg"), "image/svg+xml");
    assert_string_equal(yq_path_mime("/a.woff2"), "font/woff2");
    assert_string_equal(yq_path_mime("/a.json"), "application/json");
    assert_string_equal(yq_path_mime("/noext"), "application/octet-stream");
    assert_string_equal(yq_path_mime("/dir.d/noext"), "application/octet-stream");
    assert_string_equal(yq_path_mime("/a.exe"), "application/octet-stream");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_encoded), cmocka_unit_test(test_dot_segments),
        cmocka_unit_test(test_double_encoding),   cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_output_bound),      cmocka_unit_test(test_mime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
