/*
 * One log source's thread: it follows the segments of a directory in
 * name order, reads each as it grows (segread.c), and spools its
 * records a batch at a time, each batch in one transaction with the
 * checkpoint that covers it (meta "src" NAME: segment, decompressed
 * offset, line), so that a crash at any moment neither loses nor
 * doubles a record on the way in.
 *
 * A segment is finished when it is read-only (KumoMTA clears its write
 * bits once it closed it) and read to its end: its frame ended, no line
 * left half written. A read-only segment that ends in the middle of a
 * frame or a line is truncated, and stops the source like a corrupt one
 * until the operator moves it on (spoolctl source skip). Invalid lines
 * are counted, logged and skipped: the MTA wrote them, and refusing them
 * cannot make it write them again.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "jscan.h"
#include "log.h"
#include "segread.h"
#include "source_dir.h"
#include "source_int.h"
#include "spoold.h"
#include "util.h"

/*
 * Decompressed bytes of lines a batch takes, at most (one line more).
 * A batch the spool refuses as too much comes again smaller, down to a
 * line, so that a spool fuller than a batch still takes records as
 * deliveries free room; batches grow back as they go in.
 */
#define BATCH_BYTES	(4U << 20)
#define BATCH_MIN	(4U << 10)
/*
 * Batches sent and not yet answered while the next is read: one at the
 * committer, one at each packer.
 */
#define FLY_MAX		(1 + SPACK_THREADS)
/* A paused source tries again this often. */
#define PAUSE_RETRY_MS	100
/* A spool that stays full is said again this often. */
#define PAUSE_LOG_MS	60000
/* Waits re-check the directory at least this often, inotify or not. */
#define RECHECK_MS	1000
/* How often "behind" is counted while records flow. */
#define BEHIND_MS	1000
/* Invalid lines of a segment logged one by one; the rest are counted. */
#define INVALID_LOGGED	10

struct run {
	struct src	*s;
	int		 ino;		/* inotify, -1: polling */
	struct segread	*sr;
	struct source_mark at;		/* as committed */
	struct source_mark read;	/* as read: batches not yet answered */
	struct sbatch	*fly[FLY_MAX + 1];	/* sent, oldest first */
	size_t		 nfly;
	struct sbatch	*spare[FLY_MAX + 2];
	size_t		 nspare;
	char		 path[PATH_MAX];
	int		 failed;
	uint64_t	 paused_logged;	/* when a pause was last logged */
	int		 paused;	/* waiting for room in the spool */
	int		 dir_error;	/* the directory could not be read */
	uint64_t	 behind_at;		/* when last counted */
	size_t		 max_line;	/* a record and its newline */
	size_t		 batch;		/* bytes of lines a batch takes */
};

