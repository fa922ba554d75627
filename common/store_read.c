/*
 * Reads, each in a read transaction of its own: the scheduler's due
 * ranges and fetches, the counts and holds that spoolctl and the
 * metrics show, spoolctl's list and show, and a walk of every record.
 */
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "segment.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/*
 * A read transaction with a cursor on dbi, under maplock. After a
 * failed reopen there is no environment: MDB_PANIC, as for writes.
 */
static int
rd_begin(struct store *s, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **cur)
{
	int	 rc;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn)) == 0 &&
	    (rc = mdb_cursor_open(*txn, dbi, cur)) != 0)
		mdb_txn_abort(*txn);
	if (rc != 0)
		pthread_rwlock_unlock(&s->maplock);
	return rc;
}

/* Ends what rd_begin began; a walk that ran off the end is no error. */
static int
rd_end(struct store *s, MDB_txn *txn, MDB_cursor *cur, int rc)
{
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->maplock);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The pair (id, hook): from its state, or, with none, ready in its
 * segment. 0, MDB_NOTFOUND when the record is not queued for the hook,
 * or an error.
 */
static int
entry_get(MDB_txn *txn, struct store *s, struct seg_cur *sc, uint64_t id,
    uint32_t hook, struct store_entry *e)
{
	struct seg_rec	 r;
	MDB_val		 sv;
	int		 rc;

	if ((rc = state_get(txn, s, id, hook, &sv)) == 0)
		return entry_read(txn, s, sc, id, hook, &sv, e);
	if (rc != MDB_NOTFOUND ||
	    (rc = seg_at(sc, id)) != 0 ||
	    (rc = due_has(txn, s, hook, sc->g.received_ms, id)) != 0 ||
	    (rc = seg_get(sc, id, &r)) != 0)
		return rc;
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->hook = hook;
	e->state = ST_READY;
	e->due_ms = sc->g.received_ms;
	e->answer = "";
	entry_seg(e, sc, &r);
	return 0;
}

ssize_t
store_due(struct store *s, uint32_t hook, uint64_t now, struct store_due *pos,
    int (*skip)(void *, uint64_t), void *arg, struct store_due *out,
    size_t max, uint64_t *next_due)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, d;
	unsigned char	 key[20];
	uint64_t	 due, id;
	size_t		 n = 0;
	int		 rc;

	*next_due = UINT64_MAX;
	put_be32(key, hook);
	put_be64(key + 4, pos->due_ms);
	put_be64(key + 12, pos->id + (pos->id != 0 || pos->due_ms != 0));
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (rd_begin(s, s->due, &txn, &cur) != 0)
		return -1;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	for (; rc == 0 && n < max; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 20 || get_be32(k.mv_data) != hook)
			break;
		due = get_be64((unsigned char *)k.mv_data + 4);
		id = get_be64((unsigned char *)k.mv_data + 12);
		if (due > now) {
			if (due != STORE_DUE_DEAD)
				*next_due = due;
			break;
		}
		pos->due_ms = due;
		pos->id = id;
		if (skip != NULL && skip(arg, id))
			continue;
		out[n].id = id;
		out[n++].due_ms = due;
	}
	return rd_end(s, txn, cur, rc) == 0 ? (ssize_t)n : -1;
}

int
store_fetch(struct store *s, uint32_t hook, const uint64_t *ids, size_t n,
    void (*cb)(void *, const struct store_item *), void *arg)
{
	struct store_item	 it;
	struct store_entry	 e;
	struct seg_cur		 sc;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	size_t			 i;
	int			 rc;

	/*
	 * Batches are in id order: the segment is mostly the last one, and
	 * so is the block decompressed for the batch before.
	 */
	if (rd_begin(s, s->state, &txn, &cur) != 0)
		return -1;
	pthread_mutex_lock(&s->zlock);
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, &s->zc)) != 0)
		goto done;
	for (i = 0; i < n; i++) {
		memset(&it, 0, sizeof(it));
		it.id = ids[i];
		if (entry_get(txn, s, &sc, ids[i], hook, &e) == 0 &&
		    e.state != ST_DEAD && e.rec != NULL) {
			it.attempts = e.attempts;
			it.state = (uint8_t)e.state;
			it.received_ms = e.received_ms;
			it.nhooks = e.nhooks;
			it.ptr = e.rec;
			it.len = e.reclen;
		}
		cb(arg, &it);
	}
 done:
	seg_close(&sc);
	pthread_mutex_unlock(&s->zlock);
	return rd_end(s, txn, cur, rc) == 0 ? 0 : -1;
}

