/*
 * Throttle accounting: time by limit, windows, and at most one warning
 * a minute, only while the backlog grows.
 */
#include <string.h>

#include "tap.h"
#include "throttle.h"

static void
test_time(void)
{
	struct throttle	 t;

	memset(&t, 0, sizeof(t));
	throttle_note(&t, THR_NONE, 1000);
	throttle_note(&t, THR_MESSAGE_RATE, 1500);
	throttle_note(&t, THR_MESSAGE_RATE, 1700);
	throttle_note(&t, THR_CONNECTION_LIMIT, 2000);
	throttle_note(&t, THR_NONE, 2300);
	throttle_note(&t, THR_NONE, 9000);
	is_int((int64_t)t.ms[THR_MESSAGE_RATE], 500,
	    "time after a rate stop goes to the rate");
	is_int((int64_t)t.ms[THR_CONNECTION_LIMIT], 300,
	    "then to the connection limit");
	is_int((int64_t)t.ms[THR_CONNECTION_RATE], 0, "none to the other");
	is_int((int64_t)t.ms[THR_NONE], 0, "unthrottled time is not counted");
}

static void
test_warn(void)
{
	struct throttle	 t;
	uint64_t	 m = 100000;

	memset(&t, 0, sizeof(t));
	is_int(throttle_note(&t, THR_MESSAGE_RATE, m), 1,
	    "the first stop opens a window");
	is_int(throttle_warn(&t, 500, m), 0, "no warning when it opens");
	is_int(throttle_note(&t, THR_MESSAGE_RATE, m + 1000), 0,
	    "inside the window: no backlog wanted");
	is_int(throttle_note(&t, THR_MESSAGE_RATE, m + THROTTLE_WINDOW_MS), 1,
	    "the window ends");
	is_int(throttle_warn(&t, 400, m + THROTTLE_WINDOW_MS), 0,
	    "a shrinking backlog is no warning");
	m += 2 * THROTTLE_WINDOW_MS;
	throttle_note(&t, THR_MESSAGE_RATE, m);
	is_int(throttle_warn(&t, 900, m), 1, "a growing one is");
	is_int((int64_t)t.warnings[THR_MESSAGE_RATE], 1, "and counted");
	m += THROTTLE_WINDOW_MS;
	throttle_note(&t, THR_MESSAGE_RATE, m);
	is_int(throttle_warn(&t, 2000, m), 0, "not again within the minute");
	m += THROTTLE_WARN_MS;
	throttle_note(&t, THR_CONNECTION_LIMIT, m);
	is_int(throttle_warn(&t, 3000, m), 1, "again after it, for the limit "
	    "of now");
	is_int((int64_t)t.warnings[THR_CONNECTION_LIMIT], 1,
	    "counted for that limit");
	throttle_note(&t, THR_NONE, m + 10);
	is_int(throttle_note(&t, THR_CONNECTION_LIMIT, m + 20), 1,
	    "a stop after a free run opens a new window");
	is_int(throttle_warn(&t, 100000, m + 20), 0,
	    "which cannot warn as it opens");
	ok(strcmp(throttle_key[THR_CONNECTION_RATE], "max_connection_rate") ==
	    0, "limits are named by their shaping keys");
}

int
main(void)
{
	test_time();
	test_warn();
	return done_testing();
}
