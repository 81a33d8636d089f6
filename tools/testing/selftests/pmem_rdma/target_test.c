// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma as a target: the fsdax namespace (PMEM_RDMA_PMEM) is exported
 * by the kernel, and a librdmacm peer on the same rxe device stands in for
 * a remote host.  It receives the region descriptor, WRITEs and FLUSHes
 * one-sidedly, and the bytes are read back through the block device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pmem_rdma.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "peer_helpers.h"

#define CTL		"/dev/pmem_rdma"
#define PORT		7481
#define EXP_OFF		(2UL << 20)
#define EXP_LEN		(2UL << 20)
#define BUF_LEN		(256UL << 10)

/* 0 or -errno */
static int ctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int export_range(int fd, const char *path, uint32_t flags,
			uint32_t *id)
{
	struct pmem_rdma_export e = {
		.abi_version = PMEM_RDMA_ABI_VERSION,
		.flags = flags,
		.offset = EXP_OFF,
		.length = EXP_LEN,
		.access = PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
			  PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
			  PMEM_RDMA_ACCESS_FLUSH_PERSISTENT,
		.port = PORT,
	};
	int ret;

	snprintf(e.path, sizeof(e.path), "%s", path);
	snprintf(e.ib_dev, sizeof(e.ib_dev), "%s",
		 getenv("PMEM_RDMA_IBDEV") ?: PR_DEV_DEFAULT);
	ret = ctl(fd, PMEM_RDMA_IOC_EXPORT, &e);
	*id = e.id;
	return ret;
}

static int export_stats(int fd, uint32_t id, struct pmem_rdma_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ctl(fd, PMEM_RDMA_IOC_STATS, st);
}

/* len bytes of the namespace at off, read around the page cache */
static int read_pmem(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

FIXTURE(tg)
{
	int fd;
	const char *pmem;
	uint32_t id;
	struct pr_peer p;
	unsigned char *buf, *back;
	struct ibv_mr *mr;
};

FIXTURE_SETUP(tg)
{
	const char *what = "";
	int ret;

	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->pmem = getenv("PMEM_RDMA_PMEM");
	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, export_range(self->fd, self->pmem, 0, &self->id));
	ret = pr_peer_connect(&self->p, PORT, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, 4096, BUF_LEN));
	ASSERT_EQ(0, posix_memalign((void **)&self->back, 4096, BUF_LEN));
	self->mr = ibv_reg_mr(self->p.pd, self->buf, BUF_LEN,
			      IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->mr);
}

FIXTURE_TEARDOWN(tg)
{
	struct pmem_rdma_unexport u = { .id = self->id };

	if (self->mr)
		ibv_dereg_mr(self->mr);
	pr_peer_close(&self->p);
	if (self->id)
		ctl(self->fd, PMEM_RDMA_IOC_UNEXPORT, &u);
	free(self->buf);
	free(self->back);
	close(self->fd);
}

TEST_F(tg, descriptor)
{
	struct pmem_rdma_stats st;

	EXPECT_EQ(PMEM_RDMA_DESC_MAGIC, self->p.r.magic);
	EXPECT_EQ(PMEM_RDMA_ABI_VERSION, self->p.r.abi_version);
	EXPECT_EQ(EXP_LEN, self->p.r.length);
	EXPECT_NE(0, self->p.r.rkey);
	EXPECT_EQ(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
		  PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
		  PMEM_RDMA_ACCESS_FLUSH_PERSISTENT, self->p.r.access);
	EXPECT_EQ(PMEM_RDMA_PLACEMENT_GLOBAL | PMEM_RDMA_PLACEMENT_PERSISTENT,
		  self->p.r.placement_types);
	ASSERT_EQ(0, export_stats(self->fd, self->id, &st));
	EXPECT_EQ(1, st.peers);
	EXPECT_EQ(1, st.connects);
}

TEST_F(tg, write_flush_read_back_through_the_device)
{
	const uint64_t at = 8192 + 512;
	const uint32_t len = BUF_LEN - 1024;
	struct ibv_wc wc;

	pr_fill_pattern(self->buf, len, 41);
	ASSERT_EQ(0, pr_rdma_sync(&self->p.c, IBV_WR_RDMA_WRITE, self->buf, len,
				  self->mr->lkey, self->p.r.iova + at,
				  self->p.r.rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(0, pr_wr_flush(&self->p.c, self->p.r.rkey,
				 self->p.r.iova + at, len,
				 IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);

	ASSERT_EQ(0, read_pmem(self->pmem, EXP_OFF + 8192, self->back, BUF_LEN));
	EXPECT_EQ(0, pr_check_pattern(self->back + 512, len, 41));
}

TEST_HARNESS_MAIN
