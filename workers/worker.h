/*
 * A delivery worker: one process, one HTTP client, one keep-alive
 * connection to one hook's url. It reads batches from spoold on fd 3,
 * POSTs them, and answers each with what the hook said.
 */
#ifndef SPOOLD_WORKER_H
#define SPOOLD_WORKER_H

/* Run a worker for hook on PROTO_FD (forked by the launcher); exit status. */
int	worker_main(const char *hook);

#endif
