// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the persistence domain of an export, attached to every peer's
 * MR on an rxe_flush device (include/rdma/rxe_flush_domain.h).  The
 * responder reports each RDMA WRITE and ATOMIC WRITE before it stores, and
 * hands each persistent FLUSH to us.
 *
 * The export's mode picks one of two tables, real or emulated, when the
 * export is made (pmem_rdma_domain_init()); nothing tests the mode later.
 *
 * Real mode: a FLUSH writes the cache lines of its range back and flushes
 * the NVDIMM region with nvdimm_flush(), as drivers/nvdimm/pmem.c does for
 * REQ_PREFLUSH: it fences and writes the region's flush hints, if any.
 *
 * VERIFY: the domain names the algorithms peers may use (the export's
 * verify_algs, whatever its READ access) and counts each VERIFY.  In
 * emulated mode the media image is what gets hashed: a VERIFY tells a peer
 * what a power failure would leave, so it catches a missing FLUSH.
 *
 * Emulated mode: under QEMU a store is durable at once, so a missing FLUSH
 * could never be seen.  The export keeps a media image beside the visible
 * memory (the DAX range peers write), and a bitmap with one bit per 64-byte
 * line written since it was last made persistent.  The bitmap words that
 * have any bit set are also kept in a list, so a FLUSH and a power failure
 * cost O(lines written), never O(region):
 *   - a persistent FLUSH copies the dirty lines its range touches from the
 *     visible memory to the image;
 *   - a power failure lets a seeded share of the dirty lines reach the
 *     image ("early eviction"), then copies the image over every other
 *     dirty line: what was never flushed is gone;
 *   - an export left down after a failure answers every request as
 *     poisoned and makes nothing persistent, so that a peer's traffic
 *     stops exactly at the failure, until it is powered on.
 * Memory: the image (the export's length), plus 1 bit per line and 4 bytes
 * per 4 KiB of the export for the bitmap and its list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/badblocks.h>
#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/libnvdimm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <rdma/ib_verbs.h>
#include <rdma/rxe_flush.h>

#include "pmem_rdma.h"

/* verify_algs is the wire's algorithm numbers as bits */
static_assert(PMEM_RDMA_VERIFY_CRC32C ==
	      RXE_FLUSH_VERIFY_ALG_BIT(RXE_FLUSH_VERIFY_ALG_CRC32C));
static_assert(PMEM_RDMA_VERIFY_SHA256 ==
	      RXE_FLUSH_VERIFY_ALG_BIT(RXE_FLUSH_VERIFY_ALG_SHA256));
static_assert(PMEM_RDMA_VERIFY_ALL == RXE_FLUSH_VERIFY_ALGS);

#define LINE_SHIFT	6
#define LINE_SIZE	(1UL << LINE_SHIFT)

static struct pmem_rdma_exp *dom_exp(struct rxe_flush_domain *rd)
{
	return container_of(rd, struct pmem_rdma_exp, dom.rd);
}

/* the range [off, off + len) of the export, in whole lines */
static bool dom_lines(struct pmem_rdma_exp *exp, u64 off, u64 len,
		      u64 *first, u64 *last)
{
	if (!len || off >= exp->req.length || len > exp->req.length - off)
		return false;
	*first = off >> LINE_SHIFT;
	*last = (off + len - 1) >> LINE_SHIFT;
	return true;
}

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

static void dom_real_write(struct rxe_flush_domain *rd, u64 off, u64 len)
{
	atomic64_add(len, &dom_exp(rd)->cnt.bytes_written);
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

/* a FLUSH counts once, at its last step; its bytes at every step */
static void dom_count_flush(struct pmem_rdma_exp *exp, u64 len, bool done)
{
	if (done)
		atomic64_inc(&exp->cnt.flushes);
	atomic64_add(len, &exp->cnt.bytes_flushed);
}

/* the region's write queues are flushed once, after the last step */
static int dom_real_persist(struct rxe_flush_domain *rd, u64 off, u64 len,
			    bool done)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);
	u64 first, last;
	int err;

	if (!len)
		return 0;
	if (!dom_lines(exp, off, len, &first, &last))
		return -EINVAL;

	arch_wb_cache_pmem(exp->kaddr + off, len);
	if (done) {
		err = nvdimm_flush(exp->dom.region, NULL);
		if (err)
			return err;
	}
	dom_count_flush(exp, len, done);
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

/* real mode: the responder hashes the memory itself */
static const void *dom_real_verify(struct rxe_flush_domain *rd, u64 off,
				   u64 len)
{
	atomic64_inc(&dom_exp(rd)->cnt.verifies);
	return NULL;
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

/*
 * The media errors the pmem driver knows of (the disk's badblocks, from
 * ARS, a machine check it survived, or /sys/block/DISK/badblocks): a peer's
 * request over one is refused before it touches the line, in both modes.
 */
static bool dom_poisoned(struct rxe_flush_domain *rd, u64 off, u64 len)
{
	struct pmem_rdma_exp *exp = dom_exp(rd);
	struct badblocks *bb = exp->bdev->bd_disk->bb;
	sector_t s, end, first_bad;
	int nbad, n;

	if (!bb)
		return false;
	s = exp->bdev->bd_start_sect +
	    ((exp->req.offset + off) >> SECTOR_SHIFT);
	end = exp->bdev->bd_start_sect +
	      DIV_ROUND_UP(exp->req.offset + off + len, SECTOR_SIZE);
	for (; s < end; s += n) {
		n = min_t(sector_t, end - s, SZ_1G);
		if (badblocks_check(bb, s, n, &first_bad, &nbad))
			return true;
	}
	return false;
}

/* an emulated export without power refuses everything */
static bool dom_emulated_poisoned(struct rxe_flush_domain *rd, u64 off,
				  u64 len)
{
	return READ_ONCE(dom_exp(rd)->dom.down) || dom_poisoned(rd, off, len);
}

static const struct pmem_rdma_domain_mode dom_real = {
	.rd_ops = {
		.write = dom_real_write,
		.persist = dom_real_persist,
		.verify = dom_real_verify,
		.poisoned = dom_poisoned,
	},
};

static const struct pmem_rdma_domain_mode dom_emulated = {
	.rd_ops = {
		.write = dom_emulated_write,
		.stored = dom_emulated_stored,
		.persist = dom_emulated_persist,
		.verify = dom_emulated_verify,
		.poisoned = dom_emulated_poisoned,
	},
	.power_fail = dom_emulated_power_fail,
	.dirty_lines = dom_emulated_dirty_lines,
};

int pmem_rdma_domain_power_fail(struct pmem_rdma_exp *exp,
				struct pmem_rdma_power_fail *pf)
{
	if (!exp->dom.mode->power_fail)
		return -EOPNOTSUPP;
	return exp->dom.mode->power_fail(exp, pf);
}

u64 pmem_rdma_domain_dirty_lines(struct pmem_rdma_exp *exp)
{
	if (!exp->dom.mode->dirty_lines)
		return 0;
	return exp->dom.mode->dirty_lines(exp);
}

/* the NVDIMM region behind an nd_pmem disk, or NULL */
static struct nd_region *dom_nd_region(struct block_device *bdev)
{
	struct device *dev = disk_to_dev(bdev->bd_disk)->parent;

	/* nd_pmem's disks hang off a namespace or pfn device of a region */
	if (!dev || !dev->driver || strcmp(dev->driver->name, "nd_pmem") ||
	    !dev->parent)
		return NULL;
	return to_nd_region(dev->parent);
}

int pmem_rdma_domain_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;
	u64 nlines = exp->req.length >> LINE_SHIFT;
	u64 off;

	spin_lock_init(&d->lock);
	d->mode = exp->req.flags & PMEM_RDMA_EXPORT_EMULATED ? &dom_emulated :
							       &dom_real;
	d->rd.ops = &d->mode->rd_ops;
	if (exp->req.access & PMEM_RDMA_ACCESS_VERIFY)
		d->rd.verify_algs = exp->req.verify_algs;
	/* pins rdma_rxe_flush while the export lives, if it is loaded */
	d->attach = symbol_get(rxe_flush_domain_attach);
	if (!d->attach && ((exp->req.flags & PMEM_RDMA_EXPORT_EMULATED) ||
			   d->rd.verify_algs))
		return -EOPNOTSUPP;

	if (d->mode == &dom_real) {
		if (!(exp->req.access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT))
			return 0;
		/*
		 * The responder cannot sleep: an asynchronous region
		 * (virtio-pmem) or a disk that is not nd_pmem's has no
		 * flush it could do.
		 */
		d->region = dom_nd_region(exp->bdev);
		if (!d->region || !is_nvdimm_sync(d->region))
			return -EOPNOTSUPP;
		return 0;
	}

	/* the bitmap's size is an unsigned int of lines */
	if (nlines > INT_MAX)
		return -E2BIG;
	d->media = vmalloc(exp->req.length);
	d->dirty = bitmap_zalloc(nlines, GFP_KERNEL);
	d->words = kvcalloc(BITS_TO_LONGS(nlines), sizeof(*d->words),
			    GFP_KERNEL);
	if (!d->media || !d->dirty || !d->words) {
		pmem_rdma_domain_free(exp);
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

void pmem_rdma_domain_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	if (d->attach)
		symbol_put(rxe_flush_domain_attach);
	d->attach = NULL;
	vfree(d->media);
	bitmap_free(d->dirty);
	kvfree(d->words);
	d->media = NULL;
	d->dirty = NULL;
	d->words = NULL;
}

/*
 * Attach the domain to a peer's MR.  Without rdma_rxe_flush there is no
 * one to tell us about writes or to ask us about VERIFY: an emulated or a
 * verifiable export cannot work, a real one runs on the device's own
 * FLUSH and counts no bytes.
 */
int pmem_rdma_domain_attach(struct pmem_rdma_exp *exp, struct ib_mr *mr)
{
	int err = -EOPNOTSUPP;

	if (exp->dom.attach)
		err = exp->dom.attach(mr, &exp->dom.rd);
	if (err && exp->dom.mode == &dom_real && !exp->dom.rd.verify_algs)
		err = 0;
	return err;
}
