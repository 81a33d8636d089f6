// SPDX-License-Identifier: GPL-2.0
/*
 * FLUSH and ATOMIC WRITE when packets are lost, repeated or cut short, made
 * to happen with the patched rxe's transmit faults (<debugfs>/rxe_flush/
 * fault).  Every case must complete successfully after the retry, and the
 * responder must execute each request exactly once: a duplicate is answered
 * from the responder resources (duplicate_request moves, flush_rcvd or
 * atomic_write_rcvd and the persistence write-back do not).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "rdma_helpers.h"

/* write one command to the fault file: 0 or -errno */
static int fault_cmd(const char *cmd)
{
	return pt_write_line(PT_FAULT_PATH, cmd);
}

/* "ACTION OPCODE REMAINING injected=N": REMAINING into *left, N returned */
static long long fault_state(char *action, size_t len, unsigned int *left)
{
	char line[96], *inj;
	unsigned int op;

	if (pt_read_line(PT_FAULT_PATH, line, sizeof(line)))
		return -1;
	inj = strstr(line, "injected=");
	if (!inj || sscanf(line, "%15s %x %u", action, &op, left) != 3 ||
	    len < 16)
		return -1;
	return strtoll(inj + 9, NULL, 0);
}

enum { FLUSH_SENT, FLUSH_RCVD, AW_SENT, AW_RCVD, WB_CALLS, DUP_REQ, NR_CNT };

static const char * const cnt_name[NR_CNT] = {
	"flush_sent", "flush_rcvd", "atomic_write_sent", "atomic_write_rcvd",
	"persist_writeback_calls", "duplicate_request",
};

struct counters {
	long long v[NR_CNT];
};

static void counters_read(struct counters *c)
{
	int i;

	for (i = 0; i < NR_CNT; i++)
		c->v[i] = pt_read_counter(cnt_name[i]);
}

/* the moves since *before, against the expected ones, each logged */
#define EXPECT_MOVES(before, ...) do {					\
	static const long long want_[NR_CNT] = { __VA_ARGS__ };		\
	struct counters now_;						\
	int i_;								\
									\
	counters_read(&now_);						\
	for (i_ = 0; i_ < NR_CNT; i_++) {				\
		EXPECT_EQ(want_[i_], now_.v[i_] - (before)->v[i_])	\
			TH_LOG("counter %s", cnt_name[i_]);		\
	}								\
} while (0)

FIXTURE(fault_env)
{
	struct pt_flush_env e;
	long long injected;
	/*
	 * why the setup skipped, or NULL: 6.1's harness runs a test after
	 * its setup skipped, so each test skips again first
	 */
	const char *skip;
};


FIXTURE_SETUP(fault_env)
{
	char action[16];
	unsigned int left;
	const char *what;
	int ret;

	ret = pt_flush_env_open(&self->e, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	if (!self->e.pm)
		self->skip = PT_NO_DEVDAX;
	else if (!pt_has_fault())
		self->skip = PT_NO_FAULT;
	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, fault_cmd("off"));
	self->injected = fault_state(action, sizeof(action), &left);
	ASSERT_LE(0, self->injected);
}

FIXTURE_TEARDOWN(fault_env)
{
	fault_cmd("off");
	pt_flush_env_close(&self->e);
}

#define PM_ADDR(off)	((uint64_t)(uintptr_t)(self->e.pm + (off)))

/* the fault fired as many times as asked, and is spent */
#define EXPECT_INJECTED(n) do {						\
	char action_[16];						\
	unsigned int left_ = ~0u;					\
									\
	EXPECT_EQ(self->injected + (n),					\
		  fault_state(action_, sizeof(action_), &left_));	\
	EXPECT_EQ(0, left_);						\
} while (0)

