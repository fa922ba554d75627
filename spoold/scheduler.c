/*
 * The delivery scheduler's thread: the loop that feeds each hook's
 * workers from its queue (hookq.c) under the hook's shaping, the fleet
 * of workers it grows and retires, and the answers it reads, which
 * become outcomes (outcome.c).
 */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hookq.h"
#include "lease.h"
#include "log.h"
#include "oldest.h"
#include "outcome.h"
#include "pace.h"
#include "pool.h"
#include "proto.h"
#include "scheduler.h"
#include "spoold.h"
#include "throttle.h"
#include "util.h"

/*
 * Records a worker may hold: at least two batches, the one it is sending
 * and one queued behind it, so that it never waits for the scheduler
 * between requests; small batches more, so that one hand-off and one
 * wake-up of each side carry several (the worker holds its results back
 * while two or more batches wait, PROTO_HOLD_MS at most). Only a worker
 * whose last request was answered 2xx within PROTO_HOLD_MS gets more
 * than two: one that meets failures, timeouts or a slow hook should not
 * hold records that another worker could try, and its hand-offs cost
 * nothing beside its requests.
 */
#define PIPELINE_RECORDS	16
#define PIPELINE_MIN		2
#define MAX_WAIT_MS	1000

/* A worker as the scheduler keeps it: its process, and how it is used. */
struct fleet_worker {
	struct worker		*proc;
	struct hq		*hq;
	/* Deliveries left on the connection. */
	uint64_t		 conn_left;
	uint64_t		 idle_since;	/* monotonic ms */
	int			 retiring;	/* close once idle */
	int			 answered;	/* its last request got a 2xx */
	struct fleet_worker	*next;
};

struct stat_slot {
	uint32_t		 hook;
	struct sched_stats	 st;
};

static pthread_t	 s_thread;
static int		 s_evfd = -1;
static atomic_int	 s_stop;
static atomic_int	 s_reload, s_rescan;
static atomic_ullong	 s_gen;
static uint64_t		 s_deadline;
static uint64_t		 s_seq;

static pthread_mutex_t	 s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat_slot	*s_stats;
static size_t		 s_nstats, s_capstats;

