// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: one remote copy of a map (a link).  A flush becomes, per
 * range, an RDMA WRITE of the view's bytes and the method's persistence
 * request - a FLUSH of the range to persistence, or for APM one 8-byte
 * READ after all the writes - posted as a batch through the extended
 * QP's ibv_wr_*() (upstream's only way to FLUSH and ATOMIC WRITE), with
 * only the last request signaled.  RC completes in order, so each
 * signaled completion frees its batch's send queue slots; a drain waits
 * until every batch has completed.
 *
 * The persistence requests are non-posted (the responder answers once
 * the range is durable), and the responder executes a QP's requests in
 * order: an ATOMIC WRITE posted behind a FLUSH lands after the flushed
 * data is durable without the requester waiting in between.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <infiniband/rxe_flush_dv.h>
#include <rdma/rxe_flush.h>

#include "pmrdma_internal.h"

/* WRITE and FLUSH lengths stay below the 2^31 the wire allows */
#define LINK_CHUNK	(1UL << 30)
#define LINK_BATCH	32
_Static_assert(LINK_BATCH <= PMRDMA_SQ_SIZE_MIN,
	       "a batch fits in the smallest send queue");
/* the scratch: VERIFY digests and APM's READ, then atomic writes' values */
#define SCRATCH_AW	(LINK_BATCH * PMRDMA_DIGEST_MAX)
#define SCRATCH_SIZE	(SCRATCH_AW + PMRDMA_LINK_ATOMICS * 8)

static const char *const method_name[] = {
	[PMRDMA_METHOD_AUTO] = "auto",
	[PMRDMA_METHOD_FLUSH] = "FLUSH",
	[PMRDMA_METHOD_APM] = "APM",
	[PMRDMA_METHOD_GPSPM] = "GPSPM",
};

static int link_fail(struct pmrdma_map *map, struct pmrdma_link *l, int err,
		     const char *what)
{
	if (!l->err)
		l->err = err;
	/* the copy fails for every lane: the others skip it from now on */
	if (l->copy_err && !__atomic_load_n(l->copy_err, __ATOMIC_ACQUIRE))
		__atomic_store_n(l->copy_err, err, __ATOMIC_RELEASE);
	return pmrdma_fail(map, err, "%s: %s", l->name, what);
}

