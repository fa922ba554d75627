/*
 * Segments of the spool; see segment.h for the layout and why.
 */
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"
#include "util.h"

#define SEG_HDR		4
#define SEG_ENT		10
#define SEGREF_LEN	16
#define SEG_LZ4		0x80000000u
#define SEG_NMAX	0x7fffffffu
#define SEG_BLOCK	65536
#define SEG_BLKENT	8
/* A cached block buffer larger than this is not kept for a small one. */
#define SEG_KEEP	(4 * SEG_BLOCK)

/*
 * A block: records i to j-1, about SEG_BLOCK bytes of them. Records
 * that lie in one buffer in order with little between them (the lines
 * of a body) are taken as the span from the first to the last, with
 * the bytes between them, which the offsets skip: LZ4 reads them where
 * they are instead of from a copy.
 */
struct block {
	size_t		 i, j;
	uint64_t	 raw;		/* its bytes in the value */
	int		 span;
};

/* The bytes between records that a span may carry: a sixteenth. */
#define SEG_SLACK(len)	((len) / 16)

/* The block that starts at i; inbuf as seg_pack's. */
static void
block_next(struct block *b, const struct store_in *in, size_t n, size_t i,
    int inbuf)
{
	const char	*first = in[i].ptr;
	uint64_t	 sum = 0;
	int		 ordered = inbuf;

	b->i = i;
	do {
		sum += in[i++].len;
		if (i < n && ordered && in[i].ptr < in[i - 1].ptr +
		    in[i - 1].len)
			ordered = 0;
	} while (i < n && sum + in[i].len <= SEG_BLOCK && (!ordered ||
	    (uint64_t)(in[i].ptr - first) + in[i].len <= SEG_BLOCK));
	b->j = i;
	b->raw = sum;
	b->span = 0;
	if (ordered && b->j - b->i > 1 && (uint64_t)(in[i - 1].ptr - first) +
	    in[i - 1].len - sum <= SEG_SLACK(sum)) {
		b->span = 1;
		b->raw = (uint64_t)(in[i - 1].ptr - first) + in[i - 1].len;
	}
}

/* The block's entries at e, its first record at off in the raw bytes. */
static void
block_entries(unsigned char *e, const struct block *b,
    const struct store_in *in, uint64_t off)
{
	size_t	 k;

	for (k = b->i; k < b->j; k++, e += SEG_ENT) {
		put_be32(e, (uint32_t)(b->span ? off + (uint64_t)(in[k].ptr -
		    in[b->i].ptr) : off));
		put_be32(e + 4, in[k].len);
		e[8] = in[k].rectype;
		e[9] = in[k].nhooks > 255 ? 255 : (uint8_t)in[k].nhooks;
		if (!b->span)
			off += in[k].len;
	}
}

/* The block's raw bytes at dst. */
static void
block_copy(char *dst, const struct block *b, const struct store_in *in)
{
	size_t	 k;

	if (b->span) {
		memcpy(dst, in[b->i].ptr, b->raw);
		return;
	}
	for (k = b->i; k < b->j; dst += in[k++].len)
		memcpy(dst, in[k].ptr, in[k].len);
}

/*
 * The records as LZ4 blocks at p, the block table at t: the bytes
 * written, or 0 when a block does not compress (LZ4 takes int sizes).
 */
static uint64_t
pack_blocks(unsigned char *t, unsigned char *p, const struct store_in *in,
    size_t n, int inbuf, char *scratch)
{
	struct block	 b;
	const char	*src;
	uint64_t	 rawoff = 0, zoff = 0;
	size_t		 i;
	int		 zl;

	for (i = 0; i < n; i = b.j, t += SEG_BLKENT) {
		block_next(&b, in, n, i, inbuf);
		if (b.raw > LZ4_MAX_INPUT_SIZE)
			return 0;
		if (b.span || b.j - b.i == 1)
			src = in[b.i].ptr;
		else {
			block_copy(scratch, &b, in);
			src = scratch;
		}
		zl = LZ4_compress_default(src, (char *)p + zoff, (int)b.raw,
		    LZ4_compressBound((int)b.raw));
		if (zl <= 0)
			return 0;
		rawoff += b.raw;
		zoff += (uint64_t)zl;
		put_be32(t, (uint32_t)rawoff);
		put_be32(t + 4, (uint32_t)zoff);
	}
	return zoff;
}

