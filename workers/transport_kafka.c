/*
 * The Kafka transport: each record of a batch is produced as a message
 * of its own (the record, or its log_parameters projection) to the
 * hook's topic, keyed by a member of the record when the hook says so,
 * with the hook's headers and, with a signing key, the Standard Webhooks
 * headers of that message. The batch is done when every delivery report
 * is in, or its time is up.
 *
 * A worker keeps one idempotent producer for as long as it runs, made
 * again only when the settings change or the producer fails for good:
 * librdkafka keeps its own connections to the brokers it needs and
 * retries within message.timeout.ms, so the connection flags of a batch
 * (PROTO_F_FRESH, PROTO_F_LAST) mean nothing here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "body.h"
#include "kafka.h"
#include "log.h"
#include "member.h"
#include "sign.h"
#include "transport.h"
#include "util.h"

/* Beyond message.timeout.ms, for the reports of the last messages. */
#define KAFKA_MARGIN_MS	5000
/* The longest poll between looks at the clock. */
#define KAFKA_POLL_MS	100

struct kafka {
	rd_kafka_t		*rk;
	char			*settings;	/* rk's, by kafka_settings */
	/* The batch under way: each record's report. */
	rd_kafka_resp_err_t	*errs;
	uint8_t			*reported;
	uint32_t		 n;
	uint32_t		 waiting;	/* reports still to come */
	size_t			 cap;
	struct proto_rec	*recs;		/* the result's */
	char			*keybuf;
	size_t			 keycap;
};

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4)
		log_warnx("kafka: %s: %s", fac, buf);
	else
		log_debug("kafka: %s: %s", fac, buf);
}

/*
 * Errors, which librdkafka would otherwise log a second time after
 * on_log() said them: at -v only. Records learn theirs from their
 * reports, and a fatal one is said once the batch ends (kafka_deliver).
 */
static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	log_debug("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* Called by rd_kafka_poll, in this thread, for each message. */
static void
on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka	*k = opaque;
	uintptr_t	 i = (uintptr_t)m->_private;

	(void)rk;
	/* A report of a batch given up on has nobody to tell. */
	if (i >= k->n || k->reported[i])
		return;
	k->reported[i] = 1;
	k->errs[i] = m->err;
	k->waiting--;
}

static int
kafka_check(const struct hook *h, char *err, size_t errlen)
{
	rd_kafka_conf_t	*conf;

	if ((conf = kafka_conf(h, err, errlen)) == NULL)
		return -1;
	rd_kafka_conf_destroy(conf);
	return 0;
}

static void *
kafka_open(char *err, size_t errlen)
{
	struct kafka	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		snprintf(err, errlen, "out of memory");
	return k;
}

static void
producer_free(struct kafka *k)
{
	if (k->rk == NULL)
		return;
	/* Nothing left queued may hold up the destruction. */
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
	    RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_destroy(k->rk);
	k->rk = NULL;
}

static int
kafka_configure(void *state, const struct hook *h, char *err, size_t errlen)
{
	struct kafka	*k = state;
	char		*s;

	if (kafka_check(h, err, errlen) == -1)
		return -1;
	if ((s = kafka_settings(h)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* New settings, new producer, made at the next batch. */
	if (k->settings == NULL || strcmp(k->settings, s) != 0)
		producer_free(k);
	free(k->settings);
	k->settings = s;
	return 0;
}

static int
producer_new(struct kafka *k, const struct hook *h, char *err,
    size_t errlen)
{
	rd_kafka_conf_t	*conf;

	if ((conf = kafka_conf(h, err, errlen)) == NULL)
		return -1;
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_report);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	/* On success rk owns conf; on failure it is still ours. */
	if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    errlen)) == NULL) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	return 0;
}

