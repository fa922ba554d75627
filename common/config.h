/*
 * The configuration model: spoold.conf (TOML) with its [hook.NAME]
 * tables, and KumoMTA shaping files merged in order over it.
 *
 * Effective settings of a hook, lowest precedence first: built-in
 * defaults, the merged ["default"] section of the shaping files, the
 * merged ['NAME.log_hook'] section, the keys in [hook.NAME]. A section
 * with replace_base = true drops what earlier files said for it.
 */
#ifndef SPOOLD_CONFIG_H
#define SPOOLD_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rectype.h"
#include "units.h"

#define CONFIG_PATH	"/etc/spoold/spoold.conf"

enum hook_format {
	FORMAT_JSON,
	FORMAT_NDJSON
};

struct patterns {
	char		**v;	/* "name", "prefix*" or "*" */
	size_t		  n;
};

/* A name = value pair: an HTTP header, or a librdkafka property. */
struct header {
	char		*name;
	char		*value;
};

/* How a hook delivers, by the scheme of its url. */
enum hook_transport {
	TRANSPORT_HTTP,		/* http://, https:// */
	TRANSPORT_AMQP,		/* amqp://, amqps:// */
	TRANSPORT_KAFKA		/* kafka:// */
};

struct shaping {
	uint32_t	 connection_limit;		/* 32 */
	struct rate	 max_connection_rate;		/* none */
	struct rate	 max_message_rate;		/* none */
	uint64_t	 max_deliveries_per_connection;	/* 1024 */
	uint64_t	 max_ready;			/* 1024 */
	uint64_t	 idle_timeout_ms;		/* 5s */
	uint64_t	 system_shutdown_timeout_ms;	/* 30s */
	int		 mx_rollup;			/* true; no effect */
};

/* A shaping or hook key that was read but has no effect, for spoold -n. */
struct ignored {
	char		*hook;	/* NULL: a whole section no hook uses */
	char		*what;	/* key or section name */
	char		*where;	/* FILE:LINE:COL */
};

/* Long enough for any name; short enough for a process title. */
#define HOOK_NAME_MAX	255

struct hook {
	char		*name;
	char		*url;
	uint64_t	 batch_size;			/* 1 */
	uint64_t	 min_batch_size;		/* 1 */
	uint64_t	 max_batch_latency_ms;		/* 0 */
	enum hook_format format;			/* json */
	uint32_t	 types;				/* RT_ALL */
	int		 has_log_parameters;
	struct patterns	 lp_meta;
	struct patterns	 lp_headers;
	struct header	*headers;
	size_t		 nheaders;
	uint64_t	 timeout_ms;			/* 60s */
	uint64_t	 retry_interval_ms;		/* 1m */
	uint64_t	 max_retry_interval_ms;		/* 20m */
	uint64_t	 max_age_ms;			/* 7d */
	uint8_t		 transient[600];		/* 1: status retried */
	char		*signing_secret;		/* as written */
	unsigned char	*signing_key;			/* decoded */
	size_t		 signing_key_len;
	int		 tls_verify;			/* true */
	char		*ca_file;
	char		*client_cert;
	char		*client_key;
	enum hook_transport transport;
	/* AMQP */
	char		*exchange;			/* "" */
	char		*routing_key;			/* the hook's name */
	int		 persistent;			/* true */
	int		 mandatory;			/* true */
	/* Kafka */
	char		*topic;				/* required */
	char		*key;				/* NULL: no message key */
	struct header	*kafka;				/* properties */
	size_t		 nkafka;
	struct shaping	 shaping;
	/* Where the settings not built in came from: config_origin(). */
	struct origin	*origins;
	size_t		 norigins;
};

/*
 * A [source.NAME] table: KumoMTA's local log segments in a directory,
 * read into the spool as if they had been posted.
 */
struct source {
	char		*name;
	char		*directory;			/* required */
	char		*pattern;			/* "*" */
	int		 newest;	/* start = "newest"; else "oldest" */
	uint64_t	 poll_watcher_ms;	/* 0: inotify */
};

struct listen_addr {
	char		*text;	/* as written */
	char		*path;	/* unix:PATH, else NULL */
	char		*host;	/* TCP: without brackets */
	char		*port;
};

struct config {
	char		*path;
	mode_t		 mode;		/* of the file read, and its owners */
	uid_t		 owner;
	gid_t		 group;
	char		*spool_dir;		/* /var/spool/spoold */
	uint64_t	 max_spool_size;	/* 4GiB */
	struct listen_addr *listen;		/* 127.0.0.1:8025 */
	size_t		 nlisten;
	char		*control_socket;	/* /run/spoold/control.sock */
	char		*pid_file;		/* /run/spoold/spoold.pid */
	char		**shaping;
	size_t		 nshaping;
	char		*ingest_token;
	uint64_t	 max_record_size;	/* 1MiB */
	uint64_t	 max_request_size;	/* 64MiB */
	uint64_t	 max_connections;	/* 16384 */
	uint64_t	 max_connections_per_client;	/* 0: no cap */
	uint64_t	 client_idle_timeout_ms;	/* 120s */
	uint64_t	 client_header_timeout_ms;	/* 10s */
	char		*user;
	struct hook	*hooks;			/* sorted by name */
	size_t		 nhooks;
	struct source	*sources;		/* sorted by name */
	size_t		 nsources;
	struct ignored	*ignored;
	size_t		 nignored;
	/* "FILE:LINE:COL: message": taken, but probably not as meant. */
	char		**warnings;
	size_t		 nwarnings;
};

/*
 * Load path and the shaping files it names. Returns NULL with
 * "FILE:LINE:COL: message" (or "FILE: message") in err.
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
void		 config_free(struct config *);
/* What a hook holds, not the hook itself. */
void		 config_hook_free(struct hook *);
/*
 * Does the file show its secrets to anyone but spoold running as uid and
 * gid? Then msg gets a warning naming the file, its mode and the remedy.
 */
int		 config_exposed(const struct config *, uid_t, gid_t, char *msg,
		    size_t);
/* Could spoold, as uid and gid, not read the file again? Then msg says so. */
int		 config_unreadable(const struct config *, uid_t, gid_t,
		    char *msg, size_t);
/*
 * The url as messages and spoold -n show it, a password in it as
 * "(set)": malloc'd, NULL out of memory.
 */
char		*config_url_shown(const char *url);
/* "http", "amqp" or "kafka". */
const char	*hook_transport_name(enum hook_transport);
/* Each hook's effective settings and every ignored key, for spoold -n. */
void		 config_print(const struct config *, FILE *);
const struct hook *config_hook(const struct config *, const char *name);
const struct source *config_source(const struct config *, const char *name);
/*
 * Where a hook's effective setting came from, as spoold -n shows it:
 * "FILE:LINE [hook.NAME]" for the hook's table in spoold.conf,
 * "FILE:LINE [\"default\"]" or "FILE:LINE ['NAME.log_hook']" for the
 * shaping section whose key won the merge, "built-in" for a default of
 * spoold's own. FILE is the path as the file was read, LINE the key's.
 * Never NULL for a key that [hook.NAME] or a shaping file may set (a
 * worker's copy of the hook, which carries no origins, says "built-in");
 * NULL for any other key. The text lives as long as the hook.
 */
const char	*config_origin(const struct hook *, const char *key);
/* Does the hook set this request header itself (names are caseless)? */
int		 config_hook_sets(const struct hook *, const char *name);

#endif
