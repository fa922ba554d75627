/*
 * The spool: records and counts survive a reopen, ids only grow, the map
 * grows up to max_spool_size and refuses past it without losing what was
 * committed, and a second writer is kept out. A request's records share
 * a segment: a record stays readable for every hook that still holds it,
 * retried and dead ones outlive their segment, delivered segments give
 * their room back, a full spool still takes a failing hook's outcomes,
 * and a spool written one record a key still works.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "tap.h"
#include "util.h"

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

/* Letters that do not compress, the same for the same seed. */
static void
noise_from(char *p, size_t size, uint64_t *seed)
{
	uint64_t	 x = *seed;
	size_t		 i;

	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)('a' + (x >> 32) % 26);
	}
	*seed = x;
}

/*
 * Different letters on every call, so that a record takes its size in
 * the spool and the tests that fill one know how many fit.
 */
static void
noise(char *p, size_t size)
{
	static uint64_t	 x = 88172645463325252ULL;

	noise_from(p, size, &x);
}

/* Non-zero: a record repeats its first squeeze bytes, and compresses. */
static size_t squeeze;

static int
ingest(struct store *st, const uint32_t *hooks, uint32_t nhooks, size_t n,
    size_t size, uint64_t *first)
{
	struct store_in		*in;
	struct store_job	 job, *jp = &job;
	char			*payload;
	size_t			 i, j;

	payload = malloc(n * size);
	noise(payload, n * size);
	in = calloc(n, sizeof(*in));
	for (i = 0; i < n; i++) {
		for (j = squeeze; squeeze > 0 && j < size; j++)
			payload[i * size + j] = payload[i * size + j % squeeze];
		in[i].ptr = payload + i * size;
		payload[i * size] = '{';
		payload[i * size + size - 1] = '}';
		in[i].len = (uint32_t)size;
		in[i].nhooks = nhooks;
		in[i].hooks = hooks;
	}
	memset(&job, 0, sizeof(job));
	job.recs = in;
	job.nrecs = n;
	store_commit(st, &jp, 1);
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

/*
 * Outcomes of kind for records first.., in one job; with every, every
 * record whose id - first is every / 2 past a multiple of every is dead.
 */
static int
settle_some(struct store *st, uint32_t hook, uint64_t first, size_t n,
    int kind, size_t every)
{
	struct store_outcome	*o;
	struct store_job	 job, *jp = &job;
	size_t			 i;

	o = calloc(n, sizeof(*o));
	for (i = 0; i < n; i++) {
		o[i].id = first + i;
		o[i].hook = hook;
		o[i].kind = (uint8_t)(every > 0 && i % every == every / 2 ?
		    OUT_DEAD : kind);
		o[i].attempts = 1;
		o[i].due_ms = now_ms() + 3600000;
		o[i].status = 500;
		o[i].text = "down";
		o[i].textlen = 4;
	}
	memset(&job, 0, sizeof(job));
	job.outs = o;
	job.nouts = n;
	store_commit(st, &jp, 1);
	free(o);
	return job.result;
}

static int
settle(struct store *st, uint32_t hook, uint64_t first, size_t n, int kind)
{
	return settle_some(st, hook, first, n, kind, 0);
}

static int
deliver(struct store *st, uint32_t hook, uint64_t first, size_t n)
{
	return settle(st, hook, first, n, OUT_DELIVERED);
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

struct got {
	int		 n;
	uint64_t	 id;
	uint32_t	 attempts;
	int		 state;
	size_t		 len;
	int		 has;		/* the record's bytes came along */
};

/* One record handed to a callback, with the state it was in. */
static void
got_one(struct got *g, uint64_t id, uint32_t attempts, int state,
    const char *rec, size_t len)
{
	g->n++;
	g->id = id;
	g->attempts = attempts;
	g->state = state;
	g->len = len;
	g->has = rec != NULL && len > 0 && rec[0] == '{';
}

static void
got_item(void *arg, const struct store_item *it)
{
	got_one(arg, it->id, it->attempts, -1, it->ptr, it->len);
}

static void
got_entry(void *arg, const struct store_entry *e)
{
	got_one(arg, e->id, e->attempts, e->state, e->rec, e->reclen);
}

static struct got
fetch(struct store *st, uint32_t hook, uint64_t id)
{
	struct got	 g = { 0, 0, 0, -1, 0, 0 };

	if (store_fetch(st, hook, &id, 1, got_item, &g) != 0)
		g.n = -1;
	return g;
}

static struct got
show(struct store *st, uint64_t id)
{
	struct got	 g = { 0, 0, 0, -1, 0, 0 };

	if (store_show(st, id, got_entry, &g) < 0)
		g.n = -1;
	return g;
}

static void
test_segments(void)
{
	struct store		*st;
	struct store_counts	 c;
	struct got		 g;
	uint32_t		 hooks[2];
	uint64_t		 f, ids[1];
	char			 err[512];

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	store_hook_id(st, "a", &hooks[0]);
	store_hook_id(st, "b", &hooks[1]);
	is_int(ingest(st, hooks, 2, 10, 300, &f), STORE_OK,
	    "one request of ten records for two hooks");
	is_int(deliver(st, hooks[0], f, 10), STORE_OK, "a takes all ten");
	is_int((int64_t)scan(st).n, 10, "b still holds all ten");
	g = fetch(st, hooks[1], f + 3);
	ok(g.n == 1 && g.has && g.len == 300 && g.attempts == 0,
	    "b's ready record reads from its segment");
	g = fetch(st, hooks[0], f + 3);
	ok(g.n == 1 && !g.has, "a no longer gets it");
	g = show(st, f + 3);
	ok(g.n == 1 && g.state == ST_READY && g.has,
	    "show has b's state and the record");

	is_int(settle(st, hooks[1], f + 5, 1, OUT_RETRY), STORE_OK,
	    "b retries one record");
	is_int(settle(st, hooks[1], f + 6, 1, OUT_DEAD), STORE_OK,
	    "and gives up on another");
	is_int(deliver(st, hooks[1], f, 5), STORE_OK, "b takes the first five");
	is_int(deliver(st, hooks[1], f + 7, 3), STORE_OK, "and the last three");
	is_int((int64_t)scan(st).n, 2, "the retried and the dead one remain");
	g = show(st, f + 5);
	ok(g.n == 1 && g.state == ST_DEFERRED && g.attempts == 1 && g.has &&
	    g.len == 300, "the deferred record outlives its segment");
	g = show(st, f + 6);
	ok(g.n == 1 && g.state == ST_DEAD && g.has, "and so does the dead one");
	is_int(store_requeue(st, hooks[1], NULL, 0, now_ms()), 1,
	    "the dead letter goes back to the queue");
	g = fetch(st, hooks[1], f + 6);
	ok(g.n == 1 && g.has && g.attempts == 0, "and can be fetched again");
	store_counts(st, hooks[1], &c);
	ok(c.ready == 1 && c.deferred == 1 && c.dead == 0 && c.delivered == 8 &&
	    c.failed == 1, "b's counts: 1 ready, 1 deferred, 8 delivered, "
	    "1 failed");

	is_int(ingest(st, hooks, 2, 3, 200, &f), STORE_OK,
	    "three more for both hooks");
	ids[0] = f + 1;
	is_int(store_delete(st, ids, 1), 1, "spoolctl deletes one of them");
	g = show(st, f + 1);
	is_int(g.n, 0, "no hook holds it now");
	g = fetch(st, hooks[0], f + 1);
	ok(g.n == 1 && !g.has, "it is not handed out");
	is_int(deliver(st, hooks[0], f + 1, 1), STORE_OK,
	    "an outcome for it after the delete is no error");
	store_counts(st, hooks[0], &c);
	is_int((int64_t)c.ready, 2, "a counts the other two ready");
	is_int((int64_t)scan(st).n, 4, "two old and two new records remain");
	store_close(st);
}

static void
test_reuse(void)
{
	struct store	*st;
	uint32_t	 hook;
	uint64_t	 f, used, map, max;
	char		 err[512];
	int		 i, rc = STORE_OK;

	/* 40 MB through a 4 MiB spool, a request at a time. */
	st = store_open(dir, 4U << 20, err, sizeof(err));
	store_hook_id(st, "a", &hook);
	for (i = 0; i < 400 && rc == STORE_OK; i++)
		if ((rc = ingest(st, &hook, 1, 100, 1000, &f)) == STORE_OK)
			rc = deliver(st, hook, f, 100);
	is_int(rc, STORE_OK, "delivered segments give their room back");
	store_usage(st, &used, &map, &max);
	ok(used <= (4U << 20), "the spool stayed within 4 MiB (%llu)",
	    (unsigned long long)used);
	is_int((int64_t)scan(st).n, 0, "and holds nothing now");
	store_close(st);
}

/* Puts key -> val into the named database of the spool in dir. */
static int
raw_put(MDB_env *env, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k = { klen, (void *)key }, d = { vlen, (void *)val };
	int	 rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) != 0 ||
	    (rc = mdb_put(txn, dbi, &k, &d, 0)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/*
 * The byte at off of the value of key in the named database of the
 * spool in dir (closed meanwhile), or -1.
 */
static int
raw_byte(const char *db, const void *key, size_t klen, size_t off)
{
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k = { klen, (void *)key }, d;
	int	 b = -1;

	if (mdb_env_create(&env) != 0)
		return -1;
	if (mdb_env_set_maxdbs(env, 8) == 0 &&
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_dbi_open(txn, db, 0, &dbi) == 0 &&
		    mdb_get(txn, dbi, &k, &d) == 0 && off < d.mv_size)
			b = ((const unsigned char *)d.mv_data)[off];
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return b;
}

/*
 * A record as spools before segments kept it: its own rec entry, a
 * state entry and a due key, the hook's counter and next_id.
 */
static int
old_record(uint32_t hook, uint64_t id, const char *json)
{
	MDB_env		*env;
	unsigned char	 rec[256], state[24], due[20], skey[12], ctr[40];
	unsigned char	 cskey[7], next[8];
	uint64_t	 now = now_ms();
	size_t		 len = strlen(json);
	int		 rc;

	memset(rec, 0, sizeof(rec));
	put_be64(rec, now);
	rec[9] = 1;
	memcpy(rec + 10, json, len);
	memset(state, 0, sizeof(state));
	put_be64(state, now);
	put_be64(skey, id);
	put_be32(skey + 8, hook);
	put_be32(due, hook);
	put_be64(due + 4, now);
	put_be64(due + 12, id);
	memset(ctr, 0, sizeof(ctr));
	put_be64(ctr, 1);
	memcpy(cskey, "ctr", 3);
	put_be32(cskey + 3, hook);
	put_be64(next, id + 1);
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = raw_put(env, "rec", skey, 8, rec, 10 + len)) != 0 ||
	    (rc = raw_put(env, "state", skey, 12, state, 24)) != 0 ||
	    (rc = raw_put(env, "due", due, 20, "", 0)) != 0 ||
	    (rc = raw_put(env, "meta", cskey, 7, ctr, 40)) != 0)
		goto done;
	rc = raw_put(env, "meta", "next_id", 7, next, 8);
 done:
	mdb_env_close(env);
	return rc;
}

static void
test_old_layout(void)
{
	struct store		*st;
	struct store_counts	 c;
	struct got		 g;
	uint32_t		 hook;
	char			 err[512];

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	store_hook_id(st, "a", &hook);
	store_close(st);
	is_int(old_record(hook, 1000, "{\"type\":\"Delivery\"}"), 0,
	    "a record written one record a key");
	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	ok(st != NULL, "the spool opens");
	is_int((int64_t)scan(st).n, 1, "the record is there");
	g = fetch(st, hook, 1000);
	ok(g.has && g.len == 19, "and is handed out");
	is_int(ingest(st, &hook, 1, 2, 50, NULL), STORE_OK,
	    "new records go in beside it");
	is_int(settle(st, hook, 1000, 1, OUT_RETRY), STORE_OK,
	    "the old record is retried");
	g = show(st, 1000);
	ok(g.n == 1 && g.state == ST_DEFERRED && g.has, "and stays readable");
	is_int(deliver(st, hook, 1000, 1), STORE_OK, "then delivered");
	store_counts(st, hook, &c);
	ok(c.ready == 2 && c.deferred == 0 && c.delivered == 1,
	    "counts: the two new ones ready, the old one delivered");
	is_int((int64_t)scan(st).n, 2, "only the new records remain");
	store_close(st);
}

/* Requests of ten 10,000-byte records for both hooks until one is refused. */
static int
fill(struct store *st, const uint32_t *hooks, uint64_t *first,
    uint64_t *last)
{
	uint64_t	 f;
	int		 rc;

	*first = *last = 0;
	while ((rc = ingest(st, hooks, 2, 10, 10000, &f)) == STORE_OK) {
		if (*first == 0)
			*first = f;
		*last = f + 9;
	}
	return rc;
}

/* A spool of 4 MiB, hooks "a" and "b", filled: fill()'s result in *rc. */
static struct store *
full_spool(uint32_t *hooks, uint64_t *first, uint64_t *last, int *rc)
{
	struct store	*st;
	char		 err[512];

	if ((st = store_open(dir, 4U << 20, err, sizeof(err))) == NULL) {
		diag("store_open: %s", err);
		exit(1);
	}
	store_hook_id(st, "a", &hooks[0]);
	store_hook_id(st, "b", &hooks[1]);
	*rc = fill(st, hooks, first, last);
	return st;
}

/*
 * A spool filled to max_spool_size with records for two hooks, one of
 * them failing: its retries and dead letters must still commit, or the
 * scheduler sends the records again at once, without backoff, and can
 * never dead-letter them. The other hook keeps every segment alive
 * meanwhile, so there is no room to copy the records out.
 */
static void
test_full_retry(void)
{
	struct store		*st;
	struct store_counts	 c;
	struct got		 g;
	uint32_t		 hooks[2];
	uint64_t		 first, last, id;
	int			 refused = 0, batches = 0, rc;

	st = full_spool(hooks, &first, &last, &rc);
	is_int(rc, STORE_EFULL, "the spool fills up (ids %llu..%llu)",
	    (unsigned long long)first, (unsigned long long)last);
	for (id = first; id + 9 <= last; id += 10, batches++)
		if (settle(st, hooks[0], id, 10, (batches % 4) == 3 ?
		    OUT_DEAD : OUT_RETRY) != STORE_OK)
			refused++;
	is_int(refused, 0, "a full spool commits the retries and dead "
	    "letters of a failing hook (%d of %d batches refused)", refused,
	    batches);
	store_counts(st, hooks[0], &c);
	ok(c.ready == 0 && c.deferred > 0 && c.dead > 0,
	    "none of its records is left ready");
	g = fetch(st, hooks[1], first);
	ok(g.has && g.len == 10000, "the other hook still reads them");
	is_int(store_requeue(st, hooks[0], NULL, 0, now_ms()),
	    (int64_t)c.dead, "dead letters go back to the queue");
	g = fetch(st, hooks[0], first + 39);
	ok(g.has && g.len == 10000 && g.attempts == 0,
	    "and read their segment");
	is_int(deliver(st, hooks[1], first, last - first + 1), STORE_OK,
	    "the other hook takes every record");
	is_int((int64_t)scan(st).n, (int64_t)(last - first + 1),
	    "the failing hook still holds them all");
	is_int(deliver(st, hooks[0], first, last - first + 1), STORE_OK,
	    "then it takes them too");
	is_int((int64_t)scan(st).n, 0, "the spool is empty");
	is_int(ingest(st, hooks, 2, 10, 10000, NULL), STORE_OK,
	    "and takes records again");
	store_close(st);
}

/*
 * Dead letters made while the spool was full read their segments and
 * keep them. Requeued, they get copies of their own, and the room of
 * the records delivered beside them comes back.
 */
static void
test_full_pin(void)
{
	struct store	*st;
	uint32_t	 hooks[2];
	uint64_t	 first, last, id;
	int		 rc, i;

	st = full_spool(hooks, &first, &last, &rc);
	for (id = first; id + 9 <= last; id += 10)
		settle(st, hooks[0], id, 10, OUT_RETRY);
	for (id = first; id <= last; id++)
		settle(st, hooks[0], id, 1, (id - first) % 10 == 5 ?
		    OUT_DEAD : OUT_DELIVERED);
	is_int(deliver(st, hooks[1], first, last - first + 1), STORE_OK,
	    "the other hook takes every record");
	is_int(store_requeue(st, hooks[0], NULL, 0, now_ms()),
	    (int64_t)(last - first + 1) / 10, "one dead letter a request "
	    "goes back to the queue");
	for (i = 0, rc = STORE_OK; i < 3 && rc == STORE_OK; i++)
		rc = ingest(st, hooks, 2, 10, 10000, NULL);
	is_int(rc, STORE_OK, "and the room of the rest comes back");
	is_int((int64_t)scan(st).n, (int64_t)(last - first + 1) / 10 + 30,
	    "the spool holds the requeued records and the new ones");
	store_close(st);
}

/*
 * spoolctl delete of every record of a full spool, in one transaction:
 * removing that many states needs new pages, and the change must grow
 * the map as a commit does rather than fail.
 */
static void
test_full_delete(void)
{
	struct store	*st;
	uint32_t	 hooks[2];
	uint64_t	 first, last, id, *ids;
	size_t		 n;
	int		 rc;

	st = full_spool(hooks, &first, &last, &rc);
	for (id = first; id + 9 <= last; id += 10)
		settle(st, hooks[0], id, 10, OUT_RETRY);
	n = (size_t)(last - first + 1);
	ids = calloc(n, sizeof(*ids));
	for (id = first; id <= last; id++)
		ids[id - first] = id;
	is_int(store_delete(st, ids, n), (int64_t)n,
	    "spoolctl deletes all %zu records of a full spool at once", n);
	is_int((int64_t)scan(st).n, 0, "and the spool is empty");
	is_int(ingest(st, hooks, 2, 10, 10000, NULL), STORE_OK,
	    "and takes records again");
	free(ids);
	store_close(st);
}

/*
 * A record one hook's retry copied out while there was room: when the
 * other hook retries it on a full spool, its state reads that copy too,
 * rather than keep the whole segment for itself.
 */
static void
test_full_shared_copy(void)
{
	struct store	*st;
	struct got	 g;
	uint32_t	 hooks[2];
	uint64_t	 first, last, id;
	unsigned char	 key[12];
	char		 err[512];
	int		 rc;

	st = full_spool(hooks, &first, &last, &rc);
	/* The reserve takes the first copies; the rest read segments. */
	for (id = first; id + 9 <= last; id += 10)
		settle(st, hooks[0], id, 10, OUT_RETRY);
	is_int(settle(st, hooks[1], first, 10, OUT_RETRY), STORE_OK,
	    "the other hook retries the first request's records");
	g = fetch(st, hooks[1], first);
	ok(g.has && g.len == 10000, "and reads record %llu",
	    (unsigned long long)first);
	store_close(st);
	put_be64(key, first);
	put_be32(key + 8, hooks[0]);
	is_int(raw_byte("state", key, sizeof(key), 13), 0,
	    "the first hook's state of record %llu reads its copy",
	    (unsigned long long)first);
	put_be32(key + 8, hooks[1]);
	is_int(raw_byte("state", key, sizeof(key), 13), 0,
	    "and so does the other hook's, on the full spool");
	put_be64(key, last - 5);
	put_be32(key + 8, hooks[0]);
	is_int(raw_byte("state", key, sizeof(key), 13), 1,
	    "while a record retried with no room left reads its segment");
	st = store_open(dir, 4U << 20, err, sizeof(err));
	is_int(deliver(st, hooks[0], first, last - first + 1), STORE_OK,
	    "one hook takes every record");
	is_int(deliver(st, hooks[1], first, last - first + 1), STORE_OK,
	    "then the other");
	is_int((int64_t)scan(st).n, 0, "and the spool is empty");
	store_close(st);
}

/*
 * Request r of the compression tests. Request 0: 300 records of words
 * that repeat, as in log records, shifted so that no two are alike;
 * record 7 is noise, record 100 longer than a block. Request ZNOISE:
 * 200 short records of noise, which are stored as they are. The
 * others: sizes around the block's (65,536 bytes), one record in eleven
 * noise, and in one request in five the last record empty.
 */
#define ZNOISE	41

static size_t
zcount(size_t r)
{
	if (r == ZNOISE)
		return 200;
	return r == 0 ? 300 : 1 + (r * 7919) % 150;
}

static size_t
zlen(size_t r, size_t i)
{
	static const size_t	 sizes[] = { 2, 17, 1000, 65533, 65536, 65537,
				    3000, 150000 };

	if (r == 0)
		return i == 100 ? 200000 : 100 + (i * 37) % 3000;
	if (r == ZNOISE)
		return 400 + i % 200;
	if (r % 5 == 0 && i > 0 && i == zcount(r) - 1)
		return 0;
	return sizes[(r * 31 + i * 17) % 8];
}

static void
ztext(char *p, size_t r, size_t i)
{
	static const char	*w[] = { "\"type\":\"Delivery\",",
				    "\"queue\":\"example.com\",",
				    "\"response\":{\"code\":250},",
				    "\"meta\":{\"tenant\":\"\\u00e9t\\u00e9\"}," };
	size_t			 n = zlen(r, i), j, k;
	uint64_t		 seed = r * 100003 + i + 1;

	if (n == 0)
		return;
	if (r == ZNOISE || (r == 0 ? i == 7 : (r + i) % 11 == 0))
		noise_from(p, n, &seed);
	else
		for (j = 0, k = seed; j < n; k++)
			for (const char *c = w[k % 4]; *c != '\0' && j < n; c++)
				p[j++] = *c;
	p[0] = '{';
	p[n - 1] = '}';
}

struct zcheck {
	size_t		 r;
	uint64_t	 first;
	size_t		 n;		/* records seen */
	size_t		 bad;		/* and not as ingested */
	char		*want;
};

static void
zcheck_one(struct zcheck *z, uint64_t id, const char *rec, size_t len)
{
	size_t	 i = id - z->first;

	z->n++;
	if (i >= zcount(z->r) || rec == NULL || len != zlen(z->r, i)) {
		z->bad++;
		return;
	}
	ztext(z->want, z->r, i);
	if (memcmp(rec, z->want, len) != 0)
		z->bad++;
}

static void
zcheck_item(void *arg, const struct store_item *it)
{
	zcheck_one(arg, it->id, it->ptr, it->len);
}

static void
zcheck_entry(void *arg, const struct store_entry *e)
{
	zcheck_one(arg, e->id, e->rec, e->reclen);
}

static int
zcheck_scan(void *arg, uint64_t id, uint64_t received_ms, const char *rec,
    size_t len)
{
	struct zcheck	*z = arg;

	(void)received_ms;
	if (id >= z->first && id - z->first < zcount(z->r))
		zcheck_one(z, id, rec, len);
	return 0;
}

/*
 * The bytes before record i of request r when its records lie in one
 * buffer as the lines of a body: mostly a newline, sometimes none, and
 * now and then more than a block may carry, so that it is gathered.
 */
static size_t
zgap(size_t r, size_t i)
{
	if (i == 0)
		return 0;
	if (r == ZNOISE)
		return i == 150 ? 3000 : 1;
	return (r + i) % 17 == 5 ? 5000 : (r + i) % 7 == 3 ? 0 : 1;
}

/*
 * Ingests request r, packed as the daemon does or by the commit; inbuf:
 * its records in one buffer, in order, with zgap's bytes between them.
 */
static int
zingest(struct store *st, uint32_t hook, size_t r, int pack, int inbuf,
    uint64_t *first, size_t *bytes)
{
	struct store_in		*in;
	struct store_job	 job, *jp = &job;
	char			**p, *buf = NULL;
	size_t			 i, n = zcount(r), all = 0, at = 0;

	*bytes = 0;
	in = calloc(n, sizeof(*in));
	p = calloc(n, sizeof(*p));
	for (i = 0; inbuf && i < n; i++)
		all += zgap(r, i) + zlen(r, i);
	if (inbuf)
		buf = malloc(all + 1);
	for (i = 0; i < n; i++) {
		if (inbuf) {
			memset(buf + at, '\n', zgap(r, i));
			at += zgap(r, i);
			p[i] = buf + at;
			at += zlen(r, i);
		} else
			p[i] = malloc(zlen(r, i) + 1);
		ztext(p[i], r, i);
		in[i].ptr = p[i];
		in[i].len = (uint32_t)zlen(r, i);
		in[i].nhooks = 1;
		in[i].hooks = &hook;
		*bytes += zlen(r, i);
	}
	memset(&job, 0, sizeof(job));
	job.recs = in;
	job.nrecs = n;
	job.inbuf = inbuf;
	if (pack && store_pack(&job) != 0)
		job.result = -100;
	else
		store_commit(st, &jp, 1);
	store_pack_free(&job);
	*first = job.first_id;
	for (i = 0; !inbuf && i < n; i++)
		free(p[i]);
	free(buf);
	free(p);
	free(in);
	return job.result;
}

/*
 * Request r read back every way, byte for byte: fetched in order, then
 * backwards (every block decompressed again: nothing stale), shown and
 * scanned. The records missing or not as ingested, each way.
 */
static void
zread(struct store *st, uint32_t hook, size_t r, uint64_t first,
    size_t bad[4])
{
	struct zcheck	 z = { r, first, 0, 0, NULL };
	uint64_t	*ids;
	size_t		 i, n = zcount(r);

	z.want = malloc(200000);
	ids = calloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = first + i;
	if (store_fetch(st, hook, ids, n, zcheck_item, &z) != 0)
		z.bad++;
	bad[0] = z.bad + n - z.n;
	for (i = 0; i < n; i++)
		ids[i] = first + n - 1 - i;
	z.n = z.bad = 0;
	if (store_fetch(st, hook, ids, n, zcheck_item, &z) != 0)
		z.bad++;
	bad[1] = z.bad + n - z.n;
	z.n = z.bad = 0;
	for (i = 0; i < n; i += 13)
		store_show(st, first + i, zcheck_entry, &z);
	bad[2] = z.bad + (n + 12) / 13 - z.n;
	z.n = z.bad = 0;
	if (store_scan(st, zcheck_scan, &z) != 0)
		z.bad++;
	bad[3] = z.bad + n - z.n;
	free(ids);
	free(z.want);
}

static void
zread_ok(struct store *st, uint32_t hook, size_t r, uint64_t first,
    const char *what)
{
	size_t	 bad[4];

	zread(st, hook, r, first, bad);
	ok(bad[0] == 0 && bad[1] == 0 && bad[2] == 0 && bad[3] == 0,
	    "%s: every record as ingested, fetched in order, backwards, "
	    "shown and scanned (wrong: %zu %zu %zu %zu)", what, bad[0],
	    bad[1], bad[2], bad[3]);
}

/* The bytes of segment first's value, read from the closed spool. */
static size_t
zseglen(uint64_t first)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, d;
	unsigned char	 key[8];
	size_t		 len = 0;

	put_be64(key, first);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (mdb_env_create(&env) != 0)
		return 0;
	if (mdb_env_set_maxdbs(env, 8) == 0 &&
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_dbi_open(txn, "seg", 0, &dbi) == 0 &&
		    mdb_get(txn, dbi, &k, &d) == 0)
			len = d.mv_size;
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return len;
}

