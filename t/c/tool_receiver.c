/*
 * receiver: the webhook end of the delivery tests and the benchmark.
 *
 *	receiver [-q] [-p port] [-o logfile] [-L idlog] [-s STATUS[:SHARE]]...
 *	    [-m SUBSTRING:STATUS]... [-a RETRY_AFTER] [-d DELAY_MS] [-r SEED]
 *	    [-C cert.pem -K key.pem [-T ca.pem]]
 *	receiver -F [-q] [-p port] [-L idlog]
 *
 * -F is the benchmark's: plain HTTP/1.1 served by one thread with epoll
 * instead of libmicrohttpd, POSTs answered 200 "ok" and counted, /_stats
 * and /_reset as below; none of the tests' answers or logs (-s, -m, -a,
 * -d, -o, TLS), which it refuses.
 *
 * It listens on 127.0.0.1 only (-p 0, the default, takes a free port) and
 * prints "port N" on standard output once it listens, which is how a test
 * learns the port.  Every POST, whatever its path, is answered 200 "ok"
 * unless:
 *
 *   -m SUBSTRING:STATUS  a body containing SUBSTRING gets STATUS (the last
 *			  colon splits, so SUBSTRING may hold colons); the
 *			  first matching -m wins; checked before -s.  This
 *			  is the "poison record" of the batch splitting tests.
 *   -s STATUS[:SHARE]	  STATUS for that share (0 to 1, default 1) of the
 *			  other requests, drawn from a PRNG seeded by -r SEED
 *			  (default 1), so that a run with one client repeats
 *			  exactly.  Shares add up, the rest get 200.
 *
 *   -a RETRY_AFTER	  sent verbatim as "Retry-After" with every non-2xx
 *			  answer (seconds or an HTTP date).
 *   -d DELAY_MS	  hold each POST's answer that long; every connection
 *			  has its own thread, so others are not held.
 *   -o LOGFILE		  append one JSON line per POST, written whole by a
 *			  single write(2) as soon as the body is in, before
 *			  the answer leaves, so a client that has its answer
 *			  finds the line in the file:
 *			  {"conn":C,"req":R,"ms":T,"status":S,
 *			   "headers":{lowercased name:value,...},"body":"..."}
 *			  with "body_hex" in place of "body" when the body is
 *			  not UTF-8.  Header values that are not UTF-8 are
 *			  read as Latin-1; repeated headers are joined by
 *			  ", ".
 *   -L IDLOG		  append one line per record of every POST answered
 *			  2xx: "ID MS", the value of the first "id":"..."
 *			  in the record's text ("-" if there is none; in
 *			  KumoMTA's compact records that is the top-level
 *			  id, which comes second) and the wall-clock
 *			  milliseconds, to the microsecond, at which the
 *			  body was complete.  The lines of one POST are
 *			  written by a single write(2).  Cheap enough for
 *			  the benchmark's latency runs; without -L the
 *			  ids are not looked for.
 *   -C, -K		  serve HTTPS with this certificate and key.
 *   -T ca.pem		  also ask for a client certificate and answer 403 to
 *			  every request whose certificate is missing or not
 *			  signed by this CA.
 *   -q			  no MHD diagnostics; the port line is still printed.
 *
 * Non-2xx answers carry the body "error STATUS".  GET /_stats answers
 *
 *   {"connections":N,"open":N,"max_open":N,"requests":N,
 *    "max_requests_per_connection":N,"records":N,"last_record_ms":T,
 *    "bad_bodies":N,"connection_times_ms":[...],
 *    "connection_durations_ms":[...],"statuses":{"200":N,...}}
 *
 * and GET /_reset zeroes these (not the log, nor the PRNG).  Only a
 * connection that has sent a POST counts, at its first POST: the tests'
 * own GET /_stats connections must not show in "connections", "open",
 * "max_open" or the times.  "requests" and "statuses" count POSTs only.
 * connection_times_ms holds the wall-clock milliseconds at which each
 * counted connection was accepted, in the order they were counted;
 * connection_durations_ms how long each was open (so far, if still
 * open).  A connection open across a /_reset counts again at its next
 * POST.
 *
 * "records" counts the records of the POSTs answered 2xx: the elements
 * of a JSON array, 1 for a JSON object, the lines of an
 * application/x-ndjson body (blank lines aside); the body is checked as
 * spoold's ingest checks it, and one that is not valid counts no record
 * but one in "bad_bodies".  "last_record_ms" is the wall-clock
 * milliseconds at which the body of the latest POST that brought records
 * was complete (0 before any), so that a benchmark polling "records"
 * learns exactly when the last one arrived.
 *
 * In the log, C numbers connections in the order they sent their first
 * POST, from 1, and R numbers the POSTs on one connection, from 1; T is
 * the wall-clock milliseconds at which the body was complete.  /_reset
 * does not renumber: without a reset, C is the position of the
 * connection in connection_times_ms.
 *
 * SIGTERM or SIGINT stops it; it exits 0.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "jscan.h"
#include "scripted.h"

#define MAX_STATUS	600
#define PREALLOC_MAX	(64UL << 20)

struct rule {
	double		 share;
	int		 status;
};

struct match {
	const char	*needle;
	size_t		 len;
	int		 status;
};

/* One per accepted connection, its MHD socket context. */
struct conn {
	uint64_t	 accepted_ms;
	uint64_t	 id;		/* log number, 0 until its first POST */
	uint64_t	 nreq;		/* POSTs answered, for the log */
	uint64_t	 gen;		/* statistics generation counted in */
	uint64_t	 sreq;		/* POSTs in that generation */
	size_t		 slot;		/* its place in the time arrays */
	int		 cert;		/* 0 unchecked, 1 good, -1 refused */
};

