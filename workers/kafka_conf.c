/*
 * A Kafka hook's settings as librdkafka takes them, and what its errors
 * mean to spoold: which are worth another attempt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "proto.h"

#define KAFKA_SCHEME	"kafka://"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
    size_t errlen)
{
	char	 why[256];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "kafka: %s: %s", name, why);
	return -1;
}

/* The settings spoold has names for, before the kafka table. */
static int
set_own(rd_kafka_conf_t *conf, const struct hook *h, char *err,
    size_t errlen)
{
	char	 ms[24];

	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)h->timeout_ms);
	if (set(conf, "client.id", "spoold", err, errlen) == -1 ||
	    set(conf, "bootstrap.servers", h->url + strlen(KAFKA_SCHEME),
	    err, errlen) == -1 ||
	    set(conf, "message.timeout.ms", ms, err, errlen) == -1)
		return -1;
	if (h->ca_file != NULL && set(conf, "ssl.ca.location", h->ca_file,
	    err, errlen) == -1)
		return -1;
	if (h->client_cert != NULL && set(conf, "ssl.certificate.location",
	    h->client_cert, err, errlen) == -1)
		return -1;
	if (h->client_key != NULL && set(conf, "ssl.key.location",
	    h->client_key, err, errlen) == -1)
		return -1;
	if (!h->tls_verify && set(conf,
	    "enable.ssl.certificate.verification", "false", err, errlen) == -1)
		return -1;
	return 0;
}

/* Was the property (or its alias) written in the kafka table? */
static int
written(const struct hook *h, const char *name, const char *alias)
{
	size_t	 i;

	for (i = 0; i < h->nkafka; i++)
		if (strcmp(h->kafka[i].name, name) == 0 ||
		    strcmp(h->kafka[i].name, alias) == 0)
			return 1;
	return 0;
}

static long long
get_num(const rd_kafka_conf_t *conf, const char *name)
{
	char	 v[64];
	size_t	 len = sizeof(v);

	if (rd_kafka_conf_get(conf, name, v, &len) != RD_KAFKA_CONF_OK)
		return -1;
	return strtoll(v, NULL, 10);
}

/*
 * What rd_kafka_new would refuse of an idempotent producer, said here,
 * where spoold checks the settings, rather than by each worker.
 */
static int
idempotent(const struct hook *h, rd_kafka_conf_t *conf, char *err,
    size_t errlen)
{
	rd_kafka_topic_conf_t	*tc;
	char			 v[64];
	size_t			 len = sizeof(v);

	if (rd_kafka_conf_get(conf, "enable.idempotence", v, &len) !=
	    RD_KAFKA_CONF_OK || strcmp(v, "true") != 0)
		return 0;
	len = sizeof(v);
	if ((tc = rd_kafka_conf_get_default_topic_conf(conf)) != NULL &&
	    rd_kafka_topic_conf_get(tc, "request.required.acks", v, &len) ==
	    RD_KAFKA_CONF_OK && strcmp(v, "-1") != 0) {
		snprintf(err, errlen, "kafka: acks: must be \"all\" when "
		    "enable.idempotence is true");
		return -1;
	}
	if (written(h, "max.in.flight", "max.in.flight.requests.per."
	    "connection") && get_num(conf, "max.in.flight") > 5) {
		snprintf(err, errlen, "kafka: max.in.flight: must be at most 5 "
		    "when enable.idempotence is true");
		return -1;
	}
	if (written(h, "retries", "message.send.max.retries") &&
	    get_num(conf, "retries") < 1) {
		snprintf(err, errlen, "kafka: retries: must be at least 1 "
		    "when enable.idempotence is true");
		return -1;
	}
	return 0;
}

rd_kafka_conf_t *
kafka_conf(const struct hook *h, char *err, size_t errlen)
{
	rd_kafka_conf_t	*conf;
	size_t		 i;

	if (h->topic == NULL || *h->topic == '\0') {
		snprintf(err, errlen, "kafka: a topic is required");
		return NULL;
	}
	if (h->url == NULL || strncasecmp(h->url, KAFKA_SCHEME,
	    strlen(KAFKA_SCHEME)) != 0) {
		snprintf(err, errlen, "kafka: the url is not kafka://");
		return NULL;
	}
	if ((conf = rd_kafka_conf_new()) == NULL) {
		snprintf(err, errlen, "kafka: out of memory");
		return NULL;
	}
	if (set_own(conf, h, err, errlen) == -1)
		goto fail;
	for (i = 0; i < h->nkafka; i++)
		if (set(conf, h->kafka[i].name, h->kafka[i].value, err,
		    errlen) == -1)
			goto fail;
	if (idempotent(h, conf, err, errlen) == -1)
		goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Each field with its length first, so that no two settings read alike. */
static void
field(FILE *f, const char *s)
{
	if (s == NULL)
		s = "";
	fprintf(f, "%zu:%s", strlen(s), s);
}

char *
kafka_settings(const struct hook *h)
{
	FILE	*f;
	char	*s = NULL;
	size_t	 len, i;

	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	field(f, h->url);
	fprintf(f, "%llu,%d,", (unsigned long long)h->timeout_ms,
	    h->tls_verify);
	field(f, h->ca_file);
	field(f, h->client_cert);
	field(f, h->client_key);
	for (i = 0; i < h->nkafka; i++) {
		field(f, h->kafka[i].name);
		field(f, h->kafka[i].value);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Broker errors worth another attempt: those Kafka calls retriable, and
 * those of an idempotent producer's state, which a new producer mends.
 */
static const rd_kafka_resp_err_t transient_errs[] = {
	RD_KAFKA_RESP_ERR_UNKNOWN,
	RD_KAFKA_RESP_ERR_INVALID_MSG,		/* a CRC mismatch */
	RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
	RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
	RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
	RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
	RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
	RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
	RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
	RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
	RD_KAFKA_RESP_ERR_NOT_CONTROLLER,
	RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
	RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER,
	RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
	RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
	RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
	RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
	RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID,
	RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS,
	RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH,
	RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
	RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE,
	RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
	RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
};

/*
 * librdkafka's own errors are of the connection, the producer or the
 * wait, all worth another attempt, but for a message it cannot take.
 */
static const rd_kafka_resp_err_t permanent_local[] = {
	RD_KAFKA_RESP_ERR__BAD_MSG,
	RD_KAFKA_RESP_ERR__INVALID_ARG,
	RD_KAFKA_RESP_ERR__INVALID_TYPE,
	RD_KAFKA_RESP_ERR__KEY_SERIALIZATION,
	RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION,
};

static int
among(rd_kafka_resp_err_t err, const rd_kafka_resp_err_t *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] == err)
			return 1;
	return 0;
}

uint8_t
kafka_class(rd_kafka_resp_err_t err)
{
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return PROTO_CLASS_DELIVERED;
	if (err < RD_KAFKA_RESP_ERR_UNKNOWN)
		return among(err, permanent_local, NELEM(permanent_local)) ?
		    PROTO_CLASS_PERMANENT : PROTO_CLASS_TRANSIENT;
	return among(err, transient_errs, NELEM(transient_errs)) ?
	    PROTO_CLASS_TRANSIENT : PROTO_CLASS_PERMANENT;
}

uint16_t
kafka_code(rd_kafka_resp_err_t err)
{
	return err >= 0 && err <= UINT16_MAX ? (uint16_t)err : 0;
}
