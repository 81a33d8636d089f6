// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: responder side of FLUSH, ATOMIC WRITE and VERIFY.
 *
 * rxe_resp.c calls rxe_flush_resp_check() where it checks the R_Key of
 * other requests, rxe_flush_resp_execute() where it executes them, and
 * rxe_flush_resp_ack_*() to build the RDMA READ RESPONSE ONLY that
 * acknowledges them, for a new request and for a duplicate alike.
 *
 * The three requests are driven by one table, rxe_flush_resp_ops[]: what
 * each asks of the QP and of its R_Key, how its packet is checked on its
 * own, and the steps of its execution.  Every request then goes through
 * the same target lookup (rxe_flush_target_get(): R_Key, access, range,
 * poison, reference), so a request that fails a check never reaches
 * execution and memory is left as it was; rxe_resp.c answers with the NAK
 * that goes with the errno (rxe_flush.h).  VERIFY's hashes are in
 * rxe_flush_hash.c, which this file calls and which calls nothing back.
 *
 * A VERIFY's digest tells what a READ of its range would, and a short
 * range's digest is easily inverted (a byte's CRC32C is one of 256): an
 * R_Key without remote read (an MR whose persistence domain grants VERIFY
 * by algorithm) may only compare, and only whole, aligned 4 KiB blocks,
 * whose match a peer cannot guess a byte at a time.
 *
 * A duplicate is answered from the request's resource only if it states
 * the same request (struct rxe_flush_req_id): else a forged packet that
 * took the PSN first would make the real request's answer.
 *
 * A FLUSH or VERIFY of more than RXE_FLUSH_STEP_BYTES is done a step at a
 * time: the responder runs in softirq, and a peer's 2 GiB VERIFY must not
 * hold the CPU for seconds.  Between two steps the request's resource keeps
 * its execution (struct rxe_flush_exec), and the packet stays at the head
 * of the QP's queue, so later requests of the QP wait for it.
 */

#include <asm/barrier.h>

#include "rxe.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"
#include "rxe_flush_hdr.h"

/* what a request asks of its R_Key, from its headers alone */
struct rxe_flush_target {
	u32 rkey;
	u64 va;
	u32 len;
	int access;		/* what the R_Key (MR or MW) must grant */
	int mr_access;		/* what the MR itself must carry */
	u32 verify_alg_bit;	/* VERIFY: an MR's domain grants by algorithm */
	bool verify_compare;	/* VERIFY: compare mode, no digest returned */
	bool whole_mr;		/* FLUSH of the whole MR: RETH VA/length unused */
};

struct rxe_flush_resp_op {
	u8 opcode;
	enum rxe_counters rcvd;
	/* the access the QP and the R_Key need, from the headers */
	int (*access)(struct rxe_pkt_info *pkt);
	/* the FETH or VETH word (NULL: none) */
	u32 (*ext)(struct rxe_pkt_info *pkt);
	/* the packet on its own: -EINVAL, or what it asks of the R_Key */
	int (*parse)(struct rxe_pkt_info *pkt, struct rxe_flush_target *t);
	/* once, before the first step (may be NULL) */
	void (*start)(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
		      struct rxe_flush_exec *x);
	/* one step, in QP order: -EINPROGRESS until the last */
	int (*step)(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
		    struct rxe_flush_exec *x);
};

static int rxe_flush_type_access(u32 type)
{
	int access = 0;

	if (type & RXE_FLUSH_TYPE_GLOBAL)
		access |= RXE_FLUSH_ACCESS_FLUSH_GLOBAL;
	if (type & RXE_FLUSH_TYPE_PERSISTENT)
		access |= RXE_FLUSH_ACCESS_FLUSH_PERSISTENT;
	return access;
}

/*
 * FLUSH [x->iova, + x->len) to type, a step at a time; -EINPROGRESS until
 * the last.  Also flush-and-verify's first part.
 */
static int rxe_flush_range(struct rxe_qp *qp, u32 type,
			   struct rxe_flush_exec *x)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u64 n;
	int err;

	if ((type & RXE_FLUSH_TYPE_PERSISTENT) && x->len) {
		n = min_t(u64, x->len - x->done, RXE_FLUSH_STEP_BYTES);
		err = rxe_flush_persist(rxe, qp->resp.mr, x->iova + x->done, n,
					x->done + n == x->len);
		if (err)
			return err;
		x->done += n;
		if (x->done < x->len)
			return -EINPROGRESS;
	}

	/* global visibility: every earlier write of this QP is visible
	 * before the acknowledgment is sent
	 */
	smp_mb();

	atomic64_add(x->len, &rxe->stats_counters[RXE_CNT_FLUSH_BYTES]);
	return 0;
}

