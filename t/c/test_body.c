/*
 * Request bodies (workers/body.c): records joined in the hook's format,
 * and log_parameters projection, against examples and against jansson's
 * filtering of generated records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body.h"
#include "config.h"
#include "jsonoracle.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
mkrecs(struct proto_batch *b, struct proto_batch_rec *r, const char **recs,
    size_t n)
{
	size_t	 i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < n; i++) {
		r[i].id = i + 1;
		r[i].ptr = recs[i];
		r[i].len = strlen(recs[i]);
	}
	b->recs = r;
	b->n = (uint32_t)n;
}

static void
body_is(const struct hook *h, const char **recs, size_t n,
    const char *want, const char *what)
{
	struct proto_batch	 b;
	struct proto_batch_rec	 r[8];
	struct body		 body;
	char			*got;

	mkrecs(&b, r, recs, n);
	if (body_build(h, &b, &body) == -1) {
		ok(0, "%s", what);
		return;
	}
	got = strndup(body.ptr, body.len);
	is_str(got, want, "%s", what);
	free(got);
	body_free(&body);
}

static void
test_body(void)
{
	struct hook		 h;
	struct proto_batch	 b;
	struct proto_batch_rec	 r[1];
	struct body		 body;
	const char		*one[] = { "{ \"a\" : 1 }" };
	const char		*two[] = { "{\"a\":1}", "{\"b\":[2, 3]}" };
	const char		*nl[] = { "{\"a\":\n1,\r\n\"b\":\"x\\ny\"}" };

	memset(&h, 0, sizeof(h));
	h.format = FORMAT_JSON;
	mkrecs(&b, r, one, 1);
	ok(body_build(&h, &b, &body) == 0 && body.ptr == one[0] &&
	    body.len == strlen(one[0]) && body.buf == NULL,
	    "body json: one record is its own bytes, not copied");
	body_free(&body);
	body_is(&h, two, 2, "[{\"a\":1},{\"b\":[2, 3]}]",
	    "body json: two records are an array");
	h.format = FORMAT_NDJSON;
	body_is(&h, one, 1, "{ \"a\" : 1 }\n", "body ndjson: one line");
	body_is(&h, two, 2, "{\"a\":1}\n{\"b\":[2, 3]}\n",
	    "body ndjson: one line per record");
	body_is(&h, nl, 1, "{\"a\": 1,  \"b\":\"x\\ny\"}\n",
	    "body ndjson: line breaks between tokens become spaces");
}

static char	*p_meta[] = { "tenant_*", "campaign" };
static char	*p_hdrs[] = { "subject", "X-*" };

static void
lp_hook(struct hook *h, enum hook_format f)
{
	memset(h, 0, sizeof(*h));
	h->format = f;
	h->has_log_parameters = 1;
	h->lp_meta.v = p_meta;
	h->lp_meta.n = NELEM(p_meta);
	h->lp_headers.v = p_hdrs;
	h->lp_headers.n = NELEM(p_hdrs);
}

static void
project_is(const struct hook *h, const char *rec, const char *want,
    const char *what)
{
	body_is(h, &rec, 1, want, what);
}

/*
 * The oracle: jansson's tree with the same members removed. Its keys
 * have U+0001 where the record has \u0000 (jsonoracle.h), which matches
 * a pattern exactly when a NUL does: at no place.
 */
static void
oracle_filter(json_t *rec, const char *name, const struct patterns *p,
    int icase)
{
	json_t		*obj, *v;
	const char	*key;
	void		*tmp;

	if ((obj = json_object_get(rec, name)) == NULL || !json_is_object(obj))
		return;
	json_object_foreach_safe(obj, tmp, key, v) {
		(void)v;
		if (!body_match(p, key, strlen(key), icase))
			json_object_del(obj, key);
	}
}

static const char *gen_keys[] = { "campaign", "tenant_a", "tenant_", "x",
    "Subject", "SUBJECT", "X-Tag", "x-mailer", "other", "\\u0058-Esc",
    "ten\\u0061nt_b", "c\\\"q", "meta", "headers", "campaign\\u0000",
    "tenant_\\u0000", "X-\\u0000", "\\u0000X-", "sub\\u0000ject" };
static const char *gen_vals[] = { "1", "0.1", "-2.5e-3", "1e300", "true",
    "null", "\"s,}]\"", "\"\\\"\\\\\"", "[1,{\"a\":[]}]", "{\"meta\":{\"x\":1}}",
    "\"\xc3\xa9\"", "1234567890123456789", "\"a\\u0000b\"",
    "{\"\\u0000\":\"\\u0000\"}" };

static void
gen_ws(char **p, unsigned int *seed)
{
	static const char *ws[] = { "", "", " ", "\n", "\t ", "\r\n" };

	*p += sprintf(*p, "%s", ws[rand_r(seed) % 6]);
}

