/*
 * Delivery worker processes as the scheduler sees them: a pid, a
 * non-blocking socket, and what is waiting to go out or come in on it.
 */
#ifndef SPOOLD_POOL_H
#define SPOOLD_POOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct batch;
struct hq;

struct worker {
	pid_t		 pid;
	int		 fd;
	struct hq	*hq;
	struct batch	*batch;		/* in flight, oldest first; NULL: idle */
	struct batch	**btail;	/* the next one's place, if batch */
	size_t		 nbatch;	/* how many */
	uint64_t	 conn_left;	/* deliveries left on the connection */
	uint64_t	 idle_since;	/* monotonic ms */
	int		 retiring;	/* close once idle */
	int		 answered;	/* its last request got a 2xx */
	unsigned char	*out;
	size_t		 outlen;
	size_t		 outoff;
	size_t		 outcap;
	size_t		 batch_at;	/* where the open BATCH frame starts */
	unsigned char	*in;
	size_t		 inlen;
	size_t		 incap;
	struct worker	*next;
};

/* Start the launcher that forks workers; fatal if it cannot be. */
void		 pool_init(void);
/* Let the launcher go. */
void		 pool_fini(void);
/* A worker for hook from the launcher, HELLO already queued. */
struct worker	*pool_spawn(const char *hook, const char *hello, size_t len);
/* Send what is queued; 0 done or waiting, -1 the worker is gone. */
int		 pool_flush(struct worker *);
/* 1: a RESULT is in res; 0: not yet; -1: the worker is gone. */
int		 pool_read(struct worker *, struct proto_result *);
/* Close the socket (the worker exits when done), SIGKILL if kill. */
void		 pool_close(struct worker *, int kill);

void		 pool_batch_begin(struct worker *, uint64_t seq, uint8_t flags);
int		 pool_batch_add(struct worker *, uint64_t id, const char *,
		    size_t);
void		 pool_batch_end(struct worker *, uint32_t n);

#endif
