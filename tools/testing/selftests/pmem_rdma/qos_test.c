// SPDX-License-Identifier: GPL-2.0
/*
 * QoS in rdma_rxe_flush 0.8.0 (Documentation/qos.rst), judged on payload
 * rates over a few seconds, loosely enough for TCG (15 %):
 *
 * A QP's rate limit, through the standard verb ibv_modify_qp_rate_limit():
 * the device reports its range; a limited QP's WRITEs go at its rate;
 * READs are paced by their requests, not by the data that answers them;
 * the QP unlimited again goes as fast as before; bad rates and bursts are
 * refused.
 *
 * A device's rate (sysfs qos_rate_kbps) shared by the weights of the QPs'
 * traffic classes (qos_tc_weights): two QPs of equal weight share it
 * fairly (Jain's index), weights 1 and 3 share it 1 : 3, a QP alone takes
 * all of it, and bad settings are refused.  The rdma tool shows a QP's QoS.
 */
#include <errno.h>
#include <stdio.h>
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
#define WEIGHTS_DEFAULT	"1 1 1 1 1 1 1 1"

/* a QP pair of its own (its own context) and the buffers it writes */
struct flow {
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	uint32_t len;		/* of each request: CHUNK */
	int depth;		/* requests in flight: DEPTH */
	int inflight, n;
	double bytes;		/* completed within the window */
};

static int flow_open(struct flow *f, uint8_t tclass)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->len = CHUNK;
	f->depth = DEPTH;
	ret = pt_open(&f->c);
	if (ret)
		return ret;
	f->c.tclass = tclass;
	ret = pt_connect_pair(&f->c, ACCESS);
	if (ret)
		return ret;
	f->src = aligned_alloc(4096, BUF);
	f->dst = aligned_alloc(4096, BUF);
	if (!f->src || !f->dst)
		return -ENOMEM;
	memset(f->src, 0x5a, BUF);
	f->src_mr = ibv_reg_mr(f->c.pd, f->src, BUF, ACCESS);
	f->dst_mr = ibv_reg_mr(f->c.pd, f->dst, BUF, ACCESS);
	return f->src_mr && f->dst_mr ? 0 : -errno;
}

static void flow_close(struct flow *f)
{
	if (f->src_mr)
		ibv_dereg_mr(f->src_mr);
	if (f->dst_mr)
		ibv_dereg_mr(f->dst_mr);
	pt_close(&f->c);
	free(f->src);
	free(f->dst);
}

/* the flow's next request of op from its qp[0] */
static int flow_post(struct flow *f, enum ibv_wr_opcode op)
{
	size_t off = (f->n % (BUF / CHUNK)) * CHUNK;
	struct ibv_sge sge = {
		.addr = (uintptr_t)f->src + off, .length = f->len,
		.lkey = f->src_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.opcode = op, .send_flags = IBV_SEND_SIGNALED,
		.sg_list = &sge, .num_sge = 1,
		.wr.rdma.remote_addr = (uintptr_t)f->dst + off,
		.wr.rdma.rkey = f->dst_mr->rkey,
	}, *bad;

	if (ibv_post_send(f->c.qp[0], &wr, &bad))
		return -1;
	f->inflight++;
	f->n++;
	return 0;
}

/*
 * Requests of op from each flow's qp[0], its depth at a time, for secs
 * seconds: each flow's payload bytes completed in that window (in
 * bytes), then the rest drained.  0, or -1 on an error or a stall (not
 * drained 10 s after the window).
 */
static int streams(struct flow *f, int nf, enum ibv_wr_opcode op,
		   double secs)
{
	double end = pt_now_s() + secs, stall = end + 10;
	struct ibv_wc wc;
	int i, busy;

	for (i = 0; i < nf; i++)
		f[i].bytes = 0;
	do {
		busy = 0;
		for (i = 0; i < nf; i++) {
			while (f[i].inflight < f[i].depth && pt_now_s() < end)
				if (flow_post(&f[i], op))
					return -1;
			while (f[i].inflight && ibv_poll_cq(f[i].c.cq[0], 1, &wc) == 1) {
				if (wc.status != IBV_WC_SUCCESS)
					return -1;
				f[i].inflight--;
				if (pt_now_s() < end)
					f[i].bytes += f[i].len;
			}
			busy |= f[i].inflight;
		}
		if (pt_now_s() > stall)
			return -1;
	} while (busy || pt_now_s() < end);
	return 0;
}

