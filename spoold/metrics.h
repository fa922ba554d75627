/*
 * Counters for GET /metrics, updated lock-free from any thread.
 */
#ifndef SPOOLD_METRICS_H
#define SPOOLD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The text exposition format metrics_render() writes. */
#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

struct spoold;

void	metrics_request(unsigned int status);
void	metrics_records(uint64_t queued, uint64_t discarded);
/* A call of store_ingest() on jobs, which took ms. */
void	metrics_commit(struct store_job **jobs, size_t n, uint64_t ms);
/* The exposition of every family; the caller frees. */
char	*metrics_render(struct spoold *, size_t *len);

#endif