/* One per request, its MHD request context. */
struct req {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 post;
};

struct buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

typedef int (*verify_fn)(gnutls_session_t, unsigned int *);

static struct {
	struct rule	*rules;
	size_t		 nrules;
	struct match	*matches;
	size_t		 nmatches;
	const char	*retry_after;
	unsigned int	 delay_ms;
	int		 logfd;
	int		 idfd;		/* -L */
	int		 quiet;
	verify_fn	 verify;	/* set with -T */
} opt = { .logfd = -1, .idfd = -1 };

static struct {
	pthread_mutex_t	 mtx;
	uint64_t	 gen;
	uint64_t	 connections;
	uint64_t	 open;
	uint64_t	 max_open;
	uint64_t	 requests;
	uint64_t	 max_rpc;
	uint64_t	 records;
	uint64_t	 last_record_ms;
	uint64_t	 bad_bodies;
	uint64_t	*accepted;	/* per counted connection */
	uint64_t	*closed;	/* 0 while open */
	size_t		 ntimes;
	size_t		 captimes;
	uint64_t	 statuses[MAX_STATUS];
	uint64_t	 next_id;
	uint64_t	 rng;
} st = { .mtx = PTHREAD_MUTEX_INITIALIZER, .gen = 1 };

static pthread_mutex_t		 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t	 quit;

