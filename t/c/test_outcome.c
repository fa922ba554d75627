/*
 * The outcome policy (spoold/outcome.c) as spoold.8 states it under
 * Delivery: 2xx delivers; transient answers (408, 425, 429, 5xx, the
 * hook's own transient_status, no answer at all) are retried after
 * retry_interval * 2^attempts, capped, less each record's jitter, or
 * after Retry-After; any other answer dead-letters with its status and
 * text; a batch refused for good is split until the records at fault are
 * found; records past max_age expire. The hooks come from a real
 * spoold.conf, so the default transient list is the configuration's.
 *
 * The group commit is a stand-in that keeps the requests, which the test
 * then completes as the committer would.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "config.h"
#include "lease.h"
#include "outcome.h"
#include "tap.h"
#include "util.h"

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define DAY	(24 * 60 * MIN)

#define CONF \
	"[hook.plain]\n" \
	"url = \"http://127.0.0.1:1/p\"\n" \
	"retry_interval = \"1m\"\n" \
	"max_retry_interval = \"20m\"\n" \
	"max_age = \"1d\"\n" \
	"[hook.own]\n" \
	"url = \"http://127.0.0.1:1/o\"\n" \
	"transient_status = [404, \"5xx\"]\n"

static struct commit_req	*reqs[64];
static size_t			 nreqs;
static int			 wakes;

/* The group commit's stand-in: the requests wait for commit_all(). */
void
commit_async(struct commit_req *r)
{
	if (nreqs == sizeof(reqs) / sizeof(reqs[0])) {
		printf("Bail out! too many commits\n");
		exit(1);
	}
	reqs[nreqs++] = r;
}

static void
count_wake(void)
{
	wakes++;
}

/* As the committer does: each request's result, then its callback. */
static void
commit_all(int result)
{
	size_t	 i;

	for (i = 0; i < nreqs; i++) {
		reqs[i]->job.result = result;
		reqs[i]->done(reqs[i]);
	}
	nreqs = 0;
}

static void
hq_init(struct hq *hq, const struct hook *h, uint32_t id)
{
	memset(hq, 0, sizeof(*hq));
	hq->id = id;
	hq->cfg = h;
	hq->next_due = UINT64_MAX;
}

static void
hq_fini(struct hq *hq)
{
	struct batch	*b;

	commit_all(STORE_OK);
	outcome_collect();
	while ((b = hq->splits) != NULL) {
		hq->splits = b->next;
		lease_batch_free(b);
	}
	idset_free(&hq->mem);
}

/* n leased records from id on, each tried attempts times already. */
static struct batch *
leased(struct hq *hq, uint64_t id, size_t n, uint32_t attempts,
    uint64_t received)
{
	struct batch	*b = lease_batch_new(n);
	size_t		 i;

	b->n = n;
	for (i = 0; i < n; i++) {
		b->ids[i] = id + i;
		b->attempts[i] = attempts;
		b->received[i] = received;
		b->nhooks[i] = 1 + i % 2;
		if (idset_add(&hq->mem, b->ids[i]) == 1)
			hq->leased++;
	}
	return b;
}

static struct proto_result
answer(uint32_t status, uint32_t retry_after, const char *text)
{
	struct proto_result	 r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.retry_after = retry_after;
	r.textlen = (uint16_t)strlen(text);
	memcpy(r.text, text, r.textlen);
	return r;
}

/* The outcomes of the one commit the last answer made. */
static const struct store_outcome *
last_outs(size_t *n)
{
	if (nreqs == 0) {
		*n = 0;
		return NULL;
	}
	*n = reqs[nreqs - 1]->job.nouts;
	return reqs[nreqs - 1]->job.outs;
}

/*
 * One record answered status after attempts tries: its outcome, and the
 * window [*lo, *hi] of now_ms() around the answer.
 */
static struct store_outcome
one(struct hq *hq, uint64_t id, uint32_t attempts, uint32_t status,
    uint32_t retry_after, uint64_t *lo, uint64_t *hi)
{
	struct proto_result	 r = answer(status, retry_after, "why");
	struct store_outcome	 o;
	const struct store_outcome *outs;
	size_t			 n;

	memset(&o, 0xff, sizeof(o));
	*lo = now_ms();
	outcome_result(hq, leased(hq, id, 1, attempts, *lo), &r);
	*hi = now_ms();
	if ((outs = last_outs(&n)) != NULL && n == 1)
		o = outs[0];
	commit_all(STORE_OK);
	outcome_collect();
	return o;
}

