/*
 * What the sources' files share, and no one else: a running source as
 * source.c keeps it and source_run.c's thread reads it.
 */
#ifndef SPOOLD_SOURCE_INT_H
#define SPOOLD_SOURCE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "commit.h"
#include "source.h"

struct sbatch;

/* Packer threads of a source: batches are checked and packed at once. */
#define SPACK_THREADS	2

/* A source's packer threads and their queue, under the source's lock. */
struct spack {
	pthread_t		 thread[SPACK_THREADS];
	size_t			 nthread;
	struct sbatch		*head, *tail;	/* to pack, in order */
	uint64_t		 sent;		/* batches queued */
	uint64_t		 next;		/* the one to commit next */
	uint64_t		 records;	/* read, as of the last in turn */
	int			 inflight;	/* one at the committer */
	int			 rc;		/* STORE_*: refusing since */
	int			 stop;
};

struct src {
	struct source		 cfg;		/* its own copies */
	pthread_t		 thread;
	int			 evfd;		/* wakes the thread */
	atomic_int		 stop;
	pthread_mutex_t		 lock;		/* what follows */
	pthread_cond_t		 cond;
	struct source_status	 st;
	uint64_t		 skip_asked;
	uint64_t		 skip_done;
	char			 skip_msg[512];
	int			 pins;		/* skips waiting; under s_lock */
	char			 bad_segment[SOURCE_SEGMENT_MAX + 1];
	uint64_t		 bad_logged;	/* invalid lines of it logged */
	struct spack		 pk;
	struct src		*next;
};

/* A batch of a source's records with the checkpoint after them. */
struct sbatch {
	struct src		*s;
	struct commit_req	 req;
	struct live		*rt;	/* its routes, while it is sent */
	char			*buf;	/* the lines, taken from the reader */
	size_t			 cap;
	size_t			 start;	/* of the first line in buf */
	size_t			*eol;	/* where each line ends in buf */
	size_t			 nl, nlcap;
	struct store_in		*recs;
	size_t			 n, ncap;
	uint64_t		 valid;	/* lines that are records */
	struct seg_val		*packed;	/* kept from one to the next */
	/*
	 * The checkpoint after it. Its records count is the packer's to
	 * set, in order: a reset batch counts on from base, the others
	 * from the batch before them.
	 */
	struct source_mark	 to;
	int			 reset;
	uint64_t		 base;
	uint64_t		 seq;	/* in the packer's order */
	unsigned char		 key[SOURCE_KEY_MAX];
	unsigned char		 val[SOURCE_MARK_MAX];
	int			 done;	/* answered; under s->lock */
	struct sbatch		*next;	/* in the packer's queue */
};

typedef void	(*sbatch_bad_fn)(void *, uint64_t line, const char *why);

/* source_batch.c */
struct sbatch	*sbatch_new(struct src *);
void		 sbatch_free(struct sbatch *);
/*
 * The len bytes of complete lines at buf + start, read from the
 * position from: where each line ends, and the checkpoint after them
 * but for its records count. 0, or -1 out of memory.
 */
int		 sbatch_split(struct sbatch *, size_t start, size_t len,
		    const struct source_mark *from);
/* Its lines checked and routed, bad ones to bad(). 0, or -1. */
int		 sbatch_check(struct sbatch *, sbatch_bad_fn, void *);
/* Its checkpoint as it goes into the spool, the records count set. */
void		 sbatch_mark(struct sbatch *);
/* Its answer, once it has one: STORE_*. */
int		 sbatch_wait(struct sbatch *);

/* source_pack.c: the source's packer thread. */
int		 spack_start(struct src *);
void		 spack_stop(struct src *);
/* To be packed and committed after those sent before it. */
void		 sbatch_send(struct sbatch *);
/* All sent were answered after a refusal: the next may go in again. */
void		 spack_resume(struct src *);

/* source_run.c: the thread of one source. */
void	*source_run(void *);
/* An invalid line of a segment: counted, and logged for the first few. */
void	 source_invalid(struct src *, const char *segment, uint64_t line,
	    const char *why);
/* Wakes the thread: to stop, to skip, or to retry a full spool. */
void	 source_wake(struct src *);

#endif
