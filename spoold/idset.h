/*
 * A set of spool ids: the records a hook holds in memory (ready or
 * leased to a worker), which must not be handed out twice.
 */
#ifndef SPOOLD_IDSET_H
#define SPOOLD_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct idset {
	uint64_t	*slot;		/* 0: empty; ids start at 1 */
	size_t		 cap;		/* a power of two */
	size_t		 n;
};

int	idset_add(struct idset *, uint64_t);	/* 1 added, 0 present, -1 */
int	idset_has(const struct idset *, uint64_t);
int	idset_del(struct idset *, uint64_t);	/* 1 removed, 0 absent */
void	idset_free(struct idset *);

#endif
