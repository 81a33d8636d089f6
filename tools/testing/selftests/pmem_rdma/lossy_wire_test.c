// SPDX-License-Identifier: GPL-2.0
/*
 * The data path over a lossy wire.  Two patched rxe devices on a veth pair
 * (IPv6 link-local only) with netem on both ends: 10 % loss, 5 %
 * duplication, 25 % reordering behind a 1 ms delay.  10^4 operations of
 * the WRITE / FLUSH / ATOMIC WRITE / VERIFY stream (stream_helpers.h) on
 * one RC QP pair must all complete with success, and the responder's
 * memory must end equal to the model: no effect lost, none doubled.  The
 * device counters must show that requests were lost, duplicated and
 * reordered, or the test did not test the wire it claims to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"
#include "stream_helpers.h"

#define NET0		"ptl_ve0"
#define NET1		"ptl_ve1"
#define DEV0		"ptl_rxe0"	/* requester */
#define DEV1		"ptl_rxe1"	/* responder */

#define OPS		10000
#define NETEM		"loss 10% duplicate 5% delay 1ms reorder 25% 50%"
/*
 * ~16.8 ms (5 jiffies at HZ 250): several round trips of the delayed wire
 * under TCG, so that a lost tail is resent soon and spurious resends stay
 * rare.  retry_cnt 7 retries for ever: the wire, not a count, must not
 * lose anything.
 */
#define RC_TIMEOUT	12
#define RC_RETRY_CNT	7

#define SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_FLUSH | \
			 IBV_QP_EX_WITH_ATOMIC_WRITE)

/* the counters that show the wire's doing, with the device they are read on */
static const struct {
	const char *dev, *name;
} counters[] = {
	{ DEV1, "duplicate_request" },
	{ DEV1, "out_of_seq_request" },
	{ DEV0, "rcvd_seq_err" },
	{ DEV0, "completer_retry_err" },
	{ DEV0, "retry_exceeded_err" },
	{ DEV0, "sent_pkts" },
	{ DEV1, "rcvd_pkts" },
	{ DEV1, "sent_pkts" },
	{ DEV0, "rcvd_pkts" },
};

enum { DUP_REQ, OOS_REQ, SEQ_ERR, COMP_RETRY, RETRY_EXC };

FIXTURE(lossy_wire)
{
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	struct pt_stream s;
};

FIXTURE_SETUP(lossy_wire)
{
	int ret;

	ASSERT_EQ(0, pt_sh("modprobe sch_netem")) TH_LOG("no sch_netem");
	ASSERT_EQ(0, pt_sh("command -v tc >/dev/null")) TH_LOG("no tc");
	ASSERT_EQ(0, pt_veth_up(NET0, NET1, DEV0, DEV1));
	ret = pt_open_two(&self->c, DEV0, DEV1);
	ASSERT_EQ(0, ret) TH_LOG("open %s, %s: %s", DEV0, DEV1, strerror(-ret));
	self->c.timeout = RC_TIMEOUT;
	self->c.retry_cnt = RC_RETRY_CNT;
	ret = pt_connect_pair_ex(&self->c, PT_STREAM_ACCESS, SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));

	self->src = aligned_alloc(4096, PT_STREAM_SRC);
	self->dst = aligned_alloc(4096, PT_STREAM_REGION + 4096);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	memset(self->dst, 0, PT_STREAM_REGION);
	self->src_mr = ibv_reg_mr(self->c.pd, self->src, PT_STREAM_SRC,
				  IBV_ACCESS_LOCAL_WRITE);
	self->dst_mr = ibv_reg_mr(self->c.rpd, self->dst, PT_STREAM_REGION,
				  PT_STREAM_ACCESS);
	ASSERT_NE(NULL, self->src_mr);
	ASSERT_NE(NULL, self->dst_mr);
	pt_stream_init(&self->s, self->c.qp[0], self->c.cq[0], self->src,
		       self->src_mr->lkey, (uintptr_t)self->dst,
		       self->dst_mr->rkey);

	/* both directions: requests and their acknowledgements */
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET0, NETEM));
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET1, NETEM));
}

FIXTURE_TEARDOWN(lossy_wire)
{
	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET0);
	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET1);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	pt_veth_pair_close(&self->c, NET0, DEV0, DEV1);
	free(self->src);
	free(self->dst);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F_TIMEOUT(lossy_wire, stream_10k_ops, 300)
{
	long long before[ARRAY_SIZE(counters)], delta[ARRAY_SIZE(counters)];
	double t0, elapsed;
	long diff;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		before[i] = pt_read_dev_counter(counters[i].dev, counters[i].name);
	t0 = now_s();
	ret = pt_stream_run(&self->s, OPS);
	elapsed = now_s() - t0;
	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		delta[i] = pt_read_dev_counter(counters[i].dev, counters[i].name) -
			   before[i];
		TH_LOG("%s %s: %lld", counters[i].dev, counters[i].name, delta[i]);
	}
	TH_LOG("%ld of %d ops completed in %.1f s (%.0f ops/s)",
	       self->s.completed, OPS, elapsed, self->s.completed / elapsed);
	pt_sh("tc -s qdisc show dev %s | sed 's/^/# " NET0 ": /'", NET0);
	pt_sh("tc -s qdisc show dev %s | sed 's/^/# " NET1 ": /'", NET1);

	ASSERT_EQ(0, ret) TH_LOG("stream: %s; op %llu: %s (vendor_err %u)",
				 strerror(-ret),
				 (unsigned long long)self->s.bad.wr_id,
				 ibv_wc_status_str(self->s.bad.status),
				 self->s.bad.vendor_err);
	EXPECT_EQ(OPS, self->s.completed);

	diff = pt_stream_diff(&self->s, self->dst);
	EXPECT_EQ(-1, diff) TH_LOG("the region differs from the model at %ld: %#x, expected %#x",
				   diff, self->dst[diff], self->s.model[diff]);

	/*
	 * The wire really lost, duplicated and reordered requests: with some
	 * 10^4 request packets, 5 % duplication alone makes hundreds of
	 * duplicates and 10 % loss hundreds of gaps and resends.  A clean
	 * wire under TCG still sees a few spurious resends, hence bounds
	 * rather than "> 0".
	 */
	EXPECT_LT(OPS / 20, delta[DUP_REQ]);
	EXPECT_LT(OPS / 100, delta[OOS_REQ]);
	EXPECT_LT(OPS / 100, delta[SEQ_ERR] + delta[COMP_RETRY]);
	EXPECT_EQ(0, delta[RETRY_EXC]);
}

TEST_HARNESS_MAIN
