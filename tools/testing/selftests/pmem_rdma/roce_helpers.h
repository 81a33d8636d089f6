/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RoCEv2 frames for the tests that look at the wire or write to it: two
 * patched rxe devices on the ends of a veth pair (IPv6 link-local only),
 * AF_PACKET sockets to capture frames on one end and to send hand-made
 * ones into the other, the ICRC (IBA A17.8) and the UDP checksum.
 *
 * A hand-made frame takes its Ethernet, IPv6 and UDP headers from a frame
 * that rxe sent (a template), so that it reaches the same QP of the same
 * device; pt_frame_build() fixes the lengths, the UDP checksum and the
 * ICRC, so that the responder takes it as sent by its peer.
 */
#ifndef PMEM_RDMA_ROCE_HELPERS_H
#define PMEM_RDMA_ROCE_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "rdma_helpers.h"

#define PT_ROCE_PORT	4791
#define PT_ETH_LEN	14
#define PT_IP6_LEN	40
#define PT_UDP_LEN	8
#define PT_BTH_LEN	12
#define PT_RETH_LEN	16
#define PT_AETH_LEN	4
#define PT_ICRC_LEN	4
#define PT_ROCE_OFF	(PT_ETH_LEN + PT_IP6_LEN + PT_UDP_LEN)	/* the BTH */

/* RC opcodes (IBA 9.2; FLUSH and ATOMIC WRITE from 1.5, VERIFY ours) */
#define PT_OP_SEND_FIRST		0x00
#define PT_OP_SEND_MIDDLE		0x01
#define PT_OP_SEND_LAST			0x02
#define PT_OP_SEND_ONLY			0x04
#define PT_OP_WRITE_FIRST		0x06
#define PT_OP_WRITE_MIDDLE		0x07
#define PT_OP_WRITE_LAST		0x08
#define PT_OP_WRITE_LAST_IMM		0x09
#define PT_OP_WRITE_ONLY		0x0a
#define PT_OP_WRITE_ONLY_IMM		0x0b
#define PT_OP_READ_REQUEST		0x0c
#define PT_OP_READ_RESPONSE_FIRST	0x0d
#define PT_OP_READ_RESPONSE_ONLY	0x10	/* also FLUSH's ACK */
#define PT_OP_ACKNOWLEDGE		0x11
#define PT_OP_CMP_SWAP			0x13
#define PT_OP_FETCH_ADD			0x14
#define PT_OP_FLUSH			0x1c
#define PT_OP_ATOMIC_WRITE		0x1d
#define PT_OP_VERIFY			0xe0

/* AETH syndromes */
#define PT_AETH_ACK		0x1f	/* ACK, unlimited credits */
#define PT_AETH_NAK_INV_REQ	0x61	/* NAK: invalid request */
#define PT_AETH_NAK_REM_ACC	0x62	/* NAK: remote access error */

struct pt_frame {
	unsigned char b[2048];
	size_t len;
};

/*
 * Two rxe devices dev0/dev1 on a veth pair net0/net1 (any left over from
 * an earlier run removed first); 0 or -EIO.
 */
int pt_veth_up(const char *net0, const char *net1, const char *dev0,
	       const char *dev1);
/*
 * pt_veth_up(), then qp[0] on dev0 and
 * qp[1] on dev1 of c, connected with access (pt_connect_pair_ex() with
 * send_ops); 0 or -errno.  pt_veth_pair_close() undoes it all.
 */
int pt_veth_pair_open(struct pt_ctx *c, const char *net0, const char *net1,
		      const char *dev0, const char *dev1, int access,
		      uint64_t send_ops);
void pt_veth_pair_close(struct pt_ctx *c, const char *net0, const char *dev0,
			const char *dev1);

/* An AF_PACKET socket on ifname (every protocol, both directions), or -errno. */
int pt_packet_socket(const char *ifname);
/*
 * The RoCE frames that fd sees within timeout_ms of quiet, at most max of
 * them, into fr: their number, or -errno.
 */
int pt_capture(int fd, struct pt_frame *fr, int max, int timeout_ms);
/*
 * A template for hand-made requests: RDMA WRITE 4 bytes of src (lkey) to
 * raddr (rkey) on c->qp[0], and take the WRITE ONLY that cap saw reach
 * qp[1] into tmpl.  0, -EIO (the WRITE failed), -ENOENT (no such frame)
 * or -errno.
 */
int pt_template_write(struct pt_ctx *c, int cap, void *src, uint32_t lkey,
		      uint64_t raddr, uint32_t rkey, struct pt_frame *tmpl);
/* Send the frame out of fd's interface: 0 or -errno. */
int pt_inject(int fd, const struct pt_frame *f);

uint32_t pt_be32_at(const unsigned char *p);
uint64_t pt_be64_at(const unsigned char *p);
void pt_put_be32(unsigned char *p, uint32_t v);
void pt_put_be64(unsigned char *p, uint64_t v);

static inline int pt_frame_opcode(const struct pt_frame *f)
{
	return f->b[PT_ROCE_OFF];
}

static inline uint32_t pt_frame_dqpn(const struct pt_frame *f)
{
	return pt_be32_at(f->b + PT_ROCE_OFF + 4) & 0xffffff;
}

static inline uint32_t pt_frame_psn(const struct pt_frame *f)
{
	return pt_be32_at(f->b + PT_ROCE_OFF + 8) & 0xffffff;
}

/* the AETH syndrome of an acknowledgement */
static inline int pt_frame_syndrome(const struct pt_frame *f)
{
	return f->b[PT_ROCE_OFF + PT_BTH_LEN];
}

/*
 * The ICRC of a RoCEv2/IPv6 frame as IBA A17.8 computes it; with again > 0
 * the CRC then runs over the first 'again' bytes from the BTH once more,
 * unmasked (upstream rxe's FLUSH ICRC).  pt_frame_icrc() is the one on the
 * wire.
 */
uint32_t pt_icrc(const struct pt_frame *f, size_t again);
uint32_t pt_frame_icrc(const struct pt_frame *f);

/* A BTH: opcode, PadCnt, destination QP, AckReq, PSN; default P_Key. */
void pt_bth(unsigned char *bth, int opcode, int pad, uint32_t dqpn,
	    int ackreq, uint32_t psn);
/* A RETH. */
void pt_reth(unsigned char *reth, uint64_t va, uint32_t rkey, uint32_t len);

/*
 * f becomes tmpl's Ethernet, IPv6 and UDP headers followed by roce (BTH
 * onwards, roce_len bytes, no ICRC), with the IPv6 and UDP lengths, the
 * UDP checksum and the ICRC computed.  -EMSGSIZE if it does not fit.
 */
int pt_frame_build(struct pt_frame *f, const struct pt_frame *tmpl,
		   const void *roce, size_t roce_len);
/* The UDP checksum of f again, after a change behind the ICRC's back. */
void pt_frame_udp_csum(struct pt_frame *f);

#endif /* PMEM_RDMA_ROCE_HELPERS_H */
