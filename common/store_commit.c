/*
 * The group commit: ingest requests' records and delivery outcomes go
 * in together, in as few fsync'd transactions as the spool allows, and
 * each job learns whether it is durable. A full spool refuses records
 * but still takes outcomes, into the reserve.
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

int
store_pack(struct store_job *job)
{
	struct seg_val	*v;
	unsigned char	*p;
	int		 rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ENOMEM;
	if ((rc = seg_pack(v, job->recs, job->nrecs, job->inbuf)) != 0) {
		seg_val_free(v);
		free(v);
		return rc;
	}
	/* It may wait for its commit a while: give back what it did not use. */
	if (v->len < v->cap / 2 && v->len > 0 &&
	    (p = realloc(v->buf, v->len)) != NULL) {
		v->buf = p;
		v->cap = v->len;
	}
	job->packed = v;
	return 0;
}

int
store_pack_keep(struct store_job *job, struct seg_val **keep)
{
	int	 rc;

	job->packed = NULL;
	if (*keep == NULL && (*keep = calloc(1, sizeof(**keep))) == NULL)
		return ENOMEM;
	if ((rc = seg_pack(*keep, job->recs, job->nrecs, job->inbuf)) != 0)
		return rc;
	job->packed = *keep;
	return 0;
}

void
store_pack_release(struct seg_val **keep)
{
	if (*keep == NULL)
		return;
	seg_val_free(*keep);
	free(*keep);
	*keep = NULL;
}

void
store_pack_free(struct store_job *job)
{
	if (job->packed == NULL)
		return;
	seg_val_free(job->packed);
	free(job->packed);
	job->packed = NULL;
}

static int
ingest_records(struct wcur *wc, struct store *s, struct store_job *job,
    uint64_t *id, uint64_t now, struct delta *delta)
{
	const struct store_in	*in;
	struct seg_val		 v;
	size_t			 r;
	uint32_t		 h;
	int			 rc;

	job->first_id = *id;
	if (job->nrecs == 0)
		return 0;
	/* A ready pair has no state: its due key and segment say it all. */
	if (job->packed == NULL) {
		memset(&v, 0, sizeof(v));
		if ((rc = seg_pack(&v, job->recs, job->nrecs,
		    job->inbuf)) == 0)
			rc = seg_put(wc->txn, s->seg, s->segref, *id, now,
			    &v);
		seg_val_free(&v);
	} else
		rc = seg_put(wc->txn, s->seg, s->segref, *id, now,
		    job->packed);
	if (rc != 0)
		return rc;
	for (r = 0; r < job->nrecs; r++, (*id)++) {
		in = &job->recs[r];
		for (h = 0; h < in->nhooks; h++) {
			if ((rc = wcur_put_ready(wc, s, in->hooks[h], now,
			    *id)) != 0)
				return rc;
			delta[in->hooks[h]].n[D_READY]++;
		}
	}
	return 0;
}

static int
put_mark(MDB_txn *txn, struct store *s, const struct store_job *job)
{
	MDB_val	 k, d;

	if (job->mark_key == NULL)
		return 0;
	k.mv_data = (void *)job->mark_key;
	k.mv_size = job->mark_keylen;
	d.mv_data = (void *)job->mark_val;
	d.mv_size = job->mark_vallen;
	return mdb_put(txn, s->meta, &k, &d, 0);
}

static int
apply_outcome(struct wcur *wc, struct store *s, const struct store_outcome *o,
    struct delta *delta)
{
	unsigned char	 key[12];
	MDB_val		 k, d;
	const unsigned char *v = NULL;
	int		 rc, old = ST_READY, inseg;

