/* Time conversions: see timeutil.h. Civil-date algorithms after H. Hinnant's
 * "chrono-compatible low-level date algorithms". */
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_offset;
static int clock_offset_loaded;

void yq_clock_set_offset(int64_t seconds) {
    clock_offset = seconds;
    clock_offset_loaded = 1;
}

int64_t yq_now(void) {
    if (!clock_offset_loaded) {
        const char *s = getenv("YIQI_CLOCK_OFFSET");
        clock_offset = s ? strtoll(s, NULL, 10) : 0;
        clock_offset_loaded = 1;
    }
    /* Not time(NULL): glibc reads that from the coarse clock, which can
     * trail the real one by a tick, so an "end = now" sent by a client just
     * after a second began was refused as in the future. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec + clock_offset;
}

int64_t yq_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void yq_civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (mm <= 2));
    *m = mm;
    *d = dd;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void put_digits(char *p, int v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* Written digit by digit: every instant of every answer passes here, and
 * snprintf took as long as the rest of a booking's JSON together. */
void yq_time_format(int64_t t, char *out) {
    int64_t local = t + YQ_LOCAL_OFFSET;
    int64_t days = floor_div(local, 86400);
    int secs = (int)(local - days * 86400);
    int y, m, d;
    yq_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* never from yq_time_parse; still written as what it is */
        char wide[64];
        int n = snprintf(wide, sizeof wide, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d, secs / 3600, secs / 60 % 60,
                         secs % 60);
        n = n < 0 ? 0 : n < YQ_TIME_STRLEN ? n : YQ_TIME_STRLEN - 1;
        memcpy(out, wide, (size_t)n);
        out[n] = '\0';
        return;
    }
    memcpy(out, "0000-00-00T00:00:00+08:00", sizeof "0000-00-00T00:00:00+08:00");
    put_digits(out, y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, secs / 3600, 2);
    put_digits(out + 14, secs / 60 % 60, 2);
    put_digits(out + 17, secs % 60, 2);
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

int yq_date_parse(const char *s, int *y, int *m, int *d) {
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (digits(s, 4, y) || digits(s + 5, 2, m) || digits(s + 8, 2, d))
        return -1;
    if (*y < 1900 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -1;
    return 0;
}

int yq_time_parse(const char *s, int64_t *out) {
    int y, mo, d, h, mi, se, oh = 0, om = 0;
    if (!s || strlen(s) < 20)
        return -1;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    if (yq_date_parse(date, &y, &mo, &d))
        return -1;
    if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -1;
    if (digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    if (h > 23 || mi > 59 || se > 59)
        return -1;
    const char *z = s + 19;
    if (*z == '.') { /* time-secfrac: whole seconds are kept (the fraction is dropped) */
        size_t n = strspn(z + 1, "0123456789");
        if (n == 0 || n > 9)
            return -1;
        z += 1 + n;
    }
    int sign = 0;
    if ((z[0] == 'Z' || z[0] == 'z') && z[1] == '\0') {
        sign = 1;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
        if (digits(z + 1, 2, &oh) || digits(z + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        sign = z[0] == '+' ? 1 : -1;
    } else {
        return -1;
    }
    int64_t t = yq_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    /* Only instants that yq_time_format writes back as a four-digit year. */
    if (t + YQ_LOCAL_OFFSET >= yq_days_from_civil(10000, 1, 1) * 86400)
        return -1;
    *out = t;
    return 0;
}

void yq_local_date(int64_t t, int *y, int *m, int *d) {
    yq_civil_from_days(floor_div(t + YQ_LOCAL_OFFSET, 86400), y, m, d);
}

int yq_local_weekday(int64_t t) {
    int64_t days = floor_div(t + YQ_LOCAL_OFFSET, 86400);
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t w = (days + 3) % 7;
    if (w < 0)
        w += 7;
    return (int)w + 1;
}

int yq_local_minute_of_day(int64_t t) {
    int64_t local = t + YQ_LOCAL_OFFSET;
    return (int)((local - floor_div(local, 86400) * 86400) / 60);
}

int64_t yq_local_midnight(int64_t t) {
    return floor_div(t + YQ_LOCAL_OFFSET, 86400) * 86400 - YQ_LOCAL_OFFSET;
}

void yq_period_of(int64_t t, char *out) {
    int y, m, d;
    yq_local_date(t, &y, &m, &d);
    snprintf(out, 8, "%04d-%02d", (y % 10000 + 10000) % 10000, (m % 100 + 100) % 100);
}

int yq_period_bounds(const char *p, int64_t *from, int64_t *to) {
    int y, m;
    if (!p || strlen(p) != 7 || p[4] != '-' || digits(p, 4, &y) || digits(p + 5, 2, &m))
        return -1;
    if (y < 1900 || m < 1 || m > 12)
        return -1;
    *from = yq_days_from_civil(y, m, 1) * 86400 - YQ_LOCAL_OFFSET;
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    *to = yq_days_from_civil(ny, nm, 1) * 86400 - YQ_LOCAL_OFFSET;
    return 0;
}
