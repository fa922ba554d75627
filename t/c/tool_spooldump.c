/*
 * spooldump DIR [HOOK...]: print every record of a stopped spoold's
 * spool, one per line as "ID RECORD", then "HOOK ready deferred dead
 * delivered failed" for each named hook. The tests compare this with
 * what spoold acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "store.h"

static int
print_rec(void *arg, uint64_t id, uint64_t received, const char *p,
    size_t len)
{
	(void)arg;
	(void)received;
	printf("%016llx %.*s\n", (unsigned long long)id, (int)len, p);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct store		*s;
	struct store_counts	 c;
	char			 err[512];
	uint32_t		 id;
	int			 i;

	if (argc < 2) {
		fprintf(stderr, "usage: spooldump dir [hook ...]\n");
		return 2;
	}
	log_init(1, 0, "spooldump");
	if ((s = store_open(argv[1], 1ULL << 40, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spooldump: %s\n", err);
		return 1;
	}
	if (store_scan(s, print_rec, NULL) != 0)
		fatalx("cannot read the spool");
	for (i = 2; i < argc; i++) {
		if (store_hook_id(s, argv[i], &id) == -1 ||
		    store_counts(s, id, &c) == -1)
			fatalx("hook %s: cannot read counts", argv[i]);
		printf("%s %llu %llu %llu %llu %llu\n", argv[i],
		    (unsigned long long)c.ready, (unsigned long long)c.deferred,
		    (unsigned long long)c.dead, (unsigned long long)c.delivered,
		    (unsigned long long)c.failed);
	}
	store_close(s);
	return 0;
}
