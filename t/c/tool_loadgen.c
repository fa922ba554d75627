/*
 * loadgen: concurrent producers POSTing records to spoold's ingest, for
 * the benchmark and for measurements.
 *
 *   loadgen -u URL -f RECORDS.ndjson [-c producers] [-n requests]
 *       [-r records per request] [-t content type json|ndjson]
 *       [-R requests per second, all producers together]
 *       [-I] [-A ACKLOG]
 *
 * Each producer is a thread with one keep-alive HTTP/1.1 connection
 * (plain http:// only). Records are taken from the file in turn.
 *
 * The producers speak HTTP themselves, a prepared header and the body in
 * one writev and the answer read by its Content-Length, rather than
 * through libcurl: the benchmark shares two cores among the producers,
 * spoold and the receiver, and libcurl's per-request work cost the
 * producers four times what writing the same bytes as TCP lines costs,
 * so the load generator took CPU from what it measures. It prints one line:
 *   requests=N records=N seconds=S rate=R p50_ms=X p99_ms=Y errors=N
 *   start_ms=T cpu_s=C
 * where rate is records per second, the percentiles are of the time
 * from sending a request to its answer, T is the wall-clock time
 * (milliseconds since the epoch) at which the first request was due,
 * and C the CPU time (user and system) the load generator took.
 * Exit 1 if any request failed.
 *
 *   -u tcp://HOST:PORT	  no HTTP: each producer writes the records of a
 *			  "request" as newline-terminated lines, in one go,
 *			  to a TCP connection of its own (a syslog-ng
 *			  network() source, say). There is no answer, so
 *			  the percentiles are those of the writes.
 *   -I			  give every record sent a unique id: the first 16
 *			  characters of the value of the record's first
 *			  "id" member (compact JSON, "id":"...", at least
 *			  16 characters long) become the record's sequence
 *			  number in hex. Record k of request i is number
 *			  i * per_req + k, so a receiver logging ids can
 *			  tell which request carried each record.
 *   -A ACKLOG		  at the end, write one line per request:
 *			  "I SEND_MS ACK_MS", request number and the
 *			  wall-clock times (ms since the epoch, to the
 *			  microsecond) it was sent and answered.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"


#define ID_KEY		"\"id\":\""
#define ID_STAMP	16	/* hex digits written by -I */

struct rec {
	const char	*p;
	size_t		 len;
	long		 id_off;	/* offset of the "id" value, -1: none */
};

static struct rec	*recs;
static size_t		 nrecs;
static const char	*url;
static char		 host[256];
static char		 port[16];
static const char	*path = "/";
static int		 tcp_mode;
static int		 ndjson = 1;
static int		 stamp_ids;
static long		 per_req = 1;
static long		 total = 1000;
static double		 req_rate;		/* 0: as fast as possible */
static atomic_long	 next_req;
static atomic_long	 errors;
static double		*lat;			/* ms, one per request */
static double		*sent_ms, *acked_ms;	/* wall clock, for -A */
static double		 t_start;
static double		 wall_start_ms;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The receiver stamps arrivals with the wall clock: so does -A. */
static double
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *
load(const char *file, size_t *len)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(file, "rb")) == NULL || fseek(fp, 0, SEEK_END) == -1 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(stderr, "loadgen: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Where -I writes: the value of the first "id" member, if long enough. */
static long
find_id(const char *p, size_t len)
{
	const char	*k, *v, *q;

	if ((k = memmem(p, len, ID_KEY, sizeof(ID_KEY) - 1)) == NULL)
		return -1;
	v = k + sizeof(ID_KEY) - 1;
	for (q = v; q < p + len && *q != '"'; q++)
		;
	return q - v >= ID_STAMP ? v - p : -1;
}

static void
split(char *buf, size_t len)
{
	char	*p = buf, *e = buf + len, *nl;
	size_t	 cap = 1024;

	recs = malloc(cap * sizeof(*recs));
	while (p < e) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if (nl > p) {
			if (nrecs == cap)
				recs = realloc(recs, (cap *= 2) * sizeof(*recs));
			recs[nrecs].p = p;
			recs[nrecs].len = (size_t)(nl - p);
			recs[nrecs].id_off = find_id(p, recs[nrecs].len);
			if (stamp_ids && recs[nrecs].id_off < 0) {
				fprintf(stderr, "loadgen: -I: record %zu has "
				    "no \"id\" of %d characters\n", nrecs + 1,
				    ID_STAMP);
				exit(2);
			}
			nrecs++;
		}
		p = nl + 1;
	}
	if (nrecs == 0) {
		fprintf(stderr, "loadgen: no records\n");
		exit(2);
	}
}

static void
stamp(char *dst, unsigned long long seq)
{
	static const char	 hex[] = "0123456789abcdef";
	int			 i;

	for (i = ID_STAMP - 1; i >= 0; i--, seq >>= 4)
		dst[i] = hex[seq & 0xf];
}

