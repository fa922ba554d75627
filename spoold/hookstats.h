/*
 * The figures of a hook that status and the metrics show: the delivery
 * counters the scheduler keeps and what the spool holds. Types only, so
 * that the scheduler's files and the readers share them without
 * depending on one another.
 */
#ifndef SPOOLD_HOOKSTATS_H
#define SPOOLD_HOOKSTATS_H

#include <stdint.h>

#include "metrics.h"
#include "store.h"
#include "throttle.h"

/* What became of records, as committed since spoold started. */
enum {
	OUTCOME_DELIVERED, OUTCOME_TRANSIENT, OUTCOME_PERMANENT,
	OUTCOME_EXPIRED, OUTCOME_COUNT
};

/*
 * A delivery request's answer: an http hook's by the status's class
 * (none: no answer came), a broker's by the class the worker gave the
 * batch, its records' most common.
 */
enum {
	ANSWER_2XX, ANSWER_3XX, ANSWER_4XX, ANSWER_5XX, ANSWER_OTHER,
	ANSWER_NONE, ANSWER_DELIVERED, ANSWER_TRANSIENT, ANSWER_PERMANENT,
	ANSWER_COUNT
};

/* A hook's delivery counters, kept by the scheduler's thread. */
struct sched_counts {
	uint64_t	 outcomes[OUTCOME_COUNT];
	uint64_t	 answers[ANSWER_COUNT];
	uint64_t	 connections;	/* requests that opened one */
	struct hist	 request_time;	/* from the batch sent to its answer */
};

/* What status and the metrics show beside the spool's counts. */
struct sched_stats {
	uint64_t	 in_flight;	/* records leased to workers */
	uint64_t	 in_flight_deferred;	/* of those, stored deferred */
	uint64_t	 workers;
	struct sched_counts c;
	uint64_t	 throttled_ms[THR_N];	/* held back, by limit */
	uint64_t	 throttle_warnings[THR_N];
};

/* All that status and the metrics say of a hook. */
struct hook_status {
	struct store_counts	 counts;
	struct store_states	 states;	/* each record once */
	int			 held;
	uint64_t		 oldest_ms;	/* the oldest queued's age */
	struct sched_stats	 sched;
};

#endif
