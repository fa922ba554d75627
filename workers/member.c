/*
 * Walking a record's top-level members without parsing it into a tree,
 * for body.c's projection and for the message properties a broker
 * transport takes from a record (its type, a Kafka key).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "member.h"

const char *
walk_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

const char *
walk_string_end(const char *p, const char *e)
{
	for (p++; p < e && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < e ? p + 1 : e;
}

const char *
walk_value_end(const char *p, const char *e)
{
	int	 depth = 0;

	if (p < e && *p == '"')
		return walk_string_end(p, e);
	if (p < e && *p != '{' && *p != '[') {
		while (p < e && !strchr(",}] \t\r\n", *p))
			p++;
		return p;
	}
	for (; p < e; p++) {
		if (*p == '"')
			p = walk_string_end(p, e) - 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
	return e;
}

/*
 * A member key as text, its length in *len: escapes are rare, and jansson
 * decodes them. Loaded as a string value, the key may hold \u0000, which
 * jansson refuses in a key.
 */
char *
walk_key(const char *p, const char *end, size_t *len)
{
	json_t	*j;
	char	*k = NULL;

	if (memchr(p, '\\', (size_t)(end - p)) == NULL) {
		*len = (size_t)(end - p) - 2;
		return strndup(p + 1, *len);
	}
	if ((j = json_loadb(p, (size_t)(end - p),
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) == NULL)
		return NULL;
	if (json_is_string(j)) {
		*len = json_string_length(j);
		if ((k = malloc(*len + 1)) != NULL)
			memcpy(k, json_string_value(j), *len + 1);
	}
	json_decref(j);
	return k;
}

const char *
walk_member(const char *p, const char *e, struct walk_member *m)
{
	m->k = p;
	m->kend = walk_string_end(p, e);
	m->v = walk_ws(walk_ws(m->kend, e) + 1, e);	/* past ':' */
	m->vend = walk_value_end(m->v, e);
	p = walk_ws(m->vend, e);
	if (p < e && *p == ',')
		p = walk_ws(p + 1, e);
	return p;
}

/* A string value's text into out: its length, or -1. */
static ssize_t
string_text(const char *p, const char *end, char *out, size_t outcap)
{
	char	*t;
	size_t	 n;

	if ((t = walk_key(p, end, &n)) == NULL)
		return -1;
	if (n > outcap) {
		free(t);
		return -1;
	}
	memcpy(out, t, n);
	free(t);
	return (ssize_t)n;
}

/* Is the key from k to kend (quotes included) name? */
static int
key_is(const char *k, const char *kend, const char *name)
{
	size_t	 n = strlen(name), len;
	char	*key;
	int	 same;

	if (memchr(k, '\\', (size_t)(kend - k)) == NULL)
		return (size_t)(kend - k) == n + 2 &&
		    memcmp(k + 1, name, n) == 0;
	if ((key = walk_key(k, kend, &len)) == NULL)
		return 0;
	same = len == n && memcmp(key, name, n) == 0;
	free(key);
	return same;
}

ssize_t
record_member(const char *rec, size_t len, const char *name, char *out,
    size_t outcap)
{
	const char		*e = rec + len, *p;
	const char		*found = NULL, *fend = NULL;
	struct walk_member	 m;

	p = walk_ws(rec, e);
	if (p >= e || *p != '{')
		return -1;
	p = walk_ws(p + 1, e);
	while (p < e && *p == '"') {
		p = walk_member(p, e, &m);
		if (key_is(m.k, m.kend, name)) {
			found = m.v;
			fend = m.vend;
		}
	}
	if (found == NULL || *found != '"')
		return -1;
	return string_text(found, fend, out, outcap);
}
