/*
 * The counters behind GET /metrics: process-wide atomics that any thread
 * bumps without a lock, a few adds per request or commit. exposition.c
 * writes them out with the spool's and the scheduler's figures.
 */
#include <stdatomic.h>
#include <time.h>

#include "metrics.h"

const unsigned int	 metrics_codes[METRICS_NCODES] = { 200, 400, 401, 404,
    405, 413, 415, 500, 503 };

const uint64_t		 hist_bounds_us[HIST_NBOUNDS] = { 500, 1000, 2500,
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000 };

const char *const	 metrics_refusals[REF_COUNT] = { "bad_request",
    "bad_record", "unauthorized", "not_found", "method", "media_type",
    "too_large", "timeout", "spool_full", "io_error", "stopping",
    "internal" };

/* A histogram that many threads add to. */
struct ahist {
	atomic_ullong	 bucket[HIST_NBOUNDS + 1];
	atomic_ullong	 sum_us;
	atomic_ullong	 count;
};

static atomic_ullong	 m_requests[METRICS_NCODES + 1];	/* last: other */
static atomic_ullong	 m_refusals[REF_COUNT];
static atomic_ullong	 m_queued, m_discarded;
static atomic_ullong	 m_commits;
static atomic_ullong	 m_jobs_ingest, m_jobs_outcomes;
static struct ahist	 m_request_time, m_commit_time;

uint64_t
metrics_clock_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static size_t
hist_bucket(uint64_t us)
{
	size_t	 i;

	for (i = 0; i < HIST_NBOUNDS && us > hist_bounds_us[i]; i++)
		;
	return i;
}

void
hist_add(struct hist *h, uint64_t us)
{
	h->bucket[hist_bucket(us)]++;
	h->sum_us += us;
	h->count++;
}

static void
ahist_add(struct ahist *h, uint64_t us)
{
	atomic_fetch_add_explicit(&h->bucket[hist_bucket(us)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

/*
 * Read bucket by bucket while others add: the count is made the sum of
 * the buckets read, so that _count and the +Inf bucket always agree.
 */
static void
ahist_read(struct ahist *h, struct hist *out)
{
	size_t	 i;

	out->count = 0;
	for (i = 0; i <= HIST_NBOUNDS; i++) {
		out->bucket[i] = atomic_load(&h->bucket[i]);
		out->count += out->bucket[i];
	}
	out->sum_us = atomic_load(&h->sum_us);
}

void
metrics_request(unsigned int status, enum refusal why, uint64_t us)
{
	size_t	 i;

	for (i = 0; i < METRICS_NCODES && metrics_codes[i] != status; i++)
		;
	atomic_fetch_add_explicit(&m_requests[i], 1, memory_order_relaxed);
	if (status != 200)
		atomic_fetch_add_explicit(&m_refusals[why], 1,
		    memory_order_relaxed);
	ahist_add(&m_request_time, us);
}

void
metrics_records(uint64_t queued, uint64_t discarded)
{
	atomic_fetch_add_explicit(&m_queued, queued, memory_order_relaxed);
	atomic_fetch_add_explicit(&m_discarded, discarded,
	    memory_order_relaxed);
}

/* A job holds an ingest request's records or a set of outcomes. */
void
metrics_commit(struct store_job **jobs, size_t n, uint64_t us)
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
	ahist_add(&m_commit_time, us);
}

void
metrics_read(struct metrics_counts *m)
{
	size_t	 i;

	for (i = 0; i <= METRICS_NCODES; i++)
		m->requests[i] = atomic_load(&m_requests[i]);
	for (i = 0; i < REF_COUNT; i++)
		m->refusals[i] = atomic_load(&m_refusals[i]);
	m->queued = atomic_load(&m_queued);
	m->discarded = atomic_load(&m_discarded);
	m->commits = atomic_load(&m_commits);
	m->jobs_ingest = atomic_load(&m_jobs_ingest);
	m->jobs_outcomes = atomic_load(&m_jobs_outcomes);
	ahist_read(&m_request_time, &m->request_time);
	ahist_read(&m_commit_time, &m->commit_time);
}