/* Flips the bits of byte off of segment first's value, as a bad disk. */
static int
zmangle(uint64_t first, size_t off)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, d;
	unsigned char	 key[8], *v = NULL;
	int		 rc;

	put_be64(key, first);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto done;
	if ((rc = mdb_dbi_open(txn, "seg", 0, &dbi)) != 0 ||
	    (rc = mdb_get(txn, dbi, &k, &d)) != 0 || off >= d.mv_size ||
	    (v = malloc(d.mv_size)) == NULL) {
		mdb_txn_abort(txn);
		rc = rc != 0 ? rc : -1;
		goto done;
	}
	memcpy(v, d.mv_data, d.mv_size);
	v[off] ^= 0xff;
	d.mv_data = v;
	if ((rc = mdb_put(txn, dbi, &k, &d, 0)) != 0)
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);
 done:
	free(v);
	mdb_env_close(env);
	return rc;
}

static void
test_compressed(void)
{
	struct store	*st;
	struct got	 g;
	uint32_t	 hook;
	uint64_t	 f1, f2, f3, f4, used0, used, map, max, id, firsts[41];
	size_t		 bytes, r, bad[4], wrong = 0, len;
	char		 err[512];
	int		 rc, refused = 0;

	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	store_hook_id(st, "a", &hook);
	store_usage(st, &used0, &map, &max);
	rc = zingest(st, hook, 0, 1, 0, &f1, &bytes);
	is_int(rc, STORE_OK, "%zu records of %zu bytes, packed before the "
	    "commit", zcount(0), bytes);
	store_usage(st, &used, &map, &max);
	ok(used - used0 < bytes / 3, "they take %llu bytes of the spool",
	    (unsigned long long)(used - used0));
	is_int(zingest(st, hook, 0, 0, 0, &f2, &bytes), STORE_OK,
	    "the same, packed by the commit");
	store_usage(st, &used0, &map, &max);
	is_int(zingest(st, hook, 0, 1, 1, &f3, &bytes), STORE_OK,
	    "the same as the lines of one body");
	store_usage(st, &used, &map, &max);
	ok(used - used0 < bytes / 3, "they take %llu bytes of the spool",
	    (unsigned long long)(used - used0));
	zread_ok(st, hook, 0, f3, "lines of one body");
	zread_ok(st, hook, 0, f1, "packed before");
	is_int(deliver(st, hook, f1, zcount(0)), STORE_OK,
	    "the first request goes");
	zread_ok(st, hook, 0, f2, "packed by the commit");
	for (r = 1; r <= 40; r++)
		if (zingest(st, hook, r, r % 2, r % 3 == 0, &firsts[r],
		    &bytes) != STORE_OK)
			refused++;
	is_int(refused, 0, "40 requests of records around a block's size, "
	    "a third of them lines of one body");
	for (r = 1; r <= 40; r++) {
		zread(st, hook, r, firsts[r], bad);
		wrong += bad[0] + bad[1] + bad[2] + bad[3];
	}
	is_int((int64_t)wrong, 0, "all read back as ingested");
	is_int(zingest(st, hook, ZNOISE, 1, 1, &f4, &bytes), STORE_OK,
	    "%zu records of noise as the lines of one body", zcount(ZNOISE));
	zread_ok(st, hook, ZNOISE, f4, "noise, lines of one body");
	store_close(st);
	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	zread_ok(st, hook, 0, f2, "reopened");
	store_close(st);
	/* Offsets, the records, and at most the newlines between them. */
	len = zseglen(f4);
	ok(len > 4 + 10 * zcount(ZNOISE) + bytes && len <= 4 + 10 *
	    zcount(ZNOISE) + bytes + zcount(ZNOISE), "the noise is stored as "
	    "it came, without the long runs between its lines: %zu bytes for "
	    "%zu", len, bytes);

	/* Past the offsets (4 + 10 a record): the block table, then data. */
	is_int(zmangle(f2, 4 + 10 * zcount(0) + 4 + 4), 0,
	    "a block's end in the table goes wrong on disk");
	st = store_open(dir, 1ULL << 30, err, sizeof(err));
	g = fetch(st, hook, f2);
	ok(g.n == 1 && !g.has, "its records are not handed out");
	g = show(st, f2);
	ok(g.n <= 1 && !g.has, "nor shown");
	for (id = f2; id < f2 + zcount(0); id++)
		if ((g = fetch(st, hook, id)).has)
			break;
	ok(id < f2 + zcount(0), "records of the other blocks still are (%llu)",
	    (unsigned long long)(id - f2));
	store_close(st);
}

