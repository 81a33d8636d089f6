// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma as a target: the fsdax namespace (PMEM_RDMA_PMEM) is exported
 * by the kernel, and a librdmacm peer on the same rxe device stands in for
 * a remote host.  It receives the region descriptor, WRITEs and FLUSHes
 * one-sidedly, and the bytes are read back through the block device.
 *
 * Fixture tg exports in real mode, em with the emulated persistence
 * domain, where POWER_FAIL must lose exactly what was not made persistent
 * and VERIFY must hash what a failure would leave, vx in real mode for
 * VERIFY alone: SHA-256, no READ.
 */
#include <pthread.h>

#include "target_helpers.h"

FIXTURE(tg)
{
	struct target t;
};

FIXTURE_SETUP(tg)
{
	target_open(_metadata, &self->t, 0, ACCESS_RWF, 0);
}

FIXTURE_TEARDOWN(tg)
{
	target_close(&self->t);
}

TEST_F(tg, descriptor)
{
	struct pmem_rdma_stats st;

	if (no_target(&self->t))
		return;
	EXPECT_EQ(PMEM_RDMA_DESC_MAGIC, self->t.p.r.magic);
	EXPECT_EQ(PMEM_RDMA_ABI_VERSION, self->t.p.r.abi_version);
	EXPECT_EQ(0, self->t.p.r.flags);
	EXPECT_EQ(EXP_LEN, self->t.p.r.length);
	EXPECT_NE(0, self->t.p.r.rkey);
	EXPECT_EQ(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
		  PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
		  PMEM_RDMA_ACCESS_FLUSH_PERSISTENT, self->t.p.r.access);
	EXPECT_EQ(PMEM_RDMA_PLACEMENT_GLOBAL | PMEM_RDMA_PLACEMENT_PERSISTENT,
		  self->t.p.r.placement_types);
	ASSERT_EQ(0, export_stats(self->t.fd, self->t.id, &st));
	EXPECT_EQ(1, st.peers);
	EXPECT_EQ(1, st.connects);
}

/* READ is granted, VERIFY is not: the export's owner decides */
TEST_F(tg, verify_refused_without_verify_access)
{
	if (no_target(&self->t))
		return;
	EXPECT_EQ(0, self->t.p.r.verify_algs);
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, peer_verify(&self->t, SHA256, 0, 64,
						     NULL));
}

TEST_F(tg, write_flush_read_back_through_the_device)
{
	struct target *t = &self->t;
	const uint64_t at = 8192 + 512;
	const uint32_t len = BUF_LEN - 1024;
	struct pmem_rdma_power_fail pf;
	struct pmem_rdma_stats st;

	if (no_target(t))
		return;
	pt_fill_pattern(t->buf, len, 41);
	ASSERT_EQ(0, peer_write(t, at, len));
	ASSERT_EQ(0, peer_flush(t, at, len, IBV_FLUSH_PERSISTENT));

	ASSERT_EQ(0, target_read(t, 8192, t->back, BUF_LEN));
	EXPECT_EQ(0, pt_check_pattern(t->back + 512, len, 41));

	/* the target's CPU saw it all go by */
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(len, st.bytes_written);
	EXPECT_EQ(1, st.flushes);
	EXPECT_EQ(len, st.bytes_flushed);
	EXPECT_EQ(0, st.dirty_lines);
	/* a real export has no media image to fall back to */
	EXPECT_EQ(-EOPNOTSUPP, power_fail(t, 0, 1, &pf));
}

/* no payload, no MR on the target's side: nothing for the domain */
TEST_F(tg, zero_length_write)
{
	struct pmem_rdma_stats st;

	if (no_target(&self->t))
		return;
	ASSERT_EQ(0, peer_write(&self->t, 4096, 0));
	ASSERT_EQ(0, export_stats(self->t.fd, self->t.id, &st));
	EXPECT_EQ(0, st.bytes_written);
}

/* VERIFY without READ, SHA-256 only, real mode */
FIXTURE(vx)
{
	struct target t;
};

