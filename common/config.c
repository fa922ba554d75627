/*
 * Loading spoold.conf and the KumoMTA shaping files it names.
 *
 * The loader never exits: every problem comes back as one line,
 * "FILE:LINE:COL: message", naming the key and where it was written,
 * so that spoold -n, a SIGHUP reload and the tests all see the same
 * text. Unknown keys in spoold.conf are errors, since a typo there
 * would silently change delivery; unknown keys in shaping files are
 * recorded and ignored, since those files are written for KumoMTA and
 * carry SMTP settings that mean nothing to a webhook.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "toml.h"
#include "units.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* Larger files are surely not configuration. */
#define MAX_FILE_SIZE	(16 * 1024 * 1024)

struct shfile {
	char			*path;	/* resolved; positions point here */
	char			*buf;
	struct toml_value	*root;
};

/* One section of the shaping files as merged so far. */
struct section {
	const struct toml_kv	**kv;
	size_t			  n;
};

struct load {
	struct config		*cfg;
	char			*err;
	size_t			 errlen;
	char			*buf;	/* spoold.conf */
	struct toml_value	*root;
	struct shfile		*files;
	size_t			 nfiles;
	struct section		 dflt;
};

struct keydef;
typedef int	setter(struct load *, const struct keydef *, void *,
		    const struct toml_value *);

struct keydef {
	const char	*name;
	setter		*set;
	size_t		 off;	/* of the field in the object */
	uint64_t	 min;
};

static setter	set_str, set_size, set_dur, set_uint, set_bool, set_rate,
		set_limit, set_listen, set_shaping, set_url, set_format,
		set_types, set_logparams, set_headers, set_transient,
		set_secret;

static const struct keydef topkeys[] = {
	{ "spool_dir", set_str, offsetof(struct config, spool_dir), 1 },
	{ "max_spool_size", set_size,
	    offsetof(struct config, max_spool_size), 1 },
	{ "listen", set_listen, 0, 0 },
	{ "control_socket", set_str,
	    offsetof(struct config, control_socket), 1 },
	{ "pid_file", set_str, offsetof(struct config, pid_file), 1 },
	{ "shaping", set_shaping, 0, 0 },
	{ "ingest_token", set_str, offsetof(struct config, ingest_token), 1 },
	{ "max_record_size", set_size,
	    offsetof(struct config, max_record_size), 1 },
	{ "max_request_size", set_size,
	    offsetof(struct config, max_request_size), 1 },
	{ "max_connections", set_uint,
	    offsetof(struct config, max_connections), 1 },
	{ "max_connections_per_client", set_uint,
	    offsetof(struct config, max_connections_per_client), 0 },
	{ "client_idle_timeout", set_dur,
	    offsetof(struct config, client_idle_timeout_ms), 1 },
	{ "client_header_timeout", set_dur,
	    offsetof(struct config, client_header_timeout_ms), 1 },
	{ "user", set_str, offsetof(struct config, user), 1 },
};

enum {
	HK_URL, HK_BATCH, HK_MINBATCH, HK_LATENCY, HK_FORMAT, HK_TYPES,
	HK_LOGPARAMS, HK_HEADERS, HK_TIMEOUT, HK_RETRY, HK_MAXRETRY,
	HK_MAXAGE, HK_TRANSIENT, HK_SECRET, HK_TLSVERIFY, HK_CAFILE,
	HK_CERT, HK_KEY, HK_COUNT
};

static const struct keydef hookkeys[HK_COUNT] = {
	[HK_URL] = { "url", set_url, 0, 0 },
	[HK_BATCH] = { "batch_size", set_uint,
	    offsetof(struct hook, batch_size), 1 },
	[HK_MINBATCH] = { "min_batch_size", set_uint,
	    offsetof(struct hook, min_batch_size), 1 },
	[HK_LATENCY] = { "max_batch_latency", set_dur,
	    offsetof(struct hook, max_batch_latency_ms), 0 },
	[HK_FORMAT] = { "format", set_format, 0, 0 },
	[HK_TYPES] = { "types", set_types, 0, 0 },
	[HK_LOGPARAMS] = { "log_parameters", set_logparams, 0, 0 },
	[HK_HEADERS] = { "headers", set_headers, 0, 0 },
	[HK_TIMEOUT] = { "timeout", set_dur,
	    offsetof(struct hook, timeout_ms), 1 },
	[HK_RETRY] = { "retry_interval", set_dur,
	    offsetof(struct hook, retry_interval_ms), 1 },
	[HK_MAXRETRY] = { "max_retry_interval", set_dur,
	    offsetof(struct hook, max_retry_interval_ms), 1 },
	[HK_MAXAGE] = { "max_age", set_dur,
	    offsetof(struct hook, max_age_ms), 1 },
	[HK_TRANSIENT] = { "transient_status", set_transient, 0, 0 },
	[HK_SECRET] = { "signing_secret", set_secret, 0, 0 },
	[HK_TLSVERIFY] = { "tls_verify", set_bool,
	    offsetof(struct hook, tls_verify), 0 },
	[HK_CAFILE] = { "ca_file", set_str, offsetof(struct hook, ca_file), 1 },
	[HK_CERT] = { "client_cert", set_str,
	    offsetof(struct hook, client_cert), 1 },
	[HK_KEY] = { "client_key", set_str,
	    offsetof(struct hook, client_key), 1 },
};

static const struct keydef shapekeys[] = {
	{ "connection_limit", set_limit, 0, 1 },
	{ "max_connection_rate", set_rate,
	    offsetof(struct shaping, max_connection_rate), 0 },
	{ "max_message_rate", set_rate,
	    offsetof(struct shaping, max_message_rate), 0 },
	{ "max_deliveries_per_connection", set_uint,
	    offsetof(struct shaping, max_deliveries_per_connection), 1 },
	{ "max_ready", set_uint, offsetof(struct shaping, max_ready), 1 },
	{ "idle_timeout", set_dur,
	    offsetof(struct shaping, idle_timeout_ms), 0 },
	{ "system_shutdown_timeout", set_dur,
	    offsetof(struct shaping, system_shutdown_timeout_ms), 0 },
	{ "mx_rollup", set_bool, offsetof(struct shaping, mx_rollup), 0 },
};

static const struct shaping shaping_defaults = {
	.connection_limit = 32,
	.max_deliveries_per_connection = 1024,
	.max_ready = 1024,
	.idle_timeout_ms = 5 * 1000,
	.system_shutdown_timeout_ms = 30 * 1000,
	.mx_rollup = 1,
};

/* Indexed by enum toml_type, for "expected X, got Y". */
static const char *const typenames[] = {
	"string", "integer", "float", "boolean", "datetime", "array", "table"
};

static const char *
typename(enum toml_type t)
{
	if ((size_t)t < NELEM(typenames))
		return typenames[t];
	return "value";
}

/*
 * Errors.
 */

