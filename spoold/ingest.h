/*
 * The ingest API: POST /log, GET /health, GET /metrics.
 */
#ifndef SPOOLD_INGEST_H
#define SPOOLD_INGEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#define BODY_JSON	0
#define BODY_NDJSON	1

struct answer {
	unsigned int	 status;
	json_t		*body;
	unsigned int	 retry_after;	/* 503 only */
};

/*
 * Validate, route and durably store a body of records, all or nothing;
 * the answer is what the client should be told.
 */
void		ingest_body(const char *, size_t, int kind, struct answer *);
/* A request counted in sd->inflight is over. */
void		ingest_finished(void);
enum MHD_Result	ingest_answer(struct MHD_Connection *, struct answer *);
enum MHD_Result	ingest_handler(void *, struct MHD_Connection *, const char *,
		    const char *, const char *, const char *, size_t *,
		    void **);

#endif
