/*
 * The worker wire format, both ends of each frame: HELLO, BATCH and
 * RESULT written by their encoders, found by proto_frame, and read back
 * by their decoders. One frame of each kind is written out by hand, byte
 * for byte as spoold and the workers have always spoken, so that the two
 * ends cannot drift apart together; every truncation, and a corruption of
 * each length and count, is refused.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "proto.h"
#include "tap.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * One BATCH as spoold's pool_batch_* wrote it before its encoder moved
 * to proto.c: seq 0x0102030405060708, flags LAST|FRESH, two records.
 */
static const unsigned char batch_bytes[] = {
	0x00, 0x00, 0x00, 0x29, PROTO_BATCH,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,		/* seq */
	0x03,							/* flags */
	0x00, 0x00, 0x00, 0x02,					/* n */
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,		/* id */
	0x00, 0x00, 0x00, 0x02, '{', '}',
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa1,
	0x00, 0x00, 0x00, 0x01, 'x',
};

/* A result with three records of their own, the longest text one's. */
#define RESULT_BUF	(PROTO_HDR + 64 + 4 * PROTO_ANSWER_MAX)

/*
 * One RESULT as the worker wrote it: a 503 asking to come back in 120 s,
 * with one record delivered and one unroutable.
 */
static const unsigned char result_bytes[] = {
	0x00, 0x00, 0x00, 0x3f, PROTO_RESULT,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,		/* seq */
	0x00, 0x00, 0x01, 0xf7,					/* status */
	0x00, 0x00, 0x00, 0x00,					/* error */
	0x00, 0x00, 0x00, 0x78,					/* retry */
	0x01,							/* new */
	0x00, 0x01, 0x23, 0x45,					/* ms */
	0x00, 0x04, 'b', 'u', 's', 'y',
	PROTO_CLASS_TRANSIENT,					/* class */
	0x00, 0x00, 0x00, 0x02,					/* records */
	0x00, 0x00, 0x00, 0x00, PROTO_CLASS_DELIVERED,		/* 0: ok */
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x07, PROTO_CLASS_PERMANENT,		/* 7: 312 */
	0x01, 0x38, 0x00, 0x08, 'N', 'O', '_', 'R', 'O', 'U', 'T', 'E',
};

struct rec {
	uint64_t	 id;
	const char	*p;
	size_t		 len;
};

/* A growing buffer, as spoold keeps one per worker. */
struct out {
	unsigned char	*p;
	size_t		 cap;
	size_t		 len;
};

/* The whole frame at p, of its type, its payload right after the header. */
static int
found(const unsigned char *p, size_t len, int type, struct proto_frame *f)
{
	return proto_frame(p, len, PROTO_FRAME_MAX, f) == 1 &&
	    f->type == type && f->size == len && f->p == p + PROTO_HDR &&
	    f->len == len - PROTO_HDR;
}

/* Every shorter prefix of a frame waits for more, its size known. */
static int
prefixes_wait(const unsigned char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 k;

	for (k = 0; k < len; k++)
		if (proto_frame(p, k, PROTO_FRAME_MAX, &f) != 0 ||
		    f.size != (k < PROTO_HDR ? 0 : len))
			return 0;
	return 1;
}

/* The frame starts at the returned offset: whatever was queued stays. */
static size_t
batch_encode(struct out *o, uint64_t seq, uint8_t flags,
    const struct rec *r, size_t n)
{
	size_t	 at = o->len, i;

	if (proto_batch_begin(&o->p, &o->cap, &o->len, seq, flags) == -1)
		return SIZE_MAX;
	for (i = 0; i < n; i++)
		if (proto_batch_add(&o->p, &o->cap, &o->len, r[i].id, r[i].p,
		    r[i].len) == -1)
			return SIZE_MAX;
	proto_batch_end(o->p, at, o->len, (uint32_t)n);
	return at;
}

/* Decoded as encoded, the records pointing into the payload in order. */
static int
batch_is(const struct proto_batch *b, const unsigned char *payload,
    uint64_t seq, uint8_t flags, const struct rec *r, size_t n)
{
	size_t	 i, off = 13;

	if (b->seq != seq || b->flags != flags || b->n != n)
		return 0;
	for (i = 0; i < n; i++) {
		off += 12;
		if (b->recs[i].id != r[i].id || b->recs[i].len != r[i].len ||
		    b->recs[i].ptr != (const char *)payload + off ||
		    memcmp(b->recs[i].ptr, r[i].p, r[i].len) != 0)
			return 0;
		off += r[i].len;
	}
	return 1;
}

static int
batch_refused(const unsigned char *p, size_t len)
{
	struct proto_batch	 b;
	char			 err[128];

	if (proto_batch_parse(p, len, &b, err, sizeof(err)) == 0) {
		proto_batch_free(&b);
		return 0;
	}
	return b.recs == NULL;
}

