/*
 * The request body a worker makes of a BATCH.
 */
#ifndef SPOOLD_BODY_H
#define SPOOLD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"

struct body {
	const char	*ptr;
	size_t		 len;
	char		*buf;	/* owned, or NULL: ptr is a record */
};

/* The request body for the hook's format and log_parameters; 0 or -1. */
int	body_build(const struct hook *, const struct proto_batch *,
	    struct body *);
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
