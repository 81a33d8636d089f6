/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: wire format of RDMA FLUSH and ATOMIC WRITE (IBA 1.5 Memory
 * Placement Extensions, RoCEv2).
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
 * VETH is one big-endian 32-bit word:
 *   bits  7..0  algorithm (RXE_FLUSH_VERIFY_ALG_*)
 *   bit      8  compare: the payload is the expected digest
 *   bits 31..9  reserved
 * A CRC32C digest travels as 4 bytes big-endian, SHA-256 as its 32 bytes.
 *
 * FETH is one big-endian 32-bit word:
 *   bits  3..0  placement type: bit 0 global visibility, bit 1 persistence
 *   bits  5..4  selectivity: 0 range (RETH VA/length), 1 whole MR of R_Key
 *   bits 31..6  reserved
 */
#ifndef RXE_FLUSH_HDR_H
#define RXE_FLUSH_HDR_H

#include <linux/types.h>
#include <asm/byteorder.h>

#define RXE_FLUSH_OPCODE_RC_FLUSH		0x1c
#define RXE_FLUSH_OPCODE_RC_ATOMIC_WRITE	0x1d
#define RXE_FLUSH_OPCODE_RC_VERIFY		0xe0

#define RXE_FLUSH_FETH_BYTES			4
#define RXE_FLUSH_ATOMIC_WRITE_BYTES		8

#define RXE_FLUSH_FETH_TYPE_MASK		0x0000000fU
#define RXE_FLUSH_FETH_SEL_SHIFT		4
#define RXE_FLUSH_FETH_SEL_MASK			0x00000030U
#define RXE_FLUSH_FETH_RSVD_MASK		0xffffffc0U

/* placement type bits defined by IBA 1.5; bits 3..2 are reserved */
#define RXE_FLUSH_FETH_TYPE_VALID		0x3U

#define RXE_FLUSH_VETH_BYTES			4
#define RXE_FLUSH_VETH_ALG_MASK			0x000000ffU
#define RXE_FLUSH_VETH_COMPARE			0x00000100U
#define RXE_FLUSH_VETH_RSVD_MASK		0xfffffe00U

/* the longest digest (SHA-256) */
#define RXE_FLUSH_DIGEST_MAX			32

struct rxe_flush_veth {
	__be32 bits;
};

/* a digest kept in a responder resource, to answer a duplicate VERIFY */
struct rxe_flush_digest {
	u8 len;
	u8 bytes[RXE_FLUSH_DIGEST_MAX];
};

struct rxe_flush_feth {
	__be32 bits;
};

static inline u32 rxe_flush_feth_make(u8 type, u8 level)
{
	return ((u32)(level & 0x3) << RXE_FLUSH_FETH_SEL_SHIFT) |
	       (type & RXE_FLUSH_FETH_TYPE_MASK);
}

static inline u32 rxe_flush_feth_type(u32 feth)
{
	return feth & RXE_FLUSH_FETH_TYPE_MASK;
}

static inline u32 rxe_flush_feth_sel(u32 feth)
{
	return (feth & RXE_FLUSH_FETH_SEL_MASK) >> RXE_FLUSH_FETH_SEL_SHIFT;
}

#endif /* RXE_FLUSH_HDR_H */
