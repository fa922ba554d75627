/*
 * loadgen: concurrent producers POSTing records to spoold's ingest, for
 * the benchmark and for measurements.
 *
 *   loadgen -u URL -f RECORDS.ndjson [-c producers] [-n requests]
 *       [-r records per request] [-t content type json|ndjson]
 *       [-R requests per second, all producers together]
 *
 * Each producer is a thread with one keep-alive connection. Records are
 * taken from the file in turn. It prints one line:
 *   requests=N records=N seconds=S rate=R p50_ms=X p99_ms=Y errors=N
 * where rate is records per second and the percentiles are of the time
 * from sending a request to its answer. Exit 1 if any request failed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

struct rec {
	const char	*p;
	size_t		 len;
};

static struct rec	*recs;
static size_t		 nrecs;
static const char	*url;
static int		 ndjson = 1;
static long		 per_req = 1;
static long		 total = 1000;
static double		 req_rate;		/* 0: as fast as possible */
static atomic_long	 next_req;
static atomic_long	 errors;
static double		*lat;			/* ms, one per request */
static double		 t_start;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static char *
load(const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) == -1 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
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
			recs[nrecs++].len = (size_t)(nl - p);
		}
		p = nl + 1;
	}
	if (nrecs == 0) {
		fprintf(stderr, "loadgen: no records\n");
		exit(2);
	}
}

/* The body of request i: per_req records starting at i * per_req. */
static size_t
body(long i, char **buf, size_t *cap)
{
	size_t	 len = 0, k, need;
	struct rec *r;

	for (k = 0; k < (size_t)per_req; k++) {
		r = &recs[((size_t)i * per_req + k) % nrecs];
		need = len + r->len + 2;
		if (need > *cap) {
			*cap = need * 2;
			*buf = realloc(*buf, *cap);
		}
		if (!ndjson)
			(*buf)[len++] = k == 0 ? '[' : ',';
		memcpy(*buf + len, r->p, r->len);
		len += r->len;
		if (ndjson)
			(*buf)[len++] = '\n';
	}
	if (!ndjson) {
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

static void *
producer(void *arg)
{
	struct curl_slist	*h = NULL;
	CURL			*c;
	char			*buf = NULL;
	size_t			 cap = 0, len;
	long			 i, code;
	double			 t0;

	(void)arg;
	c = curl_easy_init();
	h = curl_slist_append(h, ndjson ? "Content-Type: application/x-ndjson" :
	    "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	while ((i = atomic_fetch_add(&next_req, 1)) < total) {
		len = body(i, &buf, &cap);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		pace(i);
		t0 = now_s();
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) !=
		    CURLE_OK || code != 200)
			atomic_fetch_add(&errors, 1);
		lat[i] = (now_s() - t0) * 1000;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(buf);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	pthread_t	*th;
	const char	*file = NULL;
	char		*buf;
	size_t		 len;
	double		 secs;
	int		 ch, conc = 16, i;

	while ((ch = getopt(argc, argv, "c:f:n:r:R:t:u:")) != -1) {
		switch (ch) {
		case 'c': conc = atoi(optarg); break;
		case 'f': file = optarg; break;
		case 'n': total = atol(optarg); break;
		case 'r': per_req = atol(optarg); break;
		case 'R': req_rate = atof(optarg); break;
		case 't': ndjson = strcmp(optarg, "json") != 0; break;
		case 'u': url = optarg; break;
		default:
			fprintf(stderr, "usage: loadgen -u url -f records "
			    "[-c n] [-n n] [-r n] [-R rate] [-t json|ndjson]\n");
			return 2;
		}
	}
	if (url == NULL || file == NULL || conc < 1 || total < 1 ||
	    per_req < 1)
		return 2;
	buf = load(file, &len);
	split(buf, len);
	lat = calloc((size_t)total, sizeof(*lat));
	th = calloc((size_t)conc, sizeof(*th));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t_start = now_s();
	for (i = 0; i < conc; i++)
		pthread_create(&th[i], NULL, producer, NULL);
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t_start;
	qsort(lat, (size_t)total, sizeof(*lat), cmp);
	printf("requests=%ld records=%ld seconds=%.3f rate=%.0f p50_ms=%.3f "
	    "p99_ms=%.3f errors=%ld\n", total, total * per_req, secs,
	    (double)(total * per_req) / secs, lat[total / 2],
	    lat[(size_t)(total * 0.99)], atomic_load(&errors));
	curl_global_cleanup();
	free(th);
	free(lat);
	free(recs);
	free(buf);
	return atomic_load(&errors) > 0;
}
