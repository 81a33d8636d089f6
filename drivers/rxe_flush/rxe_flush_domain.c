// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: persistence domains attached to kernel MRs (see
 * include/rdma/rxe_flush_domain.h).  rxe_resp.c reports the stores of RDMA
 * WRITE here, before and after, rxe_flush_resp.c those of ATOMIC WRITE, and
 * rxe_flush_persist.c hands persistent FLUSHes of such an MR to its domain.
 * Every request's range is first checked against the domain's poison.
 */

#include <linux/export.h>

#include "rxe.h"
#include "rxe_flush.h"

int rxe_flush_domain_attach(struct ib_mr *ibmr, struct rxe_flush_domain *d)
{
	if (ibmr->device->ops.driver_id != RDMA_DRIVER_RXE ||
	    ibmr->device->ops.owner != THIS_MODULE)
		return -EOPNOTSUPP;
	if (ibmr->type != IB_MR_TYPE_MEM_REG)
		return -EINVAL;

	WRITE_ONCE(to_rmr(ibmr)->flush_domain, d);
	return 0;
}
EXPORT_SYMBOL_GPL(rxe_flush_domain_attach);

/* a zero-length RDMA WRITE carries no R_Key check and has no MR */
void rxe_flush_domain_write(struct rxe_mr *mr, u64 iova, u64 len)
{
	struct rxe_flush_domain *d;

	if (!mr || !len)
		return;
	d = READ_ONCE(mr->flush_domain);
	if (d)
		d->ops->write(d, iova - mr->ibmr.iova, len);
}

/* after the store: see rxe_flush_domain.h */
void rxe_flush_domain_stored(struct rxe_mr *mr, u64 iova, u64 len)
{
	struct rxe_flush_domain *d;

	if (!mr || !len)
		return;
	d = READ_ONCE(mr->flush_domain);
	if (d && d->ops->stored)
		d->ops->stored(d, iova - mr->ibmr.iova, len);
}

/* false when the MR's owner knows [iova, iova + len) to be poisoned */
bool rxe_flush_domain_range_ok(struct rxe_mr *mr, u64 iova, u64 len)
{
	struct rxe_flush_domain *d;

	if (!mr || !len)
		return true;
	d = READ_ONCE(mr->flush_domain);
	return !d || !d->ops->poisoned ||
	       !d->ops->poisoned(d, iova - mr->ibmr.iova, len);
}

struct rxe_flush_domain *rxe_flush_domain_of(struct rxe_mr *mr)
{
	return READ_ONCE(mr->flush_domain);
}

/*
 * Whether an MR with access gets a remote key: rxe gives one for remote
 * read, write or atomic access only.  FLUSH access is remote access too,
 * and so is VERIFY, which an MR's persistence domain grants by algorithm
 * (the domain is attached before the MR is registered).
 */
bool rxe_flush_mr_has_rkey(struct rxe_mr *mr, int access)
{
	struct rxe_flush_domain *d = rxe_flush_domain_of(mr);

	return (access & (IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE |
		   IB_ACCESS_REMOTE_ATOMIC | RXE_FLUSH_ACCESS_FLUSH)) ||
	       (d && d->verify_algs);
}