/*
 * The body of request i: per_req records starting at i * per_req. JSON
 * bodies are arrays; NDJSON and TCP lines end every record with a newline.
 */
static size_t
body(long i, char **buf, size_t *cap)
{
	size_t	 len = 0, k, need;
	struct rec *r;
	int	 lines = ndjson || tcp_mode;

	for (k = 0; k < (size_t)per_req; k++) {
		r = &recs[((size_t)i * per_req + k) % nrecs];
		need = len + r->len + 2;
		if (need > *cap) {
			*cap = need * 2;
			*buf = realloc(*buf, *cap);
		}
		if (!lines)
			(*buf)[len++] = k == 0 ? '[' : ',';
		memcpy(*buf + len, r->p, r->len);
		if (stamp_ids)
			stamp(*buf + len + r->id_off,
			    (unsigned long long)i * per_req + k);
		len += r->len;
		if (lines)
			(*buf)[len++] = '\n';
	}
	if (!lines) {
		if (len + 1 > *cap)
			*buf = realloc(*buf, *cap = len + 1);
		(*buf)[len++] = ']';
	}
	return len;
}

static void
pace(long i)
{
	double	 due, d;

	if (req_rate <= 0)
		return;
	due = t_start + (double)i / req_rate;
	if ((d = due - now_s()) > 0)
		usleep((useconds_t)(d * 1e6));
}

/*
 * Splits tcp://HOST:PORT or http://HOST:PORT/PATH into host, port and
 * path; the last colon before the path separates the port.
 */
static int
parse_url(const char *u)
{
	const char	*hp, *colon, *slash;

	if (strncmp(u, "tcp://", 6) == 0) {
		tcp_mode = 1;
		hp = u + 6;
		slash = hp + strlen(hp);
	} else if (strncmp(u, "http://", 7) == 0) {
		hp = u + 7;
		if ((slash = strchr(hp, '/')) == NULL)
			slash = hp + strlen(hp);
		else
			path = slash;
	} else
		return -1;
	for (colon = slash; colon > hp && *colon != ':'; colon--)
		;
	if (colon == hp || (size_t)(colon - hp) >= sizeof(host) ||
	    (size_t)(slash - colon - 1) >= sizeof(port) || slash == colon + 1)
		return -1;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	memcpy(port, colon + 1, (size_t)(slash - colon - 1));
	port[slash - colon - 1] = '\0';
	return 0;
}

static int
tcp_connect(void)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Writes all of iov, however the kernel splits it; no SIGPIPE. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	struct msghdr	 msg;
	ssize_t		 w;

	while (n > 0) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		if ((w = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		iov_skip(&iov, &n, (size_t)w);
	}
	return 0;
}

static void *
tcp_producer(void *arg)
{
	struct iovec	 iov;
	char		*buf = NULL;
	size_t		 cap = 0, len;
	long		 i;
	double		 t0;
	int		 fd;

	(void)arg;
	if ((fd = tcp_connect()) == -1) {
		fprintf(stderr, "loadgen: cannot connect to %s:%s\n",
		    host, port);
		/* Every request this producer would have sent fails. */
		while ((i = atomic_fetch_add(&next_req, 1)) < total)
			atomic_fetch_add(&errors, 1);
		return NULL;
	}
	while ((i = atomic_fetch_add(&next_req, 1)) < total) {
		len = body(i, &buf, &cap);
		pace(i);
		t0 = now_s();
		if (sent_ms != NULL)
			sent_ms[i] = wall_ms();
		iov.iov_base = buf;
		iov.iov_len = len;
		if (writev_all(fd, &iov, 1) == -1)
			atomic_fetch_add(&errors, 1);
		lat[i] = (now_s() - t0) * 1000;
		if (acked_ms != NULL)
			acked_ms[i] = wall_ms();
	}
	close(fd);
	free(buf);
	return NULL;
}

/*
 * Reads one answer on fd: its status; -2 if the connection ended before
 * a byte of it, -1 if it failed later or the answer is not one this
 * reader knows (it needs a Content-Length, and reads "Connection: close"
 * in that spelling only). *keep is cleared when the server will close
 * the connection.
 */
