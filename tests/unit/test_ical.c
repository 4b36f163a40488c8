/* iCalendar writer (domain/ical.c, RFC 5545): CRLF line ends, folding at
 * 75 octets that never splits a UTF-8 sequence and unfolds to the original
 * line, TEXT escaping, UTC DATE-TIME values, the status mapping, and the
 * failure contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "domain/errors.h"
#include "domain/ical.h"

static int64_t T(const char *s) {
    int64_t t = 0;
    if (yq_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

/* Every line ends in CRLF, holds at most 75 octets, has no bare CR or LF,
 * and no line (after a continuation's leading space) starts with a UTF-8
 * continuation byte. */
static void check_lines(const char *text) {
    const char *p = text;
    assert_true(strlen(text) >= 2);
    while (*p) {
        const char *crlf = strstr(p, "\r\n");
        if (!crlf)
            fail_msg("text does not end in CRLF: '%s'", p);
        size_t len = (size_t)(crlf - p);
        if (len > 75)
            fail_msg("line of %zu octets: %.*s", len, (int)len, p);
        if (memchr(p, '\n', len) || memchr(p, '\r', len))
            fail_msg("bare CR or LF in: %.*s", (int)len, p);
        const char *first = (len && p[0] == ' ') ? p + 1 : p;
        if (first < crlf && ((unsigned char)*first & 0xC0) == 0x80)
            fail_msg("line starts inside a UTF-8 sequence: %.*s", (int)len, p);
        p = crlf + 2;
    }
}

/* Removes the folds (CRLF followed by one space), as a reader does. */
static char *unfold(const char *text) {
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (size_t i = 0; i < n;) {
        if (text[i] == '\r' && text[i + 1] == '\n' && text[i + 2] == ' ')
            i += 3;
        else
            *o++ = text[i++];
    }
    *o = '\0';
    return out;
}

static void test_calendar(void **state) {
    (void)state;
    yq_ical_event_t ev[] = {{
        .uid = "booking-42@yiqi",
        .start = T("2026-12-01T09:00:00+08:00"),
        .end = T("2026-12-01T10:30:00+08:00"),
        .summary = "场发射扫描电镜 / Field-emission SEM",
        .location = "Room 301, Building 5",
        .description = "Line one\nLine two; with, punctuation \\ and a backslash",
        .status = "confirmed",
        .stamp = T("2026-11-20T12:00:05+08:00"),
    }};
    char *text = yq_ical_calendar("Yiqi bookings / 仪器预约", ev, 1);
    check_lines(text);
    char *u = unfold(text);
    static const char *const want[] = {
        "BEGIN:VCALENDAR\r\n",
        "VERSION:2.0\r\n",
        "PRODID:-//Yiqi//Instrument bookings//EN\r\n",
        "X-WR-CALNAME:Yiqi bookings / 仪器预约\r\n",
        "BEGIN:VEVENT\r\nUID:booking-42@yiqi\r\n",
        "DTSTAMP:20261120T040005Z\r\n",
        "DTSTART:20261201T010000Z\r\n",
        "DTEND:20261201T023000Z\r\n",
        "SUMMARY:场发射扫描电镜 / Field-emission SEM\r\n",
        "LOCATION:Room 301\\, Building 5\r\n",
        "DESCRIPTION:Line one\\nLine two\\; with\\, punctuation \\\\ and a backslash\r\n",
        "STATUS:CONFIRMED\r\n",
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(u, want[i]))
            fail_msg("missing %s in:\n%s", want[i], u);
    assert_int_equal(strncmp(u, "BEGIN:VCALENDAR\r\n", 17), 0);
    assert_string_equal(u + strlen(u) - 15, "END:VCALENDAR\r\n");
    free(u);
    free(text);
}

/* Folding: ASCII exactly at and past 75 octets, and Chinese text whose
 * three-byte characters straddle every possible cut. */
static void test_folding(void **state) {
    (void)state;
    char ascii[400];
    for (size_t len = 60; len < 300; len += 7) {
        memset(ascii, 'x', len);
        ascii[len] = '\0';
        yq_ical_event_t ev = {.uid = "u", .start = 0, .end = 60, .summary = ascii, .stamp = 0};
        yq_buf_t b = {0};
        assert_int_equal(yq_ical_write(&b, NULL, &ev, 1), 0);
        check_lines(b.data);
        char *u = unfold(b.data);
        char line[420];
        snprintf(line, sizeof line, "\r\nSUMMARY:%s\r\n", ascii);
        assert_non_null(strstr(u, line));
        free(u);
        yq_buf_free(&b);
    }
    /* "SUMMARY:" is 8 octets; a run of 仪 (3 octets) after a prefix of k
     * ASCII letters puts the 75-octet cut at every offset inside a
     * character. Add a 4-octet emoji too. */
    for (int k = 0; k < 4; k++) {
        char s[600] = "";
        memset(s, 'a', (size_t)k);
        for (int i = 0; i < 60; i++)
            strcat(s, i % 17 == 16 ? "\xF0\x9F\x94\xAC" : "仪");
        yq_ical_event_t ev = {.uid = "u", .start = 0, .end = 60, .summary = s, .stamp = 0};
        char *text = yq_ical_calendar(NULL, &ev, 1);
        check_lines(text);
        char *u = unfold(text);
        char line[700];
        snprintf(line, sizeof line, "\r\nSUMMARY:%s\r\n", s);
        assert_non_null(strstr(u, line));
        /* Some line of the folded text is a continuation. */
        assert_non_null(strstr(text, "\r\n "));
        free(u);
        free(text);
    }
    /* A line of exactly 75 octets is not folded; 76 is. */
    char s75[80];
    memset(s75, 'y', 67); /* 8 + 67 = 75 */
    s75[67] = '\0';
    yq_ical_event_t ev = {.uid = "u", .start = 0, .end = 60, .summary = s75};
    char *text = yq_ical_calendar(NULL, &ev, 1);
    assert_null(strstr(text, "\r\n "));
    free(text);
    strcat(s75, "y");
    text = yq_ical_calendar(NULL, &ev, 1);
    assert_non_null(strstr(text, "\r\nSUMMARY:"));
    assert_non_null(strstr(text, "yyy\r\n y\r\n"));
    free(text);
}

