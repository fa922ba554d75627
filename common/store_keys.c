/*
 * The byte layouts of store.h, one key at a time: meta's numbers and
 * counters, a record's copy in rec, a pair's state and due key, and a
 * state read back as a struct store_entry. The other store files leave
 * offsets to these.
 */
#include <lmdb.h>
#include <string.h>

#include "segment.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define CTR_KEY		7	/* "ctr" + be32 */

int
meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *v)
{
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, dbi, &k, &d)) == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (d.mv_size != 8)
		return MDB_CORRUPTED;
	*v = get_be64(d.mv_data);
	return 0;
}

int
meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t v)
{
	MDB_val		 k, d;
	unsigned char	 buf[8];

	put_be64(buf, v);
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	return mdb_put(txn, dbi, &k, &d, 0);
}

static void
ctr_key(unsigned char *key, uint32_t hook)
{
	memcpy(key, "ctr", 3);
	put_be32(key + 3, hook);
}

int
ctr_read(MDB_txn *txn, MDB_dbi meta, uint32_t hook, struct store_counts *c)
{
	unsigned char	 key[CTR_KEY];
	const unsigned char *p;
	MDB_val		 k, d;
	int		 rc;

	memset(c, 0, sizeof(*c));
	ctr_key(key, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_get(txn, meta, &k, &d)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (d.mv_size != 40)
		return MDB_CORRUPTED;
	p = d.mv_data;
	c->ready = get_be64(p);
	c->deferred = get_be64(p + 8);
	c->dead = get_be64(p + 16);
	c->delivered = get_be64(p + 24);
	c->failed = get_be64(p + 32);
	return 0;
}

static int
ctr_write(MDB_txn *txn, MDB_dbi meta, uint32_t hook,
    const struct store_counts *c)
{
	unsigned char	 key[CTR_KEY], buf[40];
	MDB_val		 k, d;

	ctr_key(key, hook);
	put_be64(buf, c->ready);
	put_be64(buf + 8, c->deferred);
	put_be64(buf + 16, c->dead);
	put_be64(buf + 24, c->delivered);
	put_be64(buf + 32, c->failed);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_data = buf;
	d.mv_size = sizeof(buf);
	return mdb_put(txn, meta, &k, &d, 0);
}

int
flush_deltas(MDB_txn *txn, struct store *s, const struct delta *delta,
    uint32_t nhooks)
{
	struct store_counts	 c;
	uint64_t		*f[5];
	uint32_t		 h;
	int			 rc, i, zero;

	f[D_READY] = &c.ready;
	f[D_DEFERRED] = &c.deferred;
	f[D_DEAD] = &c.dead;
	f[D_DELIVERED] = &c.delivered;
	f[D_FAILED] = &c.failed;
	for (h = 0; h < nhooks; h++) {
		for (i = 0, zero = 1; i < 5; i++)
			zero &= delta[h].n[i] == 0;
		if (zero)
			continue;
		if ((rc = ctr_read(txn, s->meta, h, &c)) != 0)
			return rc;
		for (i = 0; i < 5; i++)
			*f[i] += (uint64_t)delta[h].n[i];
		if ((rc = ctr_write(txn, s->meta, h, &c)) != 0)
			return rc;
	}
	return 0;
}

/* A record's own copy, for the hooks that retry it; kept if there is one. */
int
put_record(MDB_txn *txn, struct store *s, uint64_t id, uint64_t received_ms,
    const struct seg_rec *r)
{
	unsigned char	 key[8];
	unsigned char	*p;
	MDB_val		 k, d;
	int		 rc;

	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_size = REC_HDR + r->len;
	if ((rc = mdb_put(txn, s->rec, &k, &d, MDB_NOOVERWRITE |
	    MDB_RESERVE)) != 0)
		return rc == MDB_KEYEXIST ? 0 : rc;
	p = d.mv_data;
	put_be64(p, received_ms);
	p[8] = r->rectype;
	p[9] = r->nhooks;
	memcpy(p + REC_HDR, r->ptr, r->len);
	return 0;
}

int
due_op(MDB_txn *txn, struct store *s, uint32_t hook, uint64_t due,
    uint64_t id, int del)
{
	unsigned char	 key[20];
	MDB_val		 k, d;
	int		 rc;

	due_entry(key, &k, &d, hook, due, id);
	if (!del)
		return mdb_put(txn, s->due, &k, &d, 0);
	rc = mdb_del(txn, s->due, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Is the pair (id, hook) due at due? 0 if so, MDB_NOTFOUND, or an error. */
int
due_has(MDB_txn *txn, struct store *s, uint32_t hook, uint64_t due,
    uint64_t id)
{
	unsigned char	 key[20];
	MDB_val		 k, d;

	due_key(key, hook, due, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	return mdb_get(txn, s->due, &k, &d);
}

int
cur_del(MDB_cursor *c, void *key, size_t len)
{
	MDB_val	 k, d;
	int	 rc;

	k.mv_data = key;
	k.mv_size = len;
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_SET)) != 0)
		return rc;
	return mdb_cursor_del(c, 0);
}

int
cur_del_due(MDB_cursor *c, uint32_t hook, uint64_t due, uint64_t id)
{
	unsigned char	 key[20];

	due_key(key, hook, due, id);
	return cur_del(c, key, sizeof(key));
}

/* The state value of a queued record: see the layout in store.h. */
int
put_state(MDB_txn *txn, struct store *s, uint64_t id, uint32_t hook,
    const struct store_outcome *o, int state, int inseg)
{
	unsigned char	 key[12];
	unsigned char	*val;
	MDB_val		 k, d;
	size_t		 tl = o->textlen;
	int		 rc;

	state_key(key, id, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_size = STATE_HDR + tl;
	if ((rc = mdb_put(txn, s->state, &k, &d, MDB_RESERVE)) != 0)
		return rc;
	val = d.mv_data;
	memset(val, 0, STATE_HDR);
	val[12] = (unsigned char)state;
	val[STATE_INSEG] = inseg != 0;
	put_be64(val, state == ST_DEAD ? STORE_DUE_DEAD : o->due_ms);
	put_be32(val + 8, o->attempts);
	val[14] = o->status >> 8;
	val[15] = o->status & 0xff;
	put_be64(val + 16, o->last_ms);
	if (tl > 0)
		memcpy(val + STATE_HDR, o->text, tl);
	return 0;
}

int
state_get(MDB_txn *txn, struct store *s, uint64_t id, uint32_t hook,
    MDB_val *d)
{
	unsigned char	 key[12];
	MDB_val		 k;

	state_key(key, id, hook);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	return mdb_get(txn, s->state, &k, d);
}

/* Has any hook a state of record id? 0 if so, MDB_NOTFOUND, or an error. */
int
has_state(MDB_txn *txn, struct store *s, uint64_t id)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	unsigned char	 key[12];
	int		 rc;

	state_key(key, id, 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if ((rc = mdb_cursor_open(txn, s->state, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != 12 || get_be64(k.mv_data) != id))
		rc = MDB_NOTFOUND;
	mdb_cursor_close(cur);
	return rc;
}

/* The record's part of e, from its segment. */
void
entry_seg(struct store_entry *e, const struct seg_cur *sc,
    const struct seg_rec *r)
{
	e->received_ms = sc->g.received_ms;
	e->nhooks = r->nhooks;
	e->rec = r->ptr;
	e->reclen = r->len;
}

/* Fill e from a state value and the record's copy or segment. */
int
entry_read(MDB_txn *txn, struct store *s, struct seg_cur *sc, uint64_t id,
    uint32_t hook, const MDB_val *sv, struct store_entry *e)
{
	const unsigned char	*v = sv->mv_data, *r;
	unsigned char		 key[8];
	struct seg_rec		 sr;
	MDB_val			 k, d;
	int			 rc;

	if (sv->mv_size < STATE_HDR)
		return MDB_CORRUPTED;
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->hook = hook;
	e->due_ms = get_be64(v);
	e->attempts = get_be32(v + 8);
	e->state = v[12];
	e->status = (uint16_t)(v[14] << 8 | v[15]);
	e->last_ms = get_be64(v + 16);
	e->answer = (const char *)v + STATE_HDR;
	e->answerlen = sv->mv_size - STATE_HDR;
	if (v[STATE_INSEG]) {
		/* In a write transaction seg_at may write, and fail. */
		if ((rc = seg_at(sc, id)) == 0 && seg_get(sc, id, &sr) == 0)
			entry_seg(e, sc, &sr);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (mdb_get(txn, s->rec, &k, &d) == 0 && d.mv_size >= REC_HDR) {
		r = d.mv_data;
		e->received_ms = get_be64(r);
		e->nhooks = r[9];
		e->rec = (const char *)r + REC_HDR;
		e->reclen = d.mv_size - REC_HDR;
	}
	return 0;
}
