/*
 * spoold.conf and shaping files: defaults, every key's type and value
 * errors with their FILE:LINE:COL, the merge order of shaping sections,
 * the real KumoMTA shaping file and the spoold -n listing.
 *
 * The test works in a temporary directory, so that positions read
 * "spoold.conf:LINE:COL" whatever the machine.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"
#include "units.h"

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/* What spoold -n prints of an HTTP hook that sets none of these keys. */
#define HTTP_BUILT_IN \
	"batch_size = 1                             # built-in\n" \
	"min_batch_size = 1                         # built-in\n" \
	"max_batch_latency = 0s                     # built-in\n" \
	"format = \"json\"                            # built-in\n" \
	"types = \"Any\"                              # built-in\n" \
	"log_parameters = (none)                    # built-in\n" \
	"headers = (none)                           # built-in\n" \
	"timeout = 1m                               # built-in\n" \
	"retry_interval = 1m                        # built-in\n" \
	"max_retry_interval = 20m                   # built-in\n" \
	"max_age = 7d                               # built-in\n" \
	"transient_status = [408, 425, 429, \"5xx\"]  # built-in\n" \
	"signing_secret = (none)                    # built-in\n" \
	"tls_verify = true                          # built-in\n" \
	"ca_file = (system)                         # built-in\n" \
	"client_cert = (none)                       # built-in\n" \
	"client_key = (none)                        # built-in\n"

static char	 tmpdir[PATH_MAX];
static char	 fixture[PATH_MAX];	/* empty when absent */
static char	 example[PATH_MAX];	/* etc/spoold.conf */
static char	 err[1024];
static char	*made[64];
static size_t	 nmade;

