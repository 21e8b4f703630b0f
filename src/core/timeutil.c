/* Time helpers. */
#include "core/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* struct tm counts years from 1900 (C11 §7.27.1) */
#define TM_YEAR_BASE 1900
/* the years written digit by digit; others go through strftime */
#define YEAR4_MIN 1000
#define YEAR4_MAX 9999
#define YEAR_DIGITS 4
#define MS_DIGITS 3
#define MONTHS 12
#define FEBRUARY 2
#define HOUR_MAX 23
#define MINUTE_MAX 59
#define SECOND_MAX 60 /* a leap second */
/*
 * RFC 3339 §5.6 date-time: "YYYY-MM-DDTHH:MM:SS" is 19 characters at fixed
 * places (the offsets below), then an optional fraction and the offset.
 */
#define DATE_TIME_LEN 19

int64_t ts_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * TS_MS_PER_S + ts.tv_nsec / TS_NS_PER_MS;
}

int64_t ts_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * TS_NS_PER_S + ts.tv_nsec;
}

struct timespec ts_deadline(clockid_t clock, int64_t ns)
{
	struct timespec t;
	clock_gettime(clock, &t);
	int64_t nsec = t.tv_nsec + ns % TS_NS_PER_S;
	t.tv_sec += (time_t)(ns / TS_NS_PER_S + nsec / TS_NS_PER_S);
	t.tv_nsec = (long)(nsec % TS_NS_PER_S);
	return t;
}

static void split(int64_t ms, struct tm *tm, int *frac)
{
	time_t s = (time_t)(ms / TS_MS_PER_S);
	*frac = (int)(ms % TS_MS_PER_S);
	if (*frac < 0) {
		*frac += (int)TS_MS_PER_S;
		s--;
	}
	gmtime_r(&s, tm);
}

/* n decimal digits of v (v >= 0), zero-padded; returns the end */
static char *put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * "YYYY-MM-DDTHH:MM:SS" then ".mmmZ" (with_ms) or "Z", into out (>= 25 bytes).
 * Written digit by digit (it is in every SCIM answer's meta, twice); strftime
 * for years outside four digits, where its width is its own.
 */
static void iso(int64_t ms, bool with_ms, char *out)
{
	struct tm tm;
	int frac;
	split(ms, &tm, &frac);
	int year = tm.tm_year + TM_YEAR_BASE;
	if (year < YEAR4_MIN || year > YEAR4_MAX) {
		char base[40];
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		if (with_ms)
			snprintf(out, TS_ISO8601_LEN + 1, "%.19s.%03dZ", base, frac);
		else
			snprintf(out, TS_ISO8601_LEN + 1, "%.19sZ", base);
		return;
	}
	char *p = put_digits(out, year, YEAR_DIGITS);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	if (with_ms) {
		*p++ = '.';
		p = put_digits(p, frac, MS_DIGITS);
	}
	*p++ = 'Z';
	*p = '\0';
}

void ts_time_iso(int64_t ms, char *out)
{
	iso(ms, false, out);
}

void ts_time_iso_ms(int64_t ms, char *out)
{
	iso(ms, true, out);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[MONTHS] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	/* the Gregorian rule (RFC 3339 Appendix C) */
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == FEBRUARY && leap ? days[FEBRUARY - 1] + 1 : days[m - 1];
}

bool ts_time_parse(const char *s, int64_t *ms)
{
	int Y, M, D, h, m, sec;
	if (strlen(s) < DATE_TIME_LEN + 1 || !digits(s, YEAR_DIGITS, &Y) || s[4] != '-' ||
	    !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	/* RFC 3339 §5.7: real calendar days; 60 seconds only for a leap second */
	if (M < 1 || M > MONTHS || D < 1 || D > days_in_month(Y, M) || h > HOUR_MAX ||
	    m > MINUTE_MAX || sec > SECOND_MAX)
		return false;
	const char *p = s + DATE_TIME_LEN;
	int frac = 0;
	if (*p == '.') {
		p++;
		int scale = (int)TS_MS_PER_S / 10, n = 0;
		while (isdigit((unsigned char)*p)) {
			if (n < MS_DIGITS)
				frac += (*p - '0') * scale;
			scale /= 10;
			n++;
			p++;
		}
		if (n == 0)
			return false;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
		    oh > HOUR_MAX || om > MINUTE_MAX)
			return false;
		offset_min = (oh * TS_S_PER_MIN + om) * (*p == '-' ? -1 : 1);
		p += sizeof "+HH:MM" - 1;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	struct tm tm = {0};
	tm.tm_year = Y - TM_YEAR_BASE;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)offset_min * TS_S_PER_MIN) * TS_MS_PER_S + frac;
	return true;
}
