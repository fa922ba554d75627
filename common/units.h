/*
 * Durations, sizes and rates as spoold.conf and KumoMTA shaping files
 * spell them.
 */
#ifndef SPOOLD_UNITS_H
#define SPOOLD_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "N/period": n events per per_ms milliseconds; n == 0 means no limit. */
struct rate {
	uint64_t	 n;
	uint64_t	 per_ms;
};

/* Each returns 0, or -1 with a short reason in *why (static string). */
int	parse_duration(const char *, uint64_t *ms, const char **why);
int	parse_size(const char *, uint64_t *bytes, const char **why);
int	parse_rate(const char *, struct rate *, const char **why);

/* Canonical spellings that parse back to the same value. */
void	fmt_duration(uint64_t ms, char *, size_t);
void	fmt_size(uint64_t bytes, char *, size_t);
void	fmt_rate(const struct rate *, char *, size_t);

#endif
