// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma as a target, in real mode: the fsdax namespace (PMEM_RDMA_PMEM)
 * is exported by the kernel, and a librdmacm peer on the same rxe device
 * stands in for a remote host (target_helpers.h).  It receives the region
 * descriptor, WRITEs and FLUSHes one-sidedly, and the bytes are read back
 * through the block device.  VERIFY is granted or refused by the export's
 * access and algorithms: real_export grants READ but not VERIFY,
 * verify_only_export VERIFY alone: SHA-256, no READ.  Without READ a
 * VERIFY may only compare, over whole 4 KiB blocks of the export: a
 * returned digest, or a short window's match, would tell what a READ does.
 */
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

TEST_F(real_export, descriptor)
{
	struct pmem_rdma_stats st;

	if (no_target(&self->t))
		return;
	EXPECT_EQ(PMEM_RDMA_DESC_MAGIC, self->t.p.conn.r.magic);
	EXPECT_EQ(PMEM_RDMA_ABI_VERSION, self->t.p.conn.r.abi_version);
	/* the export's flags: open to any peer, as the fixture made it */
	EXPECT_EQ(PMEM_RDMA_EXPORT_ANY_PEER, self->t.p.conn.r.flags);
	EXPECT_EQ(EXP_LEN, self->t.p.conn.r.length);
	/* zero-based: no kernel address for the peer */
	EXPECT_EQ(0, self->t.p.conn.r.iova);
	EXPECT_NE(0, self->t.p.conn.r.rkey);
	EXPECT_EQ(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
		  PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
		  PMEM_RDMA_ACCESS_FLUSH_PERSISTENT, self->t.p.conn.r.access);
	EXPECT_EQ(PMEM_RDMA_PLACEMENT_GLOBAL | PMEM_RDMA_PLACEMENT_PERSISTENT,
		  self->t.p.conn.r.placement_types);
	ASSERT_EQ(0, export_stats(self->t.fd, self->t.id, &st));
	EXPECT_EQ(1, st.peers);
	EXPECT_EQ(1, st.connects);
}

/* READ is granted, VERIFY is not: the export's owner decides */
TEST_F(real_export, verify_refused_without_verify_access)
{
	if (no_target(&self->t))
		return;
	EXPECT_EQ(0, self->t.p.conn.r.verify_algs);
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, peer_verify(&self->t, SHA256, 0, 64,
						     NULL));
}

TEST_F(real_export, write_flush_read_back_through_the_device)
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
TEST_F(real_export, zero_length_write)
{
	struct pmem_rdma_stats st;

	if (no_target(&self->t))
		return;
	ASSERT_EQ(0, peer_write(&self->t, 4096, 0));
	ASSERT_EQ(0, export_stats(self->t.fd, self->t.id, &st));
	EXPECT_EQ(0, st.bytes_written);
}

/* VERIFY without READ, SHA-256 only, real mode */
FIXTURE(verify_only_export)
{
	struct target t;
};

FIXTURE_SETUP(verify_only_export)
{
	target_open(_metadata, &self->t, 0, PMEM_RDMA_ACCESS_WRITE |
		    PMEM_RDMA_ACCESS_FLUSH_PERSISTENT | PMEM_RDMA_ACCESS_VERIFY,
		    PMEM_RDMA_VERIFY_SHA256);
}

FIXTURE_TEARDOWN(verify_only_export)
{
	target_close(&self->t);
}