static void test_escaping(void **state) {
    (void)state;
    static const struct {
        const char *in, *out;
    } e[] = {
        {"a,b", "a\\,b"},
        {"a;b", "a\\;b"},
        {"a\\b", "a\\\\b"},
        {"a\nb", "a\\nb"},
        {"a\r\nb", "a\\nb"},
        {"a\rb", "a\\nb"},
        {"tab\there", "tab\there"},
        {"bell\a!", "bell !"},
        {"bad \xFF byte", "bad \xEF\xBF\xBD byte"},
        {"cut \xE4\xBB", "cut \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"colon: fine", "colon: fine"},
        {"\"quoted\"", "\"quoted\""},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        yq_ical_event_t ev = {.uid = "u", .start = 0, .end = 60, .location = e[i].in};
        char *text = yq_ical_calendar(NULL, &ev, 1);
        char want[100];
        snprintf(want, sizeof want, "\r\nLOCATION:%s\r\n", e[i].out);
        if (!strstr(text, want))
            fail_msg("escaping '%s': want %s in\n%s", e[i].in, want, text);
        free(text);
    }
}

static void test_status_and_times(void **state) {
    (void)state;
    static const struct {
        const char *in, *out;
    } s[] = {
        {"pending", "TENTATIVE"},
        {"confirmed", "CONFIRMED"},
        {"in_use", "CONFIRMED"},
        {"completed", "CONFIRMED"},
        {"cancelled", "CANCELLED"},
        {"rejected", "CANCELLED"},
        {"no_show", "CANCELLED"},
        {"CANCELLED", "CANCELLED"},
        {"weird", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        yq_ical_event_t ev = {.uid = "u", .start = 0, .end = 60, .status = s[i].in};
        char *text = yq_ical_calendar(NULL, &ev, 1);
        if (s[i].out) {
            char want[40];
            snprintf(want, sizeof want, "\r\nSTATUS:%s\r\n", s[i].out);
            assert_non_null(strstr(text, want));
        } else {
            assert_null(strstr(text, "STATUS:"));
        }
        free(text);
    }
    char t[17];
    assert_int_equal(yq_ical_utc(0, t), 0);
    assert_string_equal(t, "19700101T000000Z");
    assert_int_equal(yq_ical_utc(-1, t), 0);
    assert_string_equal(t, "19691231T235959Z");
    assert_int_equal(yq_ical_utc(T("2028-02-29T23:59:59+08:00"), t), 0);
    assert_string_equal(t, "20280229T155959Z");
    assert_int_equal(yq_ical_utc(253402300799LL, t), 0);
    assert_string_equal(t, "99991231T235959Z");
    assert_int_equal(yq_ical_utc(253402300800LL, t), YQ_DOM_EINVAL);
}

static void test_invalid(void **state) {
    (void)state;
    yq_ical_event_t ev[] = {
        {.uid = "good", .start = 0, .end = 60},
        {.uid = "", .start = 0, .end = 60},      /* no uid */
        {.uid = "flat", .start = 60, .end = 60}, /* end <= start */
        {.uid = "far", .start = 0, .end = 300000000000LL},
    };
    yq_buf_t b = {0};
    yq_buf_puts(&b, "keep");
    assert_int_equal(yq_ical_write(&b, "x", ev, 4), YQ_DOM_EINVAL);
    assert_string_equal(b.data, "keep"); /* nothing appended */
    assert_int_equal(yq_ical_write(&b, "x", NULL, 1), YQ_DOM_EINVAL);
    assert_int_equal(yq_ical_write(NULL, "x", ev, 1), YQ_DOM_EINVAL);
    assert_int_equal(yq_ical_write(&b, NULL, NULL, 0), 0); /* an empty calendar */
    assert_non_null(strstr(b.data, "keepBEGIN:VCALENDAR\r\n"));
    assert_null(strstr(b.data, "VEVENT"));
    yq_buf_free(&b);
    /* The feed leaves invalid events out instead of failing. */
    char *text = yq_ical_calendar(NULL, ev, 4);
    assert_non_null(strstr(text, "UID:good"));
    assert_null(strstr(text, "UID:flat"));
    assert_null(strstr(text, "UID:far"));
    size_t events = 0;
    for (const char *p = text; (p = strstr(p, "BEGIN:VEVENT")); p++)
        events++;
    assert_int_equal(events, 1);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),         cmocka_unit_test(test_folding), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_status_and_times), cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
