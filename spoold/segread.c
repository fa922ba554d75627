/*
 * Reading a KumoMTA log segment as it grows; see segread.h.
 *
 * Hand-written around libzstd's streaming decoder rather than a pipe
 * from zstd(1) or a whole-file API: a segment is read while it is
 * still being written, so the decoder must stop at the file's end and
 * go on later with its state kept, and a checkpoint is a decompressed
 * offset, which only the reader's own count of bytes can give.
 *
 * The file is read in chunks into in[]; decompressed (or, plain,
 * copied) bytes go to out[], where out[start, len) is what is not
 * consumed yet: complete lines, then at most one unfinished line.
 * Bytes still to skip, and the bytes of a line too long, are dropped
 * from out[] as they come, so neither needs room.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "segread.h"

#define IN_SIZE		(128 * 1024)
/*
 * Input given to one decompression call: the decoder does not say how
 * far it got when it fails, so an error's offset is that of the call's
 * input, the start of its slice.
 */
#define IN_SLICE	(16 * 1024)
/* The least free room a decompression call gets in out[]. */
#define OUT_ROOM	(64 * 1024)
#define MAGIC_LEN	4

enum kind { KIND_UNKNOWN, KIND_PLAIN, KIND_ZSTD };

struct segread {
	int		 fd;
	char		*path;
	enum kind	 kind;
	ZSTD_DCtx	*dctx;
	size_t		 max_line;

	unsigned char	*in;
	size_t		 in_pos, in_len;
	uint64_t	 in_base;	/* file offset of in[0] */

	char		*out;
	size_t		 out_start, out_len, out_cap;

	uint64_t	 offset;	/* of out[start], or of a long line */
	uint64_t	 skip_left;
	int		 discarding;	/* inside a line too long */
	uint64_t	 long_len;

	int		 frame_done;	/* the last frame ended, flushed */
	int		 flush_held;	/* the decoder may hold output */
	int		 failed;
	char		 errmsg[PATH_MAX + 256];
};

static const unsigned char magic[MAGIC_LEN] = { 0x28, 0xb5, 0x2f, 0xfd };

