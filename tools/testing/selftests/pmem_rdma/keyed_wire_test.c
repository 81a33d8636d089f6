// SPDX-License-Identifier: GPL-2.0
/*
 * The keyed wire (Documentation/keyed-mrs.rst, rdma_rxe_flush 0.6.0): the
 * payloads of keyed MRs cross sealed.  Two patched rxe devices on a veth
 * pair, a keyed MR on each side of the same data key, both QPs bound with
 * each other's draw.
 *
 * The test has its own implementation of the wire's cryptography (the
 * subkeys by HKDF-SHA-256, AES-GCM with OpenSSL), written from the
 * document: every captured keyed packet must open with it, and packets it
 * seals itself, injected at the PSN the responder expects with a valid
 * ICRC, are taken.  Then one bit flipped, a counter used again, another
 * key, and keyed against plain ends: each is refused and places nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <infiniband/rxe_flush_dv.h>

#include "kselftest_harness.h"
#include "keyed_helpers.h"
#include "pmrdma.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"
#include "verify_helpers.h"

#define NET0		"ptk_ve0"
#define NET1		"ptk_ve1"
#define DEV0		"ptk_rxe0"
#define DEV1		"ptk_rxe1"
#define BUF		8192
#define MSG		3000		/* three packets at an MTU of 1024 */
#define MARK		"PLAINTEXT-MARKER"
#define ACCESS		(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
/* the QPs take atomics too: a keyed MR refuses them, not the QP */
#define QP_ACCESS	(ACCESS | IBV_ACCESS_REMOTE_ATOMIC)
#define SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ)
#define TRAILER		24
#define AETH_NAK_KEY	0x65
#define KEY_MAX_PARAM	"/sys/module/rdma_rxe_flush/parameters/key_packets_max"

enum { STREAM_REQ = 'q', STREAM_RESP = 's' };

FIXTURE(keyed_wire)
{
	struct pt_ctx c;
	unsigned char *src, *dst, *back;	/* side 0, 1, 0 */
	struct ibv_mr *src_mr, *dst_mr, *back_mr;
	struct rxe_flush_dv_key *key[2];
	uint8_t bytes[2][16];			/* each side's key */
	uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES];
	int cap, inj;
	struct pt_frame fr[64];
	int nfr;
	char old_max[32];			/* key_packets_max to restore */
};

FIXTURE_SETUP(keyed_wire)
{
	int ret;

	self->cap = self->inj = -1;
	ret = pt_veth_pair_open(&self->c, NET0, NET1, DEV0, DEV1, QP_ACCESS,
				SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("%s/%s on a veth pair: %s", DEV0, DEV1,
				 strerror(-ret));
	self->src = aligned_alloc(4096, BUF);
	self->dst = aligned_alloc(4096, BUF);
	self->back = aligned_alloc(4096, BUF);
	ASSERT_TRUE(self->src && self->dst && self->back);
	ASSERT_EQ(sizeof(self->bytes[0]),
		  getrandom(self->bytes[0], sizeof(self->bytes[0]), 0));
	memcpy(self->bytes[1], self->bytes[0], sizeof(self->bytes[0]));
	self->cap = pt_packet_socket(NET1);
	self->inj = pt_packet_socket(NET0);
	ASSERT_LE(0, self->cap);
	ASSERT_LE(0, self->inj);
}

FIXTURE_TEARDOWN(keyed_wire)
{
	int i;

	if (self->old_max[0])
		pt_write_line(KEY_MAX_PARAM, self->old_max);
	if (self->cap >= 0)
		close(self->cap);
	if (self->inj >= 0)
		close(self->inj);
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	if (self->back_mr)
		ibv_dereg_mr(self->back_mr);
	if (self->dst_mr)
		ibv_dereg_mr(self->dst_mr);
	for (i = 0; i < 2; i++)
		if (self->key[i])
			rxe_flush_dv_key_destroy(self->key[i]);
	pt_veth_pair_close(&self->c, NET0, DEV0, DEV1);
	free(self->src);
	free(self->dst);
	free(self->back);
}

/* an MR of side's PD, keyed with side's key if keyed */
static struct ibv_mr *reg(FIXTURE_DATA(keyed_wire) *self, int side,
			  void *buf, int keyed)
{
	struct ibv_pd *pd = pt_side_pd(&self->c, side);

	if (!keyed)
		return ibv_reg_mr(pd, buf, BUF, ACCESS);
	return rxe_flush_dv_reg_keyed_mr(pd, buf, BUF, ACCESS, self->key[side]);
}

/*
 * Keys on both sides (side 1's bytes as the test set them), src and back
 * on side 0 and dst on side 1 keyed or not as asked, and, with bind,
 * both QPs bound to their side's key with the other's draw.
 */
static int setup(FIXTURE_DATA(keyed_wire) *self, int src_keyed,
		 int dst_keyed, int bind)
{
	const uint8_t *bytes[2] = { self->bytes[0], self->bytes[1] };
	int ret;

	ret = pt_keys_create(&self->c, bytes, 16, self->key);
	if (ret)
		return ret;
	self->src_mr = reg(self, 0, self->src, src_keyed);
	self->back_mr = reg(self, 0, self->back, src_keyed);
	self->dst_mr = reg(self, 1, self->dst, dst_keyed);
	if (!self->src_mr || !self->back_mr || !self->dst_mr)
		return -errno;
	ret = pt_keyed_draw(&self->c, self->draw);
	if (!ret && bind)
		ret = pt_keyed_bind(&self->c, self->key, self->draw);
	return ret;
}

/* both QPs made again, connected, drawn and bound */
static int reconnect(FIXTURE_DATA(keyed_wire) *self)
{
	int i, ret;

	for (i = 0; i < 2; i++) {
		ibv_destroy_qp(self->c.qp[i]);
		ibv_destroy_cq(self->c.cq[i]);
		self->c.qp[i] = NULL;
		self->c.cq[i] = NULL;
	}
	ret = pt_connect_pair_ex(&self->c, QP_ACCESS, SEND_OPS);
	if (!ret)
		ret = pt_keyed_draw(&self->c, self->draw);
	if (!ret)
		ret = pt_keyed_bind(&self->c, self->key, self->draw);
	return ret;
}

/* the documented subkey of what side "from" sends in stream */
static void subkey(FIXTURE_DATA(keyed_wire) *self, int from, int stream,
		   uint8_t out[16])
{
	const union ibv_gid *gid[2] = { &self->c.gid, &self->c.rgid };
	uint8_t salt[32], info[64], prk[32], t[32];
	static const char label[] = "pmem-rdma keyed MR v1";
	unsigned int len = 0;
	size_t n = 0;
	int to = !from;

	memcpy(salt, self->draw[from], 16);
	memcpy(salt + 16, self->draw[to], 16);
	memcpy(info, label, sizeof(label) - 1);
	n = sizeof(label) - 1;
	info[n++] = stream;
	memcpy(info + n, gid[from]->raw, 16);
	pt_put_be32(info + n + 16, self->c.qp[from]->qp_num);
	memcpy(info + n + 20, gid[to]->raw, 16);
	pt_put_be32(info + n + 36, self->c.qp[to]->qp_num);
	n += 40;
	info[n++] = 1;
	HMAC(EVP_sha256(), salt, sizeof(salt), self->bytes[from], 16, prk,
	     &len);
	HMAC(EVP_sha256(), prk, sizeof(prk), info, n, t, &len);
	memcpy(out, t, 16);
}

#define AAD_LEN		36

/* what the AAD names besides the BTH (no ImmDt or IETH here) */
struct msg {
	uint32_t rkey;
	uint64_t va;
	uint32_t resid;
	uint32_t extra;		/* a VERIFY's VETH word, else 0 */
};

/* the documented additional authenticated data */
static void aad(uint8_t a[AAD_LEN], int opcode, uint32_t dqpn, uint32_t psn,
		const struct msg *m, uint64_t ctr)
{
	pt_put_be32(a, (uint32_t)opcode << 24 | (dqpn & 0xffffff));
	pt_put_be32(a + 4, psn & 0xffffff);
	pt_put_be32(a + 8, m->rkey);
	pt_put_be64(a + 12, m->va);
	pt_put_be32(a + 20, m->resid);
	pt_put_be32(a + 24, m->extra);
	pt_put_be64(a + 28, ctr);
}

/* AES-128-GCM of len bytes in place; the tag to or from tag: 0 or -1 */
static int gcm(const uint8_t k[16], const uint8_t a[AAD_LEN], uint64_t ctr,
	       uint8_t *data, int len, uint8_t tag[16], int encrypt)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = { 0 };
	int n, ok;

	pt_put_be64(iv + 4, ctr);
	ok = x && EVP_CipherInit_ex(x, EVP_aes_128_gcm(), NULL, k, iv,
				    encrypt) &&
	     EVP_CipherUpdate(x, NULL, &n, a, AAD_LEN) &&
	     EVP_CipherUpdate(x, data, &n, data, len) &&
	     (encrypt || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16,
					     tag)) &&
	     EVP_CipherFinal_ex(x, data + n, &n) &&
	     (!encrypt || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16,
					      tag));
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* where a frame's payload starts, and how long it is with its trailer */
static int frame_payload(const struct pt_frame *f, size_t *off, size_t *len)
{
	int op = pt_frame_opcode(f), pad = (f->b[PT_ROCE_OFF + 1] >> 4) & 3;
	size_t hdr = PT_BTH_LEN;

	if (op == PT_OP_WRITE_FIRST || op == PT_OP_WRITE_ONLY ||
	    op == PT_OP_ATOMIC_WRITE)
		hdr += PT_RETH_LEN;
	else if (op == PT_OP_VERIFY)
		hdr += 4 + PT_RETH_LEN;		/* VETH, RETH */
	else if (op == PT_OP_READ_RESPONSE_FIRST ||
		 op == PT_OP_READ_RESPONSE_ONLY || op == 0x0f)
		hdr += PT_AETH_LEN;
	else if (op != PT_OP_WRITE_MIDDLE && op != PT_OP_WRITE_LAST &&
		 op != 0x0e && op != PT_OP_SEND_FIRST &&
		 op != PT_OP_SEND_MIDDLE && op != PT_OP_SEND_LAST &&
		 op != PT_OP_SEND_ONLY)
		return -1;
	*off = PT_ROCE_OFF + hdr;
	if (f->len < *off + pad + PT_ICRC_LEN)
		return -1;
	*len = f->len - *off - pad - PT_ICRC_LEN;
	return 0;
}

