/*
 * Where each hook's oldest queued record is, kept from one read to the
 * next: store_oldest() then walks past each record older than it once,
 * not at every scrape, and a hook with millions queued costs a lookup
 * or two. Only records coming back to the queue (spoolctl requeue) can
 * be older than the one found; any change by spoolctl forgets them all.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "oldest.h"

struct oldest_slot {
	uint32_t		 hook;
	uint64_t		 gen;
	struct store_oldest	 o;
};

static pthread_mutex_t		 o_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oldest_slot	*o_slots;
static size_t			 o_n;
static atomic_ullong		 o_gen = 1;

void
oldest_forget(void)
{
	atomic_fetch_add(&o_gen, 1);
}

static struct oldest_slot *
slot(uint32_t hook)
{
	struct oldest_slot	*p;
	size_t			 i;

	for (i = 0; i < o_n; i++)
		if (o_slots[i].hook == hook)
			return &o_slots[i];
	if ((p = reallocarray(o_slots, o_n + 1, sizeof(*p))) == NULL)
		return NULL;
	o_slots = p;
	p = &o_slots[o_n++];
	p->hook = hook;
	p->gen = 0;
	return p;
}

int
oldest_age(struct store *s, uint32_t hook, uint64_t now_ms, uint64_t *age_ms)
{
	struct oldest_slot	*p;
	uint64_t		 gen = atomic_load(&o_gen);
	int			 rc = -1;

	*age_ms = 0;
	pthread_mutex_lock(&o_lock);
	if ((p = slot(hook)) == NULL)
		goto done;
	if (p->gen != gen) {
		p->o.from = 0;
		p->gen = gen;
	}
	if ((rc = store_oldest(s, hook, &p->o)) == 0 && p->o.id != 0 &&
	    now_ms > p->o.received_ms)
		*age_ms = now_ms - p->o.received_ms;
 done:
	pthread_mutex_unlock(&o_lock);
	return rc;
}
