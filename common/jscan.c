/*
 * The validating JSON scanner of the ingest hot path.
 *
 * Why not jansson: json_loadb builds a tree of allocated values for every
 * record, which caps ingest near 100,000 records a second a core, and
 * ingest needs none of it: it only has to know that a record is JSON that
 * jansson (and so every later stage) will load, where the record lies in
 * the body, and the value of its top-level "type" member. This scanner
 * answers that in one pass over the bytes, allocating nothing, at several
 * times jansson's speed.
 *
 * Its contract is to accept exactly what json_loadb(buf, len,
 * JSON_ALLOW_NUL, &err) of jansson 2.14 accepts; every rule below that
 * looks arbitrary is one of jansson's (see the comments at each). With
 * two exceptions, both where jansson strays from RFC 8259. It lets a
 * single raw NUL byte through right after a number or a literal ("[1\0]"
 * loads, a side effect of how it pushes back a byte); a raw NUL is never
 * JSON and would reach the hooks, so the scanner refuses it. And it
 * refuses the escape \u0000 in a key, which it cannot hold ("NUL byte in
 * object key not supported"); RFC 8259 allows it, a mail header can bring
 * it, and a refusal would bounce the record at the producer, so the
 * scanner takes it as in a value. The oracle of t/c/jsonoracle.c is
 * jansson with those two differences; t/c/test_jscan.c checks the scanner
 * against it with hand-written edge cases and a differential test on
 * generated and mutated documents, and t/c/fuzz_jscan.c does the same
 * under libFuzzer.
 *
 * Strings are scanned sixteen bytes at a time with SSE2 where the target
 * has it (every x86-64; a third faster on KumoMTA's records than the
 * eight-byte test), then eight at a time with SWAR tests, for the bytes
 * that end a plain run (quote, backslash, control, non-ASCII). Nesting is
 * tracked with an explicit bit stack, not recursion, so hostile input
 * cannot exhaust the C stack.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * jansson's JSON_PARSER_MAX_DEPTH. jansson counts every value, scalars
 * included: the top-level container is at depth 1 and nothing may be
 * deeper than 2048.
 */
#define MAX_DEPTH	2048

/* The longest raw spelling of the key "type": six bytes per character. */
#define TYPE_KEY_MAX	24

/* Significant digits kept when strtod has to settle a real's overflow. */
#define SIG_MAX		400

/* Exponents saturate here; no buffer holds enough digits to offset it. */
#define EXP_CAP		(1LL << 50)

#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL

#define WS_MASK		((1ULL << ' ') | (1ULL << '\t') | (1ULL << '\n') | \
			    (1ULL << '\r'))

struct scan {
	const char		*base;		/* the whole buffer: offsets */
	const char		*end;
	struct jscan_err	*err;
	int			 maxdepth;	/* open containers allowed */
	struct jscan_err	 own;		/* err when the caller gave none */
};

/* Hex digit values plus one, so that zero means "not a hex digit". */
static const unsigned char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16,
};

static const char *bad(struct scan *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* Reads as 0 past the end: NUL is invalid wherever a token may start. */
static inline int
peek(const struct scan *s, const char *p)
{
	return p < s->end ? (unsigned char)*p : 0;
}

static inline int
isws(int c)
{
	return c <= ' ' && ((WS_MASK >> c) & 1);
}

static inline int
isdig(int c)
{
	return (unsigned)(c - '0') < 10;
}

/* jansson's whitespace only: no form feed, no vertical tab, no BOM. */
static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && isws((unsigned char)*p))
		p++;
	return p;
}