/* Every payload prefix, and one byte more, refused. */
static int
batch_cuts_refused(const unsigned char *p, size_t len)
{
	unsigned char	*q;
	size_t		 k;
	int		 rc;

	for (k = 0; k < len; k++)
		if (!batch_refused(p, k))
			return 0;
	if ((q = malloc(len + 1)) == NULL)
		return 0;
	memcpy(q, p, len);
	q[len] = 0;
	rc = batch_refused(q, len + 1);
	free(q);
	return rc;
}

/* The count, and the last record's length, one off either way. */
static int
batch_counts_refused(const unsigned char *p, size_t len, const struct rec *r,
    size_t n)
{
	unsigned char	*q;
	size_t		 last = len - r[n - 1].len - 4;
	int		 rc;

	if ((q = malloc(len)) == NULL)
		return 0;
	memcpy(q, p, len);
	put_be32(q + 9, (uint32_t)n + 1);
	rc = batch_refused(q, len);
	put_be32(q + 9, (uint32_t)n - 1);
	rc = rc && batch_refused(q, len);
	put_be32(q + 9, (uint32_t)n);
	put_be32(q + last, (uint32_t)r[n - 1].len + 1);
	rc = rc && batch_refused(q, len);
	put_be32(q + last, (uint32_t)r[n - 1].len - 1);
	rc = rc && batch_refused(q, len);
	put_be32(q + last, (uint32_t)r[n - 1].len);
	rc = rc && !batch_refused(q, len);
	free(q);
	return rc;
}

/*
 * Encoded behind three bytes already queued, found, decoded back; then
 * cut and corrupted.
 */
static void
batch_trip(uint64_t seq, uint8_t flags, const struct rec *r, size_t n,
    const char *what)
{
	struct out		 o = { NULL, 0, 0 };
	struct proto_frame	 f;
	struct proto_batch	 b;
	char			 err[128];
	size_t			 at;

	if (grow_buf(&o.p, &o.cap, 3, 16) == -1)
		goto fail;
	o.len = 3;
	memcpy(o.p, "abc", 3);
	if ((at = batch_encode(&o, seq, flags, r, n)) == SIZE_MAX)
		goto fail;
	ok(at == 3 && memcmp(o.p, "abc", 3) == 0,
	    "batch %s: what was queued stays", what);
	if (!ok(found(o.p + at, o.len - at, PROTO_BATCH, &f),
	    "batch %s: one whole frame", what))
		goto fail;
	ok(proto_batch_parse(f.p, f.len, &b, err, sizeof(err)) == 0 &&
	    batch_is(&b, f.p, seq, flags, r, n), "batch %s: decoded as encoded",
	    what);
	proto_batch_free(&b);
	ok(prefixes_wait(o.p + at, o.len - at),
	    "batch %s: every cut frame waits for the rest", what);
	ok(batch_cuts_refused(f.p, f.len),
	    "batch %s: every cut payload, and a longer one, refused", what);
	ok(batch_counts_refused(f.p, f.len, r, n),
	    "batch %s: a count or a length one off refused", what);
	free(o.p);
	return;
fail:
	ok(0, "batch %s: encoded", what);
	free(o.p);
}

static void
test_batch_bytes(void)
{
	struct rec		 r[] = {
		{ 0x1112131415161718ULL, "{}", 2 }, { 0xa1, "x", 1 }
	};
	struct out		 o = { NULL, 0, 0 };
	struct proto_frame	 f;
	struct proto_batch	 b;
	char			 err[128];

	batch_encode(&o, 0x0102030405060708ULL, PROTO_F_LAST | PROTO_F_FRESH,
	    r, NELEM(r));
	ok(o.len == sizeof(batch_bytes) &&
	    memcmp(o.p, batch_bytes, o.len) == 0,
	    "batch: the bytes spoold has always sent");
	ok(found(batch_bytes, sizeof(batch_bytes), PROTO_BATCH, &f) &&
	    proto_batch_parse(f.p, f.len, &b, err, sizeof(err)) == 0 &&
	    batch_is(&b, f.p, 0x0102030405060708ULL, 3, r, NELEM(r)),
	    "batch: the bytes workers have always read");
	proto_batch_free(&b);
	free(o.p);
}

/*
 * spoold never sends a batch without records, or an empty record (the
 * spool holds none): written as asked, they are refused on reading.
 */
static void
test_batch_empty(void)
{
	static const unsigned char	 none[] = {
		0x00, 0x00, 0x00, 0x0e, PROTO_BATCH,
		0, 0, 0, 0, 0, 0, 0, 7, PROTO_F_FRESH, 0, 0, 0, 0
	};
	static const unsigned char	 blank[] = {
		0x00, 0x00, 0x00, 0x27, PROTO_BATCH,
		0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'a',
		0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
	};
	struct rec		 r[] = { { 1, "a", 1 }, { 2, "", 0 } };
	struct out		 o = { NULL, 0, 0 };
	struct proto_frame	 f;

	batch_encode(&o, 7, PROTO_F_FRESH, NULL, 0);
	ok(o.len == sizeof(none) && memcmp(o.p, none, o.len) == 0 &&
	    found(o.p, o.len, PROTO_BATCH, &f) && batch_refused(f.p, f.len),
	    "batch of no records: written, refused");
	o.len = 0;
	batch_encode(&o, 8, 0, r, NELEM(r));
	ok(o.len == sizeof(blank) && memcmp(o.p, blank, o.len) == 0 &&
	    found(o.p, o.len, PROTO_BATCH, &f) && batch_refused(f.p, f.len),
	    "batch with an empty record: written, refused");
	free(o.p);
}

