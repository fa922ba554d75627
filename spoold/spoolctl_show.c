/*
 * status, list and show: spoold's answer, or the spool's own when
 * spoold is stopped, printed as a table or as the JSON it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "jscan.h"
#include "listing.h"
#include "spoolctl.h"

#define LIST_LIMIT	"100"	/* as spoold's default */

void
print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
	putchar('\n');
}

/*
 * GET path: spoold's answer, which must be 200; NULL when spoold is not
 * running, for the caller to read the spool instead.
 */
static json_t *
get(const char *what, struct buf *q)
{
	json_t	*reply;
	long	 status;

	status = request("GET", q->p, NULL, 0, &reply);
	free(q->p);
	q->p = NULL;
	if (status == UNREACHABLE)
		return NULL;
	if (status != 200)
		die("%s: %s", what, reply_error(reply));
	return reply;
}

/* The status, from spoold or from the spool; quiet: no note about that. */
json_t *
get_status(const struct config *conf, int quiet)
{
	struct buf	 q;
	json_t		*reply;

	path_init(&q, "/status", NULL);
	if ((reply = get("status", &q)) != NULL)
		return reply;
	reply = offline_status(conf);
	if (!quiet)
		offline_note(conf);
	return reply;
}

/* Per second, from two readings secs apart; "-" without the first. */
static void
print_rate(json_t *h, json_t *before, const char *const *keys, double secs)
{
	json_int_t	 now = 0, then = 0;

	if (before == NULL || secs <= 0) {
		printf(" %9s", "-");
		return;
	}
	for (; *keys != NULL; keys++) {
		now += num(h, *keys);
		then += num(before, *keys);
	}
	/* Deleted records leave: what came in is never less than none. */
	printf(" %9.1f", now > then ? (double)(now - then) / secs : 0.0);
}

/* An age at a glance: its largest whole unit; "-" for no record. */
static const char *
age(json_int_t ms, char *buf, size_t len)
{
	static const struct {
		json_int_t	 ms;
		const char	*unit;
	} units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
	    { 1000, "s" } };
	size_t	 i;

	if (ms <= 0)
		return "-";
	for (i = 0; i < 3 && ms < units[i].ms; i++)
		;
	snprintf(buf, len, "%lld%s", (long long)(ms / units[i].ms),
	    units[i].unit);
	return buf;
}

/*
 * The status table; with rates (secs >= 0, for --watch) also what came
 * in, was delivered and failed per second since the reading prev.
 */
void
status_table(json_t *reply, json_t *prev, double secs)
{
	static const char *const in[] = { "ready", "deferred", "in_flight",
	    "held_records", "dead", "delivered", NULL };
	static const char *const delivered[] = { "delivered", NULL };
	static const char *const failed[] = { "failed", NULL };
	json_t		*h, *before;
	const char	*name;
	char		 a[32];

	printf("%-20s %-6s %9s %9s %9s %9s %9s %6s %11s %9s %7s", "HOOK",
	    "STATE", "READY", "DEFERRED", "INFLIGHT", "HELD", "DEAD",
	    "OLDEST", "DELIVERED", "FAILED", "WORKERS");
	if (secs >= 0)
		printf(" %9s %9s %9s", "IN/s", "DELIV/s", "FAIL/s");
	putchar('\n');
	json_object_foreach(json_object_get(reply, "hooks"), name, h) {
		printf("%-20s %-6s %9lld %9lld %9lld %9lld %9lld %6s %11lld "
		    "%9lld %7lld", name, json_is_true(json_object_get(h,
		    "held")) ? "held" : "active", num(h, "ready"),
		    num(h, "deferred"), num(h, "in_flight"),
		    num(h, "held_records"), num(h, "dead"),
		    age(num(h, "oldest_age_ms"), a, sizeof(a)),
		    num(h, "delivered"), num(h, "failed"), num(h, "workers"));
		if (secs >= 0) {
			before = json_object_get(json_object_get(prev,
			    "hooks"), name);
			print_rate(h, before, in, secs);
			print_rate(h, before, delivered, secs);
			print_rate(h, before, failed, secs);
		}
		putchar('\n');
	}
}

