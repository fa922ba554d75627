/*
 * The ingest server's request reader: heads that must parse, and to
 * what; heads that must be refused, and with which status; every valid
 * head cut short at each byte must ask for more; chunked bodies fed
 * whole, in two parts at each byte and a byte at a time must decode to
 * the same bytes, and malformed ones must be refused. Every input is
 * copied into a buffer of exactly its length, so that a read past it is
 * caught under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "tap.h"

#define S(s)	s, sizeof(s) - 1
#define NONE	((uint64_t)-2)	/* no Content-Length: chunked */
#define HUGE	UINT64_MAX	/* too large for any body */

struct valid {
	const char	*in;
	size_t		 len;
	size_t		 headlen;	/* 0: all of it */
	const char	*method;
	const char	*target;
	int		 minor;
	int		 keep_alive;
	int		 chunked;
	uint64_t	 clen;
	int		 expect;
	const char	*name;		/* looked up with req_field */
	const char	*value;		/* NULL: absent */
};

static const struct valid valid[] = {
	{ S("POST /ingest HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"),
	    0, "POST", "/ingest", 1, 1, 0, 12, 0, "content-length", "12" },
	{ S("GET / HTTP/1.0\r\n\r\n"), 0, "GET", "/", 0, 0, 0, 0, 0,
	    "Host", NULL },
	{ S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0, "GET", "/",
	    0, 1, 0, 0, 0, "CONNECTION", "Keep-Alive" },
	{ S("GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n"), 0,
	    "GET", "/", 0, 0, 0, 0, 0, "connection", "close, keep-alive" },
	{ S("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close"
	    "\r\n\r\n"), 0, "GET", "/", 0, 0, 0, 0, 0, "connection",
	    "keep-alive" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0,
	    "GET", "/", 1, 0, 0, 0, 0, "connection", "close" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"),
	    0, "GET", "/", 1, 0, 0, 0, 0, "host", "a" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, TE\r\n\r\n"),
	    0, "GET", "/", 1, 1, 0, 0, 0, "host", "a" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    0, "POST", "/x", 1, 1, 1, NONE, 0, "transfer-encoding",
	    "chunked" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n"
	    "\r\n"), 0, "POST", "/x", 1, 1, 1, NONE, 0, "Transfer-Encoding",
	    "Chunked" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 0,
	    "POST", "/x", 1, 1, 0, 5, 0, "Content-Length", "5, 5" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n"), 0, "POST", "/x", 1, 1, 0, 5, 0,
	    "Content-Length", "5" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 0,
	    "POST", "/x", 1, 1, 0, 0, 0, "Content-Length", "0" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "999999999999999999\r\n\r\n"), 0, "POST", "/x", 1, 1, 0,
	    999999999999999999ULL, 0, "Content-Length",
	    "999999999999999999" },
	/* Leading zeros do not make a number larger. */
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "0000000000000000000000012\r\n\r\n"), 0, "POST", "/x", 1, 1, 0,
	    12, 0, "Content-Length", "0000000000000000000000012" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
	    "Content-Length: 012\r\n\r\n"), 0, "POST", "/x", 1, 1, 0, 12, 0,
	    "Content-Length", "12" },
	/* Too large is a 413 from the server, not a parse error. */
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "1000000000000000000\r\n\r\n"), 0, "POST", "/x", 1, 1, 0, HUGE, 0,
	    "Content-Length", "1000000000000000000" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "99999999999999999999999999999\r\n\r\n"), 0, "POST", "/x", 1, 1,
	    0, HUGE, 0, "Content-Length", "99999999999999999999999999999" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	    "Content-Length: 3\r\n\r\n"), 0, "POST", "/x", 1, 1, 0, 3, 1,
	    "expect", "100-continue" },
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n"), 0,
	    "POST", "/x", 1, 1, 0, 0, 1, "expect", "100-Continue" },
	/* HTTP/1.0 knows no 100 Continue: the expectation is ignored. */
	{ S("POST /x HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), 0, "POST",
	    "/x", 0, 0, 0, 0, 0, "expect", "100-continue" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t value with  inner \t \r\n"
	    "\r\n"), 0, "GET", "/", 1, 1, 0, 0, 0, "x-a",
	    "value with  inner" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Blank: \t \r\n\r\n"),
	    0, "GET", "/", 1, 1, 0, 0, 0, "X-BLANK", "" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"), 0, "GET", "/", 1,
	    1, 0, 0, 0, "x-empty", "" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-U: caf\xc3\xa9\x80\xff\r\n\r\n"),
	    0, "GET", "/", 1, 1, 0, 0, 0, "x-u", "caf\xc3\xa9\x80\xff" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\n\r\n"), 0,
	    "GET", "/", 1, 1, 0, 0, 0, "x-a", "1" },
	{ S("GET / HTTP/1.1\nHost: a\nContent-Length: 2\n\n"), 0, "GET", "/",
	    1, 1, 0, 2, 0, "content-length", "2" },
	{ S("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n"), 0, "GET", "/", 1, 1, 0,
	    0, 0, "x", "y" },
	{ S("GET / HTTP/1.1\nHost: a\n\r\n"), 0, "GET", "/", 1, 1, 0, 0, 0,
	    "host", "a" },
	{ S("\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, "GET", "/", 1,
	    1, 0, 0, 0, "host", "a" },
	{ S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0, "GET", "/", 2, 1, 0, 0,
	    0, "host", "a" },
	{ S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, "GET", "/", 1, 1, 0, 0, 0,
	    "host", "" },
	{ S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0, "GET", "/", 1,
	    1, 0, 0, 0, "host", "[::1]:8080" },
	{ S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0, "OPTIONS", "*", 1, 1,
	    0, 0, 0, "host", "a" },
	{ S("GET http://a.example:80/p?q=1#f HTTP/1.1\r\nHost: a.example:80"
	    "\r\n\r\n"), 0, "GET", "http://a.example:80/p?q=1#f", 1, 1, 0, 0,
	    0, "host", "a.example:80" },
	{ S("!#$%&'*+-.^_`|~0aZ /%00 HTTP/1.1\r\nHost: a\r\n"
	    "!#$%&'*+-.^_`|~0aZ: v\r\n\r\n"), 0, "!#$%&'*+-.^_`|~0aZ",
	    "/%00", 1, 1, 0, 0, 0, "!#$%&'*+-.^_`|~0AZ", "v" },
	/* Pipelined: what follows the head is not part of it. */
	{ S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
	    "GET / HTTP/1.1\r\n\r\n"), 48, "POST", "/x", 1, 1, 0, 5, 0,
	    "content-length", "5" },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n"), 27, "GET", "/", 1, 1,
	    0, 0, 0, "host", "a" },
};

