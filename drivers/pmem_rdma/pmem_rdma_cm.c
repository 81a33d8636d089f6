// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the RDMA side of an export.  A kernel RDMA CM id listens on
 * the export's port.  For every peer that connects to it through the
 * export's RDMA device, the target makes an RC QP of its own, brings it to
 * RTS with the CM's attributes, registers the export's pages on it with
 * exactly the access asked for (fast registration), and only then accepts,
 * handing over the region descriptor in the private data.  The target's CPU
 * takes no part in the data path afterwards.
 *
 * An accepted peer has establish_timeout seconds to send its RTU (or
 * anything that makes the CM call it established); one that does not is
 * dropped, so that connect requests never answered cannot hold the
 * export's max_peers slots for the REP retry time that they choose.
 *
 * A peer is destroyed by whoever takes it off the export's list: the
 * disconnect work, the establish deadline, or pmem_rdma_cm_stop(); each
 * first waits for the other two works of the peer to be done with it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <rdma/ib_cm.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include <rdma/rxe_flush.h>

#include "pmem_rdma.h"

struct pmem_rdma_peer {
	struct pmem_rdma_cm_ctx ctx;	/* first: the cm_id's context */
	struct list_head node;		/* exp->peers, under peers_lock */
	bool listed;
	bool established;		/* under peers_lock */
	struct pmem_rdma_exp *exp;
	struct rdma_cm_id *cm_id;
	struct ib_cq *cq;
	struct ib_qp *qp;
	struct ib_mr *mr;
	struct scatterlist sg;		/* the export's pages, mapped for mr */
	bool sg_mapped;
	struct ib_cqe reg_cqe;		/* the REG_MR work request's */
	struct completion reg_done;
	enum ib_wc_status reg_status;
	struct work_struct gone_work;
	struct delayed_work deadline_work;
};

static struct workqueue_struct *pmem_rdma_wq;

static unsigned int establish_timeout = 5;
module_param(establish_timeout, uint, 0644);
MODULE_PARM_DESC(establish_timeout,
		 "Seconds an accepted peer has to become established (1-300, default 5)");

/* read once per peer: the parameter may change under us */
static unsigned long pmem_rdma_establish_jiffies(void)
{
	return clamp(READ_ONCE(establish_timeout), 1U, 300U) * HZ;
}

static int pmem_rdma_ib_access(u32 access)
{
	int ib = IB_ACCESS_LOCAL_WRITE;

	if (access & PMEM_RDMA_ACCESS_READ)
		ib |= IB_ACCESS_REMOTE_READ;
	if (access & PMEM_RDMA_ACCESS_WRITE)
		ib |= IB_ACCESS_REMOTE_WRITE;
	if (access & PMEM_RDMA_ACCESS_FLUSH_GLOBAL)
		ib |= RXE_FLUSH_ACCESS_FLUSH_GLOBAL;
	if (access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT)
		ib |= RXE_FLUSH_ACCESS_FLUSH_PERSISTENT;
	return ib;
}

static void pmem_rdma_peer_free(struct pmem_rdma_peer *peer)
{
	if (peer->qp)
		ib_destroy_qp(peer->qp);
	if (peer->mr)
		ib_dereg_mr(peer->mr);
	if (peer->sg_mapped)
		ib_dma_unmap_sg(peer->exp->ibdev, &peer->sg, 1,
				DMA_BIDIRECTIONAL);
	if (peer->cq)
		ib_free_cq(peer->cq);
	kfree(peer);
}

/* move the peer's own QP to state with the CM's attributes */
static int pmem_rdma_qp_to(struct pmem_rdma_peer *peer,
			   enum ib_qp_state state, int extra_access)
{
	struct ib_qp_attr attr = { .qp_state = state };
	int mask, err;

