/*
 * HTTP/1.1 request heads and chunked bodies (RFC 9112), for the ingest
 * server. Written here rather than taken from libmicrohttpd because the
 * version every supported system ships (0.9.75) stores field values as C
 * strings, so a NUL in a header is cut off unseen, waits for the body of
 * a Transfer-Encoding it does not know, and keeps the first of two
 * different Content-Lengths. Ingest is one endpoint under our control:
 * a strict reader of the request is small, and it refuses every
 * ambiguity a proxy in front could read another way (request
 * smuggling). t/c/test_request.c and t/c/fuzz_request.c test it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "request.h"
#include "util.h"

/* Content-Lengths of more than 18 digits are all too large alike. */
#define CLEN_DIGITS_MAX	100000000000000000ULL

enum { CH_SIZE, CH_SIZE_WS, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR,
    CH_DATA_LF, CH_TRAILER, CH_NAME, CH_VALUE, CH_VALUE_LF, CH_END_LF,
    CH_DONE };

static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP or HTAB: no control character, no DEL. */
static int
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static long
fail(struct request *r, unsigned int status, const char *why)
{
	r->status = status;
	r->why = why;
	return -1;
}

/* The end of the line at p, before its CRLF or LF; NULL on a bare CR. */
static char *
line_end(char *p, char *end, char **next)
{
	char	*lf;

	lf = memchr(p, '\n', (size_t)(end - p));
	*next = lf + 1;
	if (lf > p && lf[-1] == '\r')
		lf--;
	if (memchr(p, '\r', (size_t)(lf - p)) != NULL)
		return NULL;
	return lf;
}

static long
parse_request_line(struct request *r, char *p, char *eol)
{
	char	*sp;

	for (sp = p; sp < eol && is_tchar((unsigned char)*sp); sp++)
		;
	if (sp == p || sp == eol || *sp != ' ')
		return fail(r, 400, "malformed request line");
	r->method = p;
	r->mlen = (size_t)(sp - p);
	p = sp + 1;
	for (sp = p; sp < eol && *sp > ' ' && *sp < 0x7f; sp++)
		;
	if (sp == p || sp == eol || *sp != ' ')
		return fail(r, 400, "malformed request target");
	r->target = p;
	r->tlen = (size_t)(sp - p);
	p = sp + 1;
	if (eol - p != 8 || memcmp(p, "HTTP/", 5) != 0 ||
	    p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return fail(r, 400, "malformed HTTP version");
	if (p[5] != '1')
		return fail(r, 505, "only HTTP/1.x is served");
	r->minor = p[7] - '0';
	return 0;
}

static long
parse_field(struct request *r, char *p, char *eol)
{
	struct field	*f;
	char		*q;

	if (is_ows((unsigned char)*p))
		return fail(r, 400, "obsolete line folding in the header");
	for (q = p; q < eol && is_tchar((unsigned char)*q); q++)
		;
	if (q == p || q == eol || *q != ':')
		return fail(r, 400, "malformed header field name");
	if (r->nfields == REQ_MAX_FIELDS)
		return fail(r, 431, "too many header fields");
	f = &r->fields[r->nfields++];
	f->name = p;
	f->nlen = (size_t)(q - p);
	for (p = q + 1; p < eol && is_ows((unsigned char)*p); p++)
		;
	while (eol > p && is_ows((unsigned char)eol[-1]))
		eol--;
	for (q = p; q < eol; q++)
		if (!is_value_char((unsigned char)*q)) {
			snprintf(r->whybuf, sizeof(r->whybuf), "control "
			    "character in the value of header field %.*s",
			    (int)(f->nlen > 64 ? 64 : f->nlen), f->name);
			return fail(r, 400, r->whybuf);
		}
	f->value = p;
	f->vlen = (size_t)(eol - p);
	return 0;
}

/* Calls fn for each comma-separated element of every field name. */
static long
each_element(struct request *r, const char *name,
    long (*fn)(struct request *, const char *, size_t))
{
	const struct field	*f;
	const char		*p, *end, *e;
	size_t			 i, nlen = strlen(name), n;
	long			 rc;

	for (i = 0; i < r->nfields; i++) {
		f = &r->fields[i];
		if (f->nlen != nlen || strncasecmp(f->name, name, nlen) != 0)
			continue;
		p = f->value;
		end = p + f->vlen;
		while (p <= end) {
			if ((e = memchr(p, ',', (size_t)(end - p))) == NULL)
				e = end;
			while (p < e && is_ows((unsigned char)*p))
				p++;
			for (n = (size_t)(e - p); n > 0 &&
			    is_ows((unsigned char)p[n - 1]); n--)
				;
			if ((rc = fn(r, p, n)) != 0)
				return rc;
			p = e + 1;
		}
	}
	return 0;
}

static size_t
count_fields(const struct request *r, const char *name)
{
	size_t	 i, n = 0, nlen = strlen(name);

	for (i = 0; i < r->nfields; i++)
		n += r->fields[i].nlen == nlen &&
		    strncasecmp(r->fields[i].name, name, nlen) == 0;
	return n;
}

static int
token_is(const char *p, size_t n, const char *tok)
{
	return n == strlen(tok) && strncasecmp(p, tok, n) == 0;
}

/* Every Content-Length element must be the same number. */
static long
content_length(struct request *r, const char *p, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (n == 0)
		return fail(r, 400, "empty Content-Length");
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return fail(r, 400, "malformed Content-Length");
		/* Leading zeros are digits too, but no larger a number. */
		if (v >= CLEN_DIGITS_MAX)
			v = UINT64_MAX;		/* too large whatever it is */
		else
			v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (r->clen != UINT64_MAX - 1 && r->clen != v)
		return fail(r, 400, "conflicting Content-Length values");
	r->clen = v;
	return 0;
}

static long
transfer_coding(struct request *r, const char *p, size_t n)
{
	/* Only chunked, and only once: anything else we cannot frame. */
	if (!token_is(p, n, "chunked") || r->chunked)
		return fail(r, 501, "Transfer-Encoding other than chunked "
		    "is not supported");
	r->chunked = 1;
	return 0;
}

/* A close anywhere wins over a keep-alive, whichever comes first. */
static long
connection_option(struct request *r, const char *p, size_t n)
{
	if (token_is(p, n, "close"))
		r->keep_alive = -1;
	else if (token_is(p, n, "keep-alive") && r->minor == 0 &&
	    r->keep_alive == 0)
		r->keep_alive = 1;
	return 0;
}

static long
expectation(struct request *r, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (!token_is(p, n, "100-continue"))
		return fail(r, 417, "only Expect: 100-continue is understood");
	r->expect_continue = r->minor >= 1;
	return 0;
}

/*
 * A Host is uri-host [ ":" port ] (RFC 9110 7.2), or empty: its
 * characters are those of a reg-name or an IP literal, and a colon.
 */
static int
host_ok(const struct request *r)
{
	const char	*h;
	size_t		 n, i;

	if ((h = req_field(r, "Host", &n)) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] != '\0' &&
		    strchr("-._~%!$&'()*+,;=:[]", h[i]) != NULL)))
			return 0;
	return 1;
}

