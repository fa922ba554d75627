/*
 * The spool on LMDB. See store.h for the key layout.
 *
 * One thread of one process writes (the committer); any thread may read.
 * Growing the map needs every transaction of the process to be closed,
 * so transactions hold maplock shared and store_grow() takes it
 * exclusively. A failed commit leaves LMDB's data file as it was before
 * the transaction, so MDB_MAP_FULL, ENOSPC and EIO lose nothing that was
 * acknowledged; after MDB_PANIC (a failed meta page write) the
 * environment is closed and opened again.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "segment.h"
#include "store.h"
#include "util.h"

#define MAP_INITIAL	(64ULL << 20)
/*
 * Room above max_spool_size that only delivery outcomes may use: even
 * a delete needs fresh pages in LMDB, and a full spool must still be
 * able to drain.
 */
#define RESERVE_MIN	(4ULL << 20)
#define RESERVE_SHARE	16
#define STATE_HDR	24
#define STATE_INSEG	13	/* 1: the record is read from its segment */
#define REC_HDR		10
#define CTR_KEY		7	/* "ctr" + be32 */
#define ANSWER_MAX	512	/* answer text kept in a state */

struct store {
	char			*dir;
	MDB_env			*env;
	MDB_dbi			 rec, state, due, hooks, meta, seg, segref;
	uint64_t		 mapsize;
	uint64_t		 maxsize;	/* max_spool_size: ingest stops */
	uint64_t		 mapcap;	/* maxsize and the reserve */
	int			 lockfd;
	pthread_rwlock_t	 maplock;
	uint32_t		 nhooks;	/* ids below this are known */
	pthread_mutex_t		 zlock;
	struct seg_cache	 zc;		/* blocks store_fetch read */
};

/* A transaction's changes to the counters of one hook. */
struct delta {
	int64_t			 n[5];		/* as struct store_counts */
};
#define D_READY		0
#define D_DEFERRED	1
#define D_DEAD		2
#define D_DELIVERED	3
#define D_FAILED	4


static const char *
store_strerror(int rc)
{
	return mdb_strerror(rc);
}

static int
store_lock_dir(struct store *s, char *err, size_t errlen)
{
	char	 path[4096];

	snprintf(path, sizeof(path), "%s/spoold.lock", s->dir);
	if ((s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A second writer would hand out the same ids. */
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: spool in use by another spoold",
		    s->dir);
		return -1;
	}
	return 0;
}

static uint64_t
store_file_size(const char *dir)
{
	char		 path[4096];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == -1)
		return 0;
	return (uint64_t)st.st_size;
}

static int
store_dbis(struct store *s)
{
	MDB_txn		*txn;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "rec", MDB_CREATE, &s->rec)) != 0 ||
	    (rc = mdb_dbi_open(txn, "state", MDB_CREATE, &s->state)) != 0 ||
	    (rc = mdb_dbi_open(txn, "due", MDB_CREATE, &s->due)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hooks", MDB_CREATE, &s->hooks)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seg", MDB_CREATE, &s->seg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "segref", MDB_CREATE, &s->segref)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

static int	meta_get_u64(MDB_txn *, MDB_dbi, const char *, uint64_t *);

/* Hooks of earlier configurations keep their records: know their ids. */
static int
store_load_nhooks(struct store *s)
{
	MDB_txn		*txn;
	uint64_t	 next;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = meta_get_u64(txn, s->meta, "next_hook", &next);
	mdb_txn_abort(txn);
	if (rc == 0)
		s->nhooks = (uint32_t)next;
	return rc;
}