	err = rdma_init_qp_attr(peer->cm_id, &attr, &mask);
	if (err)
		return err;
	/*
	 * the export's flush access, no more: 6.12's CM grants every QP of
	 * a device that has them both flush accesses
	 */
	if (state == IB_QPS_INIT)
		attr.qp_access_flags = (attr.qp_access_flags &
					~RXE_FLUSH_ACCESS_FLUSH) | extra_access;
	/* the peer's initiator depth, as much of it as the device can take */
	if (state == IB_QPS_RTR)
		attr.max_dest_rd_atomic =
			min_t(u8, attr.max_dest_rd_atomic,
			      peer->exp->ibdev->attrs.max_qp_rd_atom);
	return ib_modify_qp(peer->qp, &attr, mask);
}

static void pmem_rdma_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct pmem_rdma_peer *peer =
		container_of(wc->wr_cqe, struct pmem_rdma_peer, reg_cqe);

	peer->reg_status = wc->status;
	complete(&peer->reg_done);
}

/* the pages of one MR over the whole export, in 2 MiB pages if it can */
static unsigned int pmem_rdma_mr_page_size(struct pmem_rdma_exp *exp)
{
	return IS_ALIGNED((unsigned long)exp->kaddr, SZ_2M) &&
	       IS_ALIGNED(exp->req.length, SZ_2M) ? SZ_2M : PAGE_SIZE;
}

/* -E2BIG when one MR of the device cannot map the whole export */
static int pmem_rdma_mr_fits(struct pmem_rdma_exp *exp)
{
	u64 len = exp->req.length;

	if (len > UINT_MAX || len / pmem_rdma_mr_page_size(exp) >
	    exp->ibdev->attrs.max_fast_reg_page_list_len)
		return -E2BIG;
	return 0;
}

/* register the export's pages on the peer's QP, and wait for it */
static int pmem_rdma_reg_mr(struct pmem_rdma_peer *peer)
{
	struct pmem_rdma_exp *exp = peer->exp;
	unsigned int page_size = pmem_rdma_mr_page_size(exp);
	u64 len = exp->req.length;
	struct ib_reg_wr wr = {};
	int n, err;

	peer->mr = ib_alloc_mr(exp->pd, IB_MR_TYPE_MEM_REG, len / page_size);
	if (IS_ERR(peer->mr)) {
		err = PTR_ERR(peer->mr);
		peer->mr = NULL;
		return err;
	}

	/* mapped for as long as the MR lives (pmem_rdma_peer_free()) */
	sg_init_table(&peer->sg, 1);
	sg_set_page(&peer->sg, pfn_t_to_page(exp->pfn), len, 0);
	if (ib_dma_map_sg(exp->ibdev, &peer->sg, 1, DMA_BIDIRECTIONAL) != 1)
		return -EIO;
	peer->sg_mapped = true;
	n = ib_map_mr_sg(peer->mr, &peer->sg, 1, NULL, page_size);
	if (n != 1)
		return n < 0 ? n : -EINVAL;
	/*
	 * Peers address the export from 0: the DMA address would be the
	 * kernel's direct-map address of the pmem, which gives away KASLR.
	 */
	peer->mr->iova = 0;
	err = pmem_rdma_domain_attach(exp, peer->mr);
	if (err)
		return err;

	peer->reg_cqe.done = pmem_rdma_reg_done;
	init_completion(&peer->reg_done);
	wr.wr.wr_cqe = &peer->reg_cqe;
	wr.wr.opcode = IB_WR_REG_MR;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.mr = peer->mr;
	wr.key = peer->mr->rkey;
	wr.access = pmem_rdma_ib_access(exp->req.access);
	err = ib_post_send(peer->qp, &wr.wr, NULL);
	if (err)
		return err;

	/*
	 * A late completion still finds the peer: it is freed only after
	 * its QP and CQ are gone.
	 */
	if (!wait_for_completion_timeout(&peer->reg_done, HZ))
		return -ETIMEDOUT;
	return peer->reg_status == IB_WC_SUCCESS ? 0 : -EIO;
}

