// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the keyed wire - the payloads of keyed MRs sealed with
 * AES-GCM under per-connection subkeys (Documentation/keyed-mrs.rst).
 *
 * A QP is made ready for keyed traffic by two methods of the QP object:
 * QP_KEY_DRAW gives the 16 random bytes it drew, which the upper layer
 * sends its peer; QP_KEY_BIND, once the QP knows its peer (RTR or RTS),
 * takes a data key of the QP's PD and the peer's draw, and derives the
 * four subkeys of the connection: what this QP sends as requester and as
 * responder, and what its peer sends as each.  A QP is bound once, for its
 * life: its transmission counters never go back, so no reconnect of the
 * same QP can use a (subkey, nonce) pair twice.
 *
 * Each of the four streams is used by one of rxe's tasks only (requests
 * sent: the requester; responses sent and requests received: the
 * responder; responses received: the completer), and a task never runs
 * beside itself, so a stream's request, AAD and counter need no lock.
 *
 * A keyed packet is a plain one with a trailer before the ICRC:
 *   ... payload [pad] KCTR (8, big-endian) tag (16) ICRC
 * The receiver knows a packet is keyed from its own MR, takes the trailer
 * off, drops a packet whose counter is not above the last it accepted
 * (a replay), and places nothing whose tag fails.
 *
 * ATOMIC WRITE's value has no MR at the requester: it is keyed by
 * RXE_FLUSH_SEND_KEYED, under the key the QP is bound to.  A VERIFY is
 * keyed by the MRs of its digest buffer, as a READ by its scatter list:
 * a compared digest goes sealed, and the answer comes back sealed - a
 * digest, or for a match a tag alone - so that no one but the responder
 * can say what the range holds.
 */

#include <crypto/aead.h>
#include <crypto/gcm.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <rdma/uverbs_ioctl.h>

#define UVERBS_MODULE_NAME rxe_flush
#include <rdma/uverbs_named_ioctl.h>
#include <rdma/uverbs_std_types.h>

#include "rxe.h"
#include "rxe_loc.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"
#include "rxe_flush_hdr.h"

#define SEAL_CTR_LEN	8
#define SEAL_TAG_LEN	16
#define SEAL_AAD_LEN	36
/* IPv6, UDP, BTH, RETH with ImmDt, ICRC: a WRITE packet's headers at most */
#define SEAL_MAX_HDRS	(40 + 8 + 12 + 20 + 4)
#define SEAL_LABEL	"pmem-rdma keyed MR v1"

/* the two streams of each direction */
enum { SEAL_REQ, SEAL_RESP, SEAL_STREAMS };

struct seal_stream {
	struct rxe_flush_gcm gcm;
	u64 ctr;		/* sent: last used; received: highest taken */
	u8 aad[SEAL_AAD_LEN];
	u8 iv[GCM_AES_IV_SIZE];
	struct scatterlist sg[3];
};

/*
 * What the AAD names besides the BTH, as the sender and the receiver each
 * track it: the message's R_Key, the address of this packet's first byte,
 * the bytes of the message from there on, and the packet's ImmDt or IETH
 * R_Key (a VERIFY's: its VETH word), else 0.
 */
struct seal_msg {
	u32 rkey;
	u64 va;
	u32 resid;
	u32 extra;
};

struct rxe_flush_seal {
	struct rxe_flush_key *key;	/* set, with release, once bound */
	u32 gen;			/* the key's generation then */
	u8 draw[RXE_FLUSH_KEY_DRAW_BYTES];
	struct seal_stream tx[SEAL_STREAMS];
	struct seal_stream rx[SEAL_STREAMS];
};

/* the QP's streams once it is bound, else NULL */
static struct rxe_flush_seal *qp_seal(struct rxe_qp *qp)
{
	/* pairs with the draw's release: the seal is zeroed and drawn */
	struct rxe_flush_seal *seal = smp_load_acquire(&qp->flush_seal);

	/* pairs with the bind's release: the streams are complete */
	return seal && smp_load_acquire(&seal->key) ? seal : NULL;
}

/*
 * A bound QP's packets may carry a trailer, which comes off once the MR
 * they go to is known: rxe's length checks of a packet before that (6.12
 * checks a packet's payload against the path MTU first) leave them be.
 */
bool rxe_flush_seal_qp_bound(struct rxe_qp *qp)
{
	return qp_seal(qp);
}

/*
 * The QP's streams for a packet received into an MR of key: NULL when the
 * QP is not bound to that key, or was bound before the key's last re-key
 * (its subkeys come from bytes the user has replaced).
 */
static struct rxe_flush_seal *qp_seal_rx(struct rxe_qp *qp,
					 struct rxe_flush_key *key)
{
	struct rxe_flush_seal *seal = qp_seal(qp);

	if (!seal || seal->key != key || seal->gen != READ_ONCE(key->gen))
		return NULL;
	return seal;
}

