// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the user-space target (pmrdma_serve.h).  The region is a
 * local map of the library; each peer has a QP with PMRDMA_GPSPM_DEPTH
 * receives for its requests, which the library never exceeds, so a
 * request never meets a receiver not ready.  Who may connect is judged by
 * the kernel target's rules, in its order: <linux/pmem_rdma_connect.h>.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "pmrdma_error.h"
#include "pmrdma_internal.h"
#include "pmrdma_serve.h"

struct serve_peer {
	struct pmrdma_server *s;
	struct rdma_cm_id *id;
	struct ibv_qp *qp;		/* ours, not the id's: see peer_qp_ready() */
	struct ibv_cq *cq;
	struct pmem_rdma_gpspm_req req[PMRDMA_GPSPM_DEPTH];
	struct ibv_mr *req_mr;
	struct serve_peer *next;
};

struct pmrdma_server {
	struct pmrdma_map *map;
	char *view;
	size_t size;
	uint16_t port;
	uint8_t key[PMEM_RDMA_KEY_MAX];
	size_t key_len;
	bool any_peer;
	unsigned int max_peers;
	uint8_t data_key[PMRDMA_DATA_KEY_MAX];	/* a keyed export's */
	size_t data_key_len;		/* 0: not keyed */
	struct rxe_flush_dv_key *dkey;	/* its object, on pd */
	struct rdma_event_channel *ch;
	struct rdma_cm_id *listen;
	struct ibv_context *verbs;	/* the device of the first peer */
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	uint32_t flush_access;		/* PMEM_RDMA_ACCESS_FLUSH_* of mr */
	struct ibv_comp_channel *cc;
	struct serve_peer *peers;
	struct pmem_rdma_replay_key seen[PMEM_RDMA_AUTH_REPLAY_MAX];
	struct pmrdma_server_stats st;
	int stop[2];
	char msg[256];
};

