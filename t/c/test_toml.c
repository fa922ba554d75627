/*
 * Unit tests of the TOML parser: every construct with its values, every
 * class of error with its exact FILE:LINE:COL message, the nesting limit,
 * the positions kept in the tree, the corpus of t/data/toml, and the real
 * KumoMTA shaping file.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "toml.h"

#define KUMO_FIXTURE	"../shared/fixtures/kumomta-shaping.toml"
#define CORPUS		"t/data/toml"

static char	 err[1024];

static struct toml_value *
parse(const char *src)
{
	struct toml_value	*v;

	v = toml_parse(src, strlen(src), "t.toml", err, sizeof(err));
	if (v == NULL)
		diag("parse failed: %s", err);
	return v;
}

/*
 * The value at path: keys separated by '|', each optionally followed by
 * "#N" to take element N of an array.
 */
static const struct toml_value *
at(const struct toml_value *v, const char *path)
{
	char	 buf[256], *p, *part, *idx;
	size_t	 i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; v != NULL && (part = strsep(&p, "|")) != NULL;) {
		idx = strchr(part, '#');
		if (idx != NULL)
			*idx++ = '\0';
		if (*part != '\0' || idx == NULL)
			v = toml_get(v, part);
		while (v != NULL && idx != NULL) {
			i = strtoul(idx, &idx, 10);
			if (v->type != TOML_ARRAY || i >= v->u.arr.n)
				return NULL;
			v = v->u.arr.v[i];
			idx = *idx == '#' ? idx + 1 : NULL;
		}
	}
	return v;
}

static const struct toml_value *
typed(const struct toml_value *root, const char *path, enum toml_type t)
{
	const struct toml_value	*v = at(root, path);

	if (v == NULL)
		diag("%s: missing", path);
	else if (v->type != t) {
		diag("%s: %s, want %s", path, toml_typename(v->type),
		    toml_typename(t));
		v = NULL;
	}
	return v;
}

