/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for librdmacm's rdma_create_qp_ex(), which libpmrdma makes
 * its connection's QP with: the test binary's definition is the one the
 * static libpmrdma.a binds to.  It makes the QP as librdmacm does,
 * remembers the send ops asked for, and puts a recorder in front of the
 * device's post_send (ibv_post_send() is an inline call through the
 * context's ops): what went through ibv_post_send(), by opcode.  The
 * ibv_wr_*() verbs of an extended QP never pass there.
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

/* the requests posted through ibv_post_send() since cleared, by opcode */
static unsigned int lib_post_send_wrs[256];

typedef int (*lib_post_send_fn)(struct ibv_qp *, struct ibv_send_wr *,
				struct ibv_send_wr **);
static lib_post_send_fn lib_real_post_send;

static int lib_post_send_recorder(struct ibv_qp *qp, struct ibv_send_wr *wr,
				  struct ibv_send_wr **bad)
{
	const struct ibv_send_wr *w;

	for (w = wr; w; w = w->next)
		__atomic_add_fetch(&lib_post_send_wrs[w->opcode & 0xff], 1,
				   __ATOMIC_RELAXED);
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

	*(void **)&real = dlsym(RTLD_NEXT, "rdma_create_qp_ex");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	lib_qp_send_ops = attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS ?
			  attr->send_ops_flags : 0;
	/* the device's context is librdmacm's, shared by every id on it */
	if (id->verbs->ops.post_send != lib_post_send_recorder) {
		lib_real_post_send = id->verbs->ops.post_send;
		id->verbs->ops.post_send = lib_post_send_recorder;
	}
	return real(id, attr);
}

#endif /* PMEM_RDMA_LIB_VERBS_HELPERS_H */
