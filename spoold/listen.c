/*
 * Listening sockets, bound while spoold is still privileged: TCP for
 * ingest, unix sockets for ingest and the control socket.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

static int
listen_unix(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 mask;
	int			 fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	/* A socket left by a previous run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/*
	 * The socket is made with its final mode, so that nobody else can
	 * connect before a chmod. umask is the process's: this runs at
	 * start-up, before any thread exists.
	 */
	mask = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (rc == -1 || listen(fd, 1024) == -1)
		goto fail;
	return fd;
 fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
listen_tcp(const struct listen_addr *la, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 fd = -1, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(la->host, la->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", la->text, gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	/* A fleet's connections may all come at once after a restart. */
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, SOMAXCONN) == -1)
		goto fail;
	freeaddrinfo(res);
	return fd;
 fail:
	snprintf(err, errlen, "%s: %s", la->text, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int
listen_socket(const struct listen_addr *la, mode_t mode, char *err,
    size_t errlen)
{
	if (la->path != NULL)
		return listen_unix(la->path, mode, err, errlen);
	return listen_tcp(la, err, errlen);
}