int
store_counts(struct store *s, uint32_t hook, struct store_counts *c)
{
	MDB_txn	*txn;
	int	 rc;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) == 0) {
		rc = ctr_read(txn, s->meta, hook, c);
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc == 0 ? 0 : -1;
}

/* A count read in another transaction may lag a lease: never below 0. */
static uint64_t
less(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void
store_states(const struct store_counts *c, int held, uint64_t leased_ready,
    uint64_t leased_deferred, struct store_states *st)
{
	uint64_t	 ready, deferred;

	ready = less(c->ready, leased_ready);
	deferred = less(c->deferred, leased_deferred);
	st->in_flight = (c->ready - ready) + (c->deferred - deferred);
	st->dead = c->dead;
	st->held = held ? ready + deferred : 0;
	st->ready = held ? 0 : ready;
	st->deferred = held ? 0 : deferred;
}

/*
 * The next id at or after id that may be queued for some hook: one in a
 * segment, or one with a state. UINT64_MAX: none.
 */
static int
next_candidate(struct seg_cur *sc, MDB_cursor *state, MDB_cursor *ref,
    uint64_t id, uint64_t *next)
{
	unsigned char	 key[12];
	MDB_val		 k, d;
	int		 rc;

	*next = UINT64_MAX;
	if ((rc = seg_at(sc, id)) == 0) {
		*next = id;
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = 8;
	if ((rc = mdb_cursor_get(ref, &k, &d, MDB_SET_RANGE)) == 0 &&
	    k.mv_size == 8)
		*next = get_be64(k.mv_data);
	else if (rc != MDB_NOTFOUND)
		return rc;
	state_key(key, id, 0);
	k.mv_data = key;
	k.mv_size = 12;
	if ((rc = mdb_cursor_get(state, &k, &d, MDB_SET_RANGE)) == 0 &&
	    k.mv_size == 12 && get_be64(k.mv_data) < *next)
		*next = get_be64(k.mv_data);
	return found(rc);
}

/*
 * Is record id queued for hook, not dead: 0 and when it was received,
 * MDB_NOTFOUND, or an error.
 */
static int
queued_at(MDB_txn *txn, struct store *s, struct seg_cur *sc, uint32_t hook,
    uint64_t id, uint64_t *received_ms)
{
	MDB_val		 k, d;
	unsigned char	 key[8];
	int		 rc, inseg;

	if ((rc = seg_at(sc, id)) != 0 && rc != MDB_NOTFOUND)
		return rc;
	inseg = rc == 0;
	if ((rc = state_get(txn, s, id, hook, &d)) == 0) {
		if (d.mv_size < STATE_HDR)
			return MDB_CORRUPTED;
		if (((unsigned char *)d.mv_data)[12] == ST_DEAD)
			return MDB_NOTFOUND;
		put_be64(key, id);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		if ((rc = mdb_get(txn, s->rec, &k, &d)) == 0 &&
		    d.mv_size >= REC_HDR)
			*received_ms = get_be64(d.mv_data);
		else if (rc == MDB_NOTFOUND && inseg)
			*received_ms = sc->g.received_ms;
		else
			return rc == 0 ? MDB_CORRUPTED : rc;
		return 0;
	}
	if (rc != MDB_NOTFOUND || !inseg)
		return rc;
	*received_ms = sc->g.received_ms;
	return due_has(txn, s, hook, sc->g.received_ms, id);
}

int
store_oldest(struct store *s, uint32_t hook, struct store_oldest *o)
{
	struct store_counts	 c;
	struct seg_cur		 sc;
	MDB_txn			*txn;
	MDB_cursor		*state, *ref = NULL;
	uint64_t		 id, pos = o->from, received;
	int			 rc;

	o->id = 0;
	memset(&sc, 0, sizeof(sc));
	if (rd_begin(s, s->state, &txn, &state) != 0)
		return -1;
	/* Nothing queued: no walk past every other hook's records. */
	if ((rc = ctr_read(txn, s->meta, hook, &c)) != 0 ||
	    c.ready + c.deferred == 0)
		goto done;
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, NULL)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->segref, &ref)) != 0)
		goto done;
	while ((rc = next_candidate(&sc, state, ref, pos, &id)) == 0 &&
	    id != UINT64_MAX) {
		pos = id;
		if ((rc = queued_at(txn, s, &sc, hook, id, &received)) == 0) {
			o->id = id;
			o->received_ms = received;
			break;
		}
		if (rc != MDB_NOTFOUND)
			break;
		pos = id + 1;
		rc = 0;
	}
	/* Ids only grow: what comes later is past where the walk ended. */
	if (rc == 0)
		o->from = pos;
 done:
	if (ref != NULL)
		mdb_cursor_close(ref);
	seg_close(&sc);
	return rd_end(s, txn, state, rc) == 0 ? 0 : -1;
}

