/*
 * segwriter: writes log segments into a directory as KumoMTA's local
 * logs do, for the tests and the benchmark of the segment sources.
 *
 *   segwriter -d DIR [-kLP] [-n RECORDS] [-b FIRST] [-p PREFIX]
 *       [-s MAX_FILE_SIZE] [-t MAX_SEGMENT_MS] [-f FLUSH_EVERY]
 *       [-r RATE] [-l LEVEL] [-x SUFFIX] [-T TYPE,TYPE... | -i FILE]
 *
 * A segment is a file of DIR named by the UTC time it was opened,
 * YYYYmmdd-HHMMSS.ffffff (chrono's "%Y%m%d-%H%M%S%.f" with microseconds)
 * followed by SUFFIX. It holds one zstd frame of JSON lines, one log
 * record a line. The frame is fed a record at a time and flushed (a
 * block ends, so that what came before it can be decoded) after every
 * FLUSH_EVERY records of the segment. A segment is closed when
 * MAX_FILE_SIZE uncompressed bytes were written to it, or
 * MAX_SEGMENT_MS after it was opened, even while no record comes: the
 * frame is ended, the file synced, and then its write bits are cleared,
 * which tells readers that it is complete. The next record opens the
 * next segment. At start, as KumoMTA does after a crash, every regular
 * file of DIR whose name does not start with '.' is made read-only.
 *
 *   -d DIR		the directory, made if missing
 *   -n RECORDS		how many records in all; 0 (default): until
 *			SIGTERM or SIGINT
 *   -b FIRST		the number of the first record (default 1)
 *   -p PREFIX		records' ids are PREFIX then the record's number in
 *			decimal, unpadded: "r1", "r2", ... (default "r")
 *   -s BYTES		MAX_FILE_SIZE (default 134217728, 128 MiB)
 *   -t MS		MAX_SEGMENT_MS (default 0: no time limit)
 *   -f N		FLUSH_EVERY (default 1); 0: only when the segment
 *			closes, so that the file grows by whole compressed
 *			blocks (about 128 KiB of records each) that end
 *			anywhere in a line, as KumoMTA's own do
 *   -r RATE		records per second (default 0: as fast as it can)
 *   -l LEVEL		zstd compression level (default 3; 0: zstd's own)
 *   -x SUFFIX		appended to every segment's name
 *   -T TYPES		record types to cycle through, comma separated
 *			(default Delivery)
 *   -i FILE		the records are FILE's lines instead, one after
 *			the other, from the first again after the last
 *			(empty lines left out), as they are: varied
 *			records compress as real logs do, where the
 *			records made here are near alike; -b, -p and -T
 *			do not apply
 *   -P			plain JSON lines, no zstd; a flush is a write(2) of
 *			the lines buffered since the last one
 *   -k			at the end leave the last segment open: its frame
 *			not ended, its write bits set, what was not flushed
 *			unwritten, as a writer that was killed leaves it
 *   -L			leave the files already in DIR as they are
 *
 * SIGTERM and SIGINT end the run after the record being written: the
 * last segment is closed (unless -k) and the exit status is 0.
 *
 * Standard output, a line each, flushed as written:
 *   closed NAME RECORDS BYTES		a segment was closed: its records and
 *					its size on disk
 *   open NAME RECORDS FLUSHED BYTES	(-k) the segment left open: records
 *					given to it, those of them flushed,
 *					its size on disk
 *   wrote N records in M segments	at the end
 * Exit 0 done, 1 failed (the message on standard error), 2 usage.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "util.h"

#define NAME_MAX_LEN	256
#define RECORD_MAX	4096
#define MAX_TYPES	16
/* A plain segment's buffer is written when full, as a stdio stream's. */
#define PLAIN_BUF	(128 * 1024)
/* Attempts at a name no other segment has, a microsecond apart. */
#define NAME_TRIES	100000

