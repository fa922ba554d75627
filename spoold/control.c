/*
 * The control API behind spoolctl:
 *
 *   GET  /status    counts per hook, as spoolctl status --json prints them
 *   POST /inject    NDJSON records, validated and committed as ingest does
 *   GET  /list      ?hook=NAME&state=ready|deferred|dead&limit=N&from=CURSOR
 *   GET  /show      ?id=HEX
 *   POST /flush     ?hook=NAME
 *   POST /hold      ?hook=NAME
 *   POST /release   ?hook=NAME
 *   POST /requeue   ?hook=NAME&id=HEX&id=HEX...
 *   POST /delete    ?id=HEX&id=HEX...  or  ?hook=NAME&state=dead
 *   POST /reload
 *   POST /skip      ?source=NAME: the source leaves its current segment
 *
 * Without hook=, a command applies to every hook of the current
 * configuration; a hook named explicitly may also be one that is no
 * longer configured but still has records in the spool. It needs no
 * token: the socket's mode keeps everyone but its owner out.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "ctlhttp.h"
#include "ingest.h"
#include "listing.h"
#include "scheduler.h"
#include "source.h"
#include "spoold.h"
#include "util.h"

#define LIST_LIMIT	100
#define NO_HOOK		-2	/* each_hook(): the name is unknown */

typedef ssize_t (*hook_fn)(void *, uint32_t, const char *);

struct idlist {
	uint64_t	*ids;
	size_t		 n;
	size_t		 cap;
	int		 bad;
};

static json_t *
hook_status(struct live *rt, size_t h)
{
	struct hook_status	 hs;

	if (sched_hook_status(rt->hook_ids[h], &hs) == -1)
		return NULL;
	return status_hook_json(&hs.counts, &hs.states, hs.held, hs.oldest_ms,
	    hs.sched.workers);
}

static json_t *
sources_json(void)
{
	struct source_status	*st;
	json_t			*o = json_object();
	size_t			 i, n;

	st = sources_status(&n);
	for (i = 0; i < n; i++)
		json_object_set_new(o, st[i].name, status_source_json(&st[i]));
	free(st);
	return o;
}

static enum MHD_Result
status(struct MHD_Connection *conn)
{
	struct live	*rt;
	json_t		*hooks, *h;
	uint64_t	 used, map, max;
	size_t		 i;

	rt = live_get();
	hooks = json_object();
	for (i = 0; i < rt->conf->nhooks; i++) {
		if ((h = hook_status(rt, i)) == NULL) {
			live_put(rt);
			json_decref(hooks);
			return ctl_error(conn, 500, "cannot read the spool");
		}
		json_object_set_new(hooks, rt->conf->hooks[i].name, h);
	}
	live_put(rt);
	store_usage(sd->store, &used, &map, &max);
	return ctl_reply_json(conn, 200, json_pack("{sosos{sIsIsI}}",
	    "hooks", hooks, "sources", sources_json(), "spool", "used_bytes",
	    (json_int_t)used, "map_bytes", (json_int_t)map, "max_bytes",
	    (json_int_t)max), NULL, NULL);
}

