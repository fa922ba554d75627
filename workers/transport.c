/*
 * The choice of a delivery transport by the scheme of a hook's url, and
 * the calls worker.c makes through it.
 */
#include <stdio.h>
#include <string.h>

#include "transport.h"

static const struct transport_ops *
ops_for(const struct hook *h)
{
	switch (h->transport) {
	case TRANSPORT_HTTP:
		return &transport_http;
	case TRANSPORT_AMQP:
		return &transport_amqp;
	case TRANSPORT_KAFKA:
		return &transport_kafka;
	}
	return NULL;
}

int
transport_check(const struct hook *h, char *err, size_t errlen)
{
	const struct transport_ops	*ops;

	if ((ops = ops_for(h)) == NULL) {
		snprintf(err, errlen, "%s: no transport for this url", h->url);
		return -1;
	}
	return ops->check(h, err, errlen);
}

int
transport_configure(struct transport *t, const struct hook *h, char *err,
    size_t errlen)
{
	const struct transport_ops	*ops;
	void				*state;

	if ((ops = ops_for(h)) == NULL) {
		snprintf(err, errlen, "%s: no transport for this url", h->url);
		return -1;
	}
	if (ops == t->ops)
		return ops->configure(t->state, h, err, errlen);
	if ((state = ops->open(err, errlen)) == NULL)
		return -1;
	if (ops->configure(state, h, err, errlen) == -1) {
		ops->close(state);
		return -1;
	}
	transport_close(t);
	t->ops = ops;
	t->state = state;
	return 0;
}

void
transport_deliver(struct transport *t, const struct hook *h,
    const struct proto_batch *b, struct proto_result *r)
{
	t->ops->deliver(t->state, h, b, r);
}

void
transport_close(struct transport *t)
{
	if (t->ops != NULL)
		t->ops->close(t->state);
	t->ops = NULL;
	t->state = NULL;
}