static void
gen_object(char **p, unsigned int *seed, int depth)
{
	int	 i, n = rand_r(seed) % 5;

	*p += sprintf(*p, "{");
	for (i = 0; i < n; i++) {
		gen_ws(p, seed);
		*p += sprintf(*p, "%s\"%s\"", i ? "," : "",
		    gen_keys[rand_r(seed) % NELEM(gen_keys)]);
		gen_ws(p, seed);
		*p += sprintf(*p, ":");
		gen_ws(p, seed);
		if (depth < 2 && rand_r(seed) % 3 == 0)
			gen_object(p, seed, depth + 1);
		else
			*p += sprintf(*p, "%s",
			    gen_vals[rand_r(seed) % NELEM(gen_vals)]);
		gen_ws(p, seed);
	}
	*p += sprintf(*p, "}");
}

/* Generated records: projection and jansson's filtering agree. */
static void
test_project_diff(void)
{
	struct hook	 h;
	json_t		*want, *got;
	char		 rec[8192], *p, *out;
	size_t		 len, n, bad = 0, changed = 0;
	unsigned int	 seed = 42;

	lp_hook(&h, FORMAT_JSON);
	for (n = 0; n < 20000; n++) {
		p = rec;
		gen_object(&p, &seed, 0);
		if ((want = oracle_loadb(rec, strlen(rec), NULL)) == NULL)
			continue;
		oracle_filter(want, "meta", &h.lp_meta, 0);
		oracle_filter(want, "headers", &h.lp_headers, 1);
		out = body_project(&h, rec, strlen(rec), &len);
		got = oracle_loadb(out ? out : rec, out ? len : strlen(rec),
		    NULL);
		if (!json_equal(want, got)) {
			if (bad++ == 0)
				diag("projection differs on %s", rec);
		}
		changed += out != NULL;
		json_decref(want);
		json_decref(got);
		free(out);
	}
	is_int((int64_t)bad, 0, "projection agrees with jansson's filtering "
	    "on 20000 generated records (%zu changed)", changed);
}

