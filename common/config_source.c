/*
 * The [source.NAME] tables of spoold.conf: directories of KumoMTA's
 * local log segments (kumo.configure_local_logs) that spoold reads
 * itself. The keys are those of KumoMTA's own tailer (directory,
 * pattern, poll_watcher) but for start, which says where a source
 * never read before begins.
 */
#include <fnmatch.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "toml.h"

static setter	set_start;

enum { SK_DIR, SK_PATTERN, SK_START, SK_POLL, SK_COUNT };

static const struct keydef sourcekeys[SK_COUNT] = {
	[SK_DIR] = { "directory", set_str,
	    offsetof(struct source, directory), 1 },
	[SK_PATTERN] = { "pattern", set_str,
	    offsetof(struct source, pattern), 1 },
	[SK_START] = { "start", set_start, 0, 0 },
	[SK_POLL] = { "poll_watcher", set_dur,
	    offsetof(struct source, poll_watcher_ms), 0 },
};

static int
set_start(struct load *ld, const struct keydef *d, void *obj,
    const struct toml_value *v)
{
	struct source	*src = obj;
	char		 b[128];

	if (want_str(ld, d->name, v) == -1)
		return -1;
	if (strcmp(v->u.str.s, "oldest") == 0)
		src->newest = 0;
	else if (strcmp(v->u.str.s, "newest") == 0)
		src->newest = 1;
	else
		return errat(ld, &v->pos, "start: \"%s\": takes \"oldest\" or "
		    "\"newest\"", shown(v->u.str.s, b, sizeof(b)));
	return 0;
}

/* What holds across keys: a directory, absolute; a pattern of names. */
static int
source_check(struct load *ld, struct source *src, const struct toml_kv *skv,
    const struct toml_value *seen[SK_COUNT])
{
	if (src->directory == NULL)
		return errat(ld, &skv->pos, "source %s: directory is required",
		    src->name);
	if (src->directory[0] != '/')
		return errat(ld, &seen[SK_DIR]->pos, "source %s: directory: "
		    "must be an absolute path", src->name);
	if (src->pattern == NULL && (src->pattern = strdup("*")) == NULL)
		return nomem(ld);
	if (strchr(src->pattern, '/') != NULL)
		return errat(ld, &seen[SK_PATTERN]->pos, "source %s: pattern: "
		    "matches names in the directory, without \"/\"",
		    src->name);
	/* glibc has no pattern check: a bad one matches nothing. */
	if (fnmatch(src->pattern, "", 0) != 0 &&
	    fnmatch(src->pattern, "", 0) != FNM_NOMATCH)
		return errat(ld, &seen[SK_PATTERN]->pos, "source %s: pattern: "
		    "not a glob", src->name);
	return 0;
}

static int
load_source(struct load *ld, struct source *src, const struct toml_kv *skv)
{
	const struct toml_value	*seen[SK_COUNT] = { NULL };
	const struct keydef	*d;
	const struct toml_kv	*kv;
	size_t			 i;

	for (i = 0; i < skv->val->u.tab.n; i++) {
		kv = &skv->val->u.tab.kv[i];
		if ((d = keyfind(sourcekeys, SK_COUNT, kv)) == NULL)
			return errkey(ld, kv);
		seen[d - sourcekeys] = kv->val;
		if (d->set(ld, d, src, kv->val) == -1)
			return -1;
	}
	return source_check(ld, src, skv, seen);
}

static int
source_cmp(const void *a, const void *b)
{
	const struct source	*sa = a, *sb = b;

	return strcmp(sa->name, sb->name);
}

int
load_sources(struct load *ld, const struct toml_value *v)
{
	struct config		*cfg = ld->cfg;
	const struct toml_kv	*kv;
	size_t			 i, n;

	if (v->type != TOML_TABLE)
		return errtype(ld, "source", v, "a table");
	if ((n = v->u.tab.n) == 0)
		return 0;
	if ((cfg->sources = calloc(n, sizeof(*cfg->sources))) == NULL)
		return nomem(ld);
	for (i = 0; i < n; i++) {
		kv = &v->u.tab.kv[i];
		if (named_table(ld, kv, "source") == -1)
			return -1;
		cfg->nsources++;
		if ((cfg->sources[i].name = strdup(kv->key)) == NULL)
			return nomem(ld);
		if (load_source(ld, &cfg->sources[i], kv) == -1)
			return -1;
	}
	if (cfg->nsources > 1)
		qsort(cfg->sources, cfg->nsources, sizeof(struct source),
		    source_cmp);
	return 0;
}

void
sources_free(struct config *cfg)
{
	size_t	 i;

	for (i = 0; i < cfg->nsources; i++) {
		free(cfg->sources[i].name);
		free(cfg->sources[i].directory);
		free(cfg->sources[i].pattern);
	}
	free(cfg->sources);
}

const struct source *
config_source(const struct config *cfg, const char *name)
{
	struct source	 key;

	if (cfg->nsources == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	return bsearch(&key, cfg->sources, cfg->nsources,
	    sizeof(struct source), source_cmp);
}
