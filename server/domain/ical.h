/*
 * iCalendar text (RFC 5545) for a list of bookings: one VCALENDAR with a
 * VEVENT per booking, for the private calendar feed.
 *
 * - Lines end in CRLF and are folded at 75 octets (RFC 5545 3.1): a long
 *   line is cut into pieces of at most 75 octets, each continuation line
 *   starting with one space (which counts towards its 75); a cut never falls
 *   inside a UTF-8 sequence.
 * - TEXT values (SUMMARY, LOCATION, DESCRIPTION, UID, X-WR-CALNAME) are
 *   escaped per RFC 5545 3.3.11: backslash, semicolon and comma get a
 *   backslash, a line break (CRLF, LF or CR) becomes \n; other control
 *   characters, which TEXT does not allow, become a space, and bytes that are
 *   not valid UTF-8 become U+FFFD, so the output is always valid UTF-8.
 * - DATE-TIME values are UTC: YYYYMMDDTHHMMSSZ (3.3.5, form #2), so no
 *   VTIMEZONE is needed.
 * - STATUS maps the booking's state: pending -> TENTATIVE; confirmed,
 *   in_use, completed -> CONFIRMED; cancelled, rejected, no_show ->
 *   CANCELLED (calendar applications then remove the event). The three
 *   iCalendar values themselves are accepted too; anything else (or NULL)
 *   leaves STATUS out.
 */
#ifndef YQ_DOMAIN_ICAL_H
#define YQ_DOMAIN_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* One event; strings are borrowed UTF-8 (NULL or "" leaves an optional
 * property out). */
typedef struct {
    const char *uid;         /* required, globally unique ("booking-42@yiqi") */
    int64_t start, end;      /* UTC seconds, end > start */
    const char *summary;     /* SUMMARY */
    const char *location;    /* LOCATION */
    const char *description; /* DESCRIPTION */
    const char *status;      /* booking status or TENTATIVE/CONFIRMED/CANCELLED */
    int64_t stamp;           /* DTSTAMP: when the booking last changed */
} yq_ical_event_t;

/* Appends a whole VCALENDAR to out (a zero-initialised or used yq_buf_t;
 * the caller frees it with yq_buf_free). calname (may be NULL) becomes
 * X-WR-CALNAME. Returns 0; YQ_DOM_EINVAL when out is NULL, ev is NULL with
 * n > 0, or an event is invalid (no uid, end <= start, or an instant outside
 * the years 0001 ... 9999) — then nothing is appended. */
int yq_ical_write(yq_buf_t *out, const char *calname, const yq_ical_event_t *ev, size_t n);

/* The same as a malloc'd NUL-terminated string the caller free()s, never
 * NULL: invalid events are left out rather than failing the feed. */
char *yq_ical_calendar(const char *calname, const yq_ical_event_t *ev, size_t n);

/* Writes t as "YYYYMMDDTHHMMSSZ" into out (17 bytes). Returns 0, or
 * YQ_DOM_EINVAL when the year falls outside 0001 ... 9999. */
int yq_ical_utc(int64_t t, char out[17]);

#endif
