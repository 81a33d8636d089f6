/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's connection to an export (of the pmem_rdma target, or of
 * pmrdma_serve()): an RDMA CM connect carrying the proof of the export's
 * key, the region descriptor out of the accept, and an RC QP, extended
 * with the send ops its owner asks for (libpmrdma: WRITE, READ, SEND, and
 * FLUSH and ATOMIC WRITE where the device has them); VERIFY goes through
 * ibv_post_send() on any QP.
 *
 * Not installed: the maps of pmrdma.h sit on it, and so do the selftests'
 * peers, which need the verbs objects themselves.
 */
#ifndef PMRDMA_CONN_H
#define PMRDMA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <endian.h>
#include <infiniband/rxe_flush_dv.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <rdma/rxe_flush.h>
#include <linux/pmem_rdma.h>
#include <linux/pmem_rdma_connect.h>

/* the export's region descriptor, in host byte order */
struct pmrdma_region {
	uint32_t magic;
	uint16_t abi_version, flags;
	uint64_t iova, length;
	uint32_t rkey, access, placement_types, verify_algs;
};

struct pmrdma_conn_params {
	const struct sockaddr *dst;	/* the export: address and port */
	const char *ibdev;		/* the RDMA device to use, or NULL */
	const void *key;		/* the export's key, or NULL */
	size_t key_len;
	uint64_t proof_time;		/* the proof's time; 0: now */
	const struct pmem_rdma_auth *replay;	/* sent as it is, instead */
	size_t replay_len;		/* its first bytes only; 0: all */
	unsigned int timeout_ms;	/* each step; 0: PMRDMA_CONN_TIMEOUT_MS */
	unsigned int send_depth;	/* 0: PMRDMA_CONN_SEND_DEPTH */
	int inline_size;		/* the QP's max_inline_data; 0:
					 * PMRDMA_CONN_INLINE, < 0: none
					 */
	unsigned int recv_depth;	/* 0: one */
	struct ibv_pd *pd;		/* the QP's PD (the caller keeps it),
					 * or NULL: one of the connection's
					 */
	uint64_t send_ops_flags;	/* an extended QP with these
					 * IBV_QP_EX_WITH_*, or 0: a plain one
					 */
	uint64_t send_ops_if_device;	/* and of IBV_QP_EX_WITH_FLUSH and
					 * _ATOMIC_WRITE those that the
					 * device reports it can do
					 */
	bool set_tos;			/* set the connection's ToS: */
	uint8_t tos;			/* rdma_cm's, the IP traffic class */
	uint32_t rate_kbps;		/* the QP's rate limit; 0: none */
	const void *data_key;		/* a keyed connection with this data
					 * key (16 or 32 bytes: AES-128 or
					 * -256-GCM), or NULL
					 */
	size_t data_key_len;
	struct rxe_flush_dv_key *dkey;	/* with pd: pd's key object of
					 * data_key (another connection's)
					 */
};

/*
 * The device capabilities of FLUSH and ATOMIC WRITE in device_cap_flags_ex:
 * the kernel's IB_UVERBS_DEVICE_FLUSH_GLOBAL, _FLUSH_PERSISTENT and
 * _ATOMIC_WRITE (6.2).  The installed verbs.h takes <rdma/ib_user_verbs.h>
 * from Debian 12's linux-libc-dev (6.1), which has none of them.
 */
#define PMRDMA_DEVICE_FLUSH_GLOBAL	(1ULL << 38)
#define PMRDMA_DEVICE_FLUSH_PERSISTENT	(1ULL << 39)
#define PMRDMA_DEVICE_ATOMIC_WRITE	(1ULL << 40)

#define PMRDMA_CONN_SEND_DEPTH	256
#define PMRDMA_CONN_INLINE	64
#define PMRDMA_CONN_TIMEOUT_MS	5000

