/*
 * Counters for GET /metrics, updated lock-free from any thread.
 */
#ifndef SPOOLD_METRICS_H
#define SPOOLD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The answers counted by code; any other is counted as "other". */
#define METRICS_NCODES	9
extern const unsigned int metrics_codes[METRICS_NCODES];

struct metrics_counts {
	uint64_t	 requests[METRICS_NCODES + 1];	/* last: other */
	uint64_t	 queued;
	uint64_t	 discarded;
	uint64_t	 commits;
	uint64_t	 commit_ms;
	uint64_t	 jobs_ingest;
	uint64_t	 jobs_outcomes;
};

void	metrics_request(unsigned int status);
void	metrics_records(uint64_t queued, uint64_t discarded);
/* A call of store_commit() on jobs, which took ms. */
void	metrics_commit(struct store_job **jobs, size_t n, uint64_t ms);
/* A snapshot of every counter. */
void	metrics_read(struct metrics_counts *);

#endif
