// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: a device's rate shared between its QPs by the weight of
 * their traffic class (Documentation/qos.rst).
 *
 * The rate and the class -> weight table are set in sysfs, as mlx5 sets
 * its port's traffic class (/sys/class/infiniband/DEV/tc/): the rdma tool
 * has no QoS command, and the netdev's DCB (ETS weights) belongs to the
 * netdev's driver, which a veth's lacks.  A QP's class is its GRH traffic
 * class >> 5, the DSCP class selector that rxe copies into the IP header.
 *
 * The device paces its QPs' packets with one schedule (rxe_flush.h), and
 * shares it by start-time fair queueing: a QP's packet starts at the later
 * of the finish of its last packet and the device's virtual time, and
 * finishes its bytes / weight later; of the QPs that wait, the one whose
 * packet starts first goes next, and the virtual time moves to that
 * start.  A QP that was idle starts at the virtual time, with no credit
 * for its idleness: the share is work-conserving, and fair by weight.
 */

#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "rxe.h"
#include "rxe_loc.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"

/* what the device sends at once delays a better class: a short burst */
#define SHARE_BURST_NS		(2 * NSEC_PER_MSEC)
#define SHARE_BURST_PACKETS	4
/* the virtual time of a packet: its bytes, scaled, over its weight */
#define SHARE_VTIME_SHIFT	8

static struct rxe_flush_share_dev *share_dev(struct rxe_qp *qp)
{
	return &to_rdev(qp->ibqp.device)->flush_share;
}

static u64 share_start(struct rxe_flush_share_dev *d,
		       struct rxe_flush_share *s)
{
	return max(s->finish, d->vtime);
}

static void share_unwait(struct rxe_flush_share *s)
{
	if (s->waiting) {
		list_del(&s->node);
		s->waiting = false;
	}
}

/* the waiting QP whose next packet starts first, or NULL */
static struct rxe_flush_share *share_first(struct rxe_flush_share_dev *d)
{
	struct rxe_flush_share *s, *first = NULL;

	list_for_each_entry(s, &d->waiters, node)
		if (!first || share_start(d, s) < share_start(d, first))
			first = s;
	return first;
}

static struct rxe_qp *share_qp(struct rxe_flush_share *s)
{
	return container_of(s, struct rxe_qp, flush_share);
}

/* run the QP s waits for; under d->lock, which _qp_cleanup() takes too */
static void share_run(struct rxe_flush_share *s)
{
	share_unwait(s);
	rxe_sched_task(rxe_flush_req_task(share_qp(s)));
}

/*
 * The device's timer: the schedule lets a packet go, and the QP that waits
 * with the first start runs.  Should it not send (its own rate, its
 * window), the timer looks again a packet's time later while any wait.
 * Without a rate they all run.
 */
static enum hrtimer_restart share_wake(struct hrtimer *t)
{
	struct rxe_flush_share_dev *d =
		container_of(t, struct rxe_flush_share_dev, timer);
	struct rxe_flush_share *s, *next;

	spin_lock(&d->lock);
	if (!d->bytes_per_s) {
		list_for_each_entry_safe(s, next, &d->waiters, node)
			share_run(s);
	} else {
		/* a QP gone to error, reset or drain sends nothing: off */
		list_for_each_entry_safe(s, next, &d->waiters, node)
			if (!rxe_flush_qp_ready(share_qp(s)))
				share_run(s);
		s = share_first(d);
		if (s)
			share_run(s);
		/* started, not forwarded: a waiter may have started it too */
		if (!list_empty(&d->waiters) && !hrtimer_is_queued(t))
			rxe_flush_qos_arm(t, rxe_flush_qos_cost_ns(
					RXE_FLUSH_QOS_MAX_WIRE, d->bytes_per_s));
	}
	spin_unlock(&d->lock);
	return HRTIMER_NORESTART;
}

/* the timer, for the schedule's next packet */
static void share_arm(struct rxe_flush_share_dev *d, u64 now)
{
	rxe_flush_qos_arm(&d->timer, d->next_ns > now ? d->next_ns - now : 0);
}

/*
 * The device's word on the QP's next packet of wire bytes: true when it
 * must wait (the QP is among the waiters, and the device's timer runs), or
 * false when it may go, charged to the device.
 */
bool rxe_flush_share_wait(struct rxe_qp *qp, u64 wire, u64 now)
{
	struct rxe_flush_share_dev *d = share_dev(qp);
	struct rxe_flush_share *s = &qp->flush_share, *first;
	bool wait = false;
	u64 start;
	u8 weight;

	/* RC QPs share the rate: not the CM's MADs, nor UD's datagrams */
	if (!READ_ONCE(d->bytes_per_s) || qp_type(qp) != IB_QPT_RC)
		return false;

	spin_lock_bh(&d->lock);
	if (!d->bytes_per_s)
		goto out;
	weight = d->weight[RXE_FLUSH_QOS_CLASS(qp->pri_av.grh.traffic_class)];
	start = share_start(d, s);
	first = share_first(d);
	wait = rxe_flush_qos_delay(&d->next_ns, d->burst_ns, now) ||
	       (first && first != s && share_start(d, first) < start);
	if (wait) {
		if (!s->waiting) {
			list_add_tail(&s->node, &d->waiters);
			s->waiting = true;
		}
		share_arm(d, now);
	} else {
		share_unwait(s);
		d->next_ns += rxe_flush_qos_cost_ns(wire, d->bytes_per_s);
		d->vtime = start;
		s->finish = start + div_u64(wire << SHARE_VTIME_SHIFT, weight);
		/*
		 * the next waiter goes when this packet is through, not at
		 * the poll: this QP may have no more to send
		 */
		if (!list_empty(&d->waiters))
			share_arm(d, now);
	}
	if (wait)
		WRITE_ONCE(s->throttled, s->throttled + 1);
out:
	spin_unlock_bh(&d->lock);
	if (wait)
		rxe_counter_inc(to_rdev(qp->ibqp.device),
				RXE_CNT_QOS_THROTTLED);
	return wait;
}

