// SPDX-License-Identifier: GPL-2.0
/*
 * A QP's rate limit (Documentation/qos.rst, rdma_rxe_flush 0.8.0), through
 * the standard verb ibv_modify_qp_rate_limit(): the device reports its
 * range; a limited QP's WRITEs go at its rate (within 15 %, judged on the
 * bytes on the wire, over a few seconds); READs are paced by their
 * requests, not by the data that answers them; the QP unlimited again goes
 * as fast as before; bad rates and bursts are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>
#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"

#define BUF		(1 << 20)
#define CHUNK		(64 << 10)
#define DEPTH		8
#define ACCESS		(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
/* what a packet carries beyond its payload: RETH or not, BTH, ICRC, UDP, IPv6, Ethernet */
#define WIRE_HDRS	(12 + 4 + 8 + 40 + 14)

FIXTURE(qos)
{
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	int mtu;
};

FIXTURE_SETUP(qos)
{
	ASSERT_EQ(0, pt_open(&self->c));
	ASSERT_EQ(0, pt_connect_pair(&self->c, ACCESS));
	self->src = aligned_alloc(4096, BUF);
	self->dst = aligned_alloc(4096, BUF);
	ASSERT_TRUE(self->src && self->dst);
	memset(self->src, 0x5a, BUF);
	self->src_mr = ibv_reg_mr(self->c.pd, self->src, BUF, ACCESS);
	self->dst_mr = ibv_reg_mr(self->c.pd, self->dst, BUF, ACCESS);
	ASSERT_TRUE(self->src_mr && self->dst_mr);
	self->mtu = 128 << self->c.mtu;
}

FIXTURE_TEARDOWN(qos)
{
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	pt_close(&self->c);
	free(self->src);
	free(self->dst);
}

static int set_rate(struct ibv_qp *qp, uint32_t kbps)
{
	struct ibv_qp_rate_limit_attr a = { .rate_limit = kbps };

	return ibv_modify_qp_rate_limit(qp, &a);
}

/*
 * CHUNK-sized WRITEs (or READs) from qp[0], DEPTH at a time, for secs
 * seconds: the payload bytes per second that completed, or -1.
 */
static double stream(FIXTURE_DATA(qos) *self, enum ibv_wr_opcode op,
		     double secs)
{
	struct ibv_sge sge = { .length = CHUNK, .lkey = self->src_mr->lkey };
	struct ibv_send_wr wr = {
		.opcode = op, .send_flags = IBV_SEND_SIGNALED,
		.sg_list = &sge, .num_sge = 1,
		.wr.rdma.rkey = self->dst_mr->rkey,
	}, *bad;
	double start = pt_now_s(), end = start + secs;
	long long done = 0;
	int inflight = 0, n = 0;
	struct ibv_wc wc;

	while (pt_now_s() < end || inflight) {
		while (inflight < DEPTH && pt_now_s() < end) {
			sge.addr = (uintptr_t)self->src + (n % (BUF / CHUNK)) * CHUNK;
			wr.wr.rdma.remote_addr = (uintptr_t)self->dst +
						 (n % (BUF / CHUNK)) * CHUNK;
			if (ibv_post_send(self->c.qp[0], &wr, &bad))
				return -1;
			inflight++;
			n++;
		}
		if (pt_poll_one(self->c.cq[0], &wc, 10000) ||
		    wc.status != IBV_WC_SUCCESS)
			return -1;
		inflight--;
		done += CHUNK;
	}
	return done / (pt_now_s() - start);
}

/* the payload rate a limit of kbps leaves for full packets */
static double payload_rate(FIXTURE_DATA(qos) *self, uint32_t kbps)
{
	return kbps * 125.0 * self->mtu / (self->mtu + WIRE_HDRS);
}