static const char *
arg(struct MHD_Connection *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* Spool ids are 1 to 16 hex digits, as spoolctl accepts them. */
static int
parse_id(const char *s, uint64_t *id)
{
	size_t	 len;

	if (s == NULL || (len = strlen(s)) == 0 || len > 16 ||
	    strspn(s, "0123456789abcdefABCDEF") != len)
		return -1;
	*id = strtoull(s, NULL, 16);
	return 0;
}

static int
parse_limit(const char *s, size_t *limit)
{
	const char	*errstr;
	long long	 n;

	if (s == NULL)
		return 0;
	n = strtonum(s, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	*limit = (size_t)n;
	return 0;
}

/* An error message of any length and bytes, unlike ctl_error()'s. */
static enum MHD_Result
text_error(struct MHD_Connection *conn, unsigned int status,
    const char *prefix, const char *text)
{
	json_t	*msg;
	char	*s;

	if (asprintf(&s, "%s%s", prefix, text) == -1)
		return MHD_NO;
	msg = text_json(s, strlen(s));
	free(s);
	return ctl_reply_json(conn, status, json_pack("{so}", "error", msg),
	    NULL, NULL);
}

static enum MHD_Result
no_hook(struct MHD_Connection *conn, const char *name)
{
	return text_error(conn, 404, "no such hook: ", name);
}

/* A configured hook first, else one that only the spool remembers. */
static int
hook_lookup(struct live *rt, const char *name, uint32_t *id)
{
	size_t	 i;

	for (i = 0; i < rt->conf->nhooks; i++)
		if (strcmp(rt->conf->hooks[i].name, name) == 0) {
			*id = rt->hook_ids[i];
			return 0;
		}
	return store_hook_find(sd->store, name, id);
}

/* A hook_name_fn: the configured name, else the spool's number. */
static const char *
hook_name(void *arg, uint32_t id, char *buf, size_t len)
{
	struct live	*rt = arg;
	size_t		 i;

	for (i = 0; i < rt->conf->nhooks; i++)
		if (rt->hook_ids[i] == id)
			return rt->conf->hooks[i].name;
	snprintf(buf, len, "#%u", id);
	return buf;
}

/*
 * fn for the hook named, or for every configured hook when name is NULL.
 * Returns the sum of what fn returned, -1 on error, NO_HOOK.
 */
static ssize_t
each_hook(const char *name, hook_fn fn, void *arg)
{
	struct live	*rt = live_get();
	uint32_t	 id;
	ssize_t		 n, sum = 0;
	size_t		 i;

	if (name != NULL) {
		sum = hook_lookup(rt, name, &id) == -1 ? NO_HOOK :
		    fn(arg, id, name);
		goto done;
	}
	for (i = 0; i < rt->conf->nhooks; i++) {
		n = fn(arg, rt->hook_ids[i], rt->conf->hooks[i].name);
		if (n < 0) {
			sum = n;
			goto done;
		}
		sum += n;
	}
 done:
	live_put(rt);
	return sum;
}

/* The hooks a listing walks: the one named, or each configured one. */
static int
list_hooks(struct live *rt, const char *name, struct list_hook **out,
    size_t *n)
{
	size_t	 i;

	*n = name != NULL ? 1 : rt->conf->nhooks;
	if ((*out = calloc(*n ? *n : 1, sizeof(**out))) == NULL)
		return -1;
	if (name != NULL) {
		(*out)[0].name = name;
		return hook_lookup(rt, name, &(*out)[0].id) == -1 ? NO_HOOK : 0;
	}
	for (i = 0; i < *n; i++) {
		(*out)[i].id = rt->hook_ids[i];
		(*out)[i].name = rt->conf->hooks[i].name;
	}
	return 0;
}

static enum MHD_Result
list(struct MHD_Connection *conn)
{
	struct list_hook	*hooks;
	struct live		*rt;
	const char		*hook = arg(conn, "hook"), *err = NULL;
	json_t			*out = NULL;
	size_t			 limit = LIST_LIMIT, n;
	int			 state, rc;

	if ((state = state_parse(arg(conn, "state"))) == -2)
		return ctl_error(conn, 400, "state must be ready, deferred "
		    "or dead");
	if (parse_limit(arg(conn, "limit"), &limit) == -1)
		return ctl_error(conn, 400, "limit must be a number");
	rt = live_get();
	if ((rc = list_hooks(rt, hook, &hooks, &n)) == 0)
		rc = list_page(sd->store, hooks, n, state, arg(conn, "from"),
		    limit, &out, &err);
	live_put(rt);
	free(hooks);
	if (rc == NO_HOOK)
		return no_hook(conn, hook);
	if (rc == 400)
		return ctl_error(conn, 400, "%s", err);
	if (rc != 0)
		return ctl_error(conn, 500, "cannot read the spool");
	return ctl_reply_json(conn, 200, out, NULL, NULL);
}

static enum MHD_Result
show(struct MHD_Connection *conn)
{
	struct live	*rt;
	const char	*hex = arg(conn, "id");
	json_t		*out = NULL;
	uint64_t	 id;
	int		 rc;

	if (parse_id(hex, &id) == -1)
		return ctl_error(conn, 400, "id must be 1 to 16 hex digits");
	rt = live_get();
	rc = show_record(sd->store, id, hook_name, rt, &out);
	live_put(rt);
	if (rc == 404)
		return ctl_error(conn, 404, "no such record: %s", hex);
	if (rc != 0)
		return ctl_error(conn, 500, "cannot read the spool");
	return ctl_reply_json(conn, 200, out, NULL, NULL);
}

/* The answer to a change of the spool, which the scheduler must see. */
static enum MHD_Result
counted(struct MHD_Connection *conn, const char *key, const char *hook,
    ssize_t n)
{
	sched_rescan();
	if (n == NO_HOOK)
		return no_hook(conn, hook);
	if (n < 0)
		return ctl_error(conn, 500, "cannot change the spool");
	return ctl_reply_json(conn, 200, json_pack("{sI}", key,
	    (json_int_t)n), NULL, NULL);
}

static ssize_t
flush_hook(void *arg, uint32_t id, const char *name)
{
	(void)name;
	return store_flush(sd->store, id, *(uint64_t *)arg);
}

static enum MHD_Result
flush(struct MHD_Connection *conn)
{
	const char	*hook = arg(conn, "hook");
	uint64_t	 now = now_ms();

	return counted(conn, "flushed", hook, each_hook(hook, flush_hook,
	    &now));
}

static ssize_t
held_hook(void *arg, uint32_t id, const char *name)
{
	(void)name;
	return store_set_held(sd->store, id, *(int *)arg);
}

static enum MHD_Result
set_held(struct MHD_Connection *conn, int held)
{
	const char	*hook = arg(conn, "hook");
	ssize_t		 rc;

	if (hook == NULL || *hook == '\0')
		return ctl_error(conn, 400, "hook required");
	rc = each_hook(hook, held_hook, &held);
	sched_rescan();
	if (rc == NO_HOOK)
		return no_hook(conn, hook);
	if (rc < 0)
		return ctl_error(conn, 500, "cannot change the spool");
	return ctl_reply_json(conn, 200, json_pack("{sosb}", "hook",
	    text_json(hook, strlen(hook)), "held", held), NULL, NULL);
}

static enum MHD_Result
hold(struct MHD_Connection *conn)
{
	return set_held(conn, 1);
}

static enum MHD_Result
release(struct MHD_Connection *conn)
{
	return set_held(conn, 0);
}

static enum MHD_Result
collect_id(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct idlist	*l = cls;
	uint64_t	*np, id;

	(void)kind;
	if (strcmp(key, "id") != 0)
		return MHD_YES;
	if (parse_id(value, &id) == -1) {
		l->bad = 1;
		return MHD_NO;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((np = reallocarray(l->ids, l->cap, sizeof(*np))) == NULL) {
			l->bad = 1;
			return MHD_NO;
		}
		l->ids = np;
	}
	l->ids[l->n++] = id;
	return MHD_YES;
}

/* The id= arguments; -1 when one is not a spool id. */
static int
get_ids(struct MHD_Connection *conn, struct idlist *l)
{
	memset(l, 0, sizeof(*l));
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_id, l);
	if (l->bad) {
		free(l->ids);
		l->ids = NULL;
		return -1;
	}
	return 0;
}

struct requeue_arg {
	struct idlist	 l;
	uint64_t	 now;
};

static ssize_t
requeue_hook(void *arg, uint32_t id, const char *name)
{
	struct requeue_arg	*a = arg;

	(void)name;
	return store_requeue(sd->store, id, a->l.n ? a->l.ids : NULL, a->l.n,
	    a->now);
}

static enum MHD_Result
requeue(struct MHD_Connection *conn)
{
	struct requeue_arg	 a;
	const char		*hook = arg(conn, "hook");
	ssize_t			 n;

	if (get_ids(conn, &a.l) == -1)
		return ctl_error(conn, 400, "id must be 1 to 16 hex digits");
	a.now = now_ms();
	n = each_hook(hook, requeue_hook, &a);
	free(a.l.ids);
	return counted(conn, "requeued", hook, n);
}

static ssize_t
delete_dead_hook(void *arg, uint32_t id, const char *name)
{
	(void)arg;
	(void)name;
	return store_delete_dead(sd->store, id);
}

static enum MHD_Result
delete(struct MHD_Connection *conn)
{
	struct idlist	 l;
	const char	*hook = arg(conn, "hook"), *state = arg(conn, "state");
	ssize_t		 n;

	if (get_ids(conn, &l) == -1)
		return ctl_error(conn, 400, "id must be 1 to 16 hex digits");
	if (hook == NULL && state == NULL && l.n > 0) {
		n = store_delete(sd->store, l.ids, l.n);
		free(l.ids);
		return counted(conn, "deleted", NULL, n);
	}
	free(l.ids);
	/* Only dead letters go by the hook: the others are still wanted. */
	if (l.n > 0 || hook == NULL || state == NULL ||
	    strcmp(state, "dead") != 0)
		return ctl_error(conn, 400, "delete takes id=..., or "
		    "hook=NAME&state=dead");
	return counted(conn, "deleted", hook, each_hook(hook,
	    delete_dead_hook, NULL));
}

/*
 * The main thread reloads, as on SIGHUP; this thread waits for it
 * (bounded), so that spoolctl can say whether the configuration was
 * taken.
 */
static enum MHD_Result
reload(struct MHD_Connection *conn)
{
	json_t	*o;
	char	 msg[1024];

	switch (reload_wait(msg, sizeof(msg))) {
	case RELOAD_DONE:
		if ((o = json_pack("{ss}", "reload", "done")) != NULL &&
		    msg[0] != '\0')
			json_object_set_new(o, "warning", text_json(msg,
			    strlen(msg)));
		return ctl_reply_json(conn, 200, o, NULL, NULL);
	case RELOAD_REFUSED:
		return text_error(conn, 422, "reload refused: ", msg);
	default:
		return text_error(conn, 503, "reload not confirmed: ", msg);
	}
}

static enum MHD_Result
inject(struct MHD_Connection *conn, struct ctl_req *r)
{
	struct ingest_reply	 a;
	char		 ra[16];

	if (r->too_large)
		return ctl_error(conn, 413, "request body larger than "
		    "max_request_size (%zu bytes)", r->limit);
	ingest_body(r->body, r->len, BODY_NDJSON, &a);
	if (a.retry_after == 0)
		return ctl_reply_json(conn, a.status, a.body, NULL, NULL);
	snprintf(ra, sizeof(ra), "%u", a.retry_after);
	return ctl_reply_json(conn, a.status, a.body,
	    MHD_HTTP_HEADER_RETRY_AFTER, ra);
}

static enum MHD_Result
inject_start(struct MHD_Connection *conn, struct ctl_req *r)
{
	struct live	*rt;

	if (atomic_load(&sd->stopping)) {
		r->answered = 1;
		return ctl_unavailable(conn, "spoold is stopping", 5);
	}
	rt = live_get();
	r->limit = rt->conf->max_request_size;
	live_put(rt);
	atomic_fetch_add(&sd->inflight, 1);
	r->on_done = ingest_finished;
	return MHD_YES;
}

static enum MHD_Result
skip(struct MHD_Connection *conn)
{
	const char	*name = arg(conn, "source");
	char		 msg[512];

	if (name == NULL)
		return ctl_error(conn, 400, "skip: source= is missing");
	switch (source_skip(name, msg, sizeof(msg))) {
	case 0:
		return ctl_reply_json(conn, 200, json_pack("{ssso}", "source",
		    name, "skipped", text_json(msg, strlen(msg))), NULL, NULL);
	case -1:
		return ctl_error(conn, 404, "no such source: %s", name);
	default:
		return text_error(conn, 503, "skip not confirmed: ", msg);
	}
}

/* The commands answered at once, without a body. */
static const struct command {
	const char	*path;
	const char	*method;
	enum MHD_Result	(*fn)(struct MHD_Connection *);
} commands[] = {
	{ "/status",	"GET",	status },
	{ "/list",	"GET",	list },
	{ "/show",	"GET",	show },
	{ "/flush",	"POST",	flush },
	{ "/hold",	"POST",	hold },
	{ "/release",	"POST",	release },
	{ "/requeue",	"POST",	requeue },
	{ "/delete",	"POST",	delete },
	{ "/reload",	"POST",	reload },
	{ "/skip",	"POST",	skip },
};

static enum MHD_Result
command(struct MHD_Connection *conn, const char *url, const char *method)
{
	size_t	 i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(url, commands[i].path) != 0)
			continue;
		if (strcmp(method, commands[i].method) != 0)
			return ctl_not_allowed(conn, commands[i].method);
		return commands[i].fn(conn);
	}
	return ctl_error(conn, 404, "no such command: %s", url);
}

enum MHD_Result
control_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct ctl_req	*r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = ctl_req_new(con_cls)) == NULL)
			return MHD_NO;
		/*
		 * Other commands are answered once the request is read whole:
		 * an answer before that makes libmicrohttpd close the
		 * connection.
		 */
		if (strcmp(url, "/inject") != 0)
			return MHD_YES;
		if (strcmp(method, "POST") != 0) {
			r->answered = 1;
			return ctl_not_allowed(conn, "POST");
		}
		return inject_start(conn, r);
	}
	if (*size > 0)
		return ctl_body(r, data, size);
	if (r->answered)
		return MHD_YES;
	r->answered = 1;
	if (strcmp(url, "/inject") != 0)
		return command(conn, url, method);
	return inject(conn, r);
}
