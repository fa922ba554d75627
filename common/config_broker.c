/*
 * A hook's url, whose scheme chooses its transport (HTTP, AMQP or
 * Kafka), and the settings only a broker has: the defaults of the AMQP
 * keys, the Kafka topic, and the kafka table of librdkafka properties.
 * What a broker's library alone can judge (a property's name and value)
 * the transport checks when spoold starts or reloads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

static const struct {
	const char		*scheme;
	enum hook_transport	 transport;
} schemes[] = {
	{ "http://", TRANSPORT_HTTP },
	{ "https://", TRANSPORT_HTTP },
	{ "amqp://", TRANSPORT_AMQP },
	{ "amqps://", TRANSPORT_AMQP },
	{ "kafka://", TRANSPORT_KAFKA },
};

/* Properties that other keys set: the brokers are the url's. */
static const struct {
	const char	*name;
	const char	*instead;
} taken[] = {
	{ "bootstrap.servers", "url" },
	{ "metadata.broker.list", "url" },
	{ "message.timeout.ms", "timeout" },
	{ "delivery.timeout.ms", "timeout" },
};

static const struct header kafka_defaults[] = {
	{ "acks", "all" },
	{ "enable.idempotence", "true" },
};

/* [user[:password]@]host[:port], up to the path: "" or why not. */
static const char *
amqp_authority(const char *p)
{
	const char	*end = p + strcspn(p, "/?#"), *at, *host, *colon;

	at = memchr(p, '@', (size_t)(end - p));
	host = at != NULL ? at + 1 : p;
	if (host == end || *host == ':')
		return "missing host";
	if (*host == '[') {
		if ((host = memchr(host, ']', (size_t)(end - host))) == NULL)
			return "unclosed [";
		host++;
		if (host != end && *host != ':')
			return "bad port";
	}
	if ((colon = memchr(host, ':', (size_t)(end - host))) == NULL)
		return "";
	if (colon + 1 == end || strspn(colon + 1, "0123456789") !=
	    (size_t)(end - colon - 1) || end - colon - 1 > 5 ||
	    atoi(colon + 1) == 0 || atoi(colon + 1) > 65535)
		return "bad port";
	return "";
}

/* host:port[,host:port...]: "" or why not. */
static const char *
kafka_brokers(const char *p)
{
	size_t	 n;

	if (*p == '\0')
		return "missing brokers";
	for (;;) {
		n = strcspn(p, ",");
		if (n == 0 || memchr(p, '/', n) != NULL)
			return "brokers are host:port, comma-separated";
		if (p[n] == '\0')
			return "";
		p += n + 1;
	}
}

int
set_url(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;
	const char	*s, *p, *why;
	char		*u;
	size_t		 i, n;

	if (want_str(ld, d->name, v) == -1)
		return -1;
	s = v->u.str.s;
	for (i = 0; i < NELEM(schemes); i++) {
		n = strlen(schemes[i].scheme);
		if (strncasecmp(s, schemes[i].scheme, n) == 0)
			break;
	}
	if (i == NELEM(schemes))
		return errat(ld, &v->pos, "%s: must start with http://, "
		    "https://, amqp://, amqps:// or kafka://", d->name);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return errat(ld, &v->pos, "%s: contains spaces or "
			    "control characters", d->name);
	p = s + n;
	switch (schemes[i].transport) {
	case TRANSPORT_HTTP:
		why = *p == '\0' || *p == '/' || *p == '?' || *p == '#' ?
		    "missing host" : "";
		break;
	case TRANSPORT_AMQP:
		why = amqp_authority(p);
		break;
	default:
		why = kafka_brokers(p);
		break;
	}
	if (*why != '\0')
		return errat(ld, &v->pos, "%s: %s", d->name, why);
	if ((u = strdup(s)) == NULL)
		return nomem(ld);
	free(h->url);
	h->url = u;
	h->transport = schemes[i].transport;
	return 0;
}

/* The index of the property in h's kafka table, or nkafka. */
static size_t
prop_find(const struct hook *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nkafka; i++)
		if (strcmp(h->kafka[i].name, name) == 0)
			break;
	return i;
}

/* A new property, empty, at index at of h's kafka table; 0 or -1. */
static int
prop_insert(struct load *ld, struct hook *h, size_t at)
{
	struct header	*p;

	if ((p = reallocarray(h->kafka, h->nkafka + 1, sizeof(*p))) == NULL)
		return nomem(ld);
	h->kafka = p;
	memmove(p + at + 1, p + at, (h->nkafka - at) * sizeof(*p));
	p[at].name = p[at].value = NULL;
	h->nkafka++;
	return 0;
}

