/*
 * KumoMTA's ["default"] shaping section is written for mailbox
 * providers: a log hook that inherits its limits delivers a few records
 * a second and its queue backs up. KumoMTA advises giving the hook a
 * section of its own; spoold warns, once per hook, when the hook takes
 * a limit tighter than that advice from ["default"], and prints the
 * section to add. The limits throttle HTTP, AMQP and Kafka alike.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "toml.h"
#include "units.h"

/* What kind of limit a key is, to compare it with the advice. */
enum limit {
	L_NONE,		/* no limit: advised all the same */
	L_CONNECTIONS,	/* connection_limit, a uint32_t */
	L_COUNT,	/* a uint64_t */
	L_RATE		/* a struct rate, compared per second */
};

/*
 * KumoMTA's advice for a log hook's own section, in the order printed.
 * It sets no message rate, so one inherited from ["default"] would
 * outlive the section added: spoold's suggestion then lifts it to a
 * rate no log hook's receiver is throttled by.
 */
static const struct advice {
	const char	*key;
	const char	*line;
	enum limit	 limit;
	size_t		 off;	/* in struct shaping */
	uint64_t	 min;	/* a limit below this is tight */
	int		 always;	/* else printed only when tight */
} advice[] = {
	{ "connection_limit", "connection_limit = \"local:10\"",
	    L_CONNECTIONS, 0, 10, 1 },
	{ "max_connection_rate", "max_connection_rate = \"1000/s\"", L_RATE,
	    offsetof(struct shaping, max_connection_rate), 1000, 1 },
	{ "max_deliveries_per_connection",
	    "max_deliveries_per_connection = 8192", L_COUNT,
	    offsetof(struct shaping, max_deliveries_per_connection), 8192, 1 },
	{ "max_message_rate", "max_message_rate = \"10000/s\"", L_RATE,
	    offsetof(struct shaping, max_message_rate), 10000, 0 },
	{ "max_ready", "max_ready = 10000", L_COUNT,
	    offsetof(struct shaping, max_ready), 10000, 1 },
	{ "mx_rollup", "mx_rollup = false", L_NONE, 0, 0, 1 },
	{ "system_shutdown_timeout", "system_shutdown_timeout = \"30s\"",
	    L_NONE, 0, 0, 1 },
};

/* Is sh's limit tighter than the advice? A rate of 0 is no limit. */
static int
tight(const struct shaping *sh, const struct advice *a)
{
	const void		*p = (const char *)sh + a->off;
	const struct rate	*r = p;

	switch (a->limit) {
	case L_CONNECTIONS:
		return sh->connection_limit < a->min;
	case L_COUNT:
		return *(const uint64_t *)p < a->min;
	case L_RATE:
		return r->n != 0 &&
		    (double)r->n * 1000 < (double)a->min * r->per_ms;
	case L_NONE:
		break;
	}
	return 0;
}

/* The merged ["default"] key that gave h its value. */
static const struct toml_kv *
default_kv(const struct load *ld, const char *key)
{
	size_t	 i;

	for (i = 0; i < ld->dflt.n; i++)
		if (keyis(ld->dflt.kv[i], key))
			return ld->dflt.kv[i];
	return NULL;
}

/* Does h take the advised key from ["default"], tighter than advised? */
static const struct toml_kv *
inherited(const struct load *ld, const struct hook *h,
    const struct advice *a)
{
	const struct origin	*o;

	if (!tight(&h->shaping, a))
		return NULL;
	if ((o = origin_find(h, a->key)) == NULL || o->kind != ORIGIN_DEFAULT)
		return NULL;
	return default_kv(ld, a->key);
}

/* "key = value (FILE:LINE)", the value as written. */
static void
print_taken(FILE *fp, const struct toml_kv *kv)
{
	const struct toml_value	*v = kv->val;
	char			 b[128];

	fprintf(fp, "%s = ", kv->key);
	if (v->type == TOML_STRING)
		fprintf(fp, "\"%s\"", shown(v->u.str.s, b, sizeof(b)));
	else
		fprintf(fp, "%lld", (long long)v->u.i);
	fprintf(fp, " (%s:%d)", kv->pos.file, kv->pos.line);
}

/*
 * The warning's text in *text, one line and then the section to add,
 * its lines indented; *where is the first value taken. *text stays NULL
 * when h takes no tight limit from ["default"]; -1 out of memory.
 */
static int
advice_text(const struct load *ld, const struct hook *h, char **text,
    const struct toml_pos **where)
{
	const struct toml_kv	*taken[NELEM(advice)];
	const char		*sep = "";
	FILE			*fp;
	size_t			 i, len;

	for (i = 0; i < NELEM(advice); i++) {
		taken[i] = inherited(ld, h, &advice[i]);
		if (taken[i] != NULL && *where == NULL)
			*where = &taken[i]->val->pos;
	}
	if (*where == NULL)
		return 0;
	if ((fp = open_memstream(text, &len)) == NULL)
		return -1;
	fprintf(fp, "hook %s takes mail-grade limits from [\"default\"]: ",
	    h->name);
	for (i = 0; i < NELEM(advice); i++) {
		if (taken[i] == NULL)
			continue;
		fputs(sep, fp);
		print_taken(fp, taken[i]);
		sep = ", ";
	}
	fprintf(fp, "; its records back up behind them. Add to a shaping "
	    "file, as KumoMTA advises for a log hook:\n    ['%s.log_hook']",
	    h->name);
	for (i = 0; i < NELEM(advice); i++)
		if (advice[i].always || taken[i] != NULL)
			fprintf(fp, "\n    %s", advice[i].line);
	if (fclose(fp) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

int
advice_check(struct load *ld, const struct hook *h)
{
	const struct toml_pos	*where = NULL;
	char			*text = NULL;
	int			 rc;

	if (advice_text(ld, h, &text, &where) == -1)
		return nomem(ld);
	if (text == NULL)
		return 0;
	rc = warnat(ld, where, "%s", text);
	free(text);
	return rc;
}
