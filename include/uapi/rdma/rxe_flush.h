/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * rxe_flush user ABI: RDMA FLUSH and ATOMIC WRITE on the patched Soft-RoCE
 * driver (rdma_rxe_flush.ko) for Linux 6.1, and pmem-rdma's own VERIFY.
 *
 * The numbers and the send WR layout are those of upstream Linux >= 6.2 and
 * rdma-core >= 45, so unmodified rdma-core code works against this driver.
 * What 6.1 cannot carry through ib_core (the two MR access bits) travels in
 * the driver-specific part of the REG_MR command, described below.
 *
 * This header is the reference for the numbers, layouts and completion
 * statuses; Documentation/uapi.rst explains the design around them.
 */
#ifndef _UAPI_RDMA_RXE_FLUSH_H
#define _UAPI_RDMA_RXE_FLUSH_H

#include <linux/types.h>
#include <rdma/ib_user_ioctl_cmds.h>

/* Bumped on any incompatible change to what this header describes. */
#define RXE_FLUSH_ABI_VERSION			1

/* Send WR opcodes in struct rxe_send_wr.opcode (IBV_WR_FLUSH, ...) */
#define RXE_FLUSH_WR_FLUSH			14
#define RXE_FLUSH_WR_ATOMIC_WRITE		15
/* pmem-rdma's own, in the kernel's driver-specific range (IB_WR_RESERVED1) */
#define RXE_FLUSH_WR_VERIFY			0xf0

/* Work completion opcodes in struct ib_uverbs_wc.opcode (IBV_WC_FLUSH, ...) */
#define RXE_FLUSH_WC_FLUSH			8
#define RXE_FLUSH_WC_ATOMIC_WRITE		9
/* pmem-rdma's own; clear of every IBV_WC_* and of the IBV_WC_RECV bit */
#define RXE_FLUSH_WC_VERIFY			0x40

/* MR and QP access flags (IBV_ACCESS_FLUSH_GLOBAL, ...) */
#define RXE_FLUSH_ACCESS_FLUSH_GLOBAL		(1U << 8)
#define RXE_FLUSH_ACCESS_FLUSH_PERSISTENT	(1U << 9)
#define RXE_FLUSH_ACCESS_FLUSH			(RXE_FLUSH_ACCESS_FLUSH_GLOBAL | \
						 RXE_FLUSH_ACCESS_FLUSH_PERSISTENT)

/* device_cap_flags_ex bits (IBV_DEVICE_FLUSH_GLOBAL, ...) */
#define RXE_FLUSH_DEVICE_FLUSH_GLOBAL		(1ULL << 38)
#define RXE_FLUSH_DEVICE_FLUSH_PERSISTENT	(1ULL << 39)
#define RXE_FLUSH_DEVICE_ATOMIC_WRITE		(1ULL << 40)

/* FLUSH placement types (bit mask) and selectivity levels */
#define RXE_FLUSH_TYPE_GLOBAL			1
#define RXE_FLUSH_TYPE_PERSISTENT		2
#define RXE_FLUSH_LEVEL_RANGE			0
#define RXE_FLUSH_LEVEL_MR			1

/*
 * The flush member of struct rxe_send_wr's wr union (the union starts at
 * byte 24 of the 144-byte WQE header, so rkey is at byte 36 of rxe_send_wr,
 * while wr.rdma.rkey is at byte 32).  The FLUSH length is the WQE's
 * dma.length, as rdma-core's rxe provider fills it; the length member here is
 * kept for layout compatibility and ignored.
 */
struct rxe_flush_send_wr_flush {
	__aligned_u64	remote_addr;
	__u32		length;
	__u32		rkey;
	__u8		type;
	__u8		level;
};