static const char *
bad(struct scan *s, const char *p, const char *fmt, ...)
{
	va_list	 ap;

	if (p > s->end)
		p = s->end;
	s->err->offset = (size_t)(p - s->base);
	if (p == s->end) {
		snprintf(s->err->msg, sizeof(s->err->msg),
		    "premature end of input");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

/* Little-endian view of eight bytes, so the first byte is the lowest. */
static inline uint64_t
load8(const char *p)
{
	uint64_t	 x;

	memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/*
 * The high bit of each byte that ends a plain string run: '"', '\\',
 * below 0x20, or 0x80 and above. Borrows can flag a byte after a flagged
 * one, never before it, so the lowest flag is exact.
 */
static inline uint64_t
special8(uint64_t x)
{
	uint64_t	 q = x ^ (ONES * '"');
	uint64_t	 b = x ^ (ONES * '\\');

	return ((x - ONES * 0x20) | (q - ONES) | (b - ONES) | x) & HIGHS;
}

#ifdef __SSE2__
/*
 * special8 over sixteen bytes: a bit per byte that ends a plain run. As
 * signed bytes, control characters and 0x80 and above are all below
 * 0x20, so one comparison finds both.
 */
static inline unsigned int
special16(const char *p)
{
	__m128i	 x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i	 q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
	__m128i	 b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
	__m128i	 c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));

	return (unsigned int)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q,
	    b), c));
}
#endif

static inline int
hex4(const char *p)
{
	int	 i, d, v = 0;

	for (i = 0; i < 4; i++) {
		if ((d = hexval[(unsigned char)p[i]]) == 0)
			return -1;
		v = (v << 4) | (d - 1);
	}
	return v;
}

/*
 * p at a backslash. jansson rejects lone or reversed surrogates, and a
 * high surrogate not followed at once by a \u low one. \u0000 is taken:
 * the decoded "type" keeps its length, so "Deliv\u0000ery" is no type a
 * hook names, and "ty\u0000pe" is not the key "type".
 */
static const char *
scan_escape(struct scan *s, const char *p)
{
	const char	*end = s->end;
	int		 v, w;

	if (end - p < 2)
		return bad(s, end, "premature end of input");
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n':
	case 'r': case 't':
		return p + 2;
	case 'u':
		break;
	default:
		return bad(s, p, "invalid escape");
	}
	if (end - p < 6)
		return bad(s, end, "premature end of input");
	if ((v = hex4(p + 2)) < 0)
		return bad(s, p, "invalid \\u escape");
	if (v < 0xd800 || v > 0xdfff)
		return p + 6;
	if (v >= 0xdc00)
		return bad(s, p, "lone low surrogate \\u%04X", v);
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return bad(s, p, "unpaired surrogate \\u%04X", v);
	if ((w = hex4(p + 8)) < 0)
		return bad(s, p + 6, "invalid \\u escape");
	if (w < 0xdc00 || w > 0xdfff)
		return bad(s, p, "invalid surrogate pair \\u%04X\\u%04X", v, w);
	return p + 12;
}

/*
 * p at a byte of 0x80 or above. Exactly jansson's utf8_check_first and
 * utf8_check_full: no overlong forms, no encoded surrogates, nothing past
 * U+10FFFF.
 */
static const char *
scan_utf8(struct scan *s, const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;
	unsigned int		 lo = 0x80, hi = 0xbf;
	size_t			 n, i;

	if (u[0] < 0xc2)
		goto fail;
	else if (u[0] < 0xe0)
		n = 2;
	else if (u[0] < 0xf0) {
		n = 3;
		if (u[0] == 0xe0)
			lo = 0xa0;
		else if (u[0] == 0xed)
			hi = 0x9f;
	} else if (u[0] < 0xf5) {
		n = 4;
		if (u[0] == 0xf0)
			lo = 0x90;
		else if (u[0] == 0xf4)
			hi = 0x8f;
	} else
		goto fail;
	if ((size_t)(s->end - p) < n || u[1] < lo || u[1] > hi)
		goto fail;
	for (i = 2; i < n; i++)
		if ((u[i] & 0xc0) != 0x80)
			goto fail;
	return p + n;
fail:
	return bad(s, p, "invalid UTF-8 byte 0x%02x", u[0]);
}

/*
 * p at the opening quote; returns just past the closing one, and sets
 * *esc if the string holds an escape. Inlined into its three callers:
 * the call cost a tenth of the throughput.
 */
