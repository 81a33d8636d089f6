// SPDX-License-Identifier: GPL-2.0
/*
 * A librdmacm peer of a pmem_rdma export (see peer_helpers.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <linux/pmem_rdma.h>
#include <rdma/rxe_flush.h>

#include "flush_helpers.h"
#include "peer_helpers.h"
#include "verify_helpers.h"

#define PT_CM_TIMEOUT_MS	5000

int pt_peer_device_addr(struct sockaddr_in6 *sin6, uint16_t port)
{
	const char *dev = getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT;
	struct ifaddrs *ifa, *i;
	char path[256], ndev[IF_NAMESIZE];
	int ret = -EADDRNOTAVAIL;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/gid_attrs/ndevs/0",
		 dev, PT_PORT);
	if (pt_read_line(path, ndev, sizeof(ndev)))
		return -ENODEV;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)i->ifa_addr;

		if (!a || a->sin6_family != AF_INET6 ||
		    strcmp(i->ifa_name, ndev) ||
		    !IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr))
			continue;
		*sin6 = *a;
		sin6->sin6_port = htons(port);
		ret = 0;
		break;
	}
	freeifaddrs(ifa);
	return ret;
}

/* the next CM event, which must be want: 0, -ECONNREFUSED or -errno */
static int pt_peer_event(struct pt_peer *p, enum rdma_cm_event_type want,
			 int timeout_ms)
{
	struct pollfd pfd = { .fd = p->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int ret = 0;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (rdma_get_cm_event(p->ch, &ev))
		return -errno;
	if (ev->event == RDMA_CM_EVENT_ESTABLISHED && want == ev->event) {
		const unsigned char *d = ev->param.conn.private_data;
		struct pmem_rdma_region_desc desc;

		if (ev->param.conn.private_data_len < sizeof(desc)) {
			ret = -EPROTO;
		} else {
			memcpy(&desc, d, sizeof(desc));
			p->r.magic = be32toh(desc.magic);
			p->r.abi_version = be16toh(desc.abi_version);
			p->r.flags = be16toh(desc.flags);
			p->r.iova = be64toh(desc.iova);
			p->r.length = be64toh(desc.length);
			p->r.rkey = be32toh(desc.rkey);
			p->r.access = be32toh(desc.access);
			p->r.placement_types = be32toh(desc.placement_types);
			p->r.verify_algs = be32toh(desc.verify_algs);
		}
	} else if (ev->event == RDMA_CM_EVENT_REJECTED) {
		struct pmem_rdma_reject rej;

		p->rejected = 1;
		if (ev->param.conn.private_data_len >= sizeof(rej)) {
			memcpy(&rej, ev->param.conn.private_data, sizeof(rej));
			if (be32toh(rej.magic) == PMEM_RDMA_DESC_MAGIC)
				p->reject_reason = be16toh(rej.reason);
		}
		ret = -ECONNREFUSED;
	} else if (ev->event != want) {
		ret = -EPROTO;
	}
	rdma_ack_cm_event(ev);
	return ret;
}

void pt_auth_make(struct pmem_rdma_auth *au, const void *key, size_t len,
		  uint16_t port, const uint8_t addr[16], uint64_t time,
		  const uint8_t nonce[8])
{
	size_t head = offsetof(struct pmem_rdma_auth, mac);
	unsigned char m[offsetof(struct pmem_rdma_auth, mac) + 2 + 16];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen;
	uint16_t be_port = htobe16(port);

	memset(au, 0, sizeof(*au));
	au->magic = htobe32(PMEM_RDMA_AUTH_MAGIC);
	au->abi_version = htobe16(PMEM_RDMA_ABI_VERSION);
	au->alg = htobe16(PMEM_RDMA_AUTH_HMAC_SHA256_128);
	au->time = htobe64(time);
	memcpy(au->nonce, nonce, sizeof(au->nonce));
	memcpy(m, au, head);
	memcpy(m + head, &be_port, 2);
	memcpy(m + head + 2, addr, 16);
	HMAC(EVP_sha256(), key, len, m, sizeof(m), mac, &maclen);
	memcpy(au->mac, mac, sizeof(au->mac));
}

/* k's proof for the connect from p's address to port */
static int pt_peer_proof(struct pt_peer *p, uint16_t port,
			 struct pt_peer_key *k)
{
	struct sockaddr_in6 *me =
		(struct sockaddr_in6 *)rdma_get_local_addr(p->id);
	uint8_t nonce[8];

	if (k->replay) {
		k->sent = *k->replay;
		return 0;
	}
	if (me->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
		return -EIO;
	pt_auth_make(&k->sent, k->key, k->len, port, me->sin6_addr.s6_addr,
		     k->time ?: (uint64_t)time(NULL), nonce);
	return 0;
}

int pt_peer_connect(struct pt_peer *p, uint16_t port, const char **what)
{
	return pt_peer_connect_key(p, port, NULL, what);
}

int pt_peer_connect_key(struct pt_peer *p, uint16_t port,
			struct pt_peer_key *k, const char **what)
{
	struct ibv_qp_init_attr_ex qa = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 0,
		.cap = {
			.max_send_wr = 64, .max_recv_wr = 1,
			.max_send_sge = 1, .max_recv_sge = 1,
			.max_inline_data = 64,
		},
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = PT_FLUSH_SEND_OPS,
	};
	struct rdma_conn_param cp = {
		.initiator_depth = 4,
		.responder_resources = 0,
		.retry_count = 7,
		.rnr_retry_count = 7,
	};
	struct sockaddr_in6 dst;
	int ret;

	memset(p, 0, sizeof(*p));
	*what = "target address";
	ret = pt_peer_device_addr(&dst, port);
	if (ret)
		return ret;
	*what = "rdma_create_event_channel";
	p->ch = rdma_create_event_channel();
	if (!p->ch)
		return -errno;
	*what = "rdma_create_id";
	if (rdma_create_id(p->ch, &p->id, p, RDMA_PS_TCP))
		return -errno;
	*what = "rdma_resolve_addr";
	if (rdma_resolve_addr(p->id, NULL, (struct sockaddr *)&dst,
			      PT_CM_TIMEOUT_MS))
		return -errno;
	ret = pt_peer_event(p, RDMA_CM_EVENT_ADDR_RESOLVED, PT_CM_TIMEOUT_MS);
	if (ret)
		return ret;
	*what = "rdma_resolve_route";
	if (rdma_resolve_route(p->id, PT_CM_TIMEOUT_MS))
		return -errno;
	ret = pt_peer_event(p, RDMA_CM_EVENT_ROUTE_RESOLVED, PT_CM_TIMEOUT_MS);
	if (ret)
		return ret;

	*what = "ibv_alloc_pd";
	p->pd = ibv_alloc_pd(p->id->verbs);
	if (!p->pd)
		return -errno;
	*what = "ibv_create_cq";
	p->cq = ibv_create_cq(p->id->verbs, 128, NULL, NULL, 0);
	if (!p->cq)
		return -errno;
	*what = "rdma_create_qp_ex";
	qa.pd = p->pd;
	qa.send_cq = p->cq;
	qa.recv_cq = p->cq;
	if (rdma_create_qp_ex(p->id, &qa))
		return -errno;

	*what = "proof of the key";
	if (k) {
		ret = pt_peer_proof(p, port, k);
		if (ret)
			return ret;
		cp.private_data = &k->sent;
		cp.private_data_len = sizeof(k->sent);
	}
	*what = "rdma_connect";
	if (rdma_connect(p->id, &cp))
		return -errno;
	ret = pt_peer_event(p, RDMA_CM_EVENT_ESTABLISHED, PT_CM_TIMEOUT_MS);
	if (ret)
		return ret;

	p->c.ctx = p->id->verbs;
	p->c.pd = p->pd;
	p->c.cq[0] = p->cq;
	p->c.qp[0] = p->id->qp;
	*what = "descriptor";
	return p->r.magic == PMEM_RDMA_DESC_MAGIC ? 0 : -EPROTO;
}

const char *pt_reject_text(int reason)
{
	static const char *const text[PMEM_RDMA_REJECT_BUSY + 1] = {
		[PMEM_RDMA_REJECT_FULL] = "the export has all the peers it takes",
		[PMEM_RDMA_REJECT_DEVICE] = "not the export's RDMA device",
		[PMEM_RDMA_REJECT_SETUP] = "the target could not set the peer up",
		[PMEM_RDMA_REJECT_ADDRESS] = "this address is not allowed",
		[PMEM_RDMA_REJECT_AUTH] = "no proof of the key, or a wrong one",
		[PMEM_RDMA_REJECT_STALE] = "the proof's time is off: check the clocks",
		[PMEM_RDMA_REJECT_REPLAY] = "the proof was used before",
		[PMEM_RDMA_REJECT_BUSY] = "too many connects just now: retry",
	};

	if (reason > 0 && reason <= PMEM_RDMA_REJECT_BUSY && text[reason])
		return text[reason];
	return "no reason given";
}

int pt_peer_wait_disconnect(struct pt_peer *p, int timeout_ms)
{
	return pt_peer_event(p, RDMA_CM_EVENT_DISCONNECTED, timeout_ms);
}

void pt_peer_close(struct pt_peer *p)
{
	if (p->id) {
		if (p->id->qp)
			rdma_disconnect(p->id);
		if (p->id->qp)
			rdma_destroy_qp(p->id);
	}
	if (p->cq)
		ibv_destroy_cq(p->cq);
	if (p->pd)
		ibv_dealloc_pd(p->pd);
	if (p->id)
		rdma_destroy_id(p->id);
	if (p->ch)
		rdma_destroy_event_channel(p->ch);
	memset(p, 0, sizeof(*p));
}

int pt_peer_write(struct pt_peer *p, uint64_t at, void *buf, uint32_t len,
		  uint32_t lkey)
{
	struct ibv_wc wc;
	int ret;

	ret = pt_rdma_sync(&p->c, IBV_WR_RDMA_WRITE, buf, len, lkey,
			   p->r.iova + at, p->r.rkey, &wc);
	return ret ?: (wc.status ? -EIO : 0);
}

int pt_peer_flush(struct pt_peer *p, uint64_t at, uint64_t len, uint8_t type)
{
	struct ibv_wc wc;
	int ret;

	ret = pt_wr_flush(&p->c, p->r.rkey, p->r.iova + at, len, type,
			  IBV_FLUSH_RANGE, &wc);
	return ret ?: (wc.status ? -EIO : 0);
}

int pt_peer_verify(struct pt_peer *p, uint32_t alg, uint32_t flags,
		   uint64_t at, uint64_t len, void *digest, uint32_t lkey)
{
	struct pt_verify v = {
		.rkey = p->r.rkey, .raddr = p->r.iova + at, .len = len,
		.word = RXE_FLUSH_VERIFY_WORD(alg, flags),
		.buf = digest, .lkey = lkey,
		.buflen = pt_digest_len(alg),
	};
	struct ibv_wc wc;
	int ret;

	ret = pt_post_verify(&p->c, &v, &wc);
	return ret ?: (int)wc.status;
}
