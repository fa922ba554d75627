/*
 * Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so a set that sees millions of adds and removes over its
 * life stays as fast as a fresh one.
 */
#include <stdlib.h>

#include "idset.h"

static size_t
idset_hash(uint64_t id, size_t cap)
{
	/* Ids are sequential: a multiplicative hash spreads them. */
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static int
idset_grow(struct idset *s)
{
	struct idset	 n;
	size_t		 i;

	n.cap = s->cap ? s->cap * 2 : 64;
	n.n = 0;
	if ((n.slot = calloc(n.cap, sizeof(*n.slot))) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->slot[i] != 0)
			idset_add(&n, s->slot[i]);
	free(s->slot);
	*s = n;
	return 0;
}

int
idset_add(struct idset *s, uint64_t id)
{
	size_t	 i;

	if ((s->n + 1) * 4 > s->cap * 3 && idset_grow(s) == -1)
		return -1;
	for (i = idset_hash(id, s->cap); s->slot[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == id)
			return 0;
	s->slot[i] = id;
	s->n++;
	return 1;
}

int
idset_has(const struct idset *s, uint64_t id)
{
	size_t	 i;

	if (s->cap == 0)
		return 0;
	for (i = idset_hash(id, s->cap); s->slot[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == id)
			return 1;
	return 0;
}

int
idset_del(struct idset *s, uint64_t id)
{
	size_t	 i, j, home, mask = s->cap - 1;

	if (s->cap == 0)
		return 0;
	for (i = idset_hash(id, s->cap); s->slot[i] != id; i = (i + 1) & mask)
		if (s->slot[i] == 0)
			return 0;
	/* Shift back every later entry of the run that may move closer. */
	for (j = (i + 1) & mask; s->slot[j] != 0; j = (j + 1) & mask) {
		home = idset_hash(s->slot[j], s->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i] = 0;
	s->n--;
	return 1;
}

void
idset_free(struct idset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}
