// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: data keys, and the MRs bound to them (<rdma/rxe_flush.h>,
 * "Keyed MRs").
 *
 * A data key is the user's AES-GCM key made a uverbs object of the driver,
 * as mlx5's data-encryption keys are: created from its bytes on a PD,
 * destroyed by its handle, and gone with the process that made it.  The
 * provider names it to REG_MR by the id its creation returned: a driver
 * cannot resolve a uverbs handle there, and the id is of no use outside
 * the key's PD.
 *
 * A key counts the packets sealed under all the subkeys derived from it,
 * and refuses keyed work that would take it past key_packets_max: GCM's
 * bounds are per key, and a user's key lives long.  A re-key gives the key
 * new bytes and a new generation; the connections bound before it are
 * refused from then on and are made again.
 *
 * Nothing reads a key back.  Its bytes live in the key (for the subkeys
 * the wire will derive from them) and in the cipher's schedule, and are
 * wiped when the key object and the last MR bound to it are gone: a kref
 * that each bound MR holds, so a process that exits with its MRs still
 * registered frees the key only after them.
 */

#include <crypto/aead.h>
#include <crypto/gcm.h>
#include <linux/xarray.h>
#include <rdma/uverbs_ioctl.h>

#define UVERBS_MODULE_NAME rxe_flush
#include <rdma/uverbs_named_ioctl.h>
#include <rdma/uverbs_std_types.h>

#include "rxe.h"
#include "rxe_flush.h"

/* live keys by id; the lock also orders a bind against a destroy */
static DEFINE_XARRAY_ALLOC1(rxe_flush_keys);
static u32 rxe_flush_key_next;

static ulong key_packets_max = 1UL << 48;
module_param(key_packets_max, ulong, 0644);
MODULE_PARM_DESC(key_packets_max,
		 "Packets a data key seals, all its connections together, before keyed work is refused until it is re-keyed (default 2^48)");

static void key_release(struct kref *ref)
{
	struct rxe_flush_key *key = container_of(ref, typeof(*key), ref);

	crypto_free_aead(key->tfm);
	kfree_sensitive(key);
}

void rxe_flush_key_get(struct rxe_flush_key *key)
{
	kref_get(&key->ref);
}

void rxe_flush_key_put(struct rxe_flush_key *key)
{
	kref_put(&key->ref, key_release);
}

/*
 * Count a packet to seal under a subkey of key's generation gen, with
 * ahead packets of its message left (this one included): refused when the
 * key was re-keyed since (-EKEYREVOKED) or when the message would take the
 * count past the limit (-EKEYEXPIRED), so that a message is refused
 * before its first packet rather than cut.
 */
int rxe_flush_key_charge(struct rxe_flush_key *key, u32 gen, u64 ahead)
{
	u64 max = READ_ONCE(key_packets_max);

	if (gen != READ_ONCE(key->gen))
		return -EKEYREVOKED;
	if (ahead > max)
		return -EKEYEXPIRED;
	/* counted first, then checked: QPs charging at once cannot pass it */
	if (atomic64_inc_return(&key->sealed) > max - ahead + 1) {
		atomic64_dec(&key->sealed);
		return -EKEYEXPIRED;
	}
	return 0;
}

static u32 key_bytes(u32 alg)
{
	switch (alg) {
	case RXE_FLUSH_KEY_AES_128_GCM:
		return 16;
	case RXE_FLUSH_KEY_AES_256_GCM:
		return 32;
	}
	return 0;
}

/* a key of alg on pd, its bytes still to come; NULL without memory */
static struct rxe_flush_key *dkey_alloc(struct ib_pd *pd, u32 alg)
{
	struct rxe_flush_key *key = kzalloc(sizeof(*key), GFP_KERNEL);

	if (!key)
		return NULL;
	kref_init(&key->ref);
	key->alg = alg;
	key->len = key_bytes(alg);
	key->pd = pd;
	return key;
}

/* its bytes in: the cipher they key, as a check that the CPU can */
static int dkey_arm(struct rxe_flush_key *key)
{
	int err;

	/* a synchronous implementation: the wire runs it in softirq */
	key->tfm = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(key->tfm)) {
		err = PTR_ERR(key->tfm) == -ENOENT ? -EOPNOTSUPP :
						     PTR_ERR(key->tfm);
		key->tfm = NULL;
		return err;
	}
	return crypto_aead_setkey(key->tfm, key->bytes, key->len) ?:
	       crypto_aead_setauthsize(key->tfm, 16);
}

