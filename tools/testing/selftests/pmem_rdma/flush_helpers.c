// SPDX-License-Identifier: GPL-2.0
/* FLUSH and ATOMIC WRITE helpers for the pmem_rdma selftests. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flush_helpers.h"

void *pt_map_pmem(void)
{
	const char *dev = getenv("PMEM_RDMA_DAX");
	const char *mode = getenv("PMEM_RDMA_MODE");
	void *p;
	int fd;

	if (!dev || !mode || strcmp(mode, "devdax"))
		return NULL;
	fd = open(dev, O_RDWR);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, PT_PM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

int pt_wait_wc(struct pt_ctx *c, struct ibv_wc *wc)
{
	return pt_poll_one(c->cq[0], wc, PT_WC_TIMEOUT_MS);
}

int pt_wr_flush(struct pt_ctx *c, uint32_t rkey, uint64_t raddr,
		size_t len, uint8_t type, uint8_t level, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(c->qp[0]);

	ibv_wr_start(qx);
	qx->wr_id = 0xf1;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_flush(qx, rkey, raddr, len, type, level);
	if (ibv_wr_complete(qx))
		return -errno;
	return pt_wait_wc(c, wc);
}

int pt_wr_atomic_write(struct pt_ctx *c, uint32_t rkey, uint64_t raddr,
		       const void *val, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(c->qp[0]);

	ibv_wr_start(qx);
	qx->wr_id = 0xa7;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qx, rkey, raddr, val);
	if (ibv_wr_complete(qx))
		return -errno;
	return pt_wait_wc(c, wc);
}

int pt_post_send(struct pt_ctx *c, enum ibv_wr_opcode op, void *buf,
		 uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey,
		 uint32_t feth, struct ibv_wc *wc)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 0xc1, .opcode = op, .send_flags = IBV_SEND_SIGNALED,
		.sg_list = &sge, .num_sge = 1,
		.imm_data = htobe32(feth),
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	}, *bad;
	int ret;

	ret = ibv_post_send(c->qp[0], &wr, &bad);
	if (ret)
		return -ret;
	return pt_wait_wc(c, wc);
}

int pt_flush_env_open(struct pt_flush_env *e, const char **what)
{
	return pt_flush_env_open_qp(e, PT_FLUSH_QP_ACCESS, what);
}

int pt_flush_env_open_qp(struct pt_flush_env *e, int qp_access,
			 const char **what)
{
	int ret;

	memset(e, 0, sizeof(*e));
	*what = "open the device";
	ret = pt_open(&e->c);
	if (ret)
		return ret;
	*what = "connect two QPs";
	ret = pt_connect_pair_ex(&e->c, qp_access, PT_FLUSH_SEND_OPS);
	if (ret)
		return ret;
	*what = "register the source buffer";
	e->src = aligned_alloc(4096, PT_SRC_SIZE);
	if (!e->src)
		return -ENOMEM;
	memset(e->src, 0, PT_SRC_SIZE);
	e->src_mr = ibv_reg_mr(e->c.pd, e->src, PT_SRC_SIZE,
			       IBV_ACCESS_LOCAL_WRITE);
	if (!e->src_mr)
		return -errno;
	e->pm = pt_map_pmem();
	if (!e->pm)
		return 0;
	*what = "register the devdax mapping";
	memset(e->pm, 0, PT_PM_SIZE);
	e->pm_mr = ibv_reg_mr(e->c.pd, e->pm, PT_PM_SIZE, PT_FLUSH_QP_ACCESS);
	return e->pm_mr ? 0 : -errno;
}

void pt_flush_env_close(struct pt_flush_env *e)
{
	if (e->pm_mr)
		ibv_dereg_mr(e->pm_mr);
	if (e->src_mr)
		ibv_dereg_mr(e->src_mr);
	if (e->pm)
		munmap(e->pm, PT_PM_SIZE);
	pt_close(&e->c);
	free(e->src);
	memset(e, 0, sizeof(*e));
}
