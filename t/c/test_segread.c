/*
 * Reading KumoMTA log segments: zstd streams written here with libzstd
 * the way KumoMTA writes them (a flush after records, the frame ended
 * at close), appended to a file step by step as it would grow.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "segread.h"
#include "tap.h"

#define BIG_LINE	(1 << 20)

struct buf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* What a reader handed out, consumed as it came. */
struct got {
	struct buf	 lines;
	size_t		 nlines;
	uint64_t	 longs[64];
	size_t		 nlong;
	int		 badspan;
};

static char	 dir[] = "/tmp/segread.XXXXXX";
static char	 path[256];
static uint64_t	 rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t
rnd_in(size_t lo, size_t hi)
{
	return lo + (size_t)(rnd() % (hi - lo + 1));
}

static void
put(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
set_file(const void *p, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, p, len) != (ssize_t)len || close(fd) == -1)
		abort();
}

static void
append(const void *p, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_APPEND)) == -1 ||
	    write(fd, p, len) != (ssize_t)len || close(fd) == -1)
		abort();
}

/* src into the stream, as ZSTD_compressStream2 gives it with mode. */
static void
zfeed(ZSTD_CCtx *c, struct buf *z, const void *src, size_t len,
    ZSTD_EndDirective mode)
{
	ZSTD_inBuffer	 in = { src, len, 0 };
	ZSTD_outBuffer	 out;
	unsigned char	 tmp[65536];
	size_t		 r;

	do {
		out = (ZSTD_outBuffer){ tmp, sizeof(tmp), 0 };
		r = ZSTD_compressStream2(c, &out, &in, mode);
		if (ZSTD_isError(r))
			abort();
		put(z, tmp, out.pos);
	} while (mode == ZSTD_e_continue ? in.pos < in.size : r != 0);
}

static ZSTD_CCtx *
cctx(int level)
{
	ZSTD_CCtx	*c;

	if ((c = ZSTD_createCCtx()) == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel,
	    level)))
		abort();
	return c;
}

/* A JSON record of len bytes, its '\n' included (len >= 1). */
static void
record(struct buf *b, size_t n, size_t len)
{
	char	 head[64];
	size_t	 h, i;

	h = (size_t)snprintf(head, sizeof(head), "{\"n\":%zu,\"pad\":\"", n);
	if (len < h + 3) {
		for (i = 0; i + 1 < len; i++)
			put(b, "x", 1);
		put(b, "\n", 1);
		return;
	}
	put(b, head, h);
	for (i = 0; i < len - h - 3; i++)
		put(b, &"abcdefghijklmnopqrstuvwxyz0123"[rnd() % 30], 1);
	put(b, "\"}\n", 3);
}

/*
 * Records of the given lengths, one frame, a flush after each: the
 * text in *plain, the stream in *z, and in marks[i] the stream's length
 * once record i is flushed.
 */
static void
frame(const size_t *lens, size_t n, struct buf *plain, struct buf *z,
    size_t *marks)
{
	ZSTD_CCtx	*c = cctx(3);
	size_t		 i, from;

	for (i = 0; i < n; i++) {
		from = plain->len;
		record(plain, i, lens[i]);
		zfeed(c, z, plain->p + from, plain->len - from, ZSTD_e_flush);
		if (marks != NULL)
			marks[i] = z->len;
	}
	zfeed(c, z, "", 0, ZSTD_e_end);
	ZSTD_freeCCtx(c);
}

static void
got_reset(struct got *g)
{
	free(g->lines.p);
	memset(g, 0, sizeof(*g));
}

/*
 * Everything the reader has now, consumed: the code it stopped with
 * (SEGREAD_WAIT, SEGREAD_END or SEGREAD_ERROR).
 */
