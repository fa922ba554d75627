/*
 * spoolctl's changes to the spool: flush, requeue, delete and
 * delete-dead, and holding a hook.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "segment.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define ANSWER_MAX	512	/* answer text kept in a state */

/*
 * Administrative changes run in their own write transactions; LMDB
 * queues them behind the committer's. f is called with each of the
 * hook's due keys in [from, to], or with each id of a given list, and
 * may change the state of its record, counting it in wc->changed; it
 * returns 0 or an LMDB or errno code.
 */
typedef int (*admin_fn)(struct wcur *, struct store *, uint32_t, uint64_t,
    uint64_t, void *, struct delta *);

struct admin_run {
	uint32_t	 hook;
	uint64_t	 from;
	uint64_t	 to;
	const uint64_t	*given;		/* ids, instead of the due range */
	size_t		 ngiven;
	admin_fn	 f;
	void		*arg;
	ssize_t		 count;		/* out: pairs changed */
	ssize_t		 records;	/* out: what f counts itself */
};

/* The ids and due times of the hook's due keys in [from, to]. */
static int
due_range(MDB_txn *txn, struct store *s, const struct admin_run *a,
    uint64_t **idsp, uint64_t **duesp, size_t *np)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	unsigned char	 key[20];
	uint64_t	*ids = NULL, *dues = NULL, *p;
	size_t		 n = 0, cap = 0;
	int		 rc;

	put_be32(key, a->hook);
	put_be64(key + 4, a->from);
	put_be64(key + 12, 0);
	if ((rc = mdb_cursor_open(txn, s->due, &cur)) != 0)
		return rc;
	k.mv_data = key;
	k.mv_size = sizeof(key);
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 20 || get_be32(k.mv_data) != a->hook ||
		    get_be64((unsigned char *)k.mv_data + 4) > a->to)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((p = reallocarray(ids, cap, 8)) != NULL)
				ids = p;
			if (p == NULL || (p = reallocarray(dues, cap,
			    8)) == NULL) {
				rc = ENOMEM;
				break;
			}
			dues = p;
		}
		dues[n] = get_be64((unsigned char *)k.mv_data + 4);
		ids[n++] = get_be64((unsigned char *)k.mv_data + 12);
	}
	mdb_cursor_close(cur);
	*idsp = ids;
	*duesp = dues;
	*np = n;
	return found(rc);
}

static int
admin_txn(struct store *s, void *arg, int copy)
{
	struct admin_run	*a = arg;
	uint32_t		 hook = a->hook;
	struct delta		*delta;
	struct wcur		 wc;
	MDB_txn			*txn;
	const uint64_t		*ids;
	uint64_t		*listed = NULL, *dues = NULL;
	size_t			 n, i;
	int			 rc;

	a->count = a->records = 0;
	pthread_rwlock_rdlock(&s->maplock);
	if ((delta = calloc(s->nhooks + hook + 1, sizeof(*delta))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto out;
	/* Collect first: f changes the index a cursor would walk. */
	if (a->given != NULL) {
		ids = a->given;
		n = a->ngiven;
	} else if ((rc = due_range(txn, s, a, &listed, &dues, &n)) != 0)
		goto abort;
	else
		ids = listed;
	rc = wcur_open(txn, s, &wc);
	wc.copy = copy;
	for (i = 0; i < n && rc == 0; i++)
		rc = a->f(&wc, s, hook, ids[i], dues ? dues[i] : 0, a->arg,
		    delta);
	a->count = (ssize_t)wc.changed;
	if (rc == 0)
		rc = seg_flush(&wc.sc);
	wcur_close(&wc);
	if (rc == 0)
		rc = flush_deltas(txn, s, delta, s->nhooks > hook ?
		    s->nhooks : hook + 1);
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		goto out;
	}
 abort:
	mdb_txn_abort(txn);
 out:
	pthread_rwlock_unlock(&s->maplock);
	free(delta);
	free(listed);
	free(dues);
	return rc;
}

/* Fitted as a commit is: a full spool copies no records out. */
static ssize_t
admin_run(struct store *s, struct admin_run *a)
{
	int	 rc;

	if ((rc = fit(s, admin_txn, a, !over_limit(s, 0))) != 0) {
		log_warnx("spool: %s", store_strerror(rc));
		return -1;
	}
	return a->count;
}

static ssize_t
admin_range(struct store *s, uint32_t hook, uint64_t from, uint64_t to,
    admin_fn f, void *arg)
{
	struct admin_run	 a = { hook, from, to, NULL, 0, f, arg, 0, 0 };

	return admin_run(s, &a);
}

/* A ready or deferred record due now, attempts kept or reset. */
static int
make_due(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    uint64_t due, uint64_t now, int reset, struct delta *delta)
{
	struct store_outcome	 o;
	struct store_entry	 e;
	MDB_val			 sv;
	char			 text[ANSWER_MAX];
	int			 rc, seg = 0, inseg = 0;

	memset(&e, 0, sizeof(e));
	e.state = ST_READY;
	if ((rc = state_get(wc->txn, s, id, hook, &sv)) == 0 &&
	    (rc = entry_read(wc->txn, s, &wc->sc, id, hook, &sv, &e)) == 0)
		inseg = ((const unsigned char *)sv.mv_data)[STATE_INSEG];
	else if (rc == MDB_NOTFOUND)
		rc = 0, seg = 1;
	if (rc != 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.due_ms = now;
	o.attempts = reset ? 0 : e.attempts;
	o.status = e.status;
	o.last_ms = e.last_ms;
	o.textlen = (uint16_t)(e.answerlen < sizeof(text) ? e.answerlen :
	    sizeof(text));
	if (o.textlen > 0)
		memcpy(text, e.answer, o.textlen);
	o.text = text;
	/* A ready pair in its segment gets a state of its own. */
	rc = seg ? pair_unlink(wc, s, hook, id, PAIR_STATE, &inseg) :
	    due_op(wc->txn, s, hook, due, id, 1);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = pair_detach(wc, s, id, &inseg)) != 0 ||
	    (rc = put_state(wc->txn, s, id, hook, &o, reset ? ST_READY :
	    e.state, inseg)) != 0 ||
	    (rc = due_op(wc->txn, s, hook, now, id, 0)) != 0)
		return rc;
	delta[hook].n[e.state == ST_DEAD ? D_DEAD : e.state == ST_DEFERRED ?
	    D_DEFERRED : D_READY]--;
	delta[hook].n[reset ? D_READY : e.state == ST_DEFERRED ?
	    D_DEFERRED : D_READY]++;
	wc->changed++;
	return 0;
}