/*
 * Records that compress well: a full spool holds more of them than it
 * has room to copy out. Dead letters requeued then go on reading their
 * segments, as outcomes do on a full spool, rather than fail.
 */
static void
test_full_squeezed(void)
{
	struct store	*st;
	struct got	 g;
	uint32_t	 hooks[2];
	uint64_t	 first, last, n;
	int		 rc;

	squeeze = 200;
	st = full_spool(hooks, &first, &last, &rc);
	n = (last - first + 1) / 5;
	/* Copies of the dead letters would need more than all of the map. */
	ok(n * 10000 > (8U << 20),
	    "a spool of 4 MiB takes %llu compressed records of 10,000 bytes",
	    (unsigned long long)(last - first + 1));
	is_int(settle_some(st, hooks[0], first, last - first + 1,
	    OUT_DELIVERED, 5), STORE_OK,
	    "one hook delivers all but one record in five, dead");
	is_int(deliver(st, hooks[1], first, last - first + 1), STORE_OK,
	    "the other hook takes every record");
	is_int(store_requeue(st, hooks[0], NULL, 0, now_ms()), (int64_t)n,
	    "every dead letter goes back to the queue, with no room to "
	    "copy them");
	g = fetch(st, hooks[0], first + 2);
	ok(g.has && g.len == 10000 && g.attempts == 0,
	    "and reads its segment");
	is_int(deliver(st, hooks[0], first, last - first + 1), STORE_OK,
	    "then they are delivered");
	is_int((int64_t)scan(st).n, 0, "and the spool is empty");
	store_close(st);
	squeeze = 0;
}

int
main(void)
{
	/* Each on a spool of its own. */
	static void	(*tests[])(void) = { test_persistence, test_full,
			    test_grow, test_segments, test_reuse,
			    test_old_layout, test_full_retry, test_full_pin,
			    test_full_squeezed, test_full_delete,
			    test_full_shared_copy, test_compressed };
	char		 cmd[128];
	size_t		 i;

	log_init(1, 0, "test_store");
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		tests[i]();
		if (system(cmd) != 0)
			diag("cleanup failed");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
