/*
 * The Kafka transport against librdkafka's mock cluster, in this
 * process: a producer's settings and their check, the classes of
 * librdkafka's errors, and batches whose delivery reports say delivered,
 * retried or refused, record by record.
 */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka.h"
#include "tap.h"
#include "transport.h"

#define API_PRODUCE	0

static struct header props[8];
static char url[512];

static void
hook_init(struct hook *h, const char *bootstraps)
{
	memset(h, 0, sizeof(*h));
	snprintf(url, sizeof(url), "kafka://%s", bootstraps);
	h->name = "k";
	h->url = url;
	h->transport = TRANSPORT_KAFKA;
	h->topic = "events";
	h->timeout_ms = 10000;
	h->tls_verify = 1;
	props[0] = (struct header){ "acks", "all" };
	props[1] = (struct header){ "enable.idempotence", "true" };
	h->kafka = props;
	h->nkafka = 2;
}

static void
checks(void)
{
	struct hook	 h;
	char		 err[256], *a, *b;

	hook_init(&h, "127.0.0.1:9");
	ok(transport_check(&h, err, sizeof(err)) == 0, "a hook checks");
	h.topic = NULL;
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "topic") != NULL, "no topic: %s", err);
	h.topic = "events";
	props[2] = (struct header){ "no.such.property", "1" };
	h.nkafka = 3;
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "no.such.property") != NULL,
	    "an unknown property is named: %s", err);
	props[2] = (struct header){ "acks", "lots" };
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "acks") != NULL, "a bad value is named: %s", err);
	props[2] = (struct header){ "acks", "1" };
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "acks") != NULL, "acks 1 with idempotence: %s", err);
	props[2] = (struct header){ "max.in.flight", "6" };
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "max.in.flight") != NULL, "and 6 in flight: %s", err);
	props[2] = (struct header){ "retries", "0" };
	ok(transport_check(&h, err, sizeof(err)) == -1 &&
	    strstr(err, "retries") != NULL, "and no retries: %s", err);
	props[3] = (struct header){ "enable.idempotence", "false" };
	h.nkafka = 4;
	ok(transport_check(&h, err, sizeof(err)) == 0,
	    "without idempotence, no retries is taken");
	h.nkafka = 3;
	props[2] = (struct header){ "compression.type", "lz4" };
	ok(transport_check(&h, err, sizeof(err)) == 0, "a good one is taken");
	a = kafka_settings(&h);
	props[2].value = "zstd";
	b = kafka_settings(&h);
	ok(a != NULL && b != NULL && strcmp(a, b) != 0,
	    "another value, other settings");
	free(b);
	props[2].value = "lz4";
	b = kafka_settings(&h);
	ok(strcmp(a, b) == 0, "the same, the same settings");
	free(a);
	free(b);
}

static void
classes(void)
{
	ok(kafka_class(RD_KAFKA_RESP_ERR_NO_ERROR) == PROTO_CLASS_DELIVERED,
	    "no error: delivered");
	ok(kafka_class(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION) ==
	    PROTO_CLASS_TRANSIENT, "not the leader: transient");
	ok(kafka_class(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT) ==
	    PROTO_CLASS_TRANSIENT, "timed out: transient");
	ok(kafka_class(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) ==
	    PROTO_CLASS_TRANSIENT, "all brokers down: transient");
	ok(kafka_class(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) ==
	    PROTO_CLASS_PERMANENT, "too large: permanent");
	ok(kafka_class(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) ==
	    PROTO_CLASS_PERMANENT, "not authorized: permanent");
	ok(kafka_class(RD_KAFKA_RESP_ERR_INVALID_RECORD) ==
	    PROTO_CLASS_PERMANENT, "an invalid record: permanent");
	is_int(kafka_code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), 10,
	    "a broker's code is kept");
	is_int(kafka_code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), 0,
	    "librdkafka's own is 0");
}

/* A batch of n records from spool id first. */
static void
batch(struct proto_batch *b, struct proto_batch_rec *recs, char bufs[][128],
    uint32_t n, uint64_t first)
{
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(bufs[i], 128, "{\"type\":\"Delivery\",\"recipient\":"
		    "\"user%u@example.net\",\"n\":%u}", i, i);
		recs[i].id = first + i;
		recs[i].ptr = bufs[i];
		recs[i].len = strlen(bufs[i]);
	}
	memset(b, 0, sizeof(*b));
	b->seq = first;
	b->n = n;
	b->recs = recs;
}

