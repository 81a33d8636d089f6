// SPDX-License-Identifier: GPL-2.0
/* Keyed connections for the tests (keyed_helpers.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyed_helpers.h"
#include "roce_helpers.h"

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

int pt_nonce_ledger_init(struct pt_nonce_ledger *l)
{
	memset(l, 0, sizeof(*l));
	l->tag = calloc(PT_LEDGER_STREAMS, sizeof(*l->tag));
	l->psn = calloc(PT_LEDGER_STREAMS, sizeof(*l->psn));
	l->ctr_of = calloc(PT_LEDGER_STREAMS, sizeof(*l->ctr_of));
	return l->tag && l->psn && l->ctr_of ? 0 : -ENOMEM;
}

void pt_nonce_ledger_free(struct pt_nonce_ledger *l)
{
	free(l->tag);
	free(l->psn);
	free(l->ctr_of);
	memset(l, 0, sizeof(*l));
}

/* the stream of a frame, a new one if there is room; -1 without */
static int ledger_stream(struct pt_nonce_ledger *l, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < l->nstreams; i++)
		if (l->stream_id[i] == id)
			return i;
	if (l->nstreams == PT_LEDGER_STREAMS)
		return -1;
	l->stream_id[l->nstreams] = id;
	return l->nstreams++;
}

void pt_nonce_take(struct pt_nonce_ledger *l, const struct pt_frame *f)
{
	int op = pt_frame_opcode(f), s;
	const unsigned char *t = f->b + f->len - PT_ICRC_LEN - 16;
	uint32_t psn = pt_frame_psn(f) + 1, *first;	/* 0: none yet */
	uint64_t ctr = pt_be64_at(t - 8);
	bool response = op >= PT_OP_READ_RESPONSE_FIRST &&
			op <= PT_OP_READ_RESPONSE_ONLY;

	l->frames++;
	s = ledger_stream(l, pt_frame_dqpn(f) << 1 | response);
	if (s < 0 || !ctr || ctr >= PT_LEDGER_CTRS) {
		l->reused++;	/* out of what a run sends */
		return;
	}
	if (!l->psn[s][ctr]) {
		memcpy(l->tag[s][ctr], t, 16);
		l->psn[s][ctr] = psn;
		first = &l->ctr_of[s][psn % PT_LEDGER_CTRS];
		if (!*first)
			*first = ctr;
		else if (*first != ctr)
			l->resent_psns++;
	} else if (memcmp(l->tag[s][ctr], t, 16) || l->psn[s][ctr] != psn) {
		l->reused++;
	}
}