/*
 * The data key of the MRs a work request's buffer lies in (those its
 * gather or scatter list names with a length): NULL when none is keyed,
 * ERR_PTR(-EFAULT) when they are not all of one key.  An lkey that names
 * no MR counts as unkeyed: copy_data() refuses it.
 */
static struct rxe_flush_key *wqe_key(struct rxe_qp *qp,
				     struct rxe_dma_info *dma, u32 max_sge)
{
	struct rxe_flush_key *key = NULL;
	u32 i, n = min_t(u32, dma->num_sge, max_sge);
	struct rxe_mr *mr;
	bool plain = false;

	for (i = 0; i < n; i++) {
		if (!dma->sge[i].length)
			continue;
		mr = lookup_mr(qp->pd, 0, dma->sge[i].lkey, RXE_LOOKUP_LOCAL);
		if (!mr) {
			plain = true;
			continue;
		}
		if (!mr->flush_key)
			plain = true;
		else if (key && key != mr->flush_key)
			plain = true;	/* two keys: refused as mixed */
		else
			key = mr->flush_key;
		rxe_put(mr);
	}
	if (key && plain)
		return ERR_PTR(-EFAULT);
	return key;
}

/* the ImmDt or IETH R_Key of a WRITE, SEND or READ RESPONSE packet, else 0 */
static u32 pkt_extra(struct rxe_pkt_info *pkt)
{
	if (pkt->mask & RXE_IMMDT_MASK)
		return be32_to_cpu(immdt_imm(pkt));
	if (pkt->mask & RXE_IETH_MASK)
		return ieth_rkey(pkt);
	return 0;
}

/*
 * The additional authenticated data: the BTH's opcode, destination QP and
 * PSN, the message (struct seal_msg), and the counter.
 */
static void seal_aad(struct seal_stream *s, struct rxe_pkt_info *pkt,
		     u32 dqpn, const struct seal_msg *m, u64 ctr)
{
	__be32 *w = (__be32 *)s->aad;

	w[0] = cpu_to_be32((u32)pkt->opcode << 24 | (dqpn & BTH_QPN_MASK));
	w[1] = cpu_to_be32(pkt->psn & BTH_PSN_MASK);
	w[2] = cpu_to_be32(m->rkey);
	put_unaligned_be64(m->va, &w[3]);
	w[5] = cpu_to_be32(m->resid);
	w[6] = cpu_to_be32(m->extra);
	put_unaligned_be64(ctr, &w[7]);
	memset(s->iv, 0, 4);
	put_unaligned_be64(ctr, s->iv + 4);
}

/*
 * GCM in place over data, with the tag in the trailer; no data (a VERIFY's
 * match) is a tag over the AAD alone.
 */
static int seal_crypt(struct seal_stream *s, u8 *data, u32 len, u8 *trailer,
		      bool encrypt)
{
	int n = 0;

	sg_init_table(s->sg, len ? 3 : 2);
	sg_set_buf(&s->sg[n++], s->aad, SEAL_AAD_LEN);
	if (len)
		sg_set_buf(&s->sg[n++], data, len);
	sg_set_buf(&s->sg[n], trailer + SEAL_CTR_LEN, SEAL_TAG_LEN);
	return rxe_flush_gcm_crypt(&s->gcm, s->sg, SEAL_AAD_LEN,
				   encrypt ? len : len + SEAL_TAG_LEN, s->iv,
				   encrypt);
}

/*
 * Seal len bytes at data, with the pad (if any) between them and the
 * trailer: the next counter, the AAD, the ciphertext, then KCTR and tag.
 */
static int seal_tx(struct seal_stream *s, struct rxe_pkt_info *pkt,
		   u32 dqpn, const struct seal_msg *m, u8 *data, u32 len)
{
	u8 *trailer = data + len + bth_pad(pkt);

	s->ctr++;
	seal_aad(s, pkt, dqpn, m, s->ctr);
	put_unaligned_be64(s->ctr, trailer);
	return seal_crypt(s, data, len, trailer, true);
}

/*
 * Open a received keyed packet in place: its data made the skb's own (a
 * capture may share it), the tag checked, then the counter against
 * replays, the trailer taken off pkt->paylen.  0, -EBADMSG for a packet
 * that fails, -EALREADY for a genuine one whose counter is not above the
 * last taken (drop it: a replay, or a packet that a retransmission of its
 * PSN overtook, which RC recovers as any lost one).  Only a VERIFY's
 * answer may hold a tag alone (empty_ok).
 */
