/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stream of WRITE / FLUSH / ATOMIC WRITE / VERIFY on one RC QP, with a
 * model of what the responder's region must hold, for the tests that run
 * it over a lossy wire or tear the devices down under it.
 *
 * Op i is kind i % 4 of group g = i / 4, on slot g % PT_STREAM_SLOTS:
 *   0: RDMA WRITE of a pattern seeded by g into part of the slot,
 *   1: FLUSH (global visibility) of the slot,
 *   2: ATOMIC WRITE of pt_stream_counter(g) to counter g % PT_STREAM_COUNTERS,
 *   3: VERIFY (CRC32C, compare) of the slot against the model's digest.
 * Slots are rewritten every PT_STREAM_SLOTS groups, so a request executed
 * twice (a stale duplicate) or not at all leaves the region unlike the
 * model, and a comparing VERIFY fails at once.  Every WR is signaled; at
 * most PT_STREAM_WINDOW are outstanding.
 */
#ifndef PMEM_RDMA_STREAM_HELPERS_H
#define PMEM_RDMA_STREAM_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#define PT_STREAM_SLOT		2048	/* two or three packets at MTU 1024 */
#define PT_STREAM_SLOTS		16
#define PT_STREAM_COUNTERS	8
/* the responder's region: the slots, then the counters */
#define PT_STREAM_REGION	(PT_STREAM_SLOT * PT_STREAM_SLOTS + \
				 8 * PT_STREAM_COUNTERS)
#define PT_STREAM_WINDOW	32
/* the local source: one slot and one 8-byte value per outstanding WR */
#define PT_STREAM_SRC		(PT_STREAM_WINDOW * (PT_STREAM_SLOT + 8))
/* a stream that completes nothing for this long is stuck */
#define PT_STREAM_STALL_MS	20000

#define PT_STREAM_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
				 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_FLUSH_GLOBAL)

struct pt_stream {
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	unsigned char *src;		/* PT_STREAM_SRC bytes, lkey */
	uint32_t lkey;
	uint64_t raddr;			/* the responder's region, rkey */
	uint32_t rkey;
	unsigned char model[PT_STREAM_REGION];
	long posted, completed;
	struct ibv_wc bad;		/* the first completion not SUCCESS */
	int post_err;			/* errno of a failed post, or 0 */
};

/* The value op group g atomically writes. */
static inline uint64_t pt_stream_counter(long g)
{
	return 0xa70000000000000ULL | (uint64_t)g;
}

/* s for qp/cq, the registered source and the responder's region (zeroed). */
void pt_stream_init(struct pt_stream *s, struct ibv_qp *qp, struct ibv_cq *cq,
		    unsigned char *src, uint32_t lkey, uint64_t raddr,
		    uint32_t rkey);

/*
 * Post and complete ops until s->completed reaches n, or a completion is
 * not SUCCESS (in s->bad: -EIO), a post fails
 * (-errno) or nothing completes for PT_STREAM_STALL_MS (-ETIMEDOUT).
 * Completions must come in order (-EPROTO otherwise).  Returns 0 or that.
 */
int pt_stream_run(struct pt_stream *s, long n);

/* The first offset where region differs from the model, or -1. */
long pt_stream_diff(const struct pt_stream *s, const unsigned char *region);

#endif /* PMEM_RDMA_STREAM_HELPERS_H */
