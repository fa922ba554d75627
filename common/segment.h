/*
 * Segments: the records of one ingest request kept as one LMDB value.
 *
 * A value larger than a page lives on LMDB's overflow pages: written
 * once, contiguously, and freed whole without a copy. One record a key
 * cost a B-tree insert for each record and a copy of every leaf page
 * that a delete touched (bench/NOTES.md has the numbers).
 *
 *   seg     first(8) -> n(4), n x (off(4) len(4) rectype(1) hooks(1)),
 *                       then the records' bytes
 *   segref  first(8) -> n(4) live(4) received_ms(8)
 *
 * Records first .. first+n-1 are in the segment. live counts the
 * (record, hook) pairs that still need the segment's copy of their
 * record; the segment goes when it falls to 0. The store gives a
 * retried or dead pair its own copy of the record, so a failing hook
 * does not pin a whole request's records; on a full spool it may have
 * to (see store.h).
 */
#ifndef SPOOLD_SEGMENT_H
#define SPOOLD_SEGMENT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct seg {
	uint64_t	 first;
	uint64_t	 received_ms;
	uint32_t	 n;
	uint32_t	 live;
};

struct seg_rec {
	const char	*ptr;
	size_t		 len;
	uint8_t		 rectype;
	uint8_t		 nhooks;	/* hooks it was queued for at ingest */
};

/*
 * A cursor on the segments of one transaction. It keeps the segment it
 * was last moved to, because records are mostly taken in id order; in a
 * write transaction its live count is written back by seg_flush, or
 * when the cursor moves to another segment.
 */
struct seg_cur {
	MDB_txn			*txn;
	MDB_dbi			 seg;
	MDB_dbi			 ref;
	MDB_cursor		*c;
	struct seg		 g;
	int			 have;
	int			 dirty;
	/*
	 * The segment's value, once read. It stays valid through the
	 * writes of a write transaction: the segments it reads were
	 * committed before it began, LMDB does not reuse pages freed in
	 * the transaction that frees them, and appends move no value.
	 */
	const unsigned char	*val;
	size_t			 vlen;
};

/* Appends in's records as the segment of ids first.. */
int	seg_put(MDB_txn *, MDB_dbi seg, MDB_dbi ref, uint64_t first,
	    uint64_t received_ms, const struct store_in *in, size_t n);

int	seg_open(struct seg_cur *, MDB_txn *, MDB_dbi seg, MDB_dbi ref);
/* Closes; a live count not flushed goes with the transaction. */
void	seg_close(struct seg_cur *);
/* Moves to the segment holding id: 0, MDB_NOTFOUND, or an error. */
int	seg_at(struct seg_cur *, uint64_t id);
/* Record id of the current segment. */
int	seg_get(struct seg_cur *, uint64_t id, struct seg_rec *);
/* One pair less needs the current segment: 0, or MDB_CORRUPTED. */
int	seg_release(struct seg_cur *);
/* Writes the current segment's live count, or removes it at 0. */
int	seg_flush(struct seg_cur *);

#endif
