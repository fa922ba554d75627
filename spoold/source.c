/*
 * The running sources: a thread for each [source.NAME] of the live
 * configuration, started after the committer, changed on reload, and
 * stopped before it; their status; spoolctl source skip.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "source_int.h"
#include "spoold.h"

/* How long spoolctl source skip waits for the source to do it. */
#define SKIP_WAIT_S	10

static pthread_mutex_t	 s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 s_unpinned = PTHREAD_COND_INITIALIZER;
static struct src	*s_list;	/* sorted by name */

static void
src_free(struct src *s)
{
	free(s->cfg.name);
	free(s->cfg.directory);
	free(s->cfg.pattern);
	if (s->evfd != -1)
		close(s->evfd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static struct src *
src_start(const struct source *cfg)
{
	struct src	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->evfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->cfg = *cfg;
	s->cfg.name = strdup(cfg->name);
	s->cfg.directory = strdup(cfg->directory);
	s->cfg.pattern = strdup(cfg->pattern);
	snprintf(s->st.name, sizeof(s->st.name), "%s", cfg->name);
	if (s->cfg.name == NULL || s->cfg.directory == NULL ||
	    s->cfg.pattern == NULL ||
	    (s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    pthread_create(&s->thread, NULL, source_run, s) != 0) {
		log_warn("source %s: cannot start", cfg->name);
		src_free(s);
		return NULL;
	}
	return s;
}

/* With s_lock held: a skip waiting on it has let it go first. */
static void
src_stop(struct src *s)
{
	while (s->pins > 0)
		pthread_cond_wait(&s_unpinned, &s_lock);
	atomic_store(&s->stop, 1);
	source_wake(s);
	pthread_join(s->thread, NULL);
	src_free(s);
}

static int
same(const struct source *a, const struct source *b)
{
	return strcmp(a->directory, b->directory) == 0 &&
	    strcmp(a->pattern, b->pattern) == 0 && a->newest == b->newest &&
	    a->poll_watcher_ms == b->poll_watcher_ms;
}

/*
 * The sources of the live configuration: those unchanged keep running,
 * the others stop, and new ones start where their checkpoints say.
 */
void
sources_reload(void)
{
	struct live		*rt = live_get();
	const struct source	*cfg;
	struct src		*keep = NULL, **tail = &keep, *old, *s, *next;
	size_t			 i;

	pthread_mutex_lock(&s_lock);
	/* Off the list first: src_stop() may let go of the lock. */
	old = s_list;
	s_list = NULL;
	for (s = old; s != NULL; s = next) {
		next = s->next;
		cfg = config_source(rt->conf, s->cfg.name);
		if (cfg == NULL || !same(cfg, &s->cfg))
			src_stop(s);
		else {
			s->next = NULL;
			*tail = s;
			tail = &s->next;
		}
	}
	tail = &s_list;
	for (i = 0; i < rt->conf->nsources; i++) {
		cfg = &rt->conf->sources[i];
		if (keep != NULL && strcmp(keep->cfg.name, cfg->name) == 0) {
			s = keep;
			keep = keep->next;
		} else if ((s = src_start(cfg)) == NULL)
			continue;
		s->next = NULL;
		*tail = s;
		tail = &s->next;
	}
	pthread_mutex_unlock(&s_lock);
	live_put(rt);
}

void
sources_start(void)
{
	sources_reload();
}

void
sources_stop(void)
{
	struct src	*s, *next;

	pthread_mutex_lock(&s_lock);
	s = s_list;
	s_list = NULL;
	for (; s != NULL; s = next) {
		next = s->next;
		src_stop(s);
	}
	pthread_mutex_unlock(&s_lock);
}

struct source_status *
sources_status(size_t *n)
{
	struct source_status	*out = NULL, *p;
	struct src		*s;
	size_t			 k = 0;

	pthread_mutex_lock(&s_lock);
	for (s = s_list; s != NULL; s = s->next) {
		if ((p = reallocarray(out, k + 1, sizeof(*out))) == NULL)
			break;
		out = p;
		pthread_mutex_lock(&s->lock);
		out[k++] = s->st;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&s_lock);
	*n = k;
	return out;
}

/*
 * The source is pinned while the skip waits for it, so that a reload
 * does not free it meanwhile; status and the metrics do not wait.
 */
int
source_skip(const char *name, char *msg, size_t len)
{
	struct timespec	 until;
	struct src	*s;
	uint64_t	 mine;
	int		 rc = -2;

	pthread_mutex_lock(&s_lock);
	for (s = s_list; s != NULL && strcmp(s->cfg.name, name) != 0;
	    s = s->next)
		;
	if (s != NULL)
		s->pins++;
	pthread_mutex_unlock(&s_lock);
	if (s == NULL)
		return -1;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SKIP_WAIT_S;
	pthread_mutex_lock(&s->lock);
	mine = ++s->skip_asked;
	source_wake(s);
	while (s->skip_done < mine &&
	    pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
		;
	if (s->skip_done >= mine) {
		snprintf(msg, len, "%s", s->skip_msg);
		rc = 0;
	} else
		snprintf(msg, len, "the source did not answer in %d s: it may "
		    "be waiting for the spool", SKIP_WAIT_S);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s_lock);
	s->pins--;
	pthread_cond_broadcast(&s_unpinned);
	pthread_mutex_unlock(&s_lock);
	return rc;
}
