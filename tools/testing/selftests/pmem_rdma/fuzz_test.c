// SPDX-License-Identifier: GPL-2.0
/*
 * A packet fuzzer for the responder.  Two patched rxe devices on a veth
 * pair; a real RDMA WRITE gives a template frame, then seeded random
 * requests with a valid ICRC go into the veth at the responder QP: RDMA
 * WRITE (FIRST, MIDDLE, LAST, ONLY, with immediate), READ REQUEST, SEND,
 * FLUSH, ATOMIC WRITE, VERIFY, COMPARE SWAP and FETCH ADD, with PSNs near
 * the expected one or anywhere, R_Keys of three MRs or random ones, VAs and
 * lengths near 0, the MR's ends, 2^31 and 2^32, random FETH/VETH words,
 * pad counts, and headers cut short or followed by extra bytes.  The
 * PSNs follow the one the responder expects, and the responder QP is
 * re-armed only when it went to the error state.
 *
 * A batch of requests ends after BATCH of them, or as soon as the QP is in
 * the error state.  Then a SEND with immediate at the expected PSN (a
 * barrier) must come back as a receive, or the QP must be in the error
 * state: the responder has taken every request, and the writable MR must
 * differ from what it held before only where a request of the batch with
 * its key could write.  A responder that stops taking requests in RTS
 * fails.
 *
 * Judged: the guest's kernel log stays clean (scripts/run-tests), the
 * responder counted most of the requests as received, target memory
 * changes only behind the writable key and only where its requests point:
 * the read-only MR, the MR without remote access, a keyed MR (whose
 * requests carry no valid tag: keyed-mrs.rst) and the guard pages around
 * the writable one keep their pattern.
 *
 * PMEM_RDMA_FUZZ_PACKETS (default 100000) and PMEM_RDMA_FUZZ_SECONDS
 * (default 120) bound the run, and the test's timeout follows the seconds;
 * PMEM_RDMA_FUZZ_SEED replays a run (the seed is printed).  make fuzz runs
 * 10^7 packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include <infiniband/rxe_flush_dv.h>

#include "kselftest_harness.h"
#include "keyed_helpers.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"

#define NET0		"ptf_ve0"
#define NET1		"ptf_ve1"
#define DEV0		"ptf_rxe0"
#define DEV1		"ptf_rxe1"

#define RW_LEN		(64 * 1024)	/* the writable MR, guards around it */
#define SMALL_LEN	4096
#define RQ_PSN		0x1000		/* pt_qp_rearm()'s rq_psn */
#define QP_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC | \
			 IBV_ACCESS_FLUSH_GLOBAL)
#define SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ)
#define RECVS		16
#define BATCH		32		/* requests between two barriers */
#define OPEN_MAX	16		/* WRITE FIRSTs followed between re-arms */
#define SPAN_MAX	(BATCH * (OPEN_MAX + 1))
#define SETTLE_MS	5000		/* for a barrier to come back */
#define PT_OP_SEND_ONLY_IMM	0x05	/* the barrier */

static const int fuzz_opcodes[] = {
	PT_OP_SEND_FIRST, PT_OP_SEND_MIDDLE, PT_OP_SEND_LAST, PT_OP_SEND_ONLY,
	PT_OP_WRITE_FIRST, PT_OP_WRITE_MIDDLE, PT_OP_WRITE_LAST,
	PT_OP_WRITE_LAST_IMM, PT_OP_WRITE_ONLY, PT_OP_WRITE_ONLY_IMM,
	PT_OP_READ_REQUEST, PT_OP_CMP_SWAP, PT_OP_FETCH_ADD, PT_OP_FLUSH,
	PT_OP_ATOMIC_WRITE, PT_OP_VERIFY,
};

/* bytes [lo, hi) of the writable MR that a request with its key may write */
struct span {
	uint32_t lo, hi;
};

/* a WRITE FIRST with the writable key, and the payload sent after it */
struct open_write {
	uint64_t va, len, sent;
};