static int serve_fail(struct pmrdma_server *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int serve_fail(struct pmrdma_server *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmrdma_vfail(s->msg, sizeof(s->msg), err, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Only a devdax device stays registered for RDMA: a file on fsdax maps, but
 * its pages cannot be pinned for long, and every peer would be refused.
 */
static int serve_path_ok(struct pmrdma_server *s, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return serve_fail(s, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return serve_fail(s, -EINVAL,
				  "%s is not a devdax device, the only memory a server can keep registered for RDMA",
				  path);
	return 0;
}

/* ---- who may connect ---- */

/*
 * Whether the request's paths - where the accept and the QP's packets go,
 * written by the peer - lead to the address it claims in rdma_cm's
 * header, also the peer's to write: as the kernel target judges it.
 */
static bool serve_path_is_peer(const struct rdma_cm_id *id,
			       const uint8_t *addr)
{
	int i;

	if (!id->route.path_rec || id->route.num_paths < 1)
		return false;
	for (i = 0; i < id->route.num_paths; i++)
		if (memcmp(id->route.path_rec[i].dgid.raw, addr,
			   PMEM_RDMA_ADDR_LEN))
			return false;
	return true;
}

/*
 * Steps 1 to 3 of the judgement: the address, then the proof of the key
 * (into *au): 0 or the REJECT's reason.
 */
static int serve_proof(struct pmrdma_server *s, const struct rdma_cm_event *ev,
		       struct pmem_rdma_auth *au)
{
	uint8_t peer[PMEM_RDMA_ADDR_LEN], me[PMEM_RDMA_ADDR_LEN];
	uint8_t want[PMEM_RDMA_AUTH_MAC_LEN];
	struct timespec mono;
	int reason;

	/* another family: the kernel target's address for it, all zero */
	pmrdma_addr16(rdma_get_peer_addr(ev->id), peer);
	if (!serve_path_is_peer(ev->id, peer))
		return PMEM_RDMA_REJECT_ADDRESS;
	if (s->any_peer)
		return 0;
	reason = pmem_rdma_auth_parse(au, ev->param.conn.private_data,
				      ev->param.conn.private_data_len);
	if (reason)
		return reason;
	/* the request's destination: this target's own address */
	pmrdma_addr16(rdma_get_local_addr(ev->id), me);
	if (pmrdma_auth_mac(want, s->key, s->key_len, au, s->port, peer, me) ||
	    CRYPTO_memcmp(want, au->mac, sizeof(au->mac)))
		return PMEM_RDMA_REJECT_AUTH;
	clock_gettime(CLOCK_BOOTTIME, &mono);
	return pmem_rdma_auth_take(s->seen, au, time(NULL), mono.tv_sec);
}

/*
 * 0, or the PMEM_RDMA_REJECT_* reason for this connect request; *au is
 * its proof, draw a keyed peer's draw.
 */
static int serve_judge(struct pmrdma_server *s, const struct rdma_cm_event *ev,
		       struct pmem_rdma_auth *au, uint8_t *draw)
{
	const void *data = ev->param.conn.private_data;
	uint8_t len = ev->param.conn.private_data_len;
	int reason;

	reason = serve_proof(s, ev, au);
	if (reason)
		return reason;
	return pmem_rdma_draw_judge(pmem_rdma_connect_draw(draw, data, len),
				    s->data_key_len != 0);
}

static void serve_reject(struct pmrdma_server *s, struct rdma_cm_id *id,
			 int reason)
{
	struct pmem_rdma_reject rej;

	pmem_rdma_reject_encode(&rej, reason);
	s->st.refused++;
	rdma_reject(id, &rej, sizeof(rej));
}

/* ---- peers ---- */

static int peer_post_recv(struct serve_peer *p, unsigned int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&p->req[i], .length = sizeof(p->req[i]),
		.lkey = p->req_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge, .num_sge = 1 },
			   *bad;

	return ibv_post_recv(p->qp, &wr, &bad);
}

/*
 * The server ends a peer: its QP stops at once (rdma_disconnect() stops
 * only the id's own QP, and this one is the server's), its DISCONNECTED
 * event frees it.
 */
static void peer_disconnect(struct serve_peer *p)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };

	ibv_modify_qp(p->qp, &a, IBV_QP_STATE);
	rdma_disconnect(p->id);
}

static void peer_free(struct serve_peer *p)
{
	if (p->qp)
		ibv_destroy_qp(p->qp);
	if (p->cq)
		ibv_destroy_cq(p->cq);
	if (p->req_mr)
		ibv_dereg_mr(p->req_mr);
	free(p);
}

static void peer_remove(struct pmrdma_server *s, struct serve_peer *p)
{
	struct serve_peer **pp;
	struct rdma_cm_id *id = p->id;

	for (pp = &s->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			s->st.peers--;
			break;
		}
	}
	peer_free(p);
	rdma_destroy_id(id);
}

/*
 * The region's MR with the flush access of each placement type the device
 * has (any kernel >= 6.2, or rdma_rxe_flush): a peer then makes its WRITEs
 * durable with FLUSHes, without our CPU (the FLUSH method).  Where the
 * device or the pages refuse it, an MR without: GPSPM only.
 */
static struct ibv_mr *serve_reg_mr(struct pmrdma_server *s, int access)
{
	struct ibv_device_attr_ex a = { 0 };
	int flush = 0;
	struct ibv_mr *mr;

	if (!ibv_query_device_ex(s->pd->context, NULL, &a)) {
		if (a.device_cap_flags_ex & PMRDMA_DEVICE_FLUSH_GLOBAL)
			flush |= IBV_ACCESS_FLUSH_GLOBAL;
		if (a.device_cap_flags_ex & PMRDMA_DEVICE_FLUSH_PERSISTENT)
			flush |= IBV_ACCESS_FLUSH_PERSISTENT;
	}
	/* zero-based, as the kernel target's: no address of ours on the wire */
	if (flush) {
		mr = s->dkey ?
		     rxe_flush_dv_reg_keyed_mr_iova(s->pd, s->view, s->size, 0,
						    access | flush, s->dkey) :
		     ibv_reg_mr_iova(s->pd, s->view, s->size, 0, access | flush);
		if (mr) {
			s->flush_access =
				(flush & IBV_ACCESS_FLUSH_GLOBAL ?
				 PMEM_RDMA_ACCESS_FLUSH_GLOBAL : 0) |
				(flush & IBV_ACCESS_FLUSH_PERSISTENT ?
				 PMEM_RDMA_ACCESS_FLUSH_PERSISTENT : 0);
			return mr;
		}
	}
	s->flush_access = 0;
	return s->dkey ?
	       rxe_flush_dv_reg_keyed_mr_iova(s->pd, s->view, s->size, 0,
					      access, s->dkey) :
	       ibv_reg_mr_iova(s->pd, s->view, s->size, 0, access);
}