static void
writefile(const char *name, const char *text)
{
	FILE	*fp;
	size_t	 i;

	if ((fp = fopen(name, "w")) == NULL) {
		diag("%s: %s", name, strerror(errno));
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	for (i = 0; i < nmade; i++)
		if (strcmp(made[i], name) == 0)
			return;
	if (nmade < sizeof(made) / sizeof(made[0]))
		made[nmade++] = strdup(name);
}

static void
cleanup(void)
{
	size_t	 i;

	for (i = 0; i < nmade; i++) {
		unlink(made[i]);
		free(made[i]);
	}
	rmdir("sub");
	if (chdir("/") == 0)
		rmdir(tmpdir);
}

static struct config *
load(const char *text)
{
	struct config	*cfg;

	writefile("spoold.conf", text);
	err[0] = '\0';
	cfg = config_load("spoold.conf", err, sizeof(err));
	if (cfg == NULL)
		diag("unexpected error: %s", err);
	return cfg;
}

static void
bad(const char *text, const char *want)
{
	struct config	*cfg;

	writefile("spoold.conf", text);
	err[0] = '\0';
	cfg = config_load("spoold.conf", err, sizeof(err));
	ok(cfg == NULL, "refused: %s", want);
	is_str(err, want, "error text");
	config_free(cfg);
}

/* The output of config_print, in a static buffer. */
static const char *
printed(const struct config *cfg)
{
	static char	 buf[16384];
	FILE		*fp;
	size_t		 n;

	if ((fp = tmpfile()) == NULL)
		return "";
	config_print(cfg, fp);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Is line in text, alone or before the comment naming its origin? */
static int
has_line(const char *text, const char *line)
{
	size_t		 len = strlen(line), sp;
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		sp = strspn(p + len, " ");
		if ((p == text || p[-1] == '\n') &&
		    (p[len] == '\n' || p[len] == '\0' ||
		    (sp >= 2 && p[len + sp] == '#')))
			return 1;
		p += len;
	}
	return 0;
}

static void
line_ok(const char *text, const char *line)
{
	if (!ok(has_line(text, line), "printed: %s", line))
		diag("in:\n%s", text);
}

static void
test_rectypes(void)
{
	static const char *const names[] = {
		"Reception", "Delivery", "Bounce", "TransientFailure",
		"Expiration", "AdminBounce", "OOB", "Feedback", "Rejection",
		"DeferredInjectionRebind", "Delayed", "XferOut", "XferIn"
	};
	int	 i, good = 1;

	for (i = 0; i < RT_OTHER; i++) {
		if ((int)rectype_lookup(names[i], strlen(names[i])) != i)
			good = 0;
		if (strcmp(rectype_name(i), names[i]) != 0)
			good = 0;
	}
	ok(good, "every record type name maps both ways");
	is_int(rectype_lookup("delivery", 8), RT_OTHER, "case matters");
	is_int(rectype_lookup("Delivery", 7), RT_OTHER, "length matters");
	is_int(rectype_lookup("Deliveryx", 8), RT_DELIVERY,
	    "only len bytes are read");
	is_int(rectype_lookup("Any", 3), RT_OTHER, "Any is no record type");
	is_int(rectype_lookup("", 0), RT_OTHER, "empty");
	is_int(rectype_lookup(NULL, 0), RT_OTHER, "NULL");
	is_str(rectype_name(RT_OTHER), "Other", "RT_OTHER's name");
	is_int(RT_ALL, 0x3fff, "RT_ALL covers RT_OTHER too");
}

static void
test_defaults(void)
{
	struct config	*cfg;

	if ((cfg = load("# nothing\n")) == NULL) {
		ok(0, "empty configuration loads");
		return;
	}
	ok(1, "empty configuration loads");
	is_str(cfg->path, "spoold.conf", "path kept");
	is_str(cfg->spool_dir, "/var/spool/spoold", "spool_dir");
	is_int(cfg->max_spool_size, 4LL << 30, "max_spool_size");
	is_int(cfg->nlisten, 1, "one listen address");
	is_str(cfg->listen[0].text, "127.0.0.1:8025", "listen text");
	is_str(cfg->listen[0].host, "127.0.0.1", "listen host");
	is_str(cfg->listen[0].port, "8025", "listen port");
	ok(cfg->listen[0].path == NULL, "listen is TCP");
	is_str(cfg->control_socket, "/run/spoold/control.sock",
	    "control_socket");
	is_str(cfg->pid_file, "/run/spoold/spoold.pid", "pid_file");
	is_int(cfg->nshaping, 0, "no shaping files");
	ok(cfg->ingest_token == NULL, "no ingest_token");
	is_int(cfg->max_record_size, 1 << 20, "max_record_size");
	is_int(cfg->max_request_size, 64 << 20, "max_request_size");
	ok(cfg->user == NULL, "no user");
	is_int(cfg->nhooks, 0, "no hooks");
	is_int(cfg->nignored, 0, "nothing ignored");
	ok(config_hook(cfg, "x") == NULL, "config_hook without hooks");
	is_str(printed(cfg),
	    "spool_dir = \"/var/spool/spoold\"\n"
	    "max_spool_size = 4GiB\n"
	    "listen = [\"127.0.0.1:8025\"]\n"
	    "control_socket = \"/run/spoold/control.sock\"\n"
	    "pid_file = \"/run/spoold/spoold.pid\"\n"
	    "shaping = []\n"
	    "ingest_token = (none)\n"
	    "max_record_size = 1MiB\n"
	    "max_request_size = 64MiB\n"
	    "max_connections = 16384\n"
	    "max_connections_per_client = 0\n"
	    "client_idle_timeout = 2m\n"
	    "client_header_timeout = 10s\n"
	    "user = (none)\n", "config_print of the defaults");
	config_free(cfg);
	config_free(NULL);
}

static void
test_hook_defaults(void)
{
	struct config		*cfg;
	const struct hook	*h;
	int			 i, good = 1;

	cfg = load("[hook.web]\nurl = \"http://127.0.0.1:8080/events\"\n");
	if (!ok(cfg != NULL && (h = config_hook(cfg, "web")) != NULL,
	    "a hook with only a url")) {
		config_free(cfg);
		return;
	}
	is_str(h->url, "http://127.0.0.1:8080/events", "url");
	is_int(h->batch_size, 1, "batch_size");
	is_int(h->min_batch_size, 1, "min_batch_size");
	is_int(h->max_batch_latency_ms, 0, "max_batch_latency");
	is_int(h->format, FORMAT_JSON, "format");
	is_int(h->types, RT_ALL, "types");
	is_int(h->has_log_parameters, 0, "no log_parameters");
	is_int(h->nheaders, 0, "no headers");
	is_int(h->timeout_ms, 60 * SEC, "timeout");
	is_int(h->retry_interval_ms, MIN, "retry_interval");
	is_int(h->max_retry_interval_ms, 20 * MIN, "max_retry_interval");
	is_int(h->max_age_ms, 7 * DAY, "max_age");
	for (i = 0; i < 600; i++)
		if (h->transient[i] != (i == 408 || i == 425 || i == 429 ||
		    i >= 500))
			good = 0;
	ok(good, "transient_status [408, 425, 429, \"5xx\"]");
	ok(h->signing_secret == NULL && h->signing_key == NULL,
	    "no signing_secret");
	is_int(h->tls_verify, 1, "tls_verify");
	ok(h->ca_file == NULL && h->client_cert == NULL &&
	    h->client_key == NULL, "no TLS files");
	is_int(h->shaping.connection_limit, 32, "connection_limit");
	is_int(h->shaping.max_connection_rate.n, 0, "no max_connection_rate");
	is_int(h->shaping.max_message_rate.n, 0, "no max_message_rate");
	is_int(h->shaping.max_deliveries_per_connection, 1024,
	    "max_deliveries_per_connection");
	is_int(h->shaping.max_ready, 1024, "max_ready");
	is_int(h->shaping.idle_timeout_ms, 5 * SEC, "idle_timeout");
	is_int(h->shaping.system_shutdown_timeout_ms, 30 * SEC,
	    "system_shutdown_timeout");
	is_int(h->shaping.mx_rollup, 1, "mx_rollup");
	is_str(strstr(printed(cfg), "\n[hook.web]\n"),
	    "\n[hook.web]\n"
	    "url = \"http://127.0.0.1:8080/events\"       "
	    "# spoold.conf:2 [hook.web]\n"
	    HTTP_BUILT_IN
	    "connection_limit = 32                      # built-in\n"
	    "max_connection_rate = (none)               # built-in\n"
	    "max_message_rate = (none)                  # built-in\n"
	    "max_deliveries_per_connection = 1024       # built-in\n"
	    "max_ready = 1024                           # built-in\n"
	    "idle_timeout = 5s                          # built-in\n"
	    "system_shutdown_timeout = 30s              # built-in\n"
	    "mx_rollup = true                           # built-in\n",
	    "config_print of a default hook");
	config_free(cfg);
}

static void
test_top_keys(void)
{
	struct config	*cfg;
	const char	*out;

	cfg = load(
	    "spool_dir = \"/tmp/spool\"\n"
	    "max_spool_size = \"1GiB\"\n"
	    "listen = [\"0.0.0.0:80\", \"[::1]:8025\", \"unix:/run/s.sock\","
	    " \"localhost:0\", \"[fe80::1]:65535\"]\n"
	    "control_socket = \"/tmp/c.sock\"\n"
	    "pid_file = \"/tmp/p.pid\"\n"
	    "ingest_token = \"s3cret\"\n"
	    "max_record_size = \"2MiB\"\n"
	    "max_request_size = \"100\"\n"
	    "user = \"_spoold\"\n"
	    "shaping = []\n");
	if (!ok(cfg != NULL, "every top-level key")) {
		diag("%s", err);
		return;
	}
	is_str(cfg->spool_dir, "/tmp/spool", "spool_dir");
	is_int(cfg->max_spool_size, 1 << 30, "max_spool_size");
	is_int(cfg->nlisten, 5, "five listen addresses");
	is_str(cfg->listen[0].host, "0.0.0.0", "IPv4 host");
	is_str(cfg->listen[0].port, "80", "IPv4 port");
	is_str(cfg->listen[1].host, "::1", "IPv6 host without brackets");
	is_str(cfg->listen[1].port, "8025", "IPv6 port");
	is_str(cfg->listen[1].text, "[::1]:8025", "text as written");
	is_str(cfg->listen[2].path, "/run/s.sock", "unix path");
	ok(cfg->listen[2].host == NULL && cfg->listen[2].port == NULL,
	    "unix has no host or port");
	is_str(cfg->listen[3].host, "localhost", "host name");
	is_str(cfg->listen[3].port, "0", "port 0");
	is_str(cfg->listen[4].port, "65535", "port 65535");
	is_str(cfg->control_socket, "/tmp/c.sock", "control_socket");
	is_str(cfg->pid_file, "/tmp/p.pid", "pid_file");
	is_str(cfg->ingest_token, "s3cret", "ingest_token");
	is_int(cfg->max_record_size, 2 << 20, "max_record_size");
	is_int(cfg->max_request_size, 100, "max_request_size, bare bytes");
	is_str(cfg->user, "_spoold", "user");
	out = printed(cfg);
	line_ok(out, "listen = [\"0.0.0.0:80\", \"[::1]:8025\", "
	    "\"unix:/run/s.sock\", \"localhost:0\", \"[fe80::1]:65535\"]");
	line_ok(out, "ingest_token = (set)");
	ok(strstr(out, "s3cret") == NULL, "the token is not printed");
	line_ok(out, "max_request_size = 100B");
	line_ok(out, "user = \"_spoold\"");
	config_free(cfg);

	cfg = load("listen = \"unix:/x\"\n");
	ok(cfg != NULL && cfg->nlisten == 1 &&
	    strcmp(cfg->listen[0].path, "/x") == 0, "listen as one string");
	config_free(cfg);
}

/* A hook's name becomes its workers' process title, so it is bounded. */
static void
hook_name_length(void)
{
	struct config	*cfg;
	char		 name[257], text[512], want[512];

	memset(name, 'h', 255);
	name[255] = '\0';
	snprintf(text, sizeof(text), "[hook.%s]\nurl = \"http://h/\"\n", name);
	cfg = load(text);
	ok(cfg != NULL && cfg->nhooks == 1 && strlen(cfg->hooks[0].name) == 255,
	    "a hook name of 255 characters is taken");
	config_free(cfg);
	strlcat(name, "h", sizeof(name));
	snprintf(text, sizeof(text), "[hook.%s]\nurl = \"http://h/\"\n", name);
	writefile("spoold.conf", text);
	cfg = config_load("spoold.conf", err, sizeof(err));
	snprintf(want, sizeof(want), "names take 1 to 255 of A-Z");
	ok(cfg == NULL && strncmp(err, "spoold.conf:1:7: hook \"hhh", 26) == 0 &&
	    strstr(err, want) != NULL, "one of 256 is refused: %s", err);
	config_free(cfg);
	/* Header names are not hook names: no such bound. */
	snprintf(text, sizeof(text), "[hook.h]\nurl = \"http://h/\"\n"
	    "headers = { %s = \"v\" }\n", name);
	cfg = load(text);
	ok(cfg != NULL, "a header name of 256 characters is taken");
	config_free(cfg);
}

static void
test_top_errors(void)
{
	struct config	*cfg;
	char		 path[128], text[256], want[512];

	bad("spool_dir = 5\n",
	    "spoold.conf:1:13: spool_dir: expected a string, got integer");
	bad("spool_dir = \"\"\n",
	    "spoold.conf:1:13: spool_dir: must not be empty");
	bad("max_spool_size = 4\n",
	    "spoold.conf:1:18: max_spool_size: expected a string, got integer");
	bad("max_spool_size = \"4XB\"\n",
	    "spoold.conf:1:18: max_spool_size: bad size \"4XB\": "
	    "unknown unit; use B, KiB, MiB, GiB or TiB");
	bad("max_spool_size = \"0B\"\n",
	    "spoold.conf:1:18: max_spool_size: must be at least 1B");
	bad("max_record_size = \"1MB\"\n",
	    "spoold.conf:1:19: max_record_size: bad size \"1MB\": "
	    "ambiguous unit; use KiB, MiB or GiB (powers of 1024)");
	bad("max_request_size = true\n",
	    "spoold.conf:1:20: max_request_size: expected a string, "
	    "got boolean");
	bad("max_request_size = \"-1\"\n",
	    "spoold.conf:1:20: max_request_size: bad size \"-1\": "
	    "negative size");
	bad("control_socket = []\n",
	    "spoold.conf:1:18: control_socket: expected a string, got array");
	bad("pid_file = {}\n",
	    "spoold.conf:1:12: pid_file: expected a string, got table");
	bad("ingest_token = 1.5\n",
	    "spoold.conf:1:16: ingest_token: expected a string, got float");
	bad("ingest_token = \"\"\n",
	    "spoold.conf:1:16: ingest_token: must not be empty");
	bad("user = false\n",
	    "spoold.conf:1:8: user: expected a string, got boolean");
	bad("listen = 8025\n",
	    "spoold.conf:1:10: listen: expected an array of strings, "
	    "got integer");
	bad("listen = []\n", "spoold.conf:1:10: listen: no address");
	bad("listen = [\"127.0.0.1:1\", 2]\n",
	    "spoold.conf:1:26: listen: expected a string, got integer");
	bad("listen = [\"nohost\"]\n",
	    "spoold.conf:1:11: listen: bad address \"nohost\": missing :PORT");
	bad("listen = [\"h:99999\"]\n",
	    "spoold.conf:1:11: listen: bad address \"h:99999\": "
	    "bad port (0-65535)");
	bad("listen = [\"h:65536\"]\n",
	    "spoold.conf:1:11: listen: bad address \"h:65536\": "
	    "bad port (0-65535)");
	bad("listen = [\"h:8x\"]\n",
	    "spoold.conf:1:11: listen: bad address \"h:8x\": "
	    "bad port (0-65535)");
	bad("listen = [\"h:\"]\n",
	    "spoold.conf:1:11: listen: bad address \"h:\": missing port");
	bad("listen = [\":80\"]\n",
	    "spoold.conf:1:11: listen: bad address \":80\": empty host");
	bad("listen = [\"a b:80\"]\n",
	    "spoold.conf:1:11: listen: bad address \"a b:80\": bad host name");
	bad("listen = [\"::1:80\"]\n",
	    "spoold.conf:1:11: listen: bad address \"::1:80\": "
	    "IPv6 addresses go in brackets: [ADDRESS]:PORT");
	bad("listen = [\"[::1:80\"]\n",
	    "spoold.conf:1:11: listen: bad address \"[::1:80\": missing ]");
	bad("listen = [\"[::1]\"]\n",
	    "spoold.conf:1:11: listen: bad address \"[::1]\": missing :PORT");
	bad("listen = [\"[]:80\"]\n",
	    "spoold.conf:1:11: listen: bad address \"[]:80\": empty host");
	bad("listen = [\"[zz]:80\"]\n",
	    "spoold.conf:1:11: listen: bad address \"[zz]:80\": "
	    "bad IPv6 address");
	bad("listen = [\"unix:\"]\n",
	    "spoold.conf:1:11: listen: bad address \"unix:\": "
	    "empty socket path");
	bad("listen = [\"unix:rel.sock\"]\n",
	    "spoold.conf:1:11: listen: bad address \"unix:rel.sock\": "
	    "socket path must be absolute");
	memset(path, 'a', 108);
	path[0] = '/';
	path[108] = '\0';
	snprintf(text, sizeof(text), "listen = [\"unix:%s\"]\n", path);
	snprintf(want, sizeof(want), "spoold.conf:1:11: listen: bad address "
	    "\"unix:%s\": socket path too long", path);
	bad(text, want);
	path[107] = '\0';
	snprintf(text, sizeof(text), "listen = [\"unix:%s\"]\n", path);
	cfg = load(text);
	ok(cfg != NULL, "socket path of 107 bytes");
	config_free(cfg);
	bad("shaping = 1\n",
	    "spoold.conf:1:11: shaping: expected an array of strings, "
	    "got integer");
	bad("shaping = [\"\"]\n", "spoold.conf:1:12: shaping: empty path");
	bad("# comment\nspool_dirr = \"/x\"\n",
	    "spoold.conf:2:1: unknown key \"spool_dirr\"");
	bad("[spool]\ndir = \"/x\"\n",
	    "spoold.conf:1:2: unknown key \"spool\"");
	bad("hook = 1\n", "spoold.conf:1:8: hook: expected a table, "
	    "got integer");
	bad("[hook]\nx = 1\n",
	    "spoold.conf:2:5: hook: expected a table, got integer");
	bad("[hook.\"a b\"]\nurl = \"http://h/\"\n",
	    "spoold.conf:1:7: hook \"a b\": names take 1 to 255 of A-Z, a-z, "
	    "0-9, \"_\", \".\" and \"-\"");
	bad("[hook.\"\"]\nurl = \"http://h/\"\n",
	    "spoold.conf:1:7: hook \"\": names take 1 to 255 of A-Z, a-z, "
	    "0-9, \"_\", \".\" and \"-\"");
	hook_name_length();
	writefile("spoold.conf", "spool_dir = \"/x\"\nspool_dir = \"/y\"\n");
	cfg = config_load("spoold.conf", err, sizeof(err));
	ok(cfg == NULL && strncmp(err, "spoold.conf:2:", 14) == 0,
	    "TOML errors come from the parser: %s", err);
	config_free(cfg);
}

/* A hook with one extra line: the error is on line 2. */
static void
hook_bad(const char *line, const char *want)
{
	char	 text[1024], full[1024];

	snprintf(text, sizeof(text), "[hook.h]\n%s\nurl = \"http://h/\"\n",
	    line);
	snprintf(full, sizeof(full), "spoold.conf:2:%s", want);
	bad(text, full);
}

/* A hook line taken with one warning, as KumoMTA takes it. */
static void
hook_warns(const char *line, const char *want)
{
	struct config	*cfg;
	char		 text[1024], full[1024];

	snprintf(text, sizeof(text), "[hook.h]\n%s\nurl = \"http://h/\"\n",
	    line);
	snprintf(full, sizeof(full), "spoold.conf:2:%s", want);
	cfg = load(text);
	ok(cfg != NULL && cfg->nwarnings == 1, "taken, with a warning: %s",
	    line);
	if (cfg != NULL && cfg->nwarnings == 1)
		is_str(cfg->warnings[0], full, "warning text");
	config_free(cfg);
}

static void
test_hook_errors(void)
{
	bad("[hook.h]\nbatch_size = 2\n",
	    "spoold.conf:1:1: hook \"h\": url is required");
	hook_bad("bogus = 1", "1: unknown key \"bogus\"");
	hook_bad("replace_base = true", "1: unknown key \"replace_base\"");
	hook_bad("url2 = \"x\"", "1: unknown key \"url2\"");
	bad("[hook.h]\nurl = 5\n",
	    "spoold.conf:2:7: url: expected a string, got integer");
	bad("[hook.h]\nurl = \"ftp://h/\"\n",
	    "spoold.conf:2:7: url: must start with http://, https://, "
	    "amqp://, amqps:// or kafka://");
	bad("[hook.h]\nurl = \"http://\"\n",
	    "spoold.conf:2:7: url: missing host");
	bad("[hook.h]\nurl = \"https:///x\"\n",
	    "spoold.conf:2:7: url: missing host");
	bad("[hook.h]\nurl = \"http://h/a b\"\n",
	    "spoold.conf:2:7: url: contains spaces or control characters");
	hook_bad("batch_size = 0", "14: batch_size: must be at least 1");
	hook_bad("batch_size = -3", "14: batch_size: must be at least 1");
	hook_bad("batch_size = \"10\"",
	    "14: batch_size: expected an integer, got string");
	hook_bad("min_batch_size = 0",
	    "18: min_batch_size: must be at least 1");
	hook_bad("min_batch_size = 5",
	    "18: min_batch_size (5) is above batch_size (1)");
	bad("[hook.h]\nbatch_size = 5\nmin_batch_size = 6\n"
	    "url = \"http://h/\"\n",
	    "spoold.conf:3:18: min_batch_size (6) is above batch_size (5)");
	hook_bad("max_batch_latency = \"soon\"",
	    "21: max_batch_latency: bad duration \"soon\": expected a number");
	hook_bad("max_batch_latency = true",
	    "21: max_batch_latency: expected a string like \"90s\" or a "
	    "number of seconds, got boolean");
	hook_bad("max_batch_latency = -1",
	    "21: max_batch_latency: negative duration");
	hook_bad("format = \"xml\"",
	    "10: format: must be \"json\" or \"ndjson\"");
	hook_bad("format = 1", "10: format: expected a string, got integer");
	hook_bad("types = [\"Delivery\", \"Bogus\"]",
	    "22: types: unknown record type \"Bogus\"; valid: Any, Reception, "
	    "Delivery, Bounce, TransientFailure, Expiration, AdminBounce, "
	    "OOB, Feedback, Rejection, DeferredInjectionRebind, Delayed, "
	    "XferOut, XferIn");
	hook_bad("types = \"any\"",
	    "9: types: unknown record type \"any\"; valid: Any, Reception, "
	    "Delivery, Bounce, TransientFailure, Expiration, AdminBounce, "
	    "OOB, Feedback, Rejection, DeferredInjectionRebind, Delayed, "
	    "XferOut, XferIn");
	hook_bad("types = []",
	    "9: types: empty; write \"Any\" for every record type");
	hook_bad("types = [1]", "10: types: expected a string, got integer");
	hook_bad("types = 1",
	    "9: types: expected an array of strings, got integer");
	hook_bad("log_parameters = [\"*\"]",
	    "18: log_parameters: expected a table, got array");
	hook_bad("log_parameters = { meta = \"*\" }",
	    "27: log_parameters.meta: expected an array of strings, "
	    "got string");
	hook_bad("log_parameters = { headers = [\"a*b\"] }",
	    "31: log_parameters.headers: bad pattern \"a*b\": write a name, "
	    "\"prefix*\" or \"*\"");
	hook_bad("log_parameters = { meta = [\"\"] }",
	    "28: log_parameters.meta: bad pattern \"\": write a name, "
	    "\"prefix*\" or \"*\"");
	hook_bad("log_parameters = { meta = [\"**\"] }",
	    "28: log_parameters.meta: bad pattern \"**\": write a name, "
	    "\"prefix*\" or \"*\"");
	hook_bad("log_parameters = { meta = [1] }",
	    "28: log_parameters.meta: expected a string, got integer");
	hook_bad("log_parameters = { metas = [] }",
	    "20: unknown key \"metas\"");
	hook_bad("headers = [\"X: y\"]",
	    "11: headers: expected a table, got array");
	hook_bad("headers = { \"Bad Name\" = \"v\" }",
	    "13: headers: bad header name \"Bad Name\"");
	hook_bad("headers = { \"\" = \"v\" }",
	    "13: headers: bad header name \"\"");
	hook_bad("headers = { \"X-A:\" = \"v\" }",
	    "13: headers: bad header name \"X-A:\"");
	hook_bad("headers = { X-A = \"a\\nb\" }",
	    "19: headers: value of \"X-A\" contains CR or LF");
	hook_bad("headers = { X-A = \"a\\rb\" }",
	    "19: headers: value of \"X-A\" contains CR or LF");
	hook_bad("headers = { X-A = 1 }",
	    "19: headers: expected a string, got integer");
	hook_bad("headers = { content-length = \"1\" }",
	    "13: headers: \"content-length\" is set by spoold");
	hook_bad("headers = { Transfer-Encoding = \"chunked\" }",
	    "13: headers: \"Transfer-Encoding\" is set by spoold");
	hook_bad("timeout = \"0s\"", "11: timeout: must be longer than 0s");
	hook_bad("timeout = 0", "11: timeout: must be longer than 0s");
	hook_bad("timeout = \"5\"",
	    "11: timeout: bad duration \"5\": missing unit (ms, s, m, h or d)");
	hook_bad("retry_interval = \"1x\"",
	    "18: retry_interval: bad duration \"1x\": "
	    "unknown unit; use ms, s, m, h or d");
	hook_warns("retry_interval = \"1h\"",
	    "18: hook h: retry_interval (1h) is above max_retry_interval "
	    "(20m): every retry waits 20m");
	hook_warns("max_retry_interval = \"30s\"",
	    "22: hook h: retry_interval (1m) is above max_retry_interval "
	    "(30s): every retry waits 30s");
	hook_bad("max_retry_interval = \"0ms\"",
	    "22: max_retry_interval: must be longer than 0s");
	hook_bad("max_age = []",
	    "11: max_age: expected a string like \"90s\" or a number of "
	    "seconds, got array");
	hook_bad("max_age = \"99999999999999999999s\"",
	    "11: max_age: bad duration \"99999999999999999999s\": too large");
	hook_bad("max_age = 99999999999999999",
	    "11: max_age: too large");
	hook_bad("transient_status = 503",
	    "20: transient_status: expected an array, got integer");
	hook_bad("transient_status = [200]",
	    "21: transient_status: 200 is a success");
	hook_bad("transient_status = [99]",
	    "21: transient_status: bad status 99 (100-599)");
	hook_bad("transient_status = [600]",
	    "21: transient_status: bad status 600 (100-599)");
	hook_bad("transient_status = [\"6xx\"]",
	    "21: transient_status: bad class \"6xx\": "
	    "write \"4xx\" or \"5xx\"");
	hook_bad("transient_status = [\"2xx\"]",
	    "21: transient_status: bad class \"2xx\": "
	    "write \"4xx\" or \"5xx\"");
	hook_bad("transient_status = [true]",
	    "21: transient_status: expected a status or \"4xx\" or \"5xx\", "
	    "got boolean");
	hook_bad("signing_secret = \"c2VjcmV0\"",
	    "18: signing_secret: must start with \"whsec_\"");
	hook_bad("signing_secret = \"whsec_!!!!\"",
	    "18: signing_secret: bad base64 after \"whsec_\"");
	hook_bad("signing_secret = \"whsec_abcde\"",
	    "18: signing_secret: bad base64 after \"whsec_\"");
	hook_bad("signing_secret = \"whsec_ab=c\"",
	    "18: signing_secret: bad base64 after \"whsec_\"");
	hook_bad("signing_secret = \"whsec_\"",
	    "18: signing_secret: empty key");
	hook_bad("signing_secret = 1",
	    "18: signing_secret: expected a string, got integer");
	hook_bad("tls_verify = \"yes\"",
	    "14: tls_verify: expected a boolean, got string");
	hook_bad("ca_file = \"\"", "11: ca_file: must not be empty");
	hook_bad("ca_file = 1", "11: ca_file: expected a string, got integer");
	hook_bad("client_cert = \"/c.pem\"",
	    "15: client_cert: needs client_key");
	hook_bad("client_key = \"/k.pem\"",
	    "14: client_key: needs client_cert");
	hook_bad("connection_limit = 0",
	    "20: connection_limit: must be at least 1");
	hook_bad("connection_limit = \"local:0\"",
	    "20: connection_limit: must be at least 1");
	hook_bad("connection_limit = \"local:x\"",
	    "20: connection_limit: bad limit \"local:x\": write N or "
	    "\"local:N\"");
	hook_bad("connection_limit = \"remote:5\"",
	    "20: connection_limit: bad limit \"remote:5\": write N or "
	    "\"local:N\"");
	hook_bad("connection_limit = 4294967296",
	    "20: connection_limit: must be at most 4294967295");
	hook_bad("connection_limit = 1.5",
	    "20: connection_limit: expected an integer or a string "
	    "\"local:N\", got float");
	hook_bad("max_connection_rate = \"100\"",
	    "23: max_connection_rate: bad rate \"100\": missing period; "
	    "write N/s, N/min, N/h or N/d");
	hook_bad("max_message_rate = 100",
	    "20: max_message_rate: expected a string, got integer");
	hook_bad("max_message_rate = \"0/s\"",
	    "20: max_message_rate: bad rate \"0/s\": limit must be greater "
	    "than 0");
	hook_bad("max_deliveries_per_connection = 0",
	    "33: max_deliveries_per_connection: must be at least 1");
	hook_bad("max_ready = \"5\"",
	    "13: max_ready: expected an integer, got string");
	hook_bad("idle_timeout = \"5 parsecs\"",
	    "16: idle_timeout: bad duration \"5 parsecs\": unknown unit; "
	    "use ms, s, m, h or d");
	hook_bad("system_shutdown_timeout = \"-1s\"",
	    "27: system_shutdown_timeout: bad duration \"-1s\": "
	    "negative duration");
	hook_bad("min_batch_size = \"2\"",
	    "18: min_batch_size: expected an integer, got string");
	hook_bad("timeout = false",
	    "11: timeout: expected a string like \"90s\" or a number of "
	    "seconds, got boolean");
	hook_bad("retry_interval = [1]",
	    "18: retry_interval: expected a string like \"90s\" or a number "
	    "of seconds, got array");
	hook_bad("max_retry_interval = {}",
	    "22: max_retry_interval: expected a string like \"90s\" or a "
	    "number of seconds, got table");
	hook_bad("client_cert = 1",
	    "15: client_cert: expected a string, got integer");
	hook_bad("client_key = true",
	    "14: client_key: expected a string, got boolean");
	hook_bad("max_connection_rate = 10",
	    "23: max_connection_rate: expected a string, got integer");
	hook_bad("max_deliveries_per_connection = 1.0",
	    "33: max_deliveries_per_connection: expected an integer, "
	    "got float");
	hook_bad("idle_timeout = true",
	    "16: idle_timeout: expected a string like \"90s\" or a number of "
	    "seconds, got boolean");
	hook_bad("system_shutdown_timeout = -2.5",
	    "27: system_shutdown_timeout: negative duration");
	hook_bad("system_shutdown_timeout = nan",
	    "27: system_shutdown_timeout: not a number");
	hook_bad("mx_rollup = 1",
	    "13: mx_rollup: expected a boolean, got integer");
}

static void
test_hook_keys(void)
{
	struct config		*cfg;
	const struct hook	*h;
	const char		*out;
	int			 i, good = 1;

	cfg = load(
	    "[hook.zeta]\n"
	    "url = \"https://example.org/hook\"\n"
	    "batch_size = 100\n"
	    "min_batch_size = 10\n"
	    "max_batch_latency = \"2s\"\n"
	    "format = \"ndjson\"\n"
	    "types = [\"Delivery\", \"Bounce\", \"XferIn\"]\n"
	    "log_parameters = { meta = [\"tenant\", \"x_*\"], "
	    "headers = [\"Subject\", \"*\"] }\n"
	    "headers = { X-Source = \"kumo\", Authorization = \"Bearer t0k\", "
	    "\"X.Y\" = \"\" }\n"
	    "timeout = 30\n"
	    "retry_interval = \"30s\"\n"
	    "max_retry_interval = \"1h\"\n"
	    "max_age = \"2 days\"\n"
	    "transient_status = [\"4xx\", 503]\n"
	    "signing_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
	    "tls_verify = false\n"
	    "ca_file = \"/etc/ca.pem\"\n"
	    "client_cert = \"/etc/c.pem\"\n"
	    "client_key = \"/etc/k.pem\"\n"
	    "connection_limit = \"local:4\"\n"
	    "max_connection_rate = \"local:10/s\"\n"
	    "max_message_rate = \"1,000/min\"\n"
	    "max_deliveries_per_connection = 7\n"
	    "max_ready = 99\n"
	    "idle_timeout = 1.5\n"
	    "system_shutdown_timeout = \"1 minute\"\n"
	    "mx_rollup = false\n"
	    "\n"
	    "[hook.alpha]\n"
	    "url = \"http://a/\"\n"
	    "types = [\"Delivery\", \"Any\"]\n"
	    "log_parameters = { meta = [\"*\"] }\n"
	    "transient_status = []\n"
	    "signing_secret = \"whsec_YQ\"\n"
	    "\n"
	    "[hook.\"m.i-d_1\"]\n"
	    "url = \"HTTP://m/\"\n"
	    "types = \"Any\"\n");
	if (!ok(cfg != NULL, "hooks with every key"))
		return;
	is_int(cfg->nhooks, 3, "three hooks");
	is_str(cfg->hooks[0].name, "alpha", "sorted: alpha");
	is_str(cfg->hooks[1].name, "m.i-d_1", "sorted: m.i-d_1");
	is_str(cfg->hooks[2].name, "zeta", "sorted: zeta");
	ok(config_hook(cfg, "nope") == NULL, "config_hook: unknown name");
	ok(config_hook(cfg, "m.i-d_1") == &cfg->hooks[1], "config_hook");

	h = config_hook(cfg, "zeta");
	is_str(h->url, "https://example.org/hook", "url");
	is_int(h->batch_size, 100, "batch_size");
	is_int(h->min_batch_size, 10, "min_batch_size");
	is_int(h->max_batch_latency_ms, 2 * SEC, "max_batch_latency");
	is_int(h->format, FORMAT_NDJSON, "format");
	is_int(h->types, 1 << RT_DELIVERY | 1 << RT_BOUNCE | 1 << RT_XFERIN,
	    "types");
	is_int(h->has_log_parameters, 1, "log_parameters");
	ok(h->lp_meta.n == 2 && strcmp(h->lp_meta.v[0], "tenant") == 0 &&
	    strcmp(h->lp_meta.v[1], "x_*") == 0, "log_parameters.meta");
	ok(h->lp_headers.n == 2 && strcmp(h->lp_headers.v[0], "Subject") == 0
	    && strcmp(h->lp_headers.v[1], "*") == 0, "log_parameters.headers");
	ok(h->nheaders == 3 && strcmp(h->headers[0].name, "X-Source") == 0 &&
	    strcmp(h->headers[0].value, "kumo") == 0 &&
	    strcmp(h->headers[1].name, "Authorization") == 0 &&
	    strcmp(h->headers[1].value, "Bearer t0k") == 0 &&
	    strcmp(h->headers[2].name, "X.Y") == 0 &&
	    strcmp(h->headers[2].value, "") == 0, "headers in order");
	is_int(h->timeout_ms, 30 * SEC, "timeout as integer seconds");
	is_int(h->retry_interval_ms, 30 * SEC, "retry_interval");
	is_int(h->max_retry_interval_ms, HOUR, "max_retry_interval");
	is_int(h->max_age_ms, 2 * DAY, "max_age");
	for (i = 100; i < 600; i++)
		if (h->transient[i] != ((i >= 400 && i < 500) || i == 503))
			good = 0;
	ok(good, "transient_status [\"4xx\", 503]");
	is_str(h->signing_secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "signing_secret as written");
	ok(h->signing_key_len == 24 && h->signing_key[0] == 0x31 &&
	    h->signing_key[1] == 0xf2 && h->signing_key[23] == 0xb0,
	    "signing_key decoded");
	is_int(h->tls_verify, 0, "tls_verify");
	is_str(h->ca_file, "/etc/ca.pem", "ca_file");
	is_str(h->client_cert, "/etc/c.pem", "client_cert");
	is_str(h->client_key, "/etc/k.pem", "client_key");
	is_int(h->shaping.connection_limit, 4, "connection_limit local:4");
	ok(h->shaping.max_connection_rate.n == 10 &&
	    h->shaping.max_connection_rate.per_ms == SEC,
	    "max_connection_rate local:10/s");
	ok(h->shaping.max_message_rate.n == 1000 &&
	    h->shaping.max_message_rate.per_ms == MIN, "max_message_rate");
	is_int(h->shaping.max_deliveries_per_connection, 7,
	    "max_deliveries_per_connection");
	is_int(h->shaping.max_ready, 99, "max_ready");
	is_int(h->shaping.idle_timeout_ms, 1500, "idle_timeout as float");
	is_int(h->shaping.system_shutdown_timeout_ms, MIN,
	    "system_shutdown_timeout");
	is_int(h->shaping.mx_rollup, 0, "mx_rollup");

	h = config_hook(cfg, "alpha");
	is_int(h->types, RT_ALL, "Any in a list means all");
	ok(h->has_log_parameters && h->lp_meta.n == 1 && h->lp_headers.n == 0,
	    "log_parameters without headers");
	for (good = 1, i = 0; i < 600; i++)
		if (h->transient[i])
			good = 0;
	ok(good, "empty transient_status");
	ok(h->signing_key_len == 1 && h->signing_key[0] == 'a',
	    "unpadded base64");
	h = config_hook(cfg, "m.i-d_1");
	is_str(h->url, "HTTP://m/", "scheme in capitals");

	out = printed(cfg);
	line_ok(out, "[hook.zeta]");
	line_ok(out, "[hook.\"m.i-d_1\"]");
	line_ok(out, "format = \"ndjson\"");
	line_ok(out, "types = [\"Delivery\", \"Bounce\", \"XferIn\"]");
	line_ok(out, "log_parameters = { meta = [\"tenant\", \"x_*\"], "
	    "headers = [\"Subject\", \"*\"] }");
	line_ok(out, "log_parameters = { meta = [\"*\"], headers = [] }");
	line_ok(out, "headers = { X-Source = \"kumo\", Authorization = (set), "
	    "\"X.Y\" = \"\" }");
	ok(strstr(out, "t0k") == NULL, "Authorization value not printed");
	line_ok(out, "timeout = 30s");
	line_ok(out, "max_age = 2d");
	line_ok(out, "transient_status = [\"4xx\", 503]");
	line_ok(out, "transient_status = []");
	line_ok(out, "signing_secret = (set)");
	ok(strstr(out, "MfKQ") == NULL, "signing secret not printed");
	line_ok(out, "tls_verify = false");
	line_ok(out, "ca_file = \"/etc/ca.pem\"");
	line_ok(out, "connection_limit = 4");
	line_ok(out, "max_connection_rate = 10/s");
	line_ok(out, "max_message_rate = 1000/min");
	line_ok(out, "idle_timeout = 1500ms");
	line_ok(out, "system_shutdown_timeout = 1m");
	line_ok(out, "mx_rollup = false");
	config_free(cfg);
}

/* url's scheme chooses the transport; each has its keys and defaults. */
static void
test_broker_keys(void)
{
	struct config	*cfg;
	const char	*out;
	char		 msg[256];

	cfg = load("[hook.ev]\nurl = \"amqp://spool:s3cret@mq:5672/%2f\"\n");
	if (ok(cfg != NULL && cfg->hooks[0].transport == TRANSPORT_AMQP,
	    "amqp:// is AMQP")) {
		is_str(cfg->hooks[0].exchange, "", "exchange: default \"\"");
		is_str(cfg->hooks[0].routing_key, "ev",
		    "routing_key: default the hook's name");
		ok(cfg->hooks[0].persistent && cfg->hooks[0].mandatory,
		    "persistent and mandatory: default true");
		out = printed(cfg);
		line_ok(out, "url = \"amqp://spool:(set)@mq:5672/%2f\"");
		line_ok(out, "exchange = \"\"");
		line_ok(out, "routing_key = \"ev\"");
		line_ok(out, "mandatory = true");
		ok(!has_line(out, "format = \"json\""),
		    "no format for AMQP");
		ok(config_exposed(cfg, 0, 0, msg, sizeof(msg)) == 0 ||
		    strstr(msg, "password in the url") != NULL,
		    "the url's password is a secret");
	}
	config_free(cfg);
	cfg = load("[hook.ev]\nurl = \"AMQPS://mq/\"\nexchange = \"logs\"\n"
	    "routing_key = \"kumo.#\"\npersistent = false\n"
	    "mandatory = false\n");
	ok(cfg != NULL && cfg->hooks[0].transport == TRANSPORT_AMQP &&
	    strcmp(cfg->hooks[0].exchange, "logs") == 0 &&
	    strcmp(cfg->hooks[0].routing_key, "kumo.#") == 0 &&
	    !cfg->hooks[0].persistent && !cfg->hooks[0].mandatory,
	    "amqps://: the AMQP keys as written");
	config_free(cfg);
	cfg = load("[hook.k]\nurl = \"kafka://b1:9092,b2:9092\"\n"
	    "topic = \"events\"\nkey = \"recipient\"\n"
	    "kafka = { compression.type = \"lz4\", \"linger.ms\" = 5, "
	    "acks = 1, \"enable.idempotence\" = false, "
	    "\"sasl.password\" = \"pw\" }\n");
	if (ok(cfg != NULL && cfg->hooks[0].transport == TRANSPORT_KAFKA,
	    "kafka:// is Kafka")) {
		out = printed(cfg);
		line_ok(out, "topic = \"events\"");
		line_ok(out, "key = \"recipient\"");
		line_ok(out, "kafka = { \"compression.type\" = \"lz4\", "
		    "\"linger.ms\" = \"5\", acks = \"1\", "
		    "\"enable.idempotence\" = \"false\", "
		    "\"sasl.password\" = (set) }");
	}
	config_free(cfg);
	cfg = load("[hook.k]\nurl = \"kafka://b1:9092\"\ntopic = \"t\"\n"
	    "[hook.k.kafka]\n\"linger.ms\" = \"5\"\n");
	if (ok(cfg != NULL, "a [hook.NAME.kafka] table"))
		line_ok(printed(cfg), "kafka = { acks = \"all\", "
		    "\"enable.idempotence\" = \"true\", "
		    "\"linger.ms\" = \"5\" }");
	config_free(cfg);
	bad("[hook.k]\nurl = \"kafka://b1:9092\"\n",
	    "spoold.conf:2:7: hook \"k\": kafka:// needs topic");
	bad("[hook.k]\nurl = \"kafka://\"\ntopic = \"t\"\n",
	    "spoold.conf:2:7: url: missing brokers");
	bad("[hook.k]\nurl = \"kafka://b1:9092,,b2:1\"\ntopic = \"t\"\n",
	    "spoold.conf:2:7: url: brokers are host:port, comma-separated");
	bad("[hook.k]\nurl = \"kafka://b\"\ntopic = \"t\"\n"
	    "kafka = { \"bootstrap.servers\" = \"x:1\" }\n",
	    "spoold.conf:4:11: kafka: bootstrap.servers comes from the "
	    "hook's url");
	bad("[hook.k]\nurl = \"kafka://b\"\ntopic = \"t\"\n"
	    "kafka = { message.timeout.ms = 5 }\n",
	    "spoold.conf:4:27: kafka: message.timeout.ms comes from the "
	    "hook's timeout");
	bad("[hook.k]\nurl = \"kafka://b\"\ntopic = \"t\"\n"
	    "kafka = { \"linger.ms\" = 1.5 }\n",
	    "spoold.conf:4:25: linger.ms: expected a string, an integer or a "
	    "boolean, got float");
	bad("[hook.k]\nurl = \"kafka://b\"\ntopic = \"t\"\nkafka = 1\n",
	    "spoold.conf:4:9: kafka: expected a table, got integer");
	bad("[hook.a]\nurl = \"amqp://mq:99999/\"\n",
	    "spoold.conf:2:7: url: bad port");
	bad("[hook.a]\nurl = \"amqp://u:p@/\"\n",
	    "spoold.conf:2:7: url: missing host");
	bad("[hook.h]\nurl = \"http://h/\"\nexchange = \"x\"\n",
	    "spoold.conf:3:12: exchange: only for amqp hooks, and url is "
	    "http://...");
	bad("[hook.h]\nurl = \"amqp://h/\"\ntopic = \"x\"\n",
	    "spoold.conf:3:9: topic: only for kafka hooks, and url is "
	    "amqp://...");
	bad("[hook.h]\nurl = \"kafka://h:1\"\ntopic = \"x\"\n"
	    "format = \"ndjson\"\n",
	    "spoold.conf:4:10: format: only for http hooks, and url is "
	    "kafka://...");
	bad("[hook.h]\nurl = \"amqp://h/\"\ntransient_status = [\"4xx\"]\n",
	    "spoold.conf:3:20: transient_status: only for http hooks, and url "
	    "is amqp://...");
}

static void
test_shaping_merge(void)
{
	struct config		*cfg;
	const struct hook	*h;
	const char		*out;

	writefile("s1.toml",
	    "[\"default\"]\n"
	    "connection_limit = 10\n"
	    "max_ready = 50\n"
	    "idle_timeout = \"60s\"\n"
	    "data_timeout = \"30s\"\n"
	    "\n"
	    "[\"web.log_hook\"]\n"
	    "connection_limit = \"local:5\"\n"
	    "max_message_rate = \"100/s\"\n"
	    "enable_tls = \"Required\"\n"
	    "\n"
	    "[\"gone.log_hook\"]\n"
	    "connection_limit = \"nonsense\"\n");
	writefile("s2.toml",
	    "[\"default\"]\n"
	    "max_ready = 60\n"
	    "max_deliveries_per_connection = 3\n"
	    "\n"
	    "['web.log_hook']\n"
	    "max_connection_rate = \"5/min\"\n"
	    "\n"
	    "[\"other.log_hook\"]\n"
	    "replace_base = true\n"
	    "max_ready = 7\n");
	cfg = load(
	    "shaping = [\"s1.toml\", \"s2.toml\"]\n"
	    "[hook.web]\n"
	    "url = \"http://w/\"\n"
	    "max_ready = 1000\n"
	    "[hook.other]\n"
	    "url = \"http://o/\"\n");
	if (!ok(cfg != NULL, "two shaping files"))
		return;
	ok(cfg->nshaping == 2 && strcmp(cfg->shaping[0], "s1.toml") == 0 &&
	    strcmp(cfg->shaping[1], "s2.toml") == 0, "shaping paths kept");
	h = config_hook(cfg, "web");
	is_int(h->shaping.connection_limit, 5,
	    "log_hook over default, \"local:5\"");
	is_int(h->shaping.max_ready, 1000, "hook table wins over shaping");
	is_int(h->shaping.idle_timeout_ms, 60 * SEC, "default from file 1");
	is_int(h->shaping.max_deliveries_per_connection, 3,
	    "default from file 2");
	ok(h->shaping.max_message_rate.n == 100 &&
	    h->shaping.max_message_rate.per_ms == SEC,
	    "log_hook from file 1");
	ok(h->shaping.max_connection_rate.n == 5 &&
	    h->shaping.max_connection_rate.per_ms == MIN,
	    "log_hook from file 2");
	h = config_hook(cfg, "other");
	is_int(h->shaping.connection_limit, 10, "default applies to other");
	is_int(h->shaping.max_ready, 7, "later log_hook over merged default");
	out = printed(cfg);
	line_ok(out, "ignored key \"data_timeout\" at s1.toml:5:1");
	line_ok(out, "ignored key \"enable_tls\" at s1.toml:10:1");
	line_ok(out, "ignored section \"gone.log_hook\" at s1.toml:12:2");
	ok(strstr(out, "\"web.log_hook\"") == NULL &&
	    strstr(out, "\"other.log_hook\"") == NULL &&
	    strstr(out, "section \"default\"") == NULL,
	    "used sections are not listed as ignored");
	is_str(strstr(out, "[hook.web]"),
	    "[hook.web]\n"
	    "url = \"http://w/\"                          "
	    "# spoold.conf:3 [hook.web]\n"
	    HTTP_BUILT_IN
	    "connection_limit = 5                       "
	    "# s1.toml:8 ['web.log_hook']\n"
	    "max_connection_rate = 5/min                "
	    "# s2.toml:6 ['web.log_hook']\n"
	    "max_message_rate = 100/s                   "
	    "# s1.toml:9 ['web.log_hook']\n"
	    "max_deliveries_per_connection = 3          "
	    "# s2.toml:3 [\"default\"]\n"
	    "max_ready = 1000                           "
	    "# spoold.conf:4 [hook.web]\n"
	    "idle_timeout = 1m                          "
	    "# s1.toml:4 [\"default\"]\n"
	    "system_shutdown_timeout = 30s              # built-in\n"
	    "mx_rollup = true                           # built-in\n"
	    "ignored key \"data_timeout\" at s1.toml:5:1\n"
	    "ignored key \"enable_tls\" at s1.toml:10:1\n"
	    "\n"
	    "ignored section \"gone.log_hook\" at s1.toml:12:2\n",
	    "config_print of a hook with shaping");
	config_free(cfg);

	/* replace_base in a later default drops what the first one said. */
	writefile("s3.toml",
	    "[default]\n"
	    "replace_base = true\n"
	    "max_ready = 70\n");
	cfg = load(
	    "shaping = [\"s1.toml\", \"s3.toml\"]\n"
	    "[hook.web]\n"
	    "url = \"http://w/\"\n");
	if (ok(cfg != NULL, "replace_base in default")) {
		h = config_hook(cfg, "web");
		is_int(h->shaping.max_ready, 70, "replaced default applies");
		is_int(h->shaping.idle_timeout_ms, 5 * SEC,
		    "earlier default dropped");
		is_int(h->shaping.connection_limit, 5,
		    "log_hook of file 1 still applies");
		out = printed(cfg);
		ok(strstr(out, "data_timeout") == NULL,
		    "dropped keys are not listed");
	}
	config_free(cfg);

	/* replace_base in a later log_hook drops the earlier log_hook only. */
	writefile("s4.toml",
	    "['web.log_hook']\n"
	    "replace_base = true\n"
	    "max_ready = 80\n");
	cfg = load(
	    "shaping = [\"s1.toml\", \"s4.toml\"]\n"
	    "[hook.web]\n"
	    "url = \"http://w/\"\n");
	if (ok(cfg != NULL, "replace_base in a log_hook")) {
		h = config_hook(cfg, "web");
		is_int(h->shaping.connection_limit, 10,
		    "earlier log_hook dropped, default shows");
		is_int(h->shaping.max_message_rate.n, 0,
		    "earlier log_hook rate dropped");
		is_int(h->shaping.max_ready, 80, "replacing log_hook applies");
		is_int(h->shaping.idle_timeout_ms, 60 * SEC, "default kept");
	}
	config_free(cfg);

	/* replace_base = false merges as usual. */
	writefile("s5.toml",
	    "['web.log_hook']\n"
	    "replace_base = false\n"
	    "max_ready = 90\n");
	cfg = load(
	    "shaping = [\"s1.toml\", \"s5.toml\"]\n"
	    "[hook.web]\n"
	    "url = \"http://w/\"\n");
	if (ok(cfg != NULL, "replace_base = false")) {
		h = config_hook(cfg, "web");
		is_int(h->shaping.connection_limit, 5, "earlier log_hook kept");
		is_int(h->shaping.max_ready, 90, "later log_hook merged");
	}
	config_free(cfg);

	/* With no hook, default is an unused section but still checked. */
	cfg = load("shaping = [\"s1.toml\"]\n");
	if (ok(cfg != NULL, "shaping without hooks")) {
		out = printed(cfg);
		line_ok(out, "ignored section \"default\" at s1.toml:1:2");
		line_ok(out, "ignored section \"web.log_hook\" at s1.toml:7:2");
		ok(strstr(out, "ignored key") == NULL, "no ignored keys");
	}
	config_free(cfg);
}

static void
test_shaping_values(void)
{
	struct config		*cfg;
	const struct hook	*h;

	writefile("v.toml",
	    "[default]\n"
	    "idle_timeout = 90\n"
	    "system_shutdown_timeout = \"1h 30m\"\n"
	    "max_connection_rate = \"10_000/h\"\n"
	    "connection_limit = \"12\"\n"
	    "mx_rollup = false\n"
	    "[default.sources.\"x\"]\n"
	    "connection_limit = 1\n");
	cfg = load("shaping = [\"v.toml\"]\n[hook.h]\nurl = \"http://h/\"\n");
	if (ok(cfg != NULL, "shaping value spellings")) {
		h = &cfg->hooks[0];
		is_int(h->shaping.idle_timeout_ms, 90 * SEC,
		    "integer seconds");
		is_int(h->shaping.system_shutdown_timeout_ms, 90 * MIN,
		    "humantime");
		ok(h->shaping.max_connection_rate.n == 10000 &&
		    h->shaping.max_connection_rate.per_ms == HOUR,
		    "10_000/h");
		is_int(h->shaping.connection_limit, 12, "limit as a string");
		is_int(h->shaping.mx_rollup, 0, "mx_rollup");
		line_ok(printed(cfg), "ignored key \"sources\" at v.toml:7:10");
	}
	config_free(cfg);

	writefile("e.toml", "[default]\nconnection_limit = 0\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:20: connection_limit: must be at least 1");
	writefile("e.toml", "[default]\nmax_message_rate = \"fast\"\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:20: max_message_rate: bad rate \"fast\": "
	    "expected a number");
	writefile("e.toml", "[default]\nidle_timeout = \"1 eon\"\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:16: idle_timeout: bad duration \"1 eon\": "
	    "unknown unit; use ms, s, m, h or d");
	writefile("e.toml", "[default]\nmax_ready = \"lots\"\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:13: max_ready: expected an integer, got string");
	writefile("e.toml", "[default]\nmx_rollup = \"no\"\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:13: mx_rollup: expected a boolean, got string");
	writefile("e.toml", "[default]\nreplace_base = 1\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:2:16: replace_base: expected a boolean, got integer");
	writefile("e.toml", "default = 5\n");
	bad("shaping = [\"e.toml\"]\n",
	    "e.toml:1:11: \"default\": expected a table, got integer");
	writefile("e.toml",
	    "['h.log_hook']\nmax_deliveries_per_connection = -1\n");
	bad("shaping = [\"e.toml\"]\n[hook.h]\nurl = \"http://h/\"\n",
	    "e.toml:2:33: max_deliveries_per_connection: must be at least 1");
	/* An unused section is not checked: KumoMTA reads it, not spoold. */
	writefile("e.toml", "['x.log_hook']\nconnection_limit = 0\n");
	cfg = load("shaping = [\"e.toml\"]\n");
	ok(cfg != NULL, "unused log_hook section not checked");
	config_free(cfg);

	writefile("e.toml", "[default]\nconnection_limit = \n");
	writefile("spoold.conf", "shaping = [\"e.toml\"]\n");
	cfg = config_load("spoold.conf", err, sizeof(err));
	ok(cfg == NULL && strncmp(err, "e.toml:2:", 9) == 0,
	    "shaping syntax error at its position: %s", err);
	config_free(cfg);

	bad("\nshaping = [\"s1.toml\", \"missing.toml\"]\n",
	    "spoold.conf:2:23: shaping: \"missing.toml\": "
	    "No such file or directory");
	bad("shaping = \"sub\"\n",
	    "spoold.conf:1:11: shaping: \"sub\": Is a directory");
}

/* config_origin() of h's key is want. */
static void
origin_is(const struct hook *h, const char *key, const char *want)
{
	const char	*o = h != NULL ? config_origin(h, key) : NULL;

	is_str(o != NULL ? o : "(null)", want, "origin of %s", key);
}

/* Each setting's origin: the hook's table, a shaping section, built in. */
static void
test_origins(void)
{
	struct config		*cfg;
	const struct hook	*h;

	writefile("o1.toml",
	    "[\"default\"]\n"
	    "connection_limit = 20\n"
	    "max_ready = 2000\n"
	    "idle_timeout = \"60s\"\n"
	    "\n"
	    "['a.log_hook']\n"
	    "max_ready = 3000\n");
	writefile("o2.toml",
	    "[default]\n"
	    "idle_timeout = \"90s\"\n"
	    "[\"a.log_hook\"]\n"
	    "mx_rollup = false\n");
	cfg = load(
	    "shaping = [\"o1.toml\", \"o2.toml\"]\n"
	    "[hook.a]\n"
	    "url = \"http://a/\"\n"
	    "batch_size = 10\n"
	    "mx_rollup = true\n"
	    "headers = { X-Tenant = \"t\" }\n"
	    "signing_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n");
	if (!ok(cfg != NULL, "origins: a hook over two shaping files"))
		return;
	h = config_hook(cfg, "a");
	origin_is(h, "url", "spoold.conf:3 [hook.a]");
	origin_is(h, "batch_size", "spoold.conf:4 [hook.a]");
	origin_is(h, "headers", "spoold.conf:6 [hook.a]");
	origin_is(h, "signing_secret", "spoold.conf:7 [hook.a]");
	origin_is(h, "min_batch_size", "built-in");
	origin_is(h, "transient_status", "built-in");
	origin_is(h, "connection_limit", "o1.toml:2 [\"default\"]");
	origin_is(h, "idle_timeout", "o2.toml:2 [\"default\"]");
	origin_is(h, "max_ready", "o1.toml:7 ['a.log_hook']");
	origin_is(h, "mx_rollup", "spoold.conf:5 [hook.a]");
	origin_is(h, "max_message_rate", "built-in");
	origin_is(h, "exchange", "built-in");
	origin_is(h, "nonsense", "(null)");
	origin_is(h, "data_timeout", "(null)");
	line_ok(printed(cfg), "signing_secret = (set)                     "
	    "# spoold.conf:7 [hook.a]");
	line_ok(printed(cfg), "max_ready = 3000                           "
	    "# o1.toml:7 ['a.log_hook']");
	config_free(cfg);

	/* replace_base drops the origins of the keys it drops. */
	writefile("o3.toml", "[\"default\"]\nreplace_base = true\n"
	    "max_ready = 4000\n");
	cfg = load("shaping = [\"o1.toml\", \"o3.toml\"]\n"
	    "[hook.\"b.c\"]\nurl = \"http://b/\"\nmax_batch_latency = 2\n");
	if (ok(cfg != NULL, "origins: replace_base")) {
		h = config_hook(cfg, "b.c");
		origin_is(h, "connection_limit", "built-in");
		origin_is(h, "max_ready", "o3.toml:3 [\"default\"]");
		origin_is(h, "max_batch_latency",
		    "spoold.conf:4 [hook.\"b.c\"]");
		line_ok(printed(cfg), "max_batch_latency = 2s                     "
		    "# spoold.conf:4 [hook.\"b.c\"]");
	}
	config_free(cfg);

	/* Each transport's own keys. */
	cfg = load("[hook.q]\nurl = \"amqp://mq/\"\nexchange = \"logs\"\n"
	    "[hook.k]\nurl = \"kafka://b:9092\"\ntopic = \"t\"\n"
	    "[hook.k.kafka]\n\"linger.ms\" = \"5\"\n");
	if (ok(cfg != NULL, "origins: AMQP and Kafka keys")) {
		h = config_hook(cfg, "q");
		origin_is(h, "exchange", "spoold.conf:3 [hook.q]");
		origin_is(h, "routing_key", "built-in");
		origin_is(h, "persistent", "built-in");
		h = config_hook(cfg, "k");
		origin_is(h, "topic", "spoold.conf:6 [hook.k]");
		origin_is(h, "key", "built-in");
		origin_is(h, "kafka", "spoold.conf:7 [hook.k]");
		line_ok(printed(cfg), "routing_key = \"q\"                     "
		    "# built-in");
	}
	config_free(cfg);
}

/* Loads text over the shaping file t.toml holding shaping. */
static struct config *
load_shaped(const char *shaping, const char *text)
{
	char	 conf[2048];

	writefile("t.toml", shaping);
	snprintf(conf, sizeof(conf), "shaping = [\"t.toml\"]\n%s", text);
	return load(conf);
}

/* Loading gives no warning. */
static void
no_warning(struct config *cfg, const char *what)
{
	ok(cfg != NULL && cfg->nwarnings == 0, "no warning: %s", what);
	if (cfg != NULL && cfg->nwarnings > 0)
		diag("%s", cfg->warnings[0]);
	config_free(cfg);
}

#define ADVICE_TAIL(hook) "; its records back up behind them. Add to a " \
	"shaping file, as KumoMTA advises for a log hook:\n" \
	"    ['" hook ".log_hook']\n" \
	"    connection_limit = \"local:10\"\n" \
	"    max_connection_rate = \"1000/s\"\n" \
	"    max_deliveries_per_connection = 8192\n"
#define ADVICE_END \
	"    max_ready = 10000\n" \
	"    mx_rollup = false\n" \
	"    system_shutdown_timeout = \"30s\""

/* A hook taking limits tighter than KumoMTA's advice from ["default"]. */
static void
test_advice(void)
{
	struct config	*cfg;
	const char	*mail =
	    "[\"default\"]\n"
	    "connection_limit = \"local:4\"\n"
	    "max_connection_rate = \"100/min\"\n"
	    "max_message_rate = \"100/s\"\n"
	    "max_deliveries_per_connection = 100\n"
	    "max_ready = 50\n"
	    "idle_timeout = \"60s\"\n";
	char		 sh[1024];

	cfg = load_shaped(mail, "[hook.a]\nurl = \"http://a/\"\n");
	if (!ok(cfg != NULL && cfg->nwarnings == 1,
	    "inherited limits: one warning"))
		goto next;
	is_str(cfg->warnings[0], "t.toml:2:20: hook a takes mail-grade "
	    "limits from [\"default\"]: connection_limit = \"local:4\" "
	    "(t.toml:2), max_connection_rate = \"100/min\" (t.toml:3), "
	    "max_deliveries_per_connection = 100 (t.toml:5), "
	    "max_message_rate = \"100/s\" (t.toml:4), max_ready = 50 "
	    "(t.toml:6)" ADVICE_TAIL("a")
	    "    max_message_rate = \"10000/s\"\n" ADVICE_END,
	    "names each key, its value and place, and the section to add");
next:
	config_free(cfg);

	/* One warning a hook, whatever its transport. */
	cfg = load_shaped(mail, "[hook.a]\nurl = \"http://a/\"\n"
	    "[hook.q]\nurl = \"amqp://mq/\"\n"
	    "[hook.k]\nurl = \"kafka://b:1\"\ntopic = \"t\"\n");
	ok(cfg != NULL && cfg->nwarnings == 3, "three hooks, three warnings");
	ok(cfg != NULL && cfg->nwarnings == 3 &&
	    strstr(cfg->warnings[0], "hook a takes") != NULL &&
	    strstr(cfg->warnings[1], "hook q takes") != NULL &&
	    strstr(cfg->warnings[2], "hook k takes") != NULL &&
	    strstr(cfg->warnings[2], "['k.log_hook']") != NULL,
	    "HTTP, Kafka and AMQP hooks alike");
	config_free(cfg);

	/* Only what is still inherited is named. */
	snprintf(sh, sizeof(sh), "%s['a.log_hook']\nconnection_limit = 10\n"
	    "max_connection_rate = \"1000/s\"\nmax_message_rate = "
	    "\"20000/s\"\n", mail);
	cfg = load_shaped(sh, "[hook.a]\nurl = \"http://a/\"\n"
	    "max_ready = 10000\n");
	if (ok(cfg != NULL && cfg->nwarnings == 1, "some keys overridden"))
		is_str(cfg->warnings[0], "t.toml:5:33: hook a takes "
		    "mail-grade limits from [\"default\"]: "
		    "max_deliveries_per_connection = 100 (t.toml:5)"
		    ADVICE_TAIL("a") ADVICE_END,
		    "the one key left; no message rate to lift");
	config_free(cfg);

	snprintf(sh, sizeof(sh), "%s['a.log_hook']\nconnection_limit = "
	    "\"local:10\"\nmax_connection_rate = \"1000/s\"\n"
	    "max_message_rate = \"10000/s\"\n"
	    "max_deliveries_per_connection = 8192\nmax_ready = 10000\n",
	    mail);
	no_warning(load_shaped(sh, "[hook.a]\nurl = \"http://a/\"\n"),
	    "the hook's own section sets every limit");
	no_warning(load_shaped(mail, "[hook.a]\nurl = \"http://a/\"\n"
	    "connection_limit = 10\nmax_connection_rate = \"1000/s\"\n"
	    "max_message_rate = \"10000/s\"\n"
	    "max_deliveries_per_connection = 8192\nmax_ready = 10000\n"),
	    "the hook's table sets every limit");
	no_warning(load_shaped("['a.log_hook']\nmax_ready = 5\n",
	    "[hook.a]\nurl = \"http://a/\"\n"), "no [\"default\"]");
	no_warning(load_shaped("[\"default\"]\nconnection_limit = 10\n"
	    "max_connection_rate = \"60000/min\"\nmax_message_rate = "
	    "\"10000/s\"\nmax_deliveries_per_connection = 8192\n"
	    "max_ready = 10000\nidle_timeout = \"1s\"\n",
	    "[hook.a]\nurl = \"http://a/\"\n"),
	    "[\"default\"] no tighter than the advice");
	no_warning(load_shaped(mail, ""), "no hook");

	/* replace_base: in a later ["default"], in a later own section. */
	writefile("u.toml", "[\"default\"]\nreplace_base = true\n"
	    "idle_timeout = \"5s\"\n");
	writefile("t.toml", mail);
	no_warning(load("shaping = [\"t.toml\", \"u.toml\"]\n[hook.a]\n"
	    "url = \"http://a/\"\n"), "a later [\"default\"] replaces it");
	writefile("v.toml", "['a.log_hook']\nmax_ready = 9\n"
	    "max_deliveries_per_connection = 10000\n");
	writefile("w.toml", "['a.log_hook']\nreplace_base = true\n"
	    "max_deliveries_per_connection = 10000\n");
	snprintf(sh, sizeof(sh), "%s['a.log_hook']\nconnection_limit = 10\n"
	    "max_connection_rate = \"1000/s\"\nmax_message_rate = "
	    "\"20000/s\"\n", mail);
	writefile("t.toml", sh);
	cfg = load("shaping = [\"t.toml\", \"v.toml\", \"w.toml\"]\n"
	    "[hook.a]\nurl = \"http://a/\"\n");
	if (ok(cfg != NULL && cfg->nwarnings == 1,
	    "a later own section with replace_base"))
		is_str(cfg->warnings[0], "t.toml:2:20: hook a takes "
		    "mail-grade limits from [\"default\"]: connection_limit = "
		    "\"local:4\" (t.toml:2), max_connection_rate = \"100/min\" "
		    "(t.toml:3), max_message_rate = \"100/s\" (t.toml:4), "
		    "max_ready = 50 (t.toml:6)" ADVICE_TAIL("a")
		    "    max_message_rate = \"10000/s\"\n" ADVICE_END,
		    "what the replaced sections set is inherited again");
	config_free(cfg);
}

static void
test_paths(void)
{
	struct config	*cfg;
	char		 abs[PATH_MAX + 32], text[PATH_MAX + 128];

	writefile("sub/rel.toml", "[default]\nmax_ready = 5\n");
	writefile("sub/spoold.conf",
	    "shaping = [\"rel.toml\"]\n[hook.h]\nurl = \"http://h/\"\n");
	cfg = config_load("sub/spoold.conf", err, sizeof(err));
	if (ok(cfg != NULL, "relative shaping path")) {
		is_str(cfg->shaping[0], "sub/rel.toml",
		    "resolved against the configuration's directory");
		is_int(cfg->hooks[0].shaping.max_ready, 5, "and loaded");
	} else
		diag("%s", err);
	config_free(cfg);

	snprintf(abs, sizeof(abs), "%s/sub/rel.toml", tmpdir);
	snprintf(text, sizeof(text), "shaping = \"%s\"\n", abs);
	writefile("sub/spoold.conf", text);
	cfg = config_load("sub/spoold.conf", err, sizeof(err));
	if (ok(cfg != NULL, "absolute shaping path"))
		is_str(cfg->shaping[0], abs, "kept as written");
	config_free(cfg);

	cfg = config_load("nope.conf", err, sizeof(err));
	ok(cfg == NULL, "missing configuration");
	is_str(err, "nope.conf: No such file or directory", "its error");
	cfg = config_load("spoold.conf", err, 0);
	ok(cfg != NULL || cfg == NULL, "errlen 0 does not crash");
	config_free(cfg);
	writefile("spoold.conf", "spool_dir = 1\n");
	cfg = config_load("spoold.conf", err, 12);
	ok(cfg == NULL && strlen(err) == 11, "error text cut to errlen");
}

static void
test_fixture(void)
{
	struct config		*cfg;
	const struct hook	*h;
	const char		*out, *p, *e;
	char			 text[PATH_MAX + 128], line[4 * PATH_MAX + 1024];
	size_t			 i;
	static const struct {
		const char	*key;
		int		 line;
	} keys[] = {
		{ "data_timeout", 62 },
		{ "data_dot_timeout", 63 },
		{ "enable_tls", 64 },
		{ "consecutive_connection_failures_before_delay", 65 },
		{ "remember_broken_tls", 66 },
	};

	if (fixture[0] == '\0') {
		ok(1, "fixture # SKIP no kumomta-shaping.toml");
		return;
	}
	snprintf(text, sizeof(text), "shaping = [\"%s\"]\n"
	    "[hook.webhook]\nurl = \"http://127.0.0.1:8080/events\"\n",
	    fixture);
	cfg = load(text);
	if (!ok(cfg != NULL, "the KumoMTA shaping file loads"))
		return;
	h = config_hook(cfg, "webhook");
	is_int(h->shaping.connection_limit, 10,
	    "connection_limit 10 from [\"default\"]");
	ok(h->shaping.max_connection_rate.n == 100 &&
	    h->shaping.max_connection_rate.per_ms == MIN,
	    "max_connection_rate 100/min");
	ok(h->shaping.max_message_rate.n == 100 &&
	    h->shaping.max_message_rate.per_ms == SEC,
	    "max_message_rate 100/s");
	is_int(h->shaping.max_deliveries_per_connection, 100,
	    "max_deliveries_per_connection");
	is_int(h->shaping.idle_timeout_ms, 60 * SEC, "idle_timeout");
	is_int(h->shaping.max_ready, 1024, "max_ready default");
	snprintf(line, sizeof(line), "%s:57 [\"default\"]", fixture);
	origin_is(h, "connection_limit", line);
	snprintf(line, sizeof(line), "%s:58:23: hook webhook takes mail-grade "
	    "limits from [\"default\"]: max_connection_rate = \"100/min\" "
	    "(%s:58), max_deliveries_per_connection = 100 (%s:59), "
	    "max_message_rate = \"100/s\" (%s:60)" ADVICE_TAIL("webhook")
	    "    max_message_rate = \"10000/s\"\n" ADVICE_END, fixture,
	    fixture, fixture, fixture);
	if (ok(cfg->nwarnings == 1, "the fixture: one warning"))
		is_str(cfg->warnings[0], line, "the fixture's mail-grade limits");
	out = printed(cfg);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(line, sizeof(line), "ignored key \"%s\" at %s:%d:1",
		    keys[i].key, fixture, keys[i].line);
		line_ok(out, line);
	}
	snprintf(line, sizeof(line), "ignored key \"automation\" at %s:74:",
	    fixture);
	ok(strstr(out, line) != NULL, "automation listed as ignored");
	snprintf(line, sizeof(line), "ignored section \"provider\" at %s:94:2",
	    fixture);
	line_ok(out, line);
	snprintf(line, sizeof(line), "ignored section \"comcast.net\" at "
	    "%s:158:2", fixture);
	line_ok(out, line);
	snprintf(line, sizeof(line), "ignored section "
	    "\"http://127.0.0.1:8008.tsa.kumomta\" at %s:234:2", fixture);
	line_ok(out, line);
	line_ok(out, "connection_limit = 10");
	line_ok(out, "max_connection_rate = 100/min");
	line_ok(out, "max_message_rate = 100/s");
	line_ok(out, "idle_timeout = 1m");
	diag("config_print of the fixture:");
	for (p = out; *p != '\0'; p = e + (*e != '\0')) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		diag("  %.*s", (int)(e - p), p);
	}
	config_free(cfg);

	/* A hook named after a section takes its log_hook section. */
	writefile("fx.toml", "['webhook.log_hook']\nconnection_limit = 2\n");
	snprintf(text, sizeof(text), "shaping = [\"%s\", \"fx.toml\"]\n"
	    "[hook.webhook]\nurl = \"http://127.0.0.1:8080/events\"\n",
	    fixture);
	cfg = load(text);
	if (ok(cfg != NULL, "fixture and a local file"))
		is_int(cfg->hooks[0].shaping.connection_limit, 2,
		    "log_hook in a later file over the fixture's default");
	config_free(cfg);
}

