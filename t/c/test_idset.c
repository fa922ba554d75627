/*
 * The id set against a plain bitmap as the oracle, through a long run
 * of random adds and removes that exercises backward-shift deletion.
 */
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "tap.h"

#define RANGE	5000

int
main(void)
{
	struct idset	 s = { NULL, 0, 0 };
	static char	 oracle[RANGE + 1];
	size_t		 n = 0, bad = 0, i;
	uint64_t	 id;
	unsigned int	 seed = 7;

	for (i = 0; i < 2000000; i++) {
		id = 1 + rand_r(&seed) % RANGE;
		if (rand_r(&seed) % 3 != 0) {
			if (idset_add(&s, id) != !oracle[id])
				bad++;
			n += !oracle[id];
			oracle[id] = 1;
		} else {
			if (idset_del(&s, id) != oracle[id])
				bad++;
			n -= oracle[id];
			oracle[id] = 0;
		}
	}
	is_int((int64_t)bad, 0, "add and del answer as the oracle");
	is_int((int64_t)s.n, (int64_t)n, "the count matches");
	for (id = 1, bad = 0; id <= RANGE; id++)
		if (idset_has(&s, id) != oracle[id])
			bad++;
	is_int((int64_t)bad, 0, "membership matches after 2,000,000 operations");
	ok(!idset_has(&s, RANGE + 1), "an id never added is absent");
	idset_free(&s);
	ok(!idset_has(&s, 1) && idset_del(&s, 1) == 0, "an empty set is safe");
	return done_testing();
}
