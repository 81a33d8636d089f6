// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the responder's VERIFY - who may ask, and the hash
 * (rxe_flush_hdr.h has the wire format, the uapi header the ibv_post_send()
 * convention, rxe_flush_req.c the requester's side).
 *
 * rxe_flush_resp.c dispatches a VERIFY here; a flush-and-verify first
 * makes the range durable with rxe_flush_resp.c's FLUSH, then hashes it.  It takes a responder resource
 * like FLUSH; the digest is kept in it, so a duplicate is answered with the
 * same digest and never hashed again.  The range is hashed as the
 * persistence domain holds it: an MR's domain may hand over its own image
 * of the range (pmem_rdma's emulated persistence domain), otherwise the
 * MR's memory is hashed.
 */

#include <linux/crc32.h>
#include <linux/string.h>
#include <asm/unaligned.h>
#include <crypto/sha2.h>

#include "rxe.h"
#include "rxe_flush.h"

static void rxe_flush_hash_init(struct rxe_flush_hash *h, u32 alg)
{
	h->alg = alg;
	switch (alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_init(&h->sha);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		xxh64_reset(&h->xxh, 0);
		break;
	default:
		h->crc = ~0U;
	}
}

static void rxe_flush_hash_update(void *addr, size_t len, void *ctx)
{
	struct rxe_flush_hash *h = ctx;

	/* len is at most RXE_FLUSH_STEP_BYTES */
	switch (h->alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_update(&h->sha, addr, len);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		xxh64_update(&h->xxh, addr, len);
		break;
	default:
		h->crc = __crc32c_le(h->crc, addr, len);
	}
}

static void rxe_flush_hash_final(struct rxe_flush_hash *h,
				 struct rxe_flush_ack *digest)
{
	digest->len = rxe_flush_digest_len(h->alg);
	switch (h->alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_final(&h->sha, digest->bytes);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		put_unaligned_be64(xxh64_digest(&h->xxh), digest->bytes);
		break;
	default:
		put_unaligned_be32(~h->crc, digest->bytes);
	}
}

/*
 * Who may VERIFY: an R_Key with remote read access (a digest tells no more
 * than a READ, draft-talpey-rdma-commit 2.4); for an MR with a persistence
 * domain, its owner alone decides, by algorithm.
 */
int rxe_flush_verify_check(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u32 alg = rxe_flush_veth_alg(pkt);
	unsigned int size = rxe_flush_digest_len(alg);
	u32 type = rxe_flush_veth_type(pkt);
	int flush_access = rxe_flush_type_access(type);
	struct rxe_flush_domain *d;
	u32 rkey = reth_rkey(pkt);
	u32 len = reth_len(pkt);
	u64 va = reth_va(pkt);
	struct rxe_mr *mr;
	bool may_read;
	u64 offset;

	rxe_counter_inc(rxe, RXE_CNT_VERIFY_RCVD);
	/* flush-and-verify is a FLUSH as well */
	if (type)
		rxe_counter_inc(rxe, RXE_CNT_FLUSH_RCVD);

	if (!size || rxe_flush_veth_rsvd(pkt) || bth_pad(pkt) ||
	    (type & ~RXE_FLUSH_FETH_TYPE_VALID) ||
	    payload_size(pkt) != (rxe_flush_veth_compare(pkt) ? size : 0) ||
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
	/* flush access as for a FLUSH: an MR's own, never a window's */
	if (type && (rkey_is_mw(rkey) ||
		     (mr->access & flush_access) != flush_access))
		goto err_access;
	if (len && mr_check_range(mr, va + offset, len))
		goto err_access;
	if (!rxe_flush_domain_range_ok(mr, va + offset, len)) {
		rxe_put(mr);
		return -EBADMSG;
	}

	rxe_flush_resp_set(qp, mr, va, offset, rkey, len);
	return 0;

err_access:
	rxe_put(mr);
	return -EACCES;
}

/* a step of the range at a time; -EINPROGRESS until the last */
int rxe_flush_verify_execute(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_flush_ack *digest, bool first)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u64 iova = qp->resp.va + qp->resp.offset;
	struct rxe_mr *mr = qp->resp.mr;
	u32 len = qp->resp.length;
	u32 type = rxe_flush_veth_type(pkt);
	struct rxe_flush_domain *d;
	bool start = false;
	u32 n;
	int err;

	if (mr->state != RXE_MR_STATE_VALID)
		return -EACCES;

	if (first) {
		digest->flushed = !type;
		start = digest->flushed;
	}
	/* flush-and-verify: the range is durable before it is hashed */
	if (!digest->flushed) {
		err = rxe_flush_resp_flush(qp, type, len, digest);
		if (err)
			return err;
		digest->flushed = true;
		digest->done = 0;
		start = true;
	}
	if (start) {
		rxe_flush_hash_init(&digest->hash, rxe_flush_veth_alg(pkt));
		d = rxe_flush_domain_of(mr);
		digest->src = d && d->ops->verify ?
			      d->ops->verify(d, iova - mr->ibmr.iova, len) :
			      NULL;
	}

	n = min_t(u32, len - digest->done, RXE_FLUSH_STEP_BYTES);
	if (digest->src) {
		rxe_flush_hash_update((void *)digest->src + digest->done, n,
				      &digest->hash);
	} else {
		err = rxe_flush_mr_walk(mr, iova + digest->done, n,
					rxe_flush_hash_update, &digest->hash);
		if (err)
			return -EACCES;
	}
	digest->done += n;
	atomic64_add(n, &rxe->stats_counters[RXE_CNT_VERIFY_BYTES]);
	if (digest->done < len)
		return -EINPROGRESS;
	rxe_flush_hash_final(&digest->hash, digest);

	if (!rxe_flush_veth_compare(pkt))
		return 0;
	if (memcmp(payload_addr(pkt), digest->bytes, digest->len)) {
		rxe_counter_inc(rxe, RXE_CNT_VERIFY_MISMATCH);
		return -EBADMSG;
	}
	/* a match is acknowledged without the digest */
	digest->len = 0;
	return 0;
}
