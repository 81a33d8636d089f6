// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's local maps (tools/lib/pmrdma), on the VM's devdax device
 * (PMEM_RDMA_DAX) and on a file of a DAX filesystem (PMEM_RDMA_FSDAX):
 * config refusals, map errors with their messages, the
 * view and its caps, flush / flush ranges / async flush + drain over good,
 * empty, overlapping and outside ranges, the 8-byte atomic write, and the
 * persistent memcpy / memset.  Under QEMU a write-back is not observable,
 * so these check the contract, not durability; a file's flush-and-verify
 * must still fail when the file does not hold what the view does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pmrdma.h"
#include "rdma_helpers.h"

#define OFF	(2UL << 20)
#define LEN	(2UL << 20)

FIXTURE(local)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	char *v;
	bool fs;
};

/* devdax: the device itself; fsdax: a file on a DAX filesystem */
FIXTURE_VARIANT(local)
{
	bool fsdax;
};

FIXTURE_VARIANT_ADD(local, devdax)
{
	.fsdax = false,
};

FIXTURE_VARIANT_ADD(local, fsdax_file)
{
	.fsdax = true,
};

FIXTURE_SETUP(local)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	const char *path = dax;
	int ret;

	ASSERT_EQ(0, pmrdma_config_new(&self->cfg));
	if (variant->fsdax) {
		self->fs = true;	/* down again, whatever came up */
		ret = pt_fsdax_up(4UL << 20);
		if (ret == 1)
			SKIP(return, "no DAX filesystem namespace (PMEM_RDMA_FSDAX)");
		ASSERT_EQ(0, ret);
		path = PT_FSDAX_FILE;
	} else if (!dax || !dax[0]) {
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	}
	ASSERT_EQ(0, pmrdma_config_set_path(self->cfg, path));
	ASSERT_EQ(0, pmrdma_config_set_range(self->cfg, OFF, LEN));
	ret = pmrdma_map_new(&self->map, self->cfg);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", strerror(-ret), pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
}

FIXTURE_TEARDOWN(local)
{
	pmrdma_map_delete(&self->map);
	pmrdma_config_delete(&self->cfg);
	if (self->fs)
		pt_fsdax_down();
}

TEST_F(local, view_and_caps)
{
	struct pmrdma_caps caps;

	if (!self->map)
		return;
	ASSERT_NE(NULL, self->v);
	EXPECT_EQ(LEN, pmrdma_map_get_size(self->map));
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_NE(PMRDMA_GRANULARITY_PAGE, caps.granularity);
	EXPECT_EQ(0x3, caps.placement_types);
	EXPECT_EQ(0, caps.replicas);
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, 0));
	/* the view is the device's [OFF, OFF + LEN): writable, whole */
	self->v[0] = 1;
	self->v[LEN - 1] = 2;
	EXPECT_STREQ("", pmrdma_errormsg(self->map));
}

TEST(config_refusals)
{
	struct pmrdma_remote r = { .addr = "fe80::1", .port = 7000 };
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	uint8_t key[8] = { 0 };
	int i;

	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&map, cfg));	/* nothing named */
	EXPECT_EQ(NULL, map);
	EXPECT_EQ(-EINVAL, pmrdma_config_set_path(cfg, ""));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_range(cfg, 0, 0));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_range(cfg, ~0ULL, 2));
	/* a view off a page: its aligned words would not be aligned words */
	EXPECT_EQ(-EINVAL, pmrdma_config_set_range(cfg, 4, 4096));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "not a multiple of the page size"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_range(cfg, 4096 + 8, 4096));
	EXPECT_EQ(0, pmrdma_config_set_range(cfg, 8192, 12));
	r.port = 0;
	EXPECT_EQ(-EINVAL, pmrdma_config_set_remote(cfg, &r));
	r.port = 7000;
	r.key = key;
	r.key_len = sizeof(key);
	EXPECT_EQ(-EINVAL, pmrdma_config_set_remote(cfg, &r));
	r.key = NULL;
	r.key_len = 0;
	for (i = 0; i < PMRDMA_REPLICAS_MAX; i++)
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &r));
	EXPECT_EQ(-E2BIG, pmrdma_config_add_replica(cfg, &r));
	/* replicas without a local path to replicate */
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&map, cfg));
	ASSERT_EQ(0, pmrdma_config_set_path(cfg, "/dev/null"));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_path(cfg, "/dev/zero"));
	pmrdma_config_delete(&cfg);
	EXPECT_EQ(NULL, cfg);

	/* a zeroed view of a local path: refused, never silently read */
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	ASSERT_EQ(0, pmrdma_config_set_path(cfg, "/dev/null"));
	ASSERT_EQ(0, pmrdma_config_set_view_fill(cfg, PMRDMA_VIEW_ZEROED));
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&map, cfg));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "only a remote map's view can start zeroed"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(NULL, map);
	pmrdma_map_delete(&map);
	pmrdma_config_delete(&cfg);
}

