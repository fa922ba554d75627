/*
 * Request bodies: a BATCH frame split into its records, each record
 * projected by the hook's log_parameters when set, then joined in the
 * hook's format.
 *
 * One record in json format is sent straight from the frame; every other
 * body is one buffer, since libcurl posts one contiguous block. Records
 * that log_parameters leaves unchanged keep their exact bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "config.h"
#include "util.h"

#define REC_HEAD	12	/* be64 spool id, be32 length */

int
batch_parse(const unsigned char *p, size_t len, struct batch *b, char *err,
    size_t errlen)
{
	size_t		 off = 13, i;
	uint32_t	 rlen;

	memset(b, 0, sizeof(*b));
	if (len < off) {
		snprintf(err, errlen, "batch: %zu bytes, too short", len);
		return -1;
	}
	b->seq = get_be64(p);
	b->flags = p[8];
	b->n = get_be32(p + 9);
	/* Every record takes at least its head: bound n before calloc. */
	if (b->n == 0 || b->n > (len - off) / REC_HEAD) {
		snprintf(err, errlen, "batch %llu: bad record count %u",
		    (unsigned long long)b->seq, b->n);
		return -1;
	}
	if ((b->recs = calloc(b->n, sizeof(*b->recs))) == NULL) {
		snprintf(err, errlen, "batch: out of memory");
		return -1;
	}
	for (i = 0; i < b->n; i++) {
		if (len - off < REC_HEAD)
			goto trunc;
		b->recs[i].id = get_be64(p + off);
		rlen = get_be32(p + off + 8);
		off += REC_HEAD;
		if (rlen == 0 || rlen > len - off)
			goto trunc;
		b->recs[i].ptr = (const char *)p + off;
		b->recs[i].len = rlen;
		off += rlen;
	}
	if (off != len)
		goto trunc;
	return 0;
trunc:
	snprintf(err, errlen, "batch %llu: record %zu: bad length",
	    (unsigned long long)b->seq, i);
	batch_free(b);
	return -1;
}

void
batch_free(struct batch *b)
{
	free(b->recs);
	b->recs = NULL;
	b->n = 0;
}

int
body_match(const struct patterns *p, const char *key, int icase)
{
	const char	*s;
	size_t		 i, len;

	for (i = 0; i < p->n; i++) {
		s = p->v[i];
		len = strlen(s);
		if (len > 0 && s[len - 1] == '*') {
			len--;
			if ((icase ? strncasecmp(key, s, len) :
			    strncmp(key, s, len)) == 0)
				return 1;
		} else if ((icase ? strcasecmp(key, s) : strcmp(key, s)) == 0)
			return 1;
	}
	return 0;
}

/* Drops the members of rec[name] that no pattern keeps; 1 if any went. */
static int
filter(json_t *rec, const char *name, const struct patterns *p, int icase)
{
	json_t		*obj, *v;
	const char	*key;
	void		*tmp;
	int		 removed = 0;

	if ((obj = json_object_get(rec, name)) == NULL ||
	    !json_is_object(obj))
		return 0;
	json_object_foreach_safe(obj, tmp, key, v) {
		(void)v;
		if (!body_match(p, key, icase)) {
			json_object_del(obj, key);
			removed = 1;
		}
	}
	return removed;
}

char *
body_project(const struct hook *h, const char *rec, size_t len,
    size_t *outlen)
{
	json_t	*j;
	char	*s = NULL;
	int	 changed;

	/* spoold validated the record; a failure here sends it as is. */
	if ((j = json_loadb(rec, len, JSON_ALLOW_NUL, NULL)) == NULL)
		return NULL;
	changed = filter(j, "meta", &h->lp_meta, 0);
	changed |= filter(j, "headers", &h->lp_headers, 1);
	if (changed)
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s != NULL)
		*outlen = strlen(s);
	return s;
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
pieces(const struct hook *h, const struct batch *b)
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
body_build(const struct hook *h, const struct batch *b, struct body *body)
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
