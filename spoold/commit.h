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

void	commit_start(struct store *, void (*ingested)(void));
void	commit_stop(void);
/* Blocks until req->job is committed and fsynced, or refused. */
int	commit_submit(struct commit_req *);
/* Queues req; req->done(req) follows on the committer thread. */
void	commit_async(struct commit_req *);

#endif
