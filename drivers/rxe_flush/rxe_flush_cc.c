// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: congestion notification, end to end (RoCE v2, IBA annex A17;
 * Documentation/qos.rst).
 *
 * An RC QP's requests carry ECT(0) in the IP header, so that a congested
 * queue - a RED qdisc with ecn, a switch - marks them CE rather than
 * dropping them.  The notification point: a responder that receives a
 * CE-marked request answers with a CNP (BTH opcode 0x81, to the
 * requester's QP), at most one per QP per cnp_interval_us.  The reaction
 * point: a requester that receives a CNP cuts its QP's rate as DCQCN does
 * and, without CNPs, brings it back on a timer and a byte counter; the
 * rate paces the QP's packets before its own limit and its device's share
 * (the requester asks here first, then rxe_flush_qos.c).  A QP that receives no CNP is never paced
 * by it: against a peer that sends none it sends as before (a queue that
 * marks ECN then marks its packets rather than dropping them).  Only
 * requests carry ECT: the requester is what a CNP can slow down, so READ
 * RESPONSEs, which their READs pace, are Not-ECT.
 *
 * DCQCN starts its first cut from the line rate.  rxe has none that means
 * anything, so the first cut starts from the rate the QP was sending at,
 * measured here (RXE_FLUSH_QOS_RATE_MAX when not measured), and the cut
 * ends when the rate has climbed back to four times that.  CNPs can be
 * forged by anyone who can forge the peer's address, as on any RoCE NIC:
 * the worst they do is hold the QP at cc_min_kbps.
 */

#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <net/inet_ecn.h>
#include <rdma/restrack.h>

#include "rxe.h"
#include "rxe_loc.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"
#include "rxe_flush_hdr.h"

/*
 * Off by default: Debian's default qdisc, fq_codel, marks ECT packets once
 * they queue 5 ms, which a TCG guest's virtio queue does without any
 * congestion; turn it on where the network's queues mark for congestion.
 */
static bool cc_ecn;
module_param_named(ecn, cc_ecn, bool, 0644);
MODULE_PARM_DESC(ecn,
		 "RC requests carry ECT(0); CE-marked ones are answered with CNPs, and CNPs cut the QP's rate (DCQCN); default off");

static unsigned int cnp_interval_us = 50;
module_param(cnp_interval_us, uint, 0644);
MODULE_PARM_DESC(cnp_interval_us,
		 "a responder QP sends at most one CNP in this many microseconds (50)");

static unsigned int cnp_dscp = 48;
module_param(cnp_dscp, uint, 0644);
MODULE_PARM_DESC(cnp_dscp, "the DSCP of CNPs, 0..63 (48)");

static unsigned int cc_period_us = 10000;
module_param(cc_period_us, uint, 0644);
MODULE_PARM_DESC(cc_period_us,
		 "DCQCN's period: alpha decays and the rate-increase timer steps once in it, and a QP's rate is cut at most once in it (10000)");

static unsigned int cc_byte_reset = 65536;
module_param(cc_byte_reset, uint, 0644);
MODULE_PARM_DESC(cc_byte_reset,
		 "bytes a cut QP sends for one step of its rate-increase byte counter (65536)");

static unsigned int cc_threshold = 5;
module_param(cc_threshold, uint, 0644);
MODULE_PARM_DESC(cc_threshold,
		 "steps of fast recovery before additive increase, F (5)");

static unsigned int cc_ai_kbps = 1000;
module_param(cc_ai_kbps, uint, 0644);
MODULE_PARM_DESC(cc_ai_kbps, "additive increase of the target rate, kbps (1000)");

static unsigned int cc_hai_kbps = 10000;
module_param(cc_hai_kbps, uint, 0644);
MODULE_PARM_DESC(cc_hai_kbps, "hyper increase of the target rate, kbps (10000)");

static unsigned int cc_g_shift = 4;
module_param(cc_g_shift, uint, 0644);
MODULE_PARM_DESC(cc_g_shift, "alpha's gain is 1 / 2^cc_g_shift, 1..10 (4)");

static unsigned int cc_min_kbps = RXE_FLUSH_QOS_RATE_MIN;
module_param(cc_min_kbps, uint, 0644);
MODULE_PARM_DESC(cc_min_kbps, "a cut never goes below this rate, kbps (1000)");

#define CC_ALPHA_ONE		1024		/* alpha's fixed point */
#define CC_WINDOW_NS		(10 * NSEC_PER_MSEC)	/* the send rate's */
#define CC_END_FACTOR		4	/* of the rate at the first cut */
#define CNP_LEN			(RXE_BTH_BYTES + RXE_FLUSH_CNP_RESERVED + \
				 RXE_ICRC_SIZE)

