/*
 * A delivery worker's main loop: HELLO gives the hook's settings, then
 * each BATCH goes to the hook's transport (transport.h) and is answered
 * with a RESULT, in order.
 *
 * The worker holds no state that matters: spoold owns the spool and the
 * leases, so exiting at any point loses nothing. It exits 0 when spoold
 * closes the socket or sends SIGTERM (after the request under way), and
 * 1 when spoold sends something it cannot understand.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "transport.h"
#include "util.h"
#include "worker.h"

/* Bytes read from spoold, or results not yet written to it. */
struct framebuf {
	unsigned char	*p;
	size_t		 off;		/* consumed */
	size_t		 len;
	size_t		 cap;
};

/* This process's own state; spoold keeps its record of it in a worker. */
struct worker_state {
	const char	*name;
	struct hook	 hook;
	int		 configured;
	struct transport t;
	struct framebuf	 in;
	struct framebuf	 out;
	uint64_t	 held_since;	/* monotonic ms of the oldest result held */
};

static volatile sig_atomic_t quit;

static void
on_term(int sig)
{
	(void)sig;
	quit = 1;
}

/*
 * SIGTERM and SIGINT are blocked except while waiting for a frame, so
 * that a request is never cut short and no signal slips in between
 * checking the flag and going to sleep. Whatever mask was inherited goes.
 */
static int
signals(sigset_t *waitmask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	/* SIGHUP is spoold's (reload): a worker gets new settings by HELLO. */
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return -1;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigemptyset(waitmask);
	return sigprocmask(SIG_SETMASK, &block, NULL);
}

static int
term_pending(void)
{
	sigset_t	 set;

	if (sigpending(&set) == -1)
		return 0;
	return sigismember(&set, SIGTERM) == 1 ||
	    sigismember(&set, SIGINT) == 1;
}

/* 0 when a frame (or end of file) is there to read, -1 to quit. */
static int
wait_frame(const sigset_t *waitmask)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = PROTO_FD;
	pfd.events = POLLIN;
	while (!quit) {
		n = ppoll(&pfd, 1, NULL, waitmask);
		/*
		 * A SIGTERM held back during the request stays pending when
		 * ppoll finds a frame ready at once: look for it.
		 */
		if (quit || term_pending())
			break;
		if (n > 0)
			return 0;
		if (errno != EINTR) {
			log_warn("poll");
			return 0;	/* the read will say what is wrong */
		}
	}
	return -1;
}

