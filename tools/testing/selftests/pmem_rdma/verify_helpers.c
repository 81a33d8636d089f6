// SPDX-License-Identifier: GPL-2.0
/* VERIFY helpers for the pmem_rdma selftests. */
#include <string.h>

#include <rdma/rxe_flush.h>

#include "verify_helpers.h"

void pt_verify_wr(const struct pt_verify *v, struct ibv_send_wr *wr,
		  struct ibv_sge *sge)
{
	*sge = (struct ibv_sge){
		.addr = (uintptr_t)v->buf, .length = v->buflen, .lkey = v->lkey,
	};
	*wr = (struct ibv_send_wr){
		.wr_id = 0x5e,
		.opcode = (enum ibv_wr_opcode)RXE_FLUSH_WR_VERIFY,
		.send_flags = IBV_SEND_SIGNALED |
			      (v->lkey ? 0 : IBV_SEND_INLINE),
		.sg_list = sge, .num_sge = 1,
		.wr.atomic = {
			.remote_addr = v->raddr, .rkey = v->rkey,
			.compare_add = v->len, .swap = v->word,
		},
	};
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
