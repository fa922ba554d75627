/*
 * GET /metrics in the Prometheus text format, version 0.0.4: the
 * counters of metrics.c, the ingest server's connections, and per-hook
 * figures read from the spool and the scheduler when scraped. Each
 * family is written whole, HELP and TYPE first: parsers take a family
 * met again further on for a second family of the name.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "exposition.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"
#include "source.h"
#include "spoold.h"

/* A hook as its families see it. */
struct hook_row {
	const struct hook	*cfg;
	struct hook_status	 st;
};

typedef void	(*hook_samples)(FILE *, const char *, const struct hook_row *);

static void	put_records(FILE *, const char *, const struct hook_row *);
static void	put_oldest(FILE *, const char *, const struct hook_row *);
static void	put_outcomes(FILE *, const char *, const struct hook_row *);
static void	put_delivered(FILE *, const char *, const struct hook_row *);
static void	put_failed(FILE *, const char *, const struct hook_row *);
static void	put_answers(FILE *, const char *, const struct hook_row *);
static void	put_latency(FILE *, const char *, const struct hook_row *);
static void	put_workers(FILE *, const char *, const struct hook_row *);
static void	put_connections(FILE *, const char *, const struct hook_row *);
static void	put_throttled(FILE *, const char *, const struct hook_row *);
static void	put_throttle_warnings(FILE *, const char *,
		    const struct hook_row *);

/* Each hook's families: one more is a line here and its put_ function. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	hook_samples	 put;
} hook_families[] = {
	{ "spoold_hook_records", "gauge", "Records the spool holds for a "
	    "hook, each in one state: ready (due, waiting for a worker), "
	    "deferred (waiting for a retry), in_flight (with a worker), held "
	    "(queued while the hook is held) or dead.", put_records },
	{ "spoold_hook_oldest_record_age_seconds", "gauge", "Time since the "
	    "oldest record queued for a hook (ready, deferred, in flight or "
	    "held; not dead) was received; 0 when none is.", put_oldest },
	{ "spoold_hook_outcomes_total", "counter", "Delivery outcomes "
	    "committed since spoold started, by outcome: delivered, "
	    "transient (to be retried), permanent (dead-lettered by the "
	    "answer) or expired (dead-lettered past max_age).",
	    put_outcomes },
	{ "spoold_hook_delivered_total", "counter", "Records delivered to a "
	    "hook since the spool was made.", put_delivered },
	{ "spoold_hook_failed_total", "counter", "Records that failed for "
	    "good at a hook since the spool was made.", put_failed },
	{ "spoold_hook_answers_total", "counter", "Answers to delivery "
	    "requests since spoold started, by class: for http hooks the "
	    "status class 2xx, 3xx, 4xx, 5xx, other, or none (no answer); "
	    "for AMQP and Kafka the batch's outcome, delivered, transient or "
	    "permanent.", put_answers },
	{ "spoold_hook_request_duration_seconds", "histogram", "Time from a "
	    "batch being handed to a worker to its answer, queueing behind "
	    "the worker's earlier batches included.", put_latency },
	{ "spoold_hook_workers", "gauge", "Delivery workers running for a "
	    "hook.", put_workers },
	{ "spoold_hook_connections_opened_total", "counter", "Delivery "
	    "requests since spoold started that opened a connection to the "
	    "hook (or its broker).", put_connections },
	{ "spoold_hook_throttled_seconds_total", "counter", "Time since "
	    "spoold started that a shaping limit held a hook back with "
	    "records due, by limit: connection_limit, max_connection_rate "
	    "or max_message_rate.", put_throttled },
	{ "spoold_hook_throttle_warnings_total", "counter", "Warnings "
	    "logged since spoold started that a limit held a hook back while "
	    "its backlog grew, by limit.", put_throttle_warnings },
};
#define NHOOK_FAMILIES	(sizeof(hook_families) / sizeof(hook_families[0]))

static const char *const outcome_names[OUTCOME_COUNT] = {
	[OUTCOME_DELIVERED] = "delivered",
	[OUTCOME_TRANSIENT] = "transient",
	[OUTCOME_PERMANENT] = "permanent",
	[OUTCOME_EXPIRED] = "expired",
};

static const char *const answer_names[ANSWER_COUNT] = {
	[ANSWER_2XX] = "2xx", [ANSWER_3XX] = "3xx", [ANSWER_4XX] = "4xx",
	[ANSWER_5XX] = "5xx", [ANSWER_OTHER] = "other", [ANSWER_NONE] = "none",
	[ANSWER_DELIVERED] = "delivered", [ANSWER_TRANSIENT] = "transient",
	[ANSWER_PERMANENT] = "permanent",
};

/* Label values escape \, " and newline; HELP text \ and newline. */
static void
put_escaped(FILE *fp, const char *s, int label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '"' && label)
			fputs("\\\"", fp);
		else
			putc(*s, fp);
	}
}

