/*
 * The [hook.NAME] tables of spoold.conf: each hook's keys, their
 * defaults, and the checks that hold across keys. A hook's table may
 * also set the shaping keys, over what the shaping files said.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "rectype.h"
#include "toml.h"
#include "units.h"

static setter	set_format, set_types, set_logparams, set_headers,
		set_transient, set_secret;

enum {
	HK_URL, HK_BATCH, HK_MINBATCH, HK_LATENCY, HK_FORMAT, HK_TYPES,
	HK_LOGPARAMS, HK_HEADERS, HK_TIMEOUT, HK_RETRY, HK_MAXRETRY,
	HK_MAXAGE, HK_TRANSIENT, HK_SECRET, HK_TLSVERIFY, HK_CAFILE,
	HK_CERT, HK_KEY, HK_EXCHANGE, HK_ROUTING, HK_PERSISTENT,
	HK_MANDATORY, HK_TOPIC, HK_MSGKEY, HK_KAFKA, HK_COUNT
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
	[HK_EXCHANGE] = { "exchange", set_str,
	    offsetof(struct hook, exchange), 0 },
	[HK_ROUTING] = { "routing_key", set_str,
	    offsetof(struct hook, routing_key), 0 },
	[HK_PERSISTENT] = { "persistent", set_bool,
	    offsetof(struct hook, persistent), 0 },
	[HK_MANDATORY] = { "mandatory", set_bool,
	    offsetof(struct hook, mandatory), 0 },
	[HK_TOPIC] = { "topic", set_str, offsetof(struct hook, topic), 1 },
	[HK_MSGKEY] = { "key", set_str, offsetof(struct hook, key), 1 },
	[HK_KAFKA] = { "kafka", set_kafka, 0, 0 },
};

/* Keys that only one transport has. */
static const struct {
	int			 key;
	enum hook_transport	 transport;
} only[] = {
	{ HK_FORMAT, TRANSPORT_HTTP },
	{ HK_TRANSIENT, TRANSPORT_HTTP },
	{ HK_EXCHANGE, TRANSPORT_AMQP },
	{ HK_ROUTING, TRANSPORT_AMQP },
	{ HK_PERSISTENT, TRANSPORT_AMQP },
	{ HK_MANDATORY, TRANSPORT_AMQP },
	{ HK_TOPIC, TRANSPORT_KAFKA },
	{ HK_MSGKEY, TRANSPORT_KAFKA },
	{ HK_KAFKA, TRANSPORT_KAFKA },
};

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
name_ok(const char *s, size_t len)
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
	h->persistent = 1;
	h->mandatory = 1;
	h->shaping = shaping_defaults;
}

/* The keys of another transport, and what a transport must have. */
static int
transport_keys(struct load *ld, const struct hook *h,
    const struct toml_value **seen)
{
	size_t	 i;

	for (i = 0; i < NELEM(only); i++)
		if (seen[only[i].key] != NULL && only[i].transport !=
		    h->transport)
			return errat(ld, &seen[only[i].key]->pos, "%s: only "
			    "for %s hooks, and url is %s://...",
			    hookkeys[only[i].key].name,
			    hook_transport_name(only[i].transport),
			    hook_transport_name(h->transport));
	if (h->transport == TRANSPORT_KAFKA && h->topic == NULL)
		return errat(ld, &seen[HK_URL]->pos, "hook \"%s\": kafka:// "
		    "needs topic", h->name);
	return 0;
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
	if (transport_keys(ld, h, seen) == -1)
		return -1;
	if (h->min_batch_size > h->batch_size)
		return errat(ld, seen[HK_MINBATCH] ? &seen[HK_MINBATCH]->pos :
		    &seen[HK_BATCH]->pos, "min_batch_size (%llu) is above "
		    "batch_size (%llu)", (unsigned long long)h->min_batch_size,
		    (unsigned long long)h->batch_size);
	/* KumoMTA takes it, and caps the delay: so does spoold. */
	if (h->retry_interval_ms > h->max_retry_interval_ms) {
		fmt_duration(h->retry_interval_ms, r, sizeof(r));
		fmt_duration(h->max_retry_interval_ms, m, sizeof(m));
		if (warnat(ld, seen[HK_RETRY] ? &seen[HK_RETRY]->pos :
		    &seen[HK_MAXRETRY]->pos, "hook %s: retry_interval (%s) is "
		    "above max_retry_interval (%s): every retry waits %s",
		    h->name, r, m, m) == -1)
			return -1;
	}
	if (h->client_cert != NULL && h->client_key == NULL)
		return errat(ld, &seen[HK_CERT]->pos, "client_cert: needs "
		    "client_key");
	if (h->client_key != NULL && h->client_cert == NULL)
		return errat(ld, &seen[HK_KEY]->pos, "client_key: needs "
		    "client_cert");
	return broker_defaults(ld, h);
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
		} else if ((d = shaping_key(kv)) != NULL)
			obj = &h->shaping;
		else
			return errkey(ld, kv);
		if (d->set(ld, d, obj, kv->val) == -1 ||
		    origin_set(ld, h, d->name, ORIGIN_HOOK, &kv->pos) == -1)
			return -1;
	}
	return hook_check(ld, h, tab, seen);
}

static int
load_hook(struct load *ld, struct hook *h, const struct toml_kv *hkv)
{
	if (shaping_hook(ld, h) == -1 || hook_table(ld, h, hkv->val) == -1)
		return -1;
	return advice_check(ld, h);
}

static int
hook_cmp(const void *a, const void *b)
{
	const struct hook	*ha = a, *hb = b;

	return strcmp(ha->name, hb->name);
}

int
named_table(struct load *ld, const struct toml_kv *kv, const char *what)
{
	char	 b[128];

	if (!name_ok(kv->key, kv->keylen))
		return errat(ld, &kv->pos, "%s \"%s\": names take 1 to %d of "
		    "A-Z, a-z, 0-9, \"_\", \".\" and \"-\"", what,
		    shown(kv->key, b, sizeof(b)), HOOK_NAME_MAX);
	if (kv->val->type != TOML_TABLE)
		return errtype(ld, what, kv->val, "a table");
	return 0;
}

int
load_hooks(struct load *ld, const struct toml_value *v)
{
	struct config		*cfg = ld->cfg;
	const struct toml_kv	*kv;
	size_t			 i, n;

	if (v->type != TOML_TABLE)
		return errtype(ld, "hook", v, "a table");
	if ((n = v->u.tab.n) == 0)
		return 0;
	if ((cfg->hooks = calloc(n, sizeof(*cfg->hooks))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		kv = &v->u.tab.kv[i];
		if (named_table(ld, kv, "hook") == -1)
			return -1;
		hook_defaults(&cfg->hooks[i]);
		cfg->nhooks++;
		if ((cfg->hooks[i].name = strdup(kv->key)) == NULL)
			return nomem(ld);
		if (load_hook(ld, &cfg->hooks[i], kv) == -1)
			return -1;
	}
	/* Sorted for config_hook(). */
	if (cfg->nhooks > 1)
		qsort(cfg->hooks, cfg->nhooks, sizeof(struct hook), hook_cmp);
	return 0;
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
	broker_free(h);
	origin_free(h);
}

int
hook_key_known(const char *name)
{
	return keynamed(hookkeys, HK_COUNT, name) != NULL ||
	    shaping_key_named(name) != NULL;
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

