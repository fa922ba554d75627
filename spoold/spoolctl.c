/*
 * spoolctl: administer a running spoold through its control socket.
 *
 * Exit status: 0 done, 1 failed (message on standard error), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "jscan.h"

/* Injected files go in pieces of this size at most, cut at line ends. */
#define INJECT_CHUNK	(8U << 20)

struct buf {
	char	*p;
	size_t	 len;
};

static int	 json_out;
static const char *sock_path;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: spoolctl [-f config] [--json] command [args]\n"
	    "commands:\n"
	    "    status\n"
	    "    inject [file]\n");
	exit(2);
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list	 ap;

	fputs("spoolctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf	*b = arg;
	size_t		 n = size * nmemb;
	char		*p;

	if ((p = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, data, n);
	b->p = p;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* One request to the control socket; returns the HTTP status. */
static long
request(const char *method, const char *path, const char *body, size_t len,
    json_t **reply)
{
	struct curl_slist	*hdrs = NULL;
	struct buf		 b = { NULL, 0 };
	json_error_t		 jerr;
	CURL			*c;
	CURLcode		 rc;
	char			 url[256];
	long			 status = 0;

	if ((c = curl_easy_init()) == NULL)
		die("cannot initialise libcurl");
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "POST") == 0) {
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/x-ndjson");
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		die("cannot reach spoold at %s: %s (is spoold running?)",
		    sock_path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if ((*reply = json_loads(b.p ? b.p : "", 0, &jerr)) == NULL)
		die("spoold answered %ld with no JSON", status);
	free(b.p);
	return status;
}

static const char *
reply_error(json_t *reply)
{
	const char	*e = json_string_value(json_object_get(reply, "error"));

	return e ? e : "unknown error";
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int
cmd_status(int argc, char *argv[])
{
	json_t		*reply, *hooks, *h;
	const char	*name;
	long		 status;

	(void)argv;
	if (argc != 0)
		usage();
	if ((status = request("GET", "/status", NULL, 0, &reply)) != 200)
		die("status: %s", reply_error(reply));
	if (json_out) {
		json_dumpf(reply, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(reply);
		return 0;
	}
	hooks = json_object_get(reply, "hooks");
	printf("%-20s %9s %9s %9s %5s %9s %11s %9s %7s\n", "HOOK", "READY",
	    "DEFERRED", "INFLIGHT", "HELD", "DEAD", "DELIVERED", "FAILED",
	    "WORKERS");
	json_object_foreach(hooks, name, h) {
		printf("%-20s %9lld %9lld %9lld %5s %9lld %11lld %9lld %7lld\n",
		    name, num(h, "ready"), num(h, "deferred"),
		    num(h, "in_flight"),
		    json_is_true(json_object_get(h, "held")) ? "yes" : "no",
		    num(h, "dead"), num(h, "delivered"), num(h, "failed"),
		    num(h, "workers"));
	}
	json_decref(reply);
	return 0;
}

static void
read_all(FILE *fp, const char *name, struct buf *b)
{
	char	 chunk[65536];
	size_t	 n;
	char	*p;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((p = realloc(b->p, b->len + n)) == NULL)
			die("out of memory");
		memcpy(p + b->len, chunk, n);
		b->p = p;
		b->len += n;
	}
	if (ferror(fp))
		die("%s: %s", name, strerror(errno));
}

struct check {
	uint64_t	 max_record;
	size_t		 big;
	size_t		 n;
};

static int
check_rec(void *arg, size_t index, const struct jscan_rec *rec)
{
	struct check	*c = arg;

	c->n++;
	if (rec->len > c->max_record) {
		c->big = index;
		return 1;
	}
	return 0;
}

/*
 * Everything is checked before anything is sent, with the same scanner
 * and limit as spoold, so a bad record refuses the whole file.
 */
static void
inject_check(const struct buf *b, const char *name, uint64_t max_record)
{
	struct check	 c = { max_record, 0, 0 };
	struct jscan_err err;
	int		 rc;

	rc = jscan_ndjson_body(b->p, b->len, check_rec, &c, &err);
	if (rc == -1)
		die("%s: record %zu: %s (byte %zu); nothing injected", name,
		    err.index, err.msg, err.offset);
	if (rc != 0)
		die("%s: record %zu: larger than max_record_size (%llu "
		    "bytes); nothing injected", name, c.big,
		    (unsigned long long)max_record);
}

static size_t
chunk_end(const struct buf *b, size_t off, size_t chunk)
{
	size_t	 end = off + chunk;
	char	*nl;

	if (end >= b->len)
		return b->len;
	nl = memrchr(b->p + off, '\n', end - off);
	if (nl == NULL)		/* one record longer than a chunk */
		nl = memchr(b->p + end, '\n', b->len - end);
	return nl ? (size_t)(nl - b->p) + 1 : b->len;
}

static int
cmd_inject(int argc, char *argv[], const struct config *conf)
{
	struct buf	 b = { NULL, 0 };
	json_t		*reply;
	const char	*name = "standard input";
	FILE		*fp = stdin;
	json_int_t	 acc = 0, q = 0, d = 0;
	size_t		 off, end, chunk;
	long		 status;

	if (argc > 1)
		usage();
	if (argc == 1 && strcmp(argv[0], "-") != 0) {
		name = argv[0];
		if ((fp = fopen(name, "r")) == NULL)
			die("%s: %s", name, strerror(errno));
	}
	read_all(fp, name, &b);
	if (fp != stdin)
		fclose(fp);
	inject_check(&b, name, conf->max_record_size);
	chunk = conf->max_request_size < INJECT_CHUNK ?
	    conf->max_request_size : INJECT_CHUNK;
	for (off = 0; off < b.len || off == 0; off = end) {
		end = chunk_end(&b, off, chunk);
		status = request("POST", "/inject", b.p + off, end - off,
		    &reply);
		if (status != 200)
			die("%s: %s (%lld records injected before this)", name,
			    reply_error(reply), (long long)acc);
		acc += num(reply, "accepted");
		q += num(reply, "queued");
		d += num(reply, "discarded");
		json_decref(reply);
		if (end == b.len)
			break;
	}
	free(b.p);
	if (json_out)
		printf("{\"accepted\":%lld,\"queued\":%lld,\"discarded\":%lld}\n",
		    (long long)acc, (long long)q, (long long)d);
	else
		printf("injected %lld records: %lld queued, %lld discarded\n",
		    (long long)acc, (long long)q, (long long)d);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, &json_out, 1 },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*conf;
	const char	*path = CONFIG_PATH, *cmd;
	char		 err[1024];
	int		 ch, rc, i, j;

	/* --json may stand anywhere, also after the command's arguments. */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json_out = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	argc = j;
	/* "+": options end at the command; its own come after it. */
	while ((ch = getopt_long(argc, argv, "+f:", longopts, NULL)) != -1) {
		switch (ch) {
		case 0:
			break;
		case 'f':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if ((conf = config_load(path, err, sizeof(err))) == NULL)
		die("%s", err);
	sock_path = conf->control_socket;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd, "status") == 0)
		rc = cmd_status(argc - 1, argv + 1);
	else if (strcmp(cmd, "inject") == 0)
		rc = cmd_inject(argc - 1, argv + 1, conf);
	else
		usage();
	curl_global_cleanup();
	config_free(conf);
	return rc;
}
