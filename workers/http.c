/*
 * The worker's HTTP client. Plain http:// hooks go through the worker's
 * own HTTP/1.1 client (http1.c), the rest through libcurl, where one
 * easy handle keeps one connection alive from request to request (a
 * connection cache of one). spoold decides when a connection starts and
 * ends, since it paces new connections and counts
 * max_deliveries_per_connection: a batch flagged fresh opens a new one,
 * a batch flagged last closes it afterwards.
 *
 * Each transfer reports what spoold needs to classify the outcome: the
 * status, the CURLcode, Retry-After, whether a connection was opened, how
 * long it took, and the start of the answer for the dead letters.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "answer.h"
#include "config.h"
#include "http.h"
#include "http1.h"
#include "util.h"
#include "proto.h"

#ifndef SPOOLD_VERSION
#error SPOOLD_VERSION is defined by the build
#endif

struct http {
	CURL			*curl;
	struct curl_slist	*headers;	/* sent with every request */
	struct proto_result	*res;		/* the transfer's */
	char			 errbuf[CURL_ERROR_SIZE];
	struct h1		*h1;
	int			 use_h1;	/* this hook goes through h1 */
	int			 curl_only;
};

struct http *
http_new(char *err, size_t errlen)
{
	struct http	*ht;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return NULL;
	}
	if ((ht = calloc(1, sizeof(*ht))) == NULL ||
	    (ht->curl = curl_easy_init()) == NULL ||
	    (ht->h1 = h1_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		if (ht != NULL && ht->curl != NULL)
			curl_easy_cleanup(ht->curl);
		free(ht);
		curl_global_cleanup();
		return NULL;
	}
	return ht;
}

void
http_curl_only(struct http *ht, int on)
{
	ht->curl_only = on;
}

void
http_free(struct http *ht)
{
	if (ht == NULL)
		return;
	curl_easy_cleanup(ht->curl);
	curl_slist_free_all(ht->headers);
	h1_free(ht->h1);
	free(ht);
	curl_global_cleanup();
}

static int
add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			*line;

	/* "Name;" is how libcurl sends a header with an empty value. */
	if (*value == '\0') {
		if (asprintf(&line, "%s;", name) == -1)
			return -1;
	} else if (asprintf(&line, "%s: %s", name, value) == -1)
		return -1;
	n = curl_slist_append(*l, line);
	free(line);
	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

/* The hook's headers win over spoold's own. */
static struct curl_slist *
fixed_headers(const struct hook *h)
{
	struct curl_slist	*l = NULL;
	const char		*type;
	size_t			 i;

	type = h->format == FORMAT_NDJSON ? "application/x-ndjson" :
	    "application/json";
	if (!config_hook_sets(h, "Content-Type") &&
	    add_header(&l, "Content-Type", type) == -1)
		goto fail;
	/* A 100-continue round trip only delays small posts. */
	if (!config_hook_sets(h, "Expect") && (l = curl_slist_append(l,
	    "Expect:")) == NULL)
		goto fail;
	for (i = 0; i < h->nheaders; i++)
		if (add_header(&l, h->headers[i].name,
		    h->headers[i].value) == -1)
			goto fail;
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

static void	drop_connection(struct http *);

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct http	*ht = arg;
	size_t		 len = size * n;
	const size_t	 hl = sizeof("Retry-After:") - 1;

	/* Each response starts afresh: only the final one counts. */
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		ht->res->retry_after = 0;
	else if (len > hl && strncasecmp(buf, "Retry-After:", hl) == 0)
		ht->res->retry_after = answer_retry_after(buf + hl, len - hl,
		    time(NULL));
	return len;
}

/* Keep the start of the answer; the rest is read and dropped. */
static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct http		*ht = arg;
	struct proto_result	*r = ht->res;
	size_t			 len = size * n, room;

	room = PROTO_ANSWER_MAX - r->textlen;
	if (room > len)
		room = len;
	memcpy(r->text + r->textlen, buf, room);
	r->textlen += (uint16_t)room;
	return len;
}

static long
clamp_long(uint64_t v)
{
	return v > LONG_MAX ? LONG_MAX : (long)v;
}

#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(c, (opt), (val));			\
} while (0)

static CURLcode
set_transfer(struct http *ht, const struct hook *h)
{
	CURL		*c = ht->curl;
	CURLcode	 rc = CURLE_OK;

	SET(CURLOPT_URL, h->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_NOPROGRESS, 1L);
	SET(CURLOPT_TIMEOUT_MS, clamp_long(h->timeout_ms));
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 15L);
	/* One connection: a changed url must not leave the old one open. */
	SET(CURLOPT_MAXCONNECTS, 1L);
	SET(CURLOPT_USERAGENT, "spoold/" SPOOLD_VERSION);
	SET(CURLOPT_ERRORBUFFER, ht->errbuf);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, ht);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, ht);
	return rc;
}

