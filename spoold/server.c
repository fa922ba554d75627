/*
 * The ingest server. A fleet of MTAs keeps hundreds of connections open
 * and idle between bursts, and a hostile client may open thousands or
 * send its header a byte at a time; so connections cost no thread.
 * Each of a few threads (one per core) runs an epoll loop over its own
 * connections and every listening socket (EPOLLEXCLUSIVE wakes one
 * thread per connection). A request that waits for its group commit is
 * parked: the committer wakes it through the loop's eventfd, and the
 * loop writes the answer.
 *
 * Deadlines, checked once a second: a connection with no request under
 * way is closed after idle_ms; a request's head must be whole within
 * header_ms of its first byte, however slowly the bytes come; a body
 * or an answer that makes no progress for idle_ms ends the connection.
 * A connection that must close after an answer sent before its body was
 * read is shut for writing and drained for a while (a lingering close),
 * so the client reads the answer instead of a reset.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "util.h"

#define MAX_THREADS	64
#define MAX_LISTEN	64
#define IN_FIRST	4096
#define BODY_FIRST	65536
#define READ_CHUNK	65536
#define LINGER_MS	5000
#define PAUSE_MS	100	/* accepting, when out of descriptors */
#define ACCEPT_BURST	64
#define TURN_STEPS	64	/* a connection's share of a loop turn */
#define STOP_WRITE_MS	5000	/* answers still going out at a stop */

enum src_kind { SRC_LISTEN, SRC_WAKE, SRC_CONN };

struct src {
	enum src_kind	 kind;
	int		 fd;
};

enum phase {
	PH_IDLE,	/* between requests */
	PH_HEAD,	/* reading a head */
	PH_BODY,	/* reading a body */
	PH_PARKED,	/* the handler has it */
	PH_WRITE,	/* writing an answer */
	PH_LINGER	/* draining before close */
};

struct loop;

struct conn {
	struct src	 src;		/* first: epoll hands it back */
	struct loop	*loop;
	struct conn	*prev, *next;
	struct conn	*wake_next;
	struct conn	*rprev, *rnext;	/* on the loop's ready list */
	int		 queued;		/* ... when set */
	enum phase	 phase;
	int		 readable;	/* since the last EAGAIN */
	int		 gone;		/* the peer hung up */
	int		 close_after;
	int		 want_out;	/* EPOLLOUT registered */
	int		 in_request;	/* head() saw it: done() owed */
	int		 body_read;
	uint64_t	 deadline;
	uint64_t	 head_us;	/* the head's first byte, for metrics */
	struct client	*client;
	unsigned char	*in;		/* heads and pipelined bytes */
	size_t		 inlen, incap;
	size_t		 headlen;
	struct request	*req;		/* from a head's first byte */
	unsigned char	*body;
	size_t		 blen, bcap, blimit, braw;
	size_t		 btail;		/* pipelined bytes after the body */
	uint64_t	 rawseen;	/* of a chunked body, framing too */
	const char	*limit_name;
	size_t		 cont_left;	/* of 100 Continue, not yet sent */
	struct chunked	 chunks;
	char		*out;
	size_t		 outlen, outoff;
	void		*data;
};

struct loop {
	pthread_t	 thread;
	int		 ep;
	struct src	 wake;
	pthread_mutex_t	 wake_lock;
	struct conn	*woken;
	struct conn	*conns;
	struct conn	*ready;		/* had their turn, not their fill */
	size_t		 parked;
	uint64_t	 paused_until;	/* accepting */
	uint64_t	 next_sweep;
	time_t		 date_sec;
	char		 date[40];
	unsigned char	 scratch[READ_CHUNK];
};

static struct server_conf	 sv_conf;
static const struct server_handler *sv_h;
static struct src		 sv_listen[MAX_LISTEN];
static size_t			 sv_nlisten;
static struct loop		 sv_loops[MAX_THREADS];
static unsigned int		 sv_nloops;
static atomic_int		 sv_stop;
static atomic_ullong		 sv_open, sv_refused, sv_timed_out;

