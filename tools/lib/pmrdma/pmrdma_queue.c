// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: a link's send queue.  Requests are gathered in a batch and
 * posted through the extended QP's ibv_wr_*() (upstream's only way to
 * FLUSH and ATOMIC WRITE), VERIFY through ibv_post_send(), with only the
 * batch's last request signaled.  RC completes in order, so each signaled
 * completion frees its batch's send queue slots, and a drain waits until
 * every batch has completed.  A link that fails stays failed.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <rdma/rxe_flush.h>

#include "pmrdma_queue.h"

int pmrdma_link_fail(struct pmrdma_link *l, int err, const char *what)
{
	if (!l->err)
		l->err = err;
	/* the copy fails for every lane: the others skip it from now on */
	if (l->copy_err && !__atomic_load_n(l->copy_err, __ATOMIC_ACQUIRE))
		__atomic_store_n(l->copy_err, err, __ATOMIC_RELEASE);
	snprintf(l->msg, sizeof(l->msg), "%s: %s", l->name, what);
	return err;
}

/* what a completion in error means, as an errno */
static int wc_errno(enum ibv_wc_status st)
{
	switch (st) {
	case IBV_WC_REM_ACCESS_ERR:
		return -EACCES;
	case IBV_WC_REM_INV_REQ_ERR:
		return -EINVAL;
	case IBV_WC_REM_OP_ERR:
		return -EREMOTEIO;
	case IBV_WC_RETRY_EXC_ERR:
	case IBV_WC_RNR_RETRY_EXC_ERR:
		return -ETIMEDOUT;
	case IBV_WC_WR_FLUSH_ERR:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

/*
 * How long the oldest batch may take: the link's wait, and its bytes at the
 * slowest rate the map accepts (a GPSPM answer: the bytes of its request,
 * counted in the batch that sent it).
 */
static int link_wait_ms(const struct pmrdma_link *l)
{
	uint64_t bytes = 0, ms;

	if (l->done != l->posted)
		bytes = l->batches[(l->done + 1) % l->conn.send_depth].bytes;
	ms = l->wait_ms + bytes / (l->wait_rate / 1000 ?: 1);
	return ms < INT_MAX ? (int)ms : INT_MAX;
}

/* something posted has not completed yet */
bool pmrdma_link_busy(const struct pmrdma_link *l)
{
	return l->done != l->posted || l->gp_inflight;
}

/* a completion of pmrdma_conn_*_wc(): 0, or the link's failure */
static int link_complete(struct pmrdma_link *l,
			 int n, const struct ibv_wc *wc)
{
	char m[128];

	if (n == -ECONNRESET)
		return pmrdma_link_fail(l, n, "the target disconnected");
	if (n < 0)
		return pmrdma_link_fail(l, n, "waiting for a completion failed");
	l->wait_start = pmrdma_now_ns();
	if (wc->status != IBV_WC_SUCCESS) {
		snprintf(m, sizeof(m), "a request failed: %s%s",
			 ibv_wc_status_str(wc->status),
			 l->conn.disconnected ? " (the target disconnected)" : "");
		return pmrdma_link_fail(l, wc_errno(wc->status), m);
	}
	if (wc->wr_id & PMRDMA_WR_RECV) {
		if (!l->ops || !l->ops->recv)
			return pmrdma_link_fail(l, -EPROTO,
						"a receive the method did not post");
		return l->ops->recv(l, wc->wr_id & ~PMRDMA_WR_RECV);
	}
	l->done = wc->wr_id;
	l->inflight -= l->batches[wc->wr_id % l->conn.send_depth].wrs;
	return 0;
}

/* wait for the oldest batch: 0, or the link's failure */
int pmrdma_link_reap(struct pmrdma_link *l)
{
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS };
	char m[128];
	int n, ms;

	if (l->err)
		return l->err;
	ms = link_wait_ms(l);
	n = pmrdma_conn_wait_wc(&l->conn, &wc, ms);
	if (n == 0) {
		snprintf(m, sizeof(m), "no completion in %d ms", ms);
		return pmrdma_link_fail(l, -ETIMEDOUT, m);
	}
	return link_complete(l, n, &wc);
}

int pmrdma_link_progress(struct pmrdma_link *l)
{
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS };
	char m[128];
	uint64_t ms;
	int n, err;

	/* a failed link only has its channels quieted, for the event fd */
	while ((n = pmrdma_conn_poll_wc(&l->conn, &wc)) == 1)
		if (!l->err) {
			err = link_complete(l, n, &wc);
			if (err)
				return err;
		}
	if (l->err)
		return l->err;
	if (!pmrdma_link_busy(l)) {
		l->natomics = 0;	/* every one has landed */
		return 0;
	}
	if (n < 0)
		return link_complete(l, n, &wc);
	ms = (uint64_t)link_wait_ms(l);
	if (pmrdma_now_ns() - l->wait_start > ms * 1000000) {
		snprintf(m, sizeof(m), "no completion in %llu ms",
			 (unsigned long long)ms);
		return pmrdma_link_fail(l, -ETIMEDOUT, m);
	}
	return 0;
}