/* one flow's payload rate over secs, or -1 */
static double stream(struct flow *f, enum ibv_wr_opcode op, double secs)
{
	return streams(f, 1, op, secs) ? -1 : f->bytes / secs;
}

FIXTURE(qos)
{
	struct flow f[2];
	char rate_path[256], weights_path[256];
	int mtu;
};

FIXTURE_SETUP(qos)
{
	const char *dev;

	ASSERT_EQ(0, flow_open(&self->f[0], 0));
	dev = ibv_get_device_name(self->f[0].c.ctx->device);
	snprintf(self->rate_path, sizeof(self->rate_path),
		 "/sys/class/infiniband/%s/qos_rate_kbps", dev);
	snprintf(self->weights_path, sizeof(self->weights_path),
		 "/sys/class/infiniband/%s/qos_tc_weights", dev);
	self->mtu = 128 << self->f[0].c.mtu;
}

FIXTURE_TEARDOWN(qos)
{
	/* the device as every other test expects it */
	pt_write_line(self->rate_path, "0");
	pt_write_line(self->weights_path, WEIGHTS_DEFAULT);
	flow_close(&self->f[0]);
	flow_close(&self->f[1]);
}

static int set_rate(struct ibv_qp *qp, uint32_t kbps)
{
	struct ibv_qp_rate_limit_attr a = { .rate_limit = kbps };

	return ibv_modify_qp_rate_limit(qp, &a);
}

static int set_dev_rate(FIXTURE_DATA(qos) *self, uint32_t kbps)
{
	char line[32];

	snprintf(line, sizeof(line), "%u", kbps);
	return pt_write_line(self->rate_path, line);
}

/* the payload rate a limit of kbps leaves for full packets */
static double payload_rate(FIXTURE_DATA(qos) *self, uint32_t kbps)
{
	return kbps * 125.0 * self->mtu / (self->mtu + WIRE_HDRS);
}

TEST_F(qos, the_device_reports_its_pacing_range)
{
	struct ibv_device_attr_ex a;

	ASSERT_EQ(0, ibv_query_device_ex(self->f[0].c.ctx, NULL, &a));
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
	struct flow *f = &self->f[0];

	free1 = stream(f, IBV_WR_RDMA_WRITE, 1);
	ASSERT_LT(0, free1);
	ASSERT_EQ(0, set_rate(f->c.qp[0], kbps));
	limited = stream(f, IBV_WR_RDMA_WRITE, 3);
	ASSERT_LT(0, limited);
	ASSERT_EQ(0, set_rate(f->c.qp[0], 0));
	free2 = stream(f, IBV_WR_RDMA_WRITE, 1);
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

	ASSERT_EQ(0, set_rate(self->f[0].c.qp[0], kbps));
	got = stream(&self->f[0], IBV_WR_RDMA_READ, 2);
	TH_LOG("READ at %.0f B/s under a limit of %u kbps", got, kbps);
	EXPECT_LT(3 * payload_rate(self, kbps), got);
}

/* rates out of range, a burst, a comp_mask, a UD QP: refused */
TEST_F(qos, bad_limits_are_refused)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = self->f[0].c.cq[0], .recv_cq = self->f[0].c.cq[0],
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
	};
	struct ibv_qp_rate_limit_attr a = { .rate_limit = 10000 };
	struct ibv_qp *qp = self->f[0].c.qp[0], *ud;

	EXPECT_EQ(EINVAL, set_rate(qp, RXE_FLUSH_QOS_RATE_MIN - 1));
	EXPECT_EQ(EINVAL, set_rate(qp, RXE_FLUSH_QOS_RATE_MAX + 1));
	a.max_burst_sz = 65536;
	EXPECT_EQ(EOPNOTSUPP, ibv_modify_qp_rate_limit(qp, &a));
	a.max_burst_sz = 0;
	a.comp_mask = 1;
	EXPECT_EQ(EINVAL, ibv_modify_qp_rate_limit(qp, &a));
	ud = ibv_create_qp(self->f[0].c.pd, &ia);
	ASSERT_NE(NULL, ud);
	EXPECT_EQ(EOPNOTSUPP, set_rate(ud, 10000));
	ibv_destroy_qp(ud);
	/* the limits at the edges are taken */
	EXPECT_EQ(0, set_rate(qp, RXE_FLUSH_QOS_RATE_MIN));
	EXPECT_EQ(0, set_rate(qp, RXE_FLUSH_QOS_RATE_MAX));
	EXPECT_EQ(0, set_rate(qp, 0));
}

