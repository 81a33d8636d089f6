/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A peer of a pmem_rdma export, as a storage client would write it:
 * librdmacm connects to the export's port over the rxe device's link-local
 * IPv6 address, the region descriptor arrives in the CM private data, and
 * the connected QP is an extended one taking WRITE, READ, FLUSH and ATOMIC
 * WRITE.  The QP and CQ are also put in a struct pt_ctx (as qp[0]/cq[0])
 * so that the flush_helpers requests work on it.
 */
#ifndef PMEM_RDMA_PEER_HELPERS_H
#define PMEM_RDMA_PEER_HELPERS_H

#include <stdint.h>
#include <rdma/rdma_cma.h>

#include "rdma_helpers.h"

/* the region descriptor, in host byte order */
struct pt_region {
	uint32_t magic;
	uint16_t abi_version, flags;
	uint64_t iova, length;
	uint32_t rkey, access, placement_types, verify_algs;
};

struct pt_peer {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct pt_ctx c;	/* ctx, pd, cq[0], qp[0]: not for pt_close() */
	struct pt_region r;
	int rejected;		/* the target said no (RDMA_CM_EVENT_REJECTED) */
};

/*
 * Connect to the export listening on port of the device's netdev
 * (PMEM_RDMA_IBDEV or rxe0): 0, or -errno with the step in *what.
 */
int pt_peer_connect(struct pt_peer *p, uint16_t port, const char **what);
/* Wait up to timeout_ms for the target to disconnect: 0 or -ETIMEDOUT. */
int pt_peer_wait_disconnect(struct pt_peer *p, int timeout_ms);
void pt_peer_close(struct pt_peer *p);

#endif /* PMEM_RDMA_PEER_HELPERS_H */