static void
test_batch(void)
{
	static const uint8_t	 flags[] = { 0, PROTO_F_LAST, PROTO_F_FRESH,
	    PROTO_F_LAST | PROTO_F_FRESH, 0xff };
	struct rec		 one = { 42, "{\"type\":\"Delivery\"}", 19 };
	struct rec		*many, big;
	char			*text, what[32];
	size_t			 i;

	for (i = 0; i < NELEM(flags); i++) {
		snprintf(what, sizeof(what), "flags 0x%02x", flags[i]);
		batch_trip(UINT64_MAX - i, flags[i], &one, 1, what);
	}
	/* Records of every length up to 37, every byte value among them. */
	many = calloc(1000, sizeof(*many));
	text = malloc(1000 * 37);
	for (i = 0; i < 1000 * 37; i++)
		text[i] = (char)(i * 7);
	for (i = 0; i < 1000; i++) {
		many[i].id = 1000 + i * 0x100000001ULL;
		many[i].p = text + i * 37;
		many[i].len = i % 37 + 1;
	}
	batch_trip(5, PROTO_F_LAST, many, 1000, "of 1000 records");
	/* Larger than the buffer's first size: it grows under the record. */
	big.id = 0x8000000000000001ULL;
	big.len = (1U << 20) + 3;
	big.p = malloc(big.len);
	for (i = 0; i < big.len; i++)
		((char *)big.p)[i] = (char)(i % 251);
	batch_trip(6, 0, &big, 1, "of a 1 MiB record");
	many[1] = big;
	batch_trip(7, PROTO_F_FRESH, many, 3, "large among small");
	free((void *)big.p);
	free(text);
	free(many);
	test_batch_bytes();
	test_batch_empty();
}

/* RESULT frames are written as the worker writes them. */
static size_t
result_frame(const struct proto_result *r, unsigned char *buf, size_t size)
{
	size_t	 n;

	if ((n = proto_result_encode(r, buf + PROTO_HDR,
	    size - PROTO_HDR)) == 0)
		return 0;
	proto_header(buf, PROTO_RESULT, n);
	return PROTO_HDR + n;
}

static int
result_eq(const struct proto_result *a, const struct proto_result *b)
{
	uint32_t	 i;

	if (a->nrecs != b->nrecs)
		return 0;
	for (i = 0; i < a->nrecs; i++)
		if (a->recs[i].index != b->recs[i].index ||
		    a->recs[i].class != b->recs[i].class ||
		    a->recs[i].code != b->recs[i].code ||
		    a->recs[i].textlen != b->recs[i].textlen ||
		    (a->recs[i].textlen > 0 && memcmp(a->recs[i].text,
		    b->recs[i].text, a->recs[i].textlen) != 0))
			return 0;
	return a->seq == b->seq && a->status == b->status &&
	    a->error == b->error && a->retry_after == b->retry_after &&
	    a->new_conn == b->new_conn && a->elapsed_ms == b->elapsed_ms &&
	    a->textlen == b->textlen && a->class == b->class &&
	    memcmp(a->text, b->text, a->textlen) == 0;
}

static int
result_refused(const unsigned char *p, size_t len)
{
	struct proto_result	 r;

	if (proto_result_decode(p, len, &r) == -1)
		return r.arena == NULL;
	proto_result_free(&r);
	return 0;
}

/* Every prefix, one byte more, the text's length one off either way. */
static int
result_cuts_refused(const unsigned char *p, size_t len)
{
	unsigned char	 q[RESULT_BUF];
	size_t		 k, tl = p[25] << 8 | p[26];

	for (k = 0; k < len; k++)
		if (!result_refused(p, k))
			return 0;
	memcpy(q, p, len);
	q[len] = 'x';
	if (!result_refused(q, len + 1))
		return 0;
	q[25] = (unsigned char)((tl + 1) >> 8);
	q[26] = (unsigned char)((tl + 1) & 0xff);
	if (!result_refused(q, len))
		return 0;
	if (tl == 0)
		return 1;
	q[25] = (unsigned char)((tl - 1) >> 8);
	q[26] = (unsigned char)((tl - 1) & 0xff);
	return result_refused(q, len);
}