/*
 * Driver data of the REG_MR command (after struct ib_uverbs_reg_mr).
 *
 * Linux 6.1's ib_core refuses access bits 8 and 9 in the REG_MR command, so
 * the provider sends the core command without them and repeats the complete
 * access set here.  The driver accepts the command only if:
 *   abi_version == RXE_FLUSH_ABI_VERSION,
 *   access_flags == core access_flags | (any of RXE_FLUSH_ACCESS_FLUSH),
 *   flags within RXE_FLUSH_REG_MR_FLAGS, key_id 0 without KEYED, and any
 *   further driver data is zero;
 * otherwise ibv_reg_mr() fails with EINVAL.  Without driver data (stock
 * rdma-core) an MR simply has no flush access.  Persistence access
 * (RXE_FLUSH_ACCESS_FLUSH_PERSISTENT) needs every page of the MR to be
 * persistent memory, EINVAL on DRAM; global visibility is granted on any.
 *
 * The driver answers with the access set it granted in struct
 * rxe_flush_reg_mr_resp (after struct ib_uverbs_reg_mr_resp), so that a
 * provider can tell it from a driver that ignored the data (response left
 * zero).  The patched provider tries the plain command first, which a
 * kernel >= 6.2 accepts with the flush bits, and this path on EINVAL.
 */
struct rxe_flush_reg_mr_cmd {
	__u32		abi_version;
	__u32		access_flags;
	__u32		flags;		/* RXE_FLUSH_REG_MR_*; 0.4.0: 0 */
	__u32		key_id;		/* with RXE_FLUSH_REG_MR_KEYED */
};

struct rxe_flush_reg_mr_resp {
	__u32		access_flags;
	__u32		flags;		/* the RXE_FLUSH_REG_MR_* taken */
};

/*
 * Keyed MRs (from 0.5.0): the MR is bound to a data key, the user's
 * AES-GCM key made a driver object beforehand (RXE_FLUSH_OBJECT_KEY), named
 * by the id its creation returned.  The key must be of the MR's PD.  The
 * driver answers with RXE_FLUSH_REG_MR_KEYED in the response's flags once
 * the MR is bound; a driver before 0.5.0 refuses any flag (EINVAL), so a
 * keyed registration is never taken for a plain one.  A key cannot be
 * destroyed while an MR is bound to it (EBUSY).  A keyed MR has no remote
 * atomic access and no memory windows (EINVAL): an atomic's operands
 * cross in its headers, and a window grants access beside the MR's.
 */
#define RXE_FLUSH_REG_MR_KEYED			(1U << 0)
#define RXE_FLUSH_REG_MR_FLAGS			RXE_FLUSH_REG_MR_KEYED

/*
 * The data key, a uverbs object of the driver (the ioctl interface,
 * UVERBS_ID_DRIVER_NS).  KEY_CREATE takes:
 *   HANDLE  the new object,
 *   PD      the PD its MRs will be of; the PD cannot be freed before the key,
 *   ALG     RXE_FLUSH_KEY_AES_128_GCM (16 bytes) or _AES_256_GCM (32),
 *   BYTES   the key, exactly as long as ALG says (EINVAL otherwise),
 * and returns ID, the key's number for REG_MR's key_id.  KEY_DESTROY
 * takes HANDLE.  No method returns a key's bytes; the driver wipes them
 * when the key and the last MR bound to it are gone.  EOPNOTSUPP when the
 * kernel's crypto API has no gcm(aes).
 */
#define RXE_FLUSH_KEY_AES_128_GCM		1
#define RXE_FLUSH_KEY_AES_256_GCM		2
#define RXE_FLUSH_KEY_MAX_BYTES			32

enum rxe_flush_objects {
	RXE_FLUSH_OBJECT_KEY = (1U << UVERBS_ID_NS_SHIFT),
};

enum rxe_flush_key_methods {
	RXE_FLUSH_METHOD_KEY_CREATE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_METHOD_KEY_DESTROY,
	RXE_FLUSH_METHOD_KEY_REKEY,		/* from 0.6.0 */
	RXE_FLUSH_METHOD_KEY_QUERY,		/* from 0.6.0 */
};

enum rxe_flush_key_create_attrs {
	RXE_FLUSH_ATTR_KEY_CREATE_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_ATTR_KEY_CREATE_PD,
	RXE_FLUSH_ATTR_KEY_CREATE_ALG,		/* u32, in */
	RXE_FLUSH_ATTR_KEY_CREATE_BYTES,	/* 16 or 32 bytes, in */
	RXE_FLUSH_ATTR_KEY_CREATE_ID,		/* u32, out */
};

enum rxe_flush_key_destroy_attrs {
	RXE_FLUSH_ATTR_KEY_DESTROY_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
};

