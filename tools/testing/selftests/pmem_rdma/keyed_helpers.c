// SPDX-License-Identifier: GPL-2.0
/* Keyed connections for the tests (keyed_helpers.h). */
#include <errno.h>

#include "keyed_helpers.h"

int pt_keys_create(struct pt_ctx *c, const uint8_t *bytes[2], uint32_t len,
		   struct rxe_flush_dv_key *key[2])
{
	struct rxe_flush_dv_key_init_attr ka = {
		.alg = len == 32 ? RXE_FLUSH_KEY_AES_256_GCM :
				   RXE_FLUSH_KEY_AES_128_GCM,
		.key_len = len,
	};
	int i;

	for (i = 0; i < 2; i++) {
		ka.pd = pt_side_pd(c, i);
		ka.key = bytes[i];
		key[i] = rxe_flush_dv_key_create(pt_side_ctx(c, i), &ka);
		if (!key[i])
			return -errno;
	}
	return 0;
}

int pt_keyed_draw(struct pt_ctx *c,
		  uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES])
{
	int i, ret;

	for (i = 0; i < 2; i++) {
		ret = rxe_flush_dv_qp_key_draw(c->qp[i], draw[i]);
		if (ret)
			return -ret;
	}
	return 0;
}

int pt_keyed_bind(struct pt_ctx *c, struct rxe_flush_dv_key *key[2],
		  uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES])
{
	int i, ret;

	for (i = 0; i < 2; i++) {
		ret = rxe_flush_dv_qp_key_bind(c->qp[i], key[i], draw[!i]);
		if (ret)
			return -ret;
	}
	return 0;
}
