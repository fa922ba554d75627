/*
 * The JSON of records in the spool: listings a page at a time, with a
 * cursor to go on from, and one record with each hook's state of it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "source_mark.h"
#include "store.h"

struct list_ctx {
	json_t		*out;
	const char	*name;		/* of the hook being listed */
};

struct show_ctx {
	hook_name_fn	 name;
	void		*arg;
	json_t		*hooks;
	json_t		*record;
	uint64_t	 received_ms;
};

/* By ST_*: state_parse() gives the index. */
static const char *const state_names[] = {
	[ST_READY] = "ready",
	[ST_DEFERRED] = "deferred",
	[ST_DEAD] = "dead",
};

json_t *
text_json(const char *p, size_t len)
{
	json_t	*s;
	char	*copy;
	size_t	 i;

	if ((s = json_stringn(p, len)) != NULL)
		return s;
	if ((copy = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	s = json_stringn(copy, len);
	free(copy);
	return s;
}

json_t *
id_json(uint64_t id)
{
	char	 hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, id);
	return json_string(hex);
}

int
state_parse(const char *s)
{
	int	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < 3; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -2;
}

static json_t *
answer_json(const struct store_entry *e)
{
	json_t	*s;
	char	*buf;
	int	 len;

	if (e->status == 0 && e->answerlen == 0)
		return json_null();
	if (e->status == 0)
		return text_json(e->answer, e->answerlen);
	len = asprintf(&buf, e->answerlen ? "%u %.*s" : "%u", e->status,
	    (int)e->answerlen, e->answer);
	if (len == -1)
		return NULL;
	s = text_json(buf, (size_t)len);
	free(buf);
	return s;
}

/* One delivery state; a listing also names the record and its age. */
static json_t *
entry_json(const struct store_entry *e, const char *hook, int listing)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (listing)
		json_object_set_new(o, "id", id_json(e->id));
	json_object_set_new(o, "hook", text_json(hook, strlen(hook)));
	json_object_set_new(o, "state", json_string(e->state >= 0 &&
	    e->state < 3 ? state_names[e->state] : "unknown"));
	json_object_set_new(o, "attempts", json_integer(e->attempts));
	json_object_set_new(o, "next_attempt", e->state == ST_DEAD ?
	    json_null() : json_integer((json_int_t)(e->due_ms / 1000)));
	json_object_set_new(o, "last_answer", answer_json(e));
	if (listing)
		json_object_set_new(o, "received",
		    json_integer((json_int_t)(e->received_ms / 1000)));
	return o;
}

static void
list_one(void *arg, const struct store_entry *e)
{
	struct list_ctx	*c = arg;

	json_array_append_new(c->out, entry_json(e, c->name, 1));
}

static json_t *
cursor_json(uint32_t hook, const struct store_due *at)
{
	char	 s[LIST_CURSOR_LEN + 1];

	snprintf(s, sizeof(s), "%08" PRIx32 "%016" PRIx64 "%016" PRIx64,
	    hook, at->due_ms, at->id);
	return json_string(s);
}

static int
cursor_parse(const char *s, uint32_t *hook, struct store_due *at)
{
	char	 part[17];

	if (strlen(s) != LIST_CURSOR_LEN ||
	    strspn(s, "0123456789abcdef") != LIST_CURSOR_LEN)
		return -1;
	memcpy(part, s, 8);
	part[8] = '\0';
	*hook = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, s + 8, 16);
	part[16] = '\0';
	at->due_ms = strtoull(part, NULL, 16);
	at->id = strtoull(s + 24, NULL, 16);
	return 0;
}

/*
 * Each hook from the cursor's on; a hook that fills the page is asked
 * on with a limit of 0, which lists nothing but says whether any
 * records follow, so that "next" is null only at the very end.
 */
