/*
 * The AMQP transport's check of a hook's settings, and its outcome when
 * no broker answers, without a broker: the url librabbitmq parses, the
 * TLS files that go together, the short strings the protocol carries.
 */
#include <string.h>

#include "tap.h"
#include "transport.h"

static struct hook
amqp_hook(const char *url)
{
	struct hook	 h;

	memset(&h, 0, sizeof(h));
	h.name = "mq";
	h.url = (char *)(uintptr_t)url;
	h.transport = TRANSPORT_AMQP;
	h.exchange = "";
	h.routing_key = "mq";
	h.persistent = h.mandatory = h.tls_verify = 1;
	h.timeout_ms = 1000;
	return h;
}

static void
checks(void)
{
	struct hook	 h;
	char		 err[256], longname[300];

	h = amqp_hook("amqp://u:p@127.0.0.1:5672/%2f");
	ok(transport_check(&h, err, sizeof(err)) == 0, "amqp:// checks");
	h = amqp_hook("amqps://u:p@mq.example/");
	ok(transport_check(&h, err, sizeof(err)) == 0, "amqps:// checks");
	h = amqp_hook("amqp://u:p@127.0.0.1:99999999/");
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "not an AMQP url") != NULL &&
	    strstr(err, "99999999") != NULL, "a bad port: the url named");
	h = amqp_hook("amqp://u:s3cret@127.0.0.1:99999999/");
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "s3cret") == NULL &&
	    strstr(err, "amqp://u:(set)@127.0.0.1:99999999/") != NULL,
	    "the error does not show the password");
	h = amqp_hook("http://127.0.0.1/");
	ok(transport_check(&h, err, sizeof(err)) == -1, "http:// is not AMQP");
	h = amqp_hook("amqps://u:p@mq/");
	h.client_cert = "/c.pem";
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "client_key") != NULL,
	    "client_cert without client_key");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	h = amqp_hook("amqp://u:p@mq/");
	h.routing_key = longname;
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "routing_key") != NULL, "a routing key over 255");
	h = amqp_hook("amqp://u:p@mq/");
	h.exchange = longname;
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "exchange") != NULL, "an exchange over 255");
}

/* Port 9 on loopback (discard) has nobody listening here. */
static void
unreachable(void)
{
	struct transport	 t;
	struct hook		 h = amqp_hook("amqp://u:p@127.0.0.1:9/");
	struct proto_batch_rec	 recs[2] = {
		{ 7, "{\"type\":\"Delivery\"}", 19 },
		{ 8, "{\"type\":\"Bounce\"}", 17 },
	};
	struct proto_batch	 b = { 1, 0, 2, recs };
	struct proto_result	 r;
	char			 err[256];

	memset(&t, 0, sizeof(t));
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0 &&
	    t.ops == &transport_amqp, "amqp:// is AMQP's");
	memset(&r, 0, sizeof(r));
	transport_deliver(&t, &h, &b, &r);
	ok(r.class == PROTO_CLASS_TRANSIENT && r.nrecs == 0,
	    "no broker: the whole batch transient");
	ok(r.textlen > 0 && strstr(r.text, "127.0.0.1:9") != NULL,
	    "with the address in the text");
	ok(r.new_conn == 0, "no connection opened");
	transport_close(&t);
}

int
main(void)
{
	checks();
	unreachable();
	return done_testing();
}
