// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's remote maps over the kernel target: an emulated, keyed
 * export of the fsdax namespace (lib_helpers.h), mapped through the
 * library.  A power failure of the export shows what a flush made durable:
 * the flushed ranges survive it, what was only stored does not, with the
 * smallest send queue and without inline data too.  Then the error paths:
 * ranges outside the map, counts, algorithms, a wrong key, a corrupted
 * WRITE that only flush-and-verify can see, the target losing power under
 * a flush, queues the config or the device refuses, and no descriptor
 * left behind.
 */
#include <pthread.h>

#include "lib_device_helpers.h"
#include "lib_dv_helpers.h"
#include "lib_helpers.h"
#include "lib_verbs_helpers.h"
#include "pmrdma_rtl.h"

#define LEN	EXP_LEN

FIXTURE(remote)
{
	int fd;
	const char *pmem;
	struct lib_export x;
	struct pmrdma_map *map;
	unsigned char *v, *back;
};

FIXTURE_SETUP(remote)
{
	int ret = lib_remote_open(&self->fd, &self->pmem, &self->x, &self->map);

	if (ret == 1)
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", strerror(-ret), pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, posix_memalign((void **)&self->back, 4096, LEN));
}

FIXTURE_TEARDOWN(remote)
{
	pmrdma_map_delete(&self->map);
	if (self->x.id)
		unexport(self->fd, self->x.id);
	free(self->back);
	close(self->fd);
}

/* the export's bytes as the media holds them after a power failure */
#define fail_and_read(self, lost)	\
	__fail_and_read(_metadata, (self)->fd, (self)->x.id, (self)->pmem, \
			(self)->back, lost)

static void __fail_and_read(struct __test_metadata *_metadata, int fd,
			    uint32_t id, const char *pmem, void *back,
			    uint64_t *lost)
{
	struct pmem_rdma_power_fail pf;

	ASSERT_EQ(0, lib_power(fd, id, 0, 0, 1, &pf));
	ASSERT_EQ(0, read_pmem(pmem, EXP_OFF, back, LEN));
	if (lost)
		*lost = pf.lines_lost;
}

TEST_F(remote, view_caps_and_content)
{
	struct pmrdma_map *again = NULL;
	struct pmrdma_caps caps;

	if (!self->map)
		return;
	EXPECT_EQ(LEN, pmrdma_map_get_size(self->map));
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_EQ(PMRDMA_METHOD_FLUSH, caps.method);
	EXPECT_STREQ("FLUSH", pmrdma_method_name(caps.method));
	EXPECT_EQ(PMRDMA_PLACEMENT_GLOBAL | PMRDMA_PLACEMENT_PERSISTENT,
		  caps.placement_types);
	EXPECT_EQ(PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_CRC32C) |
		  PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_SHA256) |
		  PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_XXH64), caps.verify_algs);
	EXPECT_EQ(0, caps.replicas);
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, 0));

	/* a second map of the export starts with what the first flushed */
	pt_fill_pattern(self->v, LEN, 11);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	ASSERT_EQ(0, lib_map(&again, NULL, &self->x, 1));
	EXPECT_EQ(0, pt_check_pattern(pmrdma_map_get_address(again), LEN, 11));
	pmrdma_map_delete(&again);
	EXPECT_EQ(NULL, again);
}

/* what was flushed survives a power failure, what was only stored not */
TEST_F(remote, flush_makes_durable_what_it_names)
{
	uint64_t lost;

	if (!self->map)
		return;
	memset(self->v, 0, LEN);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	pt_fill_pattern(self->v, 64 << 10, 21);
	pt_fill_pattern(self->v + (64 << 10), 64 << 10, 22);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 64 << 10));
	fail_and_read(self, &lost);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, pt_check_pattern(self->back, 64 << 10, 21));
	/* never pushed: the media still holds the zeroes */
	EXPECT_EQ(0, self->back[(64 << 10) + 100]);
	EXPECT_EQ(0, self->back[(128 << 10) - 1]);
}

/*
 * Many ranges, some empty, some overlapping, more requests than the send
 * queue holds: one async flush, one drain, all durable.
 */
TEST_F(remote, async_flush_of_many_ranges_then_drain)
{
	static struct pmrdma_range r[1500];
	unsigned int i;
	uint64_t lost;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, LEN, 31);
	for (i = 0; i < 1000; i++)
		r[i] = (struct pmrdma_range){ self->v + i * 2048, 64 };
	for (; i < 1250; i++)	/* overlapping the first ones */
		r[i] = (struct pmrdma_range){ self->v + (i - 1000) * 2048 + 32, 64 };
	for (; i < 1500; i++)	/* empty */
		r[i] = (struct pmrdma_range){ self->v + i, 0 };
	ASSERT_EQ(0, pmrdma_flush_async(self->map, r, 1500));
	ASSERT_EQ(0, pmrdma_drain(self->map));
	fail_and_read(self, &lost);
	for (i = 0; i < 1000; i++) {
		size_t n = i < 250 ? 96 : 64;

		ASSERT_EQ(0, memcmp(self->back + i * 2048, self->v + i * 2048, n))
			TH_LOG("range %u", i);
	}
	EXPECT_EQ(0, pmrdma_flush_ranges(self->map, r, 0));
	EXPECT_EQ(0, pmrdma_drain(self->map));
}

/* a log's record, then its pointer, posted back to back: both durable */
TEST_F(remote, atomic_write_behind_a_flush)
{
	struct pmrdma_range rec, ptr;
	uint64_t v;

	if (!self->map)
		return;
	pt_fill_pattern(self->v + 4096, 4096, 41);
	rec = (struct pmrdma_range){ self->v + 4096, 4096 };
	ptr = (struct pmrdma_range){ self->v, 8 };
	ASSERT_EQ(0, pmrdma_flush_async(self->map, &rec, 1));
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, 0, 0x1122334455667788ULL));
	ASSERT_EQ(0, pmrdma_flush_async(self->map, &ptr, 1));
	ASSERT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0x1122334455667788ULL, pt_load64(self->v));
	fail_and_read(self, NULL);
	memcpy(&v, self->back, 8);
	EXPECT_EQ(0x1122334455667788ULL, v);
	EXPECT_EQ(0, pt_check_pattern(self->back + 4096, 4096, 41));

	EXPECT_EQ(-EINVAL, pmrdma_atomic_write(self->map, 4, 1));
	EXPECT_EQ(-EINVAL, pmrdma_atomic_write(self->map, LEN, 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "8-byte aligned"));
}

TEST_F(remote, memcpy_and_memset_are_durable)
{
	unsigned char src[512];

	if (!self->map)
		return;
	memset(src, 0x5a, sizeof(src));
	ASSERT_EQ(self->v + 8192,
		  pmrdma_memcpy(self->map, self->v + 8192, src, sizeof(src), 0));
	ASSERT_EQ(self->v + 9000,
		  pmrdma_memset(self->map, self->v + 9000, 0xa5, 100, 0));
	fail_and_read(self, NULL);
	EXPECT_EQ(0, memcmp(self->back + 8192, src, sizeof(src)));
	EXPECT_EQ(0xa5, self->back[9000]);
	EXPECT_EQ(0xa5, self->back[9099]);
	EXPECT_EQ(NULL, pmrdma_memcpy(self->map, self->v + LEN - 8, src, 16, 0));
}

/* bad ranges are refused before anything is sent */
TEST_F(remote, bad_ranges_refused_and_nothing_sent)
{
	struct pmrdma_range r[2];
	struct pmem_rdma_stats st0, st;

	if (!self->map)
		return;
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st0));
	r[0] = (struct pmrdma_range){ self->v, 64 };
	r[1] = (struct pmrdma_range){ self->v + LEN - 8, 16 };
	EXPECT_EQ(-EINVAL, pmrdma_flush_ranges(self->map, r, 2));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "outside the map"));
	r[1] = (struct pmrdma_range){ self->v - 64, 64 };
	EXPECT_EQ(-EINVAL, pmrdma_flush_async(self->map, r, 2));
	EXPECT_EQ(-EINVAL, pmrdma_flush_ranges(self->map, r, SIZE_MAX / 4));
	EXPECT_EQ(-EINVAL, pmrdma_flush_ranges(self->map, NULL, 1));
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(self->map, r, 1, 9));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "algorithm 9"));
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
	EXPECT_EQ(st0.bytes_written, st.bytes_written);
	EXPECT_EQ(st0.flushes, st.flushes);
	/* the map still works */
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 64));
}

