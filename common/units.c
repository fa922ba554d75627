/*
 * Durations, sizes and rates as spoold.conf and KumoMTA shaping files
 * spell them.
 *
 * Durations follow the humantime grammar KumoMTA uses ("90s", "2 hours",
 * "1h 30m"), sizes take binary units only, rates follow KumoMTA's
 * throttle specifications ("1,000/h"). Every rejection names its reason
 * so that a configuration error says what to write instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define MS_SECOND	1000ULL
#define MS_MINUTE	(60 * MS_SECOND)
#define MS_HOUR		(60 * MS_MINUTE)
#define MS_DAY		(24 * MS_HOUR)

struct dunit {
	const char	*name;
	uint64_t	 ms;	/* whole milliseconds per unit, or 0 */
	uint64_t	 ns;	/* nanoseconds per unit when below 1ms */
};

/* humantime's spellings, so that shaping files written for KumoMTA load. */
static const struct dunit dunits[] = {
	{ "nanos", 0, 1 }, { "nsec", 0, 1 }, { "ns", 0, 1 },
	{ "micros", 0, 1000 }, { "usec", 0, 1000 }, { "us", 0, 1000 },
	{ "\xc2\xb5s", 0, 1000 },
	{ "millis", 1, 0 }, { "msec", 1, 0 }, { "ms", 1, 0 },
	{ "seconds", MS_SECOND, 0 }, { "second", MS_SECOND, 0 },
	{ "secs", MS_SECOND, 0 }, { "sec", MS_SECOND, 0 },
	{ "s", MS_SECOND, 0 },
	{ "minutes", MS_MINUTE, 0 }, { "minute", MS_MINUTE, 0 },
	{ "mins", MS_MINUTE, 0 }, { "min", MS_MINUTE, 0 },
	{ "m", MS_MINUTE, 0 },
	{ "hours", MS_HOUR, 0 }, { "hour", MS_HOUR, 0 },
	{ "hrs", MS_HOUR, 0 }, { "hr", MS_HOUR, 0 }, { "h", MS_HOUR, 0 },
	{ "days", MS_DAY, 0 }, { "day", MS_DAY, 0 }, { "d", MS_DAY, 0 },
	{ "weeks", 7 * MS_DAY, 0 }, { "week", 7 * MS_DAY, 0 },
	{ "w", 7 * MS_DAY, 0 },
	/* humantime's month and year: 30.44 and 365.25 days */
	{ "months", 2630016 * MS_SECOND, 0 },
	{ "month", 2630016 * MS_SECOND, 0 },
	{ "M", 2630016 * MS_SECOND, 0 },
	{ "years", 31557600 * MS_SECOND, 0 },
	{ "year", 31557600 * MS_SECOND, 0 },
	{ "y", 31557600 * MS_SECOND, 0 },
};

struct sunit {
	const char	*name;
	uint64_t	 bytes;
};

static const struct sunit sunits[] = {
	{ "", 1 }, { "B", 1 },
	{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 },
	{ "GiB", 1ULL << 30 }, { "TiB", 1ULL << 40 },
};

struct runit {
	const char	*name;
	uint64_t	 ms;
};

