/*
 * The HTTP transport: a batch becomes one request body (body.c), signed
 * as a Standard Webhook when the hook has a secret (sign.c), and POSTed
 * by the worker's HTTP client (http.c).
 */
#include <stdio.h>

#include <curl/curl.h>

#include "body.h"
#include "http.h"
#include "sign.h"
#include "transport.h"

/* config.c has checked the url; libcurl takes what it allows. */
static int
http_check(const struct hook *h, char *err, size_t errlen)
{
	(void)h;
	(void)err;
	(void)errlen;
	return 0;
}

static void *
http_open(char *err, size_t errlen)
{
	return http_new(err, errlen);
}

static int
http_apply(void *state, const struct hook *h, char *err, size_t errlen)
{
	return http_configure(state, h, err, errlen);
}

static void
http_close(void *state)
{
	http_free(state);
}

/* The webhook-* header lines, in hdr (3 lines of at most 80 bytes). */
static int
webhook_lines(const struct hook *h, const struct proto_batch *b,
    const struct body *body, char hdr[3][80])
{
	struct sign_headers	 sh;

	if (sign_headers(h->signing_key, h->signing_key_len, b->recs[0].id,
	    b->n, body->ptr, body->len, &sh) == -1)
		return -1;
	snprintf(hdr[0], sizeof(hdr[0]), "webhook-id: %s", sh.id);
	snprintf(hdr[1], sizeof(hdr[1]), "webhook-timestamp: %s", sh.ts);
	snprintf(hdr[2], sizeof(hdr[2]), "webhook-signature: %s", sh.sig);
	return 0;
}

static void
refused(struct proto_result *r, const char *why)
{
	r->error = CURLE_OUT_OF_MEMORY;
	r->textlen = (uint16_t)snprintf(r->text, sizeof(r->text), "%s", why);
}

static void
http_deliver(void *state, const struct hook *h, const struct proto_batch *b,
    struct proto_result *r)
{
	struct body	 body;
	char		 hdr[3][80];
	const char	*extra[3] = { hdr[0], hdr[1], hdr[2] };
	size_t		 nextra = 0;

	if (body_build(h, b, &body) == -1) {
		refused(r, "out of memory");
		return;
	}
	if (h->signing_key != NULL) {
		if (webhook_lines(h, b, &body, hdr) == -1) {
			body_free(&body);
			refused(r, "cannot sign the request");
			return;
		}
		nextra = 3;
	}
	http_post(state, body.ptr, body.len, extra, nextra, b->flags, r);
	body_free(&body);
}

const struct transport_ops transport_http = {
	.name = "http",
	.check = http_check,
	.open = http_open,
	.configure = http_apply,
	.deliver = http_deliver,
	.close = http_close,
};
