/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush keyed MRs for kernel users, such as pmem_rdma: the data keys,
 * keyed MRs and keyed connections that the driver's uverbs methods give
 * user space (Documentation/keyed-mrs.rst), for a kernel PD, a
 * fast-registration MR and an RC QP.  Not an ABI: both modules are built
 * from one tree.  The user takes the table with
 * symbol_get(rxe_flush_keyed_ops), so that it loads without
 * rdma_rxe_flush and pins it only while it uses keyed MRs.
 *
 *   key_create  a data key on pd: alg RXE_FLUSH_KEY_AES_128_GCM (16
 *               bytes) or _AES_256_GCM (32), from bytes, which the caller
 *               may wipe on return; ERR_PTR(-EINVAL) for another length,
 *               -EOPNOTSUPP without AES-GCM, -ENOMEM;
 *   key_drop    the caller's reference; the key lives on in the MRs and
 *               QPs bound to it;
 *   mr_bind     mr, registered (its access known) and before its R_Key is
 *               handed out, bound to key of its PD for its life: -EINVAL
 *               (another PD, bound already, remote atomic or MW access),
 *               -EOPNOTSUPP (not an MR of an rxe_flush device);
 *   qp_draw     the RC QP's 16 random bytes for its peer
 *               (RXE_FLUSH_KEY_DRAW_BYTES), the same when asked again;
 *   qp_bind     the QP, in RTR or RTS, bound to key with its peer's draw,
 *               before any keyed work: -EINVAL (no draw yet, another PD,
 *               another state, the QP's own draw), -EBUSY (bound),
 *               -EMSGSIZE (the link cannot carry a full keyed packet).
 *
 * They sleep (GFP_KERNEL, crypto allocation): process context only.
 */
#ifndef RDMA_RXE_FLUSH_KEYED_H
#define RDMA_RXE_FLUSH_KEYED_H

#include <linux/types.h>

struct ib_mr;
struct ib_pd;
struct ib_qp;
struct rxe_flush_key;

struct rxe_flush_keyed_ops {
	struct rxe_flush_key *(*key_create)(struct ib_pd *pd, u32 alg,
					    const u8 *bytes, u32 len);
	void (*key_drop)(struct rxe_flush_key *key);
	int (*mr_bind)(struct ib_mr *mr, struct rxe_flush_key *key);
	int (*qp_draw)(struct ib_qp *qp, u8 *draw);
	int (*qp_bind)(struct ib_qp *qp, struct rxe_flush_key *key,
		       const u8 *peer_draw);
};

extern const struct rxe_flush_keyed_ops rxe_flush_keyed_ops;

#endif /* RDMA_RXE_FLUSH_KEYED_H */