static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s ", name);
	put_escaped(fp, help, 0);
	fprintf(fp, "\n# TYPE %s %s\n", name, type);
}

/*
 * A sample's name and labels up to the value: whose it is (key="who",
 * a hook or a source), if anyone's, and one more label, if any.
 */
static void
labeled(FILE *fp, const char *name, const char *suffix, const char *key,
    const char *who, const char *label, const char *value)
{
	const char	*sep = "{";

	fprintf(fp, "%s%s", name, suffix);
	if (who != NULL) {
		fprintf(fp, "{%s=\"", key);
		put_escaped(fp, who, 1);
		putc('"', fp);
		sep = ",";
	}
	if (label != NULL) {
		fprintf(fp, "%s%s=\"%s\"", sep, label, value);
		sep = ",";
	}
	fputs(*sep == ',' ? "} " : " ", fp);
}

static void
sample(FILE *fp, const char *name, const char *suffix, const char *hook,
    const char *label, const char *value)
{
	labeled(fp, name, suffix, "hook", hook, label, value);
}

static void
put_u64(FILE *fp, uint64_t v)
{
	fprintf(fp, "%llu\n", (unsigned long long)v);
}

/* The samples of a histogram; its bounds are cumulative. */
static void
put_hist(FILE *fp, const char *name, const char *hook, const struct hist *h)
{
	char		 le[32];
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i <= HIST_NBOUNDS; i++) {
		if (i < HIST_NBOUNDS)
			snprintf(le, sizeof(le), "%g",
			    hist_bounds_us[i] / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		n += h->bucket[i];
		sample(fp, name, "_bucket", hook, "le", le);
		put_u64(fp, n);
	}
	sample(fp, name, "_sum", hook, NULL, NULL);
	fprintf(fp, "%.6f\n", h->sum_us / 1e6);
	sample(fp, name, "_count", hook, NULL, NULL);
	put_u64(fp, n);
}

static void
put_records(FILE *fp, const char *name, const struct hook_row *r)
{
	const struct store_states	*s = &r->st.states;
	const char			*names[] = { "ready", "deferred",
	    "in_flight", "held", "dead" };
	uint64_t			 v[] = { s->ready, s->deferred,
	    s->in_flight, s->held, s->dead };
	size_t				 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sample(fp, name, "", r->cfg->name, "state", names[i]);
		put_u64(fp, v[i]);
	}
}

static void
put_oldest(FILE *fp, const char *name, const struct hook_row *r)
{
	sample(fp, name, "", r->cfg->name, NULL, NULL);
	fprintf(fp, "%.3f\n", r->st.oldest_ms / 1000.0);
}

/* One sample a shaping limit, of ms in seconds or of counts. */
static void
put_by_limit(FILE *fp, const char *name, const char *hook,
    const uint64_t v[THR_N], int ms)
{
	int	 i;

	for (i = THR_NONE + 1; i < THR_N; i++) {
		sample(fp, name, "", hook, "limit", throttle_key[i]);
		if (ms)
			fprintf(fp, "%.3f\n", v[i] / 1000.0);
		else
			put_u64(fp, v[i]);
	}
}

static void
put_throttled(FILE *fp, const char *name, const struct hook_row *r)
{
	put_by_limit(fp, name, r->cfg->name, r->st.sched.throttled_ms, 1);
}

static void
put_throttle_warnings(FILE *fp, const char *name, const struct hook_row *r)
{
	put_by_limit(fp, name, r->cfg->name, r->st.sched.throttle_warnings,
	    0);
}

static void
put_outcomes(FILE *fp, const char *name, const struct hook_row *r)
{
	size_t	 i;

	for (i = 0; i < OUTCOME_COUNT; i++) {
		sample(fp, name, "", r->cfg->name, "outcome",
		    outcome_names[i]);
		put_u64(fp, r->st.sched.c.outcomes[i]);
	}
}

static void
put_delivered(FILE *fp, const char *name, const struct hook_row *r)
{
	sample(fp, name, "", r->cfg->name, NULL, NULL);
	put_u64(fp, r->st.counts.delivered);
}

static void
put_failed(FILE *fp, const char *name, const struct hook_row *r)
{
	sample(fp, name, "", r->cfg->name, NULL, NULL);
	put_u64(fp, r->st.counts.failed);
}

