// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's replicated maps: the devdax device (PMEM_RDMA_DAX) as the
 * local map and two emulated exports of the fsdax namespace as its
 * replicas (lib_helpers.h).  One flush makes a range durable on both; a
 * replica that fails drops out of sync, is reported once, and the map goes
 * on with the other.
 */
#include <endian.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/pmem_rdma_md.h>

#include "lib_dv_helpers.h"
#include "lib_helpers.h"
#include "pmlog.h"

#define NREP	2
#define LOCAL_OFF	(2UL << 20)

FIXTURE(replicated)
{
	int fd;
	const char *pmem;
	struct lib_export x[NREP];
	struct pmrdma_map *map;
	unsigned char *v, *back;
};

/* how a replicated map resyncs, and rejoins on its own (0: it does not) */
struct rejoin_opts {
	uint64_t rate;
	unsigned int auto_min_ms, auto_max_ms;
	unsigned int min_in_sync;	/* 1 + the minimum; 0: the default */
	bool metadata;
	uint32_t discard;		/* replicas that get a full copy */
	uint32_t only;			/* the replicas it has; 0: all */
	uint64_t local_off;		/* 0: LOCAL_OFF */
	int resync_tclass;		/* 1 + the resync's class; 0: none */
	size_t granularity;		/* the resync's regions; 0: 4 KiB */
};

/* the devdax range at LOCAL_OFF with the NREP replicas x */
static int replicated_map_opts(struct pmrdma_map **map,
			       const struct lib_export *x,
			       const struct rejoin_opts *o)
{
	struct pmrdma_config *cfg;
	int i, ret;

	ret = lib_range_config(&cfg, getenv("PMEM_RDMA_DAX"),
			       o->local_off ?: LOCAL_OFF, EXP_LEN);
	if (!ret)
		ret = pmrdma_config_set_resync_rate(cfg, o->rate);
	if (!ret && o->granularity)
		ret = pmrdma_config_set_resync_granularity(cfg, o->granularity);
	if (!ret && o->resync_tclass)
		ret = pmrdma_config_set_resync_traffic_class(cfg,
							     o->resync_tclass - 1);
	if (!ret)
		ret = pmrdma_config_set_auto_rejoin(cfg, o->auto_min_ms,
						    o->auto_max_ms);
	for (i = 0; i < NREP && !ret; i++)
		if (!o->only || o->only & 1U << i)
			ret = pmrdma_config_add_replica(cfg, &x[i].remote);
	if (!ret && o->min_in_sync)
		ret = pmrdma_config_set_min_in_sync(cfg, o->min_in_sync - 1);
	if (!ret)
		ret = pmrdma_config_set_metadata(cfg, o->metadata);
	for (i = 0; i < PMRDMA_REPLICAS_MAX && !ret; i++)
		if (o->discard & 1U << i)
			ret = pmrdma_config_discard_replica(cfg, i);
	if (!ret)
		ret = pmrdma_map_new(map, cfg);
	pmrdma_config_delete(&cfg);
	return ret;
}

static int replicated_map(struct pmrdma_map **map, const struct lib_export *x)
{
	return replicated_map_opts(map, x, &(struct rejoin_opts){ 0 });
}

FIXTURE_SETUP(replicated)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	int i, ret;

	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->pmem = getenv("PMEM_RDMA_PMEM");
	if (!self->pmem || !self->pmem[0] || !dax || !dax[0])
		SKIP(return, "needs the devdax device and the fsdax namespace");
	for (i = 0; i < NREP; i++)
		ASSERT_EQ(0, lib_export(self->fd, self->pmem, TARGET_PORT + i,
					EXP_OFF + i * EXP_LEN, &self->x[i]));
	ret = replicated_map(&self->map, self->x);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, posix_memalign((void **)&self->back, 4096, EXP_LEN));
}

FIXTURE_TEARDOWN(replicated)
{
	int i;

	pmrdma_map_delete(&self->map);
	pt_fsdax_down();
	for (i = 0; i < NREP; i++)
		if (self->x[i].id)
			unexport(self->fd, self->x[i].id);
	free(self->back);
	close(self->fd);
}

/* replica i's media after a power failure, into back */
#define replica_media(self, i)	\
	__replica_media(_metadata, (self)->fd, &(self)->x[i], (self)->pmem, \
			(self)->back)

static void __replica_media(struct __test_metadata *_metadata, int fd,
			    const struct lib_export *x, const char *pmem,
			    void *back)
{
	struct pmem_rdma_power_fail pf;

	ASSERT_EQ(0, lib_power(fd, x->id, 0, 0, 3, &pf));
	ASSERT_EQ(0, read_pmem(pmem, x->off, back, EXP_LEN));
}

/*
 * Replica i drops out of a flush of the whole view filled with seed (of
 * its first len bytes: take_out_part()), its export powered off; then
 * the export is back, the replica still out.
 */
#define take_out(self, i, seed)	\
	take_out_part(self, i, seed, pmrdma_map_get_size((self)->map))
#define take_out_part(self, i, seed, len)	\
	__take_out(_metadata, (self)->fd, &(self)->x[i], (self)->map, \
		   (self)->v, seed, len)

static void __take_out(struct __test_metadata *_metadata, int fd,
		       const struct lib_export *x, struct pmrdma_map *map,
		       unsigned char *v, unsigned int seed, size_t len)
{
	struct pmem_rdma_power_fail pf;

	ASSERT_EQ(0, lib_power(fd, x->id, PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0,
			       &pf));
	pt_fill_pattern(v, len, seed);
	EXPECT_EQ(-ENOLINK, pmrdma_flush(map, v, len))
		TH_LOG("%s", pmrdma_errormsg(map));
	ASSERT_EQ(0, lib_power(fd, x->id, PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0,
			       &pf));
}

TEST_F(replicated, replicas_start_with_the_local_content)
{
	struct pmrdma_caps caps;
	struct pmrdma_map *again = NULL;
	int i;

	if (!self->map)
		return;
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_EQ(NREP, caps.replicas);
	EXPECT_EQ(PMRDMA_METHOD_FLUSH, caps.method);
	EXPECT_NE(PMRDMA_GRANULARITY_PAGE, caps.granularity);
	for (i = 0; i < NREP; i++)
		EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, i));
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, NREP));

	/* made again over local content that no replica has */
	pt_fill_pattern(self->v, EXP_LEN, 101);
	pmrdma_flush(self->map, self->v, EXP_LEN);
	pmrdma_map_delete(&self->map);
	for (i = 0; i < NREP; i++) {
		ASSERT_EQ(0, lib_map(&again, NULL, &self->x[i], 1));
		memset(pmrdma_map_get_address(again), 0, EXP_LEN);
		ASSERT_EQ(0, pmrdma_flush(again, pmrdma_map_get_address(again),
					  EXP_LEN));
		pmrdma_map_delete(&again);
		replica_media(self, i);
		ASSERT_NE(0, pt_check_pattern(self->back, EXP_LEN, 101))
			TH_LOG("replica %d still holds the local content", i);
	}

	ASSERT_EQ(0, replicated_map(&self->map, self->x));
	for (i = 0; i < NREP; i++) {
		replica_media(self, i);
		EXPECT_EQ(0, pt_check_pattern(self->back, EXP_LEN, 101))
			TH_LOG("replica %d", i);
	}
}

TEST_F(replicated, one_flush_makes_every_copy_durable)
{
	struct pmrdma_range r[2];
	int i;

	if (!self->map)
		return;
	pt_fill_pattern(self->v, EXP_LEN, 111);
	r[0] = (struct pmrdma_range){ self->v + 4096, 8192 };
	r[1] = (struct pmrdma_range){ self->v + 65536, 100 };
	ASSERT_EQ(0, pmrdma_flush_async(self->map, r, 2));
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, 0, 0xabcdef));
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 8));
	ASSERT_EQ(0, pmrdma_drain(self->map));
	for (i = 0; i < NREP; i++) {
		uint64_t p;

		replica_media(self, i);
		EXPECT_EQ(0, memcmp(self->back + 4096, self->v + 4096, 8192));
		EXPECT_EQ(0, memcmp(self->back + 65536, self->v + 65536, 100));
		memcpy(&p, self->back, 8);
		EXPECT_EQ(0xabcdef, p);
	}
	EXPECT_EQ(0, pmrdma_flush_verify(self->map, r, 2, PMRDMA_VERIFY_ALG_CRC32C))
		TH_LOG("%s", pmrdma_errormsg(self->map));
}

