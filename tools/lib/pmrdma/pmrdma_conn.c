// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the connection to an export (pmrdma_conn.h).  Every step of
 * the connect waits for its CM event with a timeout, so that a target that
 * does not answer costs its timeout (PMRDMA_CONN_TIMEOUT_MS by default) per
 * step, never a hang.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pmrdma_conn.h"

static int conn_fail(struct pmrdma_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int conn_fail(struct pmrdma_conn *c, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(c->msg))
		snprintf(c->msg + n, sizeof(c->msg) - n, ": %s", strerror(-err));
	return err;
}

int pmrdma_resolve(const char *addr, uint16_t port,
		   struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char serv[8];

	if (!addr || !port)
		return -EINVAL;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(addr, serv, &hints, &ai))
		return -EHOSTUNREACH;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

static void desc_decode(struct pmrdma_region *r, const void *data)
{
	struct pmem_rdma_region_desc d;

	memcpy(&d, data, sizeof(d));
	r->magic = be32toh(d.magic);
	r->abi_version = be16toh(d.abi_version);
	r->flags = be16toh(d.flags);
	r->iova = be64toh(d.iova);
	r->length = be64toh(d.length);
	r->rkey = be32toh(d.rkey);
	r->access = be32toh(d.access);
	r->placement_types = be32toh(d.placement_types);
	r->verify_algs = be32toh(d.verify_algs);
}

static void reject_decode(struct pmrdma_conn *c, const struct rdma_cm_event *ev)
{
	c->rejected = true;
	c->reject_reason = pmem_rdma_reject_reason(ev->param.conn.private_data,
						   ev->param.conn.private_data_len);
}

