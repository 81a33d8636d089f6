// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: requester and completer side of FLUSH, ATOMIC WRITE and
 * VERIFY.
 *
 * The send WQE is what user space (rdma-core's rxe provider) wrote into the
 * shared send queue, with the upstream layout for the first two:
 *   FLUSH         wr.flush {remote_addr, rkey, type, level}, the length in
 *                 dma.length/resid, no data;
 *   ATOMIC WRITE  wr.rdma {remote_addr, rkey}, the data in the WQE's inline
 *                 area (dma.atomic_wr upstream), dma.length/resid = 8;
 *   VERIFY        wr.atomic {remote_addr, rkey}, the range length in
 *                 compare_add and the VETH word in swap; the sg_list (or
 *                 inline data) is the digest: sent with
 *                 RXE_FLUSH_VERIFY_COMPARE, written by the completer from
 *                 the READ RESPONSE otherwise, like RDMA READ data.
 * Lengths other than 8 (ATOMIC WRITE) and unknown algorithms (VERIFY) are
 * sent as posted, so that the responder refuses them on the wire; the WQE
 * is never read beyond its inline area.
 */

#include <linux/stddef.h>

#include "rxe.h"
#include "rxe_flush.h"
#include "rxe_flush_hdr.h"

static struct rxe_flush_send_wr_flush *rxe_flush_wr(struct rxe_send_wqe *wqe)
{
	BUILD_BUG_ON(offsetof(struct rxe_send_wr, wr) != 24);
	BUILD_BUG_ON(sizeof(struct rxe_flush_send_wr_flush) >
		     sizeof(wqe->wr.wr));
	return (struct rxe_flush_send_wr_flush *)&wqe->wr.wr;
}

static bool rxe_flush_verify_compares(const struct rxe_send_wqe *wqe)
{
	return rxe_flush_verify_word(wqe) & RXE_FLUSH_VERIFY_COMPARE;
}

/* the RC opcode of one of our send WR opcodes, else -EINVAL as rxe */
int rxe_flush_req_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case RXE_FLUSH_WR_FLUSH:
		return RXE_FLUSH_OPCODE_RC_FLUSH;
	case RXE_FLUSH_WR_ATOMIC_WRITE:
		return RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE;
	case RXE_FLUSH_WR_VERIFY:
		return RXE_FLUSH_OPCODE_RC_VERIFY;
	default:
		return -EINVAL;
	}
}

/* after rxe's init_req_packet() built BTH and RETH from wr.rdma */
void rxe_flush_req_init_headers(struct rxe_pkt_info *pkt,
				struct rxe_send_wqe *wqe)
{
	struct rxe_flush_send_wr_flush *f;

	switch (pkt->opcode) {
	case RXE_FLUSH_OPCODE_RC_FLUSH:
		f = rxe_flush_wr(wqe);
		rxe_flush_feth_set(pkt, f->type, f->level);
		/* the flush member keeps its rkey 4 bytes after wr.rdma's */
		reth_set_rkey(pkt, f->rkey);
		rxe_counter_inc(pkt->rxe, RXE_CNT_FLUSH_SENT);
		break;
	case RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE:
		rxe_counter_inc(pkt->rxe, RXE_CNT_ATOMIC_WRITE_SENT);
		break;
	case RXE_FLUSH_OPCODE_RC_VERIFY:
		rxe_flush_veth_set(pkt, rxe_flush_verify_word(wqe));
		reth_set_rkey(pkt, wqe->wr.wr.atomic.rkey);
		reth_set_len(pkt, lower_32_bits(wqe->wr.wr.atomic.compare_add));
		rxe_counter_inc(pkt->rxe, RXE_CNT_VERIFY_SENT);
		break;
	}
}

/* the data a request carries: ATOMIC WRITE's, a comparing VERIFY's digest */
u32 rxe_flush_req_payload_len(const struct rxe_send_wqe *wqe)
{
	switch (wqe->wr.opcode) {
	case RXE_FLUSH_WR_ATOMIC_WRITE:
		return wqe->dma.resid;
	case RXE_FLUSH_WR_VERIFY:
		return rxe_flush_verify_compares(wqe) ? wqe->dma.resid : 0;
	default:
		return 0;
	}
}

/* the data of the WQE's inline area into the packet */
static int rxe_flush_req_inline(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
				struct rxe_pkt_info *pkt, u32 payload)
{
	if (payload != wqe->dma.resid || payload > qp->sq.max_inline)
		return -EINVAL;
	memcpy(payload_addr(pkt), wqe->dma.inline_data, payload);
	if (bth_pad(pkt))
		memset(payload_addr(pkt) + payload, 0, bth_pad(pkt));
	wqe->dma.resid = 0;
	return 0;
}

/*
 * A VERIFY's digest buffer must be exactly the size of the algorithm's
 * digest, and the range length must fit RETH.  An unknown algorithm is
 * sent as it is, for the responder to refuse, with at most a digest's
 * worth of data.
 */
static int rxe_flush_verify_payload(struct rxe_qp *qp,
				    struct rxe_send_wqe *wqe,
				    struct rxe_pkt_info *pkt, u32 payload)
{
	u32 alg = rxe_flush_verify_word(wqe) & RXE_FLUSH_VETH_ALG_MASK;
	unsigned int size = rxe_flush_digest_len(alg);
	int err;

	if (wqe->wr.wr.atomic.compare_add > U32_MAX ||
	    (size && wqe->dma.length != size) ||
	    payload > RXE_FLUSH_DIGEST_MAX)
		return -EINVAL;
	if (!payload)
		return 0;
	if (wqe->wr.send_flags & IB_SEND_INLINE)
		return rxe_flush_req_inline(qp, wqe, pkt, payload);

	err = copy_data(qp->pd, 0, &wqe->dma, payload_addr(pkt), payload,
			RXE_FROM_MR_OBJ);
	if (err)
		return err;
	if (bth_pad(pkt))
		memset(payload_addr(pkt) + payload, 0, bth_pad(pkt));
	return 0;
}

/* in place of rxe's payload copy: each request is one packet */
int rxe_flush_req_payload(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			  struct rxe_pkt_info *pkt, u32 payload)
{
	switch (pkt->opcode) {
	case RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE:
		/* the data is in the inline area, whatever the send flags */
		if (payload > qp->mtu)
			return -EINVAL;
		return rxe_flush_req_inline(qp, wqe, pkt, payload);
	case RXE_FLUSH_OPCODE_RC_VERIFY:
		return rxe_flush_verify_payload(qp, wqe, pkt, payload);
	default:
		/* FLUSH: the length went into RETH, no data */
		wqe->dma.resid = 0;
		return 0;
	}
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

/*
 * An RDMA READ RESPONSE ONLY that answers the WQE: zero-length for FLUSH,
 * ATOMIC WRITE and a comparing VERIFY that matched, or a digest that fills
 * a VERIFY's buffer exactly (it lands there like RDMA READ data).
 */
bool rxe_flush_comp_is_ack(const struct rxe_send_wqe *wqe,
			   struct rxe_pkt_info *pkt)
{
	if (pkt->opcode != IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY)
		return false;

	switch (wqe->wr.opcode) {
	case RXE_FLUSH_WR_FLUSH:
	case RXE_FLUSH_WR_ATOMIC_WRITE:
		return !payload_size(pkt);
	case RXE_FLUSH_WR_VERIFY:
		if (rxe_flush_verify_compares(wqe))
			return !payload_size(pkt);
		return payload_size(pkt) && payload_size(pkt) == wqe->dma.resid;
	default:
		return false;
	}
}