/*
 * WRITE, FLUSH and ATOMIC WRITE go through the extended QP's verbs, the
 * only way upstream rdma-core and Linux >= 6.2 have FLUSH and ATOMIC
 * WRITE: on a QP made with those send ops, never through
 * ibv_post_send(), which only VERIFY (no upstream verb) takes.
 */
TEST_F(remote, upstream_verbs_for_all_but_verify)
{
	struct pmrdma_range r;
	uint64_t v;

	if (!self->map)
		return;
	EXPECT_EQ(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ |
		  IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_FLUSH |
		  IBV_QP_EX_WITH_ATOMIC_WRITE, lib_qp_send_ops);
	lib_post_send_clear();
	pt_fill_pattern(self->v + 4096, 8192, 61);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v + 4096, 8192));
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, 0, 0x8877665544332211ULL));
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 8));
	EXPECT_EQ(0, lib_post_send_total());

	r = (struct pmrdma_range){ self->v + 4096, 4096 };
	ASSERT_EQ(0, pmrdma_flush_verify(self->map, &r, 1,
					 PMRDMA_VERIFY_ALG_CRC32C));
	EXPECT_EQ(1, lib_post_send_wrs[RXE_FLUSH_WR_VERIFY]);
	EXPECT_EQ(1, lib_post_send_total());

	/* and what they carried is durable */
	fail_and_read(self, NULL);
	memcpy(&v, self->back, 8);
	EXPECT_EQ(0x8877665544332211ULL, v);
	EXPECT_EQ(0, pt_check_pattern(self->back + 4096, 8192, 61));
}

/*
 * A flush's FLUSH covers its range, not the whole export: bytes another
 * connection only placed (an APM map, no FLUSH) stay lost to a power
 * failure.
 */
TEST_F(remote, flush_covers_its_range_only)
{
	struct lib_export apm = self->x;
	struct pmrdma_map *m;
	char *v;

	if (!self->map)
		return;
	memset(self->v, 0, LEN);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	apm.remote.method = PMRDMA_METHOD_APM;
	ASSERT_EQ(0, lib_map(&m, NULL, &apm, 1));
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v + (64 << 10), 8192, 71);
	ASSERT_EQ(0, pmrdma_flush(m, v + (64 << 10), 8192));
	pt_fill_pattern(self->v, 4096, 72);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 4096));
	fail_and_read(self, NULL);
	EXPECT_EQ(0, pt_check_pattern(self->back, 4096, 72));
	EXPECT_NE(0, pt_check_pattern(self->back + (64 << 10), 8192, 71));
	pmrdma_map_delete(&m);
}

TEST_F(remote, flush_verify_each_algorithm)
{
	struct pmrdma_range r[3];
	struct pmem_rdma_stats st0, st;
	uint32_t alg;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, LEN, 51);
	r[0] = (struct pmrdma_range){ self->v, 4096 };
	r[1] = (struct pmrdma_range){ self->v + 100000, 777 };
	r[2] = (struct pmrdma_range){ self->v + LEN - 64, 64 };
	for (alg = PMRDMA_VERIFY_ALG_CRC32C; alg <= PMRDMA_VERIFY_ALG_XXH64; alg++) {
		ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st0));
		EXPECT_EQ(0, pmrdma_flush_verify(self->map, r, 3, alg))
			TH_LOG("alg %u: %s", alg, pmrdma_errormsg(self->map));
		ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
		EXPECT_EQ(st0.verifies + 3, st.verifies);
		EXPECT_EQ(0, st.dirty_lines);
	}
	fail_and_read(self, NULL);
	EXPECT_EQ(0, memcmp(self->back + 100000, self->v + 100000, 777));
}

/*
 * A WRITE whose first payload byte is inverted before its ICRC (the fault
 * file's "flip") is taken by the target: only the digest sees it.
 */
TEST_F(remote, corrupted_write_caught_by_flush_verify)
{
	struct pmrdma_range r;

	if (!self->map)
		return;
	if (!pt_has_fault())
		SKIP(return, PT_NO_FAULT);
	pt_fill_pattern(self->v, 8192, 61);
	/* one packet: RC RDMA WRITE ONLY */
	r = (struct pmrdma_range){ self->v, 512 };
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "flip 0x0a 1"));
	EXPECT_EQ(-EBADMSG, pmrdma_flush_verify(self->map, &r, 1,
						PMRDMA_VERIFY_ALG_XXH64));
	pt_write_line(PT_FAULT_PATH, "off");
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "differs from the view"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	/* the map refuses work until it is made again */
	EXPECT_EQ(-EIO, pmrdma_flush(self->map, self->v, 64));
	EXPECT_EQ(-EIO, pmrdma_drain(self->map));
	EXPECT_EQ(-EIO, pmrdma_atomic_write(self->map, 0, 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "failed before"));
}

/* the target loses power under a flush: the flush fails, then the map */
TEST_F(remote, target_down_under_a_flush)
{
	struct pmem_rdma_power_fail pf;
	int ret;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, LEN, 71);
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 1, &pf));
	ret = pmrdma_flush(self->map, self->v, LEN);
	EXPECT_EQ(-EREMOTEIO, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "remote operation error"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-EIO, pmrdma_flush(self->map, self->v, 64));
	/* powered on: nothing of the failed flush is there */
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	EXPECT_EQ(-EINVAL, lib_power(self->fd, self->x.id,
				     PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF, self->back, LEN));
	EXPECT_NE(0, pt_check_pattern(self->back, LEN, 71));
	pmrdma_map_delete(&self->map);
	ASSERT_EQ(0, lib_map(&self->map, NULL, &self->x, 1));
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 64));
}

/*
 * A store that asks for a flush on a target without power is not durable:
 * memcpy and memset return NULL with the link's status in errno, and the
 * Windows call a device error, never success.
 */
TEST_F(remote, stores_to_a_target_without_power_fail)
{
	struct pmem_rdma_power_fail pf;
	unsigned char src[512];
	void *t = NULL;

	if (!self->map)
		return;
	memset(src, 0x3c, sizeof(src));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 1, &pf));
	errno = 0;
	EXPECT_EQ(NULL, pmrdma_memcpy(self->map, self->v, src, sizeof(src), 0));
	EXPECT_EQ(EREMOTEIO, errno) TH_LOG("%s", pmrdma_errormsg(self->map));
	errno = 0;
	EXPECT_EQ(NULL, pmrdma_memset(self->map, self->v, 1, 64, 0));
	EXPECT_EQ(EIO, errno);

	/* the Windows layer, on a map made while the power is on */
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	pmrdma_map_delete(&self->map);
	ASSERT_EQ(0, lib_map(&self->map, NULL, &self->x, 1));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(self->v, LEN, &t));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 1, &pf));
	EXPECT_EQ(STATUS_IO_DEVICE_ERROR,
		  RtlWriteNonVolatileMemory(t, self->v, src, sizeof(src),
					    WRITE_NV_MEMORY_FLAG_FLUSH));
	EXPECT_EQ(STATUS_SUCCESS, RtlFreeNonVolatileToken(t));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

/* a remote map of x whose waits are wait_ms plus their bytes at rate */
static int timed_map(struct pmrdma_map **map, const struct lib_export *x,
		     unsigned int wait_ms, uint64_t rate)
{
	struct lib_map_opts o = { .wait_ms = wait_ms, .wait_rate = rate };

	return lib_map_remote(map, &x->remote, &o);
}

/*
 * A wait is bounded by what it waits for.  The FLUSH of a flush is lost
 * once, and comes again after rxe's ACK timeout (about half a second): a
 * flush of 64 bytes given 50 ms and its bytes at 1 TB/s fails; one of 2 MiB
 * given 50 ms and its bytes at 1 kB/s waits for the retry and succeeds.
 * (50 ms, not less: the map's own first round trip takes that wait too, and
 * 6.12's rxe, on a workqueue, may take a few ms for it under TCG.)
 */