FIXTURE_SETUP(vx)
{
	target_open(_metadata, &self->t, 0, PMEM_RDMA_ACCESS_WRITE |
		    PMEM_RDMA_ACCESS_FLUSH_PERSISTENT | PMEM_RDMA_ACCESS_VERIFY,
		    PMEM_RDMA_VERIFY_SHA256);
}

FIXTURE_TEARDOWN(vx)
{
	target_close(&self->t);
}

TEST_F(vx, verify_without_read)
{
	struct target *t = &self->t;
	uint8_t d[PT_DIGEST_MAX];
	struct pmem_rdma_stats st;
	struct ibv_wc wc;

	if (no_target(t))
		return;
	EXPECT_EQ(PMEM_RDMA_ACCESS_WRITE | PMEM_RDMA_ACCESS_FLUSH_PERSISTENT |
		  PMEM_RDMA_ACCESS_VERIFY, t->p.r.access);
	EXPECT_EQ(PMEM_RDMA_VERIFY_SHA256, t->p.r.verify_algs);
	pt_fill_pattern(t->buf, 12288, 77);
	ASSERT_EQ(0, peer_write(t, 4096, 12288));
	ASSERT_EQ(0, peer_flush(t, 4096, 12288, IBV_FLUSH_PERSISTENT));
	ASSERT_EQ(32, pt_digest(SHA256, t->buf, 12288, d));
	ASSERT_EQ(0, peer_verify(t, SHA256, 4096, 12288, NULL));
	EXPECT_EQ(0, memcmp(d, DIGEST(t), 32));
	EXPECT_EQ(0, peer_verify(t, SHA256, 4096, 12288, d));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(2, st.verifies);
	/* no READ on this key */
	ASSERT_EQ(0, pt_rdma_sync(&t->p.c, IBV_WR_RDMA_READ, t->buf, 64,
				  t->mr->lkey, t->p.r.iova, t->p.r.rkey, &wc));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
}

TEST_F(vx, algorithm_not_granted)
{
	if (no_target(&self->t))
		return;
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, peer_verify(&self->t, CRC32C, 0, 64,
						     NULL));
}

FIXTURE(em)
{
	struct target t;
};

FIXTURE_SETUP(em)
{
	target_open(_metadata, &self->t, PMEM_RDMA_EXPORT_EMULATED,
		    ACCESS_RWF | PMEM_RDMA_ACCESS_VERIFY, PMEM_RDMA_VERIFY_ALL);
}

FIXTURE_TEARDOWN(em)
{
	target_close(&self->t);
}

/*
 * Make [at, at + len) hold the 'old' pattern persistently, then write the
 * 'new' one over it: what a power failure keeps of it is the question.
 */
static void em_prepare(struct __test_metadata *_metadata, struct target *t,
		       uint64_t at, uint32_t len)
{
	pt_fill_pattern(t->buf, len, 1000 + at);
	ASSERT_EQ(0, peer_write(t, at, len));
	ASSERT_EQ(0, peer_flush(t, at, len, IBV_FLUSH_PERSISTENT));
	memcpy(t->old, t->buf, len);
	pt_fill_pattern(t->buf, len, 2000 + at);
	ASSERT_EQ(0, peer_write(t, at, len));
}

TEST_F(em, descriptor_says_emulated)
{
	if (no_target(&self->t))
		return;
	EXPECT_EQ(PMEM_RDMA_EXPORT_EMULATED, self->t.p.r.flags);
	EXPECT_EQ(PMEM_RDMA_VERIFY_CRC32C | PMEM_RDMA_VERIFY_SHA256,
		  self->t.p.r.verify_algs);
	EXPECT_TRUE(self->t.p.r.access & PMEM_RDMA_ACCESS_VERIFY);
}

/*
 * VERIFY hashes what a power failure would leave: a write that was not
 * flushed is not in the digest, so the peer learns of the missing FLUSH
 * without a failure and without reading the data back.
 */
