// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the emulated persistence domain.  Under QEMU a store is
 * durable at once, so a missing FLUSH could never be seen.  The export
 * keeps a media image beside the visible memory (the DAX range peers
 * write), and a bitmap with one bit per 64-byte line written since it was
 * last made persistent.  The bitmap words that have any bit set are also
 * kept in a list, so a FLUSH and a power failure cost O(lines written),
 * never O(region):
 *   - a persistent FLUSH copies the dirty lines its range touches from the
 *     visible memory to the image;
 *   - a power failure lets a seeded share of the dirty lines reach the
 *     image ("early eviction"), then copies the image over every other
 *     dirty line: what was never flushed is gone;
 *   - an export left down after a failure answers every request as
 *     poisoned and makes nothing persistent, so that a peer's traffic
 *     stops exactly at the failure, until it is powered on;
 *   - a VERIFY hashes the image: it tells a peer what a power failure
 *     would leave, so it catches a missing FLUSH.
 * Memory: the image (the export's length), plus 1 bit per line and 4 bytes
 * per 4 KiB of the export for the bitmap and its list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "pmem_rdma_domain.h"

static void dom_mark(struct pmem_rdma_domain *d, u64 first, u64 last)
{
	u64 line;

	for (line = first; line <= last; line++) {
		unsigned long w = BIT_WORD(line);

		if (!d->dirty[w])
			d->words[d->nwords++] = w;
		if (!__test_and_set_bit(line, d->dirty))
			d->dirty_lines++;
	}
}

/* drop list entry i: the last one takes its place */
static void dom_drop_word(struct pmem_rdma_domain *d, u32 i)
{
	d->words[i] = d->words[--d->nwords];
}

/*
 * The lines a store touches are marked before it (a power failure in
 * between loses it) and again after it: a FLUSH on another QP in between
 * copied the old bytes and cleared the mark, and the new ones would be
 * neither persistent nor pending.
 */
static void dom_emulated_stored(struct rxe_flush_domain *rd, u64 off, u64 len)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);
	struct pmem_rdma_domain *d = &exp->dom;
	u64 first, last;

	if (!dom_lines(exp, off, len, &first, &last))
		return;
	spin_lock_bh(&d->lock);
	dom_mark(d, first, last);
	spin_unlock_bh(&d->lock);
}

static void dom_emulated_write(struct rxe_flush_domain *rd, u64 off, u64 len)
{
	atomic64_add(len, &dom_exp(rd)->cnt.bytes_written);
	dom_emulated_stored(rd, off, len);
}

/*
 * Every dirty line that [first, last] touches reaches the image; -EIO and
 * nothing when the power is down.
 */
static int dom_emulated_copy(struct pmem_rdma_exp *exp, u64 first, u64 last)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u32 i = 0;

	spin_lock_bh(&d->lock);
	if (d->down) {
		spin_unlock_bh(&d->lock);
		return -EIO;
	}
	while (i < d->nwords) {
		unsigned long w = d->words[i];
		u64 base = (u64)w * BITS_PER_LONG;
		unsigned long mask = ~0UL, bits;
		unsigned int b;

		if (base + BITS_PER_LONG <= first || base > last) {
			i++;
			continue;
		}
		if (first > base)
			mask &= ~0UL << (first - base);
		if (last < base + BITS_PER_LONG - 1)
			mask &= ~0UL >> (BITS_PER_LONG - 1 - (last - base));
		bits = d->dirty[w] & mask;
		for_each_set_bit(b, &bits, BITS_PER_LONG) {
			u64 at = (base + b) << LINE_SHIFT;

			memcpy(d->media + at, exp->kaddr + at, LINE_SIZE);
		}
		d->dirty[w] &= ~bits;
		d->dirty_lines -= hweight_long(bits);
		if (d->dirty[w])
			i++;
		else
			dom_drop_word(d, i);
	}
	spin_unlock_bh(&d->lock);
	return 0;
}

static int dom_emulated_persist(struct rxe_flush_domain *rd, u64 off, u64 len,
				bool done)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);
	u64 first, last;

	if (!len)
		return 0;
	if (!dom_lines(exp, off, len, &first, &last))
		return -EINVAL;

	if (dom_emulated_copy(exp, first, last))
		return -EIO;
	dom_count_flush(exp, len, done);
	return 0;
}

/*
 * The bytes a VERIFY hashes: in emulated mode the media image, which
 * FLUSH and power failure change under d->lock only at dirty lines; a
 * FLUSH racing a VERIFY of the same lines on another QP is the peer's
 * own race, as on real hardware.
 */