static void
result_trip(const struct proto_result *r, const char *what)
{
	unsigned char		 buf[RESULT_BUF];
	struct proto_frame	 f;
	struct proto_result	 back;
	size_t			 len, k;
	int			 short_refused = 1;

	len = result_frame(r, buf, sizeof(buf));
	if (!ok(len == PROTO_HDR + proto_result_size(r) &&
	    found(buf, len, PROTO_RESULT, &f), "result %s: one whole frame",
	    what))
		return;
	ok(proto_result_decode(f.p, f.len, &back) == 0 && result_eq(r, &back),
	    "result %s: decoded as encoded", what);
	proto_result_free(&back);
	ok(prefixes_wait(buf, len),
	    "result %s: every cut frame waits for the rest", what);
	ok(result_cuts_refused(f.p, f.len),
	    "result %s: every cut payload, a longer one, a text length one "
	    "off, refused", what);
	for (k = 0; k < f.len; k++)
		if (proto_result_encode(r, buf, k) != 0)
			short_refused = 0;
	ok(short_refused, "result %s: every short buffer refused", what);
}

static void
test_result_bytes(void)
{
	struct proto_rec	 recs[2] = {
		{ 0, PROTO_CLASS_DELIVERED, 0, 0, "" },
		{ 7, PROTO_CLASS_PERMANENT, 312, 8, "NO_ROUTE" },
	};
	struct proto_result	 r, back;
	unsigned char		 buf[128];
	struct proto_frame	 f;
	size_t			 len;
	int			 same;

	memset(&back, 0, sizeof(back));
	memset(&r, 0, sizeof(r));
	r.class = PROTO_CLASS_TRANSIENT;
	r.nrecs = 2;
	r.recs = recs;
	r.seq = 0x0102030405060708ULL;
	r.status = 503;
	r.retry_after = 120;
	r.new_conn = 1;
	r.elapsed_ms = 0x12345;
	memcpy(r.text, "busy", 4);
	r.textlen = 4;
	len = result_frame(&r, buf, sizeof(buf));
	ok(len == sizeof(result_bytes) && memcmp(buf, result_bytes, len) == 0,
	    "result: the bytes workers have always sent");
	same = found(result_bytes, sizeof(result_bytes), PROTO_RESULT, &f) &&
	    proto_result_decode(f.p, f.len, &back) == 0 && result_eq(&r, &back);
	ok(same, "result: the bytes spoold has always read");
	proto_result_free(&back);
}

/* Each record's own outcome, and results no worker may send. */
static void
test_result_recs(void)
{
	static const char	 text[PROTO_ANSWER_MAX] = "x";
	struct proto_rec	 recs[3] = {
		{ 0, PROTO_CLASS_TRANSIENT, 0, 4, "nack" },
		{ 2, PROTO_CLASS_PERMANENT, 312, PROTO_ANSWER_MAX, text },
		{ 0xffffffffU, PROTO_CLASS_DELIVERED, 0xffff, 0, NULL },
	};
	struct proto_result	 r;
	unsigned char		 buf[RESULT_BUF];

	memset(&r, 0, sizeof(r));
	r.seq = 9;
	r.class = PROTO_CLASS_DELIVERED;
	r.recs = recs;
	r.nrecs = 3;
	result_trip(&r, "with records of their own");
	r.class = PROTO_CLASS_PERMANENT + 1;
	ok(proto_result_encode(&r, buf, sizeof(buf)) == 0,
	    "result: a class no result has not written");
	r.class = PROTO_CLASS_DELIVERED;
	recs[0].class = PROTO_CLASS_STATUS;
	ok(proto_result_encode(&r, buf, sizeof(buf)) == 0,
	    "result: a record classed by status not written");
	recs[0].class = PROTO_CLASS_TRANSIENT;
	recs[1].textlen = PROTO_ANSWER_MAX + 1;
	ok(proto_result_encode(&r, buf, sizeof(buf)) == 0,
	    "result: a record's text over PROTO_ANSWER_MAX not written");
}

static void
test_result(void)
{
	static const struct {
		const char	*what;
		uint32_t	 status, error, retry;
		uint8_t		 new_conn;
		const char	*text;
	} kinds[] = {
		{ "2xx", 200, 0, 0, 1, "{\"ok\":true}" },
		{ "2xx without a body", 204, 0, 0, 0, "" },
		{ "4xx", 400, 0, 0, 0, "bad request" },
		{ "with Retry-After", 503, 0, 4000000000U, 1, "later" },
		{ "transport error", 0, 28, 0, 1,
		    "Operation timed out after 1000 milliseconds" },
		{ "no answer, no text", 0, 7, 0, 0, "" },
	};
	struct proto_result	 r;
	size_t			 i;

	for (i = 0; i < NELEM(kinds); i++) {
		memset(&r, 0, sizeof(r));
		r.seq = 0xfedcba9876543210ULL + i;
		r.status = kinds[i].status;
		r.error = kinds[i].error;
		r.retry_after = kinds[i].retry;
		r.new_conn = kinds[i].new_conn;
		r.elapsed_ms = 0xffffffffU - (uint32_t)i;
		r.textlen = (uint16_t)strlen(kinds[i].text);
		memcpy(r.text, kinds[i].text, r.textlen);
		result_trip(&r, kinds[i].what);
	}
	/* The longest answer text, every byte value in it. */
	for (i = 0; i < PROTO_ANSWER_MAX; i++)
		r.text[i] = (char)i;
	r.textlen = PROTO_ANSWER_MAX;
	result_trip(&r, "with the longest text");
	r.textlen = PROTO_ANSWER_MAX + 1;
	ok(proto_result_encode(&r, (unsigned char[1024]){ 0 }, 1024) == 0,
	    "result: text over PROTO_ANSWER_MAX not written");
	test_result_bytes();
	test_result_recs();
}