static void	conn_close(struct conn *);

static const char	 continue_msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

static const char *
reason(unsigned int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static const char *
http_date(struct loop *l)
{
	struct tm	 tm;
	time_t		 t = time(NULL);

	if (t != l->date_sec) {
		l->date_sec = t;
		gmtime_r(&t, &tm);
		strftime(l->date, sizeof(l->date),
		    "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	return l->date;
}

static void
want_output(struct conn *c, int on)
{
	struct epoll_event	 ev;

	if (c->want_out == on)
		return;
	c->want_out = on;
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
		log_warn("ingest: epoll_ctl");
}

void
conn_answer(struct conn *c, unsigned int status, const char *ctype,
    const char *body, size_t len, const char *extra)
{
	char	*out;
	int	 head, n;
	size_t	 blen;

	sv_h->answered(c, c->req, status, metrics_clock_us() - c->head_us);
	/* Unread body bytes are not ours to read: the connection ends. */
	if (!c->req->keep_alive || (!c->body_read && (c->req->chunked ||
	    c->req->clen > 0)))
		c->close_after = 1;
	head = c->req->mlen == 4 && memcmp(c->req->method, "HEAD", 4) == 0;
	blen = head ? 0 : len;
	/* What a full socket buffer kept of 100 Continue goes first. */
	n = asprintf(&out, "%s" "HTTP/1.1 %u %s\r\nDate: %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
	    continue_msg + sizeof(continue_msg) - 1 - c->cont_left,
	    status, reason(status), http_date(c->loop), ctype, len,
	    extra ? extra : "", c->close_after ? "Connection: close\r\n" :
	    c->req->minor == 0 ? "Connection: keep-alive\r\n" : "");
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->cont_left = 0;
	c->phase = PH_WRITE;
	c->deadline = mono_ms() + sv_conf.idle_ms;
	if (n == -1 || (blen > 0 && (c->out = realloc(out, (size_t)n +
	    blen)) == NULL)) {
		log_warnx("ingest: out of memory for an answer");
		if (n != -1)
			free(out);
		c->close_after = 1;
		return;
	}
	if (blen > 0)
		memcpy(c->out + n, body, blen);
	else
		c->out = out;
	c->outlen = (size_t)n + blen;
}

void
conn_error(struct conn *c, unsigned int status, const char *why,
    const char *extra)
{
	json_t	*o;
	char	*s;

	o = json_pack("{ss}", "error", why);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	conn_answer(c, status, "application/json", s ? s : "{}",
	    s ? strlen(s) : 2, extra);
	free(s);
}

void
conn_body_limit(struct conn *c, size_t limit, const char *name)
{
	c->blimit = limit;
	c->limit_name = name;
}

void
conn_park(struct conn *c)
{
	c->phase = PH_PARKED;
	c->deadline = 0;
	c->loop->parked++;
}

void
conn_wake(struct conn *c)
{
	struct loop	*l = c->loop;
	uint64_t	 one = 1;
	int		 first;

	/* One commit wakes many: the first of them rings for all. */
	pthread_mutex_lock(&l->wake_lock);
	first = l->woken == NULL;
	c->wake_next = l->woken;
	l->woken = c;
	pthread_mutex_unlock(&l->wake_lock);
	if (first && write(l->wake.fd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("ingest: eventfd");
}

void **
conn_data(struct conn *c)
{
	return &c->data;
}

void
server_stats(struct server_stats *st)
{
	st->open = atomic_load(&sv_open);
	st->refused = atomic_load(&sv_refused);
	st->timed_out = atomic_load(&sv_timed_out);
}

/* The request is over: its bytes go, pipelined ones stay. */
static void
request_over(struct conn *c)
{
	if (c->in_request && sv_h->done != NULL)
		sv_h->done(c);
	c->in_request = c->body_read = 0;
	c->data = NULL;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->cont_left = 0;
	if (c->headlen > 0) {
		memmove(c->in, c->in + c->headlen, c->inlen - c->headlen);
		c->inlen -= c->headlen;
		c->headlen = 0;
	}
	/*
	 * Bytes read past a chunked body wait in the body buffer until the
	 * head they follow is gone: the request points into c->in.
	 */
	if (c->btail > 0) {
		if (grow_buf(&c->in, &c->incap, c->inlen + c->btail,
		    IN_FIRST) == -1)
			c->close_after = 1;
		else {
			memcpy(c->in + c->inlen, c->body + c->blen, c->btail);
			c->inlen += c->btail;
		}
		c->btail = 0;
	}
	free(c->body);
	c->body = NULL;
	c->blen = c->bcap = c->braw = 0;
	c->rawseen = 0;
	if (c->inlen == 0) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
}

static void
unqueue(struct conn *c)
{
	if (!c->queued)
		return;
	if (c->rprev != NULL)
		c->rprev->rnext = c->rnext;
	else
		c->loop->ready = c->rnext;
	if (c->rnext != NULL)
		c->rnext->rprev = c->rprev;
	c->queued = 0;
}

static void
conn_close(struct conn *c)
{
	struct loop	*l = c->loop;

	request_over(c);
	free(c->in);
	free(c->req);
	unqueue(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	clients_put(c->client);
	close(c->src.fd);
	free(c);
	atomic_fetch_sub(&sv_open, 1);
}

static void
set_idle(struct conn *c)
{
	c->phase = PH_IDLE;
	c->deadline = mono_ms() + sv_conf.idle_ms;
	c->close_after = 0;
	/* An idle connection holds no request: a fleet keeps thousands. */
	free(c->req);
	c->req = NULL;
}

/*
 * The steps of a connection's state machine return 1 to go on, 0 to
 * wait for an event, and -1 once the connection is closed and freed.
 */

/* recv() into p; the count, 0 at EAGAIN, -1 when the peer is gone. */
static ssize_t
take(struct conn *c, void *p, size_t len)
{
	ssize_t	 n;

	for (;;) {
		n = recv(c->src.fd, p, len, 0);
		if (n > 0)
			return n;
		if (n == -1 && errno == EINTR)
			continue;
		c->readable = 0;
		if (n == -1 && errno == EAGAIN)
			return 0;
		c->gone = 1;
		return -1;
	}
}

/* The answer is out. */
static int
answered(struct conn *c)
{
	request_over(c);
	if (!c->close_after) {
		set_idle(c);
		return 1;
	}
	if (c->gone || shutdown(c->src.fd, SHUT_WR) == -1) {
		conn_close(c);
		return -1;
	}
	c->phase = PH_LINGER;
	c->deadline = mono_ms() + LINGER_MS;
	c->inlen = 0;
	return 1;
}

static int
step_write(struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		n = send(c->src.fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			want_output(c, 1);
			return 0;
		}
		if (n == -1) {
			c->gone = c->close_after = 1;
			break;
		}
		c->outoff += (size_t)n;
		c->deadline = mono_ms() + sv_conf.idle_ms;
	}
	want_output(c, 0);
	return answered(c);
}

/* Drain what the client still sends until it closes or time is up. */
static int
step_linger(struct conn *c)
{
	while (c->readable)
		if (take(c, c->loop->scratch, sizeof(c->loop->scratch)) ==
		    -1) {
			conn_close(c);
			return -1;
		}
	return 0;
}

static int
body_done(struct conn *c)
{
	c->body_read = 1;
	sv_h->body(c, c->req, (char *)c->body, c->blen);
	if (c->phase == PH_BODY)
		conn_error(c, 500, "request not answered", NULL);
	return c->phase == PH_WRITE;
}

static void
too_large(struct conn *c)
{
	char	 msg[128];

	if (c->limit_name != NULL)
		snprintf(msg, sizeof(msg), "request body larger than %s "
		    "(%zu bytes)", c->limit_name, c->blimit);
	else
		snprintf(msg, sizeof(msg), "request body larger than %zu "
		    "bytes", c->blimit);
	conn_error(c, 413, msg, NULL);
}

/* A small body known by its length gets just its size. */
static size_t
body_first(const struct conn *c)
{
	if (!c->req->chunked && c->req->clen > 0 && c->req->clen < BODY_FIRST)
		return (size_t)c->req->clen;
	return BODY_FIRST;
}

/* Decode what is raw at the end of the body. */
static int
body_chunks(struct conn *c)
{
	size_t	 used = c->braw, out;
	int	 rc;

	rc = chunked_decode(&c->chunks, c->body + c->blen, &used, &out);
	if (rc == -1) {
		conn_error(c, 400, "malformed chunked body", NULL);
		return 1;
	}
	memmove(c->body + c->blen + out, c->body + c->blen + used,
	    c->braw - used);
	c->blen += out;
	c->braw -= used;
	/* Framing counts too: chunk extensions must not go on for ever. */
	c->rawseen += used;
	if (c->blen > c->blimit || c->rawseen > 2 * (uint64_t)c->blimit +
	    BODY_FIRST) {
		too_large(c);
		return 1;
	}
	if (rc == 0)
		return 0;
	c->btail = c->braw;
	c->braw = 0;
	return body_done(c) ? 1 : 0;
}

static int
step_body(struct conn *c)
{
	size_t	 want;
	ssize_t	 n;

	if (c->req->chunked) {
		if (c->braw > 0 && (body_chunks(c) || c->phase != PH_BODY))
			return 1;
		want = READ_CHUNK;
	} else {
		if (c->blen == c->req->clen)
			return body_done(c);
		want = (size_t)c->req->clen - c->blen;
		if (want > READ_CHUNK)
			want = READ_CHUNK;
	}
	if (!c->readable)
		return 0;
	if (grow_buf(&c->body, &c->bcap, c->blen + c->braw + want,
	    body_first(c)) == -1) {
		conn_error(c, 500, "out of memory", NULL);
		return 1;
	}
	if ((n = take(c, c->body + c->blen + c->braw, want)) <= 0) {
		if (n == 0)
			return 0;
		conn_close(c);
		return -1;
	}
	c->deadline = mono_ms() + sv_conf.idle_ms;
	if (c->req->chunked)
		c->braw += (size_t)n;
	else
		c->blen += (size_t)n;
	return 1;
}

/*
 * 100 Continue goes out now; what a full socket buffer does not take
 * goes before the answer, so the client never reads half of it.
 */
static void
send_continue(struct conn *c)
{
	ssize_t	 n;

	n = send(c->src.fd, continue_msg, sizeof(continue_msg) - 1,
	    MSG_NOSIGNAL);
	c->cont_left = sizeof(continue_msg) - 1 - (n > 0 ? (size_t)n : 0);
}

/* The bytes after the head are the body's first. */
static int
head_done(struct conn *c, size_t len)
{
	size_t	 extra, n;

	c->headlen = len;
	c->in_request = 1;
	c->blimit = 0;
	c->limit_name = NULL;
	sv_h->head(c, c->req);
	if (c->phase == PH_WRITE)
		return 1;
	if (!c->req->chunked && c->req->clen > c->blimit) {
		too_large(c);
		return 1;
	}
	c->phase = PH_BODY;
	c->deadline = mono_ms() + sv_conf.idle_ms;
	memset(&c->chunks, 0, sizeof(c->chunks));
	extra = c->inlen - len;
	n = c->req->chunked || extra < c->req->clen ? extra :
	    (size_t)c->req->clen;
	if (n > 0) {
		if (grow_buf(&c->body, &c->bcap, n, body_first(c)) == -1) {
			conn_error(c, 500, "out of memory", NULL);
			return 1;
		}
		memcpy(c->body, c->in + len, n);
		memmove(c->in + len, c->in + len + n, extra - n);
		c->inlen -= n;
	}
	if (c->req->chunked)
		c->braw = n;
	else
		c->blen = n;
	if (c->req->expect_continue && (c->req->chunked || c->blen <
	    c->req->clen))
		send_continue(c);
	return 1;
}

static int
step_head(struct conn *c)
{
	long	 len;
	ssize_t	 n;

	if (c->inlen > 0) {
		if (c->phase == PH_IDLE) {
			if (c->req == NULL &&
			    (c->req = malloc(sizeof(*c->req))) == NULL) {
				conn_close(c);
				return -1;
			}
			c->phase = PH_HEAD;
			c->deadline = mono_ms() + sv_conf.header_ms;
			c->head_us = metrics_clock_us();
		}
		if ((len = req_parse(c->req, (char *)c->in, c->inlen)) > 0)
			return head_done(c, (size_t)len);
		if (len == -1) {
			c->req->keep_alive = 0;
			conn_error(c, c->req->status, c->req->why, NULL);
			return 1;
		}
	}
	if (!c->readable)
		return 0;
	if (grow_buf(&c->in, &c->incap, c->inlen + IN_FIRST / 2,
	    IN_FIRST) == -1) {
		conn_close(c);
		return -1;
	}
	if ((n = take(c, c->in + c->inlen, c->incap - c->inlen)) == -1) {
		conn_close(c);
		return -1;
	}
	if (n == 0 && c->inlen == 0) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
	c->inlen += (size_t)n;
	return n > 0;
}

/*
 * A connection whose client keeps its socket full would never see
 * EAGAIN: after TURN_STEPS it waits on the ready list for the loop's
 * next turn, so that the others get theirs.
 */
static void
conn_run(struct conn *c)
{
	struct loop	*l = c->loop;
	int		 rc = 1, steps = 0;

	while (rc == 1) {
		if (++steps > TURN_STEPS) {
			if (!c->queued) {
				c->queued = 1;
				c->rprev = NULL;
				if ((c->rnext = l->ready) != NULL)
					c->rnext->rprev = c;
				l->ready = c;
			}
			return;
		}
		switch (c->phase) {
		case PH_IDLE:
		case PH_HEAD:
			rc = step_head(c);
			break;
		case PH_BODY:
			rc = step_body(c);
			break;
		case PH_WRITE:
			rc = step_write(c);
			break;
		case PH_LINGER:
			rc = step_linger(c);
			break;
		case PH_PARKED:
			/* Pipelined bytes wait; only a hang-up matters now. */
			rc = 0;
			break;
		}
	}
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if ((ev & (EPOLLHUP | EPOLLERR)) && c->phase == PH_PARKED)
		c->gone = 1;
	conn_run(c);
}

static void
set_nodelay(int fd)
{
	int	 on = 1;

	/* Fails on unix sockets, where there is nothing to set. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void
listeners(struct loop *l, int op)
{
	struct epoll_event	 ev;
	size_t			 i;

	for (i = 0; i < sv_nlisten; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &sv_listen[i];
		if (epoll_ctl(l->ep, op, sv_listen[i].fd, &ev) == -1 &&
		    op == EPOLL_CTL_ADD)
			log_warn("ingest: epoll_ctl listen");
	}
}

static void
refuse(int fd, const char *why)
{
	static _Atomic uint64_t	 last;
	uint64_t		 now = mono_ms(), t = atomic_load(&last);

	atomic_fetch_add(&sv_refused, 1);
	close(fd);
	/* A flood of refusals is one line a minute. */
	if (now - t >= 60000 && atomic_compare_exchange_strong(&last, &t,
	    now))
		log_warnx("ingest: connection refused: %s", why);
}

static void
add_conn(struct loop *l, int fd, const struct sockaddr_storage *ss)
{
	struct epoll_event	 ev;
	struct conn		*c;
	struct client		*cl = NULL;

	if (atomic_fetch_add(&sv_open, 1) >= sv_conf.max_connections) {
		atomic_fetch_sub(&sv_open, 1);
		refuse(fd, "max_connections reached");
		return;
	}
	if (sv_conf.max_per_client > 0 &&
	    (cl = clients_get(ss, sv_conf.max_per_client)) == NULL) {
		atomic_fetch_sub(&sv_open, 1);
		refuse(fd, "max_connections_per_client reached");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		atomic_fetch_sub(&sv_open, 1);
		clients_put(cl);
		refuse(fd, "out of memory");
		return;
	}
	c->src.kind = SRC_CONN;
	c->src.fd = fd;
	c->loop = l;
	c->client = cl;
	c->readable = 1;
	set_nodelay(fd);
	set_idle(c);
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if ((c->next = l->conns) != NULL)
		c->next->prev = c;
	l->conns = c;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("ingest: epoll_ctl");
		conn_close(c);
		return;
	}
	conn_run(c);
}

static void
accept_conns(struct loop *l, int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		slen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (slen == 0 || ss.ss_family == AF_UNIX)
				ss.ss_family = AF_UNIX;
			add_conn(l, fd, &ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Level-triggered: stop asking for a while. */
			log_warn("ingest: accept");
			listeners(l, EPOLL_CTL_DEL);
			l->paused_until = mono_ms() + PAUSE_MS;
		}
		return;
	}
}

static void
expire(struct conn *c)
{
	enum phase	 ph = c->phase;

	atomic_fetch_add(&sv_timed_out, ph != PH_IDLE && ph != PH_LINGER);
	if (ph == PH_HEAD || ph == PH_BODY) {
		c->req->keep_alive = 0;
		conn_error(c, 408, ph == PH_HEAD ? "request head not "
		    "received in time (client_header_timeout)" :
		    "request body stalled (client_idle_timeout)", NULL);
		/* One try; a client that does not read is not waited for. */
		c->gone = 1;
		conn_run(c);
		return;
	}
	conn_close(c);
}

static void
sweep(struct loop *l, uint64_t now)
{
	struct conn	*c, *next;

	for (c = l->conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline != 0 && now >= c->deadline)
			expire(c);
	}
	if (l->paused_until != 0 && now >= l->paused_until) {
		l->paused_until = 0;
		listeners(l, EPOLL_CTL_ADD);
	}
}

/* Those that had their turn go again; newcomers wait for the next. */
static void
run_ready(struct loop *l)
{
	struct conn	*c, *list = l->ready;

	l->ready = NULL;
	for (c = list; c != NULL; c = c->rnext)
		c->queued = 0;
	while ((c = list) != NULL) {
		list = c->rnext;
		if (list != NULL)
			list->rprev = NULL;
		conn_run(c);
	}
}

static void
wake_parked(struct loop *l)
{
	struct conn	*c, *next;
	uint64_t	 n;

	if (read(l->wake.fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("ingest: eventfd");
	pthread_mutex_lock(&l->wake_lock);
	c = l->woken;
	l->woken = NULL;
	pthread_mutex_unlock(&l->wake_lock);
	for (; c != NULL; c = next) {
		next = c->wake_next;
		l->parked--;
		sv_h->resume(c, c->req);
		if (c->phase != PH_WRITE)
			conn_error(c, 500, "request not answered", NULL);
		if (c->gone)
			c->close_after = 1;
		conn_run(c);
	}
}

static int
timeout_ms(struct loop *l, uint64_t now)
{
	uint64_t	 t = l->next_sweep;

	if (l->paused_until != 0 && l->paused_until < t)
		t = l->paused_until;
	return t > now ? (int)(t - now) : 0;
}

/* Answers still going out, once stopping: they were promised. */
static int
writing(struct loop *l)
{
	struct conn	*c;

	for (c = l->conns; c != NULL; c = c->next)
		if (c->phase == PH_WRITE)
			return 1;
	return 0;
}

static int
running(struct loop *l, uint64_t *stop_by)
{
	if (!atomic_load(&sv_stop))
		return 1;
	if (l->parked > 0)
		return 1;
	if (*stop_by == 0)
		*stop_by = mono_ms() + STOP_WRITE_MS;
	return mono_ms() < *stop_by && writing(l);
}

static void *
loop_main(void *arg)
{
	struct loop		*l = arg;
	struct epoll_event	 evs[256];
	struct src		*s;
	uint64_t		 now, stop_by = 0;
	int			 i, n, woken;

	l->next_sweep = mono_ms() + 1000;
	while (running(l, &stop_by)) {
		n = epoll_wait(l->ep, evs, 256, l->ready != NULL ? 0 :
		    timeout_ms(l, mono_ms()));
		if (n == -1 && errno != EINTR)
			fatal("ingest: epoll_wait");
		/*
		 * Woken requests are answered after the batch: answering can
		 * free a connection whose own event is further on in it.
		 */
		for (i = woken = 0; i < n; i++) {
			s = evs[i].data.ptr;
			if (s->kind == SRC_LISTEN)
				accept_conns(l, s->fd);
			else if (s->kind == SRC_WAKE)
				woken = 1;
			else
				conn_event((struct conn *)s, evs[i].events);
		}
		if (woken)
			wake_parked(l);
		run_ready(l);
		if ((now = mono_ms()) >= l->next_sweep ||
		    (l->paused_until != 0 && now >= l->paused_until)) {
			sweep(l, now);
			l->next_sweep = now + 1000;
		}
	}
	while (l->conns != NULL)
		conn_close(l->conns);
	return NULL;
}

static int
loop_init(struct loop *l)
{
	struct epoll_event	 ev;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->wake_lock, NULL);
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	l->wake.kind = SRC_WAKE;
	if ((l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = &l->wake;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake.fd, &ev) == -1)
		return -1;
	listeners(l, EPOLL_CTL_ADD);
	return 0;
}

int
server_start(const int *fds, size_t nfds, const struct server_conf *conf,
    const struct server_handler *h)
{
	unsigned int	 i;
	size_t		 j;
	int		 fl;

	if (nfds > MAX_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	sv_conf = *conf;
	if (sv_conf.threads == 0)
		sv_conf.threads = 1;
	if (sv_conf.threads > MAX_THREADS)
		sv_conf.threads = MAX_THREADS;
	sv_h = h;
	for (j = 0; j < nfds; j++) {
		if ((fl = fcntl(fds[j], F_GETFL)) == -1 ||
		    fcntl(fds[j], F_SETFL, fl | O_NONBLOCK) == -1)
			return -1;
		sv_listen[j].kind = SRC_LISTEN;
		sv_listen[j].fd = fds[j];
	}
	sv_nlisten = nfds;
	atomic_store(&sv_stop, 0);
	for (i = 0; i < sv_conf.threads; i++) {
		if (loop_init(&sv_loops[i]) == -1)
			return -1;
		if ((errno = pthread_create(&sv_loops[i].thread, NULL,
		    loop_main, &sv_loops[i])) != 0)
			return -1;
		sv_nloops = i + 1;
	}
	return 0;
}

void
server_stop(void)
{
	unsigned int	 i;
	uint64_t	 one = 1;

	atomic_store(&sv_stop, 1);
	for (i = 0; i < sv_nloops; i++)
		if (write(sv_loops[i].wake.fd, &one, sizeof(one)) == -1)
			log_warn("ingest: eventfd");
	for (i = 0; i < sv_nloops; i++) {
		pthread_join(sv_loops[i].thread, NULL);
		close(sv_loops[i].ep);
		close(sv_loops[i].wake.fd);
	}
	sv_nloops = 0;
}