struct opts {
	const char	*dir;
	uint64_t	 records;	/* 0: until a signal */
	uint64_t	 first;
	const char	*prefix;
	uint64_t	 max_size;
	uint64_t	 max_ms;
	uint64_t	 flush_every;
	uint64_t	 rate;
	int		 level;
	const char	*suffix;
	char		*types[MAX_TYPES];
	int		 ntypes;
	const char	*input;		/* -i: a file of records */
	int		 plain;
	int		 keep_open;
	int		 leave_leftovers;
};

struct segment {
	int		 fd;		/* -1: none open */
	char		 name[NAME_MAX_LEN];
	uint64_t	 records;
	uint64_t	 flushed;	/* records known decodable */
	uint64_t	 raw;		/* uncompressed bytes given */
	uint64_t	 disk;		/* bytes written to the file */
	uint64_t	 opened_ms;	/* monotonic */
};

/* -i: the file's lines, each with its newline. */
struct lines {
	char		*text;
	size_t		*start;		/* each line's start and end */
	size_t		 nlines;
};

struct writer {
	const struct opts *o;
	struct lines	 in;
	int		 dirfd;
	ZSTD_CCtx	*cctx;
	unsigned char	*out;		/* compressed, or plain lines */
	size_t		 out_cap;
	size_t		 out_len;	/* plain: bytes buffered */
	struct segment	 seg;
	uint64_t	 last_name_us;	/* names only ever grow */
	uint64_t	 segments;
};

static volatile sig_atomic_t	stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: segwriter -d dir [-kLP] [-n records] "
	    "[-b first] [-p prefix]\n"
	    "           [-s max_file_size] [-t max_segment_ms] "
	    "[-f flush_every] [-r rate]\n"
	    "           [-l level] [-x suffix] [-T type,type... | -i file]"
	    "\n");
	exit(2);
}

static uint64_t
number_arg(int ch, const char *s, uint64_t min, uint64_t max)
{
	char		*end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		errx(2, "-%c %s: wants a number from %" PRIu64 " to %" PRIu64,
		    ch, s, min, max);
	return v;
}

/* Text that goes into a JSON string or a file name as it is. */
static const char *
plain_text_arg(int ch, const char *s, int may_be_empty)
{
	const char	*p;

	if (!may_be_empty && *s == '\0')
		errx(2, "-%c: must not be empty", ch);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' ||
		    *p == '/')
			errx(2, "-%c %s: no quotes, backslashes, slashes or "
			    "control characters", ch, s);
	return s;
}

static void
types_arg(struct opts *o, char *s)
{
	char		*t;

	o->ntypes = 0;
	while ((t = strsep(&s, ",")) != NULL) {
		if (o->ntypes == MAX_TYPES)
			errx(2, "-T: at most %d types", MAX_TYPES);
		o->types[o->ntypes++] = (char *)plain_text_arg('T', t, 0);
	}
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	static char	 delivery[] = "Delivery";
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->first = 1;
	o->prefix = "r";
	o->max_size = 128 * 1024 * 1024;
	o->flush_every = 1;
	o->level = 3;
	o->suffix = "";
	o->types[0] = delivery;
	o->ntypes = 1;
	while ((ch = getopt(argc, argv, "b:d:f:i:kLl:n:Pp:r:s:T:t:x:")) != -1) {
		switch (ch) {
		case 'b':
			o->first = number_arg(ch, optarg, 0, UINT64_MAX / 2);
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'f':
			o->flush_every = number_arg(ch, optarg, 0, UINT32_MAX);
			break;
		case 'i':
			o->input = optarg;
			break;
		case 'k':
			o->keep_open = 1;
			break;
		case 'L':
			o->leave_leftovers = 1;
			break;
		case 'l':
			o->level = (int)number_arg(ch, optarg, 0,
			    (uint64_t)ZSTD_maxCLevel());
			break;
		case 'n':
			o->records = number_arg(ch, optarg, 0, UINT64_MAX / 2);
			break;
		case 'P':
			o->plain = 1;
			break;
		case 'p':
			o->prefix = plain_text_arg(ch, optarg, 1);
			break;
		case 'r':
			o->rate = number_arg(ch, optarg, 0, 100000000);
			break;
		case 's':
			o->max_size = number_arg(ch, optarg, 1, UINT64_MAX / 2);
			break;
		case 'T':
			types_arg(o, optarg);
			break;
		case 't':
			o->max_ms = number_arg(ch, optarg, 0, UINT32_MAX);
			break;
		case 'x':
			o->suffix = plain_text_arg(ch, optarg, 1);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->dir == NULL)
		usage();
}

static uint64_t
real_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* KumoMTA's leftovers of a crashed run are complete from now on. */
static void
mark_leftovers_done(int dirfd, const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	int		 fd;

	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL)
		err(1, "%s", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (fchmodat(dirfd, e->d_name, st.st_mode & 07555, 0) == -1)
			err(1, "%s/%s", dir, e->d_name);
	}
	closedir(d);
}

