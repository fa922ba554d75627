/*
 * Log sources: KumoMTA's local log segments, read by spoold into the
 * spool exactly once (each batch of records and the checkpoint that
 * covers them go in one transaction), a thread for each [source.NAME].
 */
#ifndef SPOOLD_SOURCE_H
#define SPOOLD_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "source_mark.h"

/* After the committer; the sources of the live configuration. */
void	sources_start(void);
/* The configuration changed: sources added, removed or changed. */
void	sources_reload(void);
void	sources_stop(void);
/* A snapshot of every source, sorted by name; *n of them; NULL: none. */
struct source_status *sources_status(size_t *n);
/*
 * Move a source to the segment after its current one, abandoning what
 * is left of it: 0 with what was done in msg, -1 no such source, -2
 * not done in time (msg says why).
 */
int	source_skip(const char *name, char *msg, size_t len);

#endif
