/*
 * The JSON of the spool's records, as spoold's control API answers and
 * as spoolctl reads it itself when spoold is stopped: one output,
 * whoever reads the spool.
 */
#ifndef SPOOLD_LISTING_H
#define SPOOLD_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* A listing's cursor: the hook's id and the due key, in hex. */
#define LIST_CURSOR_LEN	40

/* A hook to list: its id in the spool and the name shown. */
struct list_hook {
	uint32_t	 id;
	const char	*name;
};

/* Names a hook by its id; buf (len bytes) may hold the name. */
typedef const char *(*hook_name_fn)(void *, uint32_t, char *buf,
    size_t len);

/* A JSON string of any bytes: those that are not UTF-8 become '?'. */
json_t	*text_json(const char *, size_t);
json_t	*id_json(uint64_t);
/* ST_* from its name: -1 for no name, -2 for a bad one. */
int	 state_parse(const char *);
/*
 * A page of the hooks' records in turn, from the cursor (NULL: the
 * start), at most limit (0: all): {"records":[...],"next":cursor or
 * null}. Returns 0, 400 with *err for a cursor not of this listing, or
 * 500 when the spool could not be read.
 */
int	 list_page(struct store *, const struct list_hook *, size_t nhooks,
	    int state, const char *cursor, size_t limit, json_t **out,
	    const char **err);
/*
 * A hook's entry in GET /status: its records, each in one state, the
 * age of its oldest queued record (0: none) and the running figures.
 */
json_t	*status_hook_json(const struct store_counts *,
	    const struct store_states *, int held, uint64_t oldest_ms,
	    uint64_t workers);
struct source_status;
/* A source's entry in GET /status. */
json_t	*status_source_json(const struct source_status *);
/*
 * {"id","received","record","hooks":[...]} of one record: 0, 404 when
 * there is no such record, 500 when the spool could not be read.
 */
int	 show_record(struct store *, uint64_t id, hook_name_fn, void *,
	    json_t **out);

#endif
