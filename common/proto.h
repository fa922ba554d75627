/*
 * The socket between spoold and a delivery worker.
 *
 * A worker, titled "spoold: worker HOOK", has one end of a stream socket
 * pair on fd 3 (see workers/launcher.c); it never touches the spool.
 * Frames are [be32 length of type and payload][u8 type][payload]; all
 * integers big-endian.
 *
 *   HELLO   spoold -> worker, once, first: the hook's settings as JSON
 *           (proto_hook_json).
 *   BATCH   spoold -> worker: be64 seq, u8 flags, be32 n, then n times
 *           be64 spool id, be32 length, record bytes as stored.
 *   RESULT  worker -> spoold, one per BATCH, in order: be64 seq, be32
 *           http status (0: no answer), be32 transport error (a
 *           CURLcode; 0: none), be32 Retry-After seconds (0: none), u8
 *           new connection (1: this request opened one), be32 elapsed ms,
 *           be16 length, answer text (the start of the answer's body, or
 *           the transport error's message), u8 class (PROTO_CLASS_*:
 *           the batch's outcome; _STATUS: as the http status says), be32
 *           n, then n records whose outcome is not the batch's: be32
 *           index in the batch, u8 class, be16 code, be16 length, text.
 *           A worker may hold results back while more batches wait, and
 *           write them together.
 *
 * spoold closing its end tells the worker to exit once its request is
 * done.
 */
#ifndef SPOOLD_PROTO_H
#define SPOOLD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

#define PROTO_FD		3
#define PROTO_TITLE		"spoold: worker "

#define PROTO_HELLO		1
#define PROTO_BATCH		2
#define PROTO_RESULT		3

#define PROTO_F_LAST		0x01	/* close the connection afterwards */
#define PROTO_F_FRESH		0x02	/* open a new connection for this */

#define PROTO_HDR		5	/* be32 length, u8 type */
/*
 * A worker holds results back at most this long before it starts another
 * request; spoold queues more than two batches only to a worker whose
 * last request took less.
 */
#define PROTO_HOLD_MS		20
#define PROTO_ANSWER_MAX	512	/* answer text kept for dead letters */
#define PROTO_FRAME_MAX		(1U << 30)

/*
 * Outcome classes. HTTP answers a batch with one status, which the
 * hook's transient_status classifies; a broker confirms each message,
 * so AMQP and Kafka say the class of the batch and of each record that
 * differs.
 */
#define PROTO_CLASS_STATUS	0	/* by the http status */
#define PROTO_CLASS_DELIVERED	1
#define PROTO_CLASS_TRANSIENT	2
#define PROTO_CLASS_PERMANENT	3

/* A record whose outcome is not its batch's. */
struct proto_rec {
	uint32_t	 index;		/* in the batch */
	uint8_t		 class;		/* PROTO_CLASS_*, not _STATUS */
	uint16_t	 code;		/* the broker's reply or error code */
	uint16_t	 textlen;	/* at most PROTO_ANSWER_MAX */
	const char	*text;
};

struct proto_result {
	uint64_t	 seq;
	uint32_t	 status;	/* http status, or the broker's code */
	uint32_t	 error;
	uint32_t	 retry_after;
	uint8_t		 new_conn;
	uint32_t	 elapsed_ms;
	uint16_t	 textlen;
	char		 text[PROTO_ANSWER_MAX];
	uint8_t		 class;		/* PROTO_CLASS_* */
	/*
	 * A transport's recs stay its own until its next delivery; those
	 * proto_result_decode makes are freed by proto_result_free.
	 */
	uint32_t	 nrecs;
	struct proto_rec *recs;
	void		*arena;		/* decode's: recs and their texts */
};

/* The settings a worker needs, as JSON, and back. */
json_t		*proto_hook_json(const struct hook *);
/* Fills h from JSON; free with proto_hook_free. Returns 0 or -1. */
int		 proto_hook_parse(json_t *, struct hook *, char *, size_t);
void		 proto_hook_free(struct hook *);

/*
 * HELLO: the settings as compact JSON text, malloc'd (the caller frees),
 * its length in *len; NULL out of memory. And back: fills h (free with
 * proto_hook_free), or -1 with a message in err.
 */
char		*proto_hello(const struct hook *, size_t *len);
int		 proto_hello_parse(const unsigned char *, size_t, struct hook *,
		    char *err, size_t errlen);

/*
 * BATCH, written at *len into a buffer grown as needed (grow_buf):
 * proto_batch_begin leaves room for the header and the record count,
 * proto_batch_add appends a record, and proto_batch_end, told where the
 * frame begins and how many records it holds, fills them in, so that
 * records go straight from the spool into the frame. 0, or -1 out of
 * memory.
 */
int		 proto_batch_begin(unsigned char **buf, size_t *cap,
		    size_t *len, uint64_t seq, uint8_t flags);
int		 proto_batch_add(unsigned char **buf, size_t *cap, size_t *len,
		    uint64_t id, const char *rec, size_t reclen);
void		 proto_batch_end(unsigned char *buf, size_t at, size_t len,
		    uint32_t n);

/* A BATCH as a worker reads it. */
struct proto_batch_rec {
	uint64_t	 id;		/* spool id */
	const char	*ptr;		/* into the frame's payload */
	size_t		 len;
};

struct proto_batch {
	uint64_t		 seq;
	uint8_t			 flags;		/* PROTO_F_* */
	uint32_t		 n;
	struct proto_batch_rec	*recs;
};

/*
 * Splits a BATCH payload (after the type byte) into its records, which
 * keep pointing into it. Returns 0, or -1 with a message in err: a batch
 * holds one record or more, and no record is empty.
 */
int		 proto_batch_parse(const unsigned char *, size_t,
		    struct proto_batch *, char *err, size_t errlen);
void		 proto_batch_free(struct proto_batch *);

/*
 * RESULT payload (after the type byte) to and from bytes: its size, the
 * bytes written (0: they do not fit, or the result is not one), and back
 * (0, or -1 for bytes no result has; then nothing is held).
 */
size_t		 proto_result_size(const struct proto_result *);
size_t		 proto_result_encode(const struct proto_result *,
		    unsigned char *, size_t);
int		 proto_result_decode(const unsigned char *, size_t,
		    struct proto_result *);
void		 proto_result_free(struct proto_result *);

/* Writes the PROTO_HDR bytes that start a frame of type and payload len. */
void		 proto_header(unsigned char *, int, size_t);

/* A frame found in a buffer. */
struct proto_frame {
	int			 type;
	const unsigned char	*p;		/* payload */
	size_t			 len;		/* payload length */
	size_t			 size;		/* whole frame; 0: header not in */
};

/*
 * The frame at the start of buf: 1 when all of it is there, 0 while bytes
 * are missing (f->size says how many in all once the header is in), -1
 * with errno EMSGSIZE (longer than max) or EPROTO for a header no frame
 * can have.
 */
int		 proto_frame(const unsigned char *, size_t, uint32_t,
		    struct proto_frame *);

/*
 * Blocking frame I/O, for tests and tools. proto_read returns the type
 * and a malloc'd payload (the caller frees), 0 at end of file, -1 on
 * error.
 */
int		 proto_read(int fd, unsigned char **payload, size_t *len);
int		 proto_write(int fd, int type, const void *payload,
		    size_t len);

#endif
