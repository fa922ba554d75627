/*
 * GET /metrics: every family in the Prometheus text exposition format.
 */
#ifndef SPOOLD_EXPOSITION_H
#define SPOOLD_EXPOSITION_H

#include <stddef.h>

/* The exposition format metrics_render() writes. */
#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

struct spoold;

/* The exposition of every family; the caller frees. */
char	*metrics_render(struct spoold *, size_t *len);

#endif
