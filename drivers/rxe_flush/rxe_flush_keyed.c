// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: keyed MRs for kernel users (include/rdma/rxe_flush_keyed.h).
 * The objects are the user-space ones (rxe_flush_key.c, rxe_flush_seal.c);
 * this file only checks that what it is given is of this driver.
 */
#include <linux/err.h>
#include <linux/export.h>
#include <rdma/rxe_flush_keyed.h>

#include "rxe.h"
#include "rxe_flush.h"

static bool keyed_ours(struct ib_device *dev)
{
	return dev->ops.driver_id == RDMA_DRIVER_RXE &&
	       dev->ops.owner == THIS_MODULE;
}

static struct rxe_flush_key *keyed_key_create(struct ib_pd *pd, u32 alg,
					      const u8 *bytes, u32 len)
{
	if (!keyed_ours(pd->device))
		return ERR_PTR(-EOPNOTSUPP);
	return rxe_flush_key_new(pd, alg, bytes, len);
}

static int keyed_mr_bind(struct ib_mr *mr, struct rxe_flush_key *key)
{
	if (!keyed_ours(mr->device))
		return -EOPNOTSUPP;
	return rxe_flush_key_bind_kmr(to_rmr(mr), key);
}

static int keyed_qp_draw(struct ib_qp *qp, u8 *draw)
{
	if (!keyed_ours(qp->device))
		return -EOPNOTSUPP;
	return rxe_flush_seal_draw(to_rqp(qp), draw);
}

static int keyed_qp_bind(struct ib_qp *qp, struct rxe_flush_key *key,
			 const u8 *peer_draw)
{
	if (!keyed_ours(qp->device))
		return -EOPNOTSUPP;
	return rxe_flush_seal_bind(to_rqp(qp), key, peer_draw);
}

const struct rxe_flush_keyed_ops rxe_flush_keyed_ops = {
	.key_create = keyed_key_create,
	.key_drop = rxe_flush_key_drop,
	.mr_bind = keyed_mr_bind,
	.qp_draw = keyed_qp_draw,
	.qp_bind = keyed_qp_bind,
};
EXPORT_SYMBOL_GPL(rxe_flush_keyed_ops);