static int pmem_rdma_peer_setup(struct pmem_rdma_peer *peer,
				const struct rdma_conn_param *req)
{
	struct pmem_rdma_exp *exp = peer->exp;
	struct ib_qp_init_attr qa = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = {
			.max_send_wr = 2, .max_recv_wr = 1,
			.max_send_sge = 1, .max_recv_sge = 1,
		},
	};
	u8 draw[PMEM_RDMA_KEY_DRAW_LEN] = { 0 };
	struct pmem_rdma_accept acc = { };
	struct rdma_conn_param p = {};
	int err;

	peer->cq = ib_alloc_cq(exp->ibdev, peer, 4, 0, IB_POLL_SOFTIRQ);
	if (IS_ERR(peer->cq)) {
		err = PTR_ERR(peer->cq);
		peer->cq = NULL;
		return err;
	}
	qa.send_cq = peer->cq;
	qa.recv_cq = peer->cq;
	peer->qp = ib_create_qp(exp->pd, &qa);
	if (IS_ERR(peer->qp)) {
		err = PTR_ERR(peer->qp);
		peer->qp = NULL;
		return err;
	}
	/* VERIFY is a read on the QP; the MR's domain decides the rest */
	err = pmem_rdma_qp_to(peer, IB_QPS_INIT,
			      (pmem_rdma_ib_access(exp->req.access) &
			       ~IB_ACCESS_LOCAL_WRITE) |
			      (exp->req.access & PMEM_RDMA_ACCESS_VERIFY ?
			       IB_ACCESS_REMOTE_READ : 0));
	if (!err)
		err = pmem_rdma_qp_to(peer, IB_QPS_RTR, 0);
	/* keyed: bound before the accept leaves, so never met unbound */
	if (!err)
		err = pmem_rdma_keyed_bind_qp(exp, peer->qp, req, draw);
	if (!err)
		err = pmem_rdma_qp_to(peer, IB_QPS_RTS, 0);
	if (!err)
		err = pmem_rdma_reg_mr(peer);
	if (!err)
		err = pmem_rdma_keyed_bind_mr(exp, peer->mr);
	if (err)
		return err;

	pmem_rdma_desc_encode(&acc.desc, exp->req.flags |
			      (exp->keyed.key ? PMEM_RDMA_DESC_KEYED : 0),
			      peer->mr->iova,
			      exp->req.length, peer->mr->rkey, exp->req.access,
			      exp->req.verify_algs);
	err = pmem_rdma_access_accept(exp, req, &acc);
	if (err >= 0)
		err = pmem_rdma_keyed_accept(exp, req, draw, &acc, err);
	if (err < 0)
		return err;
	p.private_data = &acc;
	p.private_data_len = err;
	/*
	 * On the passive side the CM reports the request from this end's
	 * view: responder_resources is the peer's initiator depth, the READ
	 * and FLUSH requests it may have outstanding towards us.
	 */
	p.responder_resources = min_t(u8, req->responder_resources,
				      exp->ibdev->attrs.max_qp_rd_atom);
	p.initiator_depth = 0;
	p.rnr_retry_count = 7;
	p.qp_num = peer->qp->qp_num;
	return rdma_accept(peer->cm_id, &p);
}

/*
 * Take the peer off the export's list unless someone else did, or unless
 * only_half_open and it is established: true when it is the caller's to
 * destroy.
 */
static bool pmem_rdma_peer_unlist(struct pmem_rdma_peer *peer,
				  bool only_half_open)
{
	struct pmem_rdma_exp *exp = peer->exp;
	bool mine;

	mutex_lock(&exp->peers_lock);
	mine = peer->listed && !(only_half_open && peer->established);
	if (mine) {
		list_del(&peer->node);
		peer->listed = false;
		exp->npeers--;
	}
	mutex_unlock(&exp->peers_lock);
	return mine;
}

static void pmem_rdma_peer_destroy(struct pmem_rdma_peer *peer)
{
	rdma_destroy_id(peer->cm_id);
	pmem_rdma_peer_free(peer);
}

