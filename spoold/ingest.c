/*
 * The ingest API. A request's records are validated by the scanner,
 * routed to the hooks whose filter takes their type, and handed to the
 * group commit; the client hears 200 only once the transaction holding
 * them is fsynced. One bad record refuses the whole request.
 */
#include <errno.h>
#include <stdatomic.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commit.h"
#include "exposition.h"
#include "ingest.h"
#include "jscan.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "units.h"
#include "util.h"
#include "spoold.h"

#define RETRY_FULL	30
#define FULL_LOG_MS	60000
#define RETRY_STOPPING	5
#define OTHER_BODY_MAX	65536

struct collect {
	struct live	*rt;
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
	size_t		 cap;

	if (rec->len > c->max_record) {
		c->too_big = 1;
		c->too_big_index = index;
		return 1;
	}
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 256;
		if ((in = reallocarray(c->recs, cap, sizeof(*in))) == NULL)
			return -2;
		c->recs = in;
		c->cap = cap;
	}
	if (live_route(c->rt, rec, &c->recs[c->n]))
		c->n++;
	else
		c->discarded++;
	return 0;
}

static void
reply_error(struct ingest_reply *a, unsigned int status, size_t index,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
reply_error(struct ingest_reply *a, unsigned int status, size_t index,
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
reply_msg(struct ingest_reply *a, unsigned int status, const char *msg)
{
	a->status = status;
	a->body = json_pack("{ss}", "error", msg);
}

struct ingest_job {
	struct collect		 c;
	struct commit_req	 req;
	struct ingest_reply	 a;
	struct conn		*conn;
	int			 kind;
};

static void	ingest_committed(struct ingest_job *, int);

/*
 * Records refused for want of room are the MTA's to keep: an error,
 * once a minute at most, with the requests refused meanwhile. A write
 * the disk refused is logged by the store itself.
 */
static void
log_full(void)
{
	static atomic_ullong	 last, refused;
	unsigned long long	 now = mono_ms(), t = atomic_load(&last);
	uint64_t		 used, map, max;
	unsigned long long	 n;
	char			 size[32], more[80];

	atomic_fetch_add(&refused, 1);
	if ((t != 0 && now - t < FULL_LOG_MS) ||
	    !atomic_compare_exchange_strong(&last, &t, now))
		return;
	store_usage(sd->store, &used, &map, &max);
	fmt_size(max, size, sizeof(size));
	n = atomic_exchange(&refused, 0);
	more[0] = '\0';
	if (n > 1)
		snprintf(more, sizeof(more), "; %llu requests refused since "
		    "the last warning", n);
	log_errorx("spool is full (max_spool_size %s): records are refused "
	    "with 503 until deliveries make room%s", size, more);
}

static void
reply_store(struct ingest_reply *a, int result)
{
	if (result == STORE_EFULL)
		log_full();
	reply_msg(a, 503, result == STORE_EFULL ?
	    "spool is full (max_spool_size)" : "spool write failed");
	a->retry_after = RETRY_FULL;
}

/*
 * Validate and route a body of records. 0: job->req is ready to commit;
 * 1: job->a is the answer already.
 */
static int
ingest_prepare(struct ingest_job *job, const char *buf, size_t len,
    int kind)
{
	struct collect	*c = &job->c;
	struct jscan_err err;
	int		 rc;

	c->rt = live_get();
	c->max_record = c->rt->conf->max_record_size;
	if (kind == BODY_NDJSON)
		rc = jscan_ndjson_body(buf, len, collect_rec, c, &err);
	else
		rc = jscan_json_body(buf, len, collect_rec, c, &err);
	if (rc == -1) {
		reply_error(&job->a, 400, err.index, "record %zu: %s "
		    "(byte %zu)", err.index, err.msg, err.offset);
		return 1;
	}
	if (c->too_big) {
		reply_error(&job->a, 413, c->too_big_index,
		    "record %zu: larger than max_record_size (%llu bytes)",
		    c->too_big_index, (unsigned long long)c->max_record);
		return 1;
	}
	if (rc != 0) {
		reply_msg(&job->a, 500, "out of memory");
		return 1;
	}
	if (c->n == 0) {
		ingest_committed(job, STORE_OK);
		return 1;
	}
	job->req.job.recs = c->recs;
	job->req.job.nrecs = c->n;
	job->req.job.inbuf = 1;
	/* Here, in the request's thread, not in the one committer. */
	if ((rc = store_pack(&job->req.job)) != 0) {
		reply_msg(&job->a, rc == EFBIG ? 413 : 500, rc == EFBIG ?
		    "request too large for the spool (4 GiB)" :
		    "out of memory");
		return 1;
	}
	return 0;
}

/* The commit's result is the answer. */
static void
ingest_committed(struct ingest_job *job, int result)
{
	struct collect	*c = &job->c;

	store_pack_free(&job->req.job);
	if (result != STORE_OK) {
		reply_store(&job->a, result);
		return;
	}
	metrics_records(c->n, c->discarded);
	job->a.status = 200;
	job->a.body = json_pack("{sIsIsI}", "accepted", (json_int_t)(c->n +
	    c->discarded), "queued", (json_int_t)c->n, "discarded",
	    (json_int_t)c->discarded);
}

static void
ingest_job_free(struct ingest_job *job)
{
	free(job->c.recs);
	if (job->c.rt != NULL)
		live_put(job->c.rt);
	json_decref(job->a.body);
}

void
ingest_body(const char *buf, size_t len, int kind, struct ingest_reply *a)
{
	struct ingest_job	 job;

	memset(&job, 0, sizeof(job));
	if (ingest_prepare(&job, buf, len, kind) == 0)
		ingest_committed(&job, commit_submit(&job.req));
	*a = job.a;
	job.a.body = NULL;
	ingest_job_free(&job);
}

static char *
reply_text(struct ingest_reply *a)
{
	char	*s;

	s = a->body ? json_dumps(a->body, JSON_COMPACT) : NULL;
	json_decref(a->body);
	a->body = NULL;
	return s;
}

/* application/json or application/x-ndjson, parameters ignored. */
static int
body_kind(const char *ctype, size_t len)
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
	for (n = 0; n < len && strchr("; \t", ctype[n]) == NULL; n++)
		;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == n &&
		    strncasecmp(ctype, types[i].name, n) == 0)
			return types[i].kind;
	return -1;
}

