// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's Windows-compatible layer: the two Windows examples
 * (rtl_examples.c), unchanged, over a local map (the devdax device) and a
 * remote one (an emulated export, where a power failure then shows the
 * stores durable), the statuses of bad calls, stale tokens (freed, or of
 * a deleted map), one token shared by threads, and the fill flags.
 */
#include <pthread.h>

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
	struct pmrdma_map *map;
	char *v;

	if (!dax || !dax[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	ASSERT_EQ(0, lib_map_range(&map, dax, 4UL << 20, 2UL << 20, false));
	v = pmrdma_map_get_address(map);

	EXPECT_EQ(STATUS_SUCCESS, ExplicitFlushExample(v, N));
	check_ints(_metadata, v, 3, 1);
	EXPECT_EQ(STATUS_SUCCESS, AsyncFlushExample(v + N, N));
	check_ints(_metadata, v + N, 5, 2);
	pmrdma_map_delete(&map);
	/* the map is gone: no token for its memory */
	EXPECT_EQ(STATUS_INVALID_PARAMETER, ExplicitFlushExample(v, N));
}

/* a local map of the devdax device's [4 MiB, +2 MiB), or NULL */
static struct pmrdma_map *dax_map(void)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_map *map = NULL;

	if (dax && dax[0])
		lib_map_range(&map, dax, 4UL << 20, 2UL << 20, false);
	return map;
}

/*
 * A token freed, or of a map deleted since, is refused by every call, a
 * second free included; so is a value that was never a token.  None of
 * them reaches the memory of the token or of the map.
 */
TEST(stale_tokens_are_refused)
{
	struct pmrdma_map *map = dax_map();
	char src[8] = "abcdefg";
	PVOID t, t2;
	char *v;

	if (!map)
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	v = pmrdma_map_get_address(map);
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(v, N, &t));
	EXPECT_EQ(STATUS_SUCCESS, RtlFlushNonVolatileMemory(t, v, 8, 0));
	EXPECT_EQ(STATUS_SUCCESS, RtlFreeNonVolatileToken(t));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFreeNonVolatileToken(t));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFlushNonVolatileMemory(t, v, 8, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlDrainNonVolatileFlush(t));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlWriteNonVolatileMemory(t, v, src, 8, WRITE_NV_MEMORY_FLAG_FLUSH));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFillNonVolatileMemory(t, v, 8, 1, 0));
	/* the freed token's successor is another token */
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(v, N, &t2));
	EXPECT_NE(t, t2);
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFlushNonVolatileMemory(t, v, 8, 0));
	EXPECT_EQ(STATUS_SUCCESS, RtlFlushNonVolatileMemory(t2, v, 8, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFlushNonVolatileMemory((PVOID)src, v, 8, 0));

	/* the map deleted: its tokens went with it */
	pmrdma_map_delete(&map);
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFlushNonVolatileMemory(t2, v, 8, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlDrainNonVolatileFlush(t2));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFillNonVolatileMemory(t2, v, 8, 1, 0));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFreeNonVolatileToken(t2));
}

/* flushes through a token until one is refused */
struct flusher {
	PVOID t;
	char *v;
	int ok;			/* succeeded, read by the other thread */
	NTSTATUS last;
};

