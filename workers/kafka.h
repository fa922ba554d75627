/*
 * What the Kafka transport (transport_kafka.c) asks of librdkafka: a
 * producer's configuration made of a hook's settings, and the class of
 * a delivery report's error.
 */
#ifndef SPOOLD_KAFKA_H
#define SPOOLD_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/*
 * The producer configuration of the hook: its brokers, timeout and TLS
 * files, then its kafka table in order. NULL with a message naming the
 * property librdkafka refused in err.
 */
rd_kafka_conf_t	*kafka_conf(const struct hook *, char *err,
		    size_t errlen);

/*
 * A text of every setting kafka_conf uses, malloc'd, to compare with
 * another hook's; NULL out of memory.
 */
char		*kafka_settings(const struct hook *);

/* PROTO_CLASS_* of an error in a delivery report or from produce. */
uint8_t		 kafka_class(rd_kafka_resp_err_t);

/* The code a dead letter shows: the broker's, 0 for librdkafka's own. */
uint16_t	 kafka_code(rd_kafka_resp_err_t);

#endif
