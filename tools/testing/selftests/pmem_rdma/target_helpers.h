/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctls of /dev/pmem_rdma, and the fixture of the target tests: an
 * export of the fsdax namespace (PMEM_RDMA_PMEM) made through it, and a
 * librdmacm peer on the same rxe device (peer_helpers.h) standing in for a
 * remote host, connected to it, with page-aligned buffers: buf registered
 * for the peer's requests, back and old for what the test reads back and
 * keeps.
 *
 * Header only: the setup asserts with kselftest_harness.h.
 */
#ifndef PMEM_RDMA_TARGET_HELPERS_H
#define PMEM_RDMA_TARGET_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pmem_rdma.h>
#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "peer_helpers.h"
#include "verify_helpers.h"

#define CTL		"/dev/pmem_rdma"
#define TARGET_PORT	7481
#define EXP_OFF		(2UL << 20)
#define EXP_LEN		(2UL << 20)
#define BUF_LEN		(256UL << 10)
#define ACCESS_RWF	(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE | \
			 PMEM_RDMA_ACCESS_FLUSH_GLOBAL | \
			 PMEM_RDMA_ACCESS_FLUSH_PERSISTENT)
#define CRC32C		RXE_FLUSH_VERIFY_ALG_CRC32C
#define SHA256		RXE_FLUSH_VERIFY_ALG_SHA256

/* 0 or -errno */
static inline int ctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int unexport(int fd, uint32_t id)
{
	struct pmem_rdma_unexport u = { .id = id };

	return ctl(fd, PMEM_RDMA_IOC_UNEXPORT, &u);
}

/* policy NULL: any peer, as every test but those of access control */
/* an export request of [EXP_OFF, + EXP_LEN) of path, on DEV's port */
static inline void export_req_fill(struct pmem_rdma_export_req *e,
				   const char *path, uint32_t flags,
				   uint32_t access, uint32_t verify_algs,
				   uint16_t max_peers,
				   const struct pmem_rdma_policy *policy,
				   uint16_t port)
{
	*e = (struct pmem_rdma_export_req){
		.abi_version = PMEM_RDMA_ABI_VERSION,
		.flags = flags | (policy ? 0 : PMEM_RDMA_EXPORT_ANY_PEER),
		.offset = EXP_OFF,
		.length = EXP_LEN,
		.access = access,
		.verify_algs = verify_algs,
		.port = port,
		.max_peers = max_peers,
	};
	if (policy)
		e->policy = *policy;
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->ib_dev, sizeof(e->ib_dev), "%s",
		 getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT);
}

static inline int export_range_port(int fd, const char *path,
				    uint32_t flags, uint32_t access,
				    uint32_t verify_algs, uint16_t max_peers,
				    const struct pmem_rdma_policy *policy,
				    uint16_t port, uint32_t *id)
{
	struct pmem_rdma_export_req e;
	int ret;

	export_req_fill(&e, path, flags, access, verify_algs, max_peers,
			policy, port);
	ret = ctl(fd, PMEM_RDMA_IOC_EXPORT, &e);
	*id = e.id;
	return ret;
}

static inline int export_range_policy(int fd, const char *path,
				      uint32_t flags, uint32_t access,
				      uint32_t verify_algs, uint16_t max_peers,
				      const struct pmem_rdma_policy *policy,
				      uint32_t *id)
{
	return export_range_port(fd, path, flags, access, verify_algs,
				 max_peers, policy, TARGET_PORT, id);
}

static inline int export_range_max(int fd, const char *path, uint32_t flags,
				   uint32_t access, uint32_t verify_algs,
				   uint16_t max_peers, uint32_t *id)
{
	return export_range_policy(fd, path, flags, access, verify_algs,
				   max_peers, NULL, id);
}

static inline int export_range(int fd, const char *path, uint32_t flags,
			       uint32_t access, uint32_t verify_algs,
			       uint32_t *id)
{
	return export_range_max(fd, path, flags, access, verify_algs, 0, id);
}

static inline int export_stats(int fd, uint32_t id,
			       struct pmem_rdma_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ctl(fd, PMEM_RDMA_IOC_STATS, st);
}

