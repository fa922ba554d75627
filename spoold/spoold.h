/*
 * The daemon's shared state.
 */
#ifndef SPOOLD_SPOOLD_H
#define SPOOLD_SPOOLD_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/*
 * The live configuration: the configuration in force and, made from it,
 * which hooks take each record type, as store hook ids. Immutable once
 * made; a reload makes a new one and requests keep the one they began
 * with.
 */
struct live {
	struct config	*conf;
	uint32_t	*hook_ids;		/* by index of conf->hooks */
	uint32_t	 ntype[RT_COUNT];
	uint32_t	*bytype[RT_COUNT];
	unsigned int	 refs;
};

struct spoold {
	struct store	*store;
	pthread_mutex_t	 lock;			/* live */
	struct live	*live;
	atomic_int	 stopping;
	atomic_long	 inflight;		/* ingest requests in progress */
	uint64_t	 started_ms;
};

extern struct spoold	*sd;

struct live	*live_make(struct config *, struct store *, char *, size_t);
struct live	*live_get(void);
void		 live_ref(struct live *);
void		 live_put(struct live *);
void		 live_set(struct live *);
struct jscan_rec;
struct store_in;
/*
 * Routes a checked record to the hooks that take its type: 1 with in
 * filled, 0 when no hook takes it (it is discarded).
 */
int		 live_route(const struct live *, const struct jscan_rec *,
		    struct store_in *);

/* reload_wait(): the main thread took, or refused, the configuration. */
#define RELOAD_DONE	0
#define RELOAD_REFUSED	1
#define RELOAD_UNKNOWN	2	/* stopping, or no outcome in time */
#define RELOAD_WAIT_S	30

/* Reload as on SIGHUP and wait; msg says why refused, or warns. */
int		 reload_wait(char *msg, size_t);

#endif
