// SPDX-License-Identifier: GPL-2.0
/*
 * What a stranger on the wire can send to the responder.  Two patched rxe
 * devices on a veth pair; a real RDMA WRITE from qp[0] gives a template
 * frame, then hand-made frames with a valid ICRC and the PSN the responder
 * expects go into the veth as if qp[0] had sent them.  Each malformed
 * request must be NAKed as an invalid request, with the responder's memory
 * untouched and the responder QP in the error state; the guest's kernel
 * log staying clean is checked for the whole run (scripts/run-tests).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"

#define NET0		"pth_ve0"
#define NET1		"pth_ve1"
#define DEV0		"pth_rxe0"
#define DEV1		"pth_rxe1"

#define BUF_SIZE	4096
#define FILL		0x5a
#define QP_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_FLUSH_GLOBAL)
#define SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ)

/* the two QPs, the responder's buffer, capture and injection */
struct hostile {
	struct pt_ctx c;
	unsigned char *src, *dst;
	struct ibv_mr *src_mr, *dst_mr;
	int cap, inj;
	struct pt_frame tmpl;		/* a WRITE ONLY that qp[0] sent */
	uint32_t psn;			/* the PSN qp[1] expects next */
	uint32_t rkey;			/* the RETH's: dst_mr's */
	struct pt_frame fr[16];
	int nfr;
};

FIXTURE(hostile_wire)
{
	struct hostile h;
};

