/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: wire format of RDMA FLUSH and ATOMIC WRITE (IBA 1.5 Memory
 * Placement Extensions, RoCEv2) and of VERIFY, with their header accessors
 * in the manner of rxe_hdr.h.
 *
 *   RC FLUSH         0x1C  BTH | FETH | RETH          no payload
 *   RC ATOMIC WRITE  0x1D  BTH | RETH | 8 bytes       8-byte aligned VA
 *
 * Both are acknowledged with a zero-length RDMA READ RESPONSE ONLY (0x10).
 *
 * VERIFY is pmem-rdma's own, in the manufacturer-specific opcode range
 * (0xE0..0xFF; IBA has no VERIFY, draft-talpey-rdma-commit defines it for
 * iWARP):
 *
 *   RC VERIFY        0xE0  BTH | VETH | RETH | digest   payload: 0 bytes, or
 *                                                       the expected digest
 *
 * The responder hashes [VA, VA + length) of the R_Key with the VETH's
 * algorithm.  Without a digest it returns the computed one as the payload
 * of an RDMA READ RESPONSE ONLY; with one, it answers a match with a
 * zero-length READ RESPONSE ONLY and a mismatch with a NAK (remote
 * operational error), which ends the connection: nothing after the VERIFY
 * executes.
 *
 * VETH is one big-endian 32-bit word, the uapi's RXE_FLUSH_VERIFY_WORD():
 *   bits  7..0  algorithm (RXE_FLUSH_VERIFY_ALG_*)
 *   bit      8  RXE_FLUSH_VERIFY_COMPARE: the payload is the expected digest
 *   bits 11..9  reserved
 *   bits 15..12 flush-and-verify: placement type, as FETH's bits 3..0, to
 *               flush the range to before it is hashed; 0 for none
 *   bits 31..16 reserved
 * A CRC32C digest travels as 4 bytes big-endian, SHA-256 as its 32 bytes,
 * XXH64 (seed 0) as 8 bytes big-endian.
 *
 * FETH is one big-endian 32-bit word:
 *   bits  3..0  placement type: bit 0 global visibility, bit 1 persistence
 *   bits  5..4  selectivity: 0 range (RETH VA/length), 1 whole MR of R_Key
 *   bits 31..6  reserved
 *
 * The accessors take FETH's and VETH's offsets from rxe_opcode[], as
 * rxe_hdr.h's do for rxe's own headers: the opcode table is the one place
 * that says where each header of a packet sits.
 */
#ifndef RXE_FLUSH_HDR_H
#define RXE_FLUSH_HDR_H

#include <linux/types.h>
#include <asm/byteorder.h>
#include <rdma/rxe_flush.h>

#include "rxe_opcode.h"
#include "rxe_hdr.h"

#define RXE_FLUSH_OPCODE_RC_FLUSH		0x1c
#define RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE	0x1d
#define RXE_FLUSH_OPCODE_RC_VERIFY		0xe0
/* RoCE v2's congestion notification packet: BTH, 16 bytes reserved, ICRC */
#define RXE_FLUSH_OPCODE_CNP			0x81
#define RXE_FLUSH_CNP_RESERVED			16

#define RXE_FLUSH_FETH_BYTES			4
#define RXE_FLUSH_VETH_BYTES			4
#define RXE_FLUSH_ATOMIC_WRITE_BYTES		8

#define RXE_FLUSH_FETH_TYPE_MASK		0x0000000fU
#define RXE_FLUSH_FETH_SEL_SHIFT		4
#define RXE_FLUSH_FETH_SEL_MASK			0x00000030U
#define RXE_FLUSH_FETH_RSVD_MASK		0xffffffc0U
/* placement type bits defined by IBA 1.5; bits 3..2 are reserved */
#define RXE_FLUSH_FETH_TYPE_VALID		0x3U

