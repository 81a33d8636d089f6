// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-made CM REQs and their answers (cm_helpers.h).  Offsets are those
 * of IBA volume 1, 13.4.2 (MAD header) and 12.6.5 (REQ), 12.6.7 (REJ),
 * 12.6.8 (REP), from the start of the MAD's data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/pmem_rdma.h>
#include <linux/pmem_rdma_connect.h>

#include "cm_helpers.h"

#define UD_SEND_ONLY	0x64
#define GSI_QKEY	0x80010000u
#define DETH_LEN	8
#define MAD_LEN		256
#define MAD_HDR_LEN	24
#define CM_CLASS	0x07
#define CM_CLASS_VER	2
#define MAD_SEND	0x03
#define RDMA_PS_TCP	0x0106

/* REQ */
#define REQ_COMM_ID	0
#define REQ_SERVICE_ID	8
#define REQ_CA_GUID	16
#define REQ_QPN		32	/* QPN:24, responder resources:8 */
#define REQ_EECN	36	/* EECN:24, initiator depth:8 */
#define REQ_REMOTE	40	/* EECN:24, remote timeout:5, type:2, e2e:1 */
#define REQ_PSN		44	/* PSN:24, local timeout:5, retry count:3 */
#define REQ_PKEY	48
#define REQ_MTU		50	/* MTU:4, RDC:1, RNR retry:3 */
#define REQ_RETRIES	51	/* max CM retries:4, SRQ:1, ext type:3 */
#define REQ_PATH_GID	56	/* primary local port GID */
#define REQ_PATH_RGID	72	/* primary remote port GID */
#define REQ_HOP_LIMIT	93
#define REQ_SUBNET	94	/* SL:4, subnet local:1 */
#define REQ_ACK_TMO	95	/* local ACK timeout:5 */
#define REQ_PRIV	140

/* answers */
#define ANS_REMOTE_ID	4
#define REJ_REASON	10
#define REJ_PRIV	84
#define REP_PRIV	36

static uint64_t rnd64(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)rand();
	return v;
}

void pt_cm_req_init(struct pt_cm_req *r, const struct pt_frame *tmpl,
		    uint16_t port)
{
	const unsigned char *ip6 = tmpl->b + PT_ETH_LEN;

	memset(r, 0, sizeof(*r));
	r->comm_id = (uint32_t)rnd64() | 1;
	r->ca_guid = rnd64();
	r->qpn = (rnd64() & 0xfffff) | 0x100000;
	r->psn = rnd64() & 0xffffff;
	r->port = port;
	memcpy(r->claimed, ip6 + 8, 16);
	memcpy(r->path_peer, ip6 + 8, 16);
	memcpy(r->target, ip6 + 24, 16);
	r->local_timeout = 16;		/* about 0.27 s */
	r->max_retries = 3;
}