/*
 * A payload of want bytes, plain or sealed (with a keyed packet's trailer):
 * which of the two the MR takes is known once the R_Key is looked up
 * (rxe_flush_seal_flush_ops()).
 */
static bool rxe_flush_payload_fits(struct rxe_pkt_info *pkt, u32 want)
{
	u32 n = payload_size(pkt);

	return n == want || (want && n == want + RXE_FLUSH_SEAL_LEN);
}

/* FLUSH: IBA 1.5 oA19-2, FETH */

static int rxe_flush_access(struct rxe_pkt_info *pkt)
{
	return rxe_flush_type_access(rxe_flush_feth_type(pkt));
}

static int rxe_flush_parse(struct rxe_pkt_info *pkt, struct rxe_flush_target *t)
{
	u32 type = rxe_flush_feth_type(pkt);

	if (payload_size(pkt) || bth_pad(pkt) || rxe_flush_feth_rsvd(pkt) ||
	    !type || (type & ~RXE_FLUSH_FETH_TYPE_VALID) ||
	    rxe_flush_feth_sel(pkt) > RXE_FLUSH_LEVEL_MR ||
	    t->len > S32_MAX)
		return -EINVAL;

	/* flush access is an MR's own: never a memory window's */
	t->mr_access = t->access;
	t->whole_mr = rxe_flush_feth_sel(pkt) == RXE_FLUSH_LEVEL_MR;
	return 0;
}

/* a whole MR may be longer than the 32 bits of resp.length */
static void rxe_flush_start(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			    struct rxe_flush_exec *x)
{
	if (rxe_flush_feth_sel(pkt) == RXE_FLUSH_LEVEL_MR)
		x->len = qp->resp.mr->ibmr.length;
}

static int rxe_flush_step(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			  struct rxe_flush_exec *x)
{
	return rxe_flush_range(qp, rxe_flush_feth_type(pkt), x);
}

/* ATOMIC WRITE: IBA 1.5 oA19-28 */

static int rxe_flush_atomic_write_access(struct rxe_pkt_info *pkt)
{
	return IB_ACCESS_REMOTE_WRITE;
}

static int rxe_flush_atomic_write_parse(struct rxe_pkt_info *pkt,
					struct rxe_flush_target *t)
{
	if (t->len != RXE_FLUSH_ATOMIC_WRITE_BYTES ||
	    !rxe_flush_payload_fits(pkt, RXE_FLUSH_ATOMIC_WRITE_BYTES) ||
	    bth_pad(pkt) || !IS_ALIGNED(t->va, RXE_FLUSH_ATOMIC_WRITE_BYTES))
		return -EINVAL;

	t->mr_access = IB_ACCESS_REMOTE_WRITE;
	return 0;
}

static int rxe_flush_atomic_write_step(struct rxe_qp *qp,
				       struct rxe_pkt_info *pkt,
				       struct rxe_flush_exec *x)
{
	struct rxe_mr *mr = qp->resp.mr;
	u64 len = sizeof(u64);
	u64 *dst;
	u64 val;

	dst = rxe_flush_mr_map(mr, x->iova, &len);
	if (!dst)
		return -EACCES;
	if (!IS_ALIGNED((uintptr_t)dst, sizeof(val))) {
		rxe_flush_mr_unmap(dst);
		return -EINVAL;
	}

	memcpy(&val, payload_addr(pkt), sizeof(val));
	rxe_flush_domain_write(mr, x->iova, sizeof(val));
	/* the 8 bytes as they came, stored at once; release orders every
	 * earlier write of this QP before them
	 */
	smp_store_release(dst, val);
	rxe_flush_mr_unmap(dst);
	rxe_flush_domain_stored(mr, x->iova, sizeof(val));
	return 0;
}

/* VERIFY (rxe_flush_hdr.h): flush-and-verify flushes the range first */

static int rxe_flush_verify_access(struct rxe_pkt_info *pkt)
{
	return IB_ACCESS_REMOTE_READ |
	       rxe_flush_type_access(rxe_flush_veth_type(pkt));
}

static int rxe_flush_verify_parse(struct rxe_pkt_info *pkt,
				  struct rxe_flush_target *t)
{
	u32 alg = rxe_flush_veth_alg(pkt);
	unsigned int size = rxe_flush_digest_len(alg);
	u32 type = rxe_flush_veth_type(pkt);