/* the PD, the region's MR and the completion channel, on the first peer's device */
static int serve_device(struct pmrdma_server *s, struct ibv_context *verbs)
{
	if (s->verbs)
		return 0;
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	struct rxe_flush_dv_key_init_attr ka = {
		.key = s->data_key, .key_len = s->data_key_len,
		.alg = s->data_key_len == PMRDMA_DATA_KEY_MAX ?
		       RXE_FLUSH_KEY_AES_256_GCM : RXE_FLUSH_KEY_AES_128_GCM,
	};

	s->pd = ibv_alloc_pd(verbs);
	if (!s->pd)
		return -errno;
	ka.pd = s->pd;
	if (s->data_key_len)
		s->dkey = rxe_flush_dv_key_create(verbs, &ka);
	/* a keyed export without its key object has no MR */
	if (s->dkey || !s->data_key_len)
		s->mr = serve_reg_mr(s, access);
	s->cc = ibv_create_comp_channel(verbs);
	if (!s->mr || !s->cc) {
		/* all or nothing: the next peer tries again from scratch */
		if (s->cc)
			ibv_destroy_comp_channel(s->cc);
		if (s->mr)
			ibv_dereg_mr(s->mr);
		if (s->dkey)
			rxe_flush_dv_key_destroy(s->dkey);
		ibv_dealloc_pd(s->pd);
		s->cc = NULL;
		s->mr = NULL;
		s->dkey = NULL;
		s->pd = NULL;
		return -ENOMEM;
	}
	s->verbs = verbs;
	return 0;
}

/* the peer's QP to state, with the CM's attributes for it */
static int peer_qp_to(struct serve_peer *p, enum ibv_qp_state state,
		      uint8_t responder_resources)
{
	struct ibv_qp_attr a = { .qp_state = state };
	int mask;

	if (rdma_init_qp_attr(p->id, &a, &mask))
		return -errno;
	if (state == IBV_QPS_RTR)
		a.max_dest_rd_atomic = responder_resources;
	if (state == IBV_QPS_RTS)
		a.max_rd_atomic = 0;	/* it asks nothing of the peer */
	return -ibv_modify_qp(p->qp, &a, mask);
}

/*
 * The peer's QP through INIT (with its receives) and RTR to RTS, as
 * rdma_accept() would take it, but with the keyed bind between RTR and
 * RTS: bound before the accept leaves, it never meets a keyed packet
 * unbound.  Its draw goes back in the accept.
 */
static int peer_qp_ready(struct serve_peer *p, uint8_t responder_resources,
			 const uint8_t *peer_draw, uint8_t *draw)
{
	struct rxe_flush_dv_key *dkey = p->s->dkey;
	unsigned int i;
	int err;

	err = peer_qp_to(p, IBV_QPS_INIT, 0);
	for (i = 0; !err && i < PMRDMA_GPSPM_DEPTH; i++)
		err = peer_post_recv(p, i) ? -ENOMEM : 0;
	if (!err)
		err = peer_qp_to(p, IBV_QPS_RTR, responder_resources);
	if (!err && dkey)
		err = -rxe_flush_dv_qp_key_draw(p->qp, draw);
	if (!err && dkey)
		err = -rxe_flush_dv_qp_key_bind(p->qp, dkey, peer_draw);
	return err ?: peer_qp_to(p, IBV_QPS_RTS, 0);
}

