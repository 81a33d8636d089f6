// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA FLUSH and ATOMIC WRITE on the patched rxe, between two QPs on rxe0,
 * the target being a devdax mapping of the emulated NVDIMM registered as
 * an MR.  Checks the completions, the bytes at the target, the refusals
 * (exact WC status, QP state afterwards, memory untouched), the counters
 * of the persistence write-back, the ICRC module parameter and ordering.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"

#define PM_SIZE		PT_PM_SIZE
#define SRC_SIZE	PT_SRC_SIZE
#define QP_ACCESS	PT_FLUSH_QP_ACCESS
#define SEND_OPS	PT_FLUSH_SEND_OPS

FIXTURE(flush_env)
{
	struct pt_flush_env e;
};

FIXTURE_SETUP(flush_env)
{
	const char *what;
	int ret = pt_flush_env_open(&self->e, &what);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
}

FIXTURE_TEARDOWN(flush_env)
{
	pt_flush_env_close(&self->e);
}

#define PM_ADDR(off)	((uint64_t)(uintptr_t)(self->e.pm + (off)))

/* after a refusal: the requester's QP is in the error state */
#define EXPECT_QP_ERR() EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->e.c.qp[0]))

TEST_F(flush_env, device_reports_caps)
{
	struct ibv_device_attr_ex a = {};

	ASSERT_EQ(0, ibv_query_device_ex(self->e.c.ctx, NULL, &a));
	EXPECT_TRUE(a.device_cap_flags_ex & RXE_FLUSH_DEVICE_FLUSH_GLOBAL);
	EXPECT_TRUE(a.device_cap_flags_ex & RXE_FLUSH_DEVICE_FLUSH_PERSISTENT);
	EXPECT_TRUE(a.device_cap_flags_ex & RXE_FLUSH_DEVICE_ATOMIC_WRITE);
}

TEST_F(flush_env, persistent_access_refused_on_dram)
{
	void *buf = aligned_alloc(4096, 8192);
	struct ibv_mr *mr;

	ASSERT_NE(NULL, buf);
	errno = 0;
	mr = ibv_reg_mr(self->e.c.pd, buf, 8192, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_FLUSH_PERSISTENT);
	EXPECT_EQ(NULL, mr);
	EXPECT_EQ(EINVAL, errno);
	if (mr)
		ibv_dereg_mr(mr);
	/* global visibility alone is fine on DRAM */
	mr = ibv_reg_mr(self->e.c.pd, buf, 8192, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_FLUSH_GLOBAL);
	EXPECT_NE(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	free(buf);
}

TEST_F(flush_env, write_then_flush_range_persistent)
{
	const size_t off = 4096 + 3, len = 64 * 1024 + 5;
	long long wb0, wbc0, fb0, sent0, rcvd0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.src, len, 11);
	ASSERT_EQ(0, pt_rdma_sync(&self->e.c, IBV_WR_RDMA_WRITE, self->e.src, len,
				  self->e.src_mr->lkey, PM_ADDR(off),
				  self->e.pm_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);

	wb0 = pt_read_counter("persist_writeback_bytes");
	wbc0 = pt_read_counter("persist_writeback_calls");
	fb0 = pt_read_counter("flush_bytes");
	sent0 = pt_read_counter("flush_sent");
	rcvd0 = pt_read_counter("flush_rcvd");
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(off), len,
			      IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_FLUSH, wc.opcode);
	EXPECT_EQ(0xf1, wc.wr_id);
	EXPECT_EQ(len, pt_read_counter("persist_writeback_bytes") - wb0);
	EXPECT_EQ(1, pt_read_counter("persist_writeback_calls") - wbc0);
	EXPECT_EQ(len, pt_read_counter("flush_bytes") - fb0);
	EXPECT_EQ(1, pt_read_counter("flush_sent") - sent0);
	EXPECT_EQ(1, pt_read_counter("flush_rcvd") - rcvd0);
	EXPECT_EQ(0, pt_check_pattern(self->e.pm + off, len, 11));
	EXPECT_EQ(0, self->e.pm[off - 1]);
	EXPECT_EQ(0, self->e.pm[off + len]);
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->e.c.qp[0]));
}

