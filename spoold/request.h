/*
 * An HTTP/1.1 request head as the ingest server reads it (RFC 9112),
 * and the chunked transfer coding of its body.
 */
#ifndef SPOOLD_REQUEST_H
#define SPOOLD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQ_MAX_HEAD	16384	/* request line and header fields */
#define REQ_MAX_FIELDS	64

struct field {
	const char	*name;
	size_t		 nlen;
	const char	*value;		/* without surrounding white space */
	size_t		 vlen;
};

struct request {
	const char	*method;
	size_t		 mlen;
	const char	*target;
	size_t		 tlen;
	int		 minor;		/* HTTP/1.minor */
	struct field	 fields[REQ_MAX_FIELDS];
	size_t		 nfields;
	int		 keep_alive;
	int		 chunked;
	int		 expect_continue;
	uint64_t	 clen;		/* when not chunked */
	/* An error: the status to answer and why; the connection closes. */
	unsigned int	 status;
	const char	*why;
	char		 whybuf[128];
};

/*
 * Parse the head at the start of buf. Returns its length once it is
 * whole, 0 while more is needed, or -1 with r->status and r->why set.
 * r points into buf for as long as the request lives.
 */
long		 req_parse(struct request *, char *buf, size_t len);
/* The value of the field name (case-insensitive), or NULL. */
const char	*req_field(const struct request *, const char *name,
		    size_t *vlen);
int		 req_is(const struct request *, const char *method,
		    const char *path);

struct chunked {
	int		 state;
	uint64_t	 left;		/* of the current chunk */
	size_t		 line;		/* bytes of the current line */
	size_t		 trailer;	/* bytes of the trailer section */
};

/*
 * Decode the chunked body in buf[0..*len) in place: on return buf holds
 * *out decoded bytes and *len is what was consumed. 1 at the end of the
 * body, 0 for more, -1 when malformed.
 */
int		 chunked_decode(struct chunked *, unsigned char *buf,
		    size_t *len, size_t *out);

#endif
