/*
 * Delivery worker processes. spoold is multithreaded and holds an LMDB
 * environment, neither of which may cross a fork() into code that runs
 * on; so workers are forked by the launcher (workers/launcher.c), a
 * process spoold executes afresh: no threads, no spool. spoold hands it
 * one end of a socket pair per worker and hears back the worker's pid.
 */
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "launcher.h"
#include "log.h"
#include "pool.h"
#include "util.h"

/*
 * A launcher that has not answered in this long is replaced; a sound
 * one answers in well under a millisecond, and the scheduler waits.
 */
#define LAUNCH_WAIT_MS	2000
#define QUEUE_FIRST	16	/* batches in flight on one worker */

/* The scheduler keeps to pool.h: the frames and buffers are ours alone. */
struct worker {
	pid_t		 pid;
	int		 fd;
	struct batch	**batch;	/* in flight, oldest first */
	size_t		 nbatch;	/* how many */
	size_t		 capbatch;
	unsigned char	*out;
	size_t		 outlen;
	size_t		 outoff;
	size_t		 outcap;
	size_t		 batch_at;	/* where the open BATCH frame starts */
	unsigned char	*in;
	size_t		 inlen;
	size_t		 incap;
	size_t		 inoff;		/* taken */
};

/* Only the scheduler thread spawns, after pool_init() in main. */
static pid_t	 launcher_pid = -1;
static int	 launcher_fd = -1;
/* The main thread reaps it: a pidfd never signals a stranger. */
static int	 launcher_pidfd = -1;

static int
reserve(struct worker *w, size_t more)
{
	return grow_buf(&w->out, &w->outcap, w->outlen + more, 65536);
}

static int
queue_frame(struct worker *w, int type, const void *p, size_t len)
{
	if (reserve(w, 5 + len) == -1)
		return -1;
	proto_header(w->out + w->outlen, type, len);
	memcpy(w->out + w->outlen + 5, p, len);
	w->outlen += 5 + len;
	return 0;
}

static void
exec_launcher(int fd, char *pad)
{
	char		*argv[3];
	sigset_t	 none;

	/* Only async-signal-safe calls between fork() and execv(). */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(fd, PROTO_FD) == -1)
		_exit(127);
	close_range(PROTO_FD + 1, ~0U, 0);
	argv[0] = LAUNCHER_TITLE;
	argv[1] = pad;
	argv[2] = NULL;
	execv("/proc/self/exe", argv);
	_exit(127);
}

static int
launcher_start(void)
{
	/* Room for the workers' titles, which are written over argv. */
	static char	 pad[LAUNCHER_TITLE_ROOM];
	int		 sv[2];

	memset(pad, ' ', sizeof(pad) - 1);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((launcher_pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (launcher_pid == 0)
		exec_launcher(sv[1], pad);
	close(sv[1]);
	launcher_fd = sv[0];
	if ((launcher_pidfd = pidfd_open(launcher_pid, 0)) == -1)
		log_warn("launcher: pidfd_open");
	log_debug("launcher: started, pid %ld", (long)launcher_pid);
	return 0;
}

/* Let the launcher go; kill it if it may still be running. */
static void
launcher_stop(int kill_it)
{
	if (kill_it && launcher_pidfd != -1)
		pidfd_send_signal(launcher_pidfd, SIGKILL, NULL, 0);
	if (launcher_pidfd != -1)
		close(launcher_pidfd);
	if (launcher_fd != -1)
		close(launcher_fd);
	launcher_pidfd = launcher_fd = -1;
	launcher_pid = -1;
}

void
pool_init(void)
{
	/* Workers are orphaned at birth (see launcher.c) and come here. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		fatal("prctl(PR_SET_CHILD_SUBREAPER)");
	if (launcher_start() == -1)
		fatal("launcher");
}

void
pool_fini(void)
{
	/* It exits when its socket closes. */
	launcher_stop(0);
}

/*
 * Ask the launcher for a worker on fd: its pid; 0 if the launcher could
 * not fork; -1 if the launcher is gone, -2 if it did not answer.
 */
static pid_t
launch(const char *hook, int fd)
{
	struct pollfd	 pfd;
	int32_t		 pid;
	ssize_t		 n;

	if (fd_send(launcher_fd, hook, strlen(hook), fd) !=
	    (ssize_t)strlen(hook))
		return -1;
	pfd.fd = launcher_fd;
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, LAUNCH_WAIT_MS)) == -1 && errno == EINTR)
		;
	if (n == 0)
		return -2;
	if (n == -1)
		return -1;
	do
		n = read(launcher_fd, &pid, sizeof(pid));
	while (n == -1 && errno == EINTR);
	if (n != sizeof(pid))
		return -1;
	return pid > 0 ? pid : 0;
}

/*
 * A worker from the launcher, on a fresh socket pair each try: a socket
 * once sent may have reached a worker already, and must not reach two.
 */
static pid_t
launch_worker(const char *hook, int *fd)
{
	pid_t	 pid;
	int	 sv[2], tries;

	for (tries = 0; tries < 2; tries++) {
		if (launcher_fd == -1 && launcher_start() == -1)
			return -1;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1)
			return -1;
		pid = launch(hook, sv[1]);
		close(sv[1]);
		if (pid > 0) {
			*fd = sv[0];
			return pid;
		}
		/* A worker that did get the socket sees it close, and ends. */
		close(sv[0]);
		if (pid == 0) {
			errno = EAGAIN;
			return -1;
		}
		log_warnx("launcher: pid %ld %s, replacing it",
		    (long)launcher_pid, pid == -2 ? "does not answer" :
		    "is gone");
		launcher_stop(pid == -2);
	}
	return -1;
}