/*
 * A write from a registered buffer lands in the local memory (the view)
 * and in every replica, at dst and nowhere else: what was flushed before
 * stays around it on every copy.
 */
TEST_F(replicated, a_write_lands_locally_and_on_every_replica)
{
	const size_t dst = 4096 + 5, src_off = 7, n = 20000;
	struct pmrdma_buf *buf;
	unsigned char *src, *want;
	int i;

	if (!self->map)
		return;
	src = malloc(65536);
	want = malloc(EXP_LEN);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, want);
	pt_fill_pattern(src, 65536, 131);
	pt_fill_pattern(self->v, EXP_LEN, 132);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, EXP_LEN));
	memcpy(want, self->v, EXP_LEN);
	memcpy(want + dst, src + src_off, n);

	ASSERT_EQ(0, pmrdma_buf_register(self->map, src, 65536, &buf))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, pmrdma_write(self->map, self->v + dst, buf, src_off, n))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, pmrdma_drain(self->map)) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-1, lib_first_diff(self->v, want, EXP_LEN))
		TH_LOG("the local copy differs at %zd",
		       lib_first_diff(self->v, want, EXP_LEN));
	EXPECT_EQ(0, pmrdma_buf_deregister(&buf));
	for (i = 0; i < NREP; i++) {
		replica_media(self, i);
		EXPECT_EQ(-1, lib_first_diff(self->back, want, EXP_LEN))
			TH_LOG("replica %d differs at %zd", i,
			       lib_first_diff(self->back, want, EXP_LEN));
	}
	free(want);
	free(src);
}

/* a replica that dies is reported once; the others stay durable */
TEST_F(replicated, a_replica_that_dies_drops_out)
{
	struct pmem_rdma_power_fail pf;
	char port[16];
	int ret;

	if (!self->map)
		return;
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	pt_fill_pattern(self->v, EXP_LEN, 121);
	ret = pmrdma_flush(self->map, self->v, EXP_LEN);
	EXPECT_EQ(-ENOLINK, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	snprintf(port, sizeof(port), "]:%u", TARGET_PORT + 1);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), port))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 0));
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, 1));
	replica_media(self, 0);
	EXPECT_EQ(0, pt_check_pattern(self->back, EXP_LEN, 121));

	/* the map goes on with the other replica */
	pt_fill_pattern(self->v, 4096, 122);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 4096));
	EXPECT_EQ(0, pmrdma_drain(self->map));
	replica_media(self, 0);
	EXPECT_EQ(0, pt_check_pattern(self->back, 4096, 122));
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

/*
 * A replica that fails on one lane is out for every lane: another thread,
 * on its own lane, sees it out of sync and flushes without it, and is not
 * told of a failure that another thread's call reported.
 */
struct other_lane {
	struct pmrdma_map *map;
	unsigned char *v;
	int err;
	bool in_sync;
	char msg[256];
};

static void *other_lane_flush(void *arg)
{
	struct other_lane *o = arg;

	o->in_sync = pmrdma_map_replica_in_sync(o->map, 1);
	pt_fill_pattern(o->v + 8192, 4096, 127);
	o->err = pmrdma_flush(o->map, o->v + 8192, 4096);
	snprintf(o->msg, sizeof(o->msg), "%s", pmrdma_errormsg(o->map));
	return NULL;
}

TEST_F(replicated, a_replica_lost_on_one_lane_is_lost_on_all)
{
	struct pmem_rdma_power_fail pf;
	struct other_lane o = { .err = -1 };
	struct pmrdma_config *cfg;
	struct pmrdma_map *m;
	pthread_t th;
	int i, ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ASSERT_EQ(0, lib_range_config(&cfg, getenv("PMEM_RDMA_DAX"), LOCAL_OFF,
				      EXP_LEN));
	ASSERT_EQ(0, pmrdma_config_set_lanes(cfg, 2));
	for (i = 0; i < NREP; i++)
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[i].remote));
	ret = pmrdma_map_new(&m, cfg);
	pmrdma_config_delete(&cfg);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	o.map = m;
	o.v = pmrdma_map_get_address(m);

	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	pt_fill_pattern(o.v, 4096, 126);
	EXPECT_EQ(-ENOLINK, pmrdma_flush(m, o.v, 4096));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(m), "remote operation error"))
		TH_LOG("%s", pmrdma_errormsg(m));
	/* a new thread takes the other lane */
	ASSERT_EQ(0, pthread_create(&th, NULL, other_lane_flush, &o));
	pthread_join(th, NULL);
	EXPECT_FALSE(o.in_sync);
	EXPECT_EQ(0, o.err) TH_LOG("%s", o.msg);
	EXPECT_STREQ("", o.msg);
	replica_media(self, 0);
	EXPECT_EQ(0, pt_check_pattern(self->back, 4096, 126));
	EXPECT_EQ(0, pt_check_pattern(self->back + 8192, 4096, 127));
	pmrdma_map_delete(&m);
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

/* flush-and-verify finds the replica whose copy is not the view's */
TEST_F(replicated, a_corrupted_replica_drops_out)
{
	struct pmrdma_range r;

	if (!self->map)
		return;
	if (!pt_has_fault())
		SKIP(return, PT_NO_FAULT);
	pt_fill_pattern(self->v, 4096, 131);
	r = (struct pmrdma_range){ self->v, 512 };
	ASSERT_EQ(0, pt_write_line(PT_FAULT_PATH, "flip 0x0a 1"));
	EXPECT_EQ(-ENOLINK, pmrdma_flush_verify(self->map, &r, 1,
						  PMRDMA_VERIFY_ALG_SHA256));
	pt_write_line(PT_FAULT_PATH, "off");
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "differs"));
	/* the first replica's WRITE was the one flipped */
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, 0));
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 1));
	EXPECT_EQ(0, pmrdma_flush_verify(self->map, &r, 1, PMRDMA_VERIFY_ALG_SHA256));
}

/* a store through memcpy that loses a replica says so, every time */
TEST_F(replicated, memcpy_reports_a_lost_replica)
{
	struct pmem_rdma_power_fail pf;
	unsigned char src[4096];

	if (!self->map)
		return;
	pt_fill_pattern(src, sizeof(src), 141);
	ASSERT_EQ(0, lib_power(self->fd, self->x[0].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	errno = 0;
	EXPECT_EQ(NULL, pmrdma_memcpy(self->map, self->v, src, sizeof(src), 0));
	EXPECT_EQ(ENOLINK, errno) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_FALSE(pmrdma_map_replica_in_sync(self->map, 0));
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 1));
	replica_media(self, 1);
	EXPECT_EQ(0, pt_check_pattern(self->back, sizeof(src), 141));
	/* the next store finds the one replica the config asks for */
	EXPECT_EQ(self->v, pmrdma_memcpy(self->map, self->v, src, 64, 0));
	ASSERT_EQ(0, lib_power(self->fd, self->x[0].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

/*
 * Below the config's minimum of replicas in sync every call fails, though
 * it still does its work on the copies that are left.
 */
TEST_F(replicated, too_few_replicas_in_sync_fail_every_call)
{
	struct pmem_rdma_power_fail pf;
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = NULL;
	unsigned char *v;
	int i;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	for (i = 0; i < 2; i++) {
		/* more than the replicas it has, then all of them */
		ASSERT_EQ(0, lib_range_config(&cfg, getenv("PMEM_RDMA_DAX"),
					      LOCAL_OFF, EXP_LEN));
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[0].remote));
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[1].remote));
		ASSERT_EQ(0, pmrdma_config_set_min_in_sync(cfg, 3 - i));
		EXPECT_EQ(i ? 0 : -EINVAL, pmrdma_map_new(&m, cfg));
		pmrdma_config_delete(&cfg);
	}
	ASSERT_NE(NULL, m);
	v = pmrdma_map_get_address(m);
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	pt_fill_pattern(v, 4096, 151);
	EXPECT_EQ(-ENOTCONN, pmrdma_flush(m, v, 4096))
		TH_LOG("%s", pmrdma_errormsg(m));
	replica_media(self, 0);
	EXPECT_EQ(0, pt_check_pattern(self->back, 4096, 151));
	pt_fill_pattern(v, 4096, 152);
	EXPECT_EQ(-ENOTCONN, pmrdma_flush(m, v, 4096));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(m), "1 replicas in sync, the config asks for 2"))
		TH_LOG("%s", pmrdma_errormsg(m));
	replica_media(self, 0);
	EXPECT_EQ(0, pt_check_pattern(self->back, 4096, 152));
	EXPECT_EQ(-ENOTCONN, pmrdma_atomic_write(m, 0, 7));
	pmrdma_map_delete(&m);
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

