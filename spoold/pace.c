/*
 * Delivery pacing arithmetic; see pace.h. No state beyond the buckets
 * the caller owns, so it is tested on its own.
 */
#include <math.h>

#include "pace.h"

int
pace_class(const struct hook *h, uint32_t status)
{
	if (status >= 200 && status < 300)
		return CLASS_DELIVERED;
	if (status == 0 || (status < sizeof(h->transient) &&
	    h->transient[status]))
		return CLASS_TRANSIENT;
	return CLASS_PERMANENT;
}

uint64_t
pace_backoff(const struct hook *h, uint32_t attempts, uint32_t retry_after_s,
    uint64_t rnd)
{
	uint64_t	 d = h->retry_interval_ms;
	uint32_t	 i;

	if (retry_after_s > 0)
		return (uint64_t)retry_after_s * 1000;
	for (i = 1; i < attempts && d < h->max_retry_interval_ms; i++)
		d *= 2;
	if (d > h->max_retry_interval_ms)
		d = h->max_retry_interval_ms;
	return d - (d / 5) * (rnd % 1000) / 1000;
}

uint32_t
pace_connections(uint32_t limit, uint64_t ready)
{
	double	 n;

	if (ready == 0)
		return 0;
	n = ceil((double)limit * (1.0 - exp(-0.023 * (double)ready)));
	if (n < 1)
		n = 1;
	return n > limit ? limit : (uint32_t)n;
}

void
bucket_init(struct bucket *b, const struct rate *r, uint64_t now)
{
	b->on = r->n > 0 && r->per_ms > 0;
	b->cap = (double)r->n;
	b->tokens = b->cap;
	b->per_ms = b->on ? (double)r->n / (double)r->per_ms : 0;
	b->last_ms = now;
}

static void
bucket_fill(struct bucket *b, uint64_t now)
{
	if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) * b->per_ms;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
	}
	b->last_ms = now;
}

uint64_t
bucket_take(struct bucket *b, uint64_t want, uint64_t now)
{
	uint64_t	 have;

	if (!b->on)
		return want;
	bucket_fill(b, now);
	have = (uint64_t)b->tokens;
	if (have > want)
		have = want;
	b->tokens -= (double)have;
	return have;
}

uint64_t
bucket_wait(struct bucket *b, uint64_t now)
{
	if (!b->on)
		return 0;
	bucket_fill(b, now);
	if (b->tokens >= 1)
		return 0;
	return (uint64_t)ceil((1 - b->tokens) / b->per_ms);
}
