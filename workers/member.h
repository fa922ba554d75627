/*
 * Walking a record's bytes. Records were validated on ingest (jscan.c),
 * so a walk only has to find where strings and values end.
 */
#ifndef SPOOLD_MEMBER_H
#define SPOOLD_MEMBER_H

#include <stddef.h>
#include <sys/types.h>

/* Past white space. */
const char	*walk_ws(const char *p, const char *e);
/* Past the string that starts (with its quote) at p. */
const char	*walk_string_end(const char *p, const char *e);
/* Past the value that starts at p. */
const char	*walk_value_end(const char *p, const char *e);
/*
 * The member key from p to end (quotes included) decoded, malloc'd, its
 * length in *len (a \u0000 is a byte of it); NULL out of memory.
 */
char		*walk_key(const char *p, const char *end, size_t *len);

/* A member of an object: its key (quotes included) and value. */
struct walk_member {
	const char	*k, *kend;
	const char	*v, *vend;
};

/*
 * The member whose key starts at p (a '"'), into m: returns where the
 * next member's key is, or the object's end.
 */
const char	*walk_member(const char *p, const char *e, struct walk_member *);

/*
 * The record's top-level member name when it is a string (the last one
 * of that name, as a parser keeps it), decoded into out (a \u0000 is a
 * byte of it): its length, or -1 when there is none, it is not a string,
 * or it does not fit outcap.
 */
ssize_t		 record_member(const char *rec, size_t len, const char *name,
		    char *out, size_t outcap);

#endif
