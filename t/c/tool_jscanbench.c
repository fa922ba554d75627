/*
 * jscanbench: throughput of the ingest JSON scanner against jansson's
 * json_loadb on generated KumoMTA-like log records of about 800 bytes.
 *
 * usage: jscanbench [-n records] [-r rounds] [-u]
 *   -u  records heavy in non-ASCII text instead of mostly ASCII
 *
 * Times are CPU time of this process, so that other work on the machine
 * skews the figures less; they are per core.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jscan.h"

struct buf {
	char	*p;
	size_t	 len, cap;
};

static uint64_t	 rng = 88172645463325252ULL;

static unsigned int
rn(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

static void __attribute__((format(printf, 2, 3)))
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 1;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	b->len += (size_t)n;
}

static const char *const ascii_words[] = {
	"mail", "queue", "example", "delivery", "OK", "250", "2.0.0",
	"accepted", "message", "id", "gsmtp", "mx.google.com", "ready",
};

static const char *const utf8_words[] = {
	"Grüße", "naïve", "café", "日本語のテキスト", "тестовое сообщение",
	"😀😀", "Ünïcödé", "مرحبا بالعالم", "ἀρχή", "\\u00e9t\\u00e9",
};

static void
text(struct buf *b, int n, int utf8)
{
	const char *const	*w = utf8 ? utf8_words : ascii_words;
	unsigned int		 nw = utf8 ? 10 : 13;

	while (n-- > 0)
		bprintf(b, "%s%s", w[rn(nw)], n ? " " : "");
}

static void
record(struct buf *b, int utf8)
{
	static const char *const types[] = {
		"Reception", "Delivery", "TransientFailure", "Bounce",
	};

	bprintf(b, "{\"type\":\"%s\",\"id\":\"%08x%08x%08x%08x\","
	    "\"sender\":\"bounce-%u@example.com\","
	    "\"recipient\":\"user%u@example.org\",\"queue\":\"example.org\","
	    "\"site\":\"(alt1|alt2)?.aspmx.l.google.com\",\"size\":%u,"
	    "\"response\":{\"code\":250,\"enhanced_code\":{\"class\":2,"
	    "\"subject\":0,\"detail\":0},\"content\":\"", types[rn(4)],
	    rn(~0U), rn(~0U), rn(~0U), rn(~0U), rn(100000), rn(1000000),
	    rn(10000000));
	text(b, 4, 0);
	bprintf(b, "\",\"command\":\".\\r\\n\"},\"peer_address\":{\"name\":"
	    "\"mx%u.example.org\",\"addr\":\"192.0.2.%u\"},\"timestamp\":%u,"
	    "\"created\":%u.%06u,\"num_attempts\":%u,"
	    "\"bounce_classification\":\"Uncategorized\",\"egress_pool\":"
	    "\"pool0\",\"egress_source\":\"source-0\",\"feedback_report\":"
	    "null,\"meta\":{\"campaign\":\"", rn(10), rn(256),
	    1700000000 + rn(100000000), 1700000000 + rn(100000000),
	    rn(1000000), rn(20));
	text(b, 3, utf8);
	bprintf(b, "\",\"tenant\":\"t%u\",\"score\":0.%u},\"headers\":"
	    "{\"Subject\":\"", rn(100), rn(1000));
	text(b, utf8 ? 5 : 4, utf8);
	bprintf(b, "\",\"From\":\"\\\"Sender\\\" <s@example.com>\"},"
	    "\"delivery_protocol\":\"ESMTP\",\"reception_protocol\":\"HTTP\","
	    "\"nodeid\":\"%08x-4e2f-9a1b-%08x\",\"tls_cipher\":"
	    "\"TLS_AES_256_GCM_SHA384\",\"tls_protocol_version\":\"TLSv1.3\","
	    "\"provider_name\":\"Google\",\"session_id\":\"%08x%08x\"}\n",
	    rn(~0U), rn(~0U), rn(~0U), rn(~0U));
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_cb(void *arg, size_t index, const struct jscan_rec *rec)
{
	(void)index;
	*(size_t *)arg += rec->type_state;
	return 0;
}

static void
result(const char *what, double secs, size_t bytes, size_t recs)
{
	printf("%-28s %9.0f MB/s %11.0f records/s\n", what,
	    (double)bytes / secs / 1e6, (double)recs / secs);
}

int
main(int argc, char *argv[])
{
	struct buf		 b = { NULL, 0, 0 };
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	json_error_t		 jerr;
	json_t			*j;
	size_t			*off, n = 20000, i, sink = 0;
	int			 ch, rounds = 20, r, utf8 = 0;
	double			 t;

	while ((ch = getopt(argc, argv, "n:r:u")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'u':
			utf8 = 1;
			break;
		default:
			fprintf(stderr, "usage: jscanbench [-n records] "
			    "[-r rounds] [-u]\n");
			return 2;
		}
	}
	if (n == 0 || rounds <= 0 || (off = calloc(n + 1, sizeof(*off))) ==
	    NULL)
		return 2;
	for (i = 0; i < n; i++) {
		off[i] = b.len;
		record(&b, utf8);
	}
	off[n] = b.len;
	printf("%zu %s records, %.0f bytes each on average, %d rounds\n", n,
	    utf8 ? "non-ASCII-heavy" : "ASCII-heavy", (double)b.len / n,
	    rounds);

	t = now();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++) {
			if (jscan_record(b.p + off[i], off[i + 1] - off[i],
			    &rec, &err) != 0) {
				fprintf(stderr, "record %zu: %s\n", i, err.msg);
				return 1;
			}
			sink += rec.type_len;
		}
	result("jscan_record", now() - t, b.len * rounds, n * rounds);

	t = now();
	for (r = 0; r < rounds; r++)
		if (jscan_ndjson_body(b.p, b.len, count_cb, &sink, &err) != 0) {
			fprintf(stderr, "ndjson: %s\n", err.msg);
			return 1;
		}
	result("jscan_ndjson_body", now() - t, b.len * rounds, n * rounds);

	t = now();
	for (r = 0; r < (rounds + 9) / 10; r++)
		for (i = 0; i < n; i++) {
			j = json_loadb(b.p + off[i], off[i + 1] - off[i],
			    JSON_ALLOW_NUL, &jerr);
			if (j == NULL) {
				fprintf(stderr, "jansson %zu: %s\n", i,
				    jerr.text);
				return 1;
			}
			json_decref(j);
		}
	result("jansson json_loadb", now() - t,
	    b.len * ((rounds + 9) / 10), n * ((rounds + 9) / 10));
	if (sink == 42)
		putchar('\n');
	free(off);
	free(b.p);
	return 0;
}