static void
deliver(struct transport *t, struct hook *h, uint32_t n, uint64_t first,
    struct proto_result *r)
{
	static char		 bufs[64][128];
	struct proto_batch_rec	 recs[64];
	struct proto_batch	 b;

	batch(&b, recs, bufs, n, first);
	memset(r, 0, sizeof(*r));
	transport_deliver(t, h, &b, r);
}

static void
batches(rd_kafka_mock_cluster_t *mc)
{
	struct transport	 t;
	struct proto_result	 r;
	struct hook		 h;
	char			 err[256];

	memset(&t, 0, sizeof(t));
	hook_init(&h, rd_kafka_mock_cluster_bootstraps(mc));
	h.key = "recipient";
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0,
	    "configured");
	deliver(&t, &h, 5, 1, &r);
	ok(r.class == PROTO_CLASS_DELIVERED && r.nrecs == 0,
	    "five records delivered");
	ok(r.new_conn == 1, "by a new producer (%u ms)", r.elapsed_ms);
	deliver(&t, &h, 1, 6, &r);
	ok(r.class == PROTO_CLASS_DELIVERED && r.new_conn == 0,
	    "the next by the same");

	rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 2,
	    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
	    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
	deliver(&t, &h, 3, 7, &r);
	ok(r.class == PROTO_CLASS_DELIVERED && r.nrecs == 0,
	    "retriable errors are retried within the batch");

	rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 1,
	    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	deliver(&t, &h, 1, 10, &r);
	ok(r.class == PROTO_CLASS_PERMANENT && r.status == 10,
	    "too large: permanent, with the broker's code");
	ok(strstr(r.text, "too large") != NULL, "and its text: %.*s",
	    (int)r.textlen, r.text);
	deliver(&t, &h, 2, 11, &r);
	ok(r.class == PROTO_CLASS_DELIVERED, "the producer goes on");

	/* A property the producer is made again for. */
	props[2] = (struct header){ "message.max.bytes", "1000" };
	h.nkafka = 3;
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0,
	    "new settings");
	{
		static char		 bufs[3][128];
		static char		 big[4000];
		struct proto_batch_rec	 recs[3];
		struct proto_batch	 b;

		batch(&b, recs, bufs, 3, 20);
		memset(big, ' ', sizeof(big) - 2);
		big[0] = '{';
		big[sizeof(big) - 2] = '}';
		recs[1].ptr = big;
		recs[1].len = strlen(big);
		memset(&r, 0, sizeof(r));
		transport_deliver(&t, &h, &b, &r);
	}
	ok(r.new_conn == 1, "a new producer for them");
	ok(r.class == PROTO_CLASS_DELIVERED && r.nrecs == 1 &&
	    r.recs[0].index == 1 && r.recs[0].class == PROTO_CLASS_PERMANENT &&
	    r.recs[0].code == 10, "a record too large for the producer: "
	    "its own outcome, the rest delivered");
	h.nkafka = 2;

	/* No broker answers: the reports say timed out. */
	h.timeout_ms = 1000;
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0,
	    "a short timeout");
	rd_kafka_mock_broker_set_down(mc, 1);
	deliver(&t, &h, 2, 30, &r);
	ok(r.class == PROTO_CLASS_TRANSIENT, "a broker down: transient: %.*s",
	    (int)r.textlen, r.text);
	ok(r.elapsed_ms < 1000 + 5000 + 1000, "within the bound: %u ms",
	    r.elapsed_ms);
	rd_kafka_mock_broker_set_up(mc, 1);
	h.timeout_ms = 10000;
	ok(transport_configure(&t, &h, err, sizeof(err)) == 0,
	    "the timeout back");
	deliver(&t, &h, 2, 32, &r);
	ok(r.class == PROTO_CLASS_DELIVERED, "up again: delivered");
	transport_close(&t);
}

int
main(void)
{
	rd_kafka_conf_t		*conf;
	rd_kafka_t		*rk;
	rd_kafka_mock_cluster_t	*mc;
	char			 err[256];

	checks();
	classes();
	conf = rd_kafka_conf_new();
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL) {
		diag("rd_kafka_new: %s", err);
		return 1;
	}
	if ((mc = rd_kafka_mock_cluster_new(rk, 1)) == NULL) {
		diag("no mock cluster");
		return 1;
	}
	rd_kafka_mock_topic_create(mc, "events", 2, 1);
	batches(mc);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return done_testing();
}