static int
drain(struct segread *sr, size_t max, struct got *g)
{
	const char	*p;
	size_t		 len, i, nl;
	int		 r, round;

	for (round = 0; round < 1000000; round++) {
		r = segread_lines(sr, max, &p, &len);
		if (r == SEGREAD_LONG) {
			if (g->nlong < sizeof(g->longs) / sizeof(g->longs[0]))
				g->longs[g->nlong++] = len;
			continue;
		}
		if (r != SEGREAD_LINES)
			return r;
		for (i = nl = 0; i < len; i++)
			nl += p[i] == '\n';
		if (len == 0 || p[len - 1] != '\n' || (len > max && nl > 1))
			g->badspan = 1;
		g->nlines += nl;
		put(&g->lines, p, len);
		segread_consume(sr, len);
	}
	return -2;
}

static struct segread *
open_at(uint64_t skip, size_t max_line)
{
	struct segread	*sr;
	char		 err[512];

	if ((sr = segread_open(path, skip, max_line, err, sizeof(err))) == NULL)
		diag("%s", err);
	return sr;
}

static int
same(const struct got *g, const struct buf *want, size_t from)
{
	return g->lines.len == want->len - from && (g->lines.len == 0 ||
	    memcmp(g->lines.p, want->p + from, g->lines.len) == 0);
}