/*
 * Open a captured keyed frame of message m with the test's own subkey: its
 * plaintext into out (at most outlen), its counter; the plaintext's length
 * (0: a tag alone) or -1.
 */
static int open_msg(const struct pt_frame *f, const uint8_t k[16],
		    const struct msg *m, uint8_t *out, size_t outlen,
		    uint64_t *ctr)
{
	int pad = (f->b[PT_ROCE_OFF + 1] >> 4) & 3;
	uint8_t a[AAD_LEN], tag[16];
	size_t off, len;

	if (frame_payload(f, &off, &len) || len < TRAILER ||
	    len - TRAILER > outlen)
		return -1;
	len -= TRAILER;
	memcpy(out, f->b + off, len);
	*ctr = pt_be64_at(f->b + off + len + pad);
	memcpy(tag, f->b + off + len + pad + 8, 16);
	aad(a, pt_frame_opcode(f), pt_frame_dqpn(f), pt_frame_psn(f), m, *ctr);
	return gcm(k, a, *ctr, out, len, tag, 0) ? -1 : (int)len;
}

/* a WRITE, SEND or READ RESPONSE frame: at least a byte of plaintext */
static int open_frame(const struct pt_frame *f, const uint8_t k[16],
		      uint32_t rkey, uint64_t va, uint32_t resid,
		      uint8_t *out, size_t outlen, uint64_t *ctr)
{
	struct msg m = { .rkey = rkey, .va = va, .resid = resid };
	int n = open_msg(f, k, &m, out, outlen, ctr);

	return n > 0 ? n : -1;
}

/*
 * Seal the len bytes at p of the RoCE packet at roce (BTH on) in place,
 * under k and counter ctr for message m, with the trailer after them (one
 * bit of the ciphertext flipped if flip), and make f of it with tmpl's
 * headers.
 */
static int seal_frame(struct pt_frame *f, const struct pt_frame *tmpl,
		      const uint8_t k[16], const struct msg *m,
		      unsigned char *roce, unsigned char *p, uint32_t len,
		      uint64_t ctr, int flip)
{
	uint8_t a[AAD_LEN];

	aad(a, roce[0], pt_be32_at(roce + 4) & 0xffffff,
	    pt_be32_at(roce + 8) & 0xffffff, m, ctr);
	if (gcm(k, a, ctr, p, len, p + len + 8, 1))
		return -EIO;
	pt_put_be64(p + len, ctr);
	if (flip)
		p[len / 2] ^= 0x10;
	return pt_frame_build(f, tmpl, roce, p + len + TRAILER - roce);
}