int
store_held(struct store *s, uint32_t hook)
{
	MDB_txn		*txn;
	MDB_val		 k, d;
	unsigned char	 key[8];
	int		 held = 0;

	memcpy(key, "held", 4);
	put_be32(key + 4, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env != NULL &&
	    mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
		held = mdb_get(txn, s->meta, &k, &d) == 0;
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return held;
}

/* Where a listing starts: dead letters are the tail of the hook's range. */
static void
list_start(unsigned char *key, uint32_t hook, int state,
    const struct store_due *from)
{
	uint64_t	 due = from != NULL ? from->due_ms : 0;

	if (state == ST_DEAD && due < STORE_DUE_DEAD)
		due = STORE_DUE_DEAD;
	due_key(key, hook, due, from != NULL && due == from->due_ms ?
	    from->id : 0);
}

ssize_t
store_list(struct store *s, uint32_t hook, int state,
    const struct store_due *from, size_t limit, store_entry_cb cb,
    void *arg, struct store_due *next, int *more)
{
	struct store_entry	 e;
	struct seg_cur		 sc;
	unsigned char		 key[20];
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, d;
	uint64_t		 due;
	size_t			 n = 0, looked = 0, budget;
	int			 rc;

	*more = 0;
	budget = limit > SIZE_MAX - STORE_LIST_SCAN ? SIZE_MAX :
	    limit + STORE_LIST_SCAN;
	list_start(key, hook, state, from);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (rd_begin(s, s->due, &txn, &cur) != 0)
		return -1;
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, NULL)) != 0)
		goto done;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 20 || get_be32(k.mv_data) != hook)
			break;
		due = get_be64((unsigned char *)k.mv_data + 4);
		/* The others end where the dead letters begin. */
		if (state >= 0 && state != ST_DEAD && due == STORE_DUE_DEAD)
			break;
		if (n >= limit || looked++ >= budget) {
			next->due_ms = due;
			next->id = get_be64((unsigned char *)k.mv_data + 12);
			*more = 1;
			break;
		}
		if ((rc = entry_get(txn, s, &sc, get_be64((unsigned char *)
		    k.mv_data + 12), hook, &e)) != 0)
			break;
		if (state >= 0 && e.state != state)
			continue;
		cb(arg, &e);
		n++;
	}
 done:
	seg_close(&sc);
	return rd_end(s, txn, cur, rc) == 0 ? (ssize_t)n : -1;
}

int
store_show(struct store *s, uint64_t id, store_entry_cb cb, void *arg)
{
	struct store_entry	 e;
	struct seg_cur		 sc;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	uint32_t		 h;
	int			 rc, found = 0;

	if (rd_begin(s, s->state, &txn, &cur) != 0)
		return -1;
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, NULL)) != 0)
		goto done;
	for (h = 0; h < s->nhooks; h++) {
		if ((rc = entry_get(txn, s, &sc, id, h, &e)) == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			break;
		cb(arg, &e);
		found = 1;
	}
 done:
	seg_close(&sc);
	return rd_end(s, txn, cur, rc) == 0 ? found : -1;
}

/*
 * Is record id of the current segment still queued for some hook: as a
 * ready pair, or with a state (one without a copy in rec reads it here)?
 */
static int
seg_queued(MDB_txn *txn, struct store *s, struct seg_cur *sc, uint64_t id)
{
	uint32_t	 h;
	int		 rc;

	for (h = 0; h < s->nhooks; h++)
		if ((rc = due_has(txn, s, h, sc->g.received_ms, id)) !=
		    MDB_NOTFOUND)
			return rc;
	return has_state(txn, s, id);
}

/* A walk of rec beside the segments, for store_scan. */
struct rec_walk {
	MDB_cursor	*cur;
	MDB_val		 k, d;
	int		 rc;		/* of the last move */
	store_scan_cb	 cb;
	void		*arg;
};

