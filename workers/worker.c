/*
 * A delivery worker's main loop: HELLO gives the hook's settings, then
 * each BATCH is built into a body, signed when the hook has a secret,
 * POSTed, and answered with a RESULT, in order.
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

#include <curl/curl.h>
#include <jansson.h>

#include "body.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "proto.h"
#include "sign.h"
#include "worker.h"

#define RESULT_BUF	(64 + PROTO_ANSWER_MAX)

struct worker {
	const char	*name;
	struct hook	 hook;
	int		 configured;
	struct http	*http;
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
hello(struct worker *w, const unsigned char *p, size_t len)
{
	json_t		*j;
	json_error_t	 jerr;
	struct hook	 h;
	char		 err[256];

	if ((j = json_loadb((const char *)p, len, 0, &jerr)) == NULL) {
		log_warnx("hello: %s", jerr.text);
		return -1;
	}
	if (proto_hook_parse(j, &h, err, sizeof(err)) == -1) {
		json_decref(j);
		log_warnx("%s", err);
		return -1;
	}
	json_decref(j);
	if (strcmp(h.name, w->name) != 0)
		log_warnx("hello: settings of hook %s", h.name);
	if (http_configure(w->http, &h, err, sizeof(err)) == -1) {
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

/* The webhook-* header lines, in hdr (3 lines of at most 80 bytes). */
static int
sign_headers(const struct worker *w, const struct batch *b,
    const struct body *body, char hdr[3][80])
{
	char		 id[SIGN_ID_MAX], sig[SIGN_SIG_MAX];
	long long	 ts = (long long)time(NULL);

	sign_msgid(id, sizeof(id), b->recs[0].id, b->n);
	if (sign_signature(w->hook.signing_key, w->hook.signing_key_len, id,
	    ts, body->ptr, body->len, sig, sizeof(sig)) == -1)
		return -1;
	snprintf(hdr[0], sizeof(hdr[0]), "webhook-id: %s", id);
	snprintf(hdr[1], sizeof(hdr[1]), "webhook-timestamp: %lld", ts);
	snprintf(hdr[2], sizeof(hdr[2]), "webhook-signature: %s", sig);
	return 0;
}

static void
post(struct worker *w, const struct batch *b, struct proto_result *r)
{
	struct body	 body;
	char		 hdr[3][80];
	const char	*extra[3] = { hdr[0], hdr[1], hdr[2] };
	size_t		 nextra = 0;

	if (body_build(&w->hook, b, &body) == -1) {
		r->error = CURLE_OUT_OF_MEMORY;
		r->textlen = (uint16_t)snprintf(r->text, sizeof(r->text),
		    "out of memory");
		return;
	}
	if (w->hook.signing_key != NULL) {
		if (sign_headers(w, b, &body, hdr) == -1) {
			body_free(&body);
			r->error = CURLE_OUT_OF_MEMORY;
			r->textlen = (uint16_t)snprintf(r->text,
			    sizeof(r->text), "cannot sign the request");
			return;
		}
		nextra = 3;
	}
	http_post(w->http, body.ptr, body.len, extra, nextra, b->flags, r);
	body_free(&body);
}

static int
deliver(struct worker *w, const unsigned char *p, size_t len)
{
	struct batch		 b;
	struct proto_result	 r;
	unsigned char		 out[RESULT_BUF];
	char			 err[256];
	size_t			 n;

	if (!w->configured) {
		log_warnx("batch before hello");
		return -1;
	}
	if (batch_parse(p, len, &b, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.seq = b.seq;
	post(w, &b, &r);
	log_debug("batch %llu: %u records, status %u, error %u, %u ms",
	    (unsigned long long)b.seq, b.n, r.status, r.error, r.elapsed_ms);
	batch_free(&b);
	n = proto_result_encode(&r, out, sizeof(out));
	if (proto_write(PROTO_FD, PROTO_RESULT, out, n) == -1) {
		/* spoold went away: nobody is left to tell. */
		if (errno == EPIPE || errno == ECONNRESET) {
			log_debug("spoold closed the socket");
			quit = 1;
			return 0;
		}
		log_warn("writing a result");
		return -1;
	}
	return 0;
}

static int
frame(struct worker *w, int type, const unsigned char *p, size_t len)
{
	switch (type) {
	case PROTO_HELLO:
		return hello(w, p, len);
	case PROTO_BATCH:
		return deliver(w, p, len);
	default:
		log_warnx("unknown frame type %d", type);
		return -1;
	}
}

static int
loop(struct worker *w, const sigset_t *waitmask)
{
	unsigned char	*p;
	size_t		 len;
	int		 type, rv;

	while (!quit) {
		if (wait_frame(waitmask) == -1)
			break;
		type = proto_read(PROTO_FD, &p, &len);
		/* spoold gone with our results unread is gone all the same. */
		if (type == 0 || (type == -1 && errno == ECONNRESET))
			break;
		if (type == -1) {
			log_warn("reading from spoold");
			return 1;
		}
		rv = frame(w, type, p, len);
		free(p);
		if (rv == -1)
			return 1;
	}
	return 0;
}

int
worker_main(const char *hook)
{
	static char	 title[256];
	struct worker	 w;
	sigset_t	 waitmask;
	char		 err[256];
	const char	*fg, *v;
	int		 status;

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
	if ((w.http = http_new(err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	status = loop(&w, &waitmask);
	http_free(w.http);
	proto_hook_free(&w.hook);
	return status;
}
