/*
 * The worker's own HTTP/1.1 client against libcurl: each scripted server
 * below answers two requests made through http_post, once by the
 * worker's client and once by libcurl (http_curl_only), and both must
 * give the same results (status, Retry-After, answer text, error or not,
 * new connections) and make the same requests (request line, header
 * lines, body) over as many connections. The answer parser alone is
 * test_answer.c's.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "http.h"
#include "scripted.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXREQ		8
#define REQ_MAX		SCRIPTED_REQ_MAX

struct scene {
	const char	*name;
	const char	*answer;	/* written after each request */
	int		 split;		/* a byte per write */
	int		 close_after;	/* hang up after each answer */
	int		 drop;		/* request number read and not answered */
	int		 hang;		/* never answer: the client times out */
	int		 fail;		/* the request is expected to fail */
	int		 early;		/* answer after the head: 1 then wait,
					   2 then hang up, 3 then read the body */
};

struct srv {
	struct scripted		 s;
	const struct scene	*sc;
	size_t			 nreq;
	char			*req[MAXREQ];
	size_t			 reqlen[MAXREQ];
	size_t			 body[MAXREQ];	/* read after an early answer */
};

/* Keeps a request the client made, the first MAXREQ of them. */
static void
keep(struct srv *v, const char *req, size_t len)
{
	if (v->nreq < MAXREQ) {
		v->req[v->nreq] = malloc(len + 1);
		memcpy(v->req[v->nreq], req, len);
		v->req[v->nreq][len] = '\0';
		v->reqlen[v->nreq] = len;
	}
	v->nreq++;
}

/* Answers before the body is read: the client must read it all the same. */
static void
serve_early(struct srv *v, int c, char *buf)
{
	struct scripted	*s = &v->s;
	struct pollfd	 pfd = { c, POLLRDHUP, 0 };
	size_t		 req = v->nreq, len;
	int		 i;

	if ((len = scripted_head(s, c, buf, REQ_MAX)) == 0)
		return;
	keep(v, buf, len);
	scripted_write(c, v->sc->answer, strlen(v->sc->answer), 0);
	if (v->sc->early == 3) {
		/*
		 * The answer keeps the connection: serve the next request
		 * on it too, for a close here would race the client's
		 * next request.
		 */
		if (req < MAXREQ)
			v->body[req] = scripted_body(s, c, v->req[req], buf,
			    REQ_MAX);
		serve_early(v, c, buf);
		return;
	}
	/*
	 * Stay a while, reading nothing: the client's close is queued
	 * behind the body it could not send, so it is not seen here.
	 */
	for (i = 0; v->sc->early == 1 && i < 5 && !s->stop; i++)
		if (poll(&pfd, 1, 100) == 1)
			break;
	if (v->sc->early != 2)
		return;
	/*
	 * Hang up as servers do: nothing more to say, and the body still
	 * on its way is read and dropped until the client closes, for a
	 * close with unread data would send a reset that can take the
	 * answer with it before the client reads it.
	 */
	shutdown(c, SHUT_WR);
	scripted_until_closed(s, c);
}

/* The scene's script for one connection. */
static void
serve_conn(struct scripted *s, int c, int n, char *buf)
{
	struct srv	*v = s->arg;
	size_t		 len;

	(void)n;
	if (v->sc->early) {
		serve_early(v, c, buf);
		return;
	}

	while ((len = scripted_read(s, c, buf, REQ_MAX)) > 0) {
		keep(v, buf, len);
		if (v->nreq == (size_t)v->sc->drop)
			return;
		if (v->sc->hang) {
			scripted_until_closed(s, c);
			return;
		}
		scripted_write(c, v->sc->answer, strlen(v->sc->answer),
		    v->sc->split);
		if (v->sc->close_after)
			return;
	}
}

struct run {
	struct proto_result	 r[2];
	int			 conns;
	size_t			 nreq;
	char			*req[MAXREQ];
	size_t			 reqlen[MAXREQ];
	size_t			 body[MAXREQ];	/* read after an early answer */
};

static struct header	 hdrs[] = {
	{ "X-Test", "1" }, { "X-Empty", "" }, { "Accept", "text/plain" },
};

