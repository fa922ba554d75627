/*
 * The delivery worker: frames over a socketpair, BATCH payloads as a
 * worker reads them, and a worker process talking to a scripted HTTP
 * server run by the test. The frames' encodings alone are
 * t/c/test_proto.c's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "body.h"
#include "config.h"
#include "http.h"
#include "proto.h"
#include "scripted.h"
#include "sigoracle.h"
#include "sign.h"
#include "tap.h"
#include "util.h"
#include "worker.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))


static void
wr(int fd, const void *p, size_t len)
{
	if (write(fd, p, len) != (ssize_t)len)
		diag("write: %s", strerror(errno));
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A child writes one big frame while timer signals interrupt it. */
static void
big_writer(int fd, size_t len)
{
	struct sigaction	 sa;
	struct itimerval	 it;
	unsigned char		*p;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: short writes */
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = 200;
	it.it_value.tv_usec = 200;
	setitimer(ITIMER_REAL, &it, NULL);
	if ((p = malloc(len)) == NULL)
		_exit(2);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i % 251);
	if (proto_write(fd, PROTO_BATCH, p, len) == -1)
		_exit(3);
	free(p);
	_exit(0);
}

/* A child sends a frame a byte or a few at a time. */
static void
slow_writer(int fd)
{
	unsigned char	 f[] = { 0, 0, 0, 6, PROTO_HELLO, 'h', 'e', 'l',
	    'l', 'o' };
	size_t		 i;

	for (i = 0; i < sizeof(f); i += 3) {
		wr(fd, f + i, sizeof(f) - i < 3 ? sizeof(f) - i : 3);
		usleep(2000);
	}
	_exit(0);
}

static int
reap(pid_t pid)
{
	int	 st;

	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_frames_big(void)
{
	int		 sp[2], type, good = 1;
	size_t		 len, i, want = 8u << 20;
	unsigned char	*p;
	pid_t		 pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		big_writer(sp[1], want);
	}
	close(sp[1]);
	usleep(20000);	/* let the writer block on a full socket */
	type = proto_read(sp[0], &p, &len);
	ok(type == PROTO_BATCH && len == want, "frames: 8MiB frame read");
	for (i = 0; p != NULL && i < len; i++)
		if (p[i] != (unsigned char)(i % 251))
			good = 0;
	ok(good, "frames: 8MiB frame intact through interrupted writes");
	free(p);
	is_int(reap(pid), 0, "frames: writer done");
	ok(proto_read(sp[0], &p, &len) == 0 && p == NULL,
	    "frames: end of file between frames gives 0");
	close(sp[0]);
}

