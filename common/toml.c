/*
 * A TOML 1.0 parser.
 *
 * It is written by hand because Debian packages no TOML parser for C,
 * and both spoold.conf and the KumoMTA shaping files are TOML. The whole
 * document is checked to be UTF-8 first, then read in one pass by
 * recursive descent into an immutable tree; nesting is bounded by
 * TOML_MAX_DEPTH so that no input can exhaust the stack, and keys are
 * found through a hash index kept for the duration of the parse so that
 * large tables stay linear. Errors name the exact line and byte column.
 *
 * It is tested by t/c/test_toml.c (every construct with its values and
 * every error with its position), by t/toml-diff.t, which compares the
 * trees it builds with those of Python's tomllib on a corpus and on
 * thousands of generated and mutated documents, and by the libFuzzer
 * harness t/c/fuzz_toml.c.
 *
 * Deliberate choices where TOML leaves room: CRLF inside multi-line
 * strings reads as LF; a leading UTF-8 byte order mark is skipped;
 * a second of 60 is refused, as Python's datetime refuses it; floats
 * beyond the range of a double become infinite, as in strtod.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml.h"
#include "util.h"

#define TOML_MAX_DEPTH	128
#define TOML_MAX_FILE	(64 * 1024 * 1024)
#define TOML_MSGLEN	512
#define TOML_NAMELEN	160

/*
 * What toml_value.flags records. TOML 1.0 decides whether a table may be
 * reopened from how it came to exist, not from its contents: a [header]
 * defines a table once; dotted keys may open a table only within the
 * section that created it; inline tables and arrays are complete when
 * closed; an array of tables grows only through [[header]].
 */
#define TF_HEADER	0x01	/* defined by its own [header] */
#define TF_CLOSED	0x02	/* neither a header nor dotted keys may reopen */
#define TF_PENDING	0x04	/* opened by dotted keys in this section */
#define TF_FROZEN	0x10	/* inline table or static array */
#define TF_AOT		0x20	/* array of tables */

struct keyseg {
	char		*s;
	size_t		 len;
	struct toml_pos	 pos;
};

struct key {
	struct keyseg	*seg;
	size_t		 n;
	size_t		 cap;
};

struct sbuf {
	char		*s;
	size_t		 len;
	size_t		 cap;
};

struct slot {
	const struct toml_value	*tab;
	size_t			 idx;
};

struct parser {
	const unsigned char	*buf;
	size_t			 len;
	size_t			 off;
	int			 line;
	size_t			 bol;		/* offset where the line begins */
	const char		*file;
	char			*err;
	size_t			 errlen;
	int			 failed;
	struct toml_value	*root;
	struct toml_value	*cur;		/* table of the current section */
	int			 curdepth;
	struct toml_value	**pending;	/* tables to close at next header */
	size_t			 npending;
	size_t			 pendcap;
	struct slot		*slots;		/* (table, key) -> kv index */
	size_t			 nslots;
	size_t			 used;
};

static struct toml_value *parse_value(struct parser *, int);

/*
 * Positions and errors.
 */

static struct toml_pos
posat(const struct parser *p, size_t off)
{
	struct toml_pos	 pos;
	size_t		 col = off - p->bol + 1;

	pos.file = p->file;
	pos.line = p->line;
	pos.col = col > INT_MAX ? INT_MAX : (int)col;
	return pos;
}

static struct toml_pos
here(const struct parser *p)
{
	return posat(p, p->off);
}

static int __attribute__((format(printf, 3, 4)))
perr(struct parser *p, struct toml_pos pos, const char *fmt, ...)
{
	char	 msg[TOML_MSGLEN];
	va_list	 ap;

	/* The first error is the one to report; later ones are fallout. */
	if (p->failed)
		return -1;
	p->failed = 1;
	if (p->err == NULL || p->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->file, pos.line,
	    pos.col, msg);
	return -1;
}

static int
oom(struct parser *p)
{
	return perr(p, here(p), "out of memory");
}

static size_t
utf8len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

