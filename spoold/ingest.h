/*
 * The ingest API: POST /log, GET /health, GET /metrics.
 */
#ifndef SPOOLD_INGEST_H
#define SPOOLD_INGEST_H

#include <jansson.h>
#include <stddef.h>

#include "server.h"

#define BODY_JSON	0
#define BODY_NDJSON	1

struct ingest_reply {
	unsigned int	 status;
	json_t		*body;
	unsigned int	 retry_after;	/* 503 only */
};

/*
 * Validate, route and durably store a body of records, all or nothing;
 * the answer is what the client should be told.
 */
void		ingest_body(const char *, size_t, int kind,
		    struct ingest_reply *);
/* A request counted in sd->inflight is over. */
void		ingest_finished(void);

extern const struct server_handler ingest_handler;

#endif
