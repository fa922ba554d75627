/*
 * The choice of a delivery transport: by the scheme of the hook's url,
 * kept while the scheme stays, and an unknown scheme refused with the
 * transport left as it was.
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
	h.url = "amqp://127.0.0.1:9/";
	ok(transport_configure(&t, &h, err, sizeof(err)) == -1 &&
	    t.ops == NULL, "no transport for amqp:// yet");
	ok(strstr(err, "amqp://127.0.0.1:9/") != NULL &&
	    strstr(err, "no transport") != NULL, "the error names the url");
	h.url = "http://127.0.0.1:9/x";
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0 &&
	    t.ops == &transport_http && t.state != NULL, "http:// is HTTP's");
	h.url = "HTTPS://127.0.0.1:9/x";
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0 &&
	    t.ops == &transport_http, "https://, in any case, is HTTP's");
	h.url = "ftp://127.0.0.1/";
	ok(transport_configure(&t, &h, err, sizeof(err)) == -1 &&
	    t.ops == &transport_http && t.state != NULL,
	    "a refused scheme keeps the transport there was");
	transport_close(&t);
	ok(t.ops == NULL && t.state == NULL, "closed");
	return done_testing();
}
