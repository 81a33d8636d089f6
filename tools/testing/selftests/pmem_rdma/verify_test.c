// SPDX-License-Identifier: GPL-2.0
/*
 * VERIFY on the patched rxe, between two QPs on rxe0, the target being a
 * devdax mapping of the emulated NVDIMM registered as an MR.  The digests
 * are checked against ones computed here (CRC32C, libcrypto's SHA-256);
 * a mismatch must end the connection before a later ATOMIC WRITE lands;
 * every refusal has its WC status (or EINVAL from ibv_post_send()) and
 * leaves the target untouched; a lost response is answered from the
 * responder resource without hashing again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"
#include "verify_helpers.h"

#define PM_SIZE		PT_PM_SIZE
#define CRC32C		RXE_FLUSH_VERIFY_ALG_CRC32C
#define SHA256		RXE_FLUSH_VERIFY_ALG_SHA256
#define XXH64		RXE_FLUSH_VERIFY_ALG_XXH64
#define COMPARE		RXE_FLUSH_VERIFY_COMPARE

/* the digest buffer: the last page of the registered source buffer */
#define DIGEST_BUF(e)	((e)->src + PT_SRC_SIZE - 4096)

FIXTURE(verify_env)
{
	struct pt_flush_env e;
	uint8_t *dg;		/* DIGEST_BUF(&e) */
};

FIXTURE_SETUP(verify_env)
{
	const char *what;
	int ret = pt_flush_env_open(&self->e, &what);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	self->dg = DIGEST_BUF(&self->e);
}

FIXTURE_TEARDOWN(verify_env)
{
	pt_write_line(PT_FAULT_PATH, "off");
	pt_flush_env_close(&self->e);
}

#define PM_ADDR(off)	((uint64_t)(uintptr_t)(self->e.pm + (off)))
#define EXPECT_QP_ERR() EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->e.c.qp[0]))

/* a VERIFY of [off, off + len) of the target with the registered buffer */
static struct pt_verify vreq(struct pt_flush_env *e, size_t off, size_t len,
			     uint32_t alg, uint32_t flags, uint32_t buflen)
{
	return (struct pt_verify){
		.rkey = e->pm_mr->rkey, .raddr = (uintptr_t)(e->pm + off),
		.len = len, .word = RXE_FLUSH_VERIFY_WORD(alg, flags),
		.buf = DIGEST_BUF(e), .buflen = buflen, .lkey = e->src_mr->lkey,
	};
}

/* return mode: the digest lands in the buffer, and is the right one */
static void digest_returned(struct __test_metadata *_metadata,
			    struct pt_flush_env *e, uint32_t alg, size_t off,
			    size_t len, unsigned int seed)
{
	long long s0 = pt_read_counter("verify_sent");
	long long r0 = pt_read_counter("verify_rcvd");
	long long b0 = pt_read_counter("verify_bytes");
	size_t n = pmrdma_digest_len(alg);
	struct pt_verify v = vreq(e, off, len, alg, 0, n);
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct ibv_wc wc;

	pt_fill_pattern(e->pm + off, len, seed);
	ASSERT_EQ(n, pmrdma_digest(alg, e->pm + off, len, want));
	memset(DIGEST_BUF(e), 0xee, n);
	ASSERT_EQ(0, pt_post_verify(&e->c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	EXPECT_EQ(0x5e, wc.wr_id);
	EXPECT_EQ(0, memcmp(want, DIGEST_BUF(e), n));
	EXPECT_EQ(1, pt_read_counter("verify_sent") - s0);
	EXPECT_EQ(1, pt_read_counter("verify_rcvd") - r0);
	EXPECT_EQ(len, pt_read_counter("verify_bytes") - b0);
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(e->c.qp[0]));
}

TEST_F(verify_env, crc32c_digest_returned)
{
	static const uint8_t check[4] = { 0xe3, 0x06, 0x92, 0x83 };
	uint8_t d[4];

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	/* the helper itself: CRC-32C's check value over "123456789" */
	ASSERT_EQ(4, pmrdma_digest(CRC32C, "123456789", 9, d));
	ASSERT_EQ(0, memcmp(check, d, 4));
	digest_returned(_metadata, &self->e, CRC32C, 8192 + 5, 3 * 4096 + 7, 41);
}

TEST_F(verify_env, sha256_digest_returned_across_pages)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	digest_returned(_metadata, &self->e, SHA256, 4096 - 100, 64 * 1024 + 3, 42);
}

