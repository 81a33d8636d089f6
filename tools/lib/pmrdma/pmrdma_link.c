// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: one remote copy of a map (a link): its connection, and
 * the method chosen once at connect (pmrdma_persist_*.c).  A flush
 * becomes, per range, the RDMA WRITEs of the view's bytes and the
 * method's persistence, added to a batch of the link's send queue
 * (pmrdma_queue.c); an atomic write, an RDMA ATOMIC WRITE (or a fenced
 * 8-byte WRITE) behind them unless the method has its own; a
 * flush-and-verify, a VERIFY per range.
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

#include "pmrdma_queue.h"

static const char *const method_name[] = {
	[PMRDMA_METHOD_AUTO] = "auto",
	[PMRDMA_METHOD_FLUSH] = "FLUSH",
	[PMRDMA_METHOD_APM] = "APM",
	[PMRDMA_METHOD_GPSPM] = "GPSPM",
};

static const struct pmrdma_persist_ops *const method_ops[] = {
	[PMRDMA_METHOD_FLUSH] = &pmrdma_persist_flush,
	[PMRDMA_METHOD_APM] = &pmrdma_persist_apm,
	[PMRDMA_METHOD_GPSPM] = &pmrdma_persist_gpspm,
};

/*
 * What the device can flush-and-verify, and whether it seals ATOMIC WRITE
 * and VERIFY for a keyed link: the provider of rdma_rxe_flush says (every
 * other fails the query), which keeps the driver's versions out of the
 * library.
 */
static void link_device(struct pmrdma_link *l)
{
	struct rxe_flush_dv_device_attr dv = { .comp_mask = 0 };
	bool keyed = l->conn.dkey;

	l->atomic_write = l->conn.send_ops & IBV_QP_EX_WITH_ATOMIC_WRITE;
	if (rxe_flush_dv_query_device(l->conn.id->verbs, &dv))
		dv.flags = 0;
	/* into a keyed MR only sealed; else the fenced WRITE */
	if (keyed && !(dv.flags & RXE_FLUSH_DV_DEVICE_KEYED_ATOMIC_WRITE))
		l->atomic_write = false;
	l->aw_flags = keyed ? RXE_FLUSH_SEND_KEYED : 0;
	if (keyed && !(dv.flags & RXE_FLUSH_DV_DEVICE_KEYED_VERIFY))
		return;
	if (dv.flags & RXE_FLUSH_DV_DEVICE_FLUSH_AND_VERIFY) {
		l->verify_algs = dv.verify_algs;
		l->verify_max = dv.max_verify_length;
	}
}

static int link_method(struct pmrdma_link *l,
		       enum pmrdma_method want)
{
	bool flush = (l->conn.send_ops & IBV_QP_EX_WITH_FLUSH) &&
		     (l->conn.device_caps & PMRDMA_DEVICE_FLUSH_PERSISTENT) &&
		     (l->conn.r.placement_types & PMEM_RDMA_PLACEMENT_PERSISTENT) &&
		     (l->conn.r.access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT);

	bool gpspm = l->conn.r.flags & PMEM_RDMA_DESC_GPSPM;

	if (want == PMRDMA_METHOD_AUTO && !flush && !gpspm)
		return pmrdma_link_fail(l, -EOPNOTSUPP,
				 "the target offers neither FLUSH nor GPSPM (APM, if its platform persists what the NIC places, must be asked for)");
	if (want == PMRDMA_METHOD_AUTO)
		want = flush ? PMRDMA_METHOD_FLUSH : PMRDMA_METHOD_GPSPM;
	if (want == PMRDMA_METHOD_FLUSH && !flush)
		return pmrdma_link_fail(l, -EOPNOTSUPP,
				 "the device or the export cannot FLUSH to persistence");
	if (want == PMRDMA_METHOD_APM &&
	    !(l->conn.r.access & PMEM_RDMA_ACCESS_READ))
		return pmrdma_link_fail(l, -EOPNOTSUPP,
				 "APM needs READ access to the export");
	if (want == PMRDMA_METHOD_GPSPM && !gpspm)
		return pmrdma_link_fail(l, -EOPNOTSUPP,
				 "GPSPM needs a target that persists on request (pmrdma_serve)");
	l->method = want;
	l->ops = method_ops[want];
	return l->ops->init ? l->ops->init(l) : 0;
}