TEST_F(em, verify_catches_a_missing_flush)
{
	struct target *t = &self->t;
	const uint64_t at = 256 * 1024;
	const uint32_t len = 8192;
	uint8_t old_d[PT_DIGEST_MAX], new_d[PT_DIGEST_MAX];
	struct pmem_rdma_stats st;

	if (no_target(t))
		return;
	em_prepare(_metadata, t, at, len);
	ASSERT_EQ(32, pt_digest(SHA256, t->old, len, old_d));
	ASSERT_EQ(32, pt_digest(SHA256, t->buf, len, new_d));

	/* the new data is visible, but the media still holds the old */
	ASSERT_EQ(0, peer_verify(t, SHA256, at, len, NULL));
	EXPECT_EQ(0, memcmp(old_d, DIGEST(t), 32));
	ASSERT_EQ(0, peer_flush(t, at, len, IBV_FLUSH_PERSISTENT));
	ASSERT_EQ(0, peer_verify(t, SHA256, at, len, NULL));
	EXPECT_EQ(0, memcmp(new_d, DIGEST(t), 32));
	ASSERT_EQ(4, pt_digest(CRC32C, t->buf, len, new_d));
	EXPECT_EQ(0, peer_verify(t, CRC32C, at, len, new_d));

	/* a digest that differs ends the connection */
	new_d[0] ^= 0x80;
	EXPECT_EQ(IBV_WC_REM_OP_ERR, peer_verify(t, CRC32C, at, len, new_d));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(4, st.verifies);
}

