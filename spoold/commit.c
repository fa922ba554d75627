/*
 * Group commit. There is no timed batching window for ingest: while one
 * transaction is being fsynced, the requests that arrive queue up, and
 * the next transaction takes all of them. The window is thus exactly one
 * fsync long, which is what the disk makes everyone wait anyway.
 *
 * Measured with 16 producers of one record per request (t/loadgen -c 16
 * -r 1 -n 20000, median of 5 interleaved runs, 2-core machine): no
 * window 6,460 records/s, p50 2.0 ms; an extra 200 us before each
 * transaction 6,005/s, 2.2 ms; 1 ms 5,503/s, 2.5 ms. A fixed delay only
 * added latency, so there is none.
 *
 * A transaction takes requests up to COMMIT_MAX_RECORDS new records
 * (always at least one request), because LMDB keeps every page it ever
 * malloc'd for a transaction's dirty pages. With 16 producers of
 * 1000-record requests, unbounded transactions left spoold holding 28
 * MiB after the ingest and 38 MiB while delivering; bounded, 15-17 and
 * 26-27 MiB. Ingest ran as fast (make bench, 1000-record requests,
 * interleaved: 494k and 494k records/s unbounded, 499k and 501k
 * bounded, and p99 answer times 67 and 47 ms against 42 and 39).
 * Outcomes are not counted: they touch pages that are already there.
 *
 * Delivery outcomes alone are another matter: nobody waits on them, and
 * a one-record hook sends one per record. Committed as they came, a
 * one-record hook's 500,000 deliveries took 16,800 transactions of 30
 * outcomes, each writing and fsyncing its pages. So when only outcomes
 * are queued, the committer lets them gather for up to OUTCOME_WAIT_MS,
 * or until OUTCOME_ENOUGH of them or an ingest request arrive (the bench's
 * one-record end to end, three interleaved runs: 5,100-5,300
 * transactions instead of 16,800, spoold's CPU 7.7-8.7 s instead of
 * 10.4-11.3 s, 24,000-27,000 records/s instead of 19,700-21,800).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define COMMIT_MAX_RECORDS	2048
#define OUTCOME_WAIT_MS		2
#define OUTCOME_ENOUGH		512

static pthread_mutex_t	 cm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cm_work;	/* commit_start() sets it up */
static pthread_cond_t	 cm_done = PTHREAD_COND_INITIALIZER;
static struct commit_req *cm_head, **cm_tail = &cm_head;
static size_t		 cm_waiters;	/* queued requests someone waits on */
static size_t		 cm_outs;	/* queued outcomes */
static int		 cm_gathering;	/* in gather_outcomes() */
static unsigned int	 cm_wait_ms = OUTCOME_WAIT_MS;
static size_t		 cm_enough = OUTCOME_ENOUGH;
static int		 cm_stop = 1;
static pthread_t	 cm_thread;
static struct store	*cm_store;
static void		(*cm_ingested)(void);

/* A producer waits for records; nobody waits for outcomes alone. */
static int
awaited(const struct commit_req *r)
{
	return r->done == NULL || r->job.nrecs > 0;
}

static size_t
take_batch(struct commit_req **batch, struct store_job ***jobs, size_t *cap,
    int *records)
{
	struct store_job	**nj;
	struct commit_req	 *r, *last = NULL;
	size_t			  n = 0, nrecs = 0;

	*batch = cm_head;
	*records = 0;
	for (r = cm_head; r != NULL; last = r, r = r->next) {
		if (n > 0 && nrecs + r->job.nrecs > COMMIT_MAX_RECORDS)
			break;
		nrecs += r->job.nrecs;
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			if ((nj = reallocarray(*jobs, *cap, sizeof(*nj))) == NULL)
				fatal("commit");
			*jobs = nj;
		}
		(*jobs)[n++] = &r->job;
		*records |= r->job.nrecs > 0;
		cm_waiters -= awaited(r);
		cm_outs -= r->job.nouts;
	}
	/* The rest waits for the next transaction. */
	last->next = NULL;
	cm_head = r;
	if (r == NULL)
		cm_tail = &cm_head;
	return n;
}

/*
 * Wake the waiters and hand the asynchronous requests back. A waiter may
 * free its request as soon as it is marked finished, so the asynchronous
 * ones are picked out of the list before that.
 */
