/*
 * The answer parser of the worker's plain-HTTP client. It reads exactly
 * what spoold needs from an HTTP/1.x answer and frames its body so that
 * the connection can carry the next request: Content-Length, chunked
 * transfer coding, or the body up to the end of the connection. Interim
 * 1xx answers are skipped. Like libcurl it takes the head a line at a
 * time, so that the status and Retry-After count even when the server
 * hangs up in the middle of the head or the body, and accepts bare LF
 * line ends.
 *
 * It is hand-written because it is the hot half of the client that
 * replaces libcurl for http:// hooks (see http1.c); t/c/test_http1.c
 * compares it with libcurl on scripted answers and t/c/fuzz_answer.c
 * fuzzes it.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "answer.h"
#include "util.h"

enum {
	A_STATUS,		/* the status line is next */
	A_FIELDS,		/* header lines, up to the empty one */
	A_LENGTH,
	A_UNTIL_EOF,
	A_CHUNK_SIZE,
	A_CHUNK_EXT,
	A_CHUNK_DATA,
	A_CHUNK_CR,
	A_CHUNK_LF,
	A_TRAILER,
	A_DONE
};

void
answer_init(struct answer *a, time_t now)
{
	memset(a, 0, sizeof(*a));
	a->state = A_STATUS;
	a->now = now;
}

static enum answer_rc
fail(struct answer *a, int code, const char *err)
{
	a->code = code;
	a->err = err;
	return ANSWER_ERROR;
}

static void
keep(struct answer *a, const char *p, uint64_t n)
{
	size_t	 room = PROTO_ANSWER_MAX - a->textlen;

	if (room > n)
		room = (size_t)n;
	memcpy(a->text + a->textlen, p, room);
	a->textlen += (uint16_t)room;
}

static int
token_is(const char *s, size_t len, const char *tok)
{
	return strlen(tok) == len && strncasecmp(s, tok, len) == 0;
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Calls fn with each comma-separated, trimmed element of a list value. */
static void
each_token(const char *v, size_t len, struct answer_head *h,
    void (*fn)(struct answer_head *, const char *, size_t))
{
	const char	*end = v + len, *c;
	size_t		 n;

	while (v <= end) {
		if ((c = memchr(v, ',', (size_t)(end - v))) == NULL)
			c = end;
		n = (size_t)(c - v);
		trim(&v, &n);
		if (n > 0)
			fn(h, v, n);
		v = c + 1;
	}
}

static void
connection_token(struct answer_head *h, const char *t, size_t n)
{
	if (token_is(t, n, "close"))
		h->conn_close = 1;
	else if (token_is(t, n, "keep-alive"))
		h->keep_alive = 1;
}

/* The last coding decides: chunked frames the body, others do not. */
static void
coding_token(struct answer_head *h, const char *t, size_t n)
{
	h->te = 1;
	h->chunked = token_is(t, n, "chunked");
}

/* One value, or a list of equal ones, as RFC 9110 allows. */
static int
content_length(struct answer_head *h, const char *v, size_t len)
{
	const char	*end = v + len;
	uint64_t	 n;
	int		 digits;

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v < end && *v == '+')
			v++;
		for (n = 0, digits = 0; v < end && isdigit((unsigned char)*v);
		    v++, digits++) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (uint64_t)(*v - '0');
		}
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (digits == 0 || (v < end && *v++ != ',') ||
		    (h->has_length && h->length != n))
			return -1;
		h->has_length = 1;
		h->length = n;
	}
	return h->has_length ? 0 : -1;
}

static int
field(struct answer *a, const char *l, size_t len)
{
	struct answer_head	*h = &a->head;
	const char		*colon, *v;
	size_t			 nlen, vlen;

	/* Folded continuations and lines without a name say nothing here. */
	if (len == 0 || l[0] == ' ' || l[0] == '\t' ||
	    (colon = memchr(l, ':', len)) == NULL)
		return 0;
	nlen = (size_t)(colon - l);
	v = colon + 1;
	vlen = len - nlen - 1;
	trim(&v, &vlen);
	if (token_is(l, nlen, "content-length"))
		return content_length(h, v, vlen);
	if (token_is(l, nlen, "transfer-encoding"))
		each_token(v, vlen, h, coding_token);
	else if (token_is(l, nlen, "connection"))
		each_token(v, vlen, h, connection_token);
	else if (token_is(l, nlen, "retry-after"))
		a->retry_after = answer_retry_after(v, vlen, a->now);
	return 0;
}