#define RXE_FLUSH_VETH_ALG_MASK			0x000000ffU
#define RXE_FLUSH_VETH_TYPE_MASK		0x0000f000U
#define RXE_FLUSH_VETH_RSVD_MASK		(~(RXE_FLUSH_VETH_ALG_MASK | \
						   RXE_FLUSH_VERIFY_COMPARE | \
						   RXE_FLUSH_VETH_TYPE_MASK))

struct rxe_flush_feth {
	__be32 bits;
};

struct rxe_flush_veth {
	__be32 bits;
};

/* the digest size of an algorithm, 0 for an unknown one */
static inline unsigned int rxe_flush_digest_len(u32 alg)
{
	switch (alg) {
	case RXE_FLUSH_VERIFY_ALG_CRC32C:
		return RXE_FLUSH_VERIFY_CRC32C_BYTES;
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		return RXE_FLUSH_VERIFY_SHA256_BYTES;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		return RXE_FLUSH_VERIFY_XXH64_BYTES;
	default:
		return 0;
	}
}

static inline struct rxe_flush_feth *__rxe_flush_feth(struct rxe_pkt_info *pkt)
{
	return (struct rxe_flush_feth *)(pkt->hdr +
					 rxe_opcode[pkt->opcode].offset[RXE_FETH]);
}

static inline u32 rxe_flush_feth(struct rxe_pkt_info *pkt)
{
	return be32_to_cpu(__rxe_flush_feth(pkt)->bits);
}

static inline u32 rxe_flush_feth_type(struct rxe_pkt_info *pkt)
{
	return rxe_flush_feth(pkt) & RXE_FLUSH_FETH_TYPE_MASK;
}

static inline u32 rxe_flush_feth_sel(struct rxe_pkt_info *pkt)
{
	return (rxe_flush_feth(pkt) & RXE_FLUSH_FETH_SEL_MASK) >>
	       RXE_FLUSH_FETH_SEL_SHIFT;
}

static inline u32 rxe_flush_feth_rsvd(struct rxe_pkt_info *pkt)
{
	return rxe_flush_feth(pkt) & RXE_FLUSH_FETH_RSVD_MASK;
}

static inline void rxe_flush_feth_set(struct rxe_pkt_info *pkt, u8 type,
				      u8 sel)
{
	u32 bits = ((u32)sel << RXE_FLUSH_FETH_SEL_SHIFT &
		    RXE_FLUSH_FETH_SEL_MASK) | (type & RXE_FLUSH_FETH_TYPE_MASK);

	__rxe_flush_feth(pkt)->bits = cpu_to_be32(bits);
}

static inline struct rxe_flush_veth *__rxe_flush_veth(struct rxe_pkt_info *pkt)
{
	return (struct rxe_flush_veth *)(pkt->hdr +
					 rxe_opcode[pkt->opcode].offset[RXE_VETH]);
}

static inline u32 rxe_flush_veth(struct rxe_pkt_info *pkt)
{
	return be32_to_cpu(__rxe_flush_veth(pkt)->bits);
}

static inline u32 rxe_flush_veth_alg(struct rxe_pkt_info *pkt)
{
	return rxe_flush_veth(pkt) & RXE_FLUSH_VETH_ALG_MASK;
}

static inline bool rxe_flush_veth_compare(struct rxe_pkt_info *pkt)
{
	return rxe_flush_veth(pkt) & RXE_FLUSH_VERIFY_COMPARE;
}

/* flush-and-verify's placement type, 0 for a plain VERIFY */
static inline u32 rxe_flush_veth_type(struct rxe_pkt_info *pkt)
{
	return RXE_FLUSH_VERIFY_FLUSH_TYPE(rxe_flush_veth(pkt));
}

static inline u32 rxe_flush_veth_rsvd(struct rxe_pkt_info *pkt)
{
	return rxe_flush_veth(pkt) & RXE_FLUSH_VETH_RSVD_MASK;
}

/* the word as the requester posted it: the responder checks it */
static inline void rxe_flush_veth_set(struct rxe_pkt_info *pkt, u32 word)
{
	__rxe_flush_veth(pkt)->bits = cpu_to_be32(word);
}

#endif /* RXE_FLUSH_HDR_H */
