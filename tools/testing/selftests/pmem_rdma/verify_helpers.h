/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VERIFY helpers for the selftests: one VERIFY through ibv_post_send() with
 * the rxe_flush convention (include/uapi/rdma/rxe_flush.h).  The digests
 * computed locally are libpmrdma's (pmrdma_digest()).
 */
#ifndef PMEM_RDMA_VERIFY_HELPERS_H
#define PMEM_RDMA_VERIFY_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#include "pmrdma.h"
#include "rdma_helpers.h"

/*
 * One VERIFY: the range [raddr, raddr + len) of rkey, the VERIFY word
 * (RXE_FLUSH_VERIFY_WORD) and the digest buffer [buf, buf + buflen)
 * registered with lkey, or sent inline when lkey is 0.
 */
struct pt_verify {
	uint32_t rkey;
	uint64_t raddr, len;
	uint32_t word;
	void *buf;
	uint32_t buflen, lkey;
};

/* Fill wr and sge for v (signaled, wr_id 0x5e). */
void pt_verify_wr(const struct pt_verify *v, struct ibv_send_wr *wr,
		  struct ibv_sge *sge);

/* Post v on qp[0] and wait for its completion: 0 or -errno. */
int pt_post_verify(struct pt_ctx *c, const struct pt_verify *v,
		   struct ibv_wc *wc);

#endif /* PMEM_RDMA_VERIFY_HELPERS_H */