static int
store_env_open(struct store *s, char *err, size_t errlen)
{
	uint64_t	 fsize;
	int		 rc, dead;

	fsize = store_file_size(s->dir);
	s->mapsize = s->mapcap < MAP_INITIAL ? s->mapcap : MAP_INITIAL;
	/* The map must cover the file, even one larger than max_spool_size. */
	while (s->mapsize < fsize)
		s->mapsize *= 2;
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 510)) != 0)
		goto fail;
	/* MDB_NOTLS: read transactions are per request, on any thread. */
	if ((rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	if ((rc = mdb_reader_check(s->env, &dead)) != 0)
		goto fail;
	if (dead > 0)
		log_info("spool: cleared %d stale reader slots", dead);
	if ((rc = store_dbis(s)) != 0 || (rc = store_load_nhooks(s)) != 0)
		goto fail;
	return 0;
 fail:
	snprintf(err, errlen, "%s: %s", s->dir, store_strerror(rc));
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	return -1;
}

struct store *
store_open(const char *dir, uint64_t max_size, char *err, size_t errlen)
{
	struct store	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(s);
		return NULL;
	}
	s->lockfd = -1;
	s->maxsize = max_size;
	s->mapcap = max_size + (max_size / RESERVE_SHARE > RESERVE_MIN ?
	    max_size / RESERVE_SHARE : RESERVE_MIN);
	pthread_rwlock_init(&s->maplock, NULL);
	pthread_mutex_init(&s->zlock, NULL);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (store_lock_dir(s, err, errlen) == -1 ||
	    store_env_open(s, err, errlen) == -1)
		goto fail;
	return s;
 fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd != -1)
		close(s->lockfd);
	pthread_rwlock_destroy(&s->maplock);
	pthread_mutex_destroy(&s->zlock);
	seg_cache_free(&s->zc);
	free(s->dir);
	free(s);
}

int
store_reader_check(struct store *s)
{
	int	 dead = 0;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL || mdb_reader_check(s->env, &dead) != 0)
		dead = -1;
	pthread_rwlock_unlock(&s->maplock);
	if (dead > 0)
		log_info("spool: cleared %d stale reader slots", dead);
	return dead;
}

/*
 * Double the map, up to mapcap. The caller holds no transaction.
 * Returns 0 when there is more room now.
 */
static int
store_grow(struct store *s)
{
	uint64_t	 next;
	int		 rc = -1;

	pthread_rwlock_wrlock(&s->maplock);
	next = s->mapsize * 2;
	if (next > s->mapcap)
		next = s->mapcap;
	if (next > s->mapsize && s->env != NULL &&
	    mdb_env_set_mapsize(s->env, next) == 0) {
		log_debug("spool: map grown to %llu bytes",
		    (unsigned long long)next);
		s->mapsize = next;
		rc = 0;
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc;
}

/* After MDB_PANIC nothing works until the environment is opened again. */
static void
store_recover(struct store *s)
{
	char	 err[512];

	pthread_rwlock_wrlock(&s->maplock);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	/* A commit that failed may have its ids handed out again. */
	seg_cache_free(&s->zc);
	if (store_env_open(s, err, sizeof(err)) == -1)
		log_warnx("spool: reopen after a fatal error: %s", err);
	else
		log_warnx("spool: reopened after a fatal write error");
	pthread_rwlock_unlock(&s->maplock);
}

static int
meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *v)
{
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, dbi, &k, &d)) == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (d.mv_size != 8)
		return MDB_CORRUPTED;
	*v = get_be64(d.mv_data);
	return 0;
}

static int
meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t v)
{
	MDB_val		 k, d;
	unsigned char	 buf[8];

	put_be64(buf, v);
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	return mdb_put(txn, dbi, &k, &d, 0);
}

static void
ctr_key(unsigned char *key, uint32_t hook)
{
	memcpy(key, "ctr", 3);
	put_be32(key + 3, hook);
}

