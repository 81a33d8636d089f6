/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmem_rdma: what the two persistence domains share - pmem_rdma_domain.c
 * picks one when the export is made; pmem_rdma_domain_real.c and
 * pmem_rdma_domain_emulated.c are the two, each a table of calls.
 */
#ifndef PMEM_RDMA_DOMAIN_H
#define PMEM_RDMA_DOMAIN_H

#include "pmem_rdma.h"

#define LINE_SHIFT	6
#define LINE_SIZE	(1UL << LINE_SHIFT)

extern const struct pmem_rdma_domain_mode pmem_rdma_domain_real;
extern const struct pmem_rdma_domain_mode pmem_rdma_domain_emulated;

static inline struct pmem_rdma_exp *dom_exp(struct rxe_flush_domain *rd)
{
	return container_of(rd, struct pmem_rdma_exp, dom.rd);
}

/* the range [off, off + len) of the export, in whole lines */
static inline bool dom_lines(struct pmem_rdma_exp *exp, u64 off, u64 len,
			     u64 *first, u64 *last)
{
	if (!len || off >= exp->req.length || len > exp->req.length - off)
		return false;
	*first = off >> LINE_SHIFT;
	*last = (off + len - 1) >> LINE_SHIFT;
	return true;
}

/* a FLUSH counts once, at its last step; its bytes at every step */
static inline void dom_count_flush(struct pmem_rdma_exp *exp, u64 len,
				   bool done)
{
	if (done)
		atomic64_inc(&exp->cnt.flushes);
	atomic64_add(len, &exp->cnt.bytes_flushed);
}

/* pmem_rdma_domain_real.c: the disk's media errors, for both modes */
bool pmem_rdma_domain_poisoned(struct rxe_flush_domain *rd, u64 off, u64 len);

#endif /* PMEM_RDMA_DOMAIN_H */