/* The framing and connection semantics of a parsed head. */
static long
semantics(struct request *r)
{
	size_t	 hosts = count_fields(r, "Host");

	if (hosts > 1 || (hosts == 0 && r->minor >= 1))
		return fail(r, 400, hosts ? "more than one Host field" :
		    "HTTP/1.1 request without Host");
	if (!host_ok(r))
		return fail(r, 400, "malformed Host");
	r->keep_alive = r->minor >= 1;
	r->clen = UINT64_MAX - 1;	/* none seen */
	if (each_element(r, "Content-Length", content_length) != 0)
		return -1;
	if (count_fields(r, "Transfer-Encoding") > 0) {
		if (r->minor == 0)
			return fail(r, 400, "Transfer-Encoding in HTTP/1.0");
		if (r->clen != UINT64_MAX - 1)
			return fail(r, 400, "both Transfer-Encoding and "
			    "Content-Length");
		if (each_element(r, "Transfer-Encoding", transfer_coding) != 0)
			return -1;
	}
	if (!r->chunked && r->clen == UINT64_MAX - 1)
		r->clen = 0;
	if (each_element(r, "Connection", connection_option) != 0)
		return -1;
	if (r->keep_alive == -1)
		r->keep_alive = 0;
	return each_element(r, "Expect", expectation);
}

long
req_parse(struct request *r, char *buf, size_t len)
{
	char	*p = buf, *end = buf + len, *eol, *next;
	long	 rc;

	memset(r, 0, sizeof(*r));
	/* Empty lines before a request are to be ignored (RFC 9112 2.2). */
	while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end &&
	    p[1] == '\n')))
		p += *p == '\r' ? 2 : 1;
	/* The head ends with an empty line. */
	for (next = p; (eol = memchr(next, '\n', (size_t)(end - next))) !=
	    NULL; next = eol + 1)
		if (eol + 1 < end && (eol[1] == '\n' || (eol[1] == '\r' &&
		    eol + 2 < end && eol[2] == '\n')))
			break;
	if (eol == NULL)
		return len > REQ_MAX_HEAD ? fail(r, 431, "request head "
		    "too large") : 0;
	end = eol + (eol[1] == '\n' ? 2 : 3);
	if (end - buf > REQ_MAX_HEAD)
		return fail(r, 431, "request head too large");
	if ((eol = line_end(p, end, &next)) == NULL)
		return fail(r, 400, "bare CR in the request line");
	if ((rc = parse_request_line(r, p, eol)) != 0)
		return rc;
	for (p = next; p < end; p = next) {
		if ((eol = line_end(p, end, &next)) == NULL)
			return fail(r, 400, "bare CR in the header");
		if (eol == p)
			break;
		if ((rc = parse_field(r, p, eol)) != 0)
			return rc;
	}
	if (semantics(r) != 0)
		return -1;
	return end - buf;
}

