// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: keyed exports (PMEM_RDMA_EXPORT_KEYED_*; the connect in
 * <linux/pmem_rdma.h>, the design in Documentation/keyed-mrs.rst).  The
 * export's data key is a key of rdma_rxe_flush on the export's PD
 * (include/rdma/rxe_flush_keyed.h, taken with symbol_get() and held while
 * the export lives).  Each peer's QP is bound to it with the peer's draw
 * between RTR and RTS, its MR once registered and before its R_Key leaves
 * in the accept, which carries the QP's draw and the key check.
 */
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/module.h>
#include <rdma/rxe_flush_keyed.h>
#include <rdma/rdma_cm.h>
#include <linux/pmem_rdma_connect.h>
#include <rdma/rxe_flush.h>

#include "pmem_rdma.h"

int pmem_rdma_keyed_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_keyed *k = &exp->keyed;
	u32 len = pmem_rdma_data_key_len(&exp->req);
	struct rxe_flush_key *key;

	if (!len)
		return 0;
	k->ops = symbol_get(rxe_flush_keyed_ops);
	if (!k->ops)
		return -EOPNOTSUPP;
	key = k->ops->key_create(exp->pd, len == 32 ?
				 RXE_FLUSH_KEY_AES_256_GCM :
				 RXE_FLUSH_KEY_AES_128_GCM,
				 exp->req.data_key, len);
	if (IS_ERR(key)) {
		pmem_rdma_keyed_free(exp);
		return PTR_ERR(key);
	}
	k->key = key;
	return 0;
}

/* before the PD goes: the key holds it */
void pmem_rdma_keyed_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_keyed *k = &exp->keyed;

	if (k->key)
		k->ops->key_drop(k->key);
	k->key = NULL;
	if (k->ops)
		symbol_put(rxe_flush_keyed_ops);
	k->ops = NULL;
}

/* step 4 of the judgement: a draw for a keyed export, none for another */
u16 pmem_rdma_keyed_judge(struct pmem_rdma_exp *exp,
			  const struct rdma_conn_param *conn)
{
	u8 draw[PMEM_RDMA_KEY_DRAW_LEN];

	return pmem_rdma_draw_judge(pmem_rdma_connect_draw(draw,
					conn->private_data,
					conn->private_data_len),
				    pmem_rdma_data_key_len(&exp->req) != 0);
}

/* the peer's QP, in RTR, bound with the request's draw; its own into draw */
int pmem_rdma_keyed_bind_qp(struct pmem_rdma_exp *exp, struct ib_qp *qp,
			    const struct rdma_conn_param *req, u8 *draw)
{
	struct pmem_rdma_keyed *k = &exp->keyed;
	u8 peer_draw[PMEM_RDMA_KEY_DRAW_LEN];

	if (!k->key)
		return 0;
	/* judged a moment ago: the draw is there */
	if (!pmem_rdma_connect_draw(peer_draw, req->private_data,
				    req->private_data_len))
		return -EINVAL;
	return k->ops->qp_draw(qp, draw) ?:
	       k->ops->qp_bind(qp, k->key, peer_draw);
}

int pmem_rdma_keyed_bind_mr(struct pmem_rdma_exp *exp, struct ib_mr *mr)
{
	struct pmem_rdma_keyed *k = &exp->keyed;

	return k->key ? k->ops->mr_bind(mr, k->key) : 0;
}

/*
 * The accept's draw and key check (HMAC-SHA256 of the data key over the
 * label and both draws): the accept's length, or -errno.
 */
int pmem_rdma_keyed_accept(struct pmem_rdma_exp *exp,
			   const struct rdma_conn_param *req, const u8 *draw,
			   struct pmem_rdma_accept *acc, int len)
{
	u8 peer_draw[PMEM_RDMA_KEY_DRAW_LEN], k[PMEM_RDMA_KEY_CHECK_INPUT_LEN];
	u8 md[SHA256_DIGEST_SIZE];
	struct crypto_shash *hmac;
	int err;

	if (!exp->keyed.key)
		return len;
	pmem_rdma_connect_draw(peer_draw, req->private_data,
			       req->private_data_len);
	pmem_rdma_key_check_input(k, peer_draw, draw);
	hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(hmac))
		return PTR_ERR(hmac);
	err = crypto_shash_setkey(hmac, exp->req.data_key,
				  pmem_rdma_data_key_len(&exp->req));
	if (!err) {
		SHASH_DESC_ON_STACK(desc, hmac);

		desc->tfm = hmac;
		err = crypto_shash_digest(desc, k, sizeof(k), md);
		shash_desc_zero(desc);
	}
	crypto_free_shash(hmac);
	if (!err) {
		memcpy(acc->key_draw, draw, PMEM_RDMA_KEY_DRAW_LEN);
		memcpy(acc->key_check, md, PMEM_RDMA_KEY_CHECK_LEN);
	}
	memzero_explicit(md, sizeof(md));
	return err ?: (int)sizeof(*acc);
}
