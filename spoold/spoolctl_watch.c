/*
 * status --watch (and top): the status table again every interval, with
 * the rates between two readings. On a terminal the screen is redrawn
 * and q or Ctrl-C ends it, the terminal as it was; elsewhere each
 * reading is a table of its own, as many as --count says.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "spoolctl.h"
#include "util.h"

static volatile sig_atomic_t	 stop;

struct term {
	int		 raw;		/* stdin was changed: restore it */
	struct termios	 saved;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* No SA_RESTART: the wait between readings ends at once. */
static void
catch_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Keys one at a time, unechoed; Ctrl-C still signals. */
static void
term_raw(struct term *t)
{
	struct termios	 raw;

	t->raw = 0;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) == -1)
		return;
	raw = t->saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		t->raw = 1;
}

static void
term_restore(struct term *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static double
mono_s(void)
{
	return mono_ms() / 1000.0;
}

/* Waits secs, or less when q is typed or a signal comes: 1 to stop. */
static int
wait_key(const struct term *t, double secs)
{
	struct pollfd	 pfd = { STDIN_FILENO, POLLIN, 0 };
	double		 end = mono_s() + secs, left;
	char		 c;

	while (!stop && (left = end - mono_s()) > 0) {
		if (poll(&pfd, t->raw ? 1 : 0, (int)(left * 1000) + 1) <= 0)
			continue;
		if (read(STDIN_FILENO, &c, 1) != 1 || c == 'q' || c == 'Q')
			return 1;
	}
	return stop;
}

static void
heading(const struct config *conf, json_t *reply, double interval, int tty)
{
	char		 t[32];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		t[0] = '\0';
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("%s  every %gs%s", t, interval, tty ? ", q to quit" : "");
	if (json_is_true(json_object_get(reply, "offline")))
		printf("  (spoold is not running: read from the spool at %s, "
		    "read-only)", conf->spool_dir);
	putchar('\n');
}

static void
watch_args(const struct opts *o, double *interval, long *count)
{
	char	*end;

	*interval = 1;
	*count = 0;
	if (o->interval != NULL) {
		*interval = strtod(o->interval, &end);
		if (*end != '\0' || end == o->interval || !(*interval >= 0.1 &&
		    *interval <= 3600))
			bad_usage("status: --interval takes seconds, 0.1 to "
			    "3600");
	}
	if (o->count != NULL) {
		*count = strtol(o->count, &end, 10);
		if (*end != '\0' || end == o->count || *count < 1)
			bad_usage("status: --count takes a number above 0");
	}
}

int
watch(const struct config *conf, const struct opts *o)
{
	struct term	 t = { 0 };
	json_t		*reply, *prev = NULL;
	double		 interval, at, prev_at = 0;
	long		 count, n;
	int		 tty = isatty(STDOUT_FILENO);

	watch_args(o, &interval, &count);
	catch_signals();
	if (tty)
		term_raw(&t);
	for (n = 0; !stop && (count == 0 || n < count); n++) {
		if (n > 0 && wait_key(&t, interval))
			break;
		reply = get_status(conf, 1);
		at = mono_s();
		if (json_out)
			print_json(reply);
		else {
			if (n > 0 && !tty)
				putchar('\n');
			heading(conf, reply, interval, tty);
			status_table(reply, prev, prev ? at - prev_at : 0);
		}
		fflush(stdout);
		json_decref(prev);
		prev = reply;
		prev_at = at;
	}
	json_decref(prev);
	term_restore(&t);
	return 0;
}
