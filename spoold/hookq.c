/*
 * The hook queues: for each hook the records ready for delivery, in
 * memory (at most max_ready), and the settings its workers get.
 *
 * Each hook's ready queue is filled from the spool's due index. Scans
 * resume where the last one stopped, since newly ingested records are
 * due now and sort last; a full scan from the start is made when leases
 * were dropped, when deferred records come due, after spoolctl changed
 * the spool, and once a second in any case.
 */
#include <stdlib.h>
#include <string.h>

#include "hookq.h"
#include "lease.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define FULL_SCAN_MS	1000

static struct hq	*s_hooks;

struct hq *
hookq_first(void)
{
	return s_hooks;
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

void
hookq_refill(struct hq *hq, uint64_t now, uint64_t gen)
{
	struct store_due	 buf[256];
	uint64_t		 next;
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
			log_errorx("hook %s: cannot read the spool",
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

int
hookq_batch_due(const struct hq *hq, uint64_t now)
{
	const struct hook	*h = hq->cfg;

	if (hq->qn == 0)
		return 0;
	if (hq->qn >= h->batch_size || hq->qn >= h->min_batch_size)
		return 1;
	return hookq_latency_due(hq) <= now;
}

uint64_t
hookq_latency_due(const struct hq *hq)
{
	return hq->q[hq->qhead].since + hq->cfg->max_batch_latency_ms;
}

struct batch *
hookq_next_batch(struct hq *hq, size_t max)
{
	struct batch	*b, *rest;
	size_t		 n, i;

	if ((b = hq->splits) != NULL) {
		hq->splits = b->next;
		b->next = NULL;
		if (b->n <= max)
			return b;
		rest = lease_batch_copy(b, max, b->n - max);
		rest->next = hq->splits;
		hq->splits = rest;
		b->n = max;
		return b;
	}
	n = hq->qn < max ? hq->qn : max;
	b = lease_batch_new(n);
	b->n = n;
	for (i = 0; i < n; i++)
		b->ids[i] = hq->q[(hq->qhead + i) % hq->qcap].id;
	hq->qhead = (hq->qhead + n) % hq->qcap;
	hq->qn -= n;
	hq->leased += n;
	return b;
}

/* A new max_ready: the queue keeps what fits and forgets the rest. */
static int
resize_ready(struct hq *hq, size_t cap)
{
	struct ready	*q;
	size_t		 i, keep;

	if ((q = calloc(cap, sizeof(*q))) == NULL)
		return -1;
	keep = hq->qn < cap ? hq->qn : cap;
	for (i = 0; i < hq->qn; i++) {
		if (i < keep)
			q[i] = hq->q[(hq->qhead + i) % hq->qcap];
		else
			idset_del(&hq->mem,
			    hq->q[(hq->qhead + i) % hq->qcap].id);
	}
	free(hq->q);
	hq->q = q;
	hq->qcap = cap;
	hq->qhead = 0;
	hq->qn = keep;
	return 0;
}

static int
hq_configure(struct hq *hq, struct live *rt, size_t idx)
{
	const struct hook	*h = &rt->conf->hooks[idx];
	char			*hello;
	size_t			 len;

	if ((hello = proto_hello(h, &len)) == NULL)
		return -1;
	/* New settings: the workers finish their batch and make way. */
	if (hq->hello != NULL && strcmp(hello, hq->hello) != 0)
		hq->retire = 1;
	free(hq->hello);
	hq->hello = hello;
	hq->hellolen = len;
	if (hq->qcap != h->shaping.max_ready &&
	    resize_ready(hq, h->shaping.max_ready) == -1)
		return -1;
	bucket_init(&hq->msg, &h->shaping.max_message_rate, now_ms());
	bucket_init(&hq->conn, &h->shaping.max_connection_rate, now_ms());
	live_ref(rt);
	if (hq->rt != NULL)
		live_put(hq->rt);
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
		lease_batch_free(b);
	}
	idset_free(&hq->mem);
	idset_free(&hq->leased_deferred);
	free(hq->q);
	free(hq->hello);
	live_put(hq->rt);
	free(hq);
}

static struct hq *
hq_find(uint32_t id)
{
	struct hq	*hq, **tail;

	for (tail = &s_hooks; (hq = *tail) != NULL; tail = &hq->next)
		if (hq->id == id)
			return hq;
	if ((hq = calloc(1, sizeof(*hq))) == NULL)
		fatal("hook queue");
	hq->id = id;
	hq->next_due = UINT64_MAX;
	*tail = hq;
	return hq;
}

void
hookq_apply_routes(void)
{
	struct live	*rt = live_get();
	struct hq	*hq;
	size_t		 i;

	for (hq = s_hooks; hq != NULL; hq = hq->next)
		hq->removed = 2;	/* unless the new routes name it */
	for (i = 0; i < rt->conf->nhooks; i++) {
		hq = hq_find(rt->hook_ids[i]);
		if (hq_configure(hq, rt, i) == -1)
			log_warnx("hook %s: cannot configure delivery",
			    rt->conf->hooks[i].name);
	}
	for (hq = s_hooks; hq != NULL; hq = hq->next) {
		if (hq->removed != 2)
			continue;
		hq->removed = 1;
		hq->retire = 1;
	}
	live_put(rt);
}

/* A removed hook goes once nothing of it is out or being committed. */
void
hookq_reap(void)
{
	struct hq	*hq, **hp = &s_hooks;
	struct batch	*b;

	while ((hq = *hp) != NULL) {
		while (hq->removed && (b = hq->splits) != NULL) {
			hq->splits = b->next;
			lease_end_batch(hq, b);
		}
		if (hq->removed && hq->workers == NULL && hq->leased == 0) {
			*hp = hq->next;
			hq_free(hq);
			continue;
		}
		hp = &hq->next;
	}
}

void
hookq_free_all(void)
{
	struct hq	*hq;

	while ((hq = s_hooks) != NULL) {
		s_hooks = hq->next;
		hq_free(hq);
	}
}