/*
 * A target answers a VERIFY that returns a digest only to a peer with READ:
 * a replica exported without READ offers no algorithm, and flush-and-verify
 * is refused before anything is posted, both replicas still in sync.
 */
TEST_F(replicated, a_replica_without_read_offers_no_verify)
{
	struct pmrdma_caps caps;
	struct pmrdma_range r;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ASSERT_EQ(0, unexport(self->fd, self->x[1].id));
	ASSERT_EQ(0, lib_export_access(self->fd, self->pmem, TARGET_PORT + 1,
				       EXP_OFF + EXP_LEN, true,
				       PMEM_RDMA_ACCESS_WRITE |
				       PMEM_RDMA_ACCESS_FLUSH_PERSISTENT |
				       PMEM_RDMA_ACCESS_VERIFY, &self->x[1]));
	ASSERT_EQ(0, replicated_map(&self->map, self->x));
	self->v = pmrdma_map_get_address(self->map);
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_EQ(0, caps.verify_algs);
	pt_fill_pattern(self->v, 4096, 137);
	r = (struct pmrdma_range){ self->v, 4096 };
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(self->map, &r, 1,
						   PMRDMA_VERIFY_ALG_SHA256));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "not offered"));
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 4096));
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 0));
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 1));
}

/*
 * A local map of a file on a DAX filesystem cannot be registered: its
 * replicas push from a copy of the view.  An atomic write's 8 bytes, which
 * the next flush does not push again, must still verify on every replica.
 */
TEST_F(replicated, fsdax_local_atomic_write_verifies_on_every_replica)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = NULL;
	struct pmrdma_range r;
	unsigned char *v;
	int i, ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ret = pt_fsdax_up(EXP_LEN);
	if (ret == 1)
		SKIP(return, "no DAX filesystem namespace (PMEM_RDMA_FSDAX)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	ASSERT_EQ(0, pmrdma_config_set_path(cfg, PT_FSDAX_FILE));
	for (i = 0; i < NREP; i++)
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[i].remote));
	ret = pmrdma_map_new(&m, cfg);
	pmrdma_config_delete(&cfg);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, 4096, 161);
	ASSERT_EQ(0, pmrdma_flush(m, v, 4096));
	ASSERT_EQ(0, pmrdma_atomic_write(m, 64, 0x1122334455667788ULL));
	r = (struct pmrdma_range){ v, 4096 };
	EXPECT_EQ(0, pmrdma_flush_verify(m, &r, 1, PMRDMA_VERIFY_ALG_SHA256))
		TH_LOG("%s", pmrdma_errormsg(m));
	for (i = 0; i < NREP; i++)
		EXPECT_TRUE(pmrdma_map_replica_in_sync(m, i)) TH_LOG("replica %d", i);
	pmrdma_map_delete(&m);
	pt_fsdax_down();
}

/*
 * A range longer than a replica verifies at once (here 8 KiB, as the
 * device says through lib_dv_helpers.h) is refused before anything is
 * done: every replica stays in sync and takes the next call.
 */
TEST_F(replicated, verify_range_too_long_keeps_the_replicas)
{
	struct rxe_flush_dv_device_attr dv = {
		.flags = RXE_FLUSH_DV_DEVICE_VERIFY |
			 RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY,
		.verify_algs = RXE_FLUSH_VERIFY_ALGS,
		.max_verify_length = 8192,
		.version = 4 << 8,
	};
	struct pmrdma_range r[18];
	int i;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	lib_dv_answer = &dv;
	ASSERT_EQ(0, replicated_map(&self->map, self->x));
	self->v = pmrdma_map_get_address(self->map);
	pt_fill_pattern(self->v, EXP_LEN, 139);
	for (i = 0; i < 17; i++)
		r[i] = (struct pmrdma_range){ self->v + i * 8192, 512 };
	r[17] = (struct pmrdma_range){ self->v + 17 * 8192, 8193 };
	EXPECT_EQ(-EINVAL, pmrdma_flush_verify(self->map, r, 18,
					       PMRDMA_VERIFY_ALG_XXH64));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "8193 bytes"))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	for (i = 0; i < NREP; i++)
		EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, i));
	r[17].len = 8192;
	EXPECT_EQ(0, pmrdma_flush_verify(self->map, r, 18, PMRDMA_VERIFY_ALG_XXH64))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	lib_dv_answer = NULL;
}

TEST_F(replicated, size_mismatch_and_no_leaks)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = NULL;
	int fds, i;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	fds = lib_fds();
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, lib_range_config(&cfg, getenv("PMEM_RDMA_DAX"),
					      LOCAL_OFF,
					      i ? EXP_LEN : EXP_LEN / 2));
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[0].remote));
		ASSERT_EQ(0, pmrdma_config_add_replica(cfg, &self->x[1].remote));
		if (i) {
			ASSERT_EQ(0, pmrdma_map_new(&m, cfg));
			pmrdma_map_delete(&m);
		} else {
			EXPECT_EQ(-EMSGSIZE, pmrdma_map_new(&m, cfg));
			EXPECT_EQ(NULL, m);
		}
		pmrdma_config_delete(&cfg);
	}
	EXPECT_EQ(fds, lib_fds());
}

/*
 * A replica that dropped out comes back with only the regions flushed
 * while it was out copied to it; then it takes every flush again.
 */
TEST_F(replicated, a_replica_rejoins_with_only_what_changed)
{
	static const size_t at[] = { 0, 65536 + 100, EXP_LEN - 4096 };
	struct pmrdma_replica_status st;
	struct pmem_rdma_power_fail pf;
	unsigned int j;
	int ret;

	if (!self->map)
		return;
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	for (j = 0; j < 3; j++) {
		pt_fill_pattern(self->v + at[j], 64, 131 + j);
		ret = pmrdma_flush(self->map, self->v + at[j], 64);
		EXPECT_EQ(j ? 0 : -ENOLINK, ret)
			TH_LOG("%s", pmrdma_errormsg(self->map));
	}
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(PMRDMA_REPLICA_OUT, st.state);
	EXPECT_EQ(3 * 4096, st.out_of_sync);
	EXPECT_EQ(-EBUSY, pmrdma_replica_rejoin(self->map, 0));

	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	ret = pmrdma_replica_rejoin(self->map, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(PMRDMA_REPLICA_IN_SYNC, st.state);
	EXPECT_EQ(0, st.out_of_sync);
	EXPECT_EQ(3 * 4096, st.resync_total);
	EXPECT_EQ(3 * 4096, st.resync_done);
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 1));

	/* and it takes the next flush */
	pt_fill_pattern(self->v + 8192, 4096, 139);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v + 8192, 4096))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
	EXPECT_EQ(-EINVAL, pmrdma_replica_rejoin(self->map, NREP));
	EXPECT_EQ(-EINVAL, pmrdma_replica_status(self->map, NREP, &st));
}

/* a thread that flushes region after region until told to stop */
struct busy_writer {
	struct pmrdma_map *map;
	unsigned char *v;
	bool stop;
	unsigned int flushes, errors;
	char msg[256];
};

static void *busy_write(void *arg)
{
	struct busy_writer *w = arg;
	size_t off;
	int err;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		off = (size_t)(w->flushes * 7 % (EXP_LEN / 4096)) * 4096;
		pt_fill_pattern(w->v + off, 4096, 1000 + w->flushes);
		err = pmrdma_flush(w->map, w->v + off, 4096);
		if (err && !w->errors++)
			snprintf(w->msg, sizeof(w->msg), "%d: %s", err,
				 pmrdma_errormsg(w->map));
		w->flushes++;
	}
	return NULL;
}

/*
 * While a replica resyncs the whole map, another thread goes on flushing
 * all over it: nothing it flushed is lost on the replica, whether its
 * region was resynced before or after.
 */
