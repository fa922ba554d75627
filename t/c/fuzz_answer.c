/*
 * libFuzzer harness for the worker's HTTP answer parser: any bytes, cut
 * into pieces where the input's first byte says, must read as they read
 * whole (outcome, status, Retry-After, text, whether the connection
 * ends), never take more than it was given nor more than once, and never
 * leave a complete answer unreported. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feeds p in pieces of at most step bytes (0: whole), then the end. */
static enum answer_rc
feed(struct answer *a, const char *p, size_t len, size_t step,
    size_t *taken)
{
	enum answer_rc	 rc = ANSWER_MORE;
	size_t		 have = 0, off = 0, used;

	answer_init(a, 1700000000);
	while (rc == ANSWER_MORE && have < len) {
		have = step == 0 || len - have < step ? len : have + step;
		rc = answer_feed(a, p + off, have - off, &used);
		if (used > have - off)
			abort();
		off += used;
	}
	*taken = off;
	if (rc == ANSWER_MORE)
		rc = answer_eof(a, have - off);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answer	 whole, cut;
	size_t		 step, tw, tc;
	enum answer_rc	 rw, rc;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 16;
	rw = feed(&whole, (const char *)data + 1, size - 1, 0, &tw);
	rc = feed(&cut, (const char *)data + 1, size - 1, step, &tc);
	if (rw != rc || whole.textlen > PROTO_ANSWER_MAX)
		abort();
	if (rw == ANSWER_DONE && (whole.status != cut.status ||
	    whole.retry_after != cut.retry_after ||
	    whole.close != cut.close || tw != tc ||
	    whole.textlen != cut.textlen ||
	    memcmp(whole.text, cut.text, whole.textlen) != 0 ||
	    whole.status < 200 || whole.status > 999))
		abort();
	return 0;
}
