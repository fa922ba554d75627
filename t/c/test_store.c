/*
 * The spool: records and counts survive a reopen, ids only grow, the map
 * grows up to max_spool_size and refuses past it without losing what was
 * committed, and a second writer is kept out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "tap.h"

static char	 dir[] = "/tmp/spoold-store-XXXXXX";

struct seen {
	size_t		 n;
	uint64_t	 last_id;
	size_t		 bytes;
	int		 ordered;
};

static int
count_rec(void *arg, uint64_t id, uint64_t received, const char *p,
    size_t len)
{
	struct seen	*s = arg;

	(void)received;
	(void)p;
	if (id <= s->last_id)
		s->ordered = 0;
	s->last_id = id;
	s->n++;
	s->bytes += len;
	return 0;
}

static struct seen
scan(struct store *st)
{
	struct seen	 s = { 0, 0, 0, 1 };

	if (store_scan(st, count_rec, &s) != 0)
		s.n = (size_t)-1;
	return s;
}

static int
ingest(struct store *st, const uint32_t *hooks, uint32_t nhooks, size_t n,
    size_t size, uint64_t *first)
{
	struct store_in		*in;
	struct store_job	 job, *jp = &job;
	char			*payload;
	size_t			 i;

	payload = malloc(size);
	memset(payload, 'x', size);
	payload[0] = '{';
	payload[size - 1] = '}';
	in = calloc(n, sizeof(*in));
	for (i = 0; i < n; i++) {
		in[i].ptr = payload;
		in[i].len = (uint32_t)size;
		in[i].nhooks = nhooks;
		in[i].hooks = hooks;
	}
	memset(&job, 0, sizeof(job));
	job.recs = in;
	job.nrecs = n;
	store_ingest(st, &jp, 1);
	if (first)
		*first = job.first_id;
	free(in);
	free(payload);
	return job.result;
}

static void
test_persistence(void)
{
	struct store		*st, *st2;
	struct store_counts	 c;
	struct seen		 s;
	uint32_t		 hooks[2], again;
	uint64_t		 first, second;
	char			 err[512];

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	ok(st != NULL, "open a new spool");
	ok(store_hook_id(st, "a", &hooks[0]) == 0 &&
	    store_hook_id(st, "b", &hooks[1]) == 0 && hooks[0] != hooks[1],
	    "two hooks get distinct ids");
	is_int(ingest(st, hooks, 2, 10, 100, &first), STORE_OK,
	    "ten records for both hooks");
	is_int(ingest(st, hooks, 1, 5, 100, NULL), STORE_OK,
	    "five records for the first hook only");
	st2 = store_open(dir, 1ULL << 30, err, sizeof(err));
	ok(st2 == NULL && strstr(err, "in use") != NULL,
	    "a second writer is refused: %s", err);
	store_close(st);

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	ok(st != NULL, "reopen");
	ok(store_hook_id(st, "b", &again) == 0 && again == hooks[1],
	    "hook ids persist");
	s = scan(st);
	is_int((int64_t)s.n, 15, "every record is still there");
	ok(s.ordered, "ids in ascending order");
	store_counts(st, hooks[0], &c);
	is_int((int64_t)c.ready, 15, "first hook counts 15 ready");
	store_counts(st, hooks[1], &c);
	is_int((int64_t)c.ready, 10, "second hook counts 10 ready");
	ingest(st, hooks, 1, 1, 10, &second);
	is_int((int64_t)second, (int64_t)first + 15, "ids continue after reopen");
	store_close(st);
}

/* Outcomes for the first n records: delivered. */
static int
deliver(struct store *st, uint32_t hook, uint64_t first, size_t n)
{
	struct store_outcome	*o;
	struct store_job	 job, *jp = &job;
	size_t			 i;

	o = calloc(n, sizeof(*o));
	for (i = 0; i < n; i++) {
		o[i].id = first + i;
		o[i].hook = hook;
		o[i].kind = OUT_DELIVERED;
	}
	memset(&job, 0, sizeof(job));
	job.outs = o;
	job.nouts = n;
	store_ingest(st, &jp, 1);
	free(o);
	return job.result;
}

static void
test_full(void)
{
	struct store		*st;
	struct store_counts	 c;
	struct seen		 before, after;
	uint32_t		 hook;
	uint64_t		 used, map, max, first = 0, id;
	char			 err[512];
	int			 rc, i;

	/* 4 MiB: the map starts smaller than 64 MiB and cannot grow much. */
	st = store_open(dir, 4U << 20, err, sizeof(err));
	store_hook_id(st, "a", &hook);
	for (i = 0, rc = STORE_OK; i < 1000 && rc == STORE_OK; i++) {
		rc = ingest(st, &hook, 1, 10, 10000, &id);
		if (i == 0)
			first = id;
	}
	is_int(rc, STORE_EFULL, "a full spool refuses with STORE_EFULL");
	store_usage(st, &used, &map, &max);
	ok(used <= (4U << 20) + (4U << 20),
	    "records stay within max_spool_size and its reserve (%llu)",
	    (unsigned long long)used);
	before = scan(st);
	ok(before.bytes >= (3U << 20), "most of max_spool_size was used (%zu)",
	    before.bytes);
	is_int(deliver(st, hook, first, 100), STORE_OK,
	    "a full spool still commits deliveries");
	store_counts(st, hook, &c);
	is_int((int64_t)c.delivered, 100, "and counts them");
	is_int(ingest(st, &hook, 1, 10, 10000, NULL), STORE_OK,
	    "the room they freed takes new records");
	before = scan(st);
	store_close(st);
	st = store_open(dir, 4U << 20, err, sizeof(err));
	ok(st != NULL, "a full spool opens again");
	after = scan(st);
	is_int((int64_t)after.n, (int64_t)before.n,
	    "nothing committed was lost");
	store_close(st);
}

static void
test_grow(void)
{
	struct store	*st;
	uint64_t	 used, map, max;
	uint32_t	 hook;
	char		 err[512];
	int		 i, rc = STORE_OK;

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	store_hook_id(st, "a", &hook);
	for (i = 0; i < 100 && rc == STORE_OK; i++)
		rc = ingest(st, &hook, 1, 100, 10000, NULL);
	is_int(rc, STORE_OK, "100 MB of records");
	store_usage(st, &used, &map, &max);
	ok(map > (64U << 20) && map <= (1U << 30),
	    "the map grew past its first 64 MiB (%llu)",
	    (unsigned long long)map);
	store_close(st);
}

int
main(void)
{
	char	 cmd[128];

	log_init(1, 0, "test_store");
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	test_persistence();
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	test_full();
	if (system(cmd) != 0)
		diag("cleanup failed");
	test_grow();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
