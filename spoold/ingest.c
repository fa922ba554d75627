/*
 * The ingest API. A request's records are validated by the scanner,
 * routed to the hooks whose filter takes their type, and handed to the
 * group commit; the client hears 200 only once the transaction holding
 * them is fsynced. One bad record refuses the whole request.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commit.h"
#include "httpd.h"
#include "ingest.h"
#include "jscan.h"
#include "log.h"
#include "metrics.h"
#include "spoold.h"

#define RETRY_FULL	30
#define RETRY_STOPPING	5

struct collect {
	struct routes	*rt;
	struct store_in	*recs;
	size_t		 n;
	size_t		 cap;
	size_t		 discarded;
	uint64_t	 max_record;
	int		 too_big;
	size_t		 too_big_index;
};

static int
collect_rec(void *arg, size_t index, const struct jscan_rec *rec)
{
	struct collect	*c = arg;
	struct store_in	*in;
	enum rectype	 rt;
	size_t		 cap;

	if (rec->len > c->max_record) {
		c->too_big = 1;
		c->too_big_index = index;
		return 1;
	}
	rt = rec->type_state == JSCAN_TYPE_STRING ?
	    rectype_lookup(rec->type, rec->type_len) : RT_OTHER;
	if (c->rt->ntype[rt] == 0) {
		c->discarded++;
		return 0;
	}
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 256;
		if ((in = reallocarray(c->recs, cap, sizeof(*in))) == NULL)
			return -2;
		c->recs = in;
		c->cap = cap;
	}
	in = &c->recs[c->n++];
	in->ptr = rec->ptr;
	in->len = (uint32_t)rec->len;
	in->rectype = (uint8_t)rt;
	in->nhooks = c->rt->ntype[rt];
	in->hooks = c->rt->bytype[rt];
	return 0;
}

static void
answer_error(struct answer *a, unsigned int status, size_t index,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
answer_error(struct answer *a, unsigned int status, size_t index,
    const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->status = status;
	a->body = json_pack("{sssI}", "error", msg, "index",
	    (json_int_t)index);
}

/* An error of the whole request, no record's. */
static void
answer_msg(struct answer *a, unsigned int status, const char *msg)
{
	a->status = status;
	a->body = json_pack("{ss}", "error", msg);
}

static void
answer_store(struct answer *a, int result)
{
	answer_msg(a, 503, result == STORE_EFULL ?
	    "spool is full (max_spool_size)" : "spool write failed");
	a->retry_after = RETRY_FULL;
}

void
ingest_body(const char *buf, size_t len, int kind, struct answer *a)
{
	struct collect	 c;
	struct jscan_err err;
	struct commit_req req;
	int		 rc;

	memset(&c, 0, sizeof(c));
	memset(a, 0, sizeof(*a));
	c.rt = routes_get();
	c.max_record = c.rt->conf->max_record_size;
	if (kind == BODY_NDJSON)
		rc = jscan_ndjson_body(buf, len, collect_rec, &c, &err);
	else
		rc = jscan_json_body(buf, len, collect_rec, &c, &err);
	if (rc == -1) {
		answer_error(a, 400, err.index, "record %zu: %s (byte %zu)",
		    err.index, err.msg, err.offset);
		goto done;
	}
	if (c.too_big) {
		answer_error(a, 413, c.too_big_index,
		    "record %zu: larger than max_record_size (%llu bytes)",
		    c.too_big_index, (unsigned long long)c.max_record);
		goto done;
	}
	if (rc != 0) {
		answer_msg(a, 500, "out of memory");
		goto done;
	}
	if (c.n > 0) {
		memset(&req, 0, sizeof(req));
		req.job.recs = c.recs;
		req.job.nrecs = c.n;
		/* Here, in the request's thread, not in the one committer. */
		if ((rc = store_pack(&req.job)) != 0) {
			answer_msg(a, rc == EFBIG ? 413 : 500, rc == EFBIG ?
			    "request too large for the spool (4 GiB)" :
			    "out of memory");
			goto done;
		}
		rc = commit_submit(&req);
		store_pack_free(&req.job);
		if (rc != STORE_OK) {
			answer_store(a, rc);
			goto done;
		}
	}
	metrics_records(c.n, c.discarded);
	a->status = 200;
	a->body = json_pack("{sIsIsI}", "accepted", (json_int_t)(c.n +
	    c.discarded), "queued", (json_int_t)c.n, "discarded",
	    (json_int_t)c.discarded);
 done:
	free(c.recs);
	routes_put(c.rt);
}

enum MHD_Result
ingest_answer(struct MHD_Connection *conn, struct answer *a)
{
	char	 ra[16];

	if (a->retry_after == 0)
		return http_reply_json(conn, a->status, a->body, NULL, NULL);
	snprintf(ra, sizeof(ra), "%u", a->retry_after);
	return http_reply_json(conn, a->status, a->body,
	    MHD_HTTP_HEADER_RETRY_AFTER, ra);
}

