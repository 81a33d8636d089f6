// SPDX-License-Identifier: GPL-2.0
/*
 * An export of the fsdax namespace (PMEM_RDMA_PMEM) taken away while its
 * librdmacm peer (target_helpers.h) WRITEs: a real_export by UNEXPORT, an
 * emulated_export by unloading pmem_rdma, a real_export by unbinding the
 * namespace's driver.  The peer is told at once, its
 * QP fails what is left, and the target keeps no RDMA resource.  Runs
 * beside reload_test: it reloads pmem_rdma.
 */
#include <pthread.h>

#include "target_helpers.h"

FIXTURE(real_export)
{
	struct target t;
};

FIXTURE_SETUP(real_export)
{
	target_open(_metadata, &self->t, 0, ACCESS_RWF, 0);
}

FIXTURE_TEARDOWN(real_export)
{
	target_close(&self->t);
}

FIXTURE(emulated_export)
{
	struct target t;
};

FIXTURE_SETUP(emulated_export)
{
	target_open(_metadata, &self->t, PMEM_RDMA_EXPORT_EMULATED,
		    ACCESS_RWF | PMEM_RDMA_ACCESS_VERIFY, PMEM_RDMA_VERIFY_ALL);
}

FIXTURE_TEARDOWN(emulated_export)
{
	target_close(&self->t);
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
				   t->p.conn.r.iova + (tr->done % 16) * 65536,
				   t->p.conn.r.rkey, &wc);
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
	rdma_disconnect(t->p.conn.id);
	ASSERT_EQ(0, pthread_join(tr.thread, NULL));
	EXPECT_NE(0, tr.ret);

	EXPECT_EQ(0, pmem_rdma_resources("qp"));
	EXPECT_EQ(0, pmem_rdma_resources("mr"));
	EXPECT_EQ(0, pmem_rdma_resources("pd"));
	EXPECT_EQ(0, pmem_rdma_resources("cq"));
}

static int by_unexport(struct target *t)
{
	return unexport(t->fd, t->id);
}

static int by_module_unload(struct target *t)
{
	const char *ko = getenv("PMEM_RDMA_KO");

	if (!ko)
		return -ENOENT;
	close(t->fd);
	t->fd = -1;
	if (pt_sh("rmmod pmem_rdma"))
		return -EBUSY;
	if (pt_sh("insmod %s", ko))
		return -EIO;
	t->fd = open(CTL, O_RDWR);
	return t->fd < 0 ? -errno : 0;
}

/*
 * Unbind the driver of the export's disk (the fsdax namespace's pfn
 * device) as "echo DEV > .../unbind" does, which no holder can refuse,
 * and bind it again: the export must be gone before the pmem is.
 */
static int by_unbind(struct target *t)
{
	const char *blk = strrchr(t->pmem, '/') + 1;
	char dev[256], drv[256], path[512];
	int i;

	snprintf(path, sizeof(path), "/sys/block/%s/device", blk);
	if (!realpath(path, dev))
		return -errno;
	snprintf(path, sizeof(path), "/sys/block/%s/device/driver", blk);
	if (!realpath(path, drv))
		return -errno;
	if (pt_sh("echo %s > %s/unbind", strrchr(dev, '/') + 1, drv))
		return -EIO;
	if (pt_sh("echo %s > %s/bind", strrchr(dev, '/') + 1, drv))
		return -EIO;
	for (i = 0; i < 50 && pt_sh("test -b %s", t->pmem); i++)
		usleep(100 * 1000);
	return pt_sh("test -b %s", t->pmem) ? -ENODEV : 0;
}

TEST_F(real_export, unexport_under_traffic)
{
	struct pmem_rdma_stats st;
	uint32_t id = self->t.id;

	if (no_target(&self->t))
		return;
	teardown_under_traffic(_metadata, &self->t, by_unexport);
	EXPECT_EQ(-ENOENT, export_stats(self->t.fd, id, &st));
}

TEST_F(emulated_export, module_unload_under_traffic)
{
	struct pmem_rdma_list l = {};

	if (no_target(&self->t))
		return;
	teardown_under_traffic(_metadata, &self->t, by_module_unload);
	/* a new module: no export survived */
	ASSERT_EQ(0, ctl(self->t.fd, PMEM_RDMA_IOC_LIST, &l));
	EXPECT_EQ(0, l.count);
}

TEST_F(real_export, namespace_unbound_under_traffic)
{
	struct pmem_rdma_stats st;
	uint32_t id = self->t.id;

	if (no_target(&self->t))
		return;
	teardown_under_traffic(_metadata, &self->t, by_unbind);
	EXPECT_EQ(-ENOENT, export_stats(self->t.fd, id, &st));
}