FIXTURE_SETUP(hostile_wire)
{
	int ret;

	self->h.cap = -1;
	self->h.inj = -1;
	ret = pt_veth_pair_open(&self->h.c, NET0, NET1, DEV0, DEV1, QP_ACCESS,
				SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("%s/%s on a veth pair: %s", DEV0, DEV1,
				 strerror(-ret));
	self->h.src = aligned_alloc(4096, BUF_SIZE);
	self->h.dst = aligned_alloc(4096, BUF_SIZE);
	ASSERT_NE(NULL, self->h.src);
	ASSERT_NE(NULL, self->h.dst);
	memset(self->h.src, FILL, BUF_SIZE);
	memset(self->h.dst, FILL, BUF_SIZE);
	self->h.src_mr = ibv_reg_mr(self->h.c.pd, self->h.src, BUF_SIZE,
				  IBV_ACCESS_LOCAL_WRITE);
	self->h.dst_mr = ibv_reg_mr(self->h.c.rpd, self->h.dst, BUF_SIZE, QP_ACCESS);
	ASSERT_NE(NULL, self->h.src_mr);
	ASSERT_NE(NULL, self->h.dst_mr);
	self->h.cap = pt_packet_socket(NET1);
	self->h.inj = pt_packet_socket(NET0);
	ASSERT_LE(0, self->h.cap);
	ASSERT_LE(0, self->h.inj);

	/* the template: a real WRITE ONLY of 4 bytes that change nothing */
	ret = pt_template_write(&self->h.c, self->h.cap, self->h.src,
				self->h.src_mr->lkey, (uintptr_t)self->h.dst,
				self->h.dst_mr->rkey, &self->h.tmpl);
	ASSERT_EQ(0, ret) TH_LOG("template WRITE ONLY on " NET1 ": %s",
				 strerror(-ret));
	self->h.psn = (pt_frame_psn(&self->h.tmpl) + 1) & 0xffffff;
	self->h.rkey = self->h.dst_mr->rkey;
}

FIXTURE_TEARDOWN(hostile_wire)
{
	if (self->h.cap >= 0)
		close(self->h.cap);
	if (self->h.inj >= 0)
		close(self->h.inj);
	if (self->h.dst_mr)
		ibv_dereg_mr(self->h.dst_mr);
	if (self->h.src_mr)
		ibv_dereg_mr(self->h.src_mr);
	pt_veth_pair_close(&self->h.c, NET0, DEV0, DEV1);
	free(self->h.src);
	free(self->h.dst);
}

/*
 * Send one request to qp[1] with the expected PSN: BTH (opcode, pad), the
 * 32-bit FETH or VETH word if ext >= 0, RETH (va, self->rkey, len), then
 * paylen bytes of pay (0xee if NULL); keep the frames seen on NET1
 * afterwards.
 */
static int send_frame(struct hostile *self, int opcode, int pad, long ext,
		      uint64_t va, uint32_t len, const void *pay,
		      size_t paylen)
{
	unsigned char roce[PT_BTH_LEN + 4 + PT_RETH_LEN + 64];
	unsigned char *p = roce + PT_BTH_LEN;
	struct pt_frame f;
	int ret;

	if (paylen > 64)
		return -EINVAL;
	pt_bth(roce, opcode, pad, self->c.qp[1]->qp_num, 1, self->psn);
	if (ext >= 0) {
		pt_put_be32(p, ext);
		p += 4;
	}
	pt_reth(p, va, self->rkey, len);
	p += PT_RETH_LEN;
	if (pay)
		memcpy(p, pay, paylen);
	else
		memset(p, 0xee, paylen);
	ret = pt_frame_build(&f, &self->tmpl, roce, p + paylen - roce);
	if (!ret)
		ret = pt_inject(self->inj, &f);
	if (ret)
		return ret;
	self->nfr = pt_capture(self->cap, self->fr, 16, 300);
	return self->nfr < 0 ? self->nfr : 0;
}

static int send_request(struct hostile *self, int opcode,
			int pad, uint64_t va, uint32_t len, size_t paylen)
{
	return send_frame(self, opcode, pad, -1, va, len, NULL, paylen);
}

/* the first answer to qp[0] that was captured with opcode, or NULL */
static const struct pt_frame *answer(struct hostile *self,
				     int opcode)
{
	int i;

	for (i = 0; i < self->nfr; i++)
		if (pt_frame_dqpn(&self->fr[i]) == self->c.qp[0]->qp_num &&
		    pt_frame_opcode(&self->fr[i]) == opcode)
			return &self->fr[i];
	return NULL;
}

static int untouched(struct hostile *self)
{
	int i;

	for (i = 0; i < BUF_SIZE; i++)
		if (self->dst[i] != FILL)
			return 0;
	return 1;
}

/* NAK invalid request for the PSN, memory as it was, qp[1] in error */
static void expect_refused(struct __test_metadata *_metadata,
			   struct hostile *self)
{
	const struct pt_frame *nak = answer(self, PT_OP_ACKNOWLEDGE);

	ASSERT_NE(NULL, nak) TH_LOG("no ACKNOWLEDGE from the responder");
	EXPECT_EQ(PT_AETH_NAK_INV_REQ, pt_frame_syndrome(nak));
	EXPECT_EQ(self->psn, pt_frame_psn(nak));
	EXPECT_EQ(NULL, answer(self, PT_OP_READ_RESPONSE_ONLY));
	EXPECT_TRUE(untouched(self));
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->c.qp[1]));
}

/* the control: a hand-made request that is right lands and is ACKed */
TEST_F(hostile_wire, valid_write_only_lands)
{
	const struct pt_frame *ack;

	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_ONLY, 0,
				  (uintptr_t)self->h.dst + 64, 4, 4));
	ack = answer(&self->h, PT_OP_ACKNOWLEDGE);
	ASSERT_NE(NULL, ack) TH_LOG("no ACKNOWLEDGE from the responder");
	EXPECT_EQ(PT_AETH_ACK, pt_frame_syndrome(ack));
	EXPECT_EQ(0xee, self->h.dst[64]);
	EXPECT_EQ(0xee, self->h.dst[67]);
	EXPECT_EQ(FILL, self->h.dst[68]);
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->h.c.qp[1]));
}

