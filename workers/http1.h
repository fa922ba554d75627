/*
 * The worker's own client for plain http:// hooks: one keep-alive
 * HTTP/1.1 connection, a request written with one system call.
 */
#ifndef SPOOLD_HTTP1_H
#define SPOOLD_HTTP1_H

#include <stddef.h>

#include "config.h"
#include "proto.h"

struct h1;

/* Extra header lines a request may have (the signature's three). */
#define H1_EXTRA_MAX	4

struct h1	*h1_new(void);
void		 h1_free(struct h1 *);

/*
 * Takes the hook's url and headers: 1 when this client serves the hook,
 * 0 when it must go through libcurl (https, a user name in the url, a
 * proxy from the environment, a Host, Connection or Expect header of the
 * hook's own, a url libcurl would read differently), -1 out of memory.
 * A connection to another address than before is closed.
 */
int		 h1_configure(struct h1 *, const struct hook *);

/* Closes the connection, if one is open. */
void		 h1_close(struct h1 *);

/*
 * POSTs body with the configured headers, the extra header lines and a
 * Content-Length, and fills r as http_post does, but for seq and
 * elapsed_ms. r comes from http_post with its answer fields zeroed.
 */
void		 h1_post(struct h1 *, const char *body, size_t len,
		    const char *const *extra, size_t nextra, unsigned flags,
		    struct proto_result *r);

#endif
