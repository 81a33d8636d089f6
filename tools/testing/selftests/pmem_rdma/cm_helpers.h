/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand-made connection requests: a CM REQ (IBA 12.6.5) in a MAD on QP1,
 * sent over RoCE v2 as UD SEND ONLY, with the rdma_cm header (version 0,
 * IPv6) at the head of its private data, as librdmacm would send it - but
 * with every field the test's to choose, among them the two addresses a
 * peer writes: the one it claims in the rdma_cm header, and the primary
 * path's GID where the answer goes.  The answers (REP, REJ) are read back
 * from frames captured on the target's interface.
 *
 * Frames take their Ethernet, IPv6 and UDP headers from a template
 * (roce_helpers.h): sent from dev0's netdev, they reach dev1's CM.
 */
#ifndef PMEM_RDMA_CM_HELPERS_H
#define PMEM_RDMA_CM_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roce_helpers.h"

#define PT_CM_ATTR_REQ		0x0010
#define PT_CM_ATTR_MRA		0x0011
#define PT_CM_ATTR_REJ		0x0012
#define PT_CM_ATTR_REP		0x0013
#define PT_CM_REQ_PRIV_LEN	92	/* a REQ's private data, always */
#define PT_CM_HDR_LEN		36	/* rdma_cm's header in it */
#define PT_CM_REJ_CONSUMER	28	/* IB_CM_REJ_CONSUMER_DEFINED */

struct pt_cm_req {
	uint32_t comm_id;	/* the requester's Local Communication ID */
	uint64_t ca_guid;
	uint32_t qpn;		/* 24 bits */
	uint32_t psn;		/* 24 bits */
	uint16_t port;		/* the rdma_cm port (RDMA_PS_TCP) */
	uint8_t claimed[16];	/* rdma_cm header: the peer's own address */
	uint8_t path_peer[16];	/* primary path: the requester's GID */
	uint8_t target[16];	/* header destination, path's remote GID */
	uint8_t local_timeout;	/* the REP's retry timer: 4.096 us << it */
	uint8_t max_retries;	/* of the REP, 0..15 */
	/*
	 * Private data: after the rdma_cm header, or with raw the whole
	 * PT_CM_REQ_PRIV_LEN bytes as given (no header); the rest is zero.
	 */
	const void *priv;
	size_t priv_len;
	bool raw;
};

/*
 * A request to port from the template's sender to its receiver: both
 * addresses the template's source, target its destination, random
 * communication ID, CA GUID, QPN and PSN, short timers.
 */
void pt_cm_req_init(struct pt_cm_req *r, const struct pt_frame *tmpl,
		    uint16_t port);
/* f becomes the frame of r: 0 or -EMSGSIZE (private data too long) */
int pt_cm_req_frame(struct pt_frame *f, const struct pt_frame *tmpl,
		    const struct pt_cm_req *r);

struct pt_cm_answer {
	uint16_t attr;		/* PT_CM_ATTR_REP or _REJ; 0: none seen */
	uint16_t ib_reason;	/* a REJ's reason (IB_CM_REJ_*) */
	uint16_t reason;	/* a REJ's PMEM_RDMA_REJECT_*, or 0 */
	unsigned char priv[196];	/* a REP's or REJ's private data */
};

/*
 * Wait up to timeout_ms for the REP or REJ that answers comm_id among the
 * frames that cap captures: 0 with *a filled, or -ETIMEDOUT (a->attr 0).
 */
int pt_cm_wait_answer(int cap, uint32_t comm_id, int timeout_ms,
		      struct pt_cm_answer *a);

#endif /* PMEM_RDMA_CM_HELPERS_H */
