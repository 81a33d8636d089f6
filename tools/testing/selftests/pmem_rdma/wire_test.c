// SPDX-License-Identifier: GPL-2.0
/*
 * FLUSH and ATOMIC WRITE on the wire, byte by byte.  Two patched rxe
 * devices on the two ends of a veth pair (IPv6 link-local only) talk over
 * it; an AF_PACKET socket on the responder's end captures both directions.
 * Every header field is checked against the IBA layout (BTH, FETH, RETH,
 * AETH, the ATOMIC WRITE payload), and the ICRC is recomputed here, both
 * the IBA one (A17.8) and upstream rxe's variant for FLUSH, to show which
 * one each flush_icrc mode sends.  Debian 12's tshark cannot decode 0x1C and
 * 0x1D, hence this test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"

#define NET0		"prw_ve0"
#define NET1		"prw_ve1"
#define DEV0		"prw_rxe0"
#define DEV1		"prw_rxe1"

#define FIRST_PSN		0x1000	/* rdma_helpers' sq_psn */
#define BUF_SIZE		8192

/* the two QPs, their buffers and the capture on NET1 */
struct wire {
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	int cap;
	struct pt_frame fr[16];
	int nfr;
};

FIXTURE(wire)
{
	struct wire w;
};

FIXTURE_SETUP(wire)
{
	size_t i;
	int ret;

	self->w.cap = -1;
	ret = pt_veth_pair_open(&self->w.c, NET0, NET1, DEV0, DEV1,
				PT_FLUSH_QP_ACCESS, PT_FLUSH_SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("%s, %s on a veth pair: %s", DEV0, DEV1,
				 strerror(-ret));
	ASSERT_NE(0, memcmp(&self->w.c.gid, &self->w.c.rgid, sizeof(self->w.c.gid)));
	/* IBA's FLUSH ICRC unless a test asks for upstream's */
	ASSERT_EQ(0, pt_write_line(PT_FLUSH_ICRC_PARAM, "iba"));
	self->w.src = aligned_alloc(4096, BUF_SIZE);
	self->w.dst = aligned_alloc(4096, BUF_SIZE);
	ASSERT_NE(NULL, self->w.src);
	ASSERT_NE(NULL, self->w.dst);
	for (i = 0; i < BUF_SIZE; i++)
		self->w.src[i] = i;
	memset(self->w.dst, 0, BUF_SIZE);
	self->w.src_mr = ibv_reg_mr(self->w.c.pd, self->w.src, BUF_SIZE,
				  IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->w.src_mr);
	/* DRAM: global visibility only; the bytes on the wire are the same */
	self->w.dst_mr = ibv_reg_mr(self->w.c.rpd, self->w.dst, BUF_SIZE,
				  IBV_ACCESS_LOCAL_WRITE |
				  IBV_ACCESS_REMOTE_WRITE |
				  IBV_ACCESS_FLUSH_GLOBAL);
	ASSERT_NE(NULL, self->w.dst_mr);

	self->w.cap = pt_packet_socket(NET1);
	ASSERT_LE(0, self->w.cap);
}

FIXTURE_TEARDOWN(wire)
{
	pt_write_line(PT_FLUSH_ICRC_PARAM, PT_FLUSH_ICRC_DEFAULT);
	if (self->w.cap >= 0)
		close(self->w.cap);
	if (self->w.dst_mr)
		ibv_dereg_mr(self->w.dst_mr);
	if (self->w.src_mr)
		ibv_dereg_mr(self->w.src_mr);
	free(self->w.src);
	free(self->w.dst);
	pt_veth_pair_close(&self->w.c, NET0, DEV0, DEV1);
}

/* the RoCE frames seen on NET1 so far, both directions, in order */
static int capture(struct wire *self)
{
	self->nfr = pt_capture(self->cap, self->fr, ARRAY_SIZE(self->fr), 200);
	return self->nfr;
}

static const struct pt_frame *find(struct wire *self, int opcode)
{
	int i;

	for (i = 0; i < self->nfr; i++)
		if (pt_frame_opcode(&self->fr[i]) == opcode)
			return &self->fr[i];
	return NULL;
}

/* BTH: opcode, SE 0, PadCnt 0, TVer 0, default P_Key, QPN, PSN */
static void check_bth(struct __test_metadata *_metadata,
		      const struct pt_frame *f, int opcode, uint32_t qpn,
		      uint32_t psn)
{
	const unsigned char *bth = f->b + PT_ROCE_OFF;

	EXPECT_EQ(opcode, bth[0]);
	EXPECT_EQ(0, bth[1] & 0x80);			/* SE */
	EXPECT_EQ(0, (bth[1] >> 4) & 3);		/* PadCnt */
	EXPECT_EQ(0, bth[1] & 0x0f);			/* TVer */
	EXPECT_EQ(0xffff, bth[2] << 8 | bth[3]);	/* P_Key */
	EXPECT_EQ(qpn, pt_frame_dqpn(f));
	EXPECT_EQ(psn, pt_frame_psn(f));
}

/* RDMA READ RESPONSE ONLY: BTH, AETH ACK, no data, IBA ICRC */
static void check_ack(struct __test_metadata *_metadata,
		      struct wire *self, uint32_t psn)
{
	const struct pt_frame *f = find(self, PT_OP_READ_RESPONSE_ONLY);

	ASSERT_NE(NULL, f) TH_LOG("no READ RESPONSE ONLY captured");
	check_bth(_metadata, f, PT_OP_READ_RESPONSE_ONLY, self->c.qp[0]->qp_num,
		  psn);
	ASSERT_EQ(PT_ROCE_OFF + PT_BTH_LEN + 4 + PT_ICRC_LEN, f->len);
	EXPECT_EQ(0, f->b[PT_ROCE_OFF + PT_BTH_LEN] & 0x60);	/* AETH: ACK */
	EXPECT_EQ(pt_icrc(f, 0), pt_frame_icrc(f));
}

/* FLUSH: BTH, FETH, RETH, nothing else; returns the frame */
static const struct pt_frame *check_flush(struct __test_metadata *_metadata,
				       struct wire *self, uint32_t feth,
				       uint64_t va, uint32_t len)
{
	const struct pt_frame *f = find(self, PT_OP_FLUSH);
	const unsigned char *h;

	if (!f)
		return NULL;
	h = f->b + PT_ROCE_OFF;
	check_bth(_metadata, f, PT_OP_FLUSH, self->c.qp[1]->qp_num, FIRST_PSN);
	EXPECT_EQ(PT_ROCE_OFF + PT_BTH_LEN + 4 + 16 + PT_ICRC_LEN, f->len);
	EXPECT_EQ(PT_BTH_LEN + 4 + 16 + PT_ICRC_LEN + PT_UDP_LEN,
		  f->b[PT_ETH_LEN + PT_IP6_LEN + 4] << 8 |
		  f->b[PT_ETH_LEN + PT_IP6_LEN + 5]);		/* UDP length */
	EXPECT_EQ(feth, pt_be32_at(h + 12));		/* FETH */
	EXPECT_EQ(va, pt_be64_at(h + 16));			/* RETH VA */
	EXPECT_EQ(self->dst_mr->rkey, pt_be32_at(h + 24));	/* RETH R_Key */
	EXPECT_EQ(len, pt_be32_at(h + 28));		/* RETH length */
	return f;
}

static int flush(struct wire *self, uint64_t va, uint32_t len,
		 uint8_t level, struct ibv_wc *wc)
{
	return pt_wr_flush(&self->c, self->dst_mr->rkey, va, len,
			   IBV_FLUSH_GLOBAL, level, wc);
}

static int set_icrc_mode(const char *mode)
{
	return pt_write_line(PT_FLUSH_ICRC_PARAM, mode);
}

TEST_F(wire, flush_range_bytes_and_iba_icrc)
{
	uint64_t va = (uintptr_t)self->w.dst + 64;
	const struct pt_frame *f;
	struct ibv_wc wc;

	ASSERT_EQ(0, flush(&self->w, va, 4000, IBV_FLUSH_RANGE, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_LE(2, capture(&self->w));
	/* FETH: placement type 1 (global visibility), selectivity 0 (range) */
	f = check_flush(_metadata, &self->w, 0x00000001, va, 4000);
	ASSERT_NE(NULL, f) TH_LOG("no FLUSH captured");
	EXPECT_EQ(pt_icrc(f, 0), pt_frame_icrc(f));
	EXPECT_NE(pt_icrc(f, PT_BTH_LEN + 20), pt_frame_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_F(wire, flush_whole_mr_feth)
{
	const struct pt_frame *f;
	struct ibv_wc wc;

	ASSERT_EQ(0, flush(&self->w, 0, 0, IBV_FLUSH_MR, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_LE(2, capture(&self->w));
	/* placement type 1, selectivity 1 (the whole MR) in bits 5..4 */
	f = check_flush(_metadata, &self->w, 0x00000011, 0, 0);
	ASSERT_NE(NULL, f) TH_LOG("no FLUSH captured");
	EXPECT_EQ(pt_icrc(f, 0), pt_frame_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

/* flush_icrc=rxe6: upstream's CRC goes out, and our responder takes it */
TEST_F(wire, flush_icrc_rxe6_on_the_wire)
{
	uint64_t va = (uintptr_t)self->w.dst;
	const struct pt_frame *f;
	long long rxe6;
	struct ibv_wc wc;
	int ret;

	rxe6 = pt_read_dev_counter(DEV1, "flush_icrc_rxe6_rcvd");
	ASSERT_EQ(0, set_icrc_mode("rxe6"));
	ret = flush(&self->w, va, 64, IBV_FLUSH_RANGE, &wc);
	ASSERT_EQ(0, set_icrc_mode("iba"));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_LE(2, capture(&self->w));
	f = check_flush(_metadata, &self->w, 0x00000001, va, 64);
	ASSERT_NE(NULL, f) TH_LOG("no FLUSH captured");
	/* masked headers, then BTH..RETH again, unmasked */
	EXPECT_EQ(pt_icrc(f, PT_BTH_LEN + 20), pt_frame_icrc(f));
	EXPECT_NE(pt_icrc(f, 0), pt_frame_icrc(f));
	EXPECT_EQ(1, pt_read_dev_counter(DEV1, "flush_icrc_rxe6_rcvd") - rxe6);
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_F(wire, atomic_write_bytes_and_icrc)
{
	const uint64_t val = 0x0123456789abcdefULL;
	uint64_t va = (uintptr_t)self->w.dst + 256;
	const struct pt_frame *f;
	const unsigned char *h;
	struct ibv_wc wc;

	ASSERT_EQ(0, pt_wr_atomic_write(&self->w.c, self->w.dst_mr->rkey, va, &val,
					&wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(val, pt_load64(self->w.dst + 256));
	ASSERT_LE(2, capture(&self->w));
	f = find(&self->w, PT_OP_ATOMIC_WRITE);
	ASSERT_NE(NULL, f) TH_LOG("no ATOMIC WRITE captured");
	h = f->b + PT_ROCE_OFF;
	check_bth(_metadata, f, PT_OP_ATOMIC_WRITE, self->w.c.qp[1]->qp_num,
		  FIRST_PSN);
	ASSERT_EQ(PT_ROCE_OFF + PT_BTH_LEN + 16 + 8 + PT_ICRC_LEN, f->len);
	EXPECT_EQ(va, pt_be64_at(h + 12));			/* RETH VA */
	EXPECT_EQ(self->w.dst_mr->rkey, pt_be32_at(h + 20));	/* RETH R_Key */
	EXPECT_EQ(8, pt_be32_at(h + 24));			/* RETH length */
	EXPECT_EQ(0, memcmp(h + 28, &val, 8));		/* the value as stored */
	EXPECT_EQ(pt_icrc(f, 0), pt_frame_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_HARNESS_MAIN