static CURLcode
set_tls(struct http *ht, const struct hook *h)
{
	CURL		*c = ht->curl;
	CURLcode	 rc = CURLE_OK;

	SET(CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
	if (h->ca_file != NULL)
		SET(CURLOPT_CAINFO, h->ca_file);
	if (h->client_cert != NULL)
		SET(CURLOPT_SSLCERT, h->client_cert);
	if (h->client_key != NULL)
		SET(CURLOPT_SSLKEY, h->client_key);
	return rc;
}

#undef SET

int
http_configure(struct http *ht, const struct hook *h, char *err,
    size_t errlen)
{
	struct curl_slist	*l;
	CURLcode		 rc;
	int			 use;

	if ((l = fixed_headers(h)) == NULL) {
		snprintf(err, errlen, "headers: out of memory");
		return -1;
	}
	/* Options go back to their defaults; the connection stays. */
	curl_easy_reset(ht->curl);
	curl_slist_free_all(ht->headers);
	ht->headers = l;
	if ((rc = set_transfer(ht, h)) != CURLE_OK ||
	    (rc = set_tls(ht, h)) != CURLE_OK ||
	    (rc = curl_easy_setopt(ht->curl, CURLOPT_HTTPHEADER,
	    l)) != CURLE_OK) {
		snprintf(err, errlen, "curl: %s", curl_easy_strerror(rc));
		return -1;
	}
	if ((use = ht->curl_only ? 0 : h1_configure(ht->h1, h)) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Whichever client the hook leaves keeps no connection open. */
	if (use)
		drop_connection(ht);
	else
		h1_close(ht->h1);
	ht->use_h1 = use;
	return 0;
}

/* The hook's headers and the extra lines, for one request. */
static struct curl_slist *
request_headers(struct http *ht, const char *const *extra, size_t nextra)
{
	struct curl_slist	*l = NULL, *n, *s;
	size_t			 i;

	for (s = ht->headers; s != NULL; s = s->next) {
		if ((n = curl_slist_append(l, s->data)) == NULL)
			goto fail;
		l = n;
	}
	for (i = 0; i < nextra; i++) {
		if ((n = curl_slist_append(l, extra[i])) == NULL)
			goto fail;
		l = n;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

static void
set_error(struct proto_result *r, CURLcode rc, const char *msg)
{
	size_t	 len = strlen(msg);

	if (len > PROTO_ANSWER_MAX)
		len = PROTO_ANSWER_MAX;
	r->error = rc;
	memcpy(r->text, msg, len);
	r->textlen = (uint16_t)len;
}

static void
transfer_info(struct http *ht, CURLcode rc, struct proto_result *r)
{
	long	 status = 0, conns = 0;

	curl_easy_getinfo(ht->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(ht->curl, CURLINFO_NUM_CONNECTS, &conns);
	/* An interim 1xx is no answer: the request's fate is unknown. */
	r->status = status >= 200 ? (uint32_t)status : 0;
	r->new_conn = conns > 0;
	if (rc != CURLE_OK)
		set_error(r, rc, ht->errbuf[0] != '\0' ? ht->errbuf :
		    curl_easy_strerror(rc));
}

/*
 * FRESH_CONNECT alone would leave the cached connection open beside the
 * new one; a handle's connections close with it, and a duplicate keeps
 * every option.
 */
static void
drop_connection(struct http *ht)
{
	curl_socket_t	 s = CURL_SOCKET_BAD;
	CURL		*c;

	if (curl_easy_getinfo(ht->curl, CURLINFO_ACTIVESOCKET, &s) !=
	    CURLE_OK || s == CURL_SOCKET_BAD)
		return;
	if ((c = curl_easy_duphandle(ht->curl)) == NULL)
		return;
	curl_easy_cleanup(ht->curl);
	ht->curl = c;
}

int
http_post(struct http *ht, const char *body, size_t len,
    const char *const *extra, size_t nextra, unsigned flags,
    struct proto_result *r)
{
	struct curl_slist	*l = ht->headers;
	uint64_t		 t0;
	CURLcode		 rc;

	r->status = r->error = r->retry_after = r->elapsed_ms = 0;
	r->new_conn = 0;
	r->textlen = 0;
	if (ht->use_h1) {
		t0 = mono_ms();
		h1_post(ht->h1, body, len, extra, nextra, flags, r);
		r->elapsed_ms = (uint32_t)(mono_ms() - t0);
		return 0;
	}
	ht->errbuf[0] = '\0';
	ht->res = r;
	if (nextra > 0 && (l = request_headers(ht, extra, nextra)) == NULL) {
		set_error(r, CURLE_OUT_OF_MEMORY, "out of memory");
		return -1;
	}
	if (flags & PROTO_F_FRESH)
		drop_connection(ht);
	curl_easy_setopt(ht->curl, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(ht->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curl_easy_setopt(ht->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(ht->curl, CURLOPT_FRESH_CONNECT,
	    (flags & PROTO_F_FRESH) ? 1L : 0L);
	curl_easy_setopt(ht->curl, CURLOPT_FORBID_REUSE,
	    (flags & PROTO_F_LAST) ? 1L : 0L);
	t0 = mono_ms();
	rc = curl_easy_perform(ht->curl);
	r->elapsed_ms = (uint32_t)(mono_ms() - t0);
	transfer_info(ht, rc, r);
	/* Nothing may point at the body or the request's list hereafter. */
	curl_easy_setopt(ht->curl, CURLOPT_FRESH_CONNECT, 0L);
	curl_easy_setopt(ht->curl, CURLOPT_FORBID_REUSE, 0L);
	curl_easy_setopt(ht->curl, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(ht->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	curl_easy_setopt(ht->curl, CURLOPT_HTTPHEADER, ht->headers);
	if (l != ht->headers)
		curl_slist_free_all(l);
	ht->res = NULL;
	return 0;
}