static int seal_rx(struct seal_stream *s, struct rxe_pkt_info *pkt,
		   u32 dqpn, const struct seal_msg *m, bool empty_ok)
{
	struct sk_buff *skb = PKT_TO_SKB(pkt);
	unsigned int off;
	size_t len;
	u8 *trailer;
	u64 ctr;

	len = payload_size(pkt);
	if (len < RXE_FLUSH_SEAL_LEN + (empty_ok ? 0 : 1))
		return -EBADMSG;
	len -= RXE_FLUSH_SEAL_LEN;
	off = pkt->hdr - skb->head;
	if (skb_unclone(skb, GFP_ATOMIC))
		return -EALREADY;	/* no memory: dropped, sent again */
	pkt->hdr = skb->head + off;
	trailer = payload_addr(pkt) + len + bth_pad(pkt);
	if (trailer + RXE_FLUSH_SEAL_LEN + RXE_ICRC_SIZE >
	    skb_tail_pointer(skb))
		return -EBADMSG;
	ctr = get_unaligned_be64(trailer);
	seal_aad(s, pkt, dqpn, m, ctr);
	if (seal_crypt(s, payload_addr(pkt), len, trailer, false))
		return -EBADMSG;
	/* genuine, but taken before: a replay, or a retransmission's twin */
	if (ctr <= s->ctr)
		return -EALREADY;
	s->ctr = ctr;
	pkt->paylen -= RXE_FLUSH_SEAL_LEN;
	return 0;
}

/* a packet charged to the key, with the packets of its message ahead */
static int seal_charge(struct rxe_qp *qp, struct rxe_flush_seal *seal,
		       u32 resid)
{
	return rxe_flush_key_charge(seal->key, seal->gen,
				    DIV_ROUND_UP((u64)resid, qp->mtu));
}

/* the bytes of a request's message sent or received before this packet */
static u64 wqe_va(struct rxe_send_wqe *wqe, u32 resid)
{
	return wqe->wr.wr.rdma.remote_addr + (wqe->dma.length - resid);
}

/*
 * The data key a FLUSH-family request's payload is sealed with: ATOMIC
 * WRITE's value (in the WQE, no MR) by RXE_FLUSH_SEND_KEYED, under the key
 * the QP is bound to; a compared digest, or the answer of a VERIFY, by the
 * MRs of its buffer (inline data has none).  NULL when plain; an ERR_PTR
 * or a key the QP is not bound to fails the request (rxe_flush_seal_req()).
 */
static struct rxe_flush_key *wqe_op_key(struct rxe_qp *qp,
					struct rxe_send_wqe *wqe)
{
	struct rxe_flush_seal *seal;

	switch (wqe->wr.opcode) {
	case RXE_FLUSH_WR_ATOMIC_WRITE:
		if (!(wqe->wr.send_flags & RXE_FLUSH_SEND_KEYED))
			return NULL;
		seal = qp_seal(qp);
		return seal ? seal->key : ERR_PTR(-EFAULT);
	case RXE_FLUSH_WR_VERIFY:
		if (wqe->wr.send_flags & IB_SEND_INLINE)
			return NULL;
		return wqe_key(qp, &wqe->dma, qp->sq.max_sge);
	}
	return NULL;
}

/* a VERIFY's message, as the requester posted it and the AAD names it */
static void wqe_verify_msg(struct rxe_send_wqe *wqe, struct seal_msg *m)
{
	m->rkey = wqe->wr.wr.atomic.rkey;
	m->va = wqe->wr.wr.atomic.remote_addr;
	m->resid = lower_32_bits(wqe->wr.wr.atomic.compare_add);
	m->extra = rxe_flush_verify_word(wqe);
}

/* a FLUSH-family request's message: its RETH, and a VERIFY's VETH word */
static void pkt_op_msg(struct rxe_pkt_info *pkt, struct seal_msg *m)
{
	m->rkey = reth_rkey(pkt);
	m->va = reth_va(pkt);
	m->resid = reth_len(pkt);
	m->extra = pkt->opcode == RXE_FLUSH_OPCODE_RC_VERIFY ?
		   rxe_flush_veth(pkt) : 0;
}

u32 rxe_flush_seal_req_trailer(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			       u32 mask, u32 payload)
{
	if (!payload)
		return 0;
	if (mask & RXE_FLUSH_OPS_MASK)
		return wqe_op_key(qp, wqe) ? RXE_FLUSH_SEAL_LEN : 0;
	if (!(mask & RXE_WRITE_OR_SEND_MASK) ||
	    (wqe->wr.send_flags & IB_SEND_INLINE))
		return 0;
	return wqe_key(qp, &wqe->dma, qp->sq.max_sge) ? RXE_FLUSH_SEAL_LEN : 0;
}

