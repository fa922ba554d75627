/*
 * The /metrics exposition: label values and HELP text escaped as the
 * text format wants, even for names no configuration lets in today;
 * each family one group; group commits counted by the kind of job, and
 * only the jobs made durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "exposition.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"
#include "source.h"
#include "spoold.h"
#include "tap.h"

static char		 dir[] = "/tmp/spoold-exposition-XXXXXX";
static struct live	 rt;

/* The daemon's routes, scheduler and server are not linked: these stand in. */
struct live *
live_get(void)
{
	return &rt;
}

void
live_put(struct live *r)
{
	(void)r;
}

int
sched_hook_status(uint32_t hook, struct hook_status *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->states.ready = hook + 1;
	hs->states.in_flight = hook + 10;
	hs->oldest_ms = 1500;
	hs->sched.workers = hook + 20;
	hs->sched.c.answers[ANSWER_4XX] = 3;
	hs->sched.throttled_ms[THR_MESSAGE_RATE] = 2500;
	hs->sched.throttle_warnings[THR_MESSAGE_RATE] = 1;
	hist_add(&hs->sched.c.request_time, 700);
	hist_add(&hs->sched.c.request_time, 20000000);
	return 0;
}

void
server_stats(struct server_stats *st)
{
	st->open = 7;
	st->refused = 8;
	st->timed_out = 9;
}

/* One source, failed at a corrupt segment. */
struct source_status *
sources_status(size_t *n)
{
	struct source_status	*st = calloc(1, sizeof(*st));

	*n = st != NULL;
	if (st == NULL)
		return NULL;
	snprintf(st->name, sizeof(st->name), "kumo");
	st->state = SOURCE_FAILED;
	st->at.records = 1234;
	st->invalid = 3;
	st->behind_segments = 2;
	st->behind_bytes = 4096;
	return st;
}

