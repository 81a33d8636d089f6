// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the persistence write-back of FLUSH with the persistence
 * placement type.
 *
 * Every persistent FLUSH goes through rxe_flush_persist(): it writes the
 * cache lines of the range back to the persistence domain, a page of the MR
 * at a time, and fences; a long FLUSH calls it once per step.  rxe_flush_writeback() is the one place that
 * touches the platform; drivers/pmem_rdma takes it over for its exports
 * (emulated persistence domain, NVDIMM region flush) by attaching a
 * persistence domain to its MRs (rxe_flush_domain.c): a FLUSH of such an
 * MR goes to the domain instead.  The calls and bytes are counted in
 * hw_counters (persist_writeback_calls/_bytes) either way.
 */

#include <linux/libnvdimm.h>

#include "rxe.h"
#include "rxe_flush.h"

static void rxe_flush_writeback(void *addr, size_t len, void *ctx)
{
	arch_wb_cache_pmem(addr, len);
}

static int rxe_flush_writeback_mr(struct rxe_mr *mr, u64 iova, u64 length)
{
	int err = rxe_flush_mr_walk(mr, iova, length, rxe_flush_writeback,
				    NULL);

	pmem_wmb();
	return err;
}

/* a FLUSH in steps (RXE_FLUSH_STEP_BYTES) is one call, counted at its last */
int rxe_flush_persist(struct rxe_dev *rxe, struct rxe_mr *mr, u64 iova,
		      u64 length, bool last)
{
	struct rxe_flush_domain *d = rxe_flush_domain_of(mr);
	int err;

	if (d)
		err = d->ops->persist(d, iova - mr->ibmr.iova, length, last);
	else
		err = rxe_flush_writeback_mr(mr, iova, length);
	if (err)
		return err;

	if (last)
		rxe_counter_inc(rxe, RXE_CNT_PERSIST_WB_CALLS);
	atomic64_add(length, &rxe->stats_counters[RXE_CNT_PERSIST_WB_BYTES]);
	return 0;
}
