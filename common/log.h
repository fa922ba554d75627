/*
 * Logging in the style of OpenBSD daemons: to standard error in the
 * foreground, to syslog (facility mail) once daemonized.
 */
#ifndef SPOOLD_LOG_H
#define SPOOLD_LOG_H

#include <stdarg.h>

void	log_init(int foreground, int verbose, const char *ident);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* What threatens the spool's data: syslog's err, not warning. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