static int link_connect(struct pmrdma_link *l, const struct pmrdma_remote *r,
			const struct pmrdma_link_params *lp,
			const struct pmrdma_link *first)
{
	struct sockaddr_storage ss;
	struct pmrdma_conn_params p = {
		.dst = (struct sockaddr *)&ss,
		.timeout_ms = lp->connect_ms,
		.ibdev = r->ibdev,
		.pd = first ? first->conn.pd : NULL,
		.dkey = first ? first->conn.dkey : NULL,
		.key = r->key, .key_len = r->key_len,
		.data_key = lp->data_key, .data_key_len = lp->data_key_len,
		.set_tos = lp->tos >= 0, .tos = lp->tos >= 0 ? lp->tos : 0,
		.rate_kbps = lp->rate_kbps,
		.send_depth = lp->sq_size,
		.inline_size = lp->inline_size ? (int)lp->inline_size : -1,
		.recv_depth = PMRDMA_GPSPM_DEPTH,
		/* the verbs of upstream rdma-core, VERIFY aside */
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE |
				  IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_SEND,
		.send_ops_if_device = IBV_QP_EX_WITH_FLUSH |
				      IBV_QP_EX_WITH_ATOMIC_WRITE,
	};
	int err;

	snprintf(l->name, sizeof(l->name), "[%s]:%u", r->addr, r->port);
	l->wait_ms = lp->wait_ms;
	l->wait_rate = lp->wait_rate;
	err = pmrdma_resolve(r->addr, r->port, &ss);
	if (err)
		return pmrdma_link_fail(l, err, "no such address");
	err = pmrdma_conn_open(&l->conn, &p);
	if (err)
		return pmrdma_link_fail(l, err, l->conn.msg);
	l->batches = calloc(l->conn.send_depth, sizeof(*l->batches));
	if (!l->batches)
		return pmrdma_link_fail(l, -ENOMEM, "no memory");
	if (!(l->conn.r.access & PMEM_RDMA_ACCESS_WRITE))
		return pmrdma_link_fail(l, -EACCES, "the export takes no WRITE");
	link_device(l);
	err = link_method(l, r->method);
	if (err)
		return err;
	if (posix_memalign((void **)&l->scratch, 64, SCRATCH_SIZE))
		return pmrdma_link_fail(l, -ENOMEM, "no memory");
	l->scratch_mr = pmrdma_conn_reg_mr(&l->conn, l->scratch, SCRATCH_SIZE,
					   IBV_ACCESS_LOCAL_WRITE);
	if (!l->scratch_mr)
		return pmrdma_link_fail(l, -errno, "ibv_reg_mr");
	return 0;
}

int pmrdma_link_open(struct pmrdma_link *l, const struct pmrdma_remote *r,
		     const struct pmrdma_link_params *lp)
{
	return link_connect(l, r, lp, NULL);
}

int pmrdma_link_open_lane(struct pmrdma_link *l,
			  const struct pmrdma_remote *r,
			  const struct pmrdma_link_params *lp,
			  const struct pmrdma_link *first)
{
	int err = link_connect(l, r, lp, first);

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
		return pmrdma_link_fail(l, -EPROTO,
				 "another lane reached another export, or took another method");
	l->window = first->window;
	return 0;
}

int pmrdma_link_attach(struct pmrdma_link *l, char *view, size_t size)
{
	l->view = view;
	l->view_size = size;
	l->src = view;
	l->src_mr = pmrdma_conn_reg_mr(&l->conn, view, l->view_size,
				       IBV_ACCESS_LOCAL_WRITE);
	if (l->src_mr)
		return 0;
	/*
	 * An fsdax mapping cannot be pinned for long (FOLL_LONGTERM): push
	 * from a registered copy, refreshed by each flush.
	 */
	if (posix_memalign((void **)&l->shadow, 4096, l->view_size))
		return pmrdma_link_fail(l, -ENOMEM, "no memory for a registered copy");
	memcpy(l->shadow, view, l->view_size);
	l->src = l->shadow;
	l->src_mr = pmrdma_conn_reg_mr(&l->conn, l->src, l->view_size,
				       IBV_ACCESS_LOCAL_WRITE);
	return l->src_mr ? 0 :
	       pmrdma_link_fail(l, -errno, "ibv_reg_mr of the view");
}

