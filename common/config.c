/*
 * Loading spoold.conf: its top-level keys and their defaults, the listen
 * addresses, and reading the shaping files it names. The [hook.NAME]
 * tables are config_hook.c's, the merge of shaping sections shaping.c's.
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "toml.h"

/* Larger files are surely not configuration. */
#define MAX_FILE_SIZE	(16 * 1024 * 1024)

static setter	set_listen, set_shaping;

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
 * The shaping files, read and parsed here; their sections are merged
 * into each hook by shaping.c.
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
load_top(struct load *ld)
{
	const struct toml_value	*hooks = NULL, *sources = NULL;
	const struct keydef	*d;
	const struct toml_kv	*kv;
	size_t			 i;

	for (i = 0; i < ld->root->u.tab.n; i++) {
		kv = &ld->root->u.tab.kv[i];
		if (keyis(kv, "hook"))
			hooks = kv->val;
		else if (keyis(kv, "source"))
			sources = kv->val;
		else if ((d = keyfind(topkeys, NELEM(topkeys), kv)) == NULL)
			return errkey(ld, kv);
		else if (d->set(ld, d, ld->cfg, kv->val) == -1)
			return -1;
	}
	if (shaping_default(ld) == -1)
		return -1;
	if (hooks != NULL && load_hooks(ld, hooks) == -1)
		return -1;
	if (sources != NULL && load_sources(ld, sources) == -1)
		return -1;
	return shaping_unused(ld);
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
	sources_free(cfg);
	for (i = 0; i < cfg->nignored; i++) {
		free(cfg->ignored[i].hook);
		free(cfg->ignored[i].what);
		free(cfg->ignored[i].where);
	}
	free(cfg->ignored);
	for (i = 0; i < cfg->nwarnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg);
}