/* RDMA WRITE a pattern to off, then a persistent range FLUSH over it */
static void write_and_flush(struct __test_metadata *_metadata,
			    struct pt_flush_env *e, size_t off, size_t len,
			    uint32_t seed)
{
	uint64_t raddr = (uintptr_t)(e->pm + off);
	struct ibv_wc wc;

	pt_fill_pattern(e->src, len, seed);
	ASSERT_EQ(0, pt_rdma_sync(&e->c, IBV_WR_RDMA_WRITE, e->src, len,
				  e->src_mr->lkey, raddr, e->pm_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(0, pt_wr_flush(&e->c, e->pm_mr->rkey, raddr, len,
				 IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_FLUSH, wc.opcode);
	EXPECT_EQ(0, pt_check_pattern(e->pm + off, len, seed));
}

TEST_F(fault_env, fault_file_refuses_bad_commands)
{
	static const char * const bad[] = {
		"bogus 0x1c", "drop", "drop 256", "drop 0x1c 0", "cut=0 0x1c",
		"cut 0x1c", "drop 0x1c 1 extra", "off 0x1c",
	};
	char action[16];
	unsigned int left;
	size_t i;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (fault_cmd(bad[i]) != -EINVAL)
			break;
	EXPECT_EQ(ARRAY_SIZE(bad), i) TH_LOG("'%s' was taken", bad[i]);
	ASSERT_EQ(0, fault_cmd("cut=8 0x1c 3"));
	ASSERT_LE(0, fault_state(action, sizeof(action), &left));
	EXPECT_STREQ("cut=8", action);
	EXPECT_EQ(3, left);
	ASSERT_EQ(0, fault_cmd("off"));
	ASSERT_LE(0, fault_state(action, sizeof(action), &left));
	EXPECT_STREQ("off", action);
	EXPECT_EQ(0, left);
}

TEST_F(fault_env, flush_request_lost_is_retried)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("drop 0x1c"));
	write_and_flush(_metadata, &self->e, 8192, 4096, 21);
	EXPECT_INJECTED(1);
	/* sent twice, executed once */
	EXPECT_MOVES(&c0, 2, 1, 0, 0, 1, 0);
}

TEST_F(fault_env, flush_ack_lost_duplicate_not_executed)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("drop 0x10"));
	write_and_flush(_metadata, &self->e, 8192, 4096, 22);
	EXPECT_INJECTED(1);
	/* the retry is a duplicate: acknowledged again, not flushed again */
	EXPECT_MOVES(&c0, 2, 1, 0, 0, 1, 1);
}

TEST_F(fault_env, flush_repeated_on_the_wire)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("dup 0x1c"));
	write_and_flush(_metadata, &self->e, 8192, 4096, 23);
	EXPECT_INJECTED(1);
	EXPECT_MOVES(&c0, 1, 1, 0, 0, 1, 1);
}

TEST_F(fault_env, flush_cut_short_is_dropped_and_retried)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	/* 36 bytes of BTH+FETH+RETH+ICRC, 8 cut: shorter than its headers */
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("cut=8 0x1c"));
	write_and_flush(_metadata, &self->e, 8192, 4096, 24);
	EXPECT_INJECTED(1);
	EXPECT_MOVES(&c0, 2, 1, 0, 0, 1, 0);
}

static void atomic_write_ok(struct __test_metadata *_metadata,
			    struct pt_flush_env *e, size_t off, uint64_t val)
{
	struct ibv_wc wc;

	ASSERT_EQ(0, pt_wr_atomic_write(&e->c, e->pm_mr->rkey,
					(uintptr_t)(e->pm + off), &val, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_ATOMIC_WRITE, wc.opcode);
	EXPECT_EQ(val, pt_load64(e->pm + off));
}

TEST_F(fault_env, atomic_write_request_lost_is_retried)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("drop 0x1d"));
	atomic_write_ok(_metadata, &self->e, 64, 0x1122334455667788ULL);
	EXPECT_INJECTED(1);
	EXPECT_MOVES(&c0, 0, 0, 2, 1, 0, 0);
}

TEST_F(fault_env, atomic_write_repeated_on_the_wire)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("dup 0x1d"));
	atomic_write_ok(_metadata, &self->e, 64, 0x0102030405060708ULL);
	EXPECT_INJECTED(1);
	EXPECT_MOVES(&c0, 0, 0, 1, 1, 0, 1);
}