/* a QP's notification and reaction points, made on first use */
struct rxe_flush_cc {
	spinlock_t lock;	/* all of it */
	struct rxe_qp *qp;
	/* notification point */
	u64 cnp_sent_ns;
	u64 cnp_sent;
	/* reaction point: DCQCN's state, rates in bytes/s */
	bool cut;		/* the QP is paced by rc */
	bool cnp_in_period;
	u64 rc, rt, end_bps;
	u32 alpha;		/* of CC_ALPHA_ONE */
	u32 timer_steps, byte_steps;
	u64 bytes;		/* towards the next byte step */
	u64 cut_ns;		/* the last cut */
	u64 next_ns, burst_ns;	/* the schedule at rc */
	u64 cnp_handled;
	/* the QP's send rate, measured over windows: its requester's only */
	u64 win_start, win_bytes, sent_bps;
	struct hrtimer tick;	/* DCQCN's period */
	struct hrtimer wake;	/* the requester, when the schedule lets */
};

static u64 kbps_to_bps(unsigned int kbps)
{
	return (u64)kbps * 1000 / 8;
}

static u64 cc_period_ns(void)
{
	return (u64)max(READ_ONCE(cc_period_us), 100U) * NSEC_PER_USEC;
}

static enum hrtimer_restart cc_wake(struct hrtimer *t)
{
	struct rxe_flush_cc *cc = container_of(t, struct rxe_flush_cc, wake);

	rxe_sched_task(rxe_flush_req_task(cc->qp));
	return HRTIMER_NORESTART;
}

static enum hrtimer_restart cc_tick(struct hrtimer *t);

/* the QP's, made on first use (any context); NULL if memory is short */
static struct rxe_flush_cc *cc_get(struct rxe_qp *qp)
{
	/* pairs with the release below */
	struct rxe_flush_cc *cc = smp_load_acquire(&qp->flush_cc), *old;