/*
 * A WRITE ONLY (or an ATOMIC WRITE: op) of len bytes of data to va, sealed
 * by the test with the request subkey and counter ctr (one bit of the
 * ciphertext flipped if flip), sent to qp[1] at psn; the frames seen
 * afterwards are kept.
 */
static int inject_sealed(FIXTURE_DATA(keyed_wire) *self,
			 const struct pt_frame *tmpl, int op, uint32_t psn,
			 uint64_t va, const uint8_t *data, uint32_t len,
			 uint64_t ctr, int flip)
{
	unsigned char roce[PT_BTH_LEN + PT_RETH_LEN + 256 + TRAILER];
	unsigned char *p = roce + PT_BTH_LEN + PT_RETH_LEN;
	struct msg m = { .rkey = self->dst_mr->rkey, .va = va, .resid = len };
	struct pt_frame f;
	uint8_t k[16];
	int ret;

	if (len > 256 || len % 4)
		return -EINVAL;
	pt_bth(roce, op, 0, self->c.qp[1]->qp_num, 1, psn);
	pt_reth(roce + PT_BTH_LEN, va, self->dst_mr->rkey, len);
	memcpy(p, data, len);
	subkey(self, 0, STREAM_REQ, k);
	ret = seal_frame(&f, tmpl, k, &m, roce, p, len, ctr, flip);
	if (!ret)
		ret = pt_inject(self->inj, &f);
	if (ret)
		return ret;
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	return self->nfr < 0 ? self->nfr : 0;
}

static int inject_write(FIXTURE_DATA(keyed_wire) *self,
			const struct pt_frame *tmpl, uint32_t psn,
			uint64_t va, const uint8_t *data, uint32_t len,
			uint64_t ctr, int flip)
{
	return inject_sealed(self, tmpl, PT_OP_WRITE_ONLY, psn, va, data, len,
			     ctr, flip);
}

/* the first captured frame of opcode to dqpn, at psn unless psn < 0 */
static const struct pt_frame *find(FIXTURE_DATA(keyed_wire) *self, int op,
				   uint32_t dqpn, long psn)
{
	int i;

	for (i = 0; i < self->nfr; i++)
		if (pt_frame_dqpn(&self->fr[i]) == dqpn &&
		    pt_frame_opcode(&self->fr[i]) == op &&
		    (psn < 0 || pt_frame_psn(&self->fr[i]) == psn))
			return &self->fr[i];
	return NULL;
}

/* the syndrome of the first answer of opcode to qp[0] at psn, or -1 */
static int answered(FIXTURE_DATA(keyed_wire) *self, int op, uint32_t psn)
{
	const struct pt_frame *f = find(self, op, self->c.qp[0]->qp_num, psn);

	return f ? pt_frame_syndrome(f) : -1;
}

/* the syndrome of the first ACK or NAK to qp[0] captured, or -1 */
static int answer(FIXTURE_DATA(keyed_wire) *self, uint32_t psn)
{
	return answered(self, PT_OP_ACKNOWLEDGE, psn);
}

/* the first byte of [p, p + len) that is not c, or -1 */
static long not_all(const unsigned char *p, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return i;
	return -1;
}

static int has_marker(const struct pt_frame *f)
{
	return memmem(f->b, f->len, MARK, sizeof(MARK) - 1) != NULL;
}

/* src: MSG bytes, the marker every 64 bytes */
static void fill_marked(unsigned char *buf, uint32_t seed)
{
	int i;

	pt_fill_pattern(buf, BUF, seed);
	for (i = 0; i + 64 <= MSG; i += 64)
		memcpy(buf + i, MARK, sizeof(MARK) - 1);
}

/*
 * A keyed WRITE of MSG bytes and a READ of them back: both complete, the
 * bytes arrive, no captured frame holds the marker, and every keyed frame
 * (WRITE FIRST, MIDDLE, LAST; READ RESPONSE FIRST, MIDDLE, LAST) opens
 * with the test's own subkeys, with counters that only go up.
 */
TEST_F(keyed_wire, keyed_write_and_read_cross_sealed)
{
	/* [0]: qp[0]'s requests (WRITE), [1]: qp[1]'s responses (READ) */
	struct {
		uint8_t k[16];
		uint64_t last;
		uint32_t off;
		int frames;
	} st[2] = { 0 };
	uint8_t out[2048];
	int i, n, s, ret;
	struct ibv_wc wc;
	uint64_t ctr;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	fill_marked(self->src, 1);
	memset(self->dst, 0, BUF);
	memset(self->back, 0, BUF);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, MSG,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	ASSERT_EQ(0, memcmp(self->src, self->dst, MSG));
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_READ, self->back, MSG,
				  self->back_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	ASSERT_EQ(0, memcmp(self->src, self->back, MSG));

	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	ASSERT_LT(0, self->nfr);
	subkey(self, 0, STREAM_REQ, st[0].k);
	subkey(self, 1, STREAM_RESP, st[1].k);
	for (i = 0; i < self->nfr; i++) {
		const struct pt_frame *f = &self->fr[i];
		int op = pt_frame_opcode(f);

		EXPECT_FALSE(has_marker(f)) TH_LOG("frame %d, opcode %#x", i,
						   op);
		if (op >= PT_OP_WRITE_FIRST && op <= PT_OP_WRITE_ONLY)
			s = 0;
		else if (op >= PT_OP_READ_RESPONSE_FIRST &&
			 op <= PT_OP_READ_RESPONSE_ONLY)
			s = 1;
		else
			continue;
		n = open_frame(f, st[s].k, self->dst_mr->rkey,
			       (uintptr_t)self->dst + st[s].off,
			       MSG - st[s].off, out, sizeof(out), &ctr);
		ASSERT_LT(0, n) TH_LOG("frame %d, opcode %#x, does not open",
				       i, op);
		EXPECT_EQ(0, memcmp(out, self->src + st[s].off, n));
		EXPECT_LT(st[s].last, ctr);
		st[s].last = ctr;
		st[s].off += n;
		st[s].frames++;
	}
	for (s = 0; s < 2; s++) {
		EXPECT_EQ(3, st[s].frames) TH_LOG("stream %d", s);
		EXPECT_EQ(MSG, st[s].off) TH_LOG("stream %d", s);
	}
}

/*
 * A keyed SEND of MSG bytes into a keyed receive buffer: received whole,
 * and every SEND packet opens with the test's subkey, its AAD naming no
 * R_Key, the packet's offset into the message and no length.
 */
