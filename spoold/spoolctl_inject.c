/*
 * inject: NDJSON records checked whole, then sent to spoold in pieces,
 * each committed before the next goes. On a terminal, a line on
 * standard error says how far it got.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jscan.h"
#include "spoolctl.h"
#include "util.h"

/* Injected files go in pieces of this size at most, cut at line ends. */
#define INJECT_CHUNK	(8U << 20)
/* The progress line is drawn at most this often. */
#define PROGRESS_MS	200

struct check {
	uint64_t	 max_record;
	size_t		 big;
	size_t		 n;
};

struct progress {
	int		 tty;
	int		 drawn;
	uint64_t	 last_ms;
};

static void
read_all(FILE *fp, const char *name, struct buf *b)
{
	char	 chunk[65536];
	size_t	 n;
	char	*p;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((p = realloc(b->p, b->len + n)) == NULL)
			die("out of memory");
		memcpy(p + b->len, chunk, n);
		b->p = p;
		b->len += n;
	}
	if (ferror(fp))
		die("%s: %s", name, strerror(errno));
}

static int
check_rec(void *arg, size_t index, const struct jscan_rec *rec)
{
	struct check	*c = arg;

	c->n++;
	if (rec->len > c->max_record) {
		c->big = index;
		return 1;
	}
	return 0;
}

/*
 * Everything is checked before anything is sent, with the same scanner
 * and limit as spoold, so a bad record refuses the whole file. Returns
 * how many records there are.
 */
static size_t
inject_check(const struct buf *b, const char *name, uint64_t max_record)
{
	struct check	 c = { max_record, 0, 0 };
	struct jscan_err err;
	int		 rc;

	rc = jscan_ndjson_body(b->p, b->len, check_rec, &c, &err);
	if (rc == -1)
		die("%s: record %zu: %s (byte %zu); nothing injected", name,
		    err.index, err.msg, err.offset);
	if (rc != 0)
		die("%s: record %zu: larger than max_record_size (%llu "
		    "bytes); nothing injected", name, c.big,
		    (unsigned long long)max_record);
	return c.n;
}

static size_t
chunk_end(const struct buf *b, size_t off, size_t chunk)
{
	size_t	 end = off + chunk;
	char	*nl;

	if (end >= b->len)
		return b->len;
	nl = memrchr(b->p + off, '\n', end - off);
	if (nl == NULL)		/* one record longer than a chunk */
		nl = memchr(b->p + end, '\n', b->len - end);
	return nl ? (size_t)(nl - b->p) + 1 : b->len;
}

/*
 * After a piece that is not the last: one line, written over, so that
 * an input of one piece draws none and what stays is the final count.
 */
static void
progress(struct progress *p, json_int_t acc, size_t nrecs, size_t off,
    size_t len)
{
	uint64_t	 now;

	if (!p->tty || off >= len)
		return;
	now = mono_ms();
	if (p->drawn && now - p->last_ms < PROGRESS_MS)
		return;
	p->drawn = 1;
	p->last_ms = now;
	fprintf(stderr, "\rinjecting: %lld of %zu records, %.1f of %.1f MiB "
	    "(%d%%)", (long long)acc, nrecs, off / 1048576.0, len / 1048576.0,
	    (int)(off * 100 / len));
}

static void
progress_end(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
}

int
cmd_inject(int argc, char *argv[], const struct config *conf)
{
	struct progress	 pr = { isatty(STDERR_FILENO), 0, 0 };
	struct buf	 b = { NULL, 0 };
	json_t		*reply;
	const char	*name = "standard input";
	FILE		*fp = stdin;
	json_int_t	 acc = 0, q = 0, d = 0;
	size_t		 off, end, chunk, nrecs;
	long		 status;
	struct opts	 o;

	argv = get_opts(&argc, argv, "", &o);
	if (argc > 1)
		usage();
	if (argc == 1 && strcmp(argv[0], "-") != 0) {
		name = argv[0];
		if ((fp = fopen(name, "r")) == NULL)
			die("%s: %s", name, strerror(errno));
	}
	read_all(fp, name, &b);
	if (fp != stdin)
		fclose(fp);
	nrecs = inject_check(&b, name, conf->max_record_size);
	chunk = conf->max_request_size < INJECT_CHUNK ?
	    conf->max_request_size : INJECT_CHUNK;
	for (off = 0; off < b.len || off == 0; off = end) {
		end = chunk_end(&b, off, chunk);
		status = request("POST", "/inject", b.p + off, end - off,
		    &reply);
		if (status == UNREACHABLE && acc == 0)
			not_running("inject");
		if (status != 200) {
			progress_end(&pr);
			die("%s: %s (%lld records injected before this)", name,
			    status == UNREACHABLE ? "spoold stopped" :
			    reply_error(reply), (long long)acc);
		}
		acc += num(reply, "accepted");
		q += num(reply, "queued");
		d += num(reply, "discarded");
		json_decref(reply);
		progress(&pr, acc, nrecs, end, b.len);
		if (end == b.len)
			break;
	}
	progress_end(&pr);
	free(b.p);
	if (json_out)
		printf("{\"accepted\":%lld,\"queued\":%lld,\"discarded\":%lld}\n",
		    (long long)acc, (long long)q, (long long)d);
	else
		printf("injected %lld records: %lld queued, %lld discarded\n",
		    (long long)acc, (long long)q, (long long)d);
	return 0;
}