struct worker *
pool_spawn(const char *hook, const char *hello, size_t len)
{
	struct worker	*w;

	/* Configurations allow no longer name (config.c). */
	if (strlen(hook) > HOOK_NAME_MAX) {
		log_warnx("worker %s: hook name too long", hook);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto fail;
	w->fd = -1;
	/*
	 * Room for the deepest pipeline the scheduler keeps (16 batches of
	 * one record), so that a push never has to grow it while sending.
	 */
	if ((w->batch = calloc(QUEUE_FIRST, sizeof(*w->batch))) == NULL)
		goto fail;
	w->capbatch = QUEUE_FIRST;
	if (queue_frame(w, PROTO_HELLO, hello, len) == -1)
		goto fail;
	if ((w->pid = launch_worker(hook, &w->fd)) == -1)
		goto fail;
	if (fcntl(w->fd, F_SETFL, O_NONBLOCK) == -1)
		log_warn("worker %s: nonblocking", hook);
	log_debug("worker %s: started, pid %ld", hook, (long)w->pid);
	return w;
 fail:
	log_warn("worker %s: cannot start", hook);
	if (w != NULL) {
		free(w->out);
		free(w->batch);
	}
	free(w);
	return NULL;
}

int
pool_flush(struct worker *w)
{
	ssize_t	 n;

	while (w->outoff < w->outlen) {
		n = write(w->fd, w->out + w->outoff, w->outlen - w->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1)
			return -1;
		w->outoff += (size_t)n;
	}
	w->outoff = w->outlen = 0;
	/* A big batch's buffer is not kept for the life of the worker. */
	if (w->outcap > (4U << 20)) {
		free(w->out);
		w->out = NULL;
		w->outcap = 0;
	}
	return 0;
}

int
pool_read(struct worker *w, struct proto_result *res)
{
	struct proto_frame	 f;
	size_t			 want;
	ssize_t			 n;
	int			 rc;

	for (;;) {
		rc = proto_frame(w->in + w->inoff, w->inlen - w->inoff,
		    PROTO_FRAME_MAX, &f);
		if (rc == -1)
			return -1;
		if (rc == 1) {
			if (f.type != PROTO_RESULT ||
			    proto_result_decode(f.p, f.len, res) == -1)
				return -1;
			w->inoff += f.size;
			if (w->inoff == w->inlen)
				w->inoff = w->inlen = 0;
			return 1;
		}
		if (w->inoff > 0) {
			memmove(w->in, w->in + w->inoff, w->inlen - w->inoff);
			w->inlen -= w->inoff;
			w->inoff = 0;
		}
		/* The frame's missing bytes, or room for many results. */
		want = f.size > w->inlen ? f.size - w->inlen : 8192;
		if (grow_buf(&w->in, &w->incap, w->inlen + want, 8192) == -1)
			return -1;
		n = read(w->fd, w->in + w->inlen, w->incap - w->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		w->inlen += (size_t)n;
	}
}

void
pool_close(struct worker *w, int kill_it)
{
	if (kill_it && w->pid > 0)
		kill(w->pid, SIGKILL);
	if (w->fd != -1)
		close(w->fd);
	free(w->out);
	free(w->in);
	free(w->batch);
	free(w);
}

pid_t
pool_pid(const struct worker *w)
{
	return w->pid;
}

int
pool_fd(const struct worker *w)
{
	return w->fd;
}

int
pool_unsent(const struct worker *w)
{
	return w->outoff < w->outlen;
}

void
pool_push(struct worker *w, struct batch *b)
{
	struct batch	**p;
	size_t		  cap;

	if (w->nbatch == w->capbatch) {
		cap = w->capbatch ? w->capbatch * 2 : QUEUE_FIRST;
		if ((p = reallocarray(w->batch, cap, sizeof(*p))) == NULL)
			fatal("worker queue");
		w->batch = p;
		w->capbatch = cap;
	}
	w->batch[w->nbatch++] = b;
}

struct batch *
pool_pop(struct worker *w)
{
	struct batch	*b;

	if (w->nbatch == 0)
		return NULL;
	/* A handful at most: a ring would save nothing. */
	b = w->batch[0];
	memmove(w->batch, w->batch + 1, --w->nbatch * sizeof(*w->batch));
	return b;
}

struct batch *
pool_inflight(const struct worker *w, size_t i)
{
	return i < w->nbatch ? w->batch[i] : NULL;
}

size_t
pool_ninflight(const struct worker *w)
{
	return w->nbatch;
}

/* Before pool_batch_end: what was queued of the frame is dropped. */
void
pool_batch_cancel(struct worker *w)
{
	w->outlen = w->batch_at;
}

void
pool_batch_begin(struct worker *w, uint64_t seq, uint8_t flags)
{
	w->batch_at = w->outlen;
	if (proto_batch_begin(&w->out, &w->outcap, &w->outlen, seq,
	    flags) == -1)
		fatal("worker buffer");
}

int
pool_batch_add(struct worker *w, uint64_t id, const char *p, size_t len)
{
	return proto_batch_add(&w->out, &w->outcap, &w->outlen, id, p, len);
}

void
pool_batch_end(struct worker *w, uint32_t n)
{
	proto_batch_end(w->out, w->batch_at, w->outlen, n);
}
