/*
 * The KAFKA transport: not built yet.
 */
#include <stdio.h>

#include "transport.h"

static int
kafka_check(const struct hook *h, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: kafka hooks are not built yet", h->name);
	return -1;
}

static void *
kafka_open(char *err, size_t errlen)
{
	snprintf(err, errlen, "kafka hooks are not built yet");
	return NULL;
}

static int
kafka_configure(void *state, const struct hook *h, char *err, size_t errlen)
{
	(void)state;
	return kafka_check(h, err, errlen);
}

static void
kafka_deliver(void *state, const struct hook *h, const struct proto_batch *b,
    struct proto_result *r)
{
	(void)state;
	(void)h;
	(void)b;
	r->class = PROTO_CLASS_TRANSIENT;
}

static void
kafka_close(void *state)
{
	(void)state;
}

const struct transport_ops transport_kafka = {
	.name = "kafka",
	.check = kafka_check,
	.open = kafka_open,
	.configure = kafka_configure,
	.deliver = kafka_deliver,
	.close = kafka_close,
};