static int
errat(struct load *ld, const struct toml_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errat(struct load *ld, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (ld->errlen == 0)
		return -1;
	n = snprintf(ld->err, ld->errlen, "%s:%d:%d: ", pos->file,
	    pos->line, pos->col);
	if (n < 0 || (size_t)n >= ld->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
errfile(struct load *ld, const char *file, const char *msg)
{
	if (ld->errlen > 0)
		snprintf(ld->err, ld->errlen, "%s: %s", file, msg);
	return -1;
}

static int
nomem(struct load *ld)
{
	return errfile(ld, ld->cfg->path, strerror(ENOMEM));
}

/*
 * A string made safe to show inside double quotes: control bytes,
 * quotes and backslashes escaped, long text cut.
 */
static const char *
shown(const char *s, char *buf, size_t len)
{
	size_t		 o = 0;
	unsigned char	 c;

	for (; (c = (unsigned char)*s) != '\0' && o + 8 < len; s++) {
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, len - o, "\\u%04x", c);
		else
			buf[o++] = (char)c;
	}
	if (*s != '\0' && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int
errtype(struct load *ld, const char *name, const struct toml_value *v,
    const char *want)
{
	return errat(ld, &v->pos, "%s: expected %s, got %s", name, want,
	    typename(v->type));
}

static int
errkey(struct load *ld, const struct toml_kv *kv)
{
	char	 b[128];

	return errat(ld, &kv->pos, "unknown key \"%s\"",
	    shown(kv->key, b, sizeof(b)));
}

static char *
where(const struct toml_pos *pos)
{
	char	*s;

	if (asprintf(&s, "%s:%d:%d", pos->file, pos->line, pos->col) == -1)
		return NULL;
	return s;
}

/*
 * Value helpers.
 */

static int
keyis(const struct toml_kv *kv, const char *name)
{
	return kv->keylen == strlen(name) && strcmp(kv->key, name) == 0;
}

static const struct keydef *
keyfind(const struct keydef *defs, size_t n, const struct toml_kv *kv)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (keyis(kv, defs[i].name))
			return &defs[i];
	return NULL;
}

/* A string value without embedded NUL bytes. */
static int
want_str(struct load *ld, const char *name, const struct toml_value *v)
{
	if (v->type != TOML_STRING)
		return errtype(ld, name, v, "a string");
	if (strlen(v->u.str.s) != v->u.str.len)
		return errat(ld, &v->pos, "%s: contains a NUL byte", name);
	return 0;
}

static void *
field(void *obj, const struct keydef *d)
{
	return (char *)obj + d->off;
}

static int
set_str(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	char	**p = field(obj, d), *s;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (d->min > 0 && v->u.str.len == 0)
		return errat(ld, &v->pos, "%s: must not be empty", d->name);
	if ((s = strdup(v->u.str.s)) == NULL)
		return nomem(ld);
	free(*p);
	*p = s;
	return 0;
}

static int
set_size(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d), n;
	const char	*why;
	char		 b[128];

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (parse_size(v->u.str.s, &n, &why) == -1)
		return errat(ld, &v->pos, "%s: bad size \"%s\": %s", d->name,
		    shown(v->u.str.s, b, sizeof(b)), why);
	if (n < d->min)
		return errat(ld, &v->pos, "%s: must be at least 1B", d->name);
	*p = n;
	return 0;
}

/* Durations are strings; numbers are seconds, as KumoMTA reads them. */
static int
set_dur(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d), ms;
	const char	*why;
	char		 b[128];

	switch (v->type) {
	case TOML_STRING:
		if (want_str(ld, d->name, v) == -1)
			return -1;
		if (parse_duration(v->u.str.s, &ms, &why) == -1)
			return errat(ld, &v->pos, "%s: bad duration \"%s\": %s",
			    d->name, shown(v->u.str.s, b, sizeof(b)), why);
		break;
	case TOML_INTEGER:
		if (v->u.i < 0)
			return errat(ld, &v->pos, "%s: negative duration",
			    d->name);
		if ((uint64_t)v->u.i > UINT64_MAX / 1000)
			return errat(ld, &v->pos, "%s: too large", d->name);
		ms = (uint64_t)v->u.i * 1000;
		break;
	case TOML_FLOAT:
		if (v->u.f != v->u.f)
			return errat(ld, &v->pos, "%s: not a number", d->name);
		if (v->u.f < 0)
			return errat(ld, &v->pos, "%s: negative duration",
			    d->name);
		if (v->u.f > 1e16)
			return errat(ld, &v->pos, "%s: too large", d->name);
		ms = (uint64_t)(v->u.f * 1000 + 0.5);
		break;
	default:
		return errtype(ld, d->name, v,
		    "a string like \"90s\" or a number of seconds");
	}
	if (ms < d->min)
		return errat(ld, &v->pos, "%s: must be longer than 0s",
		    d->name);
	*p = ms;
	return 0;
}

static int
set_uint(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	uint64_t	*p = field(obj, d);

	if (v->type != TOML_INTEGER)
		return errtype(ld, d->name, v, "an integer");
	if (v->u.i < 0 || (uint64_t)v->u.i < d->min)
		return errat(ld, &v->pos, "%s: must be at least %llu",
		    d->name, (unsigned long long)d->min);
	*p = (uint64_t)v->u.i;
	return 0;
}

static int
set_bool(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	int	*p = field(obj, d);

	if (v->type != TOML_BOOLEAN)
		return errtype(ld, d->name, v, "a boolean");
	*p = v->u.b != 0;
	return 0;
}

/* KumoMTA's "local:" prefix only keeps a limit off Redis; all ours are. */
static const char *
unlocal(const char *s)
{
	return strncmp(s, "local:", 6) == 0 ? s + 6 : s;
}

static int
set_rate(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct rate	*p = field(obj, d), r;
	const char	*why;
	char		 b[128];

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (parse_rate(unlocal(v->u.str.s), &r, &why) == -1)
		return errat(ld, &v->pos, "%s: bad rate \"%s\": %s", d->name,
		    shown(v->u.str.s, b, sizeof(b)), why);
	*p = r;
	return 0;
}

/* An integer, or KumoMTA's "local:N" (or "N") string. */
static int
set_limit(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct shaping	*sh = obj;
	const char	*s;
	char		*end, b[128];
	long long	 n;

	if (v->type == TOML_INTEGER)
		n = v->u.i;
	else if (v->type == TOML_STRING) {
		if (want_str(ld, d->name, v) == -1)
			return -1;
		s = unlocal(v->u.str.s);
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
			return errat(ld, &v->pos, "%s: bad limit \"%s\": "
			    "write N or \"local:N\"", d->name,
			    shown(v->u.str.s, b, sizeof(b)));
	} else
		return errtype(ld, d->name, v,
		    "an integer or a string \"local:N\"");
	if (n < 1)
		return errat(ld, &v->pos, "%s: must be at least 1", d->name);
	if ((unsigned long long)n > UINT32_MAX)
		return errat(ld, &v->pos, "%s: must be at most %lu", d->name,
		    (unsigned long)UINT32_MAX);
	sh->connection_limit = (uint32_t)n;
	return 0;
}

/*
 * listen.
 */

static const char *
parse_port(const char *s)
{
	size_t	 i;
	long	 n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return "bad port (0-65535)";
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0)
		return "missing port";
	if (n > 65535)
		return "bad port (0-65535)";
	return NULL;
}

