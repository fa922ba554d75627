/*
 * A BATCH frame and the request body a worker makes of it.
 */
#ifndef SPOOLD_BODY_H
#define SPOOLD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct batch_rec {
	uint64_t	 id;		/* spool id */
	const char	*ptr;		/* into the frame's payload */
	size_t		 len;
};

struct batch {
	uint64_t		 seq;
	uint8_t			 flags;		/* PROTO_F_* */
	uint32_t		 n;
	struct batch_rec	*recs;
};

struct body {
	const char	*ptr;
	size_t		 len;
	char		*buf;	/* owned, or NULL: ptr is a record */
};

/*
 * Splits a BATCH payload (after the type byte) into its records, which
 * keep pointing into it. Returns 0, or -1 with a message in err.
 */
int	batch_parse(const unsigned char *, size_t, struct batch *, char *err,
	    size_t errlen);
void	batch_free(struct batch *);

/* The request body for the hook's format and log_parameters; 0 or -1. */
int	body_build(const struct hook *, const struct batch *, struct body *);
void	body_free(struct body *);

/*
 * One record projected by the hook's log_parameters: a malloc'd compact
 * serialization, or NULL when the record is sent as is (nothing removed,
 * or it does not parse).
 */
char	*body_project(const struct hook *, const char *, size_t, size_t *);

/*
 * Does the key of keylen bytes, NULs among them maybe, match one of the
 * patterns ("*", "prefix*" or a name)?
 */
int	body_match(const struct patterns *, const char *key, size_t keylen,
	    int icase);

#endif