static int
ctr_read(MDB_txn *txn, MDB_dbi meta, uint32_t hook, struct store_counts *c)
{
	unsigned char	 key[CTR_KEY];
	const unsigned char *p;
	MDB_val		 k, d;
	int		 rc;

	memset(c, 0, sizeof(*c));
	ctr_key(key, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_get(txn, meta, &k, &d)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (d.mv_size != 40)
		return MDB_CORRUPTED;
	p = d.mv_data;
	c->ready = get_be64(p);
	c->deferred = get_be64(p + 8);
	c->dead = get_be64(p + 16);
	c->delivered = get_be64(p + 24);
	c->failed = get_be64(p + 32);
	return 0;
}

static int
ctr_write(MDB_txn *txn, MDB_dbi meta, uint32_t hook,
    const struct store_counts *c)
{
	unsigned char	 key[CTR_KEY], buf[40];
	MDB_val		 k, d;

	ctr_key(key, hook);
	put_be64(buf, c->ready);
	put_be64(buf + 8, c->deferred);
	put_be64(buf + 16, c->dead);
	put_be64(buf + 24, c->delivered);
	put_be64(buf + 32, c->failed);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	return mdb_put(txn, meta, &k, &d, 0);
}

int
store_hook_id(struct store *s, const char *name, uint32_t *id)
{
	MDB_txn		*txn;
	MDB_val		 k, d;
	unsigned char	 buf[4];
	uint64_t	 next;
	int		 rc;

	pthread_rwlock_rdlock(&s->maplock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto out;
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, s->hooks, &k, &d)) == 0 && d.mv_size == 4) {
		*id = get_be32(d.mv_data);
		mdb_txn_abort(txn);
		goto out;
	}
	if ((rc = meta_get_u64(txn, s->meta, "next_hook", &next)) != 0)
		goto abort;
	*id = (uint32_t)next;
	put_be32(buf, *id);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	if ((rc = mdb_put(txn, s->hooks, &k, &d, 0)) != 0 ||
	    (rc = meta_put_u64(txn, s->meta, "next_hook", next + 1)) != 0)
		goto abort;
	rc = mdb_txn_commit(txn);
	goto out;
 abort:
	mdb_txn_abort(txn);
 out:
	pthread_rwlock_unlock(&s->maplock);
	if (rc != 0) {
		log_warnx("spool: hook %s: %s", name, store_strerror(rc));
		return -1;
	}
	pthread_rwlock_wrlock(&s->maplock);
	if (*id >= s->nhooks)
		s->nhooks = *id + 1;
	pthread_rwlock_unlock(&s->maplock);
	return 0;
}

/* A record's own copy, for the hooks that retry it; kept if there is one. */
static int
put_record(MDB_txn *txn, struct store *s, uint64_t id, uint64_t received_ms,
    const struct seg_rec *r)
{
	unsigned char	 key[8];
	unsigned char	*p;
	MDB_val		 k, d;
	int		 rc;

	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_size = REC_HDR + r->len;
	if ((rc = mdb_put(txn, s->rec, &k, &d, MDB_NOOVERWRITE |
	    MDB_RESERVE)) != 0)
		return rc == MDB_KEYEXIST ? 0 : rc;
	p = d.mv_data;
	put_be64(p, received_ms);
	p[8] = r->rectype;
	p[9] = r->nhooks;
	memcpy(p + REC_HDR, r->ptr, r->len);
	return 0;
}

static void
state_key(unsigned char *key, uint64_t id, uint32_t hook)
{
	put_be64(key, id);
	put_be32(key + 8, hook);
}

static void
due_key(unsigned char *key, uint32_t hook, uint64_t due, uint64_t id)
{
	put_be32(key, hook);
	put_be64(key + 4, due);
	put_be64(key + 12, id);
}

