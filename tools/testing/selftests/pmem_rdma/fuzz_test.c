// SPDX-License-Identifier: GPL-2.0
/*
 * A packet fuzzer for the responder.  Two patched rxe devices on a veth
 * pair; a real RDMA WRITE gives a template frame, then seeded random
 * requests with a valid ICRC go into the veth at the responder QP: RDMA
 * WRITE (FIRST, MIDDLE, LAST, ONLY, with immediate), READ REQUEST, SEND,
 * FLUSH, ATOMIC WRITE, VERIFY, COMPARE SWAP and FETCH ADD, with PSNs near
 * the expected one or anywhere, R_Keys of three MRs or random ones, VAs and
 * lengths near 0, the MR's ends, 2^31 and 2^32, random FETH/VETH words,
 * pad counts, and headers cut short or followed by extra bytes.  The
 * responder QP is re-armed whenever it went to the error state.
 *
 * Judged: the guest's kernel log stays clean (scripts/run-tests), and
 * target memory changes only inside the MR whose key grants remote write:
 * the read-only MR, the MR without remote access and the guard pages
 * around the writable one keep their pattern.
 *
 * PMEM_RDMA_FUZZ_PACKETS (default 100000) and PMEM_RDMA_FUZZ_SECONDS
 * (default 120) bound the run; PMEM_RDMA_FUZZ_SEED replays a run (the seed
 * is printed).  make fuzz runs 10^7 packets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"

#define NET0		"ptf_ve0"
#define NET1		"ptf_ve1"
#define DEV0		"ptf_rxe0"
#define DEV1		"ptf_rxe1"

#define RW_LEN		(64 * 1024)	/* the writable MR, guards around it */
#define SMALL_LEN	4096
#define RQ_PSN		0x1000		/* pt_qp_rearm()'s rq_psn */
#define QP_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC | \
			 IBV_ACCESS_FLUSH_GLOBAL)
#define SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ)
#define RECVS		16

static const int fuzz_opcodes[] = {
	PT_OP_SEND_FIRST, PT_OP_SEND_MIDDLE, PT_OP_SEND_LAST, PT_OP_SEND_ONLY,
	PT_OP_WRITE_FIRST, PT_OP_WRITE_MIDDLE, PT_OP_WRITE_LAST,
	PT_OP_WRITE_LAST_IMM, PT_OP_WRITE_ONLY, PT_OP_WRITE_ONLY_IMM,
	PT_OP_READ_REQUEST, PT_OP_CMP_SWAP, PT_OP_FETCH_ADD, PT_OP_FLUSH,
	PT_OP_ATOMIC_WRITE, PT_OP_VERIFY,
};

struct fuzz {
	struct pt_ctx c;
	unsigned char *area;		/* guard | writable MR | guard */
	unsigned char *ro, *none, *src, *rbuf;
	struct ibv_mr *rw_mr, *ro_mr, *none_mr, *src_mr, *rbuf_mr;
	int cap, inj;
	struct pt_frame tmpl;
	uint64_t rng;
};

FIXTURE(fuzz_wire)
{
	struct fuzz f;
};

