// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma's GPSPM method (general-purpose server persistence): behind
 * its WRITEs a link SENDs a request naming the ranges, and the target's
 * CPU persists them and answers (pmrdma_serve.c, the user-space target).
 * Up to PMRDMA_GPSPM_DEPTH requests are out at a time, each with a
 * receive posted for its answer; the target answers in order.  An atomic
 * write is a STORE8 op, which the target's CPU does behind the requests
 * before it.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmrdma_queue.h"

/* the answer to a request lands in slot i of gp_resp */
static int gp_post_recv(struct pmrdma_link *l, unsigned int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&l->gp_resp[i],
		.length = sizeof(l->gp_resp[i]), .lkey = l->gp_mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = PMRDMA_WR_RECV | i, .sg_list = &sge, .num_sge = 1,
	}, *bad;

	return -ibv_post_recv(pmrdma_conn_qp(&l->conn), &wr, &bad);
}

/*
 * The request and response rings, registered, a receive for each
 * response.  The requests are the link's data (a STORE8 carries the
 * user's value), sealed on a keyed link; the responses are a status, in
 * an MR of no key, which the target's unsealed SENDs may fill.
 */
static int gpspm_init(struct pmrdma_link *l)
{
	size_t req = PMRDMA_GPSPM_DEPTH * sizeof(*l->gp_req);
	size_t len = req + PMRDMA_GPSPM_DEPTH * sizeof(*l->gp_resp);
	unsigned int i;
	int err;

	if (posix_memalign((void **)&l->gp_req, 64, len))
		return pmrdma_link_fail(l, -ENOMEM, "no memory");
	memset(l->gp_req, 0, len);
	l->gp_resp = (void *)((char *)l->gp_req + req);
	l->gp_req_mr = pmrdma_conn_reg_mr(&l->conn, l->gp_req, req, 0);
	if (!l->gp_req_mr)
		return pmrdma_link_fail(l, -errno, "ibv_reg_mr");
	l->gp_mr = ibv_reg_mr(l->conn.pd, l->gp_resp, len - req,
			      IBV_ACCESS_LOCAL_WRITE);
	if (!l->gp_mr)
		return pmrdma_link_fail(l, -errno, "ibv_reg_mr");
	for (i = 0; i < PMRDMA_GPSPM_DEPTH; i++) {
		err = gp_post_recv(l, i);
		if (err)
			return pmrdma_link_fail(l, err, "ibv_post_recv");
	}
	return 0;
}

static void gpspm_fini(struct pmrdma_link *l)
{
	if (l->gp_mr)
		ibv_dereg_mr(l->gp_mr);
	if (l->gp_req_mr)
		ibv_dereg_mr(l->gp_req_mr);
	free(l->gp_req);
	l->gp_mr = NULL;
	l->gp_req_mr = NULL;
	l->gp_req = NULL;
}

/* the target's answer to a GPSPM request, and its slot receives again */
static int gpspm_recv(struct pmrdma_link *l,
		      unsigned int i)
{
	struct pmem_rdma_gpspm_resp r = l->gp_resp[i];
	char m[128];
	int err;

	l->gp_inflight--;
	err = gp_post_recv(l, i);
	if (err)
		return pmrdma_link_fail(l, err, "ibv_post_recv");
	if (be32toh(r.magic) != PMEM_RDMA_GPSPM_MAGIC)
		return pmrdma_link_fail(l, -EPROTO,
					"a GPSPM response without its magic");
	if (r.status) {
		snprintf(m, sizeof(m), "the target could not persist: %s",
			 strerror(be16toh(r.status)));
		return pmrdma_link_fail(l, -EREMOTEIO, m);
	}
	return 0;
}

/* the current GPSPM request goes out as a SEND in b */
static int gp_send(struct pmrdma_link *l,
		   struct pmrdma_batch *b)
{
	struct pmem_rdma_gpspm_req *q = l->gp_cur;
	unsigned int nops = be16toh(q->nops);
	int err;

	l->gp_cur = NULL;
	err = pmrdma_batch_add(l, b, IBV_WR_SEND, 0,
			       offsetof(struct pmem_rdma_gpspm_req, ops[nops]), q,
			       l->gp_req_mr->lkey, 0);
	if (err)
		return err;
	if (!pmrdma_link_busy(l))
		l->wait_start = pmrdma_now_ns();
	l->gp_sent++;
	l->gp_inflight++;
	return 0;
}

/* one more op in the current GPSPM request, started when there is none */
static int gp_add(struct pmrdma_link *l,
		  struct pmrdma_batch *b, uint32_t op, uint64_t off, uint64_t len,
		  uint64_t value)
{
	struct pmem_rdma_gpspm_req *q = l->gp_cur;
	unsigned int n;
	int err;

	if (!q) {
		/* a free request slot: the oldest one answered */
		while (l->gp_inflight == PMRDMA_GPSPM_DEPTH) {
			err = pmrdma_batch_post(l, b);
			if (!err)
				err = pmrdma_link_reap(l);
			if (err)
				return err;
		}
		q = &l->gp_req[l->gp_sent % PMRDMA_GPSPM_DEPTH];
		q->magic = htobe32(PMEM_RDMA_GPSPM_MAGIC);
		q->version = htobe16(PMEM_RDMA_GPSPM_VERSION);
		q->nops = 0;
		q->id = htobe64(l->gp_sent);
		l->gp_cur = q;
	}
	n = be16toh(q->nops);
	q->ops[n] = (struct pmem_rdma_gpspm_op){
		.op = htobe32(op), .len = htobe32(len),
		.off = htobe64(l->window + off),
		.value = htobe64(value),
	};
	q->nops = htobe16(n + 1);
	b->bytes += len;	/* the target persists them before it answers */
	return n + 1 == PMEM_RDMA_GPSPM_OPS ? gp_send(l, b) : 0;
}

static int gpspm_persist(struct pmrdma_link *l,
			 struct pmrdma_batch *b, uint64_t off, uint64_t len)
{
	uint64_t n;
	int err;

	for (; len; off += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		err = gp_add(l, b, PMEM_RDMA_GPSPM_PERSIST, off, n, 0);
		if (err)
			return err;
	}
	return 0;
}

/* the request being filled goes out behind the last range */
static int gpspm_persist_end(struct pmrdma_link *l,
			     struct pmrdma_batch *b, uint64_t end)
{
	(void)end;
	return l->gp_cur ? gp_send(l, b) : 0;
}

/* the target's CPU stores it, behind the requests before */
static int gpspm_atomic_write(struct pmrdma_link *l,
			      struct pmrdma_batch *b, uint64_t offset,
			      uint64_t value)
{
	int err = gp_add(l, b, PMEM_RDMA_GPSPM_STORE8, offset, 8, value);

	if (!err && l->gp_cur)
		err = gp_send(l, b);
	return err;
}

const struct pmrdma_persist_ops pmrdma_persist_gpspm = {
	.method = PMRDMA_METHOD_GPSPM,
	.init = gpspm_init,
	.fini = gpspm_fini,
	.persist = gpspm_persist,
	.persist_end = gpspm_persist_end,
	.atomic_write = gpspm_atomic_write,
	.recv = gpspm_recv,
};
