// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: requester and completer side of FLUSH and ATOMIC WRITE.
 *
 * The send WQE is what user space (rdma-core's rxe provider) wrote into the
 * shared send queue, with the upstream layout:
 *   FLUSH         wr.flush {remote_addr, rkey, type, level}, the length in
 *                 dma.length/resid, no data;
 *   ATOMIC WRITE  wr.rdma {remote_addr, rkey}, the data in the WQE's inline
 *                 area (dma.atomic_wr upstream), dma.length/resid = 8.
 * Lengths other than 8 are sent as posted, so that the responder refuses
 * them on the wire; the WQE is never read beyond its inline area.
 */

#include <linux/stddef.h>

#include "rxe.h"
#include "rxe_flush.h"

static struct rxe_flush_send_wr_flush *rxe_flush_wr(struct rxe_send_wqe *wqe)
{
	BUILD_BUG_ON(offsetof(struct rxe_send_wr, wr) != 24);
	BUILD_BUG_ON(sizeof(struct rxe_flush_send_wr_flush) >
		     sizeof(wqe->wr.wr));
	return (struct rxe_flush_send_wr_flush *)&wqe->wr.wr;
}

/* after rxe's init_req_packet() built BTH and RETH from wr.rdma */
void rxe_flush_req_init_headers(struct rxe_pkt_info *pkt,
				struct rxe_send_wqe *wqe)
{
	struct rxe_flush_send_wr_flush *f;
	struct rxe_flush_feth *feth;

	if (pkt->opcode == RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE) {
		rxe_counter_inc(pkt->rxe, RXE_CNT_ATOMIC_WRITE_SENT);
		return;
	}
	if (pkt->opcode != RXE_FLUSH_OPCODE_RC_FLUSH)
		return;

	f = rxe_flush_wr(wqe);
	feth = (struct rxe_flush_feth *)(pkt->hdr +
					 rxe_opcode[pkt->opcode].offset[RXE_FETH]);
	feth->bits = cpu_to_be32(rxe_flush_feth_make(f->type, f->level));
	/* the flush member keeps its rkey 4 bytes after wr.rdma's */
	reth_set_rkey(pkt, f->rkey);
	rxe_counter_inc(pkt->rxe, RXE_CNT_FLUSH_SENT);
}

/* in place of rxe's payload copy, for the two opcodes */
int rxe_flush_req_payload(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			  struct rxe_pkt_info *pkt, u32 payload)
{
	if (pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH) {
		/* the length went into RETH; one packet, no data */
		wqe->dma.resid = 0;
		return 0;
	}

	/* ATOMIC WRITE: one packet, the data from the inline area */
	if (payload != wqe->dma.resid || payload > qp->sq.max_inline ||
	    payload > qp->mtu)
		return -EINVAL;

	memcpy(payload_addr(pkt), wqe->dma.inline_data, payload);
	if (bth_pad(pkt))
		memset(payload_addr(pkt) + payload, 0, bth_pad(pkt));
	wqe->dma.resid = 0;
	return 0;
}

/* the completion opcode of ours, or 0xff like rxe for anything else */
int rxe_flush_wr_to_wc_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case RXE_FLUSH_WR_FLUSH:
		return RXE_FLUSH_WC_FLUSH;
	case RXE_FLUSH_WR_ATOMIC_WRITE:
		return RXE_FLUSH_WC_ATOMIC_WRITE;
	case RXE_FLUSH_WR_VERIFY:
		return RXE_FLUSH_WC_VERIFY;
	default:
		return 0xff;
	}
}

/* a zero-length RDMA READ RESPONSE ONLY acknowledges both requests */
bool rxe_flush_comp_is_acked(const struct rxe_send_wqe *wqe,
			     struct rxe_pkt_info *pkt)
{
	return (wqe->wr.opcode == RXE_FLUSH_WR_FLUSH ||
		wqe->wr.opcode == RXE_FLUSH_WR_ATOMIC_WRITE) &&
	       pkt->opcode == IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY &&
	       payload_size(pkt) == 0;
}
