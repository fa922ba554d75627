/*
 * Each hook's queue of records ready for delivery, filled from the
 * spool's due index, and the hooks' queues following the routes.
 */
#ifndef SPOOLD_HOOKQ_H
#define SPOOLD_HOOKQ_H

#include <stddef.h>
#include <stdint.h>

#include "sched_int.h"

/* The hooks' queues, in the order of the configuration. */
struct hq	*hookq_first(void);
/*
 * Follow the routes: new hooks get a queue, changed ones new settings,
 * and removed ones are marked so. Either way, hq->retire says that the
 * hook's workers are to make way.
 */
void		 hookq_apply_routes(void);
/* Free the queues of removed hooks that have nothing out any more. */
void		 hookq_reap(void);
void		 hookq_free_all(void);

/* Top up the ready queue; gen counts the ingest commits so far. */
void		 hookq_refill(struct hq *, uint64_t now, uint64_t gen);
/* Is a batch ready to go? */
int		 hookq_batch_due(const struct hq *, uint64_t now);
/* When the oldest ready record goes even in a batch too small. */
uint64_t	 hookq_latency_due(const struct hq *);
/* The next batch of at most max, leased: a refused piece first. */
struct batch	*hookq_next_batch(struct hq *, size_t max);

#endif