static void pmem_rdma_peer_gone_work(struct work_struct *work)
{
	struct pmem_rdma_peer *peer =
		container_of(work, struct pmem_rdma_peer, gone_work);

	if (!pmem_rdma_peer_unlist(peer, false))
		return;
	cancel_delayed_work_sync(&peer->deadline_work);
	pmem_rdma_peer_destroy(peer);
}

static void pmem_rdma_peer_deadline_work(struct work_struct *work)
{
	struct pmem_rdma_peer *peer =
		container_of(to_delayed_work(work), struct pmem_rdma_peer,
			     deadline_work);

	if (!pmem_rdma_peer_unlist(peer, true))
		return;
	cancel_work_sync(&peer->gone_work);
	atomic64_inc(&peer->exp->cnt.refused);
	pr_info_ratelimited("export %u: peer not established in time, dropped\n",
			    peer->exp->id);
	pmem_rdma_peer_destroy(peer);
}

/* refuse a connect request, saying why; the CM then destroys its id */
static int pmem_rdma_reject(struct pmem_rdma_exp *exp, struct rdma_cm_id *id,
			    u16 reason)
{
	struct pmem_rdma_reject rej;

	pmem_rdma_reject_encode(&rej, reason);
	atomic64_inc(&exp->cnt.refused);
	pr_info_ratelimited("export %u: peer refused (reason %u)\n", exp->id,
			    reason);
	rdma_reject(id, &rej, sizeof(rej), IB_CM_REJ_CONSUMER_DEFINED);
	return 1;
}

/* a place among the export's peers, before anything is allocated */
static bool pmem_rdma_peer_slot(struct pmem_rdma_exp *exp)
{
	bool ok;

	mutex_lock(&exp->peers_lock);
	ok = exp->npeers + exp->nsetup < exp->req.max_peers;
	if (ok)
		exp->nsetup++;
	mutex_unlock(&exp->peers_lock);
	return ok;
}

static int pmem_rdma_connect_request(struct rdma_cm_id *id,
				     struct rdma_cm_event *ev)
{
	struct pmem_rdma_exp *exp = id->context;
	struct pmem_rdma_peer *peer;
	int err = -ENOMEM;
	u16 reason;

	if (id->device != exp->ibdev)
		return pmem_rdma_reject(exp, id, PMEM_RDMA_REJECT_DEVICE);
	reason = pmem_rdma_access_judge(exp, id, &ev->param.conn);
	if (reason)
		return pmem_rdma_reject(exp, id, reason);
	if (!pmem_rdma_peer_slot(exp))
		return pmem_rdma_reject(exp, id, PMEM_RDMA_REJECT_FULL);

	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (peer) {
		peer->ctx.is_peer = true;
		peer->exp = exp;
		peer->cm_id = id;
		INIT_WORK(&peer->gone_work, pmem_rdma_peer_gone_work);
		INIT_DELAYED_WORK(&peer->deadline_work,
				  pmem_rdma_peer_deadline_work);
		id->context = peer;
		err = pmem_rdma_peer_setup(peer, &ev->param.conn);
	}

	mutex_lock(&exp->peers_lock);
	exp->nsetup--;
	if (!err) {
		list_add_tail(&peer->node, &exp->peers);
		peer->listed = true;
		exp->npeers++;
		queue_delayed_work(pmem_rdma_wq, &peer->deadline_work,
				   pmem_rdma_establish_jiffies());
	}
	mutex_unlock(&exp->peers_lock);
	if (err) {
		id->context = exp;
		if (peer)
			pmem_rdma_peer_free(peer);
		return pmem_rdma_reject(exp, id, PMEM_RDMA_REJECT_SETUP);
	}
	atomic64_inc(&exp->cnt.connects);
	return 0;
}

