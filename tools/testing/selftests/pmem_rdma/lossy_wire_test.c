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
 *
 * The same wire with keyed MRs (keyed-mrs.rst): keyed WRITEs whose source
 * changes while they may be resent, read back keyed.  Every completion is
 * a success, every byte is the old or the new source's, and in a capture
 * of the wire no transmission counter ever carries two different tags
 * under one subkey - no nonce is used twice - while some PSNs were sent
 * again under a fresh counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>
#include <sys/socket.h>

#include <infiniband/rxe_flush_dv.h>

#include "kselftest_harness.h"
#include "keyed_helpers.h"
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

TEST_F_TIMEOUT(lossy_wire, stream_10k_ops, 300)
{
	long long before[ARRAY_SIZE(counters)], delta[ARRAY_SIZE(counters)];
	double t0, elapsed;
	long diff;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		before[i] = pt_read_dev_counter(counters[i].dev, counters[i].name);
	t0 = pt_now_s();
	ret = pt_stream_run(&self->s, OPS);
	elapsed = pt_now_s() - t0;
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

#define KEYED_ROUNDS	400
#define KEYED_MSG	3000		/* three packets */
#define KEYED_SLOTS	8
#define KEYED_BUF	(KEYED_SLOTS * 4096)
#define KEYED_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)

FIXTURE(keyed_lossy_wire)
{
	struct pt_ctx c;
	unsigned char *src, *dst, *back;
	struct ibv_mr *src_mr, *dst_mr, *back_mr;
	struct rxe_flush_dv_key *key[2];
	int cap;
	struct pt_nonce_ledger ledger;
};

FIXTURE_SETUP(keyed_lossy_wire)
{
	uint8_t bytes[32], draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES];
	const uint8_t *both[2] = { bytes, bytes };
	int ret, rcvbuf = 8 << 20;

	self->cap = -1;
	ASSERT_EQ(0, pt_sh("modprobe sch_netem")) TH_LOG("no sch_netem");
	ASSERT_EQ(0, pt_veth_up(NET0, NET1, DEV0, DEV1));
	ret = pt_open_two(&self->c, DEV0, DEV1);
	ASSERT_EQ(0, ret) TH_LOG("open %s, %s: %s", DEV0, DEV1, strerror(-ret));
	self->c.timeout = RC_TIMEOUT;
	self->c.retry_cnt = RC_RETRY_CNT;
	ASSERT_EQ(0, pt_connect_pair_ex(&self->c, KEYED_ACCESS,
					IBV_QP_EX_WITH_RDMA_WRITE));
	ASSERT_EQ(sizeof(bytes), getrandom(bytes, sizeof(bytes), 0));
	ret = pt_keys_create(&self->c, both, 32, self->key) ?:
	      pt_keyed_draw(&self->c, draw) ?:
	      pt_keyed_bind(&self->c, self->key, draw);
	ASSERT_EQ(0, ret) TH_LOG("keyed connection: %s", strerror(-ret));
	self->src = aligned_alloc(4096, KEYED_BUF);
	self->dst = aligned_alloc(4096, KEYED_BUF);
	self->back = aligned_alloc(4096, KEYED_BUF);
	ASSERT_EQ(0, pt_nonce_ledger_init(&self->ledger));
	ASSERT_TRUE(self->src && self->dst && self->back);
	memset(self->dst, 0, KEYED_BUF);
	self->src_mr = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->src,
						 KEYED_BUF, KEYED_ACCESS,
						 self->key[0]);
	self->back_mr = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->back,
						  KEYED_BUF, KEYED_ACCESS,
						  self->key[0]);
	self->dst_mr = rxe_flush_dv_reg_keyed_mr(self->c.rpd, self->dst,
						 KEYED_BUF, KEYED_ACCESS,
						 self->key[1]);
	ASSERT_TRUE(self->src_mr && self->back_mr && self->dst_mr);
	self->cap = pt_packet_socket(NET0);
	ASSERT_LE(0, self->cap);
	setsockopt(self->cap, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		   sizeof(rcvbuf));
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET0, NETEM));
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET1, NETEM));
}