TEST_F(remote, waits_are_bounded_by_their_bytes)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = NULL;
	int ret;

	if (!self->map)
		return;
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_timeouts(cfg, 0, 0, 999));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_timeouts(cfg, 1U << 31, 0, 0));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_timeouts(cfg, 0, 1U << 31, 0));
	pmrdma_config_delete(&cfg);
	if (!pt_has_fault())
		SKIP(return, PT_NO_FAULT);

	ASSERT_EQ(0, timed_map(&m, &self->x, 50, 1ULL << 40))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "drop 0x1c"));
	ret = pmrdma_flush(m, pmrdma_map_get_address(m), 64);
	pt_write_line(PT_FAULT_PATH, "off");
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(m), "no completion in 50 ms"))
		TH_LOG("%s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);

	ASSERT_EQ(0, timed_map(&m, &self->x, 50, 1000));
	pt_fill_pattern(pmrdma_map_get_address(m), LEN, 171);
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "drop 0x1c"));
	ret = pmrdma_flush(m, pmrdma_map_get_address(m), LEN);
	pt_write_line(PT_FAULT_PATH, "off");
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);
	fail_and_read(self, NULL);
	EXPECT_EQ(0, pt_check_pattern(self->back, LEN, 171));
}

/* a remote map of x with a send queue of sq_size, and inline_size (>= 0) */
static int queued_map(struct pmrdma_map **map, const struct lib_export *x,
		      unsigned int sq_size, int inline_size)
{
	struct lib_map_opts o = {
		.sq_size = sq_size,
		.inline_set = inline_size >= 0, .inline_size = inline_size,
	};

	return lib_map_remote(map, &x->remote, &o);
}

/*
 * The smallest send queue, 32 requests: a flush of 1000 ranges (2000
 * requests) goes out as the queue frees, and 300 flushes of one to three
 * ranges, started back to back, keep batches of 2, 4 and 6 requests in
 * flight, around the ring of batches many times.  Never more than 32
 * requests in the queue, and all of it durable.
 */
TEST_F(remote, a_small_send_queue_takes_many_ranges)
{
	static struct pmrdma_range r[1000];
	static const unsigned int at[3] = { 1024, 1536, 1856 };
	struct pmrdma_map *m;
	unsigned char *v;
	unsigned int i, k;

	if (!self->map)
		return;
	ASSERT_EQ(0, queued_map(&m, &self->x, PMRDMA_SQ_SIZE_MIN, -1))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(PMRDMA_SQ_SIZE_MIN, lib_qp_cap.max_send_wr);
	EXPECT_EQ(PMRDMA_INLINE_SIZE, lib_qp_cap.max_inline_data);
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, LEN, 81);
	for (i = 0; i < 1000; i++)
		r[i] = (struct pmrdma_range){ v + i * 2048, 100 };
	lib_sq_clear();
	ASSERT_EQ(0, pmrdma_flush_ranges(m, r, 1000))
		TH_LOG("%s", pmrdma_errormsg(m));
	for (i = 0; i < 300; i++) {
		for (k = 0; k < 3; k++)
			r[k] = (struct pmrdma_range){ v + i * 2048 + at[k], 64 };
		ASSERT_EQ(0, pmrdma_flush_async(m, r, 1 + i % 3))
			TH_LOG("flush %u: %s", i, pmrdma_errormsg(m));
	}
	ASSERT_EQ(0, pmrdma_drain(m)) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_GE(PMRDMA_SQ_SIZE_MIN, lib_sq_peak);
	EXPECT_LT(PMRDMA_SQ_SIZE_MIN / 2, lib_sq_peak);
	EXPECT_EQ(0, lib_sq_used);
	fail_and_read(self, NULL);
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, memcmp(self->back + i * 2048, v + i * 2048, 100))
			TH_LOG("range %u", i);
	for (i = 0; i < 300; i++)
		for (k = 0; k <= i % 3; k++)
			ASSERT_EQ(0, memcmp(self->back + i * 2048 + at[k],
					    v + i * 2048 + at[k], 64))
				TH_LOG("flush %u, range %u", i, k);
	pmrdma_map_delete(&m);
}

/*
 * The setters refuse a send queue or inline data no map could use, with
 * a message, and leave the config as it was; the device refuses what it
 * cannot give, which fails the map with its reason and leaves nothing.
 */
TEST_F(remote, send_queue_bounds)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = (void *)1;
	int fds;

	if (!self->map)
		return;
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	ASSERT_EQ(0, pmrdma_config_set_remote(cfg, &self->x.remote));
	EXPECT_EQ(0, pmrdma_config_set_sq_size(cfg, 64));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_sq_size(cfg, PMRDMA_SQ_SIZE_MIN - 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "a send queue of 31 requests is outside 32..32768"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_sq_size(cfg, 1));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_sq_size(cfg, PMRDMA_SQ_SIZE_MAX + 1));
	EXPECT_EQ(0, pmrdma_config_set_inline_size(cfg, 0));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_inline_size(cfg,
							 PMRDMA_INLINE_SIZE_MAX + 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "1025 bytes inline is more than 1024"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, pmrdma_map_new(&m, cfg)) TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(64, lib_qp_cap.max_send_wr);
	EXPECT_EQ(0, lib_qp_cap.max_inline_data);
	pmrdma_map_delete(&m);

	/* rxe's inline data is the room of its 32 SGEs, 512 bytes */
	fds = lib_fds();
	m = (void *)1;
	EXPECT_EQ(0, pmrdma_config_set_inline_size(cfg, PMRDMA_INLINE_SIZE_MAX));
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&m, cfg));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "no QP of 64 send requests and 1024 bytes inline"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(fds, lib_fds());

	/* rxe's CQs hold 32767 completions, fewer than the deepest queue's */
	EXPECT_EQ(0, pmrdma_config_set_inline_size(cfg, PMRDMA_INLINE_SIZE));
	EXPECT_EQ(0, pmrdma_config_set_sq_size(cfg, PMRDMA_SQ_SIZE_MAX));
	if (lib_devices_give_sq(PMRDMA_SQ_SIZE_MAX)) {
		TH_LOG("the devices may give a send queue of %u", PMRDMA_SQ_SIZE_MAX);
	} else {
		m = (void *)1;
		EXPECT_EQ(-EINVAL, pmrdma_map_new(&m, cfg));
		EXPECT_EQ(NULL, m);
		EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
				       "a send queue of 32768 requests"))
			TH_LOG("%s", pmrdma_errormsg(NULL));
		EXPECT_EQ(fds, lib_fds());
	}
	pmrdma_config_delete(&cfg);
}

/*
 * A record flushed, then its pointer at 0 atomic-written and flushed, all
 * through m, back to back: both are durable after a power failure.
 */
#define record_and_pointer(self, m, seed, value)	\
	__record_and_pointer(_metadata, self, m, seed, value)

static void __record_and_pointer(struct __test_metadata *_metadata,
				 FIXTURE_DATA(remote) *self,
				 struct pmrdma_map *m, uint32_t seed,
				 uint64_t value)
{
	unsigned char *v = pmrdma_map_get_address(m);
	struct pmrdma_range rec = { v + 4096, 4096 }, ptr = { v, 8 };
	uint64_t got;

	pt_fill_pattern(v + 4096, 4096, seed);
	ASSERT_EQ(0, pmrdma_flush_async(m, &rec, 1));
	ASSERT_EQ(0, pmrdma_atomic_write(m, 0, value))
		TH_LOG("%s", pmrdma_errormsg(m));
	ASSERT_EQ(0, pmrdma_flush_async(m, &ptr, 1));
	ASSERT_EQ(0, pmrdma_drain(m)) TH_LOG("%s", pmrdma_errormsg(m));
	fail_and_read(self, NULL);
	memcpy(&got, self->back, 8);
	EXPECT_EQ(value, got);
	EXPECT_EQ(0, pt_check_pattern(self->back + 4096, 4096, seed));
}

/*
 * The atomic write without inline data: with ATOMIC WRITE, the native one;
 * without (hidden, as a hardware RNIC has none), an 8-byte WRITE fenced
 * behind the flush before it, inline with the default 64 bytes, else from
 * a registered copy of the value: with none asked for, or fewer granted
 * than asked.  Durable every time, and so are more atomic writes than
 * there are copies, to a word each or all to one.
 */
