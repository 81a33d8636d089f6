// SPDX-License-Identifier: GPL-2.0
/* VERIFY helpers for the pmem_rdma selftests. */
#include <string.h>

#include <openssl/sha.h>
#include <rdma/rxe_flush.h>

#include "verify_helpers.h"

/* CRC32C (Castagnoli, reflected 0x82F63B78), a bit at a time */
static uint32_t pt_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & -(crc & 1));
	}
	return ~crc;
}

size_t pt_digest(uint32_t alg, const void *buf, size_t len, uint8_t *out)
{
	uint32_t crc;

	switch (alg) {
	case RXE_FLUSH_VERIFY_ALG_CRC32C:
		crc = pt_crc32c(buf, len);
		/* big-endian on the wire */
		out[0] = crc >> 24;
		out[1] = crc >> 16;
		out[2] = crc >> 8;
		out[3] = crc;
		return RXE_FLUSH_VERIFY_CRC32C_BYTES;
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		SHA256(buf, len, out);
		return RXE_FLUSH_VERIFY_SHA256_BYTES;
	default:
		return 0;
	}
}

void pt_verify_wr(const struct pt_verify *v, struct ibv_send_wr *wr,
		  struct ibv_sge *sge)
{
	*sge = (struct ibv_sge){
		.addr = (uintptr_t)v->buf, .length = v->buflen, .lkey = v->lkey,
	};
	*wr = (struct ibv_send_wr){
		.wr_id = 0x5e,
		.opcode = (enum ibv_wr_opcode)RXE_FLUSH_WR_VERIFY,
		.send_flags = IBV_SEND_SIGNALED |
			      (v->lkey ? 0 : IBV_SEND_INLINE),
		.sg_list = sge, .num_sge = 1,
		.wr.atomic = {
			.remote_addr = v->raddr, .rkey = v->rkey,
			.compare_add = v->len, .swap = v->word,
		},
	};
}

int pt_post_verify(struct pt_ctx *c, const struct pt_verify *v,
		   struct ibv_wc *wc)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	int ret;

	pt_verify_wr(v, &wr, &sge);
	ret = ibv_post_send(c->qp[0], &wr, &bad);
	if (ret)
		return -ret;
	return pt_poll_one(c->cq[0], wc, 20000);
}