/* Constant time: the token must not leak through the answer's timing. */
static int
token_ok(const struct request *r, const char *token)
{
	const char	*auth;
	size_t		 n, len;

	if (token == NULL)
		return 1;
	auth = req_field(r, "Authorization", &len);
	if (auth == NULL || len < 7 || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	len -= 7;
	n = strlen(token);
	return len == n && CRYPTO_memcmp(auth, token, n) == 0;
}

static void
send_reply(struct conn *conn, struct ingest_reply *a)
{
	char	 ra[48];
	char	*s;

	ra[0] = '\0';
	if (a->retry_after != 0)
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n",
		    a->retry_after);
	s = reply_text(a);
	conn_answer(conn, a->status, "application/json", s ? s : "{}",
	    s ? strlen(s) : 2, ra);
	free(s);
}

static void
unavailable(struct conn *conn)
{
	char	 ra[48];

	snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", RETRY_STOPPING);
	conn_error(conn, 503, "spoold is stopping", ra);
}

/* Checks on the head alone, before any of the body is read. */
static void
log_head(struct conn *conn, const struct request *r)
{
	struct ingest_job	*job;
	struct live		*rt;
	const char		*ctype;
	size_t			 limit, len;
	int			 kind;

	if (atomic_load(&sd->stopping)) {
		unavailable(conn);
		return;
	}
	rt = live_get();
	limit = rt->conf->max_request_size;
	ctype = req_field(r, "Content-Type", &len);
	kind = body_kind(ctype, ctype ? len : 0);
	if (!token_ok(r, rt->conf->ingest_token)) {
		conn_error(conn, 401, "missing or bad bearer token",
		    "WWW-Authenticate: Bearer\r\n");
		kind = -1;
	} else if (kind == -1)
		conn_error(conn, 415, "Content-Type must be "
		    "application/json or application/x-ndjson", NULL);
	live_put(rt);
	if (kind == -1)
		return;
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		conn_error(conn, 500, "out of memory", NULL);
		return;
	}
	job->kind = kind;
	job->conn = conn;
	*conn_data(conn) = job;
	/* Counted from here so that a stop lets this request finish. */
	atomic_fetch_add(&sd->inflight, 1);
	conn_body_limit(conn, limit, "max_request_size");
}

static void
ingest_head(struct conn *conn, const struct request *r)
{
	/* Other requests have no use for a body, but it is read past. */
	if (req_is(r, "POST", "/log"))
		log_head(conn, r);
	else
		conn_body_limit(conn, OTHER_BODY_MAX, NULL);
}

