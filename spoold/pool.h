/*
 * Delivery worker processes as the scheduler sees them: a pid, a
 * non-blocking socket, what is waiting to go out or come in on it, and
 * the batches it was sent and has not answered yet.
 */
#ifndef SPOOLD_POOL_H
#define SPOOLD_POOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* What the scheduler sent a worker; pool.c only keeps them in order. */
struct batch;
struct worker;

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

pid_t		 pool_pid(const struct worker *);
/* The socket to poll, and whether for writing too. */
int		 pool_fd(const struct worker *);
int		 pool_unsent(const struct worker *);

/* A BATCH frame queued record by record; cancel drops the open one. */
void		 pool_batch_begin(struct worker *, uint64_t seq, uint8_t flags);
int		 pool_batch_add(struct worker *, uint64_t id, const char *,
		    size_t);
void		 pool_batch_end(struct worker *, uint32_t n);
void		 pool_batch_cancel(struct worker *);

/*
 * The batches in flight, oldest first, which the worker answers in
 * order: push one sent, pop one answered, and look at the i-th (NULL
 * past the last). fatal when out of memory, as the batch itself is.
 */
void		 pool_push(struct worker *, struct batch *);
struct batch	*pool_pop(struct worker *);
struct batch	*pool_inflight(const struct worker *, size_t i);
size_t		 pool_ninflight(const struct worker *);

#endif