/* "HTTP/1.0 NNN[ reason]" or 1.1, the name in any case. */
static int
status_line(struct answer *a, const char *l, size_t len)
{
	if (len < 12 || strncasecmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (len > 12 && l[12] != ' ') ||
	    l[9] == '0')
		return -1;
	memset(&a->head, 0, sizeof(a->head));
	a->head.minor = l[7] - '0';
	a->retry_after = 0;
	a->status = (uint32_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 +
	    (l[11] - '0'));
	return 0;
}

/* The final answer's head is in: how its body is framed. */
static void
body_start(struct answer *a)
{
	const struct answer_head	*h = &a->head;

	a->close = h->minor == 0 ? !h->keep_alive : h->conn_close;
	if (a->status == 204 || a->status == 304)
		a->state = A_DONE;
	else if (h->te) {
		a->state = h->chunked ? A_CHUNK_SIZE : A_UNTIL_EOF;
		/* A message framed twice is not trusted for the next one. */
		if (h->has_length || !h->chunked)
			a->close = 1;
	} else if (h->has_length) {
		a->left = h->length;
		a->state = h->length > 0 ? A_LENGTH : A_DONE;
	} else {
		a->state = A_UNTIL_EOF;
		a->close = 1;
	}
}

/* The empty line that ends a head. */
static enum answer_rc
head_done(struct answer *a)
{
	if (a->status == 101)
		return fail(a, CURLE_WEIRD_SERVER_REPLY,
		    "unexpected 101 Switching Protocols");
	if (a->status < 200) {
		/* Interim: the real answer follows. */
		a->status = 0;
		a->state = A_STATUS;
		return ANSWER_MORE;
	}
	body_start(a);
	return ANSWER_MORE;
}

/*
 * One line of a head, taken as soon as it is complete, so that the
 * status and Retry-After are known even when the rest never comes.
 */
static enum answer_rc
head_line(struct answer *a, const char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (a->state == A_STATUS) {
		if (status_line(a, l, n) == -1)
			return fail(a, CURLE_WEIRD_SERVER_REPLY,
			    "not an HTTP/1.x status line");
		a->state = A_FIELDS;
		return ANSWER_MORE;
	}
	if (n == 0)
		return head_done(a);
	if (field(a, l, n) == -1)
		return fail(a, CURLE_WEIRD_SERVER_REPLY,
		    "invalid Content-Length");
	return ANSWER_MORE;
}

static enum answer_rc
feed_head(struct answer *a, const char *p, size_t len, size_t *used)
{
	const char	*nl;
	size_t		 n;
	enum answer_rc	 rc;

	while (a->state == A_STATUS || a->state == A_FIELDS) {
		/* The part of a line offered before has no line end. */
		if (len == 0 || a->linescan > len ||
		    (nl = memchr(p + a->linescan, '\n', len - a->linescan)) ==
		    NULL) {
			if (a->headbytes + len > ANSWER_HEAD_MAX)
				return fail(a, CURLE_WEIRD_SERVER_REPLY,
				    "answer head too large");
			a->linescan = len;
			return ANSWER_MORE;
		}
		a->linescan = 0;
		n = (size_t)(nl - p) + 1;
		if ((a->headbytes += n) > ANSWER_HEAD_MAX)
			return fail(a, CURLE_WEIRD_SERVER_REPLY,
			    "answer head too large");
		*used += n;
		a->got += n;
		if ((rc = head_line(a, p, n - 1)) != ANSWER_MORE)
			return rc;
		p += n;
		len -= n;
	}
	return ANSWER_MORE;
}