struct admin_arg {
	uint64_t	 now;
	const uint64_t	*ids;
	size_t		 n;
};

static int
wanted(const struct admin_arg *a, uint64_t id)
{
	size_t	 i;

	if (a->ids == NULL)
		return 1;
	for (i = 0; i < a->n; i++)
		if (a->ids[i] == id)
			return 1;
	return 0;
}

static int
flush_one(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    uint64_t due, void *arg, struct delta *delta)
{
	struct admin_arg	*a = arg;

	if (due <= a->now)
		return 0;
	return make_due(wc, s, hook, id, due, a->now, 0, delta);
}

ssize_t
store_flush(struct store *s, uint32_t hook, uint64_t now)
{
	struct admin_arg	 a = { now, NULL, 0 };

	return admin_range(s, hook, now + 1, STORE_DUE_DEAD - 1, flush_one, &a);
}

static int
requeue_one(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    uint64_t due, void *arg, struct delta *delta)
{
	struct admin_arg	*a = arg;

	if (!wanted(a, id))
		return 0;
	return make_due(wc, s, hook, id, due, a->now, 1, delta);
}

ssize_t
store_requeue(struct store *s, uint32_t hook, const uint64_t *ids, size_t n,
    uint64_t now)
{
	struct admin_arg	 a = { now, ids, n };

	return admin_range(s, hook, STORE_DUE_DEAD, STORE_DUE_DEAD,
	    requeue_one, &a);
}

/* Remove one hook's state of a record, and the record if it was the last. */
static int
remove_state(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    struct delta *delta)
{
	MDB_txn		*txn = wc->txn;
	unsigned char	 key[12];
	MDB_val		 k, sv;
	int		 rc, st, inseg;

	if ((rc = state_get(txn, s, id, hook, &sv)) == MDB_NOTFOUND) {
		if ((rc = pair_unlink(wc, s, hook, id, PAIR_DROP, &inseg)) != 0)
			return rc == MDB_NOTFOUND ? 0 : rc;
		delta[hook].n[D_READY]--;
		wc->changed++;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (sv.mv_size < STATE_HDR)
		return MDB_CORRUPTED;
	st = ((const unsigned char *)sv.mv_data)[12];
	inseg = ((const unsigned char *)sv.mv_data)[STATE_INSEG];
	if ((rc = due_op(txn, s, hook, get_be64(sv.mv_data), id, 1)) != 0)
		return rc;
	state_key(key, id, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_del(txn, s->state, &k, NULL)) != 0 ||
	    (rc = state_gone(wc, s, id, inseg, 0)) != 0)
		return rc;
	delta[hook].n[st == ST_DEAD ? D_DEAD : st == ST_DEFERRED ?
	    D_DEFERRED : D_READY]--;
	wc->changed++;
	return 0;
}

static int
delete_dead_one(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    uint64_t due, void *arg, struct delta *delta)
{
	(void)due;
	(void)arg;
	return remove_state(wc, s, hook, id, delta);
}

ssize_t
store_delete_dead(struct store *s, uint32_t hook)
{
	return admin_range(s, hook, STORE_DUE_DEAD, STORE_DUE_DEAD,
	    delete_dead_one, NULL);
}

/*
 * Every hook state of the record id, then the record; *arg counts the
 * records deleted.
 */
static int
delete_record(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    uint64_t due, void *arg, struct delta *delta)
{
	ssize_t		*count = arg;
	size_t		 before = wc->changed;
	uint32_t	 h;
	int		 rc = 0;

	(void)hook;
	(void)due;
	for (h = 0; h < s->nhooks && rc == 0; h++)
		rc = remove_state(wc, s, h, id, delta);
	*count += rc == 0 && wc->changed > before;
	return rc;
}

ssize_t
store_delete(struct store *s, const uint64_t *ids, size_t n)
{
	struct admin_run	 a = { 0, 0, 0, ids, n, delete_record, NULL,
				    0, 0 };

	/* No ids is nothing to do, not the due range given == NULL means. */
	if (n == 0)
		return 0;
	a.arg = &a.records;
	if (admin_run(s, &a) == -1)
		return -1;
	return a.records;
}

int
store_set_held(struct store *s, uint32_t hook, int held)
{
	MDB_txn		*txn;
	MDB_val		 k, d;
	unsigned char	 key[8];
	int		 rc;

	memcpy(key, "held", 4);
	put_be32(key + 4, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_data = key;
	d.mv_size = 0;
	pthread_rwlock_rdlock(&s->maplock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) == 0) {
		rc = held ? mdb_put(txn, s->meta, &k, &d, 0) :
		    mdb_del(txn, s->meta, &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc == 0 ? 0 : -1;
}
