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

/* XXH64 as its specification (xxhash.com, "xxHash fast digest") gives it */
#define XXH_P1	0x9e3779b185ebca87ULL
#define XXH_P2	0xc2b2ae3d27d4eb4fULL
#define XXH_P3	0x165667b19e3779f9ULL
#define XXH_P4	0x85ebca77c2b2ae63ULL
#define XXH_P5	0x27d4eb2f165667c5ULL

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t xxh_round(uint64_t acc, uint64_t lane)
{
	return rotl64(acc + lane * XXH_P2, 31) * XXH_P1;
}

static uint64_t xxh_merge(uint64_t h, uint64_t v)
{
	return (h ^ xxh_round(0, v)) * XXH_P1 + XXH_P4;
}

uint64_t pt_xxh64(const void *buf, size_t len, uint64_t seed)
{
	const uint8_t *p = buf, *end = p + len;
	uint64_t h, v[4];
	int i;

	if (len >= 32) {
		v[0] = seed + XXH_P1 + XXH_P2;
		v[1] = seed + XXH_P2;
		v[2] = seed;
		v[3] = seed - XXH_P1;
		for (; end - p >= 32; p += 32)
			for (i = 0; i < 4; i++)
				v[i] = xxh_round(v[i], le64_at(p + 8 * i));
		h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) +
		    rotl64(v[3], 18);
		for (i = 0; i < 4; i++)
			h = xxh_merge(h, v[i]);
	} else {
		h = seed + XXH_P5;
	}
	h += len;
	for (; end - p >= 8; p += 8)
		h = rotl64(h ^ xxh_round(0, le64_at(p)), 27) * XXH_P1 + XXH_P4;
	if (end - p >= 4) {
		h ^= (p[0] | p[1] << 8 | p[2] << 16 | (uint64_t)p[3] << 24) *
		     XXH_P1;
		h = rotl64(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ *p * XXH_P5, 11) * XXH_P1;
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	return h ^ h >> 32;
}

size_t pt_digest_len(uint32_t alg)
{
	uint8_t d[PT_DIGEST_MAX];

	return pt_digest(alg, "", 0, d);
}

size_t pt_digest(uint32_t alg, const void *buf, size_t len, uint8_t *out)
{
	uint64_t x;
	uint32_t crc;
	int i;

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
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		x = pt_xxh64(buf, len, 0);
		for (i = 0; i < 8; i++)
			out[i] = x >> (56 - 8 * i);
		return RXE_FLUSH_VERIFY_XXH64_BYTES;
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
