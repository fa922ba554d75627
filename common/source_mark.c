/*
 * A log source's checkpoint, encoded; see source_mark.h.
 */
#include <string.h>

#include "source_mark.h"
#include "util.h"

#define MARK_VERSION	1

const char *const source_state_names[SOURCE_NSTATES] = {
	[SOURCE_READING] = "reading",
	[SOURCE_WAITING] = "waiting",
	[SOURCE_PAUSED] = "paused",
	[SOURCE_FAILED] = "failed",
	[SOURCE_STOPPED] = "stopped",
};

size_t
source_mark_key(const char *name, unsigned char key[SOURCE_KEY_MAX])
{
	size_t	 n = strnlen(name, HOOK_NAME_MAX);

	memcpy(key, "src", 3);
	memcpy(key + 3, name, n);
	return 3 + n;
}

size_t
source_mark_encode(const struct source_mark *m,
    unsigned char buf[SOURCE_MARK_MAX])
{
	size_t	 n = strnlen(m->segment, SOURCE_SEGMENT_MAX);

	buf[0] = MARK_VERSION;
	put_be64(buf + 1, m->offset);
	put_be64(buf + 9, m->line);
	put_be64(buf + 17, m->records);
	memcpy(buf + SOURCE_MARK_HDR, m->segment, n);
	return SOURCE_MARK_HDR + n;
}

int
source_mark_decode(const unsigned char *p, size_t len, struct source_mark *m)
{
	size_t	 n;

	if (len < SOURCE_MARK_HDR || len > SOURCE_MARK_MAX ||
	    p[0] != MARK_VERSION)
		return -1;
	n = len - SOURCE_MARK_HDR;
	if (memchr(p + SOURCE_MARK_HDR, '\0', n) != NULL)
		return -1;
	m->offset = get_be64(p + 1);
	m->line = get_be64(p + 9);
	m->records = get_be64(p + 17);
	memcpy(m->segment, p + SOURCE_MARK_HDR, n);
	m->segment[n] = '\0';
	return 0;
}