TEST_F(verify_only_export, verify_without_read)
{
	struct target *t = &self->t;
	uint8_t d[PMRDMA_DIGEST_MAX];
	struct pmem_rdma_stats st;
	struct ibv_wc wc;

	if (no_target(t))
		return;
	EXPECT_EQ(PMEM_RDMA_ACCESS_WRITE | PMEM_RDMA_ACCESS_FLUSH_PERSISTENT |
		  PMEM_RDMA_ACCESS_VERIFY, t->p.conn.r.access);
	EXPECT_EQ(PMEM_RDMA_VERIFY_SHA256, t->p.conn.r.verify_algs);
	pt_fill_pattern(t->buf, 12288, 77);
	ASSERT_EQ(0, peer_write(t, 4096, 12288));
	ASSERT_EQ(0, peer_flush(t, 4096, 12288, IBV_FLUSH_PERSISTENT));
	ASSERT_EQ(32, pmrdma_digest(SHA256, t->buf, 12288, d));
	EXPECT_EQ(0, peer_verify(t, SHA256, 4096, 12288, d));
	/* one 4 KiB block is the least */
	ASSERT_EQ(32, pmrdma_digest(SHA256, t->buf + 4096, 4096, d));
	EXPECT_EQ(0, peer_verify(t, SHA256, 8192, 4096, d));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(2, st.verifies);
	/* no READ on this key */
	ASSERT_EQ(0, pt_rdma_sync(&t->p.c, IBV_WR_RDMA_READ, t->buf, 64,
				  t->mr->lkey, t->p.conn.r.iova, t->p.conn.r.rkey, &wc));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status);
}

/*
 * Without READ each VERIFY that would tell more than a 4 KiB block's
 * match is refused with a remote access error: a returned digest (one of
 * a byte is a 256-entry table), a window shorter than 4 KiB or not a
 * whole number of 4 KiB blocks of the export.  A refusal ends the
 * connection, so one per fixture.
 */
static void verify_no_read_refused(struct __test_metadata *_metadata,
				   struct target *t, uint64_t at, uint64_t len,
				   int compare)
{
	uint8_t d[PMRDMA_DIGEST_MAX];
	struct pmem_rdma_stats st;

	if (no_target(t))
		return;
	pt_fill_pattern(t->buf, 16384, 79);
	ASSERT_EQ(0, peer_write(t, 0, 16384));
	ASSERT_EQ(32, pmrdma_digest(SHA256, t->buf + at, len, d));
	memset(DIGEST(t), 0, 32);
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  peer_verify(t, SHA256, at, len, compare ? d : NULL));
	if (!compare)	/* no digest landed */
		EXPECT_EQ(0, memcmp(DIGEST(t), "\0\0\0\0\0\0\0\0", 8));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(0, st.verifies);
}

TEST_F(verify_only_export, no_read_returned_digest_refused)
{
	verify_no_read_refused(_metadata, &self->t, 4096, 4096, 0);
}

TEST_F(verify_only_export, no_read_one_byte_refused)
{
	verify_no_read_refused(_metadata, &self->t, 5, 1, 1);
}

TEST_F(verify_only_export, no_read_unaligned_block_refused)
{
	verify_no_read_refused(_metadata, &self->t, 512, 4096, 1);
}

TEST_F(verify_only_export, no_read_partial_block_refused)
{
	verify_no_read_refused(_metadata, &self->t, 4096, 4096 + 512, 1);
}

/*
 * flush-and-verify on a real export, persistent flush granted: the digest
 * of what was written just before; global visibility is not granted, so a
 * flush-and-verify to it is refused (the peer's QP has no such access).
 */
TEST_F(verify_only_export, flush_and_verify)
{
	struct target *t = &self->t;
	uint8_t d[PMRDMA_DIGEST_MAX];
	struct pmem_rdma_stats st;

	if (no_target(t))
		return;
	pt_fill_pattern(t->buf, 8192, 78);
	ASSERT_EQ(0, peer_write(t, 65536, 8192));
	ASSERT_EQ(32, pmrdma_digest(SHA256, t->buf, 8192, d));
	ASSERT_EQ(0, peer_verify_flags(t, SHA256,
				       RXE_FLUSH_VERIFY_FLUSH(RXE_FLUSH_TYPE_PERSISTENT),
				       65536, 8192, d));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(1, st.flushes);
	EXPECT_EQ(1, st.verifies);
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR,
		  peer_verify_flags(t, SHA256,
				    RXE_FLUSH_VERIFY_FLUSH(RXE_FLUSH_TYPE_GLOBAL),
				    65536, 8192, NULL));
}

TEST_F(verify_only_export, algorithm_not_granted)
{
	if (no_target(&self->t))
		return;
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, peer_verify(&self->t, CRC32C, 0, 64,
						     NULL));
}

/* VERIFY alone: no remote read, write or atomic on the key at all */
FIXTURE(verify_alone_export)
{
	struct target t;
};

