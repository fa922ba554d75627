/*
 * Log priorities as syslog gets them: warnings at warning, what
 * threatens data at err, debugging only with -v. syslog() is this
 * file's own, so that the priorities can be read back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "tap.h"

static int	 last_pri = -1;
static char	 last_msg[256];

void
syslog(int pri, const char *fmt, ...)
{
	va_list	 ap;

	last_pri = pri;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
}

int
main(void)
{
	log_init(0, 0, "spoold-test");
	log_warnx("hook %s: failed", "a");
	is_int(last_pri, LOG_WARNING, "log_warnx: warning");
	is_str(last_msg, "hook a: failed", "with its text");
	log_warn("x");
	is_int(last_pri, LOG_WARNING, "log_warn: warning");
	log_errorx("spool: write failed: %s", "no space");
	is_int(last_pri, LOG_ERR, "log_errorx: err");
	is_str(last_msg, "spool: write failed: no space", "with its text");
	log_error("y");
	is_int(last_pri, LOG_ERR, "log_error: err");
	log_info("z");
	is_int(last_pri, LOG_INFO, "log_info: info");
	last_pri = -1;
	log_debug("d");
	is_int(last_pri, -1, "log_debug: nothing without -v");
	log_setverbose(1);
	log_debug("d");
	is_int(last_pri, LOG_DEBUG, "log_debug at -v: debug");
	return done_testing();
}
