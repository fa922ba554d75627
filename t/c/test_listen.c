/*
 * A unix socket is never reachable with a mode other than its own: the
 * bind(2) below stands in for the C library's, and looks at the socket
 * the moment it exists, before anything could chmod it. Under the
 * usual umask 022, a socket is made 0755.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "tap.h"

static char	 dir[] = "/tmp/spoold-listen-XXXXXX";
static int	 binds;
static mode_t	 at_bind;	/* of the last unix socket bound */

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	struct stat		 st;
	int			 rc;

	rc = (int)syscall(SYS_bind, fd, sa, len);
	binds++;
	if (rc == 0 && sa->sa_family == AF_UNIX &&
	    lstat(sun->sun_path, &st) == 0)
		at_bind = st.st_mode & 07777;
	return rc;
}

static void
check(const char *name, mode_t mode, mode_t mask)
{
	struct listen_addr	 la;
	struct stat		 st;
	char			 path[128], err[256];
	int			 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(&la, 0, sizeof(la));
	la.path = path;
	at_bind = 0;
	umask(mask);
	fd = listen_socket(&la, mode, err, sizeof(err));
	if (!ok(fd != -1, "%s: bound", name))
		diag("%s", err);
	is_int(at_bind, mode, "%s: mode %04o from the moment it exists",
	    name, (int)mode);
	is_int(lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1, mode,
	    "%s: and after", name);
	is_int(umask(mask), mask, "%s: the umask is as it was", name);
	if (fd != -1)
		close(fd);
	unlink(path);
}

int
main(void)
{
	struct listen_addr	 la;
	char			 err[256];
	int			 fd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	check("control.sock", 0600, 022);
	check("ingest.sock", 0660, 022);
	check("open.sock", 0666, 077);
	umask(022);

	/* A TCP listener knows no mode and keeps the umask as it is. */
	memset(&la, 0, sizeof(la));
	la.text = "127.0.0.1:0";
	la.host = "127.0.0.1";
	la.port = "0";
	binds = 0;
	fd = listen_socket(&la, 0600, err, sizeof(err));
	ok(fd != -1 && binds == 1, "TCP: bound");
	is_int(umask(022), 022, "TCP: the umask is untouched");
	if (fd != -1)
		close(fd);
	rmdir(dir);
	return done_testing();
}
