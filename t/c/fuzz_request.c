/*
 * libFuzzer harness for the ingest server's request reader. Every input
 * is read as a request head and as a chunked body; any broken invariant
 * aborts, so that libFuzzer keeps the input:
 *
 *   - req_parse gives a length within the input, 0 or -1 with a status
 *     and a reason; the same twice; pointers into the head only;
 *   - an accepted head: each of its proper prefixes asks for more, bytes
 *     after it change nothing, and written out again canonically it
 *     reads the same;
 *   - a refused head stays refused alike with bytes after it;
 *   - chunked_decode fed whole, in two parts and a byte at a time ends
 *     alike, with the same bytes decoded and the same bytes consumed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fail(const char *what, const uint8_t *p, size_t n)
{
	size_t	 i;

	fprintf(stderr, "request reader: %s\ninput: \"", what);
	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], stderr);
		else
			fprintf(stderr, "\\x%02x", p[i]);
	}
	fprintf(stderr, "\"\n");
	abort();
}

static char *
copy(const uint8_t *p, size_t n, size_t cap)
{
	char	*b;

	if ((b = malloc(cap ? cap : 1)) == NULL)
		abort();
	memcpy(b, p, n);
	return b;
}

static int
within(const char *p, size_t n, const char *buf, long len)
{
	return p >= buf && p + n <= buf + len;
}

static long
parse(struct request *r, const uint8_t *p, size_t n)
{
	char	*b = copy(p, n, n);
	long	 rc;

	rc = req_parse(r, b, n);
	free(b);
	return rc;
}

static int
same_head(const struct request *a, const struct request *b)
{
	size_t	 i;

	if (a->mlen != b->mlen || memcmp(a->method, b->method, a->mlen) ||
	    a->tlen != b->tlen || memcmp(a->target, b->target, a->tlen) ||
	    a->minor != b->minor || a->nfields != b->nfields ||
	    a->keep_alive != b->keep_alive || a->chunked != b->chunked ||
	    a->clen != b->clen || a->expect_continue != b->expect_continue)
		return 0;
	for (i = 0; i < a->nfields; i++)
		if (a->fields[i].nlen != b->fields[i].nlen ||
		    a->fields[i].vlen != b->fields[i].vlen ||
		    memcmp(a->fields[i].name, b->fields[i].name,
		    a->fields[i].nlen) != 0 ||
		    memcmp(a->fields[i].value, b->fields[i].value,
		    a->fields[i].vlen) != 0)
			return 0;
	return 1;
}

/* The head as a careful client would write it: it must read the same. */
static void
canonical(const struct request *r, const uint8_t *p, size_t n)
{
	struct request	 again;
	char		*b;
	size_t		 cap = REQ_MAX_HEAD * 2, off = 0, i;
	long		 rc;

	if ((b = malloc(cap)) == NULL)
		abort();
	off += (size_t)snprintf(b, cap, "%.*s %.*s HTTP/1.%d\r\n",
	    (int)r->mlen, r->method, (int)r->tlen, r->target, r->minor);
	for (i = 0; i < r->nfields; i++)
		off += (size_t)snprintf(b + off, cap - off, "%.*s: %.*s\r\n",
		    (int)r->fields[i].nlen, r->fields[i].name,
		    (int)r->fields[i].vlen, r->fields[i].value);
	off += (size_t)snprintf(b + off, cap - off, "\r\n");
	/* Only a head grown past the limit may now be refused. */
	rc = req_parse(&again, b, off);
	if (off <= REQ_MAX_HEAD && (rc != (long)off || !same_head(r, &again)))
		fail("the head written out again reads otherwise", p, n);
	free(b);
}

static void
check_accepted(const struct request *r, long rc, const uint8_t *p,
    size_t n)
{
	struct request	 pre;
	size_t		 i, k;

	if (r->status != 0 || r->nfields > REQ_MAX_FIELDS ||
	    r->mlen == 0 || r->tlen == 0 || rc > REQ_MAX_HEAD)
		fail("an accepted head is inconsistent", p, n);
	/* Prefixes: a few, spread over the head, and the last byte short. */
	for (i = 0; i < 8; i++) {
		k = i == 7 ? (size_t)rc - 1 : (size_t)rc * i / 7;
		if (parse(&pre, p, k) != 0)
			fail("a prefix of an accepted head does not ask for "
			    "more", p, n);
	}
	canonical(r, p, n);
}

