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

/*
 * The nonces of captured keyed frames, by stream: a stream is a
 * destination QP and a kind (requests: WRITE and SEND; responses: READ
 * RESPONSE).  Each (stream, counter) keeps the tag and PSN it was first
 * seen with; another under it is a nonce used twice (the wire's
 * duplicates are the same frame).  A PSN seen under a second counter was
 * sent again, sealed afresh.
 */
#define PT_LEDGER_STREAMS	8
#define PT_LEDGER_CTRS		(1 << 16)	/* counters a run may use */

struct pt_frame;

struct pt_nonce_ledger {
	long frames, reused, resent_psns;
	unsigned int nstreams;
	uint32_t stream_id[PT_LEDGER_STREAMS];	/* dqpn << 1 | response */
	unsigned char (*tag)[PT_LEDGER_CTRS][16];	/* by counter */
	uint32_t (*psn)[PT_LEDGER_CTRS];	/* by counter: PSN + 1 */
	uint32_t (*ctr_of)[PT_LEDGER_CTRS];	/* by PSN's low bits */
};

/* 0 or -ENOMEM; pt_nonce_ledger_free() either way */
int pt_nonce_ledger_init(struct pt_nonce_ledger *l);
void pt_nonce_ledger_free(struct pt_nonce_ledger *l);
/* one keyed frame (its trailer before the ICRC) into the ledger */
void pt_nonce_take(struct pt_nonce_ledger *l, const struct pt_frame *f);

#endif /* PMEM_RDMA_KEYED_HELPERS_H */