/*
 * Two flows under a device rate of 32 Mbit/s for 3 s: each one's payload
 * rate, and their sum against what the rate leaves for payload.
 */
static void share(struct __test_metadata *_metadata,
		  FIXTURE_DATA(qos) *self, double r[2])
{
	const uint32_t kbps = 32000;
	long long throttled = pt_read_counter("qos_throttled");
	double want = payload_rate(self, kbps);

	ASSERT_EQ(0, set_dev_rate(self, kbps));
	ASSERT_EQ(0, streams(self->f, 2, IBV_WR_RDMA_WRITE, 3));
	r[0] = self->f[0].bytes / 3;
	r[1] = self->f[1].bytes / 3;
	TH_LOG("flows at %.0f and %.0f B/s, %.0f together (want %.0f)",
	       r[0], r[1], r[0] + r[1], want);
	EXPECT_LT(want * 0.85, r[0] + r[1]);
	EXPECT_GT(want * 1.15, r[0] + r[1]);
	EXPECT_LT(throttled, pt_read_counter("qos_throttled"));
}

/* two QPs of one class: Jain's fairness index at least 0.9 */
TEST_F(qos, equal_weights_share_fairly)
{
	double r[2], jain;

	ASSERT_EQ(0, flow_open(&self->f[1], 0));
	share(_metadata, self, r);
	jain = (r[0] + r[1]) * (r[0] + r[1]) /
	       (2 * (r[0] * r[0] + r[1] * r[1]));
	TH_LOG("Jain's index %.3f", jain);
	EXPECT_LE(0.9, jain);
}

/* class 0 weighs 1 and class 1 (traffic class 0x20) 3: 1 : 3 within 15 % */
TEST_F(qos, unequal_weights_share_by_their_ratio)
{
	char got[64];
	double r[2];

	ASSERT_EQ(0, pt_write_line(self->weights_path, "1 3 1 1 1 1 1 1"));
	ASSERT_EQ(0, pt_read_line(self->weights_path, got, sizeof(got)));
	EXPECT_STREQ("1 3 1 1 1 1 1 1", got);
	ASSERT_EQ(0, flow_open(&self->f[1], 0x20));
	share(_metadata, self, r);
	ASSERT_LT(0, r[0]);
	TH_LOG("ratio %.2f", r[1] / r[0]);
	EXPECT_LT(3 * 0.85, r[1] / r[0]);
	EXPECT_GT(3 * 1.15, r[1] / r[0]);
}

/*
 * A QP alone under the device's rate takes all of it (the other QP, idle,
 * leaves its share), and with the rate off again it goes more than twice
 * as fast.
 */
TEST_F(qos, an_idle_qps_share_goes_to_the_busy_one)
{
	const uint32_t kbps = 32000;
	double alone, free, want = payload_rate(self, kbps);

	ASSERT_EQ(0, flow_open(&self->f[1], 0));
	ASSERT_EQ(0, set_dev_rate(self, kbps));
	alone = stream(&self->f[0], IBV_WR_RDMA_WRITE, 2);
	ASSERT_EQ(0, set_dev_rate(self, 0));
	free = stream(&self->f[0], IBV_WR_RDMA_WRITE, 1);
	TH_LOG("alone %.0f B/s (want %.0f), the rate off %.0f B/s",
	       alone, want, free);
	EXPECT_LT(want * 0.85, alone);
	EXPECT_GT(want * 1.15, alone);
	EXPECT_LT(2 * want, free);
}

