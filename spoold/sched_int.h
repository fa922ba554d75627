/*
 * The delivery scheduler's own types, shared by its files and by no one
 * else: a batch of leased records, and a hook's queue of them.
 *
 * Leases live only here, in memory: a record handed to a worker is in
 * its hook's id set until the outcome is committed, or until the worker
 * dies, when it is simply forgotten and so due again at once. If spoold
 * itself dies, every lease dies with it, and whatever was not committed
 * as delivered is delivered again: at least once.
 */
#ifndef SPOOLD_SCHED_INT_H
#define SPOOLD_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "idset.h"
#include "pace.h"
#include "hookstats.h"
#include "spoold.h"
#include "throttle.h"

struct fleet_worker;

struct batch {
	uint64_t	 seq;
	size_t		 n;
	uint64_t	*ids;
	uint32_t	*attempts;
	uint64_t	*received;
	uint8_t		*nhooks;	/* hooks the record went to */
	uint8_t		 flags;		/* PROTO_F_* it was sent with */
	uint64_t	 sent_us;	/* metrics_clock_us() */
	struct batch	*next;
};

struct ready {
	uint64_t	 id;
	uint64_t	 since;		/* wall ms it became due */
};

struct hq {
	uint32_t	 id;
	struct live	*rt;		/* keeps cfg alive */
	const struct hook *cfg;
	char		*hello;		/* the worker's settings */
	size_t		 hellolen;
	struct ready	*q;		/* ring of max_ready */
	size_t		 qcap, qhead, qn;
	struct idset	 mem;		/* queued or leased */
	size_t		 leased;
	/*
	 * The leased records stored deferred, as their fetch found them:
	 * status counts each record in flight once, not also as deferred.
	 */
	struct idset	 leased_deferred;
	struct batch	*splits;	/* refused batches, to go in halves */
	struct store_due pos;
	int		 full;		/* next scan from the start */
	int		 more;		/* the last scan stopped at max_ready */
	uint64_t	 seen_gen;
	uint64_t	 next_due;
	uint64_t	 last_full;
	struct fleet_worker *workers;
	uint32_t	 nworkers;
	struct bucket	 msg, conn;
	int		 held;
	int		 removed;	/* gone from the configuration */
	int		 retire;	/* its workers are to make way */
	uint64_t	 failed_logged;	/* when failures were last logged */
	uint64_t	 failed_unlogged;	/* records failed since */
	struct throttle	 thr;
	struct sched_counts ctr;
	struct hq	*next;
};

#endif
