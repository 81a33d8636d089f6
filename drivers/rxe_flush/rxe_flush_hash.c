// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: VERIFY's hashes - CRC32C, SHA-256 and XXH64 (seed 0) of a
 * range, fed a step at a time.  The responder (rxe_flush_resp.c) decides
 * who may VERIFY what, and when; this file only hashes the bytes it is
 * given: a persistence domain's own image of the range, or the MR's
 * memory, walked page by page.
 */

#include <linux/crc32.h>
#include <crypto/sha2.h>

#include "rxe.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"
#include "rxe_flush_hdr.h"

void rxe_flush_hash_init(struct rxe_flush_hash *h, u32 alg)
{
	h->alg = alg;
	switch (alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_init(&h->sha);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		xxh64_reset(&h->xxh, 0);
		break;
	default:
		h->crc = ~0U;
	}
}

static void rxe_flush_hash_update(void *addr, size_t len, void *ctx)
{
	struct rxe_flush_hash *h = ctx;

	switch (h->alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_update(&h->sha, addr, len);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		xxh64_update(&h->xxh, addr, len);
		break;
	default:
		h->crc = __crc32c_le(h->crc, addr, len);
	}
}

/*
 * [iova, + len) of mr, or len bytes of image when the MR's persistence
 * domain hands over its own image of the range; len is one step, at most
 * RXE_FLUSH_STEP_BYTES.  -EACCES if the MR's pages are gone.
 */
int rxe_flush_hash_range(struct rxe_flush_hash *h, struct rxe_mr *mr,
			 const void *image, u64 iova, u32 len)
{
	if (image) {
		rxe_flush_hash_update((void *)image, len, h);
		return 0;
	}
	return rxe_flush_mr_walk(mr, iova, len, rxe_flush_hash_update, h) ?
	       -EACCES : 0;
}

/* the digest as it travels (rxe_flush_hdr.h), and its length */
unsigned int rxe_flush_hash_final(struct rxe_flush_hash *h, u8 *digest)
{
	switch (h->alg) {
	case RXE_FLUSH_VERIFY_ALG_SHA256:
		sha256_final(&h->sha, digest);
		break;
	case RXE_FLUSH_VERIFY_ALG_XXH64:
		put_unaligned_be64(xxh64_digest(&h->xxh), digest);
		break;
	default:
		put_unaligned_be32(~h->crc, digest);
	}
	return rxe_flush_digest_len(h->alg);
}