TEST_F(replicated, flushes_during_a_resync_reach_the_replica)
{
	struct busy_writer w = { .map = self->map, .v = self->v };
	struct pmrdma_replica_status st;
	pthread_t t;
	int ret;

	if (!self->map)
		return;
	take_out(self, 1, 141);

	ASSERT_EQ(0, pthread_create(&t, NULL, busy_write, &w));
	ret = pmrdma_replica_rejoin(self->map, 1);
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, w.errors) TH_LOG("%s", w.msg);
	EXPECT_LT(0, w.flushes);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(EXP_LEN, st.resync_total);
	TH_LOG("%u flushes during the resync", w.flushes);

	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * The device's QPs, watched by a thread while a resync runs: the most
 * seen at once with any rate limit, with the rate (as the rdma tool
 * prints it), and in the class.
 */
struct qp_watch {
	const char *rate, *class;
	int limited, at_rate, in_class;
	bool stop;
	pthread_t t;
};

#define MAX_OF(a, b)	((a) > (b) ? (a) : (b))

static void *qps_watch(void *arg)
{
	struct qp_watch *w = arg;
	char out[32768];
	int n;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		if (!pt_sh_out(out, sizeof(out),
			       "rdma -dd resource show qp link %s/1",
			       getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT)) {
			n = pt_count_of(out, "rate_limit_kbps ") -
			    pt_count_of(out, "rate_limit_kbps 0 ");
			w->limited = MAX_OF(w->limited, n);
			n = pt_count_of(out, w->rate);
			w->at_rate = MAX_OF(w->at_rate, n);
			n = pt_count_of(out, w->class);
			w->in_class = MAX_OF(w->in_class, n);
		}
		usleep(50000);
	}
	return NULL;
}

/*
 * Replica 1's rejoin, timed (s), with the QPs watched meanwhile: 0 or
 * the rejoin's failure
 */
static int rejoin_watched(struct pmrdma_map *map, struct qp_watch *w,
			  double *s)
{
	double t0;
	int ret;

	if (pthread_create(&w->t, NULL, qps_watch, w))
		return -EAGAIN;
	t0 = seconds();
	ret = pmrdma_replica_rejoin(map, 1);
	*s = seconds() - t0;
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	pthread_join(w->t, NULL);
	return ret;
}

/*
 * A resync at 1 MiB/s, which rxe can pace, takes as long as that rate
 * says and is complete: it copies over a connection of its own, which
 * the device paces at 8388 kbit/s in the resync's class (0x20: class 1),
 * and which is gone when it is done.
 */