struct pmrdma_conn {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	bool own_pd;			/* allocated here, freed at close */
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	struct pmrdma_region r;
	struct pmem_rdma_auth sent;	/* the proof sent, if any */
	struct pmem_rdma_accept rep;	/* the accept's private data */
	size_t rep_len;			/* its bytes received (at most rep's) */
	bool rejected;			/* the target said no */
	int reject_reason;		/* and why: PMEM_RDMA_REJECT_*, or 0 */
	bool disconnected;		/* the target went away */
	unsigned int send_depth;
	unsigned int max_inline;	/* the most a request may carry inline:
					 * what was asked, or less where the
					 * device granted less
					 */
	uint64_t device_caps;		/* the device's device_cap_flags_ex */
	struct ibv_packet_pacing_caps pacing;	/* the device's pacing */
	uint64_t send_ops;		/* the QP's IBV_QP_EX_WITH_*; 0: plain */
	struct rxe_flush_dv_key *dkey;	/* a keyed connection's data key */
	bool own_dkey;			/* made here, destroyed at close */
	uint8_t draw[PMEM_RDMA_KEY_DRAW_LEN];	/* its QP's, when keyed */
	char msg[200];			/* what the last failure was */
};

/*
 * Connect: 0, or -errno with c->msg naming the step (and, for
 * -ECONNREFUSED, the target's reason).  c is zeroed first; close it
 * either way.  A keyed connection (data_key) sends nothing inline: only
 * what is read from an MR of its data key crosses sealed.
 */
int pmrdma_conn_open(struct pmrdma_conn *c, const struct pmrdma_conn_params *p);
void pmrdma_conn_close(struct pmrdma_conn *c);

static inline struct ibv_qp *pmrdma_conn_qp(const struct pmrdma_conn *c)
{
	return c->id ? c->id->qp : NULL;
}

/*
 * One completion of the connection's CQ, waiting up to timeout_ms for it
 * (blocking on the completion channel): 1, 0 on timeout, -ECONNRESET when
 * the target disconnected with nothing left to complete, or -errno.
 */
int pmrdma_conn_wait_wc(struct pmrdma_conn *c, struct ibv_wc *wc,
			int timeout_ms);

/*
 * One completion, without waiting: 1, 0 when there is none, -ECONNRESET
 * when the target disconnected with nothing left to complete, or -errno.
 * It takes what the completion and CM channels hold, so that their fds
 * (cc->fd, ch->fd) go quiet until the next event.
 */
int pmrdma_conn_poll_wc(struct pmrdma_conn *c, struct ibv_wc *wc);

/* the target's disconnect, up to timeout_ms: 0 or -ETIMEDOUT */
int pmrdma_conn_wait_disconnect(struct pmrdma_conn *c, int timeout_ms);

/*
 * An address and port as a sockaddr: numeric IPv6 (with %scope), IPv4 or
 * a host name.  0 or -EINVAL / -EHOSTUNREACH.
 */
int pmrdma_resolve(const char *addr, uint16_t port,
		   struct sockaddr_storage *ss);

/*
 * The proof of key (struct pmem_rdma_auth) for a connect request to port
 * from the peer address peer to the target address target
 * (PMEM_RDMA_ADDR_LEN bytes each), at time, with nonce
 * (PMEM_RDMA_AUTH_NONCE_LEN bytes).  0, or -EIO when the MAC cannot be
 * computed.
 */
int pmrdma_auth_make(struct pmem_rdma_auth *au, const void *key, size_t len,
		     uint16_t port, const uint8_t *peer, const uint8_t *target,
		     uint64_t time, const uint8_t *nonce);

/*
 * The PMEM_RDMA_AUTH_MAC_LEN bytes of mac that the proof au needs for key
 * (len bytes), port and the two addresses: what pmrdma_auth_make() puts
 * in, and what the user-space target checks.  0, or -EIO.
 */
int pmrdma_auth_mac(uint8_t *mac, const void *key, size_t len,
		    const struct pmem_rdma_auth *au, uint16_t port,
		    const uint8_t *peer, const uint8_t *target);