/* what a completion in error means, as an errno */
static int wc_errno(enum ibv_wc_status st)
{
	switch (st) {
	case IBV_WC_REM_ACCESS_ERR:
		return -EACCES;
	case IBV_WC_REM_INV_REQ_ERR:
		return -EINVAL;
	case IBV_WC_REM_OP_ERR:
		return -EREMOTEIO;
	case IBV_WC_RETRY_EXC_ERR:
	case IBV_WC_RNR_RETRY_EXC_ERR:
		return -ETIMEDOUT;
	case IBV_WC_WR_FLUSH_ERR:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

/*
 * What the device can flush-and-verify: the provider of rdma_rxe_flush
 * says (every other fails the query), which keeps the driver's versions
 * out of the library.
 */
static void link_device(struct pmrdma_link *l)
{
	struct rxe_flush_dv_device_attr dv = { .comp_mask = 0 };

	if (!rxe_flush_dv_query_device(l->conn.id->verbs, &dv) &&
	    (dv.flags & RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY)) {
		l->verify_algs = dv.verify_algs;
		l->verify_max = dv.max_verify_length;
	}
}

/* GPSPM responses land in slot i of gp_resp */
#define GP_RECV		(1ULL << 63)

static int gp_post_recv(struct pmrdma_link *l, unsigned int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&l->gp_resp[i],
		.length = sizeof(l->gp_resp[i]), .lkey = l->gp_mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = GP_RECV | i, .sg_list = &sge, .num_sge = 1,
	}, *bad;

	return -ibv_post_recv(pmrdma_conn_qp(&l->conn), &wr, &bad);
}

/* the request and response rings, registered, a receive for each response */
static int link_gpspm_init(struct pmrdma_map *map, struct pmrdma_link *l)
{
	size_t req = PMRDMA_GPSPM_DEPTH * sizeof(*l->gp_req);
	size_t len = req + PMRDMA_GPSPM_DEPTH * sizeof(*l->gp_resp);
	unsigned int i;
	int err;

	if (posix_memalign((void **)&l->gp_req, 64, len))
		return link_fail(map, l, -ENOMEM, "no memory");
	memset(l->gp_req, 0, len);
	l->gp_resp = (void *)((char *)l->gp_req + req);
	l->gp_mr = ibv_reg_mr(l->conn.pd, l->gp_req, len, IBV_ACCESS_LOCAL_WRITE);
	if (!l->gp_mr)
		return link_fail(map, l, -errno, "ibv_reg_mr");
	for (i = 0; i < PMRDMA_GPSPM_DEPTH; i++) {
		err = gp_post_recv(l, i);
		if (err)
			return link_fail(map, l, err, "ibv_post_recv");
	}
	return 0;
}

static int link_method(struct pmrdma_map *map, struct pmrdma_link *l,
		       enum pmrdma_method want)
{
	bool flush = (l->conn.send_ops & IBV_QP_EX_WITH_FLUSH) &&
		     (l->conn.device_caps & PMRDMA_DEVICE_FLUSH_PERSISTENT) &&
		     (l->conn.r.placement_types & PMEM_RDMA_PLACEMENT_PERSISTENT) &&
		     (l->conn.r.access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT);

	bool gpspm = l->conn.r.flags & PMEM_RDMA_DESC_GPSPM;

	l->atomic_write = l->conn.send_ops & IBV_QP_EX_WITH_ATOMIC_WRITE;
	if (want == PMRDMA_METHOD_AUTO && !flush && !gpspm)
		return link_fail(map, l, -EOPNOTSUPP,
				 "the target offers neither FLUSH nor GPSPM (APM, if its platform persists what the NIC places, must be asked for)");
	if (want == PMRDMA_METHOD_AUTO)
		want = flush ? PMRDMA_METHOD_FLUSH : PMRDMA_METHOD_GPSPM;
	if (want == PMRDMA_METHOD_FLUSH && !flush)
		return link_fail(map, l, -EOPNOTSUPP,
				 "the device or the export cannot FLUSH to persistence");
	if (want == PMRDMA_METHOD_APM &&
	    !(l->conn.r.access & PMEM_RDMA_ACCESS_READ))
		return link_fail(map, l, -EOPNOTSUPP,
				 "APM needs READ access to the export");
	if (want == PMRDMA_METHOD_GPSPM && !gpspm)
		return link_fail(map, l, -EOPNOTSUPP,
				 "GPSPM needs a target that persists on request (pmrdma_serve)");
	l->method = want;
	return want == PMRDMA_METHOD_GPSPM ? link_gpspm_init(map, l) : 0;
}

static int link_connect(struct pmrdma_map *map, struct pmrdma_link *l,
			const struct pmrdma_remote *r, struct ibv_pd *pd)
{
	struct sockaddr_storage ss;
	struct pmrdma_conn_params p = {
		.dst = (struct sockaddr *)&ss,
		.timeout_ms = map->connect_ms,
		.ibdev = r->ibdev,
		.pd = pd,
		.key = r->key, .key_len = r->key_len,
		.send_depth = map->sq_size,
		.inline_size = map->inline_size ? (int)map->inline_size : -1,
		.recv_depth = PMRDMA_GPSPM_DEPTH,
		/* the verbs of upstream rdma-core, VERIFY aside */
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE |
				  IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_SEND,
		.send_ops_if_device = IBV_QP_EX_WITH_FLUSH |
				      IBV_QP_EX_WITH_ATOMIC_WRITE,
	};
	int err;

	snprintf(l->name, sizeof(l->name), "[%s]:%u", r->addr, r->port);
	err = pmrdma_resolve(r->addr, r->port, &ss);
	if (err)
		return link_fail(map, l, err, "no such address");
	err = pmrdma_conn_open(&l->conn, &p);
	if (err)
		return link_fail(map, l, err, l->conn.msg);
	l->batches = calloc(l->conn.send_depth, sizeof(*l->batches));
	if (!l->batches)
		return link_fail(map, l, -ENOMEM, "no memory");
	if (!(l->conn.r.access & PMEM_RDMA_ACCESS_WRITE))
		return link_fail(map, l, -EACCES, "the export takes no WRITE");
	link_device(l);
	err = link_method(map, l, r->method);
	if (err)
		return err;
	if (posix_memalign((void **)&l->scratch, 64, SCRATCH_SIZE))
		return link_fail(map, l, -ENOMEM, "no memory");
	l->scratch_mr = ibv_reg_mr(l->conn.pd, l->scratch, SCRATCH_SIZE,
				   IBV_ACCESS_LOCAL_WRITE);
	if (!l->scratch_mr)
		return link_fail(map, l, -errno, "ibv_reg_mr");
	return 0;
}

int pmrdma_link_open(struct pmrdma_map *map, struct pmrdma_link *l,
		     const struct pmrdma_remote *r)
{
	return link_connect(map, l, r, NULL);
}

int pmrdma_link_open_lane(struct pmrdma_map *map, struct pmrdma_link *l,
			  const struct pmrdma_remote *r,
			  const struct pmrdma_link *first)
{
	int err = link_connect(map, l, r, first->conn.pd);

	if (err)
		return err;
	/*
	 * The same export, by what the descriptor says of it (a target gives
	 * each connection its own R_Key), and the same method: the lanes of
	 * a copy are one copy.
	 */
	if (l->conn.r.length != first->conn.r.length ||
	    l->conn.r.access != first->conn.r.access ||
	    l->method != first->method)
		return link_fail(map, l, -EPROTO,
				 "another lane reached another export, or took another method");
	l->window = first->window;
	return 0;
}

int pmrdma_link_attach(struct pmrdma_map *map, struct pmrdma_link *l,
		       char *view)
{
	l->src = view;
	l->src_mr = ibv_reg_mr(l->conn.pd, view, map->size,
			       IBV_ACCESS_LOCAL_WRITE);
	if (l->src_mr)
		return 0;
	/*
	 * An fsdax mapping cannot be pinned for long (FOLL_LONGTERM): push
	 * from a registered copy, refreshed by each flush.
	 */
	if (posix_memalign((void **)&l->shadow, 4096, map->size))
		return link_fail(map, l, -ENOMEM, "no memory for a registered copy");
	memcpy(l->shadow, view, map->size);
	l->src = l->shadow;
	l->src_mr = ibv_reg_mr(l->conn.pd, l->src, map->size,
			       IBV_ACCESS_LOCAL_WRITE);
	return l->src_mr ? 0 : link_fail(map, l, -errno, "ibv_reg_mr of the view");
}

void pmrdma_link_attach_lane(struct pmrdma_link *l,
			     const struct pmrdma_link *first)
{
	l->src = first->src;
	l->src_mr = first->src_mr;
	l->shadow = first->shadow;
	l->src_shared = true;
}

int pmrdma_link_reg_buf(struct pmrdma_map *map, const struct pmrdma_link *l,
			void *addr, size_t len, struct ibv_mr **mr)
{
	int err;

	/* WRITEs only read it: no access beyond the local read */
	*mr = ibv_reg_mr(l->conn.pd, addr, len, 0);
	if (*mr)
		return 0;
	err = errno ? errno : EINVAL;
	/* the buffer's failure, not the link's: the copy goes on */
	return pmrdma_fail(map, -err, "%s: ibv_reg_mr of [%p, +%zu): %s",
			   l->name, addr, len, strerror(err));
}

void pmrdma_link_close(struct pmrdma_link *l)
{
	if (l->src_shared) {
		l->src_mr = NULL;
		l->shadow = NULL;
	}
	if (l->src_mr)
		ibv_dereg_mr(l->src_mr);
	if (l->scratch_mr)
		ibv_dereg_mr(l->scratch_mr);
	if (l->gp_mr)
		ibv_dereg_mr(l->gp_mr);
	pmrdma_conn_close(&l->conn);
	free(l->shadow);
	free(l->scratch);
	free(l->gp_req);
	free(l->batches);
	memset(l, 0, sizeof(*l));
}

void pmrdma_link_caps(const struct pmrdma_link *l, uint32_t *placement,
		      uint32_t *algs)
{
	*placement = l->conn.r.placement_types;
	/*
	 * Flush-and-verify reads a digest back: a target answers that only
	 * to a peer with READ (a key without it gets compare mode alone).
	 * It flushes to persistence first, which needs that flush access.
	 */
	*algs = 0;
	if ((l->conn.r.access & PMEM_RDMA_ACCESS_VERIFY) &&
	    (l->conn.r.access & PMEM_RDMA_ACCESS_READ) &&
	    (l->conn.r.access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT))
		*algs = l->conn.r.verify_algs & l->verify_algs;
}

uint64_t pmrdma_link_verify_max(const struct pmrdma_link *l)
{
	/* one VERIFY a range, and its length stays below LINK_CHUNK */
	return l->verify_max < LINK_CHUNK ? l->verify_max : LINK_CHUNK - 1;
}

/* ---- completions ---- */

/* the target's answer to a GPSPM request, and its slot receives again */
static int gp_response(struct pmrdma_map *map, struct pmrdma_link *l,
		       unsigned int i)
{
	struct pmem_rdma_gpspm_resp r = l->gp_resp[i];
	char m[128];
	int err;

	l->gp_inflight--;
	err = gp_post_recv(l, i);
	if (err)
		return link_fail(map, l, err, "ibv_post_recv");
	if (be32toh(r.magic) != PMEM_RDMA_GPSPM_MAGIC)
		return link_fail(map, l, -EPROTO, "a GPSPM response without its magic");
	if (r.status) {
		snprintf(m, sizeof(m), "the target could not persist: %s",
			 strerror(be16toh(r.status)));
		return link_fail(map, l, -EREMOTEIO, m);
	}
	return 0;
}

/*
 * How long the oldest batch may take: the map's wait, and its bytes at the
 * slowest rate the map accepts (a GPSPM answer: the bytes of its request,
 * counted in the batch that sent it).
 */
static int link_wait_ms(const struct pmrdma_map *map,
			const struct pmrdma_link *l)
{
	uint64_t bytes = 0, ms;

	if (l->done != l->posted)
		bytes = l->batches[(l->done + 1) % l->conn.send_depth].bytes;
	ms = map->wait_ms + bytes / (map->wait_rate / 1000 ?: 1);
	return ms < INT_MAX ? (int)ms : INT_MAX;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* something posted has not completed yet */
static bool link_busy(const struct pmrdma_link *l)
{
	return l->done != l->posted || l->gp_inflight;
}

/* a completion of pmrdma_conn_*_wc(): 0, or the link's failure */
static int link_complete(struct pmrdma_map *map, struct pmrdma_link *l,
			 int n, const struct ibv_wc *wc)
{
	char m[128];

	if (n == -ECONNRESET)
		return link_fail(map, l, n, "the target disconnected");
	if (n < 0)
		return link_fail(map, l, n, "waiting for a completion failed");
	l->wait_start = now_ns();
	if (wc->status != IBV_WC_SUCCESS) {
		snprintf(m, sizeof(m), "a request failed: %s%s",
			 ibv_wc_status_str(wc->status),
			 l->conn.disconnected ? " (the target disconnected)" : "");
		return link_fail(map, l, wc_errno(wc->status), m);
	}
	if (wc->wr_id & GP_RECV)
		return gp_response(map, l, wc->wr_id & ~GP_RECV);
	l->done = wc->wr_id;
	l->inflight -= l->batches[wc->wr_id % l->conn.send_depth].wrs;
	return 0;
}

/* wait for the oldest batch: 0, or the link's failure */
static int link_reap(struct pmrdma_map *map, struct pmrdma_link *l)
{
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS };
	char m[128];
	int n, ms;

	if (l->err)
		return l->err;
	ms = link_wait_ms(map, l);
	n = pmrdma_conn_wait_wc(&l->conn, &wc, ms);
	if (n == 0) {
		snprintf(m, sizeof(m), "no completion in %d ms", ms);
		return link_fail(map, l, -ETIMEDOUT, m);
	}
	return link_complete(map, l, n, &wc);
}

int pmrdma_link_progress(struct pmrdma_map *map, struct pmrdma_link *l)
{
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS };
	char m[128];
	uint64_t ms;
	int n, err;

	/* a failed link only has its channels quieted, for the event fd */
	while ((n = pmrdma_conn_poll_wc(&l->conn, &wc)) == 1)
		if (!l->err) {
			err = link_complete(map, l, n, &wc);
			if (err)
				return err;
		}
	if (l->err)
		return l->err;
	if (!link_busy(l)) {
		l->natomics = 0;	/* every one has landed */
		return 0;
	}
	if (n < 0)
		return link_complete(map, l, n, &wc);
	ms = (uint64_t)link_wait_ms(map, l);
	if (now_ns() - l->wait_start > ms * 1000000) {
		snprintf(m, sizeof(m), "no completion in %llu ms",
			 (unsigned long long)ms);
		return link_fail(map, l, -ETIMEDOUT, m);
	}
	return 0;
}