int
list_page(struct store *s, const struct list_hook *hooks, size_t nhooks,
    int state, const char *cursor, size_t limit, json_t **out,
    const char **err)
{
	struct list_ctx		 c;
	struct store_due	 from, next;
	json_t			*nextj = json_null();
	uint32_t		 hook;
	size_t			 i = 0, n = 0;
	ssize_t			 got;
	int			 more = 0;

	if (limit == 0)
		limit = SIZE_MAX;
	if (cursor != NULL) {
		if (cursor_parse(cursor, &hook, &from) == -1) {
			*err = "cursor must be 40 hex digits";
			return 400;
		}
		while (i < nhooks && hooks[i].id != hook)
			i++;
		if (i == nhooks) {
			*err = "the cursor is not of this listing";
			return 400;
		}
	}
	if ((c.out = json_array()) == NULL)
		return 500;
	for (; i < nhooks && !more; i++, cursor = NULL) {
		c.name = hooks[i].name;
		if ((got = store_list(s, hooks[i].id, state, cursor ? &from :
		    NULL, limit - n, list_one, &c, &next, &more)) < 0) {
			json_decref(c.out);
			*err = "cannot read the spool";
			return 500;
		}
		n += (size_t)got;
		if (more)
			nextj = cursor_json(hooks[i].id, &next);
	}
	*out = json_pack("{soso}", "records", c.out, "next", nextj);
	return *out != NULL ? 0 : 500;
}

/*
 * The record as JSON; ingest checked it, but jansson is stricter about
 * some valid JSON (integers beyond 64 bits, \u0000 in a key), which then
 * goes as a string: spoolctl prints that text as the record.
 */
static json_t *
record_json(const char *p, size_t len)
{
	json_error_t	 jerr;
	json_t		*v;

	if ((v = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &jerr)) != NULL)
		return v;
	return text_json(p, len);
}

static void
show_one(void *arg, const struct store_entry *e)
{
	struct show_ctx	*c = arg;
	char		 buf[16];

	if (c->record == NULL && e->rec != NULL) {
		c->record = record_json(e->rec, e->reclen);
		c->received_ms = e->received_ms;
	}
	json_array_append_new(c->hooks, entry_json(e, c->name(c->arg,
	    e->hook, buf, sizeof(buf)), 0));
}

int
show_record(struct store *s, uint64_t id, hook_name_fn name, void *arg,
    json_t **out)
{
	struct show_ctx	 c;
	int		 found;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.arg = arg;
	if ((c.hooks = json_array()) == NULL)
		return 500;
	if ((found = store_show(s, id, show_one, &c)) != 1) {
		json_decref(c.hooks);
		json_decref(c.record);
		return found == 0 ? 404 : 500;
	}
	*out = json_pack("{sosIsoso}", "id", id_json(id), "received",
	    (json_int_t)(c.received_ms / 1000), "record", c.record ?
	    c.record : json_null(), "hooks", c.hooks);
	return *out != NULL ? 0 : 500;
}

json_t *
status_hook_json(const struct store_counts *c, const struct store_states *st,
    int held, uint64_t oldest_ms, uint64_t workers)
{
	return json_pack("{sIsIsIsIsIsbsIsIsIsI}",
	    "ready", (json_int_t)st->ready,
	    "deferred", (json_int_t)st->deferred,
	    "in_flight", (json_int_t)st->in_flight,
	    "held_records", (json_int_t)st->held,
	    "dead", (json_int_t)st->dead,
	    "held", held,
	    "oldest_age_ms", (json_int_t)oldest_ms,
	    "delivered", (json_int_t)c->delivered,
	    "failed", (json_int_t)c->failed,
	    "workers", (json_int_t)workers);
}

json_t *
status_source_json(const struct source_status *st)
{
	const struct source_mark	*m = &st->at;
	json_t				*o;

	o = json_pack("{sssssIsIsIsIsIsI}",
	    "state", source_state_names[st->state],
	    "segment", m->segment,
	    "line", (json_int_t)m->line,
	    "records", (json_int_t)m->records,
	    "invalid_lines", (json_int_t)st->invalid,
	    "missing_segments", (json_int_t)st->missing,
	    "behind_segments", (json_int_t)st->behind_segments,
	    "behind_bytes", (json_int_t)st->behind_bytes);
	if (o == NULL)
		return NULL;
	/* A segment read to its end has no offset left to name. */
	if (json_object_set_new(o, "offset", m->offset == SOURCE_DONE ?
	    json_null() : json_integer((json_int_t)m->offset)) == -1 ||
	    json_object_set_new(o, "error", st->error[0] != '\0' ?
	    text_json(st->error, strlen(st->error)) : json_null()) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}
