/*
 * The store's internals, for its own files (common/store_*.c) only:
 * struct store, the sizes of the values whose layout store.h gives, and
 * the steps that more than one of those files takes. Everyone else sees
 * store.h.
 */
#ifndef SPOOLD_STORE_INT_H
#define SPOOLD_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"
#include "store.h"
#include "util.h"

#define STATE_HDR	24
#define STATE_INSEG	13	/* 1: the record is read from its segment */
#define REC_HDR		10

/*
 * One thread of one process writes (the committer); any thread may read.
 * Growing the map needs every transaction of the process to be closed,
 * so transactions hold maplock shared and store_grow() takes it
 * exclusively.
 */
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

/*
 * The write transaction's cursors. Outcomes come a batch at a time with
 * ids in order, so a positioned cursor mostly finds the next key on the
 * page it is on, where a fresh lookup would walk the tree from the root.
 */
struct wcur {
	MDB_txn		*txn;
	MDB_cursor	*state;
	MDB_cursor	*due;
	MDB_cursor	**ready;	/* a hook's new due keys, by hook */
	uint32_t	 nready;
	MDB_cursor	*rec;
	struct seg_cur	 sc;
	int		 copy;	/* there is room to copy records out */
	size_t		 changed;	/* pairs an administrative change moved */
};

#define PAIR_DROP	0	/* the pair leaves the queue */
#define PAIR_STATE	1	/* it is about to have a state */

/*
 * A write transaction that fit() may run again, with the map grown or
 * without copies of records (copy 0); returns an LMDB or errno code.
 */
typedef int (*txn_fn)(struct store *, void *, int copy);

static inline const char *
store_strerror(int rc)
{
	return mdb_strerror(rc);
}

static inline int
found(int rc)
{
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static inline void
state_key(unsigned char *key, uint64_t id, uint32_t hook)
{
	put_be64(key, id);
	put_be32(key + 8, hook);
}

static inline void
due_key(unsigned char *key, uint32_t hook, uint64_t due, uint64_t id)
{
	put_be32(key, hook);
	put_be64(key + 4, due);
	put_be64(key + 12, id);
}

/* A due entry, key and empty value, over the 20 bytes of key. */
static inline void
due_entry(unsigned char *key, MDB_val *k, MDB_val *d, uint32_t hook,
    uint64_t due, uint64_t id)
{
	due_key(key, hook, due, id);
	k->mv_data = key;
	k->mv_size = 20;
	d->mv_data = key;
	d->mv_size = 0;
}

/* store_env.c */
int	 store_grow(struct store *);
void	 store_recover(struct store *);
int	 fit(struct store *, txn_fn, void *, int);
int	 over_limit(struct store *, uint64_t);

/* store_keys.c */
int	 meta_get_u64(MDB_txn *, MDB_dbi, const char *, uint64_t *);
int	 meta_put_u64(MDB_txn *, MDB_dbi, const char *, uint64_t);
int	 ctr_read(MDB_txn *, MDB_dbi, uint32_t, struct store_counts *);
int	 flush_deltas(MDB_txn *, struct store *, const struct delta *,
	    uint32_t);
int	 put_record(MDB_txn *, struct store *, uint64_t, uint64_t,
	    const struct seg_rec *);
int	 due_op(MDB_txn *, struct store *, uint32_t, uint64_t, uint64_t, int);
int	 due_has(MDB_txn *, struct store *, uint32_t, uint64_t, uint64_t);
int	 cur_del(MDB_cursor *, void *, size_t);
int	 wcur_put_ready(struct wcur *, struct store *, uint32_t, uint64_t,
	    uint64_t);
int	 cur_del_due(MDB_cursor *, uint32_t, uint64_t, uint64_t);
int	 put_state(MDB_txn *, struct store *, uint64_t, uint32_t,
	    const struct store_outcome *, int, int);
int	 state_get(MDB_txn *, struct store *, uint64_t, uint32_t, MDB_val *);
int	 has_state(MDB_txn *, struct store *, uint64_t);
void	 entry_seg(struct store_entry *, const struct seg_cur *,
	    const struct seg_rec *);
int	 entry_read(MDB_txn *, struct store *, struct seg_cur *, uint64_t,
	    uint32_t, const MDB_val *, struct store_entry *);

/* store_pair.c */
int	 wcur_open(MDB_txn *, struct store *, struct wcur *);
void	 wcur_close(struct wcur *);
int	 pair_detach(struct wcur *, struct store *, uint64_t, int *);
int	 pair_unlink(struct wcur *, struct store *, uint32_t, uint64_t, int,
	    int *);
int	 state_gone(struct wcur *, struct store *, uint64_t, int, int);

#endif