/* Debian 6.1 rxe: a NULL pointer dereference in rxe_mr_copy() */
TEST_F(hostile_wire, write_only_zero_length_with_payload)
{
	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_ONLY, 0,
				  (uintptr_t)self->h.dst, 0, 4));
	expect_refused(_metadata, &self->h);
}

TEST_F(hostile_wire, write_only_payload_longer_than_length)
{
	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_ONLY, 0,
				  (uintptr_t)self->h.dst, 2, 4));
	expect_refused(_metadata, &self->h);
}

TEST_F(hostile_wire, write_first_zero_length_with_payload)
{
	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_FIRST, 0,
				  (uintptr_t)self->h.dst, 0, 4));
	expect_refused(_metadata, &self->h);
}

/* a FIRST that already holds the whole length */
TEST_F(hostile_wire, write_first_not_shorter_than_length)
{
	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_FIRST, 0,
				  (uintptr_t)self->h.dst, 4, 4));
	expect_refused(_metadata, &self->h);
}

TEST_F(hostile_wire, read_request_with_payload)
{
	ASSERT_EQ(0, send_request(&self->h, PT_OP_READ_REQUEST, 0,
				  (uintptr_t)self->h.dst, 4, 4));
	expect_refused(_metadata, &self->h);
	EXPECT_EQ(NULL, answer(&self->h, PT_OP_READ_RESPONSE_FIRST));
}

/* 8 bytes of data and one of pad: refused like FLUSH's and VERIFY's */
TEST_F(hostile_wire, atomic_write_with_pad_count)
{
	long long rcvd = pt_read_dev_counter(DEV1, "atomic_write_rcvd");

	ASSERT_EQ(0, send_request(&self->h, PT_OP_ATOMIC_WRITE, 1,
				  (uintptr_t)self->h.dst, 8, 9));
	expect_refused(_metadata, &self->h);
	/* *_rcvd count requests executed: a refused one is not */
	EXPECT_EQ(rcvd, pt_read_dev_counter(DEV1, "atomic_write_rcvd"));
}

/*
 * Into a plain MR an ATOMIC WRITE carries its 8 bytes and a comparing
 * VERIFY its digest: with a keyed MR's trailer besides, they are refused
 * and nothing lands.
 */
TEST_F(hostile_wire, a_trailer_into_a_plain_mr)
{
	const uint32_t crc = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_CRC32C,
						   RXE_FLUSH_VERIFY_COMPARE);
	long long aw = pt_read_dev_counter(DEV1, "atomic_write_rcvd");
	long long vf = pt_read_dev_counter(DEV1, "verify_rcvd");

	ASSERT_EQ(0, send_request(&self->h, PT_OP_ATOMIC_WRITE, 0,
				  (uintptr_t)self->h.dst, 8,
				  8 + RXE_FLUSH_KEY_TRAILER_BYTES));
	expect_refused(_metadata, &self->h);
	EXPECT_EQ(aw, pt_read_dev_counter(DEV1, "atomic_write_rcvd"));

	ASSERT_EQ(0, pt_qp_rearm(&self->h.c, 1, QP_ACCESS));
	self->h.psn = 0x1000;
	ASSERT_EQ(0, send_frame(&self->h, PT_OP_VERIFY, 0, crc,
				(uintptr_t)self->h.dst, 64, NULL,
				4 + RXE_FLUSH_KEY_TRAILER_BYTES));
	expect_refused(_metadata, &self->h);
	EXPECT_EQ(vf, pt_read_dev_counter(DEV1, "verify_rcvd"));
}

/*
 * A duplicate READ aimed at the PSN of an ATOMIC WRITE (or FLUSH, VERIFY)
 * must not be replayed from that request's resource, whose bytes a READ
 * would misread: here, on a fresh QP, as va 0, rkey 0, length 0, which a
 * READ of nothing with R_Key 0 matches.  Debian's 6.1 replays it, fails
 * the rkey 0 and NAKs, and the QP goes to the error state; it must be
 * dropped as a Class D error, the QP going on.
 */