int
seg_pack(struct seg_val *v, const struct store_in *in, size_t n, int inbuf)
{
	struct block	 b;
	unsigned char	*p;
	char		*scratch = NULL;
	uint64_t	 raw = 0, blkmax = 0, zmax = 0, hl, tl, z = 0;
	size_t		 i, nblk = 0, size;

	v->len = 0;
	v->live = 0;
	for (i = 0; i < n; i++)
		v->live += in[i].nhooks;
	/* Records no hook takes need no room. */
	if (n == 0 || v->live == 0)
		return 0;
	if (n > SEG_NMAX)
		return EFBIG;
	for (i = 0; i < n; i = b.j, nblk++) {
		block_next(&b, in, n, i, inbuf);
		raw += b.raw;
		/* Only blocks of several records, not spans, are gathered. */
		if (!b.span && b.j - b.i > 1 && b.raw > blkmax)
			blkmax = b.raw;
		zmax += b.raw + b.raw / 255 + 16;	/* LZ4_COMPRESSBOUND */
	}
	hl = SEG_HDR + (uint64_t)SEG_ENT * n;
	tl = 4 + (uint64_t)SEG_BLKENT * nblk;
	if (hl + raw > UINT32_MAX)
		return EFBIG;
	size = hl + (tl + zmax > raw ? tl + zmax : raw);
	if (size > v->cap) {
		seg_val_free(v);
		if ((v->buf = malloc(size)) == NULL)
			return ENOMEM;
		v->cap = size;
	}
	if ((scratch = malloc(blkmax + 1)) == NULL)
		return ENOMEM;
	p = v->buf;
	for (i = 0, raw = 0; i < n; i = b.j, raw += b.raw) {
		block_next(&b, in, n, i, inbuf);
		block_entries(p + SEG_HDR + SEG_ENT * i, &b, in, raw);
	}
	put_be32(p + hl, (uint32_t)nblk);
	z = pack_blocks(p + hl + 4, p + hl + tl, in, n, inbuf, scratch);
	free(scratch);
	/* Not worth a decompression on every read: keep the bytes. */
	if (z == 0 || tl + z >= raw - raw / 8) {
		put_be32(p, (uint32_t)n);
		for (i = 0, raw = 0; i < n; i = b.j, raw += b.raw) {
			block_next(&b, in, n, i, inbuf);
			block_copy((char *)p + hl + raw, &b, in);
		}
		v->len = hl + raw;
	} else {
		put_be32(p, (uint32_t)n | SEG_LZ4);
		v->len = hl + tl + z;
	}
	return 0;
}

void
seg_val_free(struct seg_val *v)
{
	free(v->buf);
	v->buf = NULL;
	v->len = v->cap = 0;
}

int
seg_put(MDB_txn *txn, MDB_dbi seg, MDB_dbi ref, uint64_t first,
    uint64_t received_ms, const struct seg_val *v)
{
	unsigned char	 key[8], rv[SEGREF_LEN];
	MDB_val		 k, d;
	int		 rc;

	if (v->live == 0)
		return 0;
	put_be64(key, first);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	d.mv_data = v->buf;
	d.mv_size = v->len;
	if ((rc = mdb_put(txn, seg, &k, &d, MDB_APPEND)) != 0)
		return rc;
	put_be32(rv, get_be32(v->buf) & SEG_NMAX);
	put_be32(rv + 4, v->live);
	put_be64(rv + 8, received_ms);
	d.mv_data = rv;
	d.mv_size = sizeof(rv);
	return mdb_put(txn, ref, &k, &d, MDB_APPEND);
}

int
seg_open(struct seg_cur *sc, MDB_txn *txn, MDB_dbi seg, MDB_dbi ref,
    struct seg_cache *zc)
{
	memset(sc, 0, sizeof(*sc));
	sc->txn = txn;
	sc->seg = seg;
	sc->ref = ref;
	sc->zc = zc != NULL ? zc : &sc->own;
	return mdb_cursor_open(txn, ref, &sc->c);
}

void
seg_close(struct seg_cur *sc)
{
	if (sc->c != NULL)
		mdb_cursor_close(sc->c);
	sc->c = NULL;
	seg_cache_free(&sc->own);
}

