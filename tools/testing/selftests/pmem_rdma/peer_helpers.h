/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A peer of a pmem_rdma export, as a storage client would write it:
 * libpmrdma's connection (pmrdma_conn.h) to the export's port over the rxe
 * device's link-local IPv6 address, with an extended QP taking WRITE,
 * READ, FLUSH and ATOMIC WRITE.  The QP and CQ are also put in a struct pt_ctx (as qp[0]/cq[0])
 * so that the flush_helpers requests work on it.
 */
#ifndef PMEM_RDMA_PEER_HELPERS_H
#define PMEM_RDMA_PEER_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/pmem_rdma.h>
#include <rdma/rdma_cma.h>

#include "pmrdma_conn.h"
#include "rdma_helpers.h"

struct pt_peer {
	struct pmrdma_conn conn;	/* conn.r: the region descriptor */
	struct pt_ctx c;	/* ctx, pd, cq[0], qp[0]: not for pt_close() */
};

/*
 * The link-local IPv6 address of the RDMA device's netdev (PMEM_RDMA_IBDEV
 * or rxe0), with its scope, and port: 0 or -errno.  The target's address,
 * and, with the target on the same device, the peer's own.
 */
int pt_peer_device_addr(struct sockaddr_in6 *sin6, uint16_t port);
/* the same as text, "fe80::...%ifname", for libpmrdma's struct pmrdma_remote */
int pt_peer_device_addr_str(char *buf, size_t len);

/*
 * Connect to the export listening on port of the device's netdev
 * (PMEM_RDMA_IBDEV or rxe0): 0, or -errno with what failed in *what
 * (valid until pt_peer_close()).
 */
int pt_peer_connect(struct pt_peer *p, uint16_t port, const char **what);

/* The proof that a connect request carries to an export with a key. */
struct pt_peer_key {
	const void *key;		/* the export's key */
	size_t len;
	uint64_t time;			/* the proof's; 0: now */
	const struct pmem_rdma_auth *replay;	/* sent instead, as it is */
	struct pmem_rdma_auth sent;	/* out: what was sent */
};

/* pt_peer_connect() proving k's key (NULL: no proof) */
int pt_peer_connect_key(struct pt_peer *p, uint16_t port,
			struct pt_peer_key *k, const char **what);

/* Wait up to timeout_ms for the target to disconnect: 0 or -ETIMEDOUT. */
int pt_peer_wait_disconnect(struct pt_peer *p, int timeout_ms);
void pt_peer_close(struct pt_peer *p);

/*
 * One signaled request on the peer's QP to the export's [at, at + len),
 * at counted from the region's start, and its completion:
 * pt_peer_write() WRITEs [buf, buf + len) registered with lkey and
 * pt_peer_flush() FLUSHes the range to the placement type: 0, -EIO for a
 * completion in error, or -errno.
 */
int pt_peer_write(struct pt_peer *p, uint64_t at, void *buf, uint32_t len,
		  uint32_t lkey);
int pt_peer_flush(struct pt_peer *p, uint64_t at, uint64_t len, uint8_t type);
/*
 * VERIFY the range with alg (RXE_FLUSH_VERIFY_ALG_*) and flags (0 or
 * RXE_FLUSH_VERIFY_COMPARE): the digest, of the algorithm's size, lands in
 * or is read from digest, registered with lkey.  The completion's status,
 * or -errno.
 */
int pt_peer_verify(struct pt_peer *p, uint32_t alg, uint32_t flags,
		   uint64_t at, uint64_t len, void *digest, uint32_t lkey);

#endif /* PMEM_RDMA_PEER_HELPERS_H */
