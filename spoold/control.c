/*
 * The control API behind spoolctl:
 *
 *   GET  /status    counts per hook, as spoolctl status --json prints them
 *   POST /inject    NDJSON records, validated and committed as ingest does
 *
 * It needs no token: the socket's mode keeps everyone but its owner out.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "httpd.h"
#include "ingest.h"
#include "scheduler.h"
#include "spoold.h"

static json_t *
hook_status(struct routes *rt, size_t h)
{
	struct store_counts	 c;
	uint32_t		 id = rt->hook_ids[h];
	uint64_t		 in_flight, workers;

	if (store_counts(sd->store, id, &c) == -1)
		return NULL;
	sched_stats(id, &in_flight, &workers);
	return json_pack("{sIsIsIsbsIsIsIsI}",
	    "ready", (json_int_t)c.ready,
	    "deferred", (json_int_t)c.deferred,
	    "in_flight", (json_int_t)in_flight,
	    "held", store_held(sd->store, id),
	    "dead", (json_int_t)c.dead,
	    "delivered", (json_int_t)c.delivered,
	    "failed", (json_int_t)c.failed,
	    "workers", (json_int_t)workers);
}

static enum MHD_Result
status(struct MHD_Connection *conn)
{
	struct routes	*rt;
	json_t		*hooks, *h;
	uint64_t	 used, map, max;
	size_t		 i;

	rt = routes_get();
	hooks = json_object();
	for (i = 0; i < rt->conf->nhooks; i++) {
		if ((h = hook_status(rt, i)) == NULL) {
			routes_put(rt);
			json_decref(hooks);
			return http_error(conn, 500, "cannot read the spool");
		}
		json_object_set_new(hooks, rt->conf->hooks[i].name, h);
	}
	routes_put(rt);
	store_usage(sd->store, &used, &map, &max);
	return http_reply_json(conn, 200, json_pack("{sos{sIsIsI}}",
	    "hooks", hooks, "spool", "used_bytes", (json_int_t)used,
	    "map_bytes", (json_int_t)map, "max_bytes", (json_int_t)max),
	    NULL, NULL);
}

static enum MHD_Result
inject(struct MHD_Connection *conn, struct http_req *r)
{
	struct answer	 a;

	if (r->too_large)
		return http_error(conn, 413, "request body larger than "
		    "max_request_size (%zu bytes)", r->limit);
	ingest_body(r->body, r->len, BODY_NDJSON, &a);
	return ingest_answer(conn, &a);
}

static enum MHD_Result
inject_start(struct MHD_Connection *conn, struct http_req *r)
{
	struct routes	*rt;

	if (atomic_load(&sd->stopping)) {
		r->answered = 1;
		return http_unavailable(conn, "spoold is stopping", 5);
	}
	rt = routes_get();
	r->limit = rt->conf->max_request_size;
	routes_put(rt);
	atomic_fetch_add(&sd->inflight, 1);
	r->on_done = ingest_finished;
	return MHD_YES;
}

enum MHD_Result
control_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct http_req	*r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = http_req(con_cls)) == NULL)
			return MHD_NO;
		if (strcmp(url, "/status") == 0) {
			r->answered = 1;
			if (strcmp(method, "GET") != 0)
				return http_not_allowed(conn, "GET");
			return status(conn);
		}
		if (strcmp(url, "/inject") == 0) {
			if (strcmp(method, "POST") != 0) {
				r->answered = 1;
				return http_not_allowed(conn, "POST");
			}
			return inject_start(conn, r);
		}
		r->answered = 1;
		return http_error(conn, 404, "no such command: %s", url);
	}
	if (*size > 0)
		return http_body(r, data, size);
	if (r->answered)
		return MHD_YES;
	r->answered = 1;
	return inject(conn, r);
}