const char *
req_field(const struct request *r, const char *name, size_t *vlen)
{
	size_t	 i, nlen = strlen(name);

	for (i = 0; i < r->nfields; i++)
		if (r->fields[i].nlen == nlen &&
		    strncasecmp(r->fields[i].name, name, nlen) == 0) {
			if (vlen != NULL)
				*vlen = r->fields[i].vlen;
			return r->fields[i].value;
		}
	return NULL;
}

int
req_is(const struct request *r, const char *method, const char *path)
{
	return (method == NULL || (r->mlen == strlen(method) &&
	    memcmp(r->method, method, r->mlen) == 0)) &&
	    r->tlen == strlen(path) && memcmp(r->target, path, r->tlen) == 0;
}

/* The end of a chunk-size line: the chunk's data, or the trailer. */
static int
size_line_end(struct chunked *c)
{
	c->line = 0;
	c->state = c->left ? CH_DATA : CH_TRAILER;
	return 0;
}

/*
 * One byte of a chunk-size line: the size, white space, and extensions
 * after a semicolon (ignored). Anything else after the size, such as
 * "5 6", is refused: another reader could take it for a size of its own.
 */
static int
size_byte(struct chunked *c, unsigned char ch)
{
	int	 v;

	if (++c->line >= REQ_MAX_HEAD)
		return -1;
	switch (c->state) {
	case CH_SIZE:
		if ((v = hex_value(ch)) >= 0) {
			if (c->left >> 56)
				return -1;
			c->left = c->left << 4 | (uint64_t)v;
			return 0;
		}
		if (c->line == 1)
			return -1;
		c->state = CH_SIZE_WS;
		/* FALLTHROUGH */
	case CH_SIZE_WS:
		if (is_ows(ch))
			return 0;
		if (ch == ';') {
			c->state = CH_EXT;
			return 0;
		}
		break;
	case CH_EXT:
		if (ch != '\r' && ch != '\n')
			return is_value_char(ch) ? 0 : -1;
		break;
	case CH_SIZE_LF:
		return ch == '\n' ? size_line_end(c) : -1;
	}
	/* CRLF only: a bare LF is where readers of chunks disagree. */
	if (ch == '\r') {
		c->state = CH_SIZE_LF;
		return 0;
	}
	return -1;
}

/*
 * One byte of the trailer section: field lines, read past and never used,
 * but held to the syntax of header fields (LF alone ends a line, as in
 * the head), then an empty line.
 */
static int
trailer_byte(struct chunked *c, unsigned char ch)
{
	if (++c->trailer >= REQ_MAX_HEAD)
		return -1;
	switch (c->state) {
	case CH_TRAILER:
		if (ch == '\r')
			c->state = CH_END_LF;
		else if (ch == '\n')
			c->state = CH_DONE;
		else if (is_tchar(ch))
			c->state = CH_NAME;
		else
			return -1;
		return 0;
	case CH_NAME:
		if (ch == ':')
			c->state = CH_VALUE;
		else if (!is_tchar(ch))
			return -1;
		return 0;
	case CH_VALUE:
		if (ch == '\r')
			c->state = CH_VALUE_LF;
		else if (ch == '\n')
			c->state = CH_TRAILER;
		else if (!is_value_char(ch))
			return -1;
		return 0;
	case CH_VALUE_LF:
		if (ch != '\n')
			return -1;
		c->state = CH_TRAILER;
		return 0;
	case CH_END_LF:
		if (ch != '\n')
			return -1;
		c->state = CH_DONE;
		return 0;
	}
	return -1;
}

/* One byte of the framing between chunks. 0, or -1 when malformed. */
static int
chunk_byte(struct chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CH_SIZE:
	case CH_SIZE_WS:
	case CH_EXT:
	case CH_SIZE_LF:
		return size_byte(c, ch);
	case CH_DATA_CR:
		if (ch != '\r')
			return -1;
		c->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (ch != '\n')
			return -1;
		c->state = CH_SIZE;
		return 0;
	}
	return trailer_byte(c, ch);
}

int
chunked_decode(struct chunked *c, unsigned char *buf, size_t *len,
    size_t *out)
{
	size_t	 i = 0, o = 0, n;

	while (i < *len && c->state != CH_DONE) {
		if (c->state != CH_DATA) {
			if (chunk_byte(c, buf[i++]) == -1)
				return -1;
			continue;
		}
		n = *len - i;
		if (n > c->left)
			n = (size_t)c->left;
		memmove(buf + o, buf + i, n);
		i += n;
		o += n;
		if ((c->left -= n) == 0)
			c->state = CH_DATA_CR;
	}
	*len = i;
	*out = o;
	return c->state == CH_DONE;
}
