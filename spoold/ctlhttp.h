/*
 * The control socket's HTTP plumbing: libmicrohttpd daemons, request
 * bodies and answers.
 */
#ifndef SPOOLD_CTLHTTP_H
#define SPOOLD_CTLHTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

struct ctl_req {
	char		*body;
	size_t		 len;
	size_t		 cap;
	size_t		 limit;
	int		 too_large;
	int		 answered;	/* an answer is queued */
	int		 kind;		/* the handler's own use */
	void		(*on_done)(void);
};

struct MHD_Daemon *ctl_serve(int fd, MHD_AccessHandlerCallback, void *);
void		 ctl_stop(struct MHD_Daemon *);

/* The request's context, made on the first call of the handler. */
struct ctl_req	*ctl_req_new(void **con_cls);
/* Take a chunk of the body; returns MHD_YES. */
enum MHD_Result	 ctl_body(struct ctl_req *, const char *, size_t *);

enum MHD_Result	 ctl_reply(struct MHD_Connection *, unsigned int,
		    const char *ctype, const char *body, size_t len);
/* Takes body, which must come from malloc. */
enum MHD_Result	 ctl_reply_free(struct MHD_Connection *, unsigned int,
		    const char *ctype, char *body, size_t len);
/* Takes obj; hdr and val, if not NULL, add one header. */
enum MHD_Result	 ctl_reply_json(struct MHD_Connection *, unsigned int,
		    json_t *obj, const char *hdr, const char *val);
enum MHD_Result	 ctl_not_allowed(struct MHD_Connection *, const char *);
enum MHD_Result	 ctl_error(struct MHD_Connection *, unsigned int,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result	 ctl_unavailable(struct MHD_Connection *, const char *,
		    unsigned int retry_after);

#endif