static uint32_t
decode_utf8(const unsigned char *s, size_t n)
{
	uint32_t	 cp;
	size_t		 i;

	cp = n == 1 ? s[0] : s[0] & (0xff >> (n + 1));
	for (i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Name the byte at off for "found ..." in a message. */
static const char *
describe(const struct parser *p, size_t off, char *buf, size_t sz)
{
	const unsigned char	*s = p->buf + off;
	size_t			 n;

	if (off >= p->len)
		return "end of file";
	if (s[0] == '\n' || (s[0] == '\r' && off + 1 < p->len &&
	    s[1] == '\n'))
		return "end of line";
	if (s[0] == '\r')
		return "a carriage return without line feed";
	if (s[0] == '\'')
		return "\"'\"";
	if (s[0] >= 0x20 && s[0] < 0x7f)
		snprintf(buf, sz, "'%c'", s[0]);
	else if (s[0] < 0x80)
		snprintf(buf, sz, "control character U+%04X", s[0]);
	else {
		/* The document was checked to be UTF-8, so n bytes exist. */
		n = utf8len(s[0]);
		snprintf(buf, sz, "'%.*s' (U+%04X)", (int)n, (const char *)s,
		    (unsigned int)decode_utf8(s, n));
	}
	return buf;
}

static int
isbare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
isdec(int c)
{
	return c >= '0' && c <= '9';
}

/* Control characters that TOML forbids in strings and comments. */
static int
isctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Write a key as a quoted string, escaped and shortened for messages. */
static void
quote_key(char *dst, size_t sz, const char *s, size_t len)
{
	size_t		 o = 0, i;
	unsigned char	 c;

	dst[o++] = '"';
	for (i = 0; i < len; i++) {
		c = s[i];
		/* Cut only before a lead byte, never inside a character. */
		if (o + 16 >= sz && (c & 0xc0) != 0x80) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = c;
		} else if (c < 0x20 || c == 0x7f)
			o += snprintf(dst + o, sz - o, "\\u%04X", c);
		else
			dst[o++] = c;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

static void
append(char *dst, size_t sz, const char *src)
{
	size_t	 o = strlen(dst), n = strlen(src);

	if (o + n >= sz) {
		n = sz - o - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst + o, src, n);
	dst[o + n] = '\0';
}

/* Write the first n parts of a key as TOML would, for [header] names. */
static void
table_name(char *dst, size_t sz, const struct key *k, size_t n)
{
	char	 part[TOML_NAMELEN];
	size_t	 i, j;

	dst[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			append(dst, sz, ".");
		for (j = 0; j < k->seg[i].len && isbare(k->seg[i].s[j]); j++)
			;
		if (j > 0 && j == k->seg[i].len)
			append(dst, sz, k->seg[i].s);
		else {
			quote_key(part, sizeof(part), k->seg[i].s,
			    k->seg[i].len);
			append(dst, sz, part);
		}
	}
}

/*
 * Growable buffers.
 */

static int
sb_put(struct sbuf *sb, const void *src, size_t n)
{
	char	*ns;
	size_t	 ncap;

	if (sb->cap - sb->len <= n) {
		ncap = sb->cap ? sb->cap : 32;
		while (ncap - sb->len <= n)
			ncap *= 2;
		if ((ns = realloc(sb->s, ncap)) == NULL)
			return -1;
		sb->s = ns;
		sb->cap = ncap;
	}
	memcpy(sb->s + sb->len, src, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

/*
 * Tables and arrays carry no capacity, so grow them at n == 0 and at
 * every power of two from 4: the capacity is then implied by n.
 */
static int
must_grow(size_t n)
{
	return n == 0 || (n >= 4 && (n & (n - 1)) == 0);
}

static void *
grow(void *v, size_t n, size_t size)
{
	size_t	 cap = n == 0 ? 4 : n * 2;

	if (cap > SIZE_MAX / size)
		return NULL;
	return realloc(v, cap * size);
}

static struct toml_value *
newval(struct parser *p, enum toml_type type, struct toml_pos pos)
{
	struct toml_value	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		oom(p);
		return NULL;
	}
	v->type = type;
	v->pos = pos;
	return v;
}

static int
arr_add(struct parser *p, struct toml_value *a, struct toml_value *v)
{
	struct toml_value	**nv;

	if (must_grow(a->u.arr.n)) {
		if ((nv = grow(a->u.arr.v, a->u.arr.n, sizeof(*nv))) == NULL)
			return oom(p);
		a->u.arr.v = nv;
	}
	a->u.arr.v[a->u.arr.n++] = v;
	return 0;
}

/*
 * The key index: open addressing over (table, key), alive for one parse.
 */

static size_t
keyhash(const struct toml_value *tab, const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	h ^= (uint64_t)(uintptr_t)tab;
	h *= 0x100000001b3ULL;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

static void
index_place(struct slot *slots, size_t nslots, const struct toml_value *tab,
    size_t idx)
{
	const struct toml_kv	*kv = &tab->u.tab.kv[idx];
	size_t			 i, mask = nslots - 1;

	for (i = keyhash(tab, kv->key, kv->keylen) & mask;
	    slots[i].tab != NULL; i = (i + 1) & mask)
		;
	slots[i].tab = tab;
	slots[i].idx = idx;
}

/* Make room for one more key, keeping the load under one half. */
static int
index_reserve(struct parser *p)
{
	struct slot	*ns;
	size_t		 n, i;

	if ((p->used + 1) * 2 <= p->nslots)
		return 0;
	n = p->nslots ? p->nslots * 2 : 64;
	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return oom(p);
	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].tab != NULL)
			index_place(ns, n, p->slots[i].tab, p->slots[i].idx);
	free(p->slots);
	p->slots = ns;
	p->nslots = n;
	return 0;
}

static struct toml_kv *
tab_find(struct parser *p, const struct toml_value *tab, const char *s,
    size_t len)
{
	struct toml_kv	*kv;
	size_t		 i, mask;

	if (p->nslots == 0)
		return NULL;
	mask = p->nslots - 1;
	for (i = keyhash(tab, s, len) & mask; p->slots[i].tab != NULL;
	    i = (i + 1) & mask) {
		if (p->slots[i].tab != tab)
			continue;
		kv = &tab->u.tab.kv[p->slots[i].idx];
		if (kv->keylen == len && memcmp(kv->key, s, len) == 0)
			return kv;
	}
	return NULL;
}

/* Add seg = v to tab. On failure v still belongs to the caller. */
static int
tab_add(struct parser *p, struct toml_value *tab, const struct keyseg *seg,
    struct toml_value *v)
{
	struct toml_kv	*nkv, *kv;
	char		*key;

	if (index_reserve(p) == -1)
		return -1;
	if ((key = malloc(seg->len + 1)) == NULL)
		return oom(p);
	memcpy(key, seg->s, seg->len);
	key[seg->len] = '\0';
	if (must_grow(tab->u.tab.n)) {
		nkv = grow(tab->u.tab.kv, tab->u.tab.n, sizeof(*nkv));
		if (nkv == NULL) {
			free(key);
			return oom(p);
		}
		tab->u.tab.kv = nkv;
	}
	kv = &tab->u.tab.kv[tab->u.tab.n++];
	kv->key = key;
	kv->keylen = seg->len;
	kv->pos = seg->pos;
	kv->val = v;
	index_place(p->slots, p->nslots, tab, tab->u.tab.n - 1);
	p->used++;
	return 0;
}

/*
 * Lexical helpers.
 */

static int
peek(const struct parser *p)
{
	return p->off < p->len ? p->buf[p->off] : -1;
}

static int
peekat(const struct parser *p, size_t k)
{
	return p->len - p->off > k ? p->buf[p->off + k] : -1;
}

static int
iseol(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peekat(p, 1) == '\n');
}

static void
skip_ws(struct parser *p)
{
	while (p->off < p->len &&
	    (p->buf[p->off] == ' ' || p->buf[p->off] == '\t'))
		p->off++;
}

/* Consume one LF or CRLF; every line count goes through here. */
static int
eat_newline(struct parser *p)
{
	if (peek(p) == '\n')
		p->off++;
	else if (peek(p) == '\r' && peekat(p, 1) == '\n')
		p->off += 2;
	else
		return 0;
	if (p->line < INT_MAX)
		p->line++;
	p->bol = p->off;
	return 1;
}

static int
skip_comment(struct parser *p)
{
	int	 c;

	if (peek(p) != '#')
		return 0;
	for (; p->off < p->len && !iseol(p); p->off++) {
		c = p->buf[p->off];
		if (isctl(c))
			return perr(p, here(p),
			    "invalid control character U+%04X in comment", c);
	}
	return 0;
}

/* Whitespace, newlines and comments, as allowed inside arrays. */
static int
skip_array_ws(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return -1;
		if (!eat_newline(p))
			return 0;
	}
}

/* Find the first byte that is not UTF-8, and say where it is. */
static int
check_utf8(struct parser *p)
{
	const unsigned char	*s = p->buf;
	size_t			 i = 0, n, k;
	unsigned int		 c, lo, hi;

	while (i < p->len) {
		c = s[i];
		if (c < 0x80) {
			if (c == '\n') {
				p->line++;
				p->bol = i + 1;
			}
			i++;
			continue;
		}
		/* Refuse overlong forms, surrogates and beyond U+10FFFF. */
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			goto bad;
		for (k = 1; k <= n; k++) {
			if (i + k >= p->len)
				goto bad;
			c = s[i + k];
			if (k == 1 ? (c < lo || c > hi) : (c & 0xc0) != 0x80)
				goto bad;
		}
		i += n + 1;
	}
	p->line = 1;
	p->bol = 0;
	return 0;
bad:
	return perr(p, posat(p, i), "invalid UTF-8");
}

/*
 * Strings.
 */

static int
put_utf8(struct sbuf *sb, uint32_t cp)
{
	unsigned char	 b[4];
	size_t		 n;

	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	return sb_put(sb, b, n);
}

/* \uXXXX or \UXXXXXXXX at the backslash. */
static int
parse_ucn(struct parser *p, struct sbuf *sb)
{
	struct toml_pos	 at = here(p);
	uint32_t	 cp = 0;
	size_t		 i, n;
	int		 u = peekat(p, 1), v;

	n = u == 'u' ? 4 : 8;
	for (i = 0; i < n; i++) {
		if ((v = hex_value(peekat(p, 2 + i))) < 0)
			return perr(p, at, "invalid escape \\%c: expected %zu "
			    "hexadecimal digits", u, n);
		cp = cp << 4 | (uint32_t)v;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return perr(p, at, "invalid escape \\%c%.*s: not a Unicode "
		    "scalar value", u, (int)n, (const char *)p->buf + p->off + 2);
	if (put_utf8(sb, cp) == -1)
		return oom(p);
	p->off += 2 + n;
	return 0;
}

/*
 * A backslash that ends a line of a multi-line basic string swallows
 * the line ending and all whitespace up to the next visible character.
 */
static int
line_continuation(struct parser *p)
{
	struct toml_pos	 at = here(p);
	size_t		 save = p->off;

	p->off++;
	skip_ws(p);
	if (p->off >= p->len)
		return 0;
	if (!iseol(p)) {
		p->off = save;
		return perr(p, at, "a line-ending backslash must be followed "
		    "only by whitespace");
	}
	while (eat_newline(p))
		skip_ws(p);
	return 0;
}

static int
parse_escape(struct parser *p, struct sbuf *sb, int multi,
    struct toml_pos open)
{
	static const char	 from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char		*q;
	char			 d[40];
	int			 c = peekat(p, 1);

	if (c == -1)
		return perr(p, open, "unterminated string");
	if (c != 0 && (q = strchr(from, c)) != NULL) {
		if (sb_put(sb, &to[q - from], 1) == -1)
			return oom(p);
		p->off += 2;
		return 0;
	}
	if (c == 'u' || c == 'U')
		return parse_ucn(p, sb);
	if (multi && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
		return line_continuation(p);
	if (c > 0x20 && c < 0x7f)
		return perr(p, here(p), "invalid escape sequence \\%c", c);
	return perr(p, here(p), "invalid escape sequence: '\\' followed by %s",
	    describe(p, p->off + 1, d, sizeof(d)));
}

/* Up to two quotes right after a closing delimiter belong to the string. */
static int
extra_quotes(struct parser *p, struct sbuf *sb, int q)
{
	int	 i;

	for (i = 0; i < 2 && peek(p) == q; i++) {
		if (sb_put(sb, p->buf + p->off, 1) == -1)
			return oom(p);
		p->off++;
	}
	return 0;
}

/* After a newline or a stray control character inside a string. */
static int
string_ctl(struct parser *p, struct sbuf *sb, int multi, struct toml_pos open)
{
	if (!iseol(p))
		return perr(p, here(p),
		    "invalid control character U+%04X in string", peek(p));
	if (!multi)
		return perr(p, open, "unterminated string");
	if (sb_put(sb, "\n", 1) == -1)
		return oom(p);
	eat_newline(p);
	return 0;
}

/*
 * A string in quote q ('"' basic, '\'' literal), single or multi-line;
 * the value is appended to sb.
 */
static int
parse_string(struct parser *p, struct sbuf *sb, int q, int multi)
{
	struct toml_pos	 open = here(p);
	size_t		 start;
	int		 c;

	p->off += multi ? 3 : 1;
	if (multi)
		eat_newline(p);
	for (;;) {
		start = p->off;
		while (p->off < p->len && (c = p->buf[p->off]) != q &&
		    !isctl(c) && !(c == '\\' && q == '"'))
			p->off++;
		if (p->off > start &&
		    sb_put(sb, p->buf + start, p->off - start) == -1)
			return oom(p);
		if ((c = peek(p)) == -1)
			return perr(p, open, "unterminated string");
		if (c == q && !multi) {
			p->off++;
			return 0;
		}
		if (c == q && peekat(p, 1) == q && peekat(p, 2) == q) {
			p->off += 3;
			return extra_quotes(p, sb, q);
		}
		if (c == q) {
			if (sb_put(sb, p->buf + p->off, 1) == -1)
				return oom(p);
			p->off++;
		} else if (c == '\\') {
			if (parse_escape(p, sb, multi, open) == -1)
				return -1;
		} else if (string_ctl(p, sb, multi, open) == -1)
			return -1;
	}
}

/*
 * Keys.
 */

static void
key_free(struct key *k)
{
	size_t	 i;

	for (i = 0; i < k->n; i++)
		free(k->seg[i].s);
	free(k->seg);
	memset(k, 0, sizeof(*k));
}

static int
parse_keypart(struct parser *p, struct key *k)
{
	struct keyseg	*ns;
	struct sbuf	 sb;
	struct toml_pos	 pos = here(p);
	size_t		 start;
	char		 d[40];
	int		 c = peek(p);

	memset(&sb, 0, sizeof(sb));
	if (k->n == k->cap) {
		if ((ns = grow(k->seg, k->cap, sizeof(*ns))) == NULL)
			return oom(p);
		k->seg = ns;
		k->cap = k->cap ? k->cap * 2 : 4;
	}
	if (isbare(c)) {
		for (start = p->off; isbare(peek(p)); p->off++)
			;
		if (sb_put(&sb, p->buf + start, p->off - start) == -1)
			return oom(p);
	} else if (c == '"' || c == '\'') {
		if (parse_string(p, &sb, c, 0) == -1 ||
		    (sb.s == NULL && sb_put(&sb, "", 0) == -1)) {
			free(sb.s);
			return p->failed ? -1 : oom(p);
		}
	} else
		return perr(p, pos, "expected a key, found %s",
		    describe(p, p->off, d, sizeof(d)));
	k->seg[k->n].s = sb.s;
	k->seg[k->n].len = sb.len;
	k->seg[k->n].pos = pos;
	k->n++;
	return 0;
}

/* A key, dotted or not, with the whitespace after it. */
static int
parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		if (k->n >= TOML_MAX_DEPTH)
			return perr(p, here(p), "key has more than %d parts",
			    TOML_MAX_DEPTH);
		if (parse_keypart(p, k) == -1)
			return -1;
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->off++;
		skip_ws(p);
	}
}

/*
 * The redefinition rules.
 */

static int
err_dup(struct parser *p, const struct keyseg *seg, const struct toml_kv *kv)
{
	char	 name[TOML_NAMELEN];

	quote_key(name, sizeof(name), seg->s, seg->len);
	return perr(p, seg->pos, "duplicate key %s (first defined at line %d)",
	    name, kv->pos.line);
}

static int
err_frozen(struct parser *p, const struct keyseg *seg,
    const struct toml_value *v)
{
	char	 name[TOML_NAMELEN];

	quote_key(name, sizeof(name), seg->s, seg->len);
	return perr(p, seg->pos, "cannot extend %s %s (defined at line %d)",
	    v->type == TOML_TABLE ? "inline table" : "array", name,
	    v->pos.line);
}

static int
err_depth(struct parser *p, struct toml_pos pos)
{
	return perr(p, pos, "nesting deeper than %d levels", TOML_MAX_DEPTH);
}

/* Create the table seg in tab, which lies at depth. */
static struct toml_value *
add_table(struct parser *p, struct toml_value *tab, int depth,
    const struct keyseg *seg)
{
	struct toml_value	*t;

	if (depth >= TOML_MAX_DEPTH) {
		err_depth(p, seg->pos);
		return NULL;
	}
	if ((t = newval(p, TOML_TABLE, seg->pos)) == NULL)
		return NULL;
	if (tab_add(p, tab, seg, t) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

/* Step through seg, not the last part of a [header], creating it if new. */
static struct toml_value *
header_step(struct parser *p, struct toml_value *tab, int *depth,
    const struct keyseg *seg)
{
	struct toml_kv		*kv;
	struct toml_value	*v;

	if ((kv = tab_find(p, tab, seg->s, seg->len)) == NULL) {
		if ((v = add_table(p, tab, *depth, seg)) != NULL)
			(*depth)++;
		return v;
	}
	v = kv->val;
	if (v->flags & TF_FROZEN)
		err_frozen(p, seg, v);
	else if (v->type == TOML_ARRAY) {
		/* A path through an array of tables means its last table. */
		*depth += 2;
		return v->u.arr.v[v->u.arr.n - 1];
	} else if (v->type == TOML_TABLE) {
		(*depth)++;
		return v;
	} else
		err_dup(p, seg, kv);
	return NULL;
}

/* Why [k] cannot define the table that kv already holds. */
static int
table_conflict(struct parser *p, const struct key *k, const struct toml_kv *kv)
{
	const struct keyseg	*seg = &k->seg[k->n - 1];
	const struct toml_value	*v = kv->val;
	char			 name[TOML_MSGLEN / 2];

	table_name(name, sizeof(name), k, k->n);
	if (v->flags & TF_FROZEN)
		return err_frozen(p, seg, v);
	if (v->type == TOML_ARRAY)
		return perr(p, seg->pos, "table [%s] conflicts with the array "
		    "of tables defined at line %d", name, v->pos.line);
	if (v->type != TOML_TABLE)
		return err_dup(p, seg, kv);
	if (v->flags & TF_HEADER)
		return perr(p, seg->pos, "duplicate table [%s] (first defined "
		    "at line %d)", name, v->pos.line);
	return perr(p, seg->pos, "table [%s] already defined by dotted keys "
	    "at line %d", name, v->pos.line);
}

static int
open_table(struct parser *p, const struct key *k, struct toml_pos pos)
{
	struct toml_value	*tab = p->root, *v;
	struct toml_kv		*kv;
	const struct keyseg	*seg = &k->seg[k->n - 1];
	int			 depth = 0;
	size_t			 i;

	for (i = 0; i + 1 < k->n; i++)
		if ((tab = header_step(p, tab, &depth, &k->seg[i])) == NULL)
			return -1;
	if ((kv = tab_find(p, tab, seg->s, seg->len)) == NULL) {
		if ((v = add_table(p, tab, depth, seg)) == NULL)
			return -1;
	} else if (kv->val->type != TOML_TABLE ||
	    (kv->val->flags & (TF_FROZEN | TF_CLOSED)))
		return table_conflict(p, k, kv);
	else
		v = kv->val;
	v->pos = pos;
	v->flags |= TF_HEADER | TF_CLOSED;
	p->cur = v;
	p->curdepth = depth + 1;
	return 0;
}

/* Why [[k]] cannot append to what kv already holds. */
static int
aot_conflict(struct parser *p, const struct key *k, const struct toml_kv *kv)
{
	const struct keyseg	*seg = &k->seg[k->n - 1];
	const struct toml_value	*v = kv->val;
	char			 name[TOML_MSGLEN / 2];

	if (v->type == TOML_ARRAY) {
		quote_key(name, sizeof(name), seg->s, seg->len);
		return perr(p, seg->pos, "cannot append to static array %s "
		    "(defined at line %d)", name, v->pos.line);
	}
	if (v->flags & TF_FROZEN)
		return err_frozen(p, seg, v);
	if (v->type != TOML_TABLE)
		return err_dup(p, seg, kv);
	table_name(name, sizeof(name), k, k->n);
	return perr(p, seg->pos, "array of tables [[%s]] conflicts with the "
	    "table defined at line %d", name, v->pos.line);
}

/* The array for [[k]]: the existing one, or a new one. */
static struct toml_value *
aot_array(struct parser *p, const struct key *k, struct toml_value *tab,
    int depth, struct toml_pos pos)
{
	const struct keyseg	*seg = &k->seg[k->n - 1];
	struct toml_kv		*kv;
	struct toml_value	*v;

	if ((kv = tab_find(p, tab, seg->s, seg->len)) != NULL) {
		if (kv->val->flags & TF_AOT)
			return kv->val;
		aot_conflict(p, k, kv);
		return NULL;
	}
	if (depth + 2 > TOML_MAX_DEPTH) {
		err_depth(p, seg->pos);
		return NULL;
	}
	if ((v = newval(p, TOML_ARRAY, pos)) == NULL)
		return NULL;
	v->flags = TF_AOT | TF_CLOSED;
	if (tab_add(p, tab, seg, v) == -1) {
		free(v);
		return NULL;
	}
	return v;
}

static int
open_aot(struct parser *p, const struct key *k, struct toml_pos pos)
{
	struct toml_value	*tab = p->root, *arr, *t;
	int			 depth = 0;
	size_t			 i;

	for (i = 0; i + 1 < k->n; i++)
		if ((tab = header_step(p, tab, &depth, &k->seg[i])) == NULL)
			return -1;
	if ((arr = aot_array(p, k, tab, depth, pos)) == NULL)
		return -1;
	if ((t = newval(p, TOML_TABLE, pos)) == NULL)
		return -1;
	t->flags = TF_HEADER | TF_CLOSED;
	if (arr_add(p, arr, t) == -1) {
		free(t);
		return -1;
	}
	p->cur = t;
	p->curdepth = depth + 2;
	return 0;
}

/* Tables opened by dotted keys stay open only for their own section. */
static void
close_pending(struct parser *p)
{
	size_t	 i;

	for (i = 0; i < p->npending; i++)
		p->pending[i]->flags = (p->pending[i]->flags & ~TF_PENDING) |
		    TF_CLOSED;
	p->npending = 0;
}

static int
add_pending(struct parser *p, struct toml_value *t)
{
	struct toml_value	**np;

	if (p->npending == p->pendcap) {
		if ((np = grow(p->pending, p->pendcap, sizeof(*np))) == NULL)
			return oom(p);
		p->pending = np;
		p->pendcap = p->pendcap ? p->pendcap * 2 : 4;
	}
	p->pending[p->npending++] = t;
	t->flags |= TF_PENDING;
	return 0;
}

/* Why dotted keys cannot go through what kv already holds. */
static int
dotted_conflict(struct parser *p, const struct keyseg *seg,
    const struct toml_kv *kv)
{
	const struct toml_value	*v = kv->val;
	char			 name[TOML_NAMELEN];

	if (v->flags & TF_FROZEN)
		return err_frozen(p, seg, v);
	if (v->type != TOML_TABLE && v->type != TOML_ARRAY)
		return err_dup(p, seg, kv);
	quote_key(name, sizeof(name), seg->s, seg->len);
	return perr(p, seg->pos, "cannot extend %s %s (defined at line %d) "
	    "with dotted keys", v->type == TOML_ARRAY ? "array of tables" :
	    "table", name, v->pos.line);
}

/* Step through seg, not the last part of a dotted key, creating it if new. */
static struct toml_value *
dotted_step(struct parser *p, struct toml_value *tab, int *depth,
    const struct keyseg *seg, int inl)
{
	struct toml_kv		*kv;
	struct toml_value	*v;

	if ((kv = tab_find(p, tab, seg->s, seg->len)) == NULL) {
		if ((v = add_table(p, tab, *depth, seg)) == NULL)
			return NULL;
	} else if (kv->val->type != TOML_TABLE ||
	    (kv->val->flags & (TF_FROZEN | TF_CLOSED))) {
		dotted_conflict(p, seg, kv);
		return NULL;
	} else {
		v = kv->val;
		if (!inl && !(v->flags & TF_PENDING))
			v->pos = seg->pos;	/* implicit until now */
	}
	if (!inl && !(v->flags & TF_PENDING) && add_pending(p, v) == -1)
		return NULL;
	(*depth)++;
	return v;
}

/* key = value, into tab at depth; inl inside an inline table. */
static int
parse_keyval(struct parser *p, struct toml_value *tab, int depth, int inl)
{
	struct key		 k;
	const struct keyseg	*last;
	struct toml_kv		*kv;
	struct toml_value	*v;
	char			 d[40];
	size_t			 i;
	int			 rc = -1;

	memset(&k, 0, sizeof(k));
	if (parse_key(p, &k) == -1)
		goto out;
	if (peek(p) != '=') {
		perr(p, here(p), "expected '=' after key, found %s",
		    describe(p, p->off, d, sizeof(d)));
		goto out;
	}
	p->off++;
	skip_ws(p);
	for (i = 0; i + 1 < k.n; i++)
		if ((tab = dotted_step(p, tab, &depth, &k.seg[i], inl)) == NULL)
			goto out;
	last = &k.seg[k.n - 1];
	if ((kv = tab_find(p, tab, last->s, last->len)) != NULL) {
		err_dup(p, last, kv);
		goto out;
	}
	if ((v = parse_value(p, depth + 1)) == NULL)
		goto out;
	if (tab_add(p, tab, last, v) == -1) {
		toml_free(v);
		goto out;
	}
	rc = 0;
out:
	key_free(&k);
	return rc;
}

/*
 * Values.
 */

static struct toml_value *
parse_string_value(struct parser *p)
{
	struct toml_value	*v;
	struct sbuf		 sb;
	struct toml_pos		 pos = here(p);
	int			 q = peek(p), multi;

	memset(&sb, 0, sizeof(sb));
	multi = peekat(p, 1) == q && peekat(p, 2) == q;
	if (parse_string(p, &sb, q, multi) == -1)
		goto fail;
	if (sb.s == NULL && sb_put(&sb, "", 0) == -1) {
		oom(p);
		goto fail;
	}
	if ((v = newval(p, TOML_STRING, pos)) == NULL)
		goto fail;
	v->u.str.s = sb.s;
	v->u.str.len = sb.len;
	return v;
fail:
	free(sb.s);
	return NULL;
}

static struct toml_value *
text_value(struct parser *p, enum toml_type type, size_t n)
{
	struct toml_value	*v;

	if ((v = newval(p, type, here(p))) == NULL)
		return NULL;
	if ((v->u.str.s = malloc(n + 1)) == NULL) {
		free(v);
		oom(p);
		return NULL;
	}
	memcpy(v->u.str.s, p->buf + p->off, n);
	v->u.str.s[n] = '\0';
	v->u.str.len = n;
	p->off += n;
	return v;
}

static struct toml_value *
float_value(struct parser *p, double f, size_t n)
{
	struct toml_value	*v;

	if ((v = newval(p, TOML_FLOAT, here(p))) == NULL)
		return NULL;
	v->u.f = f;
	p->off += n;
	return v;
}

static struct toml_value *
int_value(struct parser *p, int64_t i, size_t n)
{
	struct toml_value	*v;

	if ((v = newval(p, TOML_INTEGER, here(p))) == NULL)
		return NULL;
	v->u.i = i;
	p->off += n;
	return v;
}

/* true, false, inf, nan, or a string someone forgot to quote. */
static struct toml_value *
parse_word(struct parser *p)
{
	struct toml_value	*v;
	const char		*w = (const char *)p->buf + p->off;
	size_t			 n;

	for (n = 0; isbare(peekat(p, n)); n++)
		;
	if ((n == 4 && memcmp(w, "true", 4) == 0) ||
	    (n == 5 && memcmp(w, "false", 5) == 0)) {
		if ((v = newval(p, TOML_BOOLEAN, here(p))) == NULL)
			return NULL;
		v->u.b = n == 4;
		p->off += n;
		return v;
	}
	if (n == 3 && memcmp(w, "inf", 3) == 0)
		return float_value(p, INFINITY, 3);
	if (n == 3 && memcmp(w, "nan", 3) == 0)
		return float_value(p, NAN, 3);
	perr(p, here(p), "invalid value \"%.*s\" (strings must be quoted)",
	    n > 40 ? 40 : (int)n, w);
	return NULL;
}

/* w decimal digits at s[i]; -1 if they are not there. */
static int
num(const unsigned char *s, size_t n, size_t i, size_t w)
{
	int	 v = 0;
	size_t	 k;

	if (i + w > n)
		return -1;
	for (k = 0; k < w; k++) {
		if (!isdec(s[i + k]))
			return -1;
		v = v * 10 + s[i + k] - '0';
	}
	return v;
}

static int
sep(const unsigned char *s, size_t n, size_t i, int c)
{
	return i < n && s[i] == c;
}

/* The end of HH:MM:SS[.frac] at s[i], or 0 if it is not a valid time. */
static size_t
scan_time(const unsigned char *s, size_t n, size_t i)
{
	int	 h, m, sec;

	h = num(s, n, i, 2);
	m = num(s, n, i + 3, 2);
	sec = num(s, n, i + 6, 2);
	if (h < 0 || m < 0 || sec < 0 || !sep(s, n, i + 2, ':') ||
	    !sep(s, n, i + 5, ':') || h > 23 || m > 59 || sec > 59)
		return 0;
	i += 8;
	if (sep(s, n, i, '.')) {
		if (i + 1 >= n || !isdec(s[i + 1]))
			return 0;
		for (i++; i < n && isdec(s[i]); i++)
			;
	}
	return i;
}

static int
valid_date(const unsigned char *s, size_t n)
{
	static const int	 mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			 y, m, d;

	y = num(s, n, 0, 4);
	m = num(s, n, 5, 2);
	d = num(s, n, 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    !sep(s, n, 4, '-') || !sep(s, n, 7, '-'))
		return 0;
	if (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return 0;
	return 1;
}

/* Dates and date-times keep their text; only shape and ranges matter. */
static struct toml_value *
parse_datetime(struct parser *p)
{
	const unsigned char	*s = p->buf + p->off;
	size_t			 n = p->len - p->off, i = 10, e;
	int			 h, m;

	if (!valid_date(s, n)) {
		perr(p, here(p), "invalid date");
		return NULL;
	}
	/* A space separates a time only if a time follows it. */
	if (i < n && (s[i] == 'T' || s[i] == 't' ||
	    (s[i] == ' ' && i + 1 < n && isdec(s[i + 1])))) {
		if ((e = scan_time(s, n, i + 1)) == 0) {
			perr(p, posat(p, p->off + i + 1), "invalid time");
			return NULL;
		}
		i = e;
		if (i < n && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		else if (i < n && (s[i] == '+' || s[i] == '-')) {
			h = num(s, n, i + 1, 2);
			m = num(s, n, i + 4, 2);
			if (h < 0 || m < 0 || h > 23 || m > 59 ||
			    !sep(s, n, i + 3, ':')) {
				perr(p, posat(p, p->off + i),
				    "invalid time offset");
				return NULL;
			}
			i += 6;
		}
	}
	return text_value(p, TOML_DATETIME, i);
}

static struct toml_value *
parse_localtime(struct parser *p)
{
	size_t	 e;

	if ((e = scan_time(p->buf + p->off, p->len - p->off, 0)) == 0) {
		perr(p, here(p), "invalid time");
		return NULL;
	}
	return text_value(p, TOML_DATETIME, e);
}

/*
 * Skip [0-9](_?[0-9])* in base from s[i], as digits separated by single
 * underscores; *bad gets the offset of a misplaced underscore or of a
 * missing first digit.
 */
static size_t
scan_digits(const unsigned char *s, size_t n, size_t i, int base, size_t *bad)
{
	int	 v;

	*bad = SIZE_MAX;
	if (i >= n || (v = hex_value(s[i])) < 0 || v >= base) {
		*bad = i;
		return i;
	}
	for (i++; i < n; i++) {
		if (s[i] == '_') {
			if (i + 1 >= n || (v = hex_value(s[i + 1])) < 0 ||
			    v >= base) {
				*bad = i;
				return i;
			}
			i++;
		} else if ((v = hex_value(s[i])) < 0 || v >= base)
			break;
	}
	return i;
}

/* A misplaced underscore or a missing digit at s[bad]. */
static int
err_digits(struct parser *p, const unsigned char *s, size_t n, size_t bad,
    const char *what)
{
	struct toml_pos	 pos = posat(p, p->off + bad);

	if (bad < n && s[bad] == '_')
		return perr(p, pos, "'_' must be between two digits");
	return perr(p, pos, "expected %s", what);
}

/* 0x, 0o and 0b integers: never signed, at most INT64_MAX. */
static struct toml_value *
parse_based(struct parser *p)
{
	const unsigned char	*s = p->buf + p->off;
	size_t			 n = p->len - p->off, i, end, bad;
	uint64_t		 v = 0;
	int			 base, d;

	base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
	end = scan_digits(s, n, 2, base, &bad);
	if (bad != SIZE_MAX) {
		err_digits(p, s, n, bad, base == 16 ? "a hexadecimal digit" :
		    base == 8 ? "an octal digit" : "a binary digit");
		return NULL;
	}
	if (end < n && hex_value(s[end]) >= 0) {
		perr(p, posat(p, p->off + end), "invalid digit '%c' in %s "
		    "integer", s[end], base == 8 ? "octal" : "binary");
		return NULL;
	}
	for (i = 2; i < end; i++) {
		if ((d = hex_value(s[i])) < 0)
			continue;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base) {
			perr(p, here(p), "integer out of range");
			return NULL;
		}
		v = v * (uint64_t)base + (uint64_t)d;
	}
	return int_value(p, (int64_t)v, end);
}

static struct toml_value *
dec_int(struct parser *p, size_t end)
{
	const unsigned char	*s = p->buf + p->off;
	uint64_t		 v = 0, lim = INT64_MAX;
	size_t			 i;
	int			 neg = s[0] == '-';

	if (neg)
		lim = (uint64_t)INT64_MAX + 1;
	for (i = 0; i < end; i++) {
		if (!isdec(s[i]))
			continue;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10) {
			perr(p, here(p), "integer out of range");
			return NULL;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		return int_value(p, v == lim ? INT64_MIN : -(int64_t)v, end);
	return int_value(p, (int64_t)v, end);
}

static struct toml_value *
dec_float(struct parser *p, size_t end)
{
	struct toml_value	*v;
	char			*t;
	size_t			 i, o = 0;
	double			 f;

	if ((t = malloc(end + 1)) == NULL) {
		oom(p);
		return NULL;
	}
	for (i = 0; i < end; i++)
		if (p->buf[p->off + i] != '_')
			t[o++] = p->buf[p->off + i];
	t[o] = '\0';
	/* The syntax is checked already; strtod rounds, and overflows to inf. */
	f = strtod(t, NULL);
	free(t);
	v = float_value(p, f, end);
	return v;
}

/* The end of the fraction and exponent after s[i]; 0 after an error. */
static size_t
scan_fraction(struct parser *p, const unsigned char *s, size_t n, size_t i)
{
	size_t	 j, bad;

	if (sep(s, n, i, '.')) {
		i = scan_digits(s, n, i + 1, 10, &bad);
		if (bad != SIZE_MAX) {
			err_digits(p, s, n, bad, "a digit after '.'");
			return 0;
		}
	}
	if (sep(s, n, i, 'e') || sep(s, n, i, 'E')) {
		j = i + 1;
		if (sep(s, n, j, '+') || sep(s, n, j, '-'))
			j++;
		i = scan_digits(s, n, j, 10, &bad);
		if (bad != SIZE_MAX) {
			err_digits(p, s, n, bad, "a digit in the exponent");
			return 0;
		}
	}
	return i;
}

static struct toml_value *
parse_number(struct parser *p)
{
	const unsigned char	*s = p->buf + p->off;
	size_t			 n = p->len - p->off, i = 0, end, bad;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' ||
	    s[1] == 'b'))
		return parse_based(p);
	if (s[0] == '+' || s[0] == '-')
		i++;
	if (sep(s, n, i, '0')) {
		i++;
		if (i == 2 && (sep(s, n, i, 'x') || sep(s, n, i, 'o') ||
		    sep(s, n, i, 'b'))) {
			perr(p, here(p), "hexadecimal, octal and binary "
			    "integers take no sign");
			return NULL;
		}
		if (i < n && (isdec(s[i]) || s[i] == '_')) {
			perr(p, here(p), "leading zeros are not allowed");
			return NULL;
		}
	} else {
		i = scan_digits(s, n, i, 10, &bad);
		if (bad != SIZE_MAX) {
			err_digits(p, s, n, bad, "a digit");
			return NULL;
		}
	}
	if ((end = scan_fraction(p, s, n, i)) == 0)
		return NULL;
	if (end == i)
		return dec_int(p, end);
	return dec_float(p, end);
}

/* Values that start with a digit or a sign. */
static struct toml_value *
parse_numeric(struct parser *p)
{
	const unsigned char	*s = p->buf + p->off;
	size_t			 n = p->len - p->off;

	if (n >= 5 && isdec(s[0]) && isdec(s[1]) && isdec(s[2]) &&
	    isdec(s[3]) && s[4] == '-')
		return parse_datetime(p);
	if (n >= 3 && isdec(s[0]) && isdec(s[1]) && s[2] == ':')
		return parse_localtime(p);
	if (n >= 4 && (s[0] == '+' || s[0] == '-')) {
		if (memcmp(s + 1, "inf", 3) == 0)
			return float_value(p, s[0] == '-' ? -INFINITY :
			    INFINITY, 4);
		if (memcmp(s + 1, "nan", 3) == 0)
			return float_value(p, s[0] == '-' ? -NAN : NAN, 4);
	}
	return parse_number(p);
}

/* After an array element: returns ',' to go on or ']' to stop. */
static int
array_sep(struct parser *p, struct toml_pos open)
{
	char	 d[40];
	int	 c;

	if (skip_array_ws(p) == -1)
		return -1;
	if ((c = peek(p)) == ',' || c == ']')
		return c;
	if (c == -1)
		return perr(p, open, "unterminated array");
	return perr(p, here(p), "expected ',' or ']' after array element, "
	    "found %s", describe(p, p->off, d, sizeof(d)));
}

static struct toml_value *
parse_array(struct parser *p, int depth)
{
	struct toml_pos		 open = here(p);
	struct toml_value	*a, *v;
	int			 c;

	if ((a = newval(p, TOML_ARRAY, open)) == NULL)
		return NULL;
	a->flags = TF_FROZEN;
	p->off++;
	for (;;) {
		if (skip_array_ws(p) == -1)
			goto fail;
		if ((c = peek(p)) == ']')
			break;
		if (c == -1) {
			perr(p, open, "unterminated array");
			goto fail;
		}
		if ((v = parse_value(p, depth + 1)) == NULL)
			goto fail;
		if (arr_add(p, a, v) == -1) {
			toml_free(v);
			goto fail;
		}
		if ((c = array_sep(p, open)) == -1)
			goto fail;
		if (c == ']')
			break;
		p->off++;
	}
	p->off++;
	return a;
fail:
	toml_free(a);
	return NULL;
}

/* Say what stops an inline table here. */
static int
inline_err(struct parser *p, struct toml_pos open, const char *expected)
{
	char	 d[40];

	if (peek(p) == -1)
		return perr(p, open, "unterminated inline table");
	if (iseol(p))
		return perr(p, here(p), "newline in inline table (an inline "
		    "table must stay on one line)");
	return perr(p, here(p), "%s, found %s", expected,
	    describe(p, p->off, d, sizeof(d)));
}

static int
parse_inline_body(struct parser *p, struct toml_value *t, int depth,
    struct toml_pos open)
{
	int	 c;

	for (;;) {
		c = peek(p);
		if (!isbare(c) && c != '"' && c != '\'')
			return inline_err(p, open, "expected a key");
		if (parse_keyval(p, t, depth, 1) == -1)
			return -1;
		skip_ws(p);
		if (peek(p) == '}')
			return 0;
		if (peek(p) != ',')
			return inline_err(p, open, "expected ',' or '}' after "
			    "inline table entry");
		p->off++;
		skip_ws(p);
		if (peek(p) == '}')
			return perr(p, here(p), "trailing comma in inline table");
	}
}

static struct toml_value *
parse_inline(struct parser *p, int depth)
{
	struct toml_pos		 open = here(p);
	struct toml_value	*t;

	if ((t = newval(p, TOML_TABLE, open)) == NULL)
		return NULL;
	p->off++;
	skip_ws(p);
	if (peek(p) != '}' && parse_inline_body(p, t, depth, open) == -1) {
		toml_free(t);
		return NULL;
	}
	p->off++;
	t->flags = TF_FROZEN;
	return t;
}

static struct toml_value *
parse_value(struct parser *p, int depth)
{
	char	 d[40];
	int	 c = peek(p);

	if (c == '"' || c == '\'')
		return parse_string_value(p);
	if (c == '[' || c == '{') {
		if (depth > TOML_MAX_DEPTH) {
			err_depth(p, here(p));
			return NULL;
		}
		return c == '[' ? parse_array(p, depth) :
		    parse_inline(p, depth);
	}
	if (isdec(c) || c == '+' || c == '-')
		return parse_numeric(p);
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return parse_word(p);
	if (c == -1 || c == '#' || iseol(p))
		perr(p, here(p), "missing value");
	else
		perr(p, here(p), "expected a value, found %s",
		    describe(p, p->off, d, sizeof(d)));
	return NULL;
}

/*
 * The document.
 */

static int
parse_header(struct parser *p)
{
	struct key	 k;
	struct toml_pos	 pos = here(p);
	char		 d[40];
	int		 aot = peekat(p, 1) == '[', rc = -1;

	memset(&k, 0, sizeof(k));
	close_pending(p);
	p->off += aot ? 2 : 1;
	skip_ws(p);
	if (parse_key(p, &k) == -1)
		goto out;
	if (aot && (peek(p) != ']' || peekat(p, 1) != ']')) {
		if (peek(p) == ']')
			p->off++;
		perr(p, here(p), "expected ']]' after array of tables name, "
		    "found %s", describe(p, p->off, d, sizeof(d)));
		goto out;
	}
	if (!aot && peek(p) != ']') {
		perr(p, here(p), "expected ']' after table name, found %s",
		    describe(p, p->off, d, sizeof(d)));
		goto out;
	}
	p->off += aot ? 2 : 1;
	rc = aot ? open_aot(p, &k, pos) : open_table(p, &k, pos);
out:
	key_free(&k);
	return rc;
}

/* After a statement: optional whitespace and comment, then a line end. */
static int
end_of_line(struct parser *p, const char *after)
{
	char	 d[40];

	skip_ws(p);
	if (skip_comment(p) == -1)
		return -1;
	if (peek(p) == -1 || eat_newline(p))
		return 0;
	return perr(p, here(p), "expected end of line after %s, found %s",
	    after, describe(p, p->off, d, sizeof(d)));
}

static int
parse_document(struct parser *p)
{
	char	 d[40];
	int	 c;

	for (;;) {
		skip_ws(p);
		if ((c = peek(p)) == -1)
			return 0;
		if (c == '[') {
			if (parse_header(p) == -1 ||
			    end_of_line(p, "table header") == -1)
				return -1;
		} else if (isbare(c) || c == '"' || c == '\'') {
			if (parse_keyval(p, p->cur, p->curdepth, 0) == -1 ||
			    end_of_line(p, "value") == -1)
				return -1;
		} else if (c == '#' || iseol(p)) {
			if (end_of_line(p, "comment") == -1)
				return -1;
		} else
			return perr(p, here(p), "expected a key or a table "
			    "header, found %s", describe(p, p->off, d,
			    sizeof(d)));
	}
}

struct toml_value *
toml_parse(const char *buf, size_t len, const char *file, char *err,
    size_t errlen)
{
	struct parser	 p;
	struct toml_pos	 start;

	memset(&p, 0, sizeof(p));
	p.buf = (const unsigned char *)(buf != NULL ? buf : "");
	p.len = buf != NULL ? len : 0;
	p.file = file != NULL ? file : "<input>";
	p.err = err;
	p.errlen = errlen;
	p.line = 1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (check_utf8(&p) == -1)
		return NULL;
	/* Editors on some systems write a byte order mark; it means nothing. */
	if (p.len >= 3 && memcmp(p.buf, "\xef\xbb\xbf", 3) == 0)
		p.off = p.bol = 3;
	start.file = p.file;
	start.line = 1;
	start.col = 1;
	if ((p.root = newval(&p, TOML_TABLE, start)) == NULL)
		goto fail;
	p.cur = p.root;
	if (parse_document(&p) == -1)
		goto fail;
	free(p.slots);
	free(p.pending);
	return p.root;
fail:
	toml_free(p.root);
	free(p.slots);
	free(p.pending);
	return NULL;
}

static int
read_all(int fd, char **bufp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (cap - len < 4096) {
			if (cap >= TOML_MAX_FILE) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 16384;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return -1;
}

struct toml_value *
toml_parse_file(const char *path, char *err, size_t errlen)
{
	struct toml_value	*v;
	char			*buf;
	size_t			 len;
	int			 fd, rc, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	rc = read_all(fd, &buf, &len);
	saved = errno;
	close(fd);
	errno = saved;
	if (rc == -1)
		goto fail;
	v = toml_parse(buf, len, path, err, errlen);
	free(buf);
	return v;
fail:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
	return NULL;
}

void
toml_free(struct toml_value *v)
{
	size_t	 i;

	if (v == NULL)
		return;
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		free(v->u.str.s);
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			toml_free(v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++) {
			free(v->u.tab.kv[i].key);
			toml_free(v->u.tab.kv[i].val);
		}
		free(v->u.tab.kv);
		break;
	default:
		break;
	}
	free(v);
}

const struct toml_value *
toml_get(const struct toml_value *t, const char *key)
{
	size_t	 i, len;

	if (t == NULL || t->type != TOML_TABLE || key == NULL)
		return NULL;
	len = strlen(key);
	for (i = 0; i < t->u.tab.n; i++)
		if (t->u.tab.kv[i].keylen == len &&
		    memcmp(t->u.tab.kv[i].key, key, len) == 0)
			return t->u.tab.kv[i].val;
	return NULL;
}

const char *
toml_typename(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOLEAN:
		return "boolean";
	case TOML_DATETIME:
		return "datetime";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown";
}