TEST_F(verify_env, xxh64_digest_returned)
{
	/* the helper itself: XXH64's values of "" and "abc", seed 0 */
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0xef46db3751d8e999ULL, pmrdma_xxh64("", 0, 0));
	ASSERT_EQ(0x44bc2cf5ad770999ULL, pmrdma_xxh64("abc", 3, 0));
	digest_returned(_metadata, &self->e, XXH64, 8192 + 5, 3 * 4096 + 7, 44);
}

/* every algorithm, at lengths around its block sizes, from odd addresses */
TEST_F(verify_env, every_algorithm_at_odd_lengths)
{
	static const size_t lens[] = { 0, 1, 63, 4096, 4097, (1 << 20) + 3 };
	static const uint32_t algs[] = { CRC32C, SHA256, XXH64 };
	unsigned int a, l;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	for (a = 0; a < 3; a++)
		for (l = 0; l < 6; l++)
			digest_returned(_metadata, &self->e, algs[a],
					4096 - 100 + 7 * l, lens[l], 60 + l);
}

TEST_F(verify_env, zero_length_is_the_empty_digest)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	digest_returned(_metadata, &self->e, SHA256, 0, 0, 43);
}

TEST_F(verify_env, compare_match_completes_without_digest)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct pt_verify v;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.pm, 5000, 44);
	/* SHA-256 from the registered buffer */
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.pm, 5000, self->dg));
	v = vreq(&self->e, 0, 5000, SHA256, COMPARE, 32);
	ASSERT_EQ(0, pt_post_verify(&self->e.c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	/* CRC32C inline */
	ASSERT_EQ(4, pmrdma_digest(CRC32C, self->e.pm, 5000, want));
	v = vreq(&self->e, 0, 5000, CRC32C, COMPARE, 4);
	v.buf = want;
	v.lkey = 0;
	ASSERT_EQ(0, pt_post_verify(&self->e.c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->e.c.qp[0]));
}

/* write, then VERIFY in the same batch: it sees the write */
TEST_F(verify_env, verify_after_write_sees_it)
{
	struct ibv_send_wr w, v, *bad;
	struct ibv_sge ws, vs;
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct pt_verify req;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.src, 4096, 45);
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.src, 4096, want));
	ws = (struct ibv_sge){ (uintptr_t)self->e.src, 4096,
			       self->e.src_mr->lkey };
	w = (struct ibv_send_wr){
		.opcode = IBV_WR_RDMA_WRITE, .sg_list = &ws, .num_sge = 1,
		.wr.rdma = { PM_ADDR(65536), self->e.pm_mr->rkey },
	};
	req = vreq(&self->e, 65536, 4096, SHA256, 0, 32);
	pt_verify_wr(&req, &v, &vs);
	w.next = &v;
	ASSERT_EQ(0, ibv_post_send(self->e.c.qp[0], &w, &bad));
	ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	EXPECT_EQ(0, memcmp(want, self->dg, 32));
}

/*
 * The log writer's pipeline {write, verify, atomic write}: a digest that
 * differs ends the connection, and the atomic write never lands.
 */
TEST_F(verify_env, mismatch_ends_connection_before_atomic_write)
{
	const uint64_t ptr = 0x0123456789abcdefULL;
	long long m0 = pt_read_counter("verify_mismatch");
	struct ibv_send_wr v, a, *bad;
	struct ibv_sge vs, as;
	struct pt_verify req;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.pm + 4096, 4096, 46);
	ASSERT_EQ(4, pmrdma_digest(CRC32C, self->e.pm + 4096, 4096, self->dg));
	self->dg[3] ^= 1;
	req = vreq(&self->e, 4096, 4096, CRC32C, COMPARE, 4);
	pt_verify_wr(&req, &v, &vs);
	memcpy(self->e.src, &ptr, 8);
	as = (struct ibv_sge){ (uintptr_t)self->e.src, 8, self->e.src_mr->lkey };
	a = (struct ibv_send_wr){
		.wr_id = 0xa7, .opcode = IBV_WR_ATOMIC_WRITE,
		.send_flags = IBV_SEND_SIGNALED, .sg_list = &as, .num_sge = 1,
		.wr.rdma = { PM_ADDR(0), self->e.pm_mr->rkey },
	};
	v.next = &a;
	ASSERT_EQ(0, ibv_post_send(self->e.c.qp[0], &v, &bad));
	ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
	EXPECT_EQ(IBV_WC_REM_OP_ERR, wc.status);
	EXPECT_EQ(0x5e, wc.wr_id);
	ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
	EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc.status);
	EXPECT_EQ(0xa7, wc.wr_id);
	EXPECT_EQ(0, pt_load64(self->e.pm));
	EXPECT_EQ(1, pt_read_counter("verify_mismatch") - m0);
	EXPECT_QP_ERR();
	/* the responder's QP went down with it */
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->e.c.qp[1]));
}