void
seg_cache_free(struct seg_cache *zc)
{
	size_t	 i;

	for (i = 0; i < SEG_CACHED; i++)
		free(zc->b[i].buf);
	memset(zc, 0, sizeof(*zc));
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

/* The cache's block blk of the current segment, or the one to fill. */
static struct seg_blk *
cache_slot(struct seg_cache *zc, uint64_t first, uint32_t blk, int *hit)
{
	struct seg_blk	*b, *old = &zc->b[0];
	size_t		 i;

	zc->tick++;
	for (i = 0; i < SEG_CACHED; i++) {
		b = &zc->b[i];
		if (b->used != 0 && b->first == first && b->blk == blk) {
			b->used = zc->tick;
			*hit = 1;
			return b;
		}
		if (b->used < old->used)
			old = b;
	}
	*hit = 0;
	return old;
}

/* Decompresses block blk into b, which keeps it. */
static int
block_fill(struct seg_blk *b, const unsigned char *z, size_t zlen,
    size_t rawlen)
{
	b->used = 0;
	if (zlen > LZ4_MAX_INPUT_SIZE || rawlen > LZ4_MAX_INPUT_SIZE)
		return MDB_CORRUPTED;
	if (b->cap < rawlen || (b->cap > SEG_KEEP && rawlen <= SEG_KEEP)) {
		free(b->buf);
		b->cap = 0;
		if ((b->buf = malloc(rawlen > 0 ? rawlen : 1)) == NULL)
			return ENOMEM;
		b->cap = rawlen;
	}
	if (LZ4_decompress_safe((const char *)z, (char *)b->buf, (int)zlen,
	    (int)rawlen) != (int)rawlen)
		return MDB_CORRUPTED;
	b->len = rawlen;
	return 0;
}

/*
 * The bytes off.. of a compressed segment: from the block that holds
 * them, decompressed once into the cursor's cache.
 */
static int
seg_unz(struct seg_cur *sc, uint64_t off, uint64_t len,
    const unsigned char **out)
{
	const unsigned char	*t, *e;
	struct seg_blk		*b;
	uint64_t		 hl, zb, raw0, raw1, z0, z1;
	uint32_t		 nblk, lo, hi, mid;
	int			 hit, rc;

	hl = SEG_HDR + (uint64_t)SEG_ENT * sc->g.n;
	if (hl + 4 > sc->vlen)
		return MDB_CORRUPTED;
	nblk = get_be32(sc->val + hl);
	t = sc->val + hl + 4;
	zb = hl + 4 + (uint64_t)SEG_BLKENT * nblk;
	if (zb > sc->vlen)
		return MDB_CORRUPTED;
	/* The first block that ends past off. */
	for (lo = 0, hi = nblk; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if (get_be32(t + SEG_BLKENT * mid) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == nblk)
		return MDB_CORRUPTED;
	e = t + SEG_BLKENT * lo;
	raw0 = lo > 0 ? get_be32(e - SEG_BLKENT) : 0;
	z0 = lo > 0 ? get_be32(e - SEG_BLKENT + 4) : 0;
	raw1 = get_be32(e);
	z1 = get_be32(e + 4);
	if (off < raw0 || off + len > raw1 || z1 < z0 || zb + z1 > sc->vlen)
		return MDB_CORRUPTED;
	b = cache_slot(sc->zc, sc->g.first, lo, &hit);
	/* Only a spool rolled back could reuse an id; do not trust it. */
	if (hit && (b->raw0 != raw0 || b->len != raw1 - raw0))
		hit = 0;
	if (!hit) {
		if ((rc = block_fill(b, sc->val + zb + z0, z1 - z0,
		    raw1 - raw0)) != 0)
			return rc;
		b->first = sc->g.first;
		b->blk = lo;
		b->raw0 = (uint32_t)raw0;
		b->used = sc->zc->tick;
	}
	*out = b->buf + (off - b->raw0);
	return 0;
}

int
seg_get(struct seg_cur *sc, uint64_t id, struct seg_rec *r)
{
	unsigned char		 key[8];
	const unsigned char	*e, *p;
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
		    (get_be32(d.mv_data) & SEG_NMAX) != sc->g.n)
			return MDB_CORRUPTED;
		sc->val = d.mv_data;
		sc->vlen = d.mv_size;
	}
	base = SEG_HDR + (uint64_t)SEG_ENT * sc->g.n;
	e = sc->val + SEG_HDR + SEG_ENT * (id - sc->g.first);
	off = get_be32(e);
	len = get_be32(e + 4);
	/* An empty record may sit past its block's end: nothing to read. */
	if (len == 0)
		p = (const unsigned char *)"";
	else if (get_be32(sc->val) & SEG_LZ4) {
		if ((rc = seg_unz(sc, off, len, &p)) != 0)
			return rc;
	} else if (base + off + len > sc->vlen)
		return MDB_CORRUPTED;
	else
		p = sc->val + base + off;
	r->ptr = (const char *)p;
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
