// SPDX-License-Identifier: GPL-2.0
/*
 * The rxe_flush direct verbs of the patched provider (rdma-core patch
 * 0004, <infiniband/rxe_flush_dv.h>, -lrxe): the device query against
 * what the driver says of itself, the QP create flag and its refusals,
 * VERIFY and flush-and-verify through the ibv_wr_*() API with good and bad
 * requests, and a dv request on a QP made without the flag failing at
 * ibv_wr_complete().  A pair of QPs on rxe0, the target the devdax
 * mapping (flush_helpers.h); the requester QP is a dv one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/rxe_flush_dv.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"
#include "verify_helpers.h"

#define SHA256		RXE_FLUSH_VERIFY_ALG_SHA256
#define XXH64		RXE_FLUSH_VERIFY_ALG_XXH64

FIXTURE(dv)
{
	struct pt_flush_env e;
	struct ibv_qp *dvqp, *rqp;
	struct ibv_qp_ex *qx;
	uint8_t *dg;		/* the digest buffer, in the source MR */
};

static struct ibv_qp_init_attr_ex qp_attr(struct pt_flush_env *e,
					  struct ibv_cq *cq)
{
	return (struct ibv_qp_init_attr_ex){
		.qp_type = IBV_QPT_RC,
		.send_cq = cq, .recv_cq = cq,
		.cap = { .max_send_wr = 16, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1,
			 .max_inline_data = 64 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = e->c.pd,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE,
	};
}

FIXTURE_SETUP(dv)
{
	struct rxe_flush_dv_qp_init_attr dva = {
		.send_ops_flags = RXE_FLUSH_DV_QP_EX_WITH_VERIFY,
	};
	struct ibv_qp_init_attr_ex a;
	const char *what;
	int ret;

	ret = pt_flush_env_open(&self->e, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	a = qp_attr(&self->e, self->e.c.cq[0]);
	self->dvqp = rxe_flush_dv_create_qp(self->e.c.ctx, &a, &dva);
	ASSERT_NE(NULL, self->dvqp) TH_LOG("%s", strerror(errno));
	a = qp_attr(&self->e, self->e.c.cq[1]);
	a.pd = self->e.c.qp[1]->pd;
	self->rqp = ibv_create_qp_ex(self->e.c.ctx, &a);
	ASSERT_NE(NULL, self->rqp);
	ASSERT_EQ(0, pt_qp_connect(&self->e.c, self->dvqp, self->rqp->qp_num,
				   &self->e.c.gid, PT_FLUSH_QP_ACCESS));
	ASSERT_EQ(0, pt_qp_connect(&self->e.c, self->rqp, self->dvqp->qp_num,
				   &self->e.c.gid, PT_FLUSH_QP_ACCESS));
	self->qx = ibv_qp_to_qp_ex(self->dvqp);
	self->dg = self->e.src + PT_SRC_SIZE - 4096;
}

FIXTURE_TEARDOWN(dv)
{
	if (self->dvqp)
		ibv_destroy_qp(self->dvqp);
	if (self->rqp)
		ibv_destroy_qp(self->rqp);
	pt_flush_env_close(&self->e);
}

/* the module's version as rxe_flush_dv_query_device() gives it */
static uint32_t module_version(void)
{
	unsigned int maj, min, sub;
	char v[32];

	if (pt_read_line("/sys/module/rdma_rxe_flush/version", v, sizeof(v)) ||
	    sscanf(v, "%u.%u.%u", &maj, &min, &sub) != 3)
		return 0;
	return maj << 16 | min << 8 | sub;
}

TEST_F(dv, device_query_matches_the_driver)
{
	struct rxe_flush_dv_device_attr attr = { 0 };

	EXPECT_TRUE(rxe_flush_dv_is_supported(self->e.c.ctx->device));
	ASSERT_EQ(0, rxe_flush_dv_query_device(self->e.c.ctx, &attr));
	EXPECT_EQ(module_version(), attr.version);
	EXPECT_EQ(RXE_FLUSH_DV_DEVICE_VERIFY |
		  RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY |
		  RXE_FLUSH_DV_DEVICE_KEYED_MR |
		  RXE_FLUSH_DV_DEVICE_KEYED_ATOMIC_WRITE |
		  RXE_FLUSH_DV_DEVICE_KEYED_VERIFY, attr.flags);
	EXPECT_EQ(RXE_FLUSH_VERIFY_ALGS, attr.verify_algs);
	EXPECT_EQ((1U << 31) - 1, attr.max_verify_length);
	attr.comp_mask = 1;
	EXPECT_EQ(EINVAL, rxe_flush_dv_query_device(self->e.c.ctx, &attr));
}

TEST_F(dv, create_qp_refusals)
{
	struct rxe_flush_dv_qp_init_attr dva = {
		.send_ops_flags = RXE_FLUSH_DV_QP_EX_WITH_VERIFY,
	};
	struct ibv_qp_init_attr_ex a = qp_attr(&self->e, self->e.c.cq[0]);

	a.qp_type = IBV_QPT_UD;
	EXPECT_EQ(NULL, rxe_flush_dv_create_qp(self->e.c.ctx, &a, &dva));
	EXPECT_EQ(EOPNOTSUPP, errno);
	a = qp_attr(&self->e, self->e.c.cq[0]);
	a.comp_mask &= ~IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	EXPECT_EQ(NULL, rxe_flush_dv_create_qp(self->e.c.ctx, &a, &dva));
	EXPECT_EQ(EOPNOTSUPP, errno);
	a = qp_attr(&self->e, self->e.c.cq[0]);
	dva.send_ops_flags = 1 << 5;
	EXPECT_EQ(NULL, rxe_flush_dv_create_qp(self->e.c.ctx, &a, &dva));
	EXPECT_EQ(EINVAL, errno);
	dva.send_ops_flags = RXE_FLUSH_DV_QP_EX_WITH_VERIFY;
	dva.comp_mask = 1;
	EXPECT_EQ(NULL, rxe_flush_dv_create_qp(self->e.c.ctx, &a, &dva));
	EXPECT_EQ(EINVAL, errno);
}

/* post what the caller put between start and complete; its completion */
static int complete_on(struct ibv_qp_ex *qx, struct ibv_cq *cq,
		       struct ibv_wc *wc)
{
	int ret = ibv_wr_complete(qx);

	return ret ? ret : pt_poll_one(cq, wc, 5000);
}

#define complete_one(self, wc)	complete_on((self)->qx, (self)->e.c.cq[0], wc)

TEST_F(dv, wr_verify_returns_and_compares)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.pm + 100, 5000, 81);
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.pm + 100, 5000, want));

	ibv_wr_start(self->qx);
	self->qx->wr_id = 1;
	self->qx->wr_flags = IBV_SEND_SIGNALED;
	rxe_flush_dv_wr_verify(self->qx, self->e.pm_mr->rkey,
			       (uintptr_t)self->e.pm + 100, 5000, SHA256, 0);
	ibv_wr_set_sge(self->qx, self->e.src_mr->lkey, (uintptr_t)self->dg, 32);
	ASSERT_EQ(0, complete_one(self, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	EXPECT_EQ(32, wc.byte_len);
	EXPECT_EQ(0, memcmp(want, self->dg, 32));

	/* compare, the expected digest inline */
	ibv_wr_start(self->qx);
	self->qx->wr_id = 2;
	self->qx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	rxe_flush_dv_wr_verify(self->qx, self->e.pm_mr->rkey,
			       (uintptr_t)self->e.pm + 100, 5000, SHA256,
			       RXE_FLUSH_VERIFY_COMPARE);
	ibv_wr_set_inline_data(self->qx, want, 32);
	ASSERT_EQ(0, complete_one(self, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(2, wc.wr_id);
}

TEST_F(dv, wr_flush_verify_good_and_bad)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	long long wb0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.pm + 8192, 4096, 82);
	ASSERT_EQ(8, pmrdma_digest(XXH64, self->e.pm + 8192, 4096, want));
	wb0 = pt_read_counter("persist_writeback_calls");

	ibv_wr_start(self->qx);
	self->qx->wr_flags = IBV_SEND_SIGNALED;
	rxe_flush_dv_wr_flush_verify(self->qx, self->e.pm_mr->rkey,
				     (uintptr_t)self->e.pm + 8192, 4096,
				     IBV_FLUSH_PERSISTENT, XXH64, 0);
	ibv_wr_set_sge(self->qx, self->e.src_mr->lkey, (uintptr_t)self->dg, 8);
	ASSERT_EQ(0, complete_one(self, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, memcmp(want, self->dg, 8));
	EXPECT_EQ(1, pt_read_counter("persist_writeback_calls") - wb0);

	/* a reserved placement type bit: refused by the responder */
	ibv_wr_start(self->qx);
	rxe_flush_dv_wr_flush_verify(self->qx, self->e.pm_mr->rkey,
				     (uintptr_t)self->e.pm + 8192, 4096, 4,
				     XXH64, 0);
	ibv_wr_set_sge(self->qx, self->e.src_mr->lkey, (uintptr_t)self->dg, 8);
	ASSERT_EQ(0, complete_one(self, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
}

/* a QP made without the flag: nothing posted, an error at complete */
TEST_F(dv, wr_verify_on_a_qp_without_the_flag)
{
	struct ibv_qp_ex *plain = ibv_qp_to_qp_ex(self->e.c.qp[0]);
	struct ibv_wc wc;

	ibv_wr_start(plain);
	rxe_flush_dv_wr_verify(plain, 1, 0, 64, SHA256, 0);
	ibv_wr_set_sge(plain, self->e.src_mr->lkey, (uintptr_t)self->dg, 32);
	EXPECT_EQ(EOPNOTSUPP, ibv_wr_complete(plain));
	EXPECT_EQ(-ETIMEDOUT, pt_poll_one(self->e.c.cq[0], &wc, 300));
}

/* the first device called name, opened, or NULL */
static struct ibv_context *open_named(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/*
 * Debian's in-tree rdma_rxe, in place of ours for a moment: the same
 * provider serves it, and every dv call says "not supported" cleanly.
 */
TEST(in_tree_rxe_is_not_supported)
{
	struct rxe_flush_dv_qp_init_attr dva = {
		.send_ops_flags = RXE_FLUSH_DV_QP_EX_WITH_VERIFY,
	};
	const char *rxe_ko = getenv("PMEM_RDMA_RXE_KO");
	const char *pmem_ko = getenv("PMEM_RDMA_KO");
	struct rxe_flush_dv_device_attr attr = { 0 };
	struct ibv_qp_init_attr_ex a = {
		.qp_type = IBV_QPT_RC,
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE,
	};
	bool pmem = pt_exists("/sys/module/pmem_rdma");
	struct ibv_context *ctx = NULL;
	struct ibv_cq *cq = NULL;
	int swapped;

	if (!rxe_ko || !pmem_ko)
		SKIP(return, "needs PMEM_RDMA_RXE_KO and PMEM_RDMA_KO");
	swapped = !(pmem && pt_sh("rmmod pmem_rdma")) &&
		  !pt_sh("rdma link delete rxe0 && rmmod rdma_rxe_flush") &&
		  /* past the guest's install rule that keeps it out otherwise */
		  !pt_sh("modprobe --ignore-install rdma_rxe && %s",
			 "rdma link add rxe0 type rxe netdev d0");
	if (swapped)
		ctx = open_named("rxe0");
	if (ctx) {
		EXPECT_FALSE(rxe_flush_dv_is_supported(ctx->device));
		EXPECT_EQ(EOPNOTSUPP, rxe_flush_dv_query_device(ctx, &attr));
		a.pd = ibv_alloc_pd(ctx);
		cq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
		a.send_cq = a.recv_cq = cq;
		a.cap.max_send_wr = a.cap.max_recv_wr = 1;
		a.cap.max_send_sge = a.cap.max_recv_sge = 1;
		EXPECT_EQ(NULL, rxe_flush_dv_create_qp(ctx, &a, &dva));
		EXPECT_EQ(EOPNOTSUPP, errno);
		if (cq)
			ibv_destroy_cq(cq);
		if (a.pd)
			ibv_dealloc_pd(a.pd);
		ibv_close_device(ctx);
	}

	/* ours again, as the tests after this one expect */
	pt_sh("rdma link delete rxe0 2>/dev/null; rmmod rdma_rxe 2>/dev/null");
	EXPECT_EQ(0, pt_restore_stack());
	ASSERT_TRUE(swapped) TH_LOG("could not put the in-tree rdma_rxe in place");
	ASSERT_NE(NULL, ctx);
}

TEST_HARNESS_MAIN