static const struct runit runits[] = {
	{ "s", MS_SECOND }, { "sec", MS_SECOND }, { "second", MS_SECOND },
	{ "m", MS_MINUTE }, { "min", MS_MINUTE }, { "minute", MS_MINUTE },
	{ "h", MS_HOUR }, { "hr", MS_HOUR }, { "hour", MS_HOUR },
	{ "d", MS_DAY }, { "day", MS_DAY },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

static int
isdigit_c(int c)
{
	return c >= '0' && c <= '9';
}

static int
isspace_c(int c)
{
	return c == ' ' || c == '\t';
}

/* Letters of a unit; bytes >= 0x80 let "µs" through. */
static int
isunit_c(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (unsigned char)c >= 0x80;
}

static int
mul_add(uint64_t *acc, uint64_t n, uint64_t unit)
{
	uint64_t	 v;

	if (unit != 0 && n > UINT64_MAX / unit)
		return -1;
	v = n * unit;
	if (*acc > UINT64_MAX - v)
		return -1;
	*acc += v;
	return 0;
}

/* Decimal digits at *pp; -1 on overflow. */
static int
digits(const char **pp, uint64_t *n)
{
	const char	*p = *pp;
	uint64_t	 v = 0;

	for (; isdigit_c(*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*n = v;
	return 0;
}

static const struct dunit *
dunit_lookup(const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < NELEM(dunits); i++)
		if (strlen(dunits[i].name) == len &&
		    memcmp(dunits[i].name, p, len) == 0)
			return &dunits[i];
	return NULL;
}

int
parse_duration(const char *s, uint64_t *ms, const char **why)
{
	const struct dunit	*u;
	const char		*p = s, *name;
	uint64_t		 n, total = 0, sub = 0;

	while (isspace_c(*p))
		p++;
	if (*p == '\0')
		return refuse(why, "empty duration");
	if (*p == '-')
		return refuse(why, "negative duration");
	while (*p != '\0') {
		if (!isdigit_c(*p))
			return refuse(why, "expected a number");
		if (digits(&p, &n) == -1)
			return refuse(why, "too large");
		if (*p == '.' || *p == ',')
			return refuse(why, "fractions are not supported; "
			    "use a smaller unit, e.g. \"1500ms\"");
		while (isspace_c(*p))
			p++;
		if (!isunit_c(*p))
			return refuse(why, "missing unit (ms, s, m, h or d)");
		for (name = p; isunit_c(*p); p++)
			;
		if ((u = dunit_lookup(name, p - name)) == NULL)
			return refuse(why,
			    "unknown unit; use ms, s, m, h or d");
		if (mul_add(u->ms ? &total : &sub, n, u->ms ? u->ms : u->ns)
		    == -1)
			return refuse(why, "too large");
		while (isspace_c(*p))
			p++;
	}
	if (sub % 1000000 != 0)
		return refuse(why, "not a whole number of milliseconds");
	if (mul_add(&total, sub / 1000000, 1) == -1)
		return refuse(why, "too large");
	*ms = total;
	return 0;
}

/* Why a unit that is not ours was refused. */
static const char *
size_unit_why(const char *u)
{
	static const char *const si[] = {
		"k", "kb", "m", "mb", "g", "gb", "t", "tb"
	};
	static const char *const bin[] = { "kib", "mib", "gib", "tib" };
	size_t	 i;

	for (i = 0; i < NELEM(si); i++)
		if (strcasecmp(u, si[i]) == 0)
			return "ambiguous unit; use KiB, MiB or GiB "
			    "(powers of 1024)";
	for (i = 0; i < NELEM(bin); i++)
		if (strcasecmp(u, bin[i]) == 0)
			return "units are case-sensitive; "
			    "write KiB, MiB, GiB or TiB";
	return "unknown unit; use B, KiB, MiB, GiB or TiB";
}

int
parse_size(const char *s, uint64_t *bytes, const char **why)
{
	const char	*p = s;
	uint64_t	 n, v = 0;
	size_t		 i;

	if (*p == '\0')
		return refuse(why, "empty size");
	if (*p == '-')
		return refuse(why, "negative size");
	if (!isdigit_c(*p))
		return refuse(why, "expected a number");
	if (digits(&p, &n) == -1)
		return refuse(why, "too large");
	if (*p == '.' || *p == ',')
		return refuse(why, "fractions are not supported; "
		    "use a smaller unit, e.g. \"1536MiB\"");
	while (isspace_c(*p))
		p++;
	for (i = 0; i < NELEM(sunits); i++)
		if (strcmp(p, sunits[i].name) == 0)
			break;
	if (i == NELEM(sunits))
		return refuse(why, size_unit_why(p));
	if (mul_add(&v, n, sunits[i].bytes) == -1)
		return refuse(why, "too large");
	*bytes = v;
	return 0;
}

int
parse_rate(const char *s, struct rate *r, const char **why)
{
	const char	*p = s;
	uint64_t	 n = 0;
	size_t		 i;

	if (*p == '\0')
		return refuse(why, "empty rate");
	/* The spelling fmt_rate gives to "no limit". */
	if (strcmp(s, "none") == 0) {
		r->n = 0;
		r->per_ms = 0;
		return 0;
	}
	if (*p == '-')
		return refuse(why, "negative rate");
	if (!isdigit_c(*p))
		return refuse(why, "expected a number");
	/* KumoMTA allows "1,000/h" and "1_000/h" for readability. */
	for (; *p != '/'; p++) {
		if (*p == ',' || *p == '_')
			continue;
		if (*p == '\0')
			return refuse(why, "missing period; write N/s, N/min, "
			    "N/h or N/d");
		if (!isdigit_c(*p))
			return refuse(why, "bad number");
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return refuse(why, "too large");
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n == 0)
		return refuse(why, "limit must be greater than 0");
	p++;
	for (i = 0; i < NELEM(runits); i++)
		if (strcmp(p, runits[i].name) == 0)
			break;
	if (i == NELEM(runits))
		return refuse(why, "unknown period; use s, sec, second, "
		    "m, min, minute, h, hr, hour, d or day");
	r->n = n;
	r->per_ms = runits[i].ms;
	return 0;
}

void
fmt_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % MS_DAY == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(ms / MS_DAY));
	else if (ms % MS_HOUR == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / MS_HOUR));
	else if (ms % MS_MINUTE == 0)
		snprintf(buf, len, "%llum",
		    (unsigned long long)(ms / MS_MINUTE));
	else if (ms % MS_SECOND == 0)
		snprintf(buf, len, "%llus",
		    (unsigned long long)(ms / MS_SECOND));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

void
fmt_size(uint64_t bytes, char *buf, size_t len)
{
	size_t	 i;

	for (i = NELEM(sunits) - 1; i > 1; i--)
		if (bytes != 0 && bytes % sunits[i].bytes == 0)
			break;
	if (i == 1)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%s",
		    (unsigned long long)(bytes / sunits[i].bytes),
		    sunits[i].name);
}

void
fmt_rate(const struct rate *r, char *buf, size_t len)
{
	const char	*per;

	switch (r->per_ms) {
	case MS_SECOND:
		per = "s";
		break;
	case MS_MINUTE:
		per = "min";
		break;
	case MS_HOUR:
		per = "h";
		break;
	case MS_DAY:
		per = "d";
		break;
	default:
		per = NULL;
		break;
	}
	if (r->n == 0)
		snprintf(buf, len, "none");
	else if (per != NULL)
		snprintf(buf, len, "%llu/%s", (unsigned long long)r->n, per);
	else	/* not a period parse_rate gives */
		snprintf(buf, len, "%llu/%llums", (unsigned long long)r->n,
		    (unsigned long long)r->per_ms);
}