/*
 * HELLO as spoold has always sent it for a hook with every setting (the
 * key's base64 left open), and for one with the fewest.
 */
static const char	 hello_full[] = "{\"name\":\"orders\","
    "\"url\":\"https://hooks.example/in?a=1&b=\\\"2\\\"\","
    "\"format\":\"ndjson\",\"batch_size\":250,\"timeout_ms\":1500,"
    "\"headers\":[[\"Authorization\",\"Bearer abc\"],[\"X-Empty\",\"\"],"
    "[\"X-Twice\",\"1\"],[\"X-Twice\",\"2\"]],"
    "\"log_parameters\":{\"meta\":[\"tenant_*\",\"campaign\"],"
    "\"headers\":[\"subject\",\"x-*\"]},"
    "\"signing_secret\":\"whsec_AAEC\",\"signing_key\":\"%s\","
    "\"tls_verify\":false,\"ca_file\":\"/etc/ca.pem\","
    "\"client_cert\":\"/etc/c.pem\",\"client_key\":\"/etc/k.pem\","
    "\"max_deliveries_per_connection\":9,\"transport\":\"amqp\","
    "\"exchange\":\"logs\",\"routing_key\":\"kumo.events\","
    "\"persistent\":false,\"mandatory\":true,\"topic\":\"t1\","
    "\"key\":\"recipient\",\"kafka\":[[\"acks\",\"all\"],"
    "[\"linger.ms\",\"5\"]]}";
static const char	 hello_least[] = "{\"name\":\"a\","
    "\"url\":\"http://127.0.0.1/\",\"format\":\"json\",\"batch_size\":0,"
    "\"timeout_ms\":0,\"headers\":[],\"log_parameters\":null,"
    "\"signing_secret\":null,\"signing_key\":null,\"tls_verify\":true,"
    "\"ca_file\":null,\"client_cert\":null,\"client_key\":null,"
    "\"max_deliveries_per_connection\":0,\"transport\":\"http\","
    "\"exchange\":null,\"routing_key\":null,\"persistent\":false,"
    "\"mandatory\":false,\"topic\":null,\"key\":null,\"kafka\":[]}";
static const unsigned char	 key[] = { 0x00, 0xff, 0x10, 0x80, 0x7f };

static int
hello_refused(const unsigned char *p, size_t len)
{
	struct hook	 h;
	char		 err[256];

	if (proto_hello_parse(p, len, &h, err, sizeof(err)) == 0) {
		proto_hook_free(&h);
		return 0;
	}
	return h.name == NULL && h.url == NULL && h.headers == NULL &&
	    strncmp(err, "hello: ", 7) == 0;
}

/* The settings read back, and written again: the same bytes. */
static void
hello_again(const struct proto_frame *f, const char *name, size_t keylen,
    const char *what)
{
	struct hook	 back;
	char		*again, err[256];
	size_t		 len = 0;

	if (!ok(proto_hello_parse(f->p, f->len, &back, err, sizeof(err)) == 0,
	    "hello %s: decoded", what)) {
		diag("%s", err);
		return;
	}
	ok(strcmp(back.name, name) == 0 && back.signing_key_len == keylen &&
	    (keylen == 0 || memcmp(back.signing_key, key, keylen) == 0),
	    "hello %s: the settings as sent", what);
	again = proto_hello(&back, &len);
	ok(again != NULL && len == f->len && memcmp(again, f->p, len) == 0,
	    "hello %s: written again, the same bytes", what);
	free(again);
	proto_hook_free(&back);
}

static void
hello_trip(const char *text, const char *name, size_t keylen,
    const char *what)
{
	unsigned char		*buf;
	struct proto_frame	 f;
	size_t			 len = strlen(text), k;
	int			 cuts = 1;

	if ((buf = malloc(PROTO_HDR + len)) == NULL)
		return;
	proto_header(buf, PROTO_HELLO, len);
	memcpy(buf + PROTO_HDR, text, len);
	if (ok(found(buf, PROTO_HDR + len, PROTO_HELLO, &f),
	    "hello %s: one whole frame", what))
		hello_again(&f, name, keylen, what);
	ok(prefixes_wait(buf, PROTO_HDR + len),
	    "hello %s: every cut frame waits for the rest", what);
	for (k = 0; k < len; k++)
		if (!hello_refused(buf + PROTO_HDR, k))
			cuts = 0;
	ok(cuts, "hello %s: every cut payload refused", what);
	free(buf);
}