static void
test_frames(void)
{
	int		 sp[2], type;
	unsigned char	*p;
	unsigned char	 bad[] = { 0x40, 0, 0, 1, PROTO_BATCH };
	unsigned char	 zero[] = { 0, 0, 0, 1, 0 };
	unsigned char	 cut[] = { 0, 0, 0, 9, PROTO_BATCH, 'a' };
	size_t		 len;
	pid_t		 pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	ok(proto_write(sp[1], PROTO_HELLO, "{}", 2) == 0 &&
	    proto_write(sp[1], PROTO_RESULT, NULL, 0) == 0,
	    "frames: two written");
	type = proto_read(sp[0], &p, &len);
	ok(type == PROTO_HELLO && len == 2 && memcmp(p, "{}", 2) == 0,
	    "frames: first read back");
	free(p);
	type = proto_read(sp[0], &p, &len);
	ok(type == PROTO_RESULT && len == 0 && p != NULL,
	    "frames: empty payload read back");
	free(p);

	wr(sp[1], bad, sizeof(bad));
	errno = 0;
	ok(proto_read(sp[0], &p, &len) == -1 && errno == EMSGSIZE &&
	    p == NULL, "frames: over PROTO_FRAME_MAX refused");
	close(sp[0]);
	close(sp[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	wr(sp[1], zero, sizeof(zero));
	ok(proto_read(sp[0], &p, &len) == -1 && errno == EPROTO,
	    "frames: type 0 refused");
	close(sp[0]);
	close(sp[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	wr(sp[1], cut, sizeof(cut));
	close(sp[1]);
	ok(proto_read(sp[0], &p, &len) == -1 && errno == EPROTO,
	    "frames: end of file inside a frame is an error");
	close(sp[0]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	wr(sp[1], cut, 3);
	close(sp[1]);
	ok(proto_read(sp[0], &p, &len) == -1 && errno == EPROTO,
	    "frames: end of file inside a frame head is an error");
	close(sp[0]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		slow_writer(sp[1]);
	}
	close(sp[1]);
	type = proto_read(sp[0], &p, &len);
	ok(type == PROTO_HELLO && len == 5 && memcmp(p, "hello", 5) == 0,
	    "frames: a frame in pieces is put together");
	free(p);
	ok(proto_read(sp[0], &p, &len) == 0, "frames: then end of file");
	reap(pid);
	close(sp[0]);

	ok(proto_write(-1, PROTO_HELLO, "x", 1) == -1 && errno == EBADF,
	    "frames: write error reported");
	test_frames_big();
}

/* A BATCH payload of NUL-terminated records with ids base, base+1... */
static unsigned char *
mkbatch(uint64_t seq, uint8_t flags, uint64_t base, const char **recs,
    size_t n, size_t *len)
{
	unsigned char	*p;
	size_t		 i, off = 13, total = 13;

	for (i = 0; i < n; i++)
		total += 12 + strlen(recs[i]);
	p = malloc(total);
	put_be64(p, seq);
	p[8] = flags;
	put_be32(p + 9, (uint32_t)n);
	for (i = 0; i < n; i++) {
		put_be64(p + off, base + i);
		put_be32(p + off + 8, (uint32_t)strlen(recs[i]));
		memcpy(p + off + 12, recs[i], strlen(recs[i]));
		off += 12 + strlen(recs[i]);
	}
	*len = total;
	return p;
}

static void
test_batch(void)
{
	const char		*recs[] = { "{\"a\":1}", "{\"b\":2}" };
	struct proto_batch	 b;
	unsigned char		*p;
	size_t			 len;
	char			 err[128];

	p = mkbatch(9, PROTO_F_LAST, 0xa1, recs, 2, &len);
	ok(proto_batch_parse(p, len, &b, err, sizeof(err)) == 0 &&
	    b.seq == 9 && b.flags == PROTO_F_LAST && b.n == 2 &&
	    b.recs[1].id == 0xa2 && b.recs[1].len == 7 &&
	    memcmp(b.recs[1].ptr, "{\"b\":2}", 7) == 0, "batch: parsed");
	ok(b.recs[0].ptr == (const char *)p + 25, "batch: records not copied");
	proto_batch_free(&b);
	ok(proto_batch_parse(p, len - 1, &b, err, sizeof(err)) == -1,
	    "batch: truncated record refused: %s", err);
	ok(proto_batch_parse(p, 12, &b, err, sizeof(err)) == -1,
	    "batch: short head refused");
	put_be32(p + 9, 3);
	ok(proto_batch_parse(p, len, &b, err, sizeof(err)) == -1,
	    "batch: count beyond the records refused");
	put_be32(p + 9, 1);
	ok(proto_batch_parse(p, len, &b, err, sizeof(err)) == -1,
	    "batch: trailing bytes refused");
	put_be32(p + 9, 0x7fffffff);
	ok(proto_batch_parse(p, len, &b, err, sizeof(err)) == -1,
	    "batch: huge count refused before allocating");
	put_be32(p + 9, 0);
	ok(proto_batch_parse(p, 13, &b, err, sizeof(err)) == -1,
	    "batch: empty batch refused");
	free(p);
}

/*
 * A small HTTP/1.1 server for the worker: it answers each request from
 * its body ("fail": 503 with Retry-After and a long answer, "slow": after
 * the worker's timeout, "interim": 100 Continue and hang up, else 200
 * "ok") and sends every request, with the number of its connection as
 * the type, to the log socket (its script's argument) as a frame.
 */
static void
answer(int c, const char *req)
{
	char	 big[700], out[1024];
	int	 n;

	if (strstr(req, "slow") != NULL)
		usleep(700000);
	if (strstr(req, "interim") != NULL) {
		wr(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		usleep(100000);
		_exit(0);
	}
	if (strstr(req, "fail") != NULL) {
		memset(big, 'x', sizeof(big));
		n = snprintf(out, sizeof(out), "HTTP/1.1 503 Busy\r\n"
		    "Retry-After: 7\r\nContent-Length: %zu\r\n\r\n%.*s",
		    sizeof(big), (int)sizeof(big), big);
	} else
		n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 2\r\n\r\nok");
	wr(c, out, (size_t)n);
}

static void
serve_conn(struct scripted *s, int c, int conn, char *req)
{
	int	 logfd = (int)(intptr_t)s->arg;
	size_t	 len;

	while ((len = scripted_read(s, c, req, SCRIPTED_REQ_MAX)) > 0) {
		proto_write(logfd, conn, req, len);
		answer(c, req);
	}
}

struct env {
	struct scripted	 srv;
	pid_t		 wrk;
	int		 port;
	int		 log;	/* requests the server saw */
	int		 ctl;	/* spoold's end of the worker's socket */
};

/* A process per connection: an old one may linger beside a new one. */
static int
start_server(struct env *e)
{
	int	 lp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, lp) == -1)
		return -1;
	if (scripted_fork(&e->srv, serve_conn, (void *)(intptr_t)lp[1]) ==
	    -1) {
		close(lp[0]);
		close(lp[1]);
		return -1;
	}
	e->port = e->srv.port;
	close(lp[1]);
	e->log = lp[0];
	return 0;
}

static pid_t
start_worker(int *ctl)
{
	int	 sp[2];
	pid_t	 pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		if (sp[1] != PROTO_FD) {
			dup2(sp[1], PROTO_FD);
			close(sp[1]);
		}
		/* exit, not _exit: the leak checker runs in the worker too. */
		exit(worker_main("t"));
	}
	close(sp[1]);
	*ctl = sp[0];
	return pid;
}

static void
hello_send(int ctl, const char *url, uint64_t maxdel, uint64_t timeout)
{
	static unsigned char	 key[] = "k3y";
	static struct header	 h1[] = { { "X-Test", "1" } };
	struct hook		 h;
	json_t			*j;
	char			*s;

	memset(&h, 0, sizeof(h));
	h.name = "t";
	h.url = (char *)url;
	h.format = FORMAT_JSON;
	h.batch_size = 10;
	h.timeout_ms = timeout;
	h.headers = h1;
	h.nheaders = 1;
	h.signing_key = key;
	h.signing_key_len = 3;
	h.signing_secret = "whsec_azN5";
	h.tls_verify = 1;
	h.shaping.max_deliveries_per_connection = maxdel;
	j = proto_hook_json(&h);
	s = json_dumps(j, JSON_COMPACT);
	proto_write(ctl, PROTO_HELLO, s, strlen(s));
	free(s);
	json_decref(j);
}

static int
exchange_fd(int ctl, uint64_t seq, uint8_t flags, const char **recs,
    size_t n, struct proto_result *r)
{
	unsigned char	*p;
	size_t		 len;
	int		 type;

	p = mkbatch(seq, flags, 0x100 + seq, recs, n, &len);
	proto_write(ctl, PROTO_BATCH, p, len);
	free(p);
	memset(r, 0, sizeof(*r));
	type = proto_read(ctl, &p, &len);
	if (type != PROTO_RESULT || proto_result_decode(p, len, r) == -1) {
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static int
exchange(struct env *e, uint64_t seq, uint8_t flags, const char **recs,
    size_t n, struct proto_result *r)
{
	return exchange_fd(e->ctl, seq, flags, recs, n, r);
}

/* The value of a request header, or "". */
static void
header_of(const char *req, const char *name, char *out, size_t size)
{
	if (!scripted_header(req, strlen(req), name, out, size))
		*out = '\0';
}

/* Checks the request the server logged; returns its connection. */
static int
check_request(struct env *e, uint64_t seq, uint32_t n, const char *body,
    const char *what)
{
	unsigned char	*raw, *p;
	char		 id[64], ts[32], sig[80], want[80], v[64];
	const char	*b;
	size_t		 len;
	int		 conn;

	if ((conn = proto_read(e->log, &raw, &len)) <= 0) {
		ok(0, "%s: request seen", what);
		return -1;
	}
	/* As text: the request has no NUL of its own. */
	p = (unsigned char *)strndup((char *)raw, len);
	free(raw);
	b = strstr((char *)p, "\r\n\r\n") + 4;
	ok(strncmp((char *)p, "POST /hook HTTP/1.1\r\n", 21) == 0 &&
	    strcmp(b, body) == 0, "%s: request and body", what);
	header_of((char *)p, "content-type", v, sizeof(v));
	is_str(v, "application/json", "%s: content-type", what);
	header_of((char *)p, "user-agent", v, sizeof(v));
	is_str(v, "spoold/" SPOOLD_VERSION, "%s: user-agent", what);
	header_of((char *)p, "x-test", v, sizeof(v));
	is_str(v, "1", "%s: the hook's header", what);
	ok(strcasestr((char *)p, "\r\nexpect:") == NULL, "%s: no Expect",
	    what);
	header_of((char *)p, "webhook-id", id, sizeof(id));
	header_of((char *)p, "webhook-timestamp", ts, sizeof(ts));
	header_of((char *)p, "webhook-signature", sig, sizeof(sig));
	expect_sig((const unsigned char *)"k3y", 3, id, atoll(ts), b, want);
	ok(llabs(atoll(ts) - (long long)time(NULL)) < 5 && strcmp(sig,
	    want) == 0, "%s: signed", what);
	sign_msgid(want, sizeof(want), 0x100 + seq, n);
	is_str(id, want, "%s: webhook-id", what);
	free(p);
	return conn;
}

/* SIGTERM during a request: its result, then exit; the next waits. */
static void
test_worker_term(struct env *e, const char *url)
{
	const char	*slow[] = { "{\"slow\":2}" };
	unsigned char	*p;
	size_t		 len;
	int		 type, n = 0;

	e->wrk = start_worker(&e->ctl);
	hello_send(e->ctl, url, 0, 5000);
	p = mkbatch(1, 0, 0x101, slow, 1, &len);
	proto_write(e->ctl, PROTO_BATCH, p, len);
	put_be64(p, 2);
	proto_write(e->ctl, PROTO_BATCH, p, len);
	free(p);
	/* The server has the request: the worker waits for its answer. */
	check_request(e, 1, 1, "{\"slow\":2}", "term");
	kill(e->wrk, SIGTERM);
	while ((type = proto_read(e->ctl, &p, &len)) == PROTO_RESULT) {
		free(p);
		n++;
	}
	free(p);
	is_int(n, 1, "worker: SIGTERM: the request under way answered");
	is_int(reap(e->wrk), 0, "worker: SIGTERM: exit 0, next batch left");
	close(e->ctl);
}

/* Frames of one-record batches seq first.., written all at once. */
static void
queue_batches(int ctl, uint64_t first, const char **recs, size_t n)
{
	unsigned char	*all = NULL, *p;
	size_t		 len, total = 0, i;

	for (i = 0; i < n; i++) {
		p = mkbatch(first + i, 0, 0x100 + first + i, &recs[i], 1,
		    &len);
		all = realloc(all, total + PROTO_HDR + len);
		put_be32(all + total, (uint32_t)len + 1);
		all[total + 4] = PROTO_BATCH;
		memcpy(all + total + PROTO_HDR, p, len);
		total += PROTO_HDR + len;
		free(p);
	}
	if (write(ctl, all, total) != (ssize_t)total)
		ok(0, "batches written");
	free(all);
}

/* n results, seq first.., in order: 1 if so (and, if ok200, all 200). */
static int
read_results(int ctl, uint64_t first, size_t n, int ok200)
{
	struct proto_result	 r;
	unsigned char		*p;
	size_t			 len, i;
	int			 type, good = 1;

	for (i = 0; i < n; i++) {
		type = proto_read(ctl, &p, &len);
		if (type != PROTO_RESULT ||
		    proto_result_decode(p, len, &r) == -1 ||
		    r.seq != first + i || (ok200 && r.status != 200))
			good = 0;
		free(p);
	}
	return good;
}

/*
 * Batches queued behind one another, as spoold queues one-record ones:
 * each sent once, in order, and each answered, in order, though the
 * worker may hold results back to write them together.
 */
static void
test_worker_queue(struct env *e, const char *url)
{
	const char		*recs[] = { "{\"q\":1}", "{\"q\":2}",
	    "{\"q\":3}", "{\"q\":4}", "{\"q\":5}" };
	const char		*slow[] = { "{\"slow\":2}", "{\"q\":6}",
	    "{\"q\":7}", "{\"q\":8}" };
	const char		*hold[] = { "{\"q\":9}", "{\"slow\":3}",
	    "{\"slow\":4}", "{\"q\":12}" };
	struct proto_result	 r;
	struct pollfd		 pfd;
	unsigned char		*p;
	size_t			 len, i;
	int			 type, n = 0, inorder;

	e->wrk = start_worker(&e->ctl);
	hello_send(e->ctl, url, 0, 5000);
	queue_batches(e->ctl, 1, recs, 5);
	ok(read_results(e->ctl, 1, 5, 1),
	    "worker: 5 queued batches answered 200, in order");
	for (i = 0; i < 5; i++)
		check_request(e, i + 1, 1, recs[i], "queued");

	/*
	 * Results are held through one request at most: those of 9 and of
	 * the slow 10 come while the slow 11 is still under way.
	 */
	queue_batches(e->ctl, 9, hold, 4);
	inorder = read_results(e->ctl, 9, 2, 1);
	pfd.fd = e->ctl;
	pfd.events = POLLIN;
	ok(inorder && poll(&pfd, 1, 0) == 0,
	    "worker: results not held through a second slow request");
	ok(read_results(e->ctl, 11, 2, 1), "worker: then the rest, in order");
	for (i = 0; i < 4; i++)
		check_request(e, 9 + i, 1, hold[i], "held");

	/* SIGTERM in the first of four: its result only, then exit. */
	queue_batches(e->ctl, 6, slow, 4);
	check_request(e, 6, 1, slow[0], "queued, slow");
	kill(e->wrk, SIGTERM);
	inorder = 1;
	while ((type = proto_read(e->ctl, &p, &len)) == PROTO_RESULT) {
		if (proto_result_decode(p, len, &r) == -1 || r.seq != 6)
			inorder = 0;
		free(p);
		n++;
	}
	free(p);
	ok(n == 1 && inorder,
	    "worker: SIGTERM with batches queued: the one under way answered");
	is_int(reap(e->wrk), 0, "worker: SIGTERM with batches queued: exit 0");
	close(e->ctl);
}

static void
test_worker_http(void)
{
	struct env		 e;
	struct proto_result	 r;
	char			 url[64];
	const char		*one[] = { "{\"n\":1}" };
	const char		*two[] = { "{\"n\":2}", "{\"n\":3}" };
	const char		*fail[] = { "{\"fail\":1}" };
	const char		*slow[] = { "{\"slow\":1}" };
	const char		*interim[] = { "{\"interim\":1}" };
	int			 c1, c2, c3, rc;

	if (start_server(&e) == -1) {
		ok(0, "server started");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", e.port);
	e.wrk = start_worker(&e.ctl);
	hello_send(e.ctl, url, 1024, 400);

	ok(exchange(&e, 1, 0, one, 1, &r) == 0 && r.seq == 1 &&
	    r.status == 200 && r.error == 0 && r.new_conn == 1 &&
	    r.textlen == 2 && memcmp(r.text, "ok", 2) == 0,
	    "worker: one record delivered on a new connection");
	c1 = check_request(&e, 1, 1, "{\"n\":1}", "one");

	ok(exchange(&e, 2, 0, two, 2, &r) == 0 && r.seq == 2 &&
	    r.status == 200 && r.new_conn == 0,
	    "worker: a batch on the same connection");
	c2 = check_request(&e, 2, 2, "[{\"n\":2},{\"n\":3}]", "batch");
	is_int(c2, c1, "worker: connection kept alive");

	ok(exchange(&e, 3, 0, fail, 1, &r) == 0 && r.status == 503 &&
	    r.error == 0 && r.retry_after == 7 &&
	    r.textlen == PROTO_ANSWER_MAX && r.text[0] == 'x' &&
	    r.text[PROTO_ANSWER_MAX - 1] == 'x' && r.new_conn == 0,
	    "worker: 503 with Retry-After and the answer's start");
	/* Nothing in the worker ends a connection unless told. */
	check_request(&e, 3, 1, "{\"fail\":1}", "fail");

	ok(exchange(&e, 4, PROTO_F_FRESH, one, 1, &r) == 0 &&
	    r.status == 200 && r.new_conn == 1,
	    "worker: a FRESH batch opens a new connection");
	c3 = check_request(&e, 4, 1, "{\"n\":1}", "fresh");
	ok(c3 > c2, "worker: server saw a new connection");
	ok(exchange(&e, 5, PROTO_F_LAST, one, 1, &r) == 0 &&
	    r.status == 200 && r.new_conn == 0,
	    "worker: the fresh connection is kept");
	is_int(check_request(&e, 5, 1, "{\"n\":1}", "last"), c3,
	    "worker: server saw the same connection");
	ok(exchange(&e, 6, 0, one, 1, &r) == 0 && r.status == 200 &&
	    r.new_conn == 1, "worker: new connection after a LAST batch");
	ok(check_request(&e, 6, 1, "{\"n\":1}", "after last") > c3,
	    "worker: server saw another connection");
	ok(exchange(&e, 7, PROTO_F_FRESH | PROTO_F_LAST, one, 1, &r) == 0 &&
	    r.status == 200 && r.new_conn == 1,
	    "worker: FRESH and LAST together");
	check_request(&e, 7, 1, "{\"n\":1}", "fresh and last");
	ok(exchange(&e, 8, 0, one, 1, &r) == 0 && r.new_conn == 1,
	    "worker: no connection lingers beside a fresh one");
	check_request(&e, 8, 1, "{\"n\":1}", "after fresh and last");

	rc = exchange(&e, 9, 0, slow, 1, &r);
	ok(rc == 0 && r.status == 0 &&
	    r.error == 28 && r.textlen > 0 && r.elapsed_ms >= 350,
	    "worker: timeout is transport error 28 (%.*s, %u ms)",
	    (int)r.textlen, r.text, r.elapsed_ms);
	check_request(&e, 9, 1, "{\"slow\":1}", "slow");

	rc = exchange(&e, 10, 0, interim, 1, &r);
	ok(rc == 0 && r.status == 0 && r.error != 0 && r.textlen > 0,
	    "worker: a 1xx and then nothing is no answer (%u: %.*s)",
	    r.error, (int)r.textlen, r.text);
	check_request(&e, 10, 1, "{\"interim\":1}", "interim");

	/* A new HELLO: settings replaced; nobody listens on port 1. */
	hello_send(e.ctl, "http://127.0.0.1:1/hook", 0, 400);
	rc = exchange(&e, 11, 0, one, 1, &r);
	ok(rc == 0 && r.status == 0 &&
	    r.error == 7 && r.textlen > 0,
	    "worker: refused connection is transport error 7 (%.*s)",
	    (int)r.textlen, r.text);

	close(e.ctl);
	is_int(reap(e.wrk), 0, "worker: exits 0 when spoold closes");
	test_worker_term(&e, url);
	test_worker_queue(&e, url);
	scripted_stop(&e.srv);
	close(e.log);
}

static int
worker_given(const void *frame, size_t len, int type, int term)
{
	const char		*one[] = { "{}" };
	struct proto_result	 r;
	int			 ctl, st;
	pid_t			 pid;

	pid = start_worker(&ctl);
	if (frame != NULL)
		proto_write(ctl, type, frame, len);
	if (term) {
		/* A first answer: the worker is in its loop by then. */
		hello_send(ctl, "http://127.0.0.1:1/", 0, 400);
		if (exchange_fd(ctl, 1, 0, one, 1, &r) == -1)
			diag("no result");
		/* The socket stays open: only the signal can end it. */
		kill(pid, SIGTERM);
		st = reap(pid);
		close(ctl);
		return st;
	}
	close(ctl);
	return reap(pid);
}

static void
test_worker_proto(void)
{
	unsigned char	 b[13] = { 0 };

	is_int(worker_given(NULL, 0, 0, 0), 0, "worker: end of file: exit 0");
	is_int(worker_given(NULL, 0, 0, 1), 0, "worker: SIGTERM: exit 0");
	is_int(worker_given(b, sizeof(b), PROTO_BATCH, 0), 1,
	    "worker: batch before hello: exit 1");
	is_int(worker_given("{\"name\":1}", 10, PROTO_HELLO, 0), 1,
	    "worker: bad hello: exit 1");
	is_int(worker_given("x", 1, 99, 0), 1,
	    "worker: unknown frame: exit 1");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* A hung worker or server must not hang the suite. */
	alarm(120);
	/* The worker must reach the test's server directly. */
	setenv("no_proxy", "*", 1);
	test_frames();
	test_batch();
	test_worker_proto();
	test_worker_http();
	return done_testing();
}
