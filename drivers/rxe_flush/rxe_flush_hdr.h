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

#define RXE_FLUSH_FETH_BYTES			4
#define RXE_FLUSH_ATOMIC_WRITE_BYTES		8

#define RXE_FLUSH_FETH_TYPE_MASK		0x0000000fU
#define RXE_FLUSH_FETH_SEL_SHIFT		4
#define RXE_FLUSH_FETH_SEL_MASK			0x00000030U
#define RXE_FLUSH_FETH_RSVD_MASK		0xffffffc0U

/* placement type bits defined by IBA 1.5; bits 3..2 are reserved */
#define RXE_FLUSH_FETH_TYPE_VALID		0x3U

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