TEST_F(remote, atomic_write_without_inline_room)
{
	struct pmrdma_map *m;
	unsigned char *v;
	unsigned int i;
	uint64_t got;

	if (!self->map)
		return;
	ASSERT_EQ(0, queued_map(&m, &self->x, 0, 0))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(0, lib_qp_cap.max_inline_data);
	EXPECT_NE(0, lib_qp_send_ops & IBV_QP_EX_WITH_ATOMIC_WRITE);
	record_and_pointer(self, m, 91, 0x0101010101010101ULL);
	pmrdma_map_delete(&m);

	ASSERT_EQ(0, lib_device_hide(IB_UVERBS_DEVICE_ATOMIC_WRITE));
	ASSERT_EQ(0, queued_map(&m, &self->x, 0, -1));
	EXPECT_EQ(0, lib_qp_send_ops & IBV_QP_EX_WITH_ATOMIC_WRITE);
	lib_wr_inline = 0;
	record_and_pointer(self, m, 92, 0x0202020202020202ULL);
	EXPECT_EQ(1, lib_wr_inline);
	pmrdma_map_delete(&m);

	ASSERT_EQ(0, queued_map(&m, &self->x, 0, 0));
	lib_wr_inline = 0;
	record_and_pointer(self, m, 93, 0x0303030303030303ULL);
	v = pmrdma_map_get_address(m);
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, pmrdma_atomic_write(m, 8 + 8 * i, 0xa000 + i));
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, pmrdma_atomic_write(m, 512, 0xb000 + i));
	ASSERT_EQ(0, pmrdma_flush(m, v + 8, 512)) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_EQ(0, lib_wr_inline);
	fail_and_read(self, NULL);
	for (i = 0; i < 40; i++) {
		memcpy(&got, self->back + 8 + 8 * i, 8);
		EXPECT_EQ(0xa000 + i, got) TH_LOG("word %u", i);
	}
	memcpy(&got, self->back + 512, 8);
	EXPECT_EQ(0xb000 + 39, got);
	pmrdma_map_delete(&m);

	lib_qp_inline_granted = 4;
	ASSERT_EQ(0, queued_map(&m, &self->x, 0, -1));
	EXPECT_EQ(PMRDMA_INLINE_SIZE, lib_qp_cap.max_inline_data);
	lib_wr_inline = 0;
	record_and_pointer(self, m, 94, 0x0404040404040404ULL);
	EXPECT_EQ(0, lib_wr_inline);
	pmrdma_map_delete(&m);
}

struct flusher {
	struct pmrdma_map *map;
	unsigned char *v;
	unsigned int done;	/* flushes that returned 0 */
	int err;		/* the one that did not */
};

static void *flush_loop(void *arg)
{
	struct flusher *f = arg;

	while (!(f->err = pmrdma_flush(f->map, f->v, LEN)))
		__atomic_add_fetch(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* the export goes away (UNEXPORT) while a thread flushes through the map */
TEST_F(remote, export_removed_in_the_middle_of_flushes)
{
	struct flusher f = { .map = self->map, .v = self->v };
	pthread_t th;

	if (!self->map)
		return;
	ASSERT_EQ(0, pthread_create(&th, NULL, flush_loop, &f));
	while (__atomic_load_n(&f.done, __ATOMIC_ACQUIRE) < 3)
		usleep(1000);
	ASSERT_EQ(0, unexport(self->fd, self->x.id));
	self->x.id = 0;
	pthread_join(th, NULL);
	EXPECT_TRUE(f.err == -ECONNRESET || f.err == -ETIMEDOUT ||
		    f.err == -EREMOTEIO) TH_LOG("%d %s", f.err, pmrdma_errormsg(self->map));
	EXPECT_EQ(-EIO, pmrdma_drain(self->map));
	EXPECT_EQ(-EIO, pmrdma_flush(self->map, self->v, 64));
}

/*
 * APM: the READ behind the WRITEs returns once they are placed, which is
 * durable only where the platform says so.  The emulated domain is not
 * such a platform: what APM placed is visible, and a power failure takes
 * it - the honest part of the method's documentation.
 */
TEST_F(remote, apm_places_the_data_but_only_the_platform_persists_it)
{
	struct lib_export apm = self->x;
	struct pmem_rdma_power_fail pf;
	struct pmrdma_map *m, *check;
	struct pmrdma_caps caps;
	char *v;

	if (!self->map)
		return;
	memset(self->v, 0, LEN);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	apm.remote.method = PMRDMA_METHOD_APM;
	ASSERT_EQ(0, lib_map(&m, NULL, &apm, 1));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(PMRDMA_METHOD_APM, caps.method);
	EXPECT_STREQ("APM", pmrdma_method_name(caps.method));
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, 8192, 81);
	ASSERT_EQ(0, pmrdma_flush(m, v, 8192));
	ASSERT_EQ(0, pmrdma_atomic_write(m, 8192, 42));

	/* placed: a new map reads it */
	ASSERT_EQ(0, lib_map(&check, NULL, &self->x, 1));
	EXPECT_EQ(0, pt_check_pattern(pmrdma_map_get_address(check), 8192, 81));
	pmrdma_map_delete(&check);
	/* not persistent on this platform */
	ASSERT_EQ(0, lib_power(self->fd, self->x.id, 0, 0, 1, &pf));
	EXPECT_LT(0, pf.lines_lost);
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF, self->back, 8192));
	EXPECT_NE(0, pt_check_pattern(self->back, 8192, 81));
	pmrdma_map_delete(&m);

	/* GPSPM needs the user-space target */
	apm.remote.method = PMRDMA_METHOD_GPSPM;
	EXPECT_EQ(-EOPNOTSUPP, lib_map(&m, NULL, &apm, 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "GPSPM"));
}

/*
 * APM's READ behind the WRITEs stays inside the export: a range in its
 * last 7 bytes, or in its first 8, is placed and the map goes on.
 */
TEST_F(remote, apm_flush_of_the_exports_last_bytes)
{
	struct lib_export apm = self->x;
	struct pmrdma_map *m, *check;
	unsigned char *v, *c;

	if (!self->map)
		return;
	apm.remote.method = PMRDMA_METHOD_APM;
	ASSERT_EQ(0, lib_map(&m, NULL, &apm, 1));
	v = pmrdma_map_get_address(m);
	memset(v + LEN - 8, 0x3c, 8);
	memset(v, 0x4d, 3);
	EXPECT_EQ(0, pmrdma_flush(m, v + LEN - 3, 3)) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_EQ(0, pmrdma_flush(m, v + 1, 2)) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_EQ(0, pmrdma_flush(m, v + LEN - 8, 5)) TH_LOG("%s", pmrdma_errormsg(m));
	ASSERT_EQ(0, lib_map(&check, NULL, &self->x, 1));
	c = pmrdma_map_get_address(check);
	EXPECT_EQ(0, memcmp(c + LEN - 8, v + LEN - 8, 8));
	EXPECT_EQ(0x4d, c[1]);
	EXPECT_EQ(0x4d, c[2]);
	pmrdma_map_delete(&check);
	pmrdma_map_delete(&m);
}

/*
 * Flush-and-verify flushes to persistence first: an export without that
 * access offers no algorithm (here to an APM map, which needs none), and
 * the call is refused before anything is sent, the map still working.
 */
TEST_F(remote, no_verify_without_the_persistent_flush)
{
	struct pmem_rdma_stats st0, st;
	struct pmrdma_caps caps;
	struct pmrdma_range r;
	struct lib_export nf;
	struct pmrdma_map *m;
	char *v;

	if (!self->map)
		return;
	ASSERT_EQ(0, lib_export_access(self->fd, self->pmem, TARGET_PORT + 1,
				       EXP_OFF + EXP_LEN, true,
				       PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
				       PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
				       PMEM_RDMA_ACCESS_VERIFY, &nf));
	nf.remote.method = PMRDMA_METHOD_APM;
	ASSERT_EQ(0, lib_map(&m, NULL, &nf, 1)) TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(0, caps.verify_algs);
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, 4096, 91);
	r = (struct pmrdma_range){ v, 4096 };
	ASSERT_EQ(0, export_stats(self->fd, nf.id, &st0));
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(m, &r, 1, PMRDMA_VERIFY_ALG_CRC32C));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(m), "not offered"))
		TH_LOG("%s", pmrdma_errormsg(m));
	ASSERT_EQ(0, export_stats(self->fd, nf.id, &st));
	EXPECT_EQ(st0.bytes_written, st.bytes_written);
	EXPECT_EQ(st0.verifies, st.verifies);
	EXPECT_EQ(0, pmrdma_flush(m, v, 4096)) TH_LOG("%s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);
	EXPECT_EQ(0, unexport(self->fd, nf.id));
}