/* s with its control characters escaped, to keep TAP lines whole. */
static const char *
esc(const char *s)
{
	static char	 buf[512];
	size_t		 o = 0;

	for (; *s != '\0' && o + 8 < sizeof(buf); s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x",
			    (unsigned char)*s);
		else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
str_is(const struct toml_value *root, const char *path, const char *want)
{
	const struct toml_value	*v = typed(root, path, TOML_STRING);
	int			 same;

	same = v != NULL && v->u.str.len == strlen(want) &&
	    strcmp(v->u.str.s, want) == 0;
	ok(same, "%s = \"%s\"", path, esc(want));
	if (v != NULL && !same)
		diag("got \"%s\" (%zu bytes)", esc(v->u.str.s), v->u.str.len);
}

static void
int_is(const struct toml_value *root, const char *path, int64_t want)
{
	const struct toml_value	*v = typed(root, path, TOML_INTEGER);

	ok(v != NULL && v->u.i == want, "%s = %lld", path, (long long)want);
	if (v != NULL && v->u.i != want)
		diag("got %lld", (long long)v->u.i);
}

static void
float_is(const struct toml_value *root, const char *path, double want)
{
	const struct toml_value	*v = typed(root, path, TOML_FLOAT);
	int			 same;

	same = v != NULL && (isnan(want) ? isnan(v->u.f) : v->u.f == want &&
	    signbit(v->u.f) == signbit(want));
	ok(same, "%s = %.17g", path, want);
	if (v != NULL && !same)
		diag("got %.17g", v->u.f);
}

static void
bool_is(const struct toml_value *root, const char *path, int want)
{
	const struct toml_value	*v = typed(root, path, TOML_BOOLEAN);

	ok(v != NULL && v->u.b == want, "%s = %s", path,
	    want ? "true" : "false");
}

static void
dt_is(const struct toml_value *root, const char *path, const char *want)
{
	const struct toml_value	*v = typed(root, path, TOML_DATETIME);

	is_str(v ? v->u.str.s : NULL, want, "%s = %s", path, want);
}

/* Number of elements of an array or keys of a table. */
static void
count_is(const struct toml_value *root, const char *path, size_t want)
{
	const struct toml_value	*v = at(root, path);
	size_t			 n = 0;

	if (v != NULL && v->type == TOML_ARRAY)
		n = v->u.arr.n;
	else if (v != NULL && v->type == TOML_TABLE)
		n = v->u.tab.n;
	ok(v != NULL && n == want, "%s has %zu elements", path, want);
	if (v != NULL && n != want)
		diag("got %zu", n);
}

static void
type_is(const struct toml_value *root, const char *path, enum toml_type t)
{
	ok(typed(root, path, t) != NULL, "%s is a %s", path, toml_typename(t));
}

static void
errn_is(const char *src, size_t len, const char *want)
{
	struct toml_value	*v;

	v = toml_parse(src, len, "t.toml", err, sizeof(err));
	ok(v == NULL && strcmp(err, want) == 0, "error: %s", esc(want));
	if (v != NULL)
		diag("accepted");
	else if (strcmp(err, want) != 0)
		diag("got  %s", err);
	toml_free(v);
}

static void
err_is(const char *src, const char *want)
{
	errn_is(src, strlen(src), want);
}

static void
pos_is(struct toml_pos pos, int line, int col, const char *what)
{
	ok(pos.line == line && pos.col == col, "%s at %d:%d", what, line, col);
	if (pos.line != line || pos.col != col)
		diag("got %d:%d", pos.line, pos.col);
}

static void
test_keys(void)
{
	struct toml_value	*t;

	t = parse("key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\n"
	    "-_- = 5\ntrue = 6\n\"127.0.0.1\" = 7\n\"a b\" = 8\n"
	    "'lit \"q\"' = 9\n\"\" = 10\n\"t\\tb\\u00e9\" = 11\n"
	    "\"ʎǝʞ\" = 12\n");
	int_is(t, "key", 1);
	int_is(t, "bare_key", 2);
	int_is(t, "bare-key", 3);
	int_is(t, "1234", 4);
	int_is(t, "-_-", 5);
	int_is(t, "true", 6);
	int_is(t, "127.0.0.1", 7);
	int_is(t, "a b", 8);
	int_is(t, "lit \"q\"", 9);
	int_is(t, "", 10);
	int_is(t, "t\tbé", 11);
	int_is(t, "ʎǝʞ", 12);
	toml_free(t);

	t = parse("physical.color = \"orange\"\nphysical.shape = \"round\"\n"
	    "site.\"google.com\" = true\nfruit . flavor\t.\tx = 1\n"
	    "3.14159 = \"pi\"\na.b.c.d = 5\na.b.e = 6\n");
	str_is(t, "physical|color", "orange");
	str_is(t, "physical|shape", "round");
	bool_is(t, "site|google.com", 1);
	int_is(t, "fruit|flavor|x", 1);
	str_is(t, "3|14159", "pi");
	int_is(t, "a|b|c|d", 5);
	int_is(t, "a|b|e", 6);
	count_is(t, "a|b", 2);
	toml_free(t);

	/* A key may hold a NUL through an escape; keylen tells. */
	t = parse("\"a\\u0000b\" = 1\n");
	ok(t != NULL && t->u.tab.n == 1 && t->u.tab.kv[0].keylen == 3 &&
	    memcmp(t->u.tab.kv[0].key, "a\0b", 4) == 0,
	    "a key with an escaped NUL keeps its length");
	toml_free(t);
}

static void
test_strings(void)
{
	struct toml_value	*t;
	const struct toml_value	*v;

	t = parse("s = \"I'm a string. \\\"You can quote me\\\". "
	    "Name\\tJos\\u00E9\\nLocation\\tSF.\"\n"
	    "esc = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
	    "u = \"\\u20AC\\U0001F600\\U0010FFFF\"\n"
	    "raw = \"日本 é\ttab\"\n"
	    "empty = \"\"\nhash = \"# no comment\"\n"
	    "lit = 'C:\\Users\\nodejs\\templates'\n"
	    "lit2 = 'Tom \"Dubs\" Preston-Werner'\nlitempty = ''\n");
	str_is(t, "s", "I'm a string. \"You can quote me\". Name\tJos\xc3\xa9"
	    "\nLocation\tSF.");
	str_is(t, "esc", "\b\t\n\f\r\"\\");
	str_is(t, "u", "\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	str_is(t, "raw", "日本 é\ttab");
	str_is(t, "empty", "");
	str_is(t, "hash", "# no comment");
	str_is(t, "lit", "C:\\Users\\nodejs\\templates");
	str_is(t, "lit2", "Tom \"Dubs\" Preston-Werner");
	str_is(t, "litempty", "");
	toml_free(t);

	t = parse("nul = \"a\\u0000b\"\n");
	v = at(t, "nul");
	ok(v != NULL && v->u.str.len == 3 && memcmp(v->u.str.s, "a\0b", 4) == 0,
	    "an escaped NUL is kept, with the length");
	toml_free(t);

	t = parse("m1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
	    "m2 = \"\"\"\\\n    The quick \\\n\n    fox.\\\n    \"\"\"\n"
	    "m3 = \"\"\"a \\  \t\n   b\"\"\"\n"
	    "q1 = \"\"\"two \"\" quotes\"\"\"\n"
	    "q2 = \"\"\"\"quoted\"\"\"\"\n"
	    "q3 = \"\"\"\"\"\"\"\"\n"
	    "q4 = \"\"\"\"\"\"\n"
	    "e = \"\"\"\\t\\u00e9\"\"\"\n"
	    "l1 = '''\nfirst newline trimmed\n  kept'''\n"
	    "l2 = '''no \\escapes \"\"\" here'''\n"
	    "l3 = ''''quoted'''''\n"
	    "l4 = '''\n'''\n");
	str_is(t, "m1", "Roses are red\nViolets are blue");
	str_is(t, "m2", "The quick fox.");
	str_is(t, "m3", "a b");
	str_is(t, "q1", "two \"\" quotes");
	str_is(t, "q2", "\"quoted\"");
	str_is(t, "q3", "\"\"");
	str_is(t, "q4", "");
	str_is(t, "e", "\t\xc3\xa9");
	str_is(t, "l1", "first newline trimmed\n  kept");
	str_is(t, "l2", "no \\escapes \"\"\" here");
	str_is(t, "l3", "'quoted''");
	str_is(t, "l4", "");
	toml_free(t);

	/* CRLF reads as LF inside multi-line strings. */
	t = parse("m = \"\"\"\r\na\r\nb \\\r\n  c\"\"\"\r\nl = '''x\r\ny'''\r\n");
	str_is(t, "m", "a\nb c");
	str_is(t, "l", "x\ny");
	toml_free(t);
}

static void
test_integers(void)
{
	struct toml_value	*t;

	t = parse("a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\n"
	    "f = 5_349_221\ng = 1_2_3_4_5\nh = +0\ni = -0\n"
	    "max = 9223372036854775807\nmin = -9223372036854775808\n"
	    "h1 = 0xDEADBEEF\nh2 = 0xdead_beef\nhmax = 0x7FFFFFFFFFFFFFFF\n"
	    "h0 = 0x00\no1 = 0o01234567\no2 = 0o755\n"
	    "omax = 0o777777777777777777777\nb1 = 0b11010110\n"
	    "b2 = 0b0000_0001\n");
	int_is(t, "a", 99);
	int_is(t, "b", 42);
	int_is(t, "c", 0);
	int_is(t, "d", -17);
	int_is(t, "e", 1000);
	int_is(t, "f", 5349221);
	int_is(t, "g", 12345);
	int_is(t, "h", 0);
	int_is(t, "i", 0);
	int_is(t, "max", INT64_MAX);
	int_is(t, "min", INT64_MIN);
	int_is(t, "h1", 0xdeadbeef);
	int_is(t, "h2", 0xdeadbeef);
	int_is(t, "hmax", INT64_MAX);
	int_is(t, "h0", 0);
	int_is(t, "o1", 01234567);
	int_is(t, "o2", 0755);
	int_is(t, "omax", INT64_MAX);
	int_is(t, "b1", 0xd6);
	int_is(t, "b2", 1);
	toml_free(t);
}

static void
test_floats(void)
{
	struct toml_value	*t;

	t = parse("f1 = +1.0\nf2 = 3.1415\nf3 = -0.01\nf4 = 5e+22\n"
	    "f5 = 1e06\nf6 = -2E-2\nf7 = 6.626e-34\n"
	    "f8 = 224_617.445_991_228\nf9 = 1e1_0\nz = 0.0\npz = +0.0\n"
	    "nz = -0.0\nze = 0e0\ni1 = inf\ni2 = +inf\ni3 = -inf\n"
	    "n1 = nan\nn2 = +nan\nn3 = -nan\nbig = 1.7976931348623157e308\n"
	    "tiny = 5e-324\nhuge = 1e400\n");
	float_is(t, "f1", 1.0);
	float_is(t, "f2", 3.1415);
	float_is(t, "f3", -0.01);
	float_is(t, "f4", 5e22);
	float_is(t, "f5", 1e6);
	float_is(t, "f6", -2e-2);
	float_is(t, "f7", 6.626e-34);
	float_is(t, "f8", 224617.445991228);
	float_is(t, "f9", 1e10);
	float_is(t, "z", 0.0);
	float_is(t, "pz", 0.0);
	float_is(t, "nz", -0.0);
	float_is(t, "ze", 0.0);
	float_is(t, "i1", INFINITY);
	float_is(t, "i2", INFINITY);
	float_is(t, "i3", -INFINITY);
	float_is(t, "n1", NAN);
	float_is(t, "n2", NAN);
	float_is(t, "n3", NAN);
	float_is(t, "big", 1.7976931348623157e308);
	float_is(t, "tiny", 5e-324);
	float_is(t, "huge", INFINITY);
	toml_free(t);
}

static void
test_scalars(void)
{
	struct toml_value	*t;

	t = parse("t = true\nf = false\n"
	    "odt1 = 1979-05-27T07:32:00Z\n"
	    "odt2 = 1979-05-27T00:32:00-07:00\n"
	    "odt3 = 1979-05-27T00:32:00.999999-07:00\n"
	    "odt4 = 1979-05-27 07:32:00Z\n"
	    "odt5 = 1979-05-27t07:32:00z\n"
	    "ldt = 1979-05-27T07:32:00.5\n"
	    "ld = 1979-05-27\nleap = 2000-02-29\n"
	    "lt1 = 07:32:00\nlt2 = 00:32:00.999999\n"
	    "dc = 1979-05-27 # a comment, not a time\n"
	    "first = 0000-01-01 00:00:00Z\nlast = 9999-12-31 23:59:59\n");
	bool_is(t, "t", 1);
	bool_is(t, "f", 0);
	dt_is(t, "odt1", "1979-05-27T07:32:00Z");
	dt_is(t, "odt2", "1979-05-27T00:32:00-07:00");
	dt_is(t, "odt3", "1979-05-27T00:32:00.999999-07:00");
	dt_is(t, "odt4", "1979-05-27 07:32:00Z");
	dt_is(t, "odt5", "1979-05-27t07:32:00z");
	dt_is(t, "ldt", "1979-05-27T07:32:00.5");
	dt_is(t, "ld", "1979-05-27");
	dt_is(t, "leap", "2000-02-29");
	dt_is(t, "lt1", "07:32:00");
	dt_is(t, "lt2", "00:32:00.999999");
	dt_is(t, "dc", "1979-05-27");
	dt_is(t, "first", "0000-01-01 00:00:00Z");
	dt_is(t, "last", "9999-12-31 23:59:59");
	toml_free(t);
}

static void
test_arrays(void)
{
	struct toml_value	*t;

	t = parse("i = [ 1, 2, 3 ]\ne = []\nn = [ [ 1, 2 ], [\"a\", 'b'] ]\n"
	    "mixed = [ 0.1, \"s\", true, 1979-05-27, { x = 1 } ]\n"
	    "multi = [\n  1, # one\n  # alone\n  2\n  , 3, # trailing comma\n"
	    "] # after\n"
	    "blank = [\n\n]\n"
	    "crlf = [\r\n 1,\r\n 2\r\n]\n"
	    "action = [ {SetConfig={name=\"x\", value=1}} ]\n");
	count_is(t, "i", 3);
	int_is(t, "i#2", 3);
	count_is(t, "e", 0);
	int_is(t, "n#0#1", 2);
	str_is(t, "n#1#1", "b");
	float_is(t, "mixed#0", 0.1);
	str_is(t, "mixed#1", "s");
	bool_is(t, "mixed#2", 1);
	dt_is(t, "mixed#3", "1979-05-27");
	int_is(t, "mixed#4|x", 1);
	count_is(t, "multi", 3);
	int_is(t, "multi#2", 3);
	count_is(t, "blank", 0);
	int_is(t, "crlf#1", 2);
	str_is(t, "action#0|SetConfig|name", "x");
	int_is(t, "action#0|SetConfig|value", 1);
	toml_free(t);
}

static void
test_inline(void)
{
	struct toml_value	*t;

	t = parse("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
	    "e = {}\nsp = {   }\ntight={a=1,b=2}\n"
	    "animal = { type.name = \"pug\", type.age = 3 }\n"
	    "nested = { a = { b = { c = 1 } }, d = [ {z = 2} ] }\n"
	    "trigger = {Threshold=\"2/hr\"}\n");
	str_is(t, "name|first", "Tom");
	str_is(t, "name|last", "Preston-Werner");
	count_is(t, "e", 0);
	count_is(t, "sp", 0);
	int_is(t, "tight|b", 2);
	str_is(t, "animal|type|name", "pug");
	int_is(t, "animal|type|age", 3);
	int_is(t, "nested|a|b|c", 1);
	int_is(t, "nested|d#0|z", 2);
	str_is(t, "trigger|Threshold", "2/hr");
	toml_free(t);
}

static void
test_tables(void)
{
	struct toml_value	*t;

	t = parse("top = 1\n[table-1]\nkey1 = \"s\"\n[dog.\"tater.man\"]\n"
	    "type.name = \"pug\"\n[ g .  h  . i ]\n[ j . \"ʞ\" . 'l' ]\n"
	    "[x.y.z.w]\n[x]\nname = \"x\"\n"
	    "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
	    "[fruit.apple.texture]\nsmooth = true\n"
	    "[\"default\"]\nconnection_limit = 10\n"
	    "[\"example.com\".sources.\"my source name\"]\n"
	    "connection_limit = 5\n[empty]\n");
	int_is(t, "top", 1);
	str_is(t, "table-1|key1", "s");
	str_is(t, "dog|tater.man|type|name", "pug");
	type_is(t, "g|h|i", TOML_TABLE);
	type_is(t, "j|ʞ|l", TOML_TABLE);
	type_is(t, "x|y|z|w", TOML_TABLE);
	str_is(t, "x|name", "x");
	str_is(t, "fruit|apple|color", "red");
	bool_is(t, "fruit|apple|taste|sweet", 1);
	bool_is(t, "fruit|apple|texture|smooth", 1);
	int_is(t, "default|connection_limit", 10);
	int_is(t, "example.com|sources|my source name|connection_limit", 5);
	count_is(t, "empty", 0);
	/* Keys stay in the order they were first defined. */
	ok(t != NULL && strcmp(t->u.tab.kv[0].key, "top") == 0 &&
	    strcmp(t->u.tab.kv[t->u.tab.n - 1].key, "empty") == 0,
	    "keys in order of definition");
	toml_free(t);

	t = parse("[a.b.c]\nx = 1\n[a]\ny = 2\nb.w = 4\n[a.b.d]\nz = 3\n");
	int_is(t, "a|b|c|x", 1);
	int_is(t, "a|y", 2);
	int_is(t, "a|b|w", 4);
	int_is(t, "a|b|d|z", 3);
	toml_free(t);
}

static void
test_aot(void)
{
	struct toml_value	*t;

	t = parse("[[products]]\nname = \"Hammer\"\n[[products]]\n"
	    "[[products]]\nname = \"Nail\"\n"
	    "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n"
	    "[[fruits.varieties]]\nname = \"red delicious\"\n"
	    "[[fruits.varieties]]\nname = \"granny smith\"\n"
	    "[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\n"
	    "name = \"plantain\"\n[fruits.physical]\ncolor = \"yellow\"\n"
	    "[[\"default\".automation]]\nregex = \"one\"\n"
	    "[[\"default\".automation]]\nregex = \"two\"\n"
	    "[provider.\"yahoo\"]\nmatch = [{MXSuffix=\".yahoodns.net\"}]\n"
	    "[[provider.\"yahoo\".automation]]\n"
	    "regex = \"\\\\[TS?S04\\\\]\"\n");
	count_is(t, "products", 3);
	str_is(t, "products#0|name", "Hammer");
	count_is(t, "products#1", 0);
	str_is(t, "products#2|name", "Nail");
	count_is(t, "fruits", 2);
	str_is(t, "fruits#0|physical|color", "red");
	str_is(t, "fruits#0|varieties#1|name", "granny smith");
	str_is(t, "fruits#1|varieties#0|name", "plantain");
	str_is(t, "fruits#1|physical|color", "yellow");
	str_is(t, "default|automation#1|regex", "two");
	str_is(t, "provider|yahoo|match#0|MXSuffix", ".yahoodns.net");
	str_is(t, "provider|yahoo|automation#0|regex", "\\[TS?S04\\]");
	toml_free(t);
}

static void
test_layout(void)
{
	struct toml_value	*t;
	const char		 bom[] = "\xef\xbb\xbf" "a = 1\n";

	t = parse("# comment\n\t# indented\nk = \"v\" # end\n[t] # header\n"
	    "# ünïcödé\n[[a]] #\nx = 1 #\n#");
	str_is(t, "k", "v");
	int_is(t, "a#0|x", 1);
	toml_free(t);

	t = parse("a = 1\r\n[t]\r\nb = 'x'\r\n# c\r\n");
	int_is(t, "a", 1);
	str_is(t, "t|b", "x");
	toml_free(t);

	t = parse(bom);
	int_is(t, "a", 1);
	toml_free(t);

	t = parse("");
	ok(t != NULL && t->type == TOML_TABLE && t->u.tab.n == 0,
	    "an empty document is an empty table");
	toml_free(t);
	t = parse("a = 1");
	int_is(t, "a", 1);
	toml_free(t);

	t = toml_parse(NULL, 0, NULL, NULL, 0);
	ok(t != NULL, "NULL buffer, file and error buffer are accepted");
	toml_free(t);
	t = toml_parse("a = ", 4, NULL, NULL, 0);
	ok(t == NULL, "errors without an error buffer");
	t = toml_parse("a = ", 4, NULL, err, sizeof(err));
	is_str(err, "<input>:1:5: missing value", "no file name: <input>");
	t = toml_parse("a = ", 4, "t.toml", err, 12);
	is_str(err, "t.toml:1:5:", "a short error buffer truncates");
}

static void
test_positions(void)
{
	struct toml_value	*t;
	const struct toml_value	*v;

	t = parse("a = 1\n  b.c = \"x\"\n[t]\n\tk = [\n  1,\n  { z = 2 } ]\n"
	    "[[arr]]\n[[arr]]\nm = '''\n\n'''\nn = 3\n");
	if (t == NULL) {
		ok(0, "positions");
		return;
	}
	pos_is(t->pos, 1, 1, "the root");
	pos_is(t->u.tab.kv[0].pos, 1, 1, "key a");
	pos_is(t->u.tab.kv[0].val->pos, 1, 5, "value of a");
	pos_is(t->u.tab.kv[1].pos, 2, 3, "key b");
	v = at(t, "b");
	pos_is(v->u.tab.kv[0].pos, 2, 5, "key b.c");
	pos_is(v->u.tab.kv[0].val->pos, 2, 9, "value of b.c");
	pos_is(at(t, "t")->pos, 3, 1, "header [t]");
	pos_is(at(t, "t|k")->pos, 4, 6, "array k");
	pos_is(at(t, "t|k#0")->pos, 5, 3, "k[0]");
	pos_is(at(t, "t|k#1")->pos, 6, 3, "inline table k[1]");
	pos_is(at(t, "t|k#1|z")->pos, 6, 9, "k[1].z");
	pos_is(at(t, "arr#1")->pos, 8, 1, "second [[arr]]");
	pos_is(at(t, "arr#1|n")->pos, 12, 5, "a value after a multi-line string");
	ok(t->pos.file != NULL && strcmp(t->pos.file, "t.toml") == 0,
	    "positions name the file");
	toml_free(t);

	t = parse("[a.b]\n[a]\n");
	pos_is(at(t, "a")->pos, 2, 1, "an implicit table takes its header");
	toml_free(t);
}

static void
test_api(void)
{
	struct toml_value	*t;

	t = parse("a = 1\n");
	ok(toml_get(t, "b") == NULL, "toml_get: missing key");
	ok(toml_get(NULL, "a") == NULL, "toml_get: NULL table");
	ok(toml_get(at(t, "a"), "a") == NULL, "toml_get: not a table");
	toml_free(t);
	toml_free(NULL);
	is_str(toml_typename(TOML_STRING), "string", "typename string");
	is_str(toml_typename(TOML_INTEGER), "integer", "typename integer");
	is_str(toml_typename(TOML_FLOAT), "float", "typename float");
	is_str(toml_typename(TOML_BOOLEAN), "boolean", "typename boolean");
	is_str(toml_typename(TOML_DATETIME), "datetime", "typename datetime");
	is_str(toml_typename(TOML_ARRAY), "array", "typename array");
	is_str(toml_typename(TOML_TABLE), "table", "typename table");
}

static void
test_syntax_errors(void)
{
	err_is("a = 1\nb = 2\na = 3\n",
	    "t.toml:3:1: duplicate key \"a\" (first defined at line 1)");
	err_is("= 1\n",
	    "t.toml:1:1: expected a key or a table header, found '='");
	err_is("key \"value\"\n",
	    "t.toml:1:5: expected '=' after key, found '\"'");
	err_is("key\n= 1\n",
	    "t.toml:1:4: expected '=' after key, found end of line");
	err_is("a@b = 1\n", "t.toml:1:2: expected '=' after key, found '@'");
	err_is("a. = 1\n", "t.toml:1:4: expected a key, found '='");
	err_is("a = \n", "t.toml:1:5: missing value");
	err_is("a = # c\n", "t.toml:1:5: missing value");
	err_is("a = 1 b = 2\n",
	    "t.toml:1:7: expected end of line after value, found 'b'");
	err_is("a = hello\n",
	    "t.toml:1:5: invalid value \"hello\" (strings must be quoted)");
	err_is("a = True\n",
	    "t.toml:1:5: invalid value \"True\" (strings must be quoted)");
	err_is("a = .5\n", "t.toml:1:5: expected a value, found '.'");
	err_is("[a] b\n",
	    "t.toml:1:5: expected end of line after table header, found 'b'");
	err_is("[]\n", "t.toml:1:2: expected a key, found ']'");
	err_is("[a\n", "t.toml:1:3: expected ']' after table name, "
	    "found end of line");
	err_is("[[a]\n", "t.toml:1:5: expected ']]' after array of tables "
	    "name, found end of line");
	err_is("[[a] ]\n", "t.toml:1:5: expected ']]' after array of tables "
	    "name, found ' '");
	err_is("[ [a] ]\n", "t.toml:1:3: expected a key, found '['");
	err_is("a = 1\rb = 2\n", "t.toml:1:6: expected end of line after "
	    "value, found a carriage return without line feed");
	err_is("a = 1\n\xef\xbb\xbf" "b = 1\n", "t.toml:2:1: expected a key "
	    "or a table header, found '\xef\xbb\xbf' (U+FEFF)");
	err_is("a\t=\t\"x\"\t\t!\n", "t.toml:1:10: expected end of line after "
	    "value, found '!'");
	err_is("a = 1 \x01\n", "t.toml:1:7: expected end of line after value, "
	    "found control character U+0001");
	err_is("a = 1 日\n", "t.toml:1:7: expected end of line after value, "
	    "found '日' (U+65E5)");
	err_is("a = 1 \xf0\x9f\x98\x80\n", "t.toml:1:7: expected end of line "
	    "after value, found '\xf0\x9f\x98\x80' (U+1F600)");
	err_is("a = [ # \x01\n]\n", "t.toml:1:9: invalid control character "
	    "U+0001 in comment");
	err_is("a = [ 1 # \x02\n]\n", "t.toml:1:11: invalid control character "
	    "U+0002 in comment");
	err_is("a = \"x\" # ok\n b = 1\n\n\t  [t]  # ok\n  c = 'y'  z\n",
	    "t.toml:5:12: expected end of line after value, found 'z'");
}

static void
test_string_errors(void)
{
	err_is("a = \"abc\n", "t.toml:1:5: unterminated string");
	err_is("a = \"abc", "t.toml:1:5: unterminated string");
	err_is("a = 'abc\n", "t.toml:1:5: unterminated string");
	err_is("x = 1\na = \"\"\"abc\n\n", "t.toml:2:5: unterminated string");
	err_is("a = '''abc\n'' \n", "t.toml:1:5: unterminated string");
	err_is("\"a = 1\n", "t.toml:1:1: unterminated string");
	err_is("a = \"\\q\"\n", "t.toml:1:6: invalid escape sequence \\q");
	err_is("a = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence \\x");
	err_is("a = \"\\e\"\n", "t.toml:1:6: invalid escape sequence \\e");
	err_is("a = \"a\\ b\"\n", "t.toml:1:7: invalid escape sequence: '\\' "
	    "followed by ' '");
	err_is("a = \"\\uD800\"\n", "t.toml:1:6: invalid escape \\uD800: not "
	    "a Unicode scalar value");
	err_is("a = \"\\U00110000\"\n", "t.toml:1:6: invalid escape "
	    "\\U00110000: not a Unicode scalar value");
	err_is("a = \"\\u12\"\n", "t.toml:1:6: invalid escape \\u: expected 4 "
	    "hexadecimal digits");
	err_is("a = \"\\U1234567\"\n", "t.toml:1:6: invalid escape \\U: "
	    "expected 8 hexadecimal digits");
	err_is("a = \"\"\"x\n  \\  y\"\"\"\n", "t.toml:2:3: a line-ending "
	    "backslash must be followed only by whitespace");
	err_is("a = \"a\x01" "b\"\n",
	    "t.toml:1:7: invalid control character U+0001 in string");
	errn_is("a = \"a\0b\"\n", 10,
	    "t.toml:1:7: invalid control character U+0000 in string");
	err_is("a = \"a\x7f\"\n",
	    "t.toml:1:7: invalid control character U+007F in string");
	err_is("a = \"a\rb\"\n",
	    "t.toml:1:7: invalid control character U+000D in string");
	err_is("a = '''a\n\x1b'''\n",
	    "t.toml:2:1: invalid control character U+001B in string");
	err_is("a = \"\"\"a\"\"\"\"\"\"\n",
	    "t.toml:1:14: expected end of line after value, found '\"'");
	err_is("# a\x01\n", "t.toml:1:4: invalid control character U+0001 in "
	    "comment");
	err_is("a = 1 # \x7f\n", "t.toml:1:9: invalid control character U+007F "
	    "in comment");
	err_is("a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("a = 1\nb = \"\xc0\x80\"\n", "t.toml:2:6: invalid UTF-8");
	err_is("a = \"\xed\xa0\x80\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("a = \"\xf4\x90\x80\x80\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("# \xe6\x97", "t.toml:1:3: invalid UTF-8");
	err_is("a = \"\xe0\x80\x80\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("a = \"\xf0\x80\x80\x80\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("a = \"\xf5\x80\x80\x80\"\n", "t.toml:1:6: invalid UTF-8");
	err_is("a = \"\\", "t.toml:1:5: unterminated string");
	err_is("a = \"\"\"x\\  ", "t.toml:1:5: unterminated string");
	err_is("a = \"\"\"x\\\n\n", "t.toml:1:5: unterminated string");
}

static void
test_number_errors(void)
{
	err_is("a = 01\n", "t.toml:1:5: leading zeros are not allowed");
	err_is("a = -012\n", "t.toml:1:5: leading zeros are not allowed");
	err_is("a = 01.5\n", "t.toml:1:5: leading zeros are not allowed");
	err_is("a = 1__2\n", "t.toml:1:6: '_' must be between two digits");
	err_is("a = 1_\n", "t.toml:1:6: '_' must be between two digits");
	err_is("a = 1_.5\n", "t.toml:1:6: '_' must be between two digits");
	err_is("a = _1\n", "t.toml:1:5: expected a value, found '_'");
	err_is("a = 9223372036854775808\n", "t.toml:1:5: integer out of range");
	err_is("a = -9223372036854775809\n",
	    "t.toml:1:5: integer out of range");
	err_is("a = 0x8000000000000000\n", "t.toml:1:5: integer out of range");
	err_is("a = 0o1000000000000000000000\n",
	    "t.toml:1:5: integer out of range");
	err_is("a = 99999999999999999999999\n",
	    "t.toml:1:5: integer out of range");
	err_is("a = +0x1F\n", "t.toml:1:5: hexadecimal, octal and binary "
	    "integers take no sign");
	err_is("a = 0X1F\n",
	    "t.toml:1:6: expected end of line after value, found 'X'");
	err_is("a = 0x\n", "t.toml:1:7: expected a hexadecimal digit");
	err_is("a = 0o8\n", "t.toml:1:7: expected an octal digit");
	err_is("a = 0b102\n", "t.toml:1:9: invalid digit '2' in binary integer");
	err_is("a = 0o78\n", "t.toml:1:8: invalid digit '8' in octal integer");
	err_is("a = 0x_1\n", "t.toml:1:7: '_' must be between two digits");
	err_is("a = +\n", "t.toml:1:6: expected a digit");
	err_is("a = 1.\n", "t.toml:1:7: expected a digit after '.'");
	err_is("a = 1.e5\n", "t.toml:1:7: expected a digit after '.'");
	err_is("a = 1e\n", "t.toml:1:7: expected a digit in the exponent");
	err_is("a = 1e+\n", "t.toml:1:8: expected a digit in the exponent");
	err_is("a = 1e_5\n", "t.toml:1:7: '_' must be between two digits");
	err_is("a = 1.2.3\n",
	    "t.toml:1:8: expected end of line after value, found '.'");
	err_is("a = infinity\n",
	    "t.toml:1:5: invalid value \"infinity\" (strings must be quoted)");
	err_is("a = 2021-13-01\n", "t.toml:1:5: invalid date");
	err_is("a = 2021-02-29\n", "t.toml:1:5: invalid date");
	err_is("a = 1900-02-29\n", "t.toml:1:5: invalid date");
	err_is("a = 2021-04-31\n", "t.toml:1:5: invalid date");
	err_is("a = 2021-1-01\n", "t.toml:1:5: invalid date");
	err_is("a = 2021-01-01T24:00:00\n", "t.toml:1:16: invalid time");
	err_is("a = 2021-01-01 23:59:60\n", "t.toml:1:16: invalid time");
	err_is("a = 2021-01-01T23:59\n", "t.toml:1:16: invalid time");
	err_is("a = 2021-01-01T00:00:00.\n", "t.toml:1:16: invalid time");
	err_is("a = 2021-01-01T00:00:00+24:00\n",
	    "t.toml:1:24: invalid time offset");
	err_is("a = 2021-01-01T00:00:00+0100\n",
	    "t.toml:1:24: invalid time offset");
	err_is("a = 07:32\n", "t.toml:1:5: invalid time");
	err_is("a = 07:32:00Z\n",
	    "t.toml:1:13: expected end of line after value, found 'Z'");
}

static void
test_structure_errors(void)
{
	err_is("a = [1, 2\n", "t.toml:1:5: unterminated array");
	err_is("a = [1 2]\n", "t.toml:1:8: expected ',' or ']' after array "
	    "element, found '2'");
	err_is("a = [,1]\n", "t.toml:1:6: expected a value, found ','");
	err_is("a = [1,,2]\n", "t.toml:1:8: expected a value, found ','");
	err_is("a = {b = 1,}\n", "t.toml:1:12: trailing comma in inline table");
	err_is("a = {b = 1,\nc = 2}\n", "t.toml:1:12: newline in inline table "
	    "(an inline table must stay on one line)");
	err_is("a = {b = 1", "t.toml:1:5: unterminated inline table");
	err_is("a = {b = 1 c = 2}\n", "t.toml:1:12: expected ',' or '}' after "
	    "inline table entry, found 'c'");
	err_is("a = {, b = 1}\n", "t.toml:1:6: expected a key, found ','");
	err_is("a = {b = }\n", "t.toml:1:10: expected a value, found '}'");
	err_is("a = {b = 1, b = 2}\n",
	    "t.toml:1:13: duplicate key \"b\" (first defined at line 1)");
}

static void
test_redefinition_errors(void)
{
	err_is("[fruit]\na = 1\n\n[fruit]\n",
	    "t.toml:4:2: duplicate table [fruit] (first defined at line 1)");
	err_is("[a.b]\n[a]\n[ a . b ]\n",
	    "t.toml:3:7: duplicate table [a.b] (first defined at line 1)");
	err_is("[\"x y\".'z']\n[\"x y\".z]\n", "t.toml:2:8: duplicate table "
	    "[\"x y\".z] (first defined at line 1)");
	err_is("[fruit]\napple.color = \"red\"\n[fruit.apple]\n",
	    "t.toml:3:8: table [fruit.apple] already defined by dotted keys "
	    "at line 2");
	err_is("a.b = 1\n[a]\n",
	    "t.toml:2:2: table [a] already defined by dotted keys at line 1");
	err_is("[a.b]\nx = 1\n[a]\nb.y = 2\n", "t.toml:4:1: cannot extend "
	    "table \"b\" (defined at line 1) with dotted keys");
	err_is("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", "t.toml:4:3: cannot extend "
	    "table \"c\" (defined at line 1) with dotted keys");
	err_is("a = 1\na.b = 2\n",
	    "t.toml:2:1: duplicate key \"a\" (first defined at line 1)");
	err_is("a.b = 1\na = 2\n",
	    "t.toml:2:1: duplicate key \"a\" (first defined at line 1)");
	err_is("a = 1\n[a]\n",
	    "t.toml:2:2: duplicate key \"a\" (first defined at line 1)");
	err_is("a = 1\n[a.b]\n",
	    "t.toml:2:2: duplicate key \"a\" (first defined at line 1)");
	err_is("[a]\nb = 1\n[a.b]\n",
	    "t.toml:3:4: duplicate key \"b\" (first defined at line 2)");
	err_is("a = {}\n[a]\n",
	    "t.toml:2:2: cannot extend inline table \"a\" (defined at line 1)");
	err_is("[p]\nt = { n = 1 }\n[p.t.e]\n",
	    "t.toml:3:4: cannot extend inline table \"t\" (defined at line 2)");
	err_is("a = {b = 1}\na.c = 2\n",
	    "t.toml:2:1: cannot extend inline table \"a\" (defined at line 1)");
	err_is("a = {b = {c = 1}, b.d = 2}\n",
	    "t.toml:1:19: cannot extend inline table \"b\" (defined at line 1)");
	err_is("a = [1]\na.b = 2\n",
	    "t.toml:2:1: cannot extend array \"a\" (defined at line 1)");
	err_is("a = [{b = 1}]\n[a.c]\n",
	    "t.toml:2:2: cannot extend array \"a\" (defined at line 1)");
	err_is("a = [{}]\n[[a]]\n", "t.toml:2:3: cannot append to static "
	    "array \"a\" (defined at line 1)");
	err_is("a = {}\n[[a]]\n",
	    "t.toml:2:3: cannot extend inline table \"a\" (defined at line 1)");
	err_is("[[a]]\n[a]\n", "t.toml:2:2: table [a] conflicts with the "
	    "array of tables defined at line 1");
	err_is("[a]\n[[a]]\n", "t.toml:2:3: array of tables [[a]] conflicts "
	    "with the table defined at line 1");
	err_is("[a.b]\n[[a]]\n", "t.toml:2:3: array of tables [[a]] conflicts "
	    "with the table defined at line 1");
	err_is("a = 'x'\n[[a]]\n",
	    "t.toml:2:3: duplicate key \"a\" (first defined at line 1)");
	err_is("[[x.y]]\n[x]\ny.z = 1\n", "t.toml:3:1: cannot extend array of "
	    "tables \"y\" (defined at line 1) with dotted keys");
	err_is("[[a]]\nb = 1\n[[a]]\nb = 1\nb = 2\n",
	    "t.toml:5:1: duplicate key \"b\" (first defined at line 4)");
	err_is("a = 1\n[[a.b]]\n",
	    "t.toml:2:3: duplicate key \"a\" (first defined at line 1)");
	err_is("a = [1]\n[[a.b]]\n",
	    "t.toml:2:3: cannot extend array \"a\" (defined at line 1)");
	err_is("[a]\nb = 1\n[a.b.c]\n",
	    "t.toml:3:4: duplicate key \"b\" (first defined at line 2)");
	err_is("[[a]]\n[[a.b]]\n[a.b]\n", "t.toml:3:4: table [a.b] conflicts "
	    "with the array of tables defined at line 2");
	err_is("\"a\\u0000\\\"\" = 1\n\"a\\u0000\\\"\" = 2\n",
	    "t.toml:2:1: duplicate key \"a\\u0000\\\"\" (first defined at "
	    "line 1)");
}

/* n levels of brackets around a 1. */
static char *
nested(size_t n, char open, char close)
{
	char	*s;
	size_t	 i, o = 0;

	if ((s = malloc(2 * n * 7 + 16)) == NULL)
		return NULL;
	o += sprintf(s, "a = ");
	for (i = 0; i < n; i++)
		o += sprintf(s + o, open == '[' ? "[" : "{b=");
	s[o++] = '1';
	for (i = 0; i < n; i++)
		s[o++] = close;
	s[o++] = '\n';
	s[o] = '\0';
	return s;
}

/* A key of n parts, as a header ("[a.a...]") or a dotted key. */
static char *
longkey(size_t n, int header)
{
	char	*s;
	size_t	 i, o = 0;

	if ((s = malloc(2 * n + 16)) == NULL)
		return NULL;
	if (header)
		s[o++] = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			s[o++] = '.';
		s[o++] = 'a';
	}
	o += sprintf(s + o, header ? "]\n" : " = 1\n");
	return s;
}

/* [[a.a...]] of k parts, then [[...]] of k + m parts through it. */
static char *
aotpath(size_t k, size_t m)
{
	char	*s, *a, *b;

	if ((a = longkey(k, 1)) == NULL)
		return NULL;
	if ((b = longkey(k + m, 1)) == NULL || (s = malloc(strlen(a) +
	    strlen(b) + 8)) == NULL) {
		free(a);
		free(b);
		return NULL;
	}
	a[strlen(a) - 2] = '\0';
	b[strlen(b) - 2] = '\0';
	sprintf(s, "[%s]]\n[%s]]\n", a, b);
	free(a);
	free(b);
	return s;
}

static void
test_depth(void)
{
	struct toml_value	*t;
	char			*s;

	/* The root is level 0; a = [ is level 1. */
	s = nested(128, '[', ']');
	t = parse(s);
	ok(t != NULL, "128 nested arrays");
	toml_free(t);
	free(s);
	s = nested(129, '[', ']');
	err_is(s, "t.toml:1:133: nesting deeper than 128 levels");
	free(s);
	s = nested(100000, '[', ']');
	err_is(s, "t.toml:1:133: nesting deeper than 128 levels");
	free(s);
	s = nested(100000, '{', '}');
	err_is(s, "t.toml:1:389: nesting deeper than 128 levels");
	free(s);

	s = longkey(128, 1);
	t = parse(s);
	ok(t != NULL, "a header of 128 parts");
	toml_free(t);
	free(s);
	s = longkey(129, 1);
	err_is(s, "t.toml:1:258: key has more than 128 parts");
	free(s);
	s = longkey(128, 0);
	t = parse(s);
	ok(t != NULL, "a dotted key of 128 parts");
	toml_free(t);
	free(s);

	s = longkey(128, 1);
	strcat(s, "b.c = 1\n");
	err_is(s, "t.toml:2:1: nesting deeper than 128 levels");
	free(s);

	/* An array of tables and its table are two levels. */
	s = aotpath(64, 62);
	t = parse(s);
	ok(t != NULL, "arrays of tables nested to level 128");
	toml_free(t);
	free(s);
	s = aotpath(64, 63);
	err_is(s, "t.toml:2:255: nesting deeper than 128 levels");
	free(s);
}

/* Long names are cut in messages, never inside a UTF-8 character. */
static void
test_long_names(void)
{
	char	 src[1024], want[1024], name[400];
	size_t	 i;

	for (i = 0; i < 150; i++)
		memcpy(name + 2 * i, "é", 2);
	name[300] = '\0';
	snprintf(src, sizeof(src), "\"%s\" = 1\n\"%s\" = 2\n", name, name);
	/* Cut at 144 bytes of the name: 72 characters of 2 bytes. */
	snprintf(want, sizeof(want), "t.toml:2:1: duplicate key \"%.144s...\" "
	    "(first defined at line 1)", name);
	err_is(src, want);

	snprintf(src, sizeof(src), "[a.\"%s\".b]\n[a.\"%s\".b]\n", name, name);
	ok(toml_parse(src, strlen(src), "t.toml", err, sizeof(err)) == NULL &&
	    strncmp(err, "t.toml:2:307: duplicate table [a.\"", 34) == 0 &&
	    strstr(err, "...\".b] (first defined at line 1)") != NULL,
	    "a long table name is cut: %zu bytes", strlen(err));
}

static void
test_big(void)
{
	struct toml_value	*t;
	char			*s;
	size_t			 i, o = 0, n = 50000;

	/* Many keys in one table: the key index keeps this linear. */
	if ((s = malloc(n * 24 + 32)) == NULL)
		return;
	for (i = 0; i < n; i++)
		o += sprintf(s + o, "k%zu = %zu\n", i, i);
	t = parse(s);
	ok(t != NULL && t->u.tab.n == n, "%zu keys in one table", n);
	int_is(t, "k49999", 49999);
	toml_free(t);
	sprintf(s + o, "k777 = 1\n");
	err_is(s, "t.toml:50001:1: duplicate key \"k777\" (first defined at "
	    "line 778)");
	free(s);
}

static void
test_files(void)
{
	struct toml_value	*t;
	char			 want[256];

	t = toml_parse_file("t/data/toml/no-such-file.toml", err, sizeof(err));
	snprintf(want, sizeof(want), "t/data/toml/no-such-file.toml: %s",
	    strerror(ENOENT));
	ok(t == NULL && strcmp(err, want) == 0, "a missing file: %s", want);
	t = toml_parse_file(".", err, sizeof(err));
	snprintf(want, sizeof(want), ".: %s", strerror(EISDIR));
	ok(t == NULL && strcmp(err, want) == 0, "a directory: %s", want);
	if (access(CORPUS "/invalid/key-duplicate.toml", R_OK) == 0) {
		t = toml_parse_file(CORPUS "/invalid/key-duplicate.toml", err,
		    sizeof(err));
		is_str(err, CORPUS "/invalid/key-duplicate.toml:3:1: "
		    "duplicate key \"a\" (first defined at line 1)",
		    "errors from a file name it");
	} else
		ok(1, "# skip %s absent", CORPUS);
}

/* Every file of the corpus: the valid ones load, the invalid ones fail. */
static void
test_corpus(const char *kind, int valid)
{
	struct toml_value	*t;
	struct dirent		*de;
	DIR			*d;
	char			 path[512];
	size_t			 n = 0, bad = 0, len;

	snprintf(path, sizeof(path), "%s/%s", CORPUS, kind);
	if ((d = opendir(path)) == NULL) {
		ok(1, "# skip %s absent", path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".toml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", CORPUS, kind,
		    de->d_name);
		t = toml_parse_file(path, err, sizeof(err));
		n++;
		if ((t != NULL) != valid ||
		    (!valid && strncmp(err, path, strlen(path)) != 0)) {
			bad++;
			diag("%s: %s", path, t ? "accepted" : err);
		}
		toml_free(t);
	}
	closedir(d);
	ok(n > 0 && bad == 0, "%s: all %zu files %s", kind, n,
	    valid ? "load" : "fail with FILE:LINE:COL");
}

static void
test_kumomta(void)
{
	struct toml_value	*t;

	if (access(KUMO_FIXTURE, R_OK) == -1) {
		ok(1, "# skip %s absent", KUMO_FIXTURE);
		return;
	}
	t = toml_parse_file(KUMO_FIXTURE, err, sizeof(err));
	if (!ok(t != NULL, "the KumoMTA shaping file loads")) {
		diag("%s", err);
		return;
	}
	int_is(t, "default|connection_limit", 10);
	str_is(t, "default|max_connection_rate", "100/min");
	str_is(t, "default|remember_broken_tls", "3 days");
	bool_is(t, "generator.kumomta.internal|mx_rollup", 0);
	count_is(t, "default|automation", 1);
	count_is(t, "default|automation#0|regex", 5);
	str_is(t, "default|automation#0|regex#0", "Messages from "
	    "\\d+\\.\\d+\\.\\d+\\.\\d+ temporarily deferred");
	str_is(t, "default|automation#0|action#0|SetConfig|value", "1/minute");
	int_is(t, "default|automation#0|action#1|SetConfig|value", 1);
	str_is(t, "default|automation#0|duration", "90m");
	str_is(t, "provider|google|match#1|MXSuffix", ".googlemail.com");
	str_is(t, "provider|google|enable_tls", "Required");
	str_is(t, "provider|yahoo|automation#0|regex", "\\[TS?S04\\]");
	count_is(t, "comcast.net|automation", 2);
	str_is(t, "comcast.net|automation#0|action|SetConfig|value",
	    "10000/h");
	str_is(t, "comcast.net|automation#0|trigger|Threshold", "2/hr");
	str_is(t, "comcast.net|automation#1|trigger", "Immediate");
	count_is(t, "provider|mimecast|match", 3);
	int_is(t, "example.com|connection_limit", 3);
	int_is(t, "example.com|sources|my source name|connection_limit", 5);
	str_is(t, "http://127.0.0.1:8008.tsa.kumomta|connection_limit",
	    "local:5");
	int_is(t, "http://127.0.0.1:8008.tsa.kumomta|max_ready", 10000);
	str_is(t, "http://127.0.0.1:8008.tsa.kumomta|system_shutdown_timeout",
	    "30s");
	pos_is(at(t, "default")->pos, 56, 1, "[\"default\"]");
	toml_free(t);
}

int
main(void)
{
	test_keys();
	test_strings();
	test_integers();
	test_floats();
	test_scalars();
	test_arrays();
	test_inline();
	test_tables();
	test_aot();
	test_layout();
	test_positions();
	test_api();
	test_syntax_errors();
	test_string_errors();
	test_number_errors();
	test_structure_errors();
	test_redefinition_errors();
	test_depth();
	test_long_names();
	test_big();
	test_files();
	test_corpus("valid", 1);
	test_corpus("invalid", 0);
	test_kumomta();
	return done_testing();
}