void pmrdma_link_attach_lane(struct pmrdma_link *l,
			     const struct pmrdma_link *first)
{
	l->view = first->view;
	l->view_size = first->view_size;
	l->src = first->src;
	l->src_mr = first->src_mr;
	l->shadow = first->shadow;
	l->src_shared = true;
}

int pmrdma_link_open_lanes(struct pmrdma_link *first, unsigned int nlanes,
			   const struct pmrdma_remote *r,
			   const struct pmrdma_link_params *lp)
{
	struct pmrdma_link *l;
	unsigned int k;
	int err;

	for (k = 1; k < nlanes; k++) {
		l = first + k;
		err = pmrdma_link_open_lane(l, r, lp, first);
		if (err) {
			/* the copy's failure is told by its first lane */
			snprintf(first->msg, sizeof(first->msg), "%s", l->msg);
			return err;
		}
		pmrdma_link_attach_lane(l, first);
	}
	return 0;
}

bool pmrdma_link_idle(const struct pmrdma_link *l)
{
	return !pmrdma_link_busy(l);
}

static int reg(struct pmrdma_link *l, void *addr, size_t len, int access,
	       struct ibv_mr **mr)
{
	int err;

	*mr = pmrdma_conn_reg_mr(&l->conn, addr, len, access);
	if (*mr)
		return 0;
	err = errno ? errno : EINVAL;
	/* the buffer's failure, not the link's: the copy goes on */
	snprintf(l->msg, sizeof(l->msg), "%s: ibv_reg_mr of [%p, +%zu): %s",
		 l->name, addr, len, strerror(err));
	return -err;
}

int pmrdma_link_reg_buf(struct pmrdma_link *l, void *addr, size_t len,
			struct ibv_mr **mr)
{
	/* WRITEs only read it: no access beyond the local read */
	return reg(l, addr, len, 0, mr);
}

