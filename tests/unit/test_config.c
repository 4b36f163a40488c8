/* The configuration file parser (core/config.c): keys, values, comments,
 * errors with line numbers, flag overrides and the shipped deploy/yiqi.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static int parse(yq_config_t *c, const char *text, char *err, size_t size) {
    yq_config_defaults(c);
    err[0] = '\0';
    return yq_config_parse(c, text, strlen(text), err, size);
}

static void test_defaults(void **state) {
    (void)state;
    yq_config_t c;
    yq_config_defaults(&c);
    yq_server_config_t s, d;
    yq_server_config_defaults(&d);
    yq_config_apply(&c, &s);
    assert_string_equal(s.host, "127.0.0.1");
    assert_int_equal(s.port, 8080);
    assert_int_equal(s.max_connections, d.max_connections);
    assert_int_equal(s.header_timeout_ms, d.header_timeout_ms);
    assert_int_equal(s.idle_timeout_ms, d.idle_timeout_ms);
    assert_int_equal(s.drain_timeout_ms, d.drain_timeout_ms);
    assert_int_equal(s.max_write_queue, d.max_write_queue);
    assert_null(s.trusted_proxy);
    assert_string_equal(c.db, "");
    assert_string_equal(c.web, "web/dist");
    assert_int_equal(c.behind_tls, 0);
    assert_int_equal(c.backup_keep, 14);
    for (int k = 0; k < YQ_CONF_NKEYS; k++)
        assert_int_equal(c.origin[k], YQ_CONF_DEFAULT);
}

static void test_every_key(void **state) {
    (void)state;
    static const char text[] = "# a comment\n"
                               "\n"
                               "listen = 127.0.0.1:9090\n"
                               "db = /var/lib/yiqi/yiqi.db\n"
                               "  web=/usr/local/share/yiqi/web  \n"
                               "max_connections = 2000\n"
                               "header_timeout_ms = 5000\n"
                               "idle_timeout_ms = 30000\r\n"
                               "drain_timeout_ms = 15000\n"
                               "max_write_queue = 4m\n"
                               "trusted_proxy = 127.0.0.1\n"
                               "behind_tls = yes\n"
                               "quiet = off\n"
                               "backup_dir = /srv/backups/yiqi\n"
                               "backup_keep = 30";
    yq_config_t c;
    char err[256];
    assert_int_equal(parse(&c, text, err, sizeof err), 0);
    yq_server_config_t s;
    yq_server_config_defaults(&s);
    yq_config_apply(&c, &s);
    assert_string_equal(s.host, "127.0.0.1");
    assert_int_equal(s.port, 9090);
    assert_string_equal(c.db, "/var/lib/yiqi/yiqi.db");
    assert_string_equal(c.web, "/usr/local/share/yiqi/web");
    assert_int_equal(s.max_connections, 2000);
    assert_int_equal(s.header_timeout_ms, 5000);
    assert_int_equal(s.idle_timeout_ms, 30000);
    assert_int_equal(s.drain_timeout_ms, 15000);
    assert_int_equal(s.max_write_queue, 4 * 1024 * 1024);
    assert_string_equal(s.trusted_proxy, "127.0.0.1");
    assert_int_equal(c.behind_tls, 1);
    assert_int_equal(c.quiet, 0);
    assert_string_equal(c.backup_dir, "/srv/backups/yiqi");
    assert_int_equal(c.backup_keep, 30);
    for (int k = 0; k < YQ_CONF_NKEYS; k++)
        assert_int_equal(c.origin[k], YQ_CONF_FILE);
}

static void test_values(void **state) {
    (void)state;
    yq_config_t c;
    char err[256];
    /* Trailing comments, quotes keeping '#' and spaces, '#' inside a word. */
    assert_int_equal(parse(&c, "max_connections = 42   # forty-two\n", err, sizeof err), 0);
    assert_int_equal(c.max_connections, 42);
    assert_int_equal(parse(&c, "db = \" /data/a #1.db \"  # quoted\n", err, sizeof err), 0);
    assert_string_equal(c.db, " /data/a #1.db ");
    assert_int_equal(parse(&c, "db = /data/a#1.db\n", err, sizeof err), 0);
    assert_string_equal(c.db, "/data/a#1.db");
    /* Sizes with units, booleans in every spelling, IPv6. */
    static const struct {
        const char *v;
        int64_t bytes;
    } sizes[] = {{"65536", 65536}, {"64k", 65536}, {"64KiB", 65536}, {"8M", 8 << 20}, {"1g", 1 << 30}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "max_write_queue = %s", sizes[i].v);
        assert_int_equal(parse(&c, line, err, sizeof err), 0);
        assert_int_equal(c.max_write_queue, sizes[i].bytes);
    }
    static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"}, *const no[] = {"false", "No", "off", "0"};
    for (size_t i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "behind_tls = %s", yes[i]);
        assert_int_equal(parse(&c, line, err, sizeof err), 0);
        assert_int_equal(c.behind_tls, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        char line[64];
        snprintf(line, sizeof line, "behind_tls = %s", no[i]);
        assert_int_equal(parse(&c, line, err, sizeof err), 0);
        assert_int_equal(c.behind_tls, 0);
    }
    assert_int_equal(parse(&c, "listen = [::1]:0\ntrusted_proxy = ::1\n", err, sizeof err), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 0);
    assert_string_equal(c.trusted_proxy, "::1");
    assert_int_equal(parse(&c, "trusted_proxy = none\n", err, sizeof err), 0);
    assert_string_equal(c.trusted_proxy, "");
    assert_int_equal(parse(&c, "", err, sizeof err), 0);
    assert_int_equal(parse(&c, "\n\n   \n# only comments\n", err, sizeof err), 0);
}