	if (!size || rxe_flush_veth_rsvd(pkt) || bth_pad(pkt) ||
	    (type & ~RXE_FLUSH_FETH_TYPE_VALID) ||
	    !rxe_flush_payload_fits(pkt,
				    rxe_flush_veth_compare(pkt) ? size : 0) ||
	    t->len > S32_MAX)
		return -EINVAL;

	/*
	 * A digest tells no more than a READ (draft-talpey-rdma-commit 2.4):
	 * remote read access, or, for an MR with a persistence domain, its
	 * owner's word for the algorithm.  Flush access as for a FLUSH.
	 */
	t->mr_access = rxe_flush_type_access(type);
	t->verify_alg_bit = RXE_FLUSH_VERIFY_ALG_BIT(alg);
	t->verify_compare = rxe_flush_veth_compare(pkt);
	return 0;
}

/* the range is hashed as the persistence domain holds it */
static void rxe_flush_verify_start_hash(struct rxe_qp *qp,
					struct rxe_pkt_info *pkt,
					struct rxe_flush_exec *x)
{
	struct rxe_mr *mr = qp->resp.mr;
	struct rxe_flush_domain *d = rxe_flush_domain_of(mr);

	x->flushed = true;
	x->done = 0;
	rxe_flush_hash_init(&x->hash, rxe_flush_veth_alg(pkt));
	x->image = d && d->ops->verify ?
		   d->ops->verify(d, x->iova - mr->ibmr.iova, x->len) : NULL;
}

static void rxe_flush_verify_start(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
				   struct rxe_flush_exec *x)
{
	/* flush-and-verify is a FLUSH as well */
	if (rxe_flush_veth_type(pkt))
		rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_FLUSH_RCVD);
	else
		rxe_flush_verify_start_hash(qp, pkt, x);
}

static int rxe_flush_verify_step(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
				 struct rxe_flush_exec *x)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	u32 n;
	int err;

	/* flush-and-verify: the range is durable before it is hashed */
	if (!x->flushed) {
		err = rxe_flush_range(qp, rxe_flush_veth_type(pkt), x);
		if (err)
			return err;
		rxe_flush_verify_start_hash(qp, pkt, x);
	}

	n = min_t(u64, x->len - x->done, RXE_FLUSH_STEP_BYTES);
	err = rxe_flush_hash_range(&x->hash, qp->resp.mr,
				   x->image ? x->image + x->done : NULL,
				   x->iova + x->done, n);
	if (err)
		return err;
	x->done += n;
	atomic64_add(n, &rxe->stats_counters[RXE_CNT_VERIFY_BYTES]);
	if (x->done < x->len)
		return -EINPROGRESS;
	x->answer_len = rxe_flush_hash_final(&x->hash, x->answer);

	if (!rxe_flush_veth_compare(pkt))
		return 0;
	if (memcmp(payload_addr(pkt), x->answer, x->answer_len)) {
		rxe_counter_inc(rxe, RXE_CNT_VERIFY_MISMATCH);
		return -EBADMSG;
	}
	/* a match is acknowledged without the digest */
	x->answer_len = 0;
	return 0;
}

static const struct rxe_flush_resp_op rxe_flush_resp_ops[] = {
	{
		.opcode	= RXE_FLUSH_OPCODE_RC_FLUSH,
		.rcvd	= RXE_CNT_FLUSH_RCVD,
		.access	= rxe_flush_access,
		.ext	= rxe_flush_feth,
		.parse	= rxe_flush_parse,
		.start	= rxe_flush_start,
		.step	= rxe_flush_step,
	},
	{
		.opcode	= RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE,
		.rcvd	= RXE_CNT_ATOMIC_WRITE_RCVD,
		.access	= rxe_flush_atomic_write_access,
		.parse	= rxe_flush_atomic_write_parse,
		.step	= rxe_flush_atomic_write_step,
	},
	{
		.opcode	= RXE_FLUSH_OPCODE_RC_VERIFY,
		.rcvd	= RXE_CNT_VERIFY_RCVD,
		.access	= rxe_flush_verify_access,
		.ext	= rxe_flush_veth,
		.parse	= rxe_flush_verify_parse,
		.start	= rxe_flush_verify_start,
		.step	= rxe_flush_verify_step,
	},
};

static const struct rxe_flush_resp_op *rxe_flush_resp_op(struct rxe_pkt_info *pkt)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rxe_flush_resp_ops); i++)
		if (rxe_flush_resp_ops[i].opcode == pkt->opcode)
			return &rxe_flush_resp_ops[i];
	return NULL;
}

