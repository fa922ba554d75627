/*
 * The answer parser of the worker's HTTP/1.1 client (workers/answer.c):
 * every answer fed whole and a byte at a time must read the same, what
 * it must refuse, and Retry-After in seconds and in each date form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Fed whole and a byte at a time, an answer reads the same. */
static int
feed_all(const char *p, size_t len, int bytewise, struct answer *a,
    int eof)
{
	enum answer_rc	 rc = ANSWER_MORE;
	size_t		 have = 0, off = 0, used;

	answer_init(a, 1000000000);
	while (rc == ANSWER_MORE && have < len) {
		have = bytewise ? have + 1 : len;
		rc = answer_feed(a, p + off, have - off, &used);
		off += used;
	}
	if (rc == ANSWER_MORE && eof)
		rc = answer_eof(a, have - off);
	return rc;
}

struct parse_case {
	const char	*in;
	int		 rc;		/* with eof after the bytes */
	uint32_t	 status;
	const char	*text;
	int		 close;
};

static const struct parse_case parse_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ANSWER_DONE,
	    200, "ok", 0 },
	{ "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", ANSWER_DONE, 200, "",
	    0 },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1"
	    "\r\n\r\nx", ANSWER_DONE, 200, "x", 0 },
	{ "HTTP/1.1 200 OK\r\n\r\nto the end", ANSWER_DONE, 200,
	    "to the end", 1 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
	    ANSWER_DONE, 304, "", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n", ANSWER_DONE, 200, "abc", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
	    "rest", ANSWER_DONE, 200, "rest", 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff"
	    "ffffffff0\r\n", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX",
	    ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", ANSWER_ERROR, 0,
	    NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
	    "\r\nabc", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
	    "\r\nabc", ANSWER_DONE, 200, "abc", 0 },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", ANSWER_ERROR, 0, NULL,
	    0 },
	{ "HTTP/2 200\r\n\r\n", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 099 Low\r\n\r\n", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", ANSWER_ERROR, 0,
	    NULL, 0 },
	{ "http/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", ANSWER_DONE, 200,
	    "x", 0 },
	{ "HTTP/1.2 200 OK\r\n\r\n", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", ANSWER_DONE,
	    200, "ok", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", ANSWER_DONE,
	    200, "ok", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
	    ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 503 Busy\r\nRetry-After: 9\r\n", ANSWER_DONE, 503, "",
	    1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", ANSWER_ERROR, 0, NULL,
	    0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", ANSWER_ERROR,
	    0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "00000000000000000001\r\nx\r\n0\r\n\r\n", ANSWER_DONE, 200, "x",
	    0 },
	{ "", ANSWER_ERROR, 0, NULL, 0 },
	{ "HTTP/1.1 2", ANSWER_ERROR, 0, NULL, 0 },
};

static void
test_parser(void)
{
	const struct parse_case	*c;
	struct answer		 a, b;
	char			*huge;
	size_t			 i, used;
	int			 rc, rb;

	for (i = 0; i < NELEM(parse_cases); i++) {
		c = &parse_cases[i];
		rc = feed_all(c->in, strlen(c->in), 0, &a, 1);
		rb = feed_all(c->in, strlen(c->in), 1, &b, 1);
		is_int(rc, c->rc, "parser %zu: outcome", i);
		is_int(rb, rc, "parser %zu: a byte at a time, the same", i);
		if (rc != ANSWER_DONE || c->rc != ANSWER_DONE)
			continue;
		is_int(a.status, c->status, "parser %zu: status", i);
		ok(a.textlen == strlen(c->text) &&
		    memcmp(a.text, c->text, a.textlen) == 0 &&
		    b.textlen == a.textlen &&
		    memcmp(b.text, a.text, a.textlen) == 0,
		    "parser %zu: text", i);
		is_int(a.close, c->close, "parser %zu: connection ends", i);
	}
	/* A head over the limit is refused, not buffered for ever. */
	huge = malloc(ANSWER_HEAD_MAX + 64);
	memset(huge, 'a', ANSWER_HEAD_MAX + 64);
	memcpy(huge, "HTTP/1.1 200 OK\r\nX: ", 20);
	answer_init(&a, 0);
	is_int(answer_feed(&a, huge, ANSWER_HEAD_MAX + 64, &used),
	    ANSWER_ERROR, "parser: a head over the limit is refused");
	free(huge);
	/* Bytes after a complete answer are left to the caller. */
	answer_init(&a, 0);
	rc = answer_feed(&a, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
	    "xHTTP", 43, &used);
	ok(rc == ANSWER_DONE && used == 39, "parser: stops at the answer's "
	    "end (%zu of 43 taken)", used);
}

static void
ra_is(const char *s, time_t now, uint32_t want, const char *what)
{
	is_int(answer_retry_after(s, strlen(s), now), want, "retry-after "
	    "\"%s\": %s", s, what);
}

static void
test_retry_after(void)
{
	time_t		 now = 1700000000, t = now + 100;
	struct tm	 tm;
	char		 d1[64], d2[64], d3[64], past[64];

	gmtime_r(&t, &tm);
	strftime(d1, sizeof(d1), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	strftime(d2, sizeof(d2), "%A, %d-%b-%y %H:%M:%S GMT", &tm);
	strftime(d3, sizeof(d3), "%a %b %e %H:%M:%S %Y", &tm);
	t = now - 5;
	gmtime_r(&t, &tm);
	strftime(past, sizeof(past), "%a, %d %b %Y %H:%M:%S GMT", &tm);

	ra_is("120", now, 120, "seconds");
	ra_is(" 7\r\n", now, 7, "spaces and CRLF around");
	ra_is("0", now, 0, "zero");
	ra_is("99999999999999999999", now, UINT32_MAX, "capped");
	ra_is(d1, now, 100, "IMF-fixdate");
	ra_is(d2, now, 100, "RFC 850 date");
	ra_is(d3, now, 100, "asctime date");
	ra_is(past, now, 0, "date in the past");
	ra_is("", now, 0, "empty");
	ra_is("soon", now, 0, "garbage");
	ra_is("-5", now, 0, "negative");
	ra_is("12abc", now, 0, "trailing garbage");
	ra_is("1.5", now, 0, "fraction");
}

int
main(void)
{
	test_parser();
	test_retry_after();
	return done_testing();
}
