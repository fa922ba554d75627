/*
 * The choice of a delivery transport: by the hook's transport (its url's
 * scheme, as config.c read it), kept while it stays, and a transport
 * that cannot take the settings refused with the one there was kept.
 */
#include <string.h>

#include "tap.h"
#include "transport.h"

int
main(void)
{
	struct transport	 t;
	struct hook		 h;
	char			 err[256];

	memset(&t, 0, sizeof(t));
	memset(&h, 0, sizeof(h));
	h.name = "t";
	h.timeout_ms = 1000;
	h.tls_verify = 1;
	h.url = "gopher://127.0.0.1:9/";
	h.transport = (enum hook_transport)99;
	ok(transport_configure(&t, &h, err, sizeof(err)) == -1 &&
	    t.ops == NULL, "no transport for a transport unknown");
	ok(strstr(err, "gopher://127.0.0.1:9/") != NULL &&
	    strstr(err, "no transport") != NULL, "the error names the url");
	h.transport = TRANSPORT_HTTP;
	h.url = "http://127.0.0.1:9/x";
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0 &&
	    t.ops == &transport_http && t.state != NULL, "http:// is HTTP's");
	ok(transport_check(&h, err, sizeof(err)) == 0, "and it checks");
	/* Kafka without a topic takes nothing. */
	h.transport = TRANSPORT_KAFKA;
	h.url = "kafka://127.0.0.1:9";
	ok(transport_configure(&t, &h, err, sizeof(err)) == -1 &&
	    t.ops == &transport_http && t.state != NULL,
	    "a transport refusing the settings keeps the one there was");
	ok(transport_check(&h, err, sizeof(err)) == -1 && err[0] != '\0',
	    "and its check says why");
	transport_close(&t);
	ok(t.ops == NULL && t.state == NULL, "closed");
	return done_testing();
}