/*
 * The usage limit (from 0.6.0): a key counts the packets sealed under the
 * subkeys derived from it; keyed work that would take the count past the
 * module parameter key_packets_max (2^48 by default) is refused.
 * KEY_REKEY gives the key new BYTES (as long as before) and a new
 * generation, and counts from zero; QPs bound before it carry no keyed
 * work any more (their connections are made again with new QPs).
 * KEY_QUERY returns SEALED (u64), MAX (u64, the limit) and GEN (u32).
 */
enum rxe_flush_key_rekey_attrs {
	RXE_FLUSH_ATTR_KEY_REKEY_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_ATTR_KEY_REKEY_BYTES,
};

enum rxe_flush_key_query_attrs {
	RXE_FLUSH_ATTR_KEY_QUERY_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_ATTR_KEY_QUERY_SEALED,
	RXE_FLUSH_ATTR_KEY_QUERY_MAX,
	RXE_FLUSH_ATTR_KEY_QUERY_GEN,
};

/*
 * The keyed wire (from 0.6.0; Documentation/keyed-mrs.rst): methods of the
 * QP object (UVERBS_OBJECT_QP) in the driver's namespace, for RC QPs.
 *   QP_KEY_DRAW  HANDLE; returns DRAW, the 16 random bytes the QP drew for
 *                its subkeys (the same bytes when asked again), for the
 *                upper layer to send its peer.
 *   QP_KEY_BIND  HANDLE, KEY (a data key object of the QP's PD) and
 *                PEER_DRAW, the peer's draw: the QP derives the subkeys of
 *                its connection, and from then on carries the payloads of
 *                MRs bound to that key sealed.  Once per QP, in RTR or RTS
 *                (EBUSY when bound, EINVAL without a draw, in another
 *                state, for another PD or for a peer draw equal to ours;
 *                EMSGSIZE when the link's MTU cannot carry a full packet
 *                of the path MTU with the trailer: 108 bytes of headers
 *                and trailer beyond it).
 * A keyed packet carries RXE_FLUSH_KEY_TRAILER_BYTES more than a plain
 * one; a packet whose tag fails is NAKed with code 5 and completes with
 * IBV_WC_REM_INV_RD_REQ_ERR at the requester.
 */
#define RXE_FLUSH_KEY_DRAW_BYTES		16
#define RXE_FLUSH_KEY_TRAILER_BYTES		24

/*
 * Sealed ATOMIC WRITE and VERIFY (from 0.7.0).  ATOMIC WRITE's value lies
 * in the WQE, in no MR: the send flag RXE_FLUSH_SEND_KEYED (in the range
 * ib_verbs.h reserves for drivers; ibv_post_send()'s send_flags or the
 * extended QP's wr_flags) seals it under the data key the QP is bound to,
 * for a keyed MR of the peer (without it, or on an unbound QP, a keyed MR
 * refuses the value: authentication failure).  On an unbound QP the WR
 * completes with IBV_WC_LOC_PROT_ERR, nothing sent.  The flag means
 * nothing on other opcodes; drivers before 0.7.0 ignore it.  A VERIFY is
 * keyed by the MRs of its digest buffer (its sg_list, never inline data),
 * as a READ by its scatter list: a compared digest goes sealed, and the
 * answer comes back sealed - the digest, or for a match a tag alone.
 */
#define RXE_FLUSH_SEND_KEYED			(1U << 26)

/*
 * A QP's rate limit (from 0.8.0): ibv_modify_qp_rate_limit() on an RC QP,
 * rate_limit in kbps, 0 for none or from RXE_FLUSH_QOS_RATE_MIN to _MAX;
 * the requester paces every packet it sends, retransmissions included,
 * by its size on the wire (a READ, FLUSH, ATOMIC WRITE or VERIFY by its
 * request, not by its answer).  The rate comes alone (not with other
 * attributes, EOPNOTSUPP).  The provider reports the range in
 * ibv_query_device_ex()'s packet_pacing_caps.
 */
#define RXE_FLUSH_QOS_RATE_MIN			1000		/* 1 Mbit/s */
#define RXE_FLUSH_QOS_RATE_MAX			100000000	/* 100 Gbit/s */