TEST_F(em, write_without_flush_is_lost)
{
	struct target *t = &self->t;
	const uint64_t at = 64 * 1024;
	const uint32_t len = 8192;
	struct pmem_rdma_power_fail pf;
	struct pmem_rdma_stats st;
	uint64_t val = 0x1122334455667788ULL, before;
	struct ibv_wc wc;

	if (no_target(t))
		return;
	em_prepare(_metadata, t, at, len);
	/* and an ATOMIC WRITE elsewhere, unflushed too */
	ASSERT_EQ(0, target_read(t, 0, t->back, 4096));
	memcpy(&before, t->back + 512, 8);
	ASSERT_EQ(0, pt_wr_atomic_write(&t->p.c, t->p.r.rkey,
					t->p.r.iova + 512, &val, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);

	/* visible before the failure */
	ASSERT_EQ(0, target_read(t, at, t->back, len));
	EXPECT_EQ(0, memcmp(t->back, t->buf, len));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(len / 64 + 1, st.dirty_lines);

	ASSERT_EQ(0, power_fail(t, 0, 1, &pf));
	EXPECT_EQ(len / 64 + 1, pf.lines_lost);
	EXPECT_EQ(0, pf.lines_evicted);
	ASSERT_EQ(0, target_read(t, at, t->back, len));
	EXPECT_EQ(0, memcmp(t->back, t->old, len));
	ASSERT_EQ(0, target_read(t, 0, t->back, 4096));
	EXPECT_EQ(0, memcmp(t->back + 512, &before, 8));

	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(0, st.dirty_lines);
	EXPECT_EQ(1, st.power_failures);
}

TEST_F(em, persistent_flush_keeps)
{
	struct target *t = &self->t;
	const uint64_t at = 128 * 1024;
	const uint32_t len = 8192;
	struct pmem_rdma_power_fail pf;
	uint64_t val = 0x0123456789abcdefULL;
	struct ibv_wc wc;

	if (no_target(t))
		return;
	em_prepare(_metadata, t, at, len);
	ASSERT_EQ(0, pt_wr_atomic_write(&t->p.c, t->p.r.rkey,
					t->p.r.iova + at + len, &val, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	memcpy(t->buf + len, &val, 8);
	ASSERT_EQ(0, peer_flush(t, at, len + 8, IBV_FLUSH_PERSISTENT));

	ASSERT_EQ(0, power_fail(t, 0, 1, &pf));
	EXPECT_EQ(0, pf.lines_lost);
	ASSERT_EQ(0, target_read(t, at, t->back, len + 4096));
	EXPECT_EQ(0, memcmp(t->back, t->buf, len + 8));
}

TEST_F(em, global_flush_alone_is_lost)
{
	struct target *t = &self->t;
	const uint64_t at = 192 * 1024;
	const uint32_t len = 8192;
	struct pmem_rdma_power_fail pf;

	if (no_target(t))
		return;
	em_prepare(_metadata, t, at, len);
	ASSERT_EQ(0, peer_flush(t, at, len, IBV_FLUSH_GLOBAL));

	ASSERT_EQ(0, power_fail(t, 0, 1, &pf));
	EXPECT_EQ(len / 64, pf.lines_lost);
	ASSERT_EQ(0, target_read(t, at, t->back, len));
	EXPECT_EQ(0, memcmp(t->back, t->old, len));
}

TEST_F(em, partial_flush_keeps_its_lines_only)
{
	struct target *t = &self->t;
	const uint64_t at = 256 * 1024;
	const uint32_t len = 16384;
	/* 4097 bytes from 'at' touch 65 lines: those persist, whole */
	const uint32_t kept = 65 * 64;
	struct pmem_rdma_power_fail pf;

	if (no_target(t))
		return;
	em_prepare(_metadata, t, at, len);
	ASSERT_EQ(0, peer_flush(t, at, 4097, IBV_FLUSH_PERSISTENT));

	ASSERT_EQ(0, power_fail(t, 0, 1, &pf));
	EXPECT_EQ((len - kept) / 64, pf.lines_lost);
	ASSERT_EQ(0, target_read(t, at, t->back, len));
	EXPECT_EQ(0, memcmp(t->back, t->buf, kept));
	EXPECT_EQ(0, memcmp(t->back + kept, t->old + kept, len - kept));
}

/* which of the 'new' lines survived, as a string of 0 and 1 */
static void em_survivors(struct __test_metadata *_metadata, struct target *t,
			 uint64_t at, uint32_t len, char *out)
{
	uint32_t i;

	ASSERT_EQ(0, target_read(t, at, t->back, len));
	for (i = 0; i < len / 64; i++) {
		int is_new = !memcmp(t->back + i * 64, t->buf + i * 64, 64);
		int is_old = !memcmp(t->back + i * 64, t->old + i * 64, 64);

		/* a line is all new or all old, never torn */
		ASSERT_TRUE(is_new != is_old) TH_LOG("line %u torn", i);
		out[i] = is_new ? '1' : '0';
	}
	out[i] = '\0';
}

TEST_F(em, early_eviction_is_seeded_and_reproducible)
{
	struct target *t = &self->t;
	const uint64_t at = 512 * 1024;
	const uint32_t len = 64 * 1024, lines = len / 64;
	struct pmem_rdma_power_fail pf[3];
	static char s[3][1024 + 1];
	const uint64_t seed[3] = { 7, 7, 8 };
	int i, kept;

	if (no_target(t))
		return;
	for (i = 0; i < 3; i++) {
		em_prepare(_metadata, t, at, len);
		ASSERT_EQ(0, power_fail(t, 250000, seed[i], &pf[i]));
		EXPECT_EQ(lines, pf[i].lines_lost + pf[i].lines_evicted);
		em_survivors(_metadata, t, at, len, s[i]);
		kept = 0;
		for (uint32_t l = 0; l < lines; l++)
			kept += s[i][l] == '1';
		EXPECT_EQ(pf[i].lines_evicted, kept);
	}
	/* about a quarter reached the media early */
	EXPECT_LT(lines / 8, pf[0].lines_evicted);
	EXPECT_GT(lines * 3 / 8, pf[0].lines_evicted);
	/* the same seed picks the same lines; another seed others */
	EXPECT_EQ(0, strcmp(s[0], s[1]));
	EXPECT_NE(0, strcmp(s[0], s[2]));
}

TEST_F(em, power_fail_refusals)
{
	struct target *t = &self->t;
	struct pmem_rdma_power_fail pf;

	if (no_target(t))
		return;
	memset(&pf, 0, sizeof(pf));
	pf.id = t->id;
	pf.eviction_ppm = 1000001;
	EXPECT_EQ(-EINVAL, ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, &pf));
	pf.eviction_ppm = 0;
	pf.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, &pf));
	pf.reserved[1] = 0;
	pf.lines_lost = 1;
	EXPECT_EQ(-EINVAL, ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, &pf));
	pf.lines_lost = 0;
	pf.id = t->id + 1000;
	EXPECT_EQ(-ENOENT, ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, &pf));
	pf.id = t->id;
	EXPECT_EQ(0, ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, &pf));
}

