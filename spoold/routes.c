/*
 * Routing tables: the hooks that take each record type, by the spool's
 * persistent hook ids.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spoold.h"

static void
routes_free(struct routes *r)
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
struct routes *
routes_make(struct config *conf, struct store *store, char *err,
    size_t errlen)
{
	struct routes	*r;
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
	routes_free(r);
	return NULL;
}

struct routes *
routes_get(void)
{
	struct routes	*r;

	pthread_mutex_lock(&sd->lock);
	r = sd->routes;
	r->refs++;
	pthread_mutex_unlock(&sd->lock);
	return r;
}

void
routes_ref(struct routes *r)
{
	pthread_mutex_lock(&sd->lock);
	r->refs++;
	pthread_mutex_unlock(&sd->lock);
}

void
routes_put(struct routes *r)
{
	unsigned int	 refs;

	pthread_mutex_lock(&sd->lock);
	refs = --r->refs;
	pthread_mutex_unlock(&sd->lock);
	if (refs == 0)
		routes_free(r);
}

void
routes_set(struct routes *r)
{
	struct routes	*old;

	pthread_mutex_lock(&sd->lock);
	old = sd->routes;
	sd->routes = r;
	pthread_mutex_unlock(&sd->lock);
	if (old != NULL)
		routes_put(old);
}
