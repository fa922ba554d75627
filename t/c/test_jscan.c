/*
 * Tests of the ingest JSON scanner (common/jscan.c).
 *
 * The scanner's contract is to accept exactly what jansson's json_loadb
 * with JSON_ALLOW_NUL accepts, \u0000 in keys too (t/c/jsonoracle.c), so
 * besides hand-written edge cases (each also checked against that oracle,
 * so the table cannot drift from it)
 * this runs a deterministic differential test: generated KumoMTA-like log
 * records, numbers at the int64 and double limits, nesting around
 * jansson's depth limit, every escape, random UTF-8 valid and not, and
 * random mutations of all of them, each checked against jansson. One TAP
 * line per category; a mismatch prints the input hex-escaped.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "jscan.h"
#include "jsonoracle.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_DIAGS	5

/* 2^1024 - 2^970: strtod overflows at and above it. */
static const char thresh[] =
    "17976931348623158079372897140530341507993413271003782693617377898044"
    "49682927647509466490179775872070963302864166928879109465555478519404"
    "02630657488671505820681908902000708383676273854845817711531764475730"
    "27006985557136695962284291481986083493647529271907416844436551070434"
    "2711559699508093042880177904174497792";

/* DBL_MAX exactly. */
static const char dblmax[] =
    "17976931348623157081452742373170435679807056752584499659891747680315"
    "72607800285387605895586327668781715404589535143824642343213268894641"
    "82768467546703537516986049910576551282076245490090389328944075868508"
    "45513394230458323690322294816580855933212334827479782620414472316873"
    "8177180919299881250404026184124858368";

/* Growable byte buffer for generated inputs. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
bput(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
bputs(struct buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void
bputc(struct buf *b, int c)
{
	char	 ch = (char)c;

	bput(b, &ch, 1);
}

static void __attribute__((format(printf, 2, 3)))
bprintf(struct buf *b, const char *fmt, ...)
{
	char	 tmp[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		abort();
	bput(b, tmp, (size_t)n);
}

/* Deterministic: the same cases every run, on every machine. */
static uint64_t	 rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int
rn(unsigned int n)
{
	return (unsigned int)((rnd() >> 32) % n);
}

static const char *
pick(const char *const *v, size_t n)
{
	return v[rn((unsigned int)n)];
}

#define PICK(v)	pick((v), NELEM(v))

/* Printable ASCII as is, everything else as \xHH; long inputs cut. */
static void
diag_input(const char *what, const char *p, size_t n)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n && i < 600; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			bputc(&b, c);
		else
			bprintf(&b, "\\x%02x", c);
	}
	if (i < n)
		bprintf(&b, "...(%zu bytes)", n);
	diag("%s: \"%s\"", what, b.p ? b.p : "");
	free(b.p);
}

/* What the oracle (jansson) makes of an input. */
struct oracle {
	int		 doc;		/* json_loadb accepts */
	int		 rec;		/* ... and it is an object */
	int		 body;		/* object, or array of objects */
	size_t		 nrec;		/* records in the body */
	int		 type_state;
	size_t		 type_len;
	char		 type[JSCAN_TYPE_MAX];
};

static void
oracle(const char *p, size_t n, struct oracle *o)
{
	json_error_t	 e;
	json_t		*j, *t, *v;
	size_t		 i;

	memset(o, 0, sizeof(*o));
	if ((j = oracle_loadb(p, n, &e)) == NULL)
		return;
	o->doc = 1;
	o->rec = json_is_object(j);
	o->body = 1;
	o->nrec = 1;
	if (json_is_array(j)) {
		o->nrec = json_array_size(j);
		json_array_foreach(j, i, v)
			if (!json_is_object(v))
				o->body = 0;
	}
	if (o->rec && (t = json_object_get(j, "type")) != NULL) {
		o->type_state = JSCAN_TYPE_OTHER;
		if (json_is_string(t) &&
		    json_string_length(t) < JSCAN_TYPE_MAX) {
			o->type_state = JSCAN_TYPE_STRING;
			o->type_len = json_string_length(t);
			memcpy(o->type, json_string_value(t), o->type_len);
		}
	}
	json_decref(j);
}

struct count {
	size_t		 n;
	int		 bad;		/* a record jscan_record refuses */
};

static int
count_cb(void *arg, size_t index, const struct jscan_rec *rec)
{
	struct count		*c = arg;
	struct jscan_rec	 r2;
	struct jscan_err	 err;

	if (index != c->n)
		c->bad = 1;
	if (jscan_record(rec->ptr, rec->len, &r2, &err) != 0 ||
	    r2.len != rec->len || r2.type_state != rec->type_state)
		c->bad = 1;
	c->n++;
	return 0;
}

struct category {
	const char	*name;
	long		 cases;
	long		 mismatches;
	long		 accepted;
};

static void
mismatch(struct category *cat, const char *why, const char *p, size_t n)
{
	if (cat->mismatches++ < MAX_DIAGS) {
		diag("%s: %s", cat->name, why);
		diag_input("input", p, n);
	}
}

/*
 * One differential case: jscan_document, jscan_record (with its "type")
 * and jscan_json_body against what jansson makes of the same bytes.
 */
static void
check(struct category *cat, const char *p, size_t n)
{
	struct oracle		 o;
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	struct count		 c = { 0, 0 };
	int			 r;

	cat->cases++;
	oracle(p, n, &o);
	cat->accepted += o.doc;
	if ((jscan_document(p, n, &err) == 0) != o.doc) {
		mismatch(cat, o.doc ? "jscan_document rejects" :
		    "jscan_document accepts", p, n);
		if (o.doc)
			diag("%s at %zu", err.msg, err.offset);
		return;
	}
	r = jscan_record(p, n, &rec, &err);
	if ((r == 0) != o.rec) {
		mismatch(cat, "jscan_record disagrees", p, n);
		return;
	}
	if (r == 0 && (rec.type_state != o.type_state ||
	    rec.type_len != o.type_len ||
	    memcmp(rec.type, o.type, o.type_len) != 0 ||
	    rec.type[rec.type_len] != '\0')) {
		mismatch(cat, "type differs", p, n);
		return;
	}
	r = jscan_json_body(p, n, count_cb, &c, &err);
	if ((r == 0) != (o.doc && o.body)) {
		mismatch(cat, "jscan_json_body disagrees", p, n);
		return;
	}
	if (r == 0 && (c.n != o.nrec || c.bad))
		mismatch(cat, "jscan_json_body records differ", p, n);
}

/* t0 < 0: the time went to the category reported before. */
static void
report(struct category *cat, double t0)
{
	char	 t[32] = "";

	if (t0 >= 0)
		snprintf(t, sizeof(t), ", %.2fs",
		    (double)clock() / CLOCKS_PER_SEC - t0);
	ok(cat->mismatches == 0,
	    "differential %s: %ld cases (%ld valid), %ld mismatches%s",
	    cat->name, cat->cases, cat->accepted, cat->mismatches, t);
}