static const char *
check_host(const char *h)
{
	const char	*p;

	if (*h == '\0')
		return "empty host";
	if (strchr(h, ':') != NULL)
		return "IPv6 addresses go in brackets: [ADDRESS]:PORT";
	for (p = h; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			return "bad host name";
	return NULL;
}

static const char *
check_unix(const char *path)
{
	struct sockaddr_un	 sun;

	if (*path == '\0')
		return "empty socket path";
	if (*path != '/')
		return "socket path must be absolute";
	if (strlen(path) >= sizeof(sun.sun_path))
		return "socket path too long";
	return NULL;
}

/* Why s is no listen address, or NULL with host and port found. */
static const char *
listen_check(const char *s, const char **host, size_t *hlen,
    const char **port)
{
	const char	*end, *why;
	char		 h[256];
	unsigned char	 a6[16];

	if (strncmp(s, "unix:", 5) == 0)
		return check_unix(s + 5);
	if (*s == '[') {
		*host = s + 1;
		if ((end = strchr(*host, ']')) == NULL)
			return "missing ]";
		*port = end + 1;
	} else {
		*host = s;
		if ((end = strrchr(s, ':')) == NULL)
			return "missing :PORT";
		*port = end;
	}
	*hlen = end - *host;
	if (**port != ':')
		return "missing :PORT";
	(*port)++;
	if ((why = parse_port(*port)) != NULL)
		return why;
	if (*s != '[') {
		snprintf(h, sizeof(h), "%.*s", (int)*hlen, *host);
		return *hlen >= sizeof(h) - 1 ? "bad host name" : check_host(h);
	}
	if (*hlen == 0)
		return "empty host";
	if (*hlen >= sizeof(h) - 1)
		return "bad IPv6 address";
	snprintf(h, sizeof(h), "%.*s", (int)*hlen, *host);
	if (inet_pton(AF_INET6, h, a6) != 1)
		return "bad IPv6 address";
	return NULL;
}

/* Fill la from a checked address; -1 when out of memory. */
static int
listen_fill(struct listen_addr *la, const char *s, const char *host,
    size_t hlen, const char *port)
{
	if ((la->text = strdup(s)) == NULL)
		return -1;
	if (strncmp(s, "unix:", 5) == 0)
		return (la->path = strdup(s + 5)) == NULL ? -1 : 0;
	if ((la->host = strndup(host, hlen)) == NULL ||
	    (la->port = strdup(port)) == NULL)
		return -1;
	return 0;
}

static void
listen_free(struct listen_addr *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].path);
		free(v[i].host);
		free(v[i].port);
	}
	free(v);
}

/* Keys that take a list of strings also take one string. */
static const struct toml_value *
item(const struct toml_value *v, size_t i)
{
	return v->type == TOML_ARRAY ? v->u.arr.v[i] : v;
}

static int
strlist(struct load *ld, const char *name, const struct toml_value *v,
    size_t *n)
{
	size_t	 i;

	if (v->type == TOML_STRING) {
		*n = 1;
		return want_str(ld, name, v);
	}
	if (v->type != TOML_ARRAY)
		return errtype(ld, name, v, "an array of strings");
	*n = v->u.arr.n;
	for (i = 0; i < *n; i++)
		if (want_str(ld, name, item(v, i)) == -1)
			return -1;
	return 0;
}

