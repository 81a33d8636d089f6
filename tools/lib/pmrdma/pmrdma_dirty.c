// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the regions of a replicated map that a replica may lack, as
 * md raid1's write-intent bitmap and DRBD's out-of-sync bitmap keep them
 * for blocks.  Two kinds of bitmap, a bit per region:
 *
 *   intent   a flush was posted to the region and may not be durable on
 *            every copy yet.  Set before the post, by the thread that
 *            holds the lane; cleared all at once when every lane is idle.
 *   oos[i]   replica i may differ from the local copy there: what intent
 *            held when the replica was out (folded in before intent is
 *            cleared, and before it rejoins), until a resync copies it.
 *   flying[i]  a resync step took the region from oos[i] and has not
 *            landed on replica i yet: it still counts as lacking there,
 *            and a flush over it waits for it (pmrdma_replica.c).
 *
 * A flush sets a bit only when it is clear: a region written over and
 * over costs one atomic operation until the next clear.
 *
 * A map with metadata also keeps a persistent bitmap in its local pmem
 * (<linux/pmem_rdma_md.h>), md raid1's on-disk bitmap: a region's bit is
 * made durable there before the first flush that dirties it is posted,
 * and the whole is rewritten from intent, every oos and every flying now
 * and then (at
 * most once a second by a sweep, and whenever a replica's state changes),
 * so that a primary that crashes resyncs only what it holds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pmrdma_internal.h"

#define BITS	64

/* replica i's oos and flying: 0 or -ENOMEM */
static int copy_bitmaps(struct pmrdma_dirty *d, unsigned int i)
{
	d->oos[i] = calloc(d->words ?: 1, sizeof(uint64_t));
	d->flying[i] = calloc(d->words ?: 1, sizeof(uint64_t));
	return d->oos[i] && d->flying[i] ? 0 : -ENOMEM;
}

int pmrdma_dirty_new(struct pmrdma_dirty *d, uint64_t size, unsigned int shift,
		     unsigned int nreplicas)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->size = size;
	d->shift = shift;
	d->nregions = size ? ((size - 1) >> shift) + 1 : 0;
	d->words = (d->nregions + BITS - 1) / BITS;
	d->intent = calloc(d->words ?: 1, sizeof(uint64_t));
	if (!d->intent)
		return -ENOMEM;
	for (i = 0; i < nreplicas; i++) {
		if (copy_bitmaps(d, i)) {
			pmrdma_dirty_free(d);
			return -ENOMEM;
		}
	}
	d->lo = d->words;
	return 0;
}

void pmrdma_dirty_free(struct pmrdma_dirty *d)
{
	unsigned int i;

	free(d->known);
	free(d->intent);
	for (i = 0; i < PMRDMA_REPLICAS_MAX; i++) {
		free(d->oos[i]);
		free(d->flying[i]);
	}
	memset(d, 0, sizeof(*d));
}

