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
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"

#define NET0		"prw_ve0"
#define NET1		"prw_ve1"
#define DEV0		"prw_rxe0"
#define DEV1		"prw_rxe1"

#define ROCE_PORT	4791
#define ETH_LEN		14
#define IP6_LEN		40
#define UDP_LEN		8
#define BTH_LEN		12
#define ICRC_LEN	4
#define ROCE_OFF	(ETH_LEN + IP6_LEN + UDP_LEN)	/* BTH in a frame */

#define FIRST_PSN		0x1000	/* rdma_helpers' sq_psn */
#define BUF_SIZE		8192

struct frame {
	unsigned char b[512];
	size_t len;
};

static uint32_t crc32_step(uint32_t crc, const unsigned char *p, size_t n)
{
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

/*
 * The ICRC of a RoCEv2/IPv6 frame, IBA A17.8: CRC-32 over 8 bytes of ones
 * (the masked LRH), the IPv6 header with traffic class, flow label and hop
 * limit set to ones, the UDP header with its checksum set to ones, the BTH
 * with byte 4 set to ones, then everything up to the ICRC.  With again > 0,
 * the CRC then runs over the first 'again' bytes from the BTH once more,
 * unmasked: upstream rxe's FLUSH ICRC.
 */
static uint32_t icrc(const struct frame *f, size_t again)
{
	unsigned char m[sizeof(f->b) + 8];
	size_t n = f->len - ETH_LEN - ICRC_LEN;
	uint32_t crc;

	memset(m, 0xff, 8);
	memcpy(m + 8, f->b + ETH_LEN, n);
	m[8] |= 0x0f;				/* traffic class, low half */
	memset(m + 8 + 1, 0xff, 3);		/* traffic class, flow label */
	m[8 + 7] = 0xff;			/* hop limit */
	memset(m + 8 + IP6_LEN + 6, 0xff, 2);	/* UDP checksum */
	m[8 + IP6_LEN + UDP_LEN + 4] = 0xff;	/* BTH resv8a */
	crc = crc32_step(0xffffffffu, m, 8 + n);
	if (again)
		crc = crc32_step(crc, f->b + ROCE_OFF, again);
	return ~crc;
}

static uint32_t wire_icrc(const struct frame *f)
{
	const unsigned char *p = f->b + f->len - ICRC_LEN;

	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t be64_at(const unsigned char *p)
{
	return (uint64_t)be32_at(p) << 32 | be32_at(p + 4);
}

static int opcode_of(const struct frame *f)
{
	return f->b[ROCE_OFF];
}

static uint32_t dqpn_of(const struct frame *f)
{
	return be32_at(f->b + ROCE_OFF + 4) & 0xffffff;
}

static uint32_t psn_of(const struct frame *f)
{
	return be32_at(f->b + ROCE_OFF + 8) & 0xffffff;
}

/* a RoCEv2 frame over IPv6, as far as the capture goes */
static int is_roce(const unsigned char *b, size_t len)
{
	return len >= ROCE_OFF + BTH_LEN + ICRC_LEN &&
	       b[12] == 0x86 && b[13] == 0xdd &&		/* IPv6 */
	       b[ETH_LEN + 6] == 17 &&			/* UDP */
	       ((b[ETH_LEN + IP6_LEN + 2] << 8) | b[ETH_LEN + IP6_LEN + 3]) ==
	       ROCE_PORT;
}

/* the two QPs, their buffers and the capture on NET1 */
struct wire {
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	int cap;
	struct frame fr[16];
	int nfr;
};

static const char * const setup_cmds[] = {
	"ip link add " NET0 " type veth peer name " NET1,
	/* link-local IPv6 only: usable at once, without DAD */
	"sysctl -qw net.ipv6.conf." NET0 ".accept_dad=0",
	"sysctl -qw net.ipv6.conf." NET1 ".accept_dad=0",
	"ip link set " NET0 " up",
	"ip link set " NET1 " up",
	"rdma link add " DEV0 " type rxe netdev " NET0,
	"rdma link add " DEV1 " type rxe netdev " NET1,
};

static const char * const teardown_cmds[] = {
	"rdma link delete " DEV0 " 2>/dev/null",
	"rdma link delete " DEV1 " 2>/dev/null",
	"ip link del " NET0 " 2>/dev/null",
};

FIXTURE(wire)
{
	struct wire w;
};

FIXTURE_SETUP(wire)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(teardown_cmds); i++)
		pt_sh("%s", teardown_cmds[i]);
	for (i = 0; i < ARRAY_SIZE(setup_cmds); i++)
		if (pt_sh("%s", setup_cmds[i]))
			break;
	ASSERT_EQ(ARRAY_SIZE(setup_cmds), i) TH_LOG("failed: %s",
						   setup_cmds[i]);

	ret = pt_open_two(&self->w.c, DEV0, DEV1);
	ASSERT_EQ(0, ret) TH_LOG("open %s, %s: %s", DEV0, DEV1, strerror(-ret));
	ASSERT_NE(0, memcmp(&self->w.c.gid, &self->w.c.rgid, sizeof(self->w.c.gid)));
	ASSERT_EQ(0, pt_connect_pair_ex(&self->w.c, PT_FLUSH_QP_ACCESS,
					PT_FLUSH_SEND_OPS));
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

	self->w.cap = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ASSERT_LE(0, self->w.cap);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex(NET1);
	ASSERT_NE(0, sll.sll_ifindex);
	ASSERT_EQ(0, bind(self->w.cap, (struct sockaddr *)&sll, sizeof(sll)));
}

