// SPDX-License-Identifier: GPL-2.0
/*
 * A librdmacm peer of a pmem_rdma export (see peer_helpers.h): libpmrdma's
 * connection, on the rxe device's link-local address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pmem_rdma.h>
#include <rdma/rxe_flush.h>

#include "flush_helpers.h"
#include "peer_helpers.h"
#include "verify_helpers.h"

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

int pt_peer_device_addr_str(char *buf, size_t len)
{
	struct sockaddr_in6 a;
	char host[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];
	int ret = pt_peer_device_addr(&a, 0);

	if (ret)
		return ret;
	if (!inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host)) ||
	    !if_indextoname(a.sin6_scope_id, ifname))
		return -errno;
	snprintf(buf, len, "%s%%%s", host, ifname);
	return 0;
}

int pt_peer_connect(struct pt_peer *p, uint16_t port, const char **what)
{
	return pt_peer_connect_key(p, port, NULL, what);
}

int pt_peer_connect_key(struct pt_peer *p, uint16_t port,
			struct pt_peer_key *k, const char **what)
{
	struct sockaddr_in6 dst;
	struct pmrdma_conn_params cp = {
		.dst = (struct sockaddr *)&dst,
		.send_depth = 64,
		.send_ops_flags = PT_FLUSH_SEND_OPS,
	};
	int ret;

	memset(p, 0, sizeof(*p));
	*what = "target address";
	ret = pt_peer_device_addr(&dst, port);
	if (ret)
		return ret;
	if (k) {
		cp.key = k->key;
		cp.key_len = k->len;
		cp.proof_time = k->time;
		cp.replay = k->replay;
	}
	ret = pmrdma_conn_open(&p->conn, &cp);
	*what = p->conn.msg;
	if (k)
		k->sent = p->conn.sent;
	if (ret)
		return ret;
	p->c.ctx = p->conn.id->verbs;
	p->c.pd = p->conn.pd;
	p->c.cq[0] = p->conn.cq;
	p->c.qp[0] = pmrdma_conn_qp(&p->conn);
	return 0;
}

int pt_peer_wait_disconnect(struct pt_peer *p, int timeout_ms)
{
	return pmrdma_conn_wait_disconnect(&p->conn, timeout_ms);
}

void pt_peer_close(struct pt_peer *p)
{
	pmrdma_conn_close(&p->conn);
	memset(p, 0, sizeof(*p));
}

int pt_peer_write(struct pt_peer *p, uint64_t at, void *buf, uint32_t len,
		  uint32_t lkey)
{
	struct ibv_wc wc;
	int ret;

	ret = pt_rdma_sync(&p->c, IBV_WR_RDMA_WRITE, buf, len, lkey,
			   p->conn.r.iova + at, p->conn.r.rkey, &wc);
	return ret ?: (wc.status ? -EIO : 0);
}

int pt_peer_flush(struct pt_peer *p, uint64_t at, uint64_t len, uint8_t type)
{
	struct ibv_wc wc;
	int ret;

	ret = pt_wr_flush(&p->c, p->conn.r.rkey, p->conn.r.iova + at, len, type,
			  IBV_FLUSH_RANGE, &wc);
	return ret ?: (wc.status ? -EIO : 0);
}

int pt_peer_verify(struct pt_peer *p, uint32_t alg, uint32_t flags,
		   uint64_t at, uint64_t len, void *digest, uint32_t lkey)
{
	struct pt_verify v = {
		.rkey = p->conn.r.rkey, .raddr = p->conn.r.iova + at, .len = len,
		.word = RXE_FLUSH_VERIFY_WORD(alg, flags),
		.buf = digest, .lkey = lkey,
		.buflen = pmrdma_digest_len(alg),
	};
	struct ibv_wc wc;
	int ret;

	ret = pt_post_verify(&p->c, &v, &wc);
	return ret ?: (int)wc.status;
}