/* len bytes of the namespace at off, read around the page cache */
static inline int read_pmem(const char *path, uint64_t off, void *buf,
			    size_t len)
{
	int fd = open(path, O_RDONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

struct target {
	int fd;
	const char *pmem;
	uint32_t id;
	struct pt_peer p;
	unsigned char *buf, *back, *old;
	struct ibv_mr *mr;
};

static inline void target_open_max_peers(struct __test_metadata *_metadata,
					 struct target *t, uint32_t flags,
					 uint32_t access, uint32_t verify_algs,
					 uint16_t max_peers)
{
	const char *what = "";
	int ret;

	t->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, t->fd);
	t->pmem = getenv("PMEM_RDMA_PMEM");
	if (!t->pmem || !t->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, export_range_max(t->fd, t->pmem, flags, access,
				      verify_algs, max_peers, &t->id));
	ret = pt_peer_connect(&t->p, TARGET_PORT, &what);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	ASSERT_EQ(0, posix_memalign((void **)&t->buf, 4096, BUF_LEN));
	ASSERT_EQ(0, posix_memalign((void **)&t->back, 4096, BUF_LEN));
	ASSERT_EQ(0, posix_memalign((void **)&t->old, 4096, BUF_LEN));
	t->mr = ibv_reg_mr(t->p.conn.pd, t->buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, t->mr);
}

static inline void target_open(struct __test_metadata *_metadata,
			       struct target *t, uint32_t flags,
			       uint32_t access, uint32_t verify_algs)
{
	target_open_max_peers(_metadata, t, flags, access, verify_algs, 0);
}

static inline void target_close(struct target *t)
{
	if (t->mr)
		ibv_dereg_mr(t->mr);
	pt_peer_close(&t->p);
	if (t->id)
		unexport(t->fd, t->id);
	free(t->buf);
	free(t->back);
	free(t->old);
	if (t->fd >= 0)
		close(t->fd);
}

/* 6.1's harness runs the test even after a SKIP in setup */
static inline bool no_target(const struct target *t)
{
	return !t->mr;
}

/* RDMA WRITE of buf[0, len) to the export at 'at': 0 or -errno/status */
static inline int peer_write(struct target *t, uint64_t at, uint32_t len)
{
	return pt_peer_write(&t->p, at, t->buf, len, t->mr->lkey);
}

static inline int peer_flush(struct target *t, uint64_t at, uint64_t len,
			     uint8_t type)
{
	return pt_peer_flush(&t->p, at, len, type);
}

static inline int power_fail(struct target *t, uint32_t ppm, uint64_t seed,
			     struct pmem_rdma_power_fail *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->id = t->id;
	pf->eviction_ppm = ppm;
	pf->seed = seed;
	return ctl(t->fd, PMEM_RDMA_IOC_POWER_FAIL, pf);
}

/* the export's bytes [at, at + len) as the namespace holds them; O_DIRECT:
 * at and len are multiples of the logical block size
 */
static inline int target_read(struct target *t, uint64_t at, void *buf,
			      size_t len)
{
	return read_pmem(t->pmem, EXP_OFF + at, buf, len);
}

/* the digest buffer: the last 64 bytes of buf */
#define DIGEST(t)	((t)->buf + BUF_LEN - 64)

/*
 * VERIFY [at, at + len) of the export with alg and flags (0, or
 * RXE_FLUSH_VERIFY_FLUSH(type) for flush-and-verify); with expect, compare
 * with it, else return the digest in DIGEST(t).  The WC status, or -errno.
 */
static inline int peer_verify_flags(struct target *t, uint32_t alg,
				    uint32_t flags, uint64_t at, uint64_t len,
				    const uint8_t *expect)
{
	if (expect)
		memcpy(DIGEST(t), expect, pmrdma_digest_len(alg));
	return pt_peer_verify(&t->p, alg,
			      flags | (expect ? RXE_FLUSH_VERIFY_COMPARE : 0),
			      at, len, DIGEST(t), t->mr->lkey);
}

static inline int peer_verify(struct target *t, uint32_t alg, uint64_t at,
			      uint64_t len, const uint8_t *expect)
{
	return peer_verify_flags(t, alg, 0, at, len, expect);
}

#endif /* PMEM_RDMA_TARGET_HELPERS_H */
