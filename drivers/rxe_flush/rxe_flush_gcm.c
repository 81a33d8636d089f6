// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush keyed wire: the AES-GCM of a stream (rxe_flush.h).  rxe seals
 * and opens packets in softirq, where it cannot wait for an asynchronous
 * cipher, and the CPU's AES-GCM (AES-NI on x86) is offered to users only
 * behind the SIMD helper, which is asynchronous.  So each stream holds two
 * synchronous transforms of its subkey: the CPU's own - the internal
 * algorithm that the SIMD helper calls when the FPU may be used - and the
 * generic one, for when it may not, as the helper itself decides.  Where
 * the CPU has none, the generic one does it all.
 *
 * /sys/module/rdma_rxe_flush/parameters/seal_cipher says which ran: each
 * implementation's driver name and the packets it sealed or opened.
 */
#include <crypto/aead.h>
#include <crypto/algapi.h>
#include <asm/simd.h>
#include <crypto/internal/simd.h>
#include <linux/atomic.h>
#include <linux/moduleparam.h>

#include "rxe_flush.h"

/* the CPU's gcm(aes) as the SIMD helper calls it: internal, synchronous */
#define GCM_CPU		"__gcm(aes)"
#define GCM_ANY		"gcm(aes)"

static atomic64_t gcm_cpu_runs, gcm_any_runs;
static char gcm_cpu_name[CRYPTO_MAX_ALG_NAME], gcm_any_name[CRYPTO_MAX_ALG_NAME];
static DEFINE_SPINLOCK(gcm_names_lock);

static int seal_cipher_get(char *buf, const struct kernel_param *kp)
{
	int n;

	spin_lock(&gcm_names_lock);
	n = sysfs_emit(buf, "%s %lld\n%s %lld\n",
		       gcm_cpu_name[0] ? gcm_cpu_name : "-",
		       (long long)atomic64_read(&gcm_cpu_runs),
		       gcm_any_name[0] ? gcm_any_name : "-",
		       (long long)atomic64_read(&gcm_any_runs));
	spin_unlock(&gcm_names_lock);
	return n;
}

static const struct kernel_param_ops seal_cipher_ops = {
	.get = seal_cipher_get,
};
module_param_cb(seal_cipher, &seal_cipher_ops, NULL, 0444);
MODULE_PARM_DESC(seal_cipher,
		 "the keyed wire's AES-GCM: the CPU's and the generic, with the packets each did");

static void gcm_name(char *name, struct crypto_aead *tfm)
{
	spin_lock(&gcm_names_lock);
	strscpy(name, crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm)),
		CRYPTO_MAX_ALG_NAME);
	spin_unlock(&gcm_names_lock);
}

/* a synchronous transform of name with key, and its request */
static int gcm_one(struct crypto_aead **tfm, struct aead_request **req,
		   const char *name, u32 type, const u8 *key, u32 len,
		   u32 authsize)
{
	int err;

	*tfm = crypto_alloc_aead(name, type, type | CRYPTO_ALG_ASYNC);
	if (IS_ERR(*tfm)) {
		err = PTR_ERR(*tfm);
		*tfm = NULL;
		return err;
	}
	err = crypto_aead_setkey(*tfm, key, len) ?:
	      crypto_aead_setauthsize(*tfm, authsize);
	if (!err) {
		*req = aead_request_alloc(*tfm, GFP_KERNEL);
		if (!*req)
			err = -ENOMEM;
	}
	if (err) {
		crypto_free_aead(*tfm);
		*tfm = NULL;
	}
	return err;
}

int rxe_flush_gcm_init(struct rxe_flush_gcm *g, const u8 *key, u32 len,
		       u32 authsize)
{
	int err;

	memset(g, 0, sizeof(*g));
	err = gcm_one(&g->any, &g->any_req, GCM_ANY, 0, key, len, authsize);
	if (err)
		return err;
	gcm_name(gcm_any_name, g->any);
	/* none: the generic one alone */
	if (!gcm_one(&g->cpu, &g->cpu_req, GCM_CPU, CRYPTO_ALG_INTERNAL, key,
		     len, authsize))
		gcm_name(gcm_cpu_name, g->cpu);
	return 0;
}

void rxe_flush_gcm_free(struct rxe_flush_gcm *g)
{
	aead_request_free(g->cpu_req);
	crypto_free_aead(g->cpu);
	aead_request_free(g->any_req);
	crypto_free_aead(g->any);
}

int rxe_flush_gcm_crypt(struct rxe_flush_gcm *g, struct scatterlist *sg,
			u32 assoclen, u32 cryptlen, u8 *iv, bool encrypt)
{
	bool cpu = g->cpu && crypto_simd_usable();
	struct aead_request *req = cpu ? g->cpu_req : g->any_req;

	atomic64_inc(cpu ? &gcm_cpu_runs : &gcm_any_runs);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, assoclen);
	aead_request_set_crypt(req, sg, sg, cryptlen, iv);
	return encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
}
