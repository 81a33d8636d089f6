/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for librdmacm's rdma_create_qp_ex(), which libpmrdma makes
 * its connection's QP with: the test binary's definition is the one the
 * static libpmrdma.a binds to.  It makes the QP as librdmacm does,
 * remembers the send ops and the capacities asked for, and puts a
 * recorder in front of the device's post_send (ibv_post_send() is an
 * inline call through the context's ops): what went through
 * ibv_post_send(), by opcode.  The ibv_wr_*() verbs of an extended QP
 * never pass there; of those, it counts the requests that carry their
 * data inline.  A test may have it report less inline data granted than
 * the device gave, as a device that breaks the verbs' contract might.
 *
 * Both ways, and the completions polled, it keeps the send queue as the
 * library fills it: loopback rxe sends a request as it is posted, so its
 * queue never fills, and only this count shows whether the library would
 * overrun a real device's.
 *
 * Header only, and in one file of a test binary: it defines the call.
 */
#ifndef PMEM_RDMA_LIB_VERBS_HELPERS_H
#define PMEM_RDMA_LIB_VERBS_HELPERS_H

#include <dlfcn.h>
#include <errno.h>

#include <rdma/rdma_cma.h>

/* the IBV_QP_EX_WITH_* of the last QP made; 0: a plain one */
static uint64_t lib_qp_send_ops;

/* the capacities the last QP was asked for */
static struct ibv_qp_cap lib_qp_cap;

/* while >= 0: the inline data each QP is said to be granted */
static int lib_qp_inline_granted = -1;

/* the requests of an extended QP given their data inline, since cleared */
static unsigned int lib_wr_inline;

typedef void (*lib_wr_set_inline_data_fn)(struct ibv_qp_ex *, void *, size_t);
static lib_wr_set_inline_data_fn lib_real_wr_set_inline_data;

static void lib_wr_set_inline_data_recorder(struct ibv_qp_ex *qx, void *addr,
					    size_t len)
{
	__atomic_add_fetch(&lib_wr_inline, 1, __ATOMIC_RELAXED);
	lib_real_wr_set_inline_data(qx, addr, len);
}

/*
 * The send queue: requests posted and not freed yet by the completion of
 * the signaled one they end with, and the most since cleared.  The
 * signaled ones in flight, oldest first, each with the requests it frees.
 */
static unsigned int lib_sq_used, lib_sq_peak, lib_sq_unsignaled;
static struct {
	uint64_t wr_id;
	unsigned int wrs;
} lib_sq_signaled[4096];
static unsigned int lib_sq_head, lib_sq_tail;

static inline void lib_sq_clear(void)
{
	lib_sq_used = lib_sq_peak = lib_sq_unsignaled = 0;
	lib_sq_head = lib_sq_tail = 0;
}

static void lib_sq_post(uint64_t wr_id, unsigned int flags)
{
	lib_sq_used++;
	lib_sq_unsignaled++;
	if (lib_sq_used > lib_sq_peak)
		lib_sq_peak = lib_sq_used;
	if (flags & IBV_SEND_SIGNALED) {
		lib_sq_signaled[lib_sq_tail % 4096].wr_id = wr_id;
		lib_sq_signaled[lib_sq_tail % 4096].wrs = lib_sq_unsignaled;
		lib_sq_tail++;
		lib_sq_unsignaled = 0;
	}
}

/* a signaled request completed: it and those before it are freed */
static void lib_sq_complete(uint64_t wr_id)
{
	unsigned int i;

	for (i = lib_sq_head; i != lib_sq_tail; i++) {
		if (lib_sq_signaled[i % 4096].wr_id != wr_id)
			continue;
		for (; lib_sq_head != i + 1; lib_sq_head++)
			lib_sq_used -= lib_sq_signaled[lib_sq_head % 4096].wrs;
		return;
	}
}

typedef int (*lib_poll_cq_fn)(struct ibv_cq *, int, struct ibv_wc *);
static lib_poll_cq_fn lib_real_poll_cq;

static int lib_poll_cq_recorder(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	int i, got = lib_real_poll_cq(cq, n, wc);

	for (i = 0; i < got; i++)
		if (wc[i].status == IBV_WC_SUCCESS && !(wc[i].opcode & IBV_WC_RECV))
			lib_sq_complete(wc[i].wr_id);
	return got;
}

/* the provider's verbs of an extended QP (rxe's, for every QP) */
static struct ibv_qp_ex lib_real_wr;