static int
reserve(struct kafka *k, const struct proto_batch *b)
{
	size_t	 i, longest = 0;
	void	*p;

	if (b->n > k->cap) {
		if ((p = reallocarray(k->errs, b->n, sizeof(*k->errs))) == NULL)
			return -1;
		k->errs = p;
		if ((p = reallocarray(k->recs, b->n, sizeof(*k->recs))) == NULL)
			return -1;
		k->recs = p;
		if ((p = realloc(k->reported, b->n)) == NULL)
			return -1;
		k->reported = p;
		k->cap = b->n;
	}
	/* A member's value decoded is never longer than the record. */
	for (i = 0; i < b->n; i++)
		if (b->recs[i].len > longest)
			longest = b->recs[i].len;
	if (longest + 1 > k->keycap) {
		if ((p = realloc(k->keybuf, longest + 1)) == NULL)
			return -1;
		k->keybuf = p;
		k->keycap = longest + 1;
	}
	return 0;
}

/* The message's headers: the hook's, then the signature's. */
static rd_kafka_headers_t *
headers(const struct hook *h, uint64_t id, const char *body, size_t len)
{
	rd_kafka_headers_t	*hd;
	struct sign_headers	 sh;
	size_t			 i;

	if ((hd = rd_kafka_headers_new(h->nheaders + 3)) == NULL)
		return NULL;
	for (i = 0; i < h->nheaders; i++)
		if (rd_kafka_header_add(hd, h->headers[i].name, -1,
		    h->headers[i].value, -1) != RD_KAFKA_RESP_ERR_NO_ERROR)
			goto fail;
	if (h->signing_key == NULL)
		return hd;
	/* One record a message: its id, and a count of 1. */
	if (sign_headers(h->signing_key, h->signing_key_len, id, 1, body,
	    len, &sh) == -1 ||
	    rd_kafka_header_add(hd, "webhook-id", -1, sh.id, -1) ||
	    rd_kafka_header_add(hd, "webhook-timestamp", -1, sh.ts, -1) ||
	    rd_kafka_header_add(hd, "webhook-signature", -1, sh.sig, -1))
		goto fail;
	return hd;
fail:
	rd_kafka_headers_destroy(hd);
	return NULL;
}

/*
 * Hands one message to the producer, waiting while its queue is full
 * until deadline: librdkafka's error, or 0 when a report will come.
 */
static rd_kafka_resp_err_t
produce(struct kafka *k, const struct hook *h,
    const struct proto_batch_rec *rec, uint32_t i, uint64_t deadline)
{
	rd_kafka_headers_t	*hd;
	rd_kafka_resp_err_t	 err;
	const char		*body = rec->ptr, *key = NULL;
	char			*own = NULL;
	size_t			 len = rec->len;
	ssize_t			 got;
	size_t			 klen = 0;

	if (h->has_log_parameters &&
	    (own = body_project(h, rec->ptr, rec->len, &len)) != NULL)
		body = own;
	else
		len = rec->len;
	if (h->key != NULL && (got = record_member(rec->ptr, rec->len,
	    h->key, k->keybuf, k->keycap)) >= 0) {
		key = k->keybuf;
		klen = (size_t)got;
	}
	if ((hd = headers(h, rec->id, body, len)) == NULL) {
		free(own);
		return RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
	}
	for (;;) {
		err = rd_kafka_producev(k->rk,
		    RD_KAFKA_V_TOPIC(h->topic),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_VALUE((void *)body, len),
		    RD_KAFKA_V_KEY(key, klen),
		    RD_KAFKA_V_HEADERS(hd),
		    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i),
		    RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
		    mono_ms() >= deadline)
			break;
		rd_kafka_poll(k->rk, KAFKA_POLL_MS);
	}
	/* The headers are the message's once it is queued. */
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_headers_destroy(hd);
	free(own);
	return err;
}

/* The reports, until all are in or the deadline passes. */
static void
await(struct kafka *k, uint64_t deadline)
{
	uint64_t	 now;
	uint32_t	 i;

	while (k->waiting > 0 && (now = mono_ms()) < deadline)
		rd_kafka_poll(k->rk, deadline - now < KAFKA_POLL_MS ?
		    (int)(deadline - now) : KAFKA_POLL_MS);
	if (k->waiting == 0)
		return;
	log_warnx("kafka: %u delivery reports not in time", k->waiting);
	for (i = 0; i < k->n; i++)
		if (!k->reported[i]) {
			k->reported[i] = 1;
			k->errs[i] = RD_KAFKA_RESP_ERR__TIMED_OUT;
		}
	k->waiting = 0;
	/* Reports that come later belong to no batch: a new producer. */
	producer_free(k);
}