	state_key(key, o->id, o->hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(wc->state, &k, &d, MDB_SET);
	if (rc == MDB_NOTFOUND) {
		/* Deleted by spoolctl while it was out for delivery: done. */
		if ((rc = pair_unlink(wc, s, o->hook, o->id, o->kind ==
		    OUT_DELIVERED ? PAIR_DROP : PAIR_STATE, &inseg)) != 0)
			return rc == MDB_NOTFOUND ? 0 : rc;
	} else if (rc != 0)
		return rc;
	else {
		if (d.mv_size < STATE_HDR)
			return MDB_CORRUPTED;
		v = d.mv_data;
		old = v[12];
		inseg = v[STATE_INSEG];
		if ((rc = found(cur_del_due(wc->due, o->hook, get_be64(v),
		    o->id))) != 0)
			return rc;
	}
	delta[o->hook].n[old == ST_DEAD ? D_DEAD : old == ST_DEFERRED ?
	    D_DEFERRED : D_READY]--;
	switch (o->kind) {
	case OUT_DELIVERED:
		delta[o->hook].n[D_DELIVERED]++;
		if (v == NULL)
			return 0;
		if ((rc = mdb_cursor_del(wc->state, 0)) != 0)
			return rc;
		return state_gone(wc, s, o->id, inseg, o->sole);
	case OUT_RETRY:
		delta[o->hook].n[D_DEFERRED]++;
		if ((rc = pair_detach(wc, s, o->id, &inseg)) != 0 ||
		    (rc = put_state(wc->txn, s, o->id, o->hook, o,
		    ST_DEFERRED, inseg)) != 0)
			return rc;
		return due_op(wc->txn, s, o->hook, o->due_ms, o->id, 0);
	default:
		delta[o->hook].n[D_DEAD]++;
		delta[o->hook].n[D_FAILED]++;
		if ((rc = pair_detach(wc, s, o->id, &inseg)) != 0 ||
		    (rc = put_state(wc->txn, s, o->id, o->hook, o,
		    ST_DEAD, inseg)) != 0)
			return rc;
		return due_op(wc->txn, s, o->hook, STORE_DUE_DEAD, o->id, 0);
	}
}

static int
apply_jobs(MDB_txn *txn, struct store *s, struct store_job **jobs, size_t n,
    int copy, struct delta *delta)
{
	struct wcur		 wc;
	uint64_t		 id, now = now_ms();
	size_t			 j, o;
	int			 rc;

	if ((rc = meta_get_u64(txn, s->meta, "next_id", &id)) != 0)
		return rc;
	if (id == 0)
		id = 1;
	if ((rc = wcur_open(txn, s, &wc)) != 0)
		goto done;
	wc.copy = copy;
	for (j = 0; j < n && rc == 0; j++) {
		if ((rc = ingest_records(&wc, s, jobs[j], &id, now,
		    delta)) != 0 || (rc = put_mark(txn, s, jobs[j])) != 0)
			break;
		for (o = 0; o < jobs[j]->nouts && rc == 0; o++)
			rc = apply_outcome(&wc, s, &jobs[j]->outs[o], delta);
	}
	if (rc == 0)
		rc = seg_flush(&wc.sc);
	if (rc == 0)
		rc = flush_deltas(txn, s, delta, s->nhooks);
	if (rc == 0)
		rc = meta_put_u64(txn, s->meta, "next_id", id);
 done:
	wcur_close(&wc);
	return rc;
}

struct jobs {
	struct store_job	**jobs;
	size_t			  n;
};

/* One transaction for all of the jobs. */
static int
commit_txn(struct store *s, void *arg, int copy)
{
	struct jobs	*js = arg;
	struct delta	*delta;
	MDB_txn		*txn;
	int		 rc;

	pthread_rwlock_rdlock(&s->maplock);
	if ((delta = calloc(s->nhooks + 1, sizeof(*delta))) == NULL)
		rc = ENOMEM;
	else if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) == 0) {
		if ((rc = apply_jobs(txn, s, js->jobs, js->n, copy, delta)) !=
		    0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);	/* fsyncs */
	}
	pthread_rwlock_unlock(&s->maplock);
	free(delta);
	return rc;
}

static int
store_result(struct store *s, int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case MDB_MAP_FULL:
		return STORE_EFULL;
	case MDB_PANIC:
		log_errorx("spool: write failed: %s", store_strerror(rc));
		store_recover(s);
		return STORE_EIO;
	default:
		log_errorx("spool: write failed: %s", store_strerror(rc));
		return STORE_EIO;
	}
}

/*
 * Commits jobs together. Records that are retried or fail get copies of
 * their own while there is room (copy); when the copies do not fit,
 * their states read their segments instead: outcomes must go in, or the
 * scheduler sends the records again at once.
 */
static int
commit_jobs(struct store *s, struct store_job **jobs, size_t n, int copy)
{
	struct jobs	 js = { jobs, n };

	return store_result(s, fit(s, commit_txn, &js, copy));
}

static uint64_t
incoming_bytes(struct store_job **jobs, size_t n)
{
	uint64_t	 b = 0;
	size_t		 j, r;

	for (j = 0; j < n; j++) {
		for (r = 0; r < jobs[j]->nrecs; r++)
			b += 2 * (REC_HDR + 64 + jobs[j]->recs[r].nhooks *
			    (STATE_HDR + 64) + (jobs[j]->packed == NULL ?
			    jobs[j]->recs[r].len : 0));
		if (jobs[j]->packed != NULL)
			b += 2 * jobs[j]->packed->len;
	}
	return b;
}

void
store_commit(struct store *s, struct store_job **jobs, size_t n)
{
	struct store_job	**outs;
	size_t			  j, k;
	int			  rc, copy;

	if (incoming_bytes(jobs, n) > 0 &&
	    over_limit(s, incoming_bytes(jobs, n))) {
		/* Refuse the records; outcomes still go in, to the reserve. */
		outs = calloc(n, sizeof(*outs));
		for (j = k = 0; j < n; j++) {
			if (jobs[j]->nrecs > 0)
				jobs[j]->result = STORE_EFULL;
			else if (outs != NULL)
				outs[k++] = jobs[j];
			else
				jobs[j]->result = STORE_EIO;
		}
		if (k > 0) {
			/* The reserve is for outcomes, not for copies. */
			rc = commit_jobs(s, outs, k, 0);
			for (j = 0; j < k; j++)
				outs[j]->result = rc;
		}
		free(outs);
		return;
	}
	copy = incoming_bytes(jobs, n) > 0 || !over_limit(s, 0);
	rc = commit_jobs(s, jobs, n, copy);
	if (rc == STORE_EFULL && n > 1) {
		/* The group does not fit: let in whichever requests do. */
		for (j = 0; j < n; j++)
			jobs[j]->result = commit_jobs(s, &jobs[j], 1, copy);
		return;
	}
	for (j = 0; j < n; j++)
		jobs[j]->result = rc;
}
