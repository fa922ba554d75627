/*
 * Segments of the spool; see segment.h for the layout and why.
 */
#include <errno.h>
#include <string.h>

#include "segment.h"
#include "util.h"

#define SEG_HDR		4
#define SEG_ENT		10
#define SEGREF_LEN	16

int
seg_put(MDB_txn *txn, MDB_dbi seg, MDB_dbi ref, uint64_t first,
    uint64_t received_ms, const struct store_in *in, size_t n)
{
	unsigned char	 key[8], rv[SEGREF_LEN], *p, *e;
	MDB_val		 k, d;
	uint64_t	 size = SEG_HDR + (uint64_t)SEG_ENT * n, off = 0;
	uint32_t	 live = 0;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		size += in[i].len;
		live += in[i].nhooks;
	}
	if (size > UINT32_MAX)
		return EFBIG;
	/* Records no hook takes need no room. */
	if (live == 0)
		return 0;
	put_be64(key, first);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_size = size;
	/* Reserve and fill in place: one copy of the bytes, into the pages. */
	if ((rc = mdb_put(txn, seg, &k, &d, MDB_APPEND | MDB_RESERVE)) != 0)
		return rc;
	p = d.mv_data;
	put_be32(p, (uint32_t)n);
	e = p + SEG_HDR;
	p += SEG_HDR + SEG_ENT * n;
	for (i = 0; i < n; i++, e += SEG_ENT) {
		put_be32(e, (uint32_t)off);
		put_be32(e + 4, in[i].len);
		e[8] = in[i].rectype;
		e[9] = in[i].nhooks > 255 ? 255 : (uint8_t)in[i].nhooks;
		memcpy(p + off, in[i].ptr, in[i].len);
		off += in[i].len;
	}
	put_be32(rv, (uint32_t)n);
	put_be32(rv + 4, live);
	put_be64(rv + 8, received_ms);
	d.mv_data = rv;
	d.mv_size = sizeof(rv);
	return mdb_put(txn, ref, &k, &d, MDB_APPEND);
}

int
seg_open(struct seg_cur *sc, MDB_txn *txn, MDB_dbi seg, MDB_dbi ref)
{
	memset(sc, 0, sizeof(*sc));
	sc->txn = txn;
	sc->seg = seg;
	sc->ref = ref;
	return mdb_cursor_open(txn, ref, &sc->c);
}

void
seg_close(struct seg_cur *sc)
{
	if (sc->c != NULL)
		mdb_cursor_close(sc->c);
	sc->c = NULL;
}

int
seg_flush(struct seg_cur *sc)
{
	unsigned char	 key[8], rv[SEGREF_LEN];
	MDB_val		 k, d;
	int		 rc;

	if (!sc->dirty)
		return 0;
	sc->dirty = 0;
	put_be64(key, sc->g.first);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (sc->g.live == 0) {
		sc->have = 0;
		sc->val = NULL;
		if ((rc = mdb_del(sc->txn, sc->ref, &k, NULL)) == 0)
			rc = mdb_del(sc->txn, sc->seg, &k, NULL);
		/* It was there when seg_at found it. */
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	}
	put_be32(rv, sc->g.n);
	put_be32(rv + 4, sc->g.live);
	put_be64(rv + 8, sc->g.received_ms);
	d.mv_data = rv;
	d.mv_size = sizeof(rv);
	return mdb_put(sc->txn, sc->ref, &k, &d, 0);
}

int
seg_at(struct seg_cur *sc, uint64_t id)
{
	unsigned char		 key[8];
	const unsigned char	*v;
	MDB_val			 k, d;
	int			 rc;

	if (sc->have && id >= sc->g.first && id - sc->g.first < sc->g.n)
		return 0;
	if ((rc = seg_flush(sc)) != 0)
		return rc;
	sc->have = 0;
	sc->val = NULL;
	put_be64(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	/* The segment is the last one that starts at or before id. */
	rc = mdb_cursor_get(sc->c, &k, &d, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != 8 || get_be64(k.mv_data) != id))
		rc = mdb_cursor_get(sc->c, &k, &d, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(sc->c, &k, &d, MDB_LAST);
	if (rc != 0)
		return rc;
	if (k.mv_size != 8 || d.mv_size != SEGREF_LEN)
		return MDB_CORRUPTED;
	v = d.mv_data;
	sc->g.first = get_be64(k.mv_data);
	sc->g.n = get_be32(v);
	sc->g.live = get_be32(v + 4);
	sc->g.received_ms = get_be64(v + 8);
	if (id < sc->g.first || id - sc->g.first >= sc->g.n)
		return MDB_NOTFOUND;
	sc->have = 1;
	return 0;
}

int
seg_get(struct seg_cur *sc, uint64_t id, struct seg_rec *r)
{
	unsigned char		 key[8];
	const unsigned char	*e;
	MDB_val			 k, d;
	uint64_t		 base, off, len;
	int			 rc;

	if (!sc->have || id < sc->g.first || id - sc->g.first >= sc->g.n)
		return MDB_NOTFOUND;
	if (sc->val == NULL) {
		put_be64(key, sc->g.first);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		if ((rc = mdb_get(sc->txn, sc->seg, &k, &d)) != 0)
			return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
		if (d.mv_size < SEG_HDR + (uint64_t)SEG_ENT * sc->g.n ||
		    get_be32(d.mv_data) != sc->g.n)
			return MDB_CORRUPTED;
		sc->val = d.mv_data;
		sc->vlen = d.mv_size;
	}
	base = SEG_HDR + (uint64_t)SEG_ENT * sc->g.n;
	e = sc->val + SEG_HDR + SEG_ENT * (id - sc->g.first);
	off = get_be32(e);
	len = get_be32(e + 4);
	if (base + off + len > sc->vlen)
		return MDB_CORRUPTED;
	r->ptr = (const char *)sc->val + base + off;
	r->len = len;
	r->rectype = e[8];
	r->nhooks = e[9];
	return 0;
}

int
seg_release(struct seg_cur *sc)
{
	/* More pairs leaving than the segment counted: do not hide it. */
	if (!sc->have || sc->g.live == 0)
		return MDB_CORRUPTED;
	sc->g.live--;
	sc->dirty = 1;
	return 0;
}