static void
test_growing(void)
{
	size_t		 lens[10], marks[10], i;
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	size_t		 want = 0;
	int		 r, good = 1;

	for (i = 0; i < 10; i++)
		lens[i] = 100 + 50 * i;
	frame(lens, 10, &plain, &z, marks);
	set_file("", 0);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "empty file: WAIT");
	is_int(segread_partial(sr), 0, "empty file: not partial");
	is_int(segread_zstd(sr), 0, "empty file: kind not known");
	for (i = 0; i < 10; i++) {
		size_t from = i ? marks[i - 1] : 0, half = (marks[i] - from) / 2;

		append(z.p + from, half);
		r = drain(sr, 4096, &g);
		if (r != SEGREAD_WAIT || g.nlines != i || !segread_partial(sr))
			good = 0;
		append(z.p + from + half, marks[i] - from - half);
		r = drain(sr, 4096, &g);
		want += lens[i];
		if (r != SEGREAD_WAIT || g.nlines != i + 1 ||
		    segread_offset(sr) != want || !segread_partial(sr) ||
		    segread_file_offset(sr) != marks[i])
			good = 0;
	}
	ok(good, "each flushed block gives its line, WAIT between, "
	    "partial while the frame is open");
	ok(segread_zstd(sr), "zstd known");
	append(z.p + marks[9], z.len - marks[9]);
	is_int(drain(sr, 4096, &g), SEGREAD_END, "frame ended: END");
	is_int(segread_partial(sr), 0, "END: not partial");
	ok(same(&g, &plain, 0) && !g.badspan, "lines read as written");
	is_int((int64_t)segread_offset(sr), (int64_t)plain.len,
	    "offset: every byte");
	is_int((int64_t)segread_file_offset(sr), (int64_t)z.len,
	    "file offset: the file's size");
	is_int(drain(sr, 4096, &g), SEGREAD_END, "END again");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_bytewise(void)
{
	size_t		 lens[20], i, lines = 0, calls = 0, ends = 0;
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	int		 r, order = 1;

	for (i = 0; i < 20; i++)
		lens[i] = rnd_in(1, 300);
	frame(lens, 20, &plain, &z, NULL);
	set_file("", 0);
	sr = open_at(0, BIG_LINE);
	for (i = 0; i < z.len; i++) {
		append(z.p + i, 1);
		r = drain(sr, rnd_in(1, 500), &g);
		calls++;
		if (g.nlines < lines)
			order = 0;
		lines = g.nlines;
		ends += r == SEGREAD_END;
		if (r != (i + 1 == z.len ? SEGREAD_END : SEGREAD_WAIT))
			order = 0;
	}
	ok(order, "one byte at a time: WAIT until the last byte, then END");
	is_int(ends, 1, "END once, at the end");
	ok(same(&g, &plain, 0) && g.nlines == 20, "every line once, in order");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_skip(void)
{
	size_t		 lens[10], marks[10], i, at5 = 0, at3 = 0;
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	const char	*p, *e;
	size_t		 len;

	for (i = 0; i < 10; i++) {
		lens[i] = 200 + i;
		at5 += i < 5 ? lens[i] : 0;
		at3 += i < 3 ? lens[i] : 0;
	}
	frame(lens, 10, &plain, &z, marks);
	set_file(z.p, z.len);
	sr = open_at(at5, BIG_LINE);
	is_int(segread_lines(sr, 1, &p, &len), SEGREAD_LINES, "skip: lines");
	ok(len == lens[5] && memcmp(p, plain.p + at5, len) == 0,
	    "after skipping 5 lines, the sixth");
	is_int((int64_t)segread_offset(sr), (int64_t)at5,
	    "offset: the skip until consumed");
	segread_close(sr);

	set_file(z.p, marks[2]);
	sr = open_at(at5, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "skip beyond the data: WAIT");
	is_int(segread_partial(sr), 1, "skip beyond the data: partial");
	is_int((int64_t)segread_offset(sr), (int64_t)at5,
	    "offset: the checkpoint meanwhile");
	append(z.p + marks[2], marks[4] - marks[2]);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "still short: WAIT");
	is_int((int64_t)g.nlines, 0, "no lines before the checkpoint");
	append(z.p + marks[4], z.len - marks[4]);
	is_int(drain(sr, 4096, &g), SEGREAD_END, "grown: END");
	ok(same(&g, &plain, at5), "the lines after the checkpoint, once");
	segread_close(sr);
	got_reset(&g);

	set_file(z.p, z.len);
	sr = open_at(at3 + 7, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_ERROR, "skip inside a line: ERROR");
	e = segread_error(sr);
	ok(strncmp(e, path, strlen(path)) == 0 && strstr(e, ": checkpoint ") &&
	    strstr(e, " is not at a line's end"), "it says so: %s", e);
	is_int(drain(sr, 4096, &g), SEGREAD_ERROR, "ERROR stays");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_spans(void)
{
	size_t		 lens[30], i;
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	const char	*p;
	size_t		 len;
	int		 good = 1;

	for (i = 0; i < 30; i++)
		lens[i] = 100;
	lens[7] = 1000;
	frame(lens, 30, &plain, &z, NULL);
	set_file(z.p, z.len);
	sr = open_at(0, BIG_LINE);
	is_int(segread_lines(sr, 350, &p, &len), SEGREAD_LINES, "lines");
	is_int(len, 300, "max 350: three lines of 100");
	segread_consume(sr, 100);
	is_int((int64_t)segread_offset(sr), 100, "partial consume: offset");
	is_int(segread_lines(sr, 350, &p, &len), SEGREAD_LINES, "lines again");
	ok(len == 300 && memcmp(p, plain.p + 100, len) == 0,
	    "from the second line on");
	segread_consume(sr, 0);
	is_int(segread_lines(sr, 350, &p, &len), SEGREAD_LINES, "consume 0");
	ok(len == 300 && memcmp(p, plain.p + 100, len) == 0, "the same lines");
	segread_consume(sr, 600);
	is_int(segread_lines(sr, 350, &p, &len), SEGREAD_LINES, "the long one");
	ok(len == 1000 && memcmp(p, plain.p + 700, len) == 0,
	    "a line over max comes alone, whole");
	segread_consume(sr, len);
	is_int(segread_lines(sr, 1, &p, &len), SEGREAD_LINES, "max 1");
	is_int(len, 100, "max 1: one line");
	segread_consume(sr, len);
	while ((i = (size_t)segread_lines(sr, 250, &p, &len)) == SEGREAD_LINES) {
		good &= len <= 250 && len % 100 == 0;
		segread_consume(sr, len);
	}
	ok(good, "max 250: spans of two lines, or fewer at the end");
	is_int((int64_t)i, SEGREAD_END, "then END");
	is_int((int64_t)segread_offset(sr), (int64_t)plain.len, "offset: all");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_long(void)
{
	size_t		 lens[8] = { 100, 1000, 5000, 100, 1001, 300, 70000, 50 };
	size_t		 marks[8], want_len = 0, i;
	struct buf	 plain = { 0 }, z = { 0 }, keep = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;

	frame(lens, 8, &plain, &z, marks);
	for (i = 0; i < 8; i++) {
		if (lens[i] <= 1000)
			put(&keep, plain.p + want_len, lens[i]);
		want_len += lens[i];
	}
	set_file(z.p, z.len);
	sr = open_at(0, 1000);
	is_int(drain(sr, 1 << 20, &g), SEGREAD_END, "long lines: END");
	is_int((int64_t)g.nlong, 3, "three lines over max_line 1000");
	ok(g.longs[0] == 5000 && g.longs[1] == 1001 && g.longs[2] == 70000,
	    "each reported with its length: %" PRIu64 " %" PRIu64 " %" PRIu64,
	    g.longs[0], g.longs[1], g.longs[2]);
	ok(same(&g, &keep, 0), "the others as written (1000 bytes is in)");
	is_int((int64_t)segread_offset(sr), (int64_t)plain.len,
	    "offset counts the dropped lines");
	segread_close(sr);
	got_reset(&g);

	/* The file ends inside the long line: dropped on as it grows. */
	set_file(z.p, marks[1]);
	sr = open_at(0, 1000);
	append(z.p + marks[1], (marks[2] - marks[1]) / 2);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "inside a long line: WAIT");
	is_int((int64_t)g.nlong, 0, "not reported yet");
	is_int(segread_partial(sr), 1, "partial");
	is_int((int64_t)segread_offset(sr), 1100,
	    "offset: at the long line's start");
	append(z.p + marks[1] + (marks[2] - marks[1]) / 2,
	    z.len - marks[1] - (marks[2] - marks[1]) / 2);
	is_int(drain(sr, 4096, &g), SEGREAD_END, "grown: END");
	ok(g.nlong == 3 && g.longs[0] == 5000, "reported once, whole: %" PRIu64,
	    g.longs[0]);
	ok(same(&g, &keep, 0), "the lines around it");
	segread_close(sr);

	/* A restart at a checkpoint taken inside a long line. */
	got_reset(&g);
	set_file(z.p, z.len);
	sr = open_at(1100, 1000);
	is_int(drain(sr, 4096, &g), SEGREAD_END, "from the long line's start");
	ok(g.nlong == 3 && g.longs[0] == 5000, "it is dropped again");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
	free(keep.p);
}

static void
test_frames(void)
{
	size_t		 a[5] = { 10, 20, 30, 40, 50 }, b[3] = { 500, 1, 600 };
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	size_t		 first;

	frame(a, 5, &plain, &z, NULL);
	first = z.len;
	frame(b, 3, &plain, &z, NULL);
	set_file(z.p, z.len);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 64, &g), SEGREAD_END, "two frames: END");
	ok(same(&g, &plain, 0) && g.nlines == 8, "lines of both frames");
	segread_close(sr);
	got_reset(&g);

	set_file(z.p, first);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 64, &g), SEGREAD_END, "first frame alone: END");
	append(z.p + first, 3);
	is_int(drain(sr, 64, &g), SEGREAD_WAIT, "a second one begun: WAIT");
	is_int(segread_partial(sr), 1, "partial");
	append(z.p + first + 3, z.len - first - 3);
	is_int(drain(sr, 64, &g), SEGREAD_END, "second frame: END");
	ok(same(&g, &plain, 0), "all the lines, once");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_plain(void)
{
	struct got	 g = { 0 };
	struct segread	*sr;
	struct buf	 plain = { 0 }, z = { 0 };
	size_t		 lens[2] = { 40, 60 };

	set_file("{\"a\":1}\n{\"b\":2}\n", 16);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "plain: WAIT, never END");
	ok(g.lines.len == 16 && g.nlines == 2, "plain: its lines");
	is_int(segread_zstd(sr), 0, "plain: not zstd");
	is_int(segread_partial(sr), 0, "plain, lines complete: not partial");
	append("{\"c\":", 5);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "unterminated: WAIT");
	is_int(segread_partial(sr), 1, "unterminated last line: partial");
	append("3}\n", 3);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "terminated: WAIT");
	ok(g.lines.len == 24 && memcmp(g.lines.p + 16, "{\"c\":3}\n", 8) == 0,
	    "the line completed");
	is_int(segread_partial(sr), 0, "not partial");
	is_int((int64_t)segread_file_offset(sr), 24, "file offset");
	segread_close(sr);
	got_reset(&g);

	set_file("a\n", 2);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "two bytes: WAIT");
	ok(g.lines.len == 2 && memcmp(g.lines.p, "a\n", 2) == 0,
	    "two bytes that are no magic: a plain line");
	segread_close(sr);
	got_reset(&g);

	frame(lens, 2, &plain, &z, NULL);
	set_file(z.p, 2);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "half a magic: WAIT");
	is_int(segread_partial(sr), 1, "half a magic: partial");
	is_int(segread_zstd(sr), 0, "kind not known yet");
	append(z.p + 2, z.len - 2);
	is_int(drain(sr, 4096, &g), SEGREAD_END, "the rest: END");
	ok(segread_zstd(sr) && same(&g, &plain, 0), "zstd, its lines");
	segread_close(sr);
	got_reset(&g);

	set_file(z.p, z.len - 3);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 4096, &g), SEGREAD_WAIT, "frame cut: WAIT");
	is_int(segread_partial(sr), 1, "frame cut: partial");
	ok(same(&g, &plain, 0), "frame cut: the flushed lines all came");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