/*
 * The map verifies with what the device's provider says it can
 * flush-and-verify with (lib_dv_helpers.h answers for devices the VM does
 * not have), never with a guess from the driver's name and version.
 */
TEST_F(remote, verify_algorithms_as_the_provider_says)
{
	struct rxe_flush_dv_device_attr dv = {
		.flags = RXE_FLUSH_DV_DEVICE_VERIFY |
			 RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY,
		.verify_algs = RXE_FLUSH_VERIFY_ALGS,
		.max_verify_length = (1U << 31) - 1,
		.version = 10 << 8,	/* 0.10.0: before "0.4.0" as text */
	};
	struct pmrdma_caps caps;
	struct pmrdma_range r;
	struct pmrdma_map *m;

	if (!self->map)
		return;
	lib_dv_answer = &dv;
	ASSERT_EQ(0, lib_map(&m, NULL, &self->x, 1));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(RXE_FLUSH_VERIFY_ALGS, caps.verify_algs);
	r = (struct pmrdma_range){ pmrdma_map_get_address(m), 4096 };
	EXPECT_EQ(0, pmrdma_flush_verify(m, &r, 1, PMRDMA_VERIFY_ALG_XXH64))
		TH_LOG("%s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);

	/* CRC32C alone: the others are refused before anything is sent */
	dv.verify_algs = PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_CRC32C);
	ASSERT_EQ(0, lib_map(&m, NULL, &self->x, 1));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_CRC32C), caps.verify_algs);
	r = (struct pmrdma_range){ pmrdma_map_get_address(m), 4096 };
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(m, &r, 1, PMRDMA_VERIFY_ALG_SHA256));
	EXPECT_EQ(0, pmrdma_flush_verify(m, &r, 1, PMRDMA_VERIFY_ALG_CRC32C))
		TH_LOG("%s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);

	/* VERIFY without flush-and-verify (a 0.3.0 driver): nothing offered */
	dv.flags = RXE_FLUSH_DV_DEVICE_VERIFY;
	dv.verify_algs = RXE_FLUSH_VERIFY_ALGS;
	dv.version = 3 << 8;
	ASSERT_EQ(0, lib_map(&m, NULL, &self->x, 1));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(0, caps.verify_algs);
	pmrdma_map_delete(&m);
	lib_dv_answer = NULL;
}

/*
 * A range longer than a remote copy verifies at once (1 GiB - 1, or less
 * where the device says so: here 8 KiB, as the VM cannot hold a 1 GiB
 * map) is refused before anything is sent, even behind 17 good ranges
 * that would have gone out first; the map goes on.
 */
TEST_F(remote, verify_range_too_long_refused_before_anything)
{
	struct rxe_flush_dv_device_attr dv = {
		.flags = RXE_FLUSH_DV_DEVICE_VERIFY |
			 RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY,
		.verify_algs = RXE_FLUSH_VERIFY_ALGS,
		.max_verify_length = 8192,
		.version = 4 << 8,
	};
	struct pmem_rdma_stats st0, st;
	struct pmrdma_range r[18];
	struct pmrdma_map *m;
	unsigned char *v;
	int i;

	if (!self->map)
		return;
	lib_dv_answer = &dv;
	ASSERT_EQ(0, lib_map(&m, NULL, &self->x, 1));
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, LEN, 95);
	for (i = 0; i < 17; i++)
		r[i] = (struct pmrdma_range){ v + i * 8192, 512 };
	r[17] = (struct pmrdma_range){ v + 17 * 8192, 8193 };
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st0));
	EXPECT_EQ(-EINVAL, pmrdma_flush_verify(m, r, 18, PMRDMA_VERIFY_ALG_CRC32C));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(m), "range 17 has 8193 bytes"))
		TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_EQ(NULL, strchr(pmrdma_errormsg(m), '\n'));
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
	EXPECT_EQ(st0.bytes_written, st.bytes_written);
	EXPECT_EQ(st0.verifies, st.verifies);
	EXPECT_EQ(st0.flushes, st.flushes);
	/* the map goes on: the longest range is taken */
	r[17].len = 8192;
	EXPECT_EQ(0, pmrdma_flush_verify(m, r, 18, PMRDMA_VERIFY_ALG_CRC32C))
		TH_LOG("%s", pmrdma_errormsg(m));
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
	EXPECT_EQ(st0.verifies + 18, st.verifies);
	pmrdma_map_delete(&m);
	lib_dv_answer = NULL;
}

TEST_F(remote, refusals_and_no_leaks)
{
	struct lib_export bad = self->x;
	struct pmrdma_map *m = (void *)1;
	struct pmrdma_config *cfg;
	int fds, i, ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	fds = lib_fds();
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, lib_map(&self->map, NULL, &self->x, 1));
		pmrdma_map_delete(&self->map);
	}
	bad.key[0] ^= 1;
	bad.remote.key = bad.key;
	ret = lib_map(&m, NULL, &bad, 1);
	EXPECT_EQ(-ECONNREFUSED, ret);
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "a wrong one"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	bad.remote.key = NULL;
	EXPECT_EQ(-ECONNREFUSED, lib_map(&m, NULL, &bad, 1));
	bad = self->x;
	bad.remote.port = TARGET_PORT + 1;
	ret = lib_map(&m, NULL, &bad, 1);
	EXPECT_TRUE(ret == -ECONNREFUSED || ret == -ETIMEDOUT) TH_LOG("%d", ret);
	bad.remote.addr = "no.such.host.invalid";
	EXPECT_EQ(-EHOSTUNREACH, lib_map(&m, NULL, &bad, 1));
	EXPECT_EQ(fds, lib_fds());

	/* configs */
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	bad = self->x;
	bad.remote.key_len = 8;
	EXPECT_EQ(-EINVAL, pmrdma_config_set_remote(cfg, &bad.remote));
	bad.remote.key_len = LIB_KEY_LEN;
	bad.remote.port = 0;
	EXPECT_EQ(-EINVAL, pmrdma_config_set_remote(cfg, &bad.remote));
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&m, cfg));
	EXPECT_EQ(0, pmrdma_config_set_remote(cfg, &self->x.remote));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_remote(cfg, &self->x.remote));
	pmrdma_config_delete(&cfg);
	ASSERT_EQ(0, lib_map(&self->map, NULL, &self->x, 1));
}

/*
 * The kernel target has no keyed exports: a keyed map is refused by the
 * target itself, which says why, and the unkeyed map goes on.
 */
