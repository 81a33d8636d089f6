/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: what differs between the rxe of the two kernel lines that
 * Debian ships, 6.1 (patches/series) and 6.12 (patches-6.12/series), for
 * our files.  Nothing between the two is built for, so one test of the
 * version tells them apart.  Included after rxe.h.
 *
 *   an MR's memory   6.1 maps it with iova_to_vaddr(); 6.12 keeps a page
 *                    array (page_info) to kmap, and DMA MRs as pages
 *   a QP's tasks     6.1 has a requester, completer and responder task;
 *                    6.12 runs requester and completer as one send task
 *                    and the responder as the receive task, on a
 *                    workqueue: a task scheduled while running runs again
 *                    at once, so a long request's step gives the CPU
 *                    away itself (6.1's tasklet is scheduled again)
 *   FLUSH's ICRC     6.1 has no FLUSH of its own; a stock 6.12 peer
 *                    checks upstream's ICRC, so 6.12 sends that one by
 *                    default (both are accepted on either line)
 *   headers          get_unaligned() and friends moved to linux/unaligned.h
 *   a QP's state     6.1's requester keeps its own (QP_STATE_READY); 6.12
 *                    reads the QP's attribute (IB_QPS_RTS)
 *   the netdev       6.1 keeps it in rxe_dev; 6.12 asks ib_core for it,
 *                    held, and it may be gone
 */
#ifndef RXE_FLUSH_COMPAT_H
#define RXE_FLUSH_COMPAT_H

#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/version.h>

#define RXE_FLUSH_RXE_612	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0))

#if RXE_FLUSH_RXE_612

#include <linux/unaligned.h>

/*
 * The kernel address of mr's byte at iova, for at most *len bytes that
 * are one mapped piece (*len is cut to it); NULL if it is not mapped.
 * The caller checked the range against the MR.  Undone with
 * rxe_flush_mr_unmap().
 */
static inline void *rxe_flush_mr_map(struct rxe_mr *mr, u64 iova, u64 *len)
{
	unsigned long off;
	struct page *page;

	if (mr->ibmr.type == IB_MR_TYPE_DMA) {
		page = ib_virt_dma_to_page(iova);
		off = offset_in_page(iova);
	} else {
		struct rxe_mr_page *info;
		unsigned long idx;

		/*
		 * as rxe_mr.c indexes its page_info: an entry a system page,
		 * or an MR page smaller than one, which the piece must not
		 * leave (the next MR page is elsewhere)
		 */
		if (mr_page_size(mr) > PAGE_SIZE) {
			idx = (iova - (mr->ibmr.iova & mr->page_mask)) >>
			      PAGE_SHIFT;
			off = offset_in_page(iova);
		} else {
			idx = (iova >> mr->page_shift) -
			      (mr->ibmr.iova >> mr->page_shift);
			off = iova & (mr_page_size(mr) - 1);
			*len = min_t(u64, *len, mr_page_size(mr) - off);
		}
		if (idx >= mr->nbuf)
			return NULL;
		info = &mr->page_info[idx];
		if (!info->page)
			return NULL;
		page = info->page;
		off += info->offset;
		if (off >= PAGE_SIZE)
			return NULL;
	}
	*len = min_t(u64, *len, PAGE_SIZE - off);
	return (u8 *)kmap_local_page(page) + off;
}

static inline void rxe_flush_mr_unmap(void *addr)
{
	kunmap_local(addr);
}

static inline struct rxe_task *rxe_flush_req_task(struct rxe_qp *qp)
{
	return &qp->send_task;
}

static inline struct rxe_task *rxe_flush_resp_task(struct rxe_qp *qp)
{
	return &qp->recv_task;
}

/*
 * Between two steps of a long request: the receive task runs again at once,
 * in process context (the work item; a reset or cleanup only drains).
 */
static inline void rxe_flush_resp_yield(void)
{
	cond_resched();
}

/* the requester may send */
static inline bool rxe_flush_qp_ready(struct rxe_qp *qp)
{
	return qp_state(qp) == IB_QPS_RTS;
}

/* the MTU of the device's netdev, 0 if it has none (any more) */
static inline unsigned int rxe_flush_dev_mtu(struct rxe_dev *rxe)
{
	struct net_device *ndev = rxe_ib_device_get_netdev(&rxe->ib_dev);
	unsigned int mtu;

	if (!ndev)
		return 0;
	mtu = READ_ONCE(ndev->mtu);
	dev_put(ndev);
	return mtu;
}

#else /* 6.1 */

#include <asm/unaligned.h>

static inline void *rxe_flush_mr_map(struct rxe_mr *mr, u64 iova, u64 *len)
{
	if (mr->map) {
		u64 off = (iova - mr->ibmr.iova + mr->offset) & mr->page_mask;

		*len = min_t(u64, *len, mr->page_mask + 1 - off);
	} else {
		/* DMA MR: the iova is the kernel address */
		*len = min_t(u64, *len, PAGE_SIZE - offset_in_page(iova));
	}
	return iova_to_vaddr(mr, iova, *len);
}

static inline void rxe_flush_mr_unmap(void *addr)
{
}

static inline struct rxe_task *rxe_flush_req_task(struct rxe_qp *qp)
{
	return &qp->req.task;
}

static inline struct rxe_task *rxe_flush_resp_task(struct rxe_qp *qp)
{
	return &qp->resp.task;
}

static inline void rxe_flush_resp_yield(void)
{
	/* the tasklet, scheduled again, lets softirq go */
}

static inline bool rxe_flush_qp_ready(struct rxe_qp *qp)
{
	return qp->req.state == QP_STATE_READY;
}

static inline unsigned int rxe_flush_dev_mtu(struct rxe_dev *rxe)
{
	return READ_ONCE(rxe->ndev->mtu);
}

#endif

#endif /* RXE_FLUSH_COMPAT_H */