static void
check_head(const uint8_t *p, size_t n)
{
	struct request	 r, r2;
	char		*b = copy(p, n, n + 1);
	long		 rc, rc2;
	size_t		 i;

	rc = req_parse(&r, b, n);
	if (rc < -1 || rc > (long)n)
		fail("head length out of range", p, n);
	if (rc == -1 && (r.why == NULL || *r.why == '\0' ||
	    (r.status != 400 && r.status != 417 && r.status != 431 &&
	    r.status != 501 && r.status != 505)))
		fail("refused without a status or a reason", p, n);
	if (rc > 0) {
		if (!within(r.method, r.mlen, b, rc) ||
		    !within(r.target, r.tlen, b, rc))
			fail("request line outside the head", p, n);
		for (i = 0; i < r.nfields; i++)
			if (!within(r.fields[i].name, r.fields[i].nlen, b, rc) ||
			    !within(r.fields[i].value, r.fields[i].vlen, b,
			    rc) || memchr(r.fields[i].value, '\0',
			    r.fields[i].vlen) != NULL)
				fail("field outside the head", p, n);
	}
	rc2 = req_parse(&r2, b, n);
	if (rc2 != rc || r2.status != r.status ||
	    (rc > 0 && !same_head(&r, &r2)))
		fail("two parses differ", p, n);
	/* A byte more after a whole head changes nothing. */
	if (rc > 0 || (rc == -1 && r.status != 431)) {
		b[n] = 'X';
		rc2 = req_parse(&r2, b, n + 1);
		if (rc2 != rc || r2.status != r.status ||
		    (rc > 0 && !same_head(&r, &r2)))
			fail("a byte after the head changes it", p, n);
		rc2 = req_parse(&r2, b, n);
	}
	if (rc > 0)
		check_accepted(&r2, rc, p, n);
	free(b);
}

struct decoded {
	int	 rc;
	size_t	 used;
	size_t	 olen;
	char	*out;
};

/* Decodes p in parts of step bytes (the first of first), as the server. */
static void
decode(const uint8_t *p, size_t n, size_t first, size_t step,
    struct decoded *d)
{
	struct chunked	 c;
	size_t		 have = 0, from = 0, to, len, o;
	char		*b;

	memset(&c, 0, sizeof(c));
	memset(d, 0, sizeof(*d));
	if ((d->out = malloc(n ? n : 1)) == NULL)
		abort();
	while (from < n || have > 0) {
		to = from == 0 ? first : from + step;
		if (to > n)
			to = n;
		len = have + (to - from);
		b = copy(p + d->used, len, len);
		d->rc = chunked_decode(&c, (unsigned char *)b, &len, &o);
		if (d->rc != -1 && (len > have + (to - from) || o > len))
			fail("chunked_decode consumed or made too much", p, n);
		if (d->rc != -1) {
			memcpy(d->out + d->olen, b, o);
			d->olen += o;
			d->used += len;
			have = have + (to - from) - len;
		}
		free(b);
		from = to;
		if (d->rc != 0 || from == n)
			break;
	}
}

static void
check_body(const uint8_t *p, size_t n)
{
	struct decoded	 whole, two, bytes;
	size_t		 cut = n ? 1 + (p[0] * 131u + p[n - 1]) % n : 0;

	decode(p, n, n, n, &whole);
	decode(p, n, cut, n, &two);
	decode(p, n, 1, 1, &bytes);
	if (whole.rc != two.rc || whole.rc != bytes.rc)
		fail("chunked_decode ends otherwise in parts", p, n);
	if (whole.rc != -1 && (whole.used != two.used ||
	    whole.used != bytes.used || whole.olen != two.olen ||
	    whole.olen != bytes.olen ||
	    memcmp(whole.out, two.out, whole.olen) != 0 ||
	    memcmp(whole.out, bytes.out, whole.olen) != 0))
		fail("chunked_decode decodes otherwise in parts", p, n);
	if (whole.rc == 0 && whole.used != n)
		fail("chunked_decode wants more but left bytes", p, n);
	free(whole.out);
	free(two.out);
	free(bytes.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	check_head(p, n);
	check_body(p, n);
	return 0;
}