TEST_F(hostile_wire, duplicate_read_at_an_atomic_write_psn)
{
	long long rcvd = pt_read_dev_counter(DEV1, "atomic_write_rcvd");
	const struct pt_frame *ack;

	ASSERT_EQ(0, send_request(&self->h, PT_OP_ATOMIC_WRITE, 0,
				  (uintptr_t)self->h.dst + 8, 8, 8));
	ack = answer(&self->h, PT_OP_READ_RESPONSE_ONLY);
	ASSERT_NE(NULL, ack) TH_LOG("the ATOMIC WRITE was not acknowledged");
	EXPECT_EQ(0xee, self->h.dst[8]);
	EXPECT_EQ(rcvd + 1, pt_read_dev_counter(DEV1, "atomic_write_rcvd"));

	self->h.rkey = 0;
	ASSERT_EQ(0, send_request(&self->h, PT_OP_READ_REQUEST, 0, 0, 0, 0));
	EXPECT_EQ(NULL, answer(&self->h, PT_OP_ACKNOWLEDGE));
	EXPECT_EQ(NULL, answer(&self->h, PT_OP_READ_RESPONSE_ONLY));
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->h.c.qp[1]));

	/* and the next request is served */
	self->h.rkey = self->h.dst_mr->rkey;
	self->h.psn = (self->h.psn + 1) & 0xffffff;
	ASSERT_EQ(0, send_request(&self->h, PT_OP_WRITE_ONLY, 0,
				  (uintptr_t)self->h.dst + 64, 4, 4));
	ack = answer(&self->h, PT_OP_ACKNOWLEDGE);
	ASSERT_NE(NULL, ack);
	EXPECT_EQ(PT_AETH_ACK, pt_frame_syndrome(ack));
	EXPECT_EQ(0xee, self->h.dst[64]);
}

/* ATOMIC WRITE's RETH length is 8 (oA19-28), even with 8 bytes of payload */
TEST_F(hostile_wire, atomic_write_reth_length_not_8)
{
	static const uint32_t lens[] = { 0, 4, 16, 0x80000008u };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		/* each refusal puts qp[1] in error: back to RTS, PSN 0x1000 */
		if (i) {
			ASSERT_EQ(0, pt_qp_rearm(&self->h.c, 1, QP_ACCESS));
			self->h.psn = 0x1000;
		}
		ASSERT_EQ(0, send_request(&self->h, PT_OP_ATOMIC_WRITE, 0,
					  (uintptr_t)self->h.dst, lens[i], 8))
			TH_LOG("RETH length %u", lens[i]);
		expect_refused(_metadata, &self->h);
	}
}

/* the READ RESPONSE ONLY to qp[0] for the PSN, or NULL */
static const struct pt_frame *response(struct hostile *self)
{
	const struct pt_frame *r = answer(self, PT_OP_READ_RESPONSE_ONLY);

	return r && pt_frame_psn(r) == self->psn ? r : NULL;
}

/* a duplicate that is not the request executed: no answer, QP going on */
static void expect_dropped(struct __test_metadata *_metadata,
			   struct hostile *self, const char *what)
{
	EXPECT_EQ(NULL, answer(self, PT_OP_READ_RESPONSE_ONLY))
		TH_LOG("a duplicate with %s was answered", what);
	EXPECT_EQ(NULL, answer(self, PT_OP_ACKNOWLEDGE))
		TH_LOG("a duplicate with %s was acknowledged", what);
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->c.qp[1]));
}

/* what a duplicate FLUSH, ATOMIC WRITE or VERIFY may differ in */
struct forged {
	const char *what;
	long ext;
	uint64_t va;
	uint32_t rkey, len;
	unsigned char pay[8];
	size_t paylen;
};

#define FORGED(w, e, v, k, l) \
	{ .what = (w), .ext = (e), .va = (v), .rkey = (k), .len = (l) }