static void
wake(void)
{
	uint64_t	 one = 1;

	if (s_evfd != -1 && write(s_evfd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("scheduler wake");
}

void
sched_ingested(void)
{
	atomic_fetch_add(&s_gen, 1);
	wake();
}

void
sched_reload(void)
{
	atomic_store(&s_reload, 1);
	wake();
}

void
sched_rescan(void)
{
	oldest_forget();
	atomic_store(&s_rescan, 1);
	wake();
}

void
sched_stats(uint32_t hook, struct sched_stats *st)
{
	size_t	 i;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s_lock);
	for (i = 0; i < s_nstats; i++)
		if (s_stats[i].hook == hook)
			*st = s_stats[i].st;
	pthread_mutex_unlock(&s_lock);
}

int
sched_hook_status(uint32_t hook, struct hook_status *hs)
{
	if (store_counts(sd->store, hook, &hs->counts) == -1 ||
	    oldest_age(sd->store, hook, now_ms(), &hs->oldest_ms) == -1)
		return -1;
	hs->held = store_held(sd->store, hook);
	sched_stats(hook, &hs->sched);
	store_states(&hs->counts, hs->held, hs->sched.in_flight -
	    hs->sched.in_flight_deferred, hs->sched.in_flight_deferred,
	    &hs->states);
	return 0;
}

/* Every round: status must agree with the spool's counts of the moment. */
static void
publish_stats(void)
{
	struct stat_slot	*st;
	struct hq		*hq;
	size_t			 n = 0;

	for (hq = hookq_first(); hq != NULL; hq = hq->next)
		n++;
	pthread_mutex_lock(&s_lock);
	if (n > s_capstats) {
		if ((st = reallocarray(s_stats, n, sizeof(*st))) == NULL) {
			pthread_mutex_unlock(&s_lock);
			return;
		}
		s_stats = st;
		s_capstats = n;
	}
	for (n = 0, hq = hookq_first(); hq != NULL; hq = hq->next, n++) {
		s_stats[n].hook = hq->id;
		s_stats[n].st.in_flight = hq->leased;
		s_stats[n].st.in_flight_deferred = hq->leased_deferred.n;
		s_stats[n].st.workers = hq->nworkers;
		s_stats[n].st.c = hq->ctr;
		memcpy(s_stats[n].st.throttled_ms, hq->thr.ms,
		    sizeof(hq->thr.ms));
		memcpy(s_stats[n].st.throttle_warnings, hq->thr.warnings,
		    sizeof(hq->thr.warnings));
	}
	s_nstats = n;
	pthread_mutex_unlock(&s_lock);
}

/*
 * Ends a worker: the records of its batches are due again at once. why
 * says so in the log when it held any: "died" or "stopped in a request".
 */
static void
worker_end(struct hq *hq, struct fleet_worker *w, const char *why)
{
	struct fleet_worker	**wp;
	struct batch		 *b;
	size_t			  n = 0;

	while ((b = pool_pop(w->proc)) != NULL) {
		n += b->n;
		lease_end_batch(hq, b);
	}
	if (n > 0)
		log_warnx("hook %s: worker %ld %s with %zu record%s; they "
		    "stay queued", hq->cfg->name, (long)pool_pid(w->proc), why,
		    n, n == 1 ? "" : "s");
	for (wp = &hq->workers; *wp != NULL; wp = &(*wp)->next)
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	hq->nworkers--;
	pool_close(w->proc, 1);
	free(w);
}

static void
worker_gone(struct hq *hq, struct fleet_worker *w)
{
	worker_end(hq, w, "died");
}

/*
 * The hook closed the connection and curl made a new one, which carried
 * b: the batches queued behind b go on it too. When one of them ends its
 * connection, the count already leads to a fresh one after it.
 */
static void
reconnected(struct hq *hq, struct fleet_worker *w, const struct batch *b)
{
	const struct batch	*q;
	uint64_t		 maxdel, used = b->n;
	size_t			 i;

	maxdel = hq->cfg->shaping.max_deliveries_per_connection;
	for (i = 0; (q = pool_inflight(w->proc, i)) != NULL; i++) {
		if (q->flags & (PROTO_F_FRESH | PROTO_F_LAST))
			return;
		used += q->n;
	}
	w->conn_left = maxdel > used ? maxdel - used : 0;
}

static int
answer_class(const struct proto_result *res)
{
	switch (res->class) {
	case PROTO_CLASS_DELIVERED:
		return ANSWER_DELIVERED;
	case PROTO_CLASS_TRANSIENT:
		return ANSWER_TRANSIENT;
	case PROTO_CLASS_PERMANENT:
		return ANSWER_PERMANENT;
	}
	if (res->status == 0)
		return ANSWER_NONE;
	if (res->status >= 200 && res->status < 600)
		return ANSWER_2XX + (int)(res->status / 100) - 2;
	return ANSWER_OTHER;
}

/* The answer to b in the hook's counters. */
static void
count_answer(struct hq *hq, const struct batch *b,
    const struct proto_result *res)
{
	hq->ctr.answers[answer_class(res)]++;
	hq->ctr.connections += res->new_conn != 0;
	hist_add(&hq->ctr.request_time, metrics_clock_us() - b->sent_us);
}

/* 0, or -1 when the worker broke the protocol and is gone. */
static int
handle_result(struct hq *hq, struct fleet_worker *w,
    struct proto_result *res)
{
	struct batch	*b = pool_inflight(w->proc, 0);

	if (b == NULL || res->seq != b->seq) {
		log_warnx("hook %s: worker %ld answered a batch it was not "
		    "given", hq->cfg->name, (long)pool_pid(w->proc));
		worker_gone(hq, w);
		return -1;
	}
	pool_pop(w->proc);
	count_answer(hq, b, res);
	w->answered = outcome_class(hq->cfg, res->class, res->status) ==
	    CLASS_DELIVERED && res->elapsed_ms < PROTO_HOLD_MS;
	if (pool_ninflight(w->proc) == 0)
		w->idle_since = mono_ms();
	if (res->new_conn && !(b->flags & (PROTO_F_FRESH | PROTO_F_LAST)))
		reconnected(hq, w, b);
	outcome_result(hq, b, res);
	return 0;
}

static size_t
pipeline(const struct hq *hq, const struct fleet_worker *w)
{
	size_t	 n = PIPELINE_RECORDS / hq->cfg->batch_size;

	return w->answered && n > PIPELINE_MIN ? n : PIPELINE_MIN;
}

/* The worker holding the fewest batches, if one has room. */
static struct fleet_worker *
idle_worker(struct hq *hq)
{
	struct fleet_worker	*w, *best = NULL;
	size_t			 n, least = SIZE_MAX;

	for (w = hq->workers; w != NULL; w = w->next) {
		if (w->retiring)
			continue;
		if ((n = pool_ninflight(w->proc)) == 0)
			return w;
		if (n < least && n < pipeline(hq, w)) {
			best = w;
			least = n;
		}
	}
	return best;
}

struct fill {
	struct hq	*hq;
	struct worker	*proc;
	struct batch	*sent;		/* what goes out */
	struct pending	*expired;
	uint64_t	 now;
};

static void
fill_one(void *arg, const struct store_item *it)
{
	struct fill	*f = arg;
	size_t		 k;

	if (it->ptr == NULL) {
		/* Deleted or dead-lettered meanwhile. */
		lease_end(f->hq, it->id);
		return;
	}
	if (it->state == ST_DEFERRED)
		lease_deferred(f->hq, it->id);
	if (expiry_check(f->expired, it, f->now))
		return;
	if (pool_batch_add(f->proc, it->id, it->ptr, it->len) == -1) {
		lease_end(f->hq, it->id);
		return;
	}
	k = f->sent->n++;
	f->sent->ids[k] = it->id;
	f->sent->attempts[k] = it->attempts;
	f->sent->received[k] = it->received_ms;
	f->sent->nhooks[k] = it->nhooks;
}

/* Read the batch's records into the worker's frame and send it. */
static void
send_batch(struct hq *hq, struct worker *proc, struct batch *b,
    uint8_t flags, uint64_t now)
{
	struct fill	 f;

	memset(&f, 0, sizeof(f));
	f.hq = hq;
	f.proc = proc;
	f.now = now;
	f.sent = lease_batch_new(b->n);
	f.sent->seq = ++s_seq;
	f.sent->flags = flags;
	f.sent->sent_us = metrics_clock_us();
	f.expired = expiry_begin(hq, b->n);
	pool_batch_begin(proc, f.sent->seq, flags);
	if (store_fetch(sd->store, hq->id, b->ids, b->n, fill_one, &f) == -1) {
		log_errorx("hook %s: cannot read records", hq->cfg->name);
		f.sent->n = 0;
		pool_batch_cancel(proc);
		lease_end_batch(hq, b);
		b = NULL;
	}
	lease_batch_free(b);
	expiry_end(f.expired);
	if (f.sent->n == 0) {
		pool_batch_cancel(proc);
		lease_batch_free(f.sent);
		return;
	}
	pool_batch_end(proc, (uint32_t)f.sent->n);
	pool_push(proc, f.sent);
}

/* With every worker busy, is it the connection limit that holds it back? */
static int
at_connection_limit(struct hq *hq)
{
	struct fleet_worker	*w;
	uint32_t		 active = 0;

	for (w = hq->workers; w != NULL; w = w->next)
		active += !w->retiring;
	return active >= hq->cfg->shaping.connection_limit ?
	    THR_CONNECTION_LIMIT : THR_NONE;
}

/* Hands out what is due; returns the limit that stopped it, if any. */
static int
dispatch(struct hq *hq, uint64_t now)
{
	const struct shaping	*sh = &hq->cfg->shaping;
	struct fleet_worker	*w;
	struct batch		*b;
	uint64_t		 n;
	uint8_t			 flags;

	while (!hq->held && !hq->removed && !atomic_load(&s_stop)) {
		if (hq->splits == NULL && !hookq_batch_due(hq, now))
			return THR_NONE;
		if ((w = idle_worker(hq)) == NULL)
			return at_connection_limit(hq);
		if (bucket_wait(&hq->msg, now) > 0)
			return THR_MESSAGE_RATE;
		flags = 0;
		if (w->conn_left == 0) {
			if (bucket_take(&hq->conn, 1, now) == 0)
				return THR_CONNECTION_RATE;
			w->conn_left = sh->max_deliveries_per_connection;
			flags |= PROTO_F_FRESH;
		}
		n = hq->splits ? hq->splits->n : hq->cfg->batch_size;
		if (n > w->conn_left)
			n = w->conn_left;
		n = bucket_take(&hq->msg, n, now);
		b = hookq_next_batch(hq, n);
		w->conn_left -= b->n;
		if (w->conn_left == 0)
			flags |= PROTO_F_LAST;
		send_batch(hq, w->proc, b, flags, now);
	}
	return THR_NONE;
}

/* The value of a limit as spoold -n shows it. */
static const char *
limit_value(const struct shaping *sh, int limit, char *buf, size_t len)
{
	if (limit == THR_CONNECTION_LIMIT) {
		snprintf(buf, len, "%u", sh->connection_limit);
		return buf;
	}
	buf[0] = '"';
	fmt_rate(limit == THR_MESSAGE_RATE ? &sh->max_message_rate :
	    &sh->max_connection_rate, buf + 1, len - 2);
	strlcat(buf, "\"", len);
	return buf;
}

/*
 * The limit that stopped dispatch is counted; a backlog that grew over a
 * window while one held the hook back is worth a warning, which names
 * the limit and where its value came from.
 */
static void
throttled(struct hq *hq, int limit, uint64_t mono)
{
	struct store_counts	 c;
	const char		*key;
	uint64_t		 before, backlog;
	char			 v[64];

	if (!throttle_note(&hq->thr, limit, mono))
		return;
	if (store_counts(sd->store, hq->id, &c) == -1)
		return;
	backlog = c.ready + c.deferred;
	before = hq->thr.mark_backlog;
	if (!throttle_warn(&hq->thr, backlog, mono))
		return;
	key = throttle_key[limit];
	log_warnx("hook %s: throttled by %s = %s from %s: %llu records "
	    "queued, %llu more than %u s ago", hq->cfg->name, key,
	    limit_value(&hq->cfg->shaping, limit, v, sizeof(v)),
	    config_origin(hq->cfg, key), (unsigned long long)backlog,
	    (unsigned long long)(backlog - before),
	    THROTTLE_WINDOW_MS / 1000);
}

/* What dispatch queued goes out: one write for all of a worker's. */
static void
flush_workers(struct hq *hq)
{
	struct fleet_worker	*w, *next;

	for (w = hq->workers; w != NULL; w = next) {
		next = w->next;
		if (pool_unsent(w->proc) && pool_flush(w->proc) == -1)
			worker_gone(hq, w);
	}
}

static void
grow(struct hq *hq)
{
	struct fleet_worker	*w;
	uint64_t		 backlog;
	uint32_t		 want, active = 0;

	if (hq->held || hq->removed || atomic_load(&s_stop))
		return;
	/* The backlog in requests: a batched hook needs fewer connections. */
	backlog = hq->qn + hq->leased;
	backlog = (backlog + hq->cfg->batch_size - 1) / hq->cfg->batch_size;
	want = pace_connections(hq->cfg->shaping.connection_limit, backlog);
	for (w = hq->workers; w != NULL; w = w->next)
		active += !w->retiring;
	/* Starting a worker may wait on the launcher: not when stopping. */
	for (; active < want && !atomic_load(&s_stop); active++) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			log_warn("worker %s: cannot start", hq->cfg->name);
			return;
		}
		if ((w->proc = pool_spawn(hq->cfg->name, hq->hello,
		    hq->hellolen)) == NULL) {
			free(w);
			return;
		}
		w->hq = hq;
		w->idle_since = mono_ms();
		w->next = hq->workers;
		hq->workers = w;
		hq->nworkers++;
	}
}