FIXTURE_SETUP(verify_alone_export)
{
	target_open(_metadata, &self->t, 0, PMEM_RDMA_ACCESS_VERIFY,
		    PMEM_RDMA_VERIFY_SHA256);
}

FIXTURE_TEARDOWN(verify_alone_export)
{
	target_close(&self->t);
}

/* a compare with what the namespace holds; nothing else on this key */
TEST_F(verify_alone_export, verify_works)
{
	struct target *t = &self->t;
	uint8_t d[PMRDMA_DIGEST_MAX];

	if (no_target(t))
		return;
	EXPECT_NE(0, t->p.conn.r.rkey);
	ASSERT_EQ(0, target_read(t, 8192, t->back, 4096));
	ASSERT_EQ(32, pmrdma_digest(SHA256, t->back, 4096, d));
	EXPECT_EQ(0, peer_verify(t, SHA256, 8192, 4096, d));
	EXPECT_EQ(-EIO, peer_write(t, 8192, 64));
}

/* FLUSH alone: the key flushes, and does nothing else */
FIXTURE(flush_alone_export)
{
	struct target t;
};

FIXTURE_SETUP(flush_alone_export)
{
	target_open(_metadata, &self->t, 0, PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
		    PMEM_RDMA_ACCESS_FLUSH_PERSISTENT, 0);
}

FIXTURE_TEARDOWN(flush_alone_export)
{
	target_close(&self->t);
}

TEST_F(flush_alone_export, flush_works)
{
	struct target *t = &self->t;
	struct pmem_rdma_stats st;

	if (no_target(t))
		return;
	EXPECT_NE(0, t->p.conn.r.rkey);
	ASSERT_EQ(0, peer_flush(t, 4096, 8192, IBV_FLUSH_PERSISTENT));
	ASSERT_EQ(0, peer_flush(t, 0, 64, IBV_FLUSH_GLOBAL));
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(1, st.flushes);
	EXPECT_EQ(8192, st.bytes_flushed);
	EXPECT_EQ(-EIO, peer_write(t, 4096, 64));
}

/* two peers at most: a third is rejected, saying so, until one leaves */
FIXTURE(two_peer_export)
{
	struct target t;
};

FIXTURE_SETUP(two_peer_export)
{
	target_open_max_peers(_metadata, &self->t, 0, ACCESS_RWF, 0, 2);
}

FIXTURE_TEARDOWN(two_peer_export)
{
	target_close(&self->t);
}

TEST_F(two_peer_export, third_peer_rejected_until_one_leaves)
{
	struct target *t = &self->t;
	struct pmem_rdma_export_info info[8];
	struct pmem_rdma_list l = { .count = 8, .entries = (uintptr_t)info };
	struct pmem_rdma_stats st;
	struct pt_peer b, c;
	const char *what = "";
	uint32_t i;

	if (no_target(t))
		return;
	ASSERT_EQ(0, pt_peer_connect(&b, TARGET_PORT, &what)) TH_LOG("%s", what);
	EXPECT_EQ(-ECONNREFUSED, pt_peer_connect(&c, TARGET_PORT, &what));
	EXPECT_EQ(1, c.conn.rejected);
	EXPECT_EQ(PMEM_RDMA_REJECT_FULL, c.conn.reject_reason);
	pt_peer_close(&c);
	ASSERT_EQ(0, export_stats(t->fd, t->id, &st));
	EXPECT_EQ(2, st.peers);
	EXPECT_EQ(2, st.connects);
	EXPECT_EQ(1, st.refused);
	ASSERT_EQ(0, ctl(t->fd, PMEM_RDMA_IOC_LIST, &l));
	for (i = 0; i < l.count && i < 8 && info[i].id != t->id; i++)
		;
	ASSERT_LT(i, l.count);
	EXPECT_EQ(2, info[i].max_peers);

	/* the one that leaves frees its place */
	pt_peer_close(&b);
	for (i = 0; i < 50 && pt_peer_connect(&c, TARGET_PORT, &what); i++) {
		pt_peer_close(&c);
		usleep(100 * 1000);
	}
	EXPECT_LT(i, 50) TH_LOG("no place again after a peer left");
	pt_peer_close(&c);
}

TEST_HARNESS_MAIN