/* The error most records share (any, when none has a majority). */
static rd_kafka_resp_err_t
common_err(const struct kafka *k)
{
	rd_kafka_resp_err_t	 cand = RD_KAFKA_RESP_ERR_NO_ERROR;
	uint32_t		 i, votes = 0;

	for (i = 0; i < k->n; i++) {
		if (votes == 0)
			cand = k->errs[i];
		votes += k->errs[i] == cand ? 1 : -1;
	}
	return cand;
}

static void
fill(struct kafka *k, struct proto_result *r)
{
	rd_kafka_resp_err_t	 err = common_err(k);
	struct proto_rec	*rec;
	const char		*text;
	uint32_t		 i;

	r->class = kafka_class(err);
	r->status = kafka_code(err);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		r->textlen = (uint16_t)snprintf(r->text, sizeof(r->text),
		    "%s", rd_kafka_err2str(err));
	r->recs = k->recs;
	r->nrecs = 0;
	for (i = 0; i < k->n; i++) {
		if (k->errs[i] == err)
			continue;
		rec = &k->recs[r->nrecs++];
		rec->index = i;
		rec->class = kafka_class(k->errs[i]);
		rec->code = kafka_code(k->errs[i]);
		text = k->errs[i] ? rd_kafka_err2str(k->errs[i]) : "";
		rec->text = text;
		rec->textlen = (uint16_t)strnlen(text, PROTO_ANSWER_MAX);
	}
}

/* The whole batch failed before a message went. */
static void
refused(struct proto_result *r, uint64_t start, const char *why)
{
	log_warnx("kafka: %s", why);
	r->class = PROTO_CLASS_TRANSIENT;
	r->textlen = (uint16_t)snprintf(r->text, sizeof(r->text), "%s", why);
	r->elapsed_ms = (uint32_t)(mono_ms() - start);
}

static void
kafka_deliver(void *state, const struct hook *h, const struct proto_batch *b,
    struct proto_result *r)
{
	struct kafka	*k = state;
	char		 err[256];
	uint64_t	 start = mono_ms(), deadline;
	uint32_t	 i;

	if (reserve(k, b) == -1) {
		refused(r, start, "out of memory");
		return;
	}
	if (k->rk == NULL) {
		if (producer_new(k, h, err, sizeof(err)) == -1) {
			refused(r, start, err);
			return;
		}
		r->new_conn = 1;
	}
	k->n = b->n;
	k->waiting = 0;
	memset(k->reported, 0, b->n);
	deadline = start + h->timeout_ms + KAFKA_MARGIN_MS;
	for (i = 0; i < b->n; i++) {
		k->errs[i] = produce(k, h, &b->recs[i], i, deadline);
		if (k->errs[i] == RD_KAFKA_RESP_ERR_NO_ERROR)
			k->waiting++;
		else
			k->reported[i] = 1;
	}
	/* message.timeout.ms runs from the last message queued. */
	await(k, mono_ms() + h->timeout_ms + KAFKA_MARGIN_MS);
	fill(k, r);
	k->n = 0;
	if (k->rk != NULL && rd_kafka_fatal_error(k->rk, err,
	    sizeof(err)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("kafka: the producer failed: %s", err);
		producer_free(k);
	}
	r->elapsed_ms = (uint32_t)(mono_ms() - start);
}

static void
kafka_close(void *state)
{
	struct kafka	*k = state;

	if (k == NULL)
		return;
	producer_free(k);
	free(k->settings);
	free(k->errs);
	free(k->reported);
	free(k->recs);
	free(k->keybuf);
	free(k);
}

const struct transport_ops transport_kafka = {
	.name = "kafka",
	.check = kafka_check,
	.open = kafka_open,
	.configure = kafka_configure,
	.deliver = kafka_deliver,
	.close = kafka_close,
};
