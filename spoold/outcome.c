/*
 * Delivery outcomes: what an answer makes of a batch's records (see
 * pace.c for the classes and the backoff), the splitting of a batch
 * refused for good, expiry at max_age, and the outcome commits on their
 * way, whose completion ends the records' leases.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "lease.h"
#include "log.h"
#include "outcome.h"
#include "pace.h"
#include "util.h"

/* An outcome commit on its way; done() hands it back to the thread. */
struct pending {
	struct commit_req	 req;
	struct hq		*hq;
	struct store_outcome	*outs;
	size_t			 n;
	char			 text[PROTO_ANSWER_MAX];
	void			*arena;		/* the records' texts */
	int			 expiry;	/* its outcomes are expiries */
	struct pending		*next;
};

/*
 * Failed deliveries are logged a warning per hook at most this often,
 * the records failed meanwhile counted in the next: a hook that refuses
 * everything cannot flood the log.
 */
#define FAIL_LOG_MS	10000
#define FAIL_TEXT_MAX	120

static void		(*o_wake)(void);
static size_t		 o_pending;	/* outcome commits under way */
static pthread_mutex_t	 o_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending	*o_done;	/* committed, for the thread */

void
outcome_init(void (*wake)(void))
{
	o_wake = wake;
}

size_t
outcome_pending(void)
{
	return o_pending;
}

static void
pending_done(struct commit_req *r)
{
	struct pending	*p = r->arg;
	int		 first;

	pthread_mutex_lock(&o_lock);
	first = o_done == NULL;
	p->next = o_done;
	o_done = p;
	pthread_mutex_unlock(&o_lock);
	/*
	 * The thread takes the whole list after each wake-up it reads, so
	 * a list that was not empty has its wake-up coming: one write per
	 * commit, not one per batch.
	 */
	if (first && o_wake != NULL)
		o_wake();
}

static struct pending *
pending_new(struct hq *hq, size_t n)
{
	struct pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->outs = calloc(n, sizeof(*p->outs))) == NULL)
		fatal("outcomes");
	p->hq = hq;
	p->n = n;
	return p;
}

static void
pending_free(struct pending *p)
{
	free(p->arena);
	free(p->outs);
	free(p);
}

static void
pending_submit(struct pending *p)
{
	p->req.job.outs = p->outs;
	p->req.job.nouts = p->n;
	p->req.done = pending_done;
	p->req.arg = p;
	o_pending++;
	commit_async(&p->req);
}

/* Committed outcomes in the hook's counters. */
static void
count_outcomes(const struct pending *p)
{
	uint64_t	*ctr = p->hq->ctr.outcomes;
	size_t		 i;

	if (p->expiry) {
		ctr[OUTCOME_EXPIRED] += p->n;
		return;
	}
	for (i = 0; i < p->n; i++)
		switch (p->outs[i].kind) {
		case OUT_DELIVERED:
			ctr[OUTCOME_DELIVERED]++;
			break;
		case OUT_RETRY:
			ctr[OUTCOME_TRANSIENT]++;
			break;
		default:
			ctr[OUTCOME_PERMANENT]++;
		}
}

void
outcome_collect(void)
{
	struct pending	*p, *next;
	size_t		 i;

	pthread_mutex_lock(&o_lock);
	p = o_done;
	o_done = NULL;
	pthread_mutex_unlock(&o_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->req.job.result != STORE_OK)
			log_errorx("hook %s: %zu outcomes not committed; those "
			    "records will be delivered again", p->hq->cfg->name,
			    p->n);
		for (i = 0; i < p->n; i++) {
			lease_end(p->hq, p->outs[i].id);
			/* Wake for the retry: no scan has seen its new time. */
			if (p->outs[i].kind == OUT_RETRY &&
			    p->req.job.result == STORE_OK &&
			    p->outs[i].due_ms < p->hq->next_due)
				p->hq->next_due = p->outs[i].due_ms;
		}
		if (p->req.job.result != STORE_OK)
			p->hq->full = 1;
		else
			count_outcomes(p);
		o_pending--;
		pending_free(p);
	}
}