static void
test_errors(void)
{
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	size_t		 lens[400], i;
	char		 err[512], want[300];
	const char	*e;
	unsigned long	 at;
	int		 r;

	errno = 0;
	snprintf(want, sizeof(want), "%s/none", dir);
	ok(segread_open(want, 0, 100, err, sizeof(err)) == NULL &&
	    errno == ENOENT, "a missing file: NULL, ENOENT");
	snprintf(want, sizeof(want), "%s/none: No such file or directory", dir);
	is_str(err, want, "the message says which");
	ok(segread_open(dir, 0, 100, err, sizeof(err)) == NULL,
	    "a directory: NULL");

	for (i = 0; i < 400; i++)
		lens[i] = rnd_in(50, 2000);
	frame(lens, 400, &plain, &z, NULL);
	for (i = z.len / 2; i < z.len / 2 + 4096; i++)
		z.p[i] = 0xff;
	set_file(z.p, z.len);
	sr = open_at(0, BIG_LINE);
	r = drain(sr, 4096, &g);
	is_int(r, SEGREAD_ERROR, "corrupt frame: ERROR");
	e = segread_error(sr);
	snprintf(want, sizeof(want), "%s: offset ", path);
	at = strtoul(e + strlen(want), NULL, 10);
	/* Within a block (128 KiB at most) and a slice of the bad bytes. */
	ok(strncmp(e, want, strlen(want)) == 0 && strstr(e, ": Data "
	    "corruption detected") && at + 144 * 1024 > z.len / 2 &&
	    at < z.len / 2 + 144 * 1024, "the path, a compressed offset, "
	    "zstd's words: %s (%zu of %zu corrupt)", e, z.len / 2, z.len);
	ok(g.lines.len < plain.len && memcmp(g.lines.p, plain.p,
	    g.lines.len) == 0, "lines before it as written (%zu of %zu)",
	    g.nlines, (size_t)400);
	is_int(drain(sr, 4096, &g), SEGREAD_ERROR, "ERROR stays");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

/*
 * Lines that compress to almost nothing: one decoder call fills the
 * output, and holds more, again and again.
 */
static void
test_held(void)
{
	ZSTD_CCtx	*c = cctx(3);
	struct buf	 plain = { 0 }, z = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	size_t		 i, at, len, waits = 0;
	char		 line[1000];
	int		 r = SEGREAD_WAIT;

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 4000; i++) {
		put(&plain, line, sizeof(line));
		zfeed(c, &z, line, sizeof(line), i % 500 == 499 ?
		    ZSTD_e_flush : ZSTD_e_continue);
	}
	zfeed(c, &z, "", 0, ZSTD_e_end);
	ZSTD_freeCCtx(c);
	set_file("", 0);
	sr = open_at(0, BIG_LINE);
	for (at = 0; at < z.len; at += len) {
		len = rnd_in(1, 40);
		if (len > z.len - at)
			len = z.len - at;
		append(z.p + at, len);
		r = drain(sr, rnd() % 2 ? 8 << 20 : 100000, &g);
		waits += r == SEGREAD_WAIT;
	}
	is_int(r, SEGREAD_END, "%zu compressed bytes for %zu: END", z.len,
	    plain.len);
	ok(same(&g, &plain, 0) && !g.badspan, "every line once (%zu WAIT)",
	    waits);
	segread_close(sr);
	got_reset(&g);

	set_file(plain.p, plain.len);
	sr = open_at(0, BIG_LINE);
	is_int(drain(sr, 8 << 20, &g), SEGREAD_WAIT, "the same, plain: WAIT");
	ok(same(&g, &plain, 0) && !g.badspan, "plain: every line once");
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
}