TEST_F(flush_env, flush_global_writes_nothing_back)
{
	const size_t len = 8192;
	long long wb0, fb0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.src, len, 12);
	ASSERT_EQ(0, pt_rdma_sync(&self->e.c, IBV_WR_RDMA_WRITE, self->e.src, len,
				  self->e.src_mr->lkey, PM_ADDR(0),
				  self->e.pm_mr->rkey, &wc));
	wb0 = pt_read_counter("persist_writeback_bytes");
	fb0 = pt_read_counter("flush_bytes");
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(0), len,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_FLUSH, wc.opcode);
	EXPECT_EQ(0, pt_read_counter("persist_writeback_bytes") - wb0);
	EXPECT_EQ(len, pt_read_counter("flush_bytes") - fb0);
	EXPECT_EQ(0, pt_check_pattern(self->e.pm, len, 12));
}

TEST_F(flush_env, flush_whole_mr_both_types)
{
	long long wb0, wbc0, st0, fb0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	pt_fill_pattern(self->e.src, 4096, 13);
	ASSERT_EQ(0, pt_rdma_sync(&self->e.c, IBV_WR_RDMA_WRITE, self->e.src, 4096,
				  self->e.src_mr->lkey, PM_ADDR(PM_SIZE - 4096),
				  self->e.pm_mr->rkey, &wc));
	wb0 = pt_read_counter("persist_writeback_bytes");
	wbc0 = pt_read_counter("persist_writeback_calls");
	st0 = pt_read_counter("flush_verify_steps");
	fb0 = pt_read_counter("flush_bytes");
	/* selectivity MR: VA and length are ignored */
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, 0x10, 12345678,
			      IBV_FLUSH_GLOBAL | IBV_FLUSH_PERSISTENT,
			      IBV_FLUSH_MR, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(PM_SIZE, pt_read_counter("persist_writeback_bytes") - wb0);
	/* one write-back, in 256 KiB steps with the CPU let go between */
	EXPECT_EQ(1, pt_read_counter("persist_writeback_calls") - wbc0);
	EXPECT_EQ(PM_SIZE / (256 << 10) - 1,
		  pt_read_counter("flush_verify_steps") - st0);
	EXPECT_EQ(PM_SIZE, pt_read_counter("flush_bytes") - fb0);
	EXPECT_EQ(0, pt_check_pattern(self->e.pm + PM_SIZE - 4096, 4096, 13));
}

