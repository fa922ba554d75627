/*
 * The ingest server: HTTP/1.1 connections on a few event loop threads.
 * A request waiting for its group commit is parked, holding no thread.
 */
#ifndef SPOOLD_SERVER_H
#define SPOOLD_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct conn;

struct server_conf {
	unsigned int	 threads;
	size_t		 max_connections;
	size_t		 max_per_client;	/* 0: no cap */
	uint64_t	 idle_ms;		/* no request under way */
	uint64_t	 header_ms;		/* first byte to end of head */
};

struct server_handler {
	/*
	 * Every answer, the server's own included, as it is queued, us
	 * after the first byte of its request's head.
	 */
	void	(*answered)(struct conn *, const struct request *,
		    unsigned int status, uint64_t us);
	/*
	 * The head is read: answer (conn_answer) to refuse the request
	 * before its body, or set its conn_body_limit (none: 0 bytes).
	 */
	void	(*head)(struct conn *, const struct request *);
	/* The body is read: answer, or conn_park() and conn_wake() later. */
	void	(*body)(struct conn *, const struct request *, char *,
		    size_t);
	/* A parked request was woken: answer it. */
	void	(*resume)(struct conn *, const struct request *);
	/* After head() took the request: it is over, answered or not. */
	void	(*done)(struct conn *);
};

struct server_stats {
	uint64_t	 open;		/* connections */
	uint64_t	 refused;	/* over max_connections or the cap */
	uint64_t	 timed_out;	/* idle, header or body deadline */
};

/* Serve the listening sockets; 0, or -1 with errno. */
int	 server_start(const int *fds, size_t nfds, const struct server_conf *,
	    const struct server_handler *);
/* Answers what is parked, then closes every connection. */
void	 server_stop(void);
void	 server_stats(struct server_stats *);

/*
 * Queue the answer; extra holds whole header lines ("Name: value\r\n")
 * or is NULL. From the connection's own thread only.
 */
void	 conn_answer(struct conn *, unsigned int status, const char *ctype,
	    const char *body, size_t len, const char *extra);
/* {"error":why} as application/json. */
void	 conn_error(struct conn *, unsigned int status, const char *why,
	    const char *extra);
/* The most body bytes to take, and the setting that says so, or NULL. */
void	 conn_body_limit(struct conn *, size_t, const char *name);
void	 conn_park(struct conn *);
/* Any thread: the parked request's resume() follows on its own. */
void	 conn_wake(struct conn *);
/* The handler's own pointer for the request under way. */
void	**conn_data(struct conn *);

#endif
