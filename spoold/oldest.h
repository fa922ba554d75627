/*
 * The age of each hook's oldest queued record, for status and metrics.
 */
#ifndef SPOOLD_OLDEST_H
#define SPOOLD_OLDEST_H

#include <stdint.h>

#include "store.h"

/*
 * Milliseconds since the oldest record queued for hook (ready, deferred,
 * in flight or held; not dead) was received, 0 when none is: 0, or -1.
 */
int	oldest_age(struct store *, uint32_t hook, uint64_t now_ms,
	    uint64_t *age_ms);
/* Records may have come back to the queue: walk from the start again. */
void	oldest_forget(void);

#endif
