// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: VERIFY (rxe_flush_hdr.h has the wire format, the uapi header
 * the ibv_post_send() convention).
 *
 * Requester: the WQE keeps the request in wr.atomic: remote_addr, rkey, the
 * range length in compare_add and the VETH word in swap; its sg_list (or
 * inline data) is the digest: sent with RXE_FLUSH_VERIFY_COMPARE, written
 * by the completer from the READ RESPONSE otherwise, like an RDMA READ.
 *
 * Responder: VERIFY takes a responder resource like FLUSH; the digest is
 * kept in it, so a duplicate is answered with the same digest and never
 * hashed again.  The range is hashed as the persistence domain holds it:
 * an MR's domain may hand over its own image of the range (pmem_rdma's
 * emulated persistence domain), otherwise the MR's memory is hashed.
 */

#include <linux/crc32.h>
#include <linux/string.h>
#include <asm/unaligned.h>
#include <crypto/sha2.h>

#include "rxe.h"
#include "rxe_flush.h"

struct rxe_flush_hash {
	u32 alg;
	u32 crc;
	struct sha256_state sha;
};

/* the digest size of an algorithm, 0 for an unknown one */
static unsigned int rxe_flush_verify_digest_len(u32 alg)
{
	switch (alg) {
	case RXE_FLUSH_VERIFY_ALG_CRC32C:
		return RXE_FLUSH_VERIFY_CRC32C_BYTES;
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		return RXE_FLUSH_VERIFY_SHA256_BYTES;
	default:
		return 0;
	}
}

static void rxe_flush_hash_init(struct rxe_flush_hash *h, u32 alg)
{
	h->alg = alg;
	if (alg == RXE_FLUSH_VERIFY_ALG_SHA256)
		sha256_init(&h->sha);
	else
		h->crc = ~0U;
}

static void rxe_flush_hash_update(void *addr, size_t len, void *ctx)
{
	struct rxe_flush_hash *h = ctx;

	if (h->alg == RXE_FLUSH_VERIFY_ALG_SHA256) {
		/* sha256_update() takes an unsigned int length */
		while (len) {
			unsigned int n = min_t(size_t, len, SZ_1G);

			sha256_update(&h->sha, addr, n);
			addr += n;
			len -= n;
		}
	} else {
		h->crc = __crc32c_le(h->crc, addr, len);
	}
}

static void rxe_flush_hash_final(struct rxe_flush_hash *h,
				 struct rxe_flush_digest *digest)
{
	digest->len = rxe_flush_verify_digest_len(h->alg);
	if (h->alg == RXE_FLUSH_VERIFY_ALG_SHA256)
		sha256_final(&h->sha, digest->bytes);
	else
		put_unaligned_be32(~h->crc, digest->bytes);
}

static u32 rxe_flush_verify_word(const struct rxe_send_wqe *wqe)
{
	return lower_32_bits(wqe->wr.wr.atomic.swap);
}

static struct rxe_flush_veth *rxe_flush_veth_of(struct rxe_pkt_info *pkt)
{
	return (struct rxe_flush_veth *)(pkt->hdr +
					 rxe_opcode[pkt->opcode].offset[RXE_VETH]);
}

/* after rxe's init_req_packet() built BTH and RETH */
void rxe_flush_verify_req_headers(struct rxe_pkt_info *pkt,
				  struct rxe_send_wqe *wqe)
{
	rxe_flush_veth_of(pkt)->bits = cpu_to_be32(rxe_flush_verify_word(wqe));
	reth_set_rkey(pkt, wqe->wr.wr.atomic.rkey);
	reth_set_len(pkt, lower_32_bits(wqe->wr.wr.atomic.compare_add));
	rxe_counter_inc(pkt->rxe, RXE_CNT_VERIFY_SENT);
}

/* only a comparing VERIFY carries data: the expected digest */
u32 rxe_flush_verify_req_payload_len(struct rxe_send_wqe *wqe)
{
	if (rxe_flush_verify_word(wqe) & RXE_FLUSH_VERIFY_COMPARE)
		return wqe->dma.resid;
	return 0;
}

/*
 * The digest buffer must be exactly the size of the algorithm's digest, and
 * the range length must fit RETH.  An unknown algorithm is sent as it is,
 * for the responder to refuse, with at most a digest's worth of data.
 */
int rxe_flush_verify_req_payload(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
				 struct rxe_pkt_info *pkt, u32 payload)
{
	u32 word = rxe_flush_verify_word(wqe);
	unsigned int size = rxe_flush_verify_digest_len(word &
							RXE_FLUSH_VETH_ALG_MASK);
	int err;

	if (wqe->wr.wr.atomic.compare_add > U32_MAX ||
	    (size && wqe->dma.length != size) ||
	    payload > RXE_FLUSH_DIGEST_MAX)
		return -EINVAL;
	if (!payload)
		return 0;

