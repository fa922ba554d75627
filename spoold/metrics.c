/*
 * Counters for GET /metrics in the Prometheus text format. Request and
 * commit counters are process-wide atomics; the per-hook gauges are read
 * from the spool when scraped.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "scheduler.h"
#include "spoold.h"

static const unsigned int codes[] = { 200, 400, 401, 404, 405, 413, 415,
    500, 503 };
#define NCODES	(sizeof(codes) / sizeof(codes[0]))

static atomic_ullong	 m_requests[NCODES + 1];	/* last: other */
static atomic_ullong	 m_queued, m_discarded;
static atomic_ullong	 m_commits, m_commit_requests, m_commit_ms;

void
metrics_request(unsigned int status)
{
	size_t	 i;

	for (i = 0; i < NCODES && codes[i] != status; i++)
		;
	atomic_fetch_add(&m_requests[i], 1);
}

void
metrics_records(uint64_t queued, uint64_t discarded)
{
	atomic_fetch_add(&m_queued, queued);
	atomic_fetch_add(&m_discarded, discarded);
}

void
metrics_commit(size_t requests, uint64_t ms)
{
	atomic_fetch_add(&m_commits, 1);
	atomic_fetch_add(&m_commit_requests, requests);
	atomic_fetch_add(&m_commit_ms, ms);
}

static void
render_hooks(FILE *fp, struct spoold *d)
{
	struct routes		*rt = routes_get();
	struct store_counts	 c;
	const char		*name;
	uint64_t		 in_flight, workers;
	size_t			 h;

	fputs("# TYPE spoold_hook_records gauge\n"
	    "# TYPE spoold_hook_workers gauge\n"
	    "# TYPE spoold_hook_delivered_total counter\n"
	    "# TYPE spoold_hook_failed_total counter\n", fp);
	for (h = 0; h < rt->conf->nhooks; h++) {
		name = rt->conf->hooks[h].name;
		if (store_counts(d->store, rt->hook_ids[h], &c) == -1)
			continue;
		fprintf(fp, "spoold_hook_records{hook=\"%s\",state=\"ready\"} "
		    "%llu\n", name, (unsigned long long)c.ready);
		fprintf(fp, "spoold_hook_records{hook=\"%s\",state=\"deferred\"} "
		    "%llu\n", name, (unsigned long long)c.deferred);
		fprintf(fp, "spoold_hook_records{hook=\"%s\",state=\"dead\"} "
		    "%llu\n", name, (unsigned long long)c.dead);
		sched_stats(rt->hook_ids[h], &in_flight, &workers);
		fprintf(fp, "spoold_hook_records{hook=\"%s\",state=\"in_flight\"} "
		    "%llu\n", name, (unsigned long long)in_flight);
		fprintf(fp, "spoold_hook_workers{hook=\"%s\"} %llu\n", name,
		    (unsigned long long)workers);
		fprintf(fp, "spoold_hook_delivered_total{hook=\"%s\"} %llu\n",
		    name, (unsigned long long)c.delivered);
		fprintf(fp, "spoold_hook_failed_total{hook=\"%s\"} %llu\n",
		    name, (unsigned long long)c.failed);
	}
	routes_put(rt);
}

char *
metrics_render(struct spoold *d, size_t *len)
{
	FILE		*fp;
	char		*buf = NULL;
	uint64_t	 used, map, max;
	size_t		 i;

	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	fputs("# TYPE spoold_ingest_requests_total counter\n", fp);
	for (i = 0; i < NCODES; i++)
		fprintf(fp, "spoold_ingest_requests_total{code=\"%u\"} %llu\n",
		    codes[i], atomic_load(&m_requests[i]));
	fprintf(fp, "spoold_ingest_requests_total{code=\"other\"} %llu\n",
	    atomic_load(&m_requests[NCODES]));
	fprintf(fp, "# TYPE spoold_ingest_records_total counter\n"
	    "spoold_ingest_records_total{result=\"queued\"} %llu\n"
	    "spoold_ingest_records_total{result=\"discarded\"} %llu\n",
	    atomic_load(&m_queued), atomic_load(&m_discarded));
	fprintf(fp, "# TYPE spoold_commits_total counter\n"
	    "spoold_commits_total %llu\n"
	    "# TYPE spoold_commit_requests_total counter\n"
	    "spoold_commit_requests_total %llu\n"
	    "# TYPE spoold_commit_seconds_total counter\n"
	    "spoold_commit_seconds_total %.3f\n",
	    atomic_load(&m_commits), atomic_load(&m_commit_requests),
	    atomic_load(&m_commit_ms) / 1000.0);
	store_usage(d->store, &used, &map, &max);
	fprintf(fp, "# TYPE spoold_spool_bytes gauge\n"
	    "spoold_spool_bytes{kind=\"used\"} %llu\n"
	    "spoold_spool_bytes{kind=\"map\"} %llu\n"
	    "spoold_spool_bytes{kind=\"max\"} %llu\n",
	    (unsigned long long)used, (unsigned long long)map,
	    (unsigned long long)max);
	render_hooks(fp, d);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