static void
write_all(struct writer *w, const void *p, size_t len)
{
	const unsigned char *b = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(w->seg.fd, b, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s/%s", w->o->dir, w->seg.name);
		}
		b += n;
		len -= (size_t)n;
		w->seg.disk += (uint64_t)n;
	}
}

/*
 * Names are the opening time; one that a segment of this run had, or
 * that a file already has, is taken a microsecond later, so that names
 * sort in the order the segments were written.
 */
static void
open_segment(struct writer *w)
{
	struct segment	*s = &w->seg;
	struct tm	 tm;
	time_t		 secs;
	uint64_t	 us;
	int		 tries;

	us = real_us();
	for (tries = 0; tries < NAME_TRIES; tries++, us++) {
		if (us <= w->last_name_us)
			us = w->last_name_us + 1;
		w->last_name_us = us;
		secs = (time_t)(us / 1000000);
		if (gmtime_r(&secs, &tm) == NULL)
			errx(1, "the clock is out of range");
		snprintf(s->name, sizeof(s->name),
		    "%04d%02d%02d-%02d%02d%02d.%06u%s", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (unsigned)(us % 1000000), w->o->suffix);
		s->fd = openat(w->dirfd, s->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
		if (s->fd != -1)
			break;
		if (errno != EEXIST)
			err(1, "%s/%s", w->o->dir, s->name);
	}
	if (s->fd == -1)
		errx(1, "%s: no free segment name", w->o->dir);
	s->records = s->flushed = s->raw = s->disk = 0;
	s->opened_ms = mono_ms();
	w->segments++;
	if (!w->o->plain) {
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		w->out_len = 0;
	}
}

/* Feeds len bytes (none to flush or end) with mode; writes the output. */
static void
zstd_feed(struct writer *w, const void *p, size_t len,
    ZSTD_EndDirective mode)
{
	ZSTD_inBuffer	 in = { p, len, 0 };
	ZSTD_outBuffer	 out;
	size_t		 left;

	do {
		out = (ZSTD_outBuffer){ w->out, w->out_cap, 0 };
		left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			errx(1, "%s/%s: zstd: %s", w->o->dir, w->seg.name,
			    ZSTD_getErrorName(left));
		if (out.pos > 0)
			write_all(w, w->out, out.pos);
	} while (mode == ZSTD_e_continue ? in.pos < in.size : left != 0);
}

static void
plain_write_buffer(struct writer *w)
{
	if (w->out_len > 0)
		write_all(w, w->out, w->out_len);
	w->out_len = 0;
}

static void
plain_add(struct writer *w, const char *p, size_t len)
{
	size_t		 n;

	while (len > 0) {
		n = w->out_cap - w->out_len;
		if (n > len)
			n = len;
		memcpy(w->out + w->out_len, p, n);
		w->out_len += n;
		p += n;
		len -= n;
		if (w->out_len == w->out_cap)
			plain_write_buffer(w);
	}
}

static void
flush_segment(struct writer *w)
{
	if (w->o->plain)
		plain_write_buffer(w);
	else
		zstd_feed(w, NULL, 0, ZSTD_e_flush);
	w->seg.flushed = w->seg.records;
}

/* KumoMTA's order: the frame ends, then the write bits go. */
static void
close_segment(struct writer *w)
{
	struct segment	*s = &w->seg;
	struct stat	 st;

	if (w->o->plain)
		plain_write_buffer(w);
	else
		zstd_feed(w, NULL, 0, ZSTD_e_end);
	if (fsync(s->fd) == -1 || fstat(s->fd, &st) == -1 ||
	    fchmod(s->fd, st.st_mode & 07555) == -1)
		err(1, "%s/%s", w->o->dir, s->name);
	close(s->fd);
	s->fd = -1;
	printf("closed %s %" PRIu64 " %" PRIu64 "\n", s->name, s->records,
	    s->disk);
	fflush(stdout);
}

static int
segment_expired(const struct writer *w)
{
	return w->seg.fd != -1 && w->o->max_ms > 0 &&
	    mono_ms() - w->seg.opened_ms >= w->o->max_ms;
}

/*
 * Record number i, shaped as KumoMTA logs it (kumo-log-types'
 * JsonLogRecord); the first record of the run has the first type.
 */
static size_t
format_record(const struct opts *o, uint64_t i, char *buf, size_t cap)
{
	const char	*type = o->types[(i - o->first) % (uint64_t)o->ntypes];
	uint64_t	 now = now_ms() / 1000;
	int		 n;

	n = snprintf(buf, cap, "{\"type\":\"%s\",\"id\":\"%s%" PRIu64 "\","
	    "\"sender\":\"bounce-%" PRIu64 "@example.com\","
	    "\"recipient\":\"user%" PRIu64 "@example.net\","
	    "\"queue\":\"example.net\",\"site\":\"mx.example.net\","
	    "\"size\":%" PRIu64 ","
	    "\"response\":{\"code\":250,\"enhanced_code\":{\"class\":2,"
	    "\"subject\":0,\"detail\":0},\"content\":\"OK queued as %" PRIu64
	    "\",\"command\":\".\\r\\n\"},"
	    "\"peer_address\":{\"name\":\"mx.example.net\","
	    "\"addr\":\"192.0.2.1\"},"
	    "\"timestamp\":%" PRIu64 ",\"created\":%" PRIu64 ","
	    "\"num_attempts\":%u,\"bounce_classification\":\"Uncategorized\","
	    "\"egress_pool\":\"pool0\",\"egress_source\":\"source0\","
	    "\"source_address\":null,\"feedback_report\":null,"
	    "\"meta\":{\"campaign\":\"c%u\",\"tenant\":\"t1\","
	    "\"note\":\"caf\xc3\xa9 \xe2\x98\xba\"},"
	    "\"headers\":{\"Subject\":\"Hello \xf0\x9f\x98\x80 %" PRIu64 "\","
	    "\"X-Campaign\":\"c%u\"},"
	    "\"delivery_protocol\":\"ESMTP\",\"reception_protocol\":\"ESMTP\","
	    "\"nodeid\":\"00000000-0000-0000-0000-000000000001\"}\n",
	    type, o->prefix, i, i, i,
	    1000 + i % 100000, i, now, now - 10, (unsigned)(i % 4),
	    (unsigned)(i % 7), i, (unsigned)(i % 7));
	if (n < 0 || (size_t)n >= cap)
		errx(1, "record %" PRIu64 " does not fit", i);
	return (size_t)n;
}

/*
 * -i: the whole file, its lines indexed; a last line without a newline
 * is given one, so that every record ends its line.
 */
static void
load_lines(struct lines *in, const char *path)
{
	FILE		*f;
	size_t		 len = 0, cap = 0, n, i, from, cap_lines = 0;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((in->text = realloc(in->text, cap + 1)) == NULL)
				err(1, NULL);
		}
		len += n = fread(in->text + len, 1, cap - len, f);
	} while (n > 0);
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	if (len > 0 && in->text[len - 1] != '\n')
		in->text[len++] = '\n';
	in->nlines = 0;
	for (from = i = 0; i < len; i++) {
		if (in->text[i] != '\n')
			continue;
		if (i > from) {
			if (in->nlines == cap_lines) {
				cap_lines = cap_lines ? cap_lines * 2 : 1024;
				in->start = reallocarray(in->start, cap_lines,
				    2 * sizeof(*in->start));
				if (in->start == NULL)
					err(1, NULL);
			}
			in->start[2 * in->nlines] = from;
			in->start[2 * in->nlines + 1] = i + 1;
			in->nlines++;
		}
		from = i + 1;
	}
	if (in->nlines == 0)
		errx(1, "%s: no records", path);
}