TEST_F(keyed_wire, a_keyed_send_crosses_sealed)
{
	struct ibv_recv_wr rwr = { 0 }, *rbad;
	struct ibv_send_wr wr = { 0 }, *bad;
	struct ibv_sge sge, rsge;
	uint8_t kq[16], out[2048];
	uint32_t off = 0;
	struct ibv_wc wc;
	uint64_t ctr;
	int i, n, ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	fill_marked(self->src, 9);
	memset(self->dst, 0, BUF);
	rsge.addr = (uintptr_t)self->dst;
	rsge.length = BUF;
	rsge.lkey = self->dst_mr->lkey;
	rwr.sg_list = &rsge;
	rwr.num_sge = 1;
	ASSERT_EQ(0, ibv_post_recv(self->c.qp[1], &rwr, &rbad));
	sge.addr = (uintptr_t)self->src;
	sge.length = MSG;
	sge.lkey = self->src_mr->lkey;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	ASSERT_EQ(0, ibv_post_send(self->c.qp[0], &wr, &bad));
	ASSERT_EQ(0, pt_poll_one(self->c.cq[0], &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	ASSERT_EQ(0, pt_poll_one(self->c.cq[1], &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(MSG, wc.byte_len);
	EXPECT_EQ(0, memcmp(self->src, self->dst, MSG));

	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	subkey(self, 0, STREAM_REQ, kq);
	for (i = 0; i < self->nfr; i++) {
		int op = pt_frame_opcode(&self->fr[i]);

		EXPECT_FALSE(has_marker(&self->fr[i]));
		if (op > PT_OP_SEND_ONLY ||
		    pt_frame_dqpn(&self->fr[i]) != self->c.qp[1]->qp_num)
			continue;
		n = open_frame(&self->fr[i], kq, 0, off, 0, out, sizeof(out),
			       &ctr);
		ASSERT_LT(0, n) TH_LOG("SEND frame %d does not open", i);
		EXPECT_EQ(0, memcmp(out, self->src + off, n));
		off += n;
	}
	EXPECT_EQ(MSG, off);
}

/*
 * The captured keyed WRITE ONLY, at the PSN the responder expects next:
 * sealed anew by the test for that PSN, it is placed; the same with one
 * bit of its ciphertext flipped is NAKed (authentication failure), places
 * nothing, and leaves the responder's QP in the error state.
 */
TEST_F(keyed_wire, a_flipped_bit_is_nakked_and_places_nothing)
{
	uint8_t data[64], out[64];
	struct pt_frame tmpl;
	uint64_t ctr;
	uint32_t psn;
	struct ibv_wc wc;
	uint8_t kq[16];
	int ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	memset(self->dst, 0, BUF);
	memcpy(self->src, MARK MARK MARK MARK, sizeof(data));
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src,
				  sizeof(data), self->src_mr->lkey,
				  (uintptr_t)self->dst, self->dst_mr->rkey,
				  &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	ASSERT_LT(0, self->nfr);
	tmpl = self->fr[0];
	ASSERT_EQ(PT_OP_WRITE_ONLY, pt_frame_opcode(&tmpl));
	ASSERT_FALSE(has_marker(&tmpl));
	subkey(self, 0, STREAM_REQ, kq);
	ASSERT_EQ((int)sizeof(data),
		  open_frame(&tmpl, kq, self->dst_mr->rkey,
			     (uintptr_t)self->dst, sizeof(data), out,
			     sizeof(out), &ctr));
	psn = (pt_frame_psn(&tmpl) + 1) & 0xffffff;

	memset(data, 0x11, sizeof(data));
	ASSERT_EQ(0, inject_write(self, &tmpl, psn, (uintptr_t)self->dst + 64,
				  data, sizeof(data), ctr + 1, 0));
	EXPECT_EQ(PT_AETH_ACK, answer(self, psn));
	EXPECT_EQ(0, memcmp(self->dst + 64, data, sizeof(data)));

	memset(data, 0x22, sizeof(data));
	psn = (psn + 1) & 0xffffff;
	ASSERT_EQ(0, inject_write(self, &tmpl, psn, (uintptr_t)self->dst + 128,
				  data, sizeof(data), ctr + 2, 1));
	EXPECT_EQ(AETH_NAK_KEY, answer(self, psn));
	EXPECT_EQ(-1, not_all(self->dst + 128, sizeof(data), 0));
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->c.qp[1]));
}

/*
 * A counter used again is a replay: sealed by the test with the last
 * counter the responder took, at the PSN it expects, the packet is
 * dropped - neither placed nor answered; with the next counter it is
 * placed.  The captured packet sent again as it was (a duplicate PSN) is
 * not placed again either.
 */
TEST_F(keyed_wire, a_replayed_counter_is_not_placed)
{
	uint8_t data[64], out[64], kq[16];
	struct pt_frame tmpl;
	struct ibv_wc wc;
	uint64_t ctr;
	uint32_t psn;
	int ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	memset(self->dst, 0, BUF);
	memset(self->src, 0x33, sizeof(data));
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src,
				  sizeof(data), self->src_mr->lkey,
				  (uintptr_t)self->dst, self->dst_mr->rkey,
				  &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	ASSERT_LT(0, self->nfr);
	tmpl = self->fr[0];
	subkey(self, 0, STREAM_REQ, kq);
	ASSERT_EQ((int)sizeof(data),
		  open_frame(&tmpl, kq, self->dst_mr->rkey,
			     (uintptr_t)self->dst, sizeof(data), out,
			     sizeof(out), &ctr));

	/* the captured packet again: a duplicate, acknowledged, not placed */
	memset(self->dst, 0x44, sizeof(data));
	ASSERT_EQ(0, pt_inject(self->inj, &tmpl));
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	EXPECT_EQ(-1, not_all(self->dst, sizeof(data), 0x44));

	psn = (pt_frame_psn(&tmpl) + 1) & 0xffffff;
	memset(data, 0x55, sizeof(data));
	ASSERT_EQ(0, inject_write(self, &tmpl, psn, (uintptr_t)self->dst,
				  data, sizeof(data), ctr, 0));
	EXPECT_EQ(-1, answer(self, psn));
	EXPECT_EQ(-1, not_all(self->dst, sizeof(data), 0x44));
	EXPECT_EQ(IBV_QPS_RTS, pt_qp_state(self->c.qp[1]));

	ASSERT_EQ(0, inject_write(self, &tmpl, psn, (uintptr_t)self->dst,
				  data, sizeof(data), ctr + 1, 0));
	EXPECT_EQ(PT_AETH_ACK, answer(self, psn));
	EXPECT_EQ(0, memcmp(self->dst, data, sizeof(data)));
}

/*
 * What carries no tag does not reach a keyed MR, hand-made at the
 * expected PSN with a valid ICRC: an ATOMIC WRITE without one is NAKed as
 * an authentication failure, a FETCH ADD as a remote access error (a keyed
 * MR has no atomic access), and nothing changes.
 */
TEST_F(keyed_wire, untagged_requests_do_not_reach_a_keyed_mr)
{
	unsigned char roce[PT_BTH_LEN + PT_RETH_LEN + 28];
	static const int ops[] = { PT_OP_ATOMIC_WRITE, PT_OP_FETCH_ADD };
	static const int naks[] = { AETH_NAK_KEY, PT_AETH_NAK_REM_ACC };
	struct pt_frame tmpl, f;
	struct ibv_wc wc;
	uint32_t psn;
	size_t len;
	int i, ret;

	for (i = 0; i < 2; i++) {
		if (i) {
			ASSERT_EQ(0, ret = reconnect(self)) TH_LOG("%s",
				strerror(-ret));
		} else {
			ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s",
				strerror(-ret));
		}
		memset(self->dst, 0x66, BUF);
		memset(self->src, 0x77, 64);
		ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE,
					  self->src, 64, self->src_mr->lkey,
					  (uintptr_t)self->dst + 64,
					  self->dst_mr->rkey, &wc));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		self->nfr = pt_capture(self->cap, self->fr, 64, 300);
		ASSERT_LT(0, self->nfr);
		tmpl = self->fr[0];
		psn = (pt_frame_psn(&tmpl) + 1) & 0xffffff;

		pt_bth(roce, ops[i], 0, self->c.qp[1]->qp_num, 1, psn);
		if (ops[i] == PT_OP_ATOMIC_WRITE) {
			pt_reth(roce + PT_BTH_LEN, (uintptr_t)self->dst,
				self->dst_mr->rkey, 8);
			memset(roce + PT_BTH_LEN + PT_RETH_LEN, 0x99, 8);
			len = PT_BTH_LEN + PT_RETH_LEN + 8;
		} else {
			/* AtomicETH: VA, R_Key, add, compare */
			pt_put_be64(roce + PT_BTH_LEN, (uintptr_t)self->dst);
			pt_put_be32(roce + PT_BTH_LEN + 8, self->dst_mr->rkey);
			pt_put_be64(roce + PT_BTH_LEN + 12, 1);
			pt_put_be64(roce + PT_BTH_LEN + 20, 0);
			len = PT_BTH_LEN + 28;
		}
		ASSERT_EQ(0, pt_frame_build(&f, &tmpl, roce, len));
		ASSERT_EQ(0, pt_inject(self->inj, &f));
		self->nfr = pt_capture(self->cap, self->fr, 64, 300);
		EXPECT_EQ(naks[i], answer(self, psn)) TH_LOG("opcode %#x",
							     ops[i]);
		EXPECT_EQ(-1, not_all(self->dst, 64, 0x66)) TH_LOG("opcode %#x",
								  ops[i]);
	}
}