/*
 * One random segment: records of random sizes, flushes at random
 * points (inside records too), one to three frames, or plain; appended
 * in random chunks, read with random max and partial consumes,
 * reopened at the checkpoint now and then.
 */
static int
fuzz_one(int plainfile, struct buf *plain, struct buf *z)
{
	ZSTD_CCtx	*c = NULL;
	struct got	 g = { 0 };
	struct buf	 keep = { 0 };
	struct segread	*sr;
	const char	*p;
	char		*spare = NULL;
	size_t		 n, i, from, max_line, at, len, part, max, nl;
	size_t		 longs = 0, cap = 0, start;
	uint64_t	 longlen[64];
	int		 frames, r = SEGREAD_WAIT, good = 1, round;

	max_line = rnd() % 3 ? BIG_LINE : rnd_in(100, 2000);
	frames = (int)rnd_in(1, 3);
	n = rnd_in(0, 60);
	for (i = 0; i < n; i++) {
		from = plain->len;
		record(plain, i, rnd() % 8 ? rnd_in(1, 900) : rnd_in(1, 9000));
		len = plain->len - from;
		if (len <= max_line)
			put(&keep, plain->p + from, len);
		else if (longs < 64)
			longlen[longs++] = len;
		if (plainfile)
			continue;
		if (c == NULL)
			c = cctx((int)rnd_in(1, 5));
		part = rnd_in(0, len);
		zfeed(c, z, plain->p + from, part, rnd() % 4 ? ZSTD_e_continue :
		    ZSTD_e_flush);
		zfeed(c, z, plain->p + from + part, len - part,
		    rnd() % 3 ? ZSTD_e_flush : ZSTD_e_continue);
		if (frames > 1 && rnd() % (n / frames + 1) == 0) {
			zfeed(c, z, "", 0, ZSTD_e_end);
			frames--;
		}
	}
	if (plainfile)
		put(z, plain->p, plain->len);
	else {
		if (c == NULL)
			c = cctx(3);
		zfeed(c, z, "", 0, ZSTD_e_end);
		ZSTD_freeCCtx(c);
	}

	set_file("", 0);
	sr = open_at(0, max_line);
	for (at = 0, round = 0; at < z->len && round < 100000; round++) {
		len = rnd() % 4 ? rnd_in(1, 64) : rnd_in(1, 20000);
		if (len > z->len - at)
			len = z->len - at;
		append(z->p + at, len);
		at += len;
		if (rnd() % 16 == 0) {
			uint64_t	 off = segread_offset(sr);

			segread_close(sr);
			sr = open_at(off, max_line);
		}
		for (;;) {
			max = rnd_in(1, 3000);
			r = segread_lines(sr, max, &p, &len);
			if (r == SEGREAD_LONG) {
				if (g.nlong < 64)
					g.longs[g.nlong] = len;
				g.nlong++;
				continue;
			}
			if (r != SEGREAD_LINES)
				break;
			nl = (size_t)((const char *)memchr(p, '\n', len) - p) + 1;
			if (p[len - 1] != '\n' || (len > max && nl < len))
				g.badspan = 1;
			/* Sometimes only the first line is taken. */
			if (rnd() % 3 == 0)
				len = nl;
			if (rnd() % 2) {
				put(&g.lines, p, len);
				segread_consume(sr, len);
				continue;
			}
			/* Taken with the buffer, as a source does. */
			if (segread_take(sr, len, &spare, &cap, &start) == -1) {
				diag("segread_take: out of memory");
				good = 0;
				break;
			}
			put(&g.lines, spare + start, len);
			/* Given back, or swapped for a small or no buffer. */
			if (rnd() % 4 == 0) {
				free(spare);
				cap = rnd() % 2 ? rnd_in(1, 100) : 0;
				spare = cap ? malloc(cap) : NULL;
			}
		}
		if (r == SEGREAD_ERROR) {
			diag("%s", segread_error(sr));
			good = 0;
			break;
		}
	}
	if (r != (plainfile ? SEGREAD_WAIT : SEGREAD_END) ||
	    segread_partial(sr) || segread_offset(sr) != plain->len) {
		diag("ended with %d, partial %d, offset %" PRIu64 " of %zu", r,
		    segread_partial(sr), segread_offset(sr), plain->len);
		good = 0;
	}
	if (!same(&g, &keep, 0) || g.badspan || g.nlong != longs ||
	    (longs > 0 && memcmp(g.longs, longlen,
	    (longs < 64 ? longs : 64) * 8) != 0)) {
		diag("lines or long lines differ: %zu of %zu bytes, %zu long "
		    "of %zu, spans %s", g.lines.len, keep.len, g.nlong, longs,
		    g.badspan ? "bad" : "good");
		good = 0;
	}
	segread_close(sr);
	got_reset(&g);
	free(keep.p);
	free(spare);
	return good;
}