/* the QP's own access flags, as for RDMA READ/WRITE and atomics */
bool rxe_flush_resp_qp_access_ok(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	const struct rxe_flush_resp_op *op = rxe_flush_resp_op(pkt);
	int need;

	if (!op)
		return false;
	need = op->access(pkt);
	return (qp->attr.qp_access_flags & need) == need;
}

/*
 * The R_Key names an MR, or (without flush access) an MW, that grants
 * access; *offset is the MW's into a zero-based MR.  The MR comes with a
 * reference.
 */
static struct rxe_mr *rxe_flush_key_lookup(struct rxe_qp *qp, int access,
					   u32 rkey, u64 *offset)
{
	struct rxe_mr *mr;
	struct rxe_mw *mw;

	*offset = 0;
	if (!rkey_is_mw(rkey))
		return lookup_mr(qp->pd, access, rkey, RXE_LOOKUP_REMOTE);

	/* memory windows carry no flush access in 6.1 */
	if (access & RXE_FLUSH_ACCESS_FLUSH)
		return NULL;

	mw = rxe_lookup_mw(qp, access, rkey);
	if (!mw)
		return NULL;
	mr = mw->mr;
	if (mr) {
		if (mw->access & IB_ZERO_BASED)
			*offset = mw->addr;
		rxe_get(mr);
	}
	rxe_put(mw);
	return mr;
}

/*
 * A VERIFY by an R_Key without remote read: compare mode, over a nonzero
 * number of 4 KiB blocks from a 4 KiB offset into the MR, in the MR.
 */
static bool rxe_flush_verify_blind_ok(struct rxe_mr *mr,
				      const struct rxe_flush_target *t)
{
	return t->verify_compare && t->len >= SZ_4K &&
	       IS_ALIGNED(t->len, SZ_4K) && t->va >= mr->ibmr.iova &&
	       IS_ALIGNED(t->va - mr->ibmr.iova, SZ_4K);
}

/*
 * The one lookup of a request's target: the R_Key grants t->access, the
 * MR itself carries t->mr_access, the range lies in the MR, and the MR's
 * owner does not know it to be poisoned.  For an MR with a persistence
 * domain, whether a VERIFY may read is its owner's word alone, and its
 * R_Key then needs no remote read: such a VERIFY only compares, whole
 * 4 KiB blocks of the MR (rxe_flush_verify_blind_ok()).  On success the MR (its reference goes
 * with it) and the range are the QP's resp.* for execution.
 */
static int rxe_flush_target_get(struct rxe_qp *qp,
				const struct rxe_flush_target *t)
{
	struct rxe_flush_domain *d;
	u64 va = t->va, len = t->len;
	struct rxe_mr *mr;
	bool by_key;
	u64 offset;
	int err = -EACCES;

	/* even a zero-length FLUSH validates its R_Key (oA19-13) */
	mr = rxe_flush_key_lookup(qp, t->access, t->rkey, &offset);
	by_key = mr;
	if (!mr && t->verify_alg_bit && !rkey_is_mw(t->rkey))
		mr = lookup_mr(qp->pd, t->access & ~IB_ACCESS_REMOTE_READ,
			       t->rkey, RXE_LOOKUP_REMOTE);
	if (!mr)
		return -EACCES;

	d = rxe_flush_domain_of(mr);
	if (t->verify_alg_bit &&
	    !(d ? d->verify_algs & t->verify_alg_bit : by_key))
		goto err;
	if (t->verify_alg_bit && !by_key && !rxe_flush_verify_blind_ok(mr, t))
		goto err;
	if ((mr->access & t->mr_access) != t->mr_access)
		goto err;

	if (t->whole_mr) {
		/* 64 bits, as the poison check below takes it */
		va = mr->ibmr.iova;
		len = mr->ibmr.length;
	} else if (len && mr_check_range(mr, va + offset, len)) {
		goto err;
	}
	if (!rxe_flush_domain_range_ok(mr, va + offset, len)) {
		err = -EBADMSG;
		goto err;
	}

	WARN_ON_ONCE(qp->resp.mr);
	qp->resp.mr = mr;
	qp->resp.va = va;
	qp->resp.offset = offset;
	qp->resp.rkey = t->rkey;
	/*
	 * The RETH's 32-bit length: a whole MR's 64-bit one is not kept in
	 * resp.length but read from the MR at execution (rxe_flush_start())
	 */
	qp->resp.resid = t->len;
	qp->resp.length = t->len;
	return 0;

err:
	rxe_put(mr);
	return err;
}