/*
 * A device's rate (from 0.8.0), shared between the QPs that have work by
 * the weight of their traffic class: sysfs
 * /sys/class/infiniband/DEV/qos_rate_kbps (0 for none, or in the range
 * above) and qos_tc_weights, RXE_FLUSH_QOS_CLASSES weights from 1 to
 * RXE_FLUSH_QOS_WEIGHT_MAX (all 1 to start with).  A QP's class is its
 * GRH traffic class >> 5, the DSCP class selector (CS0..CS7) that rxe
 * copies into the IP header.
 */
#define RXE_FLUSH_QOS_CLASSES			8
#define RXE_FLUSH_QOS_CLASS(traffic_class)	((traffic_class) >> 5)
#define RXE_FLUSH_QOS_WEIGHT_MAX		100

enum rxe_flush_qp_methods {
	RXE_FLUSH_METHOD_QP_KEY_DRAW = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_METHOD_QP_KEY_BIND,
};

enum rxe_flush_qp_key_draw_attrs {
	RXE_FLUSH_ATTR_QP_KEY_DRAW_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_ATTR_QP_KEY_DRAW_BYTES,	/* 16 bytes, out */
};

enum rxe_flush_qp_key_bind_attrs {
	RXE_FLUSH_ATTR_QP_KEY_BIND_HANDLE = (1U << UVERBS_ID_NS_SHIFT),
	RXE_FLUSH_ATTR_QP_KEY_BIND_KEY,
	RXE_FLUSH_ATTR_QP_KEY_BIND_PEER_DRAW,	/* 16 bytes, in */
};

/*
 * ibv_post_send() with IBV_WR_FLUSH (the classic path, rdma-core's rxe
 * provider as patched by pmem-rdma):
 *   wr.rdma.remote_addr, wr.rdma.rkey   the range / the MR to flush,
 *   sum of sg_list[].length             the range length (sge addresses and
 *                                       lkeys are not used; num_sge may be 0),
 *   imm_data                            htobe32(RXE_FLUSH_POST_SEND_FETH(type,
 *                                       level)), or 0 for the default:
 *                                       persistence, range.
 * The value is the FETH word as on the wire: type in bits 3..0, level in
 * bits 5..4.  Invalid values are sent as given; the responder refuses them.
 *
 * ibv_post_send() with IBV_WR_ATOMIC_WRITE: wr.rdma.remote_addr and rkey;
 * the value is the data of the sg_list (or inline data), copied into the
 * WQE's inline data area when the WR is posted (sealed when sent with
 * RXE_FLUSH_SEND_KEYED).  It must be 8 bytes at an
 * 8-byte aligned address; anything else is refused by the responder
 * (IBV_WC_REM_INV_REQ_ERR), memory untouched, and more than the QP's inline
 * size fails ibv_post_send() with EINVAL.
 *
 * Completions of FLUSH and ATOMIC WRITE, however posted:
 *   IBV_WC_SUCCESS           opcode IBV_WC_FLUSH or IBV_WC_ATOMIC_WRITE,
 *   IBV_WC_REM_ACCESS_ERR    bad R_Key (also a zero-length FLUSH), range
 *                            outside the MR, MR without the flush access of
 *                            the placement type,
 *   IBV_WC_REM_INV_REQ_ERR   FLUSH with payload, no or reserved type bits,
 *                            selectivity 2 or 3, length >= 2^31; ATOMIC
 *                            WRITE not 8 bytes or not 8-byte aligned; QP
 *                            without the access (IBV_ACCESS_FLUSH_* or
 *                            remote write).
 * After a refusal both QPs are in the error state.
 */
#define RXE_FLUSH_POST_SEND_FETH(type, level)	((((level) & 0x3) << 4) | \
						 ((type) & 0xf))
#define RXE_FLUSH_POST_SEND_DEFAULT_TYPE	RXE_FLUSH_TYPE_PERSISTENT
#define RXE_FLUSH_POST_SEND_DEFAULT_LEVEL	RXE_FLUSH_LEVEL_RANGE

/*
 * VERIFY: the responder hashes a remote range and returns the digest, or
 * compares it with the one sent (draft-talpey-rdma-commit).  It has no
 * capability bit (upstream owns that space): the driver's firmware version
 * tells (sysfs fw_ver "rxe_flush-X.Y.Z", ibv_devinfo's fw_ver X.Y.Z) -
 * VERIFY with CRC32C and SHA-256 from 0.3.0, XXH64 and flush-and-verify
 * from 0.4.0 - and the provider's rxe_flush_dv_query_device()
 * (<infiniband/rxe_flush_dv.h>) answers from it.  Algorithms:
 */
