/*
 * The launcher, driven as spoold drives it: a hook name and a socket
 * in, a worker's pid out; the worker is the asker's child (the asker is
 * a subreaper, as spoold is) and ends when its socket closes; requests
 * that are not a name and a socket get -1 and leave the launcher up.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fdpass.h"
#include "launcher.h"
#include "proto.h"
#include "tap.h"

static pid_t
start_launcher(int *ctl)
{
	/* argv strings lie end to end, as execve() lays them out. */
	static char	 area[sizeof(LAUNCHER_TITLE) + 300];
	char		*argv[3];
	int		 sp[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		close(sp[0]);
		if (sp[1] != PROTO_FD) {
			dup2(sp[1], PROTO_FD);
			close(sp[1]);
		}
		memcpy(area, LAUNCHER_TITLE, sizeof(LAUNCHER_TITLE));
		memset(area + sizeof(LAUNCHER_TITLE), 'x', 299);
		argv[0] = area;
		argv[1] = area + sizeof(LAUNCHER_TITLE);
		argv[2] = NULL;
		/* exit, not _exit: the leak checker runs here too. */
		exit(launcher_main(2, argv));
	}
	close(sp[1]);
	*ctl = sp[0];
	return pid;
}

/* The launcher's answer, or -2 if none came within 10 s. */
static int32_t
answer(int ctl)
{
	struct pollfd	 pfd = { ctl, POLLIN, 0 };
	int32_t		 pid;

	if (poll(&pfd, 1, 10000) != 1 ||
	    read(ctl, &pid, sizeof(pid)) != sizeof(pid))
		return -2;
	return pid;
}

static pid_t
parent_of(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*fp;
	size_t	 n;
	long	 ppid;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* pid (comm) state ppid: comm may hold anything but ") ". */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* 1 if nothing but EOF comes on fd within 10 s. */
static int
closed_at_far_end(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 c;

	return poll(&pfd, 1, 10000) == 1 && read(fd, &c, 1) == 0;
}

static void
test_worker_launched(int ctl)
{
	int	 sv[2], status = -1;
	pid_t	 pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(fd_send(ctl, "t", 1, sv[1]) == 1, "a request goes out");
	close(sv[1]);
	pid = answer(ctl);
	ok(pid > 0, "the launcher answers a pid: %ld", (long)pid);
	is_int(parent_of(pid), getpid(),
	    "the worker's parent is the asker, a subreaper");
	close(sv[0]);
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status),
	    "the worker exits once its socket closes");
	is_int(WEXITSTATUS(status), 0, "with status 0");
}

static void
test_bad_requests(int ctl)
{
	char	 name[HOOK_NAME_MAX + 10];
	int	 sv[2];

	ok(send(ctl, "t", 1, 0) == 1 && answer(ctl) == -1,
	    "a name without a socket: -1");
	memset(name, 'h', sizeof(name));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(fd_send(ctl, name, sizeof(name), sv[1]) == (ssize_t)sizeof(name) &&
	    answer(ctl) == -1, "a name longer than %d: -1", HOOK_NAME_MAX);
	close(sv[1]);
	ok(closed_at_far_end(sv[0]),
	    "and the launcher closed the socket it came with");
	close(sv[0]);
}

/* Two descriptors in one request: the first starts a worker. */
static void
test_two_descriptors(int ctl)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	int		 a[2], b[2], fds[2], status = -1;
	pid_t		 pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	fds[0] = a[1];
	fds[1] = b[1];
	iov.iov_base = "t";
	iov.iov_len = 1;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ok(sendmsg(ctl, &msg, 0) == 1, "a request with two sockets goes out");
	close(a[1]);
	close(b[1]);
	pid = answer(ctl);
	ok(pid > 0, "a worker is started on the first");
	ok(closed_at_far_end(b[0]), "the launcher closed the second");
	close(a[0]);
	close(b[0]);
	ok(pid > 0 && waitpid(pid, &status, 0) == pid,
	    "the worker ends when the first closes");
}

int
main(void)
{
	int	 ctl, status = -1;
	pid_t	 lpid;

	signal(SIGPIPE, SIG_IGN);
	/* A hung launcher must not hang the suite. */
	alarm(60);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		diag("prctl: %s", strerror(errno));
		return 1;
	}
	if ((lpid = start_launcher(&ctl)) == -1) {
		diag("socketpair: %s", strerror(errno));
		return 1;
	}
	test_worker_launched(ctl);
	test_bad_requests(ctl);
	test_two_descriptors(ctl);
	test_worker_launched(ctl);
	close(ctl);
	ok(waitpid(lpid, &status, 0) == lpid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0,
	    "the launcher exits 0 when its socket closes");
	return done_testing();
}
