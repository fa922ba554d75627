/*
 * The counters behind GET /metrics: process-wide atomics that any thread
 * bumps without a lock. exposition.c writes them out with the spool's
 * and the scheduler's figures.
 */
#include <stdatomic.h>

#include "metrics.h"

const unsigned int	 metrics_codes[METRICS_NCODES] = { 200, 400, 401, 404,
    405, 413, 415, 500, 503 };

static atomic_ullong	 m_requests[METRICS_NCODES + 1];	/* last: other */
static atomic_ullong	 m_queued, m_discarded;
static atomic_ullong	 m_commits, m_commit_ms;
static atomic_ullong	 m_jobs_ingest, m_jobs_outcomes;

void
metrics_request(unsigned int status)
{
	size_t	 i;

	for (i = 0; i < METRICS_NCODES && metrics_codes[i] != status; i++)
		;
	atomic_fetch_add(&m_requests[i], 1);
}

void
metrics_records(uint64_t queued, uint64_t discarded)
{
	atomic_fetch_add(&m_queued, queued);
	atomic_fetch_add(&m_discarded, discarded);
}

/* A job holds an ingest request's records or a set of outcomes. */
void
metrics_commit(struct store_job **jobs, size_t n, uint64_t ms)
{
	uint64_t	 ingest = 0, outcomes = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (jobs[i]->result != STORE_OK)
			continue;
		if (jobs[i]->nrecs > 0)
			ingest++;
		else
			outcomes++;
	}
	atomic_fetch_add(&m_commits, 1);
	atomic_fetch_add(&m_jobs_ingest, ingest);
	atomic_fetch_add(&m_jobs_outcomes, outcomes);
	atomic_fetch_add(&m_commit_ms, ms);
}

void
metrics_read(struct metrics_counts *m)
{
	size_t	 i;

	for (i = 0; i <= METRICS_NCODES; i++)
		m->requests[i] = atomic_load(&m_requests[i]);
	m->queued = atomic_load(&m_queued);
	m->discarded = atomic_load(&m_discarded);
	m->commits = atomic_load(&m_commits);
	m->commit_ms = atomic_load(&m_commit_ms);
	m->jobs_ingest = atomic_load(&m_jobs_ingest);
	m->jobs_outcomes = atomic_load(&m_jobs_outcomes);
}
