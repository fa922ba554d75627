/*
 * reqparse: the verdict of the ingest server's request reader on many
 * inputs, for t/request-diff.t. Each line of standard input is one
 * input in hexadecimal; each gives one line of JSON out, every byte
 * string in hexadecimal too.
 *
 *   reqparse		request heads: {"rc":N,"status":N,"method":H,
 *			"target":H,"minor":N,"keep_alive":N,"chunked":N,
 *			"clen":"N","expect":N,"fields":[[H,H],...]}
 *   reqparse -c	chunked bodies, fed whole: {"rc":N,"used":N,
 *			"out":H}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "util.h"

static void
put_hex(const char *p, size_t n)
{
	size_t	 i;

	putchar('"');
	for (i = 0; i < n; i++)
		printf("%02x", (unsigned char)p[i]);
	putchar('"');
}

static void
head(char *buf, size_t n)
{
	struct request	 r;
	long		 rc;
	size_t		 i;

	rc = req_parse(&r, buf, n);
	printf("{\"rc\":%ld", rc);
	if (rc == -1)
		printf(",\"status\":%u", r.status);
	if (rc <= 0) {
		printf("}\n");
		return;
	}
	printf(",\"method\":");
	put_hex(r.method, r.mlen);
	printf(",\"target\":");
	put_hex(r.target, r.tlen);
	printf(",\"minor\":%d,\"keep_alive\":%d,\"chunked\":%d,"
	    "\"clen\":\"%llu\",\"expect\":%d,\"fields\":[", r.minor,
	    r.keep_alive, r.chunked, (unsigned long long)r.clen,
	    r.expect_continue);
	for (i = 0; i < r.nfields; i++) {
		printf("%s[", i ? "," : "");
		put_hex(r.fields[i].name, r.fields[i].nlen);
		putchar(',');
		put_hex(r.fields[i].value, r.fields[i].vlen);
		putchar(']');
	}
	printf("]}\n");
}

static void
body(char *buf, size_t n)
{
	struct chunked	 c;
	size_t		 out = 0;
	int		 rc;

	memset(&c, 0, sizeof(c));
	rc = chunked_decode(&c, (unsigned char *)buf, &n, &out);
	printf("{\"rc\":%d,\"used\":%zu,\"out\":", rc, n);
	put_hex(buf, rc == -1 ? 0 : out);
	printf("}\n");
}

int
main(int argc, char *argv[])
{
	char	*line = NULL, *buf;
	size_t	 cap = 0, i, n;
	ssize_t	 len;
	int	 chunks = argc > 1 && strcmp(argv[1], "-c") == 0;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		n = (size_t)len / 2;
		/* Exactly the input's length, for ASan to see past it. */
		if ((buf = malloc(n ? n : 1)) == NULL)
			return 1;
		for (i = 0; i < n; i++)
			buf[i] = (char)(hex_value(line[2 * i]) << 4 |
			    hex_value(line[2 * i + 1]));
		if (chunks)
			body(buf, n);
		else
			head(buf, n);
		free(buf);
		fflush(stdout);
	}
	free(line);
	return 0;
}
