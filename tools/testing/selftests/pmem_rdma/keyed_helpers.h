/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keyed connections for the tests (Documentation/keyed-mrs.rst): a data
 * key on each side of a pair, and both QPs bound to their side's key with
 * the other's draw.
 */
#ifndef PMEM_RDMA_KEYED_HELPERS_H
#define PMEM_RDMA_KEYED_HELPERS_H

#include <stdint.h>

#include <infiniband/rxe_flush_dv.h>

#include "rdma_helpers.h"

/*
 * key[side] on side's PD from bytes[side], len bytes each (16: AES-128-GCM,
 * 32: AES-256-GCM); 0 or -errno (key[] as far as it got).
 */
int pt_keys_create(struct pt_ctx *c, const uint8_t *bytes[2], uint32_t len,
		   struct rxe_flush_dv_key *key[2]);
/* each QP's draw into draw[side]; 0 or -errno */
int pt_keyed_draw(struct pt_ctx *c,
		  uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES]);
/* each QP bound to key[side] with the other side's draw; 0 or -errno */
int pt_keyed_bind(struct pt_ctx *c, struct rxe_flush_dv_key *key[2],
		  uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES]);

#endif /* PMEM_RDMA_KEYED_HELPERS_H */
