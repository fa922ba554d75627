/*
 * The control socket's HTTP on libmicrohttpd: a thread per connection,
 * which for a root-only socket that spoolctl opens one at a time costs
 * nothing, and lets a command block its own thread while its change is
 * committed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlhttp.h"
#include "log.h"

static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct ctl_req	*r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	if (r->on_done != NULL)
		r->on_done();
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];
	size_t	 n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

struct MHD_Daemon *
ctl_serve(int fd, MHD_AccessHandlerCallback handler, void *cls)
{
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handler, cls,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
}

void
ctl_stop(struct MHD_Daemon *d)
{
	if (d != NULL)
		MHD_stop_daemon(d);
}

struct ctl_req *
ctl_req_new(void **con_cls)
{
	struct ctl_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	*con_cls = r;
	return r;
}

enum MHD_Result
ctl_body(struct ctl_req *r, const char *data, size_t *size)
{
	size_t	 need, cap;
	char	*nb;

	if (r->too_large || r->answered) {
		*size = 0;
		return MHD_YES;
	}
	need = r->len + *size;
	if (need > r->limit) {
		/* Keep reading to answer 413 properly, but hold nothing. */
		r->too_large = 1;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		*size = 0;
		return MHD_YES;
	}
	if (need > r->cap) {
		cap = r->cap ? r->cap : 65536;
		while (cap < need)
			cap *= 2;
		if (cap > r->limit)
			cap = r->limit;
		if ((nb = realloc(r->body, cap)) == NULL)
			return MHD_NO;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, *size);
	r->len = need;
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
    const char *body, size_t len, enum MHD_ResponseMemoryMode mode,
    const char *hdr, const char *val)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (hdr != NULL)
		MHD_add_response_header(resp, hdr, val);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
ctl_reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
    const char *body, size_t len)
{
	return reply(c, status, ctype, body, len, MHD_RESPMEM_MUST_COPY,
	    NULL, NULL);
}

enum MHD_Result
ctl_reply_free(struct MHD_Connection *c, unsigned int status,
    const char *ctype, char *body, size_t len)
{
	return reply(c, status, ctype, body, len, MHD_RESPMEM_MUST_FREE,
	    NULL, NULL);
}

enum MHD_Result
ctl_reply_json(struct MHD_Connection *c, unsigned int status, json_t *obj,
    const char *hdr, const char *val)
{
	char	*s;

	s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (s == NULL)
		return MHD_NO;
	return reply(c, status, "application/json", s, strlen(s),
	    MHD_RESPMEM_MUST_FREE, hdr, val);
}

enum MHD_Result
ctl_not_allowed(struct MHD_Connection *c, const char *allow)
{
	return ctl_reply_json(c, 405, json_pack("{ss}", "error",
	    "method not allowed"), MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result
ctl_error(struct MHD_Connection *c, unsigned int status, const char *fmt,
    ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctl_reply_json(c, status, json_pack("{ss}", "error", msg),
	    status == 401 ? MHD_HTTP_HEADER_WWW_AUTHENTICATE : NULL,
	    "Bearer");
}

enum MHD_Result
ctl_unavailable(struct MHD_Connection *c, const char *why,
    unsigned int retry_after)
{
	char	 ra[16];

	snprintf(ra, sizeof(ra), "%u", retry_after);
	return ctl_reply_json(c, 503, json_pack("{ss}", "error", why),
	    MHD_HTTP_HEADER_RETRY_AFTER, ra);
}
