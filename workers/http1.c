/*
 * The worker's client for plain http:// hooks, in place of libcurl.
 *
 * Why hand-written: a one-record hook makes one request per record, and
 * in make bench's one-record workload the workers took about half of the
 * machine, half of that in user space: libcurl's work per transfer (its
 * connection cache and state machine, proxy look-ups in the environment,
 * three or four polls, header callbacks, allocations). A worker needs
 * far less: one keep-alive connection, a request written whole by one
 * sendmsg, the answer read as it comes. bench/NOTES.md has the numbers.
 *
 * What it does not do stays with libcurl (http.c chooses per hook):
 * https, user names in the url, proxies from the environment, and hooks
 * that set Host, Connection or Expect themselves. The request it writes
 * is the one libcurl writes for the same hook: the same request target
 * (libcurl's url parser makes it), the same header lines in the same
 * order. Like libcurl it sends a request again, once, on a new
 * connection when a reused one turns out to have been closed by the
 * server before any answer came. t/c/test_http1.c compares the two on
 * scripted servers.
 *
 * Names are resolved with getaddrinfo(3), which the timeout does not
 * bound; that happens only when a connection is made.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "answer.h"
#include "http1.h"
#include "util.h"

#ifndef SPOOLD_VERSION
#error SPOOLD_VERSION is defined by the build
#endif

#define IN_FIRST	16384
/* A connection idle this long is looked at before it is used again. */
#define IDLE_LOOK_MS	1000
/* An address that does not answer leaves this long to the next ones. */
#define CONNECT_TRY_MS	2000

struct h1 {
	int		 fd;		/* -1: no connection */
	char		*host;		/* for getaddrinfo: no brackets */
	char		*port;
	char		*head;		/* request line and fixed header lines */
	size_t		 headlen;
	uint64_t	 timeout_ms;
	uint64_t	 idle_since;	/* monotonic ms of the last answer */
	uint64_t	 got;		/* bytes of answer to this request */
	char		*in;		/* answer bytes not parsed yet */
	size_t		 inlen;
	size_t		 incap;
};

/* How one exchange of a request and its answer ended. */
enum {
	X_DONE,
	X_FAILED,
	X_STALE,		/* a reused connection was closed: again */
	X_EARLY			/* the server spoke before taking it all */
};

struct h1 *
h1_new(void)
{
	struct h1	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	return c;
}

void
h1_close(struct h1 *c)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->inlen = 0;
}

void
h1_free(struct h1 *c)
{
	if (c == NULL)
		return;
	h1_close(c);
	free(c->host);
	free(c->port);
	free(c->head);
	free(c->in);
	free(c);
}

/* libcurl reads these from the environment for an http:// url. */
static int
proxy_in_env(void)
{
	static const char *const vars[] = { "http_proxy", "all_proxy",
	    "ALL_PROXY" };
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((v = getenv(vars[i])) != NULL && *v != '\0')
			return 1;
	return 0;
}

static int
plain_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* The url's parts, as libcurl's own parser gives them for a transfer. */
struct target {
	char	*scheme;
	char	*host;
	char	*port;
	char	*path;
	char	*query;
};

static void
target_free(struct target *t)
{
	curl_free(t->scheme);
	curl_free(t->host);
	curl_free(t->port);
	curl_free(t->path);
	curl_free(t->query);
}

/* 1 when the url is one this client can serve, 0 when not, -1 memory. */
static int
target_parse(const char *url, struct target *t)
{
	CURLU		*u;
	char		*user = NULL, *pass = NULL;
	CURLUcode	 rc;
	int		 ok = 0;

	memset(t, 0, sizeof(*t));
	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME |
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) !=
	    CURLUE_NO_PASSWORD)
		goto done;
	if (curl_url_get(u, CURLUPART_SCHEME, &t->scheme, 0) != CURLUE_OK ||
	    strcasecmp(t->scheme, "http") != 0 ||
	    curl_url_get(u, CURLUPART_HOST, &t->host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &t->port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &t->path, 0) != CURLUE_OK)
		goto done;
	rc = curl_url_get(u, CURLUPART_QUERY, &t->query, 0);
	if (rc != CURLUE_OK && rc != CURLUE_NO_QUERY)
		goto done;
	/* Zone ids and names libcurl would convert (IDN) are its own. */
	ok = plain_ascii(t->host) && strchr(t->host, '%') == NULL &&
	    plain_ascii(t->path) && (t->query == NULL ||
	    plain_ascii(t->query));
