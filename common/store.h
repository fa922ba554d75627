/*
 * The spool: one LMDB environment, opened only by the process that uses
 * it (never across fork), holding each record once and, for every hook
 * that takes it, that hook's delivery state.
 *
 * Named databases and their keys; integers are big-endian so that
 * LMDB's byte order is numeric order:
 *
 *   seg    first(8)                  -> one request's records, mostly
 *                                       LZ4-compressed (segment.h)
 *   segref first(8)                  -> n(4) live(4) received_ms(8)
 *   rec    id(8)                     -> received_ms(8) rectype(1) hooks(1)
 *                                       bytes
 *   state  id(8) hook(4)             -> due_ms(8) attempts(4) state(1)
 *                                       inseg(1) status(2) last_ms(8) answer
 *   due    hook(4) due_ms(8) id(8)   -> (empty)
 *   hooks  name                      -> hook(4)
 *   meta   "next_id"                 -> id(8)
 *          "next_hook"               -> hook(4)
 *          "ctr" hook(4)             -> struct store_counts, 5 x be64
 *          "held" hook(4)            -> (empty)
 *
 * A record is queued for a hook while the hook's due key for it exists.
 * The due index orders each hook's records by the time they are due; a
 * dead letter keeps its key there with due_ms = UINT64_MAX, so it is
 * never due and a hook's dead letters are the tail of its range.
 *
 * A request's records arrive as one segment, and a pair (record, hook)
 * that was never tried has no state: it is ready, its due time is the
 * segment's received_ms, and its bytes are the segment's. The first
 * retry or failure gives the pair a state and the record a copy in rec,
 * which goes with the last state that refers to it; with state keyed
 * id-first, "does another hook still hold it" is one cursor step. When
 * the spool is full there may be no room for the copy: unless another
 * hook's state made one already, the state is then marked inseg, reads
 * the segment, and counts in its live. Spools
 * written before segments have every record in rec with a state for
 * each hook, which is the same second form. Ids only grow, so a new
 * segment is an append (MDB_APPEND) to seg and segref.
 */
#ifndef SPOOLD_STORE_H
#define SPOOLD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "segment.h"

#define STORE_OK	 0
#define STORE_EFULL	-1	/* max_spool_size reached: answer 503 */
#define STORE_EIO	-2	/* the disk refused (ENOSPC, EIO): 503 */

#define ST_READY	0
#define ST_DEFERRED	1
#define ST_DEAD		2

#define STORE_DUE_DEAD	UINT64_MAX

struct store;
struct seg_val;

struct store_counts {
	uint64_t	 ready;
	uint64_t	 deferred;
	uint64_t	 dead;
	uint64_t	 delivered;	/* totals since the spool was made */
	uint64_t	 failed;
};

/*
 * A hook's records, each in exactly one state, the five summing to what
 * the spool holds for it: records leased to workers are in flight,
 * whatever state they are stored in, and a held hook's queued records
 * are all held.
 */
struct store_states {
	uint64_t	 ready;
	uint64_t	 deferred;
	uint64_t	 in_flight;
	uint64_t	 held;
	uint64_t	 dead;
};

#define OUT_DELIVERED	0
#define OUT_RETRY	1
#define OUT_DEAD	2

/* What became of one record's delivery to one hook. */
struct store_outcome {
	uint64_t	 id;
	uint32_t	 hook;
	uint8_t		 kind;		/* OUT_* */
	uint16_t	 status;	/* the answer's, 0: none */
	uint32_t	 attempts;	/* including this one */
	uint64_t	 due_ms;	/* OUT_RETRY: the next attempt */
	uint64_t	 last_ms;	/* when this attempt was made */
	const char	*text;		/* the answer, or why */
	uint16_t	 textlen;
	uint8_t		 sole;		/* no other hook holds the record */
};

/*
 * One ingest request's records, or a set of delivery outcomes: each job
 * is committed all together or not at all.
 */
struct store_job {
	const struct store_in		*recs;
	size_t				 nrecs;
	int				 inbuf;		/* see seg_pack */
	struct seg_val			*packed;	/* store_pack's */
	const struct store_outcome	*outs;
	size_t				 nouts;
	/*
	 * A value put in meta in the same transaction, key NULL for none:
	 * a log source's checkpoint goes in with the records it covers.
	 */
	const void			*mark_key;
	size_t				 mark_keylen;
	const void			*mark_val;
	size_t				 mark_vallen;
	int				 result;	/* out: STORE_* */
	uint64_t			 first_id;	/* out: ids first_id... */
};

/* A record handed out for delivery, valid inside the callback only. */
struct store_item {
	uint64_t	 id;
	uint64_t	 received_ms;
	uint32_t	 attempts;
	uint8_t		 state;		/* ST_READY or ST_DEFERRED as stored */
	uint8_t		 nhooks;	/* hooks it was queued for at ingest */
	const char	*ptr;		/* NULL: no longer queued for the hook */
	size_t		 len;
};

/* A due record and where a scan stopped, to resume from there. */
struct store_due {
	uint64_t	 id;
	uint64_t	 due_ms;
};

struct store	*store_open(const char *dir, uint64_t max_size, char *err,
		    size_t errlen);
/*
 * The spool of a stopped spoold, to read only: no lock taken, nothing
 * created; NULL with err set when spoold holds it or it cannot be read.
 */
struct store	*store_open_rdonly(const char *dir, char *err, size_t errlen);
void		 store_close(struct store *);
/* Clear reader slots left by dead processes; returns how many, or -1. */
int		 store_reader_check(struct store *);
/* The persistent id of a hook name, assigned on first use. */
int		 store_hook_id(struct store *, const char *, uint32_t *);
/*
 * Commit the jobs in as few fsync'd transactions as possible (one, unless
 * the spool fills up). Each job's result says whether it is durable.
 */