static void set_bits(uint64_t *map, uint64_t first, uint64_t n)
{
	uint64_t r, bit;

	for (r = first; r < first + n; r++) {
		bit = 1ULL << (r % BITS);
		if (!(__atomic_load_n(&map[r / BITS], __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(&map[r / BITS], bit, __ATOMIC_RELAXED);
	}
}

static void clear_bits(uint64_t *map, uint64_t first, uint64_t n)
{
	uint64_t r;

	for (r = first; r < first + n; r++)
		__atomic_fetch_and(&map[r / BITS], ~(1ULL << (r % BITS)),
				   __ATOMIC_RELAXED);
}

static void word_min(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v < old && !__atomic_compare_exchange_n(p, &old, v, true,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static void word_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > old && !__atomic_compare_exchange_n(p, &old, v, true,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/* regions [first, last]'s bits of word w */
static uint64_t word_mask(uint64_t w, uint64_t first, uint64_t last)
{
	uint64_t lo = first > w * BITS ? first - w * BITS : 0;
	uint64_t hi = last < w * BITS + BITS - 1 ? last - w * BITS : BITS - 1;

	return (~0ULL >> (BITS - 1 - hi)) & (~0ULL << lo);
}

/*
 * Regions [first, last] set in the persistent bitmap and durable there
 * before the flush that dirties them is posted: only those not known to
 * be, so a region flushed over and over costs a load until the next sync.
 */
static void persist_bits(struct pmrdma_dirty *d, uint64_t first, uint64_t last)
{
	uint64_t w, mask, missing;
	bool any = false;

	for (w = first / BITS; w <= last / BITS; w++) {
		mask = word_mask(w, first, last);
		missing = mask & ~__atomic_load_n(&d->known[w], __ATOMIC_ACQUIRE);
		if (!missing)
			continue;
		__atomic_fetch_or(&d->pmem[w], missing, __ATOMIC_RELAXED);
		pmrdma_local_flush(d->lc, &d->pmem[w], sizeof(d->pmem[w]));
		any = true;
	}
	if (!any)
		return;
	/* another thread may find the bits set: known only once durable */
	pmrdma_local_drain();
	for (w = first / BITS; w <= last / BITS; w++)
		__atomic_fetch_or(&d->known[w], word_mask(w, first, last),
				  __ATOMIC_RELEASE);
}

void pmrdma_dirty_intend(struct pmrdma_dirty *d, uint64_t off, uint64_t len)
{
	uint64_t first, last;

	if (!d->nregions || !len || off >= d->size)
		return;
	if (len > d->size - off)
		len = d->size - off;
	first = off >> d->shift;
	last = (off + len - 1) >> d->shift;
	if (d->pmem)
		persist_bits(d, first, last);
	set_bits(d->intent, first, last - first + 1);
	word_min(&d->lo, first / BITS);
	word_max(&d->hi, last / BITS + 1);
}

int pmrdma_dirty_persist(struct pmrdma_dirty *d, const struct pmrdma_local *lc,
			 uint64_t *pmem)
{
	d->known = calloc(d->words ?: 1, sizeof(uint64_t));
	if (!d->known)
		return -ENOMEM;
	memcpy(d->known, pmem, d->words * sizeof(uint64_t));
	d->lc = lc;
	d->pmem = pmem;
	return 0;
}

/* the persistent bitmap is rewritten at most this often (ns) by a sweep */
#define SYNC_NS	1000000000ULL

void pmrdma_dirty_sync(struct pmrdma_dirty *d, bool now)
{
	uint64_t w, want, t = pmrdma_now_ns();
	unsigned int i;

	if (!d->pmem || (!now && t - d->synced < SYNC_NS))
		return;
	for (w = 0; w < d->words; w++) {
		want = __atomic_load_n(&d->intent[w], __ATOMIC_RELAXED);
		for (i = 0; i < PMRDMA_REPLICAS_MAX && d->oos[i]; i++)
			want |= __atomic_load_n(&d->oos[i][w], __ATOMIC_RELAXED) |
				__atomic_load_n(&d->flying[i][w],
						__ATOMIC_RELAXED);
		if (__atomic_load_n(&d->pmem[w], __ATOMIC_RELAXED) == want)
			continue;
		__atomic_store_n(&d->pmem[w], want, __ATOMIC_RELAXED);
		pmrdma_local_flush(d->lc, &d->pmem[w], sizeof(d->pmem[w]));
	}
	pmrdma_local_drain();
	for (w = 0; w < d->words; w++)
		__atomic_store_n(&d->known[w], d->pmem[w], __ATOMIC_RELEASE);
	d->synced = t;
}

void pmrdma_dirty_add(struct pmrdma_dirty *d, unsigned int i,
		      const uint64_t *bits)
{
	uint64_t w, last = d->nregions % BITS;

	for (w = 0; w < d->words; w++)
		if (bits[w])
			__atomic_fetch_or(&d->oos[i][w],
					  w + 1 < d->words || !last ? bits[w] :
					  bits[w] & ~0ULL >> (BITS - last),
					  __ATOMIC_RELAXED);
}

int pmrdma_dirty_new_replica(struct pmrdma_dirty *d, unsigned int i)
{
	if (copy_bitmaps(d, i)) {
		free(d->oos[i]);
		free(d->flying[i]);
		d->oos[i] = d->flying[i] = NULL;
		return -ENOMEM;
	}
	pmrdma_dirty_fill(d, i);
	return 0;
}

void pmrdma_dirty_fill(struct pmrdma_dirty *d, unsigned int i)
{
	if (d->nregions)
		set_bits(d->oos[i], 0, d->nregions);
}

void pmrdma_dirty_fold(struct pmrdma_dirty *d, unsigned int i)
{
	uint64_t w, hi = __atomic_load_n(&d->hi, __ATOMIC_RELAXED);
	uint64_t bits;

	for (w = __atomic_load_n(&d->lo, __ATOMIC_RELAXED); w < hi; w++) {
		bits = __atomic_load_n(&d->intent[w], __ATOMIC_RELAXED);
		if (bits)
			__atomic_fetch_or(&d->oos[i][w], bits, __ATOMIC_RELAXED);
	}
}

void pmrdma_dirty_clear_intent(struct pmrdma_dirty *d)
{
	uint64_t lo = __atomic_load_n(&d->lo, __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&d->hi, __ATOMIC_RELAXED);

	if (lo < hi)
		memset(&d->intent[lo], 0, (hi - lo) * sizeof(uint64_t));
	__atomic_store_n(&d->lo, d->words, __ATOMIC_RELAXED);
	__atomic_store_n(&d->hi, 0, __ATOMIC_RELAXED);
}

/* the bytes of regions [first, first + n), the last one maybe short */
static uint64_t region_bytes(const struct pmrdma_dirty *d, uint64_t first,
			     uint64_t n)
{
	uint64_t off = first << d->shift, len = n << d->shift;

	return len > d->size - off ? d->size - off : len;
}

void pmrdma_dirty_range(const struct pmrdma_dirty *d, uint64_t first,
			uint64_t n, uint64_t *off, uint64_t *len)
{
	*off = first << d->shift;
	*len = region_bytes(d, first, n);
}

uint64_t pmrdma_dirty_bytes(const struct pmrdma_dirty *d, unsigned int i,
			    bool intent)
{
	uint64_t w, bits = 0, bytes = 0;
	unsigned int last;

	if (!d->nregions)
		return 0;
	for (w = 0; w < d->words; w++) {
		bits = __atomic_load_n(&d->oos[i][w], __ATOMIC_RELAXED) |
		       __atomic_load_n(&d->flying[i][w], __ATOMIC_RELAXED);
		if (intent)
			bits |= __atomic_load_n(&d->intent[w], __ATOMIC_RELAXED);
		bytes += (uint64_t)__builtin_popcountll(bits) << d->shift;
	}
	/* the last region may be short */
	last = (d->nregions - 1) % BITS;
	if (bits >> last & 1)
		bytes -= (1ULL << d->shift) - region_bytes(d, d->nregions - 1, 1);
	return bytes;
}

static bool test_bit(const uint64_t *map, uint64_t r)
{
	return __atomic_load_n(&map[r / BITS], __ATOMIC_RELAXED) &
	       1ULL << (r % BITS);
}

bool pmrdma_dirty_next(const struct pmrdma_dirty *d, unsigned int i,
		       uint64_t from, uint64_t max, uint64_t *first,
		       uint64_t *n)
{
	const uint64_t *map = d->oos[i];
	uint64_t r = from, w, bits;

	/* a word at a time past the clear ones */
	while (r < d->nregions) {
		w = r / BITS;
		bits = __atomic_load_n(&map[w], __ATOMIC_RELAXED) >> (r % BITS);
		if (bits) {
			r += __builtin_ctzll(bits);
			break;
		}
		r = (w + 1) * BITS;
	}
	if (r >= d->nregions)
		return false;
	*first = r;
	for (*n = 0; r < d->nregions && *n < max && test_bit(map, r); r++)
		++*n;
	return true;
}

/* taken: flying before it leaves oos, so that a sync sees one of them */
void pmrdma_dirty_take(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		       uint64_t n)
{
	set_bits(d->flying[i], first, n);
	clear_bits(d->oos[i], first, n);
}

void pmrdma_dirty_put(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		      uint64_t n)
{
	set_bits(d->oos[i], first, n);
	clear_bits(d->flying[i], first, n);
}

void pmrdma_dirty_landed(struct pmrdma_dirty *d, unsigned int i,
			 uint64_t first, uint64_t n)
{
	clear_bits(d->flying[i], first, n);
}

bool pmrdma_dirty_flying(const struct pmrdma_dirty *d, uint64_t off,
			 uint64_t len)
{
	uint64_t first, last, w, mask;
	unsigned int i;

	if (!d->nregions || !len || off >= d->size)
		return false;
	if (len > d->size - off)
		len = d->size - off;
	first = off >> d->shift;
	last = (off + len - 1) >> d->shift;
	for (i = 0; i < PMRDMA_REPLICAS_MAX && d->flying[i]; i++)
		for (w = first / BITS; w <= last / BITS; w++) {
			mask = word_mask(w, first, last);
			if (__atomic_load_n(&d->flying[i][w],
					    __ATOMIC_ACQUIRE) & mask)
				return true;
		}
	return false;
}
