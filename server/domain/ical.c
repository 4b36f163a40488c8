/*
 * RFC 5545 writer: each content line is first built unfolded in a scratch
 * buffer (name, parameters, escaped value), then copied to the output with
 * folding, so escaping and folding stay independent. See ical.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "domain/errors.h"
#include "domain/ical.h"

#define FOLD_OCTETS 75
#define MIN_TIME (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define MAX_TIME (253402300799LL) /* 9999-12-31T23:59:59Z */

int yq_ical_utc(int64_t t, char out[17]) {
    if (t < MIN_TIME || t > MAX_TIME)
        return YQ_DOM_EINVAL;
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int y, m, d;
    yq_civil_from_days(days, &y, &m, &d);
    snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is
 * not one (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0xFF >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Appends s as an escaped TEXT value (RFC 5545 3.3.11). */
static void put_text(yq_buf_t *b, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '\\' || c == ';' || c == ',') {
            yq_buf_putc(b, '\\');
            yq_buf_putc(b, (char)c);
            i++;
        } else if (c == '\r' || c == '\n') {
            yq_buf_puts(b, "\\n");
            i += (c == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            yq_buf_putc(b, ' ');
            i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len)
                yq_buf_append(b, s + i, len);
            else
                yq_buf_puts(b, "\xEF\xBF\xBD");
            i += len ? len : 1;
        }
    }
}

/* Appends one content line to out, folded at 75 octets, with CRLF. A cut is
 * moved back while the next byte continues a UTF-8 sequence; the line is
 * valid UTF-8 (put_text sees to that), so a piece never becomes empty. */
static void put_folded(yq_buf_t *out, const char *line, size_t len) {
    size_t pos = 0, room = FOLD_OCTETS;
    while (len - pos > room) {
        size_t cut = pos + room;
        while (cut > pos + 1 && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--;
        yq_buf_append(out, line + pos, cut - pos);
        yq_buf_puts(out, "\r\n ");
        pos = cut;
        room = FOLD_OCTETS - 1; /* the leading space counts */
    }
    yq_buf_append(out, line + pos, len - pos);
    yq_buf_puts(out, "\r\n");
}

/* NAME:value with value escaped as TEXT (raw: copied as is). */
static void put_prop(yq_buf_t *out, yq_buf_t *scratch, const char *name, const char *value, int raw) {
    yq_buf_reset(scratch);
    yq_buf_puts(scratch, name);
    yq_buf_putc(scratch, ':');
    if (raw)
        yq_buf_puts(scratch, value);
    else
        put_text(scratch, value);
    put_folded(out, scratch->data, scratch->len);
}

static const char *ical_status(const char *s) {
    static const char *const map[][2] = {
        {"pending", "TENTATIVE"},   {"confirmed", "CONFIRMED"}, {"in_use", "CONFIRMED"},  {"completed", "CONFIRMED"},
        {"cancelled", "CANCELLED"}, {"rejected", "CANCELLED"},  {"no_show", "CANCELLED"}, {"TENTATIVE", "TENTATIVE"},
        {"CONFIRMED", "CONFIRMED"}, {"CANCELLED", "CANCELLED"},
    };
    for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static int event_valid(const yq_ical_event_t *e) {
    char t[17];
    return e->uid && e->uid[0] && e->end > e->start && yq_ical_utc(e->start, t) == 0 && yq_ical_utc(e->end, t) == 0 &&
           yq_ical_utc(e->stamp, t) == 0;
}

static void put_event(yq_buf_t *out, yq_buf_t *scratch, const yq_ical_event_t *e) {
    char t[17];
    put_prop(out, scratch, "BEGIN", "VEVENT", 1);
    put_prop(out, scratch, "UID", e->uid, 0);
    yq_ical_utc(e->stamp, t);
    put_prop(out, scratch, "DTSTAMP", t, 1);
    yq_ical_utc(e->start, t);
    put_prop(out, scratch, "DTSTART", t, 1);
    yq_ical_utc(e->end, t);
    put_prop(out, scratch, "DTEND", t, 1);
    if (e->summary && e->summary[0])
        put_prop(out, scratch, "SUMMARY", e->summary, 0);
    if (e->location && e->location[0])
        put_prop(out, scratch, "LOCATION", e->location, 0);
    if (e->description && e->description[0])
        put_prop(out, scratch, "DESCRIPTION", e->description, 0);
    const char *status = ical_status(e->status);
    if (status)
        put_prop(out, scratch, "STATUS", status, 1);
    put_prop(out, scratch, "END", "VEVENT", 1);
}

/* Writes the calendar; with skip_invalid, invalid events are left out,
 * otherwise the caller has checked them all. */
static void put_calendar(yq_buf_t *out, const char *calname, const yq_ical_event_t *ev, size_t n, int skip_invalid) {
    yq_buf_t scratch = {0};
    put_prop(out, &scratch, "BEGIN", "VCALENDAR", 1);
    put_prop(out, &scratch, "VERSION", "2.0", 1);
    put_prop(out, &scratch, "PRODID", "-//Yiqi//Instrument bookings//EN", 1);
    put_prop(out, &scratch, "CALSCALE", "GREGORIAN", 1);
    put_prop(out, &scratch, "METHOD", "PUBLISH", 1);
    if (calname && calname[0])
        put_prop(out, &scratch, "X-WR-CALNAME", calname, 0);
    for (size_t i = 0; i < n; i++)
        if (!skip_invalid || event_valid(&ev[i]))
            put_event(out, &scratch, &ev[i]);
    put_prop(out, &scratch, "END", "VCALENDAR", 1);
    yq_buf_free(&scratch);
}

int yq_ical_write(yq_buf_t *out, const char *calname, const yq_ical_event_t *ev, size_t n) {
    if (!out || (!ev && n))
        return YQ_DOM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!event_valid(&ev[i]))
            return YQ_DOM_EINVAL;
    put_calendar(out, calname, ev, n, 0);
    return 0;
}

char *yq_ical_calendar(const char *calname, const yq_ical_event_t *ev, size_t n) {
    yq_buf_t out = {0};
    put_calendar(&out, calname, ev, ev ? n : 0, 1);
    return yq_buf_steal(&out);
}