TEST_F(remote, a_keyed_map_is_refused_by_the_kernel_target)
{
	static const uint8_t data_key[16] = { 1, 2, 3 };
	struct lib_map_opts o = {
		.data_key = data_key, .data_key_len = sizeof(data_key),
	};
	struct pmrdma_map *m = (void *)1;

	if (!self->map)
		return;
	EXPECT_EQ(-ECONNREFUSED, lib_map_remote(&m, &self->x.remote, &o));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the target refused the connection (the export has no data key"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 64));
}

/*
 * A keyed export of the kernel target (pmrdmactl export --data-key): a
 * keyed map persists by FLUSH, stores an atomic write as a sealed ATOMIC
 * WRITE, checks with a flush-and-verify whose answer comes sealed, and
 * reads back through sealed WRITEs and READ responses; an unkeyed map is
 * refused by the target, saying why; another data key is refused at
 * connect.
 */
TEST_F(remote, a_keyed_export_of_the_kernel_target)
{
	static const uint8_t data_key[32] = { 9, 8, 7 }, other[32] = { 1 };
	struct lib_map_opts o = {
		.data_key = data_key, .data_key_len = sizeof(data_key),
	};
	long long aw = pt_read_counter("atomic_write_rcvd");
	long long vf = pt_read_counter("verify_rcvd");
	struct pmem_rdma_export_req e;
	struct pmrdma_map *m = NULL;
	struct pmrdma_range rg;
	struct pmrdma_remote r;
	char addr[96], *v;
	uint64_t word;
	int i;

	if (!self->map)
		return;
	ASSERT_EQ(0, pt_peer_device_addr_str(addr, sizeof(addr)));
	memset(&e, 0, sizeof(e));
	e.abi_version = PMEM_RDMA_ABI_VERSION;
	e.flags = PMEM_RDMA_EXPORT_EMULATED | PMEM_RDMA_EXPORT_ANY_PEER |
		  PMEM_RDMA_EXPORT_KEYED_256;
	e.offset = EXP_OFF + EXP_LEN;
	e.length = EXP_LEN;
	e.access = ACCESS_RWF | PMEM_RDMA_ACCESS_VERIFY;
	e.verify_algs = PMEM_RDMA_VERIFY_ALL;
	e.port = TARGET_PORT + 2;
	memcpy(e.data_key, data_key, sizeof(data_key));
	snprintf(e.path, sizeof(e.path), "%s", self->pmem);
	snprintf(e.ib_dev, sizeof(e.ib_dev), "%s",
		 getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	r = (struct pmrdma_remote){
		.addr = addr, .port = e.port, .method = PMRDMA_METHOD_FLUSH,
	};

	ASSERT_EQ(0, lib_map_remote(&m, &r, &o)) TH_LOG("%s",
							pmrdma_errormsg(NULL));
	v = pmrdma_map_get_address(m);
	for (i = 0; i < 8192; i++)
		v[i] = i * 7;
	EXPECT_EQ(0, pmrdma_flush(m, v, 8192)) TH_LOG("%s",
						     pmrdma_errormsg(m));
	word = 0x0123456789abcdefULL;
	EXPECT_EQ(0, pmrdma_atomic_write(m, 4096, word)) TH_LOG("%s",
		pmrdma_errormsg(m));
	memcpy(v + 4096, &word, 8);
	rg = (struct pmrdma_range){ v, 8192 };
	EXPECT_EQ(0, pmrdma_flush_verify(m, &rg, 1, PMRDMA_VERIFY_ALG_XXH64))
		TH_LOG("%s", pmrdma_errormsg(m));
	/* both went natively, sealed (a plain one would have been refused) */
	EXPECT_EQ(aw + 1, pt_read_counter("atomic_write_rcvd"));
	EXPECT_EQ(vf + 1, pt_read_counter("verify_rcvd"));
	memset(v, 0, 8192);
	EXPECT_EQ(0, pmrdma_read(m, v, 8192)) TH_LOG("%s", pmrdma_errormsg(m));
	for (i = 0; i < 8192; i++)
		ASSERT_EQ(i / 8 == 512 ? ((char *)&word)[i % 8] : (char)(i * 7),
			  v[i]) TH_LOG("byte %d", i);
	pmrdma_map_delete(&m);

	EXPECT_EQ(-ECONNREFUSED, lib_map_remote(&m, &r, NULL));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the target refused the connection (the export is keyed"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	o.data_key = other;
	EXPECT_EQ(-EKEYREJECTED, lib_map_remote(&m, &r, &o));
	EXPECT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_UNEXPORT,
			 &(struct pmem_rdma_unexport){ .id = e.id }));
}

/*
 * A window of the export: its view is the window's bytes, and every
 * request lands at the window's offset in the export - pushes, the FLUSH,
 * the atomic write, a flush-and-verify - and nowhere else.
 */
#define WIN_OFF		(64UL << 10)
#define WIN_LEN		(8UL << 10)

TEST_F(remote, a_window_maps_its_range_of_the_export)
{
	struct pmrdma_range r;
	struct pmrdma_map *w;
	unsigned char *wv;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, LEN, 31);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	ASSERT_EQ(0, lib_map_window(&w, &self->x.remote, WIN_OFF, WIN_LEN,
				    PMRDMA_VIEW_READ))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(WIN_LEN, pmrdma_map_get_size(w));
	wv = pmrdma_map_get_address(w);
	EXPECT_EQ(0, memcmp(wv, self->v + WIN_OFF, WIN_LEN));

	memset(wv + 100, 0xa5, 300);
	EXPECT_EQ(0, pmrdma_flush(w, wv + 100, 300)) TH_LOG("%s", pmrdma_errormsg(w));
	EXPECT_EQ(0, pmrdma_atomic_write(w, WIN_LEN - 8, 0x1122334455667788ULL));
	EXPECT_EQ(0, pmrdma_flush(w, wv + WIN_LEN - 8, 8));
	r = (struct pmrdma_range){ wv + 64, 4096 };
	EXPECT_EQ(0, pmrdma_flush_verify(w, &r, 1, PMRDMA_VERIFY_ALG_XXH64))
		TH_LOG("%s", pmrdma_errormsg(w));
	pmrdma_map_delete(&w);

	fail_and_read(self, NULL);
	memset(self->v + WIN_OFF + 100, 0xa5, 300);
	memcpy(self->v + WIN_OFF + WIN_LEN - 8,
	       &(uint64_t){ 0x1122334455667788ULL }, 8);
	EXPECT_EQ(0, memcmp(self->back, self->v, LEN))
		TH_LOG("the export differs from the window's writes at %zd",
		       lib_first_diff(self->back, self->v, LEN));
}

/* a window that ends beyond the export, or starts at its end, is refused */
TEST_F(remote, a_window_beyond_the_export_is_refused)
{
	static const uint64_t bad[][2] = {
		{ LEN - 4096, 8192 }, { LEN, 4096 }, { 1ULL << 62, 4096 },
		{ 4096, UINT64_MAX - 8191 },
	};
	struct pmrdma_map *w = NULL;
	unsigned int i;
	int fds;

	if (!self->map)
		return;
	fds = lib_fds();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, lib_map_window(&w, &self->x.remote, bad[i][0],
						  bad[i][1], PMRDMA_VIEW_READ))
			TH_LOG("window %u", i);
		EXPECT_EQ(NULL, w);
	}
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "beyond the export"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(fds, lib_fds());
	/* the export's last page is a window */
	ASSERT_EQ(0, lib_map_window(&w, &self->x.remote, LEN - 4096, 4096,
				    PMRDMA_VIEW_READ));
	EXPECT_EQ(0, memcmp(pmrdma_map_get_address(w), self->v + LEN - 4096, 4096));
	pmrdma_map_delete(&w);
}

/*
 * A zeroed view reads nothing when the map is made; pmrdma_read() brings
 * in exactly the ranges asked for, after the flushes before it.
 */
TEST_F(remote, a_zeroed_view_reads_only_what_is_asked)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *z, *m = NULL;
	const char *dax = getenv("PMEM_RDMA_DAX");
	unsigned char *zv;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, LEN, 41);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	ASSERT_EQ(0, lib_map_window(&z, &self->x.remote, 0, 0,
				    PMRDMA_VIEW_ZEROED));
	EXPECT_EQ(LEN, pmrdma_map_get_size(z));
	zv = pmrdma_map_get_address(z);
	memset(self->back, 0, LEN);
	EXPECT_EQ(-1, lib_first_diff(zv, self->back, LEN)) TH_LOG("the view was read");

	EXPECT_EQ(0, pmrdma_read(z, zv + 4096, 100)) TH_LOG("%s", pmrdma_errormsg(z));
	EXPECT_EQ(0, memcmp(zv + 4096, self->v + 4096, 100));
	memcpy(self->back + 4096, self->v + 4096, 100);
	EXPECT_EQ(-1, lib_first_diff(zv, self->back, LEN)) TH_LOG("read more than asked");

	/* what this map flushed comes back; outside the view is refused */
	memset(zv + 8192, 0x5e, 64);
	ASSERT_EQ(0, pmrdma_flush(z, zv + 8192, 64));
	memset(zv + 8192, 0, 64);
	EXPECT_EQ(0, pmrdma_read(z, zv + 8192, 64));
	EXPECT_EQ(0x5e, zv[8192 + 63]);
	EXPECT_EQ(-EINVAL, pmrdma_read(z, zv + LEN - 10, 20));
	EXPECT_EQ(0, pmrdma_read(z, zv, 0));
	pmrdma_map_delete(&z);

	/* fill is a remote map's: another value, or a local path, refused */
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_view_fill(cfg, 7));
	if (dax && *dax) {
		ASSERT_EQ(0, pmrdma_config_set_path(cfg, dax));
		ASSERT_EQ(0, pmrdma_config_set_view_fill(cfg, PMRDMA_VIEW_ZEROED));
		EXPECT_EQ(-EINVAL, pmrdma_map_new(&m, cfg));
		EXPECT_EQ(NULL, m);
	}
	pmrdma_config_delete(&cfg);
}