/* application/json or application/x-ndjson, parameters ignored. */
static int
body_kind(const char *ctype)
{
	static const struct {
		const char	*name;
		int		 kind;
	} types[] = {
		{ "application/json", BODY_JSON },
		{ "application/x-ndjson", BODY_NDJSON },
		{ "application/ndjson", BODY_NDJSON },
	};
	size_t	 i, n;

	if (ctype == NULL)
		return -1;
	n = strcspn(ctype, "; \t");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == n &&
		    strncasecmp(ctype, types[i].name, n) == 0)
			return types[i].kind;
	return -1;
}

/* Constant time: the token must not leak through the answer's timing. */
static int
token_ok(struct MHD_Connection *conn, const char *token)
{
	const char	*auth;
	size_t		 n;

	if (token == NULL)
		return 1;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	n = strlen(token);
	return strlen(auth) == n && CRYPTO_memcmp(auth, token, n) == 0;
}

void
ingest_finished(void)
{
	atomic_fetch_sub(&sd->inflight, 1);
}

/* Checks on the headers alone, before any of the body is read. */
static enum MHD_Result
log_start(struct MHD_Connection *conn, struct http_req *r)
{
	struct routes	*rt;
	const char	*clen;
	enum MHD_Result	 ret = MHD_YES;
	int		 kind;

	if (atomic_load(&sd->stopping)) {
		r->answered = 1;
		metrics_request(503);
		return http_unavailable(conn, "spoold is stopping",
		    RETRY_STOPPING);
	}
	rt = routes_get();
	r->limit = rt->conf->max_request_size;
	kind = body_kind(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE));
	clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!token_ok(conn, rt->conf->ingest_token)) {
		r->answered = 1;
		metrics_request(401);
		ret = http_error(conn, 401, "missing or bad bearer token");
	} else if (kind == -1) {
		r->answered = 1;
		metrics_request(415);
		ret = http_error(conn, 415, "Content-Type must be "
		    "application/json or application/x-ndjson");
	} else if (clen != NULL && strtoull(clen, NULL, 10) > r->limit) {
		r->answered = 1;
		metrics_request(413);
		ret = http_error(conn, 413, "request body larger than "
		    "max_request_size (%zu bytes)", r->limit);
	}
	routes_put(rt);
	r->kind = kind;
	/* Counted from here so that a stop lets this request finish. */
	atomic_fetch_add(&sd->inflight, 1);
	r->on_done = ingest_finished;
	return ret;
}

static enum MHD_Result
log_end(struct MHD_Connection *conn, struct http_req *r)
{
	struct answer	 a;

	if (r->too_large) {
		metrics_request(413);
		return http_error(conn, 413, "request body larger than "
		    "max_request_size (%zu bytes)", r->limit);
	}
	ingest_body(r->body, r->len, r->kind, &a);
	metrics_request(a.status);
	return ingest_answer(conn, &a);
}

static enum MHD_Result
get_request(struct MHD_Connection *conn, const char *url)
{
	char		*text;
	size_t		 len;

	if (strcmp(url, "/health") == 0) {
		if (atomic_load(&sd->stopping))
			return http_unavailable(conn, "spoold is stopping",
			    RETRY_STOPPING);
		return http_reply(conn, 200, "text/plain", "ok\n", 3);
	}
	if (strcmp(url, "/metrics") == 0) {
		if ((text = metrics_render(sd, &len)) == NULL)
			return MHD_NO;
		return http_reply_free(conn, 200, METRICS_CTYPE, text, len);
	}
	metrics_request(404);
	return http_error(conn, 404, "no such resource: %s", url);
}

enum MHD_Result
ingest_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct http_req	*r = *con_cls;
	int		 get;

	(void)cls;
	(void)version;
	get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (r == NULL) {
		if ((r = http_req(con_cls)) == NULL)
			return MHD_NO;
		/*
		 * Only POST /log is judged on its headers, before its body;
		 * the rest is answered once the request is read whole, since
		 * an earlier answer makes libmicrohttpd close the connection.
		 */
		if (strcmp(url, "/log") != 0 || strcmp(method, "POST") != 0)
			return MHD_YES;
		return log_start(conn, r);
	}
	if (*size > 0)
		return http_body(r, data, size);
	if (r->answered)
		return MHD_YES;
	r->answered = 1;
	if (strcmp(url, "/log") == 0 && strcmp(method, "POST") == 0)
		return log_end(conn, r);
	if (strcmp(url, "/log") == 0) {
		metrics_request(405);
		return http_not_allowed(conn, "POST");
	}
	if (get)
		return get_request(conn, url);
	if (strcmp(url, "/health") == 0 || strcmp(url, "/metrics") == 0) {
		metrics_request(405);
		return http_not_allowed(conn, "GET, HEAD");
	}
	metrics_request(404);
	return http_error(conn, 404, "no such resource: %s", url);
}