/* another key on the responder's side: the tag fails, nothing placed */
TEST_F(keyed_wire, a_wrong_key_places_nothing)
{
	struct ibv_wc wc;
	int ret;

	self->bytes[1][5] ^= 1;
	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	memset(self->dst, 0, BUF);
	fill_marked(self->src, 2);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, MSG,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_RD_REQ_ERR, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(-1, not_all(self->dst, MSG, 0));
}

/*
 * A WRITE of 64 bytes between a source and a target of which one is
 * keyed; its completion status, and nothing placed (-1), or -errno.
 */
static int mixed_write(FIXTURE_DATA(keyed_wire) *self, int src_keyed,
		       long *placed)
{
	struct ibv_wc wc;
	int ret;

	ret = setup(self, src_keyed, !src_keyed, 1);
	if (ret)
		return ret;
	memset(self->dst, 0, BUF);
	fill_marked(self->src, 3);
	ret = pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, 64,
			   self->src_mr->lkey, (uintptr_t)self->dst,
			   self->dst_mr->rkey, &wc);
	*placed = not_all(self->dst, 64 + TRAILER, 0);
	return ret ?: (int)wc.status;
}

/* keyed source, plain target: refused for its length, nothing placed */
TEST_F(keyed_wire, a_keyed_write_into_a_plain_mr_is_refused)
{
	long placed;

	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, mixed_write(self, 1, &placed));
	EXPECT_EQ(-1, placed);
}

/* plain source, keyed target: no trailer, no tag, nothing placed */
TEST_F(keyed_wire, a_plain_write_into_a_keyed_mr_is_refused)
{
	long placed;

	EXPECT_EQ(IBV_WC_REM_INV_RD_REQ_ERR, mixed_write(self, 0, &placed));
	EXPECT_EQ(-1, placed);
}

/*
 * A QP that is not bound carries no keyed work (a local protection
 * error, nothing sent in clear); binding is refused twice, and with the
 * QP's own draw as the peer's.
 */
TEST_F(keyed_wire, an_unbound_qp_sends_no_keyed_payload)
{
	uint8_t own[RXE_FLUSH_DV_KEY_DRAW_BYTES];
	struct ibv_wc wc;
	int i, ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 0)) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, rxe_flush_dv_qp_key_draw(self->c.qp[0], own));
	EXPECT_EQ(0, memcmp(own, self->draw[0], sizeof(own)));
	EXPECT_NE(0, memcmp(self->draw[0], self->draw[1], sizeof(own)));
	EXPECT_EQ(EINVAL, rxe_flush_dv_qp_key_bind(self->c.qp[0], self->key[0],
						   self->draw[0]));
	fill_marked(self->src, 5);
	memset(self->dst, 0, BUF);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, 64,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_LOC_PROT_ERR, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	for (i = 0; i < self->nfr; i++)
		EXPECT_FALSE(has_marker(&self->fr[i]));
	EXPECT_EQ(-1, not_all(self->dst, 64, 0));

	ASSERT_EQ(0, rxe_flush_dv_qp_key_bind(self->c.qp[1], self->key[1],
					      self->draw[0]));
	EXPECT_EQ(EBUSY, rxe_flush_dv_qp_key_bind(self->c.qp[1], self->key[1],
						  self->draw[0]));
}

/*
 * Only an RC QP takes part in the keyed wire: a UC one, ready to receive,
 * gets no draw, and so no key (its responder would drop a failed packet
 * with a receive WQE already taken).
 */
