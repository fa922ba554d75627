/*
 * Group commit. There is no timed batching window: while one transaction
 * is being fsynced, the requests that arrive queue up, and the next
 * transaction takes all of them. The window is thus exactly one fsync
 * long, which is what the disk makes everyone wait anyway; a fixed delay
 * on top only added latency in measurements (see bench/NOTES.md).
 */
#include <pthread.h>
#include <stdlib.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

struct waiter {
	struct store_job	*job;
	int			 done;
	struct waiter		*next;
};

static pthread_mutex_t	 cm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cm_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 cm_done = PTHREAD_COND_INITIALIZER;
static struct waiter	*cm_head, **cm_tail = &cm_head;
static int		 cm_stop;
static pthread_t	 cm_thread;
static struct store	*cm_store;

static size_t
take_batch(struct waiter **batch, struct store_job ***jobs, size_t *cap)
{
	struct store_job	**nj;
	struct waiter		 *w;
	size_t			  n = 0;

	*batch = cm_head;
	for (w = cm_head; w != NULL; w = w->next) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			if ((nj = reallocarray(*jobs, *cap, sizeof(*nj))) == NULL)
				fatal("commit");
			*jobs = nj;
		}
		(*jobs)[n++] = w->job;
	}
	cm_head = NULL;
	cm_tail = &cm_head;
	return n;
}

static void *
committer(void *arg)
{
	struct store_job	**jobs = NULL;
	struct waiter		 *batch, *w;
	size_t			  n, cap = 0;
	uint64_t		  t0;

	(void)arg;
	pthread_mutex_lock(&cm_lock);
	for (;;) {
		while (cm_head == NULL && !cm_stop)
			pthread_cond_wait(&cm_work, &cm_lock);
		if (cm_head == NULL)
			break;
		n = take_batch(&batch, &jobs, &cap);
		pthread_mutex_unlock(&cm_lock);

		t0 = mono_ms();
		store_ingest(cm_store, jobs, n);
		metrics_commit(n, mono_ms() - t0);

		pthread_mutex_lock(&cm_lock);
		for (w = batch; w != NULL; w = w->next)
			w->done = 1;
		pthread_cond_broadcast(&cm_done);
	}
	pthread_mutex_unlock(&cm_lock);
	free(jobs);
	return NULL;
}

void
commit_start(struct store *s)
{
	cm_store = s;
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

int
commit_submit(struct store_job *job)
{
	struct waiter	 w = { job, 0, NULL };

	pthread_mutex_lock(&cm_lock);
	if (cm_stop) {
		/* Ingest stops before the committer; this is a late caller. */
		pthread_mutex_unlock(&cm_lock);
		return job->result = STORE_EIO;
	}
	*cm_tail = &w;
	cm_tail = &w.next;
	pthread_cond_signal(&cm_work);
	while (!w.done)
		pthread_cond_wait(&cm_done, &cm_lock);
	pthread_mutex_unlock(&cm_lock);
	return job->result;
}
