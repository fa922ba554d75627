/*
 * The delivery scheduler.
 *
 * Leases live only here, in memory: a record handed to a worker is in
 * its hook's id set until the outcome is committed, or until the worker
 * dies, when it is simply forgotten and so due again at once. If spoold
 * itself dies, every lease dies with it, and whatever was not committed
 * as delivered is delivered again: at least once.
 *
 * Each hook's ready queue is filled from the spool's due index. Scans
 * resume where the last one stopped, since newly ingested records are
 * due now and sort last; a full scan from the start is made when leases
 * were dropped, when deferred records come due, after spoolctl changed
 * the spool, and once a second in any case.
 */
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "commit.h"
#include "idset.h"
#include "log.h"
#include "pace.h"
#include "pool.h"
#include "proto.h"
#include "scheduler.h"
#include "spoold.h"
#include "util.h"

#define FULL_SCAN_MS	1000
/*
 * Records a worker may hold: at least two batches, the one it is sending
 * and one queued behind it, so that it never waits for the scheduler
 * between requests; small batches more, so that one hand-off and one
 * wake-up of each side carry several (the worker holds its results back
 * while two or more batches wait, PROTO_HOLD_MS at most). Only a worker
 * whose last request was answered 2xx within PROTO_HOLD_MS gets more
 * than two: one that meets failures, timeouts or a slow hook should not
 * hold records that another worker could try, and its hand-offs cost
 * nothing beside its requests.
 */
#define PIPELINE_RECORDS	16
#define PIPELINE_MIN		2
#define MAX_WAIT_MS	1000
#define EXPIRED_TEXT	"expired: older than max_age"

struct batch {
	uint64_t	 seq;
	size_t		 n;
	uint64_t	*ids;
	uint32_t	*attempts;
	uint64_t	*received;
	uint8_t		*nhooks;	/* hooks the record went to */
	uint8_t		 flags;		/* PROTO_F_* it was sent with */
	struct batch	*next;
};

struct ready {
	uint64_t	 id;
	uint64_t	 since;		/* wall ms it became due */
};

struct hq {
	uint32_t	 id;
	struct routes	*rt;		/* keeps cfg alive */
	const struct hook *cfg;
	char		*hello;		/* the worker's settings */
	size_t		 hellolen;
	struct ready	*q;		/* ring of max_ready */
	size_t		 qcap, qhead, qn;
	struct idset	 mem;		/* queued or leased */
	size_t		 leased;
	struct batch	*splits;	/* refused batches, to go in halves */
	struct store_due pos;
	int		 full;		/* next scan from the start */
	int		 more;		/* the last scan stopped at max_ready */
	uint64_t	 seen_gen;
	uint64_t	 next_due;
	uint64_t	 last_full;
	struct worker	*workers;
	uint32_t	 nworkers;
	struct bucket	 msg, conn;
	int		 held;
	int		 removed;	/* gone from the configuration */
	struct hq	*next;
};

/* An outcome commit on its way; done() hands it back to the thread. */
struct pending {
	struct commit_req	 req;
	struct hq		*hq;
	struct store_outcome	*outs;
	size_t			 n;
	char			 text[PROTO_ANSWER_MAX];
	struct pending		*next;
};

struct stat_slot {
	uint32_t	 hook;
	uint64_t	 in_flight;
	uint64_t	 workers;
};

static pthread_t	 s_thread;
static int		 s_evfd = -1;
static atomic_int	 s_stop;
static atomic_int	 s_reload, s_rescan;
static atomic_ullong	 s_gen;
static uint64_t		 s_deadline;
static struct hq	*s_hooks;
static uint64_t		 s_seq;
static size_t		 s_pending;	/* outcome commits under way */

static pthread_mutex_t	 s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending	*s_done;	/* committed, for the thread */
static struct stat_slot	*s_stats;
static size_t		 s_nstats, s_capstats;