TEST_F(keyed_wire, only_an_rc_qp_is_bound)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = self->c.cq[0], .recv_cq = self->c.cq[0],
		.qp_type = IBV_QPT_UC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = PT_PORT,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};
	uint8_t own[RXE_FLUSH_DV_KEY_DRAW_BYTES];
	struct ibv_qp *uc;
	int ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 0)) TH_LOG("%s", strerror(-ret));
	uc = ibv_create_qp(self->c.pd, &ia);
	ASSERT_NE(NULL, uc) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ibv_modify_qp(uc, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				   IBV_QP_PORT | IBV_QP_ACCESS_FLAGS));
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = self->c.mtu;
	a.dest_qp_num = self->c.qp[1]->qp_num;
	a.rq_psn = 0x1000;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = self->c.rgid;
	a.ah_attr.grh.sgid_index = PT_GID_INDEX;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = PT_PORT;
	ASSERT_EQ(0, ibv_modify_qp(uc, &a, IBV_QP_STATE | IBV_QP_AV |
				   IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				   IBV_QP_RQ_PSN)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(EOPNOTSUPP, rxe_flush_dv_qp_key_draw(uc, own));
	EXPECT_EQ(EINVAL, rxe_flush_dv_qp_key_bind(uc, self->key[0],
						   self->draw[1]));
	EXPECT_EQ(0, ibv_destroy_qp(uc));
}

/*
 * A key counts what it seals: with a limit of 5 packets, a 3-packet WRITE
 * goes, the next is refused before its first packet (nothing placed, the
 * count unchanged); re-keyed on both ends, the old connection carries no
 * keyed work, and a new one does, under the new bytes.
 */
TEST_F(keyed_wire, a_key_past_its_limit_is_refused_until_rekeyed)
{
	struct rxe_flush_dv_key_attr ka = { 0 };
	uint8_t fresh[16], data[64];
	struct pt_frame tmpl;
	struct ibv_wc wc;
	uint32_t psn;
	int i, ret;

	ASSERT_EQ(0, pt_read_line(KEY_MAX_PARAM, self->old_max,
				  sizeof(self->old_max)));
	ASSERT_EQ(0, pt_write_line(KEY_MAX_PARAM, "5"));
	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	fill_marked(self->src, 6);
	memset(self->dst, 0, BUF);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, MSG,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(0, rxe_flush_dv_key_query(self->key[0], &ka));
	EXPECT_EQ(3, ka.sealed);
	EXPECT_EQ(5, ka.max_sealed);
	EXPECT_EQ(0, ka.generation);

	fill_marked(self->src, 7);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, MSG,
				  self->src_mr->lkey, (uintptr_t)self->dst + MSG,
				  self->dst_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_LOC_QP_OP_ERR, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(-1, not_all(self->dst + MSG, MSG, 0));
	ASSERT_EQ(0, rxe_flush_dv_key_query(self->key[0], &ka));
	EXPECT_EQ(3, ka.sealed);

	ASSERT_EQ(sizeof(fresh), getrandom(fresh, sizeof(fresh), 0));
	EXPECT_EQ(EINVAL, rxe_flush_dv_key_rekey(self->key[0], fresh, 32));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, rxe_flush_dv_key_rekey(self->key[i], fresh, 16));
	ASSERT_EQ(0, rxe_flush_dv_key_query(self->key[0], &ka));
	EXPECT_EQ(0, ka.sealed);
	EXPECT_EQ(1, ka.generation);
	/*
	 * The old connection is revoked both ways: qp[1], bound under the old
	 * bytes, refuses a packet sealed with them (NAK, nothing placed) ...
	 */
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	for (i = 0; i < self->nfr; i++)
		if (pt_frame_opcode(&self->fr[i]) == PT_OP_WRITE_FIRST)
			break;
	ASSERT_LT(i, self->nfr);
	tmpl = self->fr[i];
	psn = (pt_frame_psn(&tmpl) + 3) & 0xffffff;
	memset(data, 0x5a, sizeof(data));
	ASSERT_EQ(0, inject_write(self, &tmpl, psn,
				  (uintptr_t)self->dst + 2 * MSG, data,
				  sizeof(data), 1000, 0));
	EXPECT_EQ(AETH_NAK_KEY, answer(self, psn));
	EXPECT_EQ(-1, not_all(self->dst + 2 * MSG, sizeof(data), 0));
	/* ... and qp[0] sends nothing under them */
	ASSERT_EQ(0, pt_qp_rearm(&self->c, 0, QP_ACCESS));
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, 64,
				  self->src_mr->lkey, (uintptr_t)self->dst + MSG,
				  self->dst_mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_LOC_QP_OP_ERR, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));

	memcpy(self->bytes[0], fresh, 16);
	memcpy(self->bytes[1], fresh, 16);
	ASSERT_EQ(0, ret = reconnect(self)) TH_LOG("%s", strerror(-ret));
	memset(self->dst, 0, BUF);
	fill_marked(self->src, 8);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, MSG,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, memcmp(self->src, self->dst, MSG));
	/* sealed under the new bytes: the test's subkey opens it */
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	for (i = 0; i < self->nfr; i++) {
		uint8_t kq[16], out[2048];
		uint64_t ctr;

		if (pt_frame_opcode(&self->fr[i]) != PT_OP_WRITE_FIRST ||
		    pt_frame_dqpn(&self->fr[i]) != self->c.qp[1]->qp_num)
			continue;
		subkey(self, 0, STREAM_REQ, kq);
		EXPECT_LT(0, open_frame(&self->fr[i], kq, self->dst_mr->rkey,
					(uintptr_t)self->dst, MSG, out,
					sizeof(out), &ctr));
		EXPECT_EQ(1, ctr);
	}
}


/* an ATOMIC WRITE of value (8 bytes) to va of dst, waited for: 0 or -errno */
static int atomic_write(FIXTURE_DATA(keyed_wire) *self, uint64_t va,
			const void *value, unsigned int flags,
			struct ibv_wc *wc)
{
	struct ibv_sge sge = { .addr = (uintptr_t)value, .length = 8 };
	struct ibv_send_wr wr = {
		.wr_id = 0xa7, .opcode = IBV_WR_ATOMIC_WRITE,
		.send_flags = IBV_SEND_SIGNALED | flags,
		.sg_list = &sge, .num_sge = 1,
		.wr.rdma = { .remote_addr = va, .rkey = self->dst_mr->rkey },
	}, *bad;

	if (ibv_post_send(self->c.qp[0], &wr, &bad))
		return -errno;
	return pt_poll_one(self->c.cq[0], wc, 5000);
}