struct invalid {
	const char	*in;
	size_t		 len;
	unsigned int	 status;
};

static const struct invalid invalid[] = {
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "99999999999999999999\r\nContent-Length: 5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
	    "\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n"
	    "\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked"
	    "\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n"
	    "\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n"
	    "\r\n"), 501 },
	{ S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\0: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b" "b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0c" "b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX(: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: ab\r\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\n\n"), 400 },
	{ S("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400 },
	{ S("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505 },
	{ S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505 },
	{ S("GET / HTTP/9.1\r\nHost: a\r\n\r\n"), 505 },
	{ S("GET / http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\t HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n"),
	    417 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 417 },
};

/* A copy of exactly n bytes, so that ASan sees a read past the end. */
static char *
dup_exact(const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(p, s, n);
	return p;
}

static long
parse_copy(struct request *r, const char *s, size_t n)
{
	char	*p = dup_exact(s, n);
	long	 rc;

	rc = req_parse(r, p, n);
	/* The request points into the buffer: compare after a fresh parse. */
	free(p);
	return rc;
}

static int
same(const char *p, size_t n, const char *want)
{
	return want != NULL && p != NULL && n == strlen(want) &&
	    memcmp(p, want, n) == 0;
}

static void
check_valid(size_t i, const struct valid *v)
{
	struct request	 r;
	const char	*val;
	size_t		 vlen = 0, want = v->headlen ? v->headlen : v->len;
	char		*p = dup_exact(v->in, v->len);
	long		 rc;

	rc = req_parse(&r, p, v->len);
	if (!is_int(rc, (int64_t)want, "valid %zu: head length", i)) {
		diag("status %u: %s", r.status, r.why ? r.why : "");
		free(p);
		return;
	}
	ok(same(r.method, r.mlen, v->method) &&
	    same(r.target, r.tlen, v->target) && r.minor == v->minor &&
	    r.keep_alive == v->keep_alive && r.chunked == v->chunked &&
	    r.expect_continue == v->expect &&
	    (v->chunked || r.clen == v->clen),
	    "valid %zu: %s %s HTTP/1.%d keep_alive %d chunked %d clen %llu "
	    "expect %d", i, v->method, v->target, v->minor, v->keep_alive,
	    v->chunked, (unsigned long long)v->clen, v->expect);
	if (r.mlen != strlen(v->method) || r.minor != v->minor ||
	    r.keep_alive != v->keep_alive || r.chunked != v->chunked ||
	    r.clen != v->clen || r.expect_continue != v->expect)
		diag("got %.*s %.*s 1.%d keep_alive %d chunked %d clen %llu "
		    "expect %d", (int)r.mlen, r.method, (int)r.tlen, r.target,
		    r.minor, r.keep_alive, r.chunked,
		    (unsigned long long)r.clen, r.expect_continue);
	val = req_field(&r, v->name, &vlen);
	ok(v->value == NULL ? val == NULL : same(val, vlen, v->value),
	    "valid %zu: field %s is %s", i, v->name,
	    v->value ? v->value : "absent");
	ok(val == NULL || (val >= p && val + vlen <= p + want),
	    "valid %zu: the value lies within the head", i);
	free(p);
}

static void
test_valid(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check_valid(i, &valid[i]);
}

static void
test_invalid(void)
{
	struct request	 r;
	const struct invalid *v;
	size_t		 i;
	long		 rc;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		v = &invalid[i];
		rc = parse_copy(&r, v->in, v->len);
		ok(rc == -1 && r.status == v->status && r.why != NULL &&
		    *r.why != '\0', "invalid %zu: %u", i, v->status);
		if (rc != -1 || r.status != v->status)
			diag("got %ld, status %u (%s)", rc, r.status,
			    r.why ? r.why : "");
	}
}

/* Every proper prefix of a head asks for more; the whole gives its length. */
static void
test_prefixes(void)
{
	struct request	 r;
	const struct valid *v;
	size_t		 i, k, bad, want;
	long		 rc;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		v = &valid[i];
		want = v->headlen ? v->headlen : v->len;
		bad = 0;
		for (k = 0; k < want; k++)
			if ((rc = parse_copy(&r, v->in, k)) != 0 && bad++ == 0)
				diag("prefix of %zu bytes: %ld", k, rc);
		ok(bad == 0 && parse_copy(&r, v->in, want) == (long)want,
		    "valid %zu: every prefix asks for more", i);
	}
}

/* A head of n bytes with a Host field and X fields filling it up. */
static char *
head_of(size_t n, size_t *len)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: a\r\n";
	char	*p = malloc(n);
	size_t	 off;

	if (p == NULL)
		abort();
	memcpy(p, start, sizeof(start) - 1);
	off = sizeof(start) - 1;
	/* Fields of at most 1000 bytes: "X: " value CRLF. */
	while (n - off - 2 > 1000) {
		memcpy(p + off, "X: ", 3);
		memset(p + off + 3, 'v', 995);
		memcpy(p + off + 998, "\r\n", 2);
		off += 1000;
	}
	memcpy(p + off, "Y:", 2);
	memset(p + off + 2, 'w', n - off - 6);
	memcpy(p + n - 4, "\r\n\r\n", 4);
	*len = n;
	return p;
}

static void
test_limits(void)
{
	struct request	 r;
	char		*p, buf[4096];
	size_t		 n, i, off;
	long		 rc;

	p = head_of(REQ_MAX_HEAD, &n);
	rc = parse_copy(&r, p, n);
	is_int(rc, REQ_MAX_HEAD, "a head of exactly %d bytes is read",
	    REQ_MAX_HEAD);
	is_int(parse_copy(&r, p, n - 1), 0, "and short of it, more is needed");
	free(p);
	p = head_of(REQ_MAX_HEAD + 1, &n);
	rc = parse_copy(&r, p, n);
	ok(rc == -1 && r.status == 431, "a head of %d bytes is 431",
	    REQ_MAX_HEAD + 1);
	rc = parse_copy(&r, p, n - 1);
	ok(rc == 0, "%d bytes of it without the end: more", REQ_MAX_HEAD);
	memset(p, 'a', n);
	rc = parse_copy(&r, p, n);
	ok(rc == -1 && r.status == 431, "%zu bytes with no end are 431", n);
	rc = parse_copy(&r, p, n - 1);
	ok(rc == 0, "%zu bytes with no end: more", n - 1);
	free(p);

	for (n = REQ_MAX_FIELDS; n <= REQ_MAX_FIELDS + 1; n++) {
		off = (size_t)snprintf(buf, sizeof(buf),
		    "GET / HTTP/1.1\r\nHost: a\r\n");
		for (i = 1; i < n; i++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off,
			    "X%zu: %zu\r\n", i, i);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\r\n");
		rc = parse_copy(&r, buf, off);
		if (n == REQ_MAX_FIELDS)
			ok(rc == (long)off && r.nfields == n,
			    "%zu fields are read", n);
		else
			ok(rc == -1 && r.status == 431, "%zu fields are 431",
			    n);
	}
}

struct body {
	const char	*in;
	size_t		 len;
	const char	*out;
	size_t		 olen;
	size_t		 used;		/* 0: all of it */
};

#define B(in, out)	{ S(in), S(out), 0 }
#define BP(in, out, used) { S(in), S(out), used }

static const struct body bodies[] = {
	B("0\r\n\r\n", ""),
	B("5\r\nhello\r\n0\r\n\r\n", "hello"),
	B("3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", "abcdef"),
	B("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
	    "0123456789abcdefghij"),
	B("1f\r\n0123456789012345678901234567890\r\n0\r\n\r\n",
	    "0123456789012345678901234567890"),
	B("005\r\nhello\r\n000\r\n\r\n", "hello"),
	B("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
	B("5;a=\"q; \\\" x\";b\r\nhello\r\n0\r\n\r\n", "hello"),
	B("5 \t;a\r\nhello\r\n0 \r\n\r\n", "hello"),
	B("4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
	B("3\r\n\0\xff\n\r\n0\r\n\r\n", "\0\xff\n"),
	B("5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY:\r\nZ: a b \r\n\r\n", "hello"),
	B("5\r\nhello\r\n0\r\nX: 1\n\n", "hello"),
	BP("5\r\nhello\r\n0\r\n\r\nPOST / HTTP/1.1\r\n\r\n", "hello", 15),
	BP("0\r\n\r\n0\r\n\r\n", "", 5),
	BP("0\r\nT: x\r\n\r\n\r\n", "", 11),
};

struct bad_body {
	const char	*in;
	size_t		 len;
};

static const struct bad_body bad_bodies[] = {
	/*
	 * Chunk lines end in CRLF only; trailer fields, like the head's,
	 * may end in LF.
	 */
	{ S("5\nhello\r\n0\r\n\r\n") },
	{ S("5\r\nhello\n0\r\n\r\n") },
	{ S("5\r\nhello\r\n0\n\r\n") },
	{ S("5;a\nhello\r\n0\r\n\r\n") },
	{ S("\r\n") },
	{ S("\n") },
	{ S(";a\r\n") },
	{ S(" 5\r\n") },
	{ S("x\r\n") },
	{ S("0x5\r\nhello\r\n0\r\n\r\n") },
	{ S("-5\r\n") },
	{ S("+5\r\n") },
	{ S("5x\r\nhello\r\n0\r\n\r\n") },
	{ S("5 x\r\nhello\r\n0\r\n\r\n") },
	{ S("5 6\r\nhello\r\n0\r\n\r\n") },
	{ S("5\t6\r\n") },
	{ S("5,6\r\n") },
	{ S("5\0\r\n") },
	{ S("5;\0\r\n") },
	{ S("5;a\x01\r\n") },
	{ S("5;a\x7f\r\n") },
	{ S("5;a\rb\r\n") },
	{ S("5\r\r\n") },
	{ S("5\rhello") },
	{ S("1000000000000000\r\n") },
	{ S("10000000000000000\r\n") },
	{ S("ffffffffffffffffffff\r\n") },
	{ S("5\r\nhelloX\r\n0\r\n\r\n") },
	{ S("5\r\nhello\rX\r\n0\r\n\r\n") },
	{ S("5\r\nhello\r\r\n0\r\n\r\n") },
	{ S("5\r\nhello0\r\n\r\n") },
	{ S("5\r\nhello\r\n\r\n") },
	{ S("0\r\n\r\r\n") },
	{ S("0\r\nX: a\rb\r\n\r\n") },
	{ S("0\r\nX: a\0\r\n\r\n") },
	{ S("0\r\nX: \x01\r\n\r\n") },
	{ S("0\r\nNoColon\r\n\r\n") },
	{ S("0\r\n: v\r\n\r\n") },
	{ S("0\r\nX : v\r\n\r\n") },
	{ S("0\r\n X: v\r\n\r\n") },
	{ S("0\r\nX: v\r\n folded\r\n\r\n") },
};

/*
 * Decodes in, delivered in the parts that cuts[] ends (the last at its
 * length) the way the server does: what was not consumed stays in front
 * of what arrives next. The decoded bytes go to out; returns the last
 * result.
 */
static int
decode_parts(const char *in, const size_t *cuts, size_t ncuts,
    char *out, size_t *olen, size_t *used)
{
	struct chunked	 c;
	unsigned char	*buf;
	size_t		 have = 0, off = 0, k, len, o, from = 0;
	int		 rc = 0;

	memset(&c, 0, sizeof(c));
	*olen = 0;
	*used = 0;
	for (k = 0; k < ncuts && rc == 0; k++) {
		/* Raw bytes not yet consumed, then the new part, exactly. */
		len = have + (cuts[k] - from);
		buf = (unsigned char *)dup_exact(in + off, len);
		rc = chunked_decode(&c, buf, &len, &o);
		if (rc != -1) {
			memcpy(out + *olen, buf, o);
			*olen += o;
			off += len;
			*used += len;
			have = have + (cuts[k] - from) - len;
		}
		free(buf);
		from = cuts[k];
	}
	return rc;
}

static int
same_bytes(const char *p, size_t n, const char *want, size_t wn)
{
	return n == wn && memcmp(p, want, n) == 0;
}

static void
test_bodies(void)
{
	const struct body *b;
	char		 out[256];
	size_t		 i, k, olen, used, bad, want, cuts[256];
	int		 rc;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		b = &bodies[i];
		want = b->used ? b->used : b->len;
		cuts[0] = b->len;
		rc = decode_parts(b->in, cuts, 1, out, &olen, &used);
		ok(rc == 1 && same_bytes(out, olen, b->out, b->olen) &&
		    used == want, "body %zu: whole, %zu bytes out of %zu", i,
		    b->olen, want);
		if (rc != 1 || used != want)
			diag("got %d, %zu bytes, %zu used", rc, olen, used);
		bad = 0;
		for (k = 1; k < b->len; k++) {
			cuts[0] = k;
			cuts[1] = b->len;
			rc = decode_parts(b->in, cuts, 2, out, &olen,
			    &used);
			if ((rc != 1 || !same_bytes(out, olen, b->out,
			    b->olen) || used != want) && bad++ == 0)
				diag("cut at %zu: %d, %zu bytes, %zu used", k,
				    rc, olen, used);
		}
		ok(bad == 0, "body %zu: cut in two anywhere, the same", i);
		for (k = 0; k < b->len; k++)
			cuts[k] = k + 1;
		rc = decode_parts(b->in, cuts, b->len, out, &olen,
		    &used);
		ok(rc == 1 && same_bytes(out, olen, b->out, b->olen) &&
		    used == want, "body %zu: a byte at a time, the same", i);
	}
}

static void
test_bad_bodies(void)
{
	const struct bad_body *b;
	char		 out[256];
	size_t		 i, k, olen, used, cuts[256];
	int		 rc, whole;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		b = &bad_bodies[i];
		cuts[0] = b->len;
		whole = decode_parts(b->in, cuts, 1, out, &olen,
		    &used);
		for (k = 0; k < b->len; k++)
			cuts[k] = k + 1;
		rc = decode_parts(b->in, cuts, b->len, out, &olen,
		    &used);
		ok(whole == -1 && rc == -1, "bad body %zu is refused, whole "
		    "and a byte at a time", i);
		if (whole != -1 || rc != -1)
			diag("got %d whole, %d a byte at a time", whole, rc);
	}
}

/* A size of 15 hex digits is still a size; the body just goes on. */
static void
test_body_limits(void)
{
	struct chunked	 c;
	unsigned char	*p;
	size_t		 n, len, out;
	int		 rc;

	memset(&c, 0, sizeof(c));
	p = (unsigned char *)dup_exact("fffffffffffffff\r\nab", 19);
	len = 19;
	rc = chunked_decode(&c, p, &len, &out);
	ok(rc == 0 && len == 19 && out == 2 && c.left == 0xfffffffffffffffULL
	    - 2, "15 hex digits are a size");
	free(p);

	n = REQ_MAX_HEAD + 10;
	if ((p = malloc(n)) == NULL)
		abort();
	memset(p, '0', n);
	memset(&c, 0, sizeof(c));
	len = n;
	ok(chunked_decode(&c, p, &len, &out) == -1,
	    "a size line of %zu zeros is refused", n);
	memcpy(p, "5;", 2);
	memset(p + 2, 'e', n - 2);
	memset(&c, 0, sizeof(c));
	len = n;
	ok(chunked_decode(&c, p, &len, &out) == -1,
	    "an extension of %zu bytes is refused", n - 2);
	memcpy(p, "0\r\nX: ", 6);
	memset(p + 6, 't', n - 6);
	memset(&c, 0, sizeof(c));
	len = n;
	ok(chunked_decode(&c, p, &len, &out) == -1,
	    "a trailer of %zu bytes is refused", n - 3);
	free(p);
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_prefixes();
	test_limits();
	test_bodies();
	test_bad_bodies();
	test_body_limits();
	return done_testing();
}
