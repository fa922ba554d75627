/*
 * The socket between spoold and a delivery worker: every frame's encoder
 * beside its decoder (HELLO, the hook's settings as JSON; BATCH; RESULT),
 * the frame header, and blocking frame I/O. Both ends link this file, so
 * the two sides of each frame change together.
 *
 * A worker is a fresh executable image, so everything it needs of the
 * hook travels in HELLO; the JSON carries exactly those fields, and
 * proto_hook_parse gives back the same values proto_hook_json was given.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "config.h"
#include "proto.h"
#include "util.h"

/* be64 seq, u8 flags, be32 record count; each record has a head. */
#define BATCH_FIXED	(8 + 1 + 4)
#define BATCH_FLAGS	8
#define BATCH_COUNT	9
#define BATCH_REC	(8 + 4)		/* be64 spool id, be32 length */
#define RESULT_FIXED	(8 + 4 + 4 + 4 + 1 + 4 + 2)
/* A writer's first buffer: a frame of small records, then double. */
#define OUT_FIRST	65536

/* JSON integers are signed; no setting comes near the limit. */
static json_t *
json_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
json_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
patterns_json(const struct patterns *p)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < p->n; i++)
		if (json_array_append_new(a, json_string(p->v[i])) == -1)
			goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* An array of pairs: header order and repeated names survive. */
/* Name and value pairs, in order: [[name, value], ...]. */
static json_t *
pairs_json(const struct header *v, size_t n)
{
	json_t	*a, *pair;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		pair = json_pack("[ss]", v[i].name, v[i].value);
		if (json_array_append_new(a, pair) == -1)
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

static json_t *
logparams_json(const struct hook *h)
{
	if (!h->has_log_parameters)
		return json_null();
	return json_pack("{s:o,s:o}", "meta", patterns_json(&h->lp_meta),
	    "headers", patterns_json(&h->lp_headers));
}

static json_t *
key_json(const struct hook *h)
{
	json_t	*j;
	char	*b;
	size_t	 len;

	if (h->signing_key == NULL)
		return json_null();
	if (h->signing_key_len > INT_MAX / 2)
		return NULL;
	len = (h->signing_key_len + 2) / 3 * 4 + 1;
	if ((b = malloc(len)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)b, h->signing_key,
	    (int)h->signing_key_len);
	j = json_string(b);
	free(b);
	return j;
}

/* The settings of a broker: AMQP's and Kafka's. */
static json_t *
broker_json(const struct hook *h)
{
	return json_pack("{s:s,s:o,s:o,s:b,s:b,s:o,s:o,s:o}",
	    "transport", hook_transport_name(h->transport),
	    "exchange", json_str_or_null(h->exchange),
	    "routing_key", json_str_or_null(h->routing_key),
	    "persistent", h->persistent,
	    "mandatory", h->mandatory,
	    "topic", json_str_or_null(h->topic),
	    "key", json_str_or_null(h->key),
	    "kafka", pairs_json(h->kafka, h->nkafka));
}

json_t *
proto_hook_json(const struct hook *h)
{
	json_t	*j, *b;

	j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,"
	    "s:o,s:o}",
	    "name", h->name,
	    "url", h->url,
	    "format", h->format == FORMAT_NDJSON ? "ndjson" : "json",
	    "batch_size", json_u64(h->batch_size),
	    "timeout_ms", json_u64(h->timeout_ms),
	    "headers", pairs_json(h->headers, h->nheaders),
	    "log_parameters", logparams_json(h),
	    "signing_secret", json_str_or_null(h->signing_secret),
	    "signing_key", key_json(h),
	    "tls_verify", h->tls_verify,
	    "ca_file", json_str_or_null(h->ca_file),
	    "client_cert", json_str_or_null(h->client_cert),
	    "client_key", json_str_or_null(h->client_key),
	    "max_deliveries_per_connection",
	    json_u64(h->shaping.max_deliveries_per_connection));
	if (j == NULL || (b = broker_json(h)) == NULL ||
	    json_object_update_new(j, b) == -1) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
perr(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "hello: %s: %s", what, why);
	return -1;
}

