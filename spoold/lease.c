/*
 * Leases of records to workers: the batches that carry them, and the
 * end of a lease, which makes the record due again as the spool says.
 * See sched_int.h for why leases need nothing on disk.
 */
#include <stdlib.h>

#include "lease.h"
#include "log.h"

void
lease_batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->ids);
	free(b->attempts);
	free(b->received);
	free(b->nhooks);
	free(b);
}

struct batch *
lease_batch_new(size_t n)
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

struct batch *
lease_batch_copy(const struct batch *b, size_t from, size_t n)
{
	struct batch	*c;
	size_t		 i;

	c = lease_batch_new(n);
	c->n = n;
	for (i = 0; i < n; i++) {
		c->ids[i] = b->ids[from + i];
		c->attempts[i] = b->attempts[from + i];
		c->received[i] = b->received[from + i];
		c->nhooks[i] = b->nhooks[from + i];
	}
	return c;
}

void
lease_deferred(struct hq *hq, uint64_t id)
{
	if (idset_add(&hq->leased_deferred, id) == -1)
		log_warnx("hook %s: out of memory: status may count record "
		    "%llx as ready", hq->cfg->name, (unsigned long long)id);
}

void
lease_end(struct hq *hq, uint64_t id)
{
	if (idset_del(&hq->mem, id)) {
		hq->leased--;
		idset_del(&hq->leased_deferred, id);
	}
}

void
lease_end_batch(struct hq *hq, struct batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		lease_end(hq, b->ids[i]);
	hq->full = 1;
	lease_batch_free(b);
}