/* Idle workers past idle_timeout, and retiring ones, are let go. */
static void
retire(struct hq *hq, uint64_t mono)
{
	struct fleet_worker	*w, *next, **wp = &hq->workers;

	for (w = hq->workers; w != NULL; w = next) {
		next = w->next;
		if (pool_ninflight(w->proc) == 0 && (w->retiring ||
		    hq->removed || mono >= w->idle_since +
		    hq->cfg->shaping.idle_timeout_ms)) {
			*wp = next;
			hq->nworkers--;
			pool_close(w->proc, 0);
			free(w);
			continue;
		}
		wp = &w->next;
	}
}

/* New routes: workers with old settings, or of removed hooks, make way. */
static void
apply_routes(void)
{
	struct hq		*hq;
	struct fleet_worker	*w;

	hookq_apply_routes();
	for (hq = hookq_first(); hq != NULL; hq = hq->next) {
		if (!hq->retire)
			continue;
		for (w = hq->workers; w != NULL; w = w->next)
			w->retiring = 1;
		hq->retire = 0;
	}
}

static uint64_t
until(uint64_t t, uint64_t now)
{
	return t > now ? t - now : 0;
}

static int
poll_timeout(uint64_t now, uint64_t mono)
{
	struct hq		*hq;
	struct fleet_worker	*w;
	uint64_t		 t = MAX_WAIT_MS, d;

	for (hq = hookq_first(); hq != NULL; hq = hq->next) {
		if (hq->next_due != UINT64_MAX && (d = until(hq->next_due,
		    now)) < t)
			t = d;
		if (hq->qn > 0 && !hookq_batch_due(hq, now) &&
		    (d = until(hookq_latency_due(hq), now)) < t)
			t = d;
		if ((hq->qn > 0 || hq->splits) && idle_worker(hq) != NULL) {
			d = bucket_wait(&hq->msg, now);
			if (d == 0)
				d = bucket_wait(&hq->conn, now);
			if (d > 0 && d < t)
				t = d;
		}
		for (w = hq->workers; w != NULL; w = w->next)
			if (pool_ninflight(w->proc) == 0 &&
			    (d = until(w->idle_since +
			    hq->cfg->shaping.idle_timeout_ms, mono)) < t)
				t = d;
	}
	if (atomic_load(&s_stop) && (d = until(s_deadline, mono)) < t)
		t = d;
	return (int)t;
}