static int
due_op(MDB_txn *txn, struct store *s, uint32_t hook, uint64_t due,
    uint64_t id, int del)
{
	unsigned char	 key[20];
	MDB_val		 k, d;
	int		 rc;

	due_key(key, hook, due, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_data = key;
	d.mv_size = 0;
	if (!del)
		return mdb_put(txn, s->due, &k, &d, 0);
	rc = mdb_del(txn, s->due, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The state value of a queued record: see the layout in store.h. */
static int
put_state(MDB_txn *txn, struct store *s, uint64_t id, uint32_t hook,
    const struct store_outcome *o, int state, int inseg)
{
	unsigned char	 key[12];
	unsigned char	*val;
	MDB_val		 k, d;
	size_t		 tl = o->textlen;
	int		 rc;

	state_key(key, id, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_size = STATE_HDR + tl;
	if ((rc = mdb_put(txn, s->state, &k, &d, MDB_RESERVE)) != 0)
		return rc;
	val = d.mv_data;
	memset(val, 0, STATE_HDR);
	val[12] = (unsigned char)state;
	val[STATE_INSEG] = inseg != 0;
	put_be64(val, state == ST_DEAD ? STORE_DUE_DEAD : o->due_ms);
	put_be32(val + 8, o->attempts);
	val[14] = o->status >> 8;
	val[15] = o->status & 0xff;
	put_be64(val + 16, o->last_ms);
	if (tl > 0)
		memcpy(val + STATE_HDR, o->text, tl);
	return 0;
}

static int
ingest_records(MDB_txn *txn, struct store *s, struct store_job *job,
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
		if ((rc = seg_pack(&v, job->recs, job->nrecs)) == 0)
			rc = seg_put(txn, s->seg, s->segref, *id, now, &v);
		seg_val_free(&v);
	} else
		rc = seg_put(txn, s->seg, s->segref, *id, now, job->packed);
	if (rc != 0)
		return rc;
	for (r = 0; r < job->nrecs; r++, (*id)++) {
		in = &job->recs[r];
		for (h = 0; h < in->nhooks; h++) {
			if ((rc = due_op(txn, s, in->hooks[h], now, *id,
			    0)) != 0)
				return rc;
			delta[in->hooks[h]].n[D_READY]++;
		}
	}
	return 0;
}

/* Has any hook a state of record id? 0 if so, MDB_NOTFOUND, or an error. */
static int
has_state(MDB_txn *txn, struct store *s, uint64_t id)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	unsigned char	 key[12];
	int		 rc;

	state_key(key, id, 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_cursor_open(txn, s->state, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != 12 || get_be64(k.mv_data) != id))
		rc = MDB_NOTFOUND;
	mdb_cursor_close(cur);
	return rc;
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

/*
 * The write transaction's cursors. Outcomes come a batch at a time with
 * ids in order, so a positioned cursor mostly finds the next key on the
 * page it is on, where a fresh lookup would walk the tree from the root.
 */
struct wcur {
	MDB_txn		*txn;
	MDB_cursor	*state;
	MDB_cursor	*due;
	MDB_cursor	*rec;
	struct seg_cur	 sc;
	int		 copy;	/* there is room to copy records out */
	size_t		 changed;	/* pairs an administrative change moved */
};

static int
cur_del(MDB_cursor *c, void *key, size_t len)
{
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = key;
	k.mv_size = len;
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_SET)) != 0)
		return rc;
	return mdb_cursor_del(c, 0);
}

static int
cur_del_due(MDB_cursor *c, uint32_t hook, uint64_t due, uint64_t id)
{
	unsigned char	 key[20];

	due_key(key, hook, due, id);
	return cur_del(c, key, sizeof(key));
}

static int
found(int rc)
{
	return rc == MDB_NOTFOUND ? 0 : rc;
}

#define SEG_DROP	0	/* the pair leaves the queue */
#define SEG_STATE	1	/* it is about to have a state */

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
static int
seg_detach(struct wcur *wc, struct store *s, uint64_t id, int *inseg)
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
static int
seg_unlink(struct wcur *wc, struct store *s, uint32_t hook, uint64_t id,
    int mode, int *inseg)
{
	int	 rc;

	*inseg = 0;
	if ((rc = seg_at(&wc->sc, id)) != 0 ||
	    (rc = cur_del_due(wc->due, hook, wc->sc.g.received_ms, id)) != 0)
		return rc;
	if (mode == SEG_DROP)
		return seg_release(&wc->sc);
	*inseg = 1;
	return seg_detach(wc, s, id, inseg);
}

/*
 * A state leaves: the segment it read from, or the record's copy in rec
 * when no other state refers to it (sole: no other hook could).
 */
