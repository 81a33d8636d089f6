// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: a QP's rate limit, and the requester's one entry to QoS
 * (Documentation/qos.rst).
 *
 * The rate limit comes through the standard verb: ibv_modify_qp_rate_limit()
 * reaches rxe_modify_qp() as IB_QP_RATE_LIMIT, in kbps, which 6.1's
 * ib_core passes on for any QP type and rxe refused.  6.1 has no
 * packet_pacing_caps in the device's attributes: the provider reports the
 * range (RXE_FLUSH_QOS_RATE_MIN and _MAX, <rdma/rxe_flush.h>) from the
 * driver's version.
 *
 * The requester asks, before it builds each packet, the QP's own schedule
 * (rxe_flush.h) and then its device's shared one (rxe_flush_share.c).
 * A packet is charged its own size on the wire, so a READ, FLUSH, ATOMIC
 * WRITE or VERIFY costs its request, not the data that answers it.  A
 * waiting requester arms a soft hrtimer that runs its task again, as rxe
 * waits for skbs: never a busy wait.
 */

#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <rdma/restrack.h>

#include "rxe.h"
#include "rxe_loc.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"

/* an idle QP may send this long at its rate at once, and two packets */
#define QOS_BURST_NS		(10 * NSEC_PER_MSEC)
#define QOS_BURST_PACKETS	2

struct rxe_flush_pace {
	spinlock_t lock;	/* the rate and the schedule */
	u64 bytes_per_s;	/* 0: not limited */
	u32 rate_kbps;
	u64 burst_ns;
	u64 next_ns;		/* the schedule: when the next packet may go */
	u64 paced;		/* packets that waited */
	struct hrtimer timer;
	struct rxe_qp *qp;
};

static enum hrtimer_restart qos_wake(struct hrtimer *t)
{
	struct rxe_flush_pace *p = container_of(t, struct rxe_flush_pace,
						timer);

	rxe_sched_task(rxe_flush_req_task(p->qp));
	return HRTIMER_NORESTART;
}

/*
 * The QP's pace, made on its first rate limit (process context).  Two
 * modifies of one QP may race (uverbs holds the QP shared): the first to
 * publish wins, and the other's is freed before any timer of it runs.
 */
static struct rxe_flush_pace *qos_pace(struct rxe_qp *qp)
{
	/* pairs with the release below */
	struct rxe_flush_pace *p = smp_load_acquire(&qp->flush_pace), *old;

	if (p)
		return p;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	spin_lock_init(&p->lock);
	hrtimer_init(&p->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	p->timer.function = qos_wake;
	p->qp = qp;
	/* complete before the requester can see it: pairs with _wait() */
	old = cmpxchg_release(&qp->flush_pace, NULL, p);
	if (old) {
		kfree(p);
		return old;
	}
	return p;
}

/*
 * IB_QP_RATE_LIMIT, which rxe's own checks do not know: taken here and
 * taken off *mask.  It comes alone, as ibv_modify_qp_rate_limit() sends
 * it, on an RC QP: 0 (no limit) or a rate in packet_pacing_caps' range,
 * in kbps.  0, or -EOPNOTSUPP (with other attributes, or another QP
 * type), -EINVAL (out of range) or -ENOMEM.
 */
int rxe_flush_qos_modify_qp(struct rxe_qp *qp, struct ib_qp_attr *attr,
			    int *mask)
{
	u32 kbps = attr->rate_limit;
	struct rxe_flush_pace *p;
	u64 bps;

	if (!(*mask & IB_QP_RATE_LIMIT))
		return 0;
	if (*mask != IB_QP_RATE_LIMIT || qp_type(qp) != IB_QPT_RC)
		return -EOPNOTSUPP;
	if (kbps && (kbps < RXE_FLUSH_QOS_RATE_MIN ||
		     kbps > RXE_FLUSH_QOS_RATE_MAX))
		return -EINVAL;
	if (!kbps && !READ_ONCE(qp->flush_pace)) {
		*mask = 0;
		return 0;
	}
	p = qos_pace(qp);
	if (!p)
		return -ENOMEM;

	bps = (u64)kbps * 1000 / 8;
	spin_lock_bh(&p->lock);
	WRITE_ONCE(p->rate_kbps, kbps);
	WRITE_ONCE(p->bytes_per_s, bps);
	p->burst_ns = bps ? rxe_flush_qos_burst_ns(bps, QOS_BURST_NS,
				QOS_BURST_PACKETS * RXE_FLUSH_QOS_MAX_WIRE) : 0;
	p->next_ns = 0;			/* a new rate starts with a burst */
	spin_unlock_bh(&p->lock);
	/* a requester waiting on the old rate looks again */
	hrtimer_cancel(&p->timer);
	rxe_sched_task(rxe_flush_req_task(qp));
	*mask = 0;
	return 0;
}

/* how long the QP's own rate holds its next packet, or 0 */
static u64 qos_qp_delay(struct rxe_flush_pace *p, u64 now)
{
	u64 delay = 0;

	spin_lock_bh(&p->lock);
	if (p->bytes_per_s)
		delay = rxe_flush_qos_delay(&p->next_ns, p->burst_ns, now);
	spin_unlock_bh(&p->lock);
	return delay;
}

static void qos_qp_charge(struct rxe_flush_pace *p, u64 wire)
{
	spin_lock_bh(&p->lock);
	if (p->bytes_per_s)
		p->next_ns += rxe_flush_qos_cost_ns(wire, p->bytes_per_s);
	spin_unlock_bh(&p->lock);
}

/*
 * The requester, before it builds a packet of payload bytes of opcode:
 * true when the QP must wait for its schedule or its device's (a timer
 * will run its task again), false when the packet may go, charged to
 * both.
 */
bool rxe_flush_qos_wait(struct rxe_qp *qp, int opcode, u32 payload)
{
	/* sees the pace whole: pairs with qos_pace()'s release */
	struct rxe_flush_pace *p = smp_load_acquire(&qp->flush_pace);
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);
	bool limited = p && READ_ONCE(p->bytes_per_s);
	bool shared = READ_ONCE(rxe->flush_share.bytes_per_s);
	u64 now, wire, delay;

