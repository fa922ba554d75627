/*
 * The record types of KumoMTA log records: their names as the "type"
 * field spells them, and their numbers as bits of a hook's filter.
 */
#ifndef SPOOLD_RECTYPE_H
#define SPOOLD_RECTYPE_H

#include <stddef.h>

/* Record types of KumoMTA log records, as bits of a hook's filter. */
enum rectype {
	RT_RECEPTION, RT_DELIVERY, RT_BOUNCE, RT_TRANSIENTFAILURE,
	RT_EXPIRATION, RT_ADMINBOUNCE, RT_OOB, RT_FEEDBACK, RT_REJECTION,
	RT_DEFERREDINJECTIONREBIND, RT_DELAYED, RT_XFEROUT, RT_XFERIN,
	RT_OTHER,		/* missing, unknown or not a string */
	RT_COUNT
};
#define RT_ALL		((1u << RT_COUNT) - 1)

/* RT_* of a record's "type" value; RT_OTHER when unknown. */
enum rectype	 rectype_lookup(const char *, size_t);
const char	*rectype_name(enum rectype);

#endif