TEST_F(replicated, a_paced_resync_keeps_its_rate)
{
	struct qp_watch w = {
		.rate = "rate_limit_kbps 8388 ", .class = "qos_class 1 ",
	};
	struct pmrdma_replica_status st;
	struct pmrdma_config *cfg;
	char out[32768];
	double took;
	int ret;

	if (!self->map)
		return;
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_rate(cfg, 4095));
	EXPECT_EQ(0, pmrdma_config_set_resync_rate(cfg, 0));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_granularity(cfg, 6000));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_granularity(cfg, 2048));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_granularity(cfg, 2UL << 30));
	EXPECT_EQ(0, pmrdma_config_set_resync_granularity(cfg, 1UL << 30));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_traffic_class(cfg, 256));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_resync_traffic_class(cfg, -2));
	EXPECT_EQ(0, pmrdma_config_set_resync_traffic_class(cfg, -1));
	pmrdma_config_delete(&cfg);

	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){
					.rate = 1UL << 20,
					.resync_tclass = 1 + 0x20 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	take_out(self, 1, 151);

	ret = rejoin_watched(self->map, &w, &took);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	TH_LOG("2 MiB resynced in %.2f s at 1 MiB/s; %d paced QPs, %d in class 1",
	       took, w.at_rate, w.in_class);
	/* 2 MiB at 8388 kbit/s, less a burst: 2 s */
	EXPECT_LE(1.7, took);
	/* the initiator's end; the target's has the class, not the rate */
	EXPECT_EQ(1, w.at_rate);
	EXPECT_EQ(1, w.limited);
	EXPECT_LE(1, w.in_class);
	ASSERT_EQ(0, pt_sh_out(out, sizeof(out),
			       "rdma -dd resource show qp link %s/1",
			       getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT));
	EXPECT_EQ(0, pt_count_of(out, w.rate)) TH_LOG("%s", out);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(EXP_LEN, st.resync_done);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

/*
 * A rate under what the device paces (rxe's least is 1000 kbit/s): the
 * resync paces itself over the map's own connections, waiting between
 * its steps, and no QP gets a rate limit.
 */
TEST_F(replicated, a_resync_the_device_cannot_pace_waits_between_steps)
{
	struct qp_watch w = {
		.rate = "rate_limit_kbps 524 ", .class = "qos_class 1 ",
	};
	const size_t len = 128UL << 10;
	double took;
	int ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	/* 64 KiB/s: 524 kbit/s */
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){
					.rate = 64UL << 10,
					.resync_tclass = 1 + 0x20 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	take_out_part(self, 1, 157, len);

	ret = rejoin_watched(self->map, &w, &took);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	TH_LOG("128 KiB resynced in %.2f s at 64 KiB/s", took);
	/* one step, then the wait for its 2 s */
	EXPECT_LE(1.9, took);
	EXPECT_EQ(0, w.limited);
	EXPECT_EQ(0, w.in_class);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

struct rejoiner {
	struct pmrdma_map *map;
	int ret;
	pthread_t t;
};

static void *rejoin_1(void *arg)
{
	struct rejoiner *r = arg;

	r->ret = pmrdma_replica_rejoin(r->map, 1);
	return NULL;
}

/* how long a flush of 4 KiB at off took, in seconds; -1 if it failed */
static double timed_flush(struct pmrdma_map *map, unsigned char *v,
			  size_t off, unsigned int seed)
{
	double t0 = seconds();

	pt_fill_pattern(v + off, 4096, seed);
	return pmrdma_flush(map, v + off, 4096) ? -1 : seconds() - t0;
}

/*
 * A QP shows rate (the resync's own connection is up) within 5 s, and a
 * step is then in flight: it is posted at once, and lasts a second in
 * the tests that ask this (a loaded VM could in theory take 100 ms more)
 */
static bool step_flying(const char *rate)
{
	char out[32768];
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (!pt_sh_out(out, sizeof(out),
			       "rdma -dd resource show qp link %s/1",
			       getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT) &&
		    pt_count_of(out, rate)) {
			usleep(100000);
			return true;
		}
		usleep(50000);
	}
	return false;
}

/*
 * A step the device paces is in flight without the lanes: a flush beside
 * it goes at once, and a flush over its regions waits for it to land (so
 * that the step's older bytes never land over the flush's).  Regions of
 * 1 MiB at 1 MiB/s: the one step takes a second.
 */
TEST_F(replicated, a_flush_waits_only_for_the_resync_step_it_overlaps)
{
	struct rejoiner r = { 0 };
	double beside, over;
	int ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){
					.rate = 1UL << 20,
					.granularity = 1UL << 20 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	take_out_part(self, 1, 161, 4096);	/* region 0 */

	r.map = self->map;
	ASSERT_EQ(0, pthread_create(&r.t, NULL, rejoin_1, &r));
	EXPECT_TRUE(step_flying("rate_limit_kbps 8388 "));
	beside = timed_flush(self->map, self->v, 1UL << 20, 162);
	over = timed_flush(self->map, self->v, 0, 163);
	pthread_join(r.t, NULL);
	ASSERT_EQ(0, r.ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	TH_LOG("beside the step %.3f s, over it %.3f s", beside, over);
	EXPECT_LE(0, beside);
	EXPECT_GT(0.2, beside);
	EXPECT_LT(0.2, over);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

/* fd readable within ms: its count of changes read, true; or false */
static bool state_changed(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(fd, &n, sizeof(n)) == sizeof(n) && n;
}

/*
 * With the automatic rejoin on, a replica that drops out comes back by
 * itself once its export does, and every change of its state makes the
 * map's state fd readable.
 */
TEST_F(replicated, a_replica_rejoins_on_its_own)
{
	struct pmrdma_replica_status st = { 0 };
	struct pmem_rdma_power_fail pf;
	struct pmrdma_config *cfg;
	int fd = -1, ret, tries;

	if (!self->map)
		return;
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_auto_rejoin(cfg, 0, 100));
	EXPECT_EQ(-EINVAL, pmrdma_config_set_auto_rejoin(cfg, 100, 50));
	EXPECT_EQ(0, pmrdma_config_set_auto_rejoin(cfg, 0, 0));
	pmrdma_config_delete(&cfg);
	EXPECT_EQ(-EINVAL, pmrdma_replica_get_fd(self->map, NULL));

	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){ .auto_min_ms = 300,
							 .auto_max_ms = 600 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, pmrdma_replica_get_fd(self->map, &fd));
	EXPECT_FALSE(state_changed(fd, 0));

	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	pt_fill_pattern(self->v + 4096, 4096, 161);
	EXPECT_EQ(-ENOLINK, pmrdma_flush(self->map, self->v + 4096, 4096));
	EXPECT_TRUE(state_changed(fd, 1000));
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(PMRDMA_REPLICA_OUT, st.state);
	/*
	 * the first try is 300 ms after the drop: the state read above is
	 * OUT; tries against the export without power fail, and wait longer.
	 * The powered-off export still takes a connection: a try may have
	 * the replica resyncing for a moment, and the flush find it failing
	 * again (-ENOLINK); either way the flush is durable on the rest.
	 */
	usleep(1000000);
	pt_fill_pattern(self->v + 12288, 4096, 162);
	ret = pmrdma_flush(self->map, self->v + 12288, 4096);
	EXPECT_TRUE(ret == 0 || ret == -ENOLINK)
		TH_LOG("%d: %s", ret, pmrdma_errormsg(self->map));

	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	for (tries = 0; tries < 40 && st.state != PMRDMA_REPLICA_IN_SYNC; tries++) {
		state_changed(fd, 500);
		ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	}
	ASSERT_EQ(PMRDMA_REPLICA_IN_SYNC, st.state);
	EXPECT_EQ(2 * 4096, st.resync_done);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

/*
 * Deleting a map stops the resync its own thread runs: at 4 KiB/s the
 * 2 MiB would take over 8 minutes; the delete takes a step at most.
 */
TEST_F(replicated, deleting_a_map_stops_its_resync)
{
	struct pmrdma_replica_status st = { 0 };
	double t0, took;
	int tries, ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){ .rate = 4096,
							 .auto_min_ms = 100,
							 .auto_max_ms = 200 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	take_out(self, 1, 171);
	for (tries = 0; tries < 100 && st.state != PMRDMA_REPLICA_RESYNCING; tries++) {
		usleep(50000);
		ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	}
	ASSERT_EQ(PMRDMA_REPLICA_RESYNCING, st.state);

	t0 = seconds();
	pmrdma_map_delete(&self->map);
	took = seconds() - t0;
	TH_LOG("deleted in %.2f s during the resync", took);
	EXPECT_GT(10, took);
}

/*
 * A token whose flush a replica dropped out of before it was durable
 * there, leaving fewer in sync than the config asks for, settles short:
 * its test says -ENOTCONN, and goes on saying so; the lane is not stuck
 * behind it, and once the replica is back the next token is durable.
 */
/* token's test once it says something else than -EAGAIN */
static int token_settled(struct pmrdma_map *map, uint64_t token)
{
	int ret = -EAGAIN, tries;

	for (tries = 0; tries < 500 && ret == -EAGAIN; tries++) {
		ret = pmrdma_flush_test(map, token);
		if (ret == -EAGAIN)
			usleep(10000);
	}
	return ret;
}

/* replica i powered off: a flush_start's token, settled short */
#define short_token(self, i, off, seed, t)	\
	__short_token(_metadata, self, i, off, seed, t)

static void __short_token(struct __test_metadata *_metadata,
			  FIXTURE_DATA(replicated) *self, int i, size_t off,
			  unsigned int seed, uint64_t *t)
{
	struct pmem_rdma_power_fail pf;
	struct pmrdma_range r = { self->v + off, 4096 };

	ASSERT_EQ(0, lib_power(self->fd, self->x[i].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	pt_fill_pattern(self->v + off, 4096, seed);
	ASSERT_EQ(0, pmrdma_flush_start(self->map, &r, 1, t))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-ENOTCONN, token_settled(self->map, *t))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, lib_power(self->fd, self->x[i].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
	ASSERT_EQ(0, pmrdma_replica_rejoin(self->map, i))
		TH_LOG("%s", pmrdma_errormsg(self->map));
}

/*
 * A token whose flush a replica dropped out of before it was durable
 * there, leaving fewer in sync than the config asks for, settles short:
 * its test says -ENOTCONN, and goes on saying so, after another run of
 * short ones too; the lane is not stuck behind it, and once the replica
 * is back the next token is durable.
 */
TEST_F(replicated, a_token_short_of_replicas_settles)
{
	struct pmrdma_range r;
	uint64_t t1 = 0, t2 = 0, t3 = 0;
	int ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){ .min_in_sync = 1 + 2 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	short_token(self, 1, 0, 181, &t1);
	EXPECT_EQ(-ENOTCONN, pmrdma_flush_test(self->map, t1));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(self->map), "fewer replicas"))
		TH_LOG("%s", pmrdma_errormsg(self->map));

	pt_fill_pattern(self->v + 4096, 4096, 182);
	r = (struct pmrdma_range){ self->v + 4096, 4096 };
	ASSERT_EQ(0, pmrdma_flush_start(self->map, &r, 1, &t2));
	EXPECT_EQ(0, token_settled(self->map, t2))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	/* a second run of short tokens: the first is still short */
	short_token(self, 0, 8192, 183, &t3);
	EXPECT_EQ(-ENOTCONN, pmrdma_flush_test(self->map, t1));
	EXPECT_EQ(0, pmrdma_flush_test(self->map, t2));
	EXPECT_EQ(-ENOTCONN, pmrdma_flush_test(self->map, t3));
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, 3 * 4096));
}

/* ---- metadata: generations and the persistent bitmap ---- */

#define HDR	PMEM_RDMA_MD_HEADER

/* the current header of a copy's raw bytes (EXP_LEN of them), or false */
static bool md_header(const unsigned char *copy,
		      struct pmem_rdma_md_header *h)
{
	const struct pmem_rdma_md_header *s;
	bool found = false;
	int k;

	for (k = 0; k < 2; k++) {
		s = (const void *)(copy + EXP_LEN - HDR + k * PMEM_RDMA_MD_SLOT);
		if (memcmp(s->magic, PMEM_RDMA_MD_MAGIC, 8) ||
		    le64toh(s->csum) != pmrdma_xxh64(s, offsetof(typeof(*s), csum), 0))
			continue;
		if (!found || le64toh(s->seq) > le64toh(h->seq))
			*h = *s;
		found = true;
	}
	return found;
}

/*
 * The local range and the replicas without metadata, through the
 * fixture's map (no metadata: its view is all of each copy): the next
 * map with metadata is a new primary's
 */
#define wipe_md(self)	\
	__wipe_md(_metadata, (self)->map, (self)->v)

static void __wipe_md(struct __test_metadata *_metadata,
		      struct pmrdma_map *map, unsigned char *v)
{
	ASSERT_EQ(EXP_LEN, pmrdma_map_get_size(map));
	memset(v + EXP_LEN - HDR, 0, HDR);
	ASSERT_EQ(0, pmrdma_flush(map, v + EXP_LEN - HDR, HDR));
}

/* the fixture's map for one with metadata, and o's other options */
static int md_map(struct pmrdma_map **map, const struct lib_export *x,
		  struct rejoin_opts o)
{
	o.metadata = true;
	return replicated_map_opts(map, x, &o);
}

/*
 * The fixture's map for one with metadata, made anew: a new primary's,
 * every replica given a full copy.  Its view's size.
 */
#define fresh_md_map(self)	__fresh_md_map(_metadata, self)

static size_t __fresh_md_map(struct __test_metadata *_metadata,
			     FIXTURE_DATA(replicated) *self)
{
	int ret;

	wipe_md(self);
	pmrdma_map_delete(&self->map);
	ret = md_map(&self->map, self->x, (struct rejoin_opts){ 0 });
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	if (ret)
		return 0;
	self->v = pmrdma_map_get_address(self->map);
	return pmrdma_map_get_size(self->map);
}