TEST_F(fault_env, atomic_write_cut_short_is_dropped_and_retried)
{
	struct counters c0;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	/* 4 bytes into the data (the ICRC catches it), then into RETH */
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("cut=4 0x1d"));
	atomic_write_ok(_metadata, &self->e, 64, 0xa5a5a5a55a5a5a5aULL);
	EXPECT_INJECTED(1);
	ASSERT_EQ(0, fault_cmd("cut=24 0x1d"));
	atomic_write_ok(_metadata, &self->e, 72, 0x5a5a5a5aa5a5a5a5ULL);
	EXPECT_INJECTED(2);
	EXPECT_MOVES(&c0, 0, 0, 4, 2, 0, 0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * The ATOMIC WRITE lands and its acknowledgement is lost.  The target then
 * stores a newer value itself, before the requester's retry arrives: if the
 * retry were executed again, the older value would come back.
 */
TEST_F(fault_env, atomic_write_replay_never_executes_twice)
{
	uint64_t *p = (uint64_t *)(self->e.pm + 128);
	const uint64_t first = 0x600dcafe00000001ULL;
	const uint64_t newer = 0x600dcafe00000002ULL;
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(self->e.c.qp[0]);
	struct counters c0;
	struct ibv_wc wc;
	long long end;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("drop 0x10"));
	ibv_wr_start(qx);
	qx->wr_id = 0xa8;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qx, self->e.pm_mr->rkey, PM_ADDR(128), &first);
	ASSERT_EQ(0, ibv_wr_complete(qx));

	for (end = now_ms() + 5000; pt_load64(p) != first && now_ms() < end; )
		;
	ASSERT_EQ(first, pt_load64(p));
	__atomic_store_n(p, newer, __ATOMIC_RELEASE);

	ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(newer, pt_load64(p));
	EXPECT_INJECTED(1);
	EXPECT_MOVES(&c0, 0, 0, 2, 1, 0, 1);
}

/*
 * A lost FLUSH in the middle of a stream posted without waiting: the
 * ATOMIC WRITE behind it arrives out of sequence, is NAKed, and the
 * requester goes back to the FLUSH.  Everything completes, in order.
 */
TEST_F(fault_env, lost_flush_inside_a_stream)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(self->e.c.qp[0]);
	const uint64_t ptr = 0x5eed000000000001ULL;
	const size_t off = 16384, len = 1024;
	struct counters c0;
	struct ibv_wc wc;
	int i;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	pt_fill_pattern(self->e.src, len, 25);
	counters_read(&c0);
	ASSERT_EQ(0, fault_cmd("drop 0x1c"));
	ibv_wr_start(qx);
	qx->wr_flags = IBV_SEND_SIGNALED;
	qx->wr_id = 1;
	ibv_wr_rdma_write(qx, self->e.pm_mr->rkey, PM_ADDR(off));
	ibv_wr_set_sge(qx, self->e.src_mr->lkey, (uintptr_t)self->e.src, len);
	qx->wr_id = 2;
	ibv_wr_flush(qx, self->e.pm_mr->rkey, PM_ADDR(off), len,
		     IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE);
	qx->wr_id = 3;
	ibv_wr_atomic_write(qx, self->e.pm_mr->rkey, PM_ADDR(off + len), &ptr);
	ASSERT_EQ(0, ibv_wr_complete(qx));

	for (i = 1; i <= 3; i++) {
		ASSERT_EQ(0, pt_wait_wc(&self->e.c, &wc));
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(i, wc.wr_id);
	}
	EXPECT_EQ(0, pt_check_pattern(self->e.pm + off, len, 25));
	EXPECT_EQ(ptr, pt_load64(self->e.pm + off + len));
	EXPECT_INJECTED(1);
	/* the ATOMIC WRITE may be sent once or twice, it runs once */
	EXPECT_EQ(2, pt_read_counter("flush_sent") - c0.v[FLUSH_SENT]);
	EXPECT_EQ(1, pt_read_counter("flush_rcvd") - c0.v[FLUSH_RCVD]);
	EXPECT_EQ(1, pt_read_counter("atomic_write_rcvd") - c0.v[AW_RCVD]);
	EXPECT_EQ(1, pt_read_counter("persist_writeback_calls") -
		     c0.v[WB_CALLS]);
}

TEST_HARNESS_MAIN
