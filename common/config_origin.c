/*
 * Where each of a hook's effective settings came from: its [hook.NAME]
 * table, the shaping section whose key won the merge, or spoold's own
 * default. The text is made once, at load, and kept with the hook, so
 * that spoold -n and the daemon's messages at run time name the same
 * place long after the files' text is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "toml.h"

#define BUILT_IN	"built-in"

/* The section as one writes its header: quoted where TOML needs it. */
static int
origin_text(char **text, const struct hook *h, enum origin_kind kind,
    const struct toml_pos *pos)
{
	const char	*q;

	switch (kind) {
	case ORIGIN_HOOK:
		/* Names are A-Z a-z 0-9 _ . -: only a dot needs quotes. */
		q = strchr(h->name, '.') != NULL ? "\"" : "";
		return asprintf(text, "%s:%d [hook.%s%s%s]", pos->file,
		    pos->line, q, h->name, q);
	case ORIGIN_DEFAULT:
		return asprintf(text, "%s:%d [\"default\"]", pos->file,
		    pos->line);
	case ORIGIN_LOG_HOOK:
		return asprintf(text, "%s:%d ['%s.log_hook']", pos->file,
		    pos->line, h->name);
	}
	return -1;
}

/* The index of key's origin in h, or norigins. */
static size_t
origin_index(const struct hook *h, const char *key)
{
	size_t	 i;

	for (i = 0; i < h->norigins; i++)
		if (strcmp(h->origins[i].key, key) == 0)
			break;
	return i;
}

const struct origin *
origin_find(const struct hook *h, const char *key)
{
	size_t	 i = origin_index(h, key);

	return i < h->norigins ? &h->origins[i] : NULL;
}

int
origin_set(struct load *ld, struct hook *h, const char *key,
    enum origin_kind kind, const struct toml_pos *pos)
{
	struct origin	*o;
	char		*text;
	size_t		 i = origin_index(h, key);

	if (origin_text(&text, h, kind, pos) == -1)
		return nomem(ld);
	if (i < h->norigins)
		o = &h->origins[i];
	else {
		o = reallocarray(h->origins, h->norigins + 1, sizeof(*o));
		if (o == NULL) {
			free(text);
			return nomem(ld);
		}
		h->origins = o;
		o = &h->origins[h->norigins++];
		o->key = key;
		o->text = NULL;
	}
	free(o->text);
	o->kind = kind;
	o->text = text;
	return 0;
}

void
origin_free(struct hook *h)
{
	size_t	 i;

	for (i = 0; i < h->norigins; i++)
		free(h->origins[i].text);
	free(h->origins);
	h->origins = NULL;
	h->norigins = 0;
}

const char *
config_origin(const struct hook *h, const char *key)
{
	const struct origin	*o;

	if ((o = origin_find(h, key)) != NULL)
		return o->text;
	return hook_key_known(key) ? BUILT_IN : NULL;
}
