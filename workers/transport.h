/*
 * Delivery transports: how a worker hands a batch to a hook's receiver
 * and learns the outcome. worker.c knows this interface alone; each
 * transport is a file of its own (transport_http.c), chosen by the
 * scheme of the hook's url.
 */
#ifndef SPOOLD_TRANSPORT_H
#define SPOOLD_TRANSPORT_H

#include <stddef.h>

#include "config.h"
#include "proto.h"

struct transport_ops {
	const char	*name;
	/*
	 * Are the hook's transport settings usable (a url the library
	 * parses, properties it knows)? 0, or -1 with a message in err.
	 * spoold asks at start-up and reload, before any worker runs.
	 */
	int		 (*check)(const struct hook *, char *err, size_t errlen);
	/* The transport's state, or NULL with a message in err. */
	void		*(*open)(char *err, size_t errlen);
	/* The hook's settings; again after a new HELLO. */
	int		 (*configure)(void *, const struct hook *, char *err,
			    size_t errlen);
	/*
	 * Delivers the batch and fills everything of r but seq, honouring
	 * b->flags (PROTO_F_FRESH: a new connection first; PROTO_F_LAST:
	 * close it after) and setting r->new_conn when it connected.
	 */
	void		 (*deliver)(void *, const struct hook *,
			    const struct proto_batch *, struct proto_result *);
	void		 (*close)(void *);
};

extern const struct transport_ops transport_http;
extern const struct transport_ops transport_amqp;
extern const struct transport_ops transport_kafka;

struct transport {
	const struct transport_ops	*ops;
	void				*state;
};

/*
 * Takes the hook's settings, opening the transport its url names (and
 * closing another one) first. 0, or -1 with a message in err and the
 * transport as it was.
 */
int	transport_configure(struct transport *, const struct hook *,
	    char *err, size_t errlen);
/* The hook's transport's check; 0, or -1 with a message in err. */
int	transport_check(const struct hook *, char *err, size_t errlen);
void	transport_deliver(struct transport *, const struct hook *,
	    const struct proto_batch *, struct proto_result *);
void	transport_close(struct transport *);

#endif
