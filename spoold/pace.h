/*
 * The arithmetic of delivery pacing: outcome classes, backoff with
 * jitter, token buckets for the shaping rates, and the number of
 * connections a backlog deserves.
 */
#ifndef SPOOLD_PACE_H
#define SPOOLD_PACE_H

#include <stdint.h>

#include "config.h"

#define CLASS_DELIVERED	0
#define CLASS_TRANSIENT	1
#define CLASS_PERMANENT	2

/* status 0 is no answer at all (a transport error): transient. */
int		 pace_class(const struct hook *, uint32_t status);

/*
 * Milliseconds to wait after a record's attempts-th failed attempt:
 * retry_interval * 2^(attempts-1), at most max_retry_interval, less up
 * to a fifth chosen by rnd (a record's own jitter, so that records that
 * failed together do not come back together). A Retry-After answer
 * (retry_after_s > 0) is taken as said.
 */
uint64_t	 pace_backoff(const struct hook *, uint32_t attempts,
		    uint32_t retry_after_s, uint64_t rnd);

/* KumoMTA's connection count for a backlog: ceil(limit(1 - e^-0.023r)). */
uint32_t	 pace_connections(uint32_t limit, uint64_t ready);

/* A token bucket of rate n per per_ms, holding at most n tokens. */
struct bucket {
	int		 on;
	double		 tokens;
	double		 cap;
	double		 per_ms;
	uint64_t	 last_ms;
};

void		 bucket_init(struct bucket *, const struct rate *, uint64_t now);
/* Takes up to want tokens; returns how many it took. */
uint64_t	 bucket_take(struct bucket *, uint64_t want, uint64_t now);
/* Milliseconds until one token is there; 0 if one is. */
uint64_t	 bucket_wait(struct bucket *, uint64_t now);

#endif