static int
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
		if ((rc = seg_unlink(wc, s, o->hook, o->id, o->kind ==
		    OUT_DELIVERED ? SEG_DROP : SEG_STATE, &inseg)) != 0)
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
		if ((rc = seg_detach(wc, s, o->id, &inseg)) != 0 ||
		    (rc = put_state(wc->txn, s, o->id, o->hook, o,
		    ST_DEFERRED, inseg)) != 0)
			return rc;
		return due_op(wc->txn, s, o->hook, o->due_ms, o->id, 0);
	default:
		delta[o->hook].n[D_DEAD]++;
		delta[o->hook].n[D_FAILED]++;
		if ((rc = seg_detach(wc, s, o->id, &inseg)) != 0 ||
		    (rc = put_state(wc->txn, s, o->id, o->hook, o,
		    ST_DEAD, inseg)) != 0)
			return rc;
		return due_op(wc->txn, s, o->hook, STORE_DUE_DEAD, o->id, 0);
	}
}

static int
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

static void
wcur_close(struct wcur *wc)
{
	if (wc->state != NULL)
		mdb_cursor_close(wc->state);
	if (wc->due != NULL)
		mdb_cursor_close(wc->due);
	if (wc->rec != NULL)
		mdb_cursor_close(wc->rec);
	seg_close(&wc->sc);
}

static int
flush_deltas(MDB_txn *txn, struct store *s, const struct delta *delta,
    uint32_t nhooks)
{
	struct store_counts	 c;
	uint64_t		*f[5];
	uint32_t		 h;
	int			 rc, i, zero;

	f[D_READY] = &c.ready;
	f[D_DEFERRED] = &c.deferred;
	f[D_DEAD] = &c.dead;
	f[D_DELIVERED] = &c.delivered;
	f[D_FAILED] = &c.failed;
	for (h = 0; h < nhooks; h++) {
		for (i = 0, zero = 1; i < 5; i++)
			zero &= delta[h].n[i] == 0;
		if (zero)
			continue;
		if ((rc = ctr_read(txn, s->meta, h, &c)) != 0)
			return rc;
		for (i = 0; i < 5; i++)
			*f[i] += (uint64_t)delta[h].n[i];
		if ((rc = ctr_write(txn, s->meta, h, &c)) != 0)
			return rc;
	}
	return 0;
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
		if ((rc = ingest_records(txn, s, jobs[j], &id, now,
		    delta)) != 0)
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

/*
 * A write transaction that fit() may run again, with the map grown or
 * without copies of records (copy 0); returns an LMDB or errno code.
 */
typedef int (*txn_fn)(struct store *, void *, int copy);

/*
 * Runs fn until it fits: the map grows while it may; then, if copies
 * were asked for, once more without them, the states reading their
 * segments, because a full spool must still take outcomes.
 */
static int
fit(struct store *s, txn_fn fn, void *arg, int copy)
{
	int	 rc;

	while ((rc = fn(s, arg, copy)) == MDB_MAP_FULL)
		if (store_grow(s) == -1) {
			if (!copy)
				break;
			copy = 0;
		}
	return rc;
}

struct jobs {
	struct store_job	**jobs;
	size_t			  n;
};

/* One transaction for all of the jobs. */
static int
ingest_txn(struct store *s, void *arg, int copy)
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
		log_warnx("spool: write failed: %s", store_strerror(rc));
		store_recover(s);
		return STORE_EIO;
	default:
		log_warnx("spool: write failed: %s", store_strerror(rc));
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

	return store_result(s, fit(s, ingest_txn, &js, copy));
}

/* Pages on LMDB's free list: space below the high-water mark to reuse. */
static uint64_t
free_pages(MDB_txn *txn)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	uint64_t	 n = 0;
	size_t		 ids;
	int		 rc;

	if (mdb_cursor_open(txn, 0, &cur) != 0)
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		/* Each value is a page list led by its length. */
		if (d.mv_size >= sizeof(size_t)) {
			memcpy(&ids, d.mv_data, sizeof(ids));
			n += ids;
		}
	}
	mdb_cursor_close(cur);
	return n;
}

