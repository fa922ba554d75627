/*
 * A few bytes and one descriptor over a Unix socket (SCM_RIGHTS).
 */
#ifndef SPOOLD_FDPASS_H
#define SPOOLD_FDPASS_H

#include <sys/types.h>

#include <stddef.h>

/* Send len bytes of p with fd; what sendmsg() returns. */
ssize_t	fd_send(int sock, const void *p, size_t len, int fd);
/*
 * Receive up to size bytes into p and a descriptor into *fd (close on
 * exec), what recvmsg() returns; *fd is -1 if none came, or if the
 * packet or its descriptors did not fit (those are closed).
 */
ssize_t	fd_recv(int sock, void *p, size_t size, int *fd);

#endif