void pmrdma_link_mark(const struct pmrdma_link *l, struct pmrdma_link_mark *m)
{
	m->batch = l->posted;
	m->gp = l->gp_sent;
}

/*
 * Batches complete in the order they were posted, and the target answers
 * GPSPM requests in the order they were sent.
 */
bool pmrdma_link_passed(const struct pmrdma_link *l,
			const struct pmrdma_link_mark *m)
{
	return l->done >= m->batch && l->gp_sent - l->gp_inflight >= m->gp;
}

int pmrdma_link_watch(const struct pmrdma_link *l, int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l->conn.cc || !l->conn.ch)
		return 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->conn.cc->fd, &ev) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, l->conn.ch->fd, &ev))
		return -errno;
	return 0;
}

int pmrdma_link_drain(struct pmrdma_map *map, struct pmrdma_link *l)
{
	int err;

	while (link_busy(l)) {
		err = link_reap(map, l);
		if (err)
			return err;
	}
	if (!l->err)
		l->natomics = 0;	/* every one has landed */
	return l->err;
}

/* ---- posting ---- */

/*
 * The requests of a batch, in send queue order: remote range in
 * wr.rdma (VERIFY: wr.atomic), local data in sge (FLUSH: only its length;
 * with IBV_SEND_INLINE, or ATOMIC WRITE: the bytes to copy), and what
 * struct ibv_send_wr has no room for, a FLUSH's type and level.
 */