/* Each bad line must be refused with its line number and a word of the reason. */
static void test_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"# ok\nlisten = 127.0.0.1:1\nmax_conections = 5\n", "line 3: unknown key 'max_conections'"},
        {"max-connections = 5\n", "line 1: unknown key 'max-connections'"},
        {"\n\nthis line has no equals sign\n", "line 3: expected 'key = value'"},
        {" = 5\n", "line 1: expected 'key = value'"},
        {"max_connections = lots\n", "line 1: max_connections: 'lots' is not a whole number"},
        {"max_connections = -5\n", "line 1: max_connections: '-5' is not a whole number"},
        {"max_connections = 0\n", "line 1: max_connections: 0 is outside 1..1000000"},
        {"max_connections = 99999999999999999999\n", "line 1: max_connections: '99999999999999999999'"},
        {"max_write_queue = 8 MiB\n", "line 1: max_write_queue: '8 MiB' is not a size"},
        {"max_write_queue = 8t\n", "line 1: max_write_queue: '8t' is not a size"},
        {"behind_tls = maybe\n", "line 1: behind_tls: 'maybe' is not true or false"},
        {"trusted_proxy = proxy.example\n", "line 1: trusted_proxy: 'proxy.example' is not an IPv4 or IPv6"},
        {"listen = 8080\n", "line 1: listen: '8080' is not HOST:PORT"},
        {"listen = 127.0.0.1:70000\n", "line 1: listen: '127.0.0.1:70000'"},
        {"listen = ::1:80\n", "line 1: listen: '::1:80'"},
        {"db =\n", "line 1: db: needs a value"},
        {"db = # nothing\n", "line 1: db: needs a value"},
        {"db = \"/a\n", "line 1: db: unterminated quoted value"},
        {"db = \"/a\" b\n", "line 1: db: text after the closing quote"},
        {"db = /a\nweb = /w\ndb = /b\n", "line 3: 'db' was already set on line 1"},
        {"backup_keep = 0\n", "line 1: backup_keep: 0 is outside 1..3650"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yq_config_t c;
        char err[512];
        int rc = parse(&c, bad[i].text, err, sizeof err);
        if (rc != -1 || strncmp(err, bad[i].expect, strlen(bad[i].expect)) != 0)
            print_error("case %zu: rc %d, err '%s', expected '%s'\n", i, rc, err, bad[i].expect);
        assert_int_equal(rc, -1);
        assert_true(strncmp(err, bad[i].expect, strlen(bad[i].expect)) == 0);
    }
    /* A NUL inside the text is refused, not treated as the end. */
    yq_config_t c;
    char err[256];
    yq_config_defaults(&c);
    static const char nul[] = "db = /a\nweb = /w\0x\n";
    assert_int_equal(yq_config_parse(&c, nul, sizeof nul - 1, err, sizeof err), -1);
    assert_string_equal(err, "line 2: NUL byte");
}

