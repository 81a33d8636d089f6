// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: responder side of FLUSH, ATOMIC WRITE and VERIFY.
 *
 * rxe_resp.c calls rxe_flush_resp_check() where it checks the R_Key of
 * other requests, rxe_flush_resp_execute() where it executes them, and
 * rxe_flush_resp_ack_*() to build the RDMA READ RESPONSE ONLY that
 * acknowledges them, for a new request and for a duplicate alike.  A
 * request that fails a check never reaches execution, so memory is left as
 * it was; rxe_resp.c answers with the NAK that goes with the errno
 * (rxe_flush.h).  VERIFY's own checks and hash are in rxe_flush_verify.c.
 *
 * A FLUSH or VERIFY of more than RXE_FLUSH_STEP_BYTES is done a step at a
 * time: the responder runs in softirq, and a peer's 2 GiB VERIFY must not
 * hold the CPU for seconds.  Between two steps the request's resource keeps
 * how far it got, and the packet stays at the head of the QP's queue, so
 * later requests of the QP wait for it.
 */

#include <asm/barrier.h>

#include "rxe.h"
#include "rxe_flush.h"

int rxe_flush_type_access(u32 type)
{
	int access = 0;

	if (type & RXE_FLUSH_TYPE_GLOBAL)
		access |= RXE_FLUSH_ACCESS_FLUSH_GLOBAL;
	if (type & RXE_FLUSH_TYPE_PERSISTENT)
		access |= RXE_FLUSH_ACCESS_FLUSH_PERSISTENT;
	return access;
}

/* the QP's own access flags, as for RDMA READ/WRITE and atomics */
bool rxe_flush_resp_qp_access_ok(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	int need;

	switch (pkt->opcode) {
	case RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE:
		need = IB_ACCESS_REMOTE_WRITE;
		break;
	case RXE_FLUSH_OPCODE_RC_VERIFY:
		/* VERIFY reads the range; flush-and-verify flushes it first */
		need = IB_ACCESS_REMOTE_READ |
		       rxe_flush_type_access(rxe_flush_veth_type(pkt));
		break;
	default:
		need = rxe_flush_type_access(rxe_flush_feth_type(pkt));
	}

	return (qp->attr.qp_access_flags & need) == need;
}

/* the packet on its own: IBA 1.5 oA19-2, FETH, oA19-28 */
static int rxe_flush_check_packet(struct rxe_pkt_info *pkt, int *access)
{
	u32 type;

	if (pkt->opcode == RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE) {
		if (reth_len(pkt) != RXE_FLUSH_ATOMIC_WRITE_BYTES ||
		    payload_size(pkt) != RXE_FLUSH_ATOMIC_WRITE_BYTES ||
		    bth_pad(pkt) ||
		    !IS_ALIGNED(reth_va(pkt), RXE_FLUSH_ATOMIC_WRITE_BYTES))
			return -EINVAL;
		*access = IB_ACCESS_REMOTE_WRITE;
		return 0;
	}

	type = rxe_flush_feth_type(pkt);
	if (payload_size(pkt) || bth_pad(pkt) || rxe_flush_feth_rsvd(pkt) ||
	    !type || (type & ~RXE_FLUSH_FETH_TYPE_VALID) ||
	    rxe_flush_feth_sel(pkt) > RXE_FLUSH_LEVEL_MR ||
	    reth_len(pkt) > S32_MAX)
		return -EINVAL;

	*access = rxe_flush_type_access(type);
	return 0;
}

/*
 * the R_Key names an MR (or, for anything but FLUSH, an MW) with all of
 * access; *offset is the MW's into a zero-based MR
 */
struct rxe_mr *rxe_flush_resp_lookup(struct rxe_qp *qp, int access, u32 rkey,
				     u64 *offset)
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

/* the request's MR (its reference goes with it) and range, for execution */
void rxe_flush_resp_set(struct rxe_qp *qp, struct rxe_mr *mr, u64 va,
			u64 offset, u32 rkey, u32 len)
{
	WARN_ON_ONCE(qp->resp.mr);
	qp->resp.mr = mr;
	qp->resp.va = va;
	qp->resp.offset = offset;
	qp->resp.rkey = rkey;
	qp->resp.resid = len;
	qp->resp.length = len;
}