int pt_cm_req_frame(struct pt_frame *f, const struct pt_frame *tmpl,
		    const struct pt_cm_req *r)
{
	unsigned char roce[PT_BTH_LEN + DETH_LEN + MAD_LEN] = { 0 };
	unsigned char *deth = roce + PT_BTH_LEN;
	unsigned char *mad = deth + DETH_LEN;
	unsigned char *req = mad + MAD_HDR_LEN;
	unsigned char *priv = req + REQ_PRIV;
	size_t room = r->raw ? PT_CM_REQ_PRIV_LEN :
			       PT_CM_REQ_PRIV_LEN - PT_CM_HDR_LEN;

	if (r->priv_len > room)
		return -EMSGSIZE;

	pt_bth(roce, UD_SEND_ONLY, 0, 1, 0, r->psn);
	pt_put_be32(deth, GSI_QKEY);
	pt_put_be32(deth + 4, 1);		/* from QP1 */

	mad[0] = 1;				/* base version */
	mad[1] = CM_CLASS;
	mad[2] = CM_CLASS_VER;
	mad[3] = MAD_SEND;
	pt_put_be64(mad + 8, rnd64());		/* transaction ID */
	mad[16] = PT_CM_ATTR_REQ >> 8;
	mad[17] = PT_CM_ATTR_REQ & 0xff;

	pt_put_be32(req + REQ_COMM_ID, r->comm_id);
	pt_put_be64(req + REQ_SERVICE_ID,
		    (uint64_t)RDMA_PS_TCP << 16 | r->port);
	pt_put_be64(req + REQ_CA_GUID, r->ca_guid);
	pt_put_be32(req + REQ_QPN, (r->qpn & 0xffffff) << 8 | 4);
	pt_put_be32(req + REQ_EECN, 4);		/* initiator depth */
	pt_put_be32(req + REQ_REMOTE, 20 << 3);	/* RC */
	pt_put_be32(req + REQ_PSN, (r->psn & 0xffffff) << 8 |
				   (r->local_timeout & 0x1f) << 3 | 7);
	req[REQ_PKEY] = 0xff;
	req[REQ_PKEY + 1] = 0xff;
	req[REQ_MTU] = 3 << 4 | 7;		/* 1024, RNR retry 7 */
	req[REQ_RETRIES] = (r->max_retries & 0xf) << 4;
	memcpy(req + REQ_PATH_GID, r->path_peer, 16);
	memcpy(req + REQ_PATH_RGID, r->target, 16);
	req[REQ_HOP_LIMIT] = 64;
	req[REQ_SUBNET] = 1 << 3;
	req[REQ_ACK_TMO] = 18 << 3;

	if (!r->raw) {
		priv[0] = 0;			/* rdma_cm header version */
		priv[1] = 6 << 4;		/* IPv6 */
		priv[2] = r->port >> 8;
		priv[3] = r->port & 0xff;
		memcpy(priv + 4, r->claimed, 16);
		memcpy(priv + 20, r->target, 16);
		priv += PT_CM_HDR_LEN;
	}
	if (r->priv_len)
		memcpy(priv, r->priv, r->priv_len);
	return pt_frame_build(f, tmpl, roce, sizeof(roce));
}

/* the CM answer to comm_id that f carries, if it is one */
static bool pt_cm_answer_of(const struct pt_frame *f, uint32_t comm_id,
			    struct pt_cm_answer *a)
{
	const unsigned char *mad = f->b + PT_ROCE_OFF + PT_BTH_LEN + DETH_LEN;
	const unsigned char *msg = mad + MAD_HDR_LEN;
	uint16_t attr;

	if (f->len < PT_ROCE_OFF + PT_BTH_LEN + DETH_LEN + MAD_LEN ||
	    pt_frame_opcode(f) != UD_SEND_ONLY || pt_frame_dqpn(f) != 1 ||
	    mad[1] != CM_CLASS)
		return false;
	attr = mad[16] << 8 | mad[17];
	if ((attr != PT_CM_ATTR_REP && attr != PT_CM_ATTR_REJ) ||
	    pt_be32_at(msg + ANS_REMOTE_ID) != comm_id)
		return false;
	memset(a, 0, sizeof(*a));
	a->attr = attr;
	if (attr == PT_CM_ATTR_REJ) {
		a->ib_reason = msg[REJ_REASON] << 8 | msg[REJ_REASON + 1];
		memcpy(a->priv, msg + REJ_PRIV, 148);
		if (a->ib_reason == PT_CM_REJ_CONSUMER)
			a->reason = pmem_rdma_reject_reason(a->priv, 148);
	} else {
		memcpy(a->priv, msg + REP_PRIV, 196);
	}
	return true;
}

int pt_cm_wait_answer(int cap, uint32_t comm_id, int timeout_ms,
		      struct pt_cm_answer *a)
{
	struct timespec t0, t;
	struct pt_frame fr[16];
	int i, n;

	memset(a, 0, sizeof(*a));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = pt_capture(cap, fr, 16, 100);
		for (i = 0; i < n; i++) {
			if (pt_cm_answer_of(&fr[i], comm_id, a))
				return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return -ETIMEDOUT;
	}
}
