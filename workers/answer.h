/*
 * An HTTP/1.1 answer read as it arrives, for the worker's plain-HTTP
 * client (http1.c): the status, Retry-After, whether the connection
 * ends with it, and the start of the body for the dead letters.
 */
#ifndef SPOOLD_ANSWER_H
#define SPOOLD_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

/* Heads longer than this in all are refused, as libcurl refuses them. */
#define ANSWER_HEAD_MAX		(300 * 1024)

enum answer_rc {
	ANSWER_MORE,		/* give it more bytes */
	ANSWER_DONE,		/* the answer is complete */
	ANSWER_ERROR		/* not HTTP/1.x as it must be: see code, err */
};

/* What the head of an answer says about its body and connection. */
struct answer_head {
	int		 minor;
	int		 has_length;
	uint64_t	 length;
	int		 te;		/* a Transfer-Encoding was given */
	int		 chunked;	/* ...and chunked is its last coding */
	int		 conn_close;
	int		 keep_alive;
};

struct answer {
	int		 state;
	struct answer_head head;	/* of the answer being read */
	uint32_t	 status;	/* of the final answer, once its head is in */
	uint32_t	 retry_after;	/* seconds, 0 when none */
	int		 close;		/* the server ends the connection */
	int		 chunk_digits;	/* hex digits of a chunk size line, or
					   bytes of a trailer line */
	uint64_t	 left;		/* body or chunk bytes still to come */
	size_t		 headbytes;	/* head lines taken, all answers */
	size_t		 linescan;	/* bytes of a line seen without its end */
	uint64_t	 got;		/* bytes taken, all answers */
	time_t		 now;		/* for HTTP-date Retry-After values */
	int		 code;		/* a CURLcode, with ANSWER_ERROR */
	const char	*err;
	uint16_t	 textlen;
	char		 text[PROTO_ANSWER_MAX];
};

void		answer_init(struct answer *, time_t now);

/*
 * Takes bytes from p: the head a complete line at a time, the body as it
 * comes. The bytes not taken (*used says how many were) are the start of
 * a line: the caller keeps them and offers them again with more behind.
 * Bytes past a complete answer are not taken either.
 */
enum answer_rc	answer_feed(struct answer *, const char *p, size_t len,
		    size_t *used);

/*
 * The server closed the connection, pending bytes of a head still
 * unparsed: ANSWER_DONE or ANSWER_ERROR.
 */
enum answer_rc	answer_eof(struct answer *, size_t pending);

/*
 * A Retry-After value (delta-seconds or an HTTP-date) as seconds from
 * now; 0 when absent, in the past or not understood. libcurl's client
 * (http.c) takes it from here too.
 */
uint32_t	 answer_retry_after(const char *, size_t, time_t now);

#endif