struct batch {
	struct ibv_send_wr wr[LINK_BATCH];
	struct ibv_sge sge[LINK_BATCH];
	struct {
		uint8_t type, level;	/* IBV_FLUSH_*, for ibv_wr_flush() */
	} flush[LINK_BATCH];
	unsigned int n;
	uint64_t bytes;			/* that its requests move or touch */
};

/*
 * VERIFY has no verb of upstream rdma-core: the provider of rdma_rxe_flush
 * takes it from ibv_post_send(), on any QP.  Everything else goes through
 * the extended QP's ibv_wr_*(), the only way upstream has to FLUSH and
 * ATOMIC WRITE.
 */
static bool wr_posts_by_post_send(const struct ibv_send_wr *wr)
{
	return (unsigned int)wr->opcode == RXE_FLUSH_WR_VERIFY;
}

/* b's requests [i, end) through ibv_post_send(), as one chain: 0 or errno */
static int batch_post_send(struct pmrdma_link *l, struct batch *b,
			   unsigned int i, unsigned int end)
{
	struct ibv_send_wr *bad;
	unsigned int k;

	for (k = i; k < end; k++) {
		b->wr[k].next = k + 1 < end ? &b->wr[k + 1] : NULL;
		if (b->wr[k].num_sge)
			b->wr[k].sg_list = &b->sge[k];
	}
	return ibv_post_send(pmrdma_conn_qp(&l->conn), &b->wr[i], &bad);
}