static int peer_setup(struct pmrdma_server *s, struct serve_peer *p)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = 2 * PMRDMA_GPSPM_DEPTH,
			.max_recv_wr = PMRDMA_GPSPM_DEPTH,
			.max_send_sge = 1, .max_recv_sge = 1,
			.max_inline_data = sizeof(struct pmem_rdma_gpspm_resp),
		},
	};

	p->cq = ibv_create_cq(s->verbs, 3 * PMRDMA_GPSPM_DEPTH, p, s->cc, 0);
	if (!p->cq || ibv_req_notify_cq(p->cq, 0))
		return -ENOMEM;
	/* a keyed peer's requests arrive sealed: their buffers are keyed */
	p->req_mr = s->dkey ?
		    rxe_flush_dv_reg_keyed_mr(s->pd, p->req, sizeof(p->req),
					      IBV_ACCESS_LOCAL_WRITE, s->dkey) :
		    ibv_reg_mr(s->pd, p->req, sizeof(p->req),
			       IBV_ACCESS_LOCAL_WRITE);
	if (!p->req_mr)
		return -ENOMEM;
	qa.send_cq = p->cq;
	qa.recv_cq = p->cq;
	p->qp = ibv_create_qp(s->pd, &qa);
	return p->qp ? 0 : -errno;
}

static void serve_connect(struct pmrdma_server *s, struct rdma_cm_event *ev)
{
	uint8_t peer_draw[PMEM_RDMA_KEY_DRAW_LEN];
	struct ibv_device_attr da;
	struct pmem_rdma_accept acc = { 0 };
	struct pmem_rdma_auth au = { 0 };
	struct rdma_conn_param cp = {
		.private_data = &acc, .private_data_len = sizeof(acc.desc),
		.rnr_retry_count = 7,
	};
	struct serve_peer *p;
	int reason;

	/* the kernel target's order: the device, the proof, then room */
	if (s->verbs && s->verbs != ev->id->verbs)
		return serve_reject(s, ev->id, PMEM_RDMA_REJECT_DEVICE);
	reason = serve_judge(s, ev, &au, peer_draw);
	if (reason)
		return serve_reject(s, ev->id, reason);
	if (s->st.peers >= s->max_peers)
		return serve_reject(s, ev->id, PMEM_RDMA_REJECT_FULL);
	if (serve_device(s, ev->id->verbs))
		return serve_reject(s, ev->id, PMEM_RDMA_REJECT_SETUP);
	p = calloc(1, sizeof(*p));
	if (!p)
		return serve_reject(s, ev->id, PMEM_RDMA_REJECT_SETUP);
	p->s = s;
	p->id = ev->id;
	ev->id->context = p;
	pmem_rdma_desc_encode(&acc.desc, PMEM_RDMA_DESC_GPSPM |
			      (s->any_peer ? PMEM_RDMA_EXPORT_ANY_PEER : 0) |
			      (s->dkey ? PMEM_RDMA_DESC_KEYED : 0),
			      0, s->size, s->mr->rkey,
			      PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
			      s->flush_access, 0);
	/* with the key, the target proves it back: the peer checks it */
	if (!s->any_peer)
		cp.private_data_len = offsetof(struct pmem_rdma_accept,
					       key_draw);
	if (s->dkey)
		cp.private_data_len = sizeof(acc);
	if (ibv_query_device(s->verbs, &da) || peer_setup(s, p))
		goto refuse;
	/* the peer's initiator depth, for APM's READs */
	cp.responder_resources = ev->param.conn.responder_resources <
				 da.max_qp_rd_atom ?
				 ev->param.conn.responder_resources :
				 da.max_qp_rd_atom;
	if (peer_qp_ready(p, cp.responder_resources, peer_draw, acc.key_draw) ||
	    (s->dkey && pmrdma_key_check(acc.key_check, s->data_key,
					 s->data_key_len, peer_draw,
					 acc.key_draw)) ||
	    (!s->any_peer && pmrdma_accept_mac(acc.mac, s->key, s->key_len,
					       &au, &acc.desc)))
		goto refuse;
	cp.qp_num = p->qp->qp_num;
	if (rdma_accept(ev->id, &cp)) {
		peer_free(p);
		ev->id->context = NULL;
		s->st.refused++;
		return;
	}
	p->next = s->peers;
	s->peers = p;
	s->st.peers++;
	s->st.connects++;
	return;
refuse:
	serve_reject(s, ev->id, PMEM_RDMA_REJECT_SETUP);
	peer_free(p);
	ev->id->context = NULL;
}

