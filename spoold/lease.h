/*
 * Leases: batches of records handed out for delivery, and their end.
 */
#ifndef SPOOLD_LEASE_H
#define SPOOLD_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "sched_int.h"

/* A batch with room for n records, none yet; fatal when out of memory. */
struct batch	*lease_batch_new(size_t n);
/* A new batch of b's n records from the from-th. */
struct batch	*lease_batch_copy(const struct batch *b, size_t from,
		    size_t n);
void		 lease_batch_free(struct batch *);
/* The leased record id is stored deferred. */
void		 lease_deferred(struct hq *, uint64_t id);
/* Forget the lease: the record is due again as the spool says. */
void		 lease_end(struct hq *, uint64_t id);
/* The same for all of b, which is freed, and rescan: they are due now. */
void		 lease_end_batch(struct hq *, struct batch *b);

#endif