static void
test_hello(void)
{
	static const char	*b64[] = { "AA==", "AP8=", "AP8Q", NULL,
	    "AP8QgH8=" };
	static const char	*bad[] = {
		"[]", "{\"name\":\"a\"}", "{\"url\":\"u\"}",
		"{\"name\":\"a\",\"url\":\"u\",\"format\":\"xml\"}",
		"{\"name\":\"a\",\"url\":\"u\",\"tls_verify\":1}",
		"{\"name\":\"a\",\"url\":\"u\",\"signing_key\":\"abc\"}",
		"{\"name\":\"a\",\"url\":\"u\",\"batch_size\":-1}",
		"{\"name\":\"a\",\"url\":\"u\",\"headers\":[[\"a\"]]}",
		"{\"name\":\"a\",\"url\":\"u\"} x",
	};
	struct hook	 h;
	char		 text[1024], what[64];
	char		*enc;
	size_t		 i, len;

	for (i = 0; i < NELEM(b64); i++) {
		if (b64[i] == NULL)
			continue;
		snprintf(text, sizeof(text), hello_full, b64[i]);
		snprintf(what, sizeof(what), "with a %zu-byte key", i + 1);
		hello_trip(text, "orders", i + 1, what);
	}
	hello_trip(hello_least, "a", 0, "with the fewest settings");
	memset(&h, 0, sizeof(h));
	h.name = "a";
	h.url = "http://127.0.0.1/";
	h.tls_verify = 1;
	enc = proto_hello(&h, &len);
	ok(enc != NULL && len == strlen(hello_least) &&
	    memcmp(enc, hello_least, len) == 0,
	    "hello: the bytes spoold has always sent");
	free(enc);
	for (i = 0; i < NELEM(bad); i++)
		ok(hello_refused((const unsigned char *)bad[i],
		    strlen(bad[i])), "hello: %s refused", bad[i]);
}

/* Headers no frame can have, and a type only the reader can judge. */
static void
test_frame(void)
{
	static const unsigned char	 zero[] = { 0, 0, 0, 0, PROTO_BATCH };
	static const unsigned char	 untyped[] = { 0, 0, 0, 1, 0 };
	static const unsigned char	 huge[] = { 0x40, 0, 0, 1, 1 };
	static const unsigned char	 other[] = { 0, 0, 0, 2, 99, 'x' };
	unsigned char			 hdr[PROTO_HDR];
	struct proto_frame		 f;

	errno = 0;
	ok(proto_frame(zero, sizeof(zero), PROTO_FRAME_MAX, &f) == -1 &&
	    errno == EPROTO, "frame: length 0 refused");
	errno = 0;
	ok(proto_frame(untyped, sizeof(untyped), PROTO_FRAME_MAX, &f) == -1 &&
	    errno == EPROTO, "frame: type 0 refused");
	errno = 0;
	ok(proto_frame(huge, sizeof(huge), PROTO_FRAME_MAX, &f) == -1 &&
	    errno == EMSGSIZE, "frame: longer than the limit refused");
	ok(proto_frame(other, sizeof(other), 2, &f) == 1 && f.type == 99 &&
	    f.len == 1 && f.p[0] == 'x',
	    "frame: an unknown type is the reader's to judge");
	ok(proto_frame(other, sizeof(other), 1, &f) == -1 && errno == EMSGSIZE,
	    "frame: the limit counts the type byte");
	proto_header(hdr, PROTO_RESULT, 0x01020304);
	ok(hdr[0] == 1 && hdr[1] == 2 && hdr[2] == 3 && hdr[3] == 5 &&
	    hdr[4] == PROTO_RESULT, "frame: header big-endian, type counted");
}

/* proto_write frames a payload exactly as the BATCH encoder does. */
static void
test_write(void)
{
	struct rec	 r = { 3, "{\"a\":1}", 7 };
	struct out	 o = { NULL, 0, 0 };
	unsigned char	 got[64], *p = NULL;
	size_t		 len;
	ssize_t		 n;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		ok(0, "write: socketpair: %s", strerror(errno));
		return;
	}
	batch_encode(&o, 1, PROTO_F_LAST, &r, 1);
	ok(proto_write(sv[0], PROTO_BATCH, o.p + PROTO_HDR,
	    o.len - PROTO_HDR) == 0 &&
	    (n = read(sv[1], got, sizeof(got))) == (ssize_t)o.len &&
	    memcmp(got, o.p, o.len) == 0, "write: the encoder's bytes");
	ok(proto_write(sv[0], PROTO_BATCH, o.p + PROTO_HDR,
	    o.len - PROTO_HDR) == 0 &&
	    proto_read(sv[1], &p, &len) == PROTO_BATCH &&
	    len == o.len - PROTO_HDR && memcmp(p, o.p + PROTO_HDR, len) == 0,
	    "read: the encoder's payload");
	free(p);
	close(sv[0]);
	close(sv[1]);
	free(o.p);
}

