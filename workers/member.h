/*
 * A top-level member of a record, for transports that copy one into a
 * message's properties.
 */
#ifndef SPOOLD_MEMBER_H
#define SPOOLD_MEMBER_H

#include <sys/types.h>

#include <stddef.h>

/*
 * The record's top-level member NAME when it is a string, decoded
 * into out (a \u0000 is a byte of it): its length, or -1 when there is
 * none, it is not a string, or it does not fit outcap.
 */
ssize_t	record_member(const char *rec, size_t len, const char *name,
	    char *out, size_t outcap);

#endif