static void
fail(struct segread *sr, uint64_t at, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(sr->errmsg, sizeof(sr->errmsg), "%s: offset %" PRIu64
	    ": ", sr->path, at);
	if (n < 0 || (size_t)n >= sizeof(sr->errmsg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(sr->errmsg + n, sizeof(sr->errmsg) - n, fmt, ap);
	va_end(ap);
	sr->failed = 1;
}

struct segread *
segread_open(const char *path, uint64_t skip, size_t max_line, char *err,
    size_t errlen)
{
	struct segread	*sr = NULL;
	struct stat	 st;
	int		 fd = -1, saved;

	if (max_line == 0) {
		saved = EINVAL;
		snprintf(err, errlen, "%s: max_line is 0", path);
		goto fail;
	}
	/* O_NONBLOCK: a FIFO put where a segment should be must not hang. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((sr = calloc(1, sizeof(*sr))) == NULL ||
	    (sr->path = strdup(path)) == NULL ||
	    (sr->in = malloc(IN_SIZE)) == NULL) {
		saved = ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	sr->fd = fd;
	sr->max_line = max_line;
	sr->offset = skip;
	sr->skip_left = skip;
	return sr;
fail:
	if (sr != NULL) {
		free(sr->path);
		free(sr);
	}
	if (fd != -1)
		close(fd);
	errno = saved;
	return NULL;
}

void
segread_close(struct segread *sr)
{
	if (sr == NULL)
		return;
	close(sr->fd);
	ZSTD_freeDCtx(sr->dctx);
	free(sr->in);
	free(sr->out);
	free(sr->path);
	free(sr);
}

/*
 * More of the file into in[], appended while the kind is not known (its
 * first bytes must stay), else in place of what was decoded: 1 bytes
 * came, 0 none now, -1 error.
 */
static int
read_more(struct segread *sr)
{
	ssize_t	 n;

	if (sr->kind != KIND_UNKNOWN) {
		sr->in_base += sr->in_len;
		sr->in_pos = sr->in_len = 0;
	}
	do
		n = read(sr->fd, sr->in + sr->in_len, IN_SIZE - sr->in_len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		fail(sr, sr->in_base + sr->in_len, "%s", strerror(errno));
		return -1;
	}
	sr->in_len += (size_t)n;
	return n > 0;
}

/*
 * The kind, from the first bytes: zstd only with the whole magic;
 * plain as soon as a byte differs from it. Bytes that are the start of
 * the magic leave it unknown (their plain reading, an unfinished line,
 * is as incomplete). 1 known, 0 not yet, -1 error.
 */
static int
detect(struct segread *sr)
{
	size_t	 n;
	int	 r;

	while (sr->in_len < MAGIC_LEN) {
		if ((r = read_more(sr)) <= 0)
			break;
	}
	if (sr->in_len == 0 || sr->failed)
		return sr->failed ? -1 : 0;
	n = sr->in_len < MAGIC_LEN ? sr->in_len : MAGIC_LEN;
	if (memcmp(sr->in, magic, n) != 0)
		sr->kind = KIND_PLAIN;
	else if (n < MAGIC_LEN)
		return 0;
	else {
		if ((sr->dctx = ZSTD_createDCtx()) == NULL) {
			fail(sr, 0, "%s", strerror(ENOMEM));
			return -1;
		}
		sr->kind = KIND_ZSTD;
	}
	return 1;
}

/* At least OUT_ROOM free at out[len], moving or growing out[]. */
static int
make_room(struct segread *sr)
{
	size_t	 keep = sr->out_len - sr->out_start, cap;
	char	*p;

	if (keep == 0)
		sr->out_start = sr->out_len = 0;
	if (sr->out_cap - sr->out_len >= OUT_ROOM)
		return 0;
	if (sr->out_start > 0) {
		memmove(sr->out, sr->out + sr->out_start, keep);
		sr->out_start = 0;
		sr->out_len = keep;
		if (sr->out_cap - keep >= OUT_ROOM)
			return 0;
	}
	cap = sr->out_cap ? sr->out_cap * 2 : 4 * OUT_ROOM;
	while (cap - keep < OUT_ROOM)
		cap *= 2;
	if ((p = realloc(sr->out, cap)) == NULL) {
		fail(sr, sr->in_base + sr->in_pos, "%s", strerror(ENOMEM));
		return -1;
	}
	sr->out = p;
	sr->out_cap = cap;
	return 0;
}

/*
 * One zstd call. Progress is input taken (the decoder may keep it
 * without output yet) or output given. A full output means the
 * decoder may hold more to flush, so the next call is made even
 * without input.
 */
static int
decode(struct segread *sr)
{
	ZSTD_inBuffer	 zin = { sr->in, sr->in_len, sr->in_pos };
	ZSTD_outBuffer	 zout = { sr->out, sr->out_cap, sr->out_len };
	size_t		 r;

	if (zin.size - zin.pos > IN_SLICE)
		zin.size = zin.pos + IN_SLICE;

	r = ZSTD_decompressStream(sr->dctx, &zout, &zin);
	if (ZSTD_isError(r)) {
		fail(sr, sr->in_base + zin.pos, "%s", ZSTD_getErrorName(r));
		return -1;
	}
	/* 0: the frame ended and all of it was flushed. */
	sr->frame_done = r == 0;
	sr->flush_held = r != 0 && zout.pos == zout.size;
	if (zin.pos == sr->in_pos && zout.pos == sr->out_len)
		return 0;
	sr->in_pos = zin.pos;
	sr->out_len = zout.pos;
	return 1;
}

/* More bytes into out[]: 1 some, 0 none now (the file's end), -1 error. */
static int
produce(struct segread *sr)
{
	size_t	 n;
	int	 r;

	if (sr->kind == KIND_UNKNOWN && (r = detect(sr)) <= 0)
		return r;
	if (make_room(sr) == -1)
		return -1;
	for (;;) {
		if (sr->in_pos == sr->in_len && !sr->flush_held &&
		    (r = read_more(sr)) <= 0)
			return r;
		if (sr->kind == KIND_ZSTD) {
			if ((r = decode(sr)) != 0)
				return r;
			/* Input and room, yet nothing done: never loop on it. */
			if (sr->in_pos < sr->in_len) {
				fail(sr, sr->in_base + sr->in_pos,
				    "the decoder makes no progress");
				return -1;
			}
			/* Nothing held after all: the next round reads. */
			sr->flush_held = 0;
			continue;
		}
		n = sr->in_len - sr->in_pos;
		if (n > sr->out_cap - sr->out_len)
			n = sr->out_cap - sr->out_len;
		memcpy(sr->out + sr->out_len, sr->in + sr->in_pos, n);
		sr->in_pos += n;
		sr->out_len += n;
		return 1;
	}
}

/*
 * Drops from out[] the bytes still to skip, then those of a line too
 * long: SEGREAD_LONG once its '\n' is dropped, SEGREAD_ERROR when the
 * skip ends inside a line, else SEGREAD_LINES (go on).
 */
static int
drop(struct segread *sr, size_t *len)
{
	size_t	 avail = sr->out_len - sr->out_start, n;
	char	*p = sr->out + sr->out_start, *nl;

	if (sr->skip_left > 0 && avail > 0) {
		n = sr->skip_left < avail ? (size_t)sr->skip_left : avail;
		sr->out_start += n;
		sr->skip_left -= n;
		avail -= n;
		if (sr->skip_left == 0 && p[n - 1] != '\n') {
			fail(sr, sr->in_base + sr->in_pos, "checkpoint %" PRIu64
			    " is not at a line's end", sr->offset);
			return SEGREAD_ERROR;
		}
		p += n;
	}
	if (!sr->discarding || avail == 0)
		return SEGREAD_LINES;
	nl = memchr(p, '\n', avail);
	n = nl != NULL ? (size_t)(nl - p) + 1 : avail;
	sr->out_start += n;
	sr->long_len += n;
	if (nl == NULL)
		return SEGREAD_LINES;
	/* Counted only now, so that the checkpoint stays at a line's end. */
	sr->offset += sr->long_len;
	sr->discarding = 0;
	*len = sr->long_len;
	return SEGREAD_LONG;
}

/*
 * The complete lines at out[start], at most max bytes of them unless
 * the first is longer: their length, 0 when none is complete. *full when more bytes could not
 * make the span longer. A first line too long starts the discarding.
 */
static size_t
span(struct segread *sr, size_t max, int *full)
{
	size_t	 avail = sr->out_len - sr->out_start, pos = 0, lim, n;
	char	*p = sr->out + sr->out_start, *nl;

	*full = 0;
	while (pos < avail) {
		lim = avail - pos;
		if (lim > sr->max_line)
			lim = sr->max_line;
		if ((nl = memchr(p + pos, '\n', lim)) == NULL) {
			if (lim < sr->max_line)
				break;
			/* A line too long: hand out those before it first. */
			if (pos == 0) {
				sr->discarding = 1;
				sr->long_len = 0;
			}
			*full = 1;
			break;
		}
		n = (size_t)(nl - (p + pos)) + 1;
		if (pos > 0 && pos + n > max) {
			*full = 1;
			break;
		}
		pos += n;
	}
	return pos;
}

int
segread_lines(struct segread *sr, size_t max, const char **buf, size_t *len)
{
	size_t	 n = 0;
	int	 r, full = 0, drained = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		if (sr->failed)
			return SEGREAD_ERROR;
		if ((r = drop(sr, len)) != SEGREAD_LINES)
			return r;
		/* Lines are looked for once enough bytes are here. */
		if (sr->skip_left == 0 && !sr->discarding &&
		    (drained || sr->out_len - sr->out_start >= max)) {
			n = span(sr, max, &full);
			if (sr->discarding)
				continue;
			if (n > 0 && (full || drained))
				break;
		}
		if (drained)
			break;
		if ((r = produce(sr)) == -1)
			return SEGREAD_ERROR;
		drained = r == 0;
	}
	if (n > 0) {
		*buf = sr->out + sr->out_start;
		*len = n;
		return SEGREAD_LINES;
	}
	if (sr->kind == KIND_ZSTD && sr->frame_done &&
	    sr->in_pos == sr->in_len && sr->out_start == sr->out_len &&
	    sr->skip_left == 0 && !sr->discarding)
		return SEGREAD_END;
	return SEGREAD_WAIT;
}

void
segread_consume(struct segread *sr, size_t len)
{
	if (len > sr->out_len - sr->out_start)
		len = sr->out_len - sr->out_start;
	sr->out_start += len;
	sr->offset += len;
}

int
segread_take(struct segread *sr, size_t len, char **buf, size_t *cap,
    size_t *start)
{
	size_t	 keep, ncap = *cap;
	char	*p = *buf;

	if (len > sr->out_len - sr->out_start)
		len = sr->out_len - sr->out_start;
	keep = sr->out_len - sr->out_start - len;
	if (ncap < sr->out_cap) {
		if ((p = realloc(p, sr->out_cap)) == NULL)
			return -1;
		ncap = sr->out_cap;
	}
	memcpy(p, sr->out + sr->out_start + len, keep);
	*buf = sr->out;
	*cap = sr->out_cap;
	*start = sr->out_start;
	sr->out = p;
	sr->out_cap = ncap;
	sr->out_start = 0;
	sr->out_len = keep;
	sr->offset += len;
	return 0;
}

uint64_t
segread_offset(const struct segread *sr)
{
	return sr->offset;
}

int
segread_partial(const struct segread *sr)
{
	if (sr->kind == KIND_UNKNOWN)
		return sr->in_len > 0 || sr->skip_left > 0;
	if (sr->skip_left > 0 || sr->discarding)
		return 1;
	if (sr->out_len > sr->out_start && sr->out[sr->out_len - 1] != '\n')
		return 1;
	return sr->kind == KIND_ZSTD && (!sr->frame_done || sr->flush_held ||
	    sr->in_pos < sr->in_len);
}

uint64_t
segread_file_offset(const struct segread *sr)
{
	return sr->in_base + sr->in_len;
}

const char *
segread_error(const struct segread *sr)
{
	return sr->failed ? sr->errmsg : "";
}

int
segread_zstd(const struct segread *sr)
{
	return sr->kind == KIND_ZSTD;
}
