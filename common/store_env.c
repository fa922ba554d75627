/*
 * The spool's LMDB environment: opening it, with the lock that keeps a
 * second spoold out; the map's growth up to max_spool_size and the
 * reserve above it; reopening after a fatal write error; stale reader
 * slots; closing.
 *
 * A failed commit leaves LMDB's data file as it was before the
 * transaction, so MDB_MAP_FULL, ENOSPC and EIO lose nothing that was
 * acknowledged; after MDB_PANIC (a failed meta page write) the
 * environment is closed and opened again.
 *
 * spoolctl opens the spool of a stopped spoold read-only: without the
 * lock, creating nothing, and without LMDB's lock file when it may not
 * write it, which is safe only because no spoold writes meanwhile.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "segment.h"
#include "store.h"
#include "store_int.h"

#define MAP_INITIAL	(64ULL << 20)
/*
 * Room above max_spool_size that only delivery outcomes may use: even
 * a delete needs fresh pages in LMDB, and a full spool must still be
 * able to drain.
 */
#define RESERVE_MIN	(4ULL << 20)
#define RESERVE_SHARE	16

static int
store_lock_dir(struct store *s, char *err, size_t errlen)
{
	char	 path[4096];

	snprintf(path, sizeof(path), "%s/spoold.lock", s->dir);
	if ((s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A second writer would hand out the same ids. */
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: spool in use by another spoold",
		    s->dir);
		return -1;
	}
	return 0;
}

static uint64_t
store_file_size(const char *dir)
{
	char		 path[4096];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == -1)
		return 0;
	return (uint64_t)st.st_size;
}

static int
store_dbis(struct store *s)
{
	MDB_txn		*txn;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "rec", MDB_CREATE, &s->rec)) != 0 ||
	    (rc = mdb_dbi_open(txn, "state", MDB_CREATE, &s->state)) != 0 ||
	    (rc = mdb_dbi_open(txn, "due", MDB_CREATE, &s->due)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hooks", MDB_CREATE, &s->hooks)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seg", MDB_CREATE, &s->seg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "segref", MDB_CREATE, &s->segref)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/* Hooks of earlier configurations keep their records: know their ids. */
static int
store_load_nhooks(struct store *s)
{
	MDB_txn		*txn;
	uint64_t	 next;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = meta_get_u64(txn, s->meta, "next_hook", &next);
	mdb_txn_abort(txn);
	if (rc == 0)
		s->nhooks = (uint32_t)next;
	return rc;
}

static int
store_env_open(struct store *s, char *err, size_t errlen)
{
	uint64_t	 fsize;
	int		 rc, dead;

	fsize = store_file_size(s->dir);
	s->mapsize = s->mapcap < MAP_INITIAL ? s->mapcap : MAP_INITIAL;
	/* The map must cover the file, even one larger than max_spool_size. */
	while (s->mapsize < fsize)
		s->mapsize *= 2;
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 510)) != 0)
		goto fail;
	/* MDB_NOTLS: read transactions are per request, on any thread. */
	if ((rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	if ((rc = mdb_reader_check(s->env, &dead)) != 0)
		goto fail;
	if (dead > 0)
		log_info("spool: cleared %d stale reader slots", dead);
	if ((rc = store_dbis(s)) != 0 || (rc = store_load_nhooks(s)) != 0)
		goto fail;
	return 0;
 fail:
	snprintf(err, errlen, "%s: %s", s->dir, store_strerror(rc));
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	return -1;
}

static struct store *
store_new(const char *dir, char *err, size_t errlen)
{
	struct store	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(s);
		return NULL;
	}
	s->lockfd = -1;
	pthread_rwlock_init(&s->maplock, NULL);
	pthread_mutex_init(&s->zlock, NULL);
	return s;
}

struct store *
store_open(const char *dir, uint64_t max_size, char *err, size_t errlen)
{
	struct store	*s;

	if ((s = store_new(dir, err, errlen)) == NULL)
		return NULL;
	s->maxsize = max_size;
	s->mapcap = max_size + (max_size / RESERVE_SHARE > RESERVE_MIN ?
	    max_size / RESERVE_SHARE : RESERVE_MIN);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (store_lock_dir(s, err, errlen) == -1 ||
	    store_env_open(s, err, errlen) == -1)
		goto fail;
	return s;
 fail:
	store_close(s);
	return NULL;
}

/*
 * Is a spoold on the spool? Its lock is exclusive; a shared one is
 * taken and let go at once, so that a spoold starting meanwhile finds
 * the spool free.
 */
static int
store_unlocked(const char *dir, char *err, size_t errlen)
{
	char	 path[4096];
	int	 fd, rc = 0;

	snprintf(path, sizeof(path), "%s/spoold.lock", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;	/* no spoold ever ran here, or not readable */
	if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: spool in use by a spoold", dir);
		rc = -1;
	} else
		flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* The databases, without creating any: a spool spoold never made has none. */
static int
store_dbis_rdonly(struct store *s)
{
	MDB_txn		*txn;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "rec", 0, &s->rec)) != 0 ||
	    (rc = mdb_dbi_open(txn, "state", 0, &s->state)) != 0 ||
	    (rc = mdb_dbi_open(txn, "due", 0, &s->due)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hooks", 0, &s->hooks)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seg", 0, &s->seg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "segref", 0, &s->segref)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* A read transaction keeps the handles it opened only by commit. */
	return mdb_txn_commit(txn);
}