/* one refused VERIFY: its WC status, and the QP in the error state */
static void refused(struct __test_metadata *_metadata, struct pt_flush_env *e,
		    const struct pt_verify *v, enum ibv_wc_status status)
{
	struct ibv_wc wc;

	ASSERT_EQ(0, pt_post_verify(&e->c, v, &wc));
	EXPECT_EQ(status, wc.status);
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(e->c.qp[0]));
}

TEST_F(verify_env, unknown_algorithm)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 64, 7, 0, 4);
	refused(_metadata, &self->e, &v, IBV_WC_REM_INV_REQ_ERR);
}

TEST_F(verify_env, reserved_veth_bit)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 64, CRC32C, 1U << 9, 4);
	refused(_metadata, &self->e, &v, IBV_WC_REM_INV_REQ_ERR);
}

TEST_F(verify_env, length_of_2_to_the_31)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 1ULL << 31, CRC32C, 0, 4);
	refused(_metadata, &self->e, &v, IBV_WC_REM_INV_REQ_ERR);
}

TEST_F(verify_env, range_outside_mr)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, PM_SIZE - 4096, 8192, CRC32C, 0, 4);
	refused(_metadata, &self->e, &v, IBV_WC_REM_ACCESS_ERR);
}

TEST_F(verify_env, bad_rkey_zero_length)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 0, CRC32C, 0, 4);
	v.rkey ^= 0x80;
	refused(_metadata, &self->e, &v, IBV_WC_REM_ACCESS_ERR);
}

/* a digest tells what a READ would: no remote read, no VERIFY */
TEST_F(verify_env, mr_without_remote_read)
{
	struct ibv_mr *mr;
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	mr = ibv_reg_mr(self->e.c.pd, self->e.pm, PM_SIZE,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	ASSERT_NE(NULL, mr);
	v = vreq(&self->e, 0, 64, SHA256, 0, 32);
	v.rkey = mr->rkey;
	refused(_metadata, &self->e, &v, IBV_WC_REM_ACCESS_ERR);
	ibv_dereg_mr(mr);
}

/* the provider refuses what it can judge, before anything is sent */
TEST_F(verify_env, post_send_refusals)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 64, SHA256, 0, 4);	/* SHA-256 in 4 bytes */
	pt_verify_wr(&v, &wr, &sge);
	EXPECT_EQ(EINVAL, ibv_post_send(self->e.c.qp[0], &wr, &bad));
	v = vreq(&self->e, 0, 64, CRC32C, COMPARE, 8);
	pt_verify_wr(&v, &wr, &sge);
	EXPECT_EQ(EINVAL, ibv_post_send(self->e.c.qp[0], &wr, &bad));
	v = vreq(&self->e, 0, 1ULL << 32, CRC32C, 0, 4);
	pt_verify_wr(&v, &wr, &sge);
	EXPECT_EQ(EINVAL, ibv_post_send(self->e.c.qp[0], &wr, &bad));
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->e.c.qp[0]));
}

/*
 * The READ RESPONSE with the digest is lost: the retried VERIFY is a
 * duplicate, answered with the kept digest, not hashed again - even though
 * the range changed meanwhile (the later WRITE ran before the retry).
 */