static void
test_project(void)
{
	struct hook	 h;
	struct patterns	 all = { (char *[]){ "*" }, 1 };
	struct patterns	 none = { NULL, 0 };
	char		*s;
	size_t		 len;
	const char	*two[] = {
		"{\"meta\":{\"x\":1,\"campaign\":\"c\"}}",
		"{\"z\":0, \"meta\" : {}}"
	};

	lp_hook(&h, FORMAT_JSON);
	project_is(&h, "{\"type\":\"Delivery\",\"meta\":{\"tenant_id\":\"t\","
	    "\"secret\":1,\"campaign\":\"c\",\"campaigns\":2,\"tenant_\":3},"
	    "\"headers\":{\"Subject\":\"hi\",\"From\":\"a@b\",\"x-mailer\":"
	    "\"m\",\"X-Tag\":\"t\",\"subjectx\":1},\"id\":5}",
	    "{\"type\":\"Delivery\",\"meta\":{\"tenant_id\":\"t\","
	    "\"campaign\":\"c\",\"tenant_\":3},\"headers\":{\"Subject\":"
	    "\"hi\",\"x-mailer\":\"m\",\"X-Tag\":\"t\"},\"id\":5}",
	    "project: prefix and exact meta keys, headers case-insensitively");
	project_is(&h, "{\"zeta\":1,\"meta\":{\"y\":1,\"campaign\":2,"
	    "\"a\":3,\"tenant_b\":4,\"tenant_a\":5},\"alpha\":[1,{\"k\":2,"
	    "\"c\":3}]}", "{\"zeta\":1,\"meta\":{\"campaign\":2,"
	    "\"tenant_b\":4,\"tenant_a\":5},\"alpha\":[1,{\"k\":2,\"c\":3}]}",
	    "project: key order kept");
	project_is(&h, "{\"meta\":{\"campaign\":\"\xc3\xa9t\xc3\xa9 \xe2\x82"
	    "\xac \xf0\x9f\x93\xa7\",\"x\":1},\"subject\":\"\\u00e9\"}",
	    "{\"meta\":{\"campaign\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f"
	    "\x93\xa7\"},\"subject\":\"\\u00e9\"}",
	    "project: non-ASCII and escapes kept as received");
	project_is(&h, "{\"meta\":{\"x\":0.1,\"campaign\":1e400000,"
	    "\"tenant_x\":-0.0},\"score\":0.1,\"big\":12345678901234567890}",
	    "{\"meta\":{\"campaign\":1e400000,\"tenant_x\":-0.0},"
	    "\"score\":0.1,\"big\":12345678901234567890}",
	    "project: numbers keep their exact text");
	project_is(&h, " { \"meta\" : { \"a\" : [1, {\"}\":\"]\"}] ,"
	    " \"campaign\" : \"x,y\" } , \"n\" : 1 } ",
	    "{\"meta\":{\"campaign\" : \"x,y\"},\"n\" : 1}",
	    "project: whitespace, nesting and brackets inside strings");
	project_is(&h, "{\"meta\":{\"a\":1,\"b\":2}}", "{\"meta\":{}}",
	    "project: every member dropped leaves an empty object");
	project_is(&h, "{\"headers\":{\"SUBJECT\":\"s\",\"\\u0058-Tag\":1,"
	    "\"Other\":2}}", "{\"headers\":{\"SUBJECT\":\"s\",\"\\u0058-Tag\":1}}",
	    "project: header names matched case-insensitively, escaped too");
	project_is(&h, "{\"type\" : \"Bounce\", \"headers\": {\"Subject\":1}}",
	    "{\"type\" : \"Bounce\", \"headers\": {\"Subject\":1}}",
	    "project: absent meta, nothing removed: bytes as they were");
	project_is(&h, "{\"meta\":\"str\",\"headers\":[1,{\"a\":1}]}",
	    "{\"meta\":\"str\",\"headers\":[1,{\"a\":1}]}",
	    "project: meta and headers that are not objects left as is");
	project_is(&h, "{\"meta\":{\"campaign\":1},\"nested\":{\"meta\":"
	    "{\"q\":1}},\"headers\":{\"Q\":2}}", "{\"meta\":{\"campaign\":1},"
	    "\"nested\":{\"meta\":{\"q\":1}},\"headers\":{}}",
	    "project: only the top-level objects");
	project_is(&h, "{\"meta\":{\"a\":1}", "{\"meta\":{\"a\":1}",
	    "project: a record that does not parse is sent as is");
	project_is(&h, "{\"meta\":{\"campaign\\u0000\":1,\"campaign\":"
	    "\"c\\u0000\",\"tenant_\\u0000x\":2,\"camp\\u0000aign\":3,"
	    "\"\\u0000\":4},\"headers\":{\"Subject\\u0000\":\"s\","
	    "\"subject\":\"a\\u0000b\",\"X-\\u0000\":\"x\",\"x\\u0000-y\":5},"
	    "\"v\\u0000\":\"\\u0000\"}", "{\"meta\":{\"campaign\":\"c\\u0000\","
	    "\"tenant_\\u0000x\":2},\"headers\":{\"subject\":\"a\\u0000b\","
	    "\"X-\\u0000\":\"x\"},\"v\\u0000\":\"\\u0000\"}",
	    "project: a key with \\u0000 is matched with its NUL, and "
	    "\\u0000 stays escaped");
	body_is(&h, two, 2, "[{\"meta\":{\"campaign\":\"c\"}},{\"z\":0, "
	    "\"meta\" : {}}]", "project: each record of an array");

	h.lp_meta = all;
	h.lp_headers = none;
	project_is(&h, "{\"meta\":{\"b\":1,\"a\":2},\"headers\":{\"H\":1}}",
	    "{\"meta\":{\"b\":1,\"a\":2},\"headers\":{}}",
	    "project: * keeps all, no patterns keep none");
	ok((s = body_project(&h, "{\"meta\":{\"a\":1}}", 16, &len)) == NULL,
	    "project: unchanged record not reserialized");
	free(s);

	lp_hook(&h, FORMAT_NDJSON);
	project_is(&h, "{\"meta\":{\"x\":1},\n\"a\":2}", "{\"meta\":{},"
	    "\"a\":2}\n", "project: ndjson");

	ok(body_match(&(struct patterns){ (char *[]){ "Ab*" }, 1 }, "abc",
	    3, 1) && !body_match(&(struct patterns){ (char *[]){ "Ab*" }, 1 },
	    "abc", 3, 0) && !body_match(&(struct patterns){ (char *[]){ "abc" },
	    1 }, "ab", 2, 0), "patterns: case and prefix");
	ok(!body_match(&(struct patterns){ (char *[]){ "abc" }, 1 },
	    "abc\0d", 5, 0) && !body_match(&(struct patterns){ (char *[]){
	    "abcd*" }, 1 }, "abc\0d", 5, 0) && body_match(&(struct patterns){
	    (char *[]){ "ab*" }, 1 }, "abc\0d", 5, 0) &&
	    body_match(&(struct patterns){ (char *[]){ "*" }, 1 }, "\0", 1, 0),
	    "patterns: a NUL in the key is matched as a byte of it");
}

int
main(void)
{
	test_body();
	test_project();
	test_project_diff();
	return done_testing();
}
