/*
 * Time: instants are int64 UTC seconds; the API speaks RFC 3339 with an
 * offset and answers in +08:00; local time is Asia/Shanghai, which has kept
 * UTC+8 without daylight saving since 1991, so local arithmetic is a fixed
 * offset. Pure functions, no I/O (yq_now() reads the clock).
 */
#ifndef YQ_CORE_TIMEUTIL_H
#define YQ_CORE_TIMEUTIL_H

#include <stdint.h>

#define YQ_LOCAL_OFFSET (8 * 3600)
#define YQ_TIME_STRLEN 32

/* UTC seconds now, shifted by YIQI_CLOCK_OFFSET seconds when that variable is
 * set (tests use it to move the server's clock forward). */
int64_t yq_now(void);
void yq_clock_set_offset(int64_t seconds);

/* Writes "2026-12-01T09:00:00+08:00" into out (at least YQ_TIME_STRLEN bytes). */
void yq_time_format(int64_t t, char *out);
/* Parses RFC 3339 date-time with "Z" or "+hh:mm"/"-hh:mm"; fractional seconds
 * (up to 9 digits, as JavaScript's toISOString writes) are dropped, so an
 * instant is always whole seconds. Years 1900-9999; an instant whose local
 * (+08:00) year would pass 9999 is refused, so every parsed instant can be
 * written back. Returns 0, or -1 when the text is not such a time. */
int yq_time_parse(const char *s, int64_t *out);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t yq_days_from_civil(int y, int m, int d);
void yq_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Local (Asia/Shanghai) views of an instant. */
int yq_local_weekday(int64_t t);       /* ISO 8601: 1 = Monday ... 7 = Sunday */
int yq_local_minute_of_day(int64_t t); /* 0 ... 1439 */
int64_t yq_local_midnight(int64_t t);  /* UTC instant of the local midnight starting t's day */
void yq_local_date(int64_t t, int *y, int *m, int *d);
/* "2026-11" for the local month holding t; out holds at least 8 bytes. */
void yq_period_of(int64_t t, char *out);
/* Parses "YYYY-MM" and gives the UTC instants of the local month's start and
 * the next month's start. Returns 0, or -1 when malformed. */
int yq_period_bounds(const char *period, int64_t *from, int64_t *to);
/* Parses "YYYY-MM-DD" as a date; returns 0 or -1. */
int yq_date_parse(const char *s, int *y, int *m, int *d);

#endif
