// SPDX-License-Identifier: GPL-2.0
/* The WRITE / FLUSH / ATOMIC WRITE / VERIFY stream (stream_helpers.h). */
#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <rdma/rxe_flush.h>

#include "rdma_helpers.h"
#include "stream_helpers.h"
#include "verify_helpers.h"

void pt_stream_init(struct pt_stream *s, struct ibv_qp *qp, struct ibv_cq *cq,
		    unsigned char *src, uint32_t lkey, uint64_t raddr,
		    uint32_t rkey)
{
	memset(s, 0, sizeof(*s));
	s->qp = qp;
	s->cq = cq;
	s->src = src;
	s->lkey = lkey;
	s->raddr = raddr;
	s->rkey = rkey;
}

static long long pt_stream_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Post op i, and apply it to the model (the responder runs them in order). */
static int pt_stream_post(struct pt_stream *s, long i)
{
	long g = i / 4, w = i % PT_STREAM_WINDOW;
	size_t slot = (g % PT_STREAM_SLOTS) * PT_STREAM_SLOT;
	unsigned char *data = s->src + w * PT_STREAM_SLOT;
	unsigned char *val = s->src + PT_STREAM_WINDOW * PT_STREAM_SLOT + w * 8;
	uint8_t digest[PMRDMA_DIGEST_MAX];
	struct ibv_send_wr wr = {
		.wr_id = i, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_sge sge = { .lkey = s->lkey };
	size_t off, len, ctr;
	uint64_t v;
	struct pt_verify vf;

	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.wr.rdma.rkey = s->rkey;
	switch (i % 4) {
	case 0:
		/* 1 byte to the whole slot, at a moving offset */
		off = (g * 97) % 256;
		len = 1 + (g * 2654435761u) % (PT_STREAM_SLOT - off);
		pt_fill_pattern(data, len, g + 1);
		memcpy(s->model + slot + off, data, len);
		wr.opcode = IBV_WR_RDMA_WRITE;
		sge.addr = (uintptr_t)data;
		sge.length = len;
		wr.wr.rdma.remote_addr = s->raddr + slot + off;
		break;
	case 1:
		wr.opcode = IBV_WR_FLUSH;
		wr.imm_data = htobe32(RXE_FLUSH_POST_SEND_FETH(RXE_FLUSH_TYPE_GLOBAL,
							       RXE_FLUSH_LEVEL_RANGE));
		sge.addr = (uintptr_t)data;
		sge.length = PT_STREAM_SLOT;
		wr.wr.rdma.remote_addr = s->raddr + slot;
		break;
	case 2:
		ctr = PT_STREAM_SLOT * PT_STREAM_SLOTS + 8 * (g % PT_STREAM_COUNTERS);
		v = pt_stream_counter(g);
		memcpy(val, &v, 8);
		memcpy(s->model + ctr, &v, 8);
		wr.opcode = IBV_WR_ATOMIC_WRITE;
		sge.addr = (uintptr_t)val;
		sge.length = 8;
		wr.wr.rdma.remote_addr = s->raddr + ctr;
		break;
	default:
		/* the expected digest goes inline: read when posted */
		pmrdma_digest(RXE_FLUSH_VERIFY_ALG_CRC32C, s->model + slot,
			  PT_STREAM_SLOT, digest);
		vf = (struct pt_verify){
			.rkey = s->rkey, .raddr = s->raddr + slot,
			.len = PT_STREAM_SLOT,
			.word = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_CRC32C,
						      RXE_FLUSH_VERIFY_COMPARE),
			.buf = digest, .buflen = RXE_FLUSH_VERIFY_CRC32C_BYTES,
		};
		pt_verify_wr(&vf, &wr, &sge);
		wr.wr_id = i;
		break;
	}
	if (ibv_post_send(s->qp, &wr, &bad))
		return -errno;
	return 0;
}

int pt_stream_run(struct pt_stream *s, long n)
{
	long long last = pt_stream_ms();
	struct ibv_wc wc[16];
	int i, got, ret;

	while (s->completed < n) {
		while (s->posted < n &&
		       s->posted - s->completed < PT_STREAM_WINDOW) {
			ret = pt_stream_post(s, s->posted);
			if (ret) {
				s->post_err = -ret;
				return ret;
			}
			s->posted++;
		}
		got = ibv_poll_cq(s->cq, 16, wc);
		if (got < 0)
			return -EIO;
		if (!got) {
			if (pt_stream_ms() - last > PT_STREAM_STALL_MS)
				return -ETIMEDOUT;
			/* leave the vCPU to rxe's tasks (TCG has two) */
			sched_yield();
			continue;
		}
		last = pt_stream_ms();
		for (i = 0; i < got; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				s->bad = wc[i];
				return -EIO;
			}
			/* RC completes in order, each WR once */
			if (wc[i].wr_id != (uint64_t)s->completed)
				return -EPROTO;
			s->completed++;
		}
	}
	return 0;
}

long pt_stream_diff(const struct pt_stream *s, const unsigned char *region)
{
	long i;

	for (i = 0; i < PT_STREAM_REGION; i++)
		if (region[i] != s->model[i])
			return i;
	return -1;
}
