// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the emulated persistence domain.  Under QEMU a store is
 * durable at once, so a missing FLUSH could never be seen.  The export
 * keeps a media image beside the visible memory (the DAX range peers
 * write), and a bitmap with one bit per 64-byte line written since it was
 * last made persistent.  A second bitmap has a bit per word of the first
 * that has any bit set, so that the work of a FLUSH is bounded by its
 * range, whatever a peer dirtied elsewhere, and that of a power failure
 * by the lines written:
 *   - a persistent FLUSH copies the dirty lines its range touches from the
 *     visible memory to the image: it examines a word of the second bitmap
 *     per 4096 lines (256 KiB) of its range and a word of the first per
 *     64 lines of it that hold a dirty one, copies at most its range, and
 *     comes in steps of at most 256 KiB (RXE_FLUSH_STEP_BYTES);
 *   - a power failure lets a seeded share of the dirty lines reach the
 *     image ("early eviction"), then copies the image over every other
 *     dirty line: what was never flushed is gone.  It lets go of the lock
 *     every DOM_BATCH_WORDS words with a dirty line, to reschedule;
 *   - an export left down after a failure answers every request as
 *     poisoned and makes nothing persistent, so that a peer's traffic
 *     stops exactly at the failure, until it is powered on;
 *   - a VERIFY hashes the image: it tells a peer what a power failure
 *     would leave, so it catches a missing FLUSH.  The responder hashes it
 *     in steps, without our lock.
 * Memory: the image (the export's length), plus 1 bit per line and 1 bit
 * per 4 KiB of the export for the two bitmaps.
 *
 * debugfs, <debugfs>/pmem_rdma/<export id>/: flush_scan_last, the bitmap
 * words (of either bitmap) that the last persistent FLUSH examined, and
 * flush_scan_total, those of every FLUSH since the export was made; for
 * tests that the work of a FLUSH does not grow with the dirty lines
 * outside its range.  FLUSHes on several QPs at once add to one
 * flush_scan_last.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "pmem_rdma_domain.h"

/* the words with a dirty line a power failure handles per hold of d->lock */
#define DOM_BATCH_WORDS	64

/* the bits of word w of the line bitmap that [first, last] covers */
static unsigned long dom_word_mask(unsigned long w, u64 first, u64 last)
{
	u64 base = (u64)w * BITS_PER_LONG;
	unsigned long mask = ~0UL;

	if (first > base)
		mask &= ~0UL << (first - base);
	if (last < base + BITS_PER_LONG - 1)
		mask &= ~0UL >> (BITS_PER_LONG - 1 - (last - base));
	return mask;
}

static void dom_mark(struct pmem_rdma_domain *d, u64 first, u64 last)
{
	unsigned long w;

	for (w = BIT_WORD(first); w <= BIT_WORD(last); w++) {
		unsigned long mask = dom_word_mask(w, first, last);

		d->dirty_lines += hweight_long(mask & ~d->dirty[w]);
		d->dirty[w] |= mask;
		__set_bit(w, d->dirty_words);
	}
}

/* the bits of word w of the line bitmap are clear now */
static void dom_clear(struct pmem_rdma_domain *d, unsigned long w,
		      unsigned long bits)
{
	d->dirty[w] &= ~bits;
	d->dirty_lines -= hweight_long(bits);
	if (!d->dirty[w])
		__clear_bit(w, d->dirty_words);
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
 * Every dirty line that [first, last] touches reaches the image; -EBADMSG
 * and nothing when the power is down.  Only the words of the range are
 * looked at, and it is a FLUSH step: 256 KiB at most.
 */
static int dom_emulated_copy(struct pmem_rdma_exp *exp, u64 first, u64 last,
			     bool done)
{
	struct pmem_rdma_domain *d = &exp->dom;
	unsigned long w = BIT_WORD(first), wend = BIT_WORD(last) + 1;
	/* find_next_bit() reads the second bitmap's words of the range */
	u64 scan = BIT_WORD(wend - 1) - BIT_WORD(w) + 1;

	spin_lock_bh(&d->lock);
	if (d->down) {
		spin_unlock_bh(&d->lock);
		return -EBADMSG;
	}
	for_each_set_bit_from(w, d->dirty_words, wend) {
		unsigned long bits = d->dirty[w] & dom_word_mask(w, first, last);
		unsigned long b;

		scan++;
		for_each_set_bit(b, &bits, BITS_PER_LONG) {
			u64 at = ((u64)w * BITS_PER_LONG + b) << LINE_SHIFT;

			memcpy(d->media + at, exp->kaddr + at, LINE_SIZE);
		}
		dom_clear(d, w, bits);
	}
	d->scan_cur += scan;
	d->scan_total += scan;
	if (done) {
		d->scan_last = d->scan_cur;
		d->scan_cur = 0;
	}
	spin_unlock_bh(&d->lock);
	return 0;
}

static int dom_emulated_persist(struct rxe_flush_domain *rd, u64 off, u64 len,
				bool done)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);
	u64 first, last;
	int err;

	if (!len)
		return 0;
	if (!dom_lines(exp, off, len, &first, &last))
		return -EINVAL;

	/* down since the responder's check: NAKed as poisoned */
	err = dom_emulated_copy(exp, first, last, done);
	if (err)
		return err;
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
 * The dirty lines of the words from *w on are lost, or reach the media
 * early if evict says so (evict NULL: none does), DOM_BATCH_WORDS words at
 * most; true when some may be left.  Under d->lock.
 */
static bool dom_lose_dirty(struct pmem_rdma_exp *exp,
			   const struct pmem_rdma_power_fail *evict,
			   unsigned long *w, u64 *lost, u64 *evicted)
{
	struct pmem_rdma_domain *d = &exp->dom;
	unsigned int n = 0;

	for_each_set_bit_from(*w, d->dirty_words, d->nwords) {
		unsigned long bits = d->dirty[*w], b;

		if (n++ == DOM_BATCH_WORDS)
			return true;
		for_each_set_bit(b, &bits, BITS_PER_LONG) {
			u64 line = (u64)*w * BITS_PER_LONG + b;
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
		dom_clear(d, *w, bits);
	}
	return false;
}

/*
 * Called under pmem_rdma_exports_lock: one at a time.  The lock is let go
 * between batches: a store or a FLUSH that races the failure lands before
 * it or after it, as it could on real hardware; one behind the cursor
 * stays dirty.  An export that stays down refuses requests from the start.
 */
static int dom_emulated_power_fail(struct pmem_rdma_exp *exp,
				   struct pmem_rdma_power_fail *pf)
{
	struct pmem_rdma_domain *d = &exp->dom;
	bool on = pf->flags & PMEM_RDMA_POWER_FAIL_POWER_ON;
	bool stay_down = pf->flags & PMEM_RDMA_POWER_FAIL_STAY_DOWN;
	u64 lost = 0, evicted = 0;
	unsigned long w = 0;

	spin_lock_bh(&d->lock);
	if (on && !d->down) {
		spin_unlock_bh(&d->lock);
		return -EINVAL;
	}
	if (stay_down)
		WRITE_ONCE(d->down, true);
	/* powering on loses what landed while down, and evicts nothing */
	while (dom_lose_dirty(exp, on ? NULL : pf, &w, &lost, &evicted)) {
		spin_unlock_bh(&d->lock);
		cond_resched();
		spin_lock_bh(&d->lock);
	}
	WRITE_ONCE(d->down, stay_down);
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

static int dom_scan_last_get(void *data, u64 *val)
{
	struct pmem_rdma_domain *d = data;

	spin_lock_bh(&d->lock);
	*val = d->scan_last;
	spin_unlock_bh(&d->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dom_scan_last_fops, dom_scan_last_get, NULL,
			 "%llu\n");

static int dom_scan_total_get(void *data, u64 *val)
{
	struct pmem_rdma_domain *d = data;

	spin_lock_bh(&d->lock);
	*val = d->scan_total;
	spin_unlock_bh(&d->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dom_scan_total_fops, dom_scan_total_get, NULL,
			 "%llu\n");

static void dom_emulated_debugfs(struct pmem_rdma_exp *exp,
				 struct dentry *dir)
{
	debugfs_create_file_unsafe("flush_scan_last", 0400, dir, &exp->dom,
				   &dom_scan_last_fops);
	debugfs_create_file_unsafe("flush_scan_total", 0400, dir, &exp->dom,
				   &dom_scan_total_fops);
}

static void dom_emulated_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	vfree(d->media);
	bitmap_free(d->dirty);
	bitmap_free(d->dirty_words);
	d->media = NULL;
	d->dirty = NULL;
	d->dirty_words = NULL;
}

static int dom_emulated_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u64 nlines = exp->req.length >> LINE_SHIFT;
	u64 off;

	/* the bitmap's size is an unsigned int of lines */
	if (nlines > INT_MAX)
		return -E2BIG;
	d->nwords = BITS_TO_LONGS(nlines);
	d->media = vmalloc(exp->req.length);
	d->dirty = bitmap_zalloc(nlines, GFP_KERNEL);
	d->dirty_words = bitmap_zalloc(d->nwords, GFP_KERNEL);
	if (!d->media || !d->dirty || !d->dirty_words) {
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
	.debugfs = dom_emulated_debugfs,
};