static void
worker_events(struct hq *hq, struct fleet_worker *w, short revents)
{
	struct proto_result	 res;
	int			 rc;

	if (revents & POLLOUT && pool_flush(w->proc) == -1) {
		worker_gone(hq, w);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	while ((rc = pool_read(w->proc, &res)) == 1) {
		rc = handle_result(hq, w, &res);
		proto_result_free(&res);
		if (rc == -1)
			return;
		if (pool_ninflight(w->proc) == 0 && w->retiring)
			break;
	}
	if (rc == -1)
		worker_gone(hq, w);
}

static void
wait_events(int timeout)
{
	static struct pollfd		 *pfd;
	static struct fleet_worker	**ws;
	static size_t			  cap;
	struct fleet_worker		 *w;
	struct hq			 *hq;
	uint64_t			  v;
	size_t				  n = 1, i;
	void				 *p;

	for (hq = hookq_first(); hq != NULL; hq = hq->next)
		n += hq->nworkers;
	/* Kept from one round to the next: this runs for every answer. */
	if (n > cap) {
		if ((p = reallocarray(pfd, n, sizeof(*pfd))) == NULL)
			fatal("poll");
		pfd = p;
		if ((p = reallocarray(ws, n, sizeof(*ws))) == NULL)
			fatal("poll");
		ws = p;
		cap = n;
	}
	pfd[0].fd = s_evfd;
	pfd[0].events = POLLIN;
	n = 1;
	for (hq = hookq_first(); hq != NULL; hq = hq->next)
		for (w = hq->workers; w != NULL; w = w->next) {
			pfd[n].fd = pool_fd(w->proc);
			pfd[n].events = POLLIN |
			    (pool_unsent(w->proc) ? POLLOUT : 0);
			pfd[n].revents = 0;
			ws[n++] = w;
		}
	if (poll(pfd, n, timeout) > 0) {
		if (pfd[0].revents & POLLIN &&
		    read(s_evfd, &v, sizeof(v)) == -1 && errno != EAGAIN)
			log_warn("scheduler");
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				worker_events(ws[i]->hq, ws[i], pfd[i].revents);
	}
}

static int
busy(void)
{
	struct hq		*hq;
	struct fleet_worker	*w;

	for (hq = hookq_first(); hq != NULL; hq = hq->next)
		for (w = hq->workers; w != NULL; w = w->next)
			if (pool_ninflight(w->proc) > 0)
				return 1;
	return 0;
}

static void
shutdown_workers(void)
{
	struct hq	*hq;

	for (hq = hookq_first(); hq != NULL; hq = hq->next) {
		while (hq->workers != NULL)
			worker_end(hq, hq->workers, "stopped in a request");
	}
}

static void *
sched_main(void *arg)
{
	struct hq	*hq;
	uint64_t	 now, mono;

	(void)arg;
	apply_routes();
	for (;;) {
		now = now_ms();
		mono = mono_ms();
		if (atomic_exchange(&s_reload, 0))
			apply_routes();
		if (atomic_exchange(&s_rescan, 0))
			for (hq = hookq_first(); hq != NULL; hq = hq->next)
				hq->full = 1;
		outcome_collect();
		if (atomic_load(&s_stop) && ((!busy() &&
		    outcome_pending() == 0) || mono >= s_deadline))
			break;
		for (hq = hookq_first(); hq != NULL; hq = hq->next) {
			hookq_refill(hq, now, atomic_load(&s_gen));
			grow(hq);
			throttled(hq, dispatch(hq, now), mono);
			flush_workers(hq);
			retire(hq, mono);
		}
		hookq_reap();
		publish_stats();
		wait_events(poll_timeout(now, mono));
	}
	shutdown_workers();
	publish_stats();
	return NULL;
}

void
sched_start(void)
{
	if ((s_evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	outcome_init(wake);
	if (pthread_create(&s_thread, NULL, sched_main, NULL) != 0)
		fatalx("cannot start the scheduler thread");
}

/*
 * Outcome commits still pending after the loop ends are taken care of
 * by the committer, which stops after this; their leases die with the
 * process, which is what they would be after a crash: due again.
 */
void
sched_stop(uint64_t deadline)
{
	s_deadline = deadline;
	atomic_store(&s_stop, 1);
	wake();
	pthread_join(s_thread, NULL);
	hookq_free_all();
}
