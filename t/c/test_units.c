/*
 * Durations, sizes and rates: every accepted spelling, every refusal
 * with its reason, and canonical forms that parse back to themselves.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tap.h"
#include "units.h"

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

static void
dur_ok(const char *s, uint64_t want)
{
	const char	*why = NULL;
	uint64_t	 ms = 12345;
	int		 rc;

	rc = parse_duration(s, &ms, &why);
	if (!ok(rc == 0 && ms == want, "duration \"%s\" = %llums", s,
	    (unsigned long long)want))
		diag("rc %d ms %llu why %s", rc, (unsigned long long)ms,
		    why ? why : "-");
}

static void
dur_bad(const char *s, const char *want)
{
	const char	*why = NULL;
	uint64_t	 ms = 12345;
	int		 rc;

	rc = parse_duration(s, &ms, &why);
	ok(rc == -1 && ms == 12345, "duration \"%s\" refused", s);
	is_str(why, want, "duration \"%s\": why", s);
}

static void
size_ok(const char *s, uint64_t want)
{
	const char	*why = NULL;
	uint64_t	 b = 12345;
	int		 rc;

	rc = parse_size(s, &b, &why);
	if (!ok(rc == 0 && b == want, "size \"%s\" = %llu", s,
	    (unsigned long long)want))
		diag("rc %d bytes %llu why %s", rc, (unsigned long long)b,
		    why ? why : "-");
}

static void
size_bad(const char *s, const char *want)
{
	const char	*why = NULL;
	uint64_t	 b = 12345;
	int		 rc;

	rc = parse_size(s, &b, &why);
	ok(rc == -1 && b == 12345, "size \"%s\" refused", s);
	is_str(why, want, "size \"%s\": why", s);
}

static void
rate_ok(const char *s, uint64_t n, uint64_t per_ms)
{
	const char	*why = NULL;
	struct rate	 r = { 7, 7 };
	int		 rc;

	rc = parse_rate(s, &r, &why);
	if (!ok(rc == 0 && r.n == n && r.per_ms == per_ms,
	    "rate \"%s\" = %llu per %llums", s, (unsigned long long)n,
	    (unsigned long long)per_ms))
		diag("rc %d n %llu per %llu why %s", rc,
		    (unsigned long long)r.n, (unsigned long long)r.per_ms,
		    why ? why : "-");
}

static void
rate_bad(const char *s, const char *want)
{
	const char	*why = NULL;
	struct rate	 r = { 7, 7 };
	int		 rc;

	rc = parse_rate(s, &r, &why);
	ok(rc == -1 && r.n == 7 && r.per_ms == 7, "rate \"%s\" refused", s);
	is_str(why, want, "rate \"%s\": why", s);
}

static void
test_durations(void)
{
	dur_ok("0s", 0);
	dur_ok("0ms", 0);
	dur_ok("500ms", 500);
	dur_ok("90s", 90 * SEC);
	dur_ok("20m", 20 * MIN);
	dur_ok("1h", HOUR);
	dur_ok("7d", 7 * DAY);
	dur_ok("1w", 7 * DAY);
	dur_ok("2 hours", 2 * HOUR);
	dur_ok("1 hour", HOUR);
	dur_ok("3 hrs", 3 * HOUR);
	dur_ok("3hr", 3 * HOUR);
	dur_ok("5 minutes", 5 * MIN);
	dur_ok("1 minute", MIN);
	dur_ok("2min", 2 * MIN);
	dur_ok("2 mins", 2 * MIN);
	dur_ok("3 days", 3 * DAY);
	dur_ok("1 day", DAY);
	dur_ok("2 weeks", 14 * DAY);
	dur_ok("1 week", 7 * DAY);
	dur_ok("30 sec", 30 * SEC);
	dur_ok("30 secs", 30 * SEC);
	dur_ok("1 second", SEC);
	dur_ok("30 seconds", 30 * SEC);
	dur_ok("250 msec", 250);
	dur_ok("250 millis", 250);
	dur_ok("1h 30m", 90 * MIN);
	dur_ok("1h30m", 90 * MIN);
	dur_ok("1 hour 30 minutes 5 seconds", HOUR + 30 * MIN + 5 * SEC);
	dur_ok("1s 500ms", 1500);
	dur_ok("2000us", 2);
	dur_ok("3000000ns", 3);
	dur_ok("1000 usec 1000000 nsec", 2);
	dur_ok("1000\xc2\xb5s", 1);
	dur_ok("1M", 2630016 * SEC);
	dur_ok("1 month", 2630016 * SEC);
	dur_ok("1y", 31557600 * SEC);
	dur_ok("2 years", 2 * 31557600 * SEC);
	dur_ok(" 5s ", 5 * SEC);
	dur_ok("18446744073709551615ms", UINT64_MAX);

	dur_bad("", "empty duration");
	dur_bad("   ", "empty duration");
	dur_bad("-5s", "negative duration");
	dur_bad("90", "missing unit (ms, s, m, h or d)");
	dur_bad("1h 30", "missing unit (ms, s, m, h or d)");
	dur_bad("90 s!", "expected a number");
	dur_bad("abc", "expected a number");
	dur_bad("s", "expected a number");
	dur_bad("+5s", "expected a number");
	dur_bad("5x", "unknown unit; use ms, s, m, h or d");
	dur_bad("5 fortnights", "unknown unit; use ms, s, m, h or d");
	dur_bad("5S", "unknown unit; use ms, s, m, h or d");
	dur_bad("1.5h", "fractions are not supported; "
	    "use a smaller unit, e.g. \"1500ms\"");
	dur_bad("18446744073709551616ms", "too large");
	dur_bad("18446744073709551615s", "too large");
	dur_bad("18446744073709551615ms 1ms", "too large");
	dur_bad("99999999999999999999999d", "too large");
	dur_bad("500us", "not a whole number of milliseconds");
	dur_bad("1ns", "not a whole number of milliseconds");
}

static void
test_sizes(void)
{
	size_ok("0", 0);
	size_ok("123", 123);
	size_ok("123B", 123);
	size_ok("1KiB", 1024);
	size_ok("64MiB", 64ULL << 20);
	size_ok("4GiB", 4ULL << 30);
	size_ok("2TiB", 2ULL << 40);
	size_ok("1 MiB", 1ULL << 20);
	size_ok("16777215TiB", 16777215ULL << 40);
	size_ok("18446744073709551615", UINT64_MAX);

	size_bad("", "empty size");
	size_bad("-1MiB", "negative size");
	size_bad("MiB", "expected a number");
	size_bad(" 1MiB", "expected a number");
	size_bad("4XB", "unknown unit; use B, KiB, MiB, GiB or TiB");
	size_bad("4b", "unknown unit; use B, KiB, MiB, GiB or TiB");
	size_bad("4GiB!", "unknown unit; use B, KiB, MiB, GiB or TiB");
	size_bad("4KB", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4MB", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4GB", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4TB", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4k", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4G", "ambiguous unit; use KiB, MiB or GiB "
	    "(powers of 1024)");
	size_bad("4gib",
	    "units are case-sensitive; write KiB, MiB, GiB or TiB");
	size_bad("4MIB",
	    "units are case-sensitive; write KiB, MiB, GiB or TiB");
	size_bad("1.5GiB", "fractions are not supported; "
	    "use a smaller unit, e.g. \"1536MiB\"");
	size_bad("16777216TiB", "too large");
	size_bad("18446744073709551616", "too large");
}

static void
test_rates(void)
{
	rate_ok("100/s", 100, SEC);
	rate_ok("100/sec", 100, SEC);
	rate_ok("100/second", 100, SEC);
	rate_ok("50/m", 50, MIN);
	rate_ok("50/min", 50, MIN);
	rate_ok("50/minute", 50, MIN);
	rate_ok("10/h", 10, HOUR);
	rate_ok("10/hr", 10, HOUR);
	rate_ok("10/hour", 10, HOUR);
	rate_ok("3/d", 3, DAY);
	rate_ok("3/day", 3, DAY);
	rate_ok("1,000/s", 1000, SEC);
	rate_ok("10_000/h", 10000, HOUR);
	rate_ok("1_0,0/hour", 100, HOUR);
	rate_ok("none", 0, 0);

	rate_bad("", "empty rate");
	rate_bad("100", "missing period; write N/s, N/min, N/h or N/d");
	rate_bad("1,000", "missing period; write N/s, N/min, N/h or N/d");
	rate_bad("-1/s", "negative rate");
	rate_bad("/s", "expected a number");
	rate_bad("three/hour", "expected a number");
	rate_bad("1x/s", "bad number");
	rate_bad("1 /s", "bad number");
	rate_bad("0/s", "limit must be greater than 0");
	rate_bad("0,000/s", "limit must be greater than 0");
	rate_bad("100/our", "unknown period; use s, sec, second, m, min, "
	    "minute, h, hr, hour, d or day");
	rate_bad("100/", "unknown period; use s, sec, second, m, min, "
	    "minute, h, hr, hour, d or day");
	rate_bad("100/S", "unknown period; use s, sec, second, m, min, "
	    "minute, h, hr, hour, d or day");
	rate_bad("100/5s", "unknown period; use s, sec, second, m, min, "
	    "minute, h, hr, hour, d or day");
	rate_bad("local:100/s", "expected a number");
	rate_bad("18446744073709551616/s", "too large");
}

static void
dur_round(uint64_t ms, const char *want)
{
	char		 buf[64];
	const char	*why;
	uint64_t	 back = 1;

	fmt_duration(ms, buf, sizeof(buf));
	is_str(buf, want, "fmt_duration(%llu)", (unsigned long long)ms);
	ok(parse_duration(buf, &back, &why) == 0 && back == ms,
	    "\"%s\" parses back", buf);
}

static void
size_round(uint64_t b, const char *want)
{
	char		 buf[64];
	const char	*why;
	uint64_t	 back = 1;

	fmt_size(b, buf, sizeof(buf));
	is_str(buf, want, "fmt_size(%llu)", (unsigned long long)b);
	ok(parse_size(buf, &back, &why) == 0 && back == b,
	    "\"%s\" parses back", buf);
}

static void
rate_round(uint64_t n, uint64_t per_ms, const char *want)
{
	char		 buf[64];
	const char	*why;
	struct rate	 r = { n, per_ms }, back = { 1, 1 };

	fmt_rate(&r, buf, sizeof(buf));
	is_str(buf, want, "fmt_rate(%llu, %llu)", (unsigned long long)n,
	    (unsigned long long)per_ms);
	ok(parse_rate(buf, &back, &why) == 0 && back.n == r.n &&
	    back.per_ms == r.per_ms, "\"%s\" parses back", buf);
}

static void
test_fmt(void)
{
	char	 buf[64];
	struct rate r = { 5, 5000 };

	dur_round(0, "0s");
	dur_round(1, "1ms");
	dur_round(1500, "1500ms");
	dur_round(90 * SEC, "90s");
	dur_round(20 * MIN, "20m");
	dur_round(90 * MIN, "90m");
	dur_round(HOUR, "1h");
	dur_round(36 * HOUR, "36h");
	dur_round(7 * DAY, "7d");
	dur_round(UINT64_MAX, "18446744073709551615ms");

	size_round(0, "0B");
	size_round(1, "1B");
	size_round(1023, "1023B");
	size_round(1024, "1KiB");
	size_round(1536, "1536B");
	size_round(3 << 19, "1536KiB");
	size_round(1ULL << 20, "1MiB");
	size_round(64ULL << 20, "64MiB");
	size_round(4ULL << 30, "4GiB");
	size_round(1ULL << 40, "1TiB");
	size_round(UINT64_MAX, "18446744073709551615B");

	rate_round(100, SEC, "100/s");
	rate_round(100, MIN, "100/min");
	rate_round(10000, HOUR, "10000/h");
	rate_round(3, DAY, "3/d");
	rate_round(0, 0, "none");

	fmt_rate(&r, buf, sizeof(buf));
	is_str(buf, "5/5000ms", "fmt_rate of a period parse_rate never gives");
	fmt_duration(7 * DAY, buf, 3);
	is_str(buf, "7d", "fmt_duration fits a small buffer");
	fmt_size(4ULL << 30, buf, 3);
	is_str(buf, "4G", "fmt_size truncates, NUL-terminated");
}

int
main(void)
{
	test_durations();
	test_sizes();
	test_rates();
	test_fmt();
	return done_testing();
}
