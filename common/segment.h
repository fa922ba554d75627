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
 *
 * The records' bytes are mostly LZ4 blocks: log records of one request
 * share their keys and much of their values, and compress about four
 * to one; what the disk does not write it does not sync. The top bit of
 * n says so, and the offsets then count in the uncompressed bytes:
 *
 *   n | SEG_LZ4, the offsets as above, nblk(4),
 *   nblk x (raw_end(4) z_end(4)), then the blocks
 *
 * A block holds whole records, about SEG_BLOCK bytes of them, so that
 * reading one record decompresses one block, not the request. Records
 * need not follow each other in the raw bytes: a block may keep the few
 * bytes between the lines of a body, which the offsets skip.
 */
#ifndef SPOOLD_SEGMENT_H
#define SPOOLD_SEGMENT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* One record to enqueue for the listed hooks (ids from store_hook_id). */
struct store_in {
	const char	*ptr;
	uint32_t	 len;
	uint8_t		 rectype;
	uint32_t	 nhooks;
	const uint32_t	*hooks;
};

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

/* A segment's value as it is written; made before the commit. */
struct seg_val {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;		/* of buf */
	uint32_t	 live;
};

/*
 * Blocks decompressed lately. Segments never change and their ids are
 * never used again, so a block stays right for as long as the process
 * runs; one cache may serve many read transactions.
 */
#define SEG_CACHED	4
struct seg_cache {
	struct seg_blk {
		uint64_t	 first;		/* its segment */
		uint32_t	 blk;
		uint32_t	 raw0;		/* buf[0]'s offset in the segment */
		unsigned char	*buf;
		size_t		 len;
		size_t		 cap;
		uint64_t	 used;
	}		 b[SEG_CACHED];
	uint64_t	 tick;
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
	struct seg_cache	*zc;
	struct seg_cache	 own;
};

/*
 * Lays out n records into v, zeroed the first time; a buffer it holds
 * is used again when it is large enough. inbuf: the records lie in one
 * buffer, each after the one before, so that runs of them are read in
 * place. 0 or ENOMEM, EFBIG. Free with seg_val_free.
 */
int	seg_pack(struct seg_val *, const struct store_in *, size_t n,
	    int inbuf);
void	seg_val_free(struct seg_val *);
/* Appends v as the segment of ids first.. */
int	seg_put(MDB_txn *, MDB_dbi seg, MDB_dbi ref, uint64_t first,
	    uint64_t received_ms, const struct seg_val *v);

/* zc: blocks shared with other cursors in this thread, or NULL. */
int	seg_open(struct seg_cur *, MDB_txn *, MDB_dbi seg, MDB_dbi ref,
	    struct seg_cache *zc);
/* Closes; a live count not flushed goes with the transaction. */
void	seg_close(struct seg_cur *);
/* Moves to the segment holding id: 0, MDB_NOTFOUND, or an error. */
int	seg_at(struct seg_cur *, uint64_t id);
/*
 * Record id of the current segment. Its bytes stay valid until the
 * cursor's next seg_get, or until the cache or transaction goes.
 */
int	seg_get(struct seg_cur *, uint64_t id, struct seg_rec *);
/* One pair less needs the current segment: 0, or MDB_CORRUPTED. */
int	seg_release(struct seg_cur *);
/* Writes the current segment's live count, or removes it at 0. */
int	seg_flush(struct seg_cur *);
void	seg_cache_free(struct seg_cache *);

#endif