FIXTURE_TEARDOWN(keyed_lossy_wire)
{
	int i;

	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET0);
	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET1);
	if (self->cap >= 0)
		close(self->cap);
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	if (self->back_mr)
		ibv_dereg_mr(self->back_mr);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	for (i = 0; i < 2; i++)
		if (self->key[i])
			rxe_flush_dv_key_destroy(self->key[i]);
	pt_veth_pair_close(&self->c, NET0, DEV0, DEV1);
	free(self->src);
	free(self->dst);
	free(self->back);
	pt_nonce_ledger_free(&self->ledger);
}

/* the keyed frames captured so far into the ledger */
static void take_frames(FIXTURE_DATA(keyed_lossy_wire) *self)
{
	static struct pt_frame fr[512];
	int i, got, op;

	while ((got = pt_capture(self->cap, fr, 512, 0)) > 0) {
		for (i = 0; i < got; i++) {
			op = pt_frame_opcode(&fr[i]);
			if ((pt_frame_dqpn(&fr[i]) == self->c.qp[1]->qp_num &&
			     op >= PT_OP_WRITE_FIRST && op <= PT_OP_WRITE_ONLY) ||
			    (pt_frame_dqpn(&fr[i]) == self->c.qp[0]->qp_num &&
			     op >= PT_OP_READ_RESPONSE_FIRST &&
			     op <= PT_OP_READ_RESPONSE_ONLY))
				pt_nonce_take(&self->ledger, &fr[i]);
		}
	}
}

TEST_F_TIMEOUT(keyed_lossy_wire, keyed_writes_with_a_changing_source, 300)
{
	struct pt_nonce_ledger *n = &self->ledger;
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct ibv_wc wc;
	unsigned char old[KEYED_MSG];
	int r, i, slot;

	pt_fill_pattern(self->src, KEYED_BUF, 11);
	for (r = 0; r < KEYED_ROUNDS; r++) {
		slot = r % KEYED_SLOTS;
		memset(&wr, 0, sizeof(wr));
		sge.addr = (uintptr_t)self->src + slot * 4096;
		sge.length = KEYED_MSG;
		sge.lkey = self->src_mr->lkey;
		wr.wr_id = r;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.opcode = IBV_WR_RDMA_WRITE;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.rdma.remote_addr = (uintptr_t)self->dst + slot * 4096;
		wr.wr.rdma.rkey = self->dst_mr->rkey;
		memcpy(old, self->src + slot * 4096, KEYED_MSG);
		ASSERT_EQ(0, ibv_post_send(self->c.qp[0], &wr, &bad));
		/* the source changes while its packets may be sent again */
		usleep(500);
		for (i = 0; i < KEYED_MSG; i++)
			self->src[slot * 4096 + i] ^= 0xff;
		ASSERT_EQ(0, pt_poll_one(self->c.cq[0], &wc, 20000));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("round %d: %s", r,
			ibv_wc_status_str(wc.status));
		for (i = 0; i < KEYED_MSG; i++) {
			unsigned char b = self->dst[slot * 4096 + i];

			ASSERT_TRUE(b == old[i] || b == (old[i] ^ 0xff))
				TH_LOG("round %d, byte %d: %#x, neither %#x nor %#x",
				       r, i, b, old[i], old[i] ^ 0xff);
		}
		if (!(r % 16))
			take_frames(self);
	}
	/* read it all back keyed */
	for (slot = 0; slot < KEYED_SLOTS; slot++) {
		ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_READ,
					  self->back + slot * 4096, KEYED_MSG,
					  self->back_mr->lkey,
					  (uintptr_t)self->dst + slot * 4096,
					  self->dst_mr->rkey, &wc));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
			ibv_wc_status_str(wc.status));
		EXPECT_EQ(0, memcmp(self->back + slot * 4096,
				    self->dst + slot * 4096, KEYED_MSG));
	}
	usleep(200000);
	take_frames(self);
	TH_LOG("%ld keyed frames, %ld PSNs sent again under a fresh counter",
	       n->frames, n->resent_psns);
	EXPECT_EQ(0, n->reused);
	EXPECT_LT(KEYED_ROUNDS, n->frames);
	EXPECT_LT(0, n->resent_psns);
}

TEST_HARNESS_MAIN
