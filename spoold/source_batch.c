/*
 * A source's batches on their way to the spool. A batch copies a span
 * of complete lines out of the reader, checks and routes each line as
 * ingest does, and goes to the source's packer (source_pack.c) with
 * the checkpoint after its last line.
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
	free(b->recs);
	free(b);
}

static int
grow(struct sbatch *b)
{
	struct store_in	*p;
	size_t		 cap;

	cap = b->ncap ? b->ncap * 2 : 1024;
	if ((p = reallocarray(b->recs, cap, sizeof(*p))) == NULL)
		return -1;
	b->recs = p;
	b->ncap = cap;
	return 0;
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
	b->to.records++;
	if (b->n == b->ncap && grow(b) == -1)
		return -1;
	if (live_route(b->rt, &rec, &b->recs[b->n]))
		b->n++;
	return 0;
}

int
sbatch_fill(struct sbatch *b, size_t start, size_t len,
    const struct source_mark *from, sbatch_bad_fn bad, void *arg)
{
	const char	*p, *nl, *end = b->buf + start + len;

	sbatch_reset(b);
	b->to = *from;
	b->to.offset += len;
	b->rt = live_get();
	for (p = b->buf + start; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (take_line(b, p, nl - p, ++b->to.line, bad, arg) == -1)
			return -1;
	}
	memset(&b->req, 0, sizeof(b->req));
	b->req.job.recs = b->recs;
	b->req.job.nrecs = b->n;
	b->req.job.inbuf = 1;
	b->req.job.mark_key = b->key;
	b->req.job.mark_keylen = source_mark_key(b->s->cfg.name, b->key);
	b->req.job.mark_val = b->val;
	b->req.job.mark_vallen = source_mark_encode(&b->to, b->val);
	return 0;
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
