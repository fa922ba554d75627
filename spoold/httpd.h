/*
 * Listening sockets for ingest and control, and the control socket's
 * HTTP plumbing: libmicrohttpd daemons, request bodies and answers.
 */
#ifndef SPOOLD_HTTPD_H
#define SPOOLD_HTTPD_H

#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "config.h"

struct http_req {
	char		*body;
	size_t		 len;
	size_t		 cap;
	size_t		 limit;
	int		 too_large;
	int		 answered;	/* an answer is queued */
	int		 kind;		/* the handler's own use */
	void		(*on_done)(void);
};

/* A bound, listening socket for addr; unix sockets get mode. */
int		 http_listen(const struct listen_addr *, mode_t, char *,
		    size_t);
struct MHD_Daemon *http_serve(int fd, MHD_AccessHandlerCallback, void *);
void		 http_stop(struct MHD_Daemon *);

/* The request's context, made on the first call of the handler. */
struct http_req	*http_req(void **con_cls);
/* Take a chunk of the body; returns MHD_YES. */
enum MHD_Result	 http_body(struct http_req *, const char *, size_t *);

enum MHD_Result	 http_reply(struct MHD_Connection *, unsigned int,
		    const char *ctype, const char *body, size_t len);
/* Takes body, which must come from malloc. */
enum MHD_Result	 http_reply_free(struct MHD_Connection *, unsigned int,
		    const char *ctype, char *body, size_t len);
/* Takes obj; hdr and val, if not NULL, add one header. */
enum MHD_Result	 http_reply_json(struct MHD_Connection *, unsigned int,
		    json_t *obj, const char *hdr, const char *val);
enum MHD_Result	 http_not_allowed(struct MHD_Connection *, const char *);
enum MHD_Result	 http_error(struct MHD_Connection *, unsigned int,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result	 http_unavailable(struct MHD_Connection *, const char *,
		    unsigned int retry_after);

#endif