/* what a request asks for, as far as the writable MR goes */
struct request {
	int opcode;
	uint64_t va, len;	/* of its RETH or AtomicETH, if any */
	uint32_t rkey;
	size_t pay;		/* the bytes after its headers */
};

struct fuzz {
	struct pt_ctx c;
	unsigned char *area;		/* guard | writable MR | guard */
	unsigned char *ro, *none, *src, *rbuf, *keyed;
	struct ibv_mr *rw_mr, *ro_mr, *none_mr, *src_mr, *rbuf_mr, *keyed_mr;
	struct rxe_flush_dv_key *key[2];	/* the same bytes, each side */
	int cap, inj;
	struct pt_frame tmpl;
	uint64_t rng;
	uint32_t psn;			/* the PSN the responder expects */
	int recvs;			/* receives posted, not completed */
	uint32_t imm;			/* the last barrier's immediate */
	unsigned char *shadow;		/* what the writable MR must hold */
	struct span span[SPAN_MAX];	/* where the batch may have written */
	int nspan;
	bool anywhere;			/* too many spans: anywhere */
	struct open_write open[OPEN_MAX];
	int nopen;
	bool open_lost;			/* more WRITE FIRSTs than open[] */
	unsigned long barriers, changed;
};

FIXTURE(fuzz_wire)
{
	struct fuzz f;
};

