/*
 * The delivery scheduler: one thread that keeps each hook's due records
 * in memory (at most max_ready), leases batches of them to worker
 * processes under the hook's shaping, and turns the answers into
 * outcomes for the group commit.
 */
#ifndef SPOOLD_SCHEDULER_H
#define SPOOLD_SCHEDULER_H

#include <stdint.h>

#include "throttle.h"

void	sched_start(void);
/* Stop dispatching; wait for answers until deadline (monotonic ms). */
void	sched_stop(uint64_t deadline);
/* New records were committed. */
void	sched_ingested(void);
/* The routes changed (reload), or spoolctl changed the spool. */
void	sched_reload(void);
void	sched_rescan(void);
/* What status shows beside the spool's counts. */
void	sched_stats(uint32_t hook, uint64_t *in_flight, uint64_t *workers);
/* Milliseconds held back and warnings logged, by THR_* limit. */
void	sched_throttle(uint32_t hook, uint64_t ms[THR_N],
	    uint64_t warnings[THR_N]);

#endif