/* one RDMA READ or WRITE of the export's [at, at + len): the WC status */
static int peer_rw(struct target *t, enum ibv_wr_opcode op, uint64_t at,
		   uint32_t len)
{
	struct ibv_wc wc;
	int ret;

	ret = pt_rdma_sync(&t->p.c, op, t->buf, len, t->mr->lkey,
			   t->p.conn.r.iova + at, t->p.conn.r.rkey, &wc);
	return ret ? ret : (int)wc.status;
}

/* after a NAK the peer's QP is in error: a new connection */
static void reconnect(struct __test_metadata *_metadata, struct target *t)
{
	const char *what = "";

	ibv_dereg_mr(t->mr);
	pt_peer_close(&t->p);
	ASSERT_EQ(0, pt_peer_connect(&t->p, TARGET_PORT, &what)) TH_LOG("%s", what);
	t->mr = ibv_reg_mr(t->p.conn.pd, t->buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, t->mr);
}

/*
 * A media error the kernel knows of - a bad sector of the disk, put there
 * through /sys/block/DISK/badblocks as ARS or a survived machine check
 * would - is refused with a remote operational error NAK, for READ, WRITE
 * and FLUSH, before the line is touched; the rest of the export is served.
 * Rebinding the driver forgets the bad sector (QEMU's NVDIMM has none).
 */
TEST_F(real_export, poisoned_line_refused_not_read)
{
	struct target *t = &self->t;
	const char *blk;
	uint64_t sector = (EXP_OFF + 8192) / 512;

	if (no_target(t))
		return;
	blk = strrchr(t->pmem, '/') + 1;
	pt_fill_pattern(t->buf, 16384, 7);
	ASSERT_EQ(0, peer_write(t, 0, 16384));
	ASSERT_EQ(0, pt_sh("echo '%llu 1' > /sys/block/%s/badblocks",
			   (unsigned long long)sector, blk));

	EXPECT_EQ(IBV_WC_REM_OP_ERR, peer_rw(t, IBV_WR_RDMA_READ, 8192 + 100, 8));
	reconnect(_metadata, t);
	EXPECT_EQ(IBV_WC_REM_OP_ERR, peer_rw(t, IBV_WR_RDMA_WRITE, 4096, 8192));
	reconnect(_metadata, t);
	/* a completion in error, as the READ's and WRITE's */
	EXPECT_EQ(-EIO, peer_flush(t, 8192, 512, RXE_FLUSH_TYPE_PERSISTENT));
	reconnect(_metadata, t);
	/* the lines around it are served */
	memset(t->buf, 0, 4096);
	EXPECT_EQ(IBV_WC_SUCCESS, peer_rw(t, IBV_WR_RDMA_READ, 0, 4096));
	EXPECT_EQ(0, pt_check_pattern(t->buf, 4096, 7));
	EXPECT_EQ(IBV_WC_SUCCESS, peer_rw(t, IBV_WR_RDMA_READ, 8192 + 512, 4096));

	EXPECT_EQ(0, by_unbind(t));
	t->id = 0;
}

/* ndctl's JSON on stdin, a block device's name in argv[1]: its namespace */
#define NAMESPACE_OF_BLOCKDEV \
	"import json, sys; d = json.load(sys.stdin); d = d if isinstance(d, list) else [d]; print(*[n[\"dev\"] for n in d if n.get(\"blockdev\") == sys.argv[1]])"
/* the format of pt_sh(): the script above, the block device's name */
#define DISABLE_NAMESPACE_OF \
	"ndctl list -N | python3 -c '%s' %s | xargs -r ndctl disable-namespace >/dev/null 2>&1"

/*
 * The namespace cannot go away under an export: the export holds its
 * block device, so ndctl refuses to disable the namespace, and the peer
 * goes on writing and reading.
 */
TEST_F(real_export, namespace_disable_refused_while_exported)
{
	struct target *t = &self->t;
	const char *blk;

	if (no_target(t))
		return;
	blk = strrchr(t->pmem, '/') + 1;
	EXPECT_NE(0, pt_sh(DISABLE_NAMESPACE_OF, NAMESPACE_OF_BLOCKDEV, blk));
	EXPECT_EQ(0, pt_sh("test -b %s", t->pmem));
	pt_fill_pattern(t->buf, 8192, 5);
	ASSERT_EQ(0, peer_write(t, 4096, 8192));
	ASSERT_EQ(0, target_read(t, 4096, t->back, 8192));
	EXPECT_EQ(0, pt_check_pattern(t->back, 8192, 5));
}

TEST_HARNESS_MAIN