	if (cc)
		return cc;
	cc = kzalloc(sizeof(*cc), GFP_ATOMIC);
	if (!cc)
		return NULL;
	spin_lock_init(&cc->lock);
	cc->qp = qp;
	hrtimer_init(&cc->tick, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	cc->tick.function = cc_tick;
	hrtimer_init(&cc->wake, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	cc->wake.function = cc_wake;
	cc->alpha = CC_ALPHA_ONE;	/* kept from one congestion to the next */
	old = cmpxchg_release(&qp->flush_cc, NULL, cc);
	if (old) {
		kfree(cc);
		return old;
	}
	return cc;
}

/* the schedule's burst at rc: a millisecond, and two packets */
static void cc_set_burst(struct rxe_flush_cc *cc)
{
	cc->burst_ns = rxe_flush_qos_burst_ns(cc->rc, NSEC_PER_MSEC,
					      2 * RXE_FLUSH_QOS_MAX_WIRE);
}

/*
 * One step of DCQCN's rate increase, by the timer or the byte counter:
 * fast recovery towards the target, then additive, then hyper increase
 * of the target as both counters pass the threshold.
 */
static void cc_increase(struct rxe_flush_cc *cc)
{
	u32 f = max(READ_ONCE(cc_threshold), 1U);
	u32 lo = min(cc->timer_steps, cc->byte_steps);
	u32 hi = max(cc->timer_steps, cc->byte_steps);
	u64 max_bps = kbps_to_bps(RXE_FLUSH_QOS_RATE_MAX);

	if (lo >= f)
		cc->rt += (u64)(lo - f + 1) * kbps_to_bps(READ_ONCE(cc_hai_kbps));
	else if (hi >= f)
		cc->rt += kbps_to_bps(READ_ONCE(cc_ai_kbps));
	cc->rt = min(cc->rt, max_bps);
	cc->rc = (cc->rt + cc->rc) / 2;
	cc_set_burst(cc);
}

static u32 cc_g(void)
{
	return clamp(READ_ONCE(cc_g_shift), 1U, 10U);
}

static enum hrtimer_restart cc_tick(struct hrtimer *t)
{
	struct rxe_flush_cc *cc = container_of(t, struct rxe_flush_cc, tick);
	u32 g = cc_g();
	bool more;

	spin_lock_bh(&cc->lock);
	if (!cc->cnp_in_period)
		cc->alpha -= cc->alpha >> g;
	cc->cnp_in_period = false;
	cc->timer_steps++;
	cc_increase(cc);
	if (cc->rc >= cc->end_bps)
		cc->cut = false;
	more = cc->cut;
	/*
	 * Started again here, under the lock, as cc_react() starts it: not
	 * forwarded, which a cut on another CPU may have started meanwhile.
	 */
	if (more)
		hrtimer_start(t, ns_to_ktime(cc_period_ns()),
			      HRTIMER_MODE_REL_SOFT);
	spin_unlock_bh(&cc->lock);
	return HRTIMER_NORESTART;
}

/* a CNP for the QP: cut its rate, at most once a period */
static void cc_react(struct rxe_qp *qp)
{
	struct rxe_flush_cc *cc = cc_get(qp);
	u64 max_bps = kbps_to_bps(RXE_FLUSH_QOS_RATE_MAX);
	u64 now, min_bps, sent, period = cc_period_ns();
	u32 g = cc_g();

	if (!cc)
		return;
	min_bps = kbps_to_bps(max_t(unsigned int, READ_ONCE(cc_min_kbps),
				    RXE_FLUSH_QOS_RATE_MIN));
	sent = READ_ONCE(cc->sent_bps) ?: max_bps;	/* not measured */
	spin_lock_bh(&cc->lock);
	now = ktime_get_ns();
	cc->cnp_handled++;
	cc->cnp_in_period = true;
	if (!cc->cut) {
		cc->rc = clamp(sent, min_bps, max_bps);
		cc->end_bps = min(cc->rc * CC_END_FACTOR, max_bps);
		cc->next_ns = now;
		cc->cut = true;
	} else if ((s64)(now - cc->cut_ns) < (s64)period) {
		spin_unlock_bh(&cc->lock);
		return;
	}
	/* Rt = Rc, Rc = Rc (1 - alpha / 2), alpha = (1 - g) alpha + g */
	cc->alpha = min_t(u32, cc->alpha, CC_ALPHA_ONE);
	cc->rt = cc->rc;
	cc->rc = max(cc->rc - ((cc->rc * cc->alpha) >> 11), min_bps);
	cc->alpha += (CC_ALPHA_ONE >> g) - (cc->alpha >> g);
	cc->timer_steps = 0;
	cc->byte_steps = 0;
	cc->bytes = 0;
	cc->cut_ns = now;
	cc_set_burst(cc);
	/* the increase timer starts again from the cut, as DCQCN's */
	hrtimer_start(&cc->tick, ns_to_ktime(period), HRTIMER_MODE_REL_SOFT);
	spin_unlock_bh(&cc->lock);
}

/*
 * The requester, before a packet and before its QoS: true while the QP's
 * cut rate holds the packet (its wake timer runs the requester again).
 * Not charged here: a packet QoS then holds would be charged twice.
 */
bool rxe_flush_cc_wait(struct rxe_qp *qp, int opcode, u32 payload)
{
	/* pairs with cc_get()'s release */
	struct rxe_flush_cc *cc = smp_load_acquire(&qp->flush_cc);
	u64 delay = 0;

	if (!cc || !READ_ONCE(cc->cut))
		return false;
	spin_lock_bh(&cc->lock);
	if (cc->cut)
		delay = rxe_flush_qos_delay(&cc->next_ns, cc->burst_ns,
					    ktime_get_ns());
	spin_unlock_bh(&cc->lock);
	if (delay)
		rxe_flush_qos_arm(&cc->wake, delay);
	return delay;
}

/* the requester, a packet of payload bytes going: measured, charged */
void rxe_flush_cc_sent(struct rxe_qp *qp, int opcode, u32 payload)
{
	u64 span, reset, now, wire = RXE_FLUSH_QOS_WIRE(opcode, payload);
	struct rxe_flush_cc *cc;
	bool cut;

	if (!READ_ONCE(cc_ecn) || qp_type(qp) != IB_QPT_RC)
		return;
	cc = cc_get(qp);
	if (!cc)
		return;
	now = ktime_get_ns();
	/* the requester alone writes the window: no lock */
	span = now - cc->win_start;
	/*
	 * Idle: a new window.  The last rate stays, which waiting for skbs
	 * behind a slow queue must not wipe out.
	 */
	if (span > 2 * CC_WINDOW_NS) {
		cc->win_start = now;
		cc->win_bytes = 0;
		span = 0;
	}
	cc->win_bytes += wire;
	if (span >= CC_WINDOW_NS) {
		WRITE_ONCE(cc->sent_bps,
			   div64_u64(cc->win_bytes * NSEC_PER_SEC, span));
		cc->win_start = now;
		cc->win_bytes = 0;
	}
	if (!READ_ONCE(cc->cut))
		return;
	reset = max(READ_ONCE(cc_byte_reset), 4096U);
	spin_lock_bh(&cc->lock);
	cut = cc->cut;
	if (cut) {
		cc->next_ns += rxe_flush_qos_cost_ns(wire, cc->rc);
		cc->bytes += wire;
		if (cc->bytes >= reset) {
			cc->bytes -= reset;
			cc->byte_steps++;
			cc_increase(cc);
		}
	}
	spin_unlock_bh(&cc->lock);
	if (cut)
		rxe_flush_qos_paced_sent(qp);
}

/* the IP header's TOS or traffic class of a packet the QP sends */
u8 rxe_flush_cc_tos(struct rxe_pkt_info *pkt, u8 tclass)
{
	if (pkt->opcode == RXE_FLUSH_OPCODE_CNP)
		return (READ_ONCE(cnp_dscp) & 0x3f) << 2;	/* Not-ECT */
	if (READ_ONCE(cc_ecn) && (pkt->mask & RXE_REQ_MASK) &&
	    qp_type(pkt->qp) == IB_QPT_RC)
		return (tclass & ~INET_ECN_MASK) | INET_ECN_ECT_0;
	return tclass;
}

/* a CNP from the QP's responder side to its peer's requester */
static void cnp_send(struct rxe_qp *qp, struct rxe_flush_cc *cc)
{
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	struct rxe_pkt_info pkt = {};
	struct sk_buff *skb;

	skb = rxe_init_packet(rxe, &qp->pri_av, CNP_LEN, &pkt);
	if (!skb)
		return;
	pkt.qp = qp;
	pkt.opcode = RXE_FLUSH_OPCODE_CNP;
	pkt.mask |= rxe_opcode[RXE_FLUSH_OPCODE_CNP].mask;
	pkt.paylen = CNP_LEN;
	bth_init(&pkt, RXE_FLUSH_OPCODE_CNP, 0, 0, 0, IB_DEFAULT_PKEY_FULL,
		 qp->attr.dest_qp_num, 0, 0);
	bth_set_becn(&pkt, 1);
	memset(pkt.hdr + RXE_BTH_BYTES, 0, RXE_FLUSH_CNP_RESERVED);
	if (rxe_prepare(&qp->pri_av, &pkt, skb)) {
		kfree_skb(skb);
		return;
	}
	if (rxe_xmit_packet(qp, &pkt, skb))
		return;
	rxe_counter_inc(rxe, RXE_CNT_NP_CNP_SENT);
	spin_lock_bh(&cc->lock);
	cc->cnp_sent++;
	spin_unlock_bh(&cc->lock);
}

static u8 ip_dsfield(struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_IP) ?
	       ip_hdr(skb)->tos : ipv6_get_dsfield(ipv6_hdr(skb));
}

/*
 * rxe_rcv(), a packet that passed its checks: a CE-marked request of an
 * RC QP is counted and, once an interval, answered with a CNP.
 */
void rxe_flush_cc_rcv_ce(struct rxe_pkt_info *pkt, struct sk_buff *skb)
{
	struct rxe_qp *qp = pkt->qp;
	struct rxe_flush_cc *cc;
	u64 now, gap;
	bool send;

	if (!qp || !(pkt->mask & RXE_REQ_MASK) ||
	    qp_type(qp) != IB_QPT_RC || !INET_ECN_is_ce(ip_dsfield(skb)))
		return;
	rxe_counter_inc(pkt->rxe, RXE_CNT_NP_ECN_MARKED);
	if (!READ_ONCE(cc_ecn))
		return;
	cc = cc_get(qp);
	if (!cc)
		return;
	gap = (u64)READ_ONCE(cnp_interval_us) * NSEC_PER_USEC;
	spin_lock_bh(&cc->lock);
	now = ktime_get_ns();
	send = !cc->cnp_sent_ns || (s64)(now - cc->cnp_sent_ns) >= (s64)gap;
	if (send)
		cc->cnp_sent_ns = now;
	spin_unlock_bh(&cc->lock);
	if (send)
		cnp_send(qp, cc);
}

/* does the packet come from the QP's peer, to the QP's own address */
static bool cnp_from_peer(struct rxe_qp *qp, struct sk_buff *skb)
{
	struct rxe_av *av = &qp->pri_av;

	if (skb->protocol == htons(ETH_P_IP))
		return av->network_type == RXE_NETWORK_TYPE_IPV4 &&
		       ip_hdr(skb)->saddr ==
		       av->dgid_addr._sockaddr_in.sin_addr.s_addr &&
		       ip_hdr(skb)->daddr ==
		       av->sgid_addr._sockaddr_in.sin_addr.s_addr;
	return av->network_type == RXE_NETWORK_TYPE_IPV6 &&
	       ipv6_addr_equal(&ipv6_hdr(skb)->saddr,
			       &av->dgid_addr._sockaddr_in6.sin6_addr) &&
	       ipv6_addr_equal(&ipv6_hdr(skb)->daddr,
			       &av->sgid_addr._sockaddr_in6.sin6_addr);
}

/*
 * rxe_rcv(), before its opcode checks: true for a CNP, which the caller
 * then frees.  A CNP is heeded only whole (its length and ICRC), for an
 * RC QP that sends, and from that QP's peer; else it is counted ignored.
 */
bool rxe_flush_cc_cnp_rcv(struct rxe_pkt_info *pkt, struct sk_buff *skb)
{
	struct rxe_dev *rxe = pkt->rxe;
	struct rxe_qp *qp;
	bool heeded = false;

	if (pkt->opcode != RXE_FLUSH_OPCODE_CNP)
		return false;
	if (!READ_ONCE(cc_ecn))
		goto out;
	if (pkt->paylen != CNP_LEN || skb->len < CNP_LEN ||
	    bth_tver(pkt) != BTH_TVER ||
	    (bth_pkey(pkt) & 0x7fff) != (IB_DEFAULT_PKEY_FULL & 0x7fff) ||
	    rxe_icrc_check(skb, pkt))
		goto out;
	qp = rxe_pool_get_index(&rxe->qp_pool, bth_qpn(pkt));
	if (!qp)
		goto out;
	if (qp_type(qp) == IB_QPT_RC && qp->valid &&
	    qp->attr.qp_state == IB_QPS_RTS && cnp_from_peer(qp, skb)) {
		cc_react(qp);
		heeded = true;
	}
	rxe_put(qp);
out:
	rxe_counter_inc(rxe, heeded ? RXE_CNT_RP_CNP_HANDLED :
			RXE_CNT_RP_CNP_IGNORED);
	return true;
}

/*
 * The QP for the rdma tool's driver details: its QoS (rxe_flush_qos.c),
 * the rate congestion notification cut it to (0: not cut), and its CNPs.
 */
int rxe_flush_cc_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct rxe_qp *qp = to_rqp(ibqp);
	/* pairs with cc_get()'s release */
	struct rxe_flush_cc *cc = smp_load_acquire(&qp->flush_cc);
	u64 kbps = 0, sent = 0, handled = 0;
	struct nlattr *table;