static void
test_delivered(struct hq *hq)
{
	struct proto_result		 r = answer(200, 0, "fine");
	const struct store_outcome	*o;
	size_t				 n, i, good = 0;

	outcome_result(hq, leased(hq, 100, 3, 2, now_ms()), &r);
	o = last_outs(&n);
	is_int((int64_t)n, 3, "2xx: one commit of the batch's 3 outcomes");
	for (i = 0; i < n; i++)
		good += o[i].kind == OUT_DELIVERED && o[i].status == 200 &&
		    o[i].id == 100 + i && o[i].hook == hq->id &&
		    o[i].attempts == 3 && o[i].sole == (i % 2 == 0);
	is_int((int64_t)good, 3, "200: delivered, with the attempt counted "
	    "and whether another hook holds the record");
	commit_all(STORE_OK);
	r = answer(204, 0, "");
	outcome_result(hq, leased(hq, 110, 1, 0, now_ms()), &r);
	o = last_outs(&n);
	ok(n == 1 && o[0].kind == OUT_DELIVERED, "204: delivered");
	commit_all(STORE_OK);
	outcome_collect();
}

static void
test_transient(struct hq *plain, struct hq *own)
{
	static const uint32_t	 st[] = { 408, 425, 429, 500, 503, 599 };
	struct store_outcome	 o;
	uint64_t		 lo, hi;
	size_t			 i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		o = one(plain, 200 + i, 0, st[i], 0, &lo, &hi);
		ok(o.kind == OUT_RETRY && o.status == st[i] &&
		    o.attempts == 1 && o.due_ms >= lo + 48 * SEC &&
		    o.due_ms <= hi + MIN, "%u: retried in (0.8, 1] of "
		    "retry_interval (in %lld ms)", st[i],
		    (long long)(o.due_ms - lo));
	}
	o = one(plain, 210, 0, 0, 0, &lo, &hi);
	ok(o.kind == OUT_RETRY && o.due_ms >= lo + 48 * SEC,
	    "no answer (a connection error or a timeout): retried");
	o = one(plain, 211, 0, 404, 0, &lo, &hi);
	is_int(o.kind, OUT_DEAD, "404 is permanent by default");
	o = one(own, 212, 0, 404, 0, &lo, &hi);
	is_int(o.kind, OUT_RETRY, "404 retried where transient_status has it");
	o = one(own, 213, 0, 429, 0, &lo, &hi);
	is_int(o.kind, OUT_DEAD, "and that list replaces the default: 429 "
	    "is permanent there");
}

static void
test_backoff(struct hq *hq)
{
	static const struct {
		uint32_t	 attempts;
		uint64_t	 delay;
	} want[] = {
		{ 0, 1 * MIN }, { 1, 2 * MIN }, { 3, 8 * MIN },
		{ 4, 16 * MIN }, { 5, 20 * MIN }, { 40, 20 * MIN },
	};
	struct store_outcome	 o;
	uint64_t		 lo, hi, d, min = UINT64_MAX, max = 0;
	size_t			 i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		o = one(hq, 300 + i, want[i].attempts, 503, 0, &lo, &hi);
		d = want[i].delay;
		ok(o.kind == OUT_RETRY && o.due_ms >= lo + d - d / 5 &&
		    o.due_ms <= hi + d, "tried %u times: retry_interval * "
		    "2^%u, at most max_retry_interval: %llu ms in (%llu, %llu]",
		    want[i].attempts, want[i].attempts,
		    (unsigned long long)(o.due_ms - lo),
		    (unsigned long long)(d - d / 5), (unsigned long long)d);
	}
	/* Records refused together: each comes back at its own time. */
	for (i = 0; i < 200; i++) {
		o = one(hq, 400 + i, 1, 503, 0, &lo, &hi);
		d = o.due_ms - lo;
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	ok(min >= 2 * MIN - 2 * MIN / 5 && max <= 2 * MIN + (hi - lo) &&
	    max - min >= 10 * SEC, "jitter within (0.8, 1] of the delay and "
	    "spread over it: %llu..%llu ms", (unsigned long long)min,
	    (unsigned long long)max);
	o = one(hq, 700, 2, 429, 7, &lo, &hi);
	ok(o.kind == OUT_RETRY && o.due_ms >= lo + 7 * SEC &&
	    o.due_ms <= hi + 7 * SEC, "Retry-After: 7 is taken as said "
	    "(%lld ms)", (long long)(o.due_ms - lo));
	o = one(hq, 701, 0, 503, 7200, &lo, &hi);
	ok(o.due_ms >= lo + 7200 * SEC, "even beyond max_retry_interval");
}

