// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: transmit faults, so that tests can lose, repeat or cut short
 * one kind of packet and watch retries and duplicate handling work.  Loopback
 * rxe never loses a packet by itself.
 *
 * <debugfs>/rxe_flush/fault, root only:
 *
 *   write "drop OPCODE [COUNT]"       the next COUNT (default 1) packets with
 *                                     BTH opcode OPCODE are not sent
 *         "dup OPCODE [COUNT]"        ... are sent twice
 *         "cut=BYTES OPCODE [COUNT]"  ... lose their last BYTES bytes after
 *                                     the ICRC was computed, as if cut short
 *                                     on the wire
 *         "flip OPCODE [COUNT]"       ... have their first payload byte
 *                                     inverted before the ICRC is computed,
 *                                     as a bad NIC or bus would: the peer
 *                                     takes the packet, and only a digest
 *                                     of the data can tell
 *         "off"                       disarm
 *   read  "ACTION OPCODE REMAINING injected=N"
 *
 * OPCODE is decimal or 0x-hex.  The fault applies to every rxe device and to
 * requests and responses alike; it is armed for one test at a time.
 */

#include <linux/debugfs.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/udp.h>
#include <net/ip.h>

#include "rxe.h"
#include "rxe_loc.h"
#include "rxe_flush.h"

enum rxe_flush_fault_action {
	RXE_FLUSH_FAULT_OFF,
	RXE_FLUSH_FAULT_DROP,
	RXE_FLUSH_FAULT_DUP,
	RXE_FLUSH_FAULT_CUT,
	RXE_FLUSH_FAULT_FLIP,
};

static const char * const rxe_flush_fault_names[] = {
	[RXE_FLUSH_FAULT_OFF]	= "off",
	[RXE_FLUSH_FAULT_DROP]	= "drop",
	[RXE_FLUSH_FAULT_DUP]	= "dup",
	[RXE_FLUSH_FAULT_CUT]	= "cut",
	[RXE_FLUSH_FAULT_FLIP]	= "flip",
};

static struct {
	spinlock_t lock;		/* the fields below */
	enum rxe_flush_fault_action action;
	u8 opcode;
	u32 cut;			/* bytes, for RXE_FLUSH_FAULT_CUT */
	u32 remaining;
	u64 injected;
	const struct rxe_pkt_info *resend;	/* the copy being sent now */
} rxe_flush_fault = {
	.lock = __SPIN_LOCK_UNLOCKED(rxe_flush_fault.lock),
};

/* fast path: one read of a counter that is zero unless a test armed it */
static bool rxe_flush_fault_armed(void)
{
	return READ_ONCE(rxe_flush_fault.remaining) != 0;
}

static void rxe_flush_fault_shorten(struct sk_buff *skb,
				    struct rxe_pkt_info *pkt, u32 cut)
{
	struct udphdr *udph = udp_hdr(skb);

	skb_trim(skb, skb->len - cut);
	pkt->paylen -= cut;
	udph->len = htons(ntohs(udph->len) - cut);
	if (skb->protocol == htons(ETH_P_IP)) {
		struct iphdr *iph = ip_hdr(skb);

		iph->tot_len = htons(ntohs(iph->tot_len) - cut);
		ip_send_check(iph);
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		ip6h->payload_len = htons(ntohs(ip6h->payload_len) - cut);
	}
}

/* send a copy of the packet ahead of it; false if there was no memory */
static bool rxe_flush_fault_resend(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
				   struct sk_buff *skb)
{
	struct rxe_pkt_info copy_pkt = *pkt;
	struct sk_buff *copy;

	copy = skb_copy(skb, GFP_ATOMIC);
	if (!copy)
		return false;
	copy_pkt.hdr = copy->data + (pkt->hdr - skb->data);

	WRITE_ONCE(rxe_flush_fault.resend, &copy_pkt);
	rxe_xmit_packet(qp, &copy_pkt, copy);
	WRITE_ONCE(rxe_flush_fault.resend, NULL);
	return true;
}

/*
 * Called by rxe_xmit_packet() once the ICRC is in place, in place of the
 * send.  True when the packet was lost here: it is freed and counts as sent,
 * as if lost on the wire.  Otherwise the caller sends it, as built, cut
 * short or flipped (its ICRC made again), and for "dup" after a copy of
 * itself.
 */