/* An http hook's classes are statuses', a broker's outcomes'. */
static void
put_answers(FILE *fp, const char *name, const struct hook_row *r)
{
	size_t	 i, from = 0, to = ANSWER_NONE;

	if (r->cfg->transport != TRANSPORT_HTTP) {
		from = ANSWER_DELIVERED;
		to = ANSWER_PERMANENT;
	}
	for (i = from; i <= to; i++) {
		sample(fp, name, "", r->cfg->name, "class", answer_names[i]);
		put_u64(fp, r->st.sched.c.answers[i]);
	}
}

static void
put_latency(FILE *fp, const char *name, const struct hook_row *r)
{
	put_hist(fp, name, r->cfg->name, &r->st.sched.c.request_time);
}

static void
put_workers(FILE *fp, const char *name, const struct hook_row *r)
{
	sample(fp, name, "", r->cfg->name, NULL, NULL);
	put_u64(fp, r->st.sched.workers);
}

static void
put_connections(FILE *fp, const char *name, const struct hook_row *r)
{
	sample(fp, name, "", r->cfg->name, NULL, NULL);
	put_u64(fp, r->st.sched.c.connections);
}

/* A hook whose spool figures cannot be read is left out. */
static size_t
hook_rows(struct live *rt, struct hook_row *rows)
{
	size_t	 h, n = 0;

	for (h = 0; h < rt->conf->nhooks; h++) {
		rows[n].cfg = &rt->conf->hooks[h];
		if (sched_hook_status(rt->hook_ids[h], &rows[n].st) == 0)
			n++;
	}
	return n;
}

static int
render_hooks(FILE *fp)
{
	struct live	*rt = live_get();
	struct hook_row	*rows;
	size_t		 f, h, n;

	if ((rows = calloc(rt->conf->nhooks + 1, sizeof(*rows))) == NULL) {
		live_put(rt);
		return -1;
	}
	n = hook_rows(rt, rows);
	for (f = 0; f < NHOOK_FAMILIES; f++) {
		family(fp, hook_families[f].name, hook_families[f].type,
		    hook_families[f].help);
		for (h = 0; h < n; h++)
			hook_families[f].put(fp, hook_families[f].name,
			    &rows[h]);
	}
	free(rows);
	live_put(rt);
	return 0;
}

/* A family of one sample, without labels. */
static void
single(FILE *fp, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(fp, name, type, help);
	fprintf(fp, "%s %llu\n", name, (unsigned long long)v);
}

static void
render_ingest(FILE *fp, const struct metrics_counts *m,
    const struct server_stats *st)
{
	char	 code[16];
	size_t	 i;

	family(fp, "spoold_ingest_requests_total", "counter", "Answers of "
	    "the ingest listener by HTTP status code, but for those to GET "
	    "or HEAD of /health and /metrics.");
	for (i = 0; i <= METRICS_NCODES; i++) {
		if (i < METRICS_NCODES)
			snprintf(code, sizeof(code), "%u", metrics_codes[i]);
		else
			snprintf(code, sizeof(code), "other");
		sample(fp, "spoold_ingest_requests_total", "", NULL, "code",
		    code);
		put_u64(fp, m->requests[i]);
	}
	family(fp, "spoold_ingest_refusals_total", "counter", "Requests "
	    "the ingest listener answered otherwise than 200, by reason, "
	    "and connections it closed as soon as accepted (connections).");
	for (i = 0; i < REF_COUNT; i++) {
		sample(fp, "spoold_ingest_refusals_total", "", NULL, "reason",
		    metrics_refusals[i]);
		put_u64(fp, m->refusals[i]);
	}
	sample(fp, "spoold_ingest_refusals_total", "", NULL, "reason",
	    "connections");
	put_u64(fp, st->refused);
	family(fp, "spoold_ingest_records_total", "counter", "Records of "
	    "requests answered 200, by result: queued for hooks, or "
	    "discarded as no hook takes their type.");
	fprintf(fp, "spoold_ingest_records_total{result=\"queued\"} %llu\n"
	    "spoold_ingest_records_total{result=\"discarded\"} %llu\n",
	    (unsigned long long)m->queued,
	    (unsigned long long)m->discarded);
	family(fp, "spoold_ingest_request_duration_seconds", "histogram",
	    "Time from the first byte of a request's head to its answer, "
	    "for the requests spoold_ingest_requests_total counts; a POST "
	    "/log answered 200 waited for its fsynced commit.");
	put_hist(fp, "spoold_ingest_request_duration_seconds", NULL,
	    &m->request_time);
}