static uint64_t rnd(struct fuzz *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick(struct fuzz *f, const uint64_t *v, size_t n)
{
	return v[rnd(f) % n];
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static int post_recvs(struct fuzz *f)
{
	struct ibv_recv_wr *bad, wr = {};
	struct ibv_sge sge;
	int i;

	for (i = 0; i < RECVS; i++) {
		sge.addr = (uintptr_t)f->rbuf + i * 256;
		sge.length = 256;
		sge.lkey = f->rbuf_mr->lkey;
		wr.wr_id = i;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		if (ibv_post_recv(f->c.qp[1], &wr, &bad))
			return -errno;
	}
	return 0;
}

/* the responder QP back to RTS with fresh receives, its CQ drained */
static int rearm(struct fuzz *f)
{
	struct ibv_wc wc[16];
	int ret;

	while (ibv_poll_cq(f->c.cq[1], 16, wc) > 0)
		;
	ret = pt_qp_rearm(&f->c, 1, QP_ACCESS);
	while (ibv_poll_cq(f->c.cq[1], 16, wc) > 0)
		;
	return ret ?: post_recvs(f);
}

FIXTURE_SETUP(fuzz_wire)
{
	struct fuzz *f = &self->f;
	int ret;

	f->cap = -1;
	f->inj = -1;
	ret = pt_veth_pair_open(&f->c, NET0, NET1, DEV0, DEV1, QP_ACCESS,
				SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("%s/%s on a veth pair: %s", DEV0, DEV1,
				 strerror(-ret));
	f->area = aligned_alloc(4096, 3 * RW_LEN);
	f->ro = aligned_alloc(4096, SMALL_LEN);
	f->none = aligned_alloc(4096, SMALL_LEN);
	f->src = aligned_alloc(4096, SMALL_LEN);
	f->rbuf = aligned_alloc(4096, RECVS * 256);
	ASSERT_TRUE(f->area && f->ro && f->none && f->src && f->rbuf);
	pt_fill_pattern(f->area, RW_LEN, 11);
	pt_fill_pattern(f->area + RW_LEN, RW_LEN, 15);
	pt_fill_pattern(f->area + 2 * RW_LEN, RW_LEN, 14);
	pt_fill_pattern(f->ro, SMALL_LEN, 12);
	pt_fill_pattern(f->none, SMALL_LEN, 13);
	memset(f->src, 0, SMALL_LEN);
	f->rw_mr = ibv_reg_mr(f->c.rpd, f->area + RW_LEN, RW_LEN, QP_ACCESS);
	f->ro_mr = ibv_reg_mr(f->c.rpd, f->ro, SMALL_LEN,
			      IBV_ACCESS_REMOTE_READ);
	f->none_mr = ibv_reg_mr(f->c.rpd, f->none, SMALL_LEN,
				IBV_ACCESS_LOCAL_WRITE);
	f->rbuf_mr = ibv_reg_mr(f->c.rpd, f->rbuf, RECVS * 256,
				IBV_ACCESS_LOCAL_WRITE);
	f->src_mr = ibv_reg_mr(f->c.pd, f->src, SMALL_LEN,
			       IBV_ACCESS_LOCAL_WRITE);
	ASSERT_TRUE(f->rw_mr && f->ro_mr && f->none_mr && f->rbuf_mr &&
		    f->src_mr);
	ASSERT_EQ(0, post_recvs(f));
	f->cap = pt_packet_socket(NET1);
	f->inj = pt_packet_socket(NET0);
	ASSERT_LE(0, f->cap);
	ASSERT_LE(0, f->inj);

	/* the template: a WRITE ONLY into the writable MR, then no capture */
	memcpy(f->src, f->area + RW_LEN, 4);
	ret = pt_template_write(&f->c, f->cap, f->src, f->src_mr->lkey,
				(uintptr_t)f->area + RW_LEN, f->rw_mr->rkey,
				&f->tmpl);
	ASSERT_EQ(0, ret) TH_LOG("template WRITE ONLY on " NET1 ": %s",
				 strerror(-ret));
	close(f->cap);
	f->cap = -1;
	ASSERT_EQ(0, rearm(f));
}

FIXTURE_TEARDOWN(fuzz_wire)
{
	struct fuzz *f = &self->f;
	struct ibv_mr *mrs[] = { f->rw_mr, f->ro_mr, f->none_mr, f->rbuf_mr,
				 f->src_mr };
	size_t i;

	if (f->cap >= 0)
		close(f->cap);
	if (f->inj >= 0)
		close(f->inj);
	for (i = 0; i < ARRAY_SIZE(mrs); i++)
		if (mrs[i])
			ibv_dereg_mr(mrs[i]);
	pt_veth_pair_close(&f->c, NET0, DEV0, DEV1);
	free(f->area);
	free(f->ro);
	free(f->none);
	free(f->src);
	free(f->rbuf);
}

/* one random request at qp[1], as BTH onwards; its length */
static size_t fuzz_request(struct fuzz *f, unsigned char *r, size_t room)
{
	const uint64_t base = (uintptr_t)f->area + RW_LEN;
	const uint64_t vas[] = {
		base, base + RW_LEN - 8, base + RW_LEN, base - 8,
		(uintptr_t)f->ro, (uintptr_t)f->none, 0, ~0ULL - 7,
		base + (rnd(f) % RW_LEN & ~7ULL), rnd(f),
	};
	const uint64_t rkeys[] = {
		f->rw_mr->rkey, f->ro_mr->rkey, f->none_mr->rkey,
		f->rw_mr->rkey ^ 1, 0, rnd(f),
	};
	const uint64_t lens[] = {
		0, 1, 4, 8, 64, 1024, RW_LEN, RW_LEN + 1, 1U << 31,
		(1U << 31) - 1, 0xffffffff, rnd(f) % 4096, (uint32_t)rnd(f),
	};
	const uint64_t psns[] = { RQ_PSN, RQ_PSN + 1, RQ_PSN + 2, RQ_PSN - 1,
				  rnd(f) };
	int opcode = fuzz_opcodes[rnd(f) % ARRAY_SIZE(fuzz_opcodes)];
	size_t n = PT_BTH_LEN, pay, i;
	int pad = rnd(f) % 8 < 6 ? 0 : rnd(f) % 4;

	pt_bth(r, opcode, pad, f->c.qp[1]->qp_num, rnd(f) & 1,
	       pick(f, psns, ARRAY_SIZE(psns)));
	if (rnd(f) % 16 == 0)
		r[1] ^= rnd(f);			/* SE, M, TVer */

	switch (opcode) {
	case PT_OP_FLUSH:
	case PT_OP_VERIFY:
		/* FETH or VETH: mostly valid, sometimes anything */
		pt_put_be32(r + n, rnd(f) % 4 ? rnd(f) % 0x400 : rnd(f));
		n += 4;
		break;
	case PT_OP_CMP_SWAP:
	case PT_OP_FETCH_ADD:
		/* AtomicETH: VA, R_Key, swap, compare */
		pt_put_be64(r + n, pick(f, vas, ARRAY_SIZE(vas)));
		pt_put_be32(r + n + 8, pick(f, rkeys, ARRAY_SIZE(rkeys)));
		pt_put_be64(r + n + 12, rnd(f));
		pt_put_be64(r + n + 20, rnd(f));
		n += 28;
		goto payload;
	}
	if (opcode != PT_OP_SEND_FIRST && opcode != PT_OP_SEND_MIDDLE &&
	    opcode != PT_OP_SEND_LAST && opcode != PT_OP_SEND_ONLY &&
	    opcode != PT_OP_WRITE_MIDDLE && opcode != PT_OP_WRITE_LAST &&
	    opcode != PT_OP_WRITE_LAST_IMM) {
		pt_reth(r + n, pick(f, vas, ARRAY_SIZE(vas)),
			pick(f, rkeys, ARRAY_SIZE(rkeys)),
			pick(f, lens, ARRAY_SIZE(lens)));
		n += PT_RETH_LEN;
	}
	if (opcode == PT_OP_WRITE_LAST_IMM || opcode == PT_OP_WRITE_ONLY_IMM) {
		pt_put_be32(r + n, rnd(f));
		n += 4;
	}
payload:
	/* no payload, a small one, an MTU's worth, or ATOMIC WRITE's 8 */
	switch (rnd(f) % 6) {
	case 0:
		pay = 0;
		break;
	case 1:
		pay = 8;
		break;
	case 2:
		pay = 1024;
		break;
	default:
		pay = rnd(f) % 80;
	}
	if (n + pay > room)
		pay = room - n;
	for (i = 0; i < pay; i++)
		r[n + i] = rnd(f);
	n += pay;
	/* headers cut short now and then */
	if (rnd(f) % 16 == 0)
		n = PT_BTH_LEN + rnd(f) % (n - PT_BTH_LEN + 1);
	return n;
}

static int unchanged(const unsigned char *p, size_t len, uint32_t seed)
{
	return !pt_check_pattern(p, len, seed);
}

TEST_F(fuzz_wire, random_requests_touch_only_writable_memory)
{
	struct fuzz *f = &self->f;
	unsigned long packets = env_ul("PMEM_RDMA_FUZZ_PACKETS", 100000);
	double seconds = env_ul("PMEM_RDMA_FUZZ_SECONDS", 120);
	uint64_t seed = env_ul("PMEM_RDMA_FUZZ_SEED", time(NULL));
	unsigned char r[PT_BTH_LEN + 64 + 1100];
	unsigned long sent = 0, rearms = 0;
	struct timespec t0, t;
	struct pt_frame fr;
	double el = 0;
	int ret = 0;

	f->rng = seed;
	TH_LOG("seed %llu (PMEM_RDMA_FUZZ_SEED replays it)",
	       (unsigned long long)seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < packets && el < seconds) {
		ret = pt_frame_build(&fr, &f->tmpl, r,
				     fuzz_request(f, r, sizeof(r)));
		if (!ret)
			ret = pt_inject(f->inj, &fr);
		if (ret == -ENOBUFS) {
			usleep(1000);
			ret = 0;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("packet %lu: %s", sent, strerror(-ret));
		sent++;
		/* the expected PSN again, and out of the error state */
		if (sent % 32 == 0) {
			ASSERT_EQ(0, rearm(f));
			rearms++;
			clock_gettime(CLOCK_MONOTONIC, &t);
			el = t.tv_sec - t0.tv_sec +
			     (t.tv_nsec - t0.tv_nsec) / 1e9;
		}
	}
	usleep(200 * 1000);
	TH_LOG("%lu packets in %.1f s, responder re-armed %lu times", sent, el,
	       rearms);
	EXPECT_LT(1000, sent);
	EXPECT_TRUE(unchanged(f->area, RW_LEN, 11)) TH_LOG("guard below");
	EXPECT_TRUE(unchanged(f->area + 2 * RW_LEN, RW_LEN, 14))
		TH_LOG("guard above");
	EXPECT_TRUE(unchanged(f->ro, SMALL_LEN, 12)) TH_LOG("read-only MR");
	EXPECT_TRUE(unchanged(f->none, SMALL_LEN, 13)) TH_LOG("local MR");
}

TEST_HARNESS_MAIN