/*
 * pmrdma_write() from a registered buffer of the caller's: the export gets
 * the buffer's bytes at dst, and only those, while the view there keeps
 * what it held (neither pushed nor written); pmrdma_read() brings the
 * written bytes in.  APM placed them (a new map reads them), FLUSH made
 * them durable (a power failure keeps them, and no line was lost).
 */
#define WR_DST		(8192 + 3)
#define WR_SRC_OFF	100
#define WR_LEN		5000
#define WR_BUF		(16 << 10)

TEST_F(remote, write_from_a_registered_buffer)
{
	static const enum pmrdma_method method[] = {
		PMRDMA_METHOD_APM, PMRDMA_METHOD_FLUSH,
	};
	struct pmrdma_map *m, *check;
	struct lib_export x = self->x;
	struct pmrdma_buf *buf = (void *)1;
	struct pmrdma_caps caps;
	unsigned char *src, *v, *c;
	unsigned int k;
	uint64_t lost;

	if (!self->map)
		return;
	ASSERT_EQ(0, posix_memalign((void **)&src, 4096, WR_BUF));
	for (k = 0; k < 2; k++) {
		/* the export zeroed, then a map of the method over it */
		memset(self->v, 0, LEN);
		ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
		x.remote.method = method[k];
		ASSERT_EQ(0, lib_map(&m, NULL, &x, 1)) TH_LOG("%s", pmrdma_errormsg(NULL));
		pmrdma_map_get_caps(m, &caps);
		EXPECT_EQ(method[k], caps.method);
		v = pmrdma_map_get_address(m);
		pt_fill_pattern(v, LEN, 300 + k);	/* never flushed */
		pt_fill_pattern(src, WR_BUF, 310 + k);

		ASSERT_EQ(0, pmrdma_buf_register(m, src, WR_BUF, &buf))
			TH_LOG("%s", pmrdma_errormsg(m));
		ASSERT_NE(NULL, buf);
		ASSERT_EQ(0, pmrdma_write(m, v + WR_DST, buf, WR_SRC_OFF, WR_LEN))
			TH_LOG("%s: %s", pmrdma_method_name(method[k]),
			       pmrdma_errormsg(m));
		ASSERT_EQ(0, pmrdma_drain(m)) TH_LOG("%s", pmrdma_errormsg(m));
		EXPECT_EQ(0, pt_check_pattern(v, LEN, 300 + k))
			TH_LOG("%s: the write touched the view",
			       pmrdma_method_name(method[k]));

		ASSERT_EQ(0, lib_map(&check, NULL, &self->x, 1));
		c = pmrdma_map_get_address(check);
		EXPECT_EQ(-1, lib_first_diff(c + WR_DST, src + WR_SRC_OFF, WR_LEN))
			TH_LOG("%s: the export differs from the buffer at %zd",
			       pmrdma_method_name(method[k]),
			       lib_first_diff(c + WR_DST, src + WR_SRC_OFF, WR_LEN));
		EXPECT_EQ(0, c[WR_DST - 1]);
		EXPECT_EQ(0, c[WR_DST + WR_LEN]);
		pmrdma_map_delete(&check);

		ASSERT_EQ(0, pmrdma_read(m, v + WR_DST, WR_LEN));
		EXPECT_EQ(0, memcmp(v + WR_DST, src + WR_SRC_OFF, WR_LEN));
		EXPECT_EQ(0, pmrdma_buf_deregister(&buf));
		EXPECT_EQ(NULL, buf);
		pmrdma_map_delete(&m);
	}
	/* the last, FLUSH: durable */
	fail_and_read(self, &lost);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, memcmp(self->back + WR_DST, src + WR_SRC_OFF, WR_LEN));
	EXPECT_EQ(0, self->back[WR_DST - 1]);
	EXPECT_EQ(0, self->back[WR_DST + WR_LEN]);
	free(src);
}

/*
 * A bad write is refused before anything is sent, with a message of one
 * line: a destination outside the view, a source outside the buffer (an
 * offset so large that offset + length wraps around included), no buffer,
 * or one of another map; so are registrations of nothing.  The map goes
 * on, and its export holds only what the good write after them wrote.
 */
TEST_F(remote, bad_writes_refused_and_nothing_sent)
{
	struct pmem_rdma_stats st0, st;
	struct pmrdma_buf *buf, *other, *none = (void *)1;
	struct pmrdma_map *m;
	unsigned char *src;

	if (!self->map)
		return;
	ASSERT_EQ(0, posix_memalign((void **)&src, 4096, 4096));
	pt_fill_pattern(src, 4096, 320);
	memset(self->v, 0, LEN);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, LEN));
	ASSERT_EQ(0, pmrdma_buf_register(self->map, src, 4096, &buf));
	ASSERT_EQ(0, lib_map(&m, NULL, &self->x, 1));
	ASSERT_EQ(0, pmrdma_buf_register(m, src, 4096, &other));
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st0));

	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v + LEN - 8, buf, 0, 16));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "outside the map"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v - 64, buf, 0, 64));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, 0, SIZE_MAX));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, 4000, 97));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map),
			       "[4000, +97) is outside the buffer's 4096 bytes"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(NULL, strchr(pmrdma_errormsg(self->map), '\n'));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, 4097, 0));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, SIZE_MAX - 10, 64));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, 1, 4096));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, NULL, 0, 64));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, other, 0, 64));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "another map"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	/* empty: nothing to write, anywhere */
	EXPECT_EQ(0, pmrdma_write(self->map, self->v + LEN + 64, buf, 4096, 0));

	EXPECT_EQ(-EINVAL, pmrdma_buf_register(self->map, NULL, 4096, &none));
	EXPECT_EQ(NULL, none);
	EXPECT_EQ(-EINVAL, pmrdma_buf_register(self->map, src, 0, &none));
	EXPECT_EQ(-EINVAL, pmrdma_buf_register(self->map, src, 4096, NULL));
	EXPECT_EQ(0, pmrdma_buf_deregister(NULL));
	EXPECT_EQ(0, pmrdma_buf_deregister(&none));

	EXPECT_EQ(0, pmrdma_drain(self->map)) TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
	EXPECT_EQ(st0.bytes_written, st.bytes_written);
	EXPECT_EQ(st0.flushes, st.flushes);

	/* the map goes on: the whole buffer at the view's last 4 KiB */
	EXPECT_EQ(0, pmrdma_write(self->map, self->v + LEN - 4096, buf, 0, 4096))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0, pmrdma_buf_deregister(&other));
	pmrdma_map_delete(&m);
	EXPECT_EQ(0, pmrdma_buf_deregister(&buf));
	fail_and_read(self, NULL);
	EXPECT_EQ(0, memcmp(self->back + LEN - 4096, src, 4096));
	memset(src, 0, 4096);
	EXPECT_EQ(-1, lib_first_diff(self->back, src, 4096))
		TH_LOG("a refused write reached the export");
	free(src);
}

/*
 * A buffer is registered once a remote copy, on the PD its lanes share
 * (the pinned memory grows by the buffer once, not four times), and a
 * thread on another lane writes from it as well; deregistering unpins it.
 */
struct lane_write {
	struct pmrdma_map *map;
	struct pmrdma_buf *buf;
	unsigned char *dst;
	int err;
};

static void *lane_write(void *arg)
{
	struct lane_write *w = arg;

	w->err = pmrdma_write(w->map, w->dst, w->buf, 4096, 4096);
	if (!w->err)
		w->err = pmrdma_drain(w->map);
	return NULL;
}

