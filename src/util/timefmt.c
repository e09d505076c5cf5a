/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm), so we
 * need neither timegm (not POSIX) nor the TZ environment. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void split(int64_t unix_us, struct tm *tm, long *frac_us)
{
    int64_t secs = unix_us / 1000000;
    int64_t frac = unix_us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    time_t t = (time_t)secs;
    gmtime_r(&t, tm);
    *frac_us = (long)frac;
}

/* Write `v` as exactly `n` decimal digits ending just before `end`. */
static void put_digits(char *end, unsigned long v, int n)
{
    for (int i = 0; i < n; i++, v /= 10)
        *--end = (char)('0' + v % 10);
}

/* Formatted by hand: the worker stamps every stored row, and snprintf cost more than the rest
 * of the row's bookkeeping together. */
void edw_stamp_format(int64_t unix_us, char out[EDW_STAMP_LEN + 1])
{
    struct tm tm;
    long frac;
    split(unix_us, &tm, &frac);
    memcpy(out, "0000-00-00 00:00:00.000000", EDW_STAMP_LEN + 1);
    put_digits(out + 4, (unsigned long)((tm.tm_year + 1900) % 10000), 4);
    put_digits(out + 7, (unsigned long)tm.tm_mon + 1, 2);
    put_digits(out + 10, (unsigned long)tm.tm_mday, 2);
    put_digits(out + 13, (unsigned long)tm.tm_hour, 2);
    put_digits(out + 16, (unsigned long)tm.tm_min, 2);
    put_digits(out + 19, (unsigned long)tm.tm_sec, 2);
    put_digits(out + 26, (unsigned long)frac, 6);
}

void edw_iso8601_ms(int64_t unix_us, char out[25])
{
    struct tm tm;
    long frac;
    split(unix_us, &tm, &frac);
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, frac / 1000);
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

/* Read exactly `n` digits at *p. */
static bool digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool edw_stamp_parse(const char *text, int64_t *unix_us_out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = text;
    unsigned y, mo, d, h, mi, s, frac = 0;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d) || !expect(&p, ' ') || !digits(&p, 2, &h) || !expect(&p, ':') ||
        !digits(&p, 2, &mi) || !expect(&p, ':') || !digits(&p, 2, &s))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        while (n < 6 && *p >= '0' && *p <= '9') {
            frac = frac * 10 + (unsigned)(*p - '0');
            p++;
            n++;
        }
        if (n == 0)
            return false;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil((int64_t)y, mo, d);
    int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)s;
    *unix_us_out = secs * 1000000 + (int64_t)frac;
    return true;
}

static const char *const s_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const s_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void edw_rfc1123_format(int64_t unix_us, char out[30])
{
    time_t t = (time_t)(unix_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[64]; /* roomy, so the compiler can see nothing is truncated */
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", s_days[tm.tm_wday % 7],
             tm.tm_mday, s_months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    size_t n = strlen(tmp);
    n = n < 29 ? n : 29; /* always 29 for years 0..9999 */
    memcpy(out, tmp, n);
    out[n] = '\0';
}

/* Parsed by hand (it runs for every message received): "Www, D[D] Mon YYYY HH:MM:SS GMT". */
bool edw_rfc1123_parse(const char *text, int64_t *unix_us_out)
{
    const char *p = text;
    for (int i = 0; i < 3; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
            return false;
    p += 3;
    if (!expect(&p, ',') || !expect(&p, ' '))
        return false;
    unsigned day, year, h, m, sec;
    bool two = p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9';
    if (!digits(&p, two ? 2 : 1, &day) || !expect(&p, ' '))
        return false;
    unsigned month = 0;
    while (month < 12 && strncmp(p, s_months[month], 3) != 0)
        month++;
    if (month == 12 || p[3] != ' ')
        return false;
    p += 4;
    if (!digits(&p, 4, &year) || !expect(&p, ' ') || !digits(&p, 2, &h) || !expect(&p, ':') ||
        !digits(&p, 2, &m) || !expect(&p, ':') || !digits(&p, 2, &sec) || strcmp(p, " GMT") != 0)
        return false;
    if (day < 1 || day > 31 || h > 23 || m > 59 || sec > 60)
        return false;
    int64_t days = days_from_civil((int64_t)year, month + 1, day);
    *unix_us_out = (((days * 24 + h) * 60 + m) * 60 + sec) * 1000000;
    return true;
}