FIXTURE_TEARDOWN(wire)
{
	size_t i;

	if (self->w.cap >= 0)
		close(self->w.cap);
	if (self->w.dst_mr)
		ibv_dereg_mr(self->w.dst_mr);
	if (self->w.src_mr)
		ibv_dereg_mr(self->w.src_mr);
	pt_close(&self->w.c);
	free(self->w.src);
	free(self->w.dst);
	for (i = 0; i < ARRAY_SIZE(teardown_cmds); i++)
		pt_sh("%s", teardown_cmds[i]);
}

/* the RoCE frames seen on NET1 so far, both directions, in order */
static int capture(struct wire *self)
{
	struct pollfd pfd = { .fd = self->cap, .events = POLLIN };
	unsigned char b[2048];
	ssize_t n;

	while (poll(&pfd, 1, 200) > 0) {
		n = recv(self->cap, b, sizeof(b), 0);
		if (n < 0)
			return -errno;
		if (!is_roce(b, n) || n > (ssize_t)sizeof(self->fr[0].b) ||
		    self->nfr == ARRAY_SIZE(self->fr))
			continue;
		memcpy(self->fr[self->nfr].b, b, n);
		self->fr[self->nfr++].len = n;
	}
	return self->nfr;
}

static const struct frame *find(struct wire *self, int opcode)
{
	int i;

	for (i = 0; i < self->nfr; i++)
		if (opcode_of(&self->fr[i]) == opcode)
			return &self->fr[i];
	return NULL;
}

/* BTH: opcode, SE 0, PadCnt 0, TVer 0, default P_Key, QPN, PSN */
static void check_bth(struct __test_metadata *_metadata,
		      const struct frame *f, int opcode, uint32_t qpn,
		      uint32_t psn)
{
	const unsigned char *bth = f->b + ROCE_OFF;

	EXPECT_EQ(opcode, bth[0]);
	EXPECT_EQ(0, bth[1] & 0x80);			/* SE */
	EXPECT_EQ(0, (bth[1] >> 4) & 3);		/* PadCnt */
	EXPECT_EQ(0, bth[1] & 0x0f);			/* TVer */
	EXPECT_EQ(0xffff, bth[2] << 8 | bth[3]);	/* P_Key */
	EXPECT_EQ(qpn, dqpn_of(f));
	EXPECT_EQ(psn, psn_of(f));
}

/* RDMA READ RESPONSE ONLY: BTH, AETH ACK, no data, IBA ICRC */
static void check_ack(struct __test_metadata *_metadata,
		      struct wire *self, uint32_t psn)
{
	const struct frame *f = find(self, PT_OP_READ_RESPONSE_ONLY);

	ASSERT_NE(NULL, f) TH_LOG("no READ RESPONSE ONLY captured");
	check_bth(_metadata, f, PT_OP_READ_RESPONSE_ONLY, self->c.qp[0]->qp_num,
		  psn);
	ASSERT_EQ(ROCE_OFF + BTH_LEN + 4 + ICRC_LEN, f->len);
	EXPECT_EQ(0, f->b[ROCE_OFF + BTH_LEN] & 0x60);	/* AETH: ACK */
	EXPECT_EQ(icrc(f, 0), wire_icrc(f));
}