bool rxe_flush_fault_xmit(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			  struct sk_buff *skb)
{
	enum rxe_flush_fault_action action = RXE_FLUSH_FAULT_OFF;
	unsigned long flags;
	u32 cut = 0;

	if (likely(!rxe_flush_fault_armed()) ||
	    pkt == READ_ONCE(rxe_flush_fault.resend))
		return false;

	spin_lock_irqsave(&rxe_flush_fault.lock, flags);
	if (rxe_flush_fault.remaining && rxe_flush_fault.opcode == pkt->opcode &&
	    (rxe_flush_fault.action != RXE_FLUSH_FAULT_CUT ||
	     rxe_flush_fault.cut < pkt->paylen) &&
	    (rxe_flush_fault.action != RXE_FLUSH_FAULT_FLIP ||
	     payload_size(pkt))) {
		action = rxe_flush_fault.action;
		cut = rxe_flush_fault.cut;
		rxe_flush_fault.remaining--;
		rxe_flush_fault.injected++;
	}
	spin_unlock_irqrestore(&rxe_flush_fault.lock, flags);

	switch (action) {
	case RXE_FLUSH_FAULT_DROP:
		kfree_skb(skb);
		return true;
	case RXE_FLUSH_FAULT_DUP:
		rxe_flush_fault_resend(qp, pkt, skb);
		return false;
	case RXE_FLUSH_FAULT_CUT:
		rxe_flush_fault_shorten(skb, pkt, cut);
		return false;
	case RXE_FLUSH_FAULT_FLIP:
		*(u8 *)payload_addr(pkt) ^= 0xff;
		rxe_icrc_generate(skb, pkt);
		return false;
	default:
		return false;
	}
}

static int rxe_flush_fault_parse(char *buf)
{
	char *action, *arg;
	u32 opcode, count = 1, cut = 0;
	int i, err;

	action = strsep(&buf, " \t\n");
	if (!action)
		return -EINVAL;
	if (!strncmp(action, "cut=", 4)) {
		err = kstrtou32(action + 4, 0, &cut);
		if (err || !cut)
			return -EINVAL;
		i = RXE_FLUSH_FAULT_CUT;
	} else {
		i = match_string(rxe_flush_fault_names,
				 ARRAY_SIZE(rxe_flush_fault_names), action);
		if (i < 0 || i == RXE_FLUSH_FAULT_CUT)
			return -EINVAL;
	}

	if (i == RXE_FLUSH_FAULT_OFF) {
		opcode = 0;
		count = 0;
	} else {
		arg = strsep(&buf, " \t\n");
		if (!arg || kstrtou32(arg, 0, &opcode) || opcode > 0xff)
			return -EINVAL;
		arg = strsep(&buf, " \t\n");
		if (arg && *arg && (kstrtou32(arg, 0, &count) || !count))
			return -EINVAL;
	}
	if (buf && strim(buf)[0])
		return -EINVAL;

	spin_lock_irq(&rxe_flush_fault.lock);
	rxe_flush_fault.action = i;
	rxe_flush_fault.opcode = opcode;
	rxe_flush_fault.cut = cut;
	WRITE_ONCE(rxe_flush_fault.remaining, count);
	spin_unlock_irq(&rxe_flush_fault.lock);
	return 0;
}

static ssize_t rxe_flush_fault_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	char buf[48];
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	err = rxe_flush_fault_parse(buf);
	return err ? err : len;
}

static ssize_t rxe_flush_fault_read(struct file *file, char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char buf[64];
	int n;

	spin_lock_irq(&rxe_flush_fault.lock);
	if (rxe_flush_fault.action == RXE_FLUSH_FAULT_CUT)
		n = scnprintf(buf, sizeof(buf), "cut=%u", rxe_flush_fault.cut);
	else
		n = scnprintf(buf, sizeof(buf), "%s",
			      rxe_flush_fault_names[rxe_flush_fault.action]);
	n += scnprintf(buf + n, sizeof(buf) - n, " 0x%02x %u injected=%llu\n",
		       rxe_flush_fault.opcode, rxe_flush_fault.remaining,
		       rxe_flush_fault.injected);
	spin_unlock_irq(&rxe_flush_fault.lock);

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations rxe_flush_fault_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= rxe_flush_fault_read,
	.write	= rxe_flush_fault_write,
	.llseek	= default_llseek,
};

static struct dentry *rxe_flush_debugfs;

/* debugfs is optional: without it the driver works, untestable by faults */
void rxe_flush_fault_init(void)
{
	rxe_flush_debugfs = debugfs_create_dir("rxe_flush", NULL);
	debugfs_create_file("fault", 0600, rxe_flush_debugfs, NULL,
			    &rxe_flush_fault_fops);
}

void rxe_flush_fault_exit(void)
{
	debugfs_remove_recursive(rxe_flush_debugfs);
	WRITE_ONCE(rxe_flush_fault.remaining, 0);
}