	/* rate limits and shares are RC's */
	if (qp_type(qp) != IB_QPT_RC || (!limited && !shared))
		return false;
	wire = RXE_FLUSH_QOS_WIRE(opcode, payload);
	now = ktime_get_ns();

	delay = limited ? qos_qp_delay(p, now) : 0;
	if (delay) {
		WRITE_ONCE(p->paced, p->paced + 1);	/* its requester only */
		rxe_counter_inc(rxe, RXE_CNT_QOS_PACED);
		rxe_flush_qos_arm(&p->timer, delay);
		return true;
	}
	if (shared && rxe_flush_share_wait(qp, wire, now))
		return true;
	if (limited)
		qos_qp_charge(p, wire);
	rxe_flush_qos_paced_sent(qp);
	return false;
}

/*
 * A paced packet went.  rxe's retransmit timer runs from the first
 * unanswered packet, and a paced message may take longer to send than the
 * QP's timeout: the packet moves it on, so that it runs from the packet
 * sent last.
 */
void rxe_flush_qos_paced_sent(struct rxe_qp *qp)
{
	if (qp->qp_timeout_jiffies)
		mod_timer_pending(&qp->retrans_timer,
				  jiffies + qp->qp_timeout_jiffies);
}

void rxe_flush_qos_qp_cleanup(struct rxe_qp *qp)
{
	struct rxe_flush_pace *p = qp->flush_pace;

	rxe_flush_share_qp_cleanup(qp);
	if (!p)
		return;
	hrtimer_cancel(&p->timer);
	qp->flush_pace = NULL;
	kfree(p);
}


/*
 * The QP's QoS for the rdma tool's driver details (rdma resource show qp
 * -dd): its rate limit, its class and the class's weight, and the packets
 * that waited for its rate and for its device's: its attributes, and
 * them alone in the driver's table (rxe_flush_cc.c adds its own).
 */
int rxe_flush_qos_fill_res_attrs(struct sk_buff *msg, struct rxe_qp *qp)
{
	/* pairs with qos_pace()'s release */
	struct rxe_flush_pace *p = smp_load_acquire(&qp->flush_pace);
	u8 class = RXE_FLUSH_QOS_CLASS(qp->pri_av.grh.traffic_class);
	struct rxe_dev *rxe = to_rdev(qp->ibqp.device);

	return rdma_nl_put_driver_u32(msg, "rate_limit_kbps",
				      p ? READ_ONCE(p->rate_kbps) : 0) ?:
	       rdma_nl_put_driver_u32(msg, "qos_class", class) ?:
	       rdma_nl_put_driver_u32(msg, "qos_weight",
				      READ_ONCE(rxe->flush_share.weight[class])) ?:
	       rdma_nl_put_driver_u64(msg, "qos_paced",
				      p ? READ_ONCE(p->paced) : 0) ?:
	       rdma_nl_put_driver_u64(msg, "qos_throttled",
				      READ_ONCE(qp->flush_share.throttled));
}

int rxe_flush_qos_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct nlattr *table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);

	if (!table)
		return -EMSGSIZE;
	if (rxe_flush_qos_fill_res_attrs(msg, to_rqp(ibqp))) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}