static void
hook_for(struct hook *h, const char *url, uint64_t timeout_ms)
{
	memset(h, 0, sizeof(*h));
	h->name = "t";
	h->url = (char *)url;
	h->format = FORMAT_JSON;
	h->timeout_ms = timeout_ms;
	h->headers = hdrs;
	h->nheaders = NELEM(hdrs);
}

/* Two requests through one client against a fresh server of scene sc. */
static int
run_scene(const struct scene *sc, int curl, const char *body, size_t len,
    struct run *out)
{
	static const char *const extra[] = { "webhook-id: msg_1",
	    "webhook-timestamp: 1700000000" };
	struct srv	 v;
	struct hook	 h;
	struct http	*ht;
	char		 url[64], err[256];
	int		 i;

	memset(&v, 0, sizeof(v));
	memset(out, 0, sizeof(*out));
	v.sc = sc;
	if ((ht = http_new(err, sizeof(err))) == NULL)
		return -1;
	if (scripted_thread(&v.s, serve_conn, &v) == -1) {
		http_free(ht);
		return -1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook?a=1", v.s.port);
	hook_for(&h, url, sc->hang ? 300 : 5000);
	http_curl_only(ht, curl);
	if (http_configure(ht, &h, err, sizeof(err)) == -1) {
		http_free(ht);
		scripted_stop(&v.s);
		return -1;
	}
	for (i = 0; i < 2; i++)
		http_post(ht, body, len, extra, NELEM(extra), 0, &out->r[i]);
	http_free(ht);
	scripted_stop(&v.s);
	out->conns = v.s.conns;
	out->nreq = v.nreq;
	memcpy(out->req, v.req, sizeof(v.req));
	memcpy(out->reqlen, v.reqlen, sizeof(v.reqlen));
	memcpy(out->body, v.body, sizeof(v.body));
	return 0;
}

static void
run_free(struct run *r)
{
	size_t	 i;

	for (i = 0; i < MAXREQ; i++)
		free(r->req[i]);
}

/*
 * A request as comparable text: its request line, then its header lines
 * in order (the port, which differs between servers, masked), then the
 * body. Returns a malloc'd string.
 */
static char *
canon(const char *req, size_t len)
{
	char		*copy, *line, *save, *lines[64], *out, *p;
	const char	*body;
	size_t		 n = 0, i, size;

	if ((body = memmem(req, len, "\r\n\r\n", 4)) == NULL)
		return strdup("(no head)");
	copy = strndup(req, (size_t)(body - req));
	body += 4;
	size = len * 2 + 64;
	out = calloc(1, size);
	for (line = strtok_r(copy, "\r\n", &save); line != NULL &&
	    n < NELEM(lines); line = strtok_r(NULL, "\r\n", &save))
		lines[n++] = line;
	for (i = 0; i < n; i++) {
		if (strncasecmp(lines[i], "Host: 127.0.0.1:", 16) == 0)
			lines[i][16] = '\0';
		strlcat(out, lines[i], size);
		strlcat(out, "\n", size);
	}
	p = out + strlen(out);
	memcpy(p, body, len - (size_t)(body - req));
	free(copy);
	return out;
}

static void
same_results(const char *what, const struct run *a, const struct run *b,
    int fail)
{
	const struct proto_result	*x, *y;
	char				*ca, *cb;
	size_t				 i;
	int				 same_text;

	is_int(a->conns, b->conns, "%s: connections", what);
	is_int((int64_t)a->nreq, (int64_t)b->nreq, "%s: requests seen", what);
	for (i = 0; i < 2; i++) {
		x = &a->r[i];
		y = &b->r[i];
		is_int(x->status, y->status, "%s #%zu: status", what, i + 1);
		is_int(x->error != 0, y->error != 0, "%s #%zu: error or not",
		    what, i + 1);
		is_int(x->error != 0, fail, "%s #%zu: %s", what, i + 1,
		    fail ? "fails" : "succeeds");
		if (x->error != 0)
			diag("own: %.*s; libcurl: %.*s", (int)x->textlen,
			    x->text, (int)y->textlen, y->text);
		ok(x->retry_after + 2 >= y->retry_after &&
		    y->retry_after + 2 >= x->retry_after,
		    "%s #%zu: Retry-After %u, libcurl %u", what, i + 1,
		    x->retry_after, y->retry_after);
		same_text = x->error != 0 || (x->textlen == y->textlen &&
		    memcmp(x->text, y->text, x->textlen) == 0);
		ok(same_text, "%s #%zu: answer text", what, i + 1);
		is_int(x->new_conn, y->new_conn, "%s #%zu: new connection",
		    what, i + 1);
	}
	for (i = 0; i < a->nreq && i < b->nreq && i < MAXREQ; i++) {
		ca = canon(a->req[i], a->reqlen[i]);
		cb = canon(b->req[i], b->reqlen[i]);
		if (!ok(strcmp(ca, cb) == 0, "%s: request %zu as libcurl's",
		    what, i + 1))
			diag("own:\n%.600s\nlibcurl:\n%.600s", ca, cb);
		free(ca);
		free(cb);
	}
}

static char	 retry_date[160];
static char	 long_body[1200];

static const struct scene scenes[] = {
	{ "200 with a length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
	    "ok", 0, 0, 0, 0, 0, 0 },
	{ "204", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, 0, 0, 0, 0 },
	{ "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
	    0, 0, 0, 0, 0, 0 },
	{ "chunked, a byte a write", "HTTP/1.1 200 OK\r\nTransfer-Encoding:"
	    " chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", 1, 0, 0, 0, 0, 0 },
	{ "503 Retry-After seconds", "HTTP/1.1 503 Busy\r\nRetry-After: 120"
	    "\r\nContent-Length: 4\r\n\r\nbusy", 0, 0, 0, 0, 0, 0 },
	{ "429 Retry-After date", retry_date, 0, 0, 0, 0, 0, 0 },
	{ "100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "
	    "OK\r\nContent-Length: 3\r\n\r\nyes", 0, 0, 0, 0, 0, 0 },
	{ "HTTP/1.0 to the end", "HTTP/1.0 200 OK\r\n\r\nall of it",
	    0, 1, 0, 0, 0, 0 },
	{ "Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n", 0, 1, 0, 0, 0, 0 },
	{ "bare LF", "HTTP/1.1 201 Created\nContent-Length: 3\n\nabc",
	    0, 0, 0, 0, 0, 0 },
	{ "names in any case", "HTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\n"
	    "CONNECTION: Keep-Alive\r\nretry-after: 5\r\n\r\nok",
	    0, 0, 0, 0, 0, 0 },
	{ "a long answer", long_body, 0, 0, 0, 0, 0, 0 },
	{ "500 with a body", "HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n"
	    "\r\nerror", 0, 0, 0, 0, 0, 0 },
	{ "closed after each answer", "HTTP/1.1 200 OK\r\nContent-Length: 2"
	    "\r\n\r\nok", 0, 1, 0, 0, 0, 0 },
	{ "dropped on the kept connection", "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 2\r\n\r\nok", 0, 0, 2, 0, 0, 0 },
	{ "chunked and a length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	    0, 1, 0, 0, 0, 0 },
	{ "not HTTP", "HELLO THERE\r\n\r\n", 0, 1, 0, 0, 1, 0 },
	{ "head cut after the status line", "HTTP/1.1 200 OK\r\n",
	    0, 1, 0, 0, 0, 0 },
	{ "head cut after Retry-After", "HTTP/1.1 503 Busy\r\nRetry-After:"
	    " 60\r\n", 0, 1, 0, 0, 0, 0 },
	{ "no answer", "", 0, 1, 1, 0, 1, 0 },
	{ "no answer ever", "", 0, 0, 0, 1, 1, 0 },
};

static void
fill_answers(void)
{
	char		 date[64];
	time_t		 t = time(NULL) + 3600;
	struct tm	 tm;
	int		 n;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(retry_date, sizeof(retry_date), "HTTP/1.1 429 Slow down\r\n"
	    "Retry-After: %s\r\nContent-Length: 0\r\n\r\n", date);
	n = snprintf(long_body, sizeof(long_body), "HTTP/1.1 400 Bad\r\n"
	    "Content-Length: 1000\r\n\r\n");
	memset(long_body + n, 'x', 1000);
	long_body[n + 1000] = '\0';
}

static void
test_scenes(void)
{
	static const char	 body[] = "{\"type\":\"Delivery\",\"id\":\"\xc3\xa9\"}";
	struct run		 own, lib;
	size_t			 i;

	fill_answers();
	for (i = 0; i < NELEM(scenes); i++) {
		if (run_scene(&scenes[i], 0, body, strlen(body), &own) == -1 ||
		    run_scene(&scenes[i], 1, body, strlen(body), &lib) == -1) {
			ok(0, "%s: server and clients", scenes[i].name);
			continue;
		}
		same_results(scenes[i].name, &own, &lib, scenes[i].fail);
		run_free(&own);
		run_free(&lib);
	}
}

/* A body bigger than the socket takes at once, and both see all of it. */
static void
test_big_body(void)
{
	struct run	 own, lib;
	char		*body;
	size_t		 len = 1 << 20, i;

	if ((body = malloc(len)) == NULL)
		return;
	for (i = 0; i < len; i++)
		body[i] = (char)('a' + i % 26);
	if (run_scene(&scenes[0], 0, body, len, &own) == 0 &&
	    run_scene(&scenes[0], 1, body, len, &lib) == 0) {
		same_results("1 MiB body", &own, &lib, 0);
		ok(own.nreq > 0 && own.reqlen[0] > len &&
		    memcmp(own.req[0] + own.reqlen[0] - len, body, len) == 0,
		    "1 MiB body: received whole");
		run_free(&own);
		run_free(&lib);
	} else
		ok(0, "1 MiB body: server and clients");
	free(body);
}

/* A server that refuses a big request before reading it all. */
static void
test_early(void)
{
	static const struct scene early[] = {
		{ "413 before the body, then waiting", "HTTP/1.1 413 Too Big"
		    "\r\nContent-Length: 3\r\n\r\nbig", 0, 0, 0, 0, 0, 1 },
		{ "413 before the body, then hanging up", "HTTP/1.1 413 Too "
		    "Big\r\nConnection: close\r\nContent-Length: 3\r\n\r\n"
		    "big", 0, 0, 0, 0, 0, 2 },
		{ "200 before the body, then reading it", "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 2\r\n\r\nok", 0, 0, 0, 0, 0, 3 },
	};
	int		 want;
	struct run	 own, lib;
	char		*body;
	size_t		 len = 32 << 20, i;

	if ((body = malloc(len)) == NULL)
		return;
	memset(body, 'x', len);
	for (i = 0; i < NELEM(early); i++) {
		if (run_scene(&early[i], 0, body, len, &own) == -1 ||
		    run_scene(&early[i], 1, body, len, &lib) == -1) {
			ok(0, "%s: server and clients", early[i].name);
			continue;
		}
		want = early[i].early == 3 ? 200 : 413;
		is_int(own.r[0].status, want, "%s: own client reads the %d",
		    early[i].name, want);
		is_int(lib.r[0].status, want, "%s: libcurl reads the %d",
		    early[i].name, want);
		if (early[i].early == 3) {
			/* A 2xx still wants the body: both send all of it. */
			is_int((int64_t)own.body[0], (int64_t)len,
			    "%s: own client sends the whole body",
			    early[i].name);
			is_int((int64_t)lib.body[0], (int64_t)len,
			    "%s: libcurl sends the whole body", early[i].name);
		}
		is_int(own.r[1].status, lib.r[1].status, "%s: again, the same",
		    early[i].name);
		is_int(own.conns, lib.conns, "%s: connections", early[i].name);
		run_free(&own);
		run_free(&lib);
	}
	free(body);
}

static void
test_refused(void)
{
	struct hook		 h;
	struct http		*ht;
	struct proto_result	 r[2];
	char			 url[64], err[256];
	int			 ls, port, c;

	/* A port that was just free and now has nobody listening. */
	if ((ls = scripted_listen(0, SOCK_CLOEXEC, 8, &port)) == -1)
		return;
	close(ls);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	hook_for(&h, url, 2000);
	for (c = 0; c < 2; c++) {
		ht = http_new(err, sizeof(err));
		http_curl_only(ht, c);
		http_configure(ht, &h, err, sizeof(err));
		http_post(ht, "{}", 2, NULL, 0, 0, &r[c]);
		http_free(ht);
	}
	ok(r[0].error != 0 && r[1].error != 0 && r[0].status == 0 &&
	    r[1].status == 0 && r[0].new_conn == r[1].new_conn,
	    "connection refused: an error, as libcurl's");
	diag("own: %.*s", (int)r[0].textlen, r[0].text);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		skip_all("curl_global_init failed");
	test_scenes();
	test_big_body();
	test_early();
	test_refused();
	curl_global_cleanup();
	return done_testing();
}