/* events of the listener (context: the export) and of peers (the peer) */
static int pmem_rdma_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct pmem_rdma_peer *peer;

	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
		return pmem_rdma_connect_request(id, ev);

	/* the listener's other events (address change, device removal) */
	if (!((struct pmem_rdma_cm_ctx *)id->context)->is_peer)
		return 0;
	peer = id->context;

	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		mutex_lock(&peer->exp->peers_lock);
		peer->established = true;
		mutex_unlock(&peer->exp->peers_lock);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		mutex_lock(&peer->exp->peers_lock);
		if (peer->listed)
			queue_work(pmem_rdma_wq, &peer->gone_work);
		mutex_unlock(&peer->exp->peers_lock);
		break;
	default:
		break;
	}
	return 0;
}

int pmem_rdma_cm_start(struct pmem_rdma_exp *exp)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_ANY_INIT,
		.sin6_port = htons(exp->req.port),
	};
	int err;

	exp->ibdev = ib_device_get_by_name(exp->req.ib_dev, RDMA_DRIVER_UNKNOWN);
	if (!exp->ibdev)
		return -ENODEV;
	/* refuse now an export that no peer could ever map */
	err = pmem_rdma_mr_fits(exp);
	if (err)
		goto out;
	exp->pd = ib_alloc_pd(exp->ibdev, 0);
	if (IS_ERR(exp->pd)) {
		err = PTR_ERR(exp->pd);
		exp->pd = NULL;
		goto out;
	}
	err = pmem_rdma_keyed_init(exp);
	if (err)
		goto out;
	exp->listen_id = rdma_create_id(&init_net, pmem_rdma_cm_handler, exp,
					RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(exp->listen_id)) {
		err = PTR_ERR(exp->listen_id);
		exp->listen_id = NULL;
		goto out;
	}
	err = rdma_bind_addr(exp->listen_id, (struct sockaddr *)&sin6);
	/* bound to any address, a taken port is all this can mean */
	if (err == -EADDRNOTAVAIL)
		err = -EADDRINUSE;
	if (!err)
		err = rdma_listen(exp->listen_id, 16);
	if (!err)
		return 0;
out:
	pmem_rdma_cm_stop(exp);
	return err;
}

void pmem_rdma_cm_stop(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_peer *peer, *tmp;
	LIST_HEAD(gone);

	/* no new peers, no more listener events */
	if (exp->listen_id) {
		rdma_destroy_id(exp->listen_id);
		exp->listen_id = NULL;
	}

	mutex_lock(&exp->peers_lock);
	list_splice_init(&exp->peers, &gone);
	list_for_each_entry(peer, &gone, node)
		peer->listed = false;
	exp->npeers = 0;
	mutex_unlock(&exp->peers_lock);
	/* disconnect works already queued find their peer unlisted */
	flush_workqueue(pmem_rdma_wq);

	list_for_each_entry_safe(peer, tmp, &gone, node) {
		cancel_delayed_work_sync(&peer->deadline_work);
		rdma_disconnect(peer->cm_id);
		rdma_destroy_id(peer->cm_id);
		pmem_rdma_peer_free(peer);
	}

	pmem_rdma_keyed_free(exp);
	if (exp->pd) {
		ib_dealloc_pd(exp->pd);
		exp->pd = NULL;
	}
	if (exp->ibdev) {
		ib_device_put(exp->ibdev);
		exp->ibdev = NULL;
	}
}

unsigned int pmem_rdma_cm_peers(struct pmem_rdma_exp *exp)
{
	unsigned int n;

	mutex_lock(&exp->peers_lock);
	n = exp->npeers;
	mutex_unlock(&exp->peers_lock);
	return n;
}

int pmem_rdma_cm_init(void)
{
	pmem_rdma_wq = alloc_workqueue("pmem_rdma", WQ_UNBOUND, 0);
	return pmem_rdma_wq ? 0 : -ENOMEM;
}

void pmem_rdma_cm_exit(void)
{
	destroy_workqueue(pmem_rdma_wq);
}
