/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A link's send queue (pmrdma_queue.c): requests gathered in batches,
 * posted with only the last one signaled, and their completions; and the
 * persistence methods (pmrdma_persist_*.c), which add their requests to a
 * batch.  The link (pmrdma_link.c) builds on both, and chooses its method
 * once, at connect; the queue hands a receive completion to the method
 * through its ops, never calling up by name.
 */
#ifndef PMRDMA_QUEUE_H
#define PMRDMA_QUEUE_H

#include "pmrdma_internal.h"

/* WRITE and FLUSH lengths stay below the 2^31 the wire allows */
#define LINK_CHUNK	(1UL << 30)
#define LINK_BATCH	32
_Static_assert(LINK_BATCH <= PMRDMA_SQ_SIZE_MIN,
	       "a batch fits in the smallest send queue");
/* the scratch: VERIFY digests and APM's READ, then atomic writes' values */
#define SCRATCH_AW	(LINK_BATCH * PMRDMA_DIGEST_MAX)
#define SCRATCH_SIZE	(SCRATCH_AW + PMRDMA_LINK_ATOMICS * 8)

/* the wr_id of a receive: the method's slot i, with this bit */
#define PMRDMA_WR_RECV		(1ULL << 63)

/*
 * The requests of a batch, in send queue order: remote range in
 * wr.rdma (VERIFY: wr.atomic), local data in sge (FLUSH: only its length;
 * with IBV_SEND_INLINE, or ATOMIC WRITE: the bytes to copy), and what
 * struct ibv_send_wr has no room for, a FLUSH's type and level.
 */
struct pmrdma_batch {
	struct ibv_send_wr wr[LINK_BATCH];
	struct ibv_sge sge[LINK_BATCH];
	struct {
		uint8_t type, level;	/* IBV_FLUSH_*, for ibv_wr_flush() */
	} flush[LINK_BATCH];
	unsigned int n;
	uint64_t bytes;			/* that its requests move or touch */
};

/* pmrdma_queue.c */
/* the link fails with err; the map's message names the link and what */
int pmrdma_link_fail(struct pmrdma_link *l, int err,
		     const char *what);
/* something posted has not completed yet */
bool pmrdma_link_busy(const struct pmrdma_link *l);
/* wait for the oldest batch: 0, or the link's failure */
int pmrdma_link_reap(struct pmrdma_link *l);
/* post b, its last request signaled, once the queue has room */
int pmrdma_batch_post(struct pmrdma_link *l,
		      struct pmrdma_batch *b);
/* the next WR of b, for bytes of the export, posting b first when full */
struct ibv_send_wr *pmrdma_batch_next(struct pmrdma_link *l,
				      struct pmrdma_batch *b, uint64_t bytes,
				      int *err);
/* one request on the view's [off, off + len), data at local/lkey */
int pmrdma_batch_add(struct pmrdma_link *l,
		     struct pmrdma_batch *b, enum ibv_wr_opcode op,
		     uint64_t off, uint64_t len, const void *local,
		     uint32_t lkey, unsigned int flags);
/* the remote address of the view's offset off */
uint64_t pmrdma_link_raddr(const struct pmrdma_link *l, uint64_t off);

/*
 * A remote persistence method: what makes the ranges a link pushed
 * durable at the target, chosen once per link (pmrdma_link.c).  Each call
 * adds requests to the batch b, or returns the link's failure.
 */
struct pmrdma_persist_ops {
	enum pmrdma_method method;
	/* what the method needs on a new link, and its release; or NULL */
	int (*init)(struct pmrdma_link *l);
	void (*fini)(struct pmrdma_link *l);
	/* behind the WRITEs of [off, off + len); or NULL */
	int (*persist)(struct pmrdma_link *l,
		       struct pmrdma_batch *b, uint64_t off, uint64_t len);
	/* once behind the last range, which ends at end; or NULL */
	int (*persist_end)(struct pmrdma_link *l,
			   struct pmrdma_batch *b, uint64_t end);
	/*
	 * the 8-byte store of an atomic write, behind everything before it;
	 * NULL: the link's own, an RDMA ATOMIC WRITE or fenced WRITE
	 */
	int (*atomic_write)(struct pmrdma_link *l,
			    struct pmrdma_batch *b, uint64_t offset,
			    uint64_t value);
	/* the receive of slot i completed; NULL: the method posts none */
	int (*recv)(struct pmrdma_link *l,
		    unsigned int i);
};

extern const struct pmrdma_persist_ops pmrdma_persist_flush;
extern const struct pmrdma_persist_ops pmrdma_persist_apm;
extern const struct pmrdma_persist_ops pmrdma_persist_gpspm;

#endif /* PMRDMA_QUEUE_H */