/* WRITEs of 64 KiB, one at a time, until one fails */
struct traffic {
	struct target *t;
	pthread_t thread;
	int done;		/* WRITEs completed */
	int ret;		/* how the last one ended: -errno or -status */
};

static void *traffic_run(void *arg)
{
	struct traffic *tr = arg;
	struct target *t = tr->t;
	struct ibv_wc wc;
	int ret;

	pt_fill_pattern(t->buf, 65536, 5);
	for (;;) {
		ret = pt_rdma_sync(&t->p.c, IBV_WR_RDMA_WRITE, t->buf, 65536,
				   t->mr->lkey,
				   t->p.r.iova + (tr->done % 16) * 65536,
				   t->p.r.rkey, &wc);
		if (!ret && wc.status != IBV_WC_SUCCESS)
			ret = -(int)wc.status;
		if (ret)
			break;
		__atomic_add_fetch(&tr->done, 1, __ATOMIC_RELEASE);
	}
	tr->ret = ret;
	return NULL;
}

/* lines of 'rdma res show <what>' that belong to pmem_rdma */
static int pmem_rdma_resources(const char *what)
{
	char cmd[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "rdma res show %s", what);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "[pmem_rdma]");
	return pclose(f) ? -1 : n;
}

/*
 * Start WRITE traffic, take the export away with how(), and check that the
 * peer is told, its QP errors out, and the target keeps nothing.
 */
static void teardown_under_traffic(struct __test_metadata *_metadata,
				   struct target *t, int (*how)(struct target *t))
{
	struct traffic tr = { .t = t };
	int i;

	ASSERT_LT(0, pmem_rdma_resources("qp"));
	ASSERT_EQ(0, pthread_create(&tr.thread, NULL, traffic_run, &tr));
	for (i = 0; i < 200 && __atomic_load_n(&tr.done, __ATOMIC_ACQUIRE) < 4; i++)
		usleep(10000);
	EXPECT_LE(4, __atomic_load_n(&tr.done, __ATOMIC_ACQUIRE));

	ASSERT_EQ(0, how(t));
	t->id = 0;

	/* the peer hears of it at once, and its QP fails what is left */
	EXPECT_EQ(0, pt_peer_wait_disconnect(&t->p, 5000));
	rdma_disconnect(t->p.id);
	ASSERT_EQ(0, pthread_join(tr.thread, NULL));
	EXPECT_NE(0, tr.ret);

	EXPECT_EQ(0, pmem_rdma_resources("qp"));
	EXPECT_EQ(0, pmem_rdma_resources("mr"));
	EXPECT_EQ(0, pmem_rdma_resources("pd"));
	EXPECT_EQ(0, pmem_rdma_resources("cq"));
}

static int by_unexport(struct target *t)
{
	struct pmem_rdma_unexport u = { .id = t->id };

	return ctl(t->fd, PMEM_RDMA_IOC_UNEXPORT, &u);
}

static int by_module_unload(struct target *t)
{
	const char *ko = getenv("PMEM_RDMA_KO");
	char cmd[512];

	if (!ko)
		return -ENOENT;
	close(t->fd);
	t->fd = -1;
	if (system("rmmod pmem_rdma"))
		return -EBUSY;
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	if (system(cmd))
		return -EIO;
	t->fd = open(CTL, O_RDWR);
	return t->fd < 0 ? -errno : 0;
}

TEST_F(tg, unexport_under_traffic)
{
	struct pmem_rdma_stats st;
	uint32_t id = self->t.id;

	if (no_target(&self->t))
		return;
	teardown_under_traffic(_metadata, &self->t, by_unexport);
	EXPECT_EQ(-ENOENT, export_stats(self->t.fd, id, &st));
}

TEST_F(em, module_unload_under_traffic)
{
	struct pmem_rdma_list l = {};

	if (no_target(&self->t))
		return;
	teardown_under_traffic(_metadata, &self->t, by_module_unload);
	/* a new module: no export survived */
	ASSERT_EQ(0, ctl(self->t.fd, PMEM_RDMA_IOC_LIST, &l));
	EXPECT_EQ(0, l.count);
}

TEST_HARNESS_MAIN