static int
set_listen(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct config		*cfg = obj;
	struct listen_addr	*la = NULL;
	const char		*why, *str, *host = NULL, *port = NULL;
	char			 b[128];
	size_t			 i, n, hlen = 0;

	if (strlist(ld, d->name, v, &n) == -1)
		return -1;
	if (n == 0)
		return errat(ld, &v->pos, "%s: no address", d->name);
	if ((la = calloc(n, sizeof(*la))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		str = item(v, i)->u.str.s;
		if ((why = listen_check(str, &host, &hlen, &port)) != NULL) {
			listen_free(la, n);
			return errat(ld, &item(v, i)->pos, "%s: bad address "
			    "\"%s\": %s", d->name, shown(str, b, sizeof(b)),
			    why);
		}
		if (listen_fill(&la[i], str, host, hlen, port) == -1) {
			listen_free(la, n);
			return nomem(ld);
		}
	}
	listen_free(cfg->listen, cfg->nlisten);
	cfg->listen = la;
	cfg->nlisten = n;
	return 0;
}

/*
 * Shaping files.
 */

/* The whole file, NUL-terminated, and its stat; NULL with errno set. */
static char *
slurp(const char *path, size_t *len, struct stat *stp)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (st.st_size > MAX_FILE_SIZE) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	/* The size may change under us; read what fits. */
	while (n < (size_t)st.st_size &&
	    (r = read(fd, buf + n, (size_t)st.st_size - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	if (stp != NULL)
		*stp = st;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* A relative shaping path is relative to the configuration's directory. */
static char *
resolve(const char *conf, const char *path)
{
	const char	*slash;
	char		*s;

	if (*path == '/' || (slash = strrchr(conf, '/')) == NULL)
		return strdup(path);
	if (asprintf(&s, "%.*s/%s", (int)(slash - conf), conf, path) == -1)
		return NULL;
	return s;
}

static int
load_shaping(struct load *ld, const struct toml_value *v, const char *path)
{
	struct shfile	*f;
	char		 b[128];
	size_t		 len;

	f = reallocarray(ld->files, ld->nfiles + 1, sizeof(*ld->files));
	if (f == NULL)
		return nomem(ld);
	ld->files = f;
	f = &ld->files[ld->nfiles++];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		return nomem(ld);
	if ((f->buf = slurp(f->path, &len, NULL)) == NULL)
		return errat(ld, &v->pos, "shaping: \"%s\": %s",
		    shown(f->path, b, sizeof(b)), strerror(errno));
	f->root = toml_parse(f->buf, len, f->path, ld->err, ld->errlen);
	return f->root == NULL ? -1 : 0;
}

static int
set_shaping(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct config	*cfg = obj;
	char		*path;
	size_t		 i, n;

	if (strlist(ld, d->name, v, &n) == -1)
		return -1;
	if (n > 0 && (cfg->shaping = calloc(n, sizeof(char *))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		if (item(v, i)->u.str.len == 0)
			return errat(ld, &item(v, i)->pos, "%s: empty path",
			    d->name);
		if ((path = resolve(cfg->path, item(v, i)->u.str.s)) == NULL)
			return nomem(ld);
		cfg->shaping[cfg->nshaping++] = path;
		if (load_shaping(ld, item(v, i), path) == -1)
			return -1;
	}
	return 0;
}

static int
section_put(struct section *s, const struct toml_kv *kv)
{
	const struct toml_kv	**p;
	size_t			  i;

	for (i = 0; i < s->n; i++)
		if (s->kv[i]->keylen == kv->keylen &&
		    memcmp(s->kv[i]->key, kv->key, kv->keylen) == 0) {
			s->kv[i] = kv;
			return 0;
		}
	if ((p = reallocarray(s->kv, s->n + 1, sizeof(*p))) == NULL)
		return -1;
	s->kv = p;
	s->kv[s->n++] = kv;
	return 0;
}

/* The section called name, merged over the shaping files in order. */
static int
section_merge(struct load *ld, const char *name, struct section *s)
{
	const struct toml_value	*v, *rb;
	char			 b[128];
	size_t			 i, j;

	for (i = 0; i < ld->nfiles; i++) {
		if ((v = toml_get(ld->files[i].root, name)) == NULL)
			continue;
		if (v->type != TOML_TABLE)
			return errat(ld, &v->pos, "\"%s\": expected a table, "
			    "got %s", shown(name, b, sizeof(b)),
			    typename(v->type));
		if ((rb = toml_get(v, "replace_base")) != NULL) {
			if (rb->type != TOML_BOOLEAN)
				return errtype(ld, "replace_base", rb,
				    "a boolean");
			if (rb->u.b)
				s->n = 0;
		}
		for (j = 0; j < v->u.tab.n; j++) {
			if (keyis(&v->u.tab.kv[j], "replace_base"))
				continue;
			if (section_put(s, &v->u.tab.kv[j]) == -1)
				return nomem(ld);
		}
	}
	return 0;
}

static int
ignore(struct load *ld, const char *hook, const char *what,
    const struct toml_pos *pos)
{
	struct config	*cfg = ld->cfg;
	struct ignored	*ig;

	ig = reallocarray(cfg->ignored, cfg->nignored + 1, sizeof(*ig));
	if (ig == NULL)
		return nomem(ld);
	cfg->ignored = ig;
	ig = &cfg->ignored[cfg->nignored];
	memset(ig, 0, sizeof(*ig));
	if ((hook != NULL && (ig->hook = strdup(hook)) == NULL) ||
	    (ig->what = strdup(what)) == NULL || (ig->where = where(pos)) ==
	    NULL) {
		free(ig->hook);
		free(ig->what);
		return nomem(ld);
	}
	cfg->nignored++;
	return 0;
}

/* Apply a merged section; keys spoold has no use for are recorded. */
static int
section_apply(struct load *ld, const struct section *s, struct shaping *sh,
    const char *hook)
{
	const struct keydef	*d;
	const struct toml_kv	*kv;
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		kv = s->kv[i];
		if ((d = keyfind(shapekeys, NELEM(shapekeys), kv)) != NULL) {
			if (d->set(ld, d, sh, kv->val) == -1)
				return -1;
		} else if (hook != NULL &&
		    ignore(ld, hook, kv->key, &kv->pos) == -1)
			return -1;
	}
	return 0;
}

/*
 * Hooks.
 */

static int
set_url(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;
	const char	*s, *p;
	char		*u;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	s = v->u.str.s;
	if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return errat(ld, &v->pos, "%s: must start with http:// or "
		    "https://", d->name);
	if (*p == '\0' || *p == '/' || *p == '?' || *p == '#')
		return errat(ld, &v->pos, "%s: missing host", d->name);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return errat(ld, &v->pos, "%s: contains spaces or "
			    "control characters", d->name);
	if ((u = strdup(s)) == NULL)
		return nomem(ld);
	free(h->url);
	h->url = u;
	return 0;
}

static int
set_format(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (strcmp(v->u.str.s, "json") == 0)
		h->format = FORMAT_JSON;
	else if (strcmp(v->u.str.s, "ndjson") == 0)
		h->format = FORMAT_NDJSON;
	else
		return errat(ld, &v->pos, "%s: must be \"json\" or \"ndjson\"",
		    d->name);
	return 0;
}

static int
type_bit(struct load *ld, const char *name, const struct toml_value *v,
    uint32_t *bits)
{
	char		 b[128];
	enum rectype	 t;

	if (want_str(ld, name, v) == -1)
		return -1;
	if (strcmp(v->u.str.s, "Any") == 0) {
		*bits |= RT_ALL;
		return 0;
	}
	t = rectype_lookup(v->u.str.s, v->u.str.len);
	if (t == RT_OTHER)
		return errat(ld, &v->pos, "%s: unknown record type \"%s\"; "
		    "valid: Any, Reception, Delivery, Bounce, "
		    "TransientFailure, Expiration, AdminBounce, OOB, Feedback, "
		    "Rejection, DeferredInjectionRebind, Delayed, XferOut, "
		    "XferIn", name, shown(v->u.str.s, b, sizeof(b)));
	*bits |= 1u << t;
	return 0;
}

static int
set_types(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;
	uint32_t	 bits = 0;
	size_t		 i, n;

	if (strlist(ld, d->name, v, &n) == -1)
		return -1;
	if (n == 0)
		return errat(ld, &v->pos, "%s: empty; write \"Any\" for "
		    "every record type", d->name);
	for (i = 0; i < n; i++)
		if (type_bit(ld, d->name, item(v, i), &bits) == -1)
			return -1;
	h->types = bits;
	return 0;
}

static void
patterns_free(struct patterns *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int
set_patterns(struct load *ld, const char *name, const struct toml_value *v,
    struct patterns *p)
{
	const char	*s, *star;
	char		 b[128];
	size_t		 i, n;

	if (v->type != TOML_ARRAY)
		return errtype(ld, name, v, "an array of strings");
	if (strlist(ld, name, v, &n) == -1)
		return -1;
	patterns_free(p);
	if (n > 0 && (p->v = calloc(n, sizeof(char *))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		s = item(v, i)->u.str.s;
		star = strchr(s, '*');
		if (*s == '\0' || (star != NULL && star[1] != '\0'))
			return errat(ld, &item(v, i)->pos, "%s: bad pattern "
			    "\"%s\": write a name, \"prefix*\" or \"*\"", name,
			    shown(s, b, sizeof(b)));
		if ((p->v[p->n] = strdup(s)) == NULL)
			return nomem(ld);
		p->n++;
	}
	return 0;
}

static int
set_logparams(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook		*h = obj;
	const struct toml_kv	*kv;
	size_t			 i;

	if (v->type != TOML_TABLE)
		return errtype(ld, d->name, v, "a table");
	h->has_log_parameters = 1;
	for (i = 0; i < v->u.tab.n; i++) {
		kv = &v->u.tab.kv[i];
		if (keyis(kv, "meta")) {
			if (set_patterns(ld, "log_parameters.meta", kv->val,
			    &h->lp_meta) == -1)
				return -1;
		} else if (keyis(kv, "headers")) {
			if (set_patterns(ld, "log_parameters.headers", kv->val,
			    &h->lp_headers) == -1)
				return -1;
		} else
			return errkey(ld, kv);
	}
	return 0;
}

/* RFC 9110 token characters. */
static int
is_token(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] != '\0' && strchr("!#$%&'*+-.^_`|~", s[i]) != NULL)))
			return 0;
	return 1;
}

static int
header_check(struct load *ld, const struct toml_kv *kv)
{
	char	 b[128];

	if (!is_token(kv->key, kv->keylen))
		return errat(ld, &kv->pos, "headers: bad header name \"%s\"",
		    shown(kv->key, b, sizeof(b)));
	/* spoold frames the body itself. */
	if (strcasecmp(kv->key, "Content-Length") == 0 ||
	    strcasecmp(kv->key, "Transfer-Encoding") == 0)
		return errat(ld, &kv->pos, "headers: \"%s\" is set by spoold",
		    kv->key);
	if (want_str(ld, "headers", kv->val) == -1)
		return -1;
	if (strpbrk(kv->val->u.str.s, "\r\n") != NULL)
		return errat(ld, &kv->val->pos, "headers: value of \"%s\" "
		    "contains CR or LF", kv->key);
	return 0;
}

static void
headers_free(struct hook *h)
{
	size_t	 i;

	for (i = 0; i < h->nheaders; i++) {
		free(h->headers[i].name);
		free(h->headers[i].value);
	}
	free(h->headers);
	h->headers = NULL;
	h->nheaders = 0;
}

static int
set_headers(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook		*h = obj;
	const struct toml_kv	*kv;
	size_t			 i, n;

	if (v->type != TOML_TABLE)
		return errtype(ld, d->name, v, "a table");
	headers_free(h);
	n = v->u.tab.n;
	if (n > 0 && (h->headers = calloc(n, sizeof(*h->headers))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		kv = &v->u.tab.kv[i];
		if (header_check(ld, kv) == -1)
			return -1;
		h->headers[i].name = strdup(kv->key);
		h->headers[i].value = strdup(kv->val->u.str.s);
		h->nheaders++;
		if (h->headers[i].name == NULL || h->headers[i].value == NULL)
			return nomem(ld);
	}
	return 0;
}

static int
transient_one(struct load *ld, const struct toml_value *v, uint8_t *t)
{
	char	 b[128];
	int	 c;

	if (v->type == TOML_INTEGER) {
		if (v->u.i < 100 || v->u.i > 599)
			return errat(ld, &v->pos, "transient_status: bad "
			    "status %lld (100-599)", (long long)v->u.i);
		if (v->u.i >= 200 && v->u.i <= 299)
			return errat(ld, &v->pos, "transient_status: %lld is "
			    "a success", (long long)v->u.i);
		t[v->u.i] = 1;
		return 0;
	}
	if (v->type != TOML_STRING)
		return errtype(ld, "transient_status", v,
		    "a status or \"4xx\" or \"5xx\"");
	if (strcmp(v->u.str.s, "4xx") == 0)
		c = 400;
	else if (strcmp(v->u.str.s, "5xx") == 0)
		c = 500;
	else
		return errat(ld, &v->pos, "transient_status: bad class "
		    "\"%s\": write \"4xx\" or \"5xx\"",
		    shown(v->u.str.s, b, sizeof(b)));
	memset(t + c, 1, 100);
	return 0;
}

static int
set_transient(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;
	uint8_t		 t[sizeof(h->transient)];
	size_t		 i;

	if (v->type != TOML_ARRAY)
		return errtype(ld, d->name, v, "an array");
	memset(t, 0, sizeof(t));
	for (i = 0; i < v->u.arr.n; i++)
		if (transient_one(ld, v->u.arr.v[i], t) == -1)
			return -1;
	memcpy(h->transient, t, sizeof(t));
	return 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64, padding optional; 0 or -1 for bad input. */
static int
b64decode(const char *s, unsigned char *out, size_t *outlen)
{
	size_t		 len = strlen(s), pad = 0, i, n = 0;
	uint32_t	 acc = 0;
	int		 bits = 0, c;

	while (len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 2 || (pad > 0 && (len + pad) % 4 != 0) || len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((c = b64val((unsigned char)s[i])) == -1)
			return -1;
		acc = (acc << 6 | (uint32_t)c) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = n;
	return 0;
}

static int
set_secret(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;
	const char	*b64;
	unsigned char	*key = NULL;
	char		*sec = NULL;
	size_t		 len;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (strncmp(v->u.str.s, "whsec_", 6) != 0)
		return errat(ld, &v->pos, "%s: must start with \"whsec_\"",
		    d->name);
	b64 = v->u.str.s + 6;
	if ((key = malloc(strlen(b64) / 4 * 3 + 3)) == NULL ||
	    (sec = strdup(v->u.str.s)) == NULL)
		goto nomem;
	if (b64decode(b64, key, &len) == -1) {
		free(key);
		free(sec);
		return errat(ld, &v->pos, "%s: bad base64 after \"whsec_\"",
		    d->name);
	}
	if (len == 0) {
		free(key);
		free(sec);
		return errat(ld, &v->pos, "%s: empty key", d->name);
	}
	free(h->signing_secret);
	free(h->signing_key);
	h->signing_secret = sec;
	h->signing_key = key;
	h->signing_key_len = len;
	return 0;
nomem:
	free(key);
	free(sec);
	return nomem(ld);
}

static int
hook_name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > HOOK_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static void
hook_defaults(struct hook *h)
{
	h->batch_size = 1;
	h->min_batch_size = 1;
	h->format = FORMAT_JSON;
	h->types = RT_ALL;
	h->timeout_ms = 60 * 1000;
	h->retry_interval_ms = 60 * 1000;
	h->max_retry_interval_ms = 20 * 60 * 1000;
	h->max_age_ms = 7ULL * 24 * 60 * 60 * 1000;
	h->transient[408] = 1;
	h->transient[425] = 1;
	h->transient[429] = 1;
	memset(h->transient + 500, 1, 100);
	h->tls_verify = 1;
	h->shaping = shaping_defaults;
}

/* What holds only across keys, checked once the table is read. */
static int
hook_check(struct load *ld, struct hook *h, const struct toml_value *tab,
    const struct toml_value **seen)
{
	char	 b[128], r[32], m[32];

	if (h->url == NULL)
		return errat(ld, &tab->pos, "hook \"%s\": url is required",
		    shown(h->name, b, sizeof(b)));
	if (h->min_batch_size > h->batch_size)
		return errat(ld, seen[HK_MINBATCH] ? &seen[HK_MINBATCH]->pos :
		    &seen[HK_BATCH]->pos, "min_batch_size (%llu) is above "
		    "batch_size (%llu)", (unsigned long long)h->min_batch_size,
		    (unsigned long long)h->batch_size);
	if (h->retry_interval_ms > h->max_retry_interval_ms) {
		fmt_duration(h->retry_interval_ms, r, sizeof(r));
		fmt_duration(h->max_retry_interval_ms, m, sizeof(m));
		return errat(ld, seen[HK_RETRY] ? &seen[HK_RETRY]->pos :
		    &seen[HK_MAXRETRY]->pos, "retry_interval (%s) is above "
		    "max_retry_interval (%s)", r, m);
	}
	if (h->client_cert != NULL && h->client_key == NULL)
		return errat(ld, &seen[HK_CERT]->pos, "client_cert: needs "
		    "client_key");
	if (h->client_key != NULL && h->client_cert == NULL)
		return errat(ld, &seen[HK_KEY]->pos, "client_key: needs "
		    "client_cert");
	return 0;
}

static int
hook_table(struct load *ld, struct hook *h, const struct toml_value *tab)
{
	const struct toml_value	*seen[HK_COUNT] = { NULL };
	const struct keydef	*d;
	const struct toml_kv	*kv;
	void			*obj;
	size_t			 i;

	for (i = 0; i < tab->u.tab.n; i++) {
		kv = &tab->u.tab.kv[i];
		if ((d = keyfind(hookkeys, HK_COUNT, kv)) != NULL) {
			seen[d - hookkeys] = kv->val;
			obj = h;
		} else if ((d = keyfind(shapekeys, NELEM(shapekeys), kv)) !=
		    NULL)
			obj = &h->shaping;
		else
			return errkey(ld, kv);
		if (d->set(ld, d, obj, kv->val) == -1)
			return -1;
	}
	return hook_check(ld, h, tab, seen);
}

static int
load_hook(struct load *ld, struct hook *h, const struct toml_kv *hkv)
{
	struct section	 sect = { NULL, 0 };
	char		*name = NULL;
	int		 rc = -1;

	if (section_apply(ld, &ld->dflt, &h->shaping, h->name) == -1)
		return -1;
	if (asprintf(&name, "%s.log_hook", h->name) == -1)
		return nomem(ld);
	if (section_merge(ld, name, &sect) == -1 ||
	    section_apply(ld, &sect, &h->shaping, h->name) == -1)
		goto done;
	rc = hook_table(ld, h, hkv->val);
done:
	free(sect.kv);
	free(name);
	return rc;
}

static int
load_hooks(struct load *ld, const struct toml_value *v)
{
	struct config		*cfg = ld->cfg;
	const struct toml_kv	*kv;
	char			 b[128];
	size_t			 i, n;

	if (v->type != TOML_TABLE)
		return errtype(ld, "hook", v, "a table");
	if ((n = v->u.tab.n) == 0)
		return 0;
	if ((cfg->hooks = calloc(n, sizeof(*cfg->hooks))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		kv = &v->u.tab.kv[i];
		if (!hook_name_ok(kv->key, kv->keylen))
			return errat(ld, &kv->pos, "hook \"%s\": names take "
			    "1 to %d of A-Z, a-z, 0-9, \"_\", \".\" and \"-\"",
			    shown(kv->key, b, sizeof(b)), HOOK_NAME_MAX);
		if (kv->val->type != TOML_TABLE)
			return errtype(ld, "hook", kv->val, "a table");
		hook_defaults(&cfg->hooks[i]);
		cfg->nhooks++;
		if ((cfg->hooks[i].name = strdup(kv->key)) == NULL)
			return nomem(ld);
		if (load_hook(ld, &cfg->hooks[i], kv) == -1)
			return -1;
	}
	return 0;
}

/* Whether a top-level shaping section is one spoold reads. */
static int
section_used(const struct config *cfg, const struct toml_kv *kv)
{
	size_t	 i, n;

	if (keyis(kv, "default"))
		return cfg->nhooks > 0;
	if (kv->keylen != strlen(kv->key) || kv->keylen < 9 ||
	    strcmp(kv->key + kv->keylen - 9, ".log_hook") != 0)
		return 0;
	n = kv->keylen - 9;
	for (i = 0; i < cfg->nhooks; i++)
		if (strlen(cfg->hooks[i].name) == n &&
		    strncmp(cfg->hooks[i].name, kv->key, n) == 0)
			return 1;
	return 0;
}

static int
ignore_sections(struct load *ld)
{
	const struct toml_value	*root;
	const struct toml_kv	*kv;
	size_t			 i, j;

	for (i = 0; i < ld->nfiles; i++) {
		root = ld->files[i].root;
		for (j = 0; j < root->u.tab.n; j++) {
			kv = &root->u.tab.kv[j];
			if (!section_used(ld->cfg, kv) &&
			    ignore(ld, NULL, kv->key, &kv->pos) == -1)
				return -1;
		}
	}
	return 0;
}

/*
 * Loading.
 */

static int
config_defaults(struct load *ld)
{
	struct config	*cfg = ld->cfg;

	cfg->max_spool_size = 4ULL << 30;
	cfg->max_record_size = 1ULL << 20;
	cfg->max_request_size = 64ULL << 20;
	cfg->max_connections = 16384;
	cfg->client_idle_timeout_ms = 120000;
	cfg->client_header_timeout_ms = 10000;
	if ((cfg->spool_dir = strdup("/var/spool/spoold")) == NULL ||
	    (cfg->control_socket = strdup("/run/spoold/control.sock")) ==
	    NULL || (cfg->pid_file = strdup("/run/spoold/spoold.pid")) ==
	    NULL || (cfg->listen = calloc(1, sizeof(*cfg->listen))) == NULL)
		return nomem(ld);
	cfg->nlisten = 1;
	if (listen_fill(cfg->listen, "127.0.0.1:8025", "127.0.0.1", 9,
	    "8025") == -1)
		return nomem(ld);
	return 0;
}

static int
hook_cmp(const void *a, const void *b)
{
	const struct hook	*ha = a, *hb = b;

	return strcmp(ha->name, hb->name);
}

static int
load_top(struct load *ld)
{
	const struct toml_value	*hooks = NULL;
	const struct keydef	*d;
	const struct toml_kv	*kv;
	struct shaping		 scratch = shaping_defaults;
	size_t			 i;

	for (i = 0; i < ld->root->u.tab.n; i++) {
		kv = &ld->root->u.tab.kv[i];
		if (keyis(kv, "hook"))
			hooks = kv->val;
		else if ((d = keyfind(topkeys, NELEM(topkeys), kv)) == NULL)
			return errkey(ld, kv);
		else if (d->set(ld, d, ld->cfg, kv->val) == -1)
			return -1;
	}
	/* Bad values in ["default"] are errors even with no hook. */
	if (section_merge(ld, "default", &ld->dflt) == -1 ||
	    section_apply(ld, &ld->dflt, &scratch, NULL) == -1)
		return -1;
	if (hooks != NULL && load_hooks(ld, hooks) == -1)
		return -1;
	if (ignore_sections(ld) == -1)
		return -1;
	if (ld->cfg->nhooks > 1)
		qsort(ld->cfg->hooks, ld->cfg->nhooks, sizeof(struct hook),
		    hook_cmp);
	return 0;
}

static void
load_cleanup(struct load *ld)
{
	size_t	 i;

	for (i = 0; i < ld->nfiles; i++) {
		toml_free(ld->files[i].root);
		free(ld->files[i].buf);
		free(ld->files[i].path);
	}
	free(ld->files);
	free(ld->dflt.kv);
	toml_free(ld->root);
	free(ld->buf);
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct load	 ld;
	struct stat	 st;
	size_t		 len;

	memset(&ld, 0, sizeof(ld));
	ld.err = err;
	ld.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((ld.cfg->path = strdup(path)) == NULL) {
		free(ld.cfg);
		if (errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (config_defaults(&ld) == -1)
		goto fail;
	if ((ld.buf = slurp(path, &len, &st)) == NULL) {
		errfile(&ld, path, strerror(errno));
		goto fail;
	}
	ld.cfg->mode = st.st_mode & 07777;
	ld.cfg->owner = st.st_uid;
	ld.cfg->group = st.st_gid;
	ld.root = toml_parse(ld.buf, len, ld.cfg->path, err, errlen);
	if (ld.root == NULL || load_top(&ld) == -1)
		goto fail;
	load_cleanup(&ld);
	return ld.cfg;
fail:
	load_cleanup(&ld);
	config_free(ld.cfg);
	return NULL;
}

void
config_hook_free(struct hook *h)
{
	free(h->name);
	free(h->url);
	patterns_free(&h->lp_meta);
	patterns_free(&h->lp_headers);
	headers_free(h);
	free(h->signing_secret);
	free(h->signing_key);
	free(h->ca_file);
	free(h->client_cert);
	free(h->client_key);
}

void
config_free(struct config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->spool_dir);
	listen_free(cfg->listen, cfg->nlisten);
	free(cfg->control_socket);
	free(cfg->pid_file);
	for (i = 0; i < cfg->nshaping; i++)
		free(cfg->shaping[i]);
	free(cfg->shaping);
	free(cfg->ingest_token);
	free(cfg->user);
	for (i = 0; i < cfg->nhooks; i++)
		config_hook_free(&cfg->hooks[i]);
	free(cfg->hooks);
	for (i = 0; i < cfg->nignored; i++) {
		free(cfg->ignored[i].hook);
		free(cfg->ignored[i].what);
		free(cfg->ignored[i].where);
	}
	free(cfg->ignored);
	free(cfg);
}

int
config_hook_sets(const struct hook *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->headers[i].name, name) == 0)
			return 1;
	return 0;
}

const struct hook *
config_hook(const struct config *cfg, const char *name)
{
	struct hook	 key;

	if (cfg->nhooks == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	return bsearch(&key, cfg->hooks, cfg->nhooks, sizeof(struct hook),
	    hook_cmp);
}

/*
 * spoold -n: "key = value" lines; strings quoted as TOML basic strings,
 * sizes, durations and rates bare in their canonical units.
 */

static void
print_str(FILE *fp, const char *s)
{
	unsigned char	 c;

	fputc('"', fp);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

/* A key bare when TOML allows it, quoted otherwise. */
static void
print_key(FILE *fp, const char *s)
{
	size_t	 n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-");

	if (*s != '\0' && s[n] == '\0')
		fputs(s, fp);
	else
		print_str(fp, s);
}

static void
print_opt(FILE *fp, const char *name, const char *s, const char *none)
{
	fprintf(fp, "%s = ", name);
	if (s != NULL)
		print_str(fp, s);
	else
		fputs(none, fp);
	fputc('\n', fp);
}

static void
print_secret(FILE *fp, const char *name, const void *s)
{
	fprintf(fp, "%s = %s\n", name, s != NULL ? "(set)" : "(none)");
}

static void
print_size(FILE *fp, const char *name, uint64_t n)
{
	char	 b[64];

	fmt_size(n, b, sizeof(b));
	fprintf(fp, "%s = %s\n", name, b);
}

static void
print_dur(FILE *fp, const char *name, uint64_t ms)
{
	char	 b[64];

	fmt_duration(ms, b, sizeof(b));
	fprintf(fp, "%s = %s\n", name, b);
}

static void
print_rate(FILE *fp, const char *name, const struct rate *r)
{
	char	 b[64];

	if (r->n == 0) {
		fprintf(fp, "%s = (none)\n", name);
		return;
	}
	fmt_rate(r, b, sizeof(b));
	fprintf(fp, "%s = %s\n", name, b);
}

static void
print_list(FILE *fp, char *const *v, size_t n)
{
	size_t	 i;

	fputc('[', fp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", fp);
		print_str(fp, v[i]);
	}
	fputc(']', fp);
}

static void
print_types(FILE *fp, uint32_t types)
{
	int	 i, first = 1;

	fputs("types = ", fp);
	if (types == RT_ALL) {
		fputs("\"Any\"\n", fp);
		return;
	}
	fputc('[', fp);
	for (i = 0; i < RT_OTHER; i++) {
		if (!(types & (1u << i)))
			continue;
		fprintf(fp, "%s\"%s\"", first ? "" : ", ", rectype_name(i));
		first = 0;
	}
	fputs("]\n", fp);
}

static void
print_logparams(FILE *fp, const struct hook *h)
{
	fputs("log_parameters = ", fp);
	if (!h->has_log_parameters) {
		fputs("(none)\n", fp);
		return;
	}
	fputs("{ meta = ", fp);
	print_list(fp, h->lp_meta.v, h->lp_meta.n);
	fputs(", headers = ", fp);
	print_list(fp, h->lp_headers.v, h->lp_headers.n);
	fputs(" }\n", fp);
}

/* Header values that may carry credentials are not shown. */
static int
header_secret(const char *name)
{
	static const char *const words[] = {
		"auth", "token", "secret", "key", "pass", "cookie", "signature"
	};
	size_t	 i;

	for (i = 0; i < NELEM(words); i++)
		if (strcasestr(name, words[i]) != NULL)
			return 1;
	return 0;
}

static void
print_headers(FILE *fp, const struct hook *h)
{
	size_t	 i;

	fputs("headers = ", fp);
	if (h->nheaders == 0) {
		fputs("(none)\n", fp);
		return;
	}
	fputs("{ ", fp);
	for (i = 0; i < h->nheaders; i++) {
		if (i > 0)
			fputs(", ", fp);
		print_key(fp, h->headers[i].name);
		fputs(" = ", fp);
		if (header_secret(h->headers[i].name))
			fputs("(set)", fp);
		else
			print_str(fp, h->headers[i].value);
	}
	fputs(" }\n", fp);
}

/* Whole 4xx and 5xx classes print as such, other codes one by one. */
static void
print_transient(FILE *fp, const struct hook *h)
{
	int	 c, s, whole, first = 1;

	fputs("transient_status = [", fp);
	for (c = 100; c < 600; c += 100) {
		for (whole = c >= 400, s = c; s < c + 100; s++)
			whole = whole && h->transient[s];
		if (whole) {
			fprintf(fp, "%s\"%dxx\"", first ? "" : ", ", c / 100);
			first = 0;
			continue;
		}
		for (s = c; s < c + 100; s++) {
			if (!h->transient[s])
				continue;
			fprintf(fp, "%s%d", first ? "" : ", ", s);
			first = 0;
		}
	}
	fputs("]\n", fp);
}

static void
print_shaping(FILE *fp, const struct shaping *sh)
{
	fprintf(fp, "connection_limit = %lu\n",
	    (unsigned long)sh->connection_limit);
	print_rate(fp, "max_connection_rate", &sh->max_connection_rate);
	print_rate(fp, "max_message_rate", &sh->max_message_rate);
	fprintf(fp, "max_deliveries_per_connection = %llu\n",
	    (unsigned long long)sh->max_deliveries_per_connection);
	fprintf(fp, "max_ready = %llu\n", (unsigned long long)sh->max_ready);
	print_dur(fp, "idle_timeout", sh->idle_timeout_ms);
	print_dur(fp, "system_shutdown_timeout",
	    sh->system_shutdown_timeout_ms);
	fprintf(fp, "mx_rollup = %s\n", sh->mx_rollup ? "true" : "false");
}

static void
print_hook(FILE *fp, const struct config *cfg, const struct hook *h)
{
	size_t	 i;

	fputs("\n[hook.", fp);
	print_key(fp, h->name);
	fputs("]\n", fp);
	print_opt(fp, "url", h->url, "(none)");
	fprintf(fp, "batch_size = %llu\n", (unsigned long long)h->batch_size);
	fprintf(fp, "min_batch_size = %llu\n",
	    (unsigned long long)h->min_batch_size);
	print_dur(fp, "max_batch_latency", h->max_batch_latency_ms);
	fprintf(fp, "format = \"%s\"\n",
	    h->format == FORMAT_NDJSON ? "ndjson" : "json");
	print_types(fp, h->types);
	print_logparams(fp, h);
	print_headers(fp, h);
	print_dur(fp, "timeout", h->timeout_ms);
	print_dur(fp, "retry_interval", h->retry_interval_ms);
	print_dur(fp, "max_retry_interval", h->max_retry_interval_ms);
	print_dur(fp, "max_age", h->max_age_ms);
	print_transient(fp, h);
	print_secret(fp, "signing_secret", h->signing_secret);
	fprintf(fp, "tls_verify = %s\n", h->tls_verify ? "true" : "false");
	print_opt(fp, "ca_file", h->ca_file, "(system)");
	print_opt(fp, "client_cert", h->client_cert, "(none)");
	print_opt(fp, "client_key", h->client_key, "(none)");
	print_shaping(fp, &h->shaping);
	for (i = 0; i < cfg->nignored; i++) {
		if (cfg->ignored[i].hook == NULL ||
		    strcmp(cfg->ignored[i].hook, h->name) != 0)
			continue;
		fputs("ignored key ", fp);
		print_str(fp, cfg->ignored[i].what);
		fprintf(fp, " at %s\n", cfg->ignored[i].where);
	}
}

void
config_print(const struct config *cfg, FILE *fp)
{
	size_t	 i;
	int	 first = 1;

	print_opt(fp, "spool_dir", cfg->spool_dir, "(none)");
	print_size(fp, "max_spool_size", cfg->max_spool_size);
	fputs("listen = [", fp);
	for (i = 0; i < cfg->nlisten; i++) {
		if (i > 0)
			fputs(", ", fp);
		print_str(fp, cfg->listen[i].text);
	}
	fputs("]\n", fp);
	print_opt(fp, "control_socket", cfg->control_socket, "(none)");
	print_opt(fp, "pid_file", cfg->pid_file, "(none)");
	fputs("shaping = ", fp);
	print_list(fp, cfg->shaping, cfg->nshaping);
	fputc('\n', fp);
	print_secret(fp, "ingest_token", cfg->ingest_token);
	print_size(fp, "max_record_size", cfg->max_record_size);
	print_size(fp, "max_request_size", cfg->max_request_size);
	fprintf(fp, "max_connections = %llu\n",
	    (unsigned long long)cfg->max_connections);
	fprintf(fp, "max_connections_per_client = %llu\n",
	    (unsigned long long)cfg->max_connections_per_client);
	print_dur(fp, "client_idle_timeout", cfg->client_idle_timeout_ms);
	print_dur(fp, "client_header_timeout", cfg->client_header_timeout_ms);
	print_opt(fp, "user", cfg->user, "(none)");
	for (i = 0; i < cfg->nhooks; i++)
		print_hook(fp, cfg, &cfg->hooks[i]);
	for (i = 0; i < cfg->nignored; i++) {
		if (cfg->ignored[i].hook != NULL)
			continue;
		fputs(first ? "\nignored section " : "ignored section ", fp);
		first = 0;
		print_str(fp, cfg->ignored[i].what);
		fprintf(fp, " at %s\n", cfg->ignored[i].where);
	}
}

/*
 * Secrets and who may read them.
 */

/* How many secrets the file holds; the first is named in first. */
static size_t
secrets(const struct config *cfg, char *first, size_t len)
{
	const struct hook	*h;
	size_t			 i, j, n = 0;

	if (cfg->ingest_token != NULL && n++ == 0)
		snprintf(first, len, "ingest_token");
	for (i = 0; i < cfg->nhooks; i++) {
		h = &cfg->hooks[i];
		if (h->signing_secret != NULL && n++ == 0)
			snprintf(first, len, "the signing_secret of hook %s",
			    h->name);
		for (j = 0; j < h->nheaders; j++)
			if (header_secret(h->headers[j].name) && n++ == 0)
				snprintf(first, len, "header %s of hook %s",
				    h->headers[j].name, h->name);
	}
	return n;
}

/* A user's name, or a group's, else its number. */
static const char *
id_name(int group, unsigned long id, char *buf, size_t len)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*name = NULL;

	if (group && (gr = getgrgid((gid_t)id)) != NULL)
		name = gr->gr_name;
	else if (!group && (pw = getpwuid((uid_t)id)) != NULL)
		name = pw->pw_name;
	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%lu", id);
	return buf;
}

#define user_name(uid, buf, len)	id_name(0, (uid), (buf), (len))
#define group_name(gid, buf, len)	id_name(1, (gid), (buf), (len))

/*
 * The rule is ssh's for a private key, widened by one group: besides the
 * owner, which must be root or spoold's user, only root's group and the
 * group of spoold's user may read the file. That group must read it when
 * spoold drops to its user, for a reload to read the file again.
 */
int
config_exposed(const struct config *cfg, uid_t uid, gid_t gid, char *msg,
    size_t len)
{
	char	 what[HOOK_NAME_MAX + 128], more[64], o[64], g[64];
	size_t	 n;
	int	 mode = (int)cfg->mode;

	if ((n = secrets(cfg, what, sizeof(what))) == 0)
		return 0;
	more[0] = '\0';
	if (n > 1)
		snprintf(more, sizeof(more), " and %zu other secret%s", n - 1,
		    n > 2 ? "s" : "");
	if (cfg->mode & S_IROTH && gid == 0)
		snprintf(msg, len, "%s: mode %04o lets other users read %s%s; "
		    "chmod 0600", cfg->path, mode, what, more);
	else if (cfg->mode & S_IROTH)
		snprintf(msg, len, "%s: mode %04o lets other users read %s%s; "
		    "chmod 0640 (%s:%s)", cfg->path, mode, what, more,
		    user_name(cfg->owner == uid ? uid : 0, o, sizeof(o)),
		    group_name(gid, g, sizeof(g)));
	else if (cfg->mode & S_IRGRP && cfg->group != 0 && cfg->group != gid)
		snprintf(msg, len, "%s: mode %04o lets group %s read %s%s; "
		    "chgrp %s or chmod 0600", cfg->path, mode,
		    group_name(cfg->group, g, sizeof(g)), what, more,
		    gid == 0 ? "root" : group_name(gid, o, sizeof(o)));
	else if (cfg->owner != 0 && cfg->owner != uid)
		snprintf(msg, len, "%s: its owner %s can read %s%s; chown root",
		    cfg->path, user_name(cfg->owner, o, sizeof(o)), what, more);
	else
		return 0;
	return 1;
}

/* By the mode bits alone: spoold's user has no other groups. */
int
config_unreadable(const struct config *cfg, uid_t uid, gid_t gid, char *msg,
    size_t len)
{
	char	 o[64], g[64];
	int	 can;

	if (uid == 0)
		return 0;
	if (cfg->owner == uid)
		can = cfg->mode & S_IRUSR;
	else if (cfg->group == gid)
		can = cfg->mode & S_IRGRP;
	else
		can = cfg->mode & S_IROTH;
	if (can)
		return 0;
	snprintf(msg, len, "%s: mode %04o: user %s cannot read it to reload "
	    "it; chown root:%s and chmod 0640", cfg->path, (int)cfg->mode,
	    user_name(uid, o, sizeof(o)), group_name(gid, g, sizeof(g)));
	return 1;
}