static int
prop_set(struct load *ld, struct hook *h, const char *name,
    const char *value)
{
	size_t	 i = prop_find(h, name);

	if (i == h->nkafka && (prop_insert(ld, h, i) == -1 ||
	    (h->kafka[i].name = strdup(name)) == NULL))
		return nomem(ld);
	free(h->kafka[i].value);
	if ((h->kafka[i].value = strdup(value)) == NULL)
		return nomem(ld);
	return 0;
}

/* A property's value as librdkafka takes it: text. */
static int
prop_text(struct load *ld, const char *name, const struct toml_value *v,
    char *buf, size_t len, const char **text)
{
	switch (v->type) {
	case TOML_STRING:
		if (want_str(ld, name, v) == -1)
			return -1;
		*text = v->u.str.s;
		return 0;
	case TOML_INTEGER:
		snprintf(buf, len, "%" PRId64, v->u.i);
		break;
	case TOML_BOOLEAN:
		snprintf(buf, len, "%s", v->u.b ? "true" : "false");
		break;
	default:
		return errtype(ld, name, v, "a string, an integer or a "
		    "boolean");
	}
	*text = buf;
	return 0;
}

/*
 * The table's properties, dotted keys (compression.type = "lz4", a
 * table in TOML) joined again into librdkafka's names.
 */
static int
props(struct load *ld, struct hook *h, const char *prefix,
    const struct toml_value *tab)
{
	const struct toml_kv	*kv;
	const char		*text = NULL;
	char			 name[256], num[32], b[128];
	size_t			 i, j;

	for (i = 0; i < tab->u.tab.n; i++) {
		kv = &tab->u.tab.kv[i];
		if (strlen(kv->key) != kv->keylen ||
		    (size_t)snprintf(name, sizeof(name), "%s%s%s", prefix,
		    *prefix ? "." : "", kv->key) >= sizeof(name))
			return errat(ld, &kv->pos, "kafka: bad property name "
			    "\"%s\"", shown(kv->key, b, sizeof(b)));
		if (kv->val->type == TOML_TABLE) {
			if (props(ld, h, name, kv->val) == -1)
				return -1;
			continue;
		}
		for (j = 0; j < NELEM(taken); j++)
			if (strcmp(name, taken[j].name) == 0)
				return errat(ld, &kv->pos, "kafka: %s comes "
				    "from the hook's %s", name,
				    taken[j].instead);
		if (prop_text(ld, name, kv->val, num, sizeof(num),
		    &text) == -1 || prop_set(ld, h, name, text) == -1)
			return -1;
	}
	return 0;
}

int
set_kafka(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct hook	*h = obj;

	if (v->type != TOML_TABLE)
		return errtype(ld, d->name, v, "a table");
	return props(ld, h, "", v);
}

/*
 * The defaults not written go first, in their order, so that librdkafka
 * sees what was written last.
 */
static int
kafka_fill(struct load *ld, struct hook *h)
{
	const struct header	*d;
	size_t			 i;

	for (i = NELEM(kafka_defaults); i-- > 0;) {
		d = &kafka_defaults[i];
		if (prop_find(h, d->name) < h->nkafka)
			continue;
		if (prop_insert(ld, h, 0) == -1 ||
		    (h->kafka[0].name = strdup(d->name)) == NULL ||
		    (h->kafka[0].value = strdup(d->value)) == NULL)
			return nomem(ld);
	}
	return 0;
}

int
broker_defaults(struct load *ld, struct hook *h)
{
	if (h->transport == TRANSPORT_AMQP) {
		if (h->exchange == NULL && (h->exchange = strdup("")) == NULL)
			return nomem(ld);
		if (h->routing_key == NULL &&
		    (h->routing_key = strdup(h->name)) == NULL)
			return nomem(ld);
	}
	if (h->transport == TRANSPORT_KAFKA)
		return kafka_fill(ld, h);
	return 0;
}

void
broker_free(struct hook *h)
{
	size_t	 i;

	free(h->exchange);
	free(h->routing_key);
	free(h->topic);
	free(h->key);
	for (i = 0; i < h->nkafka; i++) {
		free(h->kafka[i].name);
		free(h->kafka[i].value);
	}
	free(h->kafka);
	h->kafka = NULL;
	h->nkafka = 0;
}

const char *
hook_transport_name(enum hook_transport t)
{
	switch (t) {
	case TRANSPORT_HTTP:
		return "http";
	case TRANSPORT_AMQP:
		return "amqp";
	case TRANSPORT_KAFKA:
		return "kafka";
	}
	return "?";
}
