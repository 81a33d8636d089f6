// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion notification in rdma_rxe_flush (Documentation/qos.rst), on
 * two patched rxe devices over a veth pair whose requester end is a
 * bottleneck: a token bucket of BOTTLENECK_KBPS feeding a RED queue that
 * marks ECT packets CE (ecn) and drops the others.
 *
 * An RC request carries ECT(0), and none does with the module's ecn off.
 * A hand-made CNP cuts its QP's rate; one with a bad ICRC, a wrong
 * length, for no QP or from another address is ignored.  Under a WRITE
 * flood into the bottleneck the responder answers CE marks with CNPs and
 * the requester's rate drops below the bottleneck's; with congestion
 * notification the queue drops fewer packets and the requester retries
 * less than with ecn off.  A peer whose CNPs never arrive changes nothing:
 * the requester is never cut.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"

#define NET0		"ptc_ve0"
#define NET1		"ptc_ve1"
#define DEV0		"ptc_rxe0"	/* requester */
#define DEV1		"ptc_rxe1"	/* responder */
#define PARAMS		"/sys/module/rdma_rxe_flush/parameters/"
#define ECN_PARAM	PARAMS "ecn"
#define PERIOD_PARAM	PARAMS "cc_period_us"
#define PERIOD_DEFAULT	"10000"

#define BUF		(1 << 20)
#define CHUNK		(64 << 10)
#define DEPTH		8
#define FLOOD_S		4.0
#define BOTTLENECK_KBPS	16000
#define ACCESS		(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE)
#define OP_CNP		0x81
#define CNP_RESERVED	16

FIXTURE(cc)
{
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
};

FIXTURE_SETUP(cc)
{
	int ret;

	ASSERT_EQ(0, pt_sh("modprobe sch_tbf && modprobe sch_red && modprobe sch_prio && modprobe cls_u32 && modprobe act_gact"))
		TH_LOG("no tbf, red, prio, u32 or gact");
	ASSERT_EQ(0, pt_write_line(ECN_PARAM, "1"));
	ASSERT_EQ(0, pt_veth_up(NET0, NET1, DEV0, DEV1));
	ret = pt_open_two(&self->c, DEV0, DEV1);
	ASSERT_EQ(0, ret) TH_LOG("open: %s", strerror(-ret));
	ret = pt_connect_pair(&self->c, ACCESS);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));
	self->src = aligned_alloc(4096, BUF);
	self->dst = aligned_alloc(4096, BUF);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	memset(self->src, 0x5a, BUF);
	self->src_mr = ibv_reg_mr(self->c.pd, self->src, BUF, ACCESS);
	self->dst_mr = ibv_reg_mr(self->c.rpd, self->dst, BUF, ACCESS);
	ASSERT_NE(NULL, self->src_mr);
	ASSERT_NE(NULL, self->dst_mr);
}

FIXTURE_TEARDOWN(cc)
{
	pt_write_line(ECN_PARAM, "0");		/* the module's default */
	pt_write_line(PERIOD_PARAM, PERIOD_DEFAULT);
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	pt_veth_pair_close(&self->c, NET0, DEV0, DEV1);
	free(self->src);
	free(self->dst);
}

/* NET0's egress: the bottleneck, a RED queue marking ECT and dropping the rest */
static int bottleneck_up(void)
{
	return pt_sh("tc qdisc replace dev %s root handle 1: tbf rate %ukbit burst 16kb latency 500ms && "
		     "tc qdisc add dev %s parent 1:1 handle 10: red limit 1000000 min 24000 max 72000 avpkt 1100 bandwidth %ukbit probability 0.1 ecn",
		     NET0, BOTTLENECK_KBPS, NET0, BOTTLENECK_KBPS);
}