static void
write_record(struct writer *w, uint64_t i)
{
	char		 buf[RECORD_MAX];
	const char	*rec = buf;
	size_t		 len, k;

	if (w->o->input != NULL) {
		k = 2 * (size_t)((i - w->o->first) % w->in.nlines);
		rec = w->in.text + w->in.start[k];
		len = w->in.start[k + 1] - w->in.start[k];
	} else
		len = format_record(w->o, i, buf, sizeof(buf));
	if (w->seg.fd == -1)
		open_segment(w);
	if (w->o->plain)
		plain_add(w, rec, len);
	else
		zstd_feed(w, rec, len, ZSTD_e_continue);
	w->seg.records++;
	w->seg.raw += len;
	if (w->o->flush_every > 0 &&
	    w->seg.records % w->o->flush_every == 0)
		flush_segment(w);
	if (w->seg.raw >= w->o->max_size || segment_expired(w))
		close_segment(w);
}

/*
 * Sleeps until the monotonic time due, but no longer than the open
 * segment may live, which is then closed: KumoMTA closes an expired
 * segment when its deadline comes, not at the next record.
 */
static void
wait_until_due(struct writer *w, uint64_t due)
{
	struct timespec	 ts;
	uint64_t	 now, until;

	while (!stopping && (now = mono_ms()) < due) {
		until = due;
		if (w->seg.fd != -1 && w->o->max_ms > 0 &&
		    w->seg.opened_ms + w->o->max_ms < until)
			until = w->seg.opened_ms + w->o->max_ms;
		if (until > now) {
			ts.tv_sec = (time_t)((until - now) / 1000);
			ts.tv_nsec = (long)((until - now) % 1000) * 1000000;
			nanosleep(&ts, NULL);
		}
		if (segment_expired(w))
			close_segment(w);
	}
}

