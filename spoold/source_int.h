/*
 * What the sources' files share, and no one else: a running source as
 * source.c keeps it and source_run.c's thread reads it.
 */
#ifndef SPOOLD_SOURCE_INT_H
#define SPOOLD_SOURCE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "source.h"

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
	struct src		*next;
};

/* source_run.c: the thread of one source. */
void	*source_run(void *);
/* Wakes the thread: to stop, to skip, or to retry a full spool. */
void	 source_wake(struct src *);

#endif