/* b's requests [i, end) through the extended QP's verbs: 0 or errno */
static int batch_post_wr(struct pmrdma_link *l, struct batch *b,
			 unsigned int i, unsigned int end)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(pmrdma_conn_qp(&l->conn));
	uint32_t rkey = l->conn.r.rkey;

	ibv_wr_start(qx);
	for (; i < end; i++) {
		const struct ibv_send_wr *wr = &b->wr[i];
		const struct ibv_sge *sge = &b->sge[i];
		uint64_t raddr = wr->wr.rdma.remote_addr;

		qx->wr_id = wr->wr_id;
		qx->wr_flags = wr->send_flags;
		switch (wr->opcode) {
		case IBV_WR_RDMA_WRITE:
			ibv_wr_rdma_write(qx, rkey, raddr);
			break;
		case IBV_WR_RDMA_READ:
			ibv_wr_rdma_read(qx, rkey, raddr);
			break;
		case IBV_WR_SEND:
			ibv_wr_send(qx);
			break;
		case IBV_WR_FLUSH:
			ibv_wr_flush(qx, rkey, raddr, sge->length,
				     b->flush[i].type, b->flush[i].level);
			continue;
		case IBV_WR_ATOMIC_WRITE:
			/* the verb copies the 8 bytes */
			ibv_wr_atomic_write(qx, rkey, raddr,
					    (const void *)(uintptr_t)sge->addr);
			continue;
		default:
			ibv_wr_abort(qx);
			return EINVAL;
		}
		if (wr->send_flags & IBV_SEND_INLINE)
			ibv_wr_set_inline_data(qx, (void *)(uintptr_t)sge->addr,
					       sge->length);
		else
			ibv_wr_set_sge(qx, sge->lkey, sge->addr, sge->length);
	}
	return ibv_wr_complete(qx);
}

/*
 * Post b, its last request signaled, once the queue has room: each run of
 * requests that take the same way in one call, run after run, so that the
 * send queue holds them in b's order.
 */
static int batch_post(struct pmrdma_map *map, struct pmrdma_link *l,
		      struct batch *b)
{
	unsigned int i, end;
	bool post_send;
	int err;

	if (!b->n)
		return 0;
	while (l->inflight + b->n > l->conn.send_depth) {
		err = link_reap(map, l);
		if (err)
			return err;
	}
	if (!link_busy(l))
		l->wait_start = now_ns();
	b->wr[b->n - 1].send_flags |= IBV_SEND_SIGNALED;
	b->wr[b->n - 1].wr_id = ++l->posted;
	l->batches[l->posted % l->conn.send_depth] = (struct pmrdma_link_batch){
		.bytes = b->bytes, .wrs = b->n,
	};
	for (i = 0; i < b->n; i = end) {
		post_send = wr_posts_by_post_send(&b->wr[i]);
		for (end = i + 1; end < b->n &&
		     wr_posts_by_post_send(&b->wr[end]) == post_send; end++)
			;
		err = post_send ? batch_post_send(l, b, i, end) :
				  batch_post_wr(l, b, i, end);
		if (err) {
			/* the link fails: what went out is never waited for */
			l->posted--;
			return link_fail(map, l, -err,
					 post_send ? "ibv_post_send refused a request" :
						     "ibv_wr_complete refused a request");
		}
	}
	l->inflight += b->n;
	b->n = 0;
	b->bytes = 0;
	return 0;
}

/* the next WR of b, for bytes of the export, posting b first when full */
static struct ibv_send_wr *batch_next(struct pmrdma_map *map,
				      struct pmrdma_link *l, struct batch *b,
				      uint64_t bytes, int *err)
{
	struct ibv_send_wr *wr;

	if (b->n == LINK_BATCH) {
		*err = batch_post(map, l, b);
		if (*err)
			return NULL;
	}
	b->bytes += bytes;
	wr = &b->wr[b->n];
	memset(wr, 0, sizeof(*wr));
	memset(&b->sge[b->n], 0, sizeof(b->sge[0]));
	b->n++;
	return wr;
}

/* the remote address of the view's offset off */
static uint64_t link_raddr(const struct pmrdma_link *l, uint64_t off)
{
	return l->conn.r.iova + l->window + off;
}

