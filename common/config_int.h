/*
 * What the configuration's own files share, and no one else: the state
 * of one load (config.c, config_hook.c, shaping.c), the key tables and
 * the typed values with their errors (config_value.c), and which header
 * names hold credentials (config_secrets.c, for config_print.c), where
 * each of a hook's settings came from (config_origin.c) and KumoMTA's
 * advice for a log hook's shaping (config_advice.c).
 */
#ifndef SPOOLD_CONFIG_INT_H
#define SPOOLD_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "toml.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct shfile {
	char			*path;	/* resolved; positions point here */
	char			*buf;
	struct toml_value	*root;
};

/* One section of the shaping files as merged so far. */
struct section {
	const struct toml_kv	**kv;
	size_t			  n;
};

struct load {
	struct config		*cfg;
	char			*err;
	size_t			 errlen;
	char			*buf;	/* spoold.conf */
	struct toml_value	*root;
	struct shfile		*files;
	size_t			 nfiles;
	struct section		 dflt;
};

struct keydef;
typedef int	setter(struct load *, const struct keydef *, void *,
		    const struct toml_value *);

struct keydef {
	const char	*name;
	setter		*set;
	size_t		 off;	/* of the field in the object */
	uint64_t	 min;
};

static inline int
keyis(const struct toml_kv *kv, const char *name)
{
	return kv->keylen == strlen(name) && strcmp(kv->key, name) == 0;
}

static inline void *
field(void *obj, const struct keydef *d)
{
	return (char *)obj + d->off;
}

/* Keys that take a list of strings also take one string. */
static inline const struct toml_value *
item(const struct toml_value *v, size_t i)
{
	return v->type == TOML_ARRAY ? v->u.arr.v[i] : v;
}

/*
 * config_value.c: each error fills ld->err and returns -1, so that a
 * setter can return what it reports.
 */
int		 errat(struct load *, const struct toml_pos *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
int		 errfile(struct load *, const char *file, const char *msg);
/* A warning at pos for cfg->warnings; 0, or -1 out of memory. */
int		 warnat(struct load *, const struct toml_pos *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
int		 nomem(struct load *);
int		 errtype(struct load *, const char *name,
		    const struct toml_value *, const char *want);
int		 errkey(struct load *, const struct toml_kv *);
/* s made safe to show inside double quotes, in buf. */
const char	*shown(const char *s, char *buf, size_t len);
const struct keydef *keyfind(const struct keydef *, size_t,
		    const struct toml_kv *);
const struct keydef *keynamed(const struct keydef *, size_t, const char *);
/* A string value without embedded NUL bytes. */
int		 want_str(struct load *, const char *name,
		    const struct toml_value *);
/* A string or an array of them; *n is how many. */
int		 strlist(struct load *, const char *name,
		    const struct toml_value *, size_t *n);
setter		 set_str, set_size, set_dur, set_uint, set_bool;

/* config_broker.c: url (which sets the transport) and the kafka table. */
setter		 set_url, set_kafka;
/* The AMQP and Kafka defaults, once the hook's table is read. */
int		 broker_defaults(struct load *, struct hook *);
void		 broker_free(struct hook *);

/* config_hook.c: the [hook.NAME] tables, sorted by name once read. */
int		 load_hooks(struct load *, const struct toml_value *);
/*
 * A [what.NAME] table's name (1 to HOOK_NAME_MAX of [A-Za-z0-9_.-]) and
 * value (a table): 0, or -1 with the error.
 */
int		 named_table(struct load *, const struct toml_kv *,
		    const char *what);

/* config_source.c: the [source.NAME] tables. */
int		 load_sources(struct load *, const struct toml_value *);
void		 sources_free(struct config *);
/* Is name a key of [hook.NAME], the shaping keys included? */
int		 hook_key_known(const char *name);

/* shaping.c */
extern const struct shaping shaping_defaults;
/* The definition of a shaping key, which a hook's table may also set. */
const struct keydef *shaping_key(const struct toml_kv *);
const struct keydef *shaping_key_named(const char *);
/* ["default"], merged and checked even when no hook uses it. */
int		 shaping_default(struct load *);
/* ["default"], then ['NAME.log_hook'], over h's shaping. */
int		 shaping_hook(struct load *, struct hook *);
/* Sections of the shaping files that no hook reads, as ignored. */
int		 shaping_unused(struct load *);

/* config_origin.c: which file, line and table set a hook's key. */
enum origin_kind {
	ORIGIN_HOOK,		/* [hook.NAME] of spoold.conf */
	ORIGIN_DEFAULT,		/* ["default"] of the shaping files */
	ORIGIN_LOG_HOOK		/* ['NAME.log_hook'] of the shaping files */
};

struct origin {
	const char	*key;	/* the name in a key table: static */
	enum origin_kind kind;
	char		*text;	/* as config_origin() gives it */
};

/* key of h was set at pos; a later call for the same key replaces it. */
int		 origin_set(struct load *, struct hook *, const char *key,
		    enum origin_kind, const struct toml_pos *);
const struct origin *origin_find(const struct hook *, const char *key);
void		 origin_free(struct hook *);

/*
 * config_advice.c: one warning for a hook that takes limits tighter
 * than KumoMTA's advice for a log hook from ["default"].
 */
int		 advice_check(struct load *, const struct hook *);

/*
 * config_secrets.c: header values (and kafka properties) that may carry
 * credentials, and where the password of a url's user is, if it has one.
 */
int		 header_secret(const char *name);
int		 url_password(const char *url, size_t *off, size_t *len);

#endif
