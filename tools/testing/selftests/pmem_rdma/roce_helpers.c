// SPDX-License-Identifier: GPL-2.0
/*
 * RoCEv2 frames on a veth pair: capture, hand-made frames, ICRC
 * (roce_helpers.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roce_helpers.h"

int pt_veth_up(const char *net0, const char *net1, const char *dev0,
	       const char *dev1)
{
	pt_veth_pair_close(NULL, net0, dev0, dev1);
	/* link-local IPv6 only: usable at once, without DAD */
	if (pt_sh("ip link add %s type veth peer name %s", net0, net1) ||
	    pt_sh("sysctl -qw net.ipv6.conf.%s.accept_dad=0", net0) ||
	    pt_sh("sysctl -qw net.ipv6.conf.%s.accept_dad=0", net1) ||
	    pt_sh("ip link set %s up && ip link set %s up", net0, net1) ||
	    pt_sh("rdma link add %s type rxe netdev %s", dev0, net0) ||
	    pt_sh("rdma link add %s type rxe netdev %s", dev1, net1))
		return -EIO;
	return 0;
}

int pt_veth_pair_open(struct pt_ctx *c, const char *net0, const char *net1,
		      const char *dev0, const char *dev1, int access,
		      uint64_t send_ops)
{
	int ret;

	ret = pt_veth_up(net0, net1, dev0, dev1);
	if (ret)
		return ret;
	ret = pt_open_two(c, dev0, dev1);
	if (ret)
		return ret;
	return pt_connect_pair_ex(c, access, send_ops);
}

void pt_veth_pair_close(struct pt_ctx *c, const char *net0, const char *dev0,
			const char *dev1)
{
	if (c)
		pt_close(c);
	pt_sh("rdma link delete %s 2>/dev/null", dev0);
	pt_sh("rdma link delete %s 2>/dev/null", dev1);
	pt_sh("ip link del %s 2>/dev/null", net0);
}

int pt_packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0)
		return -errno;
	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}

uint32_t pt_be32_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

uint64_t pt_be64_at(const unsigned char *p)
{
	return (uint64_t)pt_be32_at(p) << 32 | pt_be32_at(p + 4);
}

void pt_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void pt_put_be64(unsigned char *p, uint64_t v)
{
	pt_put_be32(p, v >> 32);
	pt_put_be32(p + 4, v);
}

/* a RoCEv2 frame over IPv6, as far as the capture goes */
static int pt_is_roce(const unsigned char *b, size_t len)
{
	return len >= PT_ROCE_OFF + PT_BTH_LEN + PT_ICRC_LEN &&
	       b[12] == 0x86 && b[13] == 0xdd &&		/* IPv6 */
	       b[PT_ETH_LEN + 6] == 17 &&			/* UDP */
	       ((b[PT_ETH_LEN + PT_IP6_LEN + 2] << 8) |
		b[PT_ETH_LEN + PT_IP6_LEN + 3]) == PT_ROCE_PORT;
}

int pt_capture(int fd, struct pt_frame *fr, int max, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char b[sizeof(fr->b)];
	int n = 0;
	ssize_t len;

	while (poll(&pfd, 1, timeout_ms) > 0) {
		len = recv(fd, b, sizeof(b), 0);
		if (len < 0)
			return -errno;
		if (!pt_is_roce(b, len) || n == max)
			continue;
		memcpy(fr[n].b, b, len);
		fr[n++].len = len;
	}
	return n;
}

int pt_template_write(struct pt_ctx *c, int cap, void *src, uint32_t lkey,
		      uint64_t raddr, uint32_t rkey, struct pt_frame *tmpl)
{
	struct pt_frame fr[16];
	struct ibv_wc wc;
	int i, n, ret;

	ret = pt_rdma_sync(c, IBV_WR_RDMA_WRITE, src, 4, lkey, raddr, rkey, &wc);
	if (ret)
		return ret;
	if (wc.status != IBV_WC_SUCCESS)
		return -EIO;
	n = pt_capture(cap, fr, 16, 200);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (pt_frame_opcode(&fr[i]) == PT_OP_WRITE_ONLY &&
		    pt_frame_dqpn(&fr[i]) == c->qp[1]->qp_num) {
			*tmpl = fr[i];
			return 0;
		}
	}
	return -ENOENT;
}

int pt_inject(int fd, const struct pt_frame *f)
{
	return send(fd, f->b, f->len, 0) == (ssize_t)f->len ? 0 : -errno;
}