/* ---- GPSPM requests ---- */

/*
 * 0 or -errno: the response carries it positive.  off and len are the
 * peer's: each bound subtracts only what is known to be smaller (off <
 * size), so that no value of theirs wraps it.
 */
static int run_op(struct pmrdma_server *s, const struct pmem_rdma_gpspm_op *o)
{
	uint64_t off = be64toh(o->off), len = be32toh(o->len);

	switch (be32toh(o->op)) {
	case PMEM_RDMA_GPSPM_PERSIST:
		if (!len)
			return -EINVAL;
		if (off >= s->size || len > s->size - off)
			return -ERANGE;
		break;
	case PMEM_RDMA_GPSPM_STORE8:
		/* aligned in memory, not only in the range: one store */
		if (((uintptr_t)s->view + off) % 8)
			return -EINVAL;
		if (off >= s->size || s->size - off < 8)
			return -ERANGE;
		len = 8;
		__atomic_store_n((uint64_t *)(s->view + off), be64toh(o->value),
				 __ATOMIC_RELEASE);
		break;
	default:
		return -EINVAL;
	}
	s->st.bytes_persisted += len;
	return pmrdma_flush(s->map, s->view + off, len) ? -EIO : 0;
}

static int serve_request(struct pmrdma_server *s, struct serve_peer *p,
			 unsigned int slot, uint32_t byte_len)
{
	const struct pmem_rdma_gpspm_req *q = &p->req[slot];
	struct pmem_rdma_gpspm_resp r = {
		.magic = htobe32(PMEM_RDMA_GPSPM_MAGIC),
		.version = htobe16(PMEM_RDMA_GPSPM_VERSION),
		.id = q->id,
	};
	struct ibv_sge sge = { .addr = (uintptr_t)&r, .length = sizeof(r) };
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_SEND, .sg_list = &sge, .num_sge = 1,
		.send_flags = IBV_SEND_INLINE | IBV_SEND_SIGNALED,
	}, *bad;
	unsigned int i, n = be16toh(q->nops);
	int status = 0;

	if (byte_len < offsetof(struct pmem_rdma_gpspm_req, ops) ||
	    be32toh(q->magic) != PMEM_RDMA_GPSPM_MAGIC ||
	    be16toh(q->version) != PMEM_RDMA_GPSPM_VERSION)
		status = EPROTO;
	else if (!n || n > PMEM_RDMA_GPSPM_OPS ||
		 byte_len < offsetof(struct pmem_rdma_gpspm_req, ops[n]))
		status = EINVAL;
	for (i = 0; !status && i < n; i++)
		status = -run_op(s, &q->ops[i]);
	r.status = htobe16(status);
	s->st.requests++;
	if (peer_post_recv(p, slot))
		return -EIO;
	return ibv_post_send(p->qp, &wr, &bad) ? -EIO : 0;
}

/* every completion of every peer with one ready */
static void serve_completions(struct pmrdma_server *s)
{
	struct serve_peer *p;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	void *ctx;

	if (ibv_get_cq_event(s->cc, &cq, &ctx))
		return;
	ibv_ack_cq_events(cq, 1);
	p = ctx;
	ibv_req_notify_cq(cq, 0);
	while (ibv_poll_cq(cq, 1, &wc) == 1) {
		if (wc.status != IBV_WC_SUCCESS) {
			/* the peer is going: its disconnect ends it */
			peer_disconnect(p);
			return;
		}
		if (wc.opcode == IBV_WC_RECV &&
		    serve_request(s, p, wc.wr_id, wc.byte_len))
			peer_disconnect(p);
	}
}

/* ---- the server ---- */