/*
 * Would these records take the spool past max_spool_size? The estimate
 * is generous (index entries and half-full pages); the free list is only
 * counted when the high-water mark is near the limit.
 */
static int
over_limit(struct store *s, uint64_t incoming)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	MDB_txn		*txn;
	uint64_t	 hw, freeb = 0;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL || mdb_env_info(s->env, &info) != 0 ||
	    mdb_env_stat(s->env, &st) != 0) {
		pthread_rwlock_unlock(&s->maplock);
		return 0;
	}
	hw = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (hw + incoming > s->maxsize &&
	    mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
		freeb = free_pages(txn) * st.ms_psize;
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return hw - (freeb < hw ? freeb : hw) + incoming > s->maxsize;
}

int
store_pack(struct store_job *job)
{
	struct seg_val	*v;
	int		 rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ENOMEM;
	if ((rc = seg_pack(v, job->recs, job->nrecs)) != 0) {
		free(v);
		return rc;
	}
	job->packed = v;
	return 0;
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
store_ingest(struct store *s, struct store_job **jobs, size_t n)
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

void
store_usage(struct store *s, uint64_t *used, uint64_t *map, uint64_t *max)
{
	MDB_envinfo	 info;
	MDB_stat	 st;

	*used = 0;
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env != NULL && mdb_env_info(s->env, &info) == 0 &&
	    mdb_env_stat(s->env, &st) == 0)
		*used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*map = s->mapsize;
	*max = s->maxsize;
	pthread_rwlock_unlock(&s->maplock);
}

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