/* map errors: the errno, and a message that names what */
static int map_error(const char *path, uint64_t off, uint64_t len)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	int ret;

	if (pmrdma_config_new(&cfg) || pmrdma_config_set_path(cfg, path))
		return -ENOMEM;
	if (len)
		pmrdma_config_set_range(cfg, off, len);
	ret = pmrdma_map_new(&map, cfg);
	pmrdma_map_delete(&map);
	pmrdma_config_delete(&cfg);
	return ret;
}

TEST(map_errors)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	char file[] = "/tmp/pt_lib_XXXXXX";
	int fd;

	EXPECT_EQ(-ENOENT, map_error("/dev/nosuch-dax", 0, 0));
	/* a character device, but no devdax one */
	EXPECT_EQ(-ENODEV, map_error("/dev/null", 0, 0));
	/* a file, but not on a DAX filesystem: no MAP_SYNC */
	fd = mkstemp(file);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	EXPECT_EQ(-EOPNOTSUPP, map_error(file, 0, 0));
	unlink(file);
	if (dax && dax[0])
		EXPECT_EQ(-EINVAL, map_error(dax, 1ULL << 40, 4096));
}

TEST_F(local, flush_ranges)
{
	struct pmrdma_range r[3];

	if (!self->map)
		return;
	memset(self->v, 0x5a, 8192);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v + 3, 100));
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 0));
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v + LEN - 1, 1));
	/* overlapping and empty ranges are fine */
	r[0] = (struct pmrdma_range){ self->v, 4096 };
	r[1] = (struct pmrdma_range){ self->v + 100, 8000 };
	r[2] = (struct pmrdma_range){ NULL, 0 };
	EXPECT_EQ(0, pmrdma_flush_ranges(self->map, r, 3));
	EXPECT_EQ(0, pmrdma_flush_async(self->map, r, 2));
	EXPECT_EQ(0, pmrdma_drain(self->map));

	/* outside the view: refused, with a message, nothing done */
	EXPECT_EQ(-EINVAL, pmrdma_flush(self->map, self->v + LEN - 1, 2));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "outside the map"));
	EXPECT_EQ(-EINVAL, pmrdma_flush(self->map, self->v - 64, 64));
	r[2] = (struct pmrdma_range){ self->v + LEN, 1 };
	EXPECT_EQ(-EINVAL, pmrdma_flush_ranges(self->map, r, 3));
	EXPECT_EQ(-EINVAL, pmrdma_flush_async(self->map, NULL, 1));
	EXPECT_EQ(-EINVAL, pmrdma_flush(self->map, self->v, (size_t)-1));
}

TEST_F(local, atomic_write)
{
	uint64_t got;

	if (!self->map)
		return;
	EXPECT_EQ(0, pmrdma_atomic_write(self->map, 64, 0x0102030405060708ULL));
	memcpy(&got, self->v + 64, 8);
	EXPECT_EQ(0x0102030405060708ULL, got);
	EXPECT_EQ(0, pmrdma_atomic_write(self->map, LEN - 8, 7));
	EXPECT_EQ(-EINVAL, pmrdma_atomic_write(self->map, 4, 1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "8-byte aligned"));
	EXPECT_EQ(-EINVAL, pmrdma_atomic_write(self->map, LEN, 1));
	EXPECT_EQ(-EINVAL, pmrdma_atomic_write(self->map, (size_t)-8, 1));
}

TEST_F(local, memcpy_memset)
{
	char src[1000], *big;

	if (!self->map)
		return;
	memset(src, 0x33, sizeof(src));
	EXPECT_EQ(self->v + 5, pmrdma_memcpy(self->map, self->v + 5, src,
					     sizeof(src), 0));
	EXPECT_EQ(0, memcmp(self->v + 5, src, sizeof(src)));
	EXPECT_EQ(self->v + 5, pmrdma_memset(self->map, self->v + 5, 0x44, 10,
					     PMRDMA_F_NODRAIN));
	EXPECT_EQ(0x44, self->v + 5 == NULL ? 0 : self->v[14]);
	EXPECT_EQ(0x33, self->v[15]);
	EXPECT_EQ(0, pmrdma_drain(self->map));
	/* non-temporal: asked for, and a copy large enough for it anyway */
	EXPECT_EQ(self->v + 3, pmrdma_memcpy(self->map, self->v + 3, src, 999,
					     PMRDMA_F_NONTEMPORAL));
	EXPECT_EQ(0, memcmp(self->v + 3, src, 999));
	big = malloc(LEN / 2);
	ASSERT_NE(NULL, big);
	pt_fill_pattern(big, LEN / 2, 77);
	EXPECT_EQ(self->v + 1, pmrdma_memcpy(self->map, self->v + 1, big,
					     LEN / 2 - 1, 0));
	EXPECT_EQ(0, memcmp(self->v + 1, big, LEN / 2 - 1));
	free(big);
	EXPECT_EQ(NULL, pmrdma_memcpy(self->map, self->v + LEN - 10, src, 11, 0));
	EXPECT_EQ(NULL, pmrdma_memset(self->map, self->v, 0, 1, 1U << 9));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "unknown flags"));
}

