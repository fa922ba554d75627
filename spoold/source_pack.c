/*
 * A source's packer: a thread that compresses the source's batches
 * (store_pack, LZ4) and hands them to the committer, so that the
 * source's own thread decompresses and checks the next lines meanwhile.
 * Compression is the largest cost of a record on its way in; on its
 * own thread it runs on the other core.
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

static void *
pack_run(void *arg)
{
	struct src	*s = arg;
	struct sbatch	*b;
	int		 packed;

	pthread_mutex_lock(&s->lock);
	while ((b = next_batch(s)) != NULL) {
		pthread_mutex_unlock(&s->lock);
		packed = b->n == 0 ||
		    store_pack_keep(&b->req.job, &b->packed) == 0;
		pthread_mutex_lock(&s->lock);
		while (s->pk.inflight)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!packed && s->pk.rc == STORE_OK) {
			log_warnx("source %s: out of memory packing %zu records",
			    s->cfg.name, b->n);
			s->pk.rc = STORE_EIO;
		}
		if (s->pk.rc != STORE_OK) {
			b->req.job.result = s->pk.rc;
			b->done = 1;
			pthread_cond_broadcast(&s->cond);
			continue;
		}
		s->pk.inflight = 1;
		pthread_mutex_unlock(&s->lock);
		commit_async(&b->req);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
spack_start(struct src *s)
{
	s->pk.rc = STORE_OK;
	s->pk.stop = 0;
	return pthread_create(&s->pk.thread, NULL, pack_run, s);
}

void
spack_stop(struct src *s)
{
	pthread_mutex_lock(&s->lock);
	s->pk.stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->pk.thread, NULL);
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
	if (s->pk.tail != NULL)
		s->pk.tail->next = b;
	else
		s->pk.head = b;
	s->pk.tail = b;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
