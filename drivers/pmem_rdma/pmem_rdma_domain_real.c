// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the real persistence domain.  A FLUSH writes the cache lines
 * of its range back and flushes the NVDIMM region with nvdimm_flush(), as
 * drivers/nvdimm/pmem.c does for REQ_PREFLUSH: it fences and writes the
 * region's flush hints, if any.  The responder hashes the memory itself
 * for a VERIFY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/badblocks.h>
#include <linux/blkdev.h>
#include <linux/libnvdimm.h>
#include <linux/string.h>

#include "pmem_rdma_domain.h"

static void dom_real_write(struct rxe_flush_domain *rd, u64 off, u64 len)
{
	atomic64_add(len, &dom_exp(rd)->cnt.bytes_written);
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

/* real mode: the responder hashes the memory itself */
static const void *dom_real_verify(struct rxe_flush_domain *rd, u64 off,
				   u64 len)
{
	atomic64_inc(&dom_exp(rd)->cnt.verifies);
	return NULL;
}

/*
 * The media errors the pmem driver knows of (the disk's badblocks, from
 * ARS, a machine check it survived, or /sys/block/DISK/badblocks): a peer's
 * request over one is refused before it touches the line, in both modes.
 */
bool pmem_rdma_domain_poisoned(struct rxe_flush_domain *rd, u64 off, u64 len)
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

static int dom_real_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	if (!(exp->req.access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT))
		return 0;
	/*
	 * The responder cannot sleep: an asynchronous region (virtio-pmem)
	 * or a disk that is not nd_pmem's has no flush it could do.
	 */
	d->region = dom_nd_region(exp->bdev);
	if (!d->region || !is_nvdimm_sync(d->region))
		return -EOPNOTSUPP;
	return 0;
}

const struct pmem_rdma_domain_mode pmem_rdma_domain_real = {
	.rd_ops = {
		.write = dom_real_write,
		.persist = dom_real_persist,
		.verify = dom_real_verify,
		.poisoned = pmem_rdma_domain_poisoned,
	},
	.init = dom_real_init,
};