/* ATOMIC WRITE's value or a compared digest: one packet, charged as one */
static int seal_req_op(struct rxe_qp *qp, struct rxe_flush_seal *seal,
		       struct rxe_send_wqe *wqe, struct rxe_pkt_info *pkt,
		       u32 payload)
{
	struct seal_msg m;
	int err;

	if (!seal || wqe_op_key(qp, wqe) != seal->key)
		return -EFAULT;
	err = rxe_flush_key_charge(seal->key, seal->gen, 1);
	if (err)
		return err;
	pkt_op_msg(pkt, &m);
	return seal_tx(&seal->tx[SEAL_REQ], pkt, qp->attr.dest_qp_num, &m,
		       payload_addr(pkt), payload) ? -EFAULT : 0;
}

int rxe_flush_seal_req(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
		       struct rxe_pkt_info *pkt, u32 payload)
{
	struct rxe_flush_seal *seal;
	struct seal_msg m;
	u32 resid;
	int err;

	if (payload_size(pkt) == payload)
		return 0;			/* no trailer: not keyed */
	seal = qp_seal(qp);
	if (pkt->mask & RXE_FLUSH_OPS_MASK)
		return seal_req_op(qp, seal, wqe, pkt, payload);
	if (!seal || wqe_key(qp, &wqe->dma, qp->sq.max_sge) != seal->key)
		return -EFAULT;
	resid = wqe->dma.resid + payload;	/* before this packet's copy */
	err = seal_charge(qp, seal, resid);
	if (err)
		return err;
	/* a SEND names no R_Key: its packet's offset into the message */
	m = (struct seal_msg){
		.rkey = wqe->wr.wr.rdma.rkey,
		.va = wqe_va(wqe, resid),
		.resid = resid,
		.extra = pkt_extra(pkt),
	};
	if (pkt->mask & RXE_SEND_MASK)
		m = (struct seal_msg){
			.va = wqe->dma.length - resid,
			.extra = pkt_extra(pkt),
		};
	return seal_tx(&seal->tx[SEAL_REQ], pkt, qp->attr.dest_qp_num, &m,
		       payload_addr(pkt), payload) ? -EFAULT : 0;
}

/* 0, -EALREADY for a replay (dropped), -EKEYREJECTED for what fails */
static int open_verdict(int err)
{
	return !err || err == -EALREADY ? err : -EKEYREJECTED;
}

static int resp_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
		     struct rxe_mr *mr)
{
	struct rxe_flush_seal *seal = qp_seal_rx(qp, mr->flush_key);
	struct seal_msg m = {
		.rkey = qp->resp.rkey,
		.va = qp->resp.va,
		.resid = qp->resp.resid,
		.extra = pkt_extra(pkt),
	};

	if (!seal)
		return -EKEYREJECTED;
	return open_verdict(seal_rx(&seal->rx[SEAL_REQ], pkt, qp->ibqp.qp_num,
				    &m, false));
}

/*
 * Every WRITE packet, once its MR is known: a keyed one opened, and then
 * a first packet held to its RETH length, which the guard could hold it
 * to only with the trailer's allowance (-EINVAL).  (A keyed MR has no
 * remote atomic access: rxe_flush_key_reg_mr().)
 */
int rxe_flush_seal_resp_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_mr *mr)
{
	int err;

	if (!(pkt->mask & RXE_WRITE_MASK) || (pkt->mask & RXE_FLUSH_OPS_MASK))
		return 0;
	if (mr->flush_key) {
		err = resp_open(qp, pkt, mr);
		if (err)
			return err;
	}
	return rxe_flush_resp_first_ok(pkt) ? 0 : -EINVAL;
}

/*
 * A SEND packet into the receive buffer of the responder's current receive
 * WQE: opened when its MRs are keyed (they are the QP's PD's, or the
 * SRQ's), with the bytes the WQE has taken so far as the offset.
 */
int rxe_flush_seal_send_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_recv_wqe *wqe = qp->resp.wqe;
	struct rxe_flush_key *key;
	struct rxe_flush_seal *seal;
	struct seal_msg m;
	u32 max_sge;

	if (!wqe)
		return 0;
	max_sge = qp->srq ? qp->srq->rq.max_sge : qp->rq.max_sge;
	key = wqe_key(qp, &wqe->dma, max_sge);
	if (!key)
		return 0;
	/*
	 * Keyed: only over a bound RC QP, and never empty - an empty SEND
	 * would complete a keyed message, or a receive, with no tag.
	 */
	seal = IS_ERR(key) ? NULL : qp_seal_rx(qp, key);
	if (!seal || !payload_size(pkt))
		return -EKEYREJECTED;
	m = (struct seal_msg){
		.va = wqe->dma.length - wqe->dma.resid,
		.extra = pkt_extra(pkt),
	};
	return open_verdict(seal_rx(&seal->rx[SEAL_REQ], pkt, qp->ibqp.qp_num,
				    &m, false));
}