/* Is the pair (id, hook) due at due? 0 if so, MDB_NOTFOUND, or an error. */
static int
due_has(MDB_txn *txn, struct store *s, uint32_t hook, uint64_t due,
    uint64_t id)
{
	unsigned char	 key[20];
	MDB_val		 k, d;

	due_key(key, hook, due, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	return mdb_get(txn, s->due, &k, &d);
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
struct scan {
	MDB_cursor	*cur;
	MDB_val		 k, d;
	int		 rc;		/* of the last move */
	store_scan_cb	 cb;
	void		*arg;
};

static int
scan_next(struct scan *sn, MDB_cursor_op op)
{
	sn->rc = mdb_cursor_get(sn->cur, &sn->k, &sn->d, op);
	if (sn->rc == 0 && (sn->k.mv_size != 8 || sn->d.mv_size < REC_HDR))
		sn->rc = MDB_CORRUPTED;
	return sn->rc;
}

/* Hands out rec's records below id; returns what cb returned, or 0. */
static int
scan_rec(struct scan *sn, uint64_t below)
{
	const unsigned char	*p;
	int			 stop;

	while (sn->rc == 0 && get_be64(sn->k.mv_data) < below) {
		p = sn->d.mv_data;
		if ((stop = sn->cb(sn->arg, get_be64(sn->k.mv_data),
		    get_be64(p), (const char *)p + REC_HDR,
		    sn->d.mv_size - REC_HDR)) != 0)
			return stop;
		scan_next(sn, MDB_NEXT);
	}
	return 0;
}

/*
 * The queued records of the segment sc is on, and rec's before them;
 * a record in both is handed out once, from rec.
 */
static int
scan_seg(MDB_txn *txn, struct store *s, struct seg_cur *sc, struct scan *sn,
    int *rc)
{
	struct seg_rec	 r;
	uint64_t	 id;
	int		 stop;

	for (id = sc->g.first; id - sc->g.first < sc->g.n; id++) {
		if ((stop = scan_rec(sn, id)) != 0)
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
	struct scan	 sn;
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
	if (scan_next(&sn, MDB_FIRST) != 0 && sn.rc != MDB_NOTFOUND) {
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
		if (rc != 0 || ((stop = scan_seg(txn, s, &sc, &sn, &rc)) == 0 &&
		    rc != 0))
			break;
	}
	if (stop == 0 && rc == MDB_NOTFOUND)
		stop = scan_rec(&sn, UINT64_MAX);
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
store_hook_find(struct store *s, const char *name, uint32_t *id)
{
	MDB_txn	*txn;
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_get(txn, s->hooks, &k, &d)) == 0 &&
		    d.mv_size == 4)
			*id = get_be32(d.mv_data);
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc == 0 ? 0 : -1;
}

/* The record's part of e, from its segment. */
static void
entry_seg(struct store_entry *e, const struct seg_cur *sc,
    const struct seg_rec *r)
{
	e->received_ms = sc->g.received_ms;
	e->nhooks = r->nhooks;
	e->rec = r->ptr;
	e->reclen = r->len;
}

/* Fill e from a state value and the record's copy or segment. */
static int
entry_read(MDB_txn *txn, struct store *s, struct seg_cur *sc, uint64_t id,
    uint32_t hook, const MDB_val *sv, struct store_entry *e)
{
	const unsigned char	*v = sv->mv_data, *r;
	unsigned char		 key[8];
	struct seg_rec		 sr;
	MDB_val			 k, d;
	int			 rc;

	if (sv->mv_size < STATE_HDR)
		return MDB_CORRUPTED;
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->hook = hook;
	e->due_ms = get_be64(v);
	e->attempts = get_be32(v + 8);
	e->state = v[12];
	e->status = (uint16_t)(v[14] << 8 | v[15]);
	e->last_ms = get_be64(v + 16);
	e->answer = (const char *)v + STATE_HDR;
	e->answerlen = sv->mv_size - STATE_HDR;
	if (v[STATE_INSEG]) {
		/* In a write transaction seg_at may write, and fail. */
		if ((rc = seg_at(sc, id)) == 0 && seg_get(sc, id, &sr) == 0)
			entry_seg(e, sc, &sr);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (mdb_get(txn, s->rec, &k, &d) == 0 && d.mv_size >= REC_HDR) {
		r = d.mv_data;
		e->received_ms = get_be64(r);
		e->nhooks = r[9];
		e->rec = (const char *)r + REC_HDR;
		e->reclen = d.mv_size - REC_HDR;
	}
	return 0;
}

static int
state_get(MDB_txn *txn, struct store *s, uint64_t id, uint32_t hook,
    MDB_val *d)
{
	unsigned char	 key[12];
	MDB_val		 k;

	state_key(key, id, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	return mdb_get(txn, s->state, &k, d);
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
store_list(struct store *s, uint32_t hook, int state, size_t limit,
    store_entry_cb cb, void *arg)
{
	struct store_entry	 e;
	struct seg_cur		 sc;
	unsigned char		 key[20];
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, d;
	size_t			 n = 0;
	int			 rc;

	memset(key, 0, sizeof(key));
	put_be32(key, hook);
	/* Dead letters are the tail of the hook's range: go straight there. */
	if (state == ST_DEAD)
		put_be64(key + 4, STORE_DUE_DEAD);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (rd_begin(s, s->due, &txn, &cur) != 0)
		return -1;
	if ((rc = seg_open(&sc, txn, s->seg, s->segref, NULL)) != 0)
		goto done;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	    rc == 0 && (limit == 0 || n < limit);
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 20 || get_be32(k.mv_data) != hook)
			break;
		/* And the others end where they begin. */
		if (state >= 0 && state != ST_DEAD && get_be64((unsigned char *)
		    k.mv_data + 4) == STORE_DUE_DEAD)
			break;
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
	rc = seg ? seg_unlink(wc, s, hook, id, SEG_STATE, &inseg) :
	    due_op(wc->txn, s, hook, due, id, 1);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = seg_detach(wc, s, id, &inseg)) != 0 ||
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
		if ((rc = seg_unlink(wc, s, hook, id, SEG_DROP, &inseg)) != 0)
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