/* a number after "key " in the RED qdisc's statistics on NET0, or -1 */
static long long red_stat(const char *key)
{
	char out[2048], *p;

	if (pt_sh_out(out, sizeof(out), "tc -s qdisc show dev %s parent 1:1", NET0))
		return -1;
	p = strstr(out, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* the requester QP's drv_cc_rate_kbps (rdma -dd), or -1 */
static long long cc_rate_kbps(struct pt_ctx *c)
{
	char out[4096], *p;

	if (pt_sh_out(out, sizeof(out), "rdma -dd resource show qp link %s/1 lqpn %u",
		      DEV0, c->qp[0]->qp_num))
		return -1;
	p = strstr(out, "cc_rate_kbps ");
	return p ? strtoll(p + strlen("cc_rate_kbps "), NULL, 10) : -1;
}

struct flood {
	long long bytes, min_kbps, samples_cut;
	int status;		/* of a failed completion */
};

/*
 * 64 KiB WRITEs from qp[0], DEPTH in flight, for secs; every 100 ms the
 * QP's cut rate is sampled.  0, or -1 on a failed completion or a stall.
 */
static int flood(FIXTURE_DATA(cc) *self, double secs, struct flood *f)
{
	double end = pt_now_s() + secs, stall = end + 20, next = 0;
	int inflight = 0, n = 0;
	struct ibv_wc wc;

	memset(f, 0, sizeof(*f));
	f->min_kbps = -1;
	while (pt_now_s() < end || inflight) {
		while (inflight < DEPTH && pt_now_s() < end) {
			size_t off = (n++ % (BUF / CHUNK)) * CHUNK;
			struct ibv_sge sge = {
				.addr = (uintptr_t)self->src + off,
				.length = CHUNK, .lkey = self->src_mr->lkey,
			};
			struct ibv_send_wr wr = {
				.opcode = IBV_WR_RDMA_WRITE,
				.send_flags = IBV_SEND_SIGNALED,
				.sg_list = &sge, .num_sge = 1,
				.wr.rdma.remote_addr = (uintptr_t)self->dst + off,
				.wr.rdma.rkey = self->dst_mr->rkey,
			}, *bad;

			if (ibv_post_send(self->c.qp[0], &wr, &bad))
				return -1;
			inflight++;
		}
		while (inflight && ibv_poll_cq(self->c.cq[0], 1, &wc) == 1) {
			if (wc.status != IBV_WC_SUCCESS) {
				f->status = wc.status;
				return -1;
			}
			inflight--;
			f->bytes += CHUNK;
		}
		if (pt_now_s() >= next && pt_now_s() < end) {
			long long k = cc_rate_kbps(&self->c);

			if (k > 0) {
				f->samples_cut++;
				if (f->min_kbps < 0 || k < f->min_kbps)
					f->min_kbps = k;
			}
			next = pt_now_s() + 0.1;
		}
		if (pt_now_s() > stall)
			return -1;
	}
	return 0;
}

/* the IPv6 traffic class of a captured frame */
static int frame_tclass(const struct pt_frame *f)
{
	return ((f->b[PT_ETH_LEN] & 0x0f) << 4) | (f->b[PT_ETH_LEN + 1] >> 4);
}

TEST_F(cc, requests_carry_ect_and_none_with_ecn_off)
{
	struct pt_frame tmpl;
	int cap = pt_packet_socket(NET0);

	ASSERT_LE(0, cap);
	ASSERT_EQ(0, pt_template_write(&self->c, cap, self->src,
				       self->src_mr->lkey,
				       (uintptr_t)self->dst,
				       self->dst_mr->rkey, &tmpl));
	EXPECT_EQ(2, frame_tclass(&tmpl) & 3);		/* ECT(0) */
	ASSERT_EQ(0, pt_write_line(ECN_PARAM, "0"));
	ASSERT_EQ(0, pt_template_write(&self->c, cap, self->src,
				       self->src_mr->lkey,
				       (uintptr_t)self->dst,
				       self->dst_mr->rkey, &tmpl));
	EXPECT_EQ(0, frame_tclass(&tmpl) & 3);		/* Not-ECT */
	close(cap);
}

/*
 * A CNP for qp[0] as its peer would send it, made from a captured WRITE
 * of qp[0] to qp[1]: the Ethernet and IPv6 addresses swapped; the ICRC
 * computed unless bad_icrc, extra bytes beyond the reserved 16.
 */
static int make_cnp(struct pt_frame *f, const struct pt_frame *wr,
		    uint32_t dqpn, size_t extra, int bad_icrc)
{
	unsigned char roce[PT_BTH_LEN + CNP_RESERVED + 8] = { 0 };
	struct pt_frame t = *wr;
	int ret;

	memcpy(t.b, wr->b + 6, 6);
	memcpy(t.b + 6, wr->b, 6);
	memcpy(t.b + PT_ETH_LEN + 8, wr->b + PT_ETH_LEN + 24, 16);
	memcpy(t.b + PT_ETH_LEN + 24, wr->b + PT_ETH_LEN + 8, 16);
	pt_bth(roce, OP_CNP, 0, dqpn, 0, 0);
	roce[4] = 0x40;					/* BECN */
	ret = pt_frame_build(f, &t, roce, PT_BTH_LEN + CNP_RESERVED + extra);
	if (!ret && bad_icrc) {
		f->b[f->len - 1] ^= 1;
		pt_frame_udp_csum(f);	/* so that rxe, not UDP, sees it */
	}
	return ret;
}

TEST_F(cc, a_hand_made_cnp_cuts_the_rate_and_a_bad_one_is_ignored)
{
	long long handled, ignored;
	struct pt_frame tmpl, cnp;
	int cap = pt_packet_socket(NET0), out = pt_packet_socket(NET1);
	uint32_t qpn = self->c.qp[0]->qp_num;
	struct {
		const char *what;
		uint32_t dqpn;
		size_t extra;
		int bad_icrc, other_src;
	} bad[] = {
		{ "a bad ICRC", qpn, 0, 1, 0 },
		{ "4 bytes too long", qpn, 4, 0, 0 },
		{ "for no QP", 0xabcd, 0, 0, 0 },
		{ "from another address", qpn, 0, 0, 1 },
	};
	size_t i;

	ASSERT_LE(0, cap);
	ASSERT_LE(0, out);
	ASSERT_EQ(0, pt_template_write(&self->c, cap, self->src,
				       self->src_mr->lkey,
				       (uintptr_t)self->dst,
				       self->dst_mr->rkey, &tmpl));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		handled = pt_read_dev_counter(DEV0, "rp_cnp_handled");
		ignored = pt_read_dev_counter(DEV0, "rp_cnp_ignored");
		if (bad[i].other_src)	/* the CNP's source: not the QP's peer */
			tmpl.b[PT_ETH_LEN + 24 + 15] ^= 0x55;
		ASSERT_EQ(0, make_cnp(&cnp, &tmpl, bad[i].dqpn, bad[i].extra,
				      bad[i].bad_icrc));
		if (bad[i].other_src)
			tmpl.b[PT_ETH_LEN + 24 + 15] ^= 0x55;
		ASSERT_EQ(0, pt_inject(out, &cnp));
		usleep(100000);
		EXPECT_EQ(handled, pt_read_dev_counter(DEV0, "rp_cnp_handled"))
			TH_LOG("a CNP %s was heeded", bad[i].what);
		EXPECT_EQ(ignored + 1, pt_read_dev_counter(DEV0, "rp_cnp_ignored"))
			TH_LOG("a CNP %s was not counted ignored", bad[i].what);
		EXPECT_EQ(0, cc_rate_kbps(&self->c));
	}
	/* a period of a second: the cut lasts until it is looked at */
	ASSERT_EQ(0, pt_write_line(PERIOD_PARAM, "1000000"));
	handled = pt_read_dev_counter(DEV0, "rp_cnp_handled");
	ASSERT_EQ(0, make_cnp(&cnp, &tmpl, qpn, 0, 0));
	ASSERT_EQ(0, pt_inject(out, &cnp));
	usleep(100000);
	EXPECT_EQ(handled + 1, pt_read_dev_counter(DEV0, "rp_cnp_handled"));
	EXPECT_LT(0, cc_rate_kbps(&self->c));
	/* a QP reset starts again uncut, as a new QP */
	ASSERT_EQ(0, ibv_modify_qp(self->c.qp[0],
				   &(struct ibv_qp_attr){
					.qp_state = IBV_QPS_RESET },
				   IBV_QP_STATE));
	EXPECT_EQ(0, cc_rate_kbps(&self->c));
	close(cap);
	close(out);
}

/* one flood into the bottleneck: what the queue and the QPs counted */
struct run {
	struct flood f;
	long long dropped, marked, ce, cnp_sent, cnp_handled, retries;
};

static void run_flood(struct __test_metadata *_metadata,
		      FIXTURE_DATA(cc) *self, struct run *r)
{
	long long ce = pt_read_dev_counter(DEV1, "np_ecn_marked_roce_packets");
	long long sent = pt_read_dev_counter(DEV1, "np_cnp_sent");
	long long handled = pt_read_dev_counter(DEV0, "rp_cnp_handled");
	long long retries = pt_read_dev_counter(DEV0, "completer_retry_err");

	ASSERT_EQ(0, bottleneck_up());
	ASSERT_EQ(0, flood(self, FLOOD_S, &r->f))
		TH_LOG("%s after %lld bytes", ibv_wc_status_str(r->f.status),
		       r->f.bytes);
	r->dropped = red_stat("dropped ");
	r->marked = red_stat("marked ");
	r->ce = pt_read_dev_counter(DEV1, "np_ecn_marked_roce_packets") - ce;
	r->cnp_sent = pt_read_dev_counter(DEV1, "np_cnp_sent") - sent;
	r->cnp_handled = pt_read_dev_counter(DEV0, "rp_cnp_handled") - handled;
	r->retries = pt_read_dev_counter(DEV0, "completer_retry_err") - retries;
	pt_sh("tc qdisc del dev %s root", NET0);
	TH_LOG("%.0f KB/s, queue dropped %lld marked %lld; CE %lld, CNPs sent %lld heeded %lld; retries %lld; cut rate %lld samples, least %lld kbps",
	       r->f.bytes / FLOOD_S / 1000, r->dropped, r->marked, r->ce,
	       r->cnp_sent, r->cnp_handled, r->retries, r->f.samples_cut,
	       r->f.min_kbps);
}

TEST_F_TIMEOUT(cc, ce_marks_bring_cnps_and_fewer_drops_and_retries, 180)
{
	struct run off, on;

	ASSERT_EQ(0, pt_write_line(ECN_PARAM, "0"));
	run_flood(_metadata, self, &off);
	ASSERT_EQ(0, pt_write_line(ECN_PARAM, "1"));
	run_flood(_metadata, self, &on);

	/* ecn off: nothing ECT, so RED drops and marks nothing */
	EXPECT_EQ(0, off.marked);
	EXPECT_EQ(0, off.cnp_sent);
	EXPECT_LT(0, off.dropped);
	/* ecn on: CE marks answered with CNPs, heeded, the rate cut below the bottleneck's */
	EXPECT_LT(0, on.ce);
	EXPECT_LT(0, on.cnp_sent);
	EXPECT_LE(on.cnp_sent, on.ce);
	EXPECT_LT(0, on.cnp_handled);
	EXPECT_LT(0, on.f.samples_cut);
	EXPECT_LT(0, on.f.min_kbps);
	EXPECT_GT(BOTTLENECK_KBPS, on.f.min_kbps);
	/* and the queue drops fewer, the requester retries less */
	EXPECT_GT(off.dropped, on.dropped);
	EXPECT_GT(off.retries, on.retries);
}

TEST_F_TIMEOUT(cc, a_peer_whose_cnps_never_arrive_changes_nothing, 120)
{
	struct run r;

	/* the responder's CNPs dropped on their way: BTH opcode 0x81 */
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root handle 1: prio && "
			   "tc filter add dev %s parent 1: protocol ipv6 u32 match u8 0x%x 0xff at %d action drop",
			   NET1, NET1, OP_CNP, PT_IP6_LEN + PT_UDP_LEN));
	run_flood(_metadata, self, &r);
	pt_sh("tc qdisc del dev %s root", NET1);
	EXPECT_LT(0, r.cnp_sent);
	EXPECT_EQ(0, r.cnp_handled);
	EXPECT_EQ(0, r.f.samples_cut);
	EXPECT_LT(0, r.f.bytes);
}

TEST_HARNESS_MAIN