TEST_F(qos, the_device_reports_its_pacing_range)
{
	struct ibv_device_attr_ex a;

	ASSERT_EQ(0, ibv_query_device_ex(self->c.ctx, NULL, &a));
	EXPECT_EQ(RXE_FLUSH_QOS_RATE_MIN, a.packet_pacing_caps.qp_rate_limit_min);
	EXPECT_EQ(RXE_FLUSH_QOS_RATE_MAX, a.packet_pacing_caps.qp_rate_limit_max);
	EXPECT_TRUE(a.packet_pacing_caps.supported_qpts & (1 << IBV_QPT_RC));
}

/*
 * WRITEs unlimited, then at 16 Mbit/s for 3 s, then unlimited again: the
 * limited rate is the limit's within 15 %, and the QP unlimited again goes
 * more than twice as fast as the limit, as it did before.
 */
TEST_F(qos, a_limited_qp_writes_at_its_rate)
{
	const uint32_t kbps = 16000;
	long long paced = pt_read_counter("qos_paced");
	double free1, limited, free2, want = payload_rate(self, kbps);

	free1 = stream(self, IBV_WR_RDMA_WRITE, 1);
	ASSERT_LT(0, free1);
	ASSERT_EQ(0, set_rate(self->c.qp[0], kbps));
	limited = stream(self, IBV_WR_RDMA_WRITE, 3);
	ASSERT_LT(0, limited);
	ASSERT_EQ(0, set_rate(self->c.qp[0], 0));
	free2 = stream(self, IBV_WR_RDMA_WRITE, 1);
	TH_LOG("unlimited %.0f B/s, limited %.0f B/s (want %.0f), unlimited again %.0f B/s",
	       free1, limited, want, free2);
	EXPECT_LT(want * 0.85, limited);
	EXPECT_GT(want * 1.15, limited);
	EXPECT_LT(2 * want, free1);
	EXPECT_LT(2 * want, free2);
	EXPECT_LT(paced, pt_read_counter("qos_paced"));
}

/*
 * READs of a QP limited to 8 Mbit/s: each costs its request, a packet of
 * headers, so the data comes back far faster than the limit.
 */
TEST_F(qos, reads_are_paced_by_their_requests)
{
	const uint32_t kbps = 8000;
	double got;

	ASSERT_EQ(0, set_rate(self->c.qp[0], kbps));
	got = stream(self, IBV_WR_RDMA_READ, 2);
	TH_LOG("READ at %.0f B/s under a limit of %u kbps", got, kbps);
	EXPECT_LT(3 * payload_rate(self, kbps), got);
}

/* rates out of range, a burst, a comp_mask, a UD QP: refused */
TEST_F(qos, bad_limits_are_refused)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = self->c.cq[0], .recv_cq = self->c.cq[0],
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
	};
	struct ibv_qp_rate_limit_attr a = { .rate_limit = 10000 };
	struct ibv_qp *ud;

	EXPECT_EQ(EINVAL, set_rate(self->c.qp[0], RXE_FLUSH_QOS_RATE_MIN - 1));
	EXPECT_EQ(EINVAL, set_rate(self->c.qp[0], RXE_FLUSH_QOS_RATE_MAX + 1));
	a.max_burst_sz = 65536;
	EXPECT_EQ(EOPNOTSUPP, ibv_modify_qp_rate_limit(self->c.qp[0], &a));
	a.max_burst_sz = 0;
	a.comp_mask = 1;
	EXPECT_EQ(EINVAL, ibv_modify_qp_rate_limit(self->c.qp[0], &a));
	ud = ibv_create_qp(self->c.pd, &ia);
	ASSERT_NE(NULL, ud);
	EXPECT_EQ(EOPNOTSUPP, set_rate(ud, 10000));
	ibv_destroy_qp(ud);
	/* the limits at the edges are taken */
	EXPECT_EQ(0, set_rate(self->c.qp[0], RXE_FLUSH_QOS_RATE_MIN));
	EXPECT_EQ(0, set_rate(self->c.qp[0], RXE_FLUSH_QOS_RATE_MAX));
	EXPECT_EQ(0, set_rate(self->c.qp[0], 0));
}

TEST_HARNESS_MAIN
