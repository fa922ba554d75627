/*
 * The live configuration: the configuration in force with its routing
 * tables (the hooks that take each record type, by the spool's
 * persistent hook ids), swapped whole on a reload and reference counted
 * by the requests and threads that hold it.
 */
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "log.h"
#include "spoold.h"

static void
live_free(struct live *r)
{
	int	 t;

	if (r == NULL)
		return;
	for (t = 0; t < RT_COUNT; t++)
		free(r->bytype[t]);
	free(r->hook_ids);
	config_free(r->conf);
	free(r);
}

/* Takes conf: it is freed with the routes. */
struct live *
live_make(struct config *conf, struct store *store, char *err,
    size_t errlen)
{
	struct live	*r;
	size_t		 h;
	int		 t;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->conf = conf;
	r->refs = 1;
	if ((r->hook_ids = calloc(conf->nhooks + 1, sizeof(uint32_t))) == NULL)
		goto nomem;
	for (h = 0; h < conf->nhooks; h++) {
		if (store_hook_id(store, conf->hooks[h].name,
		    &r->hook_ids[h]) == -1) {
			snprintf(err, errlen, "hook %s: cannot record it in "
			    "the spool", conf->hooks[h].name);
			goto fail;
		}
	}
	for (t = 0; t < RT_COUNT; t++) {
		if ((r->bytype[t] = calloc(conf->nhooks + 1,
		    sizeof(uint32_t))) == NULL)
			goto nomem;
		for (h = 0; h < conf->nhooks; h++)
			if (conf->hooks[h].types & (1u << t))
				r->bytype[t][r->ntype[t]++] = r->hook_ids[h];
	}
	return r;
 nomem:
	snprintf(err, errlen, "out of memory");
 fail:
	if (r == NULL)
		config_free(conf);
	live_free(r);
	return NULL;
}

struct live *
live_get(void)
{
	struct live	*r;

	pthread_mutex_lock(&sd->lock);
	r = sd->live;
	r->refs++;
	pthread_mutex_unlock(&sd->lock);
	return r;
}

void
live_ref(struct live *r)
{
	pthread_mutex_lock(&sd->lock);
	r->refs++;
	pthread_mutex_unlock(&sd->lock);
}

void
live_put(struct live *r)
{
	unsigned int	 refs;

	pthread_mutex_lock(&sd->lock);
	refs = --r->refs;
	pthread_mutex_unlock(&sd->lock);
	if (refs == 0)
		live_free(r);
}

void
live_set(struct live *r)
{
	struct live	*old;

	pthread_mutex_lock(&sd->lock);
	old = sd->live;
	sd->live = r;
	pthread_mutex_unlock(&sd->lock);
	if (old != NULL)
		live_put(old);
}

int
live_route(const struct live *r, const struct jscan_rec *rec,
    struct store_in *in)
{
	enum rectype	 t;

	t = rec->type_state == JSCAN_TYPE_STRING ?
	    rectype_lookup(rec->type, rec->type_len) : RT_OTHER;
	if (r->ntype[t] == 0)
		return 0;
	in->ptr = rec->ptr;
	in->len = (uint32_t)rec->len;
	in->rectype = (uint8_t)t;
	in->nhooks = r->ntype[t];
	in->hooks = r->bytype[t];
	return 1;
}