int rxe_flush_resp_check(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	const struct rxe_flush_resp_op *op = rxe_flush_resp_op(pkt);
	struct rxe_flush_target t = {};
	int err;

	if (!op)
		return -EINVAL;
	t.rkey = reth_rkey(pkt);
	t.va = reth_va(pkt);
	t.len = reth_len(pkt);
	t.access = op->access(pkt);
	err = op->parse(pkt, &t);
	if (err)
		return err;
	return rxe_flush_target_get(qp, &t);
}

/* the request is done: the next PSN is expected, res answers duplicates */
static void rxe_flush_resp_done(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
				struct resp_res *res)
{
	qp->resp.res = res;
	qp->resp.msn++;
	qp->resp.psn = (pkt->psn + 1) & BTH_PSN_MASK;
	qp->resp.ack_psn = qp->resp.psn;
	qp->resp.opcode = pkt->opcode;
	qp->resp.status = IB_WC_SUCCESS;
}

/*
 * A step is done: res stays the QP's current resource, so that the
 * responder, run again, gives it back with the same packet; later requests
 * wait behind that packet meanwhile.
 */
static void rxe_flush_resp_pause(struct rxe_qp *qp, struct resp_res *res)
{
	qp->resp.res = res;
	rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_FLUSH_VERIFY_STEPS);
	rxe_sched_task(rxe_flush_resp_task(qp));
	rxe_flush_resp_yield();
}

/*
 * The request pkt states, into id; false if it cannot be one that was
 * executed (a payload longer than any request's).
 */
static bool rxe_flush_req_id_get(const struct rxe_flush_resp_op *op,
				 struct rxe_pkt_info *pkt,
				 struct rxe_flush_req_id *id)
{
	u32 n = payload_size(pkt);

	if (n > sizeof(id->payload))
		return false;
	memset(id, 0, sizeof(*id));
	id->va = reth_va(pkt);
	id->rkey = reth_rkey(pkt);
	id->len = reth_len(pkt);
	id->ext = op->ext ? op->ext(pkt) : 0;
	id->payload_len = n;
	memcpy(id->payload, payload_addr(pkt), n);
	return true;
}

bool rxe_flush_resp_dup_matches(const struct resp_res *res,
				struct rxe_pkt_info *pkt)
{
	const struct rxe_flush_resp_op *op = rxe_flush_resp_op(pkt);
	struct rxe_flush_req_id id;

	return op && res->type == (pkt->mask & RXE_FLUSH_OPS_MASK) &&
	       rxe_flush_req_id_get(op, pkt, &id) &&
	       !memcmp(&id, &res->flush_exec.req, sizeof(id));
}

/*
 * In QP order, after rxe_flush_resp_check(); res is the request's own, and
 * the QP's current resource already if an earlier step paused it.  A
 * request counts as received once, when it starts executing.
 */
int rxe_flush_resp_execute(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			   struct resp_res *res)
{
	const struct rxe_flush_resp_op *op = rxe_flush_resp_op(pkt);
	struct rxe_flush_exec *x = &res->flush_exec;
	int err;

	if (!op)
		return -EINVAL;
	if (qp->resp.res != res) {
		memset(x, 0, sizeof(*x));
		/* checked by rxe_flush_resp_check(): it fits */
		rxe_flush_req_id_get(op, pkt, &x->req);
		x->iova = qp->resp.va + qp->resp.offset;
		x->len = qp->resp.length;
		rxe_counter_inc(to_rdev(qp->ibqp.device), op->rcvd);
		if (op->start)
			op->start(qp, pkt, x);
	}
	/* an MR invalidated since the check, or between two steps */
	if (qp->resp.mr->state != RXE_MR_STATE_VALID)
		err = -EACCES;
	/* a range poisoned (or an owner without power) since then: the
	 * check's NAK, not what the step would make of it
	 */
	else if (!rxe_flush_domain_range_ok(qp->resp.mr, x->iova, x->len))
		err = -EBADMSG;
	else
		err = op->step(qp, pkt, x);
	if (err == -EINPROGRESS) {
		rxe_flush_resp_pause(qp, res);
		return err;
	}
	if (err) {
		qp->resp.res = NULL;
		return err;
	}
	rxe_flush_resp_done(qp, pkt, res);
	return 0;
}

/* the acknowledgment's payload: empty, or a VERIFY's digest */
u32 rxe_flush_resp_ack_len(const struct resp_res *res)
{
	return res ? res->flush_exec.answer_len : 0;
}

void rxe_flush_resp_ack_payload(const struct resp_res *res,
				struct rxe_pkt_info *ack)
{
	u32 len = rxe_flush_resp_ack_len(res);

	if (len)
		memcpy(payload_addr(ack), res->flush_exec.answer, len);
}