TEST_F(remote, a_buffer_is_registered_once_for_all_lanes)
{
	struct lane_write w = { .err = -1 };
	struct pmrdma_map *m;
	unsigned char *src, *v;
	long pin0, pinned;
	pthread_t th;

	if (!self->map)
		return;
	ASSERT_EQ(0, posix_memalign((void **)&src, 4096, 1 << 20));
	pt_fill_pattern(src, 1 << 20, 330);
	ASSERT_EQ(0, lib_map_lanes(&m, NULL, &self->x, 1, 4));
	v = pmrdma_map_get_address(m);
	pin0 = lib_pinned_kib();
	ASSERT_EQ(0, pmrdma_buf_register(m, src, 1 << 20, &w.buf));
	pinned = lib_pinned_kib() - pin0;
	EXPECT_LE(1024, pinned);
	EXPECT_GT(2048, pinned) TH_LOG("each lane registered the buffer");

	/* this thread on lane 0, the other on lane 1 */
	EXPECT_EQ(0, pmrdma_write(m, v, w.buf, 0, 4096)) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_EQ(0, pmrdma_drain(m));
	w.map = m;
	w.dst = v + 8192;
	ASSERT_EQ(0, pthread_create(&th, NULL, lane_write, &w));
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.err);
	EXPECT_EQ(0, pmrdma_buf_deregister(&w.buf));
	EXPECT_GT(512, lib_pinned_kib() - pin0) TH_LOG("the buffer stayed pinned");
	pmrdma_map_delete(&m);
	fail_and_read(self, NULL);
	EXPECT_EQ(0, memcmp(self->back, src, 4096));
	EXPECT_EQ(0, memcmp(self->back + 8192, src + 4096, 4096));
	free(src);
}

/*
 * Threads on one map: each writes its own region round after round, and
 * behind each round its own counter word with an atomic write; one drain
 * a round.  Afterwards the export, read back after a power failure, holds
 * every thread's last round and counter.
 */
#define LANE_THREADS	8
#define LANE_COUNTER(t)	(LEN - 4096 + 8 * (t))

struct lane_job {
	struct pmrdma_map *map;
	unsigned char *v;
	unsigned int t, rounds;
	size_t region;
	int err;
	char msg[256];
};

static void *lane_worker(void *arg)
{
	struct lane_job *j = arg;
	unsigned char *reg = j->v + j->t * j->region;
	struct pmrdma_range r;
	unsigned int round;
	int err = 0;

	for (round = 0; round < j->rounds && !err; round++) {
		pt_fill_pattern(reg, j->region, 1000 + j->t * 1000 + round);
		r = (struct pmrdma_range){ reg, j->region };
		err = pmrdma_flush_async(j->map, &r, 1);
		if (!err)
			err = pmrdma_atomic_write(j->map, LANE_COUNTER(j->t),
						  round + 1);
		r = (struct pmrdma_range){ j->v + LANE_COUNTER(j->t), 8 };
		if (!err)
			err = pmrdma_flush_async(j->map, &r, 1);
		if (!err)
			err = pmrdma_drain(j->map);
	}
	j->err = err;
	snprintf(j->msg, sizeof(j->msg), "%s", pmrdma_errormsg(j->map));
	return NULL;
}

/* n threads, each rounds rounds over its region of region bytes */
#define run_lanes(self, map, n, rounds, region)	\
	__run_lanes(_metadata, self, map, n, rounds, region)

static void __run_lanes(struct __test_metadata *_metadata,
			FIXTURE_DATA(remote) *self, struct pmrdma_map *map,
			unsigned int n, unsigned int rounds, size_t region)
{
	struct lane_job job[LANE_THREADS];
	pthread_t th[LANE_THREADS];
	unsigned char *v = pmrdma_map_get_address(map);
	unsigned int t;

	for (t = 0; t < n; t++) {
		job[t] = (struct lane_job){
			.map = map, .v = v, .t = t, .rounds = rounds,
			.region = region,
		};
		ASSERT_EQ(0, pthread_create(&th[t], NULL, lane_worker, &job[t]));
	}
	for (t = 0; t < n; t++) {
		pthread_join(th[t], NULL);
		EXPECT_EQ(0, job[t].err) TH_LOG("thread %u: %s", t, job[t].msg);
	}
	fail_and_read(self, NULL);
	for (t = 0; t < n; t++) {
		EXPECT_EQ(0, pt_check_pattern(self->back + t * region, region,
					      1000 + t * 1000 + rounds - 1))
			TH_LOG("thread %u's last round is not durable", t);
		EXPECT_EQ(rounds, pt_load64(self->back + LANE_COUNTER(t)));
	}
}

/*
 * Four lanes: a connection each, on one registration of the view (the
 * pinned memory grows by one view, not four), a thread on each.
 */
/*
 * QoS of the map's connections: each lane's QP gets the traffic class
 * (class 0x40 >> 5 = 2 of the device's weights) and the rate limit, as
 * the rdma tool shows them, and a flush of 1 MiB takes as long as the
 * rate says.  A rate the device cannot pace is refused by the map, a
 * traffic class out of range by the config.
 */
TEST_F(remote, a_rate_and_a_traffic_class_for_the_maps_connections)
{
	struct lib_map_opts o = {
		.lanes = 2, .tclass_set = true, .tclass = 0x40,
		.rate_kbps = 16000,
	};
	const size_t len = LEN < (1 << 20) ? LEN : (1 << 20);
	struct pmrdma_config *cfg;
	struct pmrdma_map *m;
	char out[16384];
	double t0, secs;
	unsigned char *v;

	if (!self->map)
		return;
	ASSERT_EQ(0, lib_map_remote(&m, &self->x.remote, &o))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, pt_sh_out(out, sizeof(out),
			       "rdma -dd resource show qp link %s/1",
			       getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT));
	EXPECT_EQ(2, pt_count_of(out, "rate_limit_kbps 16000 ")) TH_LOG("%s", out);
	/* and the target's ends, which rdma_cm gives the request's ToS */
	EXPECT_LE(2, pt_count_of(out, "qos_class 2 ")) TH_LOG("%s", out);
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, len, 95);
	t0 = pt_now_s();
	ASSERT_EQ(0, pmrdma_flush(m, v, len)) TH_LOG("%s", pmrdma_errormsg(m));
	secs = pt_now_s() - t0;
	/* len bytes at 2 MB/s, less the 10 ms burst: 0.5 s for 1 MiB */
	EXPECT_LT(len / 2e6 * 0.85, secs) TH_LOG("%zu bytes in %.3f s", len, secs);
	pmrdma_map_delete(&m);

	o.rate_kbps = 500;		/* under rxe's 1 Mbit/s */
	m = (void *)1;
	EXPECT_EQ(-ERANGE, lib_map_remote(&m, &self->x.remote, &o));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "paces an RC QP at"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_traffic_class(cfg, 256));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_traffic_class(cfg, -2));
	EXPECT_EQ(0, pmrdma_config_set_traffic_class(cfg, -1));
	pmrdma_config_delete(&cfg);
}

TEST_F(remote, threads_on_their_own_lanes)
{
	struct pmem_rdma_stats st;
	struct pmrdma_map *m;
	long pin0, pinned;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	EXPECT_EQ(-EINVAL, lib_map_lanes(&m, NULL, &self->x, 1, PMRDMA_LANES_MAX + 1));
	pin0 = lib_pinned_kib();
	ASSERT_EQ(0, lib_map_lanes(&m, NULL, &self->x, 1, 4))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	pinned = lib_pinned_kib() - pin0;
	EXPECT_LE((long)(LEN >> 10), pinned);
	EXPECT_GT((long)(2 * LEN >> 10), pinned) TH_LOG("each lane registered the view");
	ASSERT_EQ(0, export_stats(self->fd, self->x.id, &st));
	EXPECT_EQ(4, st.peers);
	run_lanes(self, m, 4, 40, 16 << 10);
	pmrdma_map_delete(&m);
}

/*
 * More threads than lanes: they share the one lane, a call at a time;
 * small calls, many, so that they meet on it.
 */
TEST_F(remote, threads_share_a_lane)
{
	if (!self->map)
		return;
	run_lanes(self, self->map, LANE_THREADS, 300, 64);
}

TEST_HARNESS_MAIN
