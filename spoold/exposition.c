/*
 * GET /metrics in the Prometheus text format, version 0.0.4: the
 * counters of metrics.c, the ingest server's connections, and per-hook
 * figures read from the spool and the scheduler when scraped. Each
 * family is written whole, HELP and TYPE first: parsers take a family
 * met again further on for a second family of the name.
 */
#include <stdio.h>
#include <stdlib.h>

#include "exposition.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"
#include "spoold.h"

/* What each hook's families show, in the order of hook_families. */
enum {
	HV_READY, HV_DEFERRED, HV_DEAD, HV_IN_FLIGHT, HV_WORKERS,
	HV_DELIVERED, HV_FAILED, HV_COUNT
};

static const char *const states[] = { "ready", "deferred", "dead" };

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 first;		/* HV_* */
	int		 nstates;	/* >1: by state, states[0...] */
} hook_families[] = {
	{ "spoold_hook_records", "gauge", "Records queued for a hook, by "
	    "state: ready, deferred (waiting for a retry) or dead.",
	    HV_READY, 3 },
	{ "spoold_hook_in_flight_records", "gauge", "Records handed to a "
	    "hook's workers and not yet answered; spoold_hook_records counts "
	    "them as ready or deferred too.", HV_IN_FLIGHT, 1 },
	{ "spoold_hook_workers", "gauge", "Delivery workers running for a "
	    "hook.", HV_WORKERS, 1 },
	{ "spoold_hook_delivered_total", "counter", "Records delivered to a "
	    "hook since the spool was made.", HV_DELIVERED, 1 },
	{ "spoold_hook_failed_total", "counter", "Records that failed for "
	    "good at a hook since the spool was made.", HV_FAILED, 1 },
};
#define NHOOK_FAMILIES	(sizeof(hook_families) / sizeof(hook_families[0]))

struct hook_values {
	const char	*name;
	int		 ok;
	uint64_t	 v[HV_COUNT];
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

static void
hook_values(struct spoold *d, struct live *rt, struct hook_values *hv)
{
	struct store_counts	 c;
	size_t			 h;

	for (h = 0; h < rt->conf->nhooks; h++) {
		hv[h].name = rt->conf->hooks[h].name;
		if (store_counts(d->store, rt->hook_ids[h], &c) == -1)
			continue;
		hv[h].ok = 1;
		hv[h].v[HV_READY] = c.ready;
		hv[h].v[HV_DEFERRED] = c.deferred;
		hv[h].v[HV_DEAD] = c.dead;
		hv[h].v[HV_DELIVERED] = c.delivered;
		hv[h].v[HV_FAILED] = c.failed;
		sched_stats(rt->hook_ids[h], &hv[h].v[HV_IN_FLIGHT],
		    &hv[h].v[HV_WORKERS]);
	}
}

static int
render_hooks(FILE *fp, struct spoold *d)
{
	struct live		*rt = live_get();
	struct hook_values	*hv;
	size_t			 f, h;
	int			 s;

	if ((hv = calloc(rt->conf->nhooks + 1, sizeof(*hv))) == NULL) {
		live_put(rt);
		return -1;
	}
	hook_values(d, rt, hv);
	for (f = 0; f < NHOOK_FAMILIES; f++) {
		family(fp, hook_families[f].name, hook_families[f].type,
		    hook_families[f].help);
		for (h = 0; h < rt->conf->nhooks; h++) {
			if (!hv[h].ok)
				continue;
			for (s = 0; s < hook_families[f].nstates; s++) {
				fprintf(fp, "%s{hook=\"", hook_families[f].name);
				put_escaped(fp, hv[h].name, 1);
				if (hook_families[f].nstates > 1)
					fprintf(fp, "\",state=\"%s", states[s]);
				fprintf(fp, "\"} %llu\n", (unsigned long long)
				    hv[h].v[hook_families[f].first + s]);
			}
		}
	}
	free(hv);
	live_put(rt);
	return 0;
}

static void
render_ingest(FILE *fp, const struct metrics_counts *m)
{
	size_t	 i;

	family(fp, "spoold_ingest_requests_total", "counter", "Answers of "
	    "the ingest listener by HTTP status code, but for those to GET "
	    "or HEAD of /health and /metrics.");
	for (i = 0; i < METRICS_NCODES; i++)
		fprintf(fp, "spoold_ingest_requests_total{code=\"%u\"} %llu\n",
		    metrics_codes[i], (unsigned long long)m->requests[i]);
	fprintf(fp, "spoold_ingest_requests_total{code=\"other\"} %llu\n",
	    (unsigned long long)m->requests[METRICS_NCODES]);
	family(fp, "spoold_ingest_records_total", "counter", "Records of "
	    "requests answered 200, by result: queued for hooks, or "
	    "discarded as no hook takes their type.");
	fprintf(fp, "spoold_ingest_records_total{result=\"queued\"} %llu\n"
	    "spoold_ingest_records_total{result=\"discarded\"} %llu\n",
	    (unsigned long long)m->queued,
	    (unsigned long long)m->discarded);
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
render_connections(FILE *fp)
{
	struct server_stats	 st;

	server_stats(&st);
	single(fp, "spoold_ingest_connections", "gauge", "Connections open "
	    "to the ingest listener.", st.open);
	single(fp, "spoold_ingest_connections_refused_total", "counter",
	    "Connections closed as soon as accepted: over max_connections "
	    "or max_connections_per_client.", st.refused);
	single(fp, "spoold_ingest_connections_timed_out_total", "counter",
	    "Requests cut off: a head not whole within "
	    "client_header_timeout, or a body or answer stalled for "
	    "client_idle_timeout.", st.timed_out);
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
	family(fp, "spoold_commit_seconds_total", "counter", "Time spent "
	    "in group commits.");
	fprintf(fp, "spoold_commit_seconds_total %.3f\n",
	    m->commit_ms / 1000.0);
}

char *
metrics_render(struct spoold *d, size_t *len)
{
	struct metrics_counts	 m;
	FILE			*fp;
	char			*buf = NULL;
	uint64_t		 used, map, max;
	int			 rc;

	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	metrics_read(&m);
	render_ingest(fp, &m);
	render_connections(fp);
	render_commits(fp, &m);
	store_usage(d->store, &used, &map, &max);
	family(fp, "spoold_spool_bytes", "gauge", "The spool's size, by "
	    "kind: used, the LMDB map, and the max, max_spool_size.");
	fprintf(fp, "spoold_spool_bytes{kind=\"used\"} %llu\n"
	    "spoold_spool_bytes{kind=\"map\"} %llu\n"
	    "spoold_spool_bytes{kind=\"max\"} %llu\n",
	    (unsigned long long)used, (unsigned long long)map,
	    (unsigned long long)max);
	rc = render_hooks(fp, d);
	if (fclose(fp) != 0 || rc == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}