static int
store_env_rdonly(struct store *s, unsigned int flags)
{
	int	 rc;

	if ((rc = mdb_env_create(&s->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0 ||
	    (rc = mdb_env_open(s->env, s->dir, MDB_RDONLY | MDB_NOTLS | flags,
	    0600)) != 0) {
		mdb_env_close(s->env);
		s->env = NULL;
	}
	return rc;
}

struct store *
store_open_rdonly(const char *dir, char *err, size_t errlen)
{
	struct store	*s;
	struct stat	 st;
	char		 path[4096];
	int		 rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (store_unlocked(dir, err, errlen) == -1)
		return NULL;
	if ((s = store_new(dir, err, errlen)) == NULL)
		return NULL;
	s->mapsize = s->maxsize = s->mapcap = (uint64_t)st.st_size;
	rc = store_env_rdonly(s, 0);
	/* LMDB's lock file is written even to read: without it, read alone. */
	if (rc == EACCES || rc == EROFS)
		rc = store_env_rdonly(s, MDB_NOLOCK);
	if (rc == 0 && (rc = store_dbis_rdonly(s)) == 0)
		rc = store_load_nhooks(s);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", dir, rc == MDB_NOTFOUND ?
		    "holds no spool" : store_strerror(rc));
		store_close(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd != -1)
		close(s->lockfd);
	pthread_rwlock_destroy(&s->maplock);
	pthread_mutex_destroy(&s->zlock);
	seg_cache_free(&s->zc);
	free(s->dir);
	free(s);
}

int
store_reader_check(struct store *s)
{
	int	 dead = 0;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL || mdb_reader_check(s->env, &dead) != 0)
		dead = -1;
	pthread_rwlock_unlock(&s->maplock);
	if (dead > 0)
		log_info("spool: cleared %d stale reader slots", dead);
	return dead;
}

/*
 * Double the map, up to mapcap. The caller holds no transaction.
 * Returns 0 when there is more room now.
 */
int
store_grow(struct store *s)
{
	uint64_t	 next;
	int		 rc = -1;

	pthread_rwlock_wrlock(&s->maplock);
	next = s->mapsize * 2;
	if (next > s->mapcap)
		next = s->mapcap;
	if (next > s->mapsize && s->env != NULL &&
	    mdb_env_set_mapsize(s->env, next) == 0) {
		log_debug("spool: map grown to %llu bytes",
		    (unsigned long long)next);
		s->mapsize = next;
		rc = 0;
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc;
}

/* After MDB_PANIC nothing works until the environment is opened again. */
void
store_recover(struct store *s)
{
	char	 err[512];

	pthread_rwlock_wrlock(&s->maplock);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	/* A commit that failed may have its ids handed out again. */
	seg_cache_free(&s->zc);
	if (store_env_open(s, err, sizeof(err)) == -1)
		log_errorx("spool: reopen after a fatal error: %s", err);
	else
		log_warnx("spool: reopened after a fatal write error");
	pthread_rwlock_unlock(&s->maplock);
}

/*
 * Runs fn until it fits: the map grows while it may; then, if copies
 * were asked for, once more without them, the states reading their
 * segments, because a full spool must still take outcomes.
 */
int
fit(struct store *s, txn_fn fn, void *arg, int copy)
{
	int	 rc;

	while ((rc = fn(s, arg, copy)) == MDB_MAP_FULL)
		if (store_grow(s) == -1) {
			if (!copy)
				break;
			copy = 0;
		}
	return rc;
}

/* Pages on LMDB's free list: space below the high-water mark to reuse. */
static uint64_t
free_pages(MDB_txn *txn)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	uint64_t	 n = 0;
	size_t		 ids;
	int		 rc;

	if (mdb_cursor_open(txn, 0, &cur) != 0)
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		/* Each value is a page list led by its length. */
		if (d.mv_size >= sizeof(size_t)) {
			memcpy(&ids, d.mv_data, sizeof(ids));
			n += ids;
		}
	}
	mdb_cursor_close(cur);
	return n;
}

/*
 * Would these records take the spool past max_spool_size? The estimate
 * is generous (index entries and half-full pages); the free list is only
 * counted when the high-water mark is near the limit.
 */
int
over_limit(struct store *s, uint64_t incoming)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	MDB_txn		*txn;
	uint64_t	 hw, freeb = 0;

	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL || mdb_env_info(s->env, &info) != 0 ||
	    mdb_env_stat(s->env, &st) != 0) {
		pthread_rwlock_unlock(&s->maplock);
		return 0;
	}
	hw = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (hw + incoming > s->maxsize &&
	    mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
		freeb = free_pages(txn) * st.ms_psize;
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return hw - (freeb < hw ? freeb : hw) + incoming > s->maxsize;
}

void
store_usage(struct store *s, uint64_t *used, uint64_t *map, uint64_t *max)
{
	MDB_envinfo	 info;
	MDB_stat	 st;

	*used = 0;
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env != NULL && mdb_env_info(s->env, &info) == 0 &&
	    mdb_env_stat(s->env, &st) == 0)
		*used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*map = s->mapsize;
	*max = s->maxsize;
	pthread_rwlock_unlock(&s->maplock);
}