static int
read_answer(int fd, int *keep)
{
	char		 buf[8192], *eoh, *p;
	size_t		 have = 0, need;
	ssize_t		 n;
	long		 clen = -1;
	int		 status, minor;

	for (;;) {
		if (have == sizeof(buf) - 1)
			return -1;
		if ((n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return have == 0 ? -2 : -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		if ((eoh = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(buf, "HTTP/1.%d %d", &minor, &status) != 2)
		return -1;
	*eoh = '\0';
	*keep = minor > 0;
	for (p = strstr(buf, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			clen = strtol(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "Connection: close", 17) == 0)
			*keep = 0;
	}
	if (clen < 0)
		return -1;
	need = (size_t)(eoh + 4 - buf) + (size_t)clen;
	while (have < need) {
		n = recv(fd, buf, sizeof(buf) < need - have ? sizeof(buf) :
		    need - have, 0);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		have += (size_t)n;
	}
	return status;
}

/*
 * POSTs one body; its answer's status, or -1. A kept connection the
 * server closed meanwhile fails before any answer: that one is sent
 * again, once, on a new connection.
 */
static int
post(int *fd, const char *body, size_t len)
{
	struct iovec	 iov[2];
	char		 hdr[512];
	int		 n, status, keep, tries;

	n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", path, host,
	    port, ndjson ? "application/x-ndjson" : "application/json", len);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	for (tries = *fd == -1 ? 1 : 2; tries > 0; tries--) {
		if (*fd == -1 && (*fd = tcp_connect()) == -1)
			return -1;
		iov[0].iov_base = hdr;
		iov[0].iov_len = (size_t)n;
		iov[1].iov_base = (void *)(uintptr_t)body;
		iov[1].iov_len = len;
		status = writev_all(*fd, iov, 2) == -1 ? -2 :
		    read_answer(*fd, &keep);
		if (status >= 0)
			break;
		close(*fd);
		*fd = -1;
		if (status == -1)
			return -1;
	}
	if (status < 0)
		return -1;
	if (!keep) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

static void *
producer(void *arg)
{
	char	*buf = NULL;
	size_t	 cap = 0, len;
	long	 i;
	double	 t0;
	int	 fd = -1;

	(void)arg;
	while ((i = atomic_fetch_add(&next_req, 1)) < total) {
		len = body(i, &buf, &cap);
		pace(i);
		t0 = now_s();
		if (sent_ms != NULL)
			sent_ms[i] = wall_ms();
		if (post(&fd, buf, len) != 200)
			atomic_fetch_add(&errors, 1);
		lat[i] = (now_s() - t0) * 1000;
		if (acked_ms != NULL)
			acked_ms[i] = wall_ms();
	}
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Written after the run, so that logging costs the producers nothing. */
static void
write_acklog(const char *file)
{
	FILE	*fp;
	long	 i;

	if ((fp = fopen(file, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	for (i = 0; i < total; i++)
		fprintf(fp, "%ld %.3f %.3f\n", i, sent_ms[i], acked_ms[i]);
	if (fclose(fp) == EOF) {
		fprintf(stderr, "loadgen: %s: %s\n", file, strerror(errno));
		exit(2);
	}
}

int
main(int argc, char *argv[])
{
	struct rusage	 ru;
	pthread_t	*th;
	const char	*file = NULL, *acklog = NULL;
	char		*buf;
	size_t		 len;
	double		 secs;
	int		 ch, conc = 16, i;

	while ((ch = getopt(argc, argv, "A:c:f:In:r:R:t:u:")) != -1) {
		switch (ch) {
		case 'A': acklog = optarg; break;
		case 'c': conc = atoi(optarg); break;
		case 'f': file = optarg; break;
		case 'I': stamp_ids = 1; break;
		case 'n': total = atol(optarg); break;
		case 'r': per_req = atol(optarg); break;
		case 'R': req_rate = atof(optarg); break;
		case 't': ndjson = strcmp(optarg, "json") != 0; break;
		case 'u': url = optarg; break;
		default:
			fprintf(stderr, "usage: loadgen -u url -f records "
			    "[-c n] [-n n] [-r n] [-R rate] [-t json|ndjson] "
			    "[-I] [-A acklog]\n");
			return 2;
		}
	}
	if (url == NULL || file == NULL || conc < 1 || total < 1 ||
	    per_req < 1)
		return 2;
	if (parse_url(url) == -1) {
		fprintf(stderr, "loadgen: bad address %s (http://HOST:PORT/PATH "
		    "or tcp://HOST:PORT)\n", url);
		return 2;
	}
	buf = load(file, &len);
	split(buf, len);
	lat = calloc((size_t)total, sizeof(*lat));
	if (acklog != NULL) {
		sent_ms = calloc((size_t)total, sizeof(*sent_ms));
		acked_ms = calloc((size_t)total, sizeof(*acked_ms));
	}
	th = calloc((size_t)conc, sizeof(*th));
	t_start = now_s();
	wall_start_ms = wall_ms();
	for (i = 0; i < conc; i++)
		pthread_create(&th[i], NULL, tcp_mode ? tcp_producer : producer,
		    NULL);
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t_start;
	if (acklog != NULL)
		write_acklog(acklog);
	qsort(lat, (size_t)total, sizeof(*lat), cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("requests=%ld records=%ld seconds=%.3f rate=%.0f p50_ms=%.3f "
	    "p99_ms=%.3f errors=%ld start_ms=%.3f cpu_s=%.3f\n", total,
	    total * per_req, secs, (double)(total * per_req) / secs,
	    lat[total / 2], lat[(size_t)(total * 0.99)], atomic_load(&errors),
	    wall_start_ms, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	free(th);
	free(lat);
	free(sent_ms);
	free(acked_ms);
	free(recs);
	free(buf);
	return atomic_load(&errors) > 0;
}