static void
test_example(void)
{
	struct config	*cfg;

	if (example[0] == '\0') {
		ok(0, "etc/spoold.conf exists");
		return;
	}
	cfg = config_load(example, err, sizeof(err));
	if (!ok(cfg != NULL, "etc/spoold.conf loads"))
		diag("%s", err);
	else
		ok(config_hook(cfg, "example") != NULL,
		    "with its example hook");
	config_free(cfg);
}

int
main(void)
{
	const char	*f;

	f = getenv("SPOOLD_SHAPING_FIXTURE");
	if (f == NULL)
		f = "../shared/fixtures/kumomta-shaping.toml";
	if (realpath(f, fixture) == NULL)
		fixture[0] = '\0';
	if (realpath("etc/spoold.conf", example) == NULL)
		example[0] = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "%s/spoold-config.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) == -1 ||
	    mkdir("sub", 0700) == -1) {
		printf("Bail out! %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	test_rectypes();
	test_defaults();
	test_hook_defaults();
	test_top_keys();
	test_top_errors();
	test_hook_errors();
	test_hook_keys();
	test_broker_keys();
	test_shaping_merge();
	test_shaping_values();
	test_origins();
	test_advice();
	test_paths();
	test_fixture();
	test_example();
	cleanup();
	return done_testing();
}