static uint64_t rnd(struct fuzz *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick(struct fuzz *f, const uint64_t *v, size_t n)
{
	return v[rnd(f) % n];
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

/* n more receives on the responder QP */
static int post_recvs(struct fuzz *f, int n)
{
	struct ibv_recv_wr *bad, wr = {};
	struct ibv_sge sge;
	int i;

	for (i = 0; i < n; i++) {
		sge.addr = (uintptr_t)f->rbuf + i * 256;
		sge.length = 256;
		sge.lkey = f->rbuf_mr->lkey;
		wr.wr_id = i;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		if (ibv_post_recv(f->c.qp[1], &wr, &bad))
			return -errno;
		f->recvs++;
	}
	return 0;
}

/*
 * The responder QP back to RTS with fresh receives, its CQ drained; it
 * expects RQ_PSN again and remembers no WRITE FIRST.
 */
static int rearm(struct fuzz *f)
{
	struct ibv_wc wc[16];
	int ret;

	while (ibv_poll_cq(f->c.cq[1], 16, wc) > 0)
		;
	ret = pt_qp_rearm(&f->c, 1, QP_ACCESS);
	while (ibv_poll_cq(f->c.cq[1], 16, wc) > 0)
		;
	f->recvs = 0;
	f->psn = RQ_PSN;
	f->nopen = 0;
	f->open_lost = false;
	return ret ?: post_recvs(f, RECVS);
}

/*
 * A keyed MR on the responder's side, and both QPs bound to its key (the
 * same bytes on each side) with each other's draw: the responder opens
 * the fuzzer's requests to it, whose tags cannot be valid.
 */
static int keyed_setup(struct fuzz *f)
{
	uint8_t bytes[16], draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES];
	const uint8_t *both[2] = { bytes, bytes };
	int ret;

	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -EIO;
	ret = pt_keys_create(&f->c, both, 16, f->key) ?:
	      pt_keyed_draw(&f->c, draw) ?:
	      pt_keyed_bind(&f->c, f->key, draw);
	if (ret)
		return ret;
	/* all of QP_ACCESS but atomics, which a keyed MR refuses */
	f->keyed_mr = rxe_flush_dv_reg_keyed_mr(f->c.rpd, f->keyed, SMALL_LEN,
						QP_ACCESS &
						~IBV_ACCESS_REMOTE_ATOMIC,
						f->key[1]);
	return f->keyed_mr ? 0 : -errno;
}

FIXTURE_SETUP(fuzz_wire)
{
	struct fuzz *f = &self->f;
	int ret;

	f->cap = -1;
	f->inj = -1;
	ret = pt_veth_pair_open(&f->c, NET0, NET1, DEV0, DEV1, QP_ACCESS,
				SEND_OPS);
	ASSERT_EQ(0, ret) TH_LOG("%s/%s on a veth pair: %s", DEV0, DEV1,
				 strerror(-ret));
	f->area = aligned_alloc(4096, 3 * RW_LEN);
	f->ro = aligned_alloc(4096, SMALL_LEN);
	f->none = aligned_alloc(4096, SMALL_LEN);
	f->src = aligned_alloc(4096, SMALL_LEN);
	f->rbuf = aligned_alloc(4096, RECVS * 256);
	f->keyed = aligned_alloc(4096, SMALL_LEN);
	f->shadow = malloc(RW_LEN);
	ASSERT_TRUE(f->area && f->ro && f->none && f->src && f->rbuf &&
		    f->keyed && f->shadow);
	pt_fill_pattern(f->area, RW_LEN, 11);
	pt_fill_pattern(f->area + RW_LEN, RW_LEN, 15);
	pt_fill_pattern(f->area + 2 * RW_LEN, RW_LEN, 14);
	memcpy(f->shadow, f->area + RW_LEN, RW_LEN);
	pt_fill_pattern(f->ro, SMALL_LEN, 12);
	pt_fill_pattern(f->none, SMALL_LEN, 13);
	pt_fill_pattern(f->keyed, SMALL_LEN, 16);
	memset(f->src, 0, SMALL_LEN);
	f->rw_mr = ibv_reg_mr(f->c.rpd, f->area + RW_LEN, RW_LEN, QP_ACCESS);
	f->ro_mr = ibv_reg_mr(f->c.rpd, f->ro, SMALL_LEN,
			      IBV_ACCESS_REMOTE_READ);
	f->none_mr = ibv_reg_mr(f->c.rpd, f->none, SMALL_LEN,
				IBV_ACCESS_LOCAL_WRITE);
	f->rbuf_mr = ibv_reg_mr(f->c.rpd, f->rbuf, RECVS * 256,
				IBV_ACCESS_LOCAL_WRITE);
	f->src_mr = ibv_reg_mr(f->c.pd, f->src, SMALL_LEN,
			       IBV_ACCESS_LOCAL_WRITE);
	ASSERT_TRUE(f->rw_mr && f->ro_mr && f->none_mr && f->rbuf_mr &&
		    f->src_mr);
	ASSERT_EQ(0, keyed_setup(f));
	ASSERT_EQ(0, post_recvs(f, RECVS));
	f->cap = pt_packet_socket(NET1);
	f->inj = pt_packet_socket(NET0);
	ASSERT_LE(0, f->cap);
	ASSERT_LE(0, f->inj);

	/* the template: a WRITE ONLY into the writable MR, then no capture */
	memcpy(f->src, f->area + RW_LEN, 4);
	ret = pt_template_write(&f->c, f->cap, f->src, f->src_mr->lkey,
				(uintptr_t)f->area + RW_LEN, f->rw_mr->rkey,
				&f->tmpl);
	ASSERT_EQ(0, ret) TH_LOG("template WRITE ONLY on " NET1 ": %s",
				 strerror(-ret));
	close(f->cap);
	f->cap = -1;
	ASSERT_EQ(0, rearm(f));
}

FIXTURE_TEARDOWN(fuzz_wire)
{
	struct fuzz *f = &self->f;
	struct ibv_mr *mrs[] = { f->rw_mr, f->ro_mr, f->none_mr, f->rbuf_mr,
				 f->src_mr, f->keyed_mr };
	size_t i;

	if (f->cap >= 0)
		close(f->cap);
	if (f->inj >= 0)
		close(f->inj);
	for (i = 0; i < ARRAY_SIZE(mrs); i++)
		if (mrs[i])
			ibv_dereg_mr(mrs[i]);
	for (i = 0; i < 2; i++)
		if (f->key[i])
			rxe_flush_dv_key_destroy(f->key[i]);
	pt_veth_pair_close(&f->c, NET0, DEV0, DEV1);
	free(f->area);
	free(f->ro);
	free(f->none);
	free(f->src);
	free(f->rbuf);
	free(f->keyed);
	free(f->shadow);
}

/* one random request at qp[1], as BTH onwards, into r and q; its length */
static size_t fuzz_request(struct fuzz *f, unsigned char *r, size_t room,
			   struct request *q)
{
	const uint64_t base = (uintptr_t)f->area + RW_LEN;
	const uint64_t vas[] = {
		base, base + RW_LEN - 8, base + RW_LEN, base - 8,
		(uintptr_t)f->ro, (uintptr_t)f->none, (uintptr_t)f->keyed,
		0, ~0ULL - 7,
		base + (rnd(f) % RW_LEN & ~7ULL), rnd(f),
	};
	const uint64_t rkeys[] = {
		f->rw_mr->rkey, f->ro_mr->rkey, f->none_mr->rkey,
		f->keyed_mr->rkey, f->rw_mr->rkey ^ 1, 0, rnd(f),
	};
	const uint64_t lens[] = {
		0, 1, 4, 8, 64, 1024, RW_LEN, RW_LEN + 1, 1U << 31,
		(1U << 31) - 1, 0xffffffff, rnd(f) % 4096, (uint32_t)rnd(f),
	};
	const uint64_t psns[] = { f->psn, f->psn + 1, f->psn + 2, f->psn - 1,
				  rnd(f) };
	int opcode = fuzz_opcodes[rnd(f) % ARRAY_SIZE(fuzz_opcodes)];
	size_t n = PT_BTH_LEN, pay, i;
	int pad = rnd(f) % 8 < 6 ? 0 : rnd(f) % 4;

	*q = (struct request){ .opcode = opcode };
	pt_bth(r, opcode, pad, f->c.qp[1]->qp_num, rnd(f) & 1,
	       pick(f, psns, ARRAY_SIZE(psns)));
	if (rnd(f) % 16 == 0)
		r[1] ^= rnd(f);			/* SE, M, TVer */

	switch (opcode) {
	case PT_OP_FLUSH:
	case PT_OP_VERIFY:
		/* FETH or VETH: mostly valid, sometimes anything */
		pt_put_be32(r + n, rnd(f) % 4 ? rnd(f) % 0x400 : rnd(f));
		n += 4;
		break;
	case PT_OP_CMP_SWAP:
	case PT_OP_FETCH_ADD:
		/* AtomicETH: VA, R_Key, swap, compare */
		q->va = pick(f, vas, ARRAY_SIZE(vas));
		q->rkey = pick(f, rkeys, ARRAY_SIZE(rkeys));
		q->len = 8;
		pt_put_be64(r + n, q->va);
		pt_put_be32(r + n + 8, q->rkey);
		pt_put_be64(r + n + 12, rnd(f));
		pt_put_be64(r + n + 20, rnd(f));
		n += 28;
		goto payload;
	}
	if (opcode != PT_OP_SEND_FIRST && opcode != PT_OP_SEND_MIDDLE &&
	    opcode != PT_OP_SEND_LAST && opcode != PT_OP_SEND_ONLY &&
	    opcode != PT_OP_WRITE_MIDDLE && opcode != PT_OP_WRITE_LAST &&
	    opcode != PT_OP_WRITE_LAST_IMM) {
		q->va = pick(f, vas, ARRAY_SIZE(vas));
		q->rkey = pick(f, rkeys, ARRAY_SIZE(rkeys));
		q->len = (uint32_t)pick(f, lens, ARRAY_SIZE(lens));
		/* now and then well aimed at the keyed MR, often 8 bytes */
		if (rnd(f) % 8 == 0) {
			q->rkey = f->keyed_mr->rkey;
			q->va = (uintptr_t)f->keyed +
				(rnd(f) % (SMALL_LEN - 64) & ~7ULL);
			if (rnd(f) % 2)
				q->len = 8;
		}
		pt_reth(r + n, q->va, q->rkey, q->len);
		n += PT_RETH_LEN;
	}
	if (opcode == PT_OP_WRITE_LAST_IMM || opcode == PT_OP_WRITE_ONLY_IMM) {
		pt_put_be32(r + n, rnd(f));
		n += 4;
	}
payload:
	/* no payload, a small one, an MTU's worth, or ATOMIC WRITE's 8 */
	switch (rnd(f) % 6) {
	case 0:
		pay = 0;
		break;
	case 1:
		pay = 8;
		break;
	case 2:
		pay = 1024;
		break;
	default:
		pay = rnd(f) % 80;
	}
	if (n + pay > room)
		pay = room - n;
	for (i = 0; i < pay; i++)
		r[n + i] = rnd(f);
	n += pay;
	q->pay = pay;
	/* headers cut short now and then */
	if (rnd(f) % 16 == 0)
		n = PT_BTH_LEN + rnd(f) % (n - PT_BTH_LEN + 1);
	return n;
}

/* [va, va + len) clipped to the writable MR, as a span of the batch */
static void add_span(struct fuzz *f, uint64_t va, uint64_t len)
{
	const uint64_t base = (uintptr_t)f->area + RW_LEN;
	uint64_t end = va + len < va ? UINT64_MAX : va + len;

	if (!len || va >= base + RW_LEN || end <= base)
		return;
	if (f->nspan == SPAN_MAX) {
		f->anywhere = true;
		return;
	}
	f->span[f->nspan++] = (struct span){
		.lo = va < base ? 0 : va - base,
		.hi = end > base + RW_LEN ? RW_LEN : end - base,
	};
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Where the request may write in the writable MR, if the responder takes
 * it: a WRITE ONLY its payload at its VA, an atomic 8 bytes there, both
 * with the writable key only; a WRITE FIRST its payload, then each MIDDLE
 * and LAST the next bytes of the write that some WRITE FIRST opened.
 */
static void note_request(struct fuzz *f, const struct request *q)
{
	bool rw = q->rkey == f->rw_mr->rkey;
	int i;

	switch (q->opcode) {
	case PT_OP_WRITE_ONLY:
	case PT_OP_WRITE_ONLY_IMM:
		if (rw)
			add_span(f, q->va, q->pay);
		break;
	case PT_OP_WRITE_FIRST:
		if (!rw)
			break;
		add_span(f, q->va, min_u64(q->len, q->pay));
		if (f->nopen == OPEN_MAX)
			f->open_lost = true;
		else
			f->open[f->nopen++] = (struct open_write){
				.va = q->va, .len = q->len, .sent = q->pay,
			};
		break;
	case PT_OP_WRITE_MIDDLE:
	case PT_OP_WRITE_LAST:
	case PT_OP_WRITE_LAST_IMM:
		for (i = 0; i < f->nopen; i++) {
			f->open[i].sent += q->pay;
			add_span(f, f->open[i].va,
				 min_u64(f->open[i].len, f->open[i].sent));
		}
		break;
	case PT_OP_CMP_SWAP:
	case PT_OP_FETCH_ADD:
	case PT_OP_ATOMIC_WRITE:
		if (rw)
			add_span(f, q->va, 8);
		break;
	}
}

/*
 * The writable MR against its shadow once the batch is taken: a byte may
 * differ only inside one of the batch's spans.  The shadow then follows.
 * 0, or -1 with the first byte that should not have changed in *at.
 */
static int check_writable(struct fuzz *f, size_t *at)
{
	const unsigned char *mr = f->area + RW_LEN;
	bool anywhere = f->anywhere || f->open_lost;
	int k, ret = 0;
	size_t i;

	for (i = memcmp(mr, f->shadow, RW_LEN) ? 0 : RW_LEN; i < RW_LEN; i++) {
		if (mr[i] == f->shadow[i])
			continue;
		for (k = 0; !anywhere && k < f->nspan; k++)
			if (i >= f->span[k].lo && i < f->span[k].hi)
				break;
		if (!anywhere && k == f->nspan) {
			*at = i;
			ret = -1;
			break;
		}
		f->shadow[i] = mr[i];
		f->changed++;
	}
	f->nspan = 0;
	f->anywhere = false;
	return ret;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* the completed receives, topped up; whether the barrier came back */
static int poll_recvs(struct fuzz *f, bool *barrier)
{
	struct ibv_wc wc[16];
	int i, n;

	while ((n = ibv_poll_cq(f->c.cq[1], 16, wc)) > 0) {
		for (i = 0; i < n; i++) {
			f->recvs--;
			if (wc[i].status == IBV_WC_SUCCESS &&
			    (wc[i].wc_flags & IBV_WC_WITH_IMM) &&
			    ntohl(wc[i].imm_data) == f->imm)
				*barrier = true;
		}
	}
	if (n < 0)
		return -EIO;
	return post_recvs(f, RECVS - f->recvs);
}

/* a SEND ONLY with a new immediate at psn */
static int send_barrier(struct fuzz *f, uint32_t psn)
{
	unsigned char r[PT_BTH_LEN + 4];
	struct pt_frame fr;
	int ret;

	pt_bth(r, PT_OP_SEND_ONLY_IMM, 0, f->c.qp[1]->qp_num, 1, psn);
	pt_put_be32(r + PT_BTH_LEN, ++f->imm);
	ret = pt_frame_build(&fr, &f->tmpl, r, sizeof(r));
	while (!ret && (ret = pt_inject(f->inj, &fr)) == -ENOBUFS)
		usleep(1000);
	f->barriers++;
	return ret;
}

/*
 * Wait until the responder has taken every request sent: a barrier at the
 * PSN it expects comes back as a receive (it is behind them all on the
 * QP), or the QP is in the error state and takes nothing more.  The PSN
 * read may be behind while requests are still queued; a barrier there is
 * a duplicate that never comes back, so another follows at the new PSN.
 * 0 (f->psn is the PSN expected), 1 (in error), -ETIMEDOUT (in RTS, but
 * it takes no more requests) or -errno.
 */
static int settle(struct fuzz *f)
{
	long long end = now_ms() + SETTLE_MS, wait;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	bool back = false;
	int ret;

	while (now_ms() < end) {
		if (ibv_query_qp(f->c.qp[1], &a, IBV_QP_STATE | IBV_QP_RQ_PSN,
				 &ia))
			return -errno;
		if (a.qp_state == IBV_QPS_ERR)
			return 1;
		ret = poll_recvs(f, &back);
		if (!ret)
			ret = send_barrier(f, a.rq_psn);
		if (ret)
			return ret;
		for (wait = now_ms() + 20; !back && now_ms() < wait;) {
			ret = poll_recvs(f, &back);
			if (ret)
				return ret;
			usleep(100);
		}
		if (back) {
			f->psn = (a.rq_psn + 1) & 0xffffff;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

static int unchanged(const unsigned char *p, size_t len, uint32_t seed)
{
	return !pt_check_pattern(p, len, seed);
}

static double fuzz_seconds(void)
{
	return env_ul("PMEM_RDMA_FUZZ_SECONDS", 120);
}

TEST_F(fuzz_wire, random_requests_touch_only_writable_memory)
{
	struct fuzz *f = &self->f;
	unsigned long packets = env_ul("PMEM_RDMA_FUZZ_PACKETS", 100000);
	double seconds = fuzz_seconds();
	uint64_t seed = env_ul("PMEM_RDMA_FUZZ_SEED", time(NULL));
	unsigned char r[PT_BTH_LEN + 64 + 1100];
	unsigned long sent = 0, rearms = 0, batches = 0;
	long long rcvd0, rcvd;
	struct timespec t0, t;
	struct pt_frame fr;
	struct request q;
	size_t at = 0;
	double el = 0;
	int k, ret = 0;

	f->rng = seed;
	TH_LOG("seed %llu (PMEM_RDMA_FUZZ_SEED replays it), %lu packets or %.0f s, timeout %d s",
	       (unsigned long long)seed, packets, seconds, _metadata->timeout);
	rcvd0 = pt_read_dev_counter(DEV1, "rcvd_pkts");
	ASSERT_LE(0, rcvd0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < packets && el < seconds) {
		for (k = 0; k < BATCH && sent < packets;) {
			ret = pt_frame_build(&fr, &f->tmpl, r,
					     fuzz_request(f, r, sizeof(r), &q));
			if (!ret)
				ret = pt_inject(f->inj, &fr);
			if (ret == -ENOBUFS) {
				usleep(1000);
				continue;
			}
			ASSERT_EQ(0, ret) TH_LOG("packet %lu: %s", sent,
						 strerror(-ret));
			note_request(f, &q);
			sent++;
			k++;
			/* the rest would only meet a QP in the error state */
			if (pt_qp_state(f->c.qp[1]) == IBV_QPS_ERR)
				break;
		}
		ret = settle(f);
		ASSERT_LE(0, ret) TH_LOG("packet %lu: the responder took no barrier in %d ms (PSN %#x): %s",
					 sent, SETTLE_MS, f->psn, strerror(-ret));
		ASSERT_EQ(0, check_writable(f, &at))
			TH_LOG("packets %lu..%lu: byte %zu of the writable MR changed, %02x to %02x, where none of them writes",
			       sent - k, sent - 1, at, f->shadow[at],
			       f->area[RW_LEN + at]);
		/* only a QP in the error state needs it */
		if (ret == 1) {
			ASSERT_EQ(0, rearm(f));
			rearms++;
		}
		batches++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	rcvd = pt_read_dev_counter(DEV1, "rcvd_pkts") - rcvd0;
	TH_LOG("%lu packets in %.1f s, %lu batches, %lu barriers, responder re-armed %lu times, received %lld, %lu bytes of the writable MR changed",
	       sent, el, batches, f->barriers, rearms, rcvd, f->changed);
	EXPECT_LT(1000, sent);
	/* most requests reached the responder QP (not those cut short) */
	EXPECT_LE(sent / 2, rcvd - (long long)f->barriers)
		TH_LOG("the responder received %lld of %lu requests",
		       rcvd - (long long)f->barriers, sent);
	EXPECT_TRUE(unchanged(f->area, RW_LEN, 11)) TH_LOG("guard below");
	EXPECT_TRUE(unchanged(f->area + 2 * RW_LEN, RW_LEN, 14))
		TH_LOG("guard above");
	EXPECT_TRUE(unchanged(f->ro, SMALL_LEN, 12)) TH_LOG("read-only MR");
	EXPECT_TRUE(unchanged(f->none, SMALL_LEN, 13)) TH_LOG("local MR");
	EXPECT_TRUE(unchanged(f->keyed, SMALL_LEN, 16)) TH_LOG("keyed MR");
}

/*
 * The harness kills a test at its timeout, 30 s unless the test says; this
 * one runs for PMEM_RDMA_FUZZ_SECONDS, so its timeout is that plus time
 * for the setup, the last barrier and checks, and the teardown.  Set
 * before the harness forks the test, which the timeout is read for.
 */
static void __attribute__((constructor)) fuzz_timeout(void)
{
	_fuzz_wire_random_requests_touch_only_writable_memory_object.timeout =
		fuzz_seconds() + 60;
}

TEST_HARNESS_MAIN