int rxe_flush_resp_check(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	bool whole_mr = false;
	struct rxe_mr *mr;
	u64 va, offset;
	int access;
	u32 len;
	int err;

	if (pkt->opcode == RXE_FLUSH_OPCODE_RC_VERIFY)
		return rxe_flush_verify_check(qp, pkt);

	rxe_counter_inc(rxe, pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH ?
			     RXE_CNT_FLUSH_RCVD : RXE_CNT_ATOMIC_WRITE_RCVD);

	err = rxe_flush_check_packet(pkt, &access);
	if (err)
		return err;

	va = reth_va(pkt);
	len = reth_len(pkt);

	/* even a zero-length FLUSH validates its R_Key (oA19-13) */
	mr = rxe_flush_resp_lookup(qp, access, reth_rkey(pkt), &offset);
	if (!mr)
		return -EACCES;
	if ((mr->access & access) != access)
		goto err_access;

	if (pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH &&
	    rxe_flush_feth_sel(pkt) == RXE_FLUSH_LEVEL_MR) {
		whole_mr = true;
		va = mr->ibmr.iova;
		len = mr->ibmr.length;
	}

	if (!whole_mr && len && mr_check_range(mr, va + offset, len))
		goto err_access;
	if (!rxe_flush_domain_range_ok(mr, va + (whole_mr ? 0 : offset), len)) {
		rxe_put(mr);
		return -EBADMSG;
	}

	rxe_flush_resp_set(qp, mr, va, whole_mr ? 0 : offset, reth_rkey(pkt),
			   len);
	return 0;

err_access:
	rxe_put(mr);
	return -EACCES;
}

static int rxe_flush_atomic_write(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_mr *mr = qp->resp.mr;
	u64 *dst;
	u64 val;

	dst = iova_to_vaddr(mr, qp->resp.va + qp->resp.offset, sizeof(val));
	if (!dst)
		return -EACCES;
	if (!IS_ALIGNED((uintptr_t)dst, sizeof(val)))
		return -EINVAL;

	memcpy(&val, payload_addr(pkt), sizeof(val));
	rxe_flush_domain_write(mr, qp->resp.va + qp->resp.offset, sizeof(val));
	/* the 8 bytes as they came, stored at once; release orders every
	 * earlier write of this QP before them
	 */
	smp_store_release(dst, val);
	rxe_flush_domain_stored(mr, qp->resp.va + qp->resp.offset, sizeof(val));
	return 0;
}

/*
 * FLUSH [resp.va + resp.offset, + len) to type, a step at a time;
 * -EINPROGRESS until the last.  Also flush-and-verify's first part.
 */
int rxe_flush_resp_flush(struct rxe_qp *qp, u32 type, u64 len,
			 struct rxe_flush_ack *ack)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	struct rxe_mr *mr = qp->resp.mr;
	u64 n;
	int err;

	if (mr->state != RXE_MR_STATE_VALID)
		return -EACCES;

	if ((type & RXE_FLUSH_TYPE_PERSISTENT) && len) {
		n = min_t(u64, len - ack->done, RXE_FLUSH_STEP_BYTES);
		err = rxe_flush_persist(rxe, mr, qp->resp.va + qp->resp.offset +
					ack->done, n, ack->done + n == len);
		if (err)
			return err;
		ack->done += n;
		if (ack->done < len)
			return -EINPROGRESS;
	}

	/* global visibility: every earlier write of this QP is visible
	 * before the acknowledgment is sent
	 */
	smp_mb();

	atomic64_add(len, &rxe->stats_counters[RXE_CNT_FLUSH_BYTES]);
	return 0;
}

static int rxe_flush_execute_flush(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
				   struct rxe_flush_ack *ack)
{
	u64 len = qp->resp.length;

	/* a whole MR may be longer than the 32 bits of resp.length */
	if (rxe_flush_feth_sel(pkt) == RXE_FLUSH_LEVEL_MR)
		len = qp->resp.mr->ibmr.length;
	return rxe_flush_resp_flush(qp, rxe_flush_feth_type(pkt), len, ack);
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
	rxe_sched_task(&qp->resp.task);
}

/*
 * In QP order, after rxe_flush_resp_check(); res is the request's own, and
 * the QP's current resource already if an earlier step paused it.
 */
int rxe_flush_resp_execute(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			   struct resp_res *res)
{
	struct rxe_flush_ack *ack = &res->flush_ack;
	bool first = qp->resp.res != res;
	int err;

	if (first) {
		ack->len = 0;
		ack->done = 0;
	}
	switch (pkt->opcode) {
	case RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE:
		err = rxe_flush_atomic_write(qp, pkt);
		break;
	case RXE_FLUSH_OPCODE_RC_VERIFY:
		err = rxe_flush_verify_execute(qp, pkt, ack, first);
		break;
	default:
		err = rxe_flush_execute_flush(qp, pkt, ack);
	}
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
	return res ? res->flush_ack.len : 0;
}

void rxe_flush_resp_ack_payload(const struct resp_res *res,
				struct rxe_pkt_info *ack)
{
	u32 len = rxe_flush_resp_ack_len(res);

	if (len)
		memcpy(payload_addr(ack), res->flush_ack.bytes, len);
}