static void
render_connections(FILE *fp, const struct server_stats *st)
{
	single(fp, "spoold_ingest_connections", "gauge", "Connections open "
	    "to the ingest listener.", st->open);
	single(fp, "spoold_ingest_connections_refused_total", "counter",
	    "Connections closed as soon as accepted: over max_connections "
	    "or max_connections_per_client.", st->refused);
	single(fp, "spoold_ingest_connections_timed_out_total", "counter",
	    "Requests cut off: a head not whole within "
	    "client_header_timeout, or a body or answer stalled for "
	    "client_idle_timeout.", st->timed_out);
}

static void
render_commits(FILE *fp, const struct metrics_counts *m)
{
	single(fp, "spoold_commits_total", "counter", "Group commits: "
	    "writes of the queued jobs to the spool, fsynced.", m->commits);
	family(fp, "spoold_commit_jobs_total", "counter", "Jobs the group "
	    "commits made durable, by kind: ingest, the records of one "
	    "request to POST /log; outcomes, delivery outcomes the "
	    "scheduler handed over together.");
	fprintf(fp, "spoold_commit_jobs_total{kind=\"ingest\"} %llu\n"
	    "spoold_commit_jobs_total{kind=\"outcomes\"} %llu\n",
	    (unsigned long long)m->jobs_ingest,
	    (unsigned long long)m->jobs_outcomes);
	family(fp, "spoold_commit_duration_seconds", "histogram", "Time of "
	    "each group commit, its fsync included.");
	put_hist(fp, "spoold_commit_duration_seconds", NULL, &m->commit_time);
}

static void
render_spool(FILE *fp, struct spoold *d)
{
	uint64_t	 used, map, max;

	store_usage(d->store, &used, &map, &max);
	family(fp, "spoold_spool_bytes", "gauge", "The spool's size, by "
	    "kind: used, the LMDB map, and the max, max_spool_size.");
	fprintf(fp, "spoold_spool_bytes{kind=\"used\"} %llu\n"
	    "spoold_spool_bytes{kind=\"map\"} %llu\n"
	    "spoold_spool_bytes{kind=\"max\"} %llu\n",
	    (unsigned long long)used, (unsigned long long)map,
	    (unsigned long long)max);
}

/* Each source's families; none when no source is configured. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 off;	/* of the uint64_t in struct source_status */
} source_families[] = {
	{ "spoold_source_records_total", "counter", "Records a log source "
	    "read into the spool, all told (kept with its checkpoint).",
	    offsetof(struct source_status, at.records) },
	{ "spoold_source_invalid_lines_total", "counter", "Lines of a "
	    "source's segments that were no valid record, skipped, since "
	    "spoold started.", offsetof(struct source_status, invalid) },
	{ "spoold_source_missing_segments_total", "counter", "Segments "
	    "deleted before the source read them to their end, since spoold "
	    "started.", offsetof(struct source_status, missing) },
	{ "spoold_source_behind_segments", "gauge", "Segments the source "
	    "has not read to their end, the current one included.",
	    offsetof(struct source_status, behind_segments) },
	{ "spoold_source_behind_bytes", "gauge", "Bytes on disk of the "
	    "segments not yet read, from the current one's read position.",
	    offsetof(struct source_status, behind_bytes) },
};

static void
render_sources(FILE *fp)
{
	struct source_status	*st;
	size_t			 f, i, n;
	int			 k;

	if ((st = sources_status(&n)) == NULL)
		return;
	for (f = 0; f < sizeof(source_families) / sizeof(source_families[0]);
	    f++) {
		family(fp, source_families[f].name, source_families[f].type,
		    source_families[f].help);
		for (i = 0; i < n; i++) {
			labeled(fp, source_families[f].name, "", "source",
			    st[i].name, NULL, NULL);
			put_u64(fp, *(const uint64_t *)((const char *)&st[i] +
			    source_families[f].off));
		}
	}
	family(fp, "spoold_source_state", "gauge", "1 for the state a source "
	    "is in: reading, waiting (all read), paused (the spool is full) "
	    "or failed (stopped at a corrupt or truncated segment).");
	for (i = 0; i < n; i++)
		for (k = 0; k < SOURCE_STOPPED; k++) {
			labeled(fp, "spoold_source_state", "", "source",
			    st[i].name, "state", source_state_names[k]);
			put_u64(fp, st[i].state == k);
		}
	free(st);
}

char *
metrics_render(struct spoold *d, size_t *len)
{
	struct metrics_counts	 m;
	struct server_stats	 st;
	FILE			*fp;
	char			*buf = NULL;
	int			 rc;

	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	metrics_read(&m);
	server_stats(&st);
	render_ingest(fp, &m, &st);
	render_connections(fp, &st);
	render_commits(fp, &m);
	render_spool(fp, d);
	rc = render_hooks(fp);
	render_sources(fp);
	if (fclose(fp) != 0 || rc == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}