/* How many lines of text start with prefix. */
static int
lines(const char *text, const char *prefix)
{
	const char	*p;
	int		 n = 0;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

static void
commits(void)
{
	struct store_job	 j[3], *jobs[3];
	struct store_in		 in;

	memset(j, 0, sizeof(j));
	j[0].nrecs = 1;
	j[0].recs = &in;
	j[1].nouts = 2;
	j[2].nrecs = 1;
	j[2].recs = &in;
	j[2].result = STORE_EFULL;
	jobs[0] = &j[0];
	jobs[1] = &j[1];
	jobs[2] = &j[2];
	metrics_commit(jobs, 3, 1500);
	metrics_request(404, REF_NOT_FOUND, 300);
	metrics_request(599, REF_BAD_REQUEST, 3000);
	metrics_request(200, REF_BAD_REQUEST, 3000);
}

int
main(void)
{
	struct config	 conf;
	struct hook	 hooks[2];
	struct spoold	 d;
	uint32_t	 ids[2];
	char		*text, err[512], cmd[128], want[128];
	size_t		 len;

	log_init(1, 0, "test_exposition");
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	memset(&d, 0, sizeof(d));
	if ((d.store = store_open(dir, 64U << 20, err, sizeof(err))) ==
	    NULL) {
		diag("store_open: %s", err);
		return 1;
	}
	memset(&conf, 0, sizeof(conf));
	memset(hooks, 0, sizeof(hooks));
	hooks[0].name = "plain";
	hooks[1].name = "a\"b\\c\nd";
	conf.hooks = hooks;
	conf.nhooks = 2;
	store_hook_id(d.store, hooks[0].name, &ids[0]);
	store_hook_id(d.store, hooks[1].name, &ids[1]);
	rt.conf = &conf;
	rt.hook_ids = ids;
	commits();

	if ((text = metrics_render(&d, &len)) == NULL)
		return 1;
	ok(strlen(text) == len, "the length given is the text's");
	ok(strstr(text, "spoold_hook_records{hook=\"a\\\"b\\\\c\\nd\","
	    "state=\"ready\"} 2\n") != NULL, "\\, \" and newline escaped in "
	    "a label value");
	is_int(lines(text, "spoold_hook_workers{hook=\"a\\\"b\\\\c\\nd\"} "),
	    1, "once in each family of a hook");
	is_int(lines(text, "spoold_hook_workers{"), 2, "two hooks' workers");
	snprintf(want, sizeof(want), "spoold_hook_workers{hook=\"plain\"} "
	    "%u\n", ids[0] + 20);
	ok(strstr(text, want) != NULL, "the scheduler's figures");
	is_int(lines(text, "# HELP "), 28, "28 families with a HELP");
	is_int(lines(text, "# TYPE "), 28, "and a TYPE");
	ok(strstr(text, "\nspoold_source_records_total{source=\"kumo\"} 1234\n")
	    != NULL && strstr(text, "\nspoold_source_invalid_lines_total{"
	    "source=\"kumo\"} 3\n") != NULL && strstr(text,
	    "\nspoold_source_behind_bytes{source=\"kumo\"} 4096\n") != NULL,
	    "a source's counts");
	ok(strstr(text, "spoold_source_state{source=\"kumo\",state=\"reading\"}"
	    " 0\n") != NULL && strstr(text, "spoold_source_state{source="
	    "\"kumo\",state=\"failed\"} 1\n") != NULL && lines(text,
	    "spoold_source_state{") == 4, "a source's state, one of four");
	ok(strstr(text, "spoold_hook_throttled_seconds_total{hook=\"plain\","
	    "limit=\"connection_limit\"} 0.000\n"
	    "spoold_hook_throttled_seconds_total{hook=\"plain\","
	    "limit=\"max_connection_rate\"} 0.000\n"
	    "spoold_hook_throttled_seconds_total{hook=\"plain\","
	    "limit=\"max_message_rate\"} 2.500\n") != NULL,
	    "time throttled by each limit, in seconds");
	ok(strstr(text, "spoold_hook_throttle_warnings_total{hook=\"plain\","
	    "limit=\"max_message_rate\"} 1\n") != NULL,
	    "throttle warnings by limit");
	ok(strstr(text, "\nspoold_ingest_connections 7\n") != NULL &&
	    strstr(text, "\nspoold_ingest_connections_refused_total 8\n") !=
	    NULL && strstr(text,
	    "\nspoold_ingest_connections_timed_out_total 9\n") != NULL,
	    "the ingest server's connection figures");
	ok(strstr(text, "# TYPE spoold_hook_records gauge\n"
	    "spoold_hook_records{hook=\"plain\",state=\"ready\"} 1\n"
	    "spoold_hook_records{hook=\"plain\",state=\"deferred\"} 0\n"
	    "spoold_hook_records{hook=\"plain\",state=\"in_flight\"} 10\n"
	    "spoold_hook_records{hook=\"plain\",state=\"held\"} 0\n"
	    "spoold_hook_records{hook=\"plain\",state=\"dead\"} 0\n"
	    "spoold_hook_records{hook=\"a\\\"b\\\\c\\nd\",state=\"ready\"}")
	    != NULL, "a family's samples follow its HELP and TYPE");
	ok(strstr(text, "spoold_hook_oldest_record_age_seconds{hook=\"plain\"} "
	    "1.500\n") != NULL, "the oldest record's age in seconds");
	ok(strstr(text, "spoold_hook_answers_total{hook=\"plain\","
	    "class=\"4xx\"} 3\n") != NULL && lines(text,
	    "spoold_hook_answers_total{hook=\"plain\"") == 6,
	    "an http hook's answers by status class");
	ok(strstr(text, "spoold_hook_request_duration_seconds_bucket{hook="
	    "\"plain\",le=\"0.0005\"} 0\n"
	    "spoold_hook_request_duration_seconds_bucket{hook=\"plain\","
	    "le=\"0.001\"} 1\n") != NULL && strstr(text,
	    "spoold_hook_request_duration_seconds_bucket{hook=\"plain\","
	    "le=\"10\"} 1\n"
	    "spoold_hook_request_duration_seconds_bucket{hook=\"plain\","
	    "le=\"+Inf\"} 2\n"
	    "spoold_hook_request_duration_seconds_sum{hook=\"plain\"} "
	    "20.000700\n"
	    "spoold_hook_request_duration_seconds_count{hook=\"plain\"} 2\n")
	    != NULL, "a histogram's buckets cumulative, its sum and count");
	ok(strstr(text, "spoold_ingest_refusals_total{reason=\"not_found\"} "
	    "1\n") != NULL && strstr(text, "spoold_ingest_refusals_total{"
	    "reason=\"bad_request\"} 1\n") != NULL && strstr(text,
	    "spoold_ingest_refusals_total{reason=\"connections\"} 8\n") !=
	    NULL, "refusals by reason, 200 not one");
	ok(strstr(text, "spoold_ingest_request_duration_seconds_bucket{"
	    "le=\"0.0005\"} 1\n") != NULL && strstr(text,
	    "spoold_ingest_request_duration_seconds_count 3\n") != NULL,
	    "the ingest requests' latency");
	ok(strstr(text, "spoold_commit_jobs_total{kind=\"ingest\"} 1\n"
	    "spoold_commit_jobs_total{kind=\"outcomes\"} 1\n") != NULL,
	    "jobs by kind, the refused one not counted");
	ok(strstr(text, "spoold_commits_total 1\n") != NULL, "one commit");
	ok(strstr(text, "spoold_commit_duration_seconds_bucket{le=\"0.0025\"} "
	    "1\n") != NULL && strstr(text,
	    "spoold_commit_duration_seconds_sum 0.001500\n") != NULL,
	    "its time in seconds");
	ok(strstr(text, "spoold_ingest_requests_total{code=\"404\"} 1\n") !=
	    NULL && strstr(text, "spoold_ingest_requests_total{code=\"other\"}"
	    " 1\n") != NULL, "answers by code, and other");
	free(text);

	store_close(d.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