static void serve_cm_event(struct pmrdma_server *s)
{
	struct rdma_cm_event *ev;
	struct serve_peer *p;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;

	if (rdma_get_cm_event(s->ch, &ev))
		return;
	type = ev->event;
	id = ev->id;
	if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
		serve_connect(s, ev);
		p = id->context;
		rdma_ack_cm_event(ev);
		/* refused: the id is ours to destroy */
		if (!p)
			rdma_destroy_id(id);
		return;
	}
	p = id->context;
	rdma_ack_cm_event(ev);
	if (p && (type == RDMA_CM_EVENT_DISCONNECTED ||
		  type == RDMA_CM_EVENT_UNREACHABLE ||
		  type == RDMA_CM_EVENT_REJECTED ||
		  type == RDMA_CM_EVENT_DEVICE_REMOVAL))
		peer_remove(s, p);
}

int pmrdma_server_run(struct pmrdma_server *s, int timeout_ms)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = s->ch->fd, .events = POLLIN },
			{ .fd = s->stop[0], .events = POLLIN },
			{ .fd = s->cc ? s->cc->fd : -1, .events = POLLIN },
		};
		int n = poll(pfd, 3, left);
		char c;

		if (n < 0 && errno != EINTR)
			return serve_fail(s, -errno, "poll: %s", strerror(errno));
		if (n > 0 && pfd[1].revents) {
			if (read(s->stop[0], &c, 1) < 0)
				return -errno;
			return 0;
		}
		if (n > 0 && pfd[2].revents)
			serve_completions(s);
		if (n > 0 && pfd[0].revents)
			serve_cm_event(s);
		if (timeout_ms < 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
	}
}

void pmrdma_server_stop(struct pmrdma_server *s)
{
	char c = 0;

	if (write(s->stop[1], &c, 1) < 0)
		return;
}

static int serve_listen(struct pmrdma_server *s,
			const struct pmrdma_serve_config *cfg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 any = {
		.sin6_family = AF_INET6, .sin6_port = htons(cfg->port),
	};
	int err;

	s->ch = rdma_create_event_channel();
	if (!s->ch)
		return serve_fail(s, -errno, "rdma_create_event_channel: %s",
				  strerror(errno));
	if (rdma_create_id(s->ch, &s->listen, NULL, RDMA_PS_TCP))
		return serve_fail(s, -errno, "rdma_create_id: %s", strerror(errno));
	if (cfg->addr) {
		err = pmrdma_resolve(cfg->addr, cfg->port, &ss);
		if (err)
			return serve_fail(s, err, "%s: no such address", cfg->addr);
	} else {
		memcpy(&ss, &any, sizeof(any));
	}
	if (rdma_bind_addr(s->listen, (struct sockaddr *)&ss) ||
	    rdma_listen(s->listen, 16)) {
		err = -errno;
		return serve_fail(s, err, "listening on port %u: %s", cfg->port,
				  strerror(-err));
	}
	return 0;
}