/* a VERIFY of [dst, + MSG) with word, its digest buffer buf of mr */
static struct pt_verify verify_of(FIXTURE_DATA(keyed_wire) *self,
				  uint32_t word, void *buf, uint32_t buflen,
				  struct ibv_mr *mr)
{
	return (struct pt_verify){
		.rkey = self->dst_mr->rkey, .raddr = (uintptr_t)self->dst,
		.len = MSG, .word = word, .buf = buf, .buflen = buflen,
		.lkey = mr->lkey,
	};
}

static int has_bytes(const struct pt_frame *f, const void *p, size_t len)
{
	return memmem(f->b, f->len, p, len) != NULL;
}

/*
 * Sealed ATOMIC WRITE and VERIFY (0.7.0): an ATOMIC WRITE posted with
 * RXE_FLUSH_SEND_KEYED, a VERIFY that returns its digest into a keyed
 * buffer and a comparing VERIFY whose expected digest lies in one all
 * complete as plain ones do; no frame shows the value or a digest; and
 * every keyed frame opens with the test's subkeys - the value, the
 * compared digest, the returned digest and the match (a tag alone) - its
 * AAD naming the R_Key, the range and the VETH word.
 */
TEST_F(keyed_wire, keyed_atomic_write_and_verify_cross_sealed)
{
	static const char value[8] = "AW-PLAIN";
	const uint32_t wsha = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_SHA256,
						    0);
	const uint32_t wcrc = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_CRC32C,
						    RXE_FLUSH_VERIFY_COMPARE);
	uint8_t kq[16], ks[16], out[64], sha[32], crc[4];
	const struct pt_frame *f, *a;
	int i, ret, verifies = 0;
	struct pt_verify v;
	struct ibv_wc wc;
	struct msg m;
	uint64_t ctr;
	uint32_t w;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	fill_marked(self->dst, 5);
	memset(self->back, 0, BUF);
	ASSERT_EQ(0, atomic_write(self, (uintptr_t)self->dst + MSG + 8, value,
				  RXE_FLUSH_SEND_KEYED, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	ASSERT_EQ(0, memcmp(self->dst + MSG + 8, value, 8));

	ASSERT_EQ(32, pmrdma_digest(RXE_FLUSH_VERIFY_ALG_SHA256, self->dst,
				    MSG, sha));
	v = verify_of(self, wsha, self->back, 32, self->back_mr);
	ASSERT_EQ(0, pt_post_verify(&self->c, &v, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, memcmp(self->back, sha, 32));

	ASSERT_EQ(4, pmrdma_digest(RXE_FLUSH_VERIFY_ALG_CRC32C, self->dst,
				   MSG, crc));
	memcpy(self->src, crc, 4);
	v = verify_of(self, wcrc, self->src, 4, self->src_mr);
	ASSERT_EQ(0, pt_post_verify(&self->c, &v, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));

	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	for (i = 0; i < self->nfr; i++) {
		EXPECT_FALSE(has_bytes(&self->fr[i], value, 8)) TH_LOG("frame %d",
								       i);
		EXPECT_FALSE(has_bytes(&self->fr[i], sha, 32)) TH_LOG("frame %d",
								     i);
	}
	subkey(self, 0, STREAM_REQ, kq);
	subkey(self, 1, STREAM_RESP, ks);

	f = find(self, PT_OP_ATOMIC_WRITE, self->c.qp[1]->qp_num, -1);
	ASSERT_NE(NULL, f);
	m = (struct msg){ .rkey = self->dst_mr->rkey,
			  .va = (uintptr_t)self->dst + MSG + 8, .resid = 8 };
	ASSERT_EQ(8, open_msg(f, kq, &m, out, sizeof(out), &ctr));
	EXPECT_EQ(0, memcmp(out, value, 8));

	for (i = 0; i < self->nfr; i++) {
		f = &self->fr[i];
		if (pt_frame_opcode(f) != PT_OP_VERIFY)
			continue;
		w = pt_be32_at(f->b + PT_ROCE_OFF + PT_BTH_LEN);
		m = (struct msg){ .rkey = self->dst_mr->rkey,
				  .va = (uintptr_t)self->dst, .resid = MSG,
				  .extra = w };
		a = find(self, PT_OP_READ_RESPONSE_ONLY, self->c.qp[0]->qp_num,
			 pt_frame_psn(f));
		ASSERT_NE(NULL, a);
		if (w == wsha) {
			EXPECT_EQ(32, open_msg(a, ks, &m, out, sizeof(out),
					       &ctr));
			EXPECT_EQ(0, memcmp(out, sha, 32));
		} else {
			EXPECT_EQ(4, open_msg(f, kq, &m, out, sizeof(out),
					      &ctr));
			EXPECT_EQ(0, memcmp(out, crc, 4));
			/* the match: a tag alone */
			EXPECT_EQ(0, open_msg(a, ks, &m, out, sizeof(out),
					      &ctr));
		}
		verifies++;
	}
	EXPECT_EQ(2, verifies);
}

/*
 * A sealed ATOMIC WRITE on the wire.  The captured one sent again (its
 * PSN a duplicate, its counter taken) is neither answered nor placed;
 * sealed again by the test under a new counter at the same PSN - a
 * retransmission - it is answered again and still not placed twice; at
 * the next PSN it is placed; with a bit of its value flipped it is NAKed
 * (authentication failure) and places nothing.
 */
TEST_F(keyed_wire, a_sealed_atomic_write_is_checked_and_not_replayed)
{
	static const uint8_t v1[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t v2[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	uint64_t va, ctr;
	uint8_t kq[16], out[8];
	struct pt_frame tmpl;
	const struct pt_frame *f;
	struct ibv_wc wc;
	struct msg m;
	uint32_t psn;
	int ret;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	memset(self->dst, 0, BUF);
	va = (uintptr_t)self->dst + 8;
	ASSERT_EQ(0, atomic_write(self, va, v1, RXE_FLUSH_SEND_KEYED, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	f = find(self, PT_OP_ATOMIC_WRITE, self->c.qp[1]->qp_num, -1);
	ASSERT_NE(NULL, f);
	tmpl = *f;
	psn = pt_frame_psn(&tmpl);
	subkey(self, 0, STREAM_REQ, kq);
	m = (struct msg){ .rkey = self->dst_mr->rkey, .va = va, .resid = 8 };
	ASSERT_EQ(8, open_msg(&tmpl, kq, &m, out, sizeof(out), &ctr));

	/* the captured packet again: its counter was taken */
	memset(self->dst + 8, 0x44, 8);
	ASSERT_EQ(0, pt_inject(self->inj, &tmpl));
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	EXPECT_EQ(-1, answered(self, PT_OP_READ_RESPONSE_ONLY, psn));
	EXPECT_EQ(-1, not_all(self->dst + 8, 8, 0x44));

	/* a retransmission: answered from the resource, not executed */
	ASSERT_EQ(0, inject_sealed(self, &tmpl, PT_OP_ATOMIC_WRITE, psn, va,
				   v1, 8, ctr + 1, 0));
	EXPECT_EQ(PT_AETH_ACK, answered(self, PT_OP_READ_RESPONSE_ONLY, psn));
	EXPECT_EQ(-1, not_all(self->dst + 8, 8, 0x44));

	psn = (psn + 1) & 0xffffff;
	ASSERT_EQ(0, inject_sealed(self, &tmpl, PT_OP_ATOMIC_WRITE, psn,
				   va + 8, v2, 8, ctr + 2, 0));
	EXPECT_EQ(PT_AETH_ACK, answered(self, PT_OP_READ_RESPONSE_ONLY, psn));
	EXPECT_EQ(0, memcmp(self->dst + 16, v2, 8));

	psn = (psn + 1) & 0xffffff;
	ASSERT_EQ(0, inject_sealed(self, &tmpl, PT_OP_ATOMIC_WRITE, psn,
				   va + 16, v2, 8, ctr + 3, 1));
	EXPECT_EQ(AETH_NAK_KEY, answer(self, psn));
	EXPECT_EQ(-1, not_all(self->dst + 24, 8, 0));
	EXPECT_EQ(IBV_QPS_ERR, pt_qp_state(self->c.qp[1]));
}

/*
 * The PSN of the next VERIFY frame to qp[1] but one at PSN stale (a
 * retransmission of an earlier VERIFY, still queued), captured within
 * 3 s, or -1.
 */
static long capture_verify(FIXTURE_DATA(keyed_wire) *self, long stale)
{
	struct pt_frame f;
	int i, n;

	/* qp[0] sends it again every ~70 ms: capture a frame at a time */
	for (i = 0; i < 100; i++) {
		n = pt_capture(self->cap, &f, 1, 30);
		if (n == 1 && pt_frame_opcode(&f) == PT_OP_VERIFY &&
		    pt_frame_dqpn(&f) == self->c.qp[1]->qp_num &&
		    pt_frame_psn(&f) != stale)
			return pt_frame_psn(&f);
	}
	return -1;
}

/*
 * A READ RESPONSE ONLY answering qp[0]'s VERIFY at psn with len bytes of
 * digest, sealed by the test with the responder's subkey and counter ctr
 * (a bit flipped if flip), sent from the responder's side.
 */
static int inject_answer(FIXTURE_DATA(keyed_wire) *self,
			 const struct pt_frame *tmpl, uint32_t psn,
			 const struct msg *m, const uint8_t *digest,
			 uint32_t len, uint64_t ctr, int flip)
{
	unsigned char roce[PT_BTH_LEN + PT_AETH_LEN + 32 + TRAILER];
	unsigned char *p = roce + PT_BTH_LEN + PT_AETH_LEN;
	struct pt_frame f;
	uint8_t k[16];

	if (len > 32)
		return -EINVAL;
	pt_bth(roce, PT_OP_READ_RESPONSE_ONLY, 0, self->c.qp[0]->qp_num, 0,
	       psn);
	pt_put_be32(roce + PT_BTH_LEN, (uint32_t)PT_AETH_ACK << 24);
	memcpy(p, digest, len);
	subkey(self, 1, STREAM_RESP, k);
	return seal_frame(&f, tmpl, k, m, roce, p, len, ctr, flip) ?:
	       pt_inject(self->cap, &f);
}

/*
 * A VERIFY's answer forged on the path.  The responder's QP is stopped
 * (in the error state it answers nothing) and the test answers the VERIFY
 * it sees, at its PSN, from the responder's side.  Sealed with the
 * responder's subkey - which only a holder of the data key derives - the
 * test's digest is taken; the same with one bit flipped completes with a
 * local protection error and lands nothing: a forged digest is detected.
 */
TEST_F(keyed_wire, a_forged_verify_answer_is_detected)
{
	const uint32_t wsha = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_SHA256,
						    0);
	struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };
	struct ibv_send_wr wr, *bad;
	const struct pt_frame *f;
	struct pt_frame tmpl;
	struct pt_verify v;
	struct ibv_sge sge;
	uint8_t fake[32];
	struct ibv_wc wc;
	struct msg m;
	int ret, round;
	long psn = -1;

	ASSERT_EQ(0, ret = setup(self, 1, 1, 1)) TH_LOG("%s", strerror(-ret));
	memset(self->src, 0x12, 64);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, 64,
				  self->src_mr->lkey, (uintptr_t)self->dst,
				  self->dst_mr->rkey, &wc));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	f = find(self, PT_OP_ACKNOWLEDGE, self->c.qp[0]->qp_num, -1);
	ASSERT_NE(NULL, f);
	tmpl = *f;			/* the responder's headers */
	ASSERT_EQ(0, ibv_modify_qp(self->c.qp[1], &qa, IBV_QP_STATE));

	m = (struct msg){ .rkey = self->dst_mr->rkey,
			  .va = (uintptr_t)self->dst, .resid = MSG,
			  .extra = wsha };
	for (round = 0; round < 2; round++) {
		memset(self->back, 0, 64);
		memset(fake, 0xf0 + round, sizeof(fake));
		v = verify_of(self, wsha, self->back, 32, self->back_mr);
		pt_verify_wr(&v, &wr, &sge);
		ASSERT_EQ(0, ibv_post_send(self->c.qp[0], &wr, &bad));
		psn = capture_verify(self, psn);
		ASSERT_LE(0, psn);
		ASSERT_EQ(0, inject_answer(self, &tmpl, psn, &m, fake, 32,
					   100 + round, round));
		ASSERT_EQ(0, pt_poll_one(self->c.cq[0], &wc, 5000));
		if (!round) {
			EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
				ibv_wc_status_str(wc.status));
			EXPECT_EQ(0, memcmp(self->back, fake, 32));
		} else {
			EXPECT_EQ(IBV_WC_LOC_PROT_ERR, wc.status) TH_LOG("%s",
				ibv_wc_status_str(wc.status));
			EXPECT_EQ(-1, not_all(self->back, 32, 0));
		}
	}
}

TEST_HARNESS_MAIN