static void
finish(struct commit_req *batch)
{
	struct commit_req	*r, *next, *async = NULL, **atail = &async;

	for (r = batch; r != NULL; r = r->next)
		if (r->done != NULL) {
			*atail = r;
			atail = &r->async_next;
		}
	*atail = NULL;
	pthread_mutex_lock(&cm_lock);
	for (r = batch; r != NULL; r = r->next)
		r->finished = 1;
	pthread_cond_broadcast(&cm_done);
	pthread_mutex_unlock(&cm_lock);
	/* done() hands r back to its owner, who may free it at once. */
	for (r = async; r != NULL; r = next) {
		next = r->async_next;
		r->done(r);
	}
}

/*
 * Only outcomes queued: no one waits on them, so let more gather for a
 * while, into one transaction instead of many.
 */
static void
gather_outcomes(void)
{
	struct timespec	 ts;
	int		 rc = 0;

	if (cm_waiters > 0 || cm_outs >= cm_enough || cm_stop)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += cm_wait_ms / 1000;
	ts.tv_nsec += (long)(cm_wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	cm_gathering = 1;
	while (cm_waiters == 0 && cm_outs < cm_enough && !cm_stop && rc == 0)
		rc = cm_wait_ms > 0 ? pthread_cond_timedwait(&cm_work, &cm_lock,
		    &ts) : pthread_cond_wait(&cm_work, &cm_lock);
	cm_gathering = 0;
}

static void *
committer(void *arg)
{
	struct store_job	**jobs = NULL;
	struct commit_req	 *batch;
	size_t			  n, cap = 0;
	uint64_t		  t0;
	int			  records;

	(void)arg;
	pthread_mutex_lock(&cm_lock);
	for (;;) {
		while (cm_head == NULL && !cm_stop)
			pthread_cond_wait(&cm_work, &cm_lock);
		if (cm_head == NULL)
			break;
		gather_outcomes();
		n = take_batch(&batch, &jobs, &cap, &records);
		pthread_mutex_unlock(&cm_lock);

		t0 = metrics_clock_us();
		store_commit(cm_store, jobs, n);
		metrics_commit(jobs, n, metrics_clock_us() - t0);
		finish(batch);
		if (records && cm_ingested != NULL)
			cm_ingested();
		pthread_mutex_lock(&cm_lock);
	}
	pthread_mutex_unlock(&cm_lock);
	free(jobs);
	return NULL;
}

int
commit_gathering(void)
{
	int	 g;

	pthread_mutex_lock(&cm_lock);
	g = cm_gathering;
	pthread_mutex_unlock(&cm_lock);
	return g;
}

void
commit_gather(unsigned int wait_ms, size_t enough)
{
	cm_wait_ms = wait_ms;
	cm_enough = enough;
}

void
commit_start(struct store *s, void (*ingested)(void))
{
	pthread_condattr_t	 ca;

	/* gather_outcomes() times its wait on a clock that is not set. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&cm_work, &ca) != 0)
		fatalx("cannot set up the committer's condition");
	pthread_condattr_destroy(&ca);
	cm_store = s;
	cm_ingested = ingested;
	cm_stop = 0;
	if (pthread_create(&cm_thread, NULL, committer, NULL) != 0)
		fatalx("cannot start the committer thread");
}

/* Commits what is queued, then returns. */
void
commit_stop(void)
{
	pthread_mutex_lock(&cm_lock);
	cm_stop = 1;
	pthread_cond_signal(&cm_work);
	pthread_mutex_unlock(&cm_lock);
	pthread_join(cm_thread, NULL);
}

static int
enqueue(struct commit_req *r)
{
	r->finished = 0;
	r->next = NULL;
	if (cm_stop) {
		/* Ingest and delivery stop before the committer: a late caller. */
		r->job.result = STORE_EIO;
		return -1;
	}
	*cm_tail = r;
	cm_tail = &r->next;
	cm_waiters += awaited(r);
	cm_outs += r->job.nouts;
	/* A gathering committer only cares for a waiter or enough. */
	if (!cm_gathering || awaited(r) || cm_outs >= cm_enough)
		pthread_cond_signal(&cm_work);
	return 0;
}

int
commit_submit(struct commit_req *r)
{
	r->done = NULL;
	pthread_mutex_lock(&cm_lock);
	if (enqueue(r) == 0)
		while (!r->finished)
			pthread_cond_wait(&cm_done, &cm_lock);
	pthread_mutex_unlock(&cm_lock);
	return r->job.result;
}

void
commit_async(struct commit_req *r)
{
	int	 rc;

	pthread_mutex_lock(&cm_lock);
	rc = enqueue(r);
	pthread_mutex_unlock(&cm_lock);
	if (rc == -1)
		r->done(r);
}
