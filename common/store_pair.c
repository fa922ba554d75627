/*
 * Where a (record, hook) pair is kept, as write transactions (commits
 * and administrative changes) move it: ready and never tried, it is its
 * segment's; with a state, the record has its own copy in rec, or, in a
 * full spool, the state reads the segment (inseg). These are the moves
 * between the two, each keeping the segment's live count and the copy's
 * last reference right, on the cursors of struct wcur.
 */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
wcur_open(MDB_txn *txn, struct store *s, struct wcur *wc)
{
	int	 rc;

	memset(wc, 0, sizeof(*wc));
	wc->txn = txn;
	wc->copy = 1;
	if ((rc = mdb_cursor_open(txn, s->state, &wc->state)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->due, &wc->due)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->rec, &wc->rec)) != 0 ||
	    (rc = seg_open(&wc->sc, txn, s->seg, s->segref, NULL)) != 0)
		return rc;
	return 0;
}

/*
 * A new record's due key for hook, through the hook's own cursor: the
 * keys of one commit's records are adjacent for each hook, and LMDB
 * looks for a key on its cursor's leaf page first, where mdb_put()
 * walks down from the root for each. One cursor for all hooks would
 * leave that page at every record queued for more than one.
 */
int
wcur_put_ready(struct wcur *wc, struct store *s, uint32_t hook, uint64_t due,
    uint64_t id)
{
	unsigned char	 key[20];
	MDB_val		 k, d;
	int		 rc;

	if (hook >= wc->nready) {
		if (wc->ready == NULL && (wc->ready = calloc(s->nhooks,
		    sizeof(*wc->ready))) != NULL)
			wc->nready = s->nhooks;
		if (hook >= wc->nready)
			return due_op(wc->txn, s, hook, due, id, 0);
	}
	if (wc->ready[hook] == NULL &&
	    (rc = mdb_cursor_open(wc->txn, s->due, &wc->ready[hook])) != 0)
		return rc;
	due_entry(key, &k, &d, hook, due, id);
	return mdb_cursor_put(wc->ready[hook], &k, &d, 0);
}

void
wcur_close(struct wcur *wc)
{
	uint32_t	 h;

	for (h = 0; h < wc->nready; h++)
		if (wc->ready[h] != NULL)
			mdb_cursor_close(wc->ready[h]);
	free(wc->ready);
	if (wc->state != NULL)
		mdb_cursor_close(wc->state);
	if (wc->due != NULL)
		mdb_cursor_close(wc->due);
	if (wc->rec != NULL)
		mdb_cursor_close(wc->rec);
	seg_close(&wc->sc);
}

/* Delete the record's copy if no hook's state refers to it any more. */
static int
drop_if_orphan(MDB_txn *txn, struct store *s, uint64_t id)
{
	unsigned char	 key[8];
	MDB_val		 k;
	int		 rc;

	if ((rc = has_state(txn, s, id)) != MDB_NOTFOUND)
		return rc;
	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_del(txn, s->rec, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Has another hook's state copied the record to rec already? */
static int
has_copy(MDB_txn *txn, struct store *s, uint64_t id, int *have)
{
	unsigned char	 key[8];
	MDB_val		 k, d;
	int		 rc;

	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_get(txn, s->rec, &k, &d);
	*have = rc == 0;
	return found(rc);
}

/*
 * A state that reads its segment (*inseg) gets a copy of the record in
 * rec when there is room, or shares one another hook's state made, and
 * the segment one pair less to keep it for.
 */
int
pair_detach(struct wcur *wc, struct store *s, uint64_t id, int *inseg)
{
	struct seg_rec	 r;
	int		 rc, have;

	if (!*inseg)
		return 0;
	if (!wc->copy) {
		if ((rc = has_copy(wc->txn, s, id, &have)) != 0 || !have)
			return rc;
	} else if ((rc = seg_at(&wc->sc, id)) != 0 ||
	    (rc = seg_get(&wc->sc, id, &r)) != 0 ||
	    (rc = put_record(wc->txn, s, id, wc->sc.g.received_ms, &r)) != 0)
		return rc;
	if ((rc = seg_at(&wc->sc, id)) != 0 ||
	    (rc = seg_release(&wc->sc)) != 0)
		return rc;
	*inseg = 0;
	return 0;
}

/*
 * Takes the ready pair (id, hook) out of its segment's due time. A pair
 * that leaves, or that gets a state and a copy of the record in rec,
 * no longer needs the segment. Without room for the copy (a full spool)
 * the state reads the segment instead and *inseg says so. MDB_NOTFOUND:
 * the pair is not queued.
 */
int
pair_unlink(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    int mode, int *inseg)
{
	int	 rc;

	*inseg = 0;
	if ((rc = seg_at(&wc->sc, id)) != 0 ||
	    (rc = cur_del_due(wc->due, hook, wc->sc.g.received_ms, id)) != 0)
		return rc;
	if (mode == PAIR_DROP)
		return seg_release(&wc->sc);
	*inseg = 1;
	return pair_detach(wc, s, id, inseg);
}

/*
 * A state leaves: the segment it read from, or the record's copy in rec
 * when no other state refers to it (sole: no other hook could).
 */
int
state_gone(struct wcur *wc, struct store *s, uint64_t id, int inseg,
    int sole)
{
	unsigned char	 key[8];
	int		 rc;

	if (inseg && ((rc = seg_at(&wc->sc, id)) != 0 ||
	    (rc = seg_release(&wc->sc)) != 0))
		return rc;
	if (!sole)
		return drop_if_orphan(wc->txn, s, id);
	put_be64(key, id);
	return found(cur_del(wc->rec, key, sizeof(key)));
}