/* The sources, when there are any, under the hooks. */
static void
sources_table(json_t *reply)
{
	json_t		*src = json_object_get(reply, "sources"), *v, *off;
	const char	*name, *err;
	char		 b[32];

	if (json_object_size(src) == 0)
		return;
	printf("\n%-20s %-8s %-26s %9s %11s %7s %6s %11s\n", "SOURCE", "STATE",
	    "SEGMENT", "LINE", "RECORDS", "INVALID", "BEHIND", "BEHIND_BYTES");
	json_object_foreach(src, name, v) {
		off = json_object_get(v, "offset");
		snprintf(b, sizeof(b), "%lld", (long long)num(v, "line"));
		printf("%-20s %-8s %-26s %9s %11lld %7lld %6lld %11lld\n", name,
		    json_string_value(json_object_get(v, "state")),
		    *json_string_value(json_object_get(v, "segment")) ?
		    json_string_value(json_object_get(v, "segment")) : "-",
		    json_is_null(off) ? "end" : b, num(v, "records"),
		    num(v, "invalid_lines"), num(v, "behind_segments"),
		    num(v, "behind_bytes"));
	}
	json_object_foreach(src, name, v)
		if ((err = json_string_value(json_object_get(v, "error"))) !=
		    NULL)
			printf("%s: %s\n", name, err);
}

int
cmd_status(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	json_t		*reply;

	get_opts(&argc, argv, "wic", &o);
	if (argc != 0)
		usage();
	if (o.watch)
		return watch(conf, &o);
	if (o.interval != NULL || o.count != NULL)
		bad_usage("status: --interval and --count go with --watch");
	reply = get_status(conf, 0);
	if (json_out)
		print_json(reply);
	else {
		status_table(reply, NULL, -1);
		sources_table(reply);
	}
	json_decref(reply);
	return 0;
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

/* Where the next page starts, as the command that lists it. */
static void
next_hint(const char *hook, const struct opts *o, const char *next)
{
	fprintf(stderr, "more: spoolctl list%s%s%s%s --limit %s --from %s\n",
	    hook ? " " : "", hook ? hook : "", o->state ? " --state " : "",
	    o->state ? o->state : "", o->limit ? o->limit : LIST_LIMIT, next);
}

static void
list_args(const struct opts *o)
{
	if (o->state != NULL && state_parse(o->state) < 0)
		bad_usage("list: --state takes ready, deferred or dead");
	if (o->limit != NULL && (*o->limit == '\0' || strlen(o->limit) > 18 ||
	    strspn(o->limit, "0123456789") != strlen(o->limit)))
		bad_usage("list: --limit takes a number, 0 for all");
	if (o->from != NULL && (strlen(o->from) != LIST_CURSOR_LEN ||
	    strspn(o->from, "0123456789abcdef") != LIST_CURSOR_LEN))
		bad_usage("list: --from takes the cursor that list printed");
}

int
cmd_list(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply, *e;
	const char	*hook, *next;
	size_t		 i;

	argv = get_opts(&argc, argv, "slF", &o);
	if (argc > 1)
		usage();
	hook = argc ? argv[0] : NULL;
	list_args(&o);
	path_init(&q, "/list", hook);
	if (o.state != NULL)
		path_arg(&q, "state", o.state);
	if (o.limit != NULL)
		path_arg(&q, "limit", o.limit);
	if (o.from != NULL)
		path_arg(&q, "from", o.from);
	if ((reply = get("list", &q)) == NULL) {
		reply = offline_list(conf, hook, state_parse(o.state), o.from,
		    strtoull(o.limit ? o.limit : LIST_LIMIT, NULL, 10));
		offline_note(conf);
	}
	next = json_string_value(json_object_get(reply, "next"));
	if (json_out)
		print_json(reply);
	else {
		printf("%-16s %-20s %-8s %8s %-19s %s\n", "ID", "HOOK", "STATE",
		    "ATTEMPTS", "NEXT_ATTEMPT", "LAST_ANSWER");
		json_array_foreach(json_object_get(reply, "records"), i, e)
			print_state(e, json_string_value(json_object_get(e,
			    "id")));
		if (next != NULL)
			next_hint(hook, &o, next);
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

int
cmd_show(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply;

	argv = get_opts(&argc, argv, "", &o);
	if (argc != 1)
		usage();
	check_ids(argc, argv);
	path_init(&q, "/show", NULL);
	path_arg(&q, "id", argv[0]);
	if ((reply = get("show", &q)) == NULL) {
		reply = offline_show(conf, argv[0]);
		offline_note(conf);
	}
	if (json_out)
		print_show_json(reply);
	else
		print_record(reply);
	json_decref(reply);
	return 0;
}
