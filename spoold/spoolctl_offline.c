/*
 * The answers of status, list and show when spoold is stopped, read
 * from its spool in this process: the environment opened read-only,
 * each read in a read-only transaction, nothing written. The JSON is
 * spoold's (listing.c is shared), with "offline": true; nothing is in
 * flight and no worker runs.
 */
#include <sys/stat.h>

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "listing.h"
#include "source_dir.h"
#include "source_mark.h"
#include "spoolctl.h"
#include "store.h"
#include "util.h"

static struct store *
spool_open(const struct config *conf)
{
	struct store	*s;
	char		 err[1024];

	if ((s = store_open_rdonly(conf->spool_dir, err, sizeof(err))) ==
	    NULL)
		die("spoold is not running (cannot reach %s), and its spool "
		    "cannot be read: %s", sock_path, err);
	return s;
}

void
offline_note(const struct config *conf)
{
	fprintf(stderr, "spoolctl: spoold is not running: read from the "
	    "spool at %s, read-only\n", conf->spool_dir);
}

static json_t *
offline_reply(json_t *o)
{
	if (o == NULL || json_object_set_new(o, "offline", json_true()) == -1)
		die("out of memory");
	return o;
}

/* A configured hook that never had records is not in the spool: zeros. */
static json_t *
hook_counts(struct store *s, const char *name)
{
	struct store_counts	 c;
	struct store_states	 st;
	struct store_oldest	 o;
	uint32_t		 id;
	uint64_t		 now, age = 0;
	int			 held = 0;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	if (store_hook_find(s, name, &id) == 0) {
		if (store_counts(s, id, &c) == -1 ||
		    store_oldest(s, id, &o) == -1)
			die("%s: cannot read the spool", name);
		held = store_held(s, id);
	}
	now = now_ms();
	if (o.id != 0 && now > o.received_ms)
		age = now - o.received_ms;
	store_states(&c, held, 0, 0, &st);
	return status_hook_json(&c, &st, held, age, 0);
}

/*
 * What a stopped source has left: the segments after its checkpoint's,
 * and that one whole unless it was read to its end (its offset counts
 * decompressed bytes, not the file's). One never started begins at the
 * first segment, or with start = "newest" at the last: that one and none
 * before it.
 */
static void
source_left(const struct source *cfg, struct source_status *st)
{
	struct source_behind	 b;
	struct stat		 sb;
	char			 path[PATH_MAX], first[SOURCE_SEGMENT_MAX + 1];
	const char		*from = st->at.segment;
	int			 whole = from[0] != '\0' &&
				    st->at.offset != SOURCE_DONE;
	int			 newest = cfg->newest && from[0] == '\0';
	int			 rc;

	if ((rc = source_dir_scan(cfg, from, newest, first, sizeof(first),
	    &b)) == -1) {
		warn("source %s: %s: segments left not counted", cfg->name,
		    cfg->directory);
		return;
	}
	if (rc == 1 && newest) {
		b.segments = b.bytes = 0;
		from = first;
		whole = 1;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->directory, from);
	if (whole && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		b.segments++;
		b.bytes += (uint64_t)sb.st_size;
	}
	st->behind_segments = b.segments;
	st->behind_bytes = b.bytes;
}

/* A source as its checkpoint and its directory say; nothing runs. */
static json_t *
source_at(struct store *s, const struct source *cfg)
{
	unsigned char		 key[SOURCE_KEY_MAX], val[SOURCE_MARK_MAX];
	struct source_status	 st;
	size_t			 len = sizeof(val);
	int			 rc;

	memset(&st, 0, sizeof(st));
	st.state = SOURCE_STOPPED;
	rc = store_mark(s, key, source_mark_key(cfg->name, key), val, &len);
	if (rc == -1 || (rc == 0 && source_mark_decode(val, len,
	    &st.at) == -1))
		die("source %s: cannot read its checkpoint", cfg->name);
	source_left(cfg, &st);
	return status_source_json(&st);
}

json_t *
offline_status(const struct config *conf)
{
	struct store	*s = spool_open(conf);
	json_t		*hooks = json_object(), *sources = json_object();
	uint64_t	 used, map, max;
	size_t		 i;

	for (i = 0; i < conf->nhooks; i++)
		json_object_set_new(hooks, conf->hooks[i].name,
		    hook_counts(s, conf->hooks[i].name));
	for (i = 0; i < conf->nsources; i++)
		json_object_set_new(sources, conf->sources[i].name,
		    source_at(s, &conf->sources[i]));
	store_usage(s, &used, &map, &max);
	store_close(s);
	return offline_reply(json_pack("{sosos{sIsIsI}}", "hooks", hooks,
	    "sources", sources, "spool", "used_bytes", (json_int_t)used,
	    "map_bytes", (json_int_t)map, "max_bytes",
	    (json_int_t)conf->max_spool_size));
}

/*
 * As spoold lists: the hook named (configured or only in the spool),
 * or every configured hook that the spool knows.
 */
json_t *
offline_list(const struct config *conf, const char *hook, int state,
    const char *from, size_t limit)
{
	struct store		*s = spool_open(conf);
	struct list_hook	*hooks;
	const char		*err = "cannot read the spool";
	json_t			*out = NULL;
	size_t			 i, n = 0;

	if ((hooks = calloc(conf->nhooks + 1, sizeof(*hooks))) == NULL)
		die("out of memory");
	if (hook != NULL) {
		if (store_hook_find(s, hook, &hooks[0].id) == -1) {
			if (config_hook(conf, hook) == NULL)
				die("list: no such hook: %s", hook);
			/* Configured, never used: nothing to list. */
			hooks[0].id = UINT32_MAX;
		}
		hooks[n++].name = hook;
	} else
		for (i = 0; i < conf->nhooks; i++) {
			hooks[n].name = conf->hooks[i].name;
			if (store_hook_find(s, hooks[n].name, &hooks[n].id) ==
			    0)
				n++;
		}
	if (list_page(s, hooks, n, state, from, limit, &out, &err) != 0)
		die("list: %s", err);
	free(hooks);
	store_close(s);
	return offline_reply(out);
}

struct names {
	struct store		*s;
	const struct config	*conf;
};

/* The configured name of a hook id, else its number, as spoold says. */
static const char *
conf_name(void *arg, uint32_t id, char *buf, size_t len)
{
	struct names	*nm = arg;
	uint32_t	 h;
	size_t		 i;

	for (i = 0; i < nm->conf->nhooks; i++)
		if (store_hook_find(nm->s, nm->conf->hooks[i].name, &h) ==
		    0 && h == id)
			return nm->conf->hooks[i].name;
	snprintf(buf, len, "#%u", id);
	return buf;
}

json_t *
offline_show(const struct config *conf, const char *hex)
{
	struct names	 nm = { spool_open(conf), conf };
	json_t		*out = NULL;
	int		 rc;

	rc = show_record(nm.s, strtoull(hex, NULL, 16), conf_name, &nm,
	    &out);
	store_close(nm.s);
	if (rc == 404)
		die("show: no such record: %s", hex);
	if (rc != 0)
		die("show: cannot read the spool");
	return offline_reply(out);
}
