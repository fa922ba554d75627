/*
 * Group commit: ingest requests and delivery outcomes go to one
 * committer thread, which writes everything queued in one fsync'd
 * transaction.
 */
#ifndef SPOOLD_COMMIT_H
#define SPOOLD_COMMIT_H

#include "store.h"

struct commit_req {
	struct store_job	 job;
	/* Called on the committer thread once durable; NULL: caller waits. */
	void			(*done)(struct commit_req *);
	void			*arg;
	int			 finished;
	struct commit_req	*next;
	struct commit_req	*async_next;
};

/*
 * Outcomes alone, which nobody waits on, gather for wait_ms (0: without
 * end) or until enough of them or an ingest request are queued, before
 * they are committed. spoold keeps the defaults (2 ms, 512); before
 * commit_start only.
 */
void	commit_gather(unsigned int wait_ms, size_t enough);
/* Is the committer waiting for outcomes to gather? For tests. */
int	commit_gathering(void);
void	commit_start(struct store *, void (*ingested)(void));
void	commit_stop(void);
/* Blocks until req->job is committed and fsynced, or refused. */
int	commit_submit(struct commit_req *);
/* Queues req; req->done(req) follows on the committer thread. */
void	commit_async(struct commit_req *);

#endif
