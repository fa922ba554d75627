/*
 * A few bytes and one descriptor over a Unix socket (SCM_RIGHTS): how
 * spoold hands a worker's socket to the launcher.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for one descriptor, and a few a peer should not have sent. */
union fdbuf {
	struct cmsghdr	hdr;
	char		buf[CMSG_SPACE(4 * sizeof(int))];
};

static void
fd_msg(struct msghdr *msg, struct iovec *iov, union fdbuf *cm, void *p,
    size_t len)
{
	iov->iov_base = p;
	iov->iov_len = len;
	memset(msg, 0, sizeof(*msg));
	memset(cm, 0, sizeof(*cm));
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = cm->buf;
	msg->msg_controllen = sizeof(cm->buf);
}

ssize_t
fd_send(int sock, const void *p, size_t len, int fd)
{
	union fdbuf	 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	fd_msg(&msg, &iov, &cm, (void *)p, len);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

/* The first descriptor that came is kept in *fd; any more are closed. */
static void
keep_one(struct cmsghdr *c, int *fd)
{
	unsigned char	*p = CMSG_DATA(c);
	size_t		 i, n;
	int		 got;

	n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	for (i = 0; i < n; i++) {
		memcpy(&got, p + i * sizeof(int), sizeof(int));
		if (*fd == -1)
			*fd = got;
		else
			close(got);
	}
}

ssize_t
fd_recv(int sock, void *p, size_t size, int *fd)
{
	union fdbuf	 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	*fd = -1;
	fd_msg(&msg, &iov, &cm, p, size);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			keep_one(c, fd);
	if (*fd != -1 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close(*fd);
		*fd = -1;
	}
	return n;
}