/*
 * A local map's buffer has no registration: a write copies it into the
 * view, which is the memory (a file reads it back through the
 * filesystem), with the remote maps' refusals.
 */
TEST_F(local, write_from_a_registered_buffer)
{
	struct pmrdma_range r = { self->v + 5, 3000 };
	struct pmrdma_buf *buf;
	char *src;

	if (!self->map)
		return;
	src = malloc(4096);
	ASSERT_NE(NULL, src);
	pt_fill_pattern(src, 4096, 501);
	memset(self->v, 0, 8192);
	ASSERT_EQ(0, pmrdma_buf_register(self->map, src, 4096, &buf));
	EXPECT_EQ(0, pmrdma_write(self->map, self->v + 5, buf, 7, 3000));
	EXPECT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0, memcmp(self->v + 5, src + 7, 3000));
	EXPECT_EQ(0, self->v[4]);
	EXPECT_EQ(0, self->v[3005]);
	EXPECT_EQ(0, pmrdma_flush_verify(self->map, &r, 1, PMRDMA_VERIFY_ALG_CRC32C))
		TH_LOG("%s", pmrdma_errormsg(self->map));

	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v + LEN - 1, buf, 0, 2));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, 4000, 97));
	EXPECT_EQ(-EINVAL, pmrdma_write(self->map, self->v, buf, (size_t)-10, 64));
	EXPECT_EQ(0, self->v[0]);
	EXPECT_EQ(0, pmrdma_buf_deregister(&buf));
	EXPECT_EQ(NULL, buf);
	free(src);
}

/* a thread that changes a range of the view all along, until told to stop */
struct scribbler {
	uint64_t *p;
	size_t words;
	int stop;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint64_t v = 0;
	size_t i;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
		for (i = 0; i < s->words; i++)
			__atomic_store_n(&s->p[i], ++v, __ATOMIC_RELAXED);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * flush, then read back: a file through the filesystem, devdax as mapped.
 * A file's check must fail when the view is not what the file holds: the
 * view changed after the flush, or the file was cut short under the map.
 */
TEST_F(local, flush_verify)
{
	struct scribbler sc = {};
	struct pmrdma_range r[2];
	double end = now_s() + 10;
	int fd, tries = 0, ret = 0;
	pthread_t th;
	uint32_t alg;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, 65536, 301);
	r[0] = (struct pmrdma_range){ self->v + 100, 30000 };
	r[1] = (struct pmrdma_range){ self->v + LEN - 4096, 4096 };
	for (alg = PMRDMA_VERIFY_ALG_CRC32C; alg <= PMRDMA_VERIFY_ALG_XXH64; alg++)
		EXPECT_EQ(0, pmrdma_flush_verify(self->map, r, 2, alg))
			TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(self->map, r, 2, 0));
	EXPECT_EQ(-EINVAL, pmrdma_flush_verify(self->map, r, SIZE_MAX / 2, 1));
	if (!self->fs)
		return;		/* a devdax device has no other path to compare */

	/* the view changes between the read-back and the comparison */
	sc.p = (uint64_t *)(self->v + 8192);
	sc.words = 512 / 8;
	r[0] = (struct pmrdma_range){ self->v + 8192, sc.words * 8 };
	ASSERT_EQ(0, pthread_create(&th, NULL, scribble, &sc));
	while (ret != -EBADMSG && (!tries || now_s() < end)) {
		ret = pmrdma_flush_verify(self->map, r, 1, PMRDMA_VERIFY_ALG_CRC32C);
		tries++;
	}
	__atomic_store_n(&sc.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	TH_LOG("%d checks of a changing view: %s", tries,
	       pmrdma_errormsg(self->map));
	EXPECT_EQ(-EBADMSG, ret);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "differs"));

	/*
	 * The file ends 100 bytes into a 200-byte range: the read-back comes
	 * back short.  Last, as the view beyond that page is gone.
	 */
	fd = open(PT_FSDAX_FILE, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, OFF + 20480 + 100));
	close(fd);
	r[0] = (struct pmrdma_range){ self->v + 20480, 200 };
	EXPECT_EQ(-EIO, pmrdma_flush_verify(self->map, r, 1,
					    PMRDMA_VERIFY_ALG_CRC32C));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "short read"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
}

TEST_HARNESS_MAIN