int pmrdma_server_new(struct pmrdma_server **sp,
		      const struct pmrdma_serve_config *cfg, char *msg,
		      size_t msglen)
{
	struct pmrdma_config *mc = NULL;
	struct pmrdma_server *s;
	int err;

	*sp = NULL;
	pmrdma_crypto_once();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->stop[0] = s->stop[1] = -1;
	if (!cfg->path || !cfg->port || (!cfg->any_peer && !cfg->key) ||
	    (cfg->key && (cfg->key_len < PMEM_RDMA_KEY_MIN ||
			  cfg->key_len > PMEM_RDMA_KEY_MAX))) {
		err = serve_fail(s, -EINVAL,
				 "a server needs a path, a port, and a key of %d to %d bytes or any_peer",
				 PMEM_RDMA_KEY_MIN, PMEM_RDMA_KEY_MAX);
		goto fail;
	}
	if (cfg->length && cfg->length < PMRDMA_SERVE_MIN_LEN) {
		err = serve_fail(s, -EINVAL, "a server serves at least %d bytes",
				 PMRDMA_SERVE_MIN_LEN);
		goto fail;
	}
	if (cfg->data_key && cfg->data_key_len != PMRDMA_DATA_KEY_MIN &&
	    cfg->data_key_len != PMRDMA_DATA_KEY_MAX) {
		err = serve_fail(s, -EINVAL,
				 "a data key has %d or %d bytes (AES-128 or AES-256), not %zu",
				 PMRDMA_DATA_KEY_MIN, PMRDMA_DATA_KEY_MAX,
				 cfg->data_key_len);
		goto fail;
	}
	if (cfg->max_peers > PMEM_RDMA_MAX_PEERS_LIMIT) {
		err = serve_fail(s, -EINVAL, "max_peers is at most %d",
				 PMEM_RDMA_MAX_PEERS_LIMIT);
		goto fail;
	}
	err = serve_path_ok(s, cfg->path);
	if (err)
		goto fail;
	s->port = cfg->port;
	s->any_peer = cfg->any_peer && !cfg->key;
	s->max_peers = cfg->max_peers ?: PMEM_RDMA_MAX_PEERS_DEFAULT;
	if (cfg->key) {
		memcpy(s->key, cfg->key, cfg->key_len);
		s->key_len = cfg->key_len;
	}
	if (cfg->data_key) {
		memcpy(s->data_key, cfg->data_key, cfg->data_key_len);
		s->data_key_len = cfg->data_key_len;
	}
	err = pmrdma_config_new(&mc);
	if (!err)
		err = pmrdma_config_set_path(mc, cfg->path);
	if (!err && (cfg->offset || cfg->length))
		err = pmrdma_config_set_range(mc, cfg->offset, cfg->length);
	if (!err)
		err = pmrdma_map_new(&s->map, mc);
	pmrdma_config_delete(&mc);
	if (err) {
		serve_fail(s, err, "%s", s->map ? pmrdma_errormsg(s->map) :
			   *pmrdma_errormsg(NULL) ? pmrdma_errormsg(NULL) :
			   strerror(-err));
		goto fail;
	}
	s->view = pmrdma_map_get_address(s->map);
	s->size = pmrdma_map_get_size(s->map);
	/* a device smaller than that, served to its end */
	if (s->size < PMRDMA_SERVE_MIN_LEN) {
		err = serve_fail(s, -EINVAL, "a server serves at least %d bytes, %s has %zu",
				 PMRDMA_SERVE_MIN_LEN, cfg->path, s->size);
		goto fail;
	}
	if (pipe(s->stop)) {
		err = serve_fail(s, -errno, "pipe: %s", strerror(errno));
		goto fail;
	}
	err = serve_listen(s, cfg);
	if (err)
		goto fail;
	*sp = s;
	return 0;
fail:
	if (msg && msglen)
		snprintf(msg, msglen, "%s", s->msg);
	pmrdma_server_delete(&s);
	return err;
}

void pmrdma_server_get_stats(const struct pmrdma_server *s,
			     struct pmrdma_server_stats *st)
{
	*st = s->st;
}

void *pmrdma_server_get_address(const struct pmrdma_server *s)
{
	return s->view;
}

const char *pmrdma_server_errormsg(const struct pmrdma_server *s)
{
	return s->msg;
}

void pmrdma_server_delete(struct pmrdma_server **sp)
{
	struct pmrdma_server *s = *sp;

	if (!s)
		return;
	while (s->peers) {
		peer_disconnect(s->peers);
		peer_remove(s, s->peers);
	}
	if (s->listen)
		rdma_destroy_id(s->listen);
	if (s->ch)
		rdma_destroy_event_channel(s->ch);
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->dkey)
		rxe_flush_dv_key_destroy(s->dkey);
	if (s->cc)
		ibv_destroy_comp_channel(s->cc);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	pmrdma_map_delete(&s->map);
	if (s->stop[0] >= 0)
		close(s->stop[0]);
	if (s->stop[1] >= 0)
		close(s->stop[1]);
	explicit_bzero(s->key, sizeof(s->key));
	explicit_bzero(s->data_key, sizeof(s->data_key));
	free(s);
	*sp = NULL;
}
