/*
 * record_member: a record's top-level string member, decoded, as a
 * parser would read it, for the AMQP type and the Kafka key.
 */
#include <string.h>

#include "member.h"
#include "tap.h"

static void
member_is(const char *rec, const char *name, const char *want,
    size_t wantlen, const char *what)
{
	char	 out[64];
	ssize_t	 n;

	n = record_member(rec, strlen(rec), name, out, sizeof(out));
	if (want == NULL) {
		ok(n == -1, "%s: none", what);
		return;
	}
	ok(n == (ssize_t)wantlen && memcmp(out, want, wantlen) == 0, "%s",
	    what);
}

int
main(void)
{
	char	 small[4];

	member_is("{\"type\":\"Delivery\",\"queue\":\"q\"}", "type",
	    "Delivery", 8, "the first member");
	member_is(" {\n\"a\" : [1,{\"type\":\"x\"}], \"type\" : \"Bounce\" } ",
	    "type", "Bounce", 6, "after nested values, with white space");
	member_is("{\"meta\":{\"recipient\":\"no\"}}", "recipient", NULL, 0,
	    "a nested member is not a top-level one");
	member_is("{\"recipient\":\"a@b\",\"recipient\":\"c@d\"}", "recipient",
	    "c@d", 3, "the last of two, as a parser keeps it");
	member_is("{\"r\":\"caf\\u00e9 \\\"q\\\" \\\\\"}", "r",
	    "caf\xc3\xa9 \"q\" \\", 11, "escapes decoded");
	member_is("{\"r\":\"a\\u0000b\"}", "r", "a\0b", 3,
	    "\\u0000 is a byte of the value");
	member_is("{\"\\u0072\":\"esc\"}", "r", "esc", 3,
	    "an escaped key matches its text");
	member_is("{\"r\\u0000\":\"x\"}", "r", NULL, 0,
	    "a key with \\u0000 is not its prefix");
	member_is("{\"r\":5}", "r", NULL, 0, "a number is not a string");
	member_is("{\"r\":null}", "r", NULL, 0, "null is not a string");
	member_is("{\"rr\":\"x\"}", "r", NULL, 0, "another name");
	member_is("{}", "r", NULL, 0, "an empty record");
	member_is("{\"r\":\"\"}", "r", "", 0, "an empty string");
	ok(record_member("{\"r\":\"long\"}", 12, "r", small, 3) == -1,
	    "a value longer than out is none");
	ok(record_member("{\"r\":\"long\"}", 12, "r", small, 4) == 4,
	    "one that just fits");
	return done_testing();
}