void
source_wake(struct src *s)
{
	uint64_t	 one = 1;

	if (write(s->evfd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("source %s: wake", s->cfg.name);
}

static void
set_state(struct run *r, int state, const char *error)
{
	pthread_mutex_lock(&r->s->lock);
	r->s->st.state = state;
	r->s->st.at = r->at;
	if (error != NULL)
		snprintf(r->s->st.error, sizeof(r->s->st.error), "%s", error);
	else if (state != SOURCE_FAILED)
		r->s->st.error[0] = '\0';
	pthread_mutex_unlock(&r->s->lock);
}

static void
count(struct run *r, uint64_t *field)
{
	pthread_mutex_lock(&r->s->lock);
	(*field)++;
	pthread_mutex_unlock(&r->s->lock);
}

/*
 * The segment after `after` in name order ("": the first; newest: the
 * last of all), into next unless it is NULL; and, for the status, what
 * is left to read. 1 found, 0 none, -1 the directory cannot be read.
 */
static int
scan(struct run *r, const char *after, int newest, char *next, size_t len)
{
	struct source_behind	 b;
	struct stat		 st;
	int			 found;

	if ((found = source_dir_scan(&r->s->cfg, after, newest, next, len,
	    &b)) == -1) {
		if (!r->dir_error)
			log_warn("source %s: %s", r->s->cfg.name,
			    r->s->cfg.directory);
		r->dir_error = 1;
		return -1;
	}
	r->dir_error = 0;
	if (r->sr != NULL && stat(r->path, &st) == 0) {
		b.segments++;
		b.bytes += (uint64_t)st.st_size - segread_file_offset(r->sr);
	}
	pthread_mutex_lock(&r->s->lock);
	r->s->st.behind_segments = b.segments;
	r->s->st.behind_bytes = b.bytes;
	pthread_mutex_unlock(&r->s->lock);
	r->behind_at = mono_ms();
	return found;
}

/*
 * Commits the checkpoint to, with no records: where the source moved
 * to; on success, it is where the source is. STORE_* of the commit.
 */
static int
commit_mark(struct run *r, const struct source_mark *to)
{
	unsigned char		 key[SOURCE_KEY_MAX], val[SOURCE_MARK_MAX];
	struct commit_req	 req;
	int			 rc;

	memset(&req, 0, sizeof(req));
	req.job.mark_key = key;
	req.job.mark_keylen = source_mark_key(r->s->cfg.name, key);
	req.job.mark_val = val;
	req.job.mark_vallen = source_mark_encode(to, val);
	if ((rc = commit_submit(&req)) == STORE_OK) {
		r->at = r->read = *to;
		set_state(r, SOURCE_READING, NULL);
	}
	return rc;
}

void
source_invalid(struct src *s, const char *segment, uint64_t line,
    const char *why)
{
	uint64_t	 n;

	pthread_mutex_lock(&s->lock);
	s->st.invalid++;
	if (strcmp(s->bad_segment, segment) != 0) {
		snprintf(s->bad_segment, sizeof(s->bad_segment), "%s",
		    segment);
		s->bad_logged = 0;
	}
	n = s->bad_logged++;
	pthread_mutex_unlock(&s->lock);
	if (n < INVALID_LOGGED)
		log_warnx("source %s: %s/%s:%llu: %s; the line is skipped",
		    s->cfg.name, s->cfg.directory, segment,
		    (unsigned long long)line, why);
	else if (n == INVALID_LOGGED)
		log_warnx("source %s: %s/%s: more invalid lines; they are "
		    "counted, not logged", s->cfg.name, s->cfg.directory,
		    segment);
}

static void
close_segment(struct run *r)
{
	segread_close(r->sr);
	r->sr = NULL;
}

/*
 * A refused batch: the source waits for room, with smaller batches, and
 * says so at most once a minute.
 */
static int
pause_reading(struct run *r, int rc)
{
	uint64_t	 now = mono_ms();

	if (rc == STORE_EFULL && r->batch > BATCH_MIN)
		r->batch /= 2;
	if (r->paused_logged == 0 || now - r->paused_logged >= PAUSE_LOG_MS) {
		log_warnx("source %s: the spool %s: reading paused until it "
		    "takes records again", r->s->cfg.name, rc == STORE_EFULL ?
		    "is full" : "refused a write");
		r->paused_logged = now;
	}
	r->paused = 1;
	set_state(r, SOURCE_PAUSED, NULL);
	return 1;
}

/* The oldest batch sent, answered: OK, its checkpoint is where it is. */
static int
land_one(struct run *r)
{
	struct sbatch	*b = r->fly[0];
	int		 rc;

	r->nfly--;
	memmove(r->fly, r->fly + 1, r->nfly * sizeof(*r->fly));
	if ((rc = sbatch_wait(b)) == STORE_OK) {
		r->at = b->to;
		r->paused = 0;
		set_state(r, SOURCE_READING, NULL);
		if (r->batch < BATCH_BYTES)
			r->batch *= 2;
	}
	r->spare[r->nspare++] = b;
	return rc;
}

/*
 * Batches sent, answered until at most keep are left. Once one is
 * refused, all are: those after it were refused with it, and they and
 * whatever was read after them are read again, from the checkpoint
 * before it, and the source pauses. STORE_*.
 */
static int
land_to(struct run *r, size_t keep)
{
	int	 rc = STORE_OK, brc;

	while (r->nfly > (rc == STORE_OK ? keep : 0))
		if ((brc = land_one(r)) != STORE_OK && rc == STORE_OK)
			rc = brc;
	if (rc != STORE_OK) {
		spack_resume(r->s);
		close_segment(r);
		r->read = r->at;
		pause_reading(r, rc);
	}
	return rc;
}

/* Every batch sent, answered. */
static int
land(struct run *r)
{
	return land_to(r, 0);
}

/*
 * A span of lines goes out as a batch; the reader goes on while the
 * packer and the committer take it. 0, or 1: wait.
 */
static int
send_lines(struct run *r, size_t len)
{
	struct sbatch	*b;
	size_t		 start;

	if (r->nspare > 0)
		b = r->spare[--r->nspare];
	else if ((b = sbatch_new(r->s)) == NULL)
		goto fail;
	/* Read again from the checkpoint should the batch fail. */
	if (segread_take(r->sr, len, &b->buf, &b->cap, &start) == -1 ||
	    sbatch_split(b, start, len, &r->read) == -1) {
		r->spare[r->nspare++] = b;
		goto fail;
	}
	/* With none in flight, the checkpoint's count is the one to go on. */
	b->reset = r->nfly == 0;
	b->base = r->at.records;
	r->read = b->to;
	r->fly[r->nfly++] = b;
	sbatch_send(b);
	return land_to(r, FLY_MAX) != STORE_OK;
fail:
	if (land(r) == STORE_OK) {
		close_segment(r);
		r->read = r->at;
		pause_reading(r, STORE_EIO);
	}
	return 1;
}

/* Waits for the directory to change, a wake, or the timeout. */
static void
wait_change(struct run *r)
{
	struct pollfd	 pfd[2];
	char		 buf[4096];
	uint64_t	 v;
	int		 timeout, n = 1;

	timeout = r->s->cfg.poll_watcher_ms ? (int)r->s->cfg.poll_watcher_ms :
	    RECHECK_MS;
	/* Deliveries free room all the time: look again soon. */
	if (r->paused && timeout > PAUSE_RETRY_MS)
		timeout = PAUSE_RETRY_MS;
	pfd[0].fd = r->s->evfd;
	pfd[0].events = POLLIN;
	if (r->ino != -1) {
		pfd[1].fd = r->ino;
		pfd[1].events = POLLIN;
		n = 2;
	}
	if (poll(pfd, n, timeout) <= 0)
		return;
	if (pfd[0].revents & POLLIN && read(r->s->evfd, &v, sizeof(v)) == -1 &&
	    errno != EAGAIN)
		log_warn("source %s", r->s->cfg.name);
	if (n == 2 && pfd[1].revents & POLLIN)
		while (read(r->ino, buf, sizeof(buf)) > 0)
			;
}

/*
 * Goes on with the segment after the current one, if there is one
 * yet. The move is committed: once a segment is done, the source never
 * needs it again, and KumoMTA may delete it. 1 moved, 0 not yet.
 */
static int
next_segment(struct run *r)
{
	struct source_mark	 to;
	char			 next[SOURCE_SEGMENT_MAX + 1];
	int			 rc;

	if (land(r) != STORE_OK)
		return 0;
	to = r->at;
	if ((rc = scan(r, r->at.segment, 0, next, sizeof(next))) != 1) {
		if (r->at.offset != SOURCE_DONE) {
			to.offset = SOURCE_DONE;
			if (commit_mark(r, &to) != STORE_OK)
				return 0;
		}
		close_segment(r);
		pthread_mutex_lock(&r->s->lock);
		r->s->st.behind_segments = r->s->st.behind_bytes = 0;
		pthread_mutex_unlock(&r->s->lock);
		set_state(r, SOURCE_WAITING, NULL);
		return 0;
	}
	snprintf(to.segment, sizeof(to.segment), "%s", next);
	to.offset = 0;
	to.line = 0;
	if (commit_mark(r, &to) != STORE_OK)
		return 0;
	close_segment(r);
	r->failed = 0;
	return 1;
}

static void
fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
fail(struct run *r, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errorx("source %s: %s; the source stops here until "
	    "\"spoolctl source skip %s\"", r->s->cfg.name, msg,
	    r->s->cfg.name);
	land(r);
	r->failed = 1;
	close_segment(r);
	r->read = r->at;
	set_state(r, SOURCE_FAILED, msg);
}

/* Opens the current segment where the checkpoint says; 0, or -1. */
static int
open_segment(struct run *r)
{
	char	 err[512];

	snprintf(r->path, sizeof(r->path), "%s/%s", r->s->cfg.directory,
	    r->at.segment);
	r->sr = segread_open(r->path, r->read.offset, r->max_line, err,
	    sizeof(err));
	if (r->sr != NULL)
		return 0;
	if (errno == ENOENT) {
		count(r, &r->s->st.missing);
		log_warnx("source %s: %s was deleted before it was read to "
		    "its end (line %llu); going on with the next segment",
		    r->s->cfg.name, r->path, (unsigned long long)r->at.line);
		r->at.offset = SOURCE_DONE;
		r->read = r->at;
		return -1;
	}
	fail(r, "%s", err);
	return -1;
}

/* The segment a source never read before starts with, if there is one. */
static void
first_segment(struct run *r)
{
	struct source_mark	 to;
	char			 name[SOURCE_SEGMENT_MAX + 1];

	if (scan(r, "", r->s->cfg.newest, name, sizeof(name)) != 1) {
		set_state(r, SOURCE_WAITING, NULL);
		return;
	}
	memset(&to, 0, sizeof(to));
	snprintf(to.segment, sizeof(to.segment), "%s", name);
	commit_mark(r, &to);
}

/* One step of reading the current segment; 1: wait before the next. */
static int
read_step(struct run *r)
{
	struct stat	 st;
	const char	*buf;
	size_t		 len;
	char		 why[80];
	int		 ro;

	if (r->sr == NULL && open_segment(r) == -1)
		return r->failed;
	/* The mode first: a write before the bits went is read below. */
	ro = stat(r->path, &st) == 0 && (st.st_mode & 0222) == 0;
	switch (segread_lines(r->sr, r->batch, &buf, &len)) {
	case SEGREAD_LINES:
		if (send_lines(r, len) != 0)
			return 1;
		if (mono_ms() - r->behind_at >= BEHIND_MS)
			scan(r, r->at.segment, 0, NULL, 0);
		return 0;
	case SEGREAD_LONG:
		r->read.line++;
		r->read.offset = segread_offset(r->sr);
		snprintf(why, sizeof(why), "larger than max_record_size (%zu "
		    "bytes)", r->max_line - 1);
		source_invalid(r->s, r->read.segment, r->read.line, why);
		return 0;
	case SEGREAD_END:
		if (ro)
			return !next_segment(r);
		break;
	case SEGREAD_WAIT:
		if (!ro)
			break;
		if (segread_partial(r->sr)) {
			fail(r, "%s: read-only but incomplete: it ends in the "
			    "middle of a %s at offset %llu", r->path,
			    segread_zstd(r->sr) ? "frame or line" : "line",
			    (unsigned long long)segread_file_offset(r->sr));
			return 1;
		}
		return !next_segment(r);
	default:
		fail(r, "%s", segread_error(r->sr));
		return 1;
	}
	/* All there is now is read: let the last batch land first. */
	if (land(r) != STORE_OK)
		return 1;
	set_state(r, SOURCE_WAITING, NULL);
	return 1;
}

/* spoolctl source skip: the rest of the current segment is let go. */
static void
do_skip(struct run *r)
{
	struct source_mark	 to = r->at;
	uint64_t		 asked;
	char			 msg[512];

	pthread_mutex_lock(&r->s->lock);
	asked = r->s->skip_asked;
	pthread_mutex_unlock(&r->s->lock);
	if (asked == r->s->skip_done)
		return;
	land(r);
	to = r->at;
	if (r->at.segment[0] == '\0')
		snprintf(msg, sizeof(msg), "no segment to skip yet");
	else if (r->at.offset == SOURCE_DONE)
		snprintf(msg, sizeof(msg), "%s was read to its end already",
		    r->at.segment);
	else {
		to.offset = SOURCE_DONE;
		if (commit_mark(r, &to) != STORE_OK)
			snprintf(msg, sizeof(msg), "the spool refused the "
			    "checkpoint: nothing skipped");
		else {
			snprintf(msg, sizeof(msg), "skipped %s from line %llu",
			    to.segment, (unsigned long long)to.line + 1);
			log_warnx("source %s: %s, as asked", r->s->cfg.name,
			    msg);
			close_segment(r);
			r->failed = 0;
		}
	}
	r->read = r->at;
	pthread_mutex_lock(&r->s->lock);
	r->s->skip_done = asked;
	snprintf(r->s->skip_msg, sizeof(r->s->skip_msg), "%s", msg);
	pthread_cond_broadcast(&r->s->cond);
	pthread_mutex_unlock(&r->s->lock);
}

/* One step; 1: wait for a change before the next. */
static int
step(struct run *r)
{
	do_skip(r);
	if (r->failed)
		return 1;
	if (r->at.segment[0] == '\0') {
		first_segment(r);
		return r->at.segment[0] == '\0';
	}
	if (r->at.offset == SOURCE_DONE)
		return !next_segment(r);
	return read_step(r);
}

/* inotify on the directory, unless polling was asked for or it fails. */
static void
watch(struct run *r)
{
	const struct source	*cfg = &r->s->cfg;

	if (cfg->poll_watcher_ms != 0)
		return;
	if ((r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(r->ino, cfg->directory, IN_CREATE | IN_MODIFY |
	    IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE |
	    IN_MOVED_FROM) == -1) {
		log_warn("source %s: %s: no inotify, checked every %u ms",
		    cfg->name, cfg->directory, RECHECK_MS);
		if (r->ino != -1)
			close(r->ino);
		r->ino = -1;
	}
}

static void
load_mark(struct run *r)
{
	unsigned char	 key[SOURCE_KEY_MAX], val[SOURCE_MARK_MAX];
	size_t		 len = sizeof(val);
	int		 rc;

	rc = store_mark(sd->store, key, source_mark_key(r->s->cfg.name, key),
	    val, &len);
	if (rc == 1)
		return;
	if (rc == -1 || source_mark_decode(val, len, &r->at) == -1) {
		fail(r, "cannot read its checkpoint in the spool");
		return;
	}
	r->read = r->at;
	set_state(r, SOURCE_READING, NULL);
}

void *
source_run(void *arg)
{
	struct run	 r;
	struct live	*rt;
	int		 packer = 1;

	memset(&r, 0, sizeof(r));
	r.s = arg;
	r.ino = -1;
	rt = live_get();
	r.max_line = rt->conf->max_record_size + 1;
	r.batch = BATCH_BYTES;
	live_put(rt);
	watch(&r);
	if (spack_start(r.s) != 0) {
		fail(&r, "cannot start its packer thread");
		packer = 0;
	} else
		load_mark(&r);
	while (!atomic_load(&r.s->stop))
		if (step(&r))
			wait_change(&r);
	land(&r);
	close_segment(&r);
	if (packer)
		spack_stop(r.s);
	while (r.nspare > 0)
		sbatch_free(r.spare[--r.nspare]);
	if (r.ino != -1)
		close(r.ino);
	return NULL;
}