/* FLUSH: BTH, FETH, RETH, nothing else; returns the frame */
static const struct frame *check_flush(struct __test_metadata *_metadata,
				       struct wire *self, uint32_t feth,
				       uint64_t va, uint32_t len)
{
	const struct frame *f = find(self, PT_OP_FLUSH);
	const unsigned char *h;

	if (!f)
		return NULL;
	h = f->b + ROCE_OFF;
	check_bth(_metadata, f, PT_OP_FLUSH, self->c.qp[1]->qp_num, FIRST_PSN);
	EXPECT_EQ(ROCE_OFF + BTH_LEN + 4 + 16 + ICRC_LEN, f->len);
	EXPECT_EQ(BTH_LEN + 4 + 16 + ICRC_LEN + UDP_LEN,
		  f->b[ETH_LEN + IP6_LEN + 4] << 8 |
		  f->b[ETH_LEN + IP6_LEN + 5]);		/* UDP length */
	EXPECT_EQ(feth, be32_at(h + 12));		/* FETH */
	EXPECT_EQ(va, be64_at(h + 16));			/* RETH VA */
	EXPECT_EQ(self->dst_mr->rkey, be32_at(h + 24));	/* RETH R_Key */
	EXPECT_EQ(len, be32_at(h + 28));		/* RETH length */
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
	const struct frame *f;
	struct ibv_wc wc;

	ASSERT_EQ(0, flush(&self->w, va, 4000, IBV_FLUSH_RANGE, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_LE(2, capture(&self->w));
	/* FETH: placement type 1 (global visibility), selectivity 0 (range) */
	f = check_flush(_metadata, &self->w, 0x00000001, va, 4000);
	ASSERT_NE(NULL, f) TH_LOG("no FLUSH captured");
	EXPECT_EQ(icrc(f, 0), wire_icrc(f));
	EXPECT_NE(icrc(f, BTH_LEN + 20), wire_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_F(wire, flush_whole_mr_feth)
{
	const struct frame *f;
	struct ibv_wc wc;

	ASSERT_EQ(0, flush(&self->w, 0, 0, IBV_FLUSH_MR, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_LE(2, capture(&self->w));
	/* placement type 1, selectivity 1 (the whole MR) in bits 5..4 */
	f = check_flush(_metadata, &self->w, 0x00000011, 0, 0);
	ASSERT_NE(NULL, f) TH_LOG("no FLUSH captured");
	EXPECT_EQ(icrc(f, 0), wire_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

/* flush_icrc=rxe6: upstream's CRC goes out, and our responder takes it */
TEST_F(wire, flush_icrc_rxe6_on_the_wire)
{
	uint64_t va = (uintptr_t)self->w.dst;
	const struct frame *f;
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
	EXPECT_EQ(icrc(f, BTH_LEN + 20), wire_icrc(f));
	EXPECT_NE(icrc(f, 0), wire_icrc(f));
	EXPECT_EQ(1, pt_read_dev_counter(DEV1, "flush_icrc_rxe6_rcvd") - rxe6);
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_F(wire, atomic_write_bytes_and_icrc)
{
	const uint64_t val = 0x0123456789abcdefULL;
	uint64_t va = (uintptr_t)self->w.dst + 256;
	const struct frame *f;
	const unsigned char *h;
	struct ibv_wc wc;

	ASSERT_EQ(0, pt_wr_atomic_write(&self->w.c, self->w.dst_mr->rkey, va, &val,
					&wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(val, pt_load64(self->w.dst + 256));
	ASSERT_LE(2, capture(&self->w));
	f = find(&self->w, PT_OP_ATOMIC_WRITE);
	ASSERT_NE(NULL, f) TH_LOG("no ATOMIC WRITE captured");
	h = f->b + ROCE_OFF;
	check_bth(_metadata, f, PT_OP_ATOMIC_WRITE, self->w.c.qp[1]->qp_num,
		  FIRST_PSN);
	ASSERT_EQ(ROCE_OFF + BTH_LEN + 16 + 8 + ICRC_LEN, f->len);
	EXPECT_EQ(va, be64_at(h + 12));			/* RETH VA */
	EXPECT_EQ(self->w.dst_mr->rkey, be32_at(h + 20));	/* RETH R_Key */
	EXPECT_EQ(8, be32_at(h + 24));			/* RETH length */
	EXPECT_EQ(0, memcmp(h + 28, &val, 8));		/* the value as stored */
	EXPECT_EQ(icrc(f, 0), wire_icrc(f));
	check_ack(_metadata, &self->w, FIRST_PSN);
}

TEST_HARNESS_MAIN
