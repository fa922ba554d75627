/*
 * spoolctl: administer spoold through its control socket; status, list
 * and show also read the spool of a stopped spoold. This file holds the
 * command line and the commands that change the spool.
 *
 * Exit status: 0 done, 1 failed (message on standard error), 2 usage.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "spoolctl.h"

/* Ids go in the URL: this many per request keeps it well below 8 KiB. */
#define IDS_PER_REQUEST	256

int		 json_out;
const char	*sock_path;

void
usage(void)
{
	fprintf(stderr, "usage: spoolctl [-f config] [--json] command [args]\n"
	    "commands:\n"
	    "    status [--watch [--interval SECONDS] [--count N]]\n"
	    "    top [--interval SECONDS] [--count N]\n"
	    "    list [hook] [--state ready|deferred|dead] [--limit N] "
	    "[--from CURSOR]\n"
	    "    show id\n"
	    "    inject [file]\n"
	    "    flush [hook]\n"
	    "    hold hook\n"
	    "    release hook\n"
	    "    requeue [hook] [id ...]\n"
	    "    delete id ...\n"
	    "    delete --hook hook --state dead\n"
	    "    reload\n"
	    "    source skip source\n");
	exit(2);
}

static void
vsay(const char *fmt, va_list ap)
{
	fputs("spoolctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
bad_usage(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	usage();
}

void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	exit(1);
}

json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/*
 * Parse the options of the command argv[0], those in allowed ('h' --hook,
 * 's' --state, 'l' --limit, 'F' --from, 'w' --watch, 'i' --interval,
 * 'c' --count) only; the arguments may come before, between or after
 * them. Returns the arguments, *argc of them.
 */
char **
get_opts(int *argc, char *argv[], const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "hook", required_argument, NULL, 'h' },
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'F' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
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
		switch (ch) {
		case 'h':
			o->hook = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'l':
			o->limit = optarg;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 'w':
			o->watch = 1;
			break;
		case 'i':
			o->interval = optarg;
			break;
		default:
			o->count = optarg;
			break;
		}
	}
	*argc -= optind;
	return argv + optind;
}

/* Spool ids are 1 to 16 hex digits; anything else is a usage error. */
int
is_id(const char *s)
{
	size_t	 len = strlen(s);

	return len > 0 && len <= 16 &&
	    strspn(s, "0123456789abcdefABCDEF") == len;
}

void
check_ids(int argc, char *argv[])
{
	int	 i;

	for (i = 0; i < argc; i++)
		if (!is_id(argv[i]))
			bad_usage("bad spool id: %s (1 to 16 hex digits)",
			    argv[i]);
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
	if (status == UNREACHABLE)
		not_running("reload");
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

/*
 * source skip NAME: a source stopped at a corrupt or truncated segment
 * goes on with the next one; what is left of the bad one is not read.
 */
static int
cmd_source(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;
	struct buf	 q;
	json_t		*reply;

	argv = get_opts(&argc, argv, "", &o);
	if (argc != 2 || strcmp(argv[0], "skip") != 0)
		usage();
	if (config_source(conf, argv[1]) == NULL)
		die("source skip: no such source in %s: %s", conf->path,
		    argv[1]);
	path_init(&q, "/skip", NULL);
	path_arg(&q, "source", argv[1]);
	reply = call("source skip", "POST", &q);
	if (json_out)
		print_json(reply);
	else
		printf("source %s: %s\n", argv[1],
		    json_string_value(json_object_get(reply, "skipped")));
	json_decref(reply);
	return 0;
}

/* top: status --watch. */
static int
cmd_top(int argc, char *argv[], const struct config *conf)
{
	struct opts	 o;

	get_opts(&argc, argv, "ic", &o);
	if (argc != 0)
		usage();
	o.watch = 1;
	return watch(conf, &o);
}

static const struct command {
	const char	*name;
	int		(*fn)(int, char *[], const struct config *);
} commands[] = {
	{ "status",	cmd_status },
	{ "top",	cmd_top },
	{ "list",	cmd_list },
	{ "show",	cmd_show },
	{ "inject",	cmd_inject },
	{ "flush",	cmd_flush },
	{ "hold",	cmd_hold },
	{ "release",	cmd_release },
	{ "requeue",	cmd_requeue },
	{ "delete",	cmd_delete },
	{ "reload",	cmd_reload },
	{ "source",	cmd_source },
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
