/*
 * Record type names: a record's "type" value to its RT_* number for the
 * hooks' filters, and back for spoold -n.
 */
#include <stddef.h>
#include <string.h>

#include "rectype.h"

static const char *const rtnames[RT_COUNT] = {
	"Reception", "Delivery", "Bounce", "TransientFailure",
	"Expiration", "AdminBounce", "OOB", "Feedback", "Rejection",
	"DeferredInjectionRebind", "Delayed", "XferOut", "XferIn", "Other"
};

enum rectype
rectype_lookup(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL)
		return RT_OTHER;
	for (i = 0; i < RT_OTHER; i++)
		if (strlen(rtnames[i]) == len &&
		    memcmp(rtnames[i], s, len) == 0)
			return (enum rectype)i;
	return RT_OTHER;
}

const char *
rectype_name(enum rectype t)
{
	if ((unsigned)t >= RT_OTHER)
		return rtnames[RT_OTHER];
	return rtnames[t];
}
