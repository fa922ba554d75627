/*
 * Reading one KumoMTA log segment as it grows: a zstd stream of JSONL
 * (or plain JSONL, when the file does not start with the zstd magic),
 * decompressed incrementally, handed out in spans of complete lines.
 *
 * The reader keeps the file open and its decompression state between
 * calls, so a segment still being written is read on as it grows. A
 * checkpoint is a count of decompressed bytes of complete lines: opened
 * with skip = that count, the reader decompresses from the start and
 * drops the bytes before it.
 */
#ifndef SPOOLD_SEGREAD_H
#define SPOOLD_SEGREAD_H

#include <stddef.h>
#include <stdint.h>

#define SEGREAD_LINES	0	/* *buf holds complete lines */
#define SEGREAD_WAIT	1	/* nothing complete now: at the file's end */
#define SEGREAD_END	2	/* all read: the frame ended, no line left */
#define SEGREAD_LONG	3	/* a line over max_line, skipped: see below */
#define SEGREAD_ERROR	-1	/* corrupt or unreadable: segread_error() */

struct segread;

/*
 * Opens path; skip: decompressed bytes to drop first (they must end at
 * a line's end, else SEGREAD_ERROR once they are dropped). max_line
 * (> 0): the longest line kept, its '\n' included. NULL with a message
 * in err, errno ENOENT when the file is gone, EINVAL when it is not a
 * regular file.
 */
struct segread	*segread_open(const char *path, uint64_t skip,
		    size_t max_line, char *err, size_t errlen);
void		 segread_close(struct segread *);
/*
 * Complete lines, each ending in '\n', at most max bytes of them (but
 * at least one line when one is complete), from where the last consume
 * left off, so lines not consumed come again: *buf and *len, valid
 * until the next segread_lines(), segread_consume() or close.
 * SEGREAD_WAIT: no complete line yet and the file has no more bytes now
 * (it may grow: call again later). SEGREAD_END: the last zstd frame
 * ended (decoded and flushed) at the file's end and every line was
 * consumed (bytes after the last '\n' leave it at SEGREAD_WAIT, with
 * segread_partial() 1); for plain JSONL, never (the caller decides by the file's
 * mode). Frames one after the other read as one stream, as zstd -dc
 * reads them. SEGREAD_LONG: a line longer than max_line was dropped
 * whole (*len its length, *buf NULL); the next call goes on after it.
 * SEGREAD_ERROR: a corrupt frame, a read error, a skip inside a line;
 * it stays.
 */
int		 segread_lines(struct segread *, size_t max, const char **buf,
		    size_t *len);
/* The first len bytes handed out are done with (committed). */
void		 segread_consume(struct segread *, size_t len);
/*
 * As segread_consume, but the caller takes the bytes with the buffer
 * that holds them, in exchange for *buf (of *cap bytes, or NULL), so
 * that they need no copy: *buf + *start is where they are. The reader
 * goes on in the buffer given, made at least as large as its own.
 * 0, or -1 out of memory, nothing changed.
 */
int		 segread_take(struct segread *, size_t len, char **buf,
		    size_t *cap, size_t *start);
/*
 * Decompressed bytes consumed so far, skip and dropped lines included:
 * the checkpoint, always at a line's end (a line too long counts once
 * SEGREAD_LONG said so).
 */
uint64_t	 segread_offset(const struct segread *);
/*
 * At SEGREAD_WAIT: are there bytes of a line not complete (a line too
 * long being dropped too), or of a frame not ended (zstd), or is the
 * stream still shorter than skip, so that a file that is done growing
 * is truncated? 1 yes, 0 no. "Done growing" must be seen (the file
 * read-only) before the segread_lines() that gave SEGREAD_WAIT, not
 * after it: bytes and mode may change in between.
 */
int		 segread_partial(const struct segread *);
/* Compressed bytes read from the file so far (for "bytes behind"). */
uint64_t	 segread_file_offset(const struct segread *);
/*
 * Why SEGREAD_ERROR: "FILE: offset N: what", N the file offset of the
 * input the decoder had taken when it failed: at most 16 KiB before
 * the block found bad, not after its end; "" before any error.
 */
const char	*segread_error(const struct segread *);
/* Did the file start with the zstd magic? (known after the first read) */
int		 segread_zstd(const struct segread *);

#endif
