/*
 * spoolctl: administer a running spoold through its control socket.
 *
 * Exit status: 0 done, 1 failed (message on standard error), 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "jscan.h"

/* Injected files go in pieces of this size at most, cut at line ends. */
#define INJECT_CHUNK	(8U << 20)
/* Ids go in the URL: this many per request keeps it well below 8 KiB. */
#define IDS_PER_REQUEST	256

struct buf {
	char	*p;
	size_t	 len;
};

/* A command's options: only those it allows are set. */
struct opts {
	const char	*hook;
	const char	*state;
	const char	*limit;
};

static int	 json_out;
static const char *sock_path;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: spoolctl [-f config] [--json] command [args]\n"
	    "commands:\n"
	    "    status\n"
	    "    list [hook] [--state ready|deferred|dead] [--limit N]\n"
	    "    show id\n"
	    "    inject [file]\n"
	    "    flush [hook]\n"
	    "    hold hook\n"
	    "    release hook\n"
	    "    requeue [hook] [id ...]\n"
	    "    delete id ...\n"
	    "    delete --hook hook --state dead\n"
	    "    reload\n");
	exit(2);
}

static void
vsay(const char *fmt, va_list ap)
{
	fputs("spoolctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2), noreturn))
bad_usage(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	usage();
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
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
	char			*url;
	long			 status = 0;

	if ((c = curl_easy_init()) == NULL)
		die("cannot initialise libcurl");
	if (asprintf(&url, "http://localhost%s", path) == -1)
		die("out of memory");
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
	free(url);
	/* A record's strings may hold \u0000. */
	if ((*reply = json_loads(b.p ? b.p : "", JSON_ALLOW_NUL, &jerr)) ==
	    NULL)
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

/*
 * Parse the options of the command argv[0], those in allowed ('h' --hook,
 * 's' --state, 'l' --limit) only; the arguments may come before, between
 * or after them. Returns the arguments, *argc of them.
 */
static char **
get_opts(int *argc, char *argv[], const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "hook", required_argument, NULL, 'h' },
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, i;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: start afresh, with this optstring */
	opterr = 0;
	while ((ch = getopt_long(*argc, argv, "", longopts, &i)) != -1) {
		if (ch == '?')
			bad_usage("%s: bad option: %s", argv[0],
			    argv[optind - 1]);
		if (strchr(allowed, ch) == NULL)
			bad_usage("%s: bad option: --%s", argv[0],
			    longopts[i].name);
		if (ch == 'h')
			o->hook = optarg;
		else if (ch == 's')
			o->state = optarg;
		else
			o->limit = optarg;
	}
	*argc -= optind;
	return argv + optind;
}

/* Spool ids are 1 to 16 hex digits; anything else is a usage error. */
static int
is_id(const char *s)
{
	size_t	 len = strlen(s);

	return len > 0 && len <= 16 &&
	    strspn(s, "0123456789abcdefABCDEF") == len;
}

static void
check_ids(int argc, char *argv[])
{
	int	 i;

	for (i = 0; i < argc; i++)
		if (!is_id(argv[i]))
			bad_usage("bad spool id: %s (1 to 16 hex digits)",
			    argv[i]);
}

/* Append "?key=value" or "&key=value" to the path in q, value escaped. */
static void
path_arg(struct buf *q, const char *key, const char *val)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			*p;

	if ((p = realloc(q->p, q->len + strlen(key) + 3 * strlen(val) +
	    3)) == NULL)
		die("out of memory");
	q->p = p;
	p += q->len;
	*p++ = strchr(q->p, '?') ? '&' : '?';
	p = stpcpy(p, key);
	*p++ = '=';
	for (; (c = *val) != '\0'; val++) {
		if (strchr("-._~", c) != NULL || (c < 0x80 && isalnum(c)))
			*p++ = c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	q->len = p - q->p;
}

static void
path_init(struct buf *q, const char *path, const char *hook)
{
	if ((q->p = strdup(path)) == NULL)
		die("out of memory");
	q->len = strlen(path);
	if (hook != NULL)
		path_arg(q, "hook", hook);
}

/* One request whose answer must be 2xx; returns the answer. */
static json_t *
call(const char *what, const char *method, struct buf *q)
{
	json_t	*reply;
	long	 status;

	status = request(method, q->p, NULL, 0, &reply);
	free(q->p);
	q->p = NULL;
	if (status < 200 || status > 299)
		die("%s: %s", what, reply_error(reply));
	return reply;
}

static void
print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
	putchar('\n');
}

/*
 * jansson cannot load a key that holds \u0000, so spoold sends such a
 * record as its text. Ingest checked that text: it is printed as the
 * object it is. NULL when the record is no such text.
 */
static const char *
record_text(json_t *rec, size_t *len)
{
	struct jscan_rec	 r;

	if (!json_is_string(rec))
		return NULL;
	*len = json_string_length(rec);
	if (jscan_record(json_string_value(rec), *len, &r, NULL) != 0)
		return NULL;
	return json_string_value(rec);
}

/* Line breaks can only be between tokens: inside strings JSON escapes them. */
static void
print_one_line(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		putchar(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
}

/* Local time of unix seconds, or "-" when there is none. */
static const char *
fmt_time(json_t *v, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t;

	if (!json_is_integer(v))
		return "-";
	t = (time_t)json_integer_value(v);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return "-";
	return buf;
}

/* A hook's answer on one line of a table: control characters go. */
static void
print_answer(json_t *v)
{
	const char	*s = json_string_value(v);

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	putchar('\n');
}

static void
print_state(json_t *e, const char *id)
{
	char	 t[32];

	if (id != NULL)
		printf("%-16s ", id);
	printf("%-20s %-8s %8lld %-19s ",
	    json_string_value(json_object_get(e, "hook")),
	    json_string_value(json_object_get(e, "state")),
	    (long long)num(e, "attempts"),
	    fmt_time(json_object_get(e, "next_attempt"), t, sizeof(t)));
	print_answer(json_object_get(e, "last_answer"));
}

static int
cmd_status(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	json_t		*reply, *hooks, *h;
	const char	*name;
	long		 status;

	(void)conf;
	get_opts(&argc, argv, "", &o);
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
	struct opts	 o;

	argv = get_opts(&argc, argv, "", &o);
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

static int
cmd_list(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply, *e;
	size_t		 i;

	(void)conf;
	argv = get_opts(&argc, argv, "sl", &o);
	if (argc > 1)
		usage();
	if (o.state != NULL && strcmp(o.state, "ready") != 0 &&
	    strcmp(o.state, "deferred") != 0 && strcmp(o.state, "dead") != 0)
		bad_usage("list: --state takes ready, deferred or dead");
	if (o.limit != NULL && (*o.limit == '\0' ||
	    strspn(o.limit, "0123456789") != strlen(o.limit)))
		bad_usage("list: --limit takes a number, 0 for all");
	path_init(&q, "/list", argc ? argv[0] : NULL);
	if (o.state != NULL)
		path_arg(&q, "state", o.state);
	if (o.limit != NULL)
		path_arg(&q, "limit", o.limit);
	reply = call("list", "GET", &q);
	if (json_out)
		print_json(reply);
	else {
		printf("%-16s %-20s %-8s %8s %-19s %s\n", "ID", "HOOK", "STATE",
		    "ATTEMPTS", "NEXT_ATTEMPT", "LAST_ANSWER");
		json_array_foreach(reply, i, e)
			print_state(e, json_string_value(json_object_get(e,
			    "id")));
	}
	json_decref(reply);
	return 0;
}

static void
print_record(json_t *reply)
{
	json_t		*rec = json_object_get(reply, "record"), *e;
	const char	*text;
	size_t		 i, len;
	char		 t[32];

	printf("id:       %s\n", json_string_value(json_object_get(reply,
	    "id")));
	printf("received: %s\n", fmt_time(json_object_get(reply, "received"),
	    t, sizeof(t)));
	fputs("record:   ", stdout);
	if ((text = record_text(rec, &len)) != NULL) {
		print_one_line(text, len);
		putchar('\n');
	} else if (json_is_string(rec))
		puts(json_string_value(rec));
	else
		print_json(rec);
	printf("\n%-20s %-8s %8s %-19s %s\n", "HOOK", "STATE", "ATTEMPTS",
	    "NEXT_ATTEMPT", "LAST_ANSWER");
	json_array_foreach(json_object_get(reply, "hooks"), i, e)
		print_state(e, NULL);
}

/* print_json, with a record that came as its text put as it is. */
static void
print_show_json(json_t *reply)
{
	json_t		*v;
	const char	*key, *text;
	size_t		 len;
	int		 first = 1;

	if ((text = record_text(json_object_get(reply, "record"),
	    &len)) == NULL) {
		print_json(reply);
		return;
	}
	putchar('{');
	json_object_foreach(reply, key, v) {
		printf("%s\"%s\":", first ? "" : ",", key);
		first = 0;
		if (strcmp(key, "record") == 0)
			print_one_line(text, len);
		else
			json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	puts("}");
}

static int
cmd_show(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply;

	(void)conf;
	argv = get_opts(&argc, argv, "", &o);
	if (argc != 1)
		usage();
	check_ids(argc, argv);
	path_init(&q, "/show", NULL);
	path_arg(&q, "id", argv[0]);
	reply = call("show", "GET", &q);
	if (json_out)
		print_show_json(reply);
	else
		print_record(reply);
	json_decref(reply);
	return 0;
}

/* Print {"key":n}, or the sentence. */
static void
print_count(const char *key, json_int_t n, const char *verb)
{
	if (json_out)
		printf("{\"%s\":%lld}\n", key, (long long)n);
	else
		printf("%s %lld record%s\n", verb, (long long)n,
		    n == 1 ? "" : "s");
}

static int
cmd_flush(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply;

	(void)conf;
	argv = get_opts(&argc, argv, "", &o);
	if (argc > 1)
		usage();
	path_init(&q, "/flush", argc ? argv[0] : NULL);
	reply = call("flush", "POST", &q);
	print_count("flushed", num(reply, "flushed"), "flushed");
	json_decref(reply);
	return 0;
}

static int
set_held(int argc, char *argv[], const char *what)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply;
	int		 held;

	argv = get_opts(&argc, argv, "", &o);
	if (argc != 1)
		usage();
	path_init(&q, what, argv[0]);
	reply = call(what + 1, "POST", &q);
	held = json_is_true(json_object_get(reply, "held"));
	if (json_out)
		print_json(reply);
	else
		printf("hook %s %s\n", argv[0], held ? "held" : "released");
	json_decref(reply);
	return 0;
}

static int
cmd_hold(int argc, char *argv[], const struct config *conf)
{
	(void)conf;
	return set_held(argc, argv, "/hold");
}

static int
cmd_release(int argc, char *argv[], const struct config *conf)
{
	(void)conf;
	return set_held(argc, argv, "/release");
}

/*
 * POST path?hook=HOOK&state=STATE&id=... with the ids in pieces (all at
 * once when there are none); returns the sum of the answers' key.
 */
static json_int_t
post_ids(const char *what, const char *hook, const char *state,
    char *ids[], int n, const char *key)
{
	struct buf	 q;
	json_t		*reply;
	json_int_t	 sum = 0;
	int		 off = 0, i;

	do {
		path_init(&q, what, hook);
		if (state != NULL)
			path_arg(&q, "state", state);
		for (i = off; i < n && i < off + IDS_PER_REQUEST; i++)
			path_arg(&q, "id", ids[i]);
		reply = call(what + 1, "POST", &q);
		sum += num(reply, key);
		json_decref(reply);
		off = i;
	} while (off < n);
	return sum;
}

/*
 * The first argument is a hook when the configuration names it or when
 * it cannot be a spool id; a hook named like an id needs configuring.
 */
static int
cmd_requeue(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	const char	*hook = NULL;
	json_int_t	 n;

	argv = get_opts(&argc, argv, "", &o);
	if (argc > 0 && (config_hook(conf, argv[0]) != NULL ||
	    !is_id(argv[0]))) {
		hook = argv[0];
		argc--;
		argv++;
	}
	check_ids(argc, argv);
	n = post_ids("/requeue", hook, NULL, argv, argc, "requeued");
	print_count("requeued", n, "requeued");
	if (argc > 0 && n == 0)
		die("requeue: none of the records given is a dead letter%s%s",
		    hook ? " of " : "", hook ? hook : "");
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	unsigned long long	 x, y;

	x = strtoull(*(char *const *)a, NULL, 16);
	y = strtoull(*(char *const *)b, NULL, 16);
	return x < y ? -1 : x > y;
}

/* Sort the ids and drop repeats, so that the count can be checked. */
static int
uniq_ids(int argc, char *argv[])
{
	int	 i, n = 0;

	qsort(argv, argc, sizeof(*argv), cmp_id);
	for (i = 0; i < argc; i++)
		if (n == 0 || cmp_id(&argv[n - 1], &argv[i]) != 0)
			argv[n++] = argv[i];
	return n;
}

static int
cmd_delete(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	json_int_t	 n;

	(void)conf;
	argv = get_opts(&argc, argv, "hs", &o);
	if (o.hook != NULL || o.state != NULL) {
		if (argc > 0 || o.hook == NULL || o.state == NULL ||
		    strcmp(o.state, "dead") != 0)
			bad_usage("delete: takes ids, or --hook HOOK "
			    "--state dead");
		n = post_ids("/delete", o.hook, "dead", NULL, 0, "deleted");
		print_count("deleted", n, "deleted");
		return 0;
	}
	if (argc == 0)
		usage();
	check_ids(argc, argv);
	argc = uniq_ids(argc, argv);
	n = post_ids("/delete", NULL, NULL, argv, argc, "deleted");
	print_count("deleted", n, "deleted");
	if (n < argc)
		die("delete: %lld of %d records not found", (long long)(argc -
		    n), argc);
	return 0;
}

/*
 * spoold answers once it took or refused the configuration. A file that
 * does not load is refused here first, as spoold -n would refuse it:
 * without it, spoolctl knows no control socket to ask.
 */
static int
cmd_reload(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	json_t		*reply;
	const char	*warn;
	long		 status;

	(void)conf;
	argv = get_opts(&argc, argv, "", &o);
	if (argc != 0)
		usage();
	status = request("POST", "/reload", NULL, 0, &reply);
	if (status < 200 || status > 299)
		die("%s", reply_error(reply));
	warn = json_string_value(json_object_get(reply, "warning"));
	if (json_out)
		print_json(reply);
	else
		printf("configuration reloaded\n");
	if (warn != NULL)
		fprintf(stderr, "spoolctl: reload: %s\n", warn);
	json_decref(reply);
	return 0;
}

static const struct command {
	const char	*name;
	int		(*fn)(int, char *[], const struct config *);
} commands[] = {
	{ "status",	cmd_status },
	{ "list",	cmd_list },
	{ "show",	cmd_show },
	{ "inject",	cmd_inject },
	{ "flush",	cmd_flush },
	{ "hold",	cmd_hold },
	{ "release",	cmd_release },
	{ "requeue",	cmd_requeue },
	{ "delete",	cmd_delete },
	{ "reload",	cmd_reload },
};

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, &json_out, 1 },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *cmd;
	struct config	*conf;
	const char	*path = CONFIG_PATH;
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
	for (cmd = commands; strcmp(argv[0], cmd->name) != 0; cmd++)
		if (cmd == &commands[sizeof(commands) /
		    sizeof(commands[0]) - 1])
			usage();
	if ((conf = config_load(path, err, sizeof(err))) == NULL) {
		if (cmd->fn == cmd_reload)
			die("%s; spoold was not asked to reload", err);
		die("%s", err);
	}
	sock_path = conf->control_socket;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmd->fn(argc, argv, conf);
	curl_global_cleanup();
	config_free(conf);
	return rc;
}
