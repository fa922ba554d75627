/*
 * libFuzzer harness for the ingest JSON scanner: jscan_document must
 * agree with its oracle, jansson's json_loadb with JSON_ALLOW_NUL and
 * \u0000 in keys (t/c/jsonoracle.c), on every input, jscan_record and
 * jscan_json_body with what the oracle makes of it, and the NDJSON
 * splitter with the oracle on each line. Any disagreement aborts, so that
 * libFuzzer keeps the input.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "jsonoracle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fail(const char *what, const char *p, size_t n)
{
	size_t	 i;

	fprintf(stderr, "jscan disagrees with its oracle: %s\ninput: \"",
	    what);
	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], stderr);
		else
			fprintf(stderr, "\\x%02x", (unsigned char)p[i]);
	}
	fprintf(stderr, "\"\n");
	abort();
}

static int
count_cb(void *arg, size_t index, const struct jscan_rec *rec)
{
	size_t	*n = arg;

	if (index != *n || rec->ptr == NULL)
		abort();
	(*n)++;
	return 0;
}

/* The "type" member as jscan reports it, from the oracle's tree. */
static void
check_type(const char *p, size_t n, json_t *j, const struct jscan_rec *rec)
{
	json_t	*t = json_object_get(j, "type");
	size_t	 len;

	if (t == NULL) {
		if (rec->type_state != JSCAN_TYPE_NONE)
			fail("type should be absent", p, n);
		return;
	}
	len = json_is_string(t) ? json_string_length(t) : JSCAN_TYPE_MAX;
	if (len >= JSCAN_TYPE_MAX) {
		if (rec->type_state != JSCAN_TYPE_OTHER)
			fail("type should be other", p, n);
		return;
	}
	if (rec->type_state != JSCAN_TYPE_STRING || rec->type_len != len ||
	    memcmp(rec->type, json_string_value(t), len) != 0 ||
	    rec->type[len] != '\0')
		fail("type differs", p, n);
}

static int
line_ok(const char *p, size_t n)
{
	json_t		*j;
	int		 r;

	j = oracle_loadb(p, n, NULL);
	r = j != NULL && json_is_object(j);
	json_decref(j);
	return r;
}

static void
check_ndjson(const char *p, size_t n)
{
	struct jscan_err	 err;
	const char		*end = p + n, *q = p, *eol, *ls, *le;
	size_t			 good = 0, got = 0;
	int			 want = 0, r;

	while (q < end) {
		if ((eol = memchr(q, '\n', (size_t)(end - q))) == NULL)
			eol = end;
		for (ls = q; ls < eol && (*ls == ' ' || *ls == '\t' ||
		    *ls == '\r'); ls++)
			;
		for (le = eol; le > ls && (le[-1] == ' ' || le[-1] == '\t' ||
		    le[-1] == '\r'); le--)
			;
		q = eol < end ? eol + 1 : end;
		if (ls == le)
			continue;
		if (!line_ok(ls, (size_t)(le - ls))) {
			want = -1;
			break;
		}
		good++;
	}
	r = jscan_ndjson_body(p, n, count_cb, &got, &err);
	if (r != want || got != good || (r != 0 && err.index != good))
		fail("ndjson body", p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data;
	struct jscan_err	 err;
	struct jscan_rec	 rec;
	json_t			*j, *v;
	size_t			 i, nrec = 0, want = 1;
	int			 body, r;

	j = oracle_loadb(p, size, NULL);
	if ((jscan_document(p, size, &err) == 0) != (j != NULL))
		fail(j ? "jscan_document rejects" : "jscan_document accepts",
		    p, size);
	r = jscan_record(p, size, &rec, &err);
	if ((r == 0) != (j != NULL && json_is_object(j)))
		fail("jscan_record", p, size);
	if (r == 0)
		check_type(p, size, j, &rec);
	body = j != NULL;
	if (j != NULL && json_is_array(j)) {
		want = json_array_size(j);
		json_array_foreach(j, i, v)
			if (!json_is_object(v))
				body = 0;
	}
	r = jscan_json_body(p, size, count_cb, &nrec, &err);
	if ((r == 0) != body || (r == 0 && nrec != want))
		fail("jscan_json_body", p, size);
	json_decref(j);
	check_ndjson(p, size);
	return 0;
}
