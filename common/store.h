/*
 * The spool: one LMDB environment, opened only by the process that uses
 * it (never across fork), holding each record once and, for every hook
 * that takes it, that hook's delivery state.
 *
 * Named databases and their keys; integers are big-endian so that
 * LMDB's byte order is numeric order:
 *
 *   rec    id(8)                     -> received_ms(8) rectype(1) bytes
 *   state  id(8) hook(4)             -> due_ms(8) attempts(4) state(1)
 *                                       pad(1) status(2) last_ms(8) answer
 *   due    hook(4) due_ms(8) id(8)   -> (empty)
 *   hooks  name                      -> hook(4)
 *   meta   "next_id"                 -> id(8)
 *          "next_hook"               -> hook(4)
 *          "ctr" hook(4)             -> struct store_counts, 5 x be64
 *          "held" hook(4)            -> (empty)
 *
 * Ids only grow, so every new rec and state key is an append (MDB_APPEND:
 * no page splits in the middle of the tree). The due index orders each
 * hook's records by the time they are due; a dead letter keeps its key
 * there with due_ms = UINT64_MAX, so it is never due and a hook's dead
 * letters are the tail of its range. A record goes with the last state
 * that refers to it; with state keyed id-first, "does another hook still
 * hold it" is one cursor step.
 */
#ifndef SPOOLD_STORE_H
#define SPOOLD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_OK	 0
#define STORE_EFULL	-1	/* max_spool_size reached: answer 503 */
#define STORE_EIO	-2	/* the disk refused (ENOSPC, EIO): 503 */

#define ST_READY	0
#define ST_DEFERRED	1
#define ST_DEAD		2

#define STORE_DUE_DEAD	UINT64_MAX

struct store;

struct store_counts {
	uint64_t	 ready;
	uint64_t	 deferred;
	uint64_t	 dead;
	uint64_t	 delivered;	/* totals since the spool was made */
	uint64_t	 failed;
};

/* One record to enqueue for the listed hooks (ids from store_hook_id). */
struct store_in {
	const char	*ptr;
	uint32_t	 len;
	uint8_t		 rectype;
	uint32_t	 nhooks;
	const uint32_t	*hooks;
};

/* One ingest request's records: committed all together or not at all. */
struct store_job {
	const struct store_in	*recs;
	size_t			 nrecs;
	int			 result;	/* out: STORE_* */
	uint64_t		 first_id;	/* out: ids first_id... */
};

struct store	*store_open(const char *dir, uint64_t max_size, char *err,
		    size_t errlen);
void		 store_close(struct store *);
/* Clear reader slots left by dead processes; returns how many, or -1. */
int		 store_reader_check(struct store *);
/* The persistent id of a hook name, assigned on first use. */
int		 store_hook_id(struct store *, const char *, uint32_t *);
/*
 * Commit the jobs in as few fsync'd transactions as possible (one, unless
 * the spool fills up). Each job's result says whether it is durable.
 */
void		 store_ingest(struct store *, struct store_job **, size_t);
int		 store_counts(struct store *, uint32_t hook,
		    struct store_counts *);
int		 store_held(struct store *, uint32_t hook);
/*
 * Every record in id order. A nonzero return of cb stops the walk and is
 * returned; otherwise 0, or -1 when the spool could not be read.
 */
typedef int (*store_scan_cb)(void *, uint64_t id, uint64_t received_ms,
    const char *, size_t);
int		 store_scan(struct store *, store_scan_cb, void *);
/* Bytes in use and the map's current and largest size. */
void		 store_usage(struct store *, uint64_t *used, uint64_t *map,
		    uint64_t *max);

#endif
