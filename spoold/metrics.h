/*
 * Counters for GET /metrics, updated lock-free from any thread.
 */
#ifndef SPOOLD_METRICS_H
#define SPOOLD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct spoold;

void	metrics_request(unsigned int status);
void	metrics_records(uint64_t queued, uint64_t discarded);
void	metrics_commit(size_t requests, uint64_t ms);
/* Prometheus text exposition; the caller frees. */
char	*metrics_render(struct spoold *, size_t *len);

#endif