/* the payload of a FLUSH-family request in plaintext: the value, a digest */
static u32 op_plain_len(struct rxe_pkt_info *pkt)
{
	switch (pkt->opcode) {
	case RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE:
		return RXE_FLUSH_ATOMIC_WRITE_BYTES;
	case RXE_FLUSH_OPCODE_RC_VERIFY:
		return rxe_flush_veth_compare(pkt) ?
		       rxe_flush_digest_len(rxe_flush_veth_alg(pkt)) : 0;
	}
	return 0;
}

/*
 * A FLUSH, ATOMIC WRITE or VERIFY whose target rxe_flush_resp_check() has
 * made the QP's resp.mr, its payload plain or sealed by its size alone.
 * A plain MR takes the plain payload only (-EINVAL).  Into a keyed MR
 * nothing goes without a tag: ATOMIC WRITE's value and a compared digest
 * come sealed and are opened here; a VERIFY's answer goes back sealed, so
 * the QP must be bound to the MR's key, and the answer is charged to the
 * key now (past its limit the VERIFY is refused as a READ is).  A FLUSH
 * places nothing.
 */
int rxe_flush_seal_flush_ops(struct rxe_qp *qp, struct rxe_pkt_info *pkt)
{
	struct rxe_mr *mr = qp->resp.mr;
	struct rxe_flush_seal *seal;
	struct seal_msg m;
	int err = 0;

	if (!mr || pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH)
		return 0;
	seal = mr->flush_key ? qp_seal_rx(qp, mr->flush_key) : NULL;
	if (!mr->flush_key) {
		if (payload_size(pkt) != op_plain_len(pkt))
			err = -EINVAL;
	} else if (!seal) {
		err = -EKEYREJECTED;
	} else if (payload_size(pkt)) {
		pkt_op_msg(pkt, &m);
		err = open_verdict(seal_rx(&seal->rx[SEAL_REQ], pkt,
					   qp->ibqp.qp_num, &m, false));
		/* genuine, so it is: a sender sealed what the opcode holds */
		if (!err && payload_size(pkt) != op_plain_len(pkt))
			err = -EKEYREJECTED;
	}
	if (!err && seal && pkt->opcode == RXE_FLUSH_OPCODE_RC_VERIFY &&
	    rxe_flush_key_charge(seal->key, seal->gen, 1))
		err = -EACCES;
	if (err) {
		rxe_put(mr);
		qp->resp.mr = NULL;
	}
	return err;
}

/*
 * A FLUSH-family request executed (res its resource, qp->resp.mr its MR):
 * whether its payload came sealed and its answer goes so, for its answer
 * and its duplicates.
 */
int rxe_flush_seal_executed(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			    struct resp_res *res)
{
	struct rxe_flush_exec *x = &res->flush_exec;
	bool keyed = qp->resp.mr && qp->resp.mr->flush_key;

	x->sealed = keyed && x->req.payload_len;
	x->seal_answer = keyed && pkt->opcode == RXE_FLUSH_OPCODE_RC_VERIFY;
	return 0;
}

/*
 * A duplicate of a request whose payload came sealed: opened as the
 * original was, so that it is compared in plaintext - a retransmission is
 * sealed again under a higher counter - and a replay of a counter already
 * taken is no duplicate (-EALREADY).  0 for a request that came plain.
 */
int rxe_flush_seal_dup_open(struct rxe_qp *qp, struct resp_res *res,
			    struct rxe_pkt_info *pkt)
{
	struct rxe_flush_seal *seal = qp_seal(qp);
	struct seal_msg m;

	if (!res->flush_exec.sealed)
		return 0;
	if (!seal || !qp_seal_rx(qp, seal->key))
		return -EKEYREJECTED;
	pkt_op_msg(pkt, &m);
	return open_verdict(seal_rx(&seal->rx[SEAL_REQ], pkt, qp->ibqp.qp_num,
				    &m, false));
}

/* the trailer of res's answer: a keyed VERIFY's */
u32 rxe_flush_seal_answer_len(const struct resp_res *res)
{
	return res && res->flush_exec.seal_answer ? RXE_FLUSH_SEAL_LEN : 0;
}

/*
 * A keyed VERIFY's answer, its digest (or none, for a match) at the
 * payload of ack and the trailer's room after it: sealed under the
 * responder's stream for the request res executed.  A QP no longer bound
 * to the key (re-keyed since) sends the tag zeroed, which fails.
 */
void rxe_flush_seal_answer(struct rxe_qp *qp, const struct resp_res *res,
			   struct rxe_pkt_info *ack)
{
	const struct rxe_flush_exec *x;
	struct rxe_flush_seal *seal = qp_seal(qp);
	struct seal_msg m;
	u8 *data = payload_addr(ack);

	if (!rxe_flush_seal_answer_len(res))
		return;
	x = &res->flush_exec;
	m = (struct seal_msg){
		.rkey = x->req.rkey, .va = x->req.va, .resid = x->req.len,
		.extra = x->req.ext,
	};
	if (!seal || !qp_seal_rx(qp, seal->key) ||
	    seal_tx(&seal->tx[SEAL_RESP], ack, qp->attr.dest_qp_num, &m,
		    data, x->answer_len))
		memset(data + x->answer_len, 0, RXE_FLUSH_SEAL_LEN);
}

