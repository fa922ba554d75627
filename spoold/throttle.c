/*
 * Throttle accounting; see throttle.h. The scheduler says, after each
 * dispatch, which limit stopped it; only arithmetic lives here, so that
 * the windows and the once-a-minute rule are tested on their own.
 */
#include "throttle.h"

const char *const throttle_key[THR_N] = {
	[THR_CONNECTION_LIMIT] = "connection_limit",
	[THR_CONNECTION_RATE] = "max_connection_rate",
	[THR_MESSAGE_RATE] = "max_message_rate",
};

int
throttle_note(struct throttle *t, int cause, uint64_t mono)
{
	if (t->cause != THR_NONE && mono > t->last_ms)
		t->ms[t->cause] += mono - t->last_ms;
	t->last_ms = mono;
	t->cause = cause;
	if (cause == THR_NONE) {
		t->mark_ms = 0;
		return 0;
	}
	/* The first reading opens a window; a later one may close it. */
	return t->mark_ms == 0 || mono - t->mark_ms >= THROTTLE_WINDOW_MS;
}

int
throttle_warn(struct throttle *t, uint64_t backlog, uint64_t mono)
{
	int	 due;

	due = t->mark_ms != 0 && backlog > t->mark_backlog &&
	    (t->warned_ms == 0 || mono - t->warned_ms >= THROTTLE_WARN_MS);
	t->mark_ms = mono ? mono : 1;
	t->mark_backlog = backlog;
	if (!due)
		return 0;
	t->warned_ms = mono ? mono : 1;
	t->warnings[t->cause]++;
	return 1;
}