/* A retry never comes after the record's expiry: it is due to expire. */
static void
test_retry_before_expiry(struct hq *hq)
{
	struct proto_result		 r = answer(503, 0, "busy");
	const struct store_outcome	*o;
	uint64_t			 now = now_ms(), received;
	size_t				 n;

	received = now - hq->cfg->max_age_ms + 10 * SEC;
	outcome_result(hq, leased(hq, 800, 1, 0, received), &r);
	o = last_outs(&n);
	ok(n == 1 && o[0].kind == OUT_RETRY &&
	    o[0].due_ms == received + hq->cfg->max_age_ms,
	    "a retry due past max_age comes back at max_age");
	commit_all(STORE_OK);
	outcome_collect();
}

static void
test_permanent(struct hq *hq)
{
	struct store_outcome		 o;
	const struct store_outcome	*outs;
	struct proto_result		 r;
	uint64_t			 lo, hi;
	size_t				 n;

	r = answer(400, 0, "bad record");
	outcome_result(hq, leased(hq, 900, 1, 4, now_ms()), &r);
	outs = last_outs(&n);
	ok(n == 1 && outs[0].kind == OUT_DEAD && outs[0].status == 400 &&
	    outs[0].attempts == 5 && outs[0].textlen == 10 &&
	    memcmp(outs[0].text, "bad record", 10) == 0,
	    "400: a dead letter with the answer's status and text");
	commit_all(STORE_OK);
	outcome_collect();
	o = one(hq, 901, 0, 302, 0, &lo, &hi);
	is_int(o.kind, OUT_DEAD, "302 is permanent");
	o = one(hq, 902, 0, 600, 0, &lo, &hi);
	is_int(o.kind, OUT_DEAD, "600 is permanent");
}

/* A broker's answer as spoold reads it: through the frame's bytes. */
static struct proto_result
broker_answer(uint8_t class, struct proto_rec *recs, uint32_t n)
{
	struct proto_result	 r, back;
	unsigned char		 buf[4096];
	size_t			 len;

	memset(&r, 0, sizeof(r));
	memset(&back, 0, sizeof(back));
	r.class = class;
	r.recs = recs;
	r.nrecs = n;
	if ((len = proto_result_encode(&r, buf, sizeof(buf))) == 0 ||
	    proto_result_decode(buf, len, &back) == -1) {
		printf("Bail out! a broker's result\n");
		exit(1);
	}
	return back;
}

/*
 * AMQP and Kafka confirm each message: each record has the outcome its
 * broker gave it, and a record refused for good is found without
 * splitting.
 */