static int UVERBS_HANDLER(RXE_FLUSH_METHOD_KEY_CREATE)(
	struct uverbs_attr_bundle *attrs)
{
	struct ib_uobject *uobj =
		uverbs_attr_get_uobject(attrs, RXE_FLUSH_ATTR_KEY_CREATE_HANDLE);
	struct ib_pd *pd =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_KEY_CREATE_PD);
	struct rxe_flush_key *key;
	u32 alg, len;
	int err;

	if (IS_ERR(pd))
		return PTR_ERR(pd);
	err = uverbs_copy_from(&alg, attrs, RXE_FLUSH_ATTR_KEY_CREATE_ALG);
	if (err)
		return err;
	len = key_bytes(alg);
	if (!len || uverbs_attr_get_len(attrs,
					RXE_FLUSH_ATTR_KEY_CREATE_BYTES) != len)
		return -EINVAL;

	key = dkey_alloc(pd, alg);
	if (!key)
		return -ENOMEM;
	/* straight from the caller: no copy of the key is left behind */
	err = _uverbs_copy_from(key->bytes, attrs,
				RXE_FLUSH_ATTR_KEY_CREATE_BYTES, len) ?:
	      dkey_arm(key);
	if (err)
		goto err_free;

	/*
	 * The id reserved (not yet found by a bind) and told first: once the
	 * key is findable and its object committed, nothing fails.  Ids go
	 * round, so a destroyed key's id is not the next key's.
	 */
	err = xa_alloc_cyclic(&rxe_flush_keys, &key->id, NULL, xa_limit_31b,
			      &rxe_flush_key_next, GFP_KERNEL);
	if (err < 0)
		goto err_free;
	err = uverbs_copy_to(attrs, RXE_FLUSH_ATTR_KEY_CREATE_ID, &key->id,
			     sizeof(key->id));
	if (err)
		goto err_erase;
	xa_store(&rxe_flush_keys, key->id, key, GFP_KERNEL);
	atomic_inc(&pd->usecnt);
	uobj->object = key;
	uverbs_finalize_uobj_create(attrs, RXE_FLUSH_ATTR_KEY_CREATE_HANDLE);
	return 0;

err_erase:
	xa_erase(&rxe_flush_keys, key->id);
err_free:
	key_release(&key->ref);
	return err;
}

/*
 * The key object goes: refused while MRs are bound to it when the user
 * asks (EBUSY, nothing changed); at close, at an abort or when the device
 * goes, it always goes, and the bound MRs keep its memory until theirs.
 */
static int key_destroy_object(struct ib_uobject *uobj,
			      enum rdma_remove_reason why,
			      struct uverbs_attr_bundle *attrs)
{
	struct rxe_flush_key *key = uobj->object;

	xa_lock(&rxe_flush_keys);
	if (why == RDMA_REMOVE_DESTROY && key->mrs) {
		xa_unlock(&rxe_flush_keys);
		return -EBUSY;
	}
	__xa_erase(&rxe_flush_keys, key->id);
	xa_unlock(&rxe_flush_keys);
	atomic_dec(&key->pd->usecnt);
	kref_put(&key->ref, key_release);
	return 0;
}

DECLARE_UVERBS_NAMED_METHOD(
	RXE_FLUSH_METHOD_KEY_CREATE,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_KEY_CREATE_HANDLE, RXE_FLUSH_OBJECT_KEY,
			UVERBS_ACCESS_NEW, UA_MANDATORY),
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_KEY_CREATE_PD, UVERBS_OBJECT_PD,
			UVERBS_ACCESS_READ, UA_MANDATORY),
	UVERBS_ATTR_PTR_IN(RXE_FLUSH_ATTR_KEY_CREATE_ALG,
			   UVERBS_ATTR_TYPE(u32), UA_MANDATORY),
	UVERBS_ATTR_PTR_IN(RXE_FLUSH_ATTR_KEY_CREATE_BYTES,
			   UVERBS_ATTR_SIZE(16, RXE_FLUSH_KEY_MAX_BYTES),
			   UA_MANDATORY),
	UVERBS_ATTR_PTR_OUT(RXE_FLUSH_ATTR_KEY_CREATE_ID,
			    UVERBS_ATTR_TYPE(u32), UA_MANDATORY));

/*
 * New bytes for the key (as long as its algorithm's), a new generation
 * and a count from zero.  The object is held exclusively, so that no bind
 * reads the bytes meanwhile.
 */