/* one request on the view's [off, off + len), data at local/lkey */
static int batch_add(struct pmrdma_map *map, struct pmrdma_link *l,
		     struct batch *b, enum ibv_wr_opcode op, uint64_t off,
		     uint64_t len, const void *local, uint32_t lkey,
		     unsigned int flags)
{
	struct ibv_send_wr *wr;
	int err = 0;

	wr = batch_next(map, l, b, len, &err);
	if (!wr)
		return err;
	wr->opcode = op;
	wr->send_flags = flags;
	wr->num_sge = 1;
	wr->wr.rdma.remote_addr = link_raddr(l, off);
	wr->wr.rdma.rkey = l->conn.r.rkey;
	b->sge[b->n - 1] = (struct ibv_sge){
		.addr = (uintptr_t)local, .length = len, .lkey = lkey,
	};
	return 0;
}

/* the WRITEs of the view's [off, off + len), their bytes from src/lkey */
static int batch_write_from(struct pmrdma_map *map, struct pmrdma_link *l,
			    struct batch *b, uint64_t off, uint64_t len,
			    const char *src, uint32_t lkey)
{
	uint64_t n;
	int err;

	for (; len; off += n, src += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		err = batch_add(map, l, b, IBV_WR_RDMA_WRITE, off, n, src,
				lkey, 0);
		if (err)
			return err;
	}
	return 0;
}

/* the WRITEs of the view's [off, off + len), from the view */
static int batch_write(struct pmrdma_map *map, struct pmrdma_link *l,
		       struct batch *b, uint64_t off, uint64_t len)
{
	if (l->shadow)
		memcpy(l->shadow + off, map->addr + off, len);
	return batch_write_from(map, l, b, off, len, l->src + off,
				l->src_mr->lkey);
}

/* the lowest atomic write in flight that overlaps [off, end), or -1 */
static int atomic_in(const struct pmrdma_link *l, uint64_t off, uint64_t end)
{
	int i, low = -1;

	for (i = 0; i < (int)l->natomics; i++)
		if (l->atomics[i] + 8 > off && l->atomics[i] < end &&
		    (low < 0 || l->atomics[i] < l->atomics[low]))
			low = i;
	return low;
}

/*
 * The WRITEs of [off, off + len), around the 8 bytes of each atomic write
 * not flushed yet: those are on their way, ordered behind what came before
 * them, and a WRITE of them now could land ahead of that (GPSPM's target
 * CPU stores them only once it has persisted the requests before).
 */
static int batch_push(struct pmrdma_map *map, struct pmrdma_link *l,
		      struct batch *b, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, aw;
	int i, err;

	while ((i = atomic_in(l, off, end)) >= 0) {
		aw = l->atomics[i];
		l->atomics[i] = l->atomics[--l->natomics];
		if (aw > off) {
			err = batch_write(map, l, b, off, aw - off);
			if (err)
				return err;
		}
		off = aw + 8;
		if (off >= end)
			return 0;
	}
	return batch_write(map, l, b, off, end - off);
}

/*
 * Remember the atomic write at offset; with PMRDMA_LINK_ATOMICS in flight,
 * wait for everything posted first, after which none is on its way.
 */
static int atomic_remember(struct pmrdma_map *map, struct pmrdma_link *l,
			   uint64_t offset)
{
	unsigned int i;
	int err;

	for (i = 0; i < l->natomics; i++)
		if (l->atomics[i] == offset)
			return 0;
	if (l->natomics == PMRDMA_LINK_ATOMICS) {
		err = pmrdma_link_drain(map, l);
		if (err)
			return err;
	}
	l->atomics[l->natomics++] = offset;
	return 0;
}

static int batch_flush(struct pmrdma_map *map, struct pmrdma_link *l,
		       struct batch *b, uint64_t off, uint64_t len)
{
	struct ibv_send_wr *wr;
	uint64_t n;
	int err = 0;

	for (; len; off += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		wr = batch_next(map, l, b, n, &err);
		if (!wr)
			return err;
		wr->opcode = IBV_WR_FLUSH;
		wr->wr.rdma.remote_addr = link_raddr(l, off);
		b->sge[b->n - 1].length = n;
		/* the range, to persistence: what the method promises */
		b->flush[b->n - 1].type = IBV_FLUSH_PERSISTENT;
		b->flush[b->n - 1].level = IBV_FLUSH_RANGE;
	}
	return 0;
}

static uint64_t view_off(const struct pmrdma_map *map, const void *addr)
{
	return (uint64_t)((const char *)addr - map->addr);
}

int pmrdma_link_read(struct pmrdma_map *map, struct pmrdma_link *l,
		     uint64_t off, uint64_t len)
{
	struct batch b = { .n = 0 };
	uint64_t n;
	int err;

	if (l->err)
		return l->err;
	for (; len; off += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		err = batch_add(map, l, &b, IBV_WR_RDMA_READ, off, n,
				l->src + off, l->src_mr->lkey, 0);
		if (err)
			return err;
	}
	err = batch_post(map, l, &b);
	return err ? err : pmrdma_link_drain(map, l);
}

/* the current GPSPM request goes out as a SEND in b */
static int gp_send(struct pmrdma_map *map, struct pmrdma_link *l,
		   struct batch *b)
{
	struct pmem_rdma_gpspm_req *q = l->gp_cur;
	unsigned int nops = be16toh(q->nops);
	int err;

