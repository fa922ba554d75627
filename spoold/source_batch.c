/*
 * A source's batches on their way to the spool. A batch copies a span
 * of complete lines out of the reader, checks and routes each line as
 * ingest does, and goes to the committer with the checkpoint after its
 * last line. The source prepares the next batch while the committer
 * writes this one; it sends a batch only once the one before it was
 * answered, so checkpoints go in in order and a refused batch stops
 * the chain.
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
	store_pack_free(&b->req.job);
	if (b->rt != NULL)
		live_put(b->rt);
	b->rt = NULL;
	b->n = b->len = 0;
	b->done = 0;
}

void
sbatch_free(struct sbatch *b)
{
	if (b == NULL)
		return;
	sbatch_reset(b);
	free(b->buf);
	free(b->recs);
	free(b);
}

static int
grow(struct sbatch *b, size_t len)
{
	struct store_in	*p;
	char		*q;
	size_t		 cap;

	if (len > b->cap) {
		if ((q = realloc(b->buf, len)) == NULL)
			return -1;
		b->buf = q;
		b->cap = len;
	}
	if (b->n < b->ncap)
		return 0;
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
	if (b->n == b->ncap && grow(b, 0) == -1)
		return -1;
	if (live_route(b->rt, &rec, &b->recs[b->n]))
		b->n++;
	return 0;
}

int
sbatch_fill(struct sbatch *b, const char *buf, size_t len,
    const struct source_mark *from, sbatch_bad_fn bad, void *arg)
{
	const char	*p, *nl;

	sbatch_reset(b);
	if (grow(b, len) == -1)
		return -1;
	memcpy(b->buf, buf, len);
	b->len = len;
	b->to = *from;
	b->to.offset += len;
	b->rt = live_get();
	for (p = b->buf; p < b->buf + len; p = nl + 1) {
		nl = memchr(p, '\n', b->buf + len - p);
		if (take_line(b, p, nl - p, ++b->to.line, bad, arg) == -1)
			return -1;
	}
	memset(&b->req, 0, sizeof(b->req));
	b->req.job.recs = b->recs;
	b->req.job.nrecs = b->n;
	b->req.job.mark_key = b->key;
	b->req.job.mark_keylen = source_mark_key(b->s->cfg.name, b->key);
	b->req.job.mark_val = b->val;
	b->req.job.mark_vallen = source_mark_encode(&b->to, b->val);
	/* Compressed here, beside the committer, not in its thread. */
	return b->n > 0 && store_pack(&b->req.job) != 0 ? -1 : 0;
}

/* On the committer's thread: the batch is answered. */
static void
answered(struct commit_req *req)
{
	struct sbatch	*b = req->arg;

	pthread_mutex_lock(&b->s->lock);
	b->done = 1;
	pthread_cond_broadcast(&b->s->cond);
	pthread_mutex_unlock(&b->s->lock);
}

void
sbatch_send(struct sbatch *b)
{
	b->req.done = answered;
	b->req.arg = b;
	commit_async(&b->req);
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
