/*
 * A source's batches on their way to the spool. A batch takes a span
 * of complete lines from the reader, which finds where they end; a
 * packer (source_pack.c) checks and routes each line as ingest does
 * and sends the batch on with the checkpoint after its last line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "source_int.h"
#include "spoold.h"

struct sbatch *
sbatch_new(struct src *s)
{
	struct sbatch	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->s = s;
	return b;
}

/* What the last commit left, so that the batch can be filled again. */
static void
sbatch_reset(struct sbatch *b)
{
	if (b->rt != NULL)
		live_put(b->rt);
	b->rt = NULL;
	b->n = 0;
	b->valid = 0;
	b->done = 0;
}

void
sbatch_free(struct sbatch *b)
{
	if (b == NULL)
		return;
	sbatch_reset(b);
	store_pack_release(&b->packed);
	free(b->buf);
	free(b->eol);
	free(b->recs);
	free(b);
}

/*
 * The array p of *cap items of size, twice as long, or 1,024 the first
 * time: NULL when out of memory, p as it was.
 */
static void *
grow(void *p, size_t *cap, size_t size)
{
	size_t	 n = *cap ? *cap * 2 : 1024;

	if ((p = reallocarray(p, n, size)) != NULL)
		*cap = n;
	return p;
}

/* Is the line only blanks? NDJSON skips such lines, and so does this. */
static int
blank(const char *p, size_t len)
{
	return strspn(p, " \t\r") >= len;
}

/* One line, numbered line: routed into b, or reported bad. */
static int
take_line(struct sbatch *b, const char *p, size_t len, uint64_t line,
    sbatch_bad_fn bad, void *arg)
{
	struct jscan_rec	 rec;
	struct jscan_err	 err;
	struct store_in		*recs;
	char			 why[160];

	if (blank(p, len))
		return 0;
	if (jscan_record(p, len, &rec, &err) == -1) {
		snprintf(why, sizeof(why), "%s (byte %zu)", err.msg,
		    err.offset);
		bad(arg, line, why);
		return 0;
	}
	if (rec.len > b->rt->conf->max_record_size) {
		snprintf(why, sizeof(why), "larger than max_record_size (%llu "
		    "bytes)", (unsigned long long)b->rt->conf->max_record_size);
		bad(arg, line, why);
		return 0;
	}
	b->valid++;
	if (b->n == b->ncap) {
		if ((recs = grow(b->recs, &b->ncap, sizeof(*recs))) == NULL)
			return -1;
		b->recs = recs;
	}
	if (live_route(b->rt, &rec, &b->recs[b->n]))
		b->n++;
	return 0;
}

int
sbatch_split(struct sbatch *b, size_t start, size_t len,
    const struct source_mark *from)
{
	const char	*p, *nl, *end = b->buf + start + len;
	size_t		*eol;

	sbatch_reset(b);
	b->to = *from;
	b->to.offset += len;
	b->start = start;
	b->nl = 0;
	for (p = b->buf + start; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (b->nl == b->nlcap) {
			if ((eol = grow(b->eol, &b->nlcap, sizeof(*eol))) ==
			    NULL)
				return -1;
			b->eol = eol;
		}
		b->eol[b->nl++] = (size_t)(nl - b->buf);
	}
	b->to.line += b->nl;
	memset(&b->req, 0, sizeof(b->req));
	return 0;
}

int
sbatch_check(struct sbatch *b, sbatch_bad_fn bad, void *arg)
{
	uint64_t	 line = b->to.line - b->nl;
	size_t		 i, at = b->start;

	b->rt = live_get();
	for (i = 0; i < b->nl; at = b->eol[i++] + 1)
		if (take_line(b, b->buf + at, b->eol[i] - at, ++line, bad,
		    arg) == -1)
			return -1;
	b->req.job.recs = b->recs;
	b->req.job.nrecs = b->n;
	b->req.job.inbuf = 1;
	return 0;
}

void
sbatch_mark(struct sbatch *b)
{
	b->req.job.mark_key = b->key;
	b->req.job.mark_keylen = source_mark_key(b->s->cfg.name, b->key);
	b->req.job.mark_val = b->val;
	b->req.job.mark_vallen = source_mark_encode(&b->to, b->val);
}

int
sbatch_wait(struct sbatch *b)
{
	pthread_mutex_lock(&b->s->lock);
	while (!b->done)
		pthread_cond_wait(&b->s->cond, &b->s->lock);
	pthread_mutex_unlock(&b->s->lock);
	return b->req.job.result;
}