/* On the committer thread. */
static void
log_committed(struct commit_req *req)
{
	struct ingest_job	*job = req->arg;

	conn_wake(job->conn);
}

static void
log_body(struct conn *conn, char *body, size_t len)
{
	struct ingest_job	*job = *conn_data(conn);

	if (ingest_prepare(job, body, len, job->kind) == 1) {
		send_reply(conn, &job->a);
		return;
	}
	job->req.done = log_committed;
	job->req.arg = job;
	conn_park(conn);
	commit_async(&job->req);
}

static void
ingest_resume(struct conn *conn, const struct request *r)
{
	struct ingest_job	*job = *conn_data(conn);

	(void)r;
	ingest_committed(job, job->req.job.result);
	send_reply(conn, &job->a);
}

void
ingest_finished(void)
{
	atomic_fetch_sub(&sd->inflight, 1);
}

static void
ingest_done(struct conn *conn)
{
	struct ingest_job	*job = *conn_data(conn);

	if (job == NULL)
		return;
	ingest_job_free(job);
	free(job);
	ingest_finished();
}

static int
is_get(const struct request *r)
{
	return (r->mlen == 3 && memcmp(r->method, "GET", 3) == 0) ||
	    (r->mlen == 4 && memcmp(r->method, "HEAD", 4) == 0);
}

static void
get_request(struct conn *conn, const struct request *r)
{
	char		*text;
	size_t		 len;

	if (req_is(r, NULL, "/health")) {
		if (atomic_load(&sd->stopping))
			unavailable(conn);
		else
			conn_answer(conn, 200, "text/plain", "ok\n", 3, NULL);
		return;
	}
	if ((text = metrics_render(sd, &len)) == NULL) {
		conn_error(conn, 500, "out of memory", NULL);
		return;
	}
	conn_answer(conn, 200, METRICS_CTYPE, text, len, NULL);
	free(text);
}

static void
ingest_request(struct conn *conn, const struct request *r, char *body,
    size_t len)
{
	char	 msg[160];

	if (req_is(r, "POST", "/log")) {
		log_body(conn, body, len);
		return;
	}
	if (req_is(r, NULL, "/log"))
		conn_error(conn, 405, "method not allowed", "Allow: POST\r\n");
	else if (req_is(r, NULL, "/health") || req_is(r, NULL, "/metrics")) {
		if (is_get(r))
			get_request(conn, r);
		else
			conn_error(conn, 405, "method not allowed",
			    "Allow: GET, HEAD\r\n");
	} else {
		snprintf(msg, sizeof(msg), "no such resource: %.*s",
		    (int)(r->tlen > 100 ? 100 : r->tlen), r->target);
		conn_error(conn, 404, msg, NULL);
	}
}

/*
 * Why a request was refused: its status says, but for a 400 or 503
 * that POST /log's own checks or its commit gave.
 */
static enum refusal
refusal(struct conn *conn, unsigned int status)
{
	const struct ingest_job	*job = *conn_data(conn);
	int			 ours = job != NULL && job->a.status == status;

	switch (status) {
	case 400:
		return ours ? REF_BAD_RECORD : REF_BAD_REQUEST;
	case 401:
		return REF_UNAUTHORIZED;
	case 404:
		return REF_NOT_FOUND;
	case 405:
		return REF_METHOD;
	case 408:
		return REF_TIMEOUT;
	case 413:
		return REF_TOO_LARGE;
	case 415:
		return REF_MEDIA_TYPE;
	case 503:
		if (!ours)
			return REF_STOPPING;
		return job->req.job.result == STORE_EFULL ? REF_SPOOL_FULL :
		    REF_IO_ERROR;
	case 500:
		return REF_INTERNAL;
	}
	return REF_BAD_REQUEST;
}

/* Probes and scrapes are not ingest traffic. */
static void
ingest_answered(struct conn *conn, const struct request *r,
    unsigned int status, uint64_t us)
{
	if (is_get(r) && (req_is(r, NULL, "/health") ||
	    req_is(r, NULL, "/metrics")))
		return;
	metrics_request(status, refusal(conn, status), us);
}

const struct server_handler ingest_handler = {
	.answered = ingest_answered,
	.head = ingest_head,
	.body = ingest_request,
	.resume = ingest_resume,
	.done = ingest_done,
};
