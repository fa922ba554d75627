/*
 * Small helpers every part of spoold uses: clocks, the big-endian
 * integers of the spool's keys and frames, and growing buffers.
 */
#ifndef SPOOLD_UTIL_H
#define SPOOLD_UTIL_H

#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Wall-clock milliseconds since the epoch: spool times survive restarts. */
uint64_t	now_ms(void);
/* Monotonic milliseconds: for intervals and deadlines in one process. */
uint64_t	mono_ms(void);
/*
 * Makes *cap at least need, doubling from first (or from *cap), moving
 * *p. 0, or -1 when out of memory (*p and *cap are left as they were).
 */
int		grow_buf(unsigned char **p, size_t *cap, size_t need,
		    size_t first);
/*
 * After a short writev or sendmsg of n bytes: *v and *cnt skip what went,
 * and the first vector left starts where the write stopped.
 */
void		iov_skip(struct iovec **v, int *cnt, size_t n);

/* The value of a hexadecimal digit, or -1. */
static inline int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline void
put_be16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline uint16_t
get_be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void
put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

#endif
