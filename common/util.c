/*
 * Clocks and growing buffers.
 */
#include <stdlib.h>
#include <time.h>

#include "util.h"

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

uint64_t
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int
grow_buf(unsigned char **p, size_t *cap, size_t need, size_t first)
{
	unsigned char	*np;
	size_t		 n;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : first;
	while (n < need)
		n *= 2;
	if ((np = realloc(*p, n)) == NULL)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

void
iov_skip(struct iovec **v, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*v)->iov_len) {
		n -= (*v)->iov_len;
		(*v)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*v)->iov_base = (char *)(*v)->iov_base + n;
		(*v)->iov_len -= n;
	}
}
