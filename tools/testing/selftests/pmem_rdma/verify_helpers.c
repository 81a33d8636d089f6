// SPDX-License-Identifier: GPL-2.0
/* VERIFY helpers for the pmem_rdma selftests. */
#include <string.h>

#include <rdma/rxe_flush.h>

#include "pmrdma_conn.h"
#include "verify_helpers.h"

void pt_verify_wr(const struct pt_verify *v, struct ibv_send_wr *wr,
		  struct ibv_sge *sge)
{
	*wr = (struct ibv_send_wr){
		.wr_id = 0x5e,
		.send_flags = IBV_SEND_SIGNALED |
			      (v->lkey ? 0 : IBV_SEND_INLINE),
	};
	pmrdma_wr_verify(wr, sge, v->rkey, v->raddr, v->len, v->word, v->buf,
			 v->buflen, v->lkey);
}

int pt_post_verify(struct pt_ctx *c, const struct pt_verify *v,
		   struct ibv_wc *wc)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	int ret;

	pt_verify_wr(v, &wr, &sge);
	ret = ibv_post_send(c->qp[0], &wr, &bad);
	if (ret)
		return -ret;
	return pt_poll_one(c->cq[0], wc, 20000);
}
