/*
 * Hook names and their persistent ids: a hook keeps its id, and its
 * records, across configurations.
 */
#include <lmdb.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_hook_id(struct store *s, const char *name, uint32_t *id)
{
	MDB_txn		*txn;
	MDB_val		 k, d;
	unsigned char	 buf[4];
	uint64_t	 next;
	int		 rc;

	pthread_rwlock_rdlock(&s->maplock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto out;
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, s->hooks, &k, &d)) == 0 && d.mv_size == 4) {
		*id = get_be32(d.mv_data);
		mdb_txn_abort(txn);
		goto out;
	}
	if ((rc = meta_get_u64(txn, s->meta, "next_hook", &next)) != 0)
		goto abort;
	*id = (uint32_t)next;
	put_be32(buf, *id);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	if ((rc = mdb_put(txn, s->hooks, &k, &d, 0)) != 0 ||
	    (rc = meta_put_u64(txn, s->meta, "next_hook", next + 1)) != 0)
		goto abort;
	rc = mdb_txn_commit(txn);
	goto out;
 abort:
	mdb_txn_abort(txn);
 out:
	pthread_rwlock_unlock(&s->maplock);
	if (rc != 0) {
		log_warnx("spool: hook %s: %s", name, store_strerror(rc));
		return -1;
	}
	pthread_rwlock_wrlock(&s->maplock);
	if (*id >= s->nhooks)
		s->nhooks = *id + 1;
	pthread_rwlock_unlock(&s->maplock);
	return 0;
}

int
store_hook_find(struct store *s, const char *name, uint32_t *id)
{
	MDB_txn	*txn;
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	pthread_rwlock_rdlock(&s->maplock);
	if (s->env == NULL)
		rc = MDB_PANIC;
	else if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_get(txn, s->hooks, &k, &d)) == 0 &&
		    d.mv_size == 4)
			*id = get_be32(d.mv_data);
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc == 0 ? 0 : -1;
}