	if (cc) {
		spin_lock_bh(&cc->lock);
		kbps = cc->cut ? div_u64(cc->rc * 8, 1000) : 0;
		sent = cc->cnp_sent;
		handled = cc->cnp_handled;
		spin_unlock_bh(&cc->lock);
	}
	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rxe_flush_qos_fill_res_attrs(msg, qp) ||
	    rdma_nl_put_driver_u64(msg, "cc_rate_kbps", kbps) ||
	    rdma_nl_put_driver_u64(msg, "np_cnp_sent", sent) ||
	    rdma_nl_put_driver_u64(msg, "rp_cnp_handled", handled)) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

/*
 * rxe_qp_reset(), its tasks stopped: a QP made ready again starts
 * uncut, with DCQCN's first alpha and no measured rate, as a new one.
 * A CNP meanwhile is not heeded (the QP is not in RTS).  Its counts stay.
 */
void rxe_flush_cc_qp_reset(struct rxe_qp *qp)
{
	/* pairs with cc_get()'s release */
	struct rxe_flush_cc *cc = smp_load_acquire(&qp->flush_cc);

	if (!cc)
		return;
	spin_lock_bh(&cc->lock);
	cc->cut = false;
	cc->cnp_in_period = false;
	cc->alpha = CC_ALPHA_ONE;
	cc->cnp_sent_ns = 0;
	cc->win_start = 0;
	cc->win_bytes = 0;
	cc->sent_bps = 0;
	spin_unlock_bh(&cc->lock);
	hrtimer_cancel(&cc->tick);
	hrtimer_cancel(&cc->wake);
}

void rxe_flush_cc_qp_cleanup(struct rxe_qp *qp)
{
	struct rxe_flush_cc *cc = qp->flush_cc;

	if (!cc)
		return;
	hrtimer_cancel(&cc->tick);
	hrtimer_cancel(&cc->wake);
	qp->flush_cc = NULL;
	kfree(cc);
}