TEST_F(verify_env, response_lost_answered_from_resource)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct ibv_send_wr v, w, *bad;
	struct ibv_sge vs, ws;
	struct pt_verify req;
	long long r0, b0, d0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	if (!pt_has_fault())
		SKIP(return, PT_NO_FAULT);
	pt_fill_pattern(self->e.pm + 8192, 4096, 47);
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.pm + 8192, 4096, want));
	r0 = pt_read_counter("verify_rcvd");
	b0 = pt_read_counter("verify_bytes");
	d0 = pt_read_counter("duplicate_request");
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "drop 0x10"));

	req = vreq(&self->e, 8192, 4096, SHA256, 0, 32);
	pt_verify_wr(&req, &v, &vs);
	pt_fill_pattern(self->e.src, 64, 48);
	ws = (struct ibv_sge){ (uintptr_t)self->e.src, 64, self->e.src_mr->lkey };
	w = (struct ibv_send_wr){
		.opcode = IBV_WR_RDMA_WRITE, .sg_list = &ws, .num_sge = 1,
		.wr.rdma = { PM_ADDR(8192), self->e.pm_mr->rkey },
	};
	v.next = &w;
	ASSERT_EQ(0, ibv_post_send(self->e.c.qp[0], &v, &bad));
	ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	EXPECT_EQ(0, memcmp(want, self->dg, 32));
	EXPECT_EQ(1, pt_read_counter("verify_rcvd") - r0);
	EXPECT_EQ(4096, pt_read_counter("verify_bytes") - b0);
	EXPECT_LE(1, pt_read_counter("duplicate_request") - d0);
	EXPECT_EQ(0, pt_check_pattern(self->e.pm + 8192, 64, 48));
}

#define FLUSHED(type)	RXE_FLUSH_VERIFY_FLUSH(type)

/* the counters a flush-and-verify moves, before and after */
static const char *const fv_counters[] = {
	"flush_rcvd", "verify_rcvd", "persist_writeback_calls",
	"persist_writeback_bytes", "flush_bytes", "verify_bytes",
};

static void read_fv_counters(long long *c)
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		c[i] = pt_read_counter(fv_counters[i]);
}

/*
 * One request flushes what the WRITE before it on the QP stored and
 * returns its digest; it counts as a FLUSH and a VERIFY.  Then the same in
 * compare mode, and a wrong expected digest ends the connection.
 */