/* One byte of a chunk's framing (not of its data); -1 when it is bad. */
static int
chunk_byte(struct answer *a, char c)
{
	int	 v;

	switch (a->state) {
	case A_CHUNK_SIZE:
		if ((v = hex_value((unsigned char)c)) >= 0) {
			if (a->left > (INT64_MAX >> 4))
				return -1;
			a->left = a->left * 16 + (uint64_t)v;
			a->chunk_digits++;
			return 0;
		}
		if (a->chunk_digits == 0 ||
		    (c != ';' && c != ' ' && c != '\t' && c != '\r' &&
		    c != '\n'))
			return -1;
		a->state = A_CHUNK_EXT;
		/* FALLTHROUGH */
	case A_CHUNK_EXT:
		if (c == '\n') {
			a->state = a->left > 0 ? A_CHUNK_DATA : A_TRAILER;
			a->chunk_digits = 0;
		}
		return 0;
	case A_CHUNK_CR:
		if (c == '\r') {
			a->state = A_CHUNK_LF;
			return 0;
		}
		/* FALLTHROUGH */
	case A_CHUNK_LF:
		if (c != '\n')
			return -1;
		a->state = A_CHUNK_SIZE;
		a->left = 0;
		return 0;
	case A_TRAILER:
		/* Trailer fields: skipped up to the empty line. */
		if (c == '\n') {
			if (a->chunk_digits == 0)
				a->state = A_DONE;
			a->chunk_digits = 0;
		} else if (c != '\r' && ++a->chunk_digits > ANSWER_HEAD_MAX)
			return -1;
		return 0;
	}
	return -1;
}

static enum answer_rc
feed_body(struct answer *a, const char *p, size_t len, size_t *used)
{
	uint64_t	 n;
	size_t		 i = 0;

	while (i < len && a->state != A_DONE) {
		switch (a->state) {
		case A_UNTIL_EOF:
			keep(a, p + i, len - i);
			i = len;
			break;
		case A_LENGTH:
		case A_CHUNK_DATA:
			n = len - i < a->left ? len - i : a->left;
			keep(a, p + i, n);
			i += (size_t)n;
			if ((a->left -= n) == 0)
				a->state = a->state == A_LENGTH ? A_DONE :
				    A_CHUNK_CR;
			break;
		default:
			if (chunk_byte(a, p[i++]) == -1)
				return fail(a, CURLE_RECV_ERROR,
				    "bad chunked transfer coding");
		}
	}
	*used += i;
	a->got += i;
	return a->state == A_DONE ? ANSWER_DONE : ANSWER_MORE;
}

enum answer_rc
answer_feed(struct answer *a, const char *p, size_t len, size_t *used)
{
	enum answer_rc	 rc;

	*used = 0;
	if ((rc = feed_head(a, p, len, used)) != ANSWER_MORE)
		return rc;
	if (a->state == A_STATUS || a->state == A_FIELDS)
		return ANSWER_MORE;
	if (a->state == A_DONE)
		return ANSWER_DONE;
	return feed_body(a, p + *used, len - *used, used);
}

enum answer_rc
answer_eof(struct answer *a, size_t pending)
{
	/*
	 * As libcurl: a head the server ends by hanging up is complete,
	 * unless it promised a body.
	 */
	if (a->state == A_UNTIL_EOF ||
	    (a->state == A_FIELDS && a->status >= 200 && pending == 0 &&
	    !(a->head.has_length && a->head.length > 0) && !a->head.te)) {
		a->state = A_DONE;
		a->close = 1;
	}
	if (a->state == A_DONE)
		return ANSWER_DONE;
	if (a->got == 0 && pending == 0)
		return fail(a, CURLE_GOT_NOTHING, "empty reply from server");
	return fail(a, CURLE_PARTIAL_FILE,
	    "connection closed before the answer was complete");
}

static uint32_t
clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t
answer_retry_after(const char *s, size_t len, time_t now)
{
	char		 buf[64];
	uint64_t	 v = 0;
	size_t		 i;
	time_t		 t;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return 0;
	if (isdigit((unsigned char)*s)) {
		for (i = 0; i < len; i++) {
			if (!isdigit((unsigned char)s[i]))
				return 0;
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT32_MAX)
				return UINT32_MAX;
		}
		return (uint32_t)v;
	}
	/* Every HTTP-date form starts with the day's name. */
	if (!isalpha((unsigned char)*s))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((t = curl_getdate(buf, NULL)) == -1 || t <= now)
		return 0;
	return clamp_u32((uint64_t)(t - now));
}