/* the next CM event, which must be want: 0, -ECONNREFUSED or -errno */
static int conn_event(struct pmrdma_conn *c, enum rdma_cm_event_type want,
		      int timeout_ms)
{
	struct pollfd pfd = { .fd = c->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int ret = 0;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (rdma_get_cm_event(c->ch, &ev))
		return -errno;
	if (ev->event == RDMA_CM_EVENT_REJECTED) {
		reject_decode(c, ev);
		ret = -ECONNREFUSED;
	} else if (ev->event == RDMA_CM_EVENT_DISCONNECTED) {
		c->disconnected = true;
		ret = want == ev->event ? 0 : -ECONNRESET;
	} else if (ev->event != want) {
		ret = ev->event == RDMA_CM_EVENT_UNREACHABLE ||
		      ev->event == RDMA_CM_EVENT_ADDR_ERROR ||
		      ev->event == RDMA_CM_EVENT_ROUTE_ERROR ?
		      -EHOSTUNREACH : -EPROTO;
	} else if (want == RDMA_CM_EVENT_ESTABLISHED) {
		c->rep_len = ev->param.conn.private_data_len;
		if (c->rep_len > sizeof(c->rep))
			c->rep_len = sizeof(c->rep);
		if (c->rep_len < sizeof(struct pmem_rdma_region_desc)) {
			ret = -EPROTO;
		} else {
			memcpy(&c->rep, ev->param.conn.private_data, c->rep_len);
			desc_decode(&c->r, &c->rep.desc);
		}
	}
	rdma_ack_cm_event(ev);
	return ret;
}

/*
 * mac: the first PMEM_RDMA_AUTH_MAC_LEN bytes of HMAC-SHA256(key, m),
 * which is also PMEM_RDMA_KEY_CHECK_LEN
 */
static int conn_hmac(uint8_t *mac, const void *key, size_t len,
		     const unsigned char *m, size_t mlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int err = 0;

	if (!HMAC(EVP_sha256(), key, len, m, mlen, md, &mdlen) ||
	    mdlen < PMEM_RDMA_AUTH_MAC_LEN)
		err = -EIO;
	else
		memcpy(mac, md, PMEM_RDMA_AUTH_MAC_LEN);
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}

int pmrdma_auth_mac(uint8_t *mac, const void *key, size_t len,
		    const struct pmem_rdma_auth *au, uint16_t port,
		    const uint8_t *peer, const uint8_t *target)
{
	unsigned char m[PMEM_RDMA_AUTH_MAC_INPUT_LEN];

	pmem_rdma_auth_mac_input(m, au, port, peer, target);
	return conn_hmac(mac, key, len, m, sizeof(m));
}

int pmrdma_auth_make(struct pmem_rdma_auth *au, const void *key, size_t len,
		     uint16_t port, const uint8_t *peer, const uint8_t *target,
		     uint64_t time, const uint8_t *nonce)
{
	pmem_rdma_auth_init(au, time, nonce);
	return pmrdma_auth_mac(au->mac, key, len, au, port, peer, target);
}

int pmrdma_accept_mac(uint8_t *mac, const void *key, size_t len,
		      const struct pmem_rdma_auth *au,
		      const struct pmem_rdma_region_desc *d)
{
	unsigned char a[PMEM_RDMA_ACCEPT_MAC_INPUT_LEN];

	pmem_rdma_accept_mac_input(a, au, d);
	return conn_hmac(mac, key, len, a, sizeof(a));
}

int pmrdma_key_check(uint8_t *check, const void *key, size_t len,
		     const uint8_t *peer_draw, const uint8_t *target_draw)
{
	unsigned char k[PMEM_RDMA_KEY_CHECK_INPUT_LEN];

	_Static_assert(PMEM_RDMA_KEY_CHECK_LEN == PMEM_RDMA_AUTH_MAC_LEN,
		       "the key check is as long as a proof's MAC");
	pmem_rdma_key_check_input(k, peer_draw, target_draw);
	return conn_hmac(check, key, len, k, sizeof(k));
}

int pmrdma_accept_check(const void *data, size_t len, const void *key,
			size_t klen, const struct pmem_rdma_auth *au)
{
	uint8_t want[PMEM_RDMA_AUTH_MAC_LEN];
	struct pmem_rdma_accept acc;
	int err;

	/* what follows the mac is not the proof's: a keyless accept ends there */
	if (!data || len < offsetof(struct pmem_rdma_accept, key_draw))
		return -EACCES;
	memset(&acc, 0, sizeof(acc));
	memcpy(&acc, data, offsetof(struct pmem_rdma_accept, key_draw));
	err = pmrdma_accept_mac(want, key, klen, au, &acc.desc);
	if (!err && CRYPTO_memcmp(want, acc.mac, sizeof(want)))
		err = -EACCES;
	OPENSSL_cleanse(want, sizeof(want));
	return err;
}

int pmrdma_addr16(const struct sockaddr *sa, uint8_t *addr)
{
	memset(addr, 0, PMEM_RDMA_ADDR_LEN);
	if (sa->sa_family == AF_INET6) {
		memcpy(addr, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr,
		       PMEM_RDMA_ADDR_LEN);
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		/* ::ffff:a.b.c.d */
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static uint16_t sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static int conn_proof(struct pmrdma_conn *c, const struct pmrdma_conn_params *p)
{
	uint8_t me[PMEM_RDMA_ADDR_LEN], target[PMEM_RDMA_ADDR_LEN];
	uint8_t nonce[PMEM_RDMA_AUTH_NONCE_LEN];
	int err;

	if (p->replay) {
		c->sent = *p->replay;
		return 0;
	}
	/* the peer's own address as the target sees it, and the target's */
	err = pmrdma_addr16(rdma_get_local_addr(c->id), me);
	if (!err)
		err = pmrdma_addr16(rdma_get_peer_addr(c->id), target);
	if (err)
		return err;
	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
		return -EIO;
	return pmrdma_auth_make(&c->sent, p->key, p->key_len,
				sockaddr_port(p->dst), me, target,
				p->proof_time ?: (uint64_t)time(NULL), nonce);
}

/*
 * Of the send ops FLUSH and ATOMIC WRITE in want, those the device of the
 * route reports in a (a provider refuses a QP with an op it cannot do).
 */
static uint64_t conn_device_ops(struct pmrdma_conn *c,
				const struct ibv_device_attr_ex *a,
				uint64_t want)
{
	uint64_t ops = 0;

	c->device_caps = a->device_cap_flags_ex;
	if (c->device_caps & (PMRDMA_DEVICE_FLUSH_GLOBAL |
			      PMRDMA_DEVICE_FLUSH_PERSISTENT))
		ops |= IBV_QP_EX_WITH_FLUSH;
	if (c->device_caps & PMRDMA_DEVICE_ATOMIC_WRITE)
		ops |= IBV_QP_EX_WITH_ATOMIC_WRITE;
	return ops & want;
}

/*
 * The send queue and its cqe completions fit what the device makes (a
 * limit of 0: the device did not say), so that a depth it cannot give is
 * refused with its reason rather than as a failed verb.
 */
static int conn_depth_fits(struct pmrdma_conn *c, const char *dev,
			   const struct ibv_device_attr *a, unsigned int cqe)
{
	if (a->max_qp_wr > 0 && c->send_depth > (unsigned int)a->max_qp_wr)
		return conn_fail(c, -EINVAL,
				 "a send queue of %u requests: %s has at most %d",
				 c->send_depth, dev, a->max_qp_wr);
	if (a->max_cqe > 0 && cqe > (unsigned int)a->max_cqe)
		return conn_fail(c, -EINVAL,
				 "a send queue of %u requests needs %u completions: %s has room for %d",
				 c->send_depth, cqe, dev, a->max_cqe);
	return 0;
}

/*
 * The data key of a keyed connection on its PD: the one given with a
 * shared PD, or one made here from the key's bytes.
 */
static int conn_data_key(struct pmrdma_conn *c,
			 const struct pmrdma_conn_params *p, const char *dev)
{
	struct rxe_flush_dv_key_init_attr ka = {
		.pd = c->pd, .key = p->data_key, .key_len = p->data_key_len,
		.alg = p->data_key_len == 32 ? RXE_FLUSH_KEY_AES_256_GCM :
					       RXE_FLUSH_KEY_AES_128_GCM,
	};

	if (p->data_key_len != 16 && p->data_key_len != 32)
		return conn_fail(c, -EINVAL,
				 "a data key has 16 or 32 bytes (AES-128 or -256), not %zu",
				 p->data_key_len);
	if (p->pd) {
		if (!p->dkey)
			return conn_fail(c, -EINVAL,
					 "a keyed connection on a shared PD needs its key object");
		c->dkey = p->dkey;
		return 0;
	}
	c->dkey = rxe_flush_dv_key_create(c->id->verbs, &ka);
	if (!c->dkey && errno == EOPNOTSUPP)
		return conn_fail(c, -EOPNOTSUPP,
				 "%s has no keyed MRs (rdma_rxe_flush 0.6.0 or later has)",
				 dev);
	if (!c->dkey)
		return conn_fail(c, -errno, "making the data key on %s", dev);
	c->own_dkey = true;
	return 0;
}

/* route, then the verbs objects on the device the route took */
static int conn_resources(struct pmrdma_conn *c,
			  const struct pmrdma_conn_params *p)
{
	/* inline data has no MR, so no data key: a keyed link sends none */
	unsigned int asked = p->inline_size < 0 || p->data_key ? 0 :
			     p->inline_size ?: PMRDMA_CONN_INLINE;
	/* room for each send request's completion and each receive's */
	unsigned int cqe = 2 * c->send_depth + 2;
	struct ibv_qp_init_attr_ex qa = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = c->send_depth,
			.max_recv_wr = p->recv_depth ?: 1,
			.max_send_sge = 1, .max_recv_sge = 1,
			.max_inline_data = asked,
		},
	};
	struct ibv_device_attr_ex a = { .comp_mask = 0 };
	const char *dev;
	int err;

	dev = ibv_get_device_name(c->id->verbs->device);
	if (p->ibdev && strcmp(p->ibdev, dev))
		return conn_fail(c, -ENODEV, "the route to the export takes %s, not %s",
				 dev, p->ibdev);
	if (ibv_query_device_ex(c->id->verbs, NULL, &a))
		memset(&a, 0, sizeof(a));
	c->pacing = a.packet_pacing_caps;
	err = conn_depth_fits(c, dev, &a.orig_attr, cqe);
	if (err)
		return err;
	if (p->pd) {
		/* another connection's, on the same device: rdma_cm opens each once */
		if (p->pd->context != c->id->verbs)
			return conn_fail(c, -ENODEV,
					 "the route takes %s, not the shared PD's device", dev);
		c->pd = p->pd;
	} else {
		c->pd = ibv_alloc_pd(c->id->verbs);
		if (!c->pd)
			return conn_fail(c, -errno, "ibv_alloc_pd on %s", dev);
		c->own_pd = true;
	}
	if (p->data_key) {
		err = conn_data_key(c, p, dev);
		if (err)
			return err;
	}
	c->cc = ibv_create_comp_channel(c->id->verbs);
	if (!c->cc)
		return conn_fail(c, -errno, "ibv_create_comp_channel");
	c->cq = ibv_create_cq(c->id->verbs, cqe, c, c->cc, 0);
	if (!c->cq)
		return conn_fail(c, -errno, "ibv_create_cq of %u entries", cqe);
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.pd = c->pd;
	qa.comp_mask = IBV_QP_INIT_ATTR_PD;
	c->send_ops = p->send_ops_flags |
		      conn_device_ops(c, &a, p->send_ops_if_device);
	if (c->send_ops) {
		qa.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		qa.send_ops_flags = c->send_ops;
	}
	if (rdma_create_qp_ex(c->id, &qa))
		return conn_fail(c, -errno,
				 "%s makes no QP of %u send requests and %u bytes inline",
				 dev, c->send_depth, asked);
	/* the device may grant more inline room than asked, or less */
	c->max_inline = qa.cap.max_inline_data < asked ?
			qa.cap.max_inline_data : asked;
	/* a keyed QP's draw goes to the target in the connect request */
	err = c->dkey ? rxe_flush_dv_qp_key_draw(c->id->qp, c->draw) : 0;
	if (err)
		return conn_fail(c, -err, "drawing the keyed QP's bytes");
	return 0;
}

/*
 * An accept fits the connect: keyed, with the target's draw and the key
 * check of the same data key, when this end brought one, and not keyed
 * otherwise (a target that knows no keyed exports ignores the draw).
 * Then the QP is bound to the data key and the target's draw, before any
 * request.
 */
static int conn_bind(struct pmrdma_conn *c, const void *data_key,
		     size_t data_key_len)
{
	static const uint8_t zero[PMEM_RDMA_KEY_DRAW_LEN];
	uint8_t check[PMEM_RDMA_KEY_CHECK_LEN];
	bool keyed = c->r.flags & PMEM_RDMA_DESC_KEYED;
	int err;

	if (!c->dkey && keyed)
		return conn_fail(c, -ECONNREFUSED,
				 "the target accepted a peer without a data key into a keyed export");
	if (!c->dkey)
		return 0;
	if (!keyed)
		return conn_fail(c, -ECONNREFUSED,
				 "the target ignored the data key: its export has none");
	if (c->rep_len < sizeof(c->rep) ||
	    !memcmp(c->rep.key_draw, zero, sizeof(zero)))
		return conn_fail(c, -EPROTO, "the keyed export's accept has no draw");
	err = pmrdma_key_check(check, data_key, data_key_len, c->draw,
			       c->rep.key_draw);
	if (!err && CRYPTO_memcmp(check, c->rep.key_check, sizeof(check)))
		err = -EKEYREJECTED;
	OPENSSL_cleanse(check, sizeof(check));
	if (err)
		return conn_fail(c, err, err == -EKEYREJECTED ?
				 "the export is keyed with another data key" :
				 "checking the export's data key");
	err = rxe_flush_dv_qp_key_bind(c->id->qp, c->dkey, c->rep.key_draw);
	if (err)
		return conn_fail(c, -err, "binding the QP to the data key");
	return 0;
}

struct ibv_mr *pmrdma_conn_reg_mr(struct pmrdma_conn *c, void *addr,
				  size_t len, int access)
{
	if (c->dkey)
		return rxe_flush_dv_reg_keyed_mr(c->pd, addr, len, access,
						 c->dkey);
	return ibv_reg_mr(c->pd, addr, len, access);
}

/* an accept without the target's proof: the CM pads what is missing with zeros */
static bool conn_rep_unproved(const struct pmrdma_conn *c)
{
	static const uint8_t zero[PMEM_RDMA_AUTH_MAC_LEN];

	return c->rep_len < offsetof(struct pmem_rdma_accept, key_draw) ||
	       !memcmp(c->rep.mac, zero, sizeof(zero));
}

/*
 * The CM ends an address or route resolution of ms with an event of its
 * own, and its last try at ms may succeed: a neighbour that answered
 * before the CM queued its request wakes it only then.  Wait a little
 * past it, so that its verdict is heard rather than a timeout of ours.
 */
#define CONN_GRACE_MS	1000

static int conn_graced(int ms)
{
	return ms > INT_MAX - CONN_GRACE_MS ? INT_MAX : ms + CONN_GRACE_MS;
}

int pmrdma_conn_open(struct pmrdma_conn *c, const struct pmrdma_conn_params *p)
{
	struct rdma_conn_param cp = {
		.initiator_depth = 16,
		.responder_resources = 0,
		.retry_count = 7,
		.rnr_retry_count = 7,
	};
	int ms = p->timeout_ms ?: PMRDMA_CONN_TIMEOUT_MS;
	struct pmem_rdma_connect_req req = { 0 };
	int err;

	memset(c, 0, sizeof(*c));
	c->send_depth = p->send_depth ?: PMRDMA_CONN_SEND_DEPTH;
	c->ch = rdma_create_event_channel();
	if (!c->ch)
		return conn_fail(c, -errno, "rdma_create_event_channel");
	if (rdma_create_id(c->ch, &c->id, c, RDMA_PS_TCP))
		return conn_fail(c, -errno, "rdma_create_id");
	/* before the route is resolved, which takes it */
	if (p->set_tos &&
	    rdma_set_option(c->id, RDMA_OPTION_ID, RDMA_OPTION_ID_TOS,
			    (void *)&p->tos, sizeof(p->tos)))
		return conn_fail(c, -errno, "rdma_set_option(TOS %u)", p->tos);
	if (rdma_resolve_addr(c->id, NULL, (struct sockaddr *)p->dst,
			      ms))
		return conn_fail(c, -errno, "rdma_resolve_addr");
	err = conn_event(c, RDMA_CM_EVENT_ADDR_RESOLVED, conn_graced(ms));
	if (err)
		return conn_fail(c, err, "resolving the export's address");
	if (rdma_resolve_route(c->id, ms))
		return conn_fail(c, -errno, "rdma_resolve_route");
	err = conn_event(c, RDMA_CM_EVENT_ROUTE_RESOLVED, conn_graced(ms));
	if (err)
		return conn_fail(c, err, "resolving the route to the export");
	err = conn_resources(c, p);
	if (err)
		return err;
	if (p->key || p->replay) {
		err = conn_proof(c, p);
		if (err)
			return conn_fail(c, err, "making the proof of the key");
		req.auth = c->sent;
		cp.private_data = &req;
		cp.private_data_len = sizeof(c->sent);
		if (p->replay_len && p->replay_len < sizeof(c->sent))
			cp.private_data_len = p->replay_len;
	}
	if (c->dkey) {
		memcpy(req.key_draw, c->draw, sizeof(req.key_draw));
		cp.private_data = &req;
		cp.private_data_len = sizeof(req);
	}
	if (rdma_connect(c->id, &cp))
		return conn_fail(c, -errno, "rdma_connect");
	err = conn_event(c, RDMA_CM_EVENT_ESTABLISHED, ms);
	if (err == -ECONNREFUSED)
		return conn_fail(c, err, "the target refused the connection (%s)",
				 pmrdma_reject_text(c->reject_reason));
	if (err)
		return conn_fail(c, err, "connecting to the export");
	if (c->r.magic != PMEM_RDMA_DESC_MAGIC)
		return conn_fail(c, -EPROTO, "the accept carries no export descriptor");
	if (c->r.abi_version != PMEM_RDMA_ABI_VERSION)
		return conn_fail(c, -EPROTO, "the export speaks ABI %u, this library %u",
				 c->r.abi_version, PMEM_RDMA_ABI_VERSION);
	/* with the key: nothing of the accept is used before the target proves it */
	if (p->key) {
		err = pmrdma_accept_check(&c->rep, c->rep_len, p->key,
					  p->key_len, &c->sent);
		if (err == -EACCES)
			return conn_fail(c, err, conn_rep_unproved(c) ?
					 "the target's accept has no proof of the key" :
					 "the target's proof of the key is wrong");
		if (err)
			return conn_fail(c, err, "checking the target's proof of the key");
	}
	err = conn_bind(c, p->data_key, p->data_key_len);
	if (err)
		return err;
	if (p->rate_kbps) {
		err = pmrdma_conn_set_rate(c, p->rate_kbps);
		if (err)
			return err;
	}
	if (ibv_req_notify_cq(c->cq, 0))
		return conn_fail(c, -errno, "ibv_req_notify_cq");
	return 0;
}

int pmrdma_conn_set_rate(struct pmrdma_conn *c, uint32_t kbps)
{
	struct ibv_qp_rate_limit_attr a = { .rate_limit = kbps };
	const char *dev = ibv_get_device_name(c->id->verbs->device);

	if (kbps && !(c->pacing.supported_qpts & (1U << IBV_QPT_RC)))
		return conn_fail(c, -EOPNOTSUPP,
				 "%s cannot pace an RC QP: no rate limit of %u kbit/s",
				 dev, kbps);
	if (kbps && (kbps < c->pacing.qp_rate_limit_min ||
		     kbps > c->pacing.qp_rate_limit_max))
		return conn_fail(c, -ERANGE,
				 "%s paces an RC QP at %u..%u kbit/s, not %u",
				 dev, c->pacing.qp_rate_limit_min,
				 c->pacing.qp_rate_limit_max, kbps);
	if (ibv_modify_qp_rate_limit(c->id->qp, &a))
		return conn_fail(c, -errno, "ibv_modify_qp_rate_limit(%u kbit/s)",
				 kbps);
	return 0;
}

const char *pmrdma_reject_text(int reason)
{
	static const char *const text[PMEM_RDMA_REJECT_UNKEYED + 1] = {
		[PMEM_RDMA_REJECT_FULL] = "the export has all the peers it takes",
		[PMEM_RDMA_REJECT_DEVICE] = "not the export's RDMA device",
		[PMEM_RDMA_REJECT_SETUP] = "the target could not set the peer up",
		[PMEM_RDMA_REJECT_ADDRESS] = "this address is not allowed",
		[PMEM_RDMA_REJECT_AUTH] = "no proof of the key, or a wrong one",
		[PMEM_RDMA_REJECT_STALE] = "the proof's time is off: check the clocks",
		[PMEM_RDMA_REJECT_REPLAY] = "the proof was used before",
		[PMEM_RDMA_REJECT_BUSY] = "too many connects just now: retry",
		[PMEM_RDMA_REJECT_KEYED] = "the export is keyed: connect with its data key",
		[PMEM_RDMA_REJECT_UNKEYED] = "the export has no data key: connect without one",
	};

	if (reason > 0 && reason <= PMEM_RDMA_REJECT_UNKEYED && text[reason])
		return text[reason];
	return "no reason given";
}

/* take what the CM channel holds without waiting: a disconnect is kept */
static void conn_cm_events(struct pmrdma_conn *c)
{
	struct pollfd pfd = { .fd = c->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	while (poll(&pfd, 1, 0) == 1 && !rdma_get_cm_event(c->ch, &ev)) {
		if (ev->event == RDMA_CM_EVENT_DISCONNECTED)
			c->disconnected = true;
		rdma_ack_cm_event(ev);
	}
}

/* how long a wait polls before it blocks on the completion channel */
#define CONN_SPIN_NS	50000

int pmrdma_conn_wait_wc(struct pmrdma_conn *c, struct ibv_wc *wc,
			int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = c->cc->fd, .events = POLLIN },
		{ .fd = c->ch->fd, .events = POLLIN },
	};
	struct timespec t0, t;
	struct ibv_cq *cq;
	void *ctx;
	int n;

	/* spin a little first: blocking costs more than a short round trip */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n = ibv_poll_cq(c->cq, 1, wc);
		if (n)
			return n < 0 ? -EIO : 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
		 CONN_SPIN_NS);
	for (;;) {
		n = ibv_poll_cq(c->cq, 1, wc);
		if (n)
			return n < 0 ? -EIO : 1;
		if (c->disconnected)
			return -ECONNRESET;
		n = poll(pfd, 2, timeout_ms);
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		if (pfd[1].revents)
			conn_cm_events(c);
		if (pfd[0].revents) {
			if (ibv_get_cq_event(c->cc, &cq, &ctx))
				return -errno;
			ibv_ack_cq_events(cq, 1);
			if (ibv_req_notify_cq(c->cq, 0))
				return -errno;
		}
	}
}