#define FORGED_PAY(w, e, v, k, l, p, n) \
	{ .what = (w), .ext = (e), .va = (v), .rkey = (k), .len = (l), \
	  .pay = p, .paylen = (n) }

/*
 * The request r was executed at self->psn; each forged duplicate at that
 * PSN must be dropped, the real duplicate answered as r was, with the
 * same digest if any.
 */
static void duplicates(struct __test_metadata *_metadata, struct hostile *self,
		       int opcode, const struct forged *r,
		       const struct forged *forged, unsigned int n)
{
	const struct pt_frame *first, *again;
	unsigned char want[2048];
	size_t want_len;
	unsigned int i;

	self->rkey = r->rkey;
	ASSERT_EQ(0, send_frame(self, opcode, 0, r->ext, r->va, r->len,
				r->pay, r->paylen));
	first = response(self);
	ASSERT_NE(NULL, first) TH_LOG("the request was not acknowledged");
	want_len = first->len;
	memcpy(want, first->b, want_len);

	for (i = 0; i < n; i++) {
		self->rkey = forged[i].rkey;
		ASSERT_EQ(0, send_frame(self, opcode, 0, forged[i].ext,
					forged[i].va, forged[i].len,
					forged[i].pay, forged[i].paylen));
		expect_dropped(_metadata, self, forged[i].what);
	}

	self->rkey = r->rkey;
	ASSERT_EQ(0, send_frame(self, opcode, 0, r->ext, r->va, r->len,
				r->pay, r->paylen));
	again = response(self);
	ASSERT_NE(NULL, again) TH_LOG("the real duplicate was not answered");
	EXPECT_EQ(want_len, again->len);
	EXPECT_EQ(0, memcmp(want + PT_ROCE_OFF + PT_BTH_LEN,
			    again->b + PT_ROCE_OFF + PT_BTH_LEN,
			    want_len - PT_ROCE_OFF - PT_BTH_LEN));
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->c.qp[1]));
}

#define CRC32C_WORD(flags) \
	RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_CRC32C, flags)

/*
 * A forged VERIFY that takes a PSN first must not make the real request's
 * answer: the responder keeps what it executed and drops a duplicate that
 * differs in R_Key, VA, length, VETH or compare digest.
 */
TEST_F(hostile_wire, duplicate_verify_must_be_the_request_executed)
{
	uint64_t va = (uintptr_t)self->h.dst;
	uint32_t k = self->h.rkey, k2 = self->h.src_mr->rkey;
	const struct forged r = FORGED("", CRC32C_WORD(0), va, k, 64);
	const struct forged forged[] = {
		FORGED("another VA", CRC32C_WORD(0), va + 64, k, 64),
		FORGED("another length", CRC32C_WORD(0), va, k, 128),
		FORGED("another R_Key", CRC32C_WORD(0), va, k2, 64),
		FORGED("another algorithm",
		       RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_XXH64, 0),
		       va, k, 64),
		FORGED_PAY("compare mode", CRC32C_WORD(RXE_FLUSH_VERIFY_COMPARE),
			   va, k, 64, "\1\2\3\4", 4),
	};

	/* [64, 128) differs from [0, 64) */
	memset(self->h.dst + 64, 0x11, 64);
	duplicates(_metadata, &self->h, PT_OP_VERIFY, &r, forged,
		   ARRAY_SIZE(forged));
}

/* a compare-mode VERIFY: its digest is part of the request */
TEST_F(hostile_wire, duplicate_verify_compare_digest)
{
	uint64_t va = (uintptr_t)self->h.dst;
	uint32_t k = self->h.rkey;
	struct forged r = FORGED("", CRC32C_WORD(0), va, k, 64);
	const struct pt_frame *ans;
	struct forged forged[1];

	/* the digest, from a return-mode VERIFY at the PSN before */
	ASSERT_EQ(0, send_frame(&self->h, PT_OP_VERIFY, 0, r.ext, va, 64,
				NULL, 0));
	ans = response(&self->h);
	ASSERT_NE(NULL, ans);
	r.ext = CRC32C_WORD(RXE_FLUSH_VERIFY_COMPARE);
	memcpy(r.pay, ans->b + PT_ROCE_OFF + PT_BTH_LEN + PT_AETH_LEN, 4);
	r.paylen = 4;
	self->h.psn = (self->h.psn + 1) & 0xffffff;

	forged[0] = r;
	forged[0].what = "another compare digest";
	forged[0].pay[0] ^= 0xff;
	duplicates(_metadata, &self->h, PT_OP_VERIFY, &r, forged, 1);
}