/* Hooks through HELLO setting by setting, and each kind of RESULT. */

static int
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
patterns_eq(const struct patterns *a, const struct patterns *b)
{
	size_t	 i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!streq(a->v[i], b->v[i]))
			return 0;
	return 1;
}

static int
pairs_eq(const struct header *a, size_t na, const struct header *b,
    size_t nb)
{
	size_t	 i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!streq(a[i].name, b[i].name) ||
		    !streq(a[i].value, b[i].value))
			return 0;
	return 1;
}


static int
key_eq(const struct hook *a, const struct hook *b)
{
	if (a->signing_key == NULL || b->signing_key == NULL)
		return a->signing_key == b->signing_key;
	return a->signing_key_len == b->signing_key_len &&
	    memcmp(a->signing_key, b->signing_key, a->signing_key_len) == 0;
}

static int
hook_eq(const struct hook *a, const struct hook *b)
{
	return streq(a->name, b->name) && streq(a->url, b->url) &&
	    a->format == b->format && a->batch_size == b->batch_size &&
	    a->timeout_ms == b->timeout_ms && pairs_eq(a->headers, a->nheaders, b->headers, b->nheaders) &&
	    a->has_log_parameters == b->has_log_parameters &&
	    patterns_eq(&a->lp_meta, &b->lp_meta) &&
	    patterns_eq(&a->lp_headers, &b->lp_headers) &&
	    streq(a->signing_secret, b->signing_secret) && key_eq(a, b) &&
	    a->tls_verify == b->tls_verify && streq(a->ca_file, b->ca_file) &&
	    streq(a->client_cert, b->client_cert) &&
	    streq(a->client_key, b->client_key) &&
	    a->shaping.max_deliveries_per_connection ==
	    b->shaping.max_deliveries_per_connection &&
	    a->transport == b->transport && streq(a->exchange, b->exchange) &&
	    streq(a->routing_key, b->routing_key) &&
	    a->persistent == b->persistent && a->mandatory == b->mandatory &&
	    streq(a->topic, b->topic) && streq(a->key, b->key) &&
	    pairs_eq(a->kafka, a->nkafka, b->kafka, b->nkafka);
}

/* Through text, as it goes over the socket. */
static int
round_trip(const struct hook *h, struct hook *out)
{
	json_t	*j;
	char	*s, err[256];
	int	 rc;

	if ((j = proto_hook_json(h)) == NULL)
		return -1;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return -1;
	j = json_loads(s, 0, NULL);
	free(s);
	rc = proto_hook_parse(j, out, err, sizeof(err));
	if (rc == -1)
		diag("%s", err);
	json_decref(j);
	return rc;
}

static char	*meta_pats[] = { "tenant_*", "campaign" };
static char	*hdr_pats[] = { "subject", "x-*" };
static struct header hdrs[] = {
	{ "Authorization", "Bearer abc" }, { "X-Empty", "" },
	{ "X-Dup", "1" }, { "X-Dup", "2" },
};

static struct header props[] = {
	{ "acks", "all" }, { "compression.type", "lz4" },
};

static void
full_hook(struct hook *h, unsigned char *hkey, size_t keylen)
{
	memset(h, 0, sizeof(*h));
	h->name = "full";
	h->url = "https://example.com:8443/h?x=1";
	h->format = FORMAT_NDJSON;
	h->batch_size = 250;
	h->timeout_ms = 1234;
	h->headers = hdrs;
	h->nheaders = NELEM(hdrs);
	h->has_log_parameters = 1;
	h->lp_meta.v = meta_pats;
	h->lp_meta.n = NELEM(meta_pats);
	h->lp_headers.v = hdr_pats;
	h->lp_headers.n = NELEM(hdr_pats);
	h->signing_secret = "whsec_c2VjcmV0";
	h->signing_key = hkey;
	h->signing_key_len = keylen;
	h->tls_verify = 0;
	h->ca_file = "/etc/ca.pem";
	h->client_cert = "/etc/c\xc3\xa9rt.pem";
	h->client_key = "/etc/key.pem";
	h->shaping.max_deliveries_per_connection = 7;
	h->transport = TRANSPORT_KAFKA;
	h->exchange = "";
	h->routing_key = "r\xc3\xa9";
	h->persistent = 0;
	h->mandatory = 1;
	h->topic = "events";
	h->key = "recipient";
	h->kafka = props;
	h->nkafka = NELEM(props);
}