static int
hello(struct worker_state *w, const unsigned char *p, size_t len)
{
	struct hook	 h;
	char		 err[256];

	if (proto_hello_parse(p, len, &h, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (strcmp(h.name, w->name) != 0)
		log_warnx("hello: settings of hook %s", h.name);
	if (transport_configure(&w->t, &h, err, sizeof(err)) == -1) {
		proto_hook_free(&h);
		log_warnx("%s", err);
		return -1;
	}
	/* Only once the new settings hold: a failure keeps nothing half. */
	proto_hook_free(&w->hook);
	w->hook = h;
	w->configured = 1;
	return 0;
}

static int
framebuf_reserve(struct framebuf *b, size_t more)
{
	if (b->off > 0 && b->len + more > b->cap) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return grow_buf(&b->p, &b->cap, b->len + more, 65536);
}

/* Consumed whole: start again at the front, and let a big batch's go. */
static void
framebuf_empty(struct framebuf *b)
{
	b->off = b->len = 0;
	if (b->cap > (4U << 20)) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

/*
 * The results held back go to spoold in one write. 0, or -1 when spoold
 * is gone (then there is nobody to tell, and the worker quits).
 */
static int
flush_results(struct worker_state *w)
{
	struct framebuf	*b = &w->out;
	ssize_t		 n;

	while (b->off < b->len) {
		n = write(PROTO_FD, b->p + b->off, b->len - b->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EPIPE || errno == ECONNRESET)
				log_debug("spoold closed the socket");
			else
				log_warn("writing results");
			b->off = b->len = 0;
			return -1;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 0;
}

static int
deliver(struct worker_state *w, const unsigned char *p, size_t len)
{
	struct proto_batch	 b;
	struct proto_result	 r;
	char			 err[256];
	size_t			 n;

	if (!w->configured) {
		log_warnx("batch before hello");
		return -1;
	}
	if (proto_batch_parse(p, len, &b, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.seq = b.seq;
	transport_deliver(&w->t, &w->hook, &b, &r);
	proto_batch_free(&b);
	n = proto_result_size(&r);
	if (framebuf_reserve(&w->out, PROTO_HDR + n) == -1) {
		log_warn("results");
		return -1;
	}
	if (w->out.len == w->out.off)
		w->held_since = mono_ms();
	if (proto_result_encode(&r, w->out.p + w->out.len + PROTO_HDR,
	    n) != n) {
		log_warnx("batch %llu: a result no frame can hold",
		    (unsigned long long)b.seq);
		return -1;
	}
	proto_header(w->out.p + w->out.len, PROTO_RESULT, n);
	w->out.len += PROTO_HDR + n;
	return 0;
}

static int
unknown(int type)
{
	log_warnx("unknown frame type %d", type);
	return -1;
}

/*
 * Reads what spoold has sent, waiting for it: 1 when bytes came, 0 at end
 * of file or on a signal to quit, -1 on error.
 */
static int
read_frames(struct worker_state *w, size_t want, const sigset_t *waitmask)
{
	ssize_t	 n;

	if (wait_frame(waitmask) == -1)
		return 0;
	if (framebuf_reserve(&w->in, want) == -1) {
		log_warn("reading from spoold");
		return -1;
	}
	do
		n = read(PROTO_FD, w->in.p + w->in.len, w->in.cap - w->in.len);
	while (n == -1 && errno == EINTR);
	/* spoold gone with our results unread is gone all the same. */
	if (n == 0 || (n == -1 && errno == ECONNRESET))
		return 0;
	if (n == -1) {
		log_warn("reading from spoold");
		return -1;
	}
	w->in.len += (size_t)n;
	return 1;
}

/* Two complete frames or more wait in the buffer. */
static int
two_waiting(const struct framebuf *b)
{
	struct proto_frame	 f, g;

	return proto_frame(b->p + b->off, b->len - b->off, PROTO_FRAME_MAX,
	    &f) == 1 && proto_frame(b->p + b->off + f.size,
	    b->len - b->off - f.size, PROTO_FRAME_MAX, &g) == 1;
}

/*
 * Frames are taken from a buffer, so that batches spoold queued behind
 * one another cost one read, and results are held back while two or more
 * batches wait, for PROTO_HOLD_MS at most: one write then carries many,
 * and spoold, woken once, has time to queue more behind the last before
 * it is done. With fewer than two waiting the results go at once, so a
 * worker never idles for want of the next batch.
 */
static int
loop(struct worker_state *w, const sigset_t *waitmask)
{
	struct proto_frame	 f;
	size_t			 want;
	int			 rc;

	while (!quit) {
		rc = proto_frame(w->in.p + w->in.off, w->in.len - w->in.off,
		    PROTO_FRAME_MAX, &f);
		if (rc == -1) {
			log_warn("reading from spoold");
			return 1;
		}
		if (rc == 0) {
			if (flush_results(w) == -1)
				return 0;
			if (w->in.off == w->in.len)
				framebuf_empty(&w->in);
			/* What the frame still lacks, or a good read's worth. */
			want = f.size > 0 ? f.size - (w->in.len - w->in.off) :
			    65536;
			if ((rc = read_frames(w, want, waitmask)) <= 0)
				return rc == 0 ? 0 : 1;
			continue;
		}
		if (term_pending())
			break;
		if (w->out.len > w->out.off &&
		    mono_ms() - w->held_since >= PROTO_HOLD_MS &&
		    flush_results(w) == -1)
			return 0;
		w->in.off += f.size;
		if ((f.type == PROTO_HELLO ? hello(w, f.p, f.len) :
		    f.type == PROTO_BATCH ? deliver(w, f.p, f.len) :
		    unknown(f.type)) == -1)
			return 1;
		if (!two_waiting(&w->in) && flush_results(w) == -1)
			return 0;
	}
	return 0;
}

int
worker_main(const char *hook)
{
	static char		 title[sizeof(PROTO_TITLE) + HOOK_NAME_MAX];
	struct worker_state	 w;
	sigset_t		 waitmask;
	const char		*fg, *v;
	int			 status;

	snprintf(title, sizeof(title), "%s%s", PROTO_TITLE, hook);
	/* spoold says how it logs: to standard error, or to syslog. */
	fg = getenv("SPOOLD_FOREGROUND");
	v = getenv("SPOOLD_VERBOSE");
	log_init(fg == NULL || strcmp(fg, "0") != 0, v ? atoi(v) : 0, title);
	memset(&w, 0, sizeof(w));
	w.name = hook;
	if (signals(&waitmask) == -1) {
		log_warn("signals");
		return 1;
	}
	/* The loop looks into the buffer before its first read. */
	if (framebuf_reserve(&w.in, 65536) == -1) {
		log_warn("buffer");
		return 1;
	}
	status = loop(&w, &waitmask);
	/* Whatever was delivered is said, also when quitting. */
	if (flush_results(&w) == -1 && status == 0)
		log_debug("results not written");
	transport_close(&w.t);
	free(w.in.p);
	free(w.out.p);
	proto_hook_free(&w.hook);
	return status;
}
