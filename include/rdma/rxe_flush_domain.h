/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush persistence domains: the in-kernel interface between the
 * patched rxe (rdma_rxe_flush.ko) and the owner of a kernel MR, such as
 * pmem_rdma.  Not an ABI: both modules are built from one tree.
 *
 * An MR's owner attaches a domain to a fast-registration MR before the
 * MR's key is handed out, and deregisters the MR only after every QP that
 * could reach it is destroyed.  The responder then calls, for that MR:
 *
 *   write    before an RDMA WRITE or ATOMIC WRITE stores [off, off + len)
 *            of the MR (off counts from the MR's iova); the store follows,
 *            so a power failure between the two loses it, as it should;
 *   stored   after that store, with the same range: a persist of it that
 *            ran between write and the store saw the old bytes, so the
 *            range is pending again.  Optional;
 *   persist  for a FLUSH with the persistence placement type, instead of
 *            the driver's own cache write-back: 0 once [off, off + len) is
 *            persistent, -EBADMSG when the owner can make nothing
 *            persistent any more (the range went bad, its power is down:
 *            the FLUSH is NAKed as for poisoned), else -errno (NAKed,
 *            invalid request).
 *            A long FLUSH comes in consecutive steps, last set on its last
 *            one: a FLUSH is done (and may be counted) when that returns;
 *   verify   for a VERIFY of [off, off + len) with an algorithm in
 *            verify_algs (others are refused with a remote access NAK,
 *            whatever the MR's access), once per VERIFY, before it is
 *            hashed in steps: the bytes to hash, which stay valid as long
 *            as the MR, or NULL to hash the MR's memory.  Optional;
 *   poisoned before any request touches [off, off + len): true when the
 *            owner knows of a media error in it (or has no power); the
 *            request is then NAKed (remote operational error) and nothing
 *            is read or stored.  Asked again, for the whole range, before
 *            each step of a FLUSH, ATOMIC WRITE or VERIFY.  Optional.
 *
 * They run in the responder's context (softirq or a work item): no sleep.
 * The owner gets rxe_flush_domain_attach() with symbol_get(), so it loads
 * without rdma_rxe_flush and pins it only while it uses the interface.
 */
#ifndef RDMA_RXE_FLUSH_DOMAIN_H
#define RDMA_RXE_FLUSH_DOMAIN_H

#include <linux/types.h>

struct ib_mr;
struct rxe_flush_domain;

struct rxe_flush_domain_ops {
	void (*write)(struct rxe_flush_domain *d, u64 off, u64 len);
	void (*stored)(struct rxe_flush_domain *d, u64 off, u64 len);
	int (*persist)(struct rxe_flush_domain *d, u64 off, u64 len,
		       bool last);
	const void *(*verify)(struct rxe_flush_domain *d, u64 off, u64 len);
	bool (*poisoned)(struct rxe_flush_domain *d, u64 off, u64 len);
};

struct rxe_flush_domain {
	const struct rxe_flush_domain_ops *ops;
	u32 verify_algs;	/* RXE_FLUSH_VERIFY_ALG_BIT() mask */
};

/*
 * 0, -EOPNOTSUPP when ibmr is not an MR of an rxe_flush device, -EINVAL
 * when it is not a fast-registration MR.  A NULL domain detaches.
 */
int rxe_flush_domain_attach(struct ib_mr *ibmr, struct rxe_flush_domain *d);

#endif /* RDMA_RXE_FLUSH_DOMAIN_H */
