/*
 * What a worker's answer, or a record's age, does to the records: the
 * outcomes the scheduler hands to the group commit.
 */
#ifndef SPOOLD_OUTCOME_H
#define SPOOLD_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "sched_int.h"
#include "store.h"

#define EXPIRED_TEXT	"expired: older than max_age"

struct pending;

/* wake() is called, on the committer thread, when commits are done. */
void		 outcome_init(void (*wake)(void));
/* CLASS_* (pace.h) of a PROTO_CLASS_* and an http status. */
int		 outcome_class(const struct hook *, uint8_t class,
		    uint32_t status);
/*
 * The answer res to b, which is taken, as are res's records: delivered,
 * retried with backoff, or dead-lettered, each record as its broker
 * said; a batch of more than one that an http status refused for good
 * goes to hq->splits in halves instead, to find the records at fault.
 */
void		 outcome_result(struct hq *, struct batch *b,
		    struct proto_result *res);
/* Committed outcomes end their leases; on the scheduler thread. */
void		 outcome_collect(void);
/* Outcome commits under way. */
size_t		 outcome_pending(void);

/* Records found past max_age while a batch of up to n is read. */
struct pending	*expiry_begin(struct hq *, size_t n);
/* 1: it is past max_age, and dead-lettered as expired; else 0. */
int		 expiry_check(struct pending *, const struct store_item *,
		    uint64_t now);
/* Commits what expired, if anything did. */
void		 expiry_end(struct pending *);

#endif
