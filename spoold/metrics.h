/*
 * Counters for GET /metrics, updated lock-free from any thread, and the
 * histogram they share with the scheduler's per-hook figures.
 */
#ifndef SPOOLD_METRICS_H
#define SPOOLD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The answers counted by code; any other is counted as "other". */
#define METRICS_NCODES	9
extern const unsigned int metrics_codes[METRICS_NCODES];

/*
 * Latency histograms: fixed upper bounds in microseconds, for latencies
 * of a fraction of a millisecond to seconds; one more bucket, +Inf.
 * Counts are per bucket, not cumulative: the exposition adds them up.
 */
#define HIST_NBOUNDS	14
extern const uint64_t hist_bounds_us[HIST_NBOUNDS];

struct hist {
	uint64_t	 bucket[HIST_NBOUNDS + 1];
	uint64_t	 sum_us;
	uint64_t	 count;
};

/* Adds one observation to a histogram only its own thread writes. */
void	hist_add(struct hist *, uint64_t us);

/* Why the ingest listener refused a request, or a connection. */
enum refusal {
	REF_BAD_REQUEST, REF_BAD_RECORD, REF_UNAUTHORIZED, REF_NOT_FOUND,
	REF_METHOD, REF_MEDIA_TYPE, REF_TOO_LARGE, REF_TIMEOUT,
	REF_SPOOL_FULL, REF_IO_ERROR, REF_STOPPING, REF_INTERNAL,
	REF_COUNT
};
extern const char *const metrics_refusals[REF_COUNT];

struct metrics_counts {
	uint64_t	 requests[METRICS_NCODES + 1];	/* last: other */
	uint64_t	 refusals[REF_COUNT];
	uint64_t	 queued;
	uint64_t	 discarded;
	uint64_t	 commits;
	uint64_t	 jobs_ingest;
	uint64_t	 jobs_outcomes;
	struct hist	 request_time;
	struct hist	 commit_time;
};

/* Microseconds of a monotonic clock, for the histograms. */
uint64_t metrics_clock_us(void);
/* An answer of the ingest listener, us after its head's first byte. */
void	metrics_request(unsigned int status, enum refusal, uint64_t us);
void	metrics_records(uint64_t queued, uint64_t discarded);
/* A call of store_commit() on jobs, which took us. */
void	metrics_commit(struct store_job **jobs, size_t n, uint64_t us);
/* A snapshot of every counter. */
void	metrics_read(struct metrics_counts *);

#endif