#define FETH(type, sel)	((type) | (sel) << 4)

TEST_F(hostile_wire, duplicate_flush_must_be_the_request_executed)
{
	uint64_t va = (uintptr_t)self->h.dst;
	uint32_t k = self->h.rkey, k2 = self->h.src_mr->rkey;
	const long g = FETH(RXE_FLUSH_TYPE_GLOBAL, RXE_FLUSH_LEVEL_RANGE);
	const struct forged r = FORGED("", g, va, k, 64);
	const struct forged forged[] = {
		FORGED("another VA", g, va + 64, k, 64),
		FORGED("another length", g, va, k, 128),
		FORGED("another R_Key", g, va, k2, 64),
		FORGED("another selectivity",
		       FETH(RXE_FLUSH_TYPE_GLOBAL, RXE_FLUSH_LEVEL_MR), va, k, 64),
	};

	duplicates(_metadata, &self->h, PT_OP_FLUSH, &r, forged,
		   ARRAY_SIZE(forged));
}

/* the 8 bytes are part of the request: stored, and compared */
TEST_F(hostile_wire, duplicate_atomic_write_must_be_the_request_executed)
{
	uint64_t va = (uintptr_t)self->h.dst;
	uint32_t k = self->h.rkey;
	uint32_t k2 = self->h.src_mr->rkey;
	const struct forged r = FORGED_PAY("", -1, va, k, 8, "realreal", 8);
	const struct forged forged[] = {
		FORGED_PAY("another VA", -1, va + 8, k, 8, "realreal", 8),
		FORGED_PAY("another payload", -1, va, k, 8, "forgedXX", 8),
		FORGED_PAY("another R_Key", -1, va, k2, 8, "realreal", 8),
	};

	duplicates(_metadata, &self->h, PT_OP_ATOMIC_WRITE, &r, forged,
		   ARRAY_SIZE(forged));
	EXPECT_EQ(0, memcmp(self->h.dst, "realreal", 8));
	EXPECT_EQ(FILL, self->h.dst[8]);
}

/*
 * A duplicate READ whose VA + length wraps past 2^64 is not a subset of
 * the READ executed.  Debian's 6.1 takes it for one (the sum wraps below
 * the end of the original), replays it from a VA outside the MR, ignores
 * the failed copy and sends a READ RESPONSE of whatever the buffer held.
 */
TEST_F(hostile_wire, duplicate_read_with_a_wrapping_range)
{
	uint64_t va = (uintptr_t)self->h.dst;
	const struct pt_frame *r;

	ASSERT_EQ(0, send_request(&self->h, PT_OP_READ_REQUEST, 0, va, 64, 0));
	r = response(&self->h);
	ASSERT_NE(NULL, r) TH_LOG("the READ was not answered");
	ASSERT_EQ(0, send_request(&self->h, PT_OP_READ_REQUEST, 0,
				  UINT64_MAX - 7, 64, 0));
	expect_dropped(_metadata, &self->h, "a wrapping range");
	EXPECT_EQ(NULL, answer(&self->h, PT_OP_READ_RESPONSE_FIRST));

	/* and the real duplicate is still answered */
	ASSERT_EQ(0, send_request(&self->h, PT_OP_READ_REQUEST, 0, va, 64, 0));
	EXPECT_NE(NULL, response(&self->h));
}

TEST_HARNESS_MAIN
