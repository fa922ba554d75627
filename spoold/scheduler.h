/*
 * The delivery scheduler: one thread that keeps each hook's due records
 * in memory (at most max_ready), leases batches of them to worker
 * processes under the hook's shaping, and turns the answers into
 * outcomes for the group commit.
 */
#ifndef SPOOLD_SCHEDULER_H
#define SPOOLD_SCHEDULER_H

#include <stdint.h>

#include "hookstats.h"

void	sched_start(void);
/* Stop dispatching; wait for answers until deadline (monotonic ms). */
void	sched_stop(uint64_t deadline);
/* New records were committed. */
void	sched_ingested(void);
/* The routes changed (reload), or spoolctl changed the spool. */
void	sched_reload(void);
void	sched_rescan(void);
/* A hook's figures as of the scheduler's last round; zeroes if none. */
void	sched_stats(uint32_t hook, struct sched_stats *);
/*
 * All that status and the metrics say of a hook: 0, or -1 when the
 * spool cannot be read.
 */
int	sched_hook_status(uint32_t hook, struct hook_status *);

#endif