static void
writer_init(struct writer *w, const struct opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = o;
	w->seg.fd = -1;
	if (o->input != NULL)
		load_lines(&w->in, o->input);
	if (mkdir(o->dir, 0777) == -1 && errno != EEXIST)
		err(1, "%s", o->dir);
	if ((w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		err(1, "%s", o->dir);
	if (o->plain) {
		w->out_cap = PLAIN_BUF;
	} else {
		if ((w->cctx = ZSTD_createCCtx()) == NULL)
			errx(1, "zstd: out of memory");
		if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx,
		    ZSTD_c_compressionLevel, o->level)))
			errx(1, "zstd: level %d refused", o->level);
		w->out_cap = ZSTD_CStreamOutSize();
	}
	if ((w->out = malloc(w->out_cap)) == NULL)
		err(1, NULL);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal cuts the wait for the next record short. */
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		err(1, "sigaction");
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	struct writer	 w;
	uint64_t	 n, start;

	parse_args(&o, argc, argv);
	catch_signals();
	writer_init(&w, &o);
	if (!o.leave_leftovers)
		mark_leftovers_done(w.dirfd, o.dir);
	start = mono_ms();
	for (n = 0; !stopping && (o.records == 0 || n < o.records); n++) {
		if (o.rate > 0)
			wait_until_due(&w, start + n * 1000 / o.rate);
		if (stopping)
			break;
		write_record(&w, o.first + n);
	}
	if (w.seg.fd != -1 && o.keep_open) {
		printf("open %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		    w.seg.name, w.seg.records, w.seg.flushed, w.seg.disk);
		close(w.seg.fd);
	} else if (w.seg.fd != -1)
		close_segment(&w);
	printf("wrote %" PRIu64 " records in %" PRIu64 " segments\n", n,
	    w.segments);
	fflush(stdout);
	ZSTD_freeCCtx(w.cctx);
	free(w.out);
	free(w.in.text);
	free(w.in.start);
	close(w.dirfd);
	return 0;
}