	l->gp_cur = NULL;
	err = batch_add(map, l, b, IBV_WR_SEND, 0,
			offsetof(struct pmem_rdma_gpspm_req, ops[nops]), q,
			l->gp_mr->lkey, 0);
	if (err)
		return err;
	if (!link_busy(l))
		l->wait_start = now_ns();
	l->gp_sent++;
	l->gp_inflight++;
	return 0;
}

/* one more op in the current GPSPM request, started when there is none */
static int gp_add(struct pmrdma_map *map, struct pmrdma_link *l,
		  struct batch *b, uint32_t op, uint64_t off, uint64_t len,
		  uint64_t value)
{
	struct pmem_rdma_gpspm_req *q = l->gp_cur;
	unsigned int n;
	int err;

	if (!q) {
		/* a free request slot: the oldest one answered */
		while (l->gp_inflight == PMRDMA_GPSPM_DEPTH) {
			err = batch_post(map, l, b);
			if (!err)
				err = link_reap(map, l);
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
	return n + 1 == PMEM_RDMA_GPSPM_OPS ? gp_send(map, l, b) : 0;
}

/* what makes the pushed [off, off + len) durable, by the link's method */
static int batch_persist(struct pmrdma_map *map, struct pmrdma_link *l,
			 struct batch *b, uint64_t off, uint64_t len)
{
	uint64_t n;
	int err;

	switch (l->method) {
	case PMRDMA_METHOD_FLUSH:
		return batch_flush(map, l, b, off, len);
	case PMRDMA_METHOD_GPSPM:
		for (; len; off += n, len -= n) {
			n = len < LINK_CHUNK ? len : LINK_CHUNK;
			err = gp_add(map, l, b, PMEM_RDMA_GPSPM_PERSIST, off, n, 0);
			if (err)
				return err;
		}
		return 0;
	default:
		return 0;	/* APM: once, behind every range */
	}
}

/* what the method adds behind the last range, which ends at end */
static int batch_persist_end(struct pmrdma_map *map, struct pmrdma_link *l,
			     struct batch *b, uint64_t end)
{
	uint64_t n = map->size < 8 ? map->size : 8;

	switch (l->method) {
	case PMRDMA_METHOD_APM:
		/*
		 * A READ behind the WRITEs returns once they have been
		 * placed.  Its 8 bytes end where the range does (start at 0
		 * for a range in the view's first 8): inside the view, so
		 * inside the export, which a READ past its end would kill.
		 */
		return batch_add(map, l, b, IBV_WR_RDMA_READ,
				 end < n ? 0 : end - n, n, l->scratch,
				 l->scratch_mr->lkey, 0);
	case PMRDMA_METHOD_GPSPM:
		return l->gp_cur ? gp_send(map, l, b) : 0;
	default:
		return 0;
	}
}

int pmrdma_link_flush(struct pmrdma_map *map, struct pmrdma_link *l,
		      const struct pmrdma_range *r, size_t n)
{
	struct batch b = { .n = 0 };
	uint64_t off, end = 0;
	bool any = false;
	size_t i;
	int err;

	if (l->err)
		return l->err;
	for (i = 0; i < n; i++) {
		if (!r[i].len)
			continue;
		off = view_off(map, r[i].addr);
		err = batch_push(map, l, &b, off, r[i].len);
		if (!err)
			err = batch_persist(map, l, &b, off, r[i].len);
		if (err)
			return err;
		end = off + r[i].len;
		any = true;
	}
	if (!any)
		return 0;
	err = batch_persist_end(map, l, &b, end);
	return err ? err : batch_post(map, l, &b);
}

int pmrdma_link_write(struct pmrdma_map *map, struct pmrdma_link *l,
		      uint64_t off, uint64_t len, const void *src,
		      uint32_t lkey)
{
	struct batch b = { .n = 0 };
	int err;

	if (l->err)
		return l->err;
	if (!len)
		return 0;
	/*
	 * An atomic write on its way to these bytes came first, and a WRITE
	 * could land ahead of it (GPSPM's target CPU stores it later): wait
	 * for it, so that the buffer's bytes are the last.  A flush skips
	 * them instead, as the view holds the atomic write's value; the
	 * buffer does not.
	 */
	if (atomic_in(l, off, off + len) >= 0) {
		err = pmrdma_link_drain(map, l);
		if (err)
			return err;
	}
	err = batch_write_from(map, l, &b, off, len, src, lkey);
	if (!err)
		err = batch_persist(map, l, &b, off, len);
	if (!err)
		err = batch_persist_end(map, l, &b, off + len);
	return err ? err : batch_post(map, l, &b);
}

/*
 * The fenced 8-byte WRITE of an atomic write on a connection without the
 * inline room for it: sent from the next of PMRDMA_LINK_ATOMICS slots of
 * the scratch, which holds the value until its batch has completed (the
 * device reads it when it sends, not when it is posted).
 */
static int atomic_write_from_slot(struct pmrdma_map *map,
				  struct pmrdma_link *l, size_t offset,
				  uint64_t value)
{
	unsigned int i = l->aw_next;
	uint8_t *slot = l->scratch + SCRATCH_AW + i * 8;
	struct batch b = { .n = 0 };
	int err;

	while (l->done < l->aw_batch[i]) {
		err = link_reap(map, l);
		if (err)
			return err;
	}
	memcpy(slot, &value, 8);
	err = batch_add(map, l, &b, IBV_WR_RDMA_WRITE, offset, 8, slot,
			l->scratch_mr->lkey, IBV_SEND_FENCE);
	if (!err)
		err = batch_post(map, l, &b);
	if (err)
		return err;
	l->aw_batch[i] = l->posted;
	l->aw_next = (i + 1) % PMRDMA_LINK_ATOMICS;
	return 0;
}

int pmrdma_link_atomic_write(struct pmrdma_map *map, struct pmrdma_link *l,
			     size_t offset, uint64_t value)
{
	struct batch b = { .n = 0 };
	int err;

	if (l->err)
		return l->err;
	err = atomic_remember(map, l, offset);
	if (err)
		return err;
	if (l->method == PMRDMA_METHOD_GPSPM) {
		/* the target's CPU stores it, behind the requests before */
		err = gp_add(map, l, &b, PMEM_RDMA_GPSPM_STORE8, offset, 8, value);
		if (!err && l->gp_cur)
			err = gp_send(map, l, &b);
		return err ? err : batch_post(map, l, &b);
	}
	/* native where the device has it */
	if (l->atomic_write) {
		err = batch_add(map, l, &b, IBV_WR_ATOMIC_WRITE, offset, 8,
				&value, 0, 0);
		return err ? err : batch_post(map, l, &b);
	}
	/* else an 8-byte WRITE fenced behind the requests before, as librpma */
	if (l->conn.max_inline >= 8) {
		err = batch_add(map, l, &b, IBV_WR_RDMA_WRITE, offset, 8,
				&value, 0, IBV_SEND_INLINE | IBV_SEND_FENCE);
		return err ? err : batch_post(map, l, &b);
	}
	return atomic_write_from_slot(map, l, offset, value);
}

/* a VERIFY that flushes [off, off + len) to persistence first */
static int batch_flush_verify(struct pmrdma_map *map, struct pmrdma_link *l,
			      struct batch *b, uint64_t off, uint64_t len,
			      uint32_t alg, unsigned int slot)
{
	struct ibv_send_wr *wr;
	int err = 0;

	wr = batch_next(map, l, b, len, &err);
	if (!wr)
		return err;
	pmrdma_wr_verify(wr, &b->sge[b->n - 1], l->conn.r.rkey,
			 link_raddr(l, off), len,
			 RXE_FLUSH_VERIFY_WORD(alg, RXE_FLUSH_VERIFY_FLUSH(RXE_FLUSH_TYPE_PERSISTENT)),
			 l->scratch + slot * PMRDMA_DIGEST_MAX,
			 pmrdma_digest_len(alg), l->scratch_mr->lkey);
	return 0;
}

int pmrdma_link_flush_verify(struct pmrdma_map *map, struct pmrdma_link *l,
			     const struct pmrdma_range *r, size_t n,
			     uint32_t alg)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	size_t i, j, k, dlen = pmrdma_digest_len(alg);
	struct batch b = { .n = 0 };
	char m[128];
	int err;

	if (l->err)
		return l->err;
	/* LINK_BATCH / 2 ranges at a time: their digests fit in the scratch */
	for (i = 0; i < n; i = j) {
		for (j = i, k = 0; j < n && k < LINK_BATCH / 2; j++) {
			uint64_t off = view_off(map, r[j].addr), len = r[j].len;

			if (!len)
				continue;
			err = batch_push(map, l, &b, off, len);
			if (!err)
				err = batch_flush_verify(map, l, &b, off, len,
							 alg, k);
			if (err)
				return err;
			k++;
		}
		err = batch_post(map, l, &b);
		if (!err)
			err = pmrdma_link_drain(map, l);
		if (err)
			return err;
		for (j = i, k = 0; j < n && k < LINK_BATCH / 2; j++) {
			if (!r[j].len)
				continue;
			/*
			 * The view, not what was pushed from: a copy of it
			 * (l->shadow) misses an atomic write's 8 bytes that
			 * went out inline and were not pushed again.
			 */
			pmrdma_digest(alg, r[j].addr, r[j].len, want);
			if (memcmp(want, l->scratch + k * PMRDMA_DIGEST_MAX, dlen)) {
				snprintf(m, sizeof(m),
					 "the durable copy of [%llu, +%zu) differs from the view",
					 (unsigned long long)view_off(map, r[j].addr),
					 r[j].len);
				return link_fail(map, l, -EBADMSG, m);
			}
			k++;
		}
	}
	return 0;
}

const char *pmrdma_method_name(enum pmrdma_method m)
{
	return m <= PMRDMA_METHOD_GPSPM ? method_name[m] : "?";
}