static inline __attribute__((always_inline)) const char *
scan_string(struct scan *s, const char *p, int *esc)
{
	const char	*end = s->end;
	uint64_t	 m;
	int		 c;

	p++;
	for (;;) {
#ifdef __SSE2__
		while (end - p >= 16) {
			if ((m = special16(p)) != 0) {
				p += __builtin_ctz((unsigned int)m);
				goto special;
			}
			p += 16;
		}
#endif
		while (end - p >= 8) {
			if ((m = special8(load8(p))) != 0) {
				p += __builtin_ctzll(m) >> 3;
				goto special;
			}
			p += 8;
		}
		if (p >= end)
			return bad(s, p, "premature end of input");
special:
		c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			*esc = 1;
			p = scan_escape(s, p);
		} else if (c >= 0x80)
			p = scan_utf8(s, p);
		else if (c < 0x20)
			return bad(s, p, "control character 0x%02x in string",
			    c);
		else
			p++;
		if (p == NULL)
			return NULL;
	}
}

/* jansson stores integers as json_int_t (long long) and checks strtoll. */
static int
int_overflows(const char *p, size_t len)
{
	char	 buf[24];

	if (len >= sizeof(buf))
		return 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	(void)strtoll(buf, NULL, 10);
	return errno == ERANGE;
}

/*
 * Does the real with integer digits [ds, ie), fraction digits [fs, fe)
 * and exponent exp overflow strtod to HUGE_VAL, which jansson rejects
 * (underflow it accepts)? Only the decimal exponent k of the leading
 * significant digit (value = 0.d... * 10^k) matters, except for k == 309,
 * where strtod itself decides on a copy cut to SIG_MAX digits with a
 * sticky digit, which rounds exactly as the full number would.
 */
static int
real_overflows(const char *ds, const char *ie, const char *fs,
    const char *fe, long long exp)
{
	char		 buf[SIG_MAX + 32];
	const char	*d, *q;
	long long	 k;
	size_t		 n = 0;
	int		 sticky = 0;
	double		 v;

	if (*ds != '0') {
		d = ds;
		k = (long long)(ie - ds) + exp;
	} else {
		for (d = fs; d < fe && *d == '0'; d++)
			;
		if (d == fe)
			return 0;
		k = exp - (long long)(d - fs);
	}
	if (k <= 308)
		return 0;
	if (k >= 310)
		return 1;
	for (q = d; q < fe; q++) {
		if (q == ie) {
			q = fs - 1;
			continue;
		}
		if (n < SIG_MAX)
			buf[n++] = *q;
		else if (*q != '0')
			sticky = 1;
	}
	if (sticky)
		buf[n++] = '1';
	snprintf(buf + n, sizeof(buf) - n, "e%lld", k - (long long)n);
	errno = 0;
	v = strtod(buf, NULL);
	return errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
}

/* p at the '.', 'e' or 'E' that follows the integer digits [ds, p). */
static const char *
scan_real(struct scan *s, const char *start, const char *ds, const char *p)
{
	const char	*end = s->end, *ie = p, *fs = p, *fe = p;
	long long	 exp = 0;
	int		 eneg = 0;

	if (*p == '.') {
		fs = ++p;
		if (p >= end || !isdig((unsigned char)*p))
			return bad(s, start, "invalid number");
		do
			p++;
		while (p < end && isdig((unsigned char)*p));
		fe = p;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !isdig((unsigned char)*p))
			return bad(s, start, "invalid number");
		do {
			if (exp < EXP_CAP)
				exp = exp * 10 + (*p - '0');
			p++;
		} while (p < end && isdig((unsigned char)*p));
		if (eneg)
			exp = -exp;
	}
	if ((long long)(ie - ds) + exp > 308 &&
	    real_overflows(ds, ie, fs, fe, exp))
		return bad(s, start, "real number overflow");
	return p;
}