#define RXE_FLUSH_VERIFY_ALG_CRC32C		1	/* 4 bytes, big-endian */
#define RXE_FLUSH_VERIFY_ALG_SHA256		2	/* 32 bytes */
#define RXE_FLUSH_VERIFY_ALG_XXH64		3	/* 8 bytes, big-endian:
							 * XXH64, seed 0
							 */
#define RXE_FLUSH_VERIFY_CRC32C_BYTES		4
#define RXE_FLUSH_VERIFY_SHA256_BYTES		32
#define RXE_FLUSH_VERIFY_XXH64_BYTES		8
/* the set of algorithms as a mask, as in pmem_rdma's verify_algs */
#define RXE_FLUSH_VERIFY_ALG_BIT(alg)		(1U << (alg))
#define RXE_FLUSH_VERIFY_ALGS			(RXE_FLUSH_VERIFY_ALG_BIT(1) | \
						 RXE_FLUSH_VERIFY_ALG_BIT(2) | \
						 RXE_FLUSH_VERIFY_ALG_BIT(3))
/* compare with the expected digest instead of returning one */
#define RXE_FLUSH_VERIFY_COMPARE		(1U << 8)
/*
 * flush-and-verify (SNIA NVMP OptimizedFlushAndVerify): the responder
 * first makes the range durable exactly as a FLUSH of placement type
 * (RXE_FLUSH_TYPE_*, range selectivity) would, then hashes it as the
 * persistence domain then holds it, and answers once.  It needs the flush
 * access of that type as well as verify access.  0: a plain VERIFY.
 */
#define RXE_FLUSH_VERIFY_FLUSH(type)		(((type) & 0xfU) << 12)
#define RXE_FLUSH_VERIFY_FLUSH_TYPE(word)	(((word) >> 12) & 0xfU)
/* the VERIFY word (VETH on the wire): algorithm and flags */
#define RXE_FLUSH_VERIFY_WORD(alg, flags)	(((alg) & 0xffU) | (flags))

/*
 * ibv_post_send() with opcode RXE_FLUSH_WR_VERIFY (RC QPs only):
 *   wr.atomic.remote_addr, wr.atomic.rkey  the range and its R_Key; the MR
 *                                          needs remote read access, or, for
 *                                          a kernel MR (pmem_rdma), the
 *                                          algorithm in its verify set:
 *                                          without remote read, compare mode
 *                                          only, offset into the MR and
 *                                          length multiples of 4096 (a
 *                                          returned digest needs READ),
 *   wr.atomic.compare_add                  the range length (< 2^31),
 *   wr.atomic.swap                         RXE_FLUSH_VERIFY_WORD(alg, flags),
 *                                          flags: RXE_FLUSH_VERIFY_COMPARE,
 *                                          RXE_FLUSH_VERIFY_FLUSH(type),
 *   sg_list (or inline data)               exactly the digest's size: with
 *                                          RXE_FLUSH_VERIFY_COMPARE the
 *                                          expected digest, read when sent;
 *                                          without, where the digest lands.
 * The completion has opcode RXE_FLUSH_WC_VERIFY and status
 *   IBV_WC_SUCCESS           digest returned, or equal to the expected one,
 *   IBV_WC_REM_OP_ERR        the digest differs; the responder ends the
 *                            connection, so nothing posted after executes,
 *   IBV_WC_REM_ACCESS_ERR    bad R_Key, no verify access, range outside;
 *                            without remote read: a returned digest, or a
 *                            range not whole 4 KiB blocks of the MR;
 *                            flush-and-verify: the MR without the flush
 *                            access of the type,
 *   IBV_WC_REM_INV_REQ_ERR   unknown algorithm, reserved bits (also of the
 *                            placement type), bad sizes; flush-and-verify:
 *                            the QP without the flush access of the type.
 * A flush-and-verify counts as a FLUSH and a VERIFY in hw_counters.
 * The range is hashed as the persistence domain holds it: for an emulated
 * pmem_rdma export, what a power failure would leave.
 */

#endif /* _UAPI_RDMA_RXE_FLUSH_H */