static void
test_hook_json(void)
{
	struct hook	 h, back;
	unsigned char	 hkey[40];
	size_t		 i;
	int		 all = 1;

	for (i = 0; i < sizeof(hkey); i++)
		hkey[i] = (unsigned char)(i * 37 + 200);
	full_hook(&h, hkey, 32);
	ok(round_trip(&h, &back) == 0 && hook_eq(&h, &back),
	    "hook json: every field round trips");
	proto_hook_free(&back);

	/* Every padding case of the hkey's base64. */
	for (i = 1; i <= sizeof(hkey); i++) {
		full_hook(&h, hkey, i);
		if (round_trip(&h, &back) == -1 || !hook_eq(&h, &back))
			all = 0;
		proto_hook_free(&back);
	}
	ok(all, "hook json: keys of 1 to 40 bytes round trip");

	memset(&h, 0, sizeof(h));
	h.name = "min";
	h.url = "http://127.0.0.1/";
	h.batch_size = 1;
	h.timeout_ms = 60000;
	h.tls_verify = 1;
	ok(round_trip(&h, &back) == 0 && hook_eq(&h, &back) &&
	    back.signing_key == NULL && back.headers == NULL &&
	    !back.has_log_parameters, "hook json: a bare hook round trips");
	proto_hook_free(&back);

	h.has_log_parameters = 1;
	ok(round_trip(&h, &back) == 0 && hook_eq(&h, &back) &&
	    back.has_log_parameters && back.lp_meta.n == 0,
	    "hook json: empty log_parameters stay set");
	proto_hook_free(&back);
}

static void
hook_bad(const char *text, const char *want)
{
	json_t		*j = json_loads(text, 0, NULL);
	struct hook	 h;
	char		 err[256] = "";
	int		 rc;

	rc = proto_hook_parse(j, &h, err, sizeof(err));
	ok(rc == -1 && strstr(err, want) != NULL, "hook json %s refused: %s",
	    text, err);
	ok(h.name == NULL && h.headers == NULL, "nothing left allocated");
	json_decref(j);
}

static void
test_hook_bad(void)
{
	hook_bad("[]", "settings");
	hook_bad("{\"url\":\"http://x/\"}", "name");
	hook_bad("{\"name\":\"a\"}", "url");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"format\":\"xml\"}", "format");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"headers\":[[\"a\"]]}",
	    "headers");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"headers\":[[\"a\",\"b\"],"
	    "[\"c\",1]]}", "headers");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"signing_key\":\"abc\"}",
	    "signing_key");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"batch_size\":-1}",
	    "batch_size");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"log_parameters\":"
	    "{\"meta\":[1]}}", "meta");
	hook_bad("{\"name\":\"a\",\"url\":\"u\",\"tls_verify\":1}",
	    "tls_verify");
}

static void
test_result_kinds(void)
{
	struct proto_result	 r, back;
	unsigned char		 buf[1024];
	size_t			 n;

	memset(&r, 0, sizeof(r));
	r.seq = 0x0102030405060708ULL;
	r.status = 503;
	r.error = 28;
	r.retry_after = 4000000000U;
	r.new_conn = 1;
	r.elapsed_ms = 123456;
	memcpy(r.text, "busy \xc3\xa9", 7);
	r.textlen = 7;
	n = proto_result_encode(&r, buf, sizeof(buf));
	is_int(n, 32 + 7, "result: encoded size");
	ok(proto_result_decode(buf, n, &back) == 0 && back.seq == r.seq &&
	    back.status == 503 && back.error == 28 &&
	    back.retry_after == r.retry_after && back.new_conn == 1 &&
	    back.elapsed_ms == 123456 && back.textlen == 7 &&
	    memcmp(back.text, r.text, 7) == 0, "result: round trip");
	ok(buf[0] == 1 && buf[7] == 8 && buf[10] == 0x01 && buf[11] == 0xf7,
	    "result: big-endian");
	ok(proto_result_decode(buf, n - 1, &back) == -1 &&
	    proto_result_decode(buf, n + 1, &back) == -1 &&
	    proto_result_decode(buf, 26, &back) == -1,
	    "result: wrong lengths refused");
	ok(proto_result_encode(&r, buf, n - 1) == 0,
	    "result: short buffer refused");

	memset(r.text, 'x', sizeof(r.text));
	r.textlen = PROTO_ANSWER_MAX;
	n = proto_result_encode(&r, buf, sizeof(buf));
	ok(n == 32 + PROTO_ANSWER_MAX && proto_result_decode(buf, n,
	    &back) == 0 && back.textlen == PROTO_ANSWER_MAX,
	    "result: longest text");
	buf[25] = (PROTO_ANSWER_MAX + 1) >> 8;
	buf[26] = (PROTO_ANSWER_MAX + 1) & 0xff;
	ok(proto_result_decode(buf, n + 1, &back) == -1,
	    "result: text over PROTO_ANSWER_MAX refused");
	r.textlen = 0;
	n = proto_result_encode(&r, buf, sizeof(buf));
	ok(n == 32 && proto_result_decode(buf, n, &back) == 0 &&
	    back.textlen == 0, "result: empty text");
}

int
main(void)
{
	test_frame();
	test_batch();
	test_result();
	test_hello();
	test_write();
	test_hook_json();
	test_hook_bad();
	test_result_kinds();
	return done_testing();
}
