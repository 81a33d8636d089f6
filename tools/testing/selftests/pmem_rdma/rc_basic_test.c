// SPDX-License-Identifier: GPL-2.0
/*
 * RC SEND, RDMA WRITE and RDMA READ between two QPs on rxe0 move exactly
 * the right bytes: every transfer carries a seeded pattern that is checked
 * byte by byte at the target, and the bytes around it stay untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"

#define GUARD		64	/* bytes after the target range that must not change */
#define GUARD_BYTE	0x5a
#define TIMEOUT_MS	20000

FIXTURE(rc_pair)
{
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
};

FIXTURE_VARIANT(rc_pair)
{
	size_t len;
};

FIXTURE_VARIANT_ADD(rc_pair, one_byte) { .len = 1 };
FIXTURE_VARIANT_ADD(rc_pair, one_page) { .len = 4096 };
FIXTURE_VARIANT_ADD(rc_pair, multi_packet) { .len = 256 * 1024 + 3 };

FIXTURE_SETUP(rc_pair)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	size_t size = variant->len + GUARD;

	ASSERT_EQ(0, pt_open(&self->c));
	ASSERT_EQ(0, pt_connect_pair(&self->c, access));
	self->src = malloc(size);
	self->dst = malloc(size);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	memset(self->src, 0, size);
	memset(self->dst, GUARD_BYTE, size);
	self->src_mr = ibv_reg_mr(self->c.pd, self->src, size, access);
	self->dst_mr = ibv_reg_mr(self->c.pd, self->dst, size, access);
	ASSERT_NE(NULL, self->src_mr);
	ASSERT_NE(NULL, self->dst_mr);
}

FIXTURE_TEARDOWN(rc_pair)
{
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	pt_close(&self->c);
	free(self->src);
	free(self->dst);
}

static int guard_intact(const unsigned char *p)
{
	int i;

	for (i = 0; i < GUARD; i++)
		if (p[i] != GUARD_BYTE)
			return 0;
	return 1;
}

TEST_F(rc_pair, send_recv)
{
	struct ibv_sge ssge = {
		.addr = (uintptr_t)self->src, .length = variant->len,
		.lkey = self->src_mr->lkey,
	};
	struct ibv_sge rsge = {
		.addr = (uintptr_t)self->dst, .length = variant->len,
		.lkey = self->dst_mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = &rsge, .num_sge = 1 };
	struct ibv_send_wr swr = {
		.wr_id = 1, .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_recv_wr *rbad;
	struct ibv_wc wc;

	pt_fill_pattern(self->src, variant->len, 0x1234);
	ASSERT_EQ(0, ibv_post_recv(self->c.qp[1], &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(self->c.qp[0], &swr, &bad));

	ASSERT_EQ(0, pt_poll_one(self->c.cq[0], &wc, TIMEOUT_MS));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_SEND, wc.opcode);
	EXPECT_EQ(1, wc.wr_id);

	ASSERT_EQ(0, pt_poll_one(self->c.cq[1], &wc, TIMEOUT_MS));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_RECV, wc.opcode);
	EXPECT_EQ(2, wc.wr_id);
	EXPECT_EQ(variant->len, wc.byte_len);

	EXPECT_EQ(0, pt_check_pattern(self->dst, variant->len, 0x1234));
	EXPECT_TRUE(guard_intact(self->dst + variant->len));
}

TEST_F(rc_pair, rdma_write)
{
	struct ibv_wc wc;

	pt_fill_pattern(self->src, variant->len, 0xabcd);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src,
				  variant->len, self->src_mr->lkey,
				  (uintptr_t)self->dst, self->dst_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_RDMA_WRITE, wc.opcode);
	EXPECT_EQ(IBV_WR_RDMA_WRITE, wc.wr_id);

	EXPECT_EQ(0, pt_check_pattern(self->dst, variant->len, 0xabcd));
	EXPECT_TRUE(guard_intact(self->dst + variant->len));
}

TEST_F(rc_pair, rdma_read)
{
	struct ibv_wc wc;

	/* qp[0] reads the pattern from the buffer behind src's rkey */
	pt_fill_pattern(self->src, variant->len, 0x7777);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_READ, self->dst,
				  variant->len, self->dst_mr->lkey,
				  (uintptr_t)self->src, self->src_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_RDMA_READ, wc.opcode);
	EXPECT_EQ(IBV_WR_RDMA_READ, wc.wr_id);
	EXPECT_EQ(variant->len, wc.byte_len);

	EXPECT_EQ(0, pt_check_pattern(self->dst, variant->len, 0x7777));
	EXPECT_TRUE(guard_intact(self->dst + variant->len));
}

TEST_HARNESS_MAIN
