/*
 * Which shaping limit holds a hook back, for how long, and when that is
 * worth a warning: the time a hook spends throttled is counted by limit,
 * and a warning is due when its backlog grows over a whole window while
 * a limit keeps holding it back, at most once a minute.
 */
#ifndef SPOOLD_THROTTLE_H
#define SPOOLD_THROTTLE_H

#include <stdint.h>

/* Zero is none, so that a zeroed struct throttle is a hook never held. */
#define THR_NONE		0
#define THR_CONNECTION_LIMIT	1
#define THR_CONNECTION_RATE	2
#define THR_MESSAGE_RATE	3
#define THR_N			4

/* A backlog must grow over this long, held back all along, to warn. */
#define THROTTLE_WINDOW_MS	5000
#define THROTTLE_WARN_MS	60000

/* The shaping key of each limit, by THR_* (none: NULL). */
extern const char *const throttle_key[THR_N];

struct throttle {
	int		 cause;		/* THR_*, since last_ms */
	uint64_t	 last_ms;
	uint64_t	 ms[THR_N];	/* time held back, by THR_* */
	uint64_t	 warnings[THR_N];
	uint64_t	 mark_ms;	/* 0: no window open */
	uint64_t	 mark_backlog;
	uint64_t	 warned_ms;	/* 0: never */
};

/*
 * The limit that stopped the hook's dispatch at mono (THR_NONE: none
 * did); the time since the last call goes to the limit of then. Returns
 * 1 when a window ends now, and the backlog is wanted for throttle_warn.
 */
int	throttle_note(struct throttle *, int cause, uint64_t mono);
/*
 * The backlog at the end of a window: 1 when a warning is due for the
 * current limit (and counted), 0 otherwise. A new window starts.
 */
int	throttle_warn(struct throttle *, uint64_t backlog, uint64_t mono);

#endif