static const void *dom_emulated_verify(struct rxe_flush_domain *rd, u64 off,
				       u64 len)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);

	atomic64_inc(&exp->cnt.verifies);
	if (off > exp->req.length || len > exp->req.length - off)
		return NULL;
	return exp->dom.media + off;
}

/* a line evicted early: a pure function of the seed and the line */
static bool dom_evicted(u64 seed, u64 line, u32 ppm)
{
	u64 z = seed + (line + 1) * 0x9e3779b97f4a7c15ULL;

	/* splitmix64's finalizer */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z % 1000000 < ppm;
}

/*
 * Every dirty line is lost, or reaches the media early if evict says so
 * (evict NULL: none does).  Under d->lock.
 */
static void dom_lose_dirty(struct pmem_rdma_exp *exp,
			   const struct pmem_rdma_power_fail *evict,
			   u64 *lost, u64 *evicted)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u32 i;

	for (i = 0; i < d->nwords; i++) {
		unsigned long w = d->words[i];
		unsigned int b;

		for_each_set_bit(b, &d->dirty[w], BITS_PER_LONG) {
			u64 line = (u64)w * BITS_PER_LONG + b;
			u64 at = line << LINE_SHIFT;

			if (evict && dom_evicted(evict->seed, line,
						 evict->eviction_ppm)) {
				memcpy(d->media + at, exp->kaddr + at, LINE_SIZE);
				(*evicted)++;
			} else {
				memcpy(exp->kaddr + at, d->media + at, LINE_SIZE);
				(*lost)++;
			}
		}
		d->dirty[w] = 0;
	}
	d->nwords = 0;
	d->dirty_lines = 0;
}

static int dom_emulated_power_fail(struct pmem_rdma_exp *exp,
				   struct pmem_rdma_power_fail *pf)
{
	struct pmem_rdma_domain *d = &exp->dom;
	bool on = pf->flags & PMEM_RDMA_POWER_FAIL_POWER_ON;
	u64 lost = 0, evicted = 0;

	spin_lock_bh(&d->lock);
	if (on && !d->down) {
		spin_unlock_bh(&d->lock);
		return -EINVAL;
	}
	/* powering on loses what landed while down, and evicts nothing */
	dom_lose_dirty(exp, on ? NULL : pf, &lost, &evicted);
	WRITE_ONCE(d->down, !!(pf->flags & PMEM_RDMA_POWER_FAIL_STAY_DOWN));
	spin_unlock_bh(&d->lock);

	if (!on)
		atomic64_inc(&exp->cnt.power_failures);
	pf->lines_lost = lost;
	pf->lines_evicted = evicted;
	return 0;
}

static u64 dom_emulated_dirty_lines(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u64 n;

	spin_lock_bh(&d->lock);
	n = d->dirty_lines;
	spin_unlock_bh(&d->lock);
	return n;
}

/* an emulated export without power refuses everything */
static bool dom_emulated_poisoned(struct rxe_flush_domain *rd, u64 off,
				  u64 len)
{
	return READ_ONCE(dom_exp(rd)->dom.down) ||
	       pmem_rdma_domain_poisoned(rd, off, len);
}

static void dom_emulated_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	vfree(d->media);
	bitmap_free(d->dirty);
	kvfree(d->words);
	d->media = NULL;
	d->dirty = NULL;
	d->words = NULL;
}

static int dom_emulated_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u64 nlines = exp->req.length >> LINE_SHIFT;
	u64 off;

	/* the bitmap's size is an unsigned int of lines */
	if (nlines > INT_MAX)
		return -E2BIG;
	d->media = vmalloc(exp->req.length);
	d->dirty = bitmap_zalloc(nlines, GFP_KERNEL);
	d->words = kvcalloc(BITS_TO_LONGS(nlines), sizeof(*d->words),
			    GFP_KERNEL);
	if (!d->media || !d->dirty || !d->words) {
		dom_emulated_free(exp);
		return -ENOMEM;
	}
	/* what the namespace holds now is what survives a failure */
	for (off = 0; off < exp->req.length; off += SZ_1M) {
		memcpy(d->media + off, exp->kaddr + off,
		       min_t(u64, SZ_1M, exp->req.length - off));
		cond_resched();
	}
	return 0;
}

const struct pmem_rdma_domain_mode pmem_rdma_domain_emulated = {
	.rd_ops = {
		.write = dom_emulated_write,
		.stored = dom_emulated_stored,
		.persist = dom_emulated_persist,
		.verify = dom_emulated_verify,
		.poisoned = dom_emulated_poisoned,
	},
	.init = dom_emulated_init,
	.free = dom_emulated_free,
	.power_fail = dom_emulated_power_fail,
	.dirty_lines = dom_emulated_dirty_lines,
};