static void
test_fuzz(void)
{
	struct buf	 plain = { 0 }, z = { 0 };
	int		 i, good = 1;

	rng = 0x5eed5eed12345678ULL;
	for (i = 0; i < 200 && good; i++) {
		plain.len = z.len = 0;
		if (!(good = fuzz_one(i % 10 == 9, &plain, &z)))
			diag("iteration %d failed", i);
	}
	ok(good, "200 random segments read as written, consumed or taken");
	free(plain.p);
	free(z.p);
}

/* zstd(1), where there is one, decompresses to the same bytes. */
static void
test_cli(void)
{
	struct buf	 plain = { 0 }, z = { 0 }, cli = { 0 };
	struct got	 g = { 0 };
	struct segread	*sr;
	char		 cmd[600], chunk[65536];
	size_t		 lens[300], i, n;
	FILE		*f;

	if (system("zstd --version >/dev/null 2>&1") != 0) {
		ok(1, "# skip no zstd command");
		return;
	}
	for (i = 0; i < 300; i++)
		lens[i] = rnd_in(1, 3000);
	frame(lens, 100, &plain, &z, NULL);
	frame(lens + 100, 200, &plain, &z, NULL);
	set_file(z.p, z.len);
	snprintf(cmd, sizeof(cmd), "zstd -dcq '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		abort();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&cli, chunk, n);
	pclose(f);
	sr = open_at(0, BIG_LINE);
	drain(sr, 10000, &g);
	ok(g.lines.len == cli.len && memcmp(g.lines.p, cli.p, cli.len) == 0,
	    "zstd -dc gives the bytes read (%zu)", cli.len);
	segread_close(sr);
	got_reset(&g);
	free(plain.p);
	free(z.p);
	free(cli.p);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/segment", dir);
	test_growing();
	test_bytewise();
	test_skip();
	test_spans();
	test_long();
	test_frames();
	test_plain();
	test_errors();
	test_held();
	test_fuzz();
	test_cli();
	unlink(path);
	rmdir(dir);
	return done_testing();
}
