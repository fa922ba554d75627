/*
 * Group commit: ingest requests hand their records to one committer
 * thread and sleep until the transaction holding them is durable.
 */
#ifndef SPOOLD_COMMIT_H
#define SPOOLD_COMMIT_H

#include "store.h"

void	commit_start(struct store *);
void	commit_stop(void);
/* Blocks until job is committed and fsynced, or refused; job->result. */
int	commit_submit(struct store_job *);

#endif
