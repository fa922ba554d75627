/*
 * spoolctl's pieces: the command line (spoolctl.c), spoold's control
 * socket (spoolctl_http.c), the spool read in the process when spoold
 * is stopped (spoolctl_offline.c), what status, list and show print
 * (spoolctl_show.c), inject (spoolctl_inject.c) and status --watch
 * (spoolctl_watch.c).
 */
#ifndef SPOOLD_SPOOLCTL_H
#define SPOOLD_SPOOLCTL_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

/* request(): the control socket is not there or nobody listens on it. */
#define UNREACHABLE	-1

struct buf {
	char	*p;
	size_t	 len;
};

/* A command's options: only those it allows are set. */
struct opts {
	const char	*hook;
	const char	*state;
	const char	*limit;
	const char	*from;
	const char	*interval;
	const char	*count;
	int		 watch;
};

extern int		 json_out;
extern const char	*sock_path;

void __attribute__((noreturn))	usage(void);
void __attribute__((format(printf, 1, 2), noreturn))
		 bad_usage(const char *, ...);
void __attribute__((format(printf, 1, 2), noreturn))
		 die(const char *, ...);
char		**get_opts(int *, char *[], const char *, struct opts *);
int		 is_id(const char *);
void		 check_ids(int, char *[]);
json_int_t	 num(json_t *, const char *);

/* spoolctl_http.c */
long		 request(const char *, const char *, const char *, size_t,
		    json_t **);
const char	*reply_error(json_t *);
void		 path_init(struct buf *, const char *, const char *);
void		 path_arg(struct buf *, const char *, const char *);
json_t		*call(const char *, const char *, struct buf *);
void __attribute__((noreturn))	not_running(const char *);

/* spoolctl_offline.c: the answers spoold would give, from the spool. */
void		 offline_note(const struct config *);
json_t		*offline_status(const struct config *);
json_t		*offline_list(const struct config *, const char *hook,
		    int state, const char *from, size_t limit);
json_t		*offline_show(const struct config *, const char *id);

/* spoolctl_show.c */
json_t		*get_status(const struct config *, int quiet);
void		 print_json(json_t *);
void		 status_table(json_t *, json_t *, double);
int		 cmd_status(int, char *[], const struct config *);
int		 cmd_list(int, char *[], const struct config *);
int		 cmd_show(int, char *[], const struct config *);

/* spoolctl_inject.c */
int		 cmd_inject(int, char *[], const struct config *);

/* spoolctl_watch.c */
int		 watch(const struct config *, const struct opts *);

#endif
