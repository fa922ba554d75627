/*
 * A source's packers: threads that check, route and compress the
 * source's batches (jscan, store_pack's LZ4) and hand them to the
 * committer, so that the source's own thread only decompresses and
 * finds where lines end. Checking and compression are most of a
 * record's cost on its way in; on threads of their own they spread
 * over the cores.
 *
 * Batches go to the committer in the order they were sent, one at a
 * time: a batch goes only once the one before it was committed. When
 * one is refused, every batch queued after it is answered with the
 * same refusal and never committed, so no checkpoint can pass records
 * that are not in the spool. The source lands them all, reads again
 * from its last checkpoint, and calls spack_resume().
 */
#include <pthread.h>

#include "log.h"
#include "source_int.h"

/* On the committer's thread: the batch is answered. */
static void
answered(struct commit_req *req)
{
	struct sbatch	*b = req->arg;
	struct src	*s = b->s;

	pthread_mutex_lock(&s->lock);
	b->done = 1;
	s->pk.inflight = 0;
	s->pk.rc = req->job.result;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Waits for the next batch; NULL once stopped with none left. */
static struct sbatch *
next_batch(struct src *s)
{
	struct sbatch	*b;

	while (s->pk.head == NULL && !s->pk.stop)
		pthread_cond_wait(&s->cond, &s->lock);
	if ((b = s->pk.head) != NULL && (s->pk.head = b->next) == NULL)
		s->pk.tail = NULL;
	return b;
}

static void
bad_line(void *arg, uint64_t line, const char *why)
{
	struct sbatch	*b = arg;

	source_invalid(b->s, b->to.segment, line, why);
}

/*
 * Under the lock, b's turn come: its records count and checkpoint set;
 * then committed, or answered with the refusal of a batch before it.
 */
static void
send_in_turn(struct src *s, struct sbatch *b, int ready)
{
	while (s->pk.inflight || s->pk.next != b->seq)
		pthread_cond_wait(&s->cond, &s->lock);
	s->pk.next++;
	if (b->reset)
		s->pk.records = b->base;
	s->pk.records += b->valid;
	b->to.records = s->pk.records;
	sbatch_mark(b);
	if (!ready && s->pk.rc == STORE_OK) {
		log_warnx("source %s: out of memory packing %zu records",
		    s->cfg.name, b->n);
		s->pk.rc = STORE_EIO;
	}
	if (s->pk.rc != STORE_OK) {
		b->req.job.result = s->pk.rc;
		b->done = 1;
		pthread_cond_broadcast(&s->cond);
		return;
	}
	s->pk.inflight = 1;
	pthread_mutex_unlock(&s->lock);
	commit_async(&b->req);
	pthread_mutex_lock(&s->lock);
}

static void *
pack_run(void *arg)
{
	struct src	*s = arg;
	struct sbatch	*b;
	int		 ready;

	pthread_mutex_lock(&s->lock);
	while ((b = next_batch(s)) != NULL) {
		pthread_mutex_unlock(&s->lock);
		ready = sbatch_check(b, bad_line, b) == 0 && (b->n == 0 ||
		    store_pack_keep(&b->req.job, &b->packed) == 0);
		pthread_mutex_lock(&s->lock);
		send_in_turn(s, b, ready);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
spack_start(struct src *s)
{
	s->pk.rc = STORE_OK;
	s->pk.stop = 0;
	s->pk.sent = s->pk.next = 0;
	for (s->pk.nthread = 0; s->pk.nthread < SPACK_THREADS;
	    s->pk.nthread++)
		if (pthread_create(&s->pk.thread[s->pk.nthread], NULL,
		    pack_run, s) != 0)
			break;
	if (s->pk.nthread == SPACK_THREADS)
		return 0;
	spack_stop(s);
	return -1;
}

void
spack_stop(struct src *s)
{
	size_t	 i;

	pthread_mutex_lock(&s->lock);
	s->pk.stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->pk.nthread; i++)
		pthread_join(s->pk.thread[i], NULL);
	s->pk.nthread = 0;
}

void
spack_resume(struct src *s)
{
	pthread_mutex_lock(&s->lock);
	s->pk.rc = STORE_OK;
	pthread_mutex_unlock(&s->lock);
}

void
sbatch_send(struct sbatch *b)
{
	struct src	*s = b->s;

	b->req.done = answered;
	b->req.arg = b;
	b->next = NULL;
	pthread_mutex_lock(&s->lock);
	b->seq = s->pk.sent++;
	if (s->pk.tail != NULL)
		s->pk.tail->next = b;
	else
		s->pk.head = b;
	s->pk.tail = b;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