static void
wake(void)
{
	uint64_t	 one = 1;

	if (s_evfd != -1 && write(s_evfd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("scheduler wake");
}

void
sched_ingested(void)
{
	atomic_fetch_add(&s_gen, 1);
	wake();
}

void
sched_reload(void)
{
	atomic_store(&s_reload, 1);
	wake();
}

void
sched_rescan(void)
{
	atomic_store(&s_rescan, 1);
	wake();
}

void
sched_stats(uint32_t hook, uint64_t *in_flight, uint64_t *workers)
{
	size_t	 i;

	*in_flight = *workers = 0;
	pthread_mutex_lock(&s_lock);
	for (i = 0; i < s_nstats; i++)
		if (s_stats[i].hook == hook) {
			*in_flight = s_stats[i].in_flight;
			*workers = s_stats[i].workers;
		}
	pthread_mutex_unlock(&s_lock);
}

/* Every round: status must agree with the spool's counts of the moment. */
static void
publish_stats(void)
{
	struct stat_slot	*st;
	struct hq		*hq;
	size_t			 n = 0;

	for (hq = s_hooks; hq != NULL; hq = hq->next)
		n++;
	pthread_mutex_lock(&s_lock);
	if (n > s_capstats) {
		if ((st = reallocarray(s_stats, n, sizeof(*st))) == NULL) {
			pthread_mutex_unlock(&s_lock);
			return;
		}
		s_stats = st;
		s_capstats = n;
	}
	for (n = 0, hq = s_hooks; hq != NULL; hq = hq->next, n++) {
		s_stats[n].hook = hq->id;
		s_stats[n].in_flight = hq->leased;
		s_stats[n].workers = hq->nworkers;
	}
	s_nstats = n;
	pthread_mutex_unlock(&s_lock);
}

static void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->ids);
	free(b->attempts);
	free(b->received);
	free(b->nhooks);
	free(b);
}

static struct batch *
batch_new(size_t n)
{
	struct batch	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->ids = calloc(n, sizeof(*b->ids))) == NULL ||
	    (b->attempts = calloc(n, sizeof(*b->attempts))) == NULL ||
	    (b->received = calloc(n, sizeof(*b->received))) == NULL ||
	    (b->nhooks = calloc(n, sizeof(*b->nhooks))) == NULL)
		fatal("batch");
	return b;
}

/* Forget the lease: the record is due again as the spool says. */
static void
release(struct hq *hq, uint64_t id)
{
	if (idset_del(&hq->mem, id))
		hq->leased--;
}

static void
release_batch(struct hq *hq, struct batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		release(hq, b->ids[i]);
	hq->full = 1;
	batch_free(b);
}

