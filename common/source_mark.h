/*
 * A log source's checkpoint as the spool keeps it: in meta, under
 * "src" and the source's name, put in the same transaction as the
 * records it covers. spoold writes it; spoolctl reads it when spoold is
 * stopped.
 *
 *   version(1) offset(8) line(8) records(8) segment
 */
#ifndef SPOOLD_SOURCE_MARK_H
#define SPOOLD_SOURCE_MARK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SOURCE_SEGMENT_MAX	255	/* a file name */
#define SOURCE_MARK_HDR		25
#define SOURCE_MARK_MAX		(SOURCE_MARK_HDR + SOURCE_SEGMENT_MAX)
#define SOURCE_KEY_MAX		(3 + HOOK_NAME_MAX)

struct source_mark {
	char		 segment[SOURCE_SEGMENT_MAX + 1];	/* "": none */
	uint64_t	 offset;	/* decompressed bytes of it read */
	uint64_t	 line;		/* lines of it read */
	uint64_t	 records;	/* spooled from the source, all told */
};

/* A segment's offset once it is done: go on with the next one. */
#define SOURCE_DONE	UINT64_MAX

#define SOURCE_READING	0	/* records are there to read */
#define SOURCE_WAITING	1	/* all read: waiting for the MTA */
#define SOURCE_PAUSED	2	/* the spool is full */
#define SOURCE_FAILED	3	/* stopped at an error: spoolctl source skip */
#define SOURCE_STOPPED	4	/* spoold is not running */
#define SOURCE_NSTATES	5

extern const char *const source_state_names[SOURCE_NSTATES];

/* What status and the metrics say of a source. */
struct source_status {
	char		 name[HOOK_NAME_MAX + 1];
	int		 state;
	struct source_mark at;		/* where it is, as committed */
	uint64_t	 invalid;	/* lines skipped since spoold started */
	uint64_t	 missing;	/* segments gone before they were read */
	uint64_t	 behind_segments;	/* not yet read to their end */
	uint64_t	 behind_bytes;	/* of those, on disk */
	char		 error[512];	/* SOURCE_FAILED: why */
};

/* The meta key of a source: its length. */
size_t	source_mark_key(const char *name, unsigned char key[SOURCE_KEY_MAX]);
/* The value: its length. */
size_t	source_mark_encode(const struct source_mark *,
	    unsigned char buf[SOURCE_MARK_MAX]);
/* 0, or -1 for a value of another version or shape. */
int	source_mark_decode(const unsigned char *, size_t,
	    struct source_mark *);

#endif
