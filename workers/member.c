/*
 * A stand-in for record_member that knows "type" alone, by the ingest
 * scanner, until the general one lands.
 */
#include <string.h>

#include "jscan.h"
#include "member.h"

ssize_t
record_member(const char *rec, size_t len, const char *name, char *out,
    size_t outcap)
{
	struct jscan_rec	 jr;
	struct jscan_err	 err;

	if (strcmp(name, "type") != 0 ||
	    jscan_record(rec, len, &jr, &err) == -1 ||
	    jr.type_state != JSCAN_TYPE_STRING || jr.type_len > outcap)
		return -1;
	memcpy(out, jr.type, jr.type_len);
	return (ssize_t)jr.type_len;
}
