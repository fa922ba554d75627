/*
 * The listing of spoold -n: each hook's effective settings and every
 * ignored key and section, as "key = value" lines; strings quoted as
 * TOML basic strings, sizes, durations and rates bare in their canonical
 * units, secrets shown only as set or not. Each setting of a hook is
 * followed by a comment saying where it came from (config_origin()).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "rectype.h"
#include "units.h"

/* Lines longer than this take their origin two spaces after them. */
#define ORIGIN_COL	44

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

/* Headers or properties: those that may be credentials not shown. */
static void
print_pairs(FILE *fp, const char *name, const struct header *v, size_t n)
{
	size_t	 i;

	fprintf(fp, "%s = ", name);
	if (n == 0) {
		fputs("(none)\n", fp);
		return;
	}
	fputs("{ ", fp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", fp);
		print_key(fp, v[i].name);
		fputs(" = ", fp);
		if (header_secret(v[i].name))
			fputs("(set)", fp);
		else
			print_str(fp, v[i].value);
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

/* The url, its password (if any) not shown. */
static void
print_url(FILE *fp, const struct hook *h)
{
	char	*u;

	if ((u = config_url_shown(h->url)) == NULL) {
		fputs("url = (set)\n", fp);
		return;
	}
	print_opt(fp, "url", u, "(none)");
	free(u);
}

/* The keys of the hook's transport alone. */
static void
print_transport(FILE *fp, const struct hook *h)
{
	switch (h->transport) {
	case TRANSPORT_HTTP:
		fprintf(fp, "format = \"%s\"\n",
		    h->format == FORMAT_NDJSON ? "ndjson" : "json");
		break;
	case TRANSPORT_AMQP:
		print_opt(fp, "exchange", h->exchange, "\"\"");
		print_opt(fp, "routing_key", h->routing_key, "(none)");
		fprintf(fp, "persistent = %s\n", h->persistent ? "true" :
		    "false");
		fprintf(fp, "mandatory = %s\n", h->mandatory ? "true" :
		    "false");
		break;
	case TRANSPORT_KAFKA:
		print_opt(fp, "topic", h->topic, "(none)");
		print_opt(fp, "key", h->key, "(none)");
		print_pairs(fp, "kafka", h->kafka, h->nkafka);
		break;
	}
}

/* The origin of the setting a "key = value" line prints, or NULL. */
static const char *
line_origin(const struct hook *h, const char *line, size_t len)
{
	const char	*eq;
	char		 key[64];

	if ((eq = memmem(line, len, " = ", 3)) == NULL ||
	    (size_t)(eq - line) >= sizeof(key))
		return NULL;
	memcpy(key, line, eq - line);
	key[eq - line] = '\0';
	return config_origin(h, key);
}

/*
 * The hook's lines, each setting followed by where it came from, the
 * comments in one column past the lines not longer than ORIGIN_COL.
 */
static void
print_origins(FILE *fp, const struct hook *h, const char *text)
{
	const char	*p, *nl, *o;
	size_t		 len, col = 0;

	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((len = nl - p) <= ORIGIN_COL && len > col &&
		    line_origin(h, p, len) != NULL)
			col = len;
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		len = nl - p;
		fwrite(p, 1, len, fp);
		if ((o = line_origin(h, p, len)) != NULL)
			fprintf(fp, "%*s# %s", (int)(len < col ? col - len + 2 :
			    2), "", o);
		fputc('\n', fp);
	}
}

static void
print_settings(FILE *fp, const struct config *cfg, const struct hook *h)
{
	size_t	 i;

	print_url(fp, h);
	fprintf(fp, "batch_size = %llu\n", (unsigned long long)h->batch_size);
	fprintf(fp, "min_batch_size = %llu\n",
	    (unsigned long long)h->min_batch_size);
	print_dur(fp, "max_batch_latency", h->max_batch_latency_ms);
	print_transport(fp, h);
	print_types(fp, h->types);
	print_logparams(fp, h);
	print_pairs(fp, "headers", h->headers, h->nheaders);
	print_dur(fp, "timeout", h->timeout_ms);
	print_dur(fp, "retry_interval", h->retry_interval_ms);
	print_dur(fp, "max_retry_interval", h->max_retry_interval_ms);
	print_dur(fp, "max_age", h->max_age_ms);
	if (h->transport == TRANSPORT_HTTP)
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

/* The settings are printed first, then given their origins. */
static void
print_hook(FILE *fp, const struct config *cfg, const struct hook *h)
{
	FILE	*ms;
	char	*text = NULL;
	size_t	 len;

	fputs("\n[hook.", fp);
	print_key(fp, h->name);
	fputs("]\n", fp);
	if ((ms = open_memstream(&text, &len)) == NULL) {
		print_settings(fp, cfg, h);
		return;
	}
	print_settings(ms, cfg, h);
	if (fclose(ms) == 0)
		print_origins(fp, h, text);
	else
		print_settings(fp, cfg, h);
	free(text);
}

static void
print_source(FILE *fp, const struct source *src)
{
	fputs("\n[source.", fp);
	print_key(fp, src->name);
	fputs("]\n", fp);
	print_opt(fp, "directory", src->directory, "(none)");
	print_opt(fp, "pattern", src->pattern, "(none)");
	fprintf(fp, "start = \"%s\"\n", src->newest ? "newest" : "oldest");
	if (src->poll_watcher_ms == 0)
		fputs("poll_watcher = (none: inotify)\n", fp);
	else
		print_dur(fp, "poll_watcher", src->poll_watcher_ms);
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
	for (i = 0; i < cfg->nsources; i++)
		print_source(fp, &cfg->sources[i]);
	for (i = 0; i < cfg->nignored; i++) {
		if (cfg->ignored[i].hook != NULL)
			continue;
		fputs(first ? "\nignored section " : "ignored section ", fp);
		first = 0;
		print_str(fp, cfg->ignored[i].what);
		fprintf(fp, " at %s\n", cfg->ignored[i].where);
	}
}