/* RFC 8259 numbers; integers are jansson's as long as there is no . e E. */
static inline const char *
scan_number(struct scan *s, const char *p)
{
	const char	*end = s->end, *start = p, *ds;

	if (*p == '-')
		p++;
	ds = p;
	if (p < end && *p == '0') {
		p++;
		if (p < end && isdig((unsigned char)*p))
			return bad(s, start, "invalid number: leading zero");
	} else if (p < end && isdig((unsigned char)*p)) {
		do
			p++;
		while (p < end && isdig((unsigned char)*p));
	} else
		return bad(s, start, "invalid number");
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return scan_real(s, start, ds, p);
	if (p - ds >= 19 && int_overflows(start, (size_t)(p - start)))
		return bad(s, start, "integer out of range");
	return p;
}

static const char *
scan_literal(struct scan *s, const char *p, const char *lit, size_t len)
{
	if ((size_t)(s->end - p) < len || memcmp(p, lit, len) != 0)
		return bad(s, p, "invalid literal");
	return p + len;
}

static void
put_utf8(char *out, size_t *n, unsigned int v)
{
	if (v < 0x80)
		out[(*n)++] = (char)v;
	else if (v < 0x800) {
		out[(*n)++] = (char)(0xc0 | (v >> 6));
		out[(*n)++] = (char)(0x80 | (v & 0x3f));
	} else if (v < 0x10000) {
		out[(*n)++] = (char)(0xe0 | (v >> 12));
		out[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (v & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | (v >> 18));
		out[(*n)++] = (char)(0x80 | ((v >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (v & 0x3f));
	}
}

/*
 * Decodes the already validated string body [p, p + len) into out; the
 * decoded length, or SIZE_MAX when it would exceed cap.
 */
static size_t
decode_string(const char *p, size_t len, char *out, size_t cap)
{
	const char	*end = p + len;
	char		 tmp[4];
	size_t		 n = 0, k;
	unsigned int	 v;

	while (p < end) {
		k = 0;
		if (*p != '\\')
			tmp[k++] = *p++;
		else if (p[1] != 'u') {
			switch (p[1]) {
			case 'b': tmp[k++] = '\b'; break;
			case 'f': tmp[k++] = '\f'; break;
			case 'n': tmp[k++] = '\n'; break;
			case 'r': tmp[k++] = '\r'; break;
			case 't': tmp[k++] = '\t'; break;
			default: tmp[k++] = p[1]; break;
			}
			p += 2;
		} else {
			v = (unsigned int)hex4(p + 2);
			p += 6;
			if (v >= 0xd800 && v <= 0xdbff) {
				v = 0x10000 + ((v - 0xd800) << 10) +
				    ((unsigned int)hex4(p + 2) - 0xdc00);
				p += 6;
			}
			put_utf8(tmp, &k, v);
		}
		if (k > cap - n)
			return SIZE_MAX;
		memcpy(out + n, tmp, k);
		n += k;
	}
	return n;
}

/*
 * Keys may be escaped: "\u0074ype" is the key "type" to jansson. The
 * scanner says whether the key held an escape: looking for one here cost
 * a twentieth of ingest's scan, as most keys are 4 to 24 bytes long.
 */
static int
is_type_key(const char *p, size_t len, int esc)
{
	char	 buf[8];

	if (!esc)
		return len == 4 && memcmp(p, "type", 4) == 0;
	if (len > TYPE_KEY_MAX)
		return 0;
	return decode_string(p, len, buf, sizeof(buf)) == 4 &&
	    memcmp(buf, "type", 4) == 0;
}

static void
set_type(struct jscan_rec *rec, int state, const char *p, size_t len)
{
	size_t	 n;

	rec->type_state = state;
	rec->type_len = 0;
	rec->type[0] = '\0';
	if (state != JSCAN_TYPE_STRING)
		return;
	n = decode_string(p, len, rec->type, sizeof(rec->type) - 1);
	if (n == SIZE_MAX) {
		rec->type_state = JSCAN_TYPE_OTHER;
		rec->type[0] = '\0';
		return;
	}
	rec->type[n] = '\0';
	rec->type_len = n;
}

static inline int
isobj(const uint64_t *bits, int depth)
{
	return (bits[depth >> 6] >> (depth & 63)) & 1;
}

/*
 * Scans the object or array at p, its depth already checked; returns just
 * past it. With rec, the top-level "type" member goes into rec.
 *
 * A state machine over gotos rather than a recursive descent: nesting
 * costs one bit in objbits, never C stack, and the hot transitions stay
 * in one function for the compiler to keep in registers.
 */
static const char *
scan_container(struct scan *s, const char *p, struct jscan_rec *rec)
{
	uint64_t	 objbits[MAX_DEPTH / 64];
	const char	*end = s->end, *ks;
	int		 depth = 0, c, obj, istype, esc;
	uint64_t	 bit;

open:
	bit = 1ULL << (depth & 63);
	if (*p == '{') {
		objbits[depth >> 6] |= bit;
		depth++;
		p = skip_ws(p + 1, end);
		if (peek(s, p) == '}') {
			p++;
			goto close;
		}
		goto key;
	}
	objbits[depth >> 6] &= ~bit;
	depth++;
	p = skip_ws(p + 1, end);
	if (peek(s, p) == ']') {
		p++;
		goto close;
	}
	goto value;

key:
	if (peek(s, p) != '"')
		return bad(s, p, "string or '}' expected");
	ks = p + 1;
	esc = 0;
	if ((p = scan_string(s, p, &esc)) == NULL)
		return NULL;
	istype = depth == 1 && rec != NULL &&
	    is_type_key(ks, (size_t)(p - 1 - ks), esc);
	p = skip_ws(p, end);
	if (peek(s, p) != ':')
		return bad(s, p, "':' expected");
	p = skip_ws(p + 1, end);
	if (istype) {
		if (peek(s, p) != '"')
			set_type(rec, JSCAN_TYPE_OTHER, NULL, 0);
		else {
			ks = p + 1;
			if ((p = scan_string(s, p, &esc)) == NULL)
				return NULL;
			set_type(rec, JSCAN_TYPE_STRING, ks,
			    (size_t)(p - 1 - ks));
			goto next;
		}
	}

value:
	if (depth >= s->maxdepth)
		return bad(s, p, "maximum nesting depth reached");
	switch (peek(s, p)) {
	case '"':
		p = scan_string(s, p, &esc);
		break;
	case '{':
	case '[':
		goto open;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		p = scan_number(s, p);
		break;
	case 't':
		p = scan_literal(s, p, "true", 4);
		break;
	case 'f':
		p = scan_literal(s, p, "false", 5);
		break;
	case 'n':
		p = scan_literal(s, p, "null", 4);
		break;
	default:
		return bad(s, p, "value expected");
	}
	if (p == NULL)
		return NULL;

next:
	p = skip_ws(p, end);
	c = peek(s, p);
	obj = isobj(objbits, depth - 1);
	if (c == ',') {
		p = skip_ws(p + 1, end);
		if (obj)
			goto key;
		goto value;
	}
	if (c != (obj ? '}' : ']'))
		return bad(s, p, obj ? "',' or '}' expected" :
		    "',' or ']' expected");
	p++;

close:
	if (--depth == 0)
		return p;
	goto next;
}

/* A NULL buf is empty; with a NULL err, errors go to the scan's own. */
static void
scan_init(struct scan *s, const char *buf, size_t len,
    struct jscan_err *err)
{
	if (err == NULL)
		err = &s->own;
	if (buf == NULL) {
		buf = "";
		len = 0;
	}
	s->base = buf;
	s->end = buf + len;
	s->err = err;
	s->maxdepth = MAX_DEPTH;
	err->index = 0;
	err->offset = 0;
	err->msg[0] = '\0';
}

static void
rec_init(struct jscan_rec *rec, const char *p)
{
	rec->ptr = p;
	rec->len = 0;
	rec->type_state = JSCAN_TYPE_NONE;
	rec->type_len = 0;
	rec->type[0] = '\0';
}

/* One object at p (whitespace skipped); returns just past it. */
static const char *
scan_object(struct scan *s, const char *p, struct jscan_rec *rec)
{
	const char	*q;

	rec_init(rec, p);
	if (peek(s, p) != '{')
		return bad(s, p, "record is not an object");
	if ((q = scan_container(s, p, rec)) == NULL)
		return NULL;
	rec->len = (size_t)(q - p);
	return q;
}

int
jscan_document(const char *buf, size_t len, struct jscan_err *err)
{
	struct scan		 s;
	const char		*p;
	int			 c;

	scan_init(&s, buf, len, err);
	p = skip_ws(s.base, s.end);
	c = peek(&s, p);
	if (c != '{' && c != '[') {
		bad(&s, p, "'[' or '{' expected");
		return -1;
	}
	if ((p = scan_container(&s, p, NULL)) == NULL)
		return -1;
	if ((p = skip_ws(p, s.end)) != s.end) {
		bad(&s, p, "end of input expected");
		return -1;
	}
	return 0;
}

int
jscan_record(const char *buf, size_t len, struct jscan_rec *rec,
    struct jscan_err *err)
{
	struct scan		 s;
	const char		*p;

	scan_init(&s, buf, len, err);
	if ((p = scan_object(&s, skip_ws(s.base, s.end), rec)) == NULL)
		return -1;
	if ((p = skip_ws(p, s.end)) != s.end) {
		bad(&s, p, "end of input expected");
		return -1;
	}
	return 0;
}

/*
 * The elements of a top-level array, checked as jansson checks the whole
 * body: each is one level deeper than a lone record, so may nest one level
 * less. An error between or after elements takes the index of the record
 * that would come next, the number of records scanned before it.
 */
static int
json_array(struct scan *s, const char *p, jscan_cb cb, void *arg)
{
	struct jscan_rec	 rec;
	size_t			 idx = 0;
	int			 c, r;

	s->maxdepth = MAX_DEPTH - 1;
	p = skip_ws(p + 1, s->end);
	if (peek(s, p) == ']')
		goto done;
	for (;;) {
		s->err->index = idx;
		if ((p = scan_object(s, p, &rec)) == NULL)
			return -1;
		if ((r = cb(arg, idx, &rec)) != 0)
			return r;
		s->err->index = ++idx;
		p = skip_ws(p, s->end);
		if ((c = peek(s, p)) == ']')
			break;
		if (c != ',') {
			bad(s, p, "',' or ']' expected");
			return -1;
		}
		p = skip_ws(p + 1, s->end);
	}
done:
	if ((p = skip_ws(p + 1, s->end)) != s->end) {
		bad(s, p, "end of input expected");
		return -1;
	}
	return 0;
}

int
jscan_json_body(const char *buf, size_t len, jscan_cb cb, void *arg,
    struct jscan_err *err)
{
	struct jscan_rec	 rec;
	struct scan		 s;
	const char		*p;

	scan_init(&s, buf, len, err);
	p = skip_ws(s.base, s.end);
	if (peek(&s, p) == '[')
		return json_array(&s, p, cb, arg);
	if (peek(&s, p) != '{') {
		bad(&s, p, "'[' or '{' expected");
		return -1;
	}
	if ((p = scan_object(&s, p, &rec)) == NULL)
		return -1;
	if ((p = skip_ws(p, s.end)) != s.end) {
		bad(&s, p, "end of input expected");
		return -1;
	}
	return cb(arg, 0, &rec);
}

int
jscan_ndjson_body(const char *buf, size_t len, jscan_cb cb, void *arg,
    struct jscan_err *err)
{
	struct jscan_rec	 rec;
	struct scan		 s;
	const char		*p, *end, *eol, *le, *q, *next;
	size_t			 idx = 0;
	int			 r;

	scan_init(&s, buf, len, err);
	end = s.end;
	for (p = s.base; p < end; p = next) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			next = eol = end;
		else
			next = eol + 1;
		if ((p = skip_ws(p, eol)) == eol)
			continue;
		for (le = eol; isws((unsigned char)le[-1]); le--)
			;
		s.end = le;
		s.err->index = idx;
		if ((q = scan_object(&s, p, &rec)) == NULL)
			return -1;
		if (q != le) {
			bad(&s, skip_ws(q, le), "end of line expected");
			return -1;
		}
		if ((r = cb(arg, idx, &rec)) != 0)
			return r;
		idx++;
	}
	return 0;
}
