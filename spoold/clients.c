/*
 * Connections per client address. Looked up only when a connection
 * opens or closes, under one lock: a hash of chains is plenty.
 */
#include <netinet/in.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"

#define NBUCKETS	4096

struct client {
	struct client	*next;
	unsigned char	 addr[16];	/* IPv4 as v4-mapped IPv6 */
	size_t		 n;
};

static pthread_mutex_t	 cl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct client	*cl_buckets[NBUCKETS];

static int
addr_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (ss->ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(key, &sin6->sin6_addr, 16);
		return 0;
	}
	if (ss->ss_family != AF_INET)
		return -1;
	sin = (const struct sockaddr_in *)ss;
	memset(key, 0, 10);
	key[10] = key[11] = 0xff;
	memcpy(key + 12, &sin->sin_addr, 4);
	return 0;
}

static size_t
bucket(const unsigned char key[16])
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */
	size_t		 i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h % NBUCKETS);
}

struct client *
clients_get(const struct sockaddr_storage *ss, size_t max)
{
	static struct client	 unix_peer = { NULL, { 0 }, 0 };
	unsigned char		 key[16];
	struct client		*c;
	size_t			 b;

	if (addr_key(ss, key) == -1)
		return &unix_peer;
	b = bucket(key);
	pthread_mutex_lock(&cl_lock);
	for (c = cl_buckets[b]; c != NULL; c = c->next)
		if (memcmp(c->addr, key, 16) == 0)
			break;
	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		memcpy(c->addr, key, 16);
		c->next = cl_buckets[b];
		cl_buckets[b] = c;
	}
	if (c != NULL && c->n >= max)
		c = NULL;
	else if (c != NULL)
		c->n++;
	pthread_mutex_unlock(&cl_lock);
	return c;
}

void
clients_put(struct client *c)
{
	struct client	**pp;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cl_lock);
	if (c->n > 0 && --c->n == 0) {
		for (pp = &cl_buckets[bucket(c->addr)]; *pp != c;
		    pp = &(*pp)->next)
			;
		*pp = c->next;
		free(c);
	}
	pthread_mutex_unlock(&cl_lock);
}
