/*
 * Listening sockets, bound while spoold is still privileged.
 */
#ifndef SPOOLD_LISTEN_H
#define SPOOLD_LISTEN_H

#include <sys/types.h>

#include <stddef.h>

#include "config.h"

/* A bound, listening socket for addr; unix sockets get mode. */
int	listen_socket(const struct listen_addr *, mode_t, char *, size_t);

#endif
