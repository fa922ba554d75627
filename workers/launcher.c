/*
 * The launcher forks spoold's delivery workers. spoold executes it once,
 * before it opens the spool or starts a thread; it loads libcurl and
 * OpenSSL and initialises them, then waits for spoold to ask for
 * workers. A worker forked from it shares those pages with it and with
 * its siblings: a worker executed afresh would relocate about 1 MiB of
 * library pages of its own and set OpenSSL up again, 32 times over for
 * a hook with connection_limit 32.
 *
 * spoold sends a hook's name with the worker's end of a socket pair
 * (SCM_RIGHTS), one packet; the launcher answers the worker's pid, or
 * -1. Each
 * worker is forked twice over, so that its parent exits at once and
 * spoold, the subreaper, becomes its parent: spoold reaps and signals
 * its workers as its own children.
 *
 * The launcher holds no spool and runs no threads, so nothing crosses a
 * fork() that must not. It ends when spoold closes its socket.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fdpass.h"
#include "launcher.h"
#include "log.h"
#include "proto.h"
#include "worker.h"

_Static_assert(LAUNCHER_TITLE_ROOM > sizeof(PROTO_TITLE) + HOOK_NAME_MAX,
    "a worker's title fits over the launcher's argv");

/* The launcher's argv strings: a title is written over them. */
static char	*title_base;
static size_t	 title_room;

/*
 * /proc/PID/cmdline shows the title up to its NUL when the last byte of
 * the argv strings is not NUL; the rest is filled so that it is not.
 */
static void
title_set(const char *t)
{
	size_t	 n;

	if (title_room < 2)
		return;
	n = strlen(t);
	if (n > title_room - 2)
		n = title_room - 2;
	memcpy(title_base, t, n);
	title_base[n] = '\0';
	memset(title_base + n + 1, ' ', title_room - n - 1);
}

static void
title_init(int argc, char *argv[])
{
	if (argc < 1)
		return;
	title_base = argv[0];
	title_room = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 -
	    argv[0]);
	title_set(LAUNCHER_TITLE);
}

/*
 * A hook name and a descriptor (-1 if the packet was not such a
 * request); 0 when spoold has gone.
 */
static ssize_t
take_request(char *name, size_t size, int *fd)
{
	ssize_t	 n;

	if ((n = fd_recv(PROTO_FD, name, size - 1, fd)) > 0)
		name[n] = '\0';
	return n;
}

static void
become_worker(const char *hook, int fd)
{
	char		 title[sizeof(PROTO_TITLE) + HOOK_NAME_MAX];
	sigset_t	 none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/*
	 * The launcher's syslog socket is about to close: the C library
	 * must not go on sending to its number once libcurl reuses it.
	 */
	closelog();
	/* The socket to spoold at PROTO_FD gives way to the worker's. */
	if (dup2(fd, PROTO_FD) == -1)
		_exit(127);
	close_range(PROTO_FD + 1, ~0U, 0);
	snprintf(title, sizeof(title), "%s%s", PROTO_TITLE, hook);
	title_set(title);
	exit(worker_main(hook));
}

/* Fork a worker whose parent exits at once; its pid, or -1. */
static pid_t
spawn(const char *hook, int fd)
{
	pid_t	 mid, pid = -1;
	int	 p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((mid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (mid == 0) {
		close(p[0]);
		if ((pid = fork()) == 0)
			become_worker(hook, fd);
		_exit(write(p[1], &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
	}
	close(p[1]);
	/* Once mid is gone, the worker is spoold's. */
	while (waitpid(mid, &status, 0) == -1 && errno == EINTR)
		;
	if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(p[0]);
	return pid;
}

int
launcher_main(int argc, char *argv[])
{
	char		 name[HOOK_NAME_MAX + 1];
	const char	*fg, *v;
	int32_t		 answer;
	pid_t		 pid;
	ssize_t		 n;
	int		 fd;

	title_init(argc, argv);
	fg = getenv("SPOOLD_FOREGROUND");
	v = getenv("SPOOLD_VERBOSE");
	log_init(fg == NULL || strcmp(fg, "0") != 0, v ? atoi(v) : 0,
	    LAUNCHER_TITLE);
	/* spoold says when to stop, by closing the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* What every worker would otherwise do for itself. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("curl_global_init failed");
		return 1;
	}
	for (;;) {
		if ((n = take_request(name, sizeof(name), &fd)) == 0)
			break;
		if (n == -1) {
			log_warn("request");
			return 1;
		}
		if (fd == -1) {
			log_warnx("request: not a hook name and a socket");
			pid = -1;
		} else if ((pid = spawn(name, fd)) == -1)
			log_warn("worker %s: fork", name);
		if (fd != -1)
			close(fd);
		answer = pid;
		if (write(PROTO_FD, &answer, sizeof(answer)) != sizeof(answer)) {
			log_warn("answer");
			return 1;
		}
	}
	curl_global_cleanup();
	return 0;
}