void pmrdma_link_mark(const struct pmrdma_link *l, struct pmrdma_link_mark *m)
{
	m->batch = l->posted;
	m->gp = l->gp_sent;
}

/*
 * Batches complete in the order they were posted, and the target answers
 * GPSPM requests in the order they were sent.
 */
bool pmrdma_link_passed(const struct pmrdma_link *l,
			const struct pmrdma_link_mark *m)
{
	return l->done >= m->batch && l->gp_sent - l->gp_inflight >= m->gp;
}

int pmrdma_link_watch(const struct pmrdma_link *l, int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l->conn.cc || !l->conn.ch)
		return 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->conn.cc->fd, &ev) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, l->conn.ch->fd, &ev))
		return -errno;
	return 0;
}

int pmrdma_link_drain(struct pmrdma_link *l)
{
	int err;

	while (pmrdma_link_busy(l)) {
		err = pmrdma_link_reap(l);
		if (err)
			return err;
	}
	if (!l->err)
		l->natomics = 0;	/* every one has landed */
	return l->err;
}

/*
 * VERIFY has no verb of upstream rdma-core: the provider of rdma_rxe_flush
 * takes it from ibv_post_send(), on any QP.  Everything else goes through
 * the extended QP's ibv_wr_*(), the only way upstream has to FLUSH and
 * ATOMIC WRITE.
 */
static bool wr_posts_by_post_send(const struct ibv_send_wr *wr)
{
	return (unsigned int)wr->opcode == RXE_FLUSH_WR_VERIFY;
}

/* b's requests [i, end) through ibv_post_send(), as one chain: 0 or errno */
static int batch_post_send(struct pmrdma_link *l, struct pmrdma_batch *b,
			   unsigned int i, unsigned int end)
{
	struct ibv_send_wr *bad;
	unsigned int k;

	for (k = i; k < end; k++) {
		b->wr[k].next = k + 1 < end ? &b->wr[k + 1] : NULL;
		if (b->wr[k].num_sge)
			b->wr[k].sg_list = &b->sge[k];
	}
	return ibv_post_send(pmrdma_conn_qp(&l->conn), &b->wr[i], &bad);
}

/* b's requests [i, end) through the extended QP's verbs: 0 or errno */
static int batch_post_wr(struct pmrdma_link *l, struct pmrdma_batch *b,
			 unsigned int i, unsigned int end)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(pmrdma_conn_qp(&l->conn));
	uint32_t rkey = l->conn.r.rkey;

	ibv_wr_start(qx);
	for (; i < end; i++) {
		const struct ibv_send_wr *wr = &b->wr[i];
		const struct ibv_sge *sge = &b->sge[i];
		uint64_t raddr = wr->wr.rdma.remote_addr;

		qx->wr_id = wr->wr_id;
		qx->wr_flags = wr->send_flags;
		switch (wr->opcode) {
		case IBV_WR_RDMA_WRITE:
			ibv_wr_rdma_write(qx, rkey, raddr);
			break;
		case IBV_WR_RDMA_READ:
			ibv_wr_rdma_read(qx, rkey, raddr);
			break;
		case IBV_WR_SEND:
			ibv_wr_send(qx);
			break;
		case IBV_WR_FLUSH:
			ibv_wr_flush(qx, rkey, raddr, sge->length,
				     b->flush[i].type, b->flush[i].level);
			continue;
		case IBV_WR_ATOMIC_WRITE:
			/* the verb copies the 8 bytes */
			ibv_wr_atomic_write(qx, rkey, raddr,
					    (const void *)(uintptr_t)sge->addr);
			continue;
		default:
			ibv_wr_abort(qx);
			return EINVAL;
		}
		if (wr->send_flags & IBV_SEND_INLINE)
			ibv_wr_set_inline_data(qx, (void *)(uintptr_t)sge->addr,
					       sge->length);
		else
			ibv_wr_set_sge(qx, sge->lkey, sge->addr, sge->length);
	}
	return ibv_wr_complete(qx);
}

