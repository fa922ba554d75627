/*
 * The group commit's gathering of outcomes: while only outcomes, which
 * nobody waits on, are queued, they wait for more, and the first of
 * enough of them, an ingest request or a stop commits them all at once.
 *
 * The window is set without end here, so that nothing depends on time:
 * were a waiter or a stop not to end it, the test would hang, and its
 * alarm fails it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "tap.h"
#include "util.h"

#define ENOUGH		8
#define NREQ		16
#define BOUND_S		60	/* for a commit to be done */
#define GATHER_S	10	/* for the committer to start gathering */

static char		 dir[] = "/tmp/spoold-commit-XXXXXX";
static pthread_mutex_t	 lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static size_t		 commits[64];	/* requests in each transaction */
static size_t		 ncommits;
static int		 ndone;

/* The committer times and reports each transaction here, not in metrics.c. */
uint64_t
metrics_clock_us(void)
{
	return 0;
}

void
metrics_commit(struct store_job **jobs, size_t n, uint64_t us)
{
	(void)jobs;
	(void)us;
	pthread_mutex_lock(&lk);
	if (ncommits < sizeof(commits) / sizeof(commits[0]))
		commits[ncommits] = n;
	ncommits++;
	pthread_mutex_unlock(&lk);
}

static void
done(struct commit_req *r)
{
	(void)r;
	pthread_mutex_lock(&lk);
	ndone++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&lk);
}

/* Waits until n asynchronous requests are done, BOUND_S at most. */
static int
wait_done(int n)
{
	struct timespec	 ts;
	int		 got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += BOUND_S;
	pthread_mutex_lock(&lk);
	while (ndone < n)
		if (pthread_cond_timedwait(&cv, &lk, &ts) != 0)
			break;
	got = ndone;
	pthread_mutex_unlock(&lk);
	return got;
}

/* Waits until the committer gathers outcomes, GATHER_S at most. */
static int
gathering(void)
{
	int	 i;

	for (i = 0; i < GATHER_S * 1000; i++) {
		if (commit_gathering())
			return 1;
		usleep(1000);
	}
	return 0;
}

static size_t
counted(size_t *last)
{
	size_t	 n;

	pthread_mutex_lock(&lk);
	n = ncommits;
	*last = n > 0 && n <= sizeof(commits) / sizeof(commits[0]) ?
	    commits[n - 1] : 0;
	pthread_mutex_unlock(&lk);
	return n;
}

static struct commit_req	 reqs[NREQ];
static struct store_outcome	 outs[NREQ];

/* Request i: the delivery of record id, queued without waiting. */
static void
deliver_async(int i, uint32_t hook, uint64_t id)
{
	memset(&outs[i], 0, sizeof(outs[i]));
	outs[i].id = id;
	outs[i].hook = hook;
	outs[i].kind = OUT_DELIVERED;
	outs[i].attempts = 1;
	outs[i].last_ms = now_ms();
	outs[i].status = 200;
	memset(&reqs[i], 0, sizeof(reqs[i]));
	reqs[i].job.outs = &outs[i];
	reqs[i].job.nouts = 1;
	reqs[i].done = done;
	commit_async(&reqs[i]);
}

/* n records for hook, committed while the caller waits; the first id. */
static uint64_t
ingest(uint32_t *hook, size_t n, int *result)
{
	struct store_in		 in[32];
	struct commit_req	 r;
	size_t			 i;

	for (i = 0; i < n; i++) {
		in[i].ptr = "{\"type\":\"Delivery\"}";
		in[i].len = (uint32_t)strlen(in[i].ptr);
		in[i].rectype = 0;
		in[i].nhooks = 1;
		in[i].hooks = hook;
	}
	memset(&r, 0, sizeof(r));
	r.job.recs = in;
	r.job.nrecs = n;
	*result = commit_submit(&r);
	return r.job.first_id;
}

int
main(void)
{
	struct store_counts	 c;
	struct store		*st;
	uint32_t		 hook;
	uint64_t		 first;
	size_t			 base, n, last;
	char			 err[512], cmd[128];
	int			 i, rc;

	log_init(1, 0, "test_commit");
	alarm(BOUND_S * 2);
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	if ((st = store_open(dir, 64U << 20, err, sizeof(err))) == NULL) {
		diag("store_open: %s", err);
		return 1;
	}
	store_hook_id(st, "h", &hook);
	commit_gather(0, ENOUGH);
	commit_start(st, NULL);

	first = ingest(&hook, 20, &rc);
	is_int(rc, STORE_OK, "20 records committed while their producer waits");
	base = counted(&last);
	is_int((int64_t)base, 1, "in one transaction");

	deliver_async(0, hook, first);
	ok(gathering(), "a lone outcome waits for more");
	for (i = 1; i < ENOUGH - 1; i++)
		deliver_async(i, hook, first + (uint64_t)i);
	is_int((int64_t)counted(&last), (int64_t)base,
	    "so do %d", ENOUGH - 1);
	deliver_async(ENOUGH - 1, hook, first + ENOUGH - 1);
	is_int(wait_done(ENOUGH), ENOUGH, "the %dth commits them", ENOUGH);
	n = counted(&last);
	ok(n == base + 1 && last == ENOUGH,
	    "all in one transaction (%zu new, of %zu requests)", n - base,
	    last);

	base = n;
	for (i = ENOUGH; i < ENOUGH + 3; i++)
		deliver_async(i, hook, first + (uint64_t)i);
	ok(gathering(), "3 outcomes wait");
	(void)ingest(&hook, 1, &rc);
	is_int(rc, STORE_OK, "an ingest request does not wait for the window");
	is_int(wait_done(ENOUGH + 3), ENOUGH + 3,
	    "and the outcomes queued before it are done");
	n = counted(&last);
	ok(n == base + 1 && last == 4,
	    "in its transaction (%zu new, of %zu requests)", n - base, last);

	base = n;
	deliver_async(ENOUGH + 3, hook, first + ENOUGH + 3);
	deliver_async(ENOUGH + 4, hook, first + ENOUGH + 4);
	ok(gathering(), "2 outcomes wait");
	commit_stop();
	is_int(ndone, ENOUGH + 5, "stopping commits the outcomes still queued");
	n = counted(&last);
	ok(n == base + 1 && last == 2,
	    "in one transaction (%zu new, of %zu requests)", n - base, last);

	store_counts(st, hook, &c);
	is_int((int64_t)c.delivered, ENOUGH + 5, "the spool counts %d "
	    "delivered", ENOUGH + 5);
	is_int((int64_t)c.ready, 21 - (ENOUGH + 5), "and %d still ready",
	    21 - (ENOUGH + 5));
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