/*
 * The target's proof (the mac of struct pmem_rdma_accept) for key (len
 * bytes) in its accept of the proof au, with the descriptor d: what the
 * user-space target sends.  0, or -EIO.
 */
int pmrdma_accept_mac(uint8_t *mac, const void *key, size_t len,
		      const struct pmem_rdma_auth *au,
		      const struct pmem_rdma_region_desc *d);

/*
 * The key check of a keyed accept (PMEM_RDMA_KEY_CHECK_LEN bytes at check)
 * for the data key (len bytes) and the two draws.  0, or -EIO.
 */
int pmrdma_key_check(uint8_t *check, const void *key, size_t len,
		     const uint8_t *peer_draw, const uint8_t *target_draw);

/*
 * An accept's private data (len bytes at data) is the answer of a holder
 * of key (klen bytes) to the proof au: 0, -EACCES when it has no target's
 * proof or a wrong one, or -EIO.
 */
int pmrdma_accept_check(const void *data, size_t len, const void *key,
			size_t klen, const struct pmem_rdma_auth *au);

/*
 * A peer address as the targets see it and proofs bind it: IPv6, IPv4 as
 * ::ffff:a.b.c.d.  0, or -EAFNOSUPPORT (addr then all zero).
 */
int pmrdma_addr16(const struct sockaddr *sa, uint8_t *addr);

/*
 * The work requests of FLUSH and VERIFY in ibv_post_send()'s convention
 * of this project's provider (<rdma/rxe_flush.h>): opcode, remote range,
 * the FETH or VERIFY word and the scatter entry; the caller sets wr_id,
 * send_flags and next.  Upstream has no FLUSH through ibv_post_send():
 * libpmrdma uses ibv_wr_flush(), only the benchmark's raw rows this.
 */
static inline void pmrdma_wr_flush(struct ibv_send_wr *wr, struct ibv_sge *sge,
				   uint32_t rkey, uint64_t raddr,
				   uint32_t len, uint32_t feth)
{
	*sge = (struct ibv_sge){ .length = len };
	wr->opcode = IBV_WR_FLUSH;
	wr->sg_list = sge;
	wr->num_sge = 1;
	wr->imm_data = htobe32(feth);
	wr->wr.rdma.remote_addr = raddr;
	wr->wr.rdma.rkey = rkey;
}

/* the digest lands in, or (RXE_FLUSH_VERIFY_COMPARE) is read from, digest */
static inline void pmrdma_wr_verify(struct ibv_send_wr *wr, struct ibv_sge *sge,
				    uint32_t rkey, uint64_t raddr, uint64_t len,
				    uint32_t word, void *digest, uint32_t dlen,
				    uint32_t lkey)
{
	*sge = (struct ibv_sge){
		.addr = (uintptr_t)digest, .length = dlen, .lkey = lkey,
	};
	wr->opcode = (enum ibv_wr_opcode)RXE_FLUSH_WR_VERIFY;
	wr->sg_list = sge;
	wr->num_sge = 1;
	wr->wr.atomic.remote_addr = raddr;
	wr->wr.atomic.rkey = rkey;
	wr->wr.atomic.compare_add = len;
	wr->wr.atomic.swap = word;
}

/*
 * An MR of c's PD, bound to its data key when the connection is keyed:
 * what every buffer its keyed work reads or lands in needs.  NULL with
 * errno.
 */
struct ibv_mr *pmrdma_conn_reg_mr(struct pmrdma_conn *c, void *addr,
				  size_t len, int access);

/* what a PMEM_RDMA_REJECT_* reason means, for messages */
const char *pmrdma_reject_text(int reason);
/*
 * Limit the connection's QP to kbps on the wire (0: no limit) through the
 * device's pacing: 0, or -EOPNOTSUPP (the device cannot pace RC QPs),
 * -ERANGE (outside its packet_pacing_caps) or -errno, c->msg saying why.
 */
int pmrdma_conn_set_rate(struct pmrdma_conn *c, uint32_t kbps);

#endif /* PMRDMA_CONN_H */
