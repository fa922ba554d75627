/*
 * Connections per client address, for max_connections_per_client.
 */
#ifndef SPOOLD_CLIENTS_H
#define SPOOLD_CLIENTS_H

#include <sys/socket.h>

#include <stddef.h>

struct client;

/*
 * Count one more connection from ss; NULL when it already has max.
 * Unix socket peers have no address and are never capped.
 */
struct client	*clients_get(const struct sockaddr_storage *, size_t max);
/* One connection fewer; NULL is no client. */
void		 clients_put(struct client *);

#endif
