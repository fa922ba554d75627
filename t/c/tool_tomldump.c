/*
 * tomldump: print the parse of a TOML file as JSON in the tagged form of
 * toml-test, {"key":{"type":"integer","value":"1"}}, for t/toml-diff.t.
 *
 *   tomldump FILE	one document; errors go to standard error, exit 1
 *   tomldump -b	many documents on standard input, each as a decimal
 *			length, a newline and that many bytes; one line out
 *			for each, "ok JSON" or "error MESSAGE", so that the
 *			differential test need not start a process each
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

static void	dump(FILE *, const struct toml_value *);

static void
put_str(FILE *fp, const char *s, size_t len)
{
	unsigned char	 c;
	size_t		 i;

	putc('"', fp);
	for (i = 0; i < len; i++) {
		c = s[i];
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\u%04x", c);
			else
				putc(c, fp);
		}
	}
	putc('"', fp);
}

static void
put_leaf(FILE *fp, const char *type, const char *value, size_t len)
{
	fprintf(fp, "{\"type\":\"%s\",\"value\":", type);
	put_str(fp, value, len);
	putc('}', fp);
}

/* The toml-test type of a date or time, from the shape of its text. */
static const char *
datetime_type(const char *s, size_t len)
{
	size_t	 i;

	if (len >= 3 && s[2] == ':')
		return "time-local";
	if (len == 10)
		return "date-local";
	for (i = 19; i < len; i++)
		if (s[i] == 'Z' || s[i] == 'z' || s[i] == '+' || s[i] == '-')
			return "datetime";
	return "datetime-local";
}

static void
dump_scalar(FILE *fp, const struct toml_value *v)
{
	char	 buf[64];

	switch (v->type) {
	case TOML_STRING:
		put_leaf(fp, "string", v->u.str.s, v->u.str.len);
		break;
	case TOML_DATETIME:
		put_leaf(fp, datetime_type(v->u.str.s, v->u.str.len),
		    v->u.str.s, v->u.str.len);
		break;
	case TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->u.i);
		put_leaf(fp, "integer", buf, strlen(buf));
		break;
	case TOML_FLOAT:
		if (isnan(v->u.f))
			snprintf(buf, sizeof(buf), "nan");
		else if (isinf(v->u.f))
			snprintf(buf, sizeof(buf), "%sinf",
			    v->u.f < 0 ? "-" : "");
		else
			snprintf(buf, sizeof(buf), "%.17g", v->u.f);
		put_leaf(fp, "float", buf, strlen(buf));
		break;
	case TOML_BOOLEAN:
		put_leaf(fp, "bool", v->u.b ? "true" : "false",
		    v->u.b ? 4 : 5);
		break;
	default:
		break;
	}
}

static void
dump(FILE *fp, const struct toml_value *v)
{
	size_t	 i;

	if (v->type == TOML_ARRAY) {
		putc('[', fp);
		for (i = 0; i < v->u.arr.n; i++) {
			if (i > 0)
				putc(',', fp);
			dump(fp, v->u.arr.v[i]);
		}
		putc(']', fp);
	} else if (v->type == TOML_TABLE) {
		putc('{', fp);
		for (i = 0; i < v->u.tab.n; i++) {
			if (i > 0)
				putc(',', fp);
			put_str(fp, v->u.tab.kv[i].key, v->u.tab.kv[i].keylen);
			putc(':', fp);
			dump(fp, v->u.tab.kv[i].val);
		}
		putc('}', fp);
	} else
		dump_scalar(fp, v);
}

static int
batch(void)
{
	struct toml_value	*v;
	char			 err[1024], *buf;
	size_t			 len;

	while (scanf("%zu", &len) == 1 && getchar() == '\n') {
		if ((buf = malloc(len + 1)) == NULL ||
		    fread(buf, 1, len, stdin) != len) {
			free(buf);
			fprintf(stderr, "tomldump: short input\n");
			return 1;
		}
		if ((v = toml_parse(buf, len, "doc", err, sizeof(err))) ==
		    NULL)
			printf("error %s\n", err);
		else {
			fputs("ok ", stdout);
			dump(stdout, v);
			putchar('\n');
			toml_free(v);
		}
		free(buf);
	}
	return fflush(stdout) != 0;
}

int
main(int argc, char *argv[])
{
	struct toml_value	*v;
	char			 err[1024];

	if (argc == 2 && strcmp(argv[1], "-b") == 0)
		return batch();
	if (argc != 2) {
		fprintf(stderr, "usage: tomldump file | tomldump -b\n");
		return 2;
	}
	if ((v = toml_parse_file(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	dump(stdout, v);
	putchar('\n');
	toml_free(v);
	return fflush(stdout) != 0;
}