static uint32_t crc32_step(uint32_t crc, const unsigned char *p, size_t n)
{
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

/*
 * CRC-32 over 8 bytes of ones (the masked LRH), the IPv6 header with
 * traffic class, flow label and hop limit set to ones, the UDP header with
 * its checksum set to ones, the BTH with byte 4 set to ones, then
 * everything up to the ICRC.
 */
uint32_t pt_icrc(const struct pt_frame *f, size_t again)
{
	unsigned char m[sizeof(f->b) + 8];
	size_t n = f->len - PT_ETH_LEN - PT_ICRC_LEN;
	uint32_t crc;

	memset(m, 0xff, 8);
	memcpy(m + 8, f->b + PT_ETH_LEN, n);
	m[8] |= 0x0f;				/* traffic class, low half */
	memset(m + 8 + 1, 0xff, 3);		/* traffic class, flow label */
	m[8 + 7] = 0xff;			/* hop limit */
	memset(m + 8 + PT_IP6_LEN + 6, 0xff, 2);	/* UDP checksum */
	m[8 + PT_IP6_LEN + PT_UDP_LEN + 4] = 0xff;	/* BTH resv8a */
	crc = crc32_step(0xffffffffu, m, 8 + n);
	if (again)
		crc = crc32_step(crc, f->b + PT_ROCE_OFF, again);
	return ~crc;
}

uint32_t pt_frame_icrc(const struct pt_frame *f)
{
	const unsigned char *p = f->b + f->len - PT_ICRC_LEN;

	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void pt_bth(unsigned char *bth, int opcode, int pad, uint32_t dqpn,
	    int ackreq, uint32_t psn)
{
	bth[0] = opcode;
	bth[1] = (pad & 3) << 4;		/* SE 0, M 0, TVer 0 */
	bth[2] = 0xff;				/* default P_Key */
	bth[3] = 0xff;
	pt_put_be32(bth + 4, dqpn & 0xffffff);
	pt_put_be32(bth + 8, (ackreq ? 0x80000000u : 0) | (psn & 0xffffff));
}

void pt_reth(unsigned char *reth, uint64_t va, uint32_t rkey, uint32_t len)
{
	pt_put_be64(reth, va);
	pt_put_be32(reth + 8, rkey);
	pt_put_be32(reth + 12, len);
}

/* the UDP checksum over the IPv6 pseudo-header (RFC 8200 8.1) */
static uint16_t pt_udp6_csum(const unsigned char *ip6, const unsigned char *udp,
			     size_t udp_len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 8; i < 40; i += 2)		/* source, destination */
		sum += ip6[i] << 8 | ip6[i + 1];
	sum += udp_len >> 16;
	sum += udp_len & 0xffff;
	sum += 17;
	for (i = 0; i + 1 < udp_len; i += 2)
		sum += udp[i] << 8 | udp[i + 1];
	if (udp_len & 1)
		sum += udp[udp_len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum ? sum : 0xffff;
}

int pt_frame_build(struct pt_frame *f, const struct pt_frame *tmpl,
		   const void *roce, size_t roce_len)
{
	unsigned char *ip6 = f->b + PT_ETH_LEN;
	unsigned char *udp = ip6 + PT_IP6_LEN;
	size_t udp_len = PT_UDP_LEN + roce_len + PT_ICRC_LEN;
	uint32_t icrc;

	if (PT_ROCE_OFF + roce_len + PT_ICRC_LEN > sizeof(f->b))
		return -EMSGSIZE;
	memcpy(f->b, tmpl->b, PT_ROCE_OFF);
	memcpy(f->b + PT_ROCE_OFF, roce, roce_len);
	f->len = PT_ROCE_OFF + roce_len + PT_ICRC_LEN;
	ip6[4] = udp_len >> 8;			/* IPv6 payload length */
	ip6[5] = udp_len;
	udp[4] = udp_len >> 8;
	udp[5] = udp_len;

	icrc = pt_icrc(f, 0);
	f->b[f->len - 4] = icrc;
	f->b[f->len - 3] = icrc >> 8;
	f->b[f->len - 2] = icrc >> 16;
	f->b[f->len - 1] = icrc >> 24;
	pt_frame_udp_csum(f);
	return 0;
}

void pt_frame_udp_csum(struct pt_frame *f)
{
	unsigned char *ip6 = f->b + PT_ETH_LEN;
	unsigned char *udp = ip6 + PT_IP6_LEN;
	uint16_t csum;

	udp[6] = 0;
	udp[7] = 0;
	csum = pt_udp6_csum(ip6, udp, f->len - PT_ETH_LEN - PT_IP6_LEN);
	udp[6] = csum >> 8;
	udp[7] = csum;
}
