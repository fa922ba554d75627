/*
 * connflood: many idle or slow connections to a server, for the tests
 * and the benchmark of ingest under connection pressure.
 *
 *   connflood -a HOST:PORT [-i idle] [-s slow] [-b interval_ms]
 *       [-d seconds] [-r]
 *
 * Opens idle connections, which send nothing, and slow ones, which send
 * a request head one byte every interval_ms and never finish it. Once
 * all are open it prints "ready" and a newline, then watches them for
 * the given seconds (default 10) or until SIGTERM, and prints one line:
 *   idle=N idle_closed=N slow=N slow_closed=N slow_close_ms_min=X
 *   slow_close_ms_max=Y refused=N
 * where a connection counts as closed once the server ends it, the
 * close times are from the slow connection's first byte, and refused
 * counts connections closed before their first byte was sent or, for
 * idle ones, within 200 ms of opening (a server over its limit).
 * With -r a slow connection the server closed is opened again, so that
 * the pressure lasts as long as the flood. Exit 1 when a connection
 * could not be opened at all.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netdb.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static const char	 head[] = "POST /log HTTP/1.1\r\nHost: flood\r\n"
    "Content-Type: application/json\r\nX-Slow: "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

struct flood_conn {
	int		 fd;
	int		 slow;
	int		 closed;
	size_t		 sent;
	uint64_t	 opened_ms;
	uint64_t	 first_ms;
};

static volatile sig_atomic_t	 stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
open_conn(const struct addrinfo *ai)
{
	int	 fd;

	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open c's connection and watch it for the server's close. */
static int
watch(int ep, struct flood_conn *c, const struct addrinfo *ai)
{
	struct epoll_event	 ev;

	c->closed = 0;
	c->sent = 0;
	if ((c->fd = open_conn(ai)) == -1) {
		fprintf(stderr, "connflood: connect: %s\n", strerror(errno));
		return -1;
	}
	c->opened_ms = mono_ms();
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
raise_nofile(size_t n)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = n + 64 < rl.rlim_max ? n + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A slow connection's next byte; its first starts the clock. */
static void
trickle(struct flood_conn *c, uint64_t now)
{
	if (c->closed || c->sent >= sizeof(head) - 1)
		return;
	if (send(c->fd, head + c->sent, 1, MSG_NOSIGNAL) == 1) {
		if (c->sent++ == 0)
			c->first_ms = now;
	}
}

static int
parse_addr(const char *arg, struct addrinfo **res)
{
	char	 host[256], *colon;

	if (strlcpy(host, arg, sizeof(host)) >= sizeof(host) ||
	    (colon = strrchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	return getaddrinfo(host, colon + 1, NULL, res) == 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[256];
	struct addrinfo		*ai = NULL;
	struct flood_conn	*cs, *c;
	size_t			 nidle = 0, nslow = 0, n, i, refused = 0;
	size_t			 idle_closed = 0, slow_closed = 0;
	uint64_t		 interval = 1000, secs = 10, end, now, next;
	uint64_t		 cmin = UINT64_MAX, cmax = 0, t;
	char			 buf[512];
	int			 ch, ep, k, nev, reopen = 0;

	while ((ch = getopt(argc, argv, "a:i:s:b:d:r")) != -1) {
		switch (ch) {
		case 'a':
			if (parse_addr(optarg, &ai) == -1) {
				fprintf(stderr, "connflood: bad -a\n");
				return 2;
			}
			break;
		case 'i':
			nidle = strtoul(optarg, NULL, 10);
			break;
		case 's':
			nslow = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			interval = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			secs = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			reopen = 1;
			break;
		default:
			fprintf(stderr, "usage: connflood -a host:port [-i idle] "
			    "[-s slow] [-b interval_ms] [-d seconds]\n");
			return 2;
		}
	}
	if (ai == NULL || interval == 0)
		return 2;
	signal(SIGTERM, on_term);
	n = nidle + nslow;
	raise_nofile(n);
	if ((cs = calloc(n ? n : 1, sizeof(*cs))) == NULL ||
	    (ep = epoll_create1(0)) == -1)
		return 1;
	for (i = 0; i < n; i++) {
		cs[i].slow = i >= nidle;
		if (watch(ep, &cs[i], ai) == -1)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = mono_ms() + secs * 1000;
	for (next = now = mono_ms(); !stop && now < end; now = mono_ms()) {
		if (now >= next) {
			for (i = nidle; i < n; i++)
				trickle(&cs[i], now);
			next = now + interval;
		}
		t = next < end ? next : end;
		nev = epoll_wait(ep, evs, 256, (int)(t > now ? t - now : 0));
		for (k = 0; k < nev; k++) {
			c = evs[k].data.ptr;
			/* Whatever the server says, it ends with a close. */
			if (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				continue;
			c->closed = 1;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			now = mono_ms();
			if ((c->slow && c->sent == 0) ||
			    (!c->slow && now - c->opened_ms < 200)) {
				refused++;
				continue;
			}
			if (!c->slow) {
				idle_closed++;
				continue;
			}
			slow_closed++;
			t = now - c->first_ms;
			cmin = t < cmin ? t : cmin;
			cmax = t > cmax ? t : cmax;
			close(c->fd);
			if (reopen && watch(ep, c, ai) == -1)
				return 1;
		}
	}
	printf("idle=%zu idle_closed=%zu slow=%zu slow_closed=%zu "
	    "slow_close_ms_min=%llu slow_close_ms_max=%llu refused=%zu\n",
	    nidle, idle_closed, nslow, slow_closed,
	    (unsigned long long)(slow_closed ? cmin : 0),
	    (unsigned long long)cmax, refused);
	for (i = 0; i < n; i++)
		if (!cs[i].closed)
			close(cs[i].fd);
	free(cs);
	freeaddrinfo(ai);
	close(ep);
	return 0;
}