static void *flush_until_refused(void *arg)
{
	struct flusher *f = arg;
	int i;

	for (i = 0; i < 1000000; i++) {
		f->last = RtlFlushNonVolatileMemory(f->t, f->v + (i % 64) * 64, 64, 0);
		if (f->last != STATUS_SUCCESS)
			break;
		__atomic_store_n(&f->ok, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* the map deleted while a thread flushes through its token: refused, not freed */
TEST(map_deleted_under_a_thread)
{
	struct pmrdma_map *map = dax_map();
	struct flusher f = { 0 };
	pthread_t th;
	int i;

	if (!map)
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	f.v = pmrdma_map_get_address(map);
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(f.v, N, &f.t));
	ASSERT_EQ(0, pthread_create(&th, NULL, flush_until_refused, &f));
	for (i = 0; i < 10000 && __atomic_load_n(&f.ok, __ATOMIC_ACQUIRE) < 100; i++)
		usleep(1000);
	pmrdma_map_delete(&map);
	pthread_join(th, NULL);
	EXPECT_LE(100, f.ok);
	EXPECT_EQ(STATUS_INVALID_PARAMETER, f.last);
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
		  RtlFillNonVolatileMemory(t, self->v, 1, 0, 0x10));
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

/* one token, two threads: each writes its records durably through it */
struct sharer {
	PVOID t;
	char *area;
	int id;
	NTSTATUS st;
};

#define RECS	128	/* of 16 bytes, per thread */

static void rec_fill(char *rec, int id, int i)
{
	memset(rec, 'A' + id, 16);
	memcpy(rec, &i, sizeof(i));
}

static void *share_token(void *arg)
{
	struct sharer *s = arg;
	char rec[16];
	int i;

	for (i = 0; i < RECS && s->st == STATUS_SUCCESS; i++) {
		rec_fill(rec, s->id, i);
		if (i % 2) {
			s->st = RtlWriteNonVolatileMemory(s->t, s->area + i * 16, rec,
							  16, WRITE_NV_MEMORY_FLAG_FLUSH);
			continue;
		}
		memcpy(s->area + i * 16, rec, 16);
		s->st = RtlFlushNonVolatileMemory(s->t, s->area + i * 16, 16,
						  FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN);
		if (s->st == STATUS_SUCCESS)
			s->st = RtlDrainNonVolatileFlush(s->t);
	}
	return NULL;
}

TEST_F(rtl_remote, one_token_shared_by_two_threads)
{
	struct sharer s[2];
	struct pmem_rdma_power_fail pf;
	pthread_t th[2];
	char rec[16];
	int i, k;

	if (!self->map)
		return;
	memset(self->v, 0, 2 * RECS * 16);
	for (k = 0; k < 2; k++) {
		s[k] = (struct sharer){ .area = self->v + k * RECS * 16, .id = k };
		if (!k)
			ASSERT_EQ(STATUS_SUCCESS,
				  RtlGetNonVolatileToken(self->v, 2 * RECS * 16, &s[0].t));
		s[k].t = s[0].t;
	}
	for (k = 0; k < 2; k++)
		ASSERT_EQ(0, pthread_create(&th[k], NULL, share_token, &s[k]));
	for (k = 0; k < 2; k++) {
		pthread_join(th[k], NULL);
		EXPECT_EQ(STATUS_SUCCESS, s[k].st) TH_LOG("thread %d: %s", k,
							  pmrdma_errormsg(self->map));
	}
	EXPECT_EQ(STATUS_SUCCESS, RtlFreeNonVolatileToken(s[0].t));
	ASSERT_EQ(0, lib_power(self->fd, self->x.id, 0, 0, 7, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF, self->back, 2 * RECS * 16));
	for (k = 0; k < 2; k++)
		for (i = 0; i < RECS; i++) {
			rec_fill(rec, k, i);
			ASSERT_EQ(0, memcmp(self->back + (k * RECS + i) * 16, rec, 16))
				TH_LOG("thread %d, record %d not durable", k, i);
		}
}

/*
 * Each of Windows' fill flags, with its meaning: 0 only stores; FLUSH,
 * NON_TEMPORAL and PERSIST are durable on return; FLUSH | NO_DRAIN once
 * drained.  NO_DRAIN goes with FLUSH alone.
 */
TEST_F(rtl_remote, fill_flags)
{
	static const struct {
		ULONG flags;
		bool durable;
	} f[] = {
		{ 0, false },
		{ FILL_NV_MEMORY_FLAG_FLUSH, true },
		{ FILL_NV_MEMORY_FLAG_NON_TEMPORAL, true },
		{ FILL_NV_MEMORY_FLAG_PERSIST, true },
		{ FILL_NV_MEMORY_FLAG_FLUSH | FILL_NV_MEMORY_FLAG_NO_DRAIN, true },
	};
	struct pmem_rdma_power_fail pf;
	char *p = self->v + 2 * N, *b;
	unsigned int i, j;
	PVOID t;

	if (!self->map)
		return;
	ASSERT_EQ(STATUS_SUCCESS, RtlGetNonVolatileToken(p, N, &t));
	EXPECT_EQ(STATUS_SUCCESS, RtlFillNonVolatileMemory(t, p, N, 0,
							   FILL_NV_MEMORY_FLAG_PERSIST));
	for (i = 0; i < ARRAY_SIZE(f); i++)
		EXPECT_EQ(STATUS_SUCCESS,
			  RtlFillNonVolatileMemory(t, p + i * 256, 256, 'a' + i,
						   f[i].flags))
			TH_LOG("flags %#x", f[i].flags);
	EXPECT_EQ(STATUS_SUCCESS, RtlDrainNonVolatileFlush(t));
	/* NO_DRAIN without FLUSH, or with NON_TEMPORAL; a bit Windows lacks */
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFillNonVolatileMemory(t, p, 1, 0, FILL_NV_MEMORY_FLAG_NO_DRAIN));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFillNonVolatileMemory(t, p, 1, 0, FILL_NV_MEMORY_FLAG_PERSIST |
					   FILL_NV_MEMORY_FLAG_NO_DRAIN));
	EXPECT_EQ(STATUS_INVALID_PARAMETER,
		  RtlFillNonVolatileMemory(t, p, 1, 0, FILL_NV_MEMORY_FLAG_NON_TEMPORAL |
					   FILL_NV_MEMORY_FLAG_NO_DRAIN));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, RtlFillNonVolatileMemory(t, p, 1, 0, 0x4));
	EXPECT_EQ('a', p[0]);	/* nothing of the refused calls stored */
	EXPECT_EQ(STATUS_SUCCESS, RtlFreeNonVolatileToken(t));

	ASSERT_EQ(0, lib_power(self->fd, self->x.id, 0, 0, 9, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF + 2 * N, self->back, N));
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		b = self->back + i * 256;
		for (j = 0; j < 256 && b[j] == (char)(f[i].durable ? 'a' + i : 0); j++)
			;
		EXPECT_EQ(256, j) TH_LOG("flags %#x: byte %u is %#x", f[i].flags,
					 j, j < 256 ? (unsigned char)b[j] : 0);
	}
}

TEST_HARNESS_MAIN