int pmrdma_conn_poll_wc(struct pmrdma_conn *c, struct ibv_wc *wc)
{
	struct pollfd pfd = { .fd = c->cc->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *ctx;
	int n;

	/*
	 * Take the channel's event and re-arm before polling, so that its fd
	 * goes quiet and a completion after the poll raises a new event.
	 */
	if (poll(&pfd, 1, 0) == 1) {
		if (ibv_get_cq_event(c->cc, &cq, &ctx))
			return -errno;
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(c->cq, 0))
			return -errno;
	}
	conn_cm_events(c);
	n = ibv_poll_cq(c->cq, 1, wc);
	if (n)
		return n < 0 ? -EIO : 1;
	return c->disconnected ? -ECONNRESET : 0;
}

int pmrdma_conn_wait_disconnect(struct pmrdma_conn *c, int timeout_ms)
{
	if (c->disconnected)
		return 0;
	return conn_event(c, RDMA_CM_EVENT_DISCONNECTED, timeout_ms);
}

void pmrdma_conn_close(struct pmrdma_conn *c)
{
	if (c->id && c->id->qp) {
		if (!c->disconnected)
			rdma_disconnect(c->id);
		rdma_destroy_qp(c->id);
	}
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	/* after the QP, which holds it, and the caller's MRs of it */
	if (c->dkey && c->own_dkey)
		rxe_flush_dv_key_destroy(c->dkey);
	if (c->pd && c->own_pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->ch)
		rdma_destroy_event_channel(c->ch);
	OPENSSL_cleanse(&c->sent, sizeof(c->sent));
	OPENSSL_cleanse(&c->rep, sizeof(c->rep));
	c->ch = NULL;
	c->id = NULL;
	c->pd = NULL;
	c->own_pd = false;
	c->dkey = NULL;
	c->own_dkey = false;
	c->cc = NULL;
	c->cq = NULL;
}