static void
pending_done(struct commit_req *r)
{
	struct pending	*p = r->arg;
	int		 first;

	pthread_mutex_lock(&s_lock);
	first = s_done == NULL;
	p->next = s_done;
	s_done = p;
	pthread_mutex_unlock(&s_lock);
	/*
	 * The thread takes the whole list after each wake-up it reads, so
	 * a list that was not empty has its wake-up coming: one write per
	 * commit, not one per batch.
	 */
	if (first)
		wake();
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
pending_submit(struct pending *p)
{
	p->req.job.outs = p->outs;
	p->req.job.nouts = p->n;
	p->req.done = pending_done;
	p->req.arg = p;
	s_pending++;
	commit_async(&p->req);
}

/* Committed outcomes end their leases. */
static void
collect_done(void)
{
	struct pending	*p, *next;
	size_t		 i;

	pthread_mutex_lock(&s_lock);
	p = s_done;
	s_done = NULL;
	pthread_mutex_unlock(&s_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->req.job.result != STORE_OK)
			log_warnx("hook %s: %zu outcomes not committed; those "
			    "records will be delivered again", p->hq->cfg->name,
			    p->n);
		for (i = 0; i < p->n; i++) {
			release(p->hq, p->outs[i].id);
			/* Wake for the retry: no scan has seen its new time. */
			if (p->outs[i].kind == OUT_RETRY &&
			    p->req.job.result == STORE_OK &&
			    p->outs[i].due_ms < p->hq->next_due)
				p->hq->next_due = p->outs[i].due_ms;
		}
		if (p->req.job.result != STORE_OK)
			p->hq->full = 1;
		s_pending--;
		free(p->outs);
		free(p);
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

static void
set_outcome(struct store_outcome *o, struct hq *hq, const struct batch *b,
    size_t i, int class, const struct proto_result *res, uint64_t now)
{
	const struct hook	*h = hq->cfg;
	uint64_t		 expires;

	o->id = b->ids[i];
	o->hook = hq->id;
	o->status = (uint16_t)res->status;
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
	o->due_ms = now + pace_backoff(h, o->attempts, res->retry_after,
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
	size_t		 cut = b->n / 2, i, k;

	for (k = 0; k < 2; k++) {
		half[k] = batch_new(k == 0 ? cut : b->n - cut);
		half[k]->n = k == 0 ? cut : b->n - cut;
		for (i = 0; i < half[k]->n; i++) {
			half[k]->ids[i] = b->ids[i + k * cut];
			half[k]->attempts[i] = b->attempts[i + k * cut];
			half[k]->received[i] = b->received[i + k * cut];
			half[k]->nhooks[i] = b->nhooks[i + k * cut];
		}
	}
	half[1]->next = hq->splits;
	half[0]->next = half[1];
	hq->splits = half[0];
	batch_free(b);
}

static void
outcomes(struct hq *hq, struct batch *b, const struct proto_result *res)
{
	struct pending	*p;
	uint64_t	 now = now_ms();
	size_t		 i;
	int		 class;

	class = pace_class(hq->cfg, res->status);
	log_debug("hook %s: batch %llu of %zu: status %u%s%.*s",
	    hq->cfg->name, (unsigned long long)b->seq, b->n, res->status,
	    res->textlen ? ": " : "", (int)res->textlen, res->text);
	if (class == CLASS_PERMANENT && b->n > 1) {
		split(hq, b);
		return;
	}
	p = pending_new(hq, b->n);
	memcpy(p->text, res->text, res->textlen);
	for (i = 0; i < b->n; i++) {
		set_outcome(&p->outs[i], hq, b, i, class, res, now);
		p->outs[i].text = p->text;
		p->outs[i].textlen = res->textlen;
	}
	pending_submit(p);
	batch_free(b);
}

/* Batches in flight on a worker: a queue, answered in order. */
static void
batch_push(struct worker *w, struct batch *b)
{
	/* btail is only kept while the queue holds something. */
	if (w->batch == NULL)
		w->btail = &w->batch;
	b->next = NULL;
	*w->btail = b;
	w->btail = &b->next;
	w->nbatch++;
}

static struct batch *
batch_pop(struct worker *w)
{
	struct batch	*b;

	if ((b = w->batch) != NULL) {
		w->batch = b->next;
		b->next = NULL;
		w->nbatch--;
	}
	return b;
}

/*
 * Ends a worker: the records of its batches are due again at once. why
 * says so in the log when it held any: "died" or "stopped in a request".
 */
static void
worker_end(struct hq *hq, struct worker *w, const char *why)
{
	struct worker	**wp;
	struct batch	 *b;
	size_t		  n = 0;

	while ((b = batch_pop(w)) != NULL) {
		n += b->n;
		release_batch(hq, b);
	}
	if (n > 0)
		log_warnx("hook %s: worker %ld %s with %zu record%s; they "
		    "stay queued", hq->cfg->name, (long)w->pid, why, n,
		    n == 1 ? "" : "s");
	for (wp = &hq->workers; *wp != NULL; wp = &(*wp)->next)
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	hq->nworkers--;
	pool_close(w, 1);
}

static void
worker_gone(struct hq *hq, struct worker *w)
{
	worker_end(hq, w, "died");
}

/*
 * The hook closed the connection and curl made a new one, which carried
 * b: the batches queued behind b go on it too. When one of them ends its
 * connection, the count already leads to a fresh one after it.
 */
static void
reconnected(struct hq *hq, struct worker *w, const struct batch *b)
{
	const struct batch	*q;
	uint64_t		 maxdel, used = b->n;

	maxdel = hq->cfg->shaping.max_deliveries_per_connection;
	for (q = w->batch; q != NULL; q = q->next) {
		if (q->flags & (PROTO_F_FRESH | PROTO_F_LAST))
			return;
		used += q->n;
	}
	w->conn_left = maxdel > used ? maxdel - used : 0;
}

/* 0, or -1 when the worker broke the protocol and is gone. */
static int
handle_result(struct hq *hq, struct worker *w, const struct proto_result *res)
{
	struct batch	*b = w->batch;

	if (b == NULL || res->seq != b->seq) {
		log_warnx("hook %s: worker %ld answered a batch it was not "
		    "given", hq->cfg->name, (long)w->pid);
		worker_gone(hq, w);
		return -1;
	}
	batch_pop(w);
	w->answered = res->status >= 200 && res->status <= 299 &&
	    res->elapsed_ms < PROTO_HOLD_MS;
	if (w->batch == NULL)
		w->idle_since = mono_ms();
	if (res->new_conn && !(b->flags & (PROTO_F_FRESH | PROTO_F_LAST)))
		reconnected(hq, w, b);
	outcomes(hq, b, res);
	return 0;
}

static int
skip_mem(void *arg, uint64_t id)
{
	return idset_has(&((struct hq *)arg)->mem, id);
}

static void
push_ready(struct hq *hq, const struct store_due *d)
{
	struct ready	*r;

	if (idset_add(&hq->mem, d->id) != 1)
		return;
	r = &hq->q[(hq->qhead + hq->qn) % hq->qcap];
	r->id = d->id;
	r->since = d->due_ms;
	hq->qn++;
}

/* Top up the hook's ready queue from the spool's due index. */
static void
refill(struct hq *hq, uint64_t now)
{
	struct store_due	 buf[256];
	uint64_t		 gen = atomic_load(&s_gen), next;
	size_t			 room, i;
	ssize_t			 n;
	int			 full;

	full = hq->full || now >= hq->last_full + FULL_SCAN_MS;
	if (!full && gen == hq->seen_gen && !hq->more && now < hq->next_due)
		return;
	if (full) {
		memset(&hq->pos, 0, sizeof(hq->pos));
		hq->last_full = now;
		hq->full = 0;
		hq->held = store_held(sd->store, hq->id);
	}
	hq->seen_gen = gen;
	hq->more = 0;
	while ((room = hq->qcap - hq->qn) > 0) {
		if (room > sizeof(buf) / sizeof(buf[0]))
			room = sizeof(buf) / sizeof(buf[0]);
		n = store_due(sd->store, hq->id, now, &hq->pos, skip_mem, hq,
		    buf, room, &next);
		if (n == -1) {
			log_warnx("hook %s: cannot read the spool",
			    hq->cfg->name);
			return;
		}
		for (i = 0; i < (size_t)n; i++)
			push_ready(hq, &buf[i]);
		if ((size_t)n < room) {
			hq->next_due = next;
			return;
		}
	}
	hq->more = 1;
}

static int
batch_due(const struct hq *hq, uint64_t now)
{
	const struct hook	*h = hq->cfg;

	if (hq->qn == 0)
		return 0;
	if (hq->qn >= h->batch_size || hq->qn >= h->min_batch_size)
		return 1;
	return hq->q[hq->qhead].since + h->max_batch_latency_ms <= now;
}

static size_t
pipeline(const struct hq *hq, const struct worker *w)
{
	size_t	 n = PIPELINE_RECORDS / hq->cfg->batch_size;

	return w->answered && n > PIPELINE_MIN ? n : PIPELINE_MIN;
}

/* The worker holding the fewest batches, if one has room. */
static struct worker *
idle_worker(struct hq *hq)
{
	struct worker	*w, *best = NULL;
	size_t		 n, least = SIZE_MAX;

	for (w = hq->workers; w != NULL; w = w->next) {
		if (w->retiring)
			continue;
		if (w->batch == NULL)
			return w;
		if ((n = w->nbatch) < least && n < pipeline(hq, w)) {
			best = w;
			least = n;
		}
	}
	return best;
}

/* The next batch: a refused piece first, else the head of the queue. */
static struct batch *
next_batch(struct hq *hq, size_t max)
{
	struct batch	*b, *rest;
	size_t		 n, i;

	if ((b = hq->splits) != NULL) {
		hq->splits = b->next;
		b->next = NULL;
		if (b->n <= max)
			return b;
		rest = batch_new(b->n - max);
		rest->n = b->n - max;
		for (i = 0; i < rest->n; i++) {
			rest->ids[i] = b->ids[max + i];
			rest->attempts[i] = b->attempts[max + i];
			rest->received[i] = b->received[max + i];
			rest->nhooks[i] = b->nhooks[max + i];
		}
		rest->next = hq->splits;
		hq->splits = rest;
		b->n = max;
		return b;
	}
	n = hq->qn < max ? hq->qn : max;
	b = batch_new(n);
	b->n = n;
	for (i = 0; i < n; i++)
		b->ids[i] = hq->q[(hq->qhead + i) % hq->qcap].id;
	hq->qhead = (hq->qhead + n) % hq->qcap;
	hq->qn -= n;
	hq->leased += n;
	return b;
}

struct fill {
	struct hq	*hq;
	struct worker	*w;
	struct batch	*sent;		/* what goes out */
	struct pending	*expired;
	uint64_t	 now;
};

static void
fill_one(void *arg, const struct store_item *it)
{
	struct fill		*f = arg;
	struct store_outcome	*o;
	size_t			 k;

	if (it->ptr == NULL) {
		/* Deleted or dead-lettered meanwhile. */
		release(f->hq, it->id);
		return;
	}
	if (it->received_ms + f->hq->cfg->max_age_ms <= f->now) {
		o = &f->expired->outs[f->expired->n++];
		o->id = it->id;
		o->hook = f->hq->id;
		o->kind = OUT_DEAD;
		o->attempts = it->attempts;
		o->last_ms = f->now;
		o->text = EXPIRED_TEXT;
		o->textlen = sizeof(EXPIRED_TEXT) - 1;
		return;
	}
	if (pool_batch_add(f->w, it->id, it->ptr, it->len) == -1) {
		release(f->hq, it->id);
		return;
	}
	k = f->sent->n++;
	f->sent->ids[k] = it->id;
	f->sent->attempts[k] = it->attempts;
	f->sent->received[k] = it->received_ms;
	f->sent->nhooks[k] = it->nhooks;
}

/* Read the batch's records into the worker's frame and send it. */
static void
send_batch(struct hq *hq, struct worker *w, struct batch *b, uint8_t flags,
    uint64_t now)
{
	struct fill	 f;

	memset(&f, 0, sizeof(f));
	f.hq = hq;
	f.w = w;
	f.now = now;
	f.sent = batch_new(b->n);
	f.sent->seq = ++s_seq;
	f.sent->flags = flags;
	f.expired = pending_new(hq, b->n);
	f.expired->n = 0;
	pool_batch_begin(w, f.sent->seq, flags);
	if (store_fetch(sd->store, hq->id, b->ids, b->n, fill_one, &f) == -1) {
		log_warnx("hook %s: cannot read records", hq->cfg->name);
		f.sent->n = 0;
		w->outlen = w->batch_at;
		release_batch(hq, b);
		b = NULL;
	}
	batch_free(b);
	if (f.expired->n > 0)
		pending_submit(f.expired);
	else {
		free(f.expired->outs);
		free(f.expired);
	}
	if (f.sent->n == 0) {
		w->outlen = w->batch_at;
		batch_free(f.sent);
		return;
	}
	pool_batch_end(w, (uint32_t)f.sent->n);
	batch_push(w, f.sent);
}

static void
dispatch(struct hq *hq, uint64_t now)
{
	const struct shaping	*sh = &hq->cfg->shaping;
	struct worker		*w;
	struct batch		*b;
	uint64_t		 n;
	uint8_t			 flags;

	while (!hq->held && !hq->removed && !atomic_load(&s_stop)) {
		if (hq->splits == NULL && !batch_due(hq, now))
			return;
		if ((w = idle_worker(hq)) == NULL ||
		    bucket_wait(&hq->msg, now) > 0)
			return;
		flags = 0;
		if (w->conn_left == 0) {
			if (bucket_take(&hq->conn, 1, now) == 0)
				return;
			w->conn_left = sh->max_deliveries_per_connection;
			flags |= PROTO_F_FRESH;
		}
		n = hq->splits ? hq->splits->n : hq->cfg->batch_size;
		if (n > w->conn_left)
			n = w->conn_left;
		n = bucket_take(&hq->msg, n, now);
		b = next_batch(hq, n);
		w->conn_left -= b->n;
		if (w->conn_left == 0)
			flags |= PROTO_F_LAST;
		send_batch(hq, w, b, flags, now);
	}
}

/* What dispatch queued goes out: one write for all of a worker's. */
static void
flush_workers(struct hq *hq)
{
	struct worker	*w, *next;

	for (w = hq->workers; w != NULL; w = next) {
		next = w->next;
		if (w->outoff < w->outlen && pool_flush(w) == -1)
			worker_gone(hq, w);
	}
}

static void
grow(struct hq *hq)
{
	struct worker	*w;
	uint64_t	 backlog;
	uint32_t	 want, active = 0;

	if (hq->held || hq->removed || atomic_load(&s_stop))
		return;
	/* The backlog in requests: a batched hook needs fewer connections. */
	backlog = hq->qn + hq->leased;
	backlog = (backlog + hq->cfg->batch_size - 1) / hq->cfg->batch_size;
	want = pace_connections(hq->cfg->shaping.connection_limit, backlog);
	for (w = hq->workers; w != NULL; w = w->next)
		active += !w->retiring;
	/* Starting a worker may wait on the launcher: not when stopping. */
	for (; active < want && !atomic_load(&s_stop); active++) {
		if ((w = pool_spawn(hq->cfg->name, hq->hello,
		    hq->hellolen)) == NULL)
			return;
		w->hq = hq;
		w->idle_since = mono_ms();
		w->next = hq->workers;
		hq->workers = w;
		hq->nworkers++;
	}
}

/* Idle workers past idle_timeout, and retiring ones, are let go. */
static void
retire(struct hq *hq, uint64_t mono)
{
	struct worker	*w, *next, **wp = &hq->workers;

	for (w = hq->workers; w != NULL; w = next) {
		next = w->next;
		if (w->batch == NULL && (w->retiring || hq->removed ||
		    mono >= w->idle_since + hq->cfg->shaping.idle_timeout_ms)) {
			*wp = next;
			hq->nworkers--;
			pool_close(w, 0);
			continue;
		}
		wp = &w->next;
	}
}

static int
hq_configure(struct hq *hq, struct routes *rt, size_t idx)
{
	const struct hook	*h = &rt->conf->hooks[idx];
	struct ready		*q;
	json_t			*j;
	char			*hello;
	size_t			 i, keep;

	if ((j = proto_hook_json(h)) == NULL ||
	    (hello = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return -1;
	}
	json_decref(j);
	/* New settings: the workers finish their batch and make way. */
	if (hq->hello != NULL && strcmp(hello, hq->hello) != 0) {
		struct worker	*w;

		for (w = hq->workers; w != NULL; w = w->next)
			w->retiring = 1;
	}
	free(hq->hello);
	hq->hello = hello;
	hq->hellolen = strlen(hello);
	if (hq->qcap != h->shaping.max_ready) {
		if ((q = calloc(h->shaping.max_ready, sizeof(*q))) == NULL)
			return -1;
		keep = hq->qn < h->shaping.max_ready ? hq->qn :
		    h->shaping.max_ready;
		for (i = 0; i < hq->qn; i++) {
			if (i < keep)
				q[i] = hq->q[(hq->qhead + i) % hq->qcap];
			else
				idset_del(&hq->mem,
				    hq->q[(hq->qhead + i) % hq->qcap].id);
		}
		free(hq->q);
		hq->q = q;
		hq->qcap = h->shaping.max_ready;
		hq->qhead = 0;
		hq->qn = keep;
	}
	bucket_init(&hq->msg, &h->shaping.max_message_rate, now_ms());
	bucket_init(&hq->conn, &h->shaping.max_connection_rate, now_ms());
	routes_ref(rt);
	if (hq->rt != NULL)
		routes_put(hq->rt);
	hq->rt = rt;
	hq->cfg = h;
	hq->removed = 0;
	hq->full = 1;
	return 0;
}

static void
hq_free(struct hq *hq)
{
	struct batch	*b, *next;

	for (b = hq->splits; b != NULL; b = next) {
		next = b->next;
		batch_free(b);
	}
	idset_free(&hq->mem);
	free(hq->q);
	free(hq->hello);
	routes_put(hq->rt);
	free(hq);
}

static void
apply_routes(void)
{
	struct routes	*rt = routes_get();
	struct hq	*hq, **tail;
	struct worker	*w;
	size_t		 i;

	for (hq = s_hooks; hq != NULL; hq = hq->next)
		hq->removed = 2;	/* unless the new routes name it */
	for (i = 0; i < rt->conf->nhooks; i++) {
		for (hq = s_hooks; hq != NULL; hq = hq->next)
			if (hq->id == rt->hook_ids[i])
				break;
		if (hq == NULL) {
			if ((hq = calloc(1, sizeof(*hq))) == NULL)
				fatal("hook queue");
			hq->id = rt->hook_ids[i];
			hq->next_due = UINT64_MAX;
			for (tail = &s_hooks; *tail != NULL;
			    tail = &(*tail)->next)
				;
			*tail = hq;
		}
		if (hq_configure(hq, rt, i) == -1)
			log_warnx("hook %s: cannot configure delivery",
			    rt->conf->hooks[i].name);
	}
	for (hq = s_hooks; hq != NULL; hq = hq->next) {
		if (hq->removed != 2)
			continue;
		hq->removed = 1;
		for (w = hq->workers; w != NULL; w = w->next)
			w->retiring = 1;
	}
	routes_put(rt);
}

/* A removed hook goes once nothing of it is out or being committed. */
static void
reap_removed(void)
{
	struct hq	*hq, **hp = &s_hooks;
	struct batch	*b;

	while ((hq = *hp) != NULL) {
		while (hq->removed && (b = hq->splits) != NULL) {
			hq->splits = b->next;
			release_batch(hq, b);
		}
		if (hq->removed && hq->workers == NULL && hq->leased == 0) {
			*hp = hq->next;
			hq_free(hq);
			continue;
		}
		hp = &hq->next;
	}
}

static uint64_t
until(uint64_t t, uint64_t now)
{
	return t > now ? t - now : 0;
}

static int
poll_timeout(uint64_t now, uint64_t mono)
{
	struct hq	*hq;
	struct worker	*w;
	uint64_t	 t = MAX_WAIT_MS, d;

	for (hq = s_hooks; hq != NULL; hq = hq->next) {
		if (hq->next_due != UINT64_MAX && (d = until(hq->next_due,
		    now)) < t)
			t = d;
		if (hq->qn > 0 && !batch_due(hq, now) && (d = until(
		    hq->q[hq->qhead].since + hq->cfg->max_batch_latency_ms,
		    now)) < t)
			t = d;
		if ((hq->qn > 0 || hq->splits) && idle_worker(hq) != NULL) {
			d = bucket_wait(&hq->msg, now);
			if (d == 0)
				d = bucket_wait(&hq->conn, now);
			if (d > 0 && d < t)
				t = d;
		}
		for (w = hq->workers; w != NULL; w = w->next)
			if (w->batch == NULL && (d = until(w->idle_since +
			    hq->cfg->shaping.idle_timeout_ms, mono)) < t)
				t = d;
	}
	if (atomic_load(&s_stop) && (d = until(s_deadline, mono)) < t)
		t = d;
	return (int)t;
}

static void
worker_events(struct hq *hq, struct worker *w, short revents)
{
	struct proto_result	 res;
	int			 rc;

	if (revents & POLLOUT && pool_flush(w) == -1) {
		worker_gone(hq, w);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	while ((rc = pool_read(w, &res)) == 1) {
		if (handle_result(hq, w, &res) == -1)
			return;
		if (w->batch == NULL && w->retiring)
			break;
	}
	if (rc == -1)
		worker_gone(hq, w);
}

static void
wait_events(int timeout)
{
	static struct pollfd	 *pfd;
	static struct worker	**ws;
	static size_t		  cap;
	struct worker		 *w;
	struct hq		 *hq;
	uint64_t		  v;
	size_t			  n = 1, i;
	void			 *p;

	for (hq = s_hooks; hq != NULL; hq = hq->next)
		n += hq->nworkers;
	/* Kept from one round to the next: this runs for every answer. */
	if (n > cap) {
		if ((p = reallocarray(pfd, n, sizeof(*pfd))) == NULL)
			fatal("poll");
		pfd = p;
		if ((p = reallocarray(ws, n, sizeof(*ws))) == NULL)
			fatal("poll");
		ws = p;
		cap = n;
	}
	pfd[0].fd = s_evfd;
	pfd[0].events = POLLIN;
	n = 1;
	for (hq = s_hooks; hq != NULL; hq = hq->next)
		for (w = hq->workers; w != NULL; w = w->next) {
			pfd[n].fd = w->fd;
			pfd[n].events = POLLIN |
			    (w->outoff < w->outlen ? POLLOUT : 0);
			pfd[n].revents = 0;
			ws[n++] = w;
		}
	if (poll(pfd, n, timeout) > 0) {
		if (pfd[0].revents & POLLIN &&
		    read(s_evfd, &v, sizeof(v)) == -1 && errno != EAGAIN)
			log_warn("scheduler");
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				worker_events(ws[i]->hq, ws[i], pfd[i].revents);
	}
}

static int
busy(void)
{
	struct hq	*hq;
	struct worker	*w;

	for (hq = s_hooks; hq != NULL; hq = hq->next)
		for (w = hq->workers; w != NULL; w = w->next)
			if (w->batch != NULL)
				return 1;
	return 0;
}

static void
shutdown_workers(void)
{
	struct hq	*hq;
	struct worker	*w;

	for (hq = s_hooks; hq != NULL; hq = hq->next) {
		while ((w = hq->workers) != NULL)
			worker_end(hq, w, "stopped in a request");
	}
}

static void *
sched_main(void *arg)
{
	struct hq	*hq;
	uint64_t	 now, mono;

	(void)arg;
	apply_routes();
	for (;;) {
		now = now_ms();
		mono = mono_ms();
		if (atomic_exchange(&s_reload, 0))
			apply_routes();
		if (atomic_exchange(&s_rescan, 0))
			for (hq = s_hooks; hq != NULL; hq = hq->next)
				hq->full = 1;
		collect_done();
		if (atomic_load(&s_stop) && ((!busy() && s_pending == 0) ||
		    mono >= s_deadline))
			break;
		for (hq = s_hooks; hq != NULL; hq = hq->next) {
			refill(hq, now);
			grow(hq);
			dispatch(hq, now);
			flush_workers(hq);
			retire(hq, mono);
		}
		reap_removed();
		publish_stats();
		wait_events(poll_timeout(now, mono));
	}
	shutdown_workers();
	publish_stats();
	return NULL;
}

void
sched_start(void)
{
	if ((s_evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	if (pthread_create(&s_thread, NULL, sched_main, NULL) != 0)
		fatalx("cannot start the scheduler thread");
}

/*
 * Outcome commits still pending after the loop ends are taken care of
 * by the committer, which stops after this; their leases die with the
 * process, which is what they would be after a crash: due again.
 */
void
sched_stop(uint64_t deadline)
{
	struct hq	*hq;

	s_deadline = deadline;
	atomic_store(&s_stop, 1);
	wake();
	pthread_join(s_thread, NULL);
	while ((hq = s_hooks) != NULL) {
		s_hooks = hq->next;
		hq_free(hq);
	}
}
