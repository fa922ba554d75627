/*
 * Delivery pacing: outcome classes, the backoff schedule and its jitter
 * bounds, Retry-After, KumoMTA's connection formula, token buckets.
 */
#include <string.h>

#include "pace.h"
#include "tap.h"

static void
test_class(struct hook *h)
{
	is_int(pace_class(h, 200), CLASS_DELIVERED, "200 delivered");
	is_int(pace_class(h, 204), CLASS_DELIVERED, "204 delivered");
	is_int(pace_class(h, 0), CLASS_TRANSIENT, "no answer is transient");
	is_int(pace_class(h, 429), CLASS_TRANSIENT, "429 transient");
	is_int(pace_class(h, 503), CLASS_TRANSIENT, "503 transient");
	is_int(pace_class(h, 400), CLASS_PERMANENT, "400 permanent");
	is_int(pace_class(h, 302), CLASS_PERMANENT, "302 permanent");
	is_int(pace_class(h, 700), CLASS_PERMANENT, "700 permanent");
}

static void
test_backoff(struct hook *h)
{
	uint64_t	 d, lo = UINT64_MAX, hi = 0, r;

	is_int((int64_t)pace_backoff(h, 1, 0, 0), 60000, "first retry: retry_interval");
	is_int((int64_t)pace_backoff(h, 2, 0, 0), 120000, "second: doubled");
	is_int((int64_t)pace_backoff(h, 5, 0, 0), 960000, "fifth: 16x");
	is_int((int64_t)pace_backoff(h, 6, 0, 0), 1200000, "capped at max_retry_interval");
	is_int((int64_t)pace_backoff(h, 4000000000U, 0, 0), 1200000,
	    "a huge attempt count stays capped");
	is_int((int64_t)pace_backoff(h, 3, 7, 0), 7000, "Retry-After is taken as said");
	for (r = 0; r < 100000; r += 7) {
		d = pace_backoff(h, 1, 0, r * 2654435761U);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo >= 48000 && hi <= 60000 && hi - lo > 10000,
	    "jitter spreads within (0.8, 1] of the delay: %llu..%llu",
	    (unsigned long long)lo, (unsigned long long)hi);
}

static void
test_connections(void)
{
	is_int(pace_connections(32, 0), 0, "no backlog, no connections");
	is_int(pace_connections(32, 1), 1, "one record, one connection");
	is_int(pace_connections(32, 10), 7, "ten records: ceil(32(1-e^-0.23))");
	is_int(pace_connections(32, 100000), 32, "a big backlog: the limit");
	is_int(pace_connections(1, 5), 1, "limit 1");
}

static void
test_bucket(void)
{
	struct bucket	 b;
	struct rate	 r = { 10, 1000 };
	struct rate	 none = { 0, 0 };

	bucket_init(&b, &none, 0);
	is_int((int64_t)bucket_take(&b, 1000, 0), 1000, "no rate: no limit");
	bucket_init(&b, &r, 0);
	is_int((int64_t)bucket_take(&b, 25, 0), 10, "a full bucket gives its 10");
	is_int((int64_t)bucket_take(&b, 1, 0), 0, "then nothing");
	is_int((int64_t)bucket_wait(&b, 0), 100, "one token comes in 100 ms");
	is_int((int64_t)bucket_take(&b, 5, 450), 4, "450 ms later, 4 tokens");
	is_int((int64_t)bucket_take(&b, 100, 100000), 10, "it never holds more than 10");
}

int
main(void)
{
	struct hook	 h;

	memset(&h, 0, sizeof(h));
	h.retry_interval_ms = 60000;
	h.max_retry_interval_ms = 1200000;
	h.transient[408] = h.transient[425] = h.transient[429] = 1;
	memset(h.transient + 500, 1, 100);
	test_class(&h);
	test_backoff(&h);
	test_connections();
	test_bucket();
	return done_testing();
}