TEST_F(verify_env, flush_and_verify_after_a_write)
{
	const size_t off = 4096 + 3, len = 3 * 4096 + 5;
	struct pt_verify v = vreq(&self->e, off, len, SHA256,
				  FLUSHED(RXE_FLUSH_TYPE_PERSISTENT), 32);
	long long c0[6], c1[6];
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct ibv_wc wc;
	unsigned int i;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.src, len, 71);
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.src, len, want));
	ASSERT_EQ(0, pt_rdma_sync(&self->e.c, IBV_WR_RDMA_WRITE, self->e.src,
				  len, self->e.src_mr->lkey, PM_ADDR(off),
				  self->e.pm_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);

	read_fv_counters(c0);
	memset(self->dg, 0xee, 32);
	ASSERT_EQ(0, pt_post_verify(&self->e.c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(RXE_FLUSH_WC_VERIFY, wc.opcode);
	EXPECT_EQ(0, memcmp(want, self->dg, 32));
	read_fv_counters(c1);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(i < 3 ? 1 : (long long)len, c1[i] - c0[i])
			TH_LOG("counter %u of fv_counters", i);

	/* compare mode: a match, then a mismatch */
	v = vreq(&self->e, off, len, CRC32C,
		 COMPARE | FLUSHED(RXE_FLUSH_TYPE_GLOBAL), 4);
	ASSERT_EQ(4, pmrdma_digest(CRC32C, self->e.src, len, self->dg));
	ASSERT_EQ(0, pt_post_verify(&self->e.c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	self->dg[0] ^= 1;
	refused(_metadata, &self->e, &v, IBV_WC_REM_OP_ERR);
}

TEST_F(verify_env, flush_and_verify_reserved_type)
{
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	v = vreq(&self->e, 0, 64, CRC32C, FLUSHED(4), 4);
	refused(_metadata, &self->e, &v, IBV_WC_REM_INV_REQ_ERR);
}

/* an MR that may be read but not flushed: remote access error */
TEST_F(verify_env, flush_and_verify_needs_mr_flush_access)
{
	struct ibv_mr *ro;
	struct pt_verify v;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ro = ibv_reg_mr(self->e.c.pd, self->e.pm, 4096,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
	ASSERT_NE(NULL, ro);
	v = vreq(&self->e, 0, 64, CRC32C, FLUSHED(RXE_FLUSH_TYPE_GLOBAL), 4);
	v.rkey = ro->rkey;
	refused(_metadata, &self->e, &v, IBV_WC_REM_ACCESS_ERR);
	ibv_dereg_mr(ro);
}

/* a lost answer: the duplicate is answered from the resource, once */
TEST_F(verify_env, flush_and_verify_answered_once)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct pt_verify v;
	long long c0[6], c1[6], d0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	if (!pt_has_fault())
		SKIP(return, PT_NO_FAULT);
	pt_fill_pattern(self->e.pm + 8192, 4096, 73);
	ASSERT_EQ(8, pmrdma_digest(XXH64, self->e.pm + 8192, 4096, want));
	read_fv_counters(c0);
	d0 = pt_read_counter("duplicate_request");
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "drop 0x10"));
	v = vreq(&self->e, 8192, 4096, XXH64,
		 FLUSHED(RXE_FLUSH_TYPE_PERSISTENT), 8);
	ASSERT_EQ(0, pt_post_verify(&self->e.c, &v, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, memcmp(want, self->dg, 8));
	read_fv_counters(c1);
	EXPECT_LE(1, pt_read_counter("duplicate_request") - d0);
	EXPECT_EQ(1, c1[2] - c0[2]);		/* one write-back */
	EXPECT_EQ(4096, c1[5] - c0[5]);		/* hashed once */
}

/* VERIFY reads: a responder QP without remote read refuses it */
TEST(verify_needs_qp_remote_read)
{
	struct pt_flush_env e;
	struct pt_verify v;
	const char *what;
	int ret;

	ret = pt_flush_env_open_qp(&e, IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	if (!e.pm) {
		pt_flush_env_close(&e);
		SKIP(return, PT_NO_DEVDAX);
	}
	v = vreq(&e, 0, 64, CRC32C, 0, 4);
	refused(_metadata, &e, &v, IBV_WC_REM_INV_REQ_ERR);
	pt_flush_env_close(&e);
}

/* flush-and-verify flushes: a QP without that flush access refuses it */
TEST(flush_and_verify_needs_qp_flush_access)
{
	struct pt_flush_env e;
	struct pt_verify v;
	const char *what;
	int ret;

	ret = pt_flush_env_open_qp(&e, IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_FLUSH_GLOBAL, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	if (!e.pm) {
		pt_flush_env_close(&e);
		SKIP(return, PT_NO_DEVDAX);
	}
	v = vreq(&e, 0, 64, CRC32C, FLUSHED(RXE_FLUSH_TYPE_PERSISTENT), 4);
	refused(_metadata, &e, &v, IBV_WC_REM_INV_REQ_ERR);
	pt_flush_env_close(&e);
}

/*
 * A VERIFY of the whole 2 MiB is hashed in 256 KiB steps, the responder
 * letting the CPU go between two; a WRITE posted right behind it still
 * lands after it: the digest is the old data's.
 */
TEST_F(verify_env, long_verify_in_steps_before_a_later_write)
{
	struct pt_verify v = vreq(&self->e, 0, PM_SIZE, SHA256, 0, 32);
	struct ibv_send_wr wr, write = { 0 }, *bad;
	struct ibv_sge sge, wsge;
	uint8_t want[PMRDMA_DIGEST_MAX];
	long long st0, b0;
	struct ibv_wc wc;
	int i;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.pm, PM_SIZE, 51);
	ASSERT_EQ(32, pmrdma_digest(SHA256, self->e.pm, PM_SIZE, want));
	pt_fill_pattern(self->e.src, 4096, 52);
	st0 = pt_read_counter("flush_verify_steps");
	b0 = pt_read_counter("verify_bytes");

	pt_verify_wr(&v, &wr, &sge);
	wsge = (struct ibv_sge){ .addr = (uintptr_t)self->e.src,
				 .length = 4096, .lkey = self->e.src_mr->lkey };
	write.wr_id = 0x77;
	write.sg_list = &wsge;
	write.num_sge = 1;
	write.opcode = IBV_WR_RDMA_WRITE;
	write.send_flags = IBV_SEND_SIGNALED;
	write.wr.rdma.remote_addr = PM_ADDR(0);
	write.wr.rdma.rkey = self->e.pm_mr->rkey;
	wr.next = &write;
	ASSERT_EQ(0, ibv_post_send(self->e.c.qp[0], &wr, &bad));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(i ? 0x77 : 0x5e, wc.wr_id);
	}
	EXPECT_EQ(0, memcmp(want, DIGEST_BUF(&self->e), 32));
	EXPECT_EQ(0, pt_check_pattern(self->e.pm, 4096, 52));
	EXPECT_EQ(PM_SIZE, pt_read_counter("verify_bytes") - b0);
	EXPECT_EQ(PM_SIZE / (256 << 10) - 1,
		  pt_read_counter("flush_verify_steps") - st0);
}

TEST_HARNESS_MAIN