static int UVERBS_HANDLER(RXE_FLUSH_METHOD_KEY_REKEY)(
	struct uverbs_attr_bundle *attrs)
{
	struct rxe_flush_key *key =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_KEY_REKEY_HANDLE);
	u8 bytes[RXE_FLUSH_KEY_MAX_BYTES];
	int err;

	if (IS_ERR(key))
		return PTR_ERR(key);
	if (uverbs_attr_get_len(attrs, RXE_FLUSH_ATTR_KEY_REKEY_BYTES) !=
	    key->len)
		return -EINVAL;
	err = _uverbs_copy_from(bytes, attrs, RXE_FLUSH_ATTR_KEY_REKEY_BYTES,
				key->len);
	if (!err)
		err = crypto_aead_setkey(key->tfm, bytes, key->len);
	if (!err) {
		memcpy(key->bytes, bytes, key->len);
		/* the old generation's QPs are refused before the count resets */
		WRITE_ONCE(key->gen, key->gen + 1);
		smp_wmb();	/* the generation before the count */
		atomic64_set(&key->sealed, 0);
	}
	memzero_explicit(bytes, sizeof(bytes));
	return err;
}

/* the packets sealed since the last re-key, the limit, the generation */
static int UVERBS_HANDLER(RXE_FLUSH_METHOD_KEY_QUERY)(
	struct uverbs_attr_bundle *attrs)
{
	struct rxe_flush_key *key =
		uverbs_attr_get_obj(attrs, RXE_FLUSH_ATTR_KEY_QUERY_HANDLE);
	u64 sealed, max = READ_ONCE(key_packets_max);
	u32 gen;

	if (IS_ERR(key))
		return PTR_ERR(key);
	sealed = atomic64_read(&key->sealed);
	gen = READ_ONCE(key->gen);
	return uverbs_copy_to(attrs, RXE_FLUSH_ATTR_KEY_QUERY_SEALED, &sealed,
			      sizeof(sealed)) ?:
	       uverbs_copy_to(attrs, RXE_FLUSH_ATTR_KEY_QUERY_MAX, &max,
			      sizeof(max)) ?:
	       uverbs_copy_to(attrs, RXE_FLUSH_ATTR_KEY_QUERY_GEN, &gen,
			      sizeof(gen));
}

DECLARE_UVERBS_NAMED_METHOD(
	RXE_FLUSH_METHOD_KEY_REKEY,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_KEY_REKEY_HANDLE, RXE_FLUSH_OBJECT_KEY,
			UVERBS_ACCESS_WRITE, UA_MANDATORY),
	UVERBS_ATTR_PTR_IN(RXE_FLUSH_ATTR_KEY_REKEY_BYTES,
			   UVERBS_ATTR_SIZE(16, RXE_FLUSH_KEY_MAX_BYTES),
			   UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD(
	RXE_FLUSH_METHOD_KEY_QUERY,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_KEY_QUERY_HANDLE, RXE_FLUSH_OBJECT_KEY,
			UVERBS_ACCESS_READ, UA_MANDATORY),
	UVERBS_ATTR_PTR_OUT(RXE_FLUSH_ATTR_KEY_QUERY_SEALED,
			    UVERBS_ATTR_TYPE(u64), UA_MANDATORY),
	UVERBS_ATTR_PTR_OUT(RXE_FLUSH_ATTR_KEY_QUERY_MAX,
			    UVERBS_ATTR_TYPE(u64), UA_MANDATORY),
	UVERBS_ATTR_PTR_OUT(RXE_FLUSH_ATTR_KEY_QUERY_GEN,
			    UVERBS_ATTR_TYPE(u32), UA_MANDATORY));

DECLARE_UVERBS_NAMED_METHOD_DESTROY(
	RXE_FLUSH_METHOD_KEY_DESTROY,
	UVERBS_ATTR_IDR(RXE_FLUSH_ATTR_KEY_DESTROY_HANDLE, RXE_FLUSH_OBJECT_KEY,
			UVERBS_ACCESS_DESTROY, UA_MANDATORY));

DECLARE_UVERBS_NAMED_OBJECT(RXE_FLUSH_OBJECT_KEY,
			    UVERBS_TYPE_ALLOC_IDR(key_destroy_object),
			    &UVERBS_METHOD(RXE_FLUSH_METHOD_KEY_CREATE),
			    &UVERBS_METHOD(RXE_FLUSH_METHOD_KEY_DESTROY),
			    &UVERBS_METHOD(RXE_FLUSH_METHOD_KEY_REKEY),
			    &UVERBS_METHOD(RXE_FLUSH_METHOD_KEY_QUERY));

const struct uapi_definition rxe_flush_key_defs[] = {
	UAPI_DEF_CHAIN_OBJ_TREE_NAMED(RXE_FLUSH_OBJECT_KEY),
	{}
};

