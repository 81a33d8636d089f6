// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma's FLUSH method (IBA 1.5): behind the WRITEs of each range, an
 * RDMA FLUSH of the range to persistence.  FLUSH is non-posted, and the
 * responder executes a QP's requests in order: an ATOMIC WRITE posted
 * behind a FLUSH lands after the flushed data is durable without the
 * requester waiting in between.
 */
#include "pmrdma_queue.h"

static int flush_persist(struct pmrdma_link *l,
			 struct pmrdma_batch *b, uint64_t off, uint64_t len)
{
	struct ibv_send_wr *wr;
	uint64_t n;
	int err = 0;

	for (; len; off += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		wr = pmrdma_batch_next(l, b, n, &err);
		if (!wr)
			return err;
		wr->opcode = IBV_WR_FLUSH;
		wr->wr.rdma.remote_addr = pmrdma_link_raddr(l, off);
		b->sge[b->n - 1].length = n;
		/* the range, to persistence: what the method promises */
		b->flush[b->n - 1].type = IBV_FLUSH_PERSISTENT;
		b->flush[b->n - 1].level = IBV_FLUSH_RANGE;
	}
	return 0;
}

const struct pmrdma_persist_ops pmrdma_persist_flush = {
	.method = PMRDMA_METHOD_FLUSH,
	.persist = flush_persist,
};
