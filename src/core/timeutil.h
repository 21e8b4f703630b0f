/* Wall-clock and monotonic time, and the ISO 8601 forms the APIs use. */
#ifndef TS_CORE_TIMEUTIL_H
#define TS_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TS_ISO8601_LEN 24 /* "2026-11-25T14:11:53.123Z" */

/* Units, for conversions written once with their names. */
#define TS_MS_PER_S INT64_C(1000)
#define TS_US_PER_S INT64_C(1000000)
#define TS_NS_PER_US INT64_C(1000)
#define TS_NS_PER_MS INT64_C(1000000)
#define TS_NS_PER_S INT64_C(1000000000)
#define TS_S_PER_MIN 60

/* Milliseconds since the Unix epoch. */
int64_t ts_now_ms(void);
/* Monotonic nanoseconds, for durations. */
int64_t ts_mono_ns(void);
/* The time ns from now on clock (CLOCK_MONOTONIC, CLOCK_REALTIME): a timed wait's deadline. */
struct timespec ts_deadline(clockid_t clock, int64_t ns);
/* ms since epoch as "YYYY-MM-DDTHH:MM:SSZ" (millis dropped) into out (>= 25 bytes). */
void ts_time_iso(int64_t ms, char *out);
/* ms since epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25 bytes). */
void ts_time_iso_ms(int64_t ms, char *out);
/* Parses an RFC 3339 time (Z or offset, optional fraction) into ms; false when malformed. */
bool ts_time_parse(const char *s, int64_t *ms);

#endif