/*
 * Post b, its last request signaled, once the queue has room: each run of
 * requests that take the same way in one call, run after run, so that the
 * send queue holds them in b's order.
 */
int pmrdma_batch_post(struct pmrdma_link *l,
		      struct pmrdma_batch *b)
{
	unsigned int i, end;
	bool post_send;
	int err;

	if (!b->n)
		return 0;
	while (l->inflight + b->n > l->conn.send_depth) {
		err = pmrdma_link_reap(l);
		if (err)
			return err;
	}
	if (!pmrdma_link_busy(l))
		l->wait_start = pmrdma_now_ns();
	b->wr[b->n - 1].send_flags |= IBV_SEND_SIGNALED;
	b->wr[b->n - 1].wr_id = ++l->posted;
	l->batches[l->posted % l->conn.send_depth] = (struct pmrdma_link_batch){
		.bytes = b->bytes, .wrs = b->n,
	};
	for (i = 0; i < b->n; i = end) {
		post_send = wr_posts_by_post_send(&b->wr[i]);
		for (end = i + 1; end < b->n &&
		     wr_posts_by_post_send(&b->wr[end]) == post_send; end++)
			;
		err = post_send ? batch_post_send(l, b, i, end) :
				  batch_post_wr(l, b, i, end);
		if (err) {
			/* the link fails: what went out is never waited for */
			l->posted--;
			return pmrdma_link_fail(l, -err,
					 post_send ? "ibv_post_send refused a request" :
						     "ibv_wr_complete refused a request");
		}
	}
	l->inflight += b->n;
	b->n = 0;
	b->bytes = 0;
	return 0;
}

/* the next WR of b, for bytes of the export, posting b first when full */
struct ibv_send_wr *pmrdma_batch_next(struct pmrdma_link *l, struct pmrdma_batch *b,
				      uint64_t bytes, int *err)
{
	struct ibv_send_wr *wr;

	if (b->n == LINK_BATCH) {
		*err = pmrdma_batch_post(l, b);
		if (*err)
			return NULL;
	}
	b->bytes += bytes;
	wr = &b->wr[b->n];
	memset(wr, 0, sizeof(*wr));
	memset(&b->sge[b->n], 0, sizeof(b->sge[0]));
	b->n++;
	return wr;
}

/* the remote address of the view's offset off */
uint64_t pmrdma_link_raddr(const struct pmrdma_link *l, uint64_t off)
{
	return l->conn.r.iova + l->window + off;
}

/* one request on the view's [off, off + len), data at local/lkey */
int pmrdma_batch_add(struct pmrdma_link *l,
		     struct pmrdma_batch *b, enum ibv_wr_opcode op, uint64_t off,
		     uint64_t len, const void *local, uint32_t lkey,
		     unsigned int flags)
{
	struct ibv_send_wr *wr;
	int err = 0;

	wr = pmrdma_batch_next(l, b, len, &err);
	if (!wr)
		return err;
	wr->opcode = op;
	wr->send_flags = flags;
	wr->num_sge = 1;
	wr->wr.rdma.remote_addr = pmrdma_link_raddr(l, off);
	wr->wr.rdma.rkey = l->conn.r.rkey;
	b->sge[b->n - 1] = (struct ibv_sge){
		.addr = (uintptr_t)local, .length = len, .lkey = lkey,
	};
	return 0;
}