/*
 * A map with metadata keeps it in the last pages of every copy: its view
 * is what comes before; each replica's header names the local copy's
 * generation, the bitmap covers none before it.
 */
TEST_F(replicated, metadata_keeps_a_generation_in_every_copy)
{
	struct pmem_rdma_md_header h[NREP];
	struct pmrdma_config *cfg;
	struct pmrdma_map *m = NULL;
	size_t size;
	int i, ret;

	if (!self->map)
		return;
	wipe_md(self);
	pmrdma_map_delete(&self->map);
	/* a remote map has no local copy to keep it; no discard without it */
	ASSERT_EQ(0, pmrdma_config_new(&cfg));
	ASSERT_EQ(0, pmrdma_config_set_remote(cfg, &self->x[0].remote));
	ASSERT_EQ(0, pmrdma_config_set_metadata(cfg, true));
	EXPECT_EQ(-EINVAL, pmrdma_map_new(&m, cfg));
	pmrdma_config_delete(&cfg);
	EXPECT_EQ(-EINVAL, replicated_map_opts(&m, self->x,
					       &(struct rejoin_opts){ .discard = 1 }));
	EXPECT_EQ(-EINVAL, md_map(&m, self->x,
				  (struct rejoin_opts){ .discard = 1U << NREP }));

	ret = md_map(&self->map, self->x, (struct rejoin_opts){ 0 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	size = pmrdma_map_get_size(self->map);
	/* 512 regions: a page of bitmap, and the header page */
	EXPECT_EQ(EXP_LEN - 2 * HDR, size);
	pt_fill_pattern(self->v, size, 201);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, size));
	for (i = 0; i < NREP; i++) {
		replica_media(self, i);
		EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size));
		ASSERT_TRUE(md_header(self->back, &h[i]));
		EXPECT_EQ(EXP_LEN, le64toh(h[i].size));
		EXPECT_EQ(size, le64toh(h[i].data_size));
		EXPECT_EQ(12, le32toh(h[i].region_shift));
		EXPECT_EQ(0, le32toh(h[i].bitmap_gens));
		EXPECT_NE(0, h[i].gen[0]);
	}
	EXPECT_EQ(h[0].gen[0], h[1].gen[0]);
}

/*
 * The persistent bitmap, rewritten while a device-paced step is in flight,
 * keeps the step's region: had the primary crashed then, the replica
 * would lack it, and the bitmap is all a restarted primary resyncs.  Two
 * regions of 1 MiB at 1 MiB/s: a step of a second each; a flush of the
 * first once it landed sweeps (a second after the rejoin's rewrite) while
 * the second flies.
 */
TEST_F(replicated, the_bitmap_keeps_a_resync_step_in_flight)
{
	struct pmrdma_metadata md;
	struct rejoiner r = { 0 };
	int ret;

	if (!self->map)
		return;
	wipe_md(self);
	pmrdma_map_delete(&self->map);
	ret = md_map(&self->map, self->x,
		     (struct rejoin_opts){ .rate = 1UL << 20,
					   .granularity = 1UL << 20 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	take_out(self, 1, 171);

	r.map = self->map;
	ASSERT_EQ(0, pthread_create(&r.t, NULL, rejoin_1, &r));
	EXPECT_TRUE(step_flying("rate_limit_kbps 8388 "));
	usleep(1200000);
	pt_fill_pattern(self->v, 4096, 172);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v, 4096))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ret = lib_metadata(getenv("PMEM_RDMA_DAX"), LOCAL_OFF, &md);
	pthread_join(r.t, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, r.ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	/* region 1, in flight to replica 1 */
	EXPECT_EQ(1, md.dirty_regions);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v,
				     pmrdma_map_get_size(self->map)));
}

/*
 * A primary that goes while a replica is out resyncs, when it is made
 * again, only the regions its persistent bitmap holds: the three flushed
 * meanwhile, on both replicas - the one that was out lacks them, the
 * other may, had they been in flight (a map deleted keeps the bitmap of
 * what a copy out lacks, as one that crashed does).
 */
TEST_F(replicated, a_restarted_primary_resyncs_only_its_bitmap)
{
	static const size_t at[] = { 0, 65536 + 100, 1UL << 20 };
	struct pmrdma_replica_status st;
	struct pmem_rdma_power_fail pf;
	struct pmem_rdma_md_header h;
	double t0;
	size_t size;
	int i, ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);

	t0 = seconds();
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 0, &pf));
	for (i = 0; i < 3; i++) {
		pt_fill_pattern(self->v + at[i], 64, 211 + i);
		ret = pmrdma_flush(self->map, self->v + at[i], 64);
		EXPECT_EQ(i ? 0 : -ENOLINK, ret)
			TH_LOG("%s", pmrdma_errormsg(self->map));
	}
	pmrdma_map_delete(&self->map);
	TH_LOG("out, flushed and gone in %.2f s", seconds() - t0);
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));

	ret = md_map(&self->map, self->x, (struct rejoin_opts){ 0 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	for (i = 0; i < NREP; i++) {
		ASSERT_EQ(0, pmrdma_replica_status(self->map, i, &st));
		EXPECT_EQ(PMRDMA_REPLICA_IN_SYNC, st.state);
		EXPECT_EQ(3 * 4096, st.resync_total) TH_LOG("replica %d", i);
		replica_media(self, i);
		EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size));
		/* in sync again: the bitmap covers no old generation */
		ASSERT_TRUE(md_header(self->back, &h));
		EXPECT_EQ(0, le32toh(h.bitmap_gens));
	}
}

/* the devdax range a promoted replica's copy is put in */
#define PROMOTED_OFF	(LOCAL_OFF + EXP_LEN)

/* replica i's copy, header and all, as the local copy at PROMOTED_OFF */
#define promote(self, i)	__promote(_metadata, self, i)

static void __promote(struct __test_metadata *_metadata,
		      FIXTURE_DATA(replicated) *self, int i)
{
	struct pmrdma_map *m;

	replica_media(self, i);
	ASSERT_EQ(0, lib_map_range(&m, getenv("PMEM_RDMA_DAX"), PROMOTED_OFF,
				   EXP_LEN, false));
	memcpy(pmrdma_map_get_address(m), self->back, EXP_LEN);
	ASSERT_EQ(0, pmrdma_flush(m, pmrdma_map_get_address(m), EXP_LEN));
	pmrdma_map_delete(&m);
}

/*
 * Generations against split brain.  Replica 1's copy is made the local
 * copy of another map (a failover), which writes with both replicas in
 * sync: the replicas are then newer than the first local copy, which is
 * refused.  The first local copy written as a primary on its own has
 * diverged from them: refused, until they are discarded.
 */
TEST_F(replicated, generations_tell_newer_and_diverged_copies)
{
	struct pmrdma_replica_status st;
	struct pmrdma_map *m;
	size_t size;
	int i, ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	pt_fill_pattern(self->v, size, 221);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, size));
	pmrdma_map_delete(&self->map);

	/* promoted, it writes: a session of its own, nothing dropping out */
	promote(self, 1);
	ret = md_map(&m, self->x,
		     (struct rejoin_opts){ .local_off = PROMOTED_OFF });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	pt_fill_pattern(pmrdma_map_get_address(m), 4096, 222);
	EXPECT_EQ(0, pmrdma_flush(m, pmrdma_map_get_address(m), 4096));
	pmrdma_map_delete(&m);
	EXPECT_EQ(-ESTALE, md_map(&m, self->x, (struct rejoin_opts){ 0 }));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "replica 0 is newer than the local copy"))
		TH_LOG("%s", pmrdma_errormsg(NULL));

	/* the first local copy written as a primary on its own: no replica */
	ret = md_map(&m, self->x, (struct rejoin_opts){ .only = 1U << 31 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	pt_fill_pattern(pmrdma_map_get_address(m) + 8192, 4096, 223);
	EXPECT_EQ(0, pmrdma_flush(m, pmrdma_map_get_address(m) + 8192, 4096));
	pmrdma_map_delete(&m);
	EXPECT_EQ(-EUCLEAN, md_map(&m, self->x, (struct rejoin_opts){ 0 }));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "have diverged"))
		TH_LOG("%s", pmrdma_errormsg(NULL));

	/* the local copy survives: the replicas get all of it */
	ret = md_map(&self->map, self->x, (struct rejoin_opts){ .discard = 3 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	EXPECT_EQ(0, pt_check_pattern(self->v, 4096, 221));
	EXPECT_EQ(0, pt_check_pattern(self->v + 8192, 4096, 223));
	for (i = 0; i < NREP; i++) {
		ASSERT_EQ(0, pmrdma_replica_status(self->map, i, &st));
		EXPECT_EQ(size, st.resync_total);
		replica_media(self, i);
		EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size))
			TH_LOG("replica %d", i);
	}
}