static uint64_t
jitter_seed(uint64_t id)
{
	uint64_t	 x = id ^ (now_ms() * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

int
outcome_class(const struct hook *h, uint8_t class, uint32_t status)
{
	switch (class) {
	case PROTO_CLASS_DELIVERED:
		return CLASS_DELIVERED;
	case PROTO_CLASS_TRANSIENT:
		return CLASS_TRANSIENT;
	case PROTO_CLASS_PERMANENT:
		return CLASS_PERMANENT;
	}
	return pace_class(h, status);
}

static void
set_outcome(struct store_outcome *o, struct hq *hq, const struct batch *b,
    size_t i, int class, uint32_t retry_after, uint64_t now)
{
	const struct hook	*h = hq->cfg;
	uint64_t		 expires;

	o->id = b->ids[i];
	o->hook = hq->id;
	o->attempts = b->attempts[i] + 1;
	o->last_ms = now;
	o->sole = b->nhooks[i] == 1;
	if (class == CLASS_DELIVERED) {
		o->kind = OUT_DELIVERED;
		return;
	}
	if (class == CLASS_PERMANENT) {
		o->kind = OUT_DEAD;
		return;
	}
	o->kind = OUT_RETRY;
	o->due_ms = now + pace_backoff(h, o->attempts, retry_after,
	    jitter_seed(o->id));
	/* Come back no later than expiry, to be dead-lettered then. */
	expires = b->received[i] + h->max_age_ms;
	if (o->due_ms > expires)
		o->due_ms = expires > now ? expires : now;
}

/* A batch refused for good is sent again in halves to find the culprits. */
static void
split(struct hq *hq, struct batch *b)
{
	struct batch	*half[2];
	size_t		 cut = b->n / 2;

	half[0] = lease_batch_copy(b, 0, cut);
	half[1] = lease_batch_copy(b, cut, b->n - cut);
	half[1]->next = hq->splits;
	half[0]->next = half[1];
	hq->splits = half[0];
	lease_batch_free(b);
}

/*
 * The records a broker answered otherwise than the batch: their own
 * class, code and text, which stay in res's arena, now p's.
 */
static void
record_outcomes(struct pending *p, struct hq *hq, struct batch *b,
    struct proto_result *res, uint64_t now)
{
	const struct proto_rec	*rec;
	struct store_outcome	*o;
	uint32_t		 i;

	for (i = 0; i < res->nrecs; i++) {
		rec = &res->recs[i];
		if (rec->index >= b->n) {
			log_warnx("hook %s: batch %llu: an outcome for record "
			    "%u of %zu", hq->cfg->name,
			    (unsigned long long)b->seq, rec->index, b->n);
			continue;
		}
		o = &p->outs[rec->index];
		set_outcome(o, hq, b, rec->index,
		    outcome_class(hq->cfg, rec->class, 0), 0, now);
		o->status = rec->code;
		o->text = rec->text;
		o->textlen = rec->textlen;
	}
	p->arena = res->arena;
	res->arena = NULL;
}

/* An answer's start, made safe for one log line. */
static void
log_text(char *dst, size_t size, const char *src, size_t len)
{
	size_t	 i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ?
		    '?' : src[i];
	dst[len] = '\0';
}

/*
 * At -v, a line for each request: its records, how long it took, the
 * status (or the broker's code) and what became of them; p NULL: a
 * batch refused whole, to be sent again in halves.
 */
static void
log_request(struct hq *hq, size_t n, const struct proto_result *res,
    const struct pending *p)
{
	char	 text[FAIL_TEXT_MAX + 1], what[96];
	size_t	 i, k[3] = { 0, 0, 0 };

	if (log_getverbose() < 1)
		return;
	if (p == NULL)
		snprintf(what, sizeof(what), "refused whole, sent again in "
		    "halves");
	else {
		for (i = 0; i < p->n; i++)
			k[p->outs[i].kind]++;
		snprintf(what, sizeof(what), "%zu delivered, %zu to retry, "
		    "%zu dead-lettered", k[OUT_DELIVERED], k[OUT_RETRY],
		    k[OUT_DEAD]);
	}
	log_text(text, sizeof(text), res->text, res->textlen);
	log_debug("hook %s: %zu record%s in %u ms%s: status %u: %s%s%s",
	    hq->cfg->name, n, n == 1 ? "" : "s", res->elapsed_ms,
	    res->new_conn ? " on a new connection" : "", res->status, what,
	    text[0] != '\0' ? ": " : "", text);
}

/* A warning of the records of p not delivered, unless one came lately. */
static void
log_failed(struct hq *hq, const struct pending *p, uint64_t now)
{
	const struct store_outcome	*first = NULL;
	char				 text[FAIL_TEXT_MAX + 1], more[64];
	size_t				 i, retried = 0, dead = 0;

	for (i = 0; i < p->n; i++) {
		if (p->outs[i].kind == OUT_DELIVERED)
			continue;
		if (first == NULL)
			first = &p->outs[i];
		if (p->outs[i].kind == OUT_RETRY)
			retried++;
		else
			dead++;
	}
	if (first == NULL)
		return;
	if (hq->failed_logged != 0 && now - hq->failed_logged < FAIL_LOG_MS) {
		hq->failed_unlogged += retried + dead;
		return;
	}
	log_text(text, sizeof(text), first->text, first->textlen);
	more[0] = '\0';
	if (hq->failed_unlogged > 0)
		snprintf(more, sizeof(more), " (and %llu records since the "
		    "last warning)", (unsigned long long)hq->failed_unlogged);
	log_warnx("hook %s: %zu of %zu records not delivered (%zu to retry, "
	    "%zu dead-lettered): status %u%s%s%s", hq->cfg->name,
	    retried + dead, p->n, retried, dead, first->status,
	    text[0] != '\0' ? ": " : "", text, more);
	hq->failed_logged = now;
	hq->failed_unlogged = 0;
}

void
outcome_result(struct hq *hq, struct batch *b, struct proto_result *res)
{
	struct pending	*p;
	uint64_t	 now = now_ms();
	size_t		 i;
	int		 class;

	class = outcome_class(hq->cfg, res->class, res->status);
	/* One status for all: find the records at fault by halves. */
	if (class == CLASS_PERMANENT && res->class == PROTO_CLASS_STATUS &&
	    b->n > 1) {
		log_request(hq, b->n, res, NULL);
		split(hq, b);
		return;
	}
	p = pending_new(hq, b->n);
	memcpy(p->text, res->text, res->textlen);
	for (i = 0; i < b->n; i++) {
		set_outcome(&p->outs[i], hq, b, i, class, res->retry_after,
		    now);
		p->outs[i].status = (uint16_t)res->status;
		p->outs[i].text = p->text;
		p->outs[i].textlen = res->textlen;
	}
	record_outcomes(p, hq, b, res, now);
	log_request(hq, b->n, res, p);
	log_failed(hq, p, now);
	pending_submit(p);
	lease_batch_free(b);
}

struct pending *
expiry_begin(struct hq *hq, size_t n)
{
	struct pending	*p;

	p = pending_new(hq, n);
	p->n = 0;
	p->expiry = 1;
	return p;
}

int
expiry_check(struct pending *p, const struct store_item *it, uint64_t now)
{
	struct store_outcome	*o;

	if (it->received_ms + p->hq->cfg->max_age_ms > now)
		return 0;
	o = &p->outs[p->n++];
	o->id = it->id;
	o->hook = p->hq->id;
	o->kind = OUT_DEAD;
	o->attempts = it->attempts;
	o->last_ms = now;
	o->text = EXPIRED_TEXT;
	o->textlen = sizeof(EXPIRED_TEXT) - 1;
	return 1;
}

void
expiry_end(struct pending *p)
{
	if (p->n > 0)
		pending_submit(p);
	else
		pending_free(p);
}
