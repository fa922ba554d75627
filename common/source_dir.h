/*
 * A source's directory: the segments after a given one, in name order.
 * spoold's source thread finds the next segment to read this way, and
 * both it and spoolctl (for a stopped spoold) count what is left.
 */
#ifndef SPOOLD_SOURCE_DIR_H
#define SPOOLD_SOURCE_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Segments named after the one given, and their bytes. */
struct source_behind {
	uint64_t	 segments;
	uint64_t	 bytes;
};

/*
 * The segments of cfg's directory named after `after` ("": all), counted
 * into b; the first of them (newest: the last) into next unless it is
 * NULL. 1 found one, 0 none, -1 the directory cannot be read (errno).
 */
int	source_dir_scan(const struct source *cfg, const char *after,
	    int newest, char *next, size_t len, struct source_behind *b);

#endif