/*
 * Failover with a stale replica.  Replica 1 drops out, the primary goes
 * on with replica 0 and is gone; replica 0 is promoted.  Its bitmap is
 * not the old primary's: replica 1, stale beyond it, gets a full copy.
 */
TEST_F(replicated, a_promoted_replica_gives_a_stale_one_all_of_it)
{
	struct pmrdma_replica_status st;
	size_t size;
	int ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	take_out(self, 1, 231);
	pmrdma_map_delete(&self->map);

	promote(self, 0);
	ret = md_map(&self->map, self->x,
		     (struct rejoin_opts){ .local_off = PROMOTED_OFF });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	EXPECT_EQ(0, pt_check_pattern(self->v, size, 231));
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(size, st.resync_total);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size));
}

/*
 * A map made with replica 0 alone takes replica 1 while another thread
 * flushes all over it: the new copy, whose export holds other bytes, gets
 * all of the view online and is then in sync, and takes the next flush.
 */
TEST_F(replicated, a_new_replica_is_added_online)
{
	struct busy_writer w = { 0 };
	struct pmrdma_replica_status st;
	struct pmrdma_remote bad = { 0 };
	struct pmrdma_map *m = NULL;
	unsigned int i = 99;
	pthread_t t;
	int ret;

	if (!self->map)
		return;
	pmrdma_map_delete(&self->map);
	ret = replicated_map_opts(&self->map, self->x,
				  &(struct rejoin_opts){ .only = 1 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	/* the local copy and replica 0 now differ from replica 1's export */
	pt_fill_pattern(self->v, EXP_LEN, 241);
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, EXP_LEN));

	EXPECT_EQ(-EINVAL, pmrdma_replica_add(self->map, &bad, &i));
	EXPECT_EQ(-EINVAL, pmrdma_replica_add(self->map, &self->x[1].remote,
					      NULL));
	/* a map made without replicas takes none */
	ASSERT_EQ(0, lib_map_range(&m, getenv("PMEM_RDMA_DAX"), PROMOTED_OFF,
				   EXP_LEN, false));
	EXPECT_EQ(-EINVAL, pmrdma_replica_add(m, &self->x[1].remote, &i));
	pmrdma_map_delete(&m);
	EXPECT_EQ(99, i);

	w.map = self->map;
	w.v = self->v;
	ASSERT_EQ(0, pthread_create(&t, NULL, busy_write, &w));
	ret = pmrdma_replica_add(self->map, &self->x[1].remote, &i);
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(1, i);
	EXPECT_EQ(0, w.errors) TH_LOG("%s", w.msg);
	TH_LOG("%u flushes during the add", w.flushes);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(PMRDMA_REPLICA_IN_SYNC, st.state);
	EXPECT_EQ(EXP_LEN, st.resync_total);
	EXPECT_TRUE(pmrdma_map_replica_in_sync(self->map, 1));

	pt_fill_pattern(self->v + 4096, 4096, 242);
	EXPECT_EQ(0, pmrdma_flush(self->map, self->v + 4096, 4096));
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, EXP_LEN));
}

/* len bytes of src written into export x at off */
#define put_export(x, off, src, len)	\
	ASSERT_EQ(0, lib_put_export(x, off, src, len))

/*
 * A replica's header goes to the slot after its own, whatever seq the
 * primary's has: a replica whose two slots hold headers of a higher seq
 * (it was a primary for longer) takes the current generation.
 */
TEST_F(replicated, a_replica_header_goes_after_its_own)
{
	struct pmem_rdma_md_header h, old[2];
	size_t size;
	int k, ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	pmrdma_map_delete(&self->map);
	replica_media(self, 1);
	ASSERT_TRUE(md_header(self->back, &h));
	for (k = 0; k < 2; k++) {
		old[k] = h;
		old[k].seq = htole64(1000 + k);
		old[k].gen[0] = htole64(0x5eedULL + k);
		old[k].csum = htole64(pmrdma_xxh64(&old[k],
					offsetof(typeof(h), csum), 0));
	}
	/* both slots: 1000 in slot 0, 1001 in slot 1 */
	for (k = 0; k < 2; k++)
		put_export(&self->x[1], EXP_LEN - HDR + k * PMEM_RDMA_MD_SLOT,
			   &old[k], sizeof(old[k]));
	replica_media(self, 1);
	ASSERT_TRUE(md_header(self->back, &h));
	EXPECT_EQ(1001, le64toh(h.seq));

	/* another generation's copy: the primary's own history has not it */
	ret = md_map(&self->map, self->x, (struct rejoin_opts){ .discard = 2 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	replica_media(self, 0);
	ASSERT_TRUE(md_header(self->back, &old[0]));
	replica_media(self, 1);
	ASSERT_TRUE(md_header(self->back, &h));
	EXPECT_LT(1001, le64toh(h.seq));
	EXPECT_EQ(old[0].gen[0], h.gen[0]);
	EXPECT_EQ(0, le32toh(h.flags));
}

/*
 * A replica header that is whole (magic, version, checksum) but says
 * what no copy of this map can be is refused as another map's, with the
 * field at fault named, and nothing is written to that replica; a
 * discard then gives it all of the view.
 */
TEST_F(replicated, a_hostile_replica_header_is_refused_by_its_field)
{
	static const struct {
		const char *why;
		unsigned int field;
		int64_t delta;
	} bad[] = {
		{ "region size is not a power of two", 0, 31 - 12 },
		{ "regions are larger than this map's", 0, 1 },
		{ "of another size", 1, HDR },
		{ "view does not end where its bitmap begins", 2, -(int64_t)HDR },
		{ "covers more generations", 3, PMEM_RDMA_MD_GENS },
		{ "flags this version does not know", 4, 1 << 3 },
		{ "no generation, yet says it is whole", 5, 0 },
	};
	struct pmem_rdma_md_header h, cur;
	unsigned char *media;
	unsigned int k;
	size_t size;
	int ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	pmrdma_map_delete(&self->map);
	media = malloc(EXP_LEN);
	ASSERT_NE(NULL, media);
	replica_media(self, 1);
	ASSERT_TRUE(md_header(self->back, &cur));
	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		h = cur;
		h.seq = htole64(le64toh(cur.seq) + 1);
		switch (bad[k].field) {
		case 0:
			h.region_shift = htole32(le32toh(h.region_shift) +
						 bad[k].delta);
			break;
		case 1:
			h.size = htole64(le64toh(h.size) + bad[k].delta);
			break;
		case 2:
			h.data_size = htole64(le64toh(h.data_size) +
					      bad[k].delta);
			break;
		case 3:
			h.bitmap_gens = htole32(bad[k].delta);
			break;
		case 4:
			h.flags = htole32(bad[k].delta);
			break;
		case 5:
			h.gen[0] = 0;
			h.flags = 0;
			break;
		}
		h.csum = htole64(pmrdma_xxh64(&h, offsetof(typeof(h), csum), 0));
		put_export(&self->x[1],
			   EXP_LEN - HDR + (le64toh(h.seq) & 1) * PMEM_RDMA_MD_SLOT,
			   &h, sizeof(h));
		replica_media(self, 1);
		memcpy(media, self->back, EXP_LEN);

		EXPECT_EQ(-EUCLEAN, md_map(&self->map, self->x,
					   (struct rejoin_opts){ 0 }));
		EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
				       "replica 1's header is not one of this map"))
			TH_LOG("%s", pmrdma_errormsg(NULL));
		EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), bad[k].why))
			TH_LOG("%u: %s", k, pmrdma_errormsg(NULL));
		replica_media(self, 1);
		EXPECT_EQ(-1, lib_first_diff(self->back, media, EXP_LEN))
			TH_LOG("%u: the refused replica was written", k);
		pmrdma_map_delete(&self->map);
	}
	free(media);

	ret = md_map(&self->map, self->x, (struct rejoin_opts){ .discard = 2 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size));
	ASSERT_TRUE(md_header(self->back, &h));
	EXPECT_EQ(0, le32toh(h.flags));
}

