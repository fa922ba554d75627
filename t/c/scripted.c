/*
 * Scripted HTTP servers for the tests: a socket listening on 127.0.0.1,
 * an accept loop, and the reading and writing that scripts are made of.
 * What a server answers is its script's, a function called for each
 * connection; here is only what every script needs: a request read
 * whole, or its head alone and the body later, a header's value, bytes
 * written whole or a byte a write, a bounded wait for the client to
 * hang up.
 *
 * The loop runs in a thread, taking connections one after another, so
 * that a test reads what its script kept without copying; or in a
 * process that forks one per connection, so that an old connection may
 * linger beside a new one, and a test may fork a client of its own.
 * Every wait is bounded: polls of 100 ms, a set count of them, or a
 * deadline.
 *
 * The receiver tool listens and reads headers with the same functions.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "scripted.h"

#define POLL_MS		100
#define READ_POLLS	50	/* a request or a head: 5 s idle at most */
#define BODY_POLLS	20	/* a body behind an early answer: 2 s */
#define CLOSE_SECS	10	/* the client's hang-up */

/*
 * A socket listening on 127.0.0.1:port (0: a free one), with the extra
 * socket(2) type flags; its port in *portp. -1 when it cannot be had.
 */
int
scripted_listen(unsigned int port, int flags, int backlog, int *portp)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 ls, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM | flags, 0)) == -1)
		return -1;
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, backlog) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &sl) == -1)
		goto fail;
	*portp = ntohs(sin.sin_port);
	return ls;
fail:
	close(ls);
	return -1;
}

static void *
serve_thread(void *arg)
{
	struct scripted	*s = arg;
	struct pollfd	 pfd = { s->ls, POLLIN, 0 };
	char		*buf;
	int		 c;

	if ((buf = malloc(SCRIPTED_REQ_MAX)) == NULL)
		return NULL;
	while (!s->stop) {
		if (poll(&pfd, 1, 50) != 1 ||
		    (c = accept(s->ls, NULL, NULL)) == -1)
			continue;
		s->script(s, c, ++s->conns, buf);
		close(c);
	}
	free(buf);
	return NULL;
}

static int
start(struct scripted *s, scripted_fn *script, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->script = script;
	s->arg = arg;
	s->ls = scripted_listen(0, SOCK_CLOEXEC, 8, &s->port);
	return s->ls;
}

/* A server in a thread of the test, on a free port (s->port). */
int
scripted_thread(struct scripted *s, scripted_fn *script, void *arg)
{
	if (start(s, script, arg) == -1)
		return -1;
	if (pthread_create(&s->th, NULL, serve_thread, s) != 0) {
		close(s->ls);
		return -1;
	}
	return 0;
}

static void
serve_conn(struct scripted *s, int c, int n)
{
	char	*buf;

	if ((buf = malloc(SCRIPTED_REQ_MAX)) == NULL)
		_exit(1);
	s->script(s, c, n, buf);
	_exit(0);
}

/* Until SIGTERM, which must end it even if the test catches it. */
static void
serve_fork(struct scripted *s)
{
	int	 c, n;

	signal(SIGCHLD, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	for (n = 1; (c = accept(s->ls, NULL, NULL)) != -1; n++) {
		if (fork() == 0)
			serve_conn(s, c, n);
		close(c);
	}
	_exit(0);
}

/* A server in a process of its own, a process per connection. */
int
scripted_fork(struct scripted *s, scripted_fn *script, void *arg)
{
	if (start(s, script, arg) == -1)
		return -1;
	if ((s->pid = fork()) == -1) {
		close(s->ls);
		return -1;
	}
	if (s->pid == 0)
		serve_fork(s);
	close(s->ls);
	s->ls = -1;
	return 0;
}

void
scripted_stop(struct scripted *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return;
	}
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->ls);
}

/* 1 when c has bytes to read; 0 after a poll without, or when stopped. */
static int
readable(struct scripted *s, int c)
{
	struct pollfd	 pfd = { c, POLLIN, 0 };

	return !s->stop && poll(&pfd, 1, POLL_MS) == 1;
}