	if (wqe->wr.send_flags & IB_SEND_INLINE) {
		if (payload != wqe->dma.resid || payload > qp->sq.max_inline)
			return -EINVAL;
		memcpy(payload_addr(pkt), wqe->dma.inline_data, payload);
		wqe->dma.resid = 0;
	} else {
		err = copy_data(qp->pd, 0, &wqe->dma, payload_addr(pkt),
				payload, RXE_FROM_MR_OBJ);
		if (err)
			return err;
	}
	if (bth_pad(pkt))
		memset(payload_addr(pkt) + payload, 0, bth_pad(pkt));
	return 0;
}

static bool rxe_flush_verify_response(const struct rxe_send_wqe *wqe,
				      struct rxe_pkt_info *pkt)
{
	return wqe->wr.opcode == RXE_FLUSH_WR_VERIFY &&
	       pkt->opcode == IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY;
}

/* a comparing VERIFY that matched: a zero-length READ RESPONSE ONLY */
bool rxe_flush_verify_comp_matched(const struct rxe_send_wqe *wqe,
				   struct rxe_pkt_info *pkt)
{
	return rxe_flush_verify_response(wqe, pkt) &&
	       (rxe_flush_verify_word(wqe) & RXE_FLUSH_VERIFY_COMPARE) &&
	       !payload_size(pkt);
}

/* a digest for the WQE's buffer, which it fills exactly */
bool rxe_flush_verify_comp_has_digest(const struct rxe_send_wqe *wqe,
				      struct rxe_pkt_info *pkt)
{
	return rxe_flush_verify_response(wqe, pkt) &&
	       !(rxe_flush_verify_word(wqe) & RXE_FLUSH_VERIFY_COMPARE) &&
	       payload_size(pkt) && payload_size(pkt) == wqe->dma.resid;
}

/*
 * Who may VERIFY: an R_Key with remote read access (a digest tells no more
 * than a READ, draft-talpey-rdma-commit 2.4); for an MR with a persistence
 * domain, its owner alone decides, by algorithm.
 */
int rxe_flush_verify_check(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u32 veth = be32_to_cpu(rxe_flush_veth_of(pkt)->bits);
	u32 alg = veth & RXE_FLUSH_VETH_ALG_MASK;
	unsigned int size = rxe_flush_verify_digest_len(alg);
	struct rxe_flush_domain *d;
	u32 rkey = reth_rkey(pkt);
	u32 len = reth_len(pkt);
	u64 va = reth_va(pkt);
	struct rxe_mr *mr;
	bool may_read;
	u64 offset;

	rxe_counter_inc(rxe, RXE_CNT_VERIFY_RCVD);

	if (!size || (veth & RXE_FLUSH_VETH_RSVD_MASK) || bth_pad(pkt) ||
	    payload_size(pkt) != ((veth & RXE_FLUSH_VETH_COMPARE) ? size : 0) ||
	    len > S32_MAX)
		return -EINVAL;

	mr = rxe_flush_resp_lookup(qp, IB_ACCESS_REMOTE_READ, rkey, &offset);
	may_read = mr;
	if (!mr && !rkey_is_mw(rkey))
		mr = lookup_mr(qp->pd, 0, rkey, RXE_LOOKUP_REMOTE);
	if (!mr)
		return -EACCES;

	d = rxe_flush_domain_of(mr);
	if (d ? !(d->verify_algs & RXE_FLUSH_VERIFY_ALG_BIT(alg)) : !may_read)
		goto err_access;
	if (len && mr_check_range(mr, va + offset, len))
		goto err_access;

	rxe_flush_resp_set(qp, mr, va, offset, rkey, len);
	return 0;

err_access:
	rxe_put(mr);
	return -EACCES;
}

int rxe_flush_verify_execute(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_flush_digest *digest)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u32 veth = be32_to_cpu(rxe_flush_veth_of(pkt)->bits);
	u64 iova = qp->resp.va + qp->resp.offset;
	struct rxe_mr *mr = qp->resp.mr;
	u32 len = qp->resp.length;
	struct rxe_flush_domain *d;
	struct rxe_flush_hash h;
	const void *src = NULL;
	int err;

	if (mr->state != RXE_MR_STATE_VALID)
		return -EACCES;

	rxe_flush_hash_init(&h, veth & RXE_FLUSH_VETH_ALG_MASK);
	d = rxe_flush_domain_of(mr);
	if (d && d->ops->verify)
		src = d->ops->verify(d, iova - mr->ibmr.iova, len);
	if (src) {
		rxe_flush_hash_update((void *)src, len, &h);
	} else {
		err = rxe_flush_mr_walk(mr, iova, len, rxe_flush_hash_update,
					&h);
		if (err)
			return -EACCES;
	}
	rxe_flush_hash_final(&h, digest);
	atomic64_add(len, &rxe->stats_counters[RXE_CNT_VERIFY_BYTES]);

	if (!(veth & RXE_FLUSH_VETH_COMPARE))
		return 0;
	if (memcmp(payload_addr(pkt), digest->bytes, digest->len)) {
		rxe_counter_inc(rxe, RXE_CNT_VERIFY_MISMATCH);
		return -EBADMSG;
	}
	/* a match is acknowledged without the digest */
	digest->len = 0;
	return 0;
}
