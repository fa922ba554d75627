/*
 * segbench: throughput of segread (decompression and the split into
 * lines) on a zstd segment of generated log lines of about 700 bytes,
 * against `zstd -dc` on the same file.
 *
 * usage: segbench [-m megabytes] [-l level] [-f records] [-x max]
 *   -f  a flush after every this many records (0: none until the end)
 *   -x  segread_lines' max
 *
 * Times are wall-clock, the file in the page cache (it was just
 * written); zstd's time includes its start.
 */
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "segread.h"

/* The same lines on every run: random() with its default seed. */
static unsigned int
rn(unsigned int n)
{
	return (unsigned int)(((uint64_t)random() << 31 | random()) % n);
}

/* A log line of about 700 bytes into buf: its length. */
static size_t
line(char *buf, size_t size)
{
	static const char *const kinds[] = { "Reception", "Delivery",
	    "TransientFailure", "Bounce" };
	int	 n;

	n = snprintf(buf, size, "{\"type\":\"%s\",\"id\":\"%08x%08x%08x\","
	    "\"sender\":\"bounce-%u@example.com\",\"recipient\":"
	    "\"user%u@example.org\",\"queue\":\"example.org\",\"site\":"
	    "\"mx%u.example.org\",\"size\":%u,\"response\":{\"code\":250,"
	    "\"enhanced_code\":{\"class\":2,\"subject\":0,\"detail\":0},"
	    "\"content\":\"2.0.0 OK %08x - gsmtp\",\"command\":\".\\r\\n\"},"
	    "\"peer_address\":{\"name\":\"mx%u.example.org\",\"addr\":"
	    "\"192.0.2.%u\"},\"timestamp\":%u,\"created\":%u.%06u,"
	    "\"num_attempts\":%u,"
	    "\"egress_pool\":\"pool0\",\"egress_source\":\"source-%u\","
	    "\"feedback_report\":null,\"meta\":{\"campaign\":\"c%u\","
	    "\"tenant\":\"t%u\"},\"headers\":{\"Subject\":\"Order %u shipped\","
	    "\"From\":\"\\\"Shop\\\" <s@example.com>\"},\"delivery_protocol\":"
	    "\"ESMTP\",\"session_id\":\"%08x%08x\"}\n",
	    kinds[rn(4)], rn(~0U), rn(~0U), rn(~0U), rn(100000), rn(1000000),
	    rn(10), rn(10000000), rn(~0U), rn(10), rn(256),
	    1700000000 + rn(100000000), 1700000000 + rn(100000000),
	    rn(1000000), rn(20), rn(8), rn(500), rn(100), rn(10000000),
	    rn(~0U), rn(~0U));
	if (n < 0 || (size_t)n >= size)
		abort();
	return (size_t)n;
}

static void
zwrite(FILE *f, ZSTD_CCtx *c, const char *p, size_t len,
    ZSTD_EndDirective mode)
{
	static char	 out[1 << 17];
	ZSTD_inBuffer	 in = { p, len, 0 };
	ZSTD_outBuffer	 o;
	size_t		 r;

	do {
		o = (ZSTD_outBuffer){ out, sizeof(out), 0 };
		r = ZSTD_compressStream2(c, &o, &in, mode);
		if (ZSTD_isError(r) || fwrite(out, 1, o.pos, f) != o.pos)
			abort();
	} while (mode == ZSTD_e_continue ? in.pos < in.size : r != 0);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	char		 path[] = "/tmp/segbench.XXXXXX", b[2048], err[512];
	char		 cmd[128];
	const char	*p, *e;
	struct segread	*sr;
	ZSTD_CCtx	*c;
	FILE		*f;
	size_t		 mb = 100, flush = 0, max = 1 << 20, len, n, total = 0;
	size_t		 lines = 0, got = 0, longs = 0;
	long		 zsize;
	int		 ch, level = 3, fd, r;
	double		 t, secs;

	while ((ch = getopt(argc, argv, "f:l:m:x:")) != -1) {
		switch (ch) {
		case 'f':
			flush = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			level = atoi(optarg);
			break;
		case 'm':
			mb = strtoul(optarg, NULL, 10);
			break;
		case 'x':
			max = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: segbench [-m megabytes] "
			    "[-l level] [-f records] [-x max]\n");
			return 2;
		}
	}
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL ||
	    (c = ZSTD_createCCtx()) == NULL)
		return 1;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	for (n = 0; total < mb * 1000000; n++) {
		len = line(b, sizeof(b));
		total += len;
		zwrite(f, c, b, len, flush > 0 && (n + 1) % flush == 0 ?
		    ZSTD_e_flush : ZSTD_e_continue);
	}
	zwrite(f, c, "", 0, ZSTD_e_end);
	zsize = ftell(f);
	if (fclose(f) != 0)
		return 1;
	ZSTD_freeCCtx(c);
	printf("%zu lines, %zu bytes (%.0f a line), %ld compressed at level "
	    "%d, flush every %zu\n", n, total, (double)total / n, zsize, level,
	    flush);

	if ((sr = segread_open(path, 0, 1 << 16, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t = now();
	while ((r = segread_lines(sr, max, &p, &len)) == SEGREAD_LINES ||
	    r == SEGREAD_LONG) {
		if (r == SEGREAD_LONG) {
			longs++;
			continue;
		}
		/* The caller would walk its lines: so does this. */
		for (e = p + len; (p = memchr(p, '\n', e - p)) != NULL; p++)
			lines++;
		got += len;
		segread_consume(sr, len);
	}
	secs = now() - t;
	printf("segread (max %zu)  %7.0f MB/s %10.0f lines/s  %.3f s%s\n", max,
	    (double)got / secs / 1e6, (double)lines / secs, secs,
	    r == SEGREAD_END && got == total && longs == 0 ? "" : "  MISMATCH");
	segread_close(sr);

	snprintf(cmd, sizeof(cmd), "zstd -dcq %s >/dev/null", path);
	t = now();
	r = system(cmd);
	secs = now() - t;
	if (r == 0)
		printf("zstd -dc          %7.0f MB/s %10.0f lines/s  %.3f s\n",
		    (double)total / secs / 1e6, (double)n / secs, secs);
	else
		printf("zstd -dc: not run (%d)\n", r);
	unlink(path);
	return 0;
}
