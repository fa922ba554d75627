/*
 * segcat: prints the complete lines of log segments, zstd or plain,
 * including one that is still being written, whose last frame has not
 * ended and whose last line may be cut anywhere.
 *
 *   segcat [-s] FILE...
 *
 * A file that starts with the zstd magic number (or is shorter than it
 * and a start of it) is decoded as a stream of zstd frames, whatever is
 * decodable of it; any other file is plain JSON lines. Only lines ended
 * by '\n' are printed, each file's in turn.
 *
 *   -s	print no lines, but one line a file: "NAME LINES STATE"
 *
 * STATE is "complete" (every frame ended and the last line too; an
 * empty file is complete), "incomplete" (a frame not ended, or bytes
 * after the last '\n': what a writer that is still at work or was
 * killed leaves), or "corrupt" (zstd refused the data; LINES counts
 * the lines before). Without -s, an incomplete or corrupt file is
 * named on standard error as "segcat: FILE: incomplete: ..." or
 * "segcat: FILE: corrupt: ...".
 *
 * Exit 0 when every file is complete, 3 when one is incomplete and none
 * is corrupt, 1 when one is corrupt or cannot be read, 2 usage.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

enum state { COMPLETE, INCOMPLETE, CORRUPT, UNREADABLE };

static const char *const state_names[] = { "complete", "incomplete",
    "corrupt", "unreadable" };

struct cat {
	const char	*path;
	int		 summary;
	unsigned char	*line;		/* the line being gathered */
	size_t		 line_len;
	size_t		 line_cap;
	uint64_t	 lines;
	char		 why[160];
};

static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

/* Prints the complete lines of p, keeps the start of the next. */
static void
take(struct cat *c, const unsigned char *p, size_t len)
{
	const unsigned char *nl;
	size_t		 n;

	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		if (c->line_len + n > c->line_cap) {
			while (c->line_len + n > c->line_cap)
				c->line_cap = c->line_cap ? c->line_cap * 2 :
				    4096;
			if ((c->line = realloc(c->line, c->line_cap)) == NULL)
				err(1, NULL);
		}
		memcpy(c->line + c->line_len, p, n);
		c->line_len += n;
		if (nl != NULL) {
			if (!c->summary)
				fwrite(c->line, 1, c->line_len, stdout);
			c->lines++;
			c->line_len = 0;
		}
		p += n;
		len -= n;
	}
}

static enum state
cat_plain(struct cat *c, int fd, unsigned char *head, size_t head_len)
{
	unsigned char	 buf[65536];
	ssize_t		 n;

	take(c, head, head_len);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1)
			return UNREADABLE;
		take(c, buf, (size_t)n);
	}
	return COMPLETE;
}

/*
 * ZSTD_decompressStream answers 0 once a frame is decoded and flushed
 * whole; anything else at the end of the file means a frame was cut.
 * A full output buffer may leave decoded bytes behind: ask again.
 */
static enum state
cat_zstd(struct cat *c, int fd, unsigned char *head, size_t head_len)
{
	ZSTD_DCtx	*dctx;
	unsigned char	 in_buf[65536], out_buf[131072];
	ZSTD_inBuffer	 in;
	ZSTD_outBuffer	 out;
	size_t		 ret;
	ssize_t		 n;
	enum state	 st = COMPLETE;

	if ((dctx = ZSTD_createDCtx()) == NULL)
		errx(1, "zstd: out of memory");
	memcpy(in_buf, head, head_len);
	n = (ssize_t)head_len;
	do {
		in = (ZSTD_inBuffer){ in_buf, (size_t)n, 0 };
		do {
			out = (ZSTD_outBuffer){ out_buf, sizeof(out_buf), 0 };
			ret = ZSTD_decompressStream(dctx, &out, &in);
			if (ZSTD_isError(ret)) {
				snprintf(c->why, sizeof(c->why), "%s",
				    ZSTD_getErrorName(ret));
				st = CORRUPT;
				goto done;
			}
			take(c, out_buf, out.pos);
		} while (in.pos < in.size || out.pos == out.size);
	} while ((n = read(fd, in_buf, sizeof(in_buf))) > 0);
	if (n == -1)
		st = UNREADABLE;
	else if (ret != 0) {
		snprintf(c->why, sizeof(c->why), "frame not ended");
		st = INCOMPLETE;
	}
done:
	ZSTD_freeDCtx(dctx);
	return st;
}

static enum state
cat_file(struct cat *c)
{
	unsigned char	 head[sizeof(zstd_magic)];
	size_t		 head_len = 0;
	ssize_t		 n;
	enum state	 st;
	int		 fd;

	c->lines = 0;
	c->line_len = 0;
	c->why[0] = '\0';
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) == -1)
		return UNREADABLE;
	while (head_len < sizeof(head) &&
	    (n = read(fd, head + head_len, sizeof(head) - head_len)) != 0) {
		if (n == -1) {
			close(fd);
			return UNREADABLE;
		}
		head_len += (size_t)n;
	}
	if (head_len > 0 && memcmp(head, zstd_magic, head_len) == 0)
		st = cat_zstd(c, fd, head, head_len);
	else
		st = cat_plain(c, fd, head, head_len);
	close(fd);
	if (st == COMPLETE && c->line_len > 0) {
		snprintf(c->why, sizeof(c->why), "%zu bytes after the last "
		    "line", c->line_len);
		st = INCOMPLETE;
	}
	return st;
}

int
main(int argc, char **argv)
{
	struct cat	 c;
	enum state	 st, worst = COMPLETE;
	int		 ch, i;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "s")) != -1) {
		switch (ch) {
		case 's':
			c.summary = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		goto usage;
	for (i = optind; i < argc; i++) {
		c.path = argv[i];
		if ((st = cat_file(&c)) == UNREADABLE && c.why[0] == '\0')
			snprintf(c.why, sizeof(c.why), "%s", strerror(errno));
		if (c.summary)
			printf("%s %llu %s\n", c.path,
			    (unsigned long long)c.lines, state_names[st]);
		else if (st != COMPLETE)
			warnx("%s: %s: %s", c.path, state_names[st], c.why);
		if (st > worst)
			worst = st;
	}
	free(c.line);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return worst == COMPLETE ? 0 : worst == INCOMPLETE ? 3 : 1;
usage:
	fprintf(stderr, "usage: segcat [-s] file...\n");
	return 2;
}