/* mr bound to key, under the xarray's lock: a reference and a count */
static void key_bind_mr(struct rxe_flush_key *key, struct rxe_mr *mr)
{
	key->mrs++;
	kref_get(&key->ref);
	mr->flush_key = key;
}

/*
 * REG_MR's driver data, once the MR is made: with RXE_FLUSH_REG_MR_KEYED,
 * bind mr to the key of that id and of its PD, and say so in the
 * response.  The data is read again from user memory, so it is checked
 * again, against the access the MR was made with: what is bound and
 * answered is what this read says, and it must agree with the first.
 */
int rxe_flush_key_reg_mr(struct ib_udata *udata, struct rxe_mr *mr)
{
	struct rxe_flush_reg_mr_resp resp = { 0 };
	struct rxe_flush_reg_mr_cmd cmd;
	struct rxe_flush_key *key;

	if (!udata || !udata->inlen)
		return 0;
	if (udata->inlen < sizeof(cmd))
		return -EINVAL;
	if (ib_copy_from_udata(&cmd, udata, sizeof(cmd)))
		return -EFAULT;
	if (cmd.abi_version != RXE_FLUSH_ABI_VERSION ||
	    cmd.access_flags != (u32)mr->access ||
	    cmd.flags & ~RXE_FLUSH_REG_MR_FLAGS)
		return -EINVAL;
	if (!(cmd.flags & RXE_FLUSH_REG_MR_KEYED))
		return cmd.key_id ? -EINVAL : 0;
	/*
	 * An atomic's operands cross in its headers, which no tag covers; a
	 * memory window would grant access the MR's own key check never sees.
	 */
	if (mr->access & (IB_ACCESS_REMOTE_ATOMIC | IB_ACCESS_MW_BIND))
		return -EINVAL;

	xa_lock(&rxe_flush_keys);
	key = xa_load(&rxe_flush_keys, cmd.key_id);
	if (!key || key->pd != mr->ibmr.pd) {
		xa_unlock(&rxe_flush_keys);
		return -EINVAL;
	}
	key_bind_mr(key, mr);
	xa_unlock(&rxe_flush_keys);

	resp.access_flags = cmd.access_flags;
	resp.flags = RXE_FLUSH_REG_MR_KEYED;
	if (udata->outlen &&
	    ib_copy_to_udata(udata, &resp, min(udata->outlen, sizeof(resp)))) {
		rxe_flush_key_mr_cleanup(mr);
		return -EFAULT;
	}
	return 0;
}

void rxe_flush_key_mr_cleanup(struct rxe_mr *mr)
{
	struct rxe_flush_key *key = mr->flush_key;

	if (!key)
		return;
	mr->flush_key = NULL;
	xa_lock(&rxe_flush_keys);
	key->mrs--;
	xa_unlock(&rxe_flush_keys);
	kref_put(&key->ref, key_release);
}

/*
 * A kernel user's data key (include/rdma/rxe_flush_keyed.h): never in the
 * xarray of user keys, so that no user can name it; it holds its PD as a
 * user's key does.
 */
struct rxe_flush_key *rxe_flush_key_new(struct ib_pd *pd, u32 alg,
					const u8 *bytes, u32 len)
{
	struct rxe_flush_key *key;
	int err;

	if (!key_bytes(alg) || len != key_bytes(alg))
		return ERR_PTR(-EINVAL);
	key = dkey_alloc(pd, alg);
	if (!key)
		return ERR_PTR(-ENOMEM);
	memcpy(key->bytes, bytes, len);
	err = dkey_arm(key);
	if (err) {
		key_release(&key->ref);
		return ERR_PTR(err);
	}
	atomic_inc(&pd->usecnt);
	return key;
}

void rxe_flush_key_drop(struct rxe_flush_key *key)
{
	atomic_dec(&key->pd->usecnt);
	kref_put(&key->ref, key_release);
}

/*
 * A kernel MR bound to key, before its R_Key is handed out: of the key's
 * PD, without remote atomics (an atomic's operands cross in its headers,
 * which no tag covers), once.
 */
int rxe_flush_key_bind_kmr(struct rxe_mr *mr, struct rxe_flush_key *key)
{
	if (key->pd != mr->ibmr.pd || mr->flush_key ||
	    mr->access & (IB_ACCESS_REMOTE_ATOMIC | IB_ACCESS_MW_BIND))
		return -EINVAL;
	xa_lock(&rxe_flush_keys);
	key_bind_mr(key, mr);
	xa_unlock(&rxe_flush_keys);
	return 0;
}
