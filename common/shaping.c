/*
 * The merge of KumoMTA shaping files into each hook's shaping.
 *
 * A section is merged over the files in the order spoold.conf names
 * them, a later key replacing an earlier one, and replace_base = true
 * dropping what earlier files said for that section. A hook gets the
 * merged ["default"], then its merged ['NAME.log_hook'] over it. Keys
 * and whole sections spoold has no use for are recorded, not refused:
 * the files are written for KumoMTA and carry SMTP settings that mean
 * nothing to a webhook.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "toml.h"
#include "units.h"

static setter	set_rate, set_limit;

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

const struct shaping shaping_defaults = {
	.connection_limit = 32,
	.max_deliveries_per_connection = 1024,
	.max_ready = 1024,
	.idle_timeout_ms = 5 * 1000,
	.system_shutdown_timeout_ms = 30 * 1000,
	.mx_rollup = 1,
};

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

/* Where an ignored key was written, for spoold -n. */
static char *
where(const struct toml_pos *pos)
{
	char	*s;

	if (asprintf(&s, "%s:%d:%d", pos->file, pos->line, pos->col) == -1)
		return NULL;
	return s;
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
			    toml_typename(v->type));
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

/*
 * Apply a merged section over h's shaping, or over sh alone to check it
 * (h NULL); with a hook, keys spoold has no use for are recorded, and
 * where each key came from.
 */
static int
section_apply(struct load *ld, const struct section *s, struct shaping *sh,
    struct hook *h, enum origin_kind kind)
{
	const struct keydef	*d;
	const struct toml_kv	*kv;
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		kv = s->kv[i];
		if ((d = shaping_key(kv)) != NULL) {
			if (d->set(ld, d, sh, kv->val) == -1 || (h != NULL &&
			    origin_set(ld, h, d->name, kind, &kv->pos) == -1))
				return -1;
		} else if (h != NULL &&
		    ignore(ld, h->name, kv->key, &kv->pos) == -1)
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

int
shaping_unused(struct load *ld)
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

const struct keydef *
shaping_key(const struct toml_kv *kv)
{
	return keyfind(shapekeys, NELEM(shapekeys), kv);
}

const struct keydef *
shaping_key_named(const char *name)
{
	return keynamed(shapekeys, NELEM(shapekeys), name);
}

int
shaping_default(struct load *ld)
{
	struct shaping	 scratch = shaping_defaults;

	/* Bad values in ["default"] are errors even with no hook. */
	if (section_merge(ld, "default", &ld->dflt) == -1 ||
	    section_apply(ld, &ld->dflt, &scratch, NULL, ORIGIN_DEFAULT) ==
	    -1)
		return -1;
	return 0;
}

int
shaping_hook(struct load *ld, struct hook *h)
{
	struct section	 sect = { NULL, 0 };
	char		*name = NULL;
	int		 rc = -1;

	if (section_apply(ld, &ld->dflt, &h->shaping, h, ORIGIN_DEFAULT) ==
	    -1)
		return -1;
	if (asprintf(&name, "%s.log_hook", h->name) == -1)
		return nomem(ld);
	if (section_merge(ld, name, &sect) == -1 ||
	    section_apply(ld, &sect, &h->shaping, h, ORIGIN_LOG_HOOK) == -1)
		goto done;
	rc = 0;
done:
	free(sect.kv);
	free(name);
	return rc;
}
