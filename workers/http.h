/*
 * The worker's HTTP client: one keep-alive connection for the life of
 * the worker, made by the worker's own HTTP/1.1 client for plain http://
 * hooks and by one libcurl easy handle for the rest.
 */
#ifndef SPOOLD_HTTP_H
#define SPOOLD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "proto.h"

struct http;

/* NULL on failure, with a message in err. */
struct http	*http_new(char *err, size_t errlen);
/*
 * Applies the hook's settings, of which libcurl keeps copies. Again after
 * a new HELLO: the open connection stays when it still fits.
 */
int		 http_configure(struct http *, const struct hook *h,
		    char *err, size_t errlen);
void		 http_free(struct http *);

/* With on, every hook goes through libcurl (to compare the clients). */
void		 http_curl_only(struct http *, int on);

/*
 * POSTs body with the hook's headers and the extra header lines, and
 * fills everything of r but seq. flags are the batch's: PROTO_F_FRESH
 * opens a new connection for the request, PROTO_F_LAST closes it
 * afterwards. Returns 0, or -1 when no request could be made (out of
 * memory), with r filled as a transport error all the same.
 */
int		 http_post(struct http *, const char *body, size_t len,
		    const char *const *extra, size_t nextra, unsigned flags,
		    struct proto_result *r);

#endif