u32 rxe_flush_seal_resp_trailer(struct rxe_mr *mr, u32 payload)
{
	return payload && mr && mr->flush_key ? RXE_FLUSH_SEAL_LEN : 0;
}

int rxe_flush_seal_read_resp(struct rxe_qp *qp, struct rxe_mr *mr,
			     struct resp_res *res, struct rxe_pkt_info *ack,
			     u32 payload)
{
	struct rxe_flush_seal *seal;
	struct seal_msg m = {
		.rkey = res->read.rkey,
		.va = res->read.va,
		.resid = res->read.resid,
	};

	if (!rxe_flush_seal_resp_trailer(mr, payload))
		return 0;
	seal = qp_seal(qp);
	if (!seal || seal->key != mr->flush_key ||
	    seal_charge(qp, seal, res->read.resid))
		return -EACCES;
	return seal_tx(&seal->tx[SEAL_RESP], ack, qp->attr.dest_qp_num, &m,
		       payload_addr(ack), payload) ? -EACCES : 0;
}

/*
 * The completer's rxe_flush_comp_is_ack(), which knows no keys: a keyed
 * VERIFY's answer (its digest buffer keyed) is the plain one with a
 * trailer - for a match, the trailer alone, so that a zero-length answer
 * forged for a keyed VERIFY is none.
 */
bool rxe_flush_seal_comp_is_ack(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
				struct rxe_pkt_info *pkt)
{
	bool compares;

	if (wqe->wr.opcode != RXE_FLUSH_WR_VERIFY || !wqe_op_key(qp, wqe))
		return rxe_flush_comp_is_ack(wqe, pkt);
	if (pkt->opcode != IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY)
		return false;
	compares = rxe_flush_verify_word(wqe) & RXE_FLUSH_VERIFY_COMPARE;
	return payload_size(pkt) ==
	       RXE_FLUSH_SEAL_LEN + (compares ? 0 : wqe->dma.resid);
}

/*
 * A response to open: a READ's data, or a keyed VERIFY's answer (which
 * rxe_flush_comp_is_ack() has held to the digest, or none, and a trailer).
 */
int rxe_flush_seal_comp_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_send_wqe *wqe)
{
	bool verify = wqe->wr.opcode == RXE_FLUSH_WR_VERIFY;
	struct rxe_flush_key *key;
	struct rxe_flush_seal *seal;
	struct seal_msg m;

	if (verify) {
		key = wqe_op_key(qp, wqe);
		wqe_verify_msg(wqe, &m);
	} else if (wqe->wr.opcode == IB_WR_RDMA_READ && payload_size(pkt)) {
		key = wqe_key(qp, &wqe->dma, qp->sq.max_sge);
		m = (struct seal_msg){
			.rkey = wqe->wr.wr.rdma.rkey,
			.va = wqe_va(wqe, wqe->dma.resid),
			.resid = wqe->dma.resid,
		};
	} else {
		return 0;
	}
	if (!key)
		return 0;
	seal = IS_ERR(key) ? NULL : qp_seal_rx(qp, key);
	if (!seal)
		return -EFAULT;
	switch (seal_rx(&seal->rx[SEAL_RESP], pkt, qp->ibqp.qp_num, &m,
			verify)) {
	case 0:
		return 0;
	case -EALREADY:
		return -EALREADY;
	}
	return -EFAULT;
}

/*
 * HKDF-SHA-256 (RFC 5869) of one block: the subkeys are 16 or 32 bytes.
 */
static int seal_hkdf(struct crypto_shash *hmac, const u8 *ikm, u32 ikm_len,
		     const u8 *salt, u32 salt_len, const u8 *info,
		     u32 info_len, u8 *okm, u32 okm_len)
{
	SHASH_DESC_ON_STACK(desc, hmac);
	u8 prk[SHA256_DIGEST_SIZE], t[SHA256_DIGEST_SIZE];
	static const u8 one = 1;
	int err;

	desc->tfm = hmac;
	err = crypto_shash_setkey(hmac, salt, salt_len) ?:
	      crypto_shash_digest(desc, ikm, ikm_len, prk) ?:
	      crypto_shash_setkey(hmac, prk, sizeof(prk)) ?:
	      crypto_shash_init(desc) ?:
	      crypto_shash_update(desc, info, info_len) ?:
	      crypto_shash_update(desc, &one, 1) ?:
	      crypto_shash_final(desc, t);
	if (!err)
		memcpy(okm, t, okm_len);
	shash_desc_zero(desc);
	memzero_explicit(prk, sizeof(prk));
	memzero_explicit(t, sizeof(t));
	return err;
}