TEST_F(flush_env, atomic_write_lands)
{
	const uint64_t val = 0x0123456789abcdefULL;
	long long s0, r0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	s0 = pt_read_counter("atomic_write_sent");
	r0 = pt_read_counter("atomic_write_rcvd");
	ASSERT_EQ(0, pt_wr_atomic_write(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(64),
				     &val, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_ATOMIC_WRITE, wc.opcode);
	EXPECT_EQ(0, memcmp(self->e.pm + 64, &val, 8));
	EXPECT_EQ(0, self->e.pm[63]);
	EXPECT_EQ(0, self->e.pm[72]);
	EXPECT_EQ(1, pt_read_counter("atomic_write_sent") - s0);
	EXPECT_EQ(1, pt_read_counter("atomic_write_rcvd") - r0);
}

TEST_F(flush_env, classic_post_send_flush_and_atomic_write)
{
	const uint64_t val = 0x1122334455667788ULL;
	long long wb0;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	/* FLUSH: length from the sg_list, default type persistence, range */
	wb0 = pt_read_counter("persist_writeback_bytes");
	ASSERT_EQ(0, pt_post_send(&self->e.c, IBV_WR_FLUSH, self->e.src, 3000,
			       self->e.src_mr->lkey, PM_ADDR(100),
			       self->e.pm_mr->rkey, 0, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_FLUSH, wc.opcode);
	EXPECT_EQ(3000, pt_read_counter("persist_writeback_bytes") - wb0);

	/* FETH word in imm_data: global only, whole MR */
	wb0 = pt_read_counter("persist_writeback_bytes");
	ASSERT_EQ(0, pt_post_send(&self->e.c, IBV_WR_FLUSH, self->e.src, 0,
			       self->e.src_mr->lkey, 0, self->e.pm_mr->rkey,
			       RXE_FLUSH_POST_SEND_FETH(IBV_FLUSH_GLOBAL,
							IBV_FLUSH_MR), &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, pt_read_counter("persist_writeback_bytes") - wb0);

	/* ATOMIC WRITE: the value from the sge */
	memcpy(self->e.src, &val, 8);
	ASSERT_EQ(0, pt_post_send(&self->e.c, IBV_WR_ATOMIC_WRITE, self->e.src, 8,
			       self->e.src_mr->lkey, PM_ADDR(256),
			       self->e.pm_mr->rkey, 0, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_ATOMIC_WRITE, wc.opcode);
	EXPECT_EQ(0, memcmp(self->e.pm + 256, &val, 8));
}

TEST_F(flush_env, persistent_flush_on_global_only_mr)
{
	struct ibv_mr *mr;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	mr = ibv_reg_mr(self->e.c.pd, self->e.pm, PM_SIZE, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_FLUSH_GLOBAL);
	ASSERT_NE(NULL, mr);
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, mr->rkey, PM_ADDR(0), 4096,
			      IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
	EXPECT_QP_ERR();
	ibv_dereg_mr(mr);
}

TEST_F(flush_env, zero_length_flush_checks_rkey)
{
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey ^ 0x80, PM_ADDR(0),
			      0, IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
	EXPECT_QP_ERR();
}

TEST_F(flush_env, zero_length_flush_succeeds)
{
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(0), 0,
			      IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
}

TEST_F(flush_env, flush_outside_mr)
{
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey,
			      PM_ADDR(PM_SIZE - 4096), 8192,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
	EXPECT_QP_ERR();
}

/* reserved placement type bits, no type, reserved selectivity */
static void bad_feth(struct __test_metadata *_metadata, struct pt_ctx *c,
		     struct ibv_mr *mr, uint8_t type, uint8_t level)
{
	struct ibv_wc wc;

	ASSERT_EQ(0, pt_wr_flush(c, mr->rkey, (uintptr_t)mr->addr, 64,
			      type, level, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(c->qp[0]));
}

TEST_F(flush_env, flush_unknown_type_bit)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_feth(_metadata, &self->e.c, self->e.pm_mr, IBV_FLUSH_GLOBAL | 0x4, IBV_FLUSH_RANGE);
}

TEST_F(flush_env, flush_no_type)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_feth(_metadata, &self->e.c, self->e.pm_mr, 0, IBV_FLUSH_RANGE);
}

TEST_F(flush_env, flush_reserved_selectivity)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_feth(_metadata, &self->e.c, self->e.pm_mr, IBV_FLUSH_GLOBAL, 2);
}

TEST_F(flush_env, atomic_write_misaligned)
{
	const uint64_t val = ~0ULL;
	struct ibv_wc wc;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0, pt_wr_atomic_write(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(4),
				     &val, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	EXPECT_QP_ERR();
	EXPECT_EQ(0, self->e.pm[4]);
	EXPECT_EQ(0, self->e.pm[11]);
}

static void bad_atomic_write_len(struct __test_metadata *_metadata,
				 struct pt_ctx *c, struct ibv_mr *src_mr,
				 struct ibv_mr *pm_mr, uint32_t len)
{
	unsigned char *pm = pm_mr->addr;
	struct ibv_wc wc;
	size_t i;

	memset(src_mr->addr, 0xee, 16);
	ASSERT_EQ(0, pt_post_send(c, IBV_WR_ATOMIC_WRITE, src_mr->addr, len,
			       src_mr->lkey, (uintptr_t)(pm + 512),
			       pm_mr->rkey, 0, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(c->qp[0]));
	for (i = 496; i < 544; i++)
		if (pm[i])
			break;
	EXPECT_EQ(544, i) TH_LOG("byte %zu changed", i);
}

TEST_F(flush_env, atomic_write_0_bytes)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_atomic_write_len(_metadata, &self->e.c, self->e.src_mr, self->e.pm_mr, 0);
}

TEST_F(flush_env, atomic_write_4_bytes)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_atomic_write_len(_metadata, &self->e.c, self->e.src_mr, self->e.pm_mr, 4);
}

TEST_F(flush_env, atomic_write_16_bytes)
{
	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	bad_atomic_write_len(_metadata, &self->e.c, self->e.src_mr, self->e.pm_mr, 16);
}

TEST_F(flush_env, flush_icrc_module_parameter)
{
	long long rxe6;
	struct ibv_wc wc;
	char mode[16];
	int fd;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_EQ(0, pt_read_line(PT_FLUSH_ICRC_PARAM, mode, sizeof(mode)));
	ASSERT_STREQ(PT_FLUSH_ICRC_DEFAULT, mode);
	fd = open(PT_FLUSH_ICRC_PARAM, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_GT(0, write(fd, "crc32", 5));
	EXPECT_EQ(EINVAL, errno);

	/* our receiver takes upstream's ICRC, and counts it */
	rxe6 = pt_read_counter("flush_icrc_rxe6_rcvd");
	ASSERT_EQ(4, write(fd, "rxe6", 4));
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(0), 64,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(1, pt_read_counter("flush_icrc_rxe6_rcvd") - rxe6);

	ASSERT_EQ(3, write(fd, "iba", 3));
	close(fd);
	rxe6 = pt_read_counter("flush_icrc_rxe6_rcvd");
	ASSERT_EQ(0, pt_wr_flush(&self->e.c, self->e.pm_mr->rkey, PM_ADDR(0), 64,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, pt_read_counter("flush_icrc_rxe6_rcvd") - rxe6);
	ASSERT_EQ(0, pt_write_line(PT_FLUSH_ICRC_PARAM, PT_FLUSH_ICRC_DEFAULT));
}

/*
 * A log writer's stream, posted without waiting: WRITE(record n), FLUSH,
 * ATOMIC WRITE(pointer = n).  A thread on the target watches the pointer
 * and checks that record n is complete whenever it sees n, and that the
 * pointer is never torn.
 */
#define ROUNDS		1500
#define REC_SIZE	256
#define REC_OFF		4096
#define INFLIGHT	16

struct watcher {
	uint64_t *ptr;
	unsigned char *recs;
	int stop;
	unsigned long seen, bad_rec, torn;
};

static uint64_t ptr_val(uint32_t n)
{
	return ((uint64_t)n << 32) | n;
}

static void *watch(void *arg)
{
	struct watcher *w = arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		uint64_t v = __atomic_load_n(w->ptr, __ATOMIC_ACQUIRE);
		uint32_t n = (uint32_t)v;

		if (v == last)
			continue;
		last = v;
		w->seen++;
		if ((v >> 32) != n || n == 0 || n > ROUNDS) {
			w->torn++;
			continue;
		}
		if (pt_check_pattern(w->recs + (size_t)n * REC_SIZE, REC_SIZE, n))
			w->bad_rec++;
	}
	return NULL;
}

TEST_F(flush_env, ordering_record_before_pointer)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(self->e.c.qp[0]);
	struct watcher w = {};
	unsigned int posted = 0, done = 0;
	pthread_t th;
	struct ibv_wc wc;
	uint64_t pv;

	if (!self->e.pm)
		SKIP(return, PT_NO_DEVDAX);
	ASSERT_LE(REC_OFF + (ROUNDS + 1) * REC_SIZE, PM_SIZE);
	ASSERT_LE((ROUNDS + 1) * REC_SIZE, SRC_SIZE);
	w.ptr = (uint64_t *)self->e.pm;
	w.recs = self->e.pm + REC_OFF;
	ASSERT_EQ(0, pthread_create(&th, NULL, watch, &w));

	while (done < ROUNDS) {
		while (posted < ROUNDS && posted - done < INFLIGHT) {
			uint32_t n = ++posted;
			size_t roff = (size_t)n * REC_SIZE;

			pt_fill_pattern(self->e.src + roff, REC_SIZE, n);
			pv = ptr_val(n);
			ibv_wr_start(qx);
			qx->wr_flags = 0;
			ibv_wr_rdma_write(qx, self->e.pm_mr->rkey,
					  PM_ADDR(REC_OFF + roff));
			ibv_wr_set_sge(qx, self->e.src_mr->lkey,
				       (uintptr_t)self->e.src + roff, REC_SIZE);
			ibv_wr_flush(qx, self->e.pm_mr->rkey,
				     PM_ADDR(REC_OFF + roff), REC_SIZE,
				     IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE);
			qx->wr_id = n;
			qx->wr_flags = IBV_SEND_SIGNALED;
			ibv_wr_atomic_write(qx, self->e.pm_mr->rkey, PM_ADDR(0),
					    &pv);
			ASSERT_EQ(0, ibv_wr_complete(qx));
		}
		ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		ASSERT_EQ(IBV_WC_ATOMIC_WRITE, wc.opcode);
		done++;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	TH_LOG("%u rounds, the watcher saw %lu pointer values", ROUNDS, w.seen);
	EXPECT_EQ(0, w.torn);
	EXPECT_EQ(0, w.bad_rec);
	EXPECT_LT(0, w.seen);
	EXPECT_EQ(ptr_val(ROUNDS), __atomic_load_n(w.ptr, __ATOMIC_ACQUIRE));
}

TEST(flush_needs_qp_flush_access)
{
	struct pt_flush_env e;
	const char *what;
	struct ibv_wc wc;
	int ret;

	ret = pt_flush_env_open_qp(&e, IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	if (!e.pm) {
		pt_flush_env_close(&e);
		SKIP(return, PT_NO_DEVDAX);
	}
	ASSERT_EQ(0, pt_wr_flush(&e.c, e.pm_mr->rkey, (uintptr_t)e.pm, 64,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc.status);
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(e.c.qp[0]));
	pt_flush_env_close(&e);
}

TEST_HARNESS_MAIN
