/*
 * Request bodies: the records of a BATCH (as proto_batch_parse splits
 * it), each projected by the hook's log_parameters when set, then joined
 * in the hook's format.
 *
 * One record in json format is sent straight from the frame; every other
 * body is one buffer, since libcurl posts one contiguous block. Records
 * that log_parameters leaves unchanged keep their exact bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "config.h"
#include "member.h"
#include "proto.h"

/*
 * A key may hold NUL bytes (\u0000), a pattern never does: a NUL in the
 * key differs from whatever the pattern has at its place.
 */
int
body_match(const struct patterns *p, const char *key, size_t keylen,
    int icase)
{
	const char	*s;
	size_t		 i, len;

	for (i = 0; i < p->n; i++) {
		s = p->v[i];
		len = strlen(s);
		if (len > 0 && s[len - 1] == '*')
			len--;
		else if (len != keylen)
			continue;
		if (len <= keylen && (icase ? strncasecmp(key, s, len) :
		    strncmp(key, s, len)) == 0)
			return 1;
	}
	return 0;
}

/*
 * Projection works on the record's bytes, not on a parsed tree: the
 * members kept, and everything outside "meta" and "headers", go out
 * exactly as received (a parse and dump would print 0.1 as
 * 0.10000000000000001).
 */
struct out {
	char	*buf;
	size_t	 len;
	int	 removed;
};

static void
put(struct out *o, const char *p, size_t n)
{
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/*
 * Walk the object at p, calling keep() for each member; copy the kept
 * members to o. Returns the end of the object, or NULL.
 */
static const char *
members(const char *p, const char *e, struct out *o,
    int (*keep)(void *, const char *, const char *, const char *,
    const char *, struct out *), void *arg)
{
	struct walk_member	 m;
	int			 first = 1;

	put(o, "{", 1);
	p = walk_ws(p + 1, e);
	while (p < e && *p == '"') {
		p = walk_member(p, e, &m);
		if (!first)
			put(o, ",", 1);
		if (keep(arg, m.k, m.kend, m.v, m.vend, o))
			first = 0;
		else if (!first)
			o->len--;	/* take back the comma */
	}
	if (p >= e || *p != '}')
		return NULL;
	put(o, "}", 1);
	return p + 1;
}

struct inner {
	const struct patterns	*pat;
	int			 icase;
};

static int
keep_inner(void *arg, const char *k, const char *kend, const char *v,
    const char *vend, struct out *o)
{
	struct inner	*in = arg;
	char		*key;
	size_t		 keylen;
	int		 keep;

	if ((key = walk_key(k, kend, &keylen)) == NULL)
		keep = 1;
	else
		keep = body_match(in->pat, key, keylen, in->icase);
	free(key);
	if (!keep) {
		o->removed = 1;
		return 0;
	}
	put(o, k, (size_t)(vend - k));
	(void)v;
	return 1;
}

static int
keep_outer(void *arg, const char *k, const char *kend, const char *v,
    const char *vend, struct out *o)
{
	const struct hook	*h = arg;
	struct inner		 in;
	size_t			 klen = (size_t)(kend - k);

	if (*v == '{' && ((klen == 6 && memcmp(k, "\"meta\"", 6) == 0) ||
	    (klen == 9 && memcmp(k, "\"headers\"", 9) == 0))) {
		in.pat = klen == 6 ? &h->lp_meta : &h->lp_headers;
		in.icase = klen != 6;
		put(o, k, (size_t)(kend - k));
		put(o, ":", 1);
		if (members(v, vend, o, keep_inner, &in) == NULL)
			return -1;
		return 1;
	}
	put(o, k, (size_t)(vend - k));
	return 1;
}

char *
body_project(const struct hook *h, const char *rec, size_t len,
    size_t *outlen)
{
	struct out	 o;
	const char	*p, *e = rec + len;

	p = walk_ws(rec, e);
	if (p >= e || *p != '{')
		return NULL;
	/* Never longer than the record: members only go. */
	if ((o.buf = malloc(len + 2)) == NULL)
		return NULL;
	o.len = 0;
	o.removed = 0;
	if (members(p, e, &o, keep_outer, (void *)h) == NULL ||
	    !o.removed) {
		free(o.buf);
		return NULL;
	}
	*outlen = o.len;
	return o.buf;
}

struct piece {
	const char	*ptr;
	size_t		 len;
	char		*own;
};

static void
pieces_free(struct piece *pc, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(pc[i].own);
	free(pc);
}

static struct piece *
pieces(const struct hook *h, const struct proto_batch *b)
{
	struct piece	*pc;
	size_t		 i;

	if ((pc = calloc(b->n, sizeof(*pc))) == NULL)
		return NULL;
	for (i = 0; i < b->n; i++) {
		pc[i].ptr = b->recs[i].ptr;
		pc[i].len = b->recs[i].len;
		if (!h->has_log_parameters)
			continue;
		pc[i].own = body_project(h, pc[i].ptr, pc[i].len, &pc[i].len);
		if (pc[i].own != NULL)
			pc[i].ptr = pc[i].own;
		else
			pc[i].len = b->recs[i].len;
	}
	return pc;
}

/*
 * A record may hold line breaks between its tokens (never inside a
 * string, where JSON escapes them); a space keeps it on one line.
 */
static void
one_line(char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] == '\n' || p[i] == '\r')
			p[i] = ' ';
}

static char *
join(const struct hook *h, const struct piece *pc, size_t n, size_t *len)
{
	char	*buf, *p;
	size_t	 i, total = 2;

	for (i = 0; i < n; i++)
		total += pc[i].len + 1;
	if ((buf = malloc(total)) == NULL)
		return NULL;
	p = buf;
	if (h->format == FORMAT_JSON)
		*p++ = '[';
	for (i = 0; i < n; i++) {
		if (h->format == FORMAT_JSON && i > 0)
			*p++ = ',';
		memcpy(p, pc[i].ptr, pc[i].len);
		if (h->format == FORMAT_NDJSON) {
			one_line(p, pc[i].len);
			p[pc[i].len] = '\n';
			p++;
		}
		p += pc[i].len;
	}
	if (h->format == FORMAT_JSON)
		*p++ = ']';
	*len = (size_t)(p - buf);
	return buf;
}

int
body_build(const struct hook *h, const struct proto_batch *b, struct body *body)
{
	struct piece	*pc;

	memset(body, 0, sizeof(*body));
	if ((pc = pieces(h, b)) == NULL)
		return -1;
	if (b->n == 1 && h->format == FORMAT_JSON) {
		/* The record itself: no copy unless projected. */
		body->ptr = pc[0].ptr;
		body->len = pc[0].len;
		body->buf = pc[0].own;
		pc[0].own = NULL;
	} else {
		body->buf = join(h, pc, b->n, &body->len);
		body->ptr = body->buf;
	}
	pieces_free(pc, b->n);
	return body->ptr != NULL ? 0 : -1;
}

void
body_free(struct body *body)
{
	free(body->buf);
	memset(body, 0, sizeof(*body));
}