/*
 * A replica cut off in its resync says INCONSISTENT in its header, and
 * is never opened as a primary's local copy; judged by its primary again,
 * it gets what it lacks and is whole: its header says so.
 */
TEST_F(replicated, a_copy_cut_off_in_its_resync_is_not_whole)
{
	struct pmrdma_replica_status st = { 0 };
	struct pmem_rdma_md_header h;
	struct pmrdma_metadata md;
	struct pmrdma_map *m;
	uint64_t dirty;
	size_t size;
	int tries, ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	pmrdma_map_delete(&self->map);
	ret = md_map(&self->map, self->x,
		     (struct rejoin_opts){ .rate = 4096, .auto_min_ms = 100,
					   .auto_max_ms = 200 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	/* a primary's local copy says so */
	ASSERT_EQ(0, lib_metadata(getenv("PMEM_RDMA_DAX"), LOCAL_OFF, &md))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(PMRDMA_METADATA_PRIMARY, md.flags);
	EXPECT_EQ(size, md.view_size);
	EXPECT_EQ(4096, md.region_size);
	take_out(self, 1, 251);
	for (tries = 0; tries < 100 && st.state != PMRDMA_REPLICA_RESYNCING; tries++) {
		usleep(50000);
		ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	}
	ASSERT_EQ(PMRDMA_REPLICA_RESYNCING, st.state);
	pmrdma_map_delete(&self->map);

	/* through the target's block device, and as a local copy */
	ASSERT_EQ(0, lib_metadata(self->pmem, self->x[1].off, &md))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(PMRDMA_METADATA_INCONSISTENT, md.flags);
	EXPECT_EQ(0, md.bitmap_gens);
	ASSERT_EQ(0, lib_metadata(getenv("PMEM_RDMA_DAX"), LOCAL_OFF, &md));
	EXPECT_EQ(PMRDMA_METADATA_CLOSED, md.flags);
	/* the bitmap keeps what replica 1 still lacks */
	EXPECT_LT(0, md.dirty_regions);
	EXPECT_GE(size / 4096, md.dirty_regions);
	dirty = md.dirty_regions;
	/* alone: no newer replica to say it is stale */
	promote(self, 1);
	EXPECT_EQ(-ESTALE, md_map(&m, self->x,
				  (struct rejoin_opts){ .local_off = PROMOTED_OFF,
							.only = 1U << 31 }));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "cut off in a resync"))
		TH_LOG("%s", pmrdma_errormsg(NULL));

	ret = md_map(&self->map, self->x, (struct rejoin_opts){ 0 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(PMRDMA_REPLICA_IN_SYNC, st.state);
	EXPECT_EQ(dirty * 4096, st.resync_total);
	replica_media(self, 1);
	EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size));
	ASSERT_TRUE(md_header(self->back, &h));
	EXPECT_EQ(0, le32toh(h.flags));
}

/*
 * Failover.  The primary's host is gone (its writer killed with records
 * in flight); replica 0 is promoted: its copy is the new local one, whose
 * log holds every record acknowledged; replica 1, with the generation the
 * primary left, may hold writes replica 0 lacks or lack some it holds, and
 * gets all of the view.  The old primary's copy comes back as a replica
 * and gets all of it too.  The log goes on; every copy is the new one.
 */
TEST_F(replicated, the_log_fails_over_to_a_replica)
{
	static const char *const fmt[] = { "format", "-S", "64", NULL };
	static const char *const wr[] = { "write", "-q", "-v", "-n", "100000000",
					  NULL };
	char out[64], want[256];
	struct pmrdma_replica_status st;
	struct pmem_rdma_md_header h;
	struct pmlog_recovery rec;
	struct pmrdma_metadata md;
	struct pmrdma_map *old;
	struct pmlog *log;
	unsigned int i = 99;
	size_t size, len;
	uint64_t n, acked;
	const void *p;
	pid_t pid;
	int ret;

	if (!self->map)
		return;
	size = fresh_md_map(self);
	ASSERT_NE(0, size);
	pmrdma_map_delete(&self->map);
	snprintf(out, sizeof(out), "/tmp/pmlog-out.%d", getpid());
	ASSERT_EQ(0, lib_pmlog(self->x, NREP, LOCAL_OFF, fmt, out, true, &pid));
	ASSERT_EQ(0, lib_pmlog(self->x, NREP, LOCAL_OFF, wr, out, false, &pid));
	usleep(2000000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &ret, 0));
	ASSERT_TRUE(WIFSIGNALED(ret) && WTERMSIG(ret) == SIGKILL)
		TH_LOG("pmlog stopped by itself: %d", ret);
	acked = pt_pmlog_acked(out);
	unlink(out);
	ASSERT_LT(10, acked);
	/* the primary's copy says it was open when it went */
	ASSERT_EQ(0, lib_metadata(getenv("PMEM_RDMA_DAX"), LOCAL_OFF, &md));
	EXPECT_EQ(PMRDMA_METADATA_PRIMARY, md.flags);

	/* replica 0's host promoted: its copy, what its media kept */
	promote(self, 0);
	ret = md_map(&self->map, self->x,
		     (struct rejoin_opts){ .local_off = PROMOTED_OFF, .only = 2 });
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 0, &st));
	EXPECT_EQ(size, st.resync_total);
	ret = pmlog_open(&log, self->map, &rec);
	ASSERT_EQ(0, ret) TH_LOG("record %llu is not whole",
				 (unsigned long long)rec.first_invalid);
	EXPECT_LE(acked, rec.pointer) TH_LOG("an acknowledged record was lost");
	for (n = rec.first; n < rec.pointer; n++) {
		p = pmlog_record(log, n, &len);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(pmlog_sample(n, want, pmlog_max_record(log)), len);
		ASSERT_EQ(0, memcmp(p, want, len)) TH_LOG("record %llu",
							 (unsigned long long)n);
	}
	TH_LOG("%llu records acknowledged, %llu recovered", (unsigned long long)acked,
	       (unsigned long long)rec.pointer);
	for (n = 0; n < 100; n++) {
		len = pmlog_sample(pmlog_next(log), want, pmlog_max_record(log));
		ASSERT_EQ(0, pmlog_append(log, want, len, PMLOG_PIPELINED));
	}

	/* the old primary's host back, its copy exported as replica 0 was */
	ASSERT_EQ(0, lib_map_range(&old, getenv("PMEM_RDMA_DAX"), LOCAL_OFF,
				   EXP_LEN, false));
	put_export(&self->x[0], 0, pmrdma_map_get_address(old), EXP_LEN);
	pmrdma_map_delete(&old);
	ret = pmrdma_replica_add(self->map, &self->x[0].remote, &i);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(1, i);
	ASSERT_EQ(0, pmrdma_replica_status(self->map, 1, &st));
	EXPECT_EQ(size, st.resync_total);
	len = pmlog_sample(pmlog_next(log), want, pmlog_max_record(log));
	ASSERT_EQ(0, pmlog_append(log, want, len, PMLOG_WAIT));
	pmlog_close(&log);
	for (i = 0; i < NREP; i++) {
		replica_media(self, i);
		EXPECT_EQ(-1, lib_first_diff(self->back, self->v, size))
			TH_LOG("replica %u", i);
	}
	pmrdma_map_delete(&self->map);
	/* closed: the local copy and both replicas say so */
	ASSERT_EQ(0, lib_metadata(getenv("PMEM_RDMA_DAX"), PROMOTED_OFF, &md));
	EXPECT_EQ(PMRDMA_METADATA_CLOSED, md.flags);
	EXPECT_EQ(0, md.dirty_regions);
	for (i = 0; i < NREP; i++) {
		replica_media(self, i);
		ASSERT_TRUE(md_header(self->back, &h));
		EXPECT_EQ(PMEM_RDMA_MD_CLOSED, le32toh(h.flags));
		EXPECT_EQ(md.gen[0], le64toh(h.gen[0]));
	}
}

TEST_HARNESS_MAIN
