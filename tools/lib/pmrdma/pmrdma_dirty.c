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
 *
 * A flush sets a bit only when it is clear: a region written over and
 * over costs one atomic operation until the next clear.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pmrdma_internal.h"

#define BITS	64

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
		d->oos[i] = calloc(d->words ?: 1, sizeof(uint64_t));
		if (!d->oos[i]) {
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

	free(d->intent);
	for (i = 0; i < PMRDMA_REPLICAS_MAX; i++)
		free(d->oos[i]);
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

void pmrdma_dirty_intend(struct pmrdma_dirty *d, uint64_t off, uint64_t len)
{
	uint64_t first, last;

	if (!d->nregions || !len || off >= d->size)
		return;
	if (len > d->size - off)
		len = d->size - off;
	first = off >> d->shift;
	last = (off + len - 1) >> d->shift;
	set_bits(d->intent, first, last - first + 1);
	word_min(&d->lo, first / BITS);
	word_max(&d->hi, last / BITS + 1);
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
		bits = __atomic_load_n(&d->oos[i][w], __ATOMIC_RELAXED);
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

void pmrdma_dirty_take(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		       uint64_t n)
{
	clear_bits(d->oos[i], first, n);
}

void pmrdma_dirty_put(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		      uint64_t n)
{
	set_bits(d->oos[i], first, n);
}