/* one end of a connection, as the subkeys name it */
struct seal_end {
	const u8 *draw;
	union ib_gid gid;
	u32 qpn;
};

/* the subkey of what "from" sends to "to" in stream (SEAL_REQ/_RESP) */
static int seal_stream_init(struct seal_stream *s, struct crypto_shash *hmac,
			    struct rxe_flush_key *key, int stream,
			    const struct seal_end *from,
			    const struct seal_end *to)
{
	u8 salt[2 * RXE_FLUSH_KEY_DRAW_BYTES];
	u8 info[sizeof(SEAL_LABEL) - 1 + 1 + 2 * (16 + 4)];
	u8 subkey[RXE_FLUSH_KEY_MAX_BYTES];
	u8 *p = info;
	int err;

	memcpy(salt, from->draw, RXE_FLUSH_KEY_DRAW_BYTES);
	memcpy(salt + RXE_FLUSH_KEY_DRAW_BYTES, to->draw,
	       RXE_FLUSH_KEY_DRAW_BYTES);
	memcpy(p, SEAL_LABEL, sizeof(SEAL_LABEL) - 1);
	p += sizeof(SEAL_LABEL) - 1;
	*p++ = stream == SEAL_REQ ? 'q' : 's';
	memcpy(p, from->gid.raw, 16);
	put_unaligned_be32(from->qpn, p + 16);
	memcpy(p + 20, to->gid.raw, 16);
	put_unaligned_be32(to->qpn, p + 36);

	err = seal_hkdf(hmac, key->bytes, key->len, salt, sizeof(salt),
			info, sizeof(info), subkey, key->len);
	if (!err)
		err = rxe_flush_gcm_init(&s->gcm, subkey, key->len,
					 SEAL_TAG_LEN);
	memzero_explicit(subkey, sizeof(subkey));
	return err;
}

static void seal_stream_free(struct seal_stream *s)
{
	rxe_flush_gcm_free(&s->gcm);
}

static void seal_free(struct rxe_flush_seal *seal)
{
	int i;

	for (i = 0; i < SEAL_STREAMS; i++) {
		seal_stream_free(&seal->tx[i]);
		seal_stream_free(&seal->rx[i]);
	}
	if (seal->key)
		rxe_flush_key_put(seal->key);
	kfree_sensitive(seal);
}

void rxe_flush_seal_qp_cleanup(struct rxe_qp *qp)
{
	struct rxe_flush_seal *seal = qp->flush_seal;

	if (!seal)
		return;
	qp->flush_seal = NULL;
	seal_free(seal);
}

/*
 * The QP's draw into draw (RXE_FLUSH_KEY_DRAW_BYTES): one for its life,
 * the same bytes when asked again.  RC only.
 */
int rxe_flush_seal_draw(struct rxe_qp *qp, u8 *draw)
{
	struct rxe_flush_seal *seal;

	if (qp_type(qp) != IB_QPT_RC)
		return -EOPNOTSUPP;
	seal = qp->flush_seal;
	if (!seal) {
		seal = kzalloc(sizeof(*seal), GFP_KERNEL);
		if (!seal)
			return -ENOMEM;
		get_random_bytes(seal->draw, sizeof(seal->draw));
		/* the tasks see it zeroed: pairs with qp_seal() */
		smp_store_release(&qp->flush_seal, seal);
	}
	memcpy(draw, seal->draw, sizeof(seal->draw));
	return 0;
}

/*
 * Bind the QP, drawn, in RTR or RTS, to key (of its PD) with the peer's
 * draw: the four subkeys of the connection.  Once per QP.
 */