static void
usage(void)
{
	fprintf(stderr, "usage: receiver [-q] [-p port] [-o logfile] "
	    "[-L idlog]\n\t"
	    "[-s status[:share]] [-m substring:status]\n"
	    "\t[-a retry_after] [-d delay_ms] [-r seed] "
	    "[-C cert.pem -K key.pem [-T ca.pem]]\n"
	    "       receiver -F [-q] [-p port] [-L idlog]\n");
	exit(2);
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The same clock to the microsecond, for -L. */
static double
now_ms_frac(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* splitmix64: tiny, and the same sequence on every platform. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
parse_status(const char *s)
{
	const char	*errstr;
	int		 n;

	n = (int)strtonum(s, 200, MAX_STATUS - 1, &errstr);
	if (errstr != NULL)
		errx(2, "status %s is %s (200 to %d)", s, errstr,
		    MAX_STATUS - 1);
	return n;
}

static void
add_rule(char *arg)
{
	struct rule	*r;
	char		*colon, *end;
	double		 share = 1, total = 0;
	size_t		 i;

	if ((colon = strchr(arg, ':')) != NULL) {
		*colon = '\0';
		errno = 0;
		share = strtod(colon + 1, &end);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    !(share >= 0 && share <= 1))
			errx(2, "-s %s: share must be 0 to 1", colon + 1);
	}
	for (i = 0; i < opt.nrules; i++)
		total += opt.rules[i].share;
	if (total + share > 1 + 1e-9)
		errx(2, "-s: shares add up to more than 1");
	r = reallocarray(opt.rules, opt.nrules + 1, sizeof(*r));
	if (r == NULL)
		err(1, NULL);
	opt.rules = r;
	r[opt.nrules].status = parse_status(arg);
	r[opt.nrules++].share = share;
}

static void
add_match(char *arg)
{
	struct match	*m;
	char		*colon;

	/* The last colon: the substring may well contain some. */
	if ((colon = strrchr(arg, ':')) == NULL || colon == arg)
		errx(2, "-m wants SUBSTRING:STATUS");
	*colon = '\0';
	m = reallocarray(opt.matches, opt.nmatches + 1, sizeof(*m));
	if (m == NULL)
		err(1, NULL);
	opt.matches = m;
	m[opt.nmatches].needle = arg;
	m[opt.nmatches].len = strlen(arg);
	m[opt.nmatches++].status = parse_status(colon + 1);
}

static char *
load_file(const char *path)
{
	FILE	*f;
	char	*p;
	size_t	 len, cap = 8192;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if ((p = malloc(cap)) == NULL)
		err(1, NULL);
	len = 0;
	while (!feof(f)) {
		if (len + 1 >= cap && (p = realloc(p, cap *= 2)) == NULL)
			err(1, NULL);
		len += fread(p + len, 1, cap - len - 1, f);
		if (ferror(f))
			err(1, "%s", path);
	}
	p[len] = '\0';
	fclose(f);
	return p;
}

/*
 * MHD asks GnuTLS for a client certificate once it has a trust list but
 * never verifies it, and offers no call that does.  libmicrohttpd links
 * GnuTLS, so the verifier is already in the process: taking it from
 * there keeps -lgnutls out of the link line of every tool.
 */
static void
find_verifier(void)
{
	void	*sym;

	if ((sym = dlsym(RTLD_DEFAULT, "gnutls_certificate_verify_peers2")) ==
	    NULL)
		errx(1, "-T: GnuTLS is not loaded, cannot verify clients");
	memcpy(&opt.verify, &sym, sizeof(opt.verify));
}

static int
cert_ok(struct MHD_Connection *mc, struct conn *c)
{
	const union MHD_ConnectionInfo	*ci;
	unsigned int			 status;

	if (opt.verify == NULL)
		return 1;
	if (c->cert == 0) {
		c->cert = -1;
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (ci != NULL && ci->tls_session != NULL &&
		    opt.verify(ci->tls_session, &status) == 0 && status == 0)
			c->cert = 1;
	}
	return c->cert == 1;
}

static int
grow(char **p, size_t *cap, size_t need)
{
	char	*np;
	size_t	 ncap;

	if (need <= *cap)
		return 0;
	for (ncap = *cap ? *cap : 4096; ncap < need; ncap *= 2)
		if (ncap > SIZE_MAX / 2)
			return -1;
	if ((np = realloc(*p, ncap)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
buf_add(const char *s, size_t n, void *arg)
{
	struct buf	*b = arg;

	if (grow(&b->p, &b->cap, b->len + n) == -1)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Counts a connection at its first POST (again after a /_reset). */
static void
count_conn(struct conn *c)
{
	size_t		 ncap;
	uint64_t	*a, *z;

	if (c->gen == st.gen)
		return;
	if (st.ntimes == st.captimes) {
		ncap = st.captimes ? st.captimes * 2 : 1024;
		if ((a = reallocarray(st.accepted, ncap, sizeof(*a))) == NULL)
			err(1, NULL);
		st.accepted = a;
		if ((z = reallocarray(st.closed, ncap, sizeof(*z))) == NULL)
			err(1, NULL);
		st.closed = z;
		st.captimes = ncap;
	}
	c->gen = st.gen;
	c->sreq = 0;
	c->slot = st.ntimes++;
	st.accepted[c->slot] = c->accepted_ms;
	st.closed[c->slot] = 0;
	st.connections++;
	if (++st.open > st.max_open)
		st.max_open = st.open;
	if (c->id == 0)
		c->id = ++st.next_id;
}

static void
post_started(struct conn *c)
{
	pthread_mutex_lock(&st.mtx);
	count_conn(c);
	pthread_mutex_unlock(&st.mtx);
}

/*
 * Decides the answer and counts it, with the body's records (valid: the
 * body could be counted) when the answer is 2xx; returns the log numbers
 * too.
 */
static int
post_done(struct conn *c, const struct req *r, int refused, int valid,
    size_t records, uint64_t ms, uint64_t *id, uint64_t *nreq)
{
	double		 u, cum = 0;
	size_t		 i;
	int		 status = 200;

	if (refused)
		status = 403;
	for (i = 0; !refused && i < opt.nmatches; i++) {
		if (r->len >= opt.matches[i].len && memmem(r->buf, r->len,
		    opt.matches[i].needle, opt.matches[i].len) != NULL) {
			status = opt.matches[i].status;
			break;
		}
	}
	pthread_mutex_lock(&st.mtx);
	/* Only requests -s decides draw, so -m does not shift the rest. */
	if (!refused && i == opt.nmatches && opt.nrules > 0) {
		u = (double)(rng_next(&st.rng) >> 11) * 0x1p-53;
		for (i = 0; i < opt.nrules; i++) {
			if (u < (cum += opt.rules[i].share)) {
				status = opt.rules[i].status;
				break;
			}
		}
	}
	count_conn(c);
	st.requests++;
	st.statuses[status]++;
	if (!valid)
		st.bad_bodies++;
	else if (status >= 200 && status <= 299 && records > 0) {
		st.records += records;
		/* Threads finish out of order: keep the latest. */
		if (ms > st.last_record_ms)
			st.last_record_ms = ms;
	}
	if (++c->sreq > st.max_rpc)
		st.max_rpc = c->sreq;
	*id = c->id;
	*nreq = ++c->nreq;
	pthread_mutex_unlock(&st.mtx);
	return status;
}

static void
conn_closed(struct conn *c)
{
	pthread_mutex_lock(&st.mtx);
	if (c->gen == st.gen) {
		st.open--;
		st.closed[c->slot] = now_ms();
	}
	pthread_mutex_unlock(&st.mtx);
}

static void
notify_conn(void *cls, struct MHD_Connection *mc, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct conn	*c;

	(void)cls;
	(void)mc;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		/* On failure the handler finds no context and hangs up. */
		if ((c = calloc(1, sizeof(*c))) != NULL)
			c->accepted_ms = now_ms();
		*ctx = c;
	} else if ((c = *ctx) != NULL) {
		conn_closed(c);
		free(c);
		*ctx = NULL;
	}
}

static void
notify_done(void *cls, struct MHD_Connection *mc, void **ctx,
    enum MHD_RequestTerminationCode code)
{
	struct req	*r = *ctx;

	(void)cls;
	(void)mc;
	(void)code;
	if (r != NULL) {
		free(r->buf);
		free(r);
		*ctx = NULL;
	}
}

/* HTTP allowed obs-text in header values: read it as Latin-1. */
static json_t *
latin1(const char *s)
{
	json_t		*j;
	char		*u, *p;
	unsigned char	 ch;

	if ((u = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (p = u; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch < 0x80)
			*p++ = (char)ch;
		else {
			*p++ = (char)(0xc0 | ch >> 6);
			*p++ = (char)(0x80 | (ch & 0x3f));
		}
	}
	*p = '\0';
	j = json_string(u);
	free(u);
	return j;
}

static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	json_t		*h = cls, *v, *old;
	char		*name, *joined;
	size_t		 i;

	(void)kind;
	if ((name = strdup(key)) == NULL)
		return MHD_NO;
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] += 'a' - 'A';
	if (value == NULL)
		value = "";
	if ((old = json_object_get(h, name)) != NULL) {
		if (asprintf(&joined, "%s, %s", json_string_value(old),
		    value) == -1) {
			free(name);
			return MHD_NO;
		}
		if ((v = json_string(joined)) == NULL)
			v = latin1(joined);
		free(joined);
	} else if ((v = json_string(value)) == NULL)
		v = latin1(value);
	json_object_set_new(h, name, v);
	free(name);
	return MHD_YES;
}

static json_t *
hex(const char *p, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	json_t			*j;
	char			*h;
	size_t			 i;

	if ((h = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		h[2 * i] = digits[(unsigned char)p[i] >> 4];
		h[2 * i + 1] = digits[(unsigned char)p[i] & 0xf];
	}
	h[2 * len] = '\0';
	j = json_stringn(h, 2 * len);
	free(h);
	return j;
}

static void
write_line(int fd, const struct buf *b)
{
	size_t	 off;
	ssize_t	 n;

	pthread_mutex_lock(&log_mtx);
	/* A regular file takes it whole; the loop is for the odd case. */
	for (off = 0; off < b->len; off += (size_t)n)
		if ((n = write(fd, b->p + off, b->len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			err(1, "log");
		}
	pthread_mutex_unlock(&log_mtx);
}

static void
log_post(struct MHD_Connection *mc, const struct req *r, uint64_t id,
    uint64_t nreq, uint64_t ms, int status)
{
	json_t		*o, *h, *body;
	struct buf	 b = { NULL, 0, 0 };
	const char	*key = "body";

	h = json_object();
	MHD_get_connection_values(mc, MHD_HEADER_KIND, add_header, h);
	if ((body = json_stringn(r->len ? r->buf : "", r->len)) == NULL) {
		key = "body_hex";
		body = hex(r->buf, r->len);
	}
	o = json_pack("{s:I,s:I,s:I,s:i,s:o,s:o}", "conn", (json_int_t)id,
	    "req", (json_int_t)nreq, "ms", (json_int_t)ms, "status", status,
	    "headers", h, key, body);
	if (o == NULL)
		errx(1, "log: out of memory");
	/* Escaping rarely adds much: reserve the body once. */
	if (grow(&b.p, &b.cap, r->len + 4096) == -1 ||
	    json_dump_callback(o, buf_add, &b, JSON_COMPACT) == -1 ||
	    buf_add("\n", 1, &b) == -1)
		errx(1, "log: out of memory");
	json_decref(o);
	write_line(opt.logfd, &b);
	free(b.p);
}

/* What tally_rec gathers from one POST body. */
struct tally {
	size_t		 records;
	struct buf	*ids;		/* the -L lines, NULL without -L */
	char		 when[32];	/* " MS\n", the end of each line */
	size_t		 whenlen;
};

static int
tally_rec(void *arg, size_t index, const struct jscan_rec *rec)
{
	static const char	 key[] = "\"id\":\"";
	struct tally		*t = arg;
	const char		*k, *v, *q, *end = rec->ptr + rec->len;

	t->records = index + 1;
	if (t->ids == NULL)
		return 0;
	/* The first "id" is the top-level one in KumoMTA's records. */
	if ((k = memmem(rec->ptr, rec->len, key, sizeof(key) - 1)) != NULL) {
		v = k + sizeof(key) - 1;
		if ((q = memchr(v, '"', (size_t)(end - v))) == NULL)
			q = v;
		if (buf_add(q > v ? v : "-", q > v ? (size_t)(q - v) : 1,
		    t->ids) == -1)
			return -1;
	} else if (buf_add("-", 1, t->ids) == -1)
		return -1;
	return buf_add(t->when, t->whenlen, t->ids);
}

/* Counts the records of a POST body as ingest reads it; -1: not valid. */
static int
tally_body(const char *ct, const struct req *r, struct tally *t)
{
	struct jscan_err	 e;
	const char		*p = r->len > 0 ? r->buf : "";
	int			 rc;

	if (ct != NULL && strncasecmp(ct, "application/x-ndjson", 20) == 0)
		rc = jscan_ndjson_body(p, r->len, tally_rec, t, &e);
	else
		rc = jscan_json_body(p, r->len, tally_rec, t, &e);
	return rc == 0 ? 0 : -1;
}

static enum MHD_Result
answer(struct MHD_Connection *mc, int status, const char *type,
    char *body, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(strlen(body), body, mode);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if ((status < 200 || status > 299) && opt.retry_after != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    opt.retry_after);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    "GET, POST");
	ret = MHD_queue_response(mc, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The body of a plain answer: "ok" for 2xx, else "error STATUS". */
static const char *
status_body(int status, char *buf, size_t size)
{
	if (status >= 200 && status <= 299)
		return "ok";
	snprintf(buf, size, "error %d", status);
	return buf;
}

static enum MHD_Result
answer_status(struct MHD_Connection *mc, int status)
{
	char	body[32];

	return answer(mc, status, "text/plain",
	    (char *)status_body(status, body, sizeof(body)),
	    MHD_RESPMEM_MUST_COPY);
}

/*
 * A whole POST body of type ct: counted, its answer decided and its ids
 * logged (-L). Returns the status; ms, id and nreq are for the log.
 */
static int
take_post(struct conn *c, const struct req *r, const char *ct, int refused,
    uint64_t *ms, uint64_t *id, uint64_t *nreq)
{
	struct tally	t = { 0, NULL, "", 0 };
	struct buf	ids = { NULL, 0, 0 };
	double		when;
	int		status, valid;

	when = now_ms_frac();
	*ms = (uint64_t)when;
	if (opt.idfd != -1) {
		t.ids = &ids;
		t.whenlen = (size_t)snprintf(t.when, sizeof(t.when),
		    " %.3f\n", when);
	}
	valid = tally_body(ct, r, &t) == 0;
	status = post_done(c, r, refused, valid, t.records, *ms, id, nreq);
	if (valid && status >= 200 && status <= 299 && ids.len > 0)
		write_line(opt.idfd, &ids);
	free(ids.p);
	return status;
}

static enum MHD_Result
answer_post(struct MHD_Connection *mc, struct conn *c, struct req *r)
{
	uint64_t	ms, id, nreq;
	int		status;

	status = take_post(c, r, MHD_lookup_connection_value(mc,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE), !cert_ok(mc, c),
	    &ms, &id, &nreq);
	if (opt.logfd != -1)
		log_post(mc, r, id, nreq, ms, status);
	if (opt.delay_ms > 0)
		sleep_ms(opt.delay_ms);
	return answer_status(mc, status);
}

static json_t *
stats_json(void)
{
	json_t		*o, *times, *durs, *sts;
	uint64_t	 now = now_ms(), end;
	size_t		 i;
	char		 key[8];

	times = json_array();
	durs = json_array();
	sts = json_object();
	for (i = 0; i < st.ntimes; i++) {
		end = st.closed[i] ? st.closed[i] : now;
		json_array_append_new(times, json_integer(st.accepted[i]));
		json_array_append_new(durs, json_integer(
		    end > st.accepted[i] ? end - st.accepted[i] : 0));
	}
	for (i = 0; i < MAX_STATUS; i++)
		if (st.statuses[i] != 0) {
			snprintf(key, sizeof(key), "%zu", i);
			json_object_set_new(sts, key,
			    json_integer(st.statuses[i]));
		}
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
	    "connections", (json_int_t)st.connections,
	    "open", (json_int_t)st.open,
	    "max_open", (json_int_t)st.max_open,
	    "requests", (json_int_t)st.requests,
	    "max_requests_per_connection", (json_int_t)st.max_rpc,
	    "records", (json_int_t)st.records,
	    "last_record_ms", (json_int_t)st.last_record_ms,
	    "bad_bodies", (json_int_t)st.bad_bodies,
	    "connection_times_ms", times,
	    "connection_durations_ms", durs,
	    "statuses", sts);
	return o;
}

/* The /_stats text, malloc'd, or NULL. */
static char *
stats_text(void)
{
	json_t	*o;
	char	*s;

	pthread_mutex_lock(&st.mtx);
	o = stats_json();
	pthread_mutex_unlock(&st.mtx);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static enum MHD_Result
answer_stats(struct MHD_Connection *mc)
{
	char	*s;

	if ((s = stats_text()) == NULL)
		return MHD_NO;
	return answer(mc, 200, "application/json", s, MHD_RESPMEM_MUST_FREE);
}

static void
stats_reset(void)
{
	pthread_mutex_lock(&st.mtx);
	/* Open connections belong to the old generation from now on. */
	st.gen++;
	st.connections = st.open = st.max_open = 0;
	st.requests = st.max_rpc = 0;
	st.records = st.last_record_ms = st.bad_bodies = 0;
	st.ntimes = 0;
	memset(st.statuses, 0, sizeof(st.statuses));
	pthread_mutex_unlock(&st.mtx);
}

static enum MHD_Result
answer_reset(struct MHD_Connection *mc)
{
	stats_reset();
	return answer(mc, 200, "text/plain", "ok", MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result
answer_get(struct MHD_Connection *mc, struct conn *c, const char *url,
    const char *method)
{
	if (!cert_ok(mc, c))
		return answer_status(mc, 403);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return answer_status(mc, MHD_HTTP_METHOD_NOT_ALLOWED);
	if (strcmp(url, "/_stats") == 0)
		return answer_stats(mc);
	if (strcmp(url, "/_reset") == 0)
		return answer_reset(mc);
	return answer_status(mc, 404);
}

static struct req *
req_new(struct MHD_Connection *mc, struct conn *c, const char *method)
{
	struct req	*r;
	const char	*cl, *errstr;
	long long	 n;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0)) {
		post_started(c);
		/* Size the body once when the client says how big it is. */
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			n = strtonum(cl, 1, PREALLOC_MAX, &errstr);
			if (errstr == NULL)
				grow(&r->buf, &r->cap, (size_t)n);
		}
	}
	return r;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	const union MHD_ConnectionInfo	*ci;
	struct conn			*c;
	struct req			*r = *ctx;

	(void)cls;
	(void)version;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return MHD_NO;
	if (r == NULL) {
		if ((*ctx = req_new(mc, c, method)) == NULL)
			return MHD_NO;
		return MHD_YES;
	}
	if (*size > 0) {
		/* Bodies of anything but POST are read and dropped. */
		if (r->post) {
			if (grow(&r->buf, &r->cap, r->len + *size) == -1)
				return MHD_NO;
			memcpy(r->buf + r->len, data, *size);
			r->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (r->post)
		return answer_post(mc, c, r);
	return answer_get(mc, c, url, method);
}

/*
 * -F, the benchmark's receiver: one thread and epoll, plain HTTP/1.1,
 * and only what the benchmark asks of it: POSTs counted (and -L) and
 * answered 200 "ok", GET /_stats and /_reset, pipelined requests in
 * order. libmicrohttpd's thread per connection took 35-45 us of CPU a
 * request, a large share of a 2-core machine in the one-record runs and
 * the same for every server measured; here a request costs a read, a
 * write and a share of one epoll_wait.
 */
#define F_HEAD_MAX	(64 * 1024)
#define F_BODY_MAX	PREALLOC_MAX
#define F_READ		65536

struct fconn {
	struct fconn	*next, *prev;	/* the open ones, freed at exit */
	int		 fd;
	int		 closing;	/* after what is queued is written */
	int		 started;	/* the POST at the front was counted */
	struct conn	 c;
	struct buf	 in;
	struct buf	 out;
	size_t		 outoff;
};

static const char *
f_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 501:
		return "Not Implemented";
	}
	return "Other";
}

static int
f_reply(struct fconn *f, int status, const char *type, const char *body)
{
	char	 head[256], text[32];
	int	 n;

	if (body == NULL)
		body = status_body(status, text, sizeof(text));
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\n%s%s\r\n", status, f_reason(status),
	    type, strlen(body), status == 405 ? "Allow: GET, POST\r\n" : "",
	    f->closing ? "Connection: close\r\n" : "");
	if (buf_add(head, (size_t)n, &f->out) == -1 ||
	    buf_add(body, strlen(body), &f->out) == -1)
		err(1, NULL);
	return 1;
}

/* A request whose framing is not understood ends the connection. */
static int
f_refuse(struct fconn *f, int status)
{
	f->closing = 1;
	f->in.len = 0;
	return f_reply(f, status, "text/plain", NULL);
}

static int
f_answer(struct fconn *f, const char *method, const char *target,
    const struct req *r, const char *head, size_t hl)
{
	char		 ct[128], *s;
	uint64_t	 ms, id, nreq;

	if (strcmp(method, "POST") == 0) {
		if (!scripted_header(head, hl, "Content-Type", ct, sizeof(ct)))
			ct[0] = '\0';
		return f_reply(f, take_post(&f->c, r, ct, 0, &ms, &id, &nreq),
		    "text/plain", NULL);
	}
	if (strcmp(method, "GET") != 0)
		return f_reply(f, 405, "text/plain", NULL);
	if (strcmp(target, "/_stats") == 0) {
		if ((s = stats_text()) == NULL)
			err(1, NULL);
		f_reply(f, 200, "application/json", s);
		free(s);
		return 1;
	}
	if (strcmp(target, "/_reset") == 0) {
		stats_reset();
		return f_reply(f, 200, "text/plain", "ok");
	}
	return f_reply(f, 404, "text/plain", NULL);
}

/*
 * The request at the front of f->in: 1 when it was answered (and taken
 * away), 0 while it is not all there.
 */
static int
f_request(struct fconn *f)
{
	char		 method[16], target[256], v[32], *p = f->in.p, *e;
	const char	*errstr;
	struct req	 r;
	size_t		 hl, blen = 0;
	int		 n, minor;

	if ((e = memmem(p, f->in.len, "\r\n\r\n", 4)) == NULL)
		return f->in.len > F_HEAD_MAX ? f_refuse(f, 400) : 0;
	hl = (size_t)(e + 4 - p);
	if (sscanf(p, "%15s %255s HTTP/1.%d%n", method, target, &minor,
	    &n) != 3 || p[n] != '\r')
		return f_refuse(f, 400);
	if (scripted_header(p, hl, "Transfer-Encoding", v, sizeof(v)))
		return f_refuse(f, 501);
	if (scripted_header(p, hl, "Content-Length", v, sizeof(v))) {
		blen = (size_t)strtonum(v, 0, F_BODY_MAX, &errstr);
		if (errstr != NULL)
			return f_refuse(f, errno == ERANGE ? 413 : 400);
	}
	if (strcmp(method, "POST") == 0 && !f->started) {
		post_started(&f->c);
		f->started = 1;
	}
	if (f->in.len < hl + blen)
		return 0;
	if (scripted_header(p, hl, "Connection", v, sizeof(v)) ?
	    strcasecmp(v, "close") == 0 : minor == 0)
		f->closing = 1;
	r = (struct req){ p + hl, blen, blen, strcmp(method, "POST") == 0 };
	f_answer(f, method, target, &r, p, hl);
	f->started = 0;
	memmove(p, p + hl + blen, f->in.len - hl - blen);
	f->in.len -= hl + blen;
	return 1;
}

/* -1 when the connection is gone, 0 when all is written, 1 when not. */
static int
f_flush(struct fconn *f)
{
	ssize_t	 n;

	while (f->outoff < f->out.len) {
		n = write(f->fd, f->out.p + f->outoff, f->out.len - f->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 1 : -1;
		f->outoff += (size_t)n;
	}
	f->outoff = f->out.len = 0;
	return 0;
}

static struct fconn	*f_open;

static void
f_close(int ep, struct fconn *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		f_open = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	conn_closed(&f->c);
	free(f->in.p);
	free(f->out.p);
	free(f);
}

/* What came on f: read once, answered, written. 0, or -1 to close. */
static int
f_input(int ep, struct fconn *f)
{
	struct epoll_event	 ev;
	ssize_t			 n;
	int			 w;

	if (grow(&f->in.p, &f->in.cap, f->in.len + F_READ) == -1)
		err(1, NULL);
	n = read(f->fd, f->in.p + f->in.len, f->in.cap - f->in.len);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	f->in.len += (size_t)n;
	while (!f->closing && f_request(f) == 1)
		;
	if ((w = f_flush(f)) == -1 || (w == 0 && f->closing))
		return -1;
	ev.events = EPOLLIN | (w == 1 ? EPOLLOUT : 0);
	ev.data.ptr = f;
	epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
	return 0;
}

static void
f_accept(int ep, int ls)
{
	struct epoll_event	 ev;
	struct fconn		*f;
	int			 fd, on = 1;

	while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if ((f = calloc(1, sizeof(*f))) == NULL)
			err(1, NULL);
		f->fd = fd;
		f->c.accepted_ms = now_ms();
		if ((f->next = f_open) != NULL)
			f_open->prev = f;
		f_open = f;
		ev.events = EPOLLIN;
		ev.data.ptr = f;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
}

static int
f_listen(unsigned int port)
{
	int	 ls, got;

	if ((ls = scripted_listen(port, SOCK_NONBLOCK | SOCK_CLOEXEC, 1024,
	    &got)) == -1)
		errx(1, "cannot listen on 127.0.0.1:%u", port);
	printf("port %d\n", got);
	fflush(stdout);
	return ls;
}

/* The -F loop, until SIGTERM or SIGINT (let in by epoll_pwait only). */
static void
fast_serve(unsigned int port, const sigset_t *old)
{
	struct epoll_event	 ev, evs[64];
	struct fconn		*f;
	int			 ep, ls, n, i;

	ls = f_listen(port);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) == -1)
		err(1, "epoll_ctl");
	while (!quit) {
		if ((n = epoll_pwait(ep, evs, 64, -1, old)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if ((f = evs[i].data.ptr) == NULL) {
				f_accept(ep, ls);
				continue;
			}
			if (((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    f_input(ep, f) == -1) ||
			    ((evs[i].events & EPOLLOUT) && f_flush(f) == -1))
				f_close(ep, f);
		}
	}
	while (f_open != NULL)
		f_close(ep, f_open);
	close(ep);
	close(ls);
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* The benchmark may want more connections than the soft limit allows. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct MHD_Daemon *
start(unsigned int port, struct MHD_OptionItem *tls)
{
	struct sockaddr_in	 sin;
	unsigned int		 flags;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION;
	if (!opt.quiet)
		flags |= MHD_USE_ERROR_LOG;
	if (tls[0].option != MHD_OPTION_END)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_conn, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, notify_done, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, 10000U,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024U,
	    MHD_OPTION_CONNECTION_TIMEOUT, 0U,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
}

int
main(int argc, char *argv[])
{
	struct MHD_OptionItem		 tls[4];
	struct MHD_Daemon		*d;
	const union MHD_DaemonInfo	*di;
	struct sigaction		 sa;
	sigset_t			 block, old;
	const char			*errstr, *cert = NULL, *key = NULL;
	const char			*ca = NULL, *logfile = NULL;
	const char			*idlog = NULL;
	unsigned int			 port = 0;
	size_t				 n = 0;
	int				 ch, fast = 0;

	st.rng = 1;
	while ((ch = getopt(argc, argv, "a:C:d:FK:L:m:o:p:qr:s:T:")) != -1) {
		switch (ch) {
		case 'F':
			fast = 1;
			break;
		case 'a':
			if (*optarg == '\0' || strpbrk(optarg, "\r\n"))
				errx(2, "-a: bad Retry-After value");
			opt.retry_after = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'd':
			opt.delay_ms = (unsigned int)strtonum(optarg, 0,
			    86400000, &errstr);
			if (errstr != NULL)
				errx(2, "-d %s: %s", optarg, errstr);
			break;
		case 'K':
			key = optarg;
			break;
		case 'L':
			idlog = optarg;
			break;
		case 'm':
			add_match(optarg);
			break;
		case 'o':
			logfile = optarg;
			break;
		case 'p':
			port = (unsigned int)strtonum(optarg, 0, 65535,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-p %s: %s", optarg, errstr);
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'r':
			st.rng = (uint64_t)strtonum(optarg, 0, LLONG_MAX,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-r %s: %s", optarg, errstr);
			break;
		case 's':
			add_rule(optarg);
			break;
		case 'T':
			ca = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (cert == NULL) != (key == NULL) ||
	    (ca != NULL && cert == NULL))
		usage();
	/* -F serves the benchmark only: none of the tests' answers. */
	if (fast && (cert != NULL || logfile != NULL || opt.nrules > 0 ||
	    opt.nmatches > 0 || opt.retry_after != NULL || opt.delay_ms > 0))
		usage();

	if (logfile != NULL && (opt.logfd = open(logfile,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", logfile);
	if (idlog != NULL && (opt.idfd = open(idlog,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", idlog);
	if (cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			errx(1, "libmicrohttpd was built without TLS");
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, load_file(cert) };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, load_file(key) };
	}
	if (ca != NULL) {
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST,
		    0, load_file(ca) };
		find_verifier();
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	raise_nofile();

	/*
	 * MHD's threads inherit the blocked mask, so the signals reach
	 * the main thread, which takes them only inside sigsuspend().
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	if (fast) {
		fast_serve(port, &old);
		goto done;
	}
	if ((d = start(port, tls)) == NULL)
		errx(1, "cannot listen on 127.0.0.1:%u", port);
	if ((di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) == NULL)
		errx(1, "cannot learn the port");
	printf("port %u\n", (unsigned int)di->port);
	fflush(stdout);

	while (!quit)
		sigsuspend(&old);
	MHD_stop_daemon(d);
done:
	while (n > 0)
		free(tls[--n].ptr_value);
	free(opt.rules);
	free(opt.matches);
	free(st.accepted);
	free(st.closed);
	return 0;
}