int pmrdma_link_reg_dst(struct pmrdma_link *l, void *addr, size_t len,
			struct ibv_mr **mr)
{
	return reg(l, addr, len, IBV_ACCESS_LOCAL_WRITE, mr);
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
	if (l->ops && l->ops->fini)
		l->ops->fini(l);
	pmrdma_conn_close(&l->conn);
	free(l->shadow);
	free(l->scratch);
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

/* the WRITEs of the view's [off, off + len), their bytes from src/lkey */
static int batch_write_from(struct pmrdma_link *l,
			    struct pmrdma_batch *b, uint64_t off, uint64_t len,
			    const char *src, uint32_t lkey)
{
	uint64_t n;
	int err;

	for (; len; off += n, src += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		err = pmrdma_batch_add(l, b, IBV_WR_RDMA_WRITE, off, n, src,
				       lkey, 0);
		if (err)
			return err;
	}
	return 0;
}

/* the WRITEs of the view's [off, off + len), from the view */
static int batch_write(struct pmrdma_link *l,
		       struct pmrdma_batch *b, uint64_t off, uint64_t len)
{
	if (l->shadow)
		memcpy(l->shadow + off, l->view + off, len);
	return batch_write_from(l, b, off, len, l->src + off,
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
static int batch_push(struct pmrdma_link *l,
		      struct pmrdma_batch *b, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, aw;
	int i, err;

	while ((i = atomic_in(l, off, end)) >= 0) {
		aw = l->atomics[i];
		l->atomics[i] = l->atomics[--l->natomics];
		if (aw > off) {
			err = batch_write(l, b, off, aw - off);
			if (err)
				return err;
		}
		off = aw + 8;
		if (off >= end)
			return 0;
	}
	return batch_write(l, b, off, end - off);
}

/*
 * Remember the atomic write at offset; with PMRDMA_LINK_ATOMICS in flight,
 * wait for everything posted first, after which none is on its way.
 */
static int atomic_remember(struct pmrdma_link *l,
			   uint64_t offset)
{
	unsigned int i;
	int err;

	for (i = 0; i < l->natomics; i++)
		if (l->atomics[i] == offset)
			return 0;
	if (l->natomics == PMRDMA_LINK_ATOMICS) {
		err = pmrdma_link_drain(l);
		if (err)
			return err;
	}
	l->atomics[l->natomics++] = offset;
	return 0;
}

static uint64_t view_off(const struct pmrdma_link *l, const void *addr)
{
	return (uint64_t)((const char *)addr - l->view);
}

int pmrdma_link_read_into(struct pmrdma_link *l, uint64_t off, uint64_t len,
			  void *dst, uint32_t lkey)
{
	struct pmrdma_batch b = { .n = 0 };
	char *p = dst;
	uint64_t n;
	int err;

	if (l->err)
		return l->err;
	for (; len; off += n, p += n, len -= n) {
		n = len < LINK_CHUNK ? len : LINK_CHUNK;
		err = pmrdma_batch_add(l, &b, IBV_WR_RDMA_READ, off, n, p, lkey,
				       0);
		if (err)
			return err;
	}
	err = pmrdma_batch_post(l, &b);
	return err ? err : pmrdma_link_drain(l);
}

int pmrdma_link_read(struct pmrdma_link *l, uint64_t off, uint64_t len)
{
	return pmrdma_link_read_into(l, off, len, l->src + off,
				     l->src_mr->lkey);
}

/* what makes the pushed [off, off + len) durable, by the link's method */
static int batch_persist(struct pmrdma_link *l,
			 struct pmrdma_batch *b, uint64_t off, uint64_t len)
{
	return l->ops->persist ? l->ops->persist(l, b, off, len) : 0;
}

/* what the method adds behind the last range, which ends at end */
static int batch_persist_end(struct pmrdma_link *l,
			     struct pmrdma_batch *b, uint64_t end)
{
	return l->ops->persist_end ? l->ops->persist_end(l, b, end) : 0;
}

int pmrdma_link_flush(struct pmrdma_link *l,
		      const struct pmrdma_range *r, size_t n)
{
	struct pmrdma_batch b = { .n = 0 };
	uint64_t off, end = 0;
	bool any = false;
	size_t i;
	int err;

	if (l->err)
		return l->err;
	for (i = 0; i < n; i++) {
		if (!r[i].len)
			continue;
		off = view_off(l, r[i].addr);
		err = batch_push(l, &b, off, r[i].len);
		if (!err)
			err = batch_persist(l, &b, off, r[i].len);
		if (err)
			return err;
		end = off + r[i].len;
		any = true;
	}
	if (!any)
		return 0;
	err = batch_persist_end(l, &b, end);
	return err ? err : pmrdma_batch_post(l, &b);
}

int pmrdma_link_write(struct pmrdma_link *l,
		      uint64_t off, uint64_t len, const void *src,
		      uint32_t lkey)
{
	struct pmrdma_batch b = { .n = 0 };
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
		err = pmrdma_link_drain(l);
		if (err)
			return err;
	}
	err = batch_write_from(l, &b, off, len, src, lkey);
	if (!err)
		err = batch_persist(l, &b, off, len);
	if (!err)
		err = batch_persist_end(l, &b, off + len);
	return err ? err : pmrdma_batch_post(l, &b);
}

/*
 * The fenced 8-byte WRITE of an atomic write on a connection without the
 * inline room for it: sent from the next of PMRDMA_LINK_ATOMICS slots of
 * the scratch, which holds the value until its batch has completed (the
 * device reads it when it sends, not when it is posted).
 */
static int atomic_write_from_slot(struct pmrdma_link *l, size_t offset,
				  uint64_t value)
{
	unsigned int i = l->aw_next;
	uint8_t *slot = l->scratch + SCRATCH_AW + i * 8;
	struct pmrdma_batch b = { .n = 0 };
	int err;

	while (l->done < l->aw_batch[i]) {
		err = pmrdma_link_reap(l);
		if (err)
			return err;
	}
	memcpy(slot, &value, 8);
	err = pmrdma_batch_add(l, &b, IBV_WR_RDMA_WRITE, offset, 8, slot,
			       l->scratch_mr->lkey, IBV_SEND_FENCE);
	if (!err)
		err = pmrdma_batch_post(l, &b);
	if (err)
		return err;
	l->aw_batch[i] = l->posted;
	l->aw_next = (i + 1) % PMRDMA_LINK_ATOMICS;
	return 0;
}

int pmrdma_link_atomic_write(struct pmrdma_link *l,
			     size_t offset, uint64_t value)
{
	struct pmrdma_batch b = { .n = 0 };
	int err;

	if (l->err)
		return l->err;
	err = atomic_remember(l, offset);
	if (err)
		return err;
	if (l->ops->atomic_write) {
		err = l->ops->atomic_write(l, &b, offset, value);
		return err ? err : pmrdma_batch_post(l, &b);
	}
	/* native where the device has it */
	if (l->atomic_write) {
		err = pmrdma_batch_add(l, &b, IBV_WR_ATOMIC_WRITE, offset, 8,
				       &value, 0, l->aw_flags);
		return err ? err : pmrdma_batch_post(l, &b);
	}
	/* else an 8-byte WRITE fenced behind the requests before, as librpma */
	if (l->conn.max_inline >= 8) {
		err = pmrdma_batch_add(l, &b, IBV_WR_RDMA_WRITE, offset, 8,
				       &value, 0, IBV_SEND_INLINE | IBV_SEND_FENCE);
		return err ? err : pmrdma_batch_post(l, &b);
	}
	return atomic_write_from_slot(l, offset, value);
}

/* a VERIFY that flushes [off, off + len) to persistence first */
static int batch_flush_verify(struct pmrdma_link *l,
			      struct pmrdma_batch *b, uint64_t off, uint64_t len,
			      uint32_t alg, unsigned int slot)
{
	struct ibv_send_wr *wr;
	int err = 0;

	wr = pmrdma_batch_next(l, b, len, &err);
	if (!wr)
		return err;
	pmrdma_wr_verify(wr, &b->sge[b->n - 1], l->conn.r.rkey,
			 pmrdma_link_raddr(l, off), len,
			 RXE_FLUSH_VERIFY_WORD(alg, RXE_FLUSH_VERIFY_FLUSH(RXE_FLUSH_TYPE_PERSISTENT)),
			 l->scratch + slot * PMRDMA_DIGEST_MAX,
			 pmrdma_digest_len(alg), l->scratch_mr->lkey);
	return 0;
}

int pmrdma_link_flush_verify(struct pmrdma_link *l,
			     const struct pmrdma_range *r, size_t n,
			     uint32_t alg)
{
	uint8_t want[PMRDMA_DIGEST_MAX];
	size_t i, j, k, dlen = pmrdma_digest_len(alg);
	struct pmrdma_batch b = { .n = 0 };
	char m[128];
	int err;

	if (l->err)
		return l->err;
	/* LINK_BATCH / 2 ranges at a time: their digests fit in the scratch */
	for (i = 0; i < n; i = j) {
		for (j = i, k = 0; j < n && k < LINK_BATCH / 2; j++) {
			uint64_t off = view_off(l, r[j].addr), len = r[j].len;

			if (!len)
				continue;
			err = batch_push(l, &b, off, len);
			if (!err)
				err = batch_flush_verify(l, &b, off, len,
							 alg, k);
			if (err)
				return err;
			k++;
		}
		err = pmrdma_batch_post(l, &b);
		if (!err)
			err = pmrdma_link_drain(l);
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
					 (unsigned long long)view_off(l, r[j].addr),
					 r[j].len);
				return pmrdma_link_fail(l, -EBADMSG, m);
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