int rxe_flush_seal_bind(struct rxe_qp *qp, struct rxe_flush_key *key,
			const u8 *peer_draw)
{
	struct ib_qp *ibqp = &qp->ibqp;
	struct rxe_flush_seal *seal = qp->flush_seal;
	struct seal_end self, peer;
	struct crypto_shash *hmac;
	int err, i;

	if (!seal)
		return -EINVAL;			/* no draw to bind with */
	if (seal->key)
		return -EBUSY;			/* bound once, for its life */
	if (key->pd != ibqp->pd || qp->attr.qp_state < IB_QPS_RTR ||
	    qp->attr.qp_state > IB_QPS_RTS)
		return -EINVAL;
	/* a peer that echoes our draw is not another end */
	if (!memcmp(peer_draw, seal->draw, sizeof(seal->draw)))
		return -EINVAL;
	/*
	 * The trailer makes a full packet longer than rxe's allowance for
	 * headers beyond the path MTU; the link must carry it whole.
	 */
	if (qp->mtu + SEAL_MAX_HDRS + RXE_FLUSH_SEAL_LEN >
	    rxe_flush_dev_mtu(to_rdev(ibqp->device)))
		return -EMSGSIZE;

	self.draw = seal->draw;
	self.qpn = qp->ibqp.qp_num;
	err = rdma_query_gid(ibqp->device, 1,
			     qp->pri_av.grh.sgid_index, &self.gid);
	if (err)
		return err;
	peer.draw = peer_draw;
	memcpy(peer.gid.raw, qp->pri_av.grh.dgid.raw, sizeof(peer.gid.raw));
	peer.qpn = qp->attr.dest_qp_num;

	hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(hmac))
		return PTR_ERR(hmac);
	for (i = 0, err = 0; i < SEAL_STREAMS && !err; i++)
		err = seal_stream_init(&seal->tx[i], hmac, key, i,
				       &self, &peer) ?:
		      seal_stream_init(&seal->rx[i], hmac, key, i,
				       &peer, &self);
	crypto_free_shash(hmac);
	if (err) {
		for (i = 0; i < SEAL_STREAMS; i++) {
			seal_stream_free(&seal->tx[i]);
			seal_stream_free(&seal->rx[i]);
		}
		memset(seal->tx, 0, sizeof(seal->tx));
		memset(seal->rx, 0, sizeof(seal->rx));
		return err == -ENOENT ? -EOPNOTSUPP : err;
	}
	rxe_flush_key_get(key);
	seal->gen = READ_ONCE(key->gen);
	/* the streams are complete before a task can see the key */
	smp_store_release(&seal->key, key);
	return 0;
}

static int UVERBS_HANDLER(RXE_FLUSH_METHOD_QP_KEY_DRAW)(
	struct uverbs_attr_bundle *attrs)
{
	struct ib_qp *ibqp =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_QP_KEY_DRAW_HANDLE);
	u8 draw[RXE_FLUSH_KEY_DRAW_BYTES];
	int err;

	if (IS_ERR(ibqp))
		return PTR_ERR(ibqp);
	err = rxe_flush_seal_draw(to_rqp(ibqp), draw);
	return err ?: uverbs_copy_to(attrs, RXE_FLUSH_ATTR_QP_KEY_DRAW_BYTES,
				     draw, sizeof(draw));
}

static int UVERBS_HANDLER(RXE_FLUSH_METHOD_QP_KEY_BIND)(
	struct uverbs_attr_bundle *attrs)
{
	struct ib_qp *ibqp =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_QP_KEY_BIND_HANDLE);
	struct rxe_flush_key *key =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_QP_KEY_BIND_KEY);
	u8 peer_draw[RXE_FLUSH_KEY_DRAW_BYTES];
	int err;

	if (IS_ERR(ibqp))
		return PTR_ERR(ibqp);
	if (IS_ERR(key))
		return PTR_ERR(key);
	err = _uverbs_copy_from(peer_draw, attrs,
				RXE_FLUSH_ATTR_QP_KEY_BIND_PEER_DRAW,
				sizeof(peer_draw));
	return err ?: rxe_flush_seal_bind(to_rqp(ibqp), key, peer_draw);
}

DECLARE_UVERBS_NAMED_METHOD(
	RXE_FLUSH_METHOD_QP_KEY_DRAW,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_QP_KEY_DRAW_HANDLE, UVERBS_OBJECT_QP,
			UVERBS_ACCESS_WRITE, UA_MANDATORY),
	UVERBS_ATTR_PTR_OUT(RXE_FLUSH_ATTR_QP_KEY_DRAW_BYTES,
			    UVERBS_ATTR_SIZE(RXE_FLUSH_KEY_DRAW_BYTES,
					     RXE_FLUSH_KEY_DRAW_BYTES),
			    UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(
	RXE_FLUSH_METHOD_QP_KEY_BIND,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_QP_KEY_BIND_HANDLE, UVERBS_OBJECT_QP,
			UVERBS_ACCESS_WRITE, UA_MANDATORY),
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_QP_KEY_BIND_KEY, RXE_FLUSH_OBJECT_KEY,
			UVERBS_ACCESS_READ, UA_MANDATORY),
	UVERBS_ATTR_PTR_IN(RXE_FLUSH_ATTR_QP_KEY_BIND_PEER_DRAW,
			   UVERBS_ATTR_SIZE(RXE_FLUSH_KEY_DRAW_BYTES,
					    RXE_FLUSH_KEY_DRAW_BYTES),
			   UA_MANDATORY));

ADD_UVERBS_METHODS(rxe_flush_qp_seal_methods, UVERBS_OBJECT_QP,
		   &UVERBS_METHOD(RXE_FLUSH_METHOD_QP_KEY_DRAW),
		   &UVERBS_METHOD(RXE_FLUSH_METHOD_QP_KEY_BIND));

const struct uapi_definition rxe_flush_seal_defs[] = {
	UAPI_DEF_CHAIN_OBJ_TREE(UVERBS_OBJECT_QP, &rxe_flush_qp_seal_methods),
	{}
};
