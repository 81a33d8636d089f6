// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma's APM method (appliance persistence): on a target whose
 * platform puts what the NIC places in the persistence domain, a READ
 * behind the WRITEs returns once they have been placed, so once they are
 * durable.  One READ behind every range of a flush is enough.
 */
#include "pmrdma_queue.h"

/*
 * Its 8 bytes end where the last range does (start at 0 for a range in
 * the view's first 8): inside the view, so inside the export, which a READ
 * past its end would kill.
 */
static int apm_persist_end(struct pmrdma_link *l,
			   struct pmrdma_batch *b, uint64_t end)
{
	uint64_t n = l->view_size < 8 ? l->view_size : 8;

	return pmrdma_batch_add(l, b, IBV_WR_RDMA_READ,
				end < n ? 0 : end - n, n, l->scratch,
				l->scratch_mr->lkey, 0);
}

const struct pmrdma_persist_ops pmrdma_persist_apm = {
	.method = PMRDMA_METHOD_APM,
	.persist_end = apm_persist_end,
};