static double
now(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/*
 * Hand-written cases: input, whether jansson loads it, whether it is a
 * record (an object). Each is checked against jansson too.
 */
struct hcase {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	int		 doc;
	int		 rec;
};

#define L(s)	s, sizeof(s) - 1

static const struct hcase structure_cases[] = {
	{ "{}", 0, 1, 1 }, { "[]", 0, 1, 0 }, { " \t\r\n{ }\n", 0, 1, 1 },
	{ "[[],{}]", 0, 1, 0 }, { "{\"a\":[]}", 0, 1, 1 },
	{ "{\"a\":1,\"a\":2}", 0, 1, 1 }, { L(""), 0, 0 }, { " ", 0, 0, 0 },
	{ L("\0"), 0, 0 }, { L("{}\0"), 0, 0 }, { L("\0{}"), 0, 0 },
	{ "\xef\xbb\xbf{}", 0, 0, 0 }, { "\f{}", 0, 0, 0 },
	{ "\v{}", 0, 0, 0 }, { "{}\f", 0, 0, 0 }, { "1", 0, 0, 0 },
	{ "\"a\"", 0, 0, 0 }, { "true", 0, 0, 0 }, { "null", 0, 0, 0 },
	{ "{} x", 0, 0, 0 }, { "{}{}", 0, 0, 0 }, { "[]]", 0, 0, 0 },
	{ "{", 0, 0, 0 }, { "[", 0, 0, 0 }, { "{]", 0, 0, 0 },
	{ "[}", 0, 0, 0 }, { "[1,]", 0, 0, 0 }, { "{\"a\":1,}", 0, 0, 0 },
	{ "[,1]", 0, 0, 0 }, { "[1 2]", 0, 0, 0 }, { "{\"a\" 1}", 0, 0, 0 },
	{ "{\"a\":}", 0, 0, 0 }, { "{1:1}", 0, 0, 0 }, { "{a:1}", 0, 0, 0 },
	{ "{'a':1}", 0, 0, 0 }, { "{\"a\"::1}", 0, 0, 0 },
	{ "[\xc2\xa0]", 0, 0, 0 }, { "[1]\xc2\xa0", 0, 0, 0 },
	{ "{\"a\":1}\n\n", 0, 1, 1 }, { "[]\r\n", 0, 1, 0 },
	{ "{\"a\"\t:\r1\n,\"b\" :[ 1 , 2 ] }", 0, 1, 1 },
	/*
	 * jansson skips one raw NUL after a number or literal; a raw NUL
	 * is never JSON, so the scanner refuses it (see jsonoracle.c).
	 */
	{ L("[1\0]"), 0, 0 }, { L("[1\0\0]"), 0, 0 }, { L("[1\0 ]"), 0, 0 },
	{ L("[1 \0]"), 0, 0 }, { L("[1\0,2]"), 0, 0 }, { L("[1.5\0]"), 0, 0 },
	{ L("[1e5\0]"), 0, 0 }, { L("[true\0]"), 0, 0 },
	{ L("[false\0,null\0]"), 0, 0 }, { L("[\"a\"\0]"), 0, 0 },
	{ L("[[]\0]"), 0, 0 }, { L("{\"a\":1\0}"), 0, 0 },
	{ L("{\"a\"\0:1}"), 0, 0 }, { L("[1\0x]"), 0, 0 },
	{ L("[1\0" "1]"), 0, 0 }, { L("[1\0.5]"), 0, 0 }, { L("[1\0"), 0, 0 },
	{ L("[-\0" "1]"), 0, 0 }, { L("[1\0]\0"), 0, 0 },
	{ L("[9223372036854775808\0]"), 0, 0 },
	{ "/**/{}", 0, 0, 0 }, { "{}//", 0, 0, 0 }, { "[1,,2]", 0, 0, 0 },
};

static const struct hcase literal_cases[] = {
	{ "[true,false,null]", 0, 1, 0 }, { "[truex]", 0, 0, 0 },
	{ "[true1]", 0, 0, 0 }, { "[tru]", 0, 0, 0 }, { "[True]", 0, 0, 0 },
	{ "[nul]", 0, 0, 0 }, { "[NULL]", 0, 0, 0 }, { "[fals]", 0, 0, 0 },
	{ "[t", 0, 0, 0 }, { "[true", 0, 0, 0 }, { "[nulll]", 0, 0, 0 },
	{ "[NaN]", 0, 0, 0 }, { "[Infinity]", 0, 0, 0 }, { "[undefined]", 0, 0, 0 },
	{ "{\"a\":true}", 0, 1, 1 }, { "{\"a\":false }", 0, 1, 1 },
	{ "[null ]", 0, 1, 0 }, { "[true,]", 0, 0, 0 },
};

static const struct hcase number_cases[] = {
	{ "[0]", 0, 1, 0 }, { "[-0]", 0, 1, 0 }, { "[01]", 0, 0, 0 },
	{ "[-01]", 0, 0, 0 }, { "[00]", 0, 0, 0 }, { "[1.]", 0, 0, 0 },
	{ "[.5]", 0, 0, 0 }, { "[-.5]", 0, 0, 0 }, { "[1e]", 0, 0, 0 },
	{ "[1e+]", 0, 0, 0 }, { "[1E-5]", 0, 1, 0 }, { "[1e+5]", 0, 1, 0 },
	{ "[-]", 0, 0, 0 }, { "[- 1]", 0, 0, 0 }, { "[+1]", 0, 0, 0 },
	{ "[0x10]", 0, 0, 0 }, { "[1.5.5]", 0, 0, 0 }, { "[1e5e5]", 0, 0, 0 },
	{ "[0.0]", 0, 1, 0 }, { "[0e0]", 0, 1, 0 }, { "[0.e1]", 0, 0, 0 },
	{ "[1.0e-5]", 0, 1, 0 }, { "[--1]", 0, 0, 0 }, { "[1-1]", 0, 0, 0 },
	{ "[9223372036854775807]", 0, 1, 0 },
	{ "[9223372036854775808]", 0, 0, 0 },
	{ "[-9223372036854775808]", 0, 1, 0 },
	{ "[-9223372036854775809]", 0, 0, 0 },
	{ "[10000000000000000000]", 0, 0, 0 },
	{ "[99999999999999999999999]", 0, 0, 0 },
	{ "[999999999999999999]", 0, 1, 0 },
	{ "[9223372036854775807.0]", 0, 1, 0 },
	{ "[92233720368547758070e-1]", 0, 1, 0 },
	{ "[1e308]", 0, 1, 0 }, { "[1.8e308]", 0, 0, 0 }, { "[1e309]", 0, 0, 0 },
	{ "[-1e309]", 0, 0, 0 }, { "[1.7976931348623157e308]", 0, 1, 0 },
	{ "[1.7976931348623158e308]", 0, 1, 0 },
	{ "[1.7976931348623159e308]", 0, 0, 0 },
	{ "[-1.7976931348623159e308]", 0, 0, 0 },
	{ "[17976931348623158e292]", 0, 1, 0 },
	{ "[17976931348623159e292]", 0, 0, 0 },
	{ "[17976931348623157e292]", 0, 1, 0 },
	{ "[0.17976931348623157e309]", 0, 1, 0 },
	{ "[0.00017976931348623159e312]", 0, 0, 0 },
	{ "[1e-400]", 0, 1, 0 }, { "[-1e-400]", 0, 1, 0 },
	{ "[4.9e-324]", 0, 1, 0 }, { "[2e-324]", 0, 1, 0 },
	{ "[1e99999999999999999999]", 0, 0, 0 },
	{ "[1e-99999999999999999999]", 0, 1, 0 },
	{ "[0e99999999999999999999]", 0, 1, 0 },
	{ "[0.0000e99999999999999999999]", 0, 1, 0 },
	{ "[1e0000000000000000000308]", 0, 1, 0 },
	{ "[1e0000000000000000000309]", 0, 0, 0 },
	{ "{\"n\":-0.0e-0}", 0, 1, 1 }, { "[1]", 0, 1, 0 },
	{ "[123456789,-123456789.123456789e-12]", 0, 1, 0 },
};

static const struct hcase string_cases[] = {
	{ "[\"\"]", 0, 1, 0 }, { "[\"abc\"]", 0, 1, 0 },
	{ "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, 1, 0 },
	{ "[\"\\x\"]", 0, 0, 0 }, { "[\"\\a\"]", 0, 0, 0 },
	{ "[\"\\'\"]", 0, 0, 0 }, { "[\"\\0\"]", 0, 0, 0 },
	{ "[\"\\U0041\"]", 0, 0, 0 }, { "[\"\\u0041\"]", 0, 1, 0 },
	{ "[\"\\uABCD\\uabcd\"]", 0, 1, 0 }, { "[\"\\u004\"]", 0, 0, 0 },
	{ "[\"\\u00G1\"]", 0, 0, 0 },
	{ L("[\"a\0\"]"), 0, 0 }, { "[\"\t\"]", 0, 0, 0 },
	{ "[\"\n\"]", 0, 0, 0 }, { "[\"\x1f\"]", 0, 0, 0 },
	{ "[\"\x7f\"]", 0, 1, 0 }, { "[\"abc]", 0, 0, 0 }, { "[\"\\", 0, 0, 0 },
	{ "[\"\\\"]", 0, 0, 0 }, { "[\"a\"\"b\"]", 0, 0, 0 },
	{ "[\"\\ud800\"]", 0, 0, 0 }, { "[\"\\udc00\"]", 0, 0, 0 },
	{ "[\"\\ud800\\udc00\"]", 0, 1, 0 }, { "[\"\\udbff\\udfff\"]", 0, 1, 0 },
	{ "[\"\\ud800\\u0041\"]", 0, 0, 0 }, { "[\"\\ud800\\n\"]", 0, 0, 0 },
	{ "[\"\\ud800\\ud800\"]", 0, 0, 0 }, { "[\"\\udc00\\ud800\"]", 0, 0, 0 },
	{ "[\"\\ud800x\"]", 0, 0, 0 }, { "[\"\\ud800\\", 0, 0, 0 },
	{ "[\"\\ud800\\udc0\"]", 0, 0, 0 }, { "[\"\\ud800\\uzzzz\"]", 0, 0, 0 },
	{ "[\"\\ud7ff\\ue000\\uffff\"]", 0, 1, 0 },
	{ "{\"\\ud83d\\ude00\":\"\\u00e9\"}", 0, 1, 1 },
	{ "[\"0123456789abcdef0123456789abcdef\"]", 0, 1, 0 },
	{ "[\"0123456789abcdef\\n0123456789abcdef\x01\"]", 0, 0, 0 },
};

/* RFC 8259 allows \u0000 anywhere a string may be, keys included. */
static const struct hcase nul_cases[] = {
	{ "[\"\\u0000\"]", 0, 1, 0 }, { "[\"a\\u0000b\"]", 0, 1, 0 },
	{ "[\"\\u0000abc\"]", 0, 1, 0 }, { "[\"abc\\u0000\"]", 0, 1, 0 },
	{ "[\"\\u0000\\u0000\"]", 0, 1, 0 },
	{ "{\"foo\\u0000bar\": 42}", 0, 1, 1 },
	{ "{\"v\":\"\\u0000\"}", 0, 1, 1 },
	{ "{\"\\u0000\":1}", 0, 1, 1 }, { "{\"\\u0000k\":1}", 0, 1, 1 },
	{ "{\"k\\u0000\":\"\\u0000v\\u0000\"}", 0, 1, 1 },
	{ "{\"a\\u0000\" \r\n\t: 1}", 0, 1, 1 },
	{ "{\"a\\u0000\":1,\"a\\u0001\":2}", 0, 1, 1 },
	{ "{\"h\":{\"X-Nul\\u0000\":\"a\\u0000b\",\"n\":{\"\\u0000\":"
	    "[\"\\u0000\",{\"k\\u0000\":{}}]}}}", 0, 1, 1 },
	{ "[[{\"\\u0000\":[\"\\u0000\"]}],\"\\u0000\"]", 0, 1, 0 },
	{ "{\"0123456789abcdef\\u0000\":\"0123456789abcdef\\u0000x\"}", 0,
	    1, 1 },
	{ "[\"\\\\u0000\"]", 0, 1, 0 }, { "{\"\\\\u0000\":1}", 0, 1, 1 },
	{ "[\"\\ud800\\u0000\"]", 0, 0, 0 },
	{ "[\"\\u0000\\udc00\"]", 0, 0, 0 },
	{ "{\"a\\u0000\" 1}", 0, 0, 0 }, { "{\"a\\u0000\"}", 0, 0, 0 },
	{ "{\"a\":\"\\u0000\":1}", 0, 0, 0 }, { "[\"\\u0000\":1]", 0, 0, 0 },
	{ "{\"a\\u000\":1}", 0, 0, 0 }, { "{\"a\\u0000", 0, 0, 0 },
	{ "{\"\\u0000\":\"\x01\"}", 0, 0, 0 }, { "[\\u0000]", 0, 0, 0 },
	{ L("{\"\\u0000\":1\0}"), 0, 0 },
};

static const struct hcase utf8_cases[] = {
	{ "[\"\xc3\xa9\"]", 0, 1, 0 }, { "[\"\xe6\x97\xa5\"]", 0, 1, 0 },
	{ "[\"\xf0\x9f\x98\x80\"]", 0, 1, 0 }, { "[\"\xc0\x80\"]", 0, 0, 0 },
	{ "[\"\xc1\xbf\"]", 0, 0, 0 }, { "[\"\xc2\x80\"]", 0, 1, 0 },
	{ "[\"\xdf\xbf\"]", 0, 1, 0 }, { "[\"\xe0\x80\x80\"]", 0, 0, 0 },
	{ "[\"\xe0\x9f\xbf\"]", 0, 0, 0 }, { "[\"\xe0\xa0\x80\"]", 0, 1, 0 },
	{ "[\"\xed\x9f\xbf\"]", 0, 1, 0 }, { "[\"\xed\xa0\x80\"]", 0, 0, 0 },
	{ "[\"\xed\xbf\xbf\"]", 0, 0, 0 }, { "[\"\xee\x80\x80\"]", 0, 1, 0 },
	{ "[\"\xef\xbf\xbf\"]", 0, 1, 0 }, { "[\"\xf0\x8f\xbf\xbf\"]", 0, 0, 0 },
	{ "[\"\xf0\x90\x80\x80\"]", 0, 1, 0 },
	{ "[\"\xf4\x8f\xbf\xbf\"]", 0, 1, 0 },
	{ "[\"\xf4\x90\x80\x80\"]", 0, 0, 0 },
	{ "[\"\xf5\x80\x80\x80\"]", 0, 0, 0 }, { "[\"\xff\"]", 0, 0, 0 },
	{ "[\"\xfe\"]", 0, 0, 0 }, { "[\"\x80\"]", 0, 0, 0 },
	{ "[\"\xbf\"]", 0, 0, 0 }, { "[\"\xc3\"]", 0, 0, 0 },
	{ "[\"\xc3", 0, 0, 0 }, { "[\"\xe6\x97\"]", 0, 0, 0 },
	{ "[\"\xf0\x9f\x98\"]", 0, 0, 0 }, { "[\"\xc3\x28\"]", 0, 0, 0 },
	{ "[\"\xe6\x28\xa5\"]", 0, 0, 0 }, { "[\"\xf0\x9f\x28\x80\"]", 0, 0, 0 },
	{ "[\"\xf8\x88\x80\x80\x80\"]", 0, 0, 0 },
	{ L("[\"\xc3\0\"]"), 0, 0 },
	{ "{\"\xc3\xa9t\xc3\xa9\":\"\xe6\x97\xa5\xe6\x9c\xac\"}", 0, 1, 1 },
	{ "{\"\xc0\xafkey\":1}", 0, 0, 0 }, { "[\xc3\xa9]", 0, 0, 0 },
	{ "[\"abcdefg\xc3\xa9\"]", 0, 1, 0 },
	{ "[\"abcdefgh\xed\xa0\x80xxxxxxxxxx\"]", 0, 0, 0 },
};

static const struct hcase *const all_cases[] = {
	structure_cases, literal_cases, number_cases, string_cases, utf8_cases,
	nul_cases,
};
static const size_t all_ncases[] = {
	NELEM(structure_cases), NELEM(literal_cases), NELEM(number_cases),
	NELEM(string_cases), NELEM(utf8_cases), NELEM(nul_cases),
};
static const char *const all_names[] = {
	"structure and whitespace", "literals", "numbers", "strings and escapes",
	"UTF-8", "\\u0000 in keys and values",
};

static void
test_hand_cases(void)
{
	const struct hcase	*hc;
	struct oracle		 o;
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	size_t			 i, k, n;
	int			 fails, doc, r;

	for (k = 0; k < NELEM(all_cases); k++) {
		fails = 0;
		for (i = 0; i < all_ncases[k]; i++) {
			hc = &all_cases[k][i];
			n = hc->len ? hc->len : strlen(hc->in);
			oracle(hc->in, n, &o);
			doc = jscan_document(hc->in, n, &err) == 0;
			r = jscan_record(hc->in, n, &rec, &err) == 0;
			if (o.doc != hc->doc || o.rec != hc->rec ||
			    doc != hc->doc || r != hc->rec) {
				fails++;
				diag("case %zu: want %d/%d, jansson %d/%d, "
				    "jscan %d/%d", i, hc->doc, hc->rec, o.doc,
				    o.rec, doc, r);
				diag_input("input", hc->in, n);
			}
		}
		ok(fails == 0, "%s: %zu hand-written cases", all_names[k],
		    all_ncases[k]);
	}
}

/* Nesting of n containers around inner; objects or arrays by mask. */
static void
gen_nest(struct buf *b, int n, const char *inner, int mode)
{
	int	 i, obj;
	char	*kinds;

	if ((kinds = malloc((size_t)n + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		obj = mode == 0 ? 0 : mode == 1 ? 1 : (int)rn(2);
		kinds[i] = obj ? '}' : ']';
		bputs(b, obj ? "{\"k\":" : "[");
		if (mode == 3 && rn(8) == 0)
			bputc(b, ' ');
	}
	bputs(b, inner);
	for (i = n - 1; i >= 0; i--)
		bputc(b, kinds[i]);
	free(kinds);
}

static void
test_depth(void)
{
	static const char *const inners[] = { "", "1", "[]", "{}", "\"s\"" };
	struct jscan_err	 err;
	struct buf		 b = { NULL, 0, 0 };
	struct oracle		 o;
	size_t			 i;
	int			 n, fails = 0, want, cases = 0;

	for (n = 2045; n <= 2050; n++) {
		for (i = 0; i < NELEM(inners); i++) {
			b.len = 0;
			gen_nest(&b, n, inners[i], 0);
			oracle(b.p, b.len, &o);
			want = n < 2048 || (n == 2048 && *inners[i] == '\0');
			cases++;
			if (o.doc != want ||
			    (jscan_document(b.p, b.len, &err) == 0) != want) {
				fails++;
				diag("depth %d inner '%s': jansson %d", n,
				    inners[i], o.doc);
			}
		}
	}
	ok(fails == 0, "depth: %d arrays around each inner value, limit "
	    "2048 values deep as jansson", cases);

	/* The deepest value is where the error points. */
	b.len = 0;
	gen_nest(&b, 2048, "1", 0);
	jscan_document(b.p, b.len, &err);
	is_int((int64_t)err.offset, 2048, "depth error offset at the value");
	is_str(err.msg, "maximum nesting depth reached", "depth message");

	b.len = 0;
	gen_nest(&b, 2047, "1", 1);
	ok(jscan_document(b.p, b.len, &err) == 0, "2047 objects around 1");
	b.len = 0;
	gen_nest(&b, 2048, "1", 1);
	ok(jscan_document(b.p, b.len, &err) != 0, "2048 objects around 1");
	free(b.p);
}

struct errcase {
	const char	*in;
	size_t		 offset;
	const char	*msg;
};

static const struct errcase err_cases[] = {
	{ "", 0, "premature end of input" },
	{ "  ", 2, "premature end of input" },
	{ "x", 0, "'[' or '{' expected" },
	{ "{} x", 3, "end of input expected" },
	{ "{\"a\":01}", 5, "invalid number: leading zero" },
	{ "{\"a\":1.}", 5, "invalid number" },
	{ "{\"a\":-}", 5, "invalid number" },
	{ "{\"a\":\"\x01\"}", 6, "control character 0x01 in string" },
	{ "{\"a\":\"x\n\"}", 7, "control character 0x0a in string" },
	{ "{\"a\":1", 6, "premature end of input" },
	{ "{\"a\":\"abc", 9, "premature end of input" },
	{ "{\"a\" 1}", 5, "':' expected" },
	{ "{\"a\":1 \"b\":2}", 7, "',' or '}' expected" },
	{ "[1 2]", 3, "',' or ']' expected" },
	{ "{1:2}", 1, "string or '}' expected" },
	{ "[1,]", 3, "value expected" },
	{ "[tru]", 1, "invalid literal" },
	{ "[\"\\x\"]", 2, "invalid escape" },
	{ "[\"\\u12x4\"]", 2, "invalid \\u escape" },
	{ "[\"\\udc00\"]", 2, "lone low surrogate \\uDC00" },
	{ "[\"\\ud800\"]", 2, "unpaired surrogate \\uD800" },
	{ "[\"\\ud800\\u0041\"]", 2,
	    "invalid surrogate pair \\uD800\\u0041" },
	{ "[\"ab\xc0\x80\"]", 4, "invalid UTF-8 byte 0xc0" },
	{ "[\"abcdefghij\xed\xa0\x80\"]", 12, "invalid UTF-8 byte 0xed" },
	{ "[9223372036854775808]", 1, "integer out of range" },
	{ "[-1e309]", 1, "real number overflow" },
};

static void
test_errors(void)
{
	struct jscan_err	 err;
	size_t			 i;
	int			 fails = 0;

	for (i = 0; i < NELEM(err_cases); i++) {
		memset(&err, 0x55, sizeof(err));
		if (jscan_document(err_cases[i].in, strlen(err_cases[i].in),
		    &err) == 0 || err.index != 0 ||
		    err.offset != err_cases[i].offset ||
		    strcmp(err.msg, err_cases[i].msg) != 0) {
			fails++;
			diag("case %zu: got \"%s\" at %zu, want \"%s\" at %zu",
			    i, err.msg, err.offset, err_cases[i].msg,
			    err_cases[i].offset);
		}
	}
	ok(fails == 0, "error messages and offsets: %zu cases",
	    NELEM(err_cases));
	ok(jscan_document(NULL, 0, NULL) != 0, "NULL buffer, NULL err");
	ok(jscan_document("[]", 2, NULL) == 0, "NULL err accepted");
}

struct typecase {
	const char	*in;
	int		 state;
	const char	*type;
	size_t		 len;
};

static const struct typecase type_cases[] = {
	{ "{\"type\":\"Delivery\"}", JSCAN_TYPE_STRING, L("Delivery") },
	{ "{}", JSCAN_TYPE_NONE, L("") },
	{ "{\"a\":1,\"types\":\"x\",\"typ\":\"y\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"Type\":\"x\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"type\":1}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":null}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":[\"x\"]}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":{\"type\":\"x\"}}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":\"a\",\"type\":\"b\"}", JSCAN_TYPE_STRING, L("b") },
	{ "{\"type\":\"a\",\"type\":3}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":3,\"type\":\"a\"}", JSCAN_TYPE_STRING, L("a") },
	{ "{\"\\u0074ype\":\"x\"}", JSCAN_TYPE_STRING, L("x") },
	{ "{\"\\u0074\\u0079\\u0070\\u0065\":\"x\"}", JSCAN_TYPE_STRING,
	    L("x") },
	{ "{\"t\\u0079pe\":\"x\",\"\\/type\":\"y\"}", JSCAN_TYPE_STRING,
	    L("x") },
	{ "{\"type\\n\":\"x\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"a\":{\"type\":\"x\"}}", JSCAN_TYPE_NONE, L("") },
	{ "{\"a\":[{\"type\":\"x\"}]}", JSCAN_TYPE_NONE, L("") },
	{ "{\"a\":{\"b\":1},\"type\":\"x\"}", JSCAN_TYPE_STRING, L("x") },
	{ "{\"type\":\"\"}", JSCAN_TYPE_STRING, L("") },
	{ "{\"type\":\"De\\\"l\\\\i\\/v\\u0065ry\"}", JSCAN_TYPE_STRING,
	    L("De\"l\\i/very") },
	{ "{\"type\":\"\\b\\f\\n\\r\\t\"}", JSCAN_TYPE_STRING,
	    L("\b\f\n\r\t") },
	{ "{\"type\":\"\\u00e9\\u65e5\\ud83d\\ude00\"}", JSCAN_TYPE_STRING,
	    L("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80") },
	{ "{\"type\":\"\xc3\xa9\"}", JSCAN_TYPE_STRING, L("\xc3\xa9") },
	{ " {\"type\" : \"x\" } ", JSCAN_TYPE_STRING, L("x") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "23456789012\"}", JSCAN_TYPE_STRING,
	    L("0123456789012345678901234567890123456789012345678901"
	    "23456789012") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "234567890123\"}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "2345678901\\u00e9\"}", JSCAN_TYPE_OTHER, L("") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "234567890\\u00e9\"}", JSCAN_TYPE_STRING,
	    L("0123456789012345678901234567890123456789012345678901"
	    "234567890\xc3\xa9") },
	/* A NUL is one byte of the type, not its end. */
	{ "{\"type\":\"Deliv\\u0000ery\"}", JSCAN_TYPE_STRING,
	    L("Deliv\0ery") },
	{ "{\"type\":\"Delivery\\u0000\"}", JSCAN_TYPE_STRING,
	    L("Delivery\0") },
	{ "{\"type\":\"\\u0000Delivery\"}", JSCAN_TYPE_STRING,
	    L("\0Delivery") },
	{ "{\"type\":\"\\u0000\"}", JSCAN_TYPE_STRING, L("\0") },
	{ "{\"ty\\u0000pe\":\"Delivery\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"type\\u0000\":\"Delivery\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"\\u0000type\":\"Delivery\"}", JSCAN_TYPE_NONE, L("") },
	{ "{\"type\":\"x\",\"type\\u0000\":\"y\"}", JSCAN_TYPE_STRING,
	    L("x") },
	{ "{\"a\":{\"type\":\"\\u0000\"},\"type\":\"b\\u0000\"}",
	    JSCAN_TYPE_STRING, L("b\0") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "2345678901\\u0000\"}", JSCAN_TYPE_STRING,
	    L("0123456789012345678901234567890123456789012345678901"
	    "2345678901\0") },
	{ "{\"type\":\"0123456789012345678901234567890123456789012345678901"
	    "23456789012\\u0000\"}", JSCAN_TYPE_OTHER, L("") },
};

static void
test_types(void)
{
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	struct oracle		 o;
	const char		*in;
	size_t			 i;
	int			 fails = 0;

	for (i = 0; i < NELEM(type_cases); i++) {
		in = type_cases[i].in;
		oracle(in, strlen(in), &o);
		memset(&rec, 0x55, sizeof(rec));
		if (jscan_record(in, strlen(in), &rec, &err) != 0) {
			fails++;
			diag("case %zu: %s at %zu", i, err.msg, err.offset);
		} else if (rec.type_state != type_cases[i].state ||
		    o.type_state != type_cases[i].state ||
		    rec.type_len != type_cases[i].len ||
		    o.type_len != type_cases[i].len ||
		    memcmp(rec.type, type_cases[i].type, rec.type_len) != 0 ||
		    memcmp(o.type, type_cases[i].type, o.type_len) != 0 ||
		    rec.type[rec.type_len] != '\0') {
			fails++;
			diag("case %zu: state %d (jansson %d) \"%s\"", i,
			    rec.type_state, o.type_state, rec.type);
		}
	}
	ok(fails == 0, "type member: %zu cases", NELEM(type_cases));

	in = " \n{\"a\":1}\t ";
	ok(jscan_record(in, strlen(in), &rec, &err) == 0 &&
	    rec.ptr == in + 2 && rec.len == 7, "record bytes trimmed");
	in = "[{\"a\":1}]";
	ok(jscan_record(in, strlen(in), &rec, &err) != 0 &&
	    strcmp(err.msg, "record is not an object") == 0 &&
	    err.offset == 0 && err.index == 0, "array is not a record");
	ok(jscan_record("", 0, &rec, &err) != 0, "empty record");
}

/*
 * Ingest routes a record by rectype_lookup(type, type_len): a NUL makes
 * the type none that a hook's types names, and "ty\u0000pe" is no type.
 */
static void
test_type_routes(void)
{
	static const char *const in[] = {
		"{\"type\":\"Deliv\\u0000ery\"}",
		"{\"type\":\"Delivery\\u0000\"}",
		"{\"type\":\"\\u0000Delivery\"}",
		"{\"ty\\u0000pe\":\"Delivery\"}",
		"{\"type\\u0000\":\"Delivery\"}",
	};
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	size_t			 i;
	int			 fails = 0;

	for (i = 0; i < NELEM(in); i++) {
		if (jscan_record(in[i], strlen(in[i]), &rec, &err) != 0 ||
		    (rec.type_state == JSCAN_TYPE_STRING &&
		    rectype_lookup(rec.type, rec.type_len) != RT_OTHER)) {
			fails++;
			diag("case %zu: %s", i, err.msg);
		}
	}
	ok(fails == 0, "a type holding \\u0000 is accepted and no hook's "
	    "type: %zu cases", NELEM(in));
	ok(jscan_record(L("{\"\\u0074ype\":\"Deliv\\u0065ry\"}"), &rec,
	    &err) == 0 && rectype_lookup(rec.type, rec.type_len) ==
	    RT_DELIVERY, "an escaped Delivery is Delivery");
}

/* Collects the records a splitter passes, as "index:bytes|" text. */
struct collect {
	char	 out[512];
	int	 stop_at;
	int	 calls;
};

static int
collect_cb(void *arg, size_t index, const struct jscan_rec *rec)
{
	struct collect	*c = arg;
	size_t		 n = strlen(c->out), i;

	snprintf(c->out + n, sizeof(c->out) - n, "%zu:%.*s%s", index,
	    (int)rec->len, rec->ptr, rec->type_state ==
	    JSCAN_TYPE_STRING ? "=" : "");
	/* The type's own length: a NUL in it shows as \0. */
	for (i = 0; i < rec->type_len; i++) {
		n = strlen(c->out);
		snprintf(c->out + n, sizeof(c->out) - n, "%s", rec->type[i] ?
		    (char [2]){ rec->type[i], '\0' } : "\\0");
	}
	n = strlen(c->out);
	snprintf(c->out + n, sizeof(c->out) - n, "|");
	c->calls++;
	return c->calls == c->stop_at ? 42 : 0;
}

struct bodycase {
	int		 ndjson;
	const char	*in;
	int		 ret;
	const char	*out;
	size_t		 index;		/* on error */
	size_t		 offset;
};

static const struct bodycase body_cases[] = {
	{ 0, " {\"type\":\"a\"} ", 0, "0:{\"type\":\"a\"}=a|", 0, 0 },
	{ 0, "[ {\"a\":1} , {\"type\":\"b\"},{}\n]\n", 0,
	    "0:{\"a\":1}|1:{\"type\":\"b\"}=b|2:{}|", 0, 0 },
	{ 0, "[]", 0, "", 0, 0 },
	{ 0, " [ ] \n", 0, "", 0, 0 },
	{ 0, "", -1, "", 0, 0 },
	{ 0, "1", -1, "", 0, 0 },
	{ 0, "[1]", -1, "", 0, 1 },
	{ 0, "[{},1]", -1, "0:{}|", 1, 4 },
	{ 0, "[{},[]]", -1, "0:{}|", 1, 4 },
	{ 0, "[{},{}", -1, "0:{}|1:{}|", 2, 6 },
	{ 0, "[{} {}]", -1, "0:{}|", 1, 4 },
	{ 0, "[{},]", -1, "0:{}|", 1, 4 },
	{ 0, "[{},{\"a\":\"\x01\"}]", -1, "0:{}|", 1, 10 },
	{ 0, "{} x", -1, "", 0, 3 },
	{ 0, "{}[]", -1, "", 0, 2 },
	{ 0, "[{}] x", -1, "0:{}|", 1, 5 },
	{ 0, "[] x", -1, "", 0, 3 },
	{ 0, "[{}", -1, "0:{}|", 1, 3 },
	{ 0, "[", -1, "", 0, 1 },
	{ 1, "{\"a\":1}\n{\"type\":\"b\"}\r\n\n  \r\n\t{} \r\n", 0,
	    "0:{\"a\":1}|1:{\"type\":\"b\"}=b|2:{}|", 0, 0 },
	{ 1, "{}\n{}", 0, "0:{}|1:{}|", 0, 0 },
	{ 1, "", 0, "", 0, 0 },
	{ 1, "\n\r\n \t\n", 0, "", 0, 0 },
	{ 1, "{}\n\n[]\n", -1, "0:{}|", 1, 4 },
	{ 1, "{}\n{} {}\n", -1, "0:{}|", 1, 6 },
	{ 1, "{}\n{\"a\":\n1}\n", -1, "0:{}|", 1, 8 },
	{ 1, "\n\n{\"a\":1,}\n", -1, "", 0, 9 },
	{ 1, "{}\r\r\n{}", 0, "0:{}|1:{}|", 0, 0 },
	{ 1, "{}\n\x0c{}", -1, "0:{}|", 1, 3 },
	{ 1, "{}\n{\r}", 0, "0:{}|1:{\r}|", 0, 0 },
	{ 0, "[{\"\\u0000\":1},{\"type\":\"\\u0000x\"}]", 0,
	    "0:{\"\\u0000\":1}|1:{\"type\":\"\\u0000x\"}=\\0x|", 0, 0 },
	{ 0, "{\"h\":{\"a\\u0000\":[\"\\u0000\"]},\"type\":\"b\\u0000\"}", 0,
	    "0:{\"h\":{\"a\\u0000\":[\"\\u0000\"]},\"type\":\"b\\u0000\"}"
	    "=b\\0|", 0, 0 },
	{ 0, "[{\"\\u0000\":1},{\"a\\u0000\" 1}]", -1, "0:{\"\\u0000\":1}|", 1,
	    25 },
	{ 1, "{\"a\\u0000\":\"\\u0000\"}\r\n{\"type\":\"b\\u0000\"}\n", 0,
	    "0:{\"a\\u0000\":\"\\u0000\"}|1:{\"type\":\"b\\u0000\"}=b\\0|", 0,
	    0 },
	{ 1, "{}\n{\"k\\u0000\":}\n", -1, "0:{}|", 1, 14 },
};

static void
test_bodies(void)
{
	const struct bodycase	*bc;
	struct jscan_err	 err;
	struct collect		 c;
	size_t			 i;
	int			 r, fails = 0;

	for (i = 0; i < NELEM(body_cases); i++) {
		bc = &body_cases[i];
		memset(&c, 0, sizeof(c));
		memset(&err, 0, sizeof(err));
		r = (bc->ndjson ? jscan_ndjson_body : jscan_json_body)(bc->in,
		    strlen(bc->in), collect_cb, &c, &err);
		if (r != bc->ret || strcmp(c.out, bc->out) != 0 ||
		    (r != 0 && (err.index != bc->index ||
		    err.offset != bc->offset))) {
			fails++;
			diag("case %zu: got %d \"%s\" index %zu offset %zu "
			    "(%s)", i, r, c.out, err.index, err.offset,
			    err.msg);
		}
	}
	ok(fails == 0, "body splitters: %zu cases", NELEM(body_cases));

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	r = jscan_json_body("[{},{},{}]", 10, collect_cb, &c, &err);
	ok(r == 42 && c.calls == 2, "json body: callback value stops");
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	r = jscan_json_body("{}", 2, collect_cb, &c, &err);
	ok(r == 42 && c.calls == 1, "json body: lone object callback value");
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	r = jscan_ndjson_body("{}\n{}\n{}\n", 9, collect_cb, &c, &err);
	ok(r == 42 && c.calls == 2, "ndjson body: callback value stops");
	ok(jscan_ndjson_body(NULL, 0, collect_cb, &c, &err) == 0,
	    "ndjson: NULL empty body");
	ok(jscan_json_body(NULL, 0, collect_cb, &c, &err) == -1,
	    "json: NULL empty body");
}

/* In an array, records may nest one level less, as jansson has it. */
static void
test_body_depth(void)
{
	struct jscan_err	 err;
	struct collect		 c;
	struct buf		 b = { NULL, 0, 0 };
	struct oracle		 o;
	int			 n, want, fails = 0;

	for (n = 2044; n <= 2049; n++) {
		b.len = 0;
		bputs(&b, "[{},");
		gen_nest(&b, n, "1", 1);
		bputs(&b, "]");
		memset(&c, 0, sizeof(c));
		want = n <= 2046;
		oracle(b.p, b.len, &o);
		if (o.doc != want || (jscan_json_body(b.p, b.len, collect_cb,
		    &c, &err) == 0) != want || (!want && err.index != 1)) {
			fails++;
			diag("array depth %d: jansson %d", n, o.doc);
		}
		b.len = 0;
		gen_nest(&b, n, "1", 1);
		want = n <= 2047;
		memset(&c, 0, sizeof(c));
		if ((jscan_json_body(b.p, b.len, collect_cb, &c, &err) == 0) !=
		    want || (jscan_ndjson_body(b.p, b.len, collect_cb, &c,
		    &err) == 0) != want) {
			fails++;
			diag("lone record depth %d", n);
		}
	}
	ok(fails == 0, "body depth limits as jansson's");
	free(b.p);
}

/*
 * Generators for the differential test.
 */

static const char *const types[] = {
	"Reception", "Delivery", "TransientFailure", "Bounce", "Expiration",
	"AdminBounce", "OOB", "Feedback", "Rejection", "Any",
	"Deliv\\u0000ery", "Bounce\\u0000",
};

static const char *const words[] = {
	"mail", "queue", "example", "delivery", "OK", "250", "2.0.0",
	"accepted", "message", "Grüße", "naïve", "café", "日本語", "тест",
	"😀", "Ünïcödé", "ﬁle", "€", "ᚠᛇᚻ", "مرحبا", "\\\"quoted\\\"",
	"line\\nbreak", "tab\\there", "\\u00e9t\\u00e9", "\\ud83d\\ude00",
	"slash\\/", "back\\\\slash", "\\r\\n", "x", "", "<a@b.c>",
	"nul\\u0000byte", "\\u0000",
};

/* Valid string content: words, escapes, UTF-8. */
static void
gen_text(struct buf *b, int nwords)
{
	int	 i;

	for (i = 0; i < nwords; i++) {
		if (i > 0)
			bputc(b, rn(4) ? ' ' : '-');
		bputs(b, PICK(words));
	}
}

static void
gen_hex(struct buf *b, int n)
{
	while (n-- > 0)
		bputc(b, "0123456789abcdef"[rn(16)]);
}

static void
ws(struct buf *b, int pretty)
{
	static const char *const w[] = { " ", "\n", "\t", "\r\n", "  " };

	if (pretty && rn(3) == 0)
		bputs(b, PICK(w));
}

static void
key(struct buf *b, const char *k, int pretty, int first)
{
	if (!first)
		bputc(b, ',');
	ws(b, pretty);
	bprintf(b, "\"%s\"", k);
	ws(b, pretty);
	bputc(b, ':');
	ws(b, pretty);
}

static void
gen_meta(struct buf *b, int pretty)
{
	int	 i, n = (int)rn(5);

	bputc(b, '{');
	for (i = 0; i < n; i++) {
		key(b, PICK(words), pretty, i == 0);
		switch (rn(5)) {
		case 0:
			bprintf(b, "%d", (int)rn(100000) - 50000);
			break;
		case 1:
			bprintf(b, "%d.%03de%d", (int)rn(100), (int)rn(1000),
			    (int)rn(40) - 20);
			break;
		case 2:
			bputs(b, rn(2) ? "true" : "null");
			break;
		case 3:
			bputs(b, "[\"");
			gen_text(b, 1);
			bputs(b, "\",{\"deep\":[1,2,{}]},[]]");
			break;
		default:
			bputc(b, '"');
			gen_text(b, (int)rn(6));
			bputc(b, '"');
		}
	}
	ws(b, pretty);
	bputc(b, '}');
}

/* A KumoMTA-like log record of about 800 bytes. */
static void
gen_record(struct buf *b)
{
	static const char *const tkeys[] = {
		"type", "\\u0074ype", "typ\\u0065", "\\u0074\\u0079\\u0070e",
		"ty\\u0000pe",
	};
	int	 pretty = rn(4) == 0, first = 1;
	int	 dup = rn(10) == 0;

	bputc(b, '{');
	ws(b, pretty);
	if (rn(2)) {
		key(b, rn(8) ? "type" : PICK(tkeys), pretty, first);
		first = 0;
		if (rn(20) == 0)
			bputs(b, rn(2) ? "42" : "null");
		else
			bprintf(b, "\"%s\"", PICK(types));
	}
	key(b, "id", pretty, first);
	bputc(b, '"');
	gen_hex(b, 32);
	bputc(b, '"');
	key(b, "sender", pretty, 0);
	bprintf(b, "\"bounce-%u@example.com\"", rn(100000));
	key(b, "recipient", pretty, 0);
	bprintf(b, "\"user%u@example.org\"", rn(1000000));
	key(b, "queue", pretty, 0);
	bputs(b, "\"example.org\"");
	key(b, "site", pretty, 0);
	bputs(b, "\"(alt1|alt2|alt3)?.aspmx.l.google.com\"");
	key(b, "size", pretty, 0);
	bprintf(b, "%u", rn(10000000));
	key(b, "response", pretty, 0);
	bprintf(b, "{\"code\":%u,\"enhanced_code\":{\"class\":%u,"
	    "\"subject\":%u,\"detail\":%u},\"content\":\"", 200 + rn(400),
	    2 + rn(4), rn(8), rn(8));
	gen_text(b, 3 + (int)rn(8));
	bputs(b, "\",\"command\":\".\\r\\n\"}");
	key(b, "peer_address", pretty, 0);
	bprintf(b, "{\"name\":\"mx%u.example.org\",\"addr\":\"192.0.2.%u\"}",
	    rn(10), rn(256));
	key(b, "timestamp", pretty, 0);
	bprintf(b, "%u", 1700000000 + rn(100000000));
	key(b, "created", pretty, 0);
	bprintf(b, "%u.%06u", 1700000000 + rn(100000000), rn(1000000));
	key(b, "num_attempts", pretty, 0);
	bprintf(b, "%u", rn(20));
	key(b, "bounce_classification", pretty, 0);
	bputs(b, "\"Uncategorized\"");
	key(b, "egress_pool", pretty, 0);
	bputs(b, "\"pool0\"");
	key(b, "egress_source", pretty, 0);
	bputs(b, "\"source-0\"");
	key(b, "feedback_report", pretty, 0);
	bputs(b, "null");
	key(b, "meta", pretty, 0);
	gen_meta(b, pretty);
	key(b, "headers", pretty, 0);
	bputs(b, "{\"Subject\":\"");
	gen_text(b, 2 + (int)rn(6));
	bputs(b, "\",\"From\":\"\\\"Sender\\\" <s@example.com>\","
	    "\"X-Mailer\":\"spoold-test\"}");
	key(b, "delivery_protocol", pretty, 0);
	bputs(b, "\"ESMTP\"");
	key(b, "reception_protocol", pretty, 0);
	bputs(b, "\"HTTP\"");
	key(b, "nodeid", pretty, 0);
	bputc(b, '"');
	gen_hex(b, 8);
	bputs(b, "-4e2f-9a1b-");
	gen_hex(b, 12);
	bputc(b, '"');
	key(b, "tls_cipher", pretty, 0);
	bputs(b, "\"TLS_AES_256_GCM_SHA384\"");
	key(b, "tls_protocol_version", pretty, 0);
	bputs(b, "\"TLSv1.3\"");
	key(b, "tls_peer_subject_name", pretty, 0);
	bputs(b, "[\"C=US\",\"ST=California\",\"CN=mx.google.com\"]");
	key(b, "provider_name", pretty, 0);
	bputs(b, rn(2) ? "\"Google\"" : "null");
	key(b, "session_id", pretty, 0);
	bputc(b, '"');
	gen_hex(b, 32);
	bputc(b, '"');
	if (dup) {
		key(b, "type", pretty, 0);
		if (rn(3) == 0)
			bputs(b, "{\"a\":1}");
		else
			bprintf(b, "\"%s\"", PICK(types));
	}
	ws(b, pretty);
	bputc(b, '}');
	ws(b, pretty);
}

/* Bytes that matter to a JSON scanner, for mutations. */
static const unsigned char hot[] = {
	'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\t', '\r', '\n',
	'0', '1', '9', '-', '+', '.', 'e', 'E', 't', 'f', 'n', 'u', 'a',
	0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed,
	0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x0c, 0x0b,
};

/* Up to three random edits of src into dst. */
static void
mutate(struct buf *dst, const char *src, size_t n)
{
	size_t	 at, k;
	int	 i, edits = 1 + (int)rn(3);

	dst->len = 0;
	bput(dst, src, n);
	for (i = 0; i < edits && dst->len > 0; i++) {
		at = rn((unsigned int)dst->len);
		switch (rn(8)) {
		case 0:
			dst->p[at] = (char)rnd();
			break;
		case 1:
			dst->p[at] ^= (char)(1 << rn(8));
			break;
		case 2:
			dst->p[at] = (char)hot[rn(NELEM(hot))];
			break;
		case 3:	/* insert */
			bputc(dst, 0);
			memmove(dst->p + at + 1, dst->p + at,
			    dst->len - at - 1);
			dst->p[at] = (char)hot[rn(NELEM(hot))];
			break;
		case 4:	/* delete */
			memmove(dst->p + at, dst->p + at + 1,
			    dst->len - at - 1);
			dst->len--;
			break;
		case 5:	/* truncate */
			dst->len = at;
			break;
		case 6:	/* delete a span */
			k = rn(16);
			if (k > dst->len - at)
				k = dst->len - at;
			memmove(dst->p + at, dst->p + at + k,
			    dst->len - at - k);
			dst->len -= k;
			break;
		default: /* swap */
			k = rn((unsigned int)dst->len);
			{
				char	 t = dst->p[at];

				dst->p[at] = dst->p[k];
				dst->p[k] = t;
			}
		}
	}
}

/* Decimal digits of thresh or dblmax, cut and nudged at the last digit. */
static void
gen_near_max(struct buf *b)
{
	const char	*src = rn(2) ? thresh : dblmax;
	char		 d[400];
	size_t		 len, i, ip;
	int		 k;

	len = 1 + rn(rn(4) == 0 ? 330 : 25);
	for (i = 0; i < len; i++)
		d[i] = i < 309 ? src[i] : '0';
	if (rn(3) == 0 && d[len - 1] < '9')
		d[len - 1]++;
	else if (rn(2) == 0 && d[len - 1] > '0')
		d[len - 1]--;
	else if (rn(2) == 0) {
		d[len++] = '0' + (char)rn(10);
		if (rn(2))
			d[len++] = '1';
	}
	d[len] = '\0';
	k = 309 + (int)rn(3) - 1;	/* value 0.d * 10^k */
	if (rn(2))
		bputc(b, '-');
	switch (rn(3)) {
	case 0:		/* 0.000ddd e(k+z) */
		ip = rn(5);
		bputs(b, "0.");
		for (i = 0; i < ip; i++)
			bputc(b, '0');
		bputs(b, d);
		bprintf(b, "e%d", k + (int)ip);
		break;
	default:	/* ddd.ddd e(k-ip) */
		ip = 1 + rn((unsigned int)len);
		bput(b, d, ip);
		if (ip < len) {
			bputc(b, '.');
			bputs(b, d + ip);
		}
		bprintf(b, "%s%d", rn(2) ? "e" : "E+", k - (int)ip);
		break;
	}
}

static void
gen_number(struct buf *b)
{
	static const char *const fixed[] = {
		"9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "-0", "0", "00", "-", "01", "-01",
		"1e-400", "4.9e-324", "2.4e-324", "2.5e-324", "1e-99999999999",
		"1e99999999999999999999", "0e99999999", "0.0e999999",
		"0.00000e400", "-0.0", "1.", ".1", "1e", "1e+", "1E-", "1.e5",
		"1e0000000000000000000309", "1e0308", "2.2250738585072014e-308",
		"123456789012345678", "1234567890123456789",
		"12345678901234567890", "0.1e310", "0.01e310", "10e308",
		"100e306", "0.000e500", "-0e-0", "1_000", "1,5", "Infinity",
		"-Infinity", "NaN", "0x1F", "1e1.5", "--1",
	};
	int	 i, n;

	switch (rn(6)) {
	case 0:
		bputs(b, PICK(fixed));
		break;
	case 1:		/* 19 and 20 digit integers near the limits */
		if (rn(2))
			bputc(b, '-');
		bputs(b, rn(3) ? "922337203685477580" : "92233720368547758");
		n = (int)rn(3);
		for (i = 0; i < n; i++)
			bputc(b, '0' + (int)rn(10));
		break;
	case 2:
	case 3:
		gen_near_max(b);
		break;
	case 4:		/* long mantissas */
		n = 1 + (int)rn(600);
		bputc(b, '1' + (int)rn(9));
		for (i = 0; i < n; i++)
			bputc(b, rn(3) ? '0' : '9');
		if (rn(2)) {
			bputc(b, '.');
			for (i = 0; i < (int)rn(500) + 1; i++)
				bputc(b, '0' + (int)rn(10));
		}
		if (rn(2))
			bprintf(b, "e%d", (int)rn(700) - 400);
		break;
	default:	/* random shapes */
		if (rn(2))
			bputc(b, '-');
		n = (int)rn(4);
		if (n == 0)
			bputc(b, '0');
		for (i = 0; i < n; i++)
			bputc(b, '0' + (int)rn(10));
		if (rn(2)) {
			bputc(b, '.');
			for (i = (int)rn(4); i > 0; i--)
				bputc(b, '0' + (int)rn(10));
		}
		if (rn(2))
			bprintf(b, "%c%s%d", rn(2) ? 'e' : 'E',
			    rn(2) ? "" : rn(2) ? "+" : "-", (int)rn(400));
	}
}

static void
put_utf8(struct buf *b, unsigned int v)
{
	if (v < 0x80)
		bputc(b, (int)v);
	else if (v < 0x800) {
		bputc(b, 0xc0 | (v >> 6));
		bputc(b, 0x80 | (v & 0x3f));
	} else if (v < 0x10000) {
		bputc(b, 0xe0 | (v >> 12));
		bputc(b, 0x80 | ((v >> 6) & 0x3f));
		bputc(b, 0x80 | (v & 0x3f));
	} else {
		bputc(b, 0xf0 | (v >> 18));
		bputc(b, 0x80 | ((v >> 12) & 0x3f));
		bputc(b, 0x80 | ((v >> 6) & 0x3f));
		bputc(b, 0x80 | (v & 0x3f));
	}
}

/* Random UTF-8, valid and not. */
static void
gen_utf8(struct buf *b)
{
	static const unsigned int edges[] = {
		0x7f, 0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000,
		0xfffd, 0xffff, 0x10000, 0x3ffff, 0x40000, 0xfffff, 0x100000,
		0x10ffff,
	};
	static const char *const bads[] = {
		"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80",
		"\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe",
		"\xff", "\x80", "\xbf", "\xc2", "\xe0\xa0", "\xf0\x90\x80",
		"\xc2\x41", "\xe1\x80\x41", "\xf1\x80\x80\x41",
	};
	int	 i, n = 1 + (int)rn(12);

	for (i = 0; i < n; i++) {
		switch (rn(8)) {
		case 0:
			put_utf8(b, edges[rn(NELEM(edges))]);
			break;
		case 1:
			if (rn(8) == 0)
				bputs(b, PICK(bads));
			else
				put_utf8(b, 0x80 + rn(0x780));
			break;
		case 2:
			put_utf8(b, 0xe000 + rn(0x2000));
			break;
		case 3:
			put_utf8(b, 0x10000 + rn(0x100000));
			break;
		case 4:
			if (rn(4) == 0)
				bputc(b, 0x80 + (int)rn(0x80));
			else
				put_utf8(b, 0x800 + rn(0xd000));
			break;
		case 5:
			bputs(b, "abcdefgh");
			break;
		default:
			bputc(b, 0x20 + (int)rn(0x5f));
			if (b->p[b->len - 1] == '"' || b->p[b->len - 1] == '\\')
				b->p[b->len - 1] = 'q';
		}
	}
}

/* Random escapes, valid and not. */
static void
gen_escapes(struct buf *b)
{
	static const char *const esc[] = {
		"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
		"\\u0041", "\\u00e9", "\\uFFFF", "\\u0000", "\\u001f", "\\x",
		"\\a", "\\U0041", "\\u12", "\\u12g4", "\\ud800", "\\udbff",
		"\\udc00", "\\udfff", "\\ud83d\\ude00", "\\uD83D\\uDE00",
		"\\ud800\\ud800", "\\udc00\\ud800", "\\ud800\\u0041",
		"\\ud800\\n", "\\ud800\\", "\\ud800\\u", "\\ud800\\udc0",
		"\\", "\x01", "\x1f", "\t", "\n", "\x7f", "\\'", "\\0",
	};
	int	 i, n = 1 + (int)rn(6);
	int	 v;

	for (i = 0; i < n; i++) {
		switch (rn(4)) {
		case 0:
			bputs(b, PICK(esc));
			break;
		case 1:
			v = (int)rn(0x10000);
			bprintf(b, rn(2) ? "\\u%04x" : "\\u%04X", v);
			if (v >= 0xd800 && v < 0xdc00 && rn(3))
				bprintf(b, "\\u%04x", 0xdc00 + (int)rn(0x400));
			break;
		default:
			bputs(b, rn(2) ? "plain" : "x");
		}
	}
}

static void gen_value(struct buf *, int);

static void
gen_string(struct buf *b)
{
	bputc(b, '"');
	switch (rn(4)) {
	case 0:
		gen_utf8(b);
		break;
	case 1:
		gen_escapes(b);
		break;
	default:
		gen_text(b, (int)rn(3));
	}
	bputc(b, '"');
}

/* A random value, containers likelier near the top. */
static void
gen_value(struct buf *b, int depth)
{
	int	 i, n;

	ws(b, 1);
	switch (rn(depth < 6 ? 8 : 5)) {
	case 0:
		gen_string(b);
		break;
	case 1:
		gen_number(b);
		break;
	case 2:
		bputs(b, rn(3) == 0 ? "true" : rn(2) ? "false" : "null");
		break;
	case 3:
	case 4:
		bputs(b, "\"s\"");
		break;
	case 5:
		bputc(b, '[');
		n = (int)rn(4);
		for (i = 0; i < n; i++) {
			if (i > 0)
				bputc(b, ',');
			gen_value(b, depth + 1);
		}
		ws(b, 1);
		bputc(b, ']');
		break;
	default:
		bputc(b, '{');
		n = (int)rn(4);
		for (i = 0; i < n; i++) {
			if (i > 0)
				bputc(b, ',');
			ws(b, 1);
			if (rn(4) == 0)
				bputs(b, rn(2) ? "\"type\"" : "\"\\u0074ype\"");
			else
				gen_string(b);
			ws(b, 1);
			bputc(b, ':');
			gen_value(b, depth + 1);
		}
		ws(b, 1);
		bputc(b, '}');
	}
	ws(b, 1);
}

/* Run gen, check it, then mutations of it, for the time being. */
static void
diff(struct category *cat, struct category *mcat, long n, int nmut,
    void (*gen)(struct buf *), int wrap)
{
	struct buf	 b = { NULL, 0, 0 }, m = { NULL, 0, 0 };
	long		 i;
	int		 j;

	for (i = 0; i < n; i++) {
		b.len = 0;
		if (wrap)
			bputs(&b, rn(2) ? "[" : "{\"type\":");
		gen(&b);
		if (wrap)
			bputs(&b, b.p[0] == '[' ? "]" : "}");
		check(cat, b.p, b.len);
		for (j = 0; j < nmut; j++) {
			mutate(&m, b.p, b.len);
			check(mcat, m.p, m.len);
		}
	}
	free(b.p);
	free(m.p);
}

/* Any top-level value; a third of them wrapped into a record. */
static void
gen_structure(struct buf *b)
{
	if (rn(3) == 0) {
		bputs(b, "{\"v\":");
		gen_value(b, 1);
		bputc(b, '}');
	} else
		gen_value(b, 0);
}

static void
gen_deep(struct buf *b)
{
	static const char *const inners[] = {
		"", "1", "[]", "{}", "\"s\"", "{\"type\":\"x\"}", "[1,2]",
	};
	int	 n;

	n = rn(4) == 0 ? (int)rn(100) : 2040 + (int)rn(12);
	if (rn(2))
		bputc(b, ' ');
	gen_nest(b, n, PICK(inners), (int)rn(4));
}

static void
gen_array_body(struct buf *b)
{
	int	 i, n = (int)rn(5);

	bputc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			bputc(b, ',');
		ws(b, 1);
		if (rn(8) == 0)
			gen_value(b, 1);
		else
			gen_record(b);
	}
	ws(b, 1);
	bputc(b, ']');
}

/* NDJSON bodies against jansson on each trimmed line. */
static void
check_ndjson(struct category *cat, const char *p, size_t n)
{
	struct jscan_err	 err;
	struct count		 c = { 0, 0 };
	struct oracle		 o;
	const char		*eol, *end = p + n, *q = p, *ls, *le;
	size_t			 good = 0;
	int			 want = 0, r;

	cat->cases++;
	while (q < end) {
		if ((eol = memchr(q, '\n', (size_t)(end - q))) == NULL)
			eol = end;
		for (ls = q; ls < eol && strchr(" \t\r", *ls) && *ls; ls++)
			;
		for (le = eol; le > ls && strchr(" \t\r", le[-1]) && le[-1];
		    le--)
			;
		q = eol < end ? eol + 1 : end;
		if (ls == le)
			continue;
		oracle(ls, (size_t)(le - ls), &o);
		if (!o.rec) {
			want = -1;
			break;
		}
		good++;
	}
	cat->accepted += want == 0;
	r = jscan_ndjson_body(p, n, count_cb, &c, &err);
	if (r != want || c.n != good || c.bad || (r != 0 && err.index != good))
		mismatch(cat, "jscan_ndjson_body disagrees", p, n);
}

static void
diff_ndjson(struct category *cat, long n)
{
	static const char *const eols[] = { "\n", "\r\n", "\n\n", " \n",
		"\n \t\r\n", "\r\r\n" };
	struct buf	 b = { NULL, 0, 0 }, r = { NULL, 0, 0 };
	struct buf	 m = { NULL, 0, 0 };
	long		 i;
	int		 j, k;

	for (i = 0; i < n; i++) {
		b.len = 0;
		k = (int)rn(6);
		for (j = 0; j < k; j++) {
			r.len = 0;
			gen_record(&r);
			if (rn(6) == 0) {
				mutate(&m, r.p, r.len);
				bput(&b, m.p, m.len);
			} else
				bput(&b, r.p, r.len);
			if (j < k - 1 || rn(2))
				bputs(&b, PICK(eols));
		}
		check_ndjson(cat, b.p, b.len);
	}
	free(b.p);
	free(r.p);
	free(m.p);
}

/*
 * Every byte that ends a plain run of a string, at every offset from 0
 * to 47 of a key and of a value, and with 0 to 19 plain bytes after it:
 * the scanner tests strings sixteen and eight bytes at a time, then one
 * at a time, and each width must find the same byte first.
 */
static void
test_string_offsets(void)
{
	static const char *const specials[] = {
		"\\\"", "\\\\", "\\n", "\\x", "\\u00e9", "\\u00G9",
		"\\ud83d\\ude00", "\\ud83d", "\\ude00", "\x01", "\x1f",
		"\x7f", "\x80", "\xc3\xa9", "\xe2\x82\xac", "\xe2\x82",
		"\xed\xa0\x80", "\xf0\x9f\x98\x80", "\xf5", "\xff",
		"\"", "\\",
	};
	struct category	 cat = { "string offsets", 0, 0, 0 };
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i, pre, post, k;
	int		 inkey;
	double		 t = now();

	for (inkey = 0; inkey < 2; inkey++)
		for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
			for (pre = 0; pre < 48; pre++)
				for (post = 0; post < 20; post++) {
					b.len = 0;
					bputs(&b, inkey ? "{\"" : "{\"k\":\"");
					for (k = 0; k < pre; k++)
						bputc(&b, 'a' + k % 26);
					bputs(&b, specials[i]);
					for (k = 0; k < post; k++)
						bputc(&b, 'A' + k % 26);
					bputs(&b, inkey ? "\":1}" : "\"}");
					check(&cat, b.p, b.len);
				}
	report(&cat, t);
	free(b.p);
}

static void
test_differential(void)
{
	struct category	 rec = { "KumoMTA records", 0, 0, 0 };
	struct category	 recm = { "mutated records", 0, 0, 0 };
	struct category	 num = { "numbers", 0, 0, 0 };
	struct category	 numm = { "mutated numbers", 0, 0, 0 };
	struct category	 str = { "strings, escapes, UTF-8", 0, 0, 0 };
	struct category	 strm = { "mutated strings", 0, 0, 0 };
	struct category	 st = { "random structures", 0, 0, 0 };
	struct category	 stm = { "mutated structures", 0, 0, 0 };
	struct category	 deep = { "deep nesting", 0, 0, 0 };
	struct category	 deepm = { "mutated deep nesting", 0, 0, 0 };
	struct category	 arr = { "array bodies", 0, 0, 0 };
	struct category	 arrm = { "mutated array bodies", 0, 0, 0 };
	struct category	 nd = { "NDJSON bodies", 0, 0, 0 };
	double		 t;

	t = now();
	diff(&rec, &recm, 20000, 6, gen_record, 0);
	report(&rec, t);
	report(&recm, -1);
	t = now();
	diff(&num, &numm, 40000, 1, gen_number, 1);
	report(&num, t);
	report(&numm, -1);
	t = now();
	diff(&str, &strm, 40000, 1, gen_string, 1);
	report(&str, t);
	report(&strm, -1);
	t = now();
	diff(&st, &stm, 30000, 2, gen_structure, 0);
	report(&st, t);
	report(&stm, -1);
	t = now();
	diff(&deep, &deepm, 300, 2, gen_deep, 0);
	report(&deep, t);
	report(&deepm, -1);
	t = now();
	diff(&arr, &arrm, 3000, 3, gen_array_body, 0);
	report(&arr, t);
	report(&arrm, -1);
	t = now();
	diff_ndjson(&nd, 5000);
	report(&nd, t);
}

int
main(void)
{
	test_hand_cases();
	test_depth();
	test_errors();
	test_types();
	test_type_routes();
	test_bodies();
	test_body_depth();
	test_string_offsets();
	test_differential();
	return done_testing();
}