static void
test_records(struct hq *hq)
{
	struct proto_rec		 recs[3] = {
		{ 1, PROTO_CLASS_TRANSIENT, 0, 4, "nack" },
		{ 3, PROTO_CLASS_PERMANENT, 312, 8, "NO_ROUTE" },
		{ 9, PROTO_CLASS_PERMANENT, 1, 1, "x" },
	};
	struct proto_result		 r;
	const struct store_outcome	*o;
	size_t				 n;

	r = broker_answer(PROTO_CLASS_DELIVERED, recs, 3);
	outcome_result(hq, leased(hq, 1100, 5, 0, now_ms()), &r);
	proto_result_free(&r);
	o = last_outs(&n);
	ok(n == 5 && hq->splits == NULL, "a broker's batch of 5: one commit "
	    "of 5 outcomes, no split");
	if (n == 5) {
		ok(o[0].kind == OUT_DELIVERED && o[2].kind == OUT_DELIVERED &&
		    o[4].kind == OUT_DELIVERED && o[0].status == 0,
		    "confirmed records delivered");
		ok(o[1].kind == OUT_RETRY && o[1].textlen == 4 &&
		    memcmp(o[1].text, "nack", 4) == 0 && o[1].attempts == 1,
		    "a nacked record retried, with its own text");
		ok(o[3].kind == OUT_DEAD && o[3].status == 312 &&
		    o[3].textlen == 8 && memcmp(o[3].text, "NO_ROUTE", 8) == 0,
		    "an unroutable one dead-lettered with the broker's code "
		    "and text");
	}
	commit_all(STORE_OK);
	outcome_collect();
	r = broker_answer(PROTO_CLASS_PERMANENT, NULL, 0);
	outcome_result(hq, leased(hq, 1110, 3, 0, now_ms()), &r);
	o = last_outs(&n);
	ok(n == 3 && hq->splits == NULL && o[0].kind == OUT_DEAD &&
	    o[2].kind == OUT_DEAD, "a broker refusing a whole batch: all "
	    "dead-lettered, no split");
	commit_all(STORE_OK);
	outcome_collect();
	r = broker_answer(PROTO_CLASS_TRANSIENT, NULL, 0);
	outcome_result(hq, leased(hq, 1120, 2, 0, now_ms()), &r);
	o = last_outs(&n);
	ok(n == 2 && o[0].kind == OUT_RETRY && o[1].kind == OUT_RETRY,
	    "a lost connection: all retried");
	commit_all(STORE_OK);
	outcome_collect();
}

/* The hook refuses any batch that holds a bad record. */
static int
bad(uint64_t id)
{
	return id == 1003 || id == 1012;
}

static void
test_split(struct hq *hq)
{
	struct proto_result		 refused = answer(400, 0, "poison");
	struct proto_result		 fine = answer(200, 0, "");
	const struct store_outcome	*o;
	struct batch			*b;
	int				 kind[16], sent[16], rounds = 0;
	size_t				 n, i, wrong = 0;

	memset(kind, 0xff, sizeof(kind));
	memset(sent, 0, sizeof(sent));
	b = leased(hq, 1000, 16, 0, now_ms());
	b->received[5] = 12345;
	outcome_result(hq, b, &refused);
	is_int((int64_t)nreqs, 0, "a refused batch of 16: no outcomes yet");
	ok(hq->splits != NULL && hq->splits->n == 8 &&
	    hq->splits->next != NULL && hq->splits->next->n == 8 &&
	    hq->splits->ids[0] == 1000 && hq->splits->next->ids[0] == 1008 &&
	    hq->splits->received[5] == 12345 && hq->splits->nhooks[1] == 2,
	    "it goes back in halves, the records as they were");
	/* Bounded: 16 records are bisected in well under 64 requests. */
	while ((b = hq->splits) != NULL && rounds++ < 64) {
		hq->splits = b->next;
		b->next = NULL;
		for (i = 0; i < b->n; i++)
			sent[b->ids[i] - 1000]++;
		for (i = 0; i < b->n && !bad(b->ids[i]); i++)
			;
		outcome_result(hq, b, i < b->n ? &refused : &fine);
		o = last_outs(&n);
		for (i = 0; i < n; i++)
			kind[o[i].id - 1000] = o[i].kind;
		commit_all(STORE_OK);
	}
	outcome_collect();
	for (i = 0; i < 16; i++)
		wrong += kind[i] != (bad(1000 + i) ? OUT_DEAD : OUT_DELIVERED);
	is_int((int64_t)wrong, 0, "the 2 bad records are dead letters, the "
	    "14 others delivered");
	for (i = 0, n = 0; i < 16; i++)
		n += sent[i] > 5;
	ok(n == 0 && rounds < 64, "each record sent again at most log2(16) + 1"
	    " times, in %d requests", rounds);
	is_int((int64_t)hq->leased, 0, "and every lease ended");
}

