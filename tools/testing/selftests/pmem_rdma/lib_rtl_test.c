// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's Windows-compatible layer: the two Windows examples
 * (rtl_examples.c), unchanged, over a local map (the devdax device) and a
 * remote one (an emulated export, where a power failure then shows the
 * stores durable), and the statuses of bad calls.
 */
#include "lib_helpers.h"
#include "pmrdma_rtl.h"
#include "rtl_examples.h"

#define N	4096	/* bytes each example stores */

static void check_ints(struct __test_metadata *_metadata, const void *buf,
		       int mul, int add)
{
	const int *p = buf;
	int i;

	for (i = 0; i < N / (int)sizeof(int); i++)
		ASSERT_EQ(i * mul + add, p[i]) TH_LOG("int %d", i);
}

TEST(examples_over_a_local_map)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	char *v;

	if (!dax || !dax[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	ASSERT_EQ(0, pmrdma_config_set_path(cfg, dax));
	ASSERT_EQ(0, pmrdma_config_set_range(cfg, 4UL << 20, 2UL << 20));
	ASSERT_EQ(0, pmrdma_map_new(&map, cfg));
	pmrdma_config_delete(&cfg);
	v = pmrdma_map_get_address(map);

	EXPECT_EQ(STATUS_SUCCESS, ExplicitFlushExample(v, N));
	check_ints(_metadata, v, 3, 1);
	EXPECT_EQ(STATUS_SUCCESS, AsyncFlushExample(v + N, N));
	check_ints(_metadata, v + N, 5, 2);
	pmrdma_map_delete(&map);
	/* the map is gone: no token for its memory */
	EXPECT_EQ(STATUS_INVALID_PARAMETER, ExplicitFlushExample(v, N));
}

FIXTURE(rtl_remote)
{
	int fd;
	const char *pmem;
	struct lib_export x;
	struct pmrdma_map *map;
	char *v, *back;
};

FIXTURE_SETUP(rtl_remote)
{
	int ret = lib_remote_open(&self->fd, &self->pmem, &self->x, &self->map);

	if (ret == 1)
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", strerror(-ret), pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, posix_memalign((void **)&self->back, 4096, 4 * N));
}

FIXTURE_TEARDOWN(rtl_remote)
{
	pmrdma_map_delete(&self->map);
	if (self->x.id)
		unexport(self->fd, self->x.id);
	free(self->back);
	close(self->fd);
}

TEST_F(rtl_remote, examples_are_durable)
{
	struct pmem_rdma_power_fail pf;

	if (!self->map)
		return;
	EXPECT_EQ(STATUS_SUCCESS, ExplicitFlushExample(self->v, N));
	EXPECT_EQ(STATUS_SUCCESS, AsyncFlushExample(self->v + N, N));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id, 0, 0, 5, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF, self->back, 2 * N));
	check_ints(_metadata, self->back, 3, 1);
	check_ints(_metadata, self->back + N, 5, 2);
}

TEST_F(rtl_remote, write_fill_and_bad_calls)
{
	NV_MEMORY_RANGE r[2];
	struct pmem_rdma_power_fail pf;
	PVOID t, none;
	char src[100];

	if (!self->map)
		return;
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(self->v, 2 * N, &t));
	memset(src, 'w', sizeof(src));
	EXPECT_EQ(STATUS_SUCCESS, RtlWriteNonVolatileMemory(t, self->v, src,
							    sizeof(src),
							    WRITE_NV_MEMORY_FLAG_FLUSH));
	EXPECT_EQ(STATUS_SUCCESS, RtlFillNonVolatileMemory(t, self->v + 200, 50,
							   'f', 0));
	r[0].BaseAddress = self->v + 200;
	r[0].Length = 50;
	r[1].BaseAddress = self->v + 190;
	r[1].Length = 20;
	EXPECT_EQ(STATUS_SUCCESS, RtlFlushNonVolatileMemoryRanges(t, r, 2, 0));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id, 0, 0, 5, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF, self->back, N));
	EXPECT_EQ(0, memcmp(self->back, src, sizeof(src)));
	EXPECT_EQ('f', self->back[249]);

	/* outside the token, bad flags, no token, memory of no map */
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFlushNonVolatileMemory(t, self->v + 2 * N - 2, 4, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFlushNonVolatileMemory(t, self->v, 4, 0x10));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFlushNonVolatileMemoryRanges(t, NULL, 1, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFillNonVolatileMemory(t, self->v, 1, 0, 1));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlDrainNonVolatileFlush(NULL));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlGetNonVolatileToken(src, sizeof(src), &none));
	EXPECT_EQ(NULL, none);
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlGetNonVolatileToken(self->v, EXP_LEN + 1, &none));

	/* a remote failure comes back as a device error */
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	EXPECT_EQ(STATUS_IO_DEVICE_ERROR, RtlFlushNonVolatileMemory(t, self->v, 4, 0));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	EXPECT_EQ(STATUS_SUCCESS, RtlFreeNonVolatileToken(t));
}

TEST_HARNESS_MAIN