void		 store_commit(struct store *, struct store_job **, size_t);
/*
 * Lays a job's records out (and compresses them) as the spool will keep
 * them, so that the commit only copies: 0, ENOMEM, or EFBIG when the
 * request is too large for one segment (4 GiB).
 * Without it the commit does it. store_pack_free undoes it.
 */
int		 store_pack(struct store_job *);
void		 store_pack_free(struct store_job *);
/*
 * As store_pack, into *keep (made when NULL), which outlives the job
 * and keeps its room for the next: one who packs job after job is
 * spared a large allocation, and its page faults, each time. The job
 * must be done with before *keep packs another; store_pack_release
 * frees it.
 */
int		 store_pack_keep(struct store_job *, struct seg_val **keep);
void		 store_pack_release(struct seg_val **keep);
/*
 * Up to max records of hook due at now, in due order, starting after
 * *pos (zeroes: from the start), leaving out those skip() names. *pos
 * becomes the last key looked at; *next_due the earliest due time after
 * now (UINT64_MAX: none). Returns how many, or -1.
 */
ssize_t		 store_due(struct store *, uint32_t hook, uint64_t now,
		    struct store_due *pos, int (*skip)(void *, uint64_t),
		    void *, struct store_due *out, size_t max,
		    uint64_t *next_due);
/* Calls cb for each id, in one read transaction. */
int		 store_fetch(struct store *, uint32_t hook, const uint64_t *,
		    size_t, void (*cb)(void *, const struct store_item *),
		    void *);
/* One delivery state of a record, for spoolctl list and show. */
struct store_entry {
	uint64_t	 id;
	uint32_t	 hook;
	int		 state;		/* ST_* */
	uint32_t	 attempts;
	uint64_t	 due_ms;	/* STORE_DUE_DEAD for dead letters */
	uint16_t	 status;	/* last answer */
	uint64_t	 last_ms;	/* last attempt, 0: none */
	const char	*answer;
	size_t		 answerlen;
	uint64_t	 received_ms;
	uint8_t		 nhooks;	/* hooks it was queued for at ingest */
	const char	*rec;
	size_t		 reclen;
};
typedef void (*store_entry_cb)(void *, const struct store_entry *);

/* A hook's id without making one: 0, or -1 if the spool never had it. */
int		 store_hook_find(struct store *, const char *, uint32_t *);
/*
 * A hook's records in the order they are due, dead letters last; state
 * -1 for all. The listing starts at the due key from (NULL: at the
 * start) and ends after limit records (SIZE_MAX: none), or after
 * looking at limit + STORE_LIST_SCAN keys, so that a page costs
 * O(limit) however many records the state leaves out. When keys are
 * left, *more is 1 and *next the first of them, to start the next page
 * at. Returns how many, or -1.
 */
#define STORE_LIST_SCAN	65536
ssize_t		 store_list(struct store *, uint32_t hook, int state,
		    const struct store_due *from, size_t limit,
		    store_entry_cb, void *, struct store_due *next,
		    int *more);
/* Each hook state of one record: 1 found, 0 no such record, -1 error. */
int		 store_show(struct store *, uint64_t id, store_entry_cb,
		    void *);
/* The changes below return how many records they changed, or -1. */
ssize_t		 store_flush(struct store *, uint32_t hook, uint64_t now);
int		 store_set_held(struct store *, uint32_t hook, int held);
/* Dead letters back to the queue, attempts reset; ids NULL: all. */
ssize_t		 store_requeue(struct store *, uint32_t hook,
		    const uint64_t *ids, size_t n, uint64_t now);
/* Records and every hook's state of them. */
ssize_t		 store_delete(struct store *, const uint64_t *ids, size_t n);
ssize_t		 store_delete_dead(struct store *, uint32_t hook);
int		 store_counts(struct store *, uint32_t hook,
		    struct store_counts *);
int		 store_held(struct store *, uint32_t hook);
/*
 * The partition of a hook's counts, given whether it is held and how
 * many of its leased records are stored ready and deferred.
 */
void		 store_states(const struct store_counts *, int held,
		    uint64_t leased_ready, uint64_t leased_deferred,
		    struct store_states *);
/*
 * The oldest record queued for a hook, ready or deferred (not dead): the
 * one of the least id, as ids grow with time. The walk goes in id order
 * from o->from, below which no record is queued for the hook, and leaves
 * o->from at the record found: kept from call to call, it makes each
 * record older than the oldest queued walked past once. Records that
 * come back to the queue (requeued dead letters) may be older: then the
 * caller sets o->from to 0. o->id 0: none queued. 0, or -1.
 */
struct store_oldest {
	uint64_t	 from;
	uint64_t	 id;
	uint64_t	 received_ms;
};
int		 store_oldest(struct store *, uint32_t hook,
		    struct store_oldest *);
/*
 * Every record in id order. A nonzero return of cb stops the walk and is
 * returned; otherwise 0, or -1 when the spool could not be read.
 */
typedef int (*store_scan_cb)(void *, uint64_t id, uint64_t received_ms,
    const char *, size_t);
int		 store_scan(struct store *, store_scan_cb, void *);
/*
 * A value a job put in meta (mark_key): copied to buf (*len in: its
 * size; out: the value's). 0, 1 when there is none, -1 on error or a
 * value larger than buf.
 */
int		 store_mark(struct store *, const void *key, size_t keylen,
		    void *buf, size_t *len);
/* Bytes in use and the map's current and largest size. */
void		 store_usage(struct store *, uint64_t *used, uint64_t *map,
		    uint64_t *max);

#endif
