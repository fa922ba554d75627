/*
 * Scripted HTTP servers for the tests (scripted.c).
 */
#ifndef SPOOLD_SCRIPTED_H
#define SPOOLD_SCRIPTED_H

#include <sys/types.h>

#include <pthread.h>
#include <stddef.h>

#define SCRIPTED_REQ_MAX	(2 << 20)	/* the buffer a script reads into */

struct scripted;

/*
 * A script serves one connection c, the nth accepted, with buf of
 * SCRIPTED_REQ_MAX bytes to read into; the server closes c afterwards.
 */
typedef void	 scripted_fn(struct scripted *, int c, int n, char *buf);

struct scripted {
	int		 ls;		/* listening on 127.0.0.1 */
	int		 port;
	volatile int	 stop;		/* set by scripted_stop */
	int		 conns;		/* accepted (in a thread only) */
	scripted_fn	*script;
	void		*arg;		/* the script's */
	pthread_t	 th;
	pid_t		 pid;		/* of a forked server, or 0 */
};

int	 scripted_listen(unsigned int, int, int, int *);
int	 scripted_thread(struct scripted *, scripted_fn *, void *);
int	 scripted_fork(struct scripted *, scripted_fn *, void *);
void	 scripted_stop(struct scripted *);

size_t	 scripted_read(struct scripted *, int, char *, size_t);
size_t	 scripted_head(struct scripted *, int, char *, size_t);
size_t	 scripted_body(struct scripted *, int, const char *, char *, size_t);
void	 scripted_until_closed(struct scripted *, int);
void	 scripted_write(int, const char *, size_t, int);
int	 scripted_header(const char *, size_t, const char *, char *, size_t);

#endif
