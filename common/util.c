/*
 * Clocks.
 */
#include <time.h>

#include "util.h"

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

uint64_t
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
