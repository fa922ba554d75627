/*
 * The AMQP transport: not built yet.
 */
#include <stdio.h>

#include "transport.h"

static int
amqp_check(const struct hook *h, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: amqp hooks are not built yet", h->name);
	return -1;
}

static void *
amqp_open(char *err, size_t errlen)
{
	snprintf(err, errlen, "amqp hooks are not built yet");
	return NULL;
}

static int
amqp_configure(void *state, const struct hook *h, char *err, size_t errlen)
{
	(void)state;
	return amqp_check(h, err, errlen);
}

static void
amqp_deliver(void *state, const struct hook *h, const struct proto_batch *b,
    struct proto_result *r)
{
	(void)state;
	(void)h;
	(void)b;
	r->class = PROTO_CLASS_TRANSIENT;
}

static void
amqp_close(void *state)
{
	(void)state;
}

const struct transport_ops transport_amqp = {
	.name = "amqp",
	.check = amqp_check,
	.open = amqp_open,
	.configure = amqp_configure,
	.deliver = amqp_deliver,
	.close = amqp_close,
};