/* The whole length of the request in buf, or 0 while its head is not. */
static size_t
request_len(const char *buf, size_t got)
{
	const char	*e;
	char		 v[32];
	size_t		 head;

	if ((e = memmem(buf, got, "\r\n\r\n", 4)) == NULL)
		return 0;
	head = (size_t)(e + 4 - buf);
	if (!scripted_header(buf, head, "Content-Length", v, sizeof(v)))
		return head;
	return head + strtoul(v, NULL, 10);
}

/*
 * Reads one request whole into buf, NUL-ended: its length, or 0 at the
 * end of the connection, after 5 s without a byte, or when stopped.
 */
size_t
scripted_read(struct scripted *s, int c, char *buf, size_t size)
{
	size_t		 got = 0, need = 0;
	ssize_t		 n;
	int		 idle = 0;

	for (;;) {
		if (need == 0)
			need = request_len(buf, got);
		if (need > 0 && got >= need)
			return got;
		if (got == size - 1 || s->stop || idle == READ_POLLS)
			return 0;
		if (!readable(s, c)) {
			idle++;
			continue;
		}
		if ((n = read(c, buf + got, size - 1 - got)) <= 0)
			return 0;
		idle = 0;
		got += (size_t)n;
		buf[got] = '\0';
	}
}

/*
 * Reads a request's head only, NUL-ended in buf: its length, 0 when the
 * client is gone. A byte at a time: the body behind the head stays
 * unread, for a script that answers before it.
 */
size_t
scripted_head(struct scripted *s, int c, char *buf, size_t size)
{
	size_t		 got = 0;
	ssize_t		 n;
	int		 idle = 0;

	while (idle < READ_POLLS && !s->stop && got < size - 1 &&
	    memmem(buf, got, "\r\n\r\n", 4) == NULL) {
		if (!readable(s, c)) {
			idle++;
			continue;
		}
		if ((n = read(c, buf + got, 1)) <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* Reads, into buf and over it, the body a head announced: how much came. */
size_t
scripted_body(struct scripted *s, int c, const char *head, char *buf,
    size_t size)
{
	char		 v[32];
	size_t		 want, got = 0;
	ssize_t		 n;
	int		 idle = 0;

	if (!scripted_header(head, strlen(head), "Content-Length", v,
	    sizeof(v)))
		return 0;
	want = strtoul(v, NULL, 10);
	while (got < want && idle < BODY_POLLS && !s->stop) {
		if (!readable(s, c)) {
			idle++;
			continue;
		}
		if ((n = read(c, buf, want - got < size ? want - got :
		    size)) <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * Waits for the client to hang up, 10 s at most; what it still sends is
 * read and dropped, for a close with unread data would send a reset.
 */
void
scripted_until_closed(struct scripted *s, int c)
{
	struct timespec	 now, end;
	char		 b[65536];

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CLOSE_SECS;
	do {
		if (readable(s, c) && read(c, b, sizeof(b)) <= 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!s->stop && (now.tv_sec < end.tv_sec ||
	    (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
}

/* Writes p whole, or a byte a write when split, until the client is gone. */
void
scripted_write(int c, const char *p, size_t len, int split)
{
	ssize_t	 n;
	size_t	 step;

	while (len > 0) {
		step = split ? 1 : len;
		if ((n = write(c, p, step)) <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/*
 * The value of the header name in the head of len bytes, trimmed and
 * NUL-ended in v (cut to vsize): 1 if the head has it, else 0.
 */
int
scripted_header(const char *head, size_t len, const char *name, char *v,
    size_t vsize)
{
	const char	*l, *end = head + len, *nl, *val;
	size_t		 nlen = strlen(name), n;

	for (l = head; l < end && (nl = memchr(l, '\n', (size_t)(end - l)));
	    l = nl + 1) {
		if ((size_t)(nl - l) <= nlen || l[nlen] != ':' ||
		    strncasecmp(l, name, nlen) != 0)
			continue;
		for (val = l + nlen + 1; val < nl && (*val == ' ' ||
		    *val == '\t'); val++)
			;
		for (n = (size_t)(nl - val); n > 0 && (val[n - 1] == '\r' ||
		    val[n - 1] == ' ' || val[n - 1] == '\t'); n--)
			;
		if (n >= vsize)
			n = vsize - 1;
		memcpy(v, val, n);
		v[n] = '\0';
		return 1;
	}
	return 0;
}
