// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the persistence write-back of FLUSH with the persistence
 * placement type.
 *
 * Every persistent FLUSH goes through rxe_flush_persist(): it writes the
 * cache lines of the range back to the persistence domain, a page of the MR
 * at a time, and fences.  rxe_flush_writeback() is the one place that
 * touches the platform; drivers/pmem_rdma takes it over for its exports
 * (emulated persistence domain, NVDIMM region flush) by attaching a
 * persistence domain to its MRs (rxe_flush_domain.c): a FLUSH of such an
 * MR goes to the domain instead.  The calls and bytes are counted in
 * hw_counters (persist_writeback_calls/_bytes) either way.
 */

#include <linux/libnvdimm.h>
#include <linux/minmax.h>

#include "rxe.h"
#include "rxe_flush.h"

static void rxe_flush_writeback(void *addr, size_t len, void *ctx)
{
	arch_wb_cache_pmem(addr, len);
}

/*
 * Call fn on [iova, iova + length) of mr, one kernel-mapped piece (a page
 * of the MR) at a time; -EFAULT if a piece is not mapped.  Also used by
 * VERIFY to hash a range.
 */
int rxe_flush_mr_walk(struct rxe_mr *mr, u64 iova, u64 length,
		      void (*fn)(void *addr, size_t len, void *ctx), void *ctx)
{
	u64 done = 0;

	while (done < length) {
		u64 pos = iova + done;
		u64 chunk = length - done;
		void *addr;

		if (mr->map) {
			u64 off = (pos - mr->ibmr.iova + mr->offset) &
				  mr->page_mask;

			chunk = min_t(u64, chunk, mr->page_mask + 1 - off);
		} else {
			/* DMA MR: the iova is the kernel address */
			chunk = min_t(u64, chunk, PAGE_SIZE - offset_in_page(pos));
		}

		addr = iova_to_vaddr(mr, pos, chunk);
		if (!addr)
			return -EFAULT;
		fn(addr, chunk, ctx);
		done += chunk;
	}
	return 0;
}

static int rxe_flush_writeback_mr(struct rxe_mr *mr, u64 iova, u64 length)
{
	int err = rxe_flush_mr_walk(mr, iova, length, rxe_flush_writeback,
				    NULL);

	pmem_wmb();
	return err;
}

int rxe_flush_persist(struct rxe_dev *rxe, struct rxe_mr *mr, u64 iova,
		      u64 length)
{
	struct rxe_flush_domain *d = rxe_flush_domain_of(mr);
	int err;

	if (d)
		err = d->ops->persist(d, iova - mr->ibmr.iova, length);
	else
		err = rxe_flush_writeback_mr(mr, iova, length);
	if (err)
		return err;

	rxe_counter_inc(rxe, RXE_CNT_PERSIST_WB_CALLS);
	atomic64_add(length, &rxe->stats_counters[RXE_CNT_PERSIST_WB_BYTES]);
	return 0;
}
