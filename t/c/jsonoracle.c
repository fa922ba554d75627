/*
 * jansson strays from RFC 8259 twice, and the scanner does not follow it:
 * it lets one raw NUL byte through after a number or a literal ("[1\0]"
 * loads), and it refuses \u0000 in a key even with JSON_ALLOW_NUL ("NUL
 * byte in object key not supported"). The first is handled by refusing
 * any raw NUL. For the second, the escape turns into \u0001 in every key
 * before jansson reads the input: in jansson's eyes the two escapes
 * differ in that rule alone, so what loads is exactly what RFC 8259
 * allows, and "type" is a key neither way.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonoracle.h"

#define ISWS(c)	((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/*
 * A string is a key when a ':' follows it; where that is wrong, the input
 * is no JSON with the escape or without. Strings end where jansson's
 * lexer ends them: at the first quote that no backslash escapes.
 */
static void
key_nul_escapes(char *p, size_t n)
{
	size_t	 i, s, j;

	for (i = 0; i < n; i++) {
		if (p[i] != '"')
			continue;
		for (s = i++; i < n && p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		for (j = i + 1; j < n && ISWS(p[j]); j++)
			;
		if (i >= n || j >= n || p[j] != ':')
			continue;
		for (j = s + 1; j < i; j++) {
			if (p[j] != '\\')
				continue;
			if (i - j > 5 && memcmp(p + j + 1, "u0000", 5) == 0)
				p[j + 5] = '1';
			j++;
		}
	}
}

json_t *
oracle_loadb(const char *p, size_t n, json_error_t *e)
{
	json_error_t	 own;
	json_t		*j;
	char		*copy;

	if (e == NULL)
		e = &own;
	if (memchr(p, '\0', n) != NULL)
		return NULL;
	if (memmem(p, n, "\\u0000", 6) == NULL)
		return json_loadb(p, n, JSON_ALLOW_NUL, e);
	if ((copy = malloc(n)) == NULL)
		abort();
	memcpy(copy, p, n);
	key_nul_escapes(copy, n);
	j = json_loadb(copy, n, JSON_ALLOW_NUL, e);
	free(copy);
	return j;
}