done:
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return ok;
}

static int
add(char **p, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
add(char **p, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*p + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		if (grow_buf((unsigned char **)p, cap, *len + (size_t)n + 1,
		    512) == -1)
			return -1;
	}
}

/*
 * The request line and the header lines every request has, in libcurl's
 * order: Host, User-Agent, Accept, then the custom ones, of which
 * Content-Type comes first. A hook's header of the same name replaces
 * libcurl's; an empty value is sent as "Name:".
 */
static char *
make_head(const struct hook *h, const struct target *t, size_t *lenp)
{
	char		*p = NULL;
	size_t		 len = 0, cap = 0, i;
	int		 rc;

	rc = add(&p, &len, &cap, "POST %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n",
	    t->path, t->query ? "?" : "", t->query ? t->query : "", t->host,
	    strcmp(t->port, "80") == 0 ? "" : ":",
	    strcmp(t->port, "80") == 0 ? "" : t->port);
	if (rc == 0 && !config_hook_sets(h, "User-Agent"))
		rc = add(&p, &len, &cap, "User-Agent: spoold/%s\r\n",
		    SPOOLD_VERSION);
	if (rc == 0 && !config_hook_sets(h, "Accept"))
		rc = add(&p, &len, &cap, "Accept: */*\r\n");
	if (rc == 0 && !config_hook_sets(h, "Content-Type"))
		rc = add(&p, &len, &cap, "Content-Type: %s\r\n",
		    h->format == FORMAT_NDJSON ? "application/x-ndjson" :
		    "application/json");
	for (i = 0; rc == 0 && i < h->nheaders; i++)
		rc = add(&p, &len, &cap, "%s:%s%s\r\n", h->headers[i].name,
		    *h->headers[i].value != '\0' ? " " : "",
		    h->headers[i].value);
	if (rc == -1) {
		free(p);
		return NULL;
	}
	*lenp = len;
	return p;
}

static int
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int
h1_configure(struct h1 *c, const struct hook *h)
{
	struct target	 t;
	char		*head, *host = NULL, *port = NULL;
	size_t		 headlen, hl;
	int		 rc;

	if (proxy_in_env() || config_hook_sets(h, "Host") ||
	    config_hook_sets(h, "Connection") || config_hook_sets(h, "Expect"))
		return 0;
	if ((rc = target_parse(h->url, &t)) != 1) {
		target_free(&t);
		return rc;
	}
	/* getaddrinfo wants an IPv6 address without its brackets. */
	hl = strlen(t.host);
	if (t.host[0] == '[' && hl > 2)
		host = strndup(t.host + 1, hl - 2);
	else
		host = strdup(t.host);
	port = strdup(t.port);
	head = make_head(h, &t, &headlen);
	target_free(&t);
	if (host == NULL || port == NULL || head == NULL) {
		free(host);
		free(port);
		free(head);
		return -1;
	}
	if (!same(host, c->host) || !same(port, c->port))
		h1_close(c);
	free(c->host);
	free(c->port);
	free(c->head);
	c->host = host;
	c->port = port;
	c->head = head;
	c->headlen = headlen;
	c->timeout_ms = h->timeout_ms;
	return 1;
}

