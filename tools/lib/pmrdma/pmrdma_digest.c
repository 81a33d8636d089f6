// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the digests of VERIFY (include/uapi/rdma/rxe_flush.h), as
 * the target computes them - CRC32C and XXH64 written here from their
 * specifications, SHA-256 by libcrypto - for flush-and-verify and for the
 * applications' own checksums.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "pmrdma.h"
#include "pmrdma_internal.h"

static void crypto_init(void)
{
	/*
	 * no cleanup at exit(): a map's thread (the automatic rejoin's
	 * connect) may be in libcrypto while another calls exit(), and
	 * libcrypto's atexit handler would free what it uses
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

void pmrdma_crypto_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crypto_init);
}

/* CRC32C (Castagnoli, reflected 0x82F63B78), a byte at a time by table */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
	uint32_t i, crc;
	int k;

	for (i = 0; i < 256; i++) {
		crc = i;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & -(crc & 1));
		crc32c_table[i] = crc;
	}
}

uint32_t pmrdma_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0U;

	pthread_once(&crc32c_once, crc32c_init);
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xff];
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

uint64_t pmrdma_xxh64(const void *buf, size_t len, uint64_t seed)
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

static void put_be(uint8_t *out, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		out[i] = v >> (8 * (bytes - 1 - i));
}

size_t pmrdma_digest(uint32_t alg, const void *buf, size_t len,
		     uint8_t *out)
{
	switch (alg) {
	case PMRDMA_VERIFY_ALG_CRC32C:
		put_be(out, pmrdma_crc32c(buf, len), 4);
		return 4;
	case PMRDMA_VERIFY_ALG_SHA256:
		SHA256(buf, len, out);
		return 32;
	case PMRDMA_VERIFY_ALG_XXH64:
		put_be(out, pmrdma_xxh64(buf, len, 0), 8);
		return 8;
	default:
		return 0;
	}
}

size_t pmrdma_digest_len(uint32_t alg)
{
	static const uint8_t len[] = {
		[PMRDMA_VERIFY_ALG_CRC32C] = 4,
		[PMRDMA_VERIFY_ALG_SHA256] = 32,
		[PMRDMA_VERIFY_ALG_XXH64] = 8,
	};

	return alg < sizeof(len) ? len[alg] : 0;
}