static int
walk_next(struct rec_walk *sn, MDB_cursor_op op)
{
	sn->rc = mdb_cursor_get(sn->cur, &sn->k, &sn->d, op);
	if (sn->rc == 0 && (sn->k.mv_size != 8 || sn->d.mv_size < REC_HDR))
		sn->rc = MDB_CORRUPTED;
	return sn->rc;
}

/* Hands out rec's records below id; returns what cb returned, or 0. */
static int
walk_rec(struct rec_walk *sn, uint64_t below)
{
	const unsigned char	*p;
	int			 stop;

	while (sn->rc == 0 && get_be64(sn->k.mv_data) < below) {
		p = sn->d.mv_data;
		if ((stop = sn->cb(sn->arg, get_be64(sn->k.mv_data),
		    get_be64(p), (const char *)p + REC_HDR,
		    sn->d.mv_size - REC_HDR)) != 0)
			return stop;
		walk_next(sn, MDB_NEXT);
	}
	return 0;
}

/*
 * The queued records of the segment sc is on, and rec's before them;
 * a record in both is handed out once, from rec.
 */
static int
walk_seg(MDB_txn *txn, struct store *s, struct seg_cur *sc,
    struct rec_walk *sn, int *rc)
{
	struct seg_rec	 r;
	uint64_t	 id;
	int		 stop;

	for (id = sc->g.first; id - sc->g.first < sc->g.n; id++) {
		if ((stop = walk_rec(sn, id)) != 0)
			return stop;
		if (sn->rc == 0 && get_be64(sn->k.mv_data) == id)
			continue;
		if ((*rc = seg_queued(txn, s, sc, id)) == MDB_NOTFOUND)
			continue;
		if (*rc != 0 || (*rc = seg_get(sc, id, &r)) != 0)
			return 0;
		if ((stop = sn->cb(sn->arg, id, sc->g.received_ms, r.ptr,
		    r.len)) != 0)
			return stop;
	}
	*rc = 0;
	return 0;
}

int
store_scan(struct store *s, store_scan_cb cb, void *arg)
{
	struct rec_walk	 sn;
	struct seg_cur	 sc;
	MDB_txn		*txn;
	MDB_cursor	*gc = NULL;
	MDB_val		 k, d;
	int		 rc, stop = 0;

	memset(&sn, 0, sizeof(sn));
	memset(&sc, 0, sizeof(sc));
	sn.cb = cb;
	sn.arg = arg;
	if (rd_begin(s, s->rec, &txn, &sn.cur) != 0)
		return -1;
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, NULL)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->segref, &gc)) != 0)
		goto done;
	if (walk_next(&sn, MDB_FIRST) != 0 && sn.rc != MDB_NOTFOUND) {
		rc = sn.rc;
		goto done;
	}
	for (rc = mdb_cursor_get(gc, &k, &d, MDB_FIRST); rc == 0 && stop == 0;
	    rc = mdb_cursor_get(gc, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		/* Every segment that segref names has a record. */
		if ((rc = seg_at(&sc, get_be64(k.mv_data))) == MDB_NOTFOUND)
			rc = MDB_CORRUPTED;
		if (rc != 0 || ((stop = walk_seg(txn, s, &sc, &sn, &rc)) == 0 &&
		    rc != 0))
			break;
	}
	if (stop == 0 && rc == MDB_NOTFOUND)
		stop = walk_rec(&sn, UINT64_MAX);
	if (rc == MDB_NOTFOUND && sn.rc != MDB_NOTFOUND)
		rc = sn.rc;
 done:
	if (gc != NULL)
		mdb_cursor_close(gc);
	seg_close(&sc);
	rc = rd_end(s, txn, sn.cur, rc);
	if (stop != 0)
		return stop;
	return rc == 0 ? 0 : -1;
}

int
store_mark(struct store *s, const void *key, size_t keylen, void *buf,
    size_t *len)
{
	MDB_txn	*txn;
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = (void *)key;
	k.mv_size = keylen;
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_get(txn, s->meta, &k, &d)) == 0) {
			if (d.mv_size > *len)
				rc = MDB_BAD_VALSIZE;
			else {
				memcpy(buf, d.mv_data, d.mv_size);
				*len = d.mv_size;
			}
		}
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc == 0 ? 0 : rc == MDB_NOTFOUND ? 1 : -1;
}