static void
failed(struct proto_result *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
failed(struct proto_result *r, int code, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	r->error = (uint32_t)code;
	va_start(ap, fmt);
	n = vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	r->textlen = (uint16_t)((size_t)n < sizeof(r->text) ? (size_t)n :
	    sizeof(r->text) - 1);
}

/*
 * Milliseconds left before deadline, for poll: -1 when there is none
 * (deadline 0), 0 with *expired set when it passed.
 */
static int
left_ms(uint64_t deadline, int *expired)
{
	uint64_t	 now;

	*expired = 0;
	if (deadline == 0)
		return -1;
	if ((now = mono_ms()) >= deadline) {
		*expired = 1;
		return 0;
	}
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* The events fd is ready for, 0 at the deadline, -1 on error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd	 pfd;
	int		 ms, expired, n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		ms = left_ms(deadline, &expired);
		if (expired)
			return 0;
		if ((n = poll(&pfd, 1, ms)) > 0)
			return pfd.revents;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static void
sockopts(int fd)
{
	int	 on = 1, idle = 30, intvl = 15;

	/* As libcurl sets them for the hook; a failure costs nothing. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
}

/* A connected socket, or -1 with errno (ETIMEDOUT at the deadline). */
static int
connect_ai(const struct addrinfo *ai, uint64_t deadline)
{
	socklen_t	 sl;
	int		 fd, e = 0, w;

	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if ((w = wait_fd(fd, POLLOUT, deadline)) <= 0) {
		errno = w == 0 ? ETIMEDOUT : errno;
		goto fail;
	}
	sl = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
		goto fail;
	if (e == 0)
		return fd;
	errno = e;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int
h1_connect(struct h1 *c, uint64_t deadline, struct proto_result *r)
{
	struct addrinfo		 hints, *res, *ai;
	uint64_t		 t0 = mono_ms(), now, share, until;
	size_t			 left = 0;
	int			 rc, fd = -1, e = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(c->host, c->port, &hints, &res)) != 0) {
		failed(r, CURLE_COULDNT_RESOLVE_HOST,
		    "Could not resolve host: %s (%s)", c->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		left++;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next, left--) {
		/* The last address has all the time left; others a share. */
		until = deadline;
		if (left > 1) {
			now = mono_ms();
			share = deadline == 0 ? CONNECT_TRY_MS :
			    deadline > now ? (deadline - now) / left : 0;
			until = now + (share < CONNECT_TRY_MS ? share :
			    CONNECT_TRY_MS);
		}
		if ((fd = connect_ai(ai, until)) == -1) {
			e = errno;
			if (deadline != 0 && mono_ms() >= deadline)
				break;
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		failed(r, e == ETIMEDOUT ? CURLE_OPERATION_TIMEDOUT :
		    CURLE_COULDNT_CONNECT,
		    "Failed to connect to %s port %s after %llu ms: %s",
		    c->host, c->port, (unsigned long long)(mono_ms() - t0),
		    strerror(e));
		return -1;
	}
	sockopts(fd);
	c->fd = fd;
	c->inlen = 0;
	r->new_conn = 1;
	return 0;
}

/*
 * A kept connection the server has closed, or on which it said something
 * unasked, is not to be used: its answer would not be to this request.
 * Servers do that to connections left idle; one used within the last
 * IDLE_LOOK_MS is taken as it is, which saves a system call per request
 * on a busy hook. A close that comes all the same is met by sending the
 * request again on a new connection; bytes a server sends unasked within
 * that second are taken for the answer, as libcurl takes them.
 */
static int
alive(const struct h1 *c)
{
	char	 b;
	ssize_t	 n;

	if (c->inlen > 0)
		return 0;
	if (mono_ms() - c->idle_since < IDLE_LOOK_MS)
		return 1;
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void
timed_out(struct proto_result *r, uint64_t t0, uint64_t got)
{
	failed(r, CURLE_OPERATION_TIMEDOUT, "Operation timed out after %llu "
	    "milliseconds with %llu bytes received",
	    (unsigned long long)(mono_ms() - t0), (unsigned long long)got);
}

/* The parser took used bytes of the buffer: the rest moves to its front. */
static void
consume(struct h1 *c, size_t used)
{
	if (used == 0)
		return;
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
}

/*
 * Reads what the socket holds behind the bytes kept: read(2)'s result,
 * or -1 with ENOMEM when the buffer cannot grow.
 */
static ssize_t
read_more(struct h1 *c)
{
	ssize_t	 n;

	if (c->inlen == c->incap && grow_buf((unsigned char **)&c->in,
	    &c->incap, c->inlen + 1, IN_FIRST) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if ((n = read(c->fd, c->in + c->inlen, c->incap - c->inlen)) > 0) {
		c->got += (uint64_t)n;
		c->inlen += (size_t)n;
	}
	return n;
}

/*
 * Takes bytes of the answer into a and the parser. 0 when they were
 * taken, or none were there; 1 at the end of the connection, on an
 * error, or when the answer is already complete (what follows was not
 * asked for).
 */
static int
take_answer(struct h1 *c, struct answer *a, enum answer_rc *arc)
{
	size_t	 used;
	ssize_t	 n;

	*arc = ANSWER_MORE;
	n = read_more(c);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return 1;
	*arc = answer_feed(a, c->in, c->inlen, &used);
	consume(c, used);
	return *arc == ANSWER_DONE && c->inlen > 0;
}

/*
 * A server may answer before it has read all of a big request. As
 * libcurl does, sending stops when it refuses the request (a final
 * status of 300 or more), hangs up or fails, and goes on otherwise (100
 * Continue, or a 2xx that still wants the body).
 */
static int
answer_while_sending(struct h1 *c, struct answer *a)
{
	enum answer_rc	 arc;

	if (take_answer(c, a, &arc) == 1 || arc == ANSWER_ERROR)
		return 1;
	return a->status >= 300;
}

static int
send_all(struct h1 *c, struct answer *a, struct iovec *iov, int n,
    uint64_t deadline, uint64_t t0, int reused, struct proto_result *r)
{
	struct msghdr	 m;
	ssize_t		 w;
	int		 ev, first = 1;

	while (n > 0) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)n;
		if ((w = sendmsg(c->fd, &m, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((ev = wait_fd(c->fd, POLLIN | POLLOUT,
				    deadline)) == 0) {
					timed_out(r, t0, c->got);
					return X_FAILED;
				}
				if (ev > 0 && (ev & (POLLIN | POLLHUP |
				    POLLERR)) && answer_while_sending(c, a))
					return X_EARLY;
				if (ev > 0)
					continue;
			}
			if (reused && first && (errno == EPIPE ||
			    errno == ECONNRESET))
				return X_STALE;
			/* Its answer, if it sent one, is still to be read. */
			if (!first && (errno == EPIPE || errno == ECONNRESET))
				return X_EARLY;
			failed(r, CURLE_SEND_ERROR, "Send failure: %s",
			    strerror(errno));
			return X_FAILED;
		}
		first = 0;
		iov_skip(&iov, &n, (size_t)w);
	}
	return X_DONE;
}

static void
answered(const struct answer *a, struct proto_result *r)
{
	/* An interim 1xx is no answer: the request's fate is unknown. */
	r->status = a->status >= 200 ? a->status : 0;
	r->retry_after = a->retry_after;
	memcpy(r->text, a->text, a->textlen);
	r->textlen = a->textlen;
}

static int
answer_failed(const struct answer *a, struct proto_result *r)
{
	answered(a, r);
	failed(r, a->code, "%s", a->err);
	return X_FAILED;
}

/*
 * Reads the rest of the answer into a (some of it may have come while
 * the request was sent); whether the connection can be kept is a's.
 */
static int
recv_answer(struct h1 *c, struct answer *a, uint64_t deadline, uint64_t t0,
    int reused, struct proto_result *r)
{
	enum answer_rc	 rc;
	size_t		 used;
	ssize_t		 n;
	int		 w;

	for (;;) {
		rc = answer_feed(a, c->in, c->inlen, &used);
		consume(c, used);
		if (rc == ANSWER_ERROR)
			return answer_failed(a, r);
		if (rc == ANSWER_DONE)
			break;
		/* The answer is never there at once: wait, then read. */
		if ((w = wait_fd(c->fd, POLLIN, deadline)) == 0) {
			answered(a, r);
			timed_out(r, t0, c->got);
			return X_FAILED;
		}
		n = w > 0 ? read_more(c) : -1;
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1 && errno == ENOMEM) {
			failed(r, CURLE_OUT_OF_MEMORY, "out of memory");
			return X_FAILED;
		}
		if (n <= 0 && c->got == 0 && reused &&
		    (n == 0 || errno == ECONNRESET))
			return X_STALE;
		if (n == -1) {
			answered(a, r);
			failed(r, CURLE_RECV_ERROR, "Recv failure: %s",
			    strerror(errno));
			return X_FAILED;
		}
		if (n == 0) {
			if (answer_eof(a, c->inlen) == ANSWER_ERROR)
				return answer_failed(a, r);
			a->close = 1;
			break;
		}
	}
	answered(a, r);
	/* Bytes after the answer were not asked for. */
	if (c->inlen > 0)
		a->close = 1;
	return X_DONE;
}

void
h1_post(struct h1 *c, const char *body, size_t len,
    const char *const *extra, size_t nextra, unsigned flags,
    struct proto_result *r)
{
	struct iovec	 iov[3 + 2 * H1_EXTRA_MAX], v[3 + 2 * H1_EXTRA_MAX];
	struct answer	 a;
	char		 cl[48];
	uint64_t	 t0 = mono_ms(), deadline;
	size_t		 i;
	int		 n = 0, reused, tries, early, x = X_FAILED;

	if (nextra > H1_EXTRA_MAX) {
		failed(r, CURLE_BAD_FUNCTION_ARGUMENT, "too many headers");
		return;
	}
	deadline = c->timeout_ms == 0 ? 0 : c->timeout_ms > UINT64_MAX - t0 ?
	    UINT64_MAX : t0 + c->timeout_ms;
	iov[n++] = (struct iovec){ c->head, c->headlen };
	for (i = 0; i < nextra; i++) {
		iov[n++] = (struct iovec){ (void *)extra[i], strlen(extra[i]) };
		iov[n++] = (struct iovec){ "\r\n", 2 };
	}
	iov[n++] = (struct iovec){ cl, (size_t)snprintf(cl, sizeof(cl),
	    "Content-Length: %zu\r\n\r\n", len) };
	iov[n++] = (struct iovec){ (void *)body, len };
	answer_init(&a, 0);
	if (flags & PROTO_F_FRESH)
		h1_close(c);
	for (tries = 0; tries < 2; tries++) {
		reused = c->fd != -1;
		if (reused && !alive(c)) {
			h1_close(c);
			reused = 0;
		}
		if (c->fd == -1 && h1_connect(c, deadline, r) == -1)
			return;
		memcpy(v, iov, sizeof(iov));
		answer_init(&a, time(NULL));
		c->got = 0;
		x = send_all(c, &a, v, n, deadline, t0, reused, r);
		if (x == X_DONE || x == X_EARLY) {
			early = x == X_EARLY;
			/* Retry-After dates count from the answer. */
			a.now = time(NULL);
			x = recv_answer(c, &a, deadline, t0, reused, r);
			/* The rest of the request was never sent. */
			if (early)
				a.close = 1;
		}
		if (x != X_STALE)
			break;
		h1_close(c);
	}
	/* A new connection is never stale: this only keeps r whole. */
	if (x == X_STALE)
		failed(r, CURLE_GOT_NOTHING, "Empty reply from server");
	if (x != X_DONE || a.close || (flags & PROTO_F_LAST))
		h1_close(c);
	c->idle_since = mono_ms();
}