static void
test_expiry(struct hq *hq)
{
	const struct store_outcome	*o;
	struct store_item		 it[3];
	struct pending			*p;
	uint64_t			 now = now_ms(), max = hq->cfg->max_age_ms;
	size_t				 n, i;

	memset(it, 0, sizeof(it));
	for (i = 0; i < 3; i++) {
		it[i].id = 1100 + i;
		it[i].attempts = 3;
		it[i].ptr = "{}";
		it[i].len = 2;
	}
	it[0].received_ms = now - max;
	it[1].received_ms = now - max + 1;
	it[2].received_ms = now - 2 * max;
	p = expiry_begin(hq, 3);
	is_int(expiry_check(p, &it[0], now), 1, "max_age old: expired");
	is_int(expiry_check(p, &it[1], now), 0, "a millisecond younger: not");
	is_int(expiry_check(p, &it[2], now), 1, "older: expired");
	expiry_end(p);
	o = last_outs(&n);
	ok(n == 2 && o[0].id == 1100 && o[1].id == 1102 &&
	    o[0].kind == OUT_DEAD && o[1].kind == OUT_DEAD &&
	    o[0].attempts == 3 && o[0].hook == hq->id &&
	    o[0].textlen == strlen(EXPIRED_TEXT) &&
	    memcmp(o[0].text, EXPIRED_TEXT, o[0].textlen) == 0,
	    "the expired go to the dead letters as \"%s\"", EXPIRED_TEXT);
	commit_all(STORE_OK);
	p = expiry_begin(hq, 1);
	expiry_check(p, &it[1], now);
	expiry_end(p);
	is_int((int64_t)nreqs, 0, "nothing expired: nothing to commit");
	outcome_collect();
}

/* Committed outcomes end the leases, and a retry's time wakes the hook. */
static void
test_collect(struct hq *hq)
{
	struct proto_result	 r = answer(503, 0, "");
	const struct store_outcome *o;
	uint64_t		 due = UINT64_MAX;
	size_t			 n, i;
	int			 w;

	hq->next_due = UINT64_MAX;
	outcome_result(hq, leased(hq, 1200, 2, 0, now_ms()), &r);
	o = last_outs(&n);
	for (i = 0; i < n; i++)
		due = o[i].due_ms < due ? o[i].due_ms : due;
	is_int((int64_t)outcome_pending(), 1, "a commit under way");
	outcome_collect();
	ok(hq->leased == 2 && idset_has(&hq->mem, 1200),
	    "leases hold until the outcome is committed");
	w = wakes;
	commit_all(STORE_OK);
	is_int(wakes - w, 1, "the committed outcomes wake the scheduler");
	outcome_collect();
	ok(hq->leased == 0 && !idset_has(&hq->mem, 1200) &&
	    !idset_has(&hq->mem, 1201), "then the leases end");
	ok(n == 2 && hq->next_due == due, "and the hook is due again at the "
	    "first retry's time");
	is_int((int64_t)outcome_pending(), 0, "no commit under way");
	hq->full = 0;
	outcome_result(hq, leased(hq, 1300, 1, 0, now_ms()), &r);
	commit_all(STORE_EFULL);
	outcome_collect();
	ok(hq->leased == 0 && hq->full,
	    "outcomes not committed: the lease ends and the spool is read "
	    "again from the start");
}

int
main(void)
{
	char		 dir[PATH_MAX], err[256];
	struct config	*cfg;
	struct hq	 plain, own;
	FILE		*fp;

	snprintf(dir, sizeof(dir), "%s/spoold-outcome.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL || chdir(dir) == -1 ||
	    (fp = fopen("spoold.conf", "w")) == NULL) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}
	fputs(CONF, fp);
	fclose(fp);
	cfg = config_load("spoold.conf", err, sizeof(err));
	unlink("spoold.conf");
	if (chdir("/") == 0)
		rmdir(dir);
	if (cfg == NULL) {
		printf("Bail out! spoold.conf: %s\n", err);
		return 1;
	}
	outcome_init(count_wake);
	hq_init(&plain, config_hook(cfg, "plain"), 1);
	hq_init(&own, config_hook(cfg, "own"), 2);
	is_int((int64_t)plain.cfg->max_age_ms, (int64_t)DAY, "max_age read");
	test_delivered(&plain);
	test_transient(&plain, &own);
	test_backoff(&plain);
	test_retry_before_expiry(&plain);
	test_permanent(&plain);
	test_split(&plain);
	test_records(&plain);
	test_expiry(&plain);
	test_collect(&plain);
	hq_fini(&plain);
	hq_fini(&own);
	config_free(cfg);
	return done_testing();
}