static int
get_u64(json_t *o, const char *k, uint64_t *v, char *err, size_t errlen)
{
	json_t	*j = json_object_get(o, k);

	if (j == NULL)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return perr(err, errlen, k, "not a count");
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* A string member into *s (NULL when absent or null). */
static int
get_str(json_t *o, const char *k, char **s, char *err, size_t errlen)
{
	json_t	*j = json_object_get(o, k);

	*s = NULL;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return perr(err, errlen, k, "not a string");
	if ((*s = strdup(json_string_value(j))) == NULL)
		return perr(err, errlen, k, "out of memory");
	return 0;
}

static int
parse_patterns(json_t *o, const char *k, struct patterns *p, char *err,
    size_t errlen)
{
	json_t	*a = json_object_get(o, k), *s;
	size_t	 i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return perr(err, errlen, k, "not an array");
	if (json_array_size(a) == 0)
		return 0;
	if ((p->v = calloc(json_array_size(a), sizeof(char *))) == NULL)
		return perr(err, errlen, k, "out of memory");
	json_array_foreach(a, i, s) {
		if (!json_is_string(s))
			return perr(err, errlen, k, "not a string");
		if ((p->v[i] = strdup(json_string_value(s))) == NULL)
			return perr(err, errlen, k, "out of memory");
		p->n++;
	}
	return 0;
}

static int
parse_logparams(json_t *o, struct hook *h, char *err, size_t errlen)
{
	json_t	*lp = json_object_get(o, "log_parameters");

	if (lp == NULL || json_is_null(lp))
		return 0;
	if (!json_is_object(lp))
		return perr(err, errlen, "log_parameters", "not an object");
	h->has_log_parameters = 1;
	if (parse_patterns(lp, "meta", &h->lp_meta, err, errlen) == -1 ||
	    parse_patterns(lp, "headers", &h->lp_headers, err, errlen) == -1)
		return -1;
	return 0;
}

static int
parse_pairs(json_t *o, const char *k, struct header **v, size_t *n,
    char *err, size_t errlen)
{
	json_t		*a = json_object_get(o, k), *pair;
	const char	*name, *value;
	size_t		 i;

	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return perr(err, errlen, k, "not an array");
	if (json_array_size(a) == 0)
		return 0;
	if ((*v = calloc(json_array_size(a), sizeof(**v))) == NULL)
		return perr(err, errlen, k, "out of memory");
	json_array_foreach(a, i, pair) {
		if (json_unpack(pair, "[ss!]", &name, &value) == -1)
			return perr(err, errlen, k, "not a name and value");
		(*v)[i].name = strdup(name);
		(*v)[i].value = strdup(value);
		(*n)++;
		if ((*v)[i].name == NULL || (*v)[i].value == NULL)
			return perr(err, errlen, k, "out of memory");
	}
	return 0;
}

/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
static int
parse_key(json_t *o, struct hook *h, char *err, size_t errlen)
{
	json_t		*j = json_object_get(o, "signing_key");
	const char	*s;
	size_t		 len;
	int		 n;

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return perr(err, errlen, "signing_key", "not a string");
	s = json_string_value(j);
	len = strlen(s);
	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return perr(err, errlen, "signing_key", "bad base64");
	if ((h->signing_key = malloc(len / 4 * 3)) == NULL)
		return perr(err, errlen, "signing_key", "out of memory");
	n = EVP_DecodeBlock(h->signing_key, (const unsigned char *)s,
	    (int)len);
	if (n < 0)
		return perr(err, errlen, "signing_key", "bad base64");
	n -= (s[len - 1] == '=') + (s[len - 2] == '=');
	h->signing_key_len = (size_t)n;
	return 0;
}

static int
parse_format(json_t *o, struct hook *h, char *err, size_t errlen)
{
	json_t		*j = json_object_get(o, "format");
	const char	*s = json_string_value(j);

	if (j != NULL && s == NULL)
		return perr(err, errlen, "format", "not a string");
	if (s == NULL || strcmp(s, "json") == 0)
		h->format = FORMAT_JSON;
	else if (strcmp(s, "ndjson") == 0)
		h->format = FORMAT_NDJSON;
	else
		return perr(err, errlen, "format", "not json or ndjson");
	return 0;
}

static int
get_bool(json_t *o, const char *k, int *v, char *err, size_t errlen)
{
	json_t	*j = json_object_get(o, k);

	if (j == NULL)
		return 0;
	if (!json_is_boolean(j))
		return perr(err, errlen, k, "not a boolean");
	*v = json_is_true(j);
	return 0;
}

static int
parse_broker(json_t *o, struct hook *h, char *err, size_t errlen)
{
	const char	*t = json_string_value(json_object_get(o, "transport"));
	static const enum hook_transport all[] = {
		TRANSPORT_HTTP, TRANSPORT_AMQP, TRANSPORT_KAFKA
	};
	size_t		 i;

	/* Absent: http, the one transport there was. */
	for (i = 0; t != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(t, hook_transport_name(all[i])) == 0)
			break;
	if (t != NULL && i == sizeof(all) / sizeof(all[0]))
		return perr(err, errlen, "transport", "not http, amqp or "
		    "kafka");
	h->transport = t != NULL ? all[i] : TRANSPORT_HTTP;
	if (get_str(o, "exchange", &h->exchange, err, errlen) == -1 ||
	    get_str(o, "routing_key", &h->routing_key, err, errlen) == -1 ||
	    get_str(o, "topic", &h->topic, err, errlen) == -1 ||
	    get_str(o, "key", &h->key, err, errlen) == -1 ||
	    get_bool(o, "persistent", &h->persistent, err, errlen) == -1 ||
	    get_bool(o, "mandatory", &h->mandatory, err, errlen) == -1)
		return -1;
	return parse_pairs(o, "kafka", &h->kafka, &h->nkafka, err, errlen);
}

static int
parse_scalars(json_t *o, struct hook *h, char *err, size_t errlen)
{
	if (get_u64(o, "batch_size", &h->batch_size, err, errlen) == -1 ||
	    get_u64(o, "timeout_ms", &h->timeout_ms, err, errlen) == -1 ||
	    get_u64(o, "max_deliveries_per_connection",
	    &h->shaping.max_deliveries_per_connection, err, errlen) == -1 ||
	    get_bool(o, "tls_verify", &h->tls_verify, err, errlen) == -1)
		return -1;
	return parse_format(o, h, err, errlen);
}

int
proto_hook_parse(json_t *o, struct hook *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->batch_size = 1;
	h->timeout_ms = 60000;
	h->shaping.max_deliveries_per_connection = 1024;
	h->tls_verify = h->persistent = h->mandatory = 1;
	if (!json_is_object(o)) {
		perr(err, errlen, "settings", "not an object");
		goto fail;
	}
	if (get_str(o, "name", &h->name, err, errlen) == -1 ||
	    get_str(o, "url", &h->url, err, errlen) == -1 ||
	    get_str(o, "signing_secret", &h->signing_secret, err,
	    errlen) == -1 ||
	    get_str(o, "ca_file", &h->ca_file, err, errlen) == -1 ||
	    get_str(o, "client_cert", &h->client_cert, err, errlen) == -1 ||
	    get_str(o, "client_key", &h->client_key, err, errlen) == -1 ||
	    parse_scalars(o, h, err, errlen) == -1 ||
	    parse_pairs(o, "headers", &h->headers, &h->nheaders, err,
	    errlen) == -1 ||
	    parse_logparams(o, h, err, errlen) == -1 ||
	    parse_broker(o, h, err, errlen) == -1 ||
	    parse_key(o, h, err, errlen) == -1)
		goto fail;
	if (h->name == NULL || h->url == NULL) {
		perr(err, errlen, h->name == NULL ? "name" : "url", "missing");
		goto fail;
	}
	return 0;
fail:
	proto_hook_free(h);
	return -1;
}

void
proto_hook_free(struct hook *h)
{
	config_hook_free(h);
	memset(h, 0, sizeof(*h));
}

char *
proto_hello(const struct hook *h, size_t *len)
{
	json_t	*j;
	char	*s;

	if ((j = proto_hook_json(h)) == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s != NULL)
		*len = strlen(s);
	return s;
}

int
proto_hello_parse(const unsigned char *p, size_t len, struct hook *h,
    char *err, size_t errlen)
{
	json_t		*j;
	json_error_t	 jerr;
	int		 rc;

	memset(h, 0, sizeof(*h));
	if ((j = json_loadb((const char *)p, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "hello: %s", jerr.text);
		return -1;
	}
	rc = proto_hook_parse(j, h, err, errlen);
	json_decref(j);
	return rc;
}

int
proto_batch_begin(unsigned char **buf, size_t *cap, size_t *len,
    uint64_t seq, uint8_t flags)
{
	unsigned char	*p;

	if (grow_buf(buf, cap, *len + PROTO_HDR + BATCH_FIXED, OUT_FIRST) == -1)
		return -1;
	p = *buf + *len + PROTO_HDR;
	put_be64(p, seq);
	p[BATCH_FLAGS] = flags;
	*len += PROTO_HDR + BATCH_FIXED;
	return 0;
}

int
proto_batch_add(unsigned char **buf, size_t *cap, size_t *len, uint64_t id,
    const char *rec, size_t reclen)
{
	unsigned char	*p;

	if (grow_buf(buf, cap, *len + BATCH_REC + reclen, OUT_FIRST) == -1)
		return -1;
	p = *buf + *len;
	put_be64(p, id);
	put_be32(p + 8, (uint32_t)reclen);
	memcpy(p + BATCH_REC, rec, reclen);
	*len += BATCH_REC + reclen;
	return 0;
}

void
proto_batch_end(unsigned char *buf, size_t at, size_t len, uint32_t n)
{
	proto_header(buf + at, PROTO_BATCH, len - at - PROTO_HDR);
	put_be32(buf + at + PROTO_HDR + BATCH_COUNT, n);
}

static int
batch_records(const unsigned char *p, size_t len, struct proto_batch *b,
    char *err, size_t errlen)
{
	size_t		 off = BATCH_FIXED, i;
	uint32_t	 rlen;

	for (i = 0; i < b->n; i++) {
		if (len - off < BATCH_REC)
			goto trunc;
		b->recs[i].id = get_be64(p + off);
		rlen = get_be32(p + off + 8);
		off += BATCH_REC;
		if (rlen == 0 || rlen > len - off)
			goto trunc;
		b->recs[i].ptr = (const char *)p + off;
		b->recs[i].len = rlen;
		off += rlen;
	}
	if (off != len)
		goto trunc;
	return 0;
trunc:
	snprintf(err, errlen, "batch %llu: record %zu: bad length",
	    (unsigned long long)b->seq, i);
	return -1;
}

int
proto_batch_parse(const unsigned char *p, size_t len, struct proto_batch *b,
    char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (len < BATCH_FIXED) {
		snprintf(err, errlen, "batch: %zu bytes, too short", len);
		return -1;
	}
	b->seq = get_be64(p);
	b->flags = p[BATCH_FLAGS];
	b->n = get_be32(p + BATCH_COUNT);
	/* Every record takes at least its head: bound n before calloc. */
	if (b->n == 0 || b->n > (len - BATCH_FIXED) / BATCH_REC) {
		snprintf(err, errlen, "batch %llu: bad record count %u",
		    (unsigned long long)b->seq, b->n);
		return -1;
	}
	if ((b->recs = calloc(b->n, sizeof(*b->recs))) == NULL) {
		snprintf(err, errlen, "batch: out of memory");
		return -1;
	}
	if (batch_records(p, len, b, err, errlen) == -1) {
		proto_batch_free(b);
		return -1;
	}
	return 0;
}

void
proto_batch_free(struct proto_batch *b)
{
	free(b->recs);
	b->recs = NULL;
	b->n = 0;
}

/* A record's entry: be32 index, u8 class, be16 code, be16 length. */
#define REC_FIXED	(4 + 1 + 2 + 2)

size_t
proto_result_size(const struct proto_result *r)
{
	size_t	 n = RESULT_FIXED + r->textlen + 1 + 4;
	uint32_t i;

	for (i = 0; i < r->nrecs; i++)
		n += REC_FIXED + r->recs[i].textlen;
	return n;
}

static int
result_valid(const struct proto_result *r)
{
	uint32_t	 i;

	if (r->textlen > PROTO_ANSWER_MAX ||
	    r->class > PROTO_CLASS_PERMANENT)
		return 0;
	for (i = 0; i < r->nrecs; i++)
		if (r->recs[i].textlen > PROTO_ANSWER_MAX ||
		    r->recs[i].class == PROTO_CLASS_STATUS ||
		    r->recs[i].class > PROTO_CLASS_PERMANENT)
			return 0;
	return 1;
}

size_t
proto_result_encode(const struct proto_result *r, unsigned char *p,
    size_t size)
{
	const struct proto_rec	*rec;
	size_t			 tl = r->textlen, at;
	uint32_t		 i;

	if (!result_valid(r) || size < proto_result_size(r))
		return 0;
	put_be64(p, r->seq);
	put_be32(p + 8, r->status);
	put_be32(p + 12, r->error);
	put_be32(p + 16, r->retry_after);
	p[20] = r->new_conn;
	put_be32(p + 21, r->elapsed_ms);
	put_be16(p + 25, (uint16_t)tl);
	memcpy(p + RESULT_FIXED, r->text, tl);
	at = RESULT_FIXED + tl;
	p[at] = r->class;
	put_be32(p + at + 1, r->nrecs);
	at += 5;
	for (i = 0; i < r->nrecs; i++) {
		rec = &r->recs[i];
		put_be32(p + at, rec->index);
		p[at + 4] = rec->class;
		put_be16(p + at + 5, rec->code);
		put_be16(p + at + 7, rec->textlen);
		if (rec->textlen > 0)
			memcpy(p + at + REC_FIXED, rec->text, rec->textlen);
		at += REC_FIXED + rec->textlen;
	}
	return at;
}

/*
 * The records' entries from p (len bytes, n of them) into one block that
 * holds the array and the texts after it.
 */
static int
recs_decode(const unsigned char *p, size_t len, uint32_t n,
    struct proto_result *r)
{
	struct proto_rec	*recs;
	char			*text;
	size_t			 at, tl;
	uint32_t		 i;

	if (n == 0)
		return len == 0 ? 0 : -1;
	/* Each entry takes REC_FIXED bytes at least. */
	if (n > len / REC_FIXED)
		return -1;
	if ((recs = malloc(n * sizeof(*recs) + len)) == NULL)
		return -1;
	text = (char *)(recs + n);
	for (i = 0, at = 0; i < n; i++) {
		if (len - at < REC_FIXED)
			goto fail;
		tl = get_be16(p + at + 7);
		if (tl > PROTO_ANSWER_MAX || len - at - REC_FIXED < tl)
			goto fail;
		recs[i].index = get_be32(p + at);
		recs[i].class = p[at + 4];
		recs[i].code = get_be16(p + at + 5);
		recs[i].textlen = (uint16_t)tl;
		recs[i].text = text;
		memcpy(text, p + at + REC_FIXED, tl);
		text += tl;
		at += REC_FIXED + tl;
	}
	if (at != len)
		goto fail;
	r->recs = recs;
	r->arena = recs;
	r->nrecs = n;
	return 0;
fail:
	free(recs);
	return -1;
}

int
proto_result_decode(const unsigned char *p, size_t len,
    struct proto_result *r)
{
	size_t		 tl, at;
	uint32_t	 n;

	memset(r, 0, sizeof(*r));
	if (len < RESULT_FIXED)
		return -1;
	tl = get_be16(p + 25);
	if (tl > PROTO_ANSWER_MAX || len - RESULT_FIXED < tl + 5)
		return -1;
	r->seq = get_be64(p);
	r->status = get_be32(p + 8);
	r->error = get_be32(p + 12);
	r->retry_after = get_be32(p + 16);
	r->new_conn = p[20];
	r->elapsed_ms = get_be32(p + 21);
	r->textlen = (uint16_t)tl;
	memcpy(r->text, p + RESULT_FIXED, tl);
	at = RESULT_FIXED + tl;
	r->class = p[at];
	n = get_be32(p + at + 1);
	at += 5;
	if (recs_decode(p + at, len - at, n, r) == -1 || !result_valid(r)) {
		proto_result_free(r);
		return -1;
	}
	return 0;
}

void
proto_result_free(struct proto_result *r)
{
	free(r->arena);
	r->arena = NULL;
	r->recs = NULL;
	r->nrecs = 0;
}

/* Returns the bytes read: fewer than len only at end of file. */
static ssize_t
read_full(int fd, void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 got = 0;
	ssize_t		 n;

	while (got < len) {
		n = read(fd, p + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

void
proto_header(unsigned char *p, int type, size_t len)
{
	put_be32(p, (uint32_t)len + 1);
	p[4] = (unsigned char)type;
}

int
proto_frame(const unsigned char *buf, size_t len, uint32_t max,
    struct proto_frame *f)
{
	uint32_t	 flen;

	memset(f, 0, sizeof(*f));
	if (len < PROTO_HDR)
		return 0;
	flen = get_be32(buf);
	if (flen > max) {
		errno = EMSGSIZE;
		return -1;
	}
	if (flen == 0 || buf[4] == 0) {
		errno = EPROTO;
		return -1;
	}
	f->size = 4 + (size_t)flen;
	if (len < f->size)
		return 0;
	f->type = buf[4];
	f->p = buf + PROTO_HDR;
	f->len = flen - 1;
	return 1;
}

int
proto_read(int fd, unsigned char **payload, size_t *len)
{
	unsigned char		 hdr[PROTO_HDR];
	unsigned char		*p;
	struct proto_frame	 f;
	ssize_t			 n;

	*payload = NULL;
	*len = 0;
	if ((n = read_full(fd, hdr, sizeof(hdr))) == -1)
		return -1;
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof(hdr))
		goto truncated;
	if (proto_frame(hdr, sizeof(hdr), PROTO_FRAME_MAX, &f) == -1)
		return -1;
	/* One spare byte: an empty payload still has a pointer to free. */
	if ((p = malloc(f.size - PROTO_HDR + 1)) == NULL)
		return -1;
	if ((n = read_full(fd, p, f.size - PROTO_HDR)) !=
	    (ssize_t)(f.size - PROTO_HDR)) {
		free(p);
		if (n == -1)
			return -1;
		goto truncated;
	}
	*payload = p;
	*len = f.size - PROTO_HDR;
	return hdr[4];
truncated:
	errno = EPROTO;
	return -1;
}

int
proto_write(int fd, int type, const void *payload, size_t len)
{
	unsigned char	 hdr[PROTO_HDR];
	struct iovec	 iov[2];
	struct iovec	*v = iov;
	int		 cnt = 2;
	ssize_t		 n;

	if (type <= 0 || type > 255 || len >= PROTO_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	proto_header(hdr, type, len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	while (cnt > 0) {
		if ((n = writev(fd, v, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* A short write: skip what went and go on with the rest. */
		iov_skip(&v, &cnt, (size_t)n);
	}
	return 0;
}