/* the requests of an extended QP, counted as they are posted */

static void lib_wr_rdma_write(struct ibv_qp_ex *qx, uint32_t rkey,
			      uint64_t raddr)
{
	lib_sq_post(qx->wr_id, qx->wr_flags);
	lib_real_wr.wr_rdma_write(qx, rkey, raddr);
}

static void lib_wr_rdma_read(struct ibv_qp_ex *qx, uint32_t rkey,
			     uint64_t raddr)
{
	lib_sq_post(qx->wr_id, qx->wr_flags);
	lib_real_wr.wr_rdma_read(qx, rkey, raddr);
}

static void lib_wr_send(struct ibv_qp_ex *qx)
{
	lib_sq_post(qx->wr_id, qx->wr_flags);
	lib_real_wr.wr_send(qx);
}

static void lib_wr_flush(struct ibv_qp_ex *qx, uint32_t rkey, uint64_t raddr,
			 size_t len, uint8_t type, uint8_t level)
{
	lib_sq_post(qx->wr_id, qx->wr_flags);
	lib_real_wr.wr_flush(qx, rkey, raddr, len, type, level);
}

static void lib_wr_atomic_write(struct ibv_qp_ex *qx, uint32_t rkey,
				uint64_t raddr, const void *value)
{
	lib_sq_post(qx->wr_id, qx->wr_flags);
	lib_real_wr.wr_atomic_write(qx, rkey, raddr, value);
}

/* the requests posted through ibv_post_send() since cleared, by opcode */
static unsigned int lib_post_send_wrs[256];

typedef int (*lib_post_send_fn)(struct ibv_qp *, struct ibv_send_wr *,
				struct ibv_send_wr **);
static lib_post_send_fn lib_real_post_send;

static int lib_post_send_recorder(struct ibv_qp *qp, struct ibv_send_wr *wr,
				  struct ibv_send_wr **bad)
{
	const struct ibv_send_wr *w;

	for (w = wr; w; w = w->next) {
		__atomic_add_fetch(&lib_post_send_wrs[w->opcode & 0xff], 1,
				   __ATOMIC_RELAXED);
		lib_sq_post(w->wr_id, w->send_flags);
	}
	return lib_real_post_send(qp, wr, bad);
}

/* every request through ibv_post_send() since cleared */
static inline unsigned int lib_post_send_total(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < 256; i++)
		n += __atomic_load_n(&lib_post_send_wrs[i], __ATOMIC_RELAXED);
	return n;
}

static inline void lib_post_send_clear(void)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		__atomic_store_n(&lib_post_send_wrs[i], 0, __ATOMIC_RELAXED);
}

int rdma_create_qp_ex(struct rdma_cm_id *id, struct ibv_qp_init_attr_ex *attr)
{
	int (*real)(struct rdma_cm_id *, struct ibv_qp_init_attr_ex *) = NULL;
	struct ibv_qp_ex *qx;
	int ret;

	*(void **)&real = dlsym(RTLD_NEXT, "rdma_create_qp_ex");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	lib_qp_send_ops = attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS ?
			  attr->send_ops_flags : 0;
	lib_qp_cap = attr->cap;
	/* the device's context is librdmacm's, shared by every id on it */
	if (id->verbs->ops.post_send != lib_post_send_recorder) {
		lib_real_post_send = id->verbs->ops.post_send;
		id->verbs->ops.post_send = lib_post_send_recorder;
		lib_real_poll_cq = id->verbs->ops.poll_cq;
		id->verbs->ops.poll_cq = lib_poll_cq_recorder;
	}
	ret = real(id, attr);
	if (ret)
		return ret;
	if (lib_qp_inline_granted >= 0)
		attr->cap.max_inline_data = lib_qp_inline_granted;
	if (lib_qp_send_ops) {
		qx = ibv_qp_to_qp_ex(id->qp);
		lib_real_wr_set_inline_data = qx->wr_set_inline_data;
		qx->wr_set_inline_data = lib_wr_set_inline_data_recorder;
		lib_real_wr = *qx;
		qx->wr_rdma_write = lib_wr_rdma_write;
		qx->wr_rdma_read = lib_wr_rdma_read;
		qx->wr_send = lib_wr_send;
		qx->wr_flush = lib_wr_flush;
		qx->wr_atomic_write = lib_wr_atomic_write;
	}
	return 0;
}

#endif /* PMEM_RDMA_LIB_VERBS_HELPERS_H */