/*
 * A flood of 64 KiB WRITEs beside a QP of 64-byte WRITEs, one at a time,
 * under the device's rate: the small ones cost their own size, and the
 * device goes on after each, so the flood keeps the rate they leave
 * (within 15 %).
 */
TEST_F(qos, small_requests_beside_a_flood_keep_the_rate)
{
	const uint32_t kbps = 32000;
	double small_wire, flood, want;

	ASSERT_EQ(0, flow_open(&self->f[1], 0));
	self->f[1].len = 64;
	self->f[1].depth = 1;
	ASSERT_EQ(0, set_dev_rate(self, kbps));
	ASSERT_EQ(0, streams(self->f, 2, IBV_WR_RDMA_WRITE, 3));
	flood = self->f[0].bytes / 3;
	/* what the small WRITEs took of the rate, headers and all */
	small_wire = self->f[1].bytes / 3 / 64 * (64 + WIRE_HDRS);
	want = (kbps * 125.0 - small_wire) * self->mtu /
	       (self->mtu + WIRE_HDRS);
	TH_LOG("flood %.0f B/s (want %.0f), %.0f small WRITEs a second",
	       flood, want, self->f[1].bytes / 3 / 64);
	EXPECT_LT(want * 0.85, flood);
	EXPECT_LT(0, self->f[1].bytes);
}

/*
 * The rdma tool's driver details of a QP (rdma resource show qp -dd) show
 * its rate limit, its class and the class's weight.
 */
TEST_F(qos, the_rdma_tool_shows_a_qps_qos)
{
	const char *dev = ibv_get_device_name(self->f[0].c.ctx->device);
	char out[4096];

	ASSERT_EQ(0, pt_write_line(self->weights_path, "1 5 1 1 1 1 1 1"));
	ASSERT_EQ(0, flow_open(&self->f[1], 0x20));
	ASSERT_EQ(0, set_rate(self->f[1].c.qp[0], 16000));
	ASSERT_EQ(0, pt_sh_out(out, sizeof(out),
			       "rdma -dd resource show qp link %s/1 lqpn %u",
			       dev, self->f[1].c.qp[0]->qp_num));
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "rate_limit_kbps 16000 "));
	EXPECT_NE(NULL, strstr(out, "qos_class 1 "));
	EXPECT_NE(NULL, strstr(out, "qos_weight 5 "));
	EXPECT_NE(NULL, strstr(out, "qos_paced "));
}

/* a device rate out of range, weights out of range or not eight: EINVAL */
TEST_F(qos, bad_device_settings_are_refused)
{
	static const char *const bad[] = {
		"0 1 1 1 1 1 1 1", "101 1 1 1 1 1 1 1", "300 1 1 1 1 1 1 1",
		"1 1 1 1 1 1 1", "1 1 1 1 1 1 1 1 1", "1 1 1 x 1 1 1 1", " ",
	};
	char got[64];
	unsigned int i;

	EXPECT_EQ(-EINVAL, set_dev_rate(self, RXE_FLUSH_QOS_RATE_MIN - 1));
	EXPECT_EQ(-EINVAL, set_dev_rate(self, RXE_FLUSH_QOS_RATE_MAX + 1));
	EXPECT_EQ(-EINVAL, pt_write_line(self->rate_path, "fast"));
	ASSERT_EQ(0, pt_read_line(self->rate_path, got, sizeof(got)));
	EXPECT_STREQ("0", got);
	ASSERT_EQ(0, pt_write_line(self->weights_path, "2 2 2 2 2 2 2 2"));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, pt_write_line(self->weights_path, bad[i]))
			TH_LOG("bad weights #%u", i);
	ASSERT_EQ(0, pt_read_line(self->weights_path, got, sizeof(got)));
	EXPECT_STREQ("2 2 2 2 2 2 2 2", got);
	/* the edges are taken */
	EXPECT_EQ(0, set_dev_rate(self, RXE_FLUSH_QOS_RATE_MIN));
	EXPECT_EQ(0, set_dev_rate(self, RXE_FLUSH_QOS_RATE_MAX));
	EXPECT_EQ(0, pt_write_line(self->weights_path, "100 1 1 1 1 1 1 100"));
}

TEST_HARNESS_MAIN