static void test_flags_override(void **state) {
    (void)state;
    yq_config_t c;
    char err[256];
    assert_int_equal(parse(&c, "listen = 0.0.0.0:80\nmax_connections = 10\n", err, sizeof err), 0);
    int k = yq_config_key("max-connections");
    assert_int_equal(k, YQ_CONF_MAX_CONNECTIONS);
    assert_int_equal(yq_config_key("max_connections"), YQ_CONF_MAX_CONNECTIONS);
    assert_int_equal(yq_config_key("nope"), -1);
    assert_int_equal(yq_config_set(&c, (yq_conf_key_t)k, "20", YQ_CONF_FLAG, err, sizeof err), 0);
    assert_int_equal(yq_config_set(&c, YQ_CONF_LISTEN, "127.0.0.1:0", YQ_CONF_FLAG, err, sizeof err), 0);
    assert_int_equal(yq_config_set(&c, YQ_CONF_LISTEN, "nonsense", YQ_CONF_FLAG, err, sizeof err), -1);
    assert_string_equal(c.listen, "127.0.0.1:0"); /* a refused value leaves the old one */
    assert_int_equal(c.max_connections, 20);
    assert_int_equal(c.origin[YQ_CONF_MAX_CONNECTIONS], YQ_CONF_FLAG);
    char text[8192];
    yq_config_describe(&c, text, sizeof text);
    assert_non_null(strstr(text, "max_connections = 20 (flag)\n"));
    assert_non_null(strstr(text, "listen = 127.0.0.1:0 (flag)\n"));
    assert_non_null(strstr(text, "db = none (default)\n"));
    assert_non_null(strstr(text, "behind_tls = false (default)\n"));
    assert_non_null(strstr(text, "backup_keep = 14 (default)"));
}

/* The shipped, documented example must parse and mean what it says. */
static void test_shipped_file(void **state) {
    (void)state;
    yq_config_t c;
    yq_config_defaults(&c);
    char err[512];
    int rc = yq_config_load(&c, "deploy/yiqi.conf", err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(c.file, "deploy/yiqi.conf");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.db, "/var/lib/yiqi/yiqi.db");
    assert_string_equal(c.trusted_proxy, "127.0.0.1");
    assert_int_equal(c.behind_tls, 1);
    /* Every key is documented (present, possibly commented out). */
    FILE *f = fopen("deploy/yiqi.conf", "r");
    assert_non_null(f);
    static char all[65536];
    size_t n = fread(all, 1, sizeof all - 1, f);
    fclose(f);
    all[n] = '\0';
    for (int k = 0; k < YQ_CONF_NKEYS; k++) {
        char needle[80];
        snprintf(needle, sizeof needle, "\n%s = ", yq_conf_keys[k].name);
        char commented[84];
        snprintf(commented, sizeof commented, "\n# %s = ", yq_conf_keys[k].name);
        if (!strstr(all, needle) && !strstr(all, commented))
            print_error("deploy/yiqi.conf does not document %s\n", yq_conf_keys[k].name);
        assert_true(strstr(all, needle) || strstr(all, commented));
    }
    assert_int_equal(yq_config_load(&c, "deploy/no-such.conf", err, sizeof err), -1);
    assert_string_equal(err, "deploy/no-such.conf: No such file or directory");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_every_key),      cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_flags_override), cmocka_unit_test(test_shipped_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