void rxe_flush_share_qp_cleanup(struct rxe_qp *qp)
{
	struct rxe_flush_share_dev *d = share_dev(qp);

	spin_lock_bh(&d->lock);
	share_unwait(&qp->flush_share);
	spin_unlock_bh(&d->lock);
}

void rxe_flush_share_dev_init(struct rxe_dev *rxe)
{
	struct rxe_flush_share_dev *d = &rxe->flush_share;

	spin_lock_init(&d->lock);
	INIT_LIST_HEAD(&d->waiters);
	memset(d->weight, 1, sizeof(d->weight));
	hrtimer_init(&d->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	d->timer.function = share_wake;
}

/* every QP is gone: no waiter is left to run */
void rxe_flush_share_dev_cleanup(struct rxe_dev *rxe)
{
	hrtimer_cancel(&rxe->flush_share.timer);
}

/* sysfs: the device's qos_rate_kbps and qos_tc_weights */

static struct rxe_flush_share_dev *sysfs_share_dev(struct device *device)
{
	struct rxe_dev *rxe = rdma_device_to_drv_device(device, struct rxe_dev,
							ib_dev);

	return &rxe->flush_share;
}

static ssize_t qos_rate_kbps_show(struct device *device,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(sysfs_share_dev(device)->rate_kbps));
}

/* 0 (none) or a rate in the QPs' range, in kbps */
static ssize_t qos_rate_kbps_store(struct device *device,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct rxe_flush_share_dev *d = sysfs_share_dev(device);
	u32 kbps;
	u64 bps;
	int err;

	err = kstrtou32(buf, 10, &kbps);
	if (err)
		return err;
	if (kbps && (kbps < RXE_FLUSH_QOS_RATE_MIN ||
		     kbps > RXE_FLUSH_QOS_RATE_MAX))
		return -EINVAL;
	bps = (u64)kbps * 1000 / 8;

	spin_lock_bh(&d->lock);
	WRITE_ONCE(d->rate_kbps, kbps);
	WRITE_ONCE(d->bytes_per_s, bps);
	d->burst_ns = bps ? rxe_flush_qos_burst_ns(bps, SHARE_BURST_NS,
				SHARE_BURST_PACKETS * RXE_FLUSH_QOS_MAX_WIRE) : 0;
	d->next_ns = 0;
	/* the waiters look again at once (without a rate, they all go) */
	if (!list_empty(&d->waiters))
		rxe_flush_qos_arm(&d->timer, 0);
	spin_unlock_bh(&d->lock);
	return count;
}
struct device_attribute rxe_flush_attr_qos_rate_kbps = __ATTR_RW(qos_rate_kbps);

static ssize_t qos_tc_weights_show(struct device *device,
				   struct device_attribute *attr, char *buf)
{
	struct rxe_flush_share_dev *d = sysfs_share_dev(device);
	u8 w[RXE_FLUSH_QOS_CLASSES];
	int i, n = 0;

	spin_lock_bh(&d->lock);
	memcpy(w, d->weight, sizeof(w));
	spin_unlock_bh(&d->lock);
	for (i = 0; i < RXE_FLUSH_QOS_CLASSES; i++)
		n += sysfs_emit_at(buf, n, "%u%c", w[i],
				   i + 1 < RXE_FLUSH_QOS_CLASSES ? ' ' : '\n');
	return n;
}

/*
 * RXE_FLUSH_QOS_CLASSES weights, each 1 to RXE_FLUSH_QOS_WEIGHT_MAX,
 * separated by blanks: all of them, or -EINVAL and nothing changes.
 */
static ssize_t qos_tc_weights_store(struct device *device,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	struct rxe_flush_share_dev *d = sysfs_share_dev(device);
	u8 w[RXE_FLUSH_QOS_CLASSES];
	char copy[64], *rest, *tok;
	int n = 0;

	if (count >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, buf, count);
	copy[count] = '\0';
	rest = copy;
	while ((tok = strsep(&rest, " \t\n"))) {
		if (!*tok)
			continue;
		if (n == RXE_FLUSH_QOS_CLASSES || kstrtou8(tok, 10, &w[n]) ||
		    !w[n] || w[n] > RXE_FLUSH_QOS_WEIGHT_MAX)
			return -EINVAL;
		n++;
	}
	if (n != RXE_FLUSH_QOS_CLASSES)
		return -EINVAL;

	spin_lock_bh(&d->lock);
	memcpy(d->weight, w, sizeof(w));
	spin_unlock_bh(&d->lock);
	return count;
}
struct device_attribute rxe_flush_attr_qos_tc_weights =
	__ATTR_RW(qos_tc_weights);
