/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * pmem_rdma: the connect protocol of an export, written once for both
 * targets - the kernel's (pmem_rdma.ko) and libpmrdma's user-space one
 * (pmrdma_serve()) - and for the peers that make proofs: the bytes the
 * proof's MAC covers, the proof's header, its time window, the replay
 * memory, the region descriptor and the REJECT.  <linux/pmem_rdma.h> has
 * their layouts and every number.
 *
 * Static inline and pure, so that the kernel and user space build the
 * same code: no clock, no MAC, no lock, no call into libc or the kernel,
 * and C89 (byte order by hand).  The caller brings the time, the
 * HMAC-SHA256 of its crypto library with its constant-time compare, and
 * the lock of its replay memory.
 *
 * After its own checks (the RDMA device, the allow-list), a target judges
 * the connect request of a peer to an export with a key in this order,
 * and refuses it with the first reason:
 *   1. pmem_rdma_auth_parse(): a whole proof whose magic, abi_version and
 *      alg this ABI speaks, else PMEM_RDMA_REJECT_AUTH;
 *   2. its mac, against the MAC of pmem_rdma_auth_mac_input() for the
 *      export's port, the peer address and the target's own address (the
 *      request's destination), else PMEM_RDMA_REJECT_AUTH;
 *   3. pmem_rdma_auth_take(): the window (PMEM_RDMA_REJECT_STALE), then
 *      the replay memory (PMEM_RDMA_REJECT_REPLAY, PMEM_RDMA_REJECT_BUSY);
 *   4. pmem_rdma_connect_draw(): a draw for a keyed export, none for
 *      another (PMEM_RDMA_REJECT_KEYED, PMEM_RDMA_REJECT_UNKEYED);
 * and only then counts it against max_peers (PMEM_RDMA_REJECT_FULL).
 * An export without a key judges the draw (4) right after its own checks.
 * It accepts with struct pmem_rdma_accept: the descriptor and its own
 * proof, the MAC of pmem_rdma_accept_mac_input(), which the peer checks
 * before it uses the descriptor.
 */
#ifndef _UAPI_LINUX_PMEM_RDMA_CONNECT_H
#define _UAPI_LINUX_PMEM_RDMA_CONNECT_H

#include <linux/types.h>
#include <linux/pmem_rdma.h>

/* the bytes of the proof its MAC covers: everything before mac, its end */
#define PMEM_RDMA_AUTH_SIGNED_LEN \
	(sizeof(struct pmem_rdma_auth) - PMEM_RDMA_AUTH_MAC_LEN)
/*
 * the MAC's input: those, the export's port (big-endian), the peer
 * address, the target's address
 */
#define PMEM_RDMA_AUTH_MAC_INPUT_LEN \
	(PMEM_RDMA_AUTH_SIGNED_LEN + sizeof(__be16) + 2 * PMEM_RDMA_ADDR_LEN)
/* the target's MAC's input: its magic, the peer's proof, the descriptor */
#define PMEM_RDMA_ACCEPT_MAC_INPUT_LEN \
	(sizeof(__be32) + sizeof(struct pmem_rdma_auth) + \
	 sizeof(struct pmem_rdma_region_desc))

/* byte by byte: private data need not be aligned, and no memcpy() here */
static __inline__ void pmem_rdma_bytes_copy(void *dst, const void *src,
					    unsigned int len)
{
	const __u8 *s = (const __u8 *)src;
	__u8 *d = (__u8 *)dst;

	while (len--)
		*d++ = *s++;
}

/* big-endian fields of n bytes, by hand: no byte-order header needed */
static __inline__ void pmem_rdma_put_be(void *field, __u64 v, unsigned int n)
{
	__u8 *b = (__u8 *)field;

	while (n--) {
		b[n] = (__u8)v;
		v >>= 8;
	}
}

static __inline__ __u64 pmem_rdma_get_be(const void *field, unsigned int n)
{
	const __u8 *b = (const __u8 *)field;
	__u64 v = 0;

	while (n--)
		v = v << 8 | *b++;
	return v;
}

#define PMEM_RDMA_PUT(field, v)	pmem_rdma_put_be(&(field), v, sizeof(field))
#define PMEM_RDMA_GET(field)	pmem_rdma_get_be(&(field), sizeof(field))

static __inline__ int pmem_rdma_bytes_equal(const __u8 *a, const __u8 *b,
					    unsigned int len)
{
	while (len--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

/* A peer's proof before its MAC: header, time and nonce; mac zero. */
static __inline__ void pmem_rdma_auth_init(struct pmem_rdma_auth *au,
					   __u64 time, const __u8 *nonce)
{
	unsigned int i;

	PMEM_RDMA_PUT(au->magic, PMEM_RDMA_AUTH_MAGIC);
	PMEM_RDMA_PUT(au->abi_version, PMEM_RDMA_ABI_VERSION);
	PMEM_RDMA_PUT(au->alg, PMEM_RDMA_AUTH_HMAC_SHA256_128);
	PMEM_RDMA_PUT(au->time, time);
	pmem_rdma_bytes_copy(au->nonce, nonce, PMEM_RDMA_AUTH_NONCE_LEN);
	for (i = 0; i < PMEM_RDMA_AUTH_MAC_LEN; i++)
		au->mac[i] = 0;
}

/*
 * m, the PMEM_RDMA_AUTH_MAC_INPUT_LEN bytes whose HMAC-SHA256 with the
 * export's key starts with a good proof's mac: the proof up to mac as it
 * was sent, the export's port, the peer address as the target sees it and
 * the target's address as the peer connects to it (PMEM_RDMA_ADDR_LEN
 * bytes each, an IPv4 address as ::ffff:a.b.c.d).
 */
static __inline__ void pmem_rdma_auth_mac_input(__u8 *m,
						const struct pmem_rdma_auth *au,
						__u16 port, const __u8 *peer,
						const __u8 *target)
{
	pmem_rdma_bytes_copy(m, au, PMEM_RDMA_AUTH_SIGNED_LEN);
	m += PMEM_RDMA_AUTH_SIGNED_LEN;
	pmem_rdma_put_be(m, port, sizeof(__be16));
	m += sizeof(__be16);
	pmem_rdma_bytes_copy(m, peer, PMEM_RDMA_ADDR_LEN);
	m += PMEM_RDMA_ADDR_LEN;
	pmem_rdma_bytes_copy(m, target, PMEM_RDMA_ADDR_LEN);
}

/*
 * a, the PMEM_RDMA_ACCEPT_MAC_INPUT_LEN bytes whose HMAC-SHA256 with the
 * export's key starts with the mac of the target's accept: its magic, the
 * peer's proof as received, the descriptor as sent.  The magic keeps it
 * apart from a peer's proof, which no target may be made to sign.
 */
static __inline__ void
pmem_rdma_accept_mac_input(__u8 *a, const struct pmem_rdma_auth *au,
			   const struct pmem_rdma_region_desc *d)
{
	pmem_rdma_put_be(a, PMEM_RDMA_ACCEPT_MAGIC, sizeof(__be32));
	a += sizeof(__be32);
	pmem_rdma_bytes_copy(a, au, sizeof(*au));
	a += sizeof(*au);
	pmem_rdma_bytes_copy(a, d, sizeof(*d));
}

/*
 * The proof in a connect request's private data (len bytes at data, which
 * may be unaligned or absent), copied to *au: 0, or PMEM_RDMA_REJECT_AUTH
 * when there is none or one this ABI does not speak.
 */
static __inline__ __u16 pmem_rdma_auth_parse(struct pmem_rdma_auth *au,
					     const void *data, __u32 len)
{
	if (!data || len < sizeof(*au))
		return PMEM_RDMA_REJECT_AUTH;
	pmem_rdma_bytes_copy(au, data, sizeof(*au));
	if (PMEM_RDMA_GET(au->magic) != PMEM_RDMA_AUTH_MAGIC ||
	    PMEM_RDMA_GET(au->abi_version) != PMEM_RDMA_ABI_VERSION ||
	    PMEM_RDMA_GET(au->alg) != PMEM_RDMA_AUTH_HMAC_SHA256_128)
		return PMEM_RDMA_REJECT_AUTH;
	return 0;
}

/* 0 when a proof of time may be taken at now, else PMEM_RDMA_REJECT_STALE */
static __inline__ __u16 pmem_rdma_auth_window(__u64 time, __u64 now)
{
	if (!time || time > now + PMEM_RDMA_AUTH_WINDOW ||
	    time + PMEM_RDMA_AUTH_WINDOW < now)
		return PMEM_RDMA_REJECT_STALE;
	return 0;
}

/*
 * What a target's replay memory keeps of a proof it took: its time and
 * nonce, and until when (on the target's monotonic clock, in seconds) the
 * proof could pass the window.  Its mac already binds it to the export
 * and the peer address.
 */
struct pmem_rdma_replay_key {
	__u64 time;				/* 0: a free entry */
	__u64 young_until;			/* monotonic seconds */
	__u8 nonce[PMEM_RDMA_AUTH_NONCE_LEN];
};

/*
 * Whether the entry s still holds a proof that could be replayed: the
 * monotonic clock says its span in the window has not passed, or the
 * wall clock (now) would still take its time.  Both, so that a step of
 * the wall clock either way reopens nothing the memory holds.
 */
static __inline__ int pmem_rdma_replay_young(const struct pmem_rdma_replay_key *s,
					     __u64 now, __u64 mono)
{
	return mono < s->young_until || s->time + PMEM_RDMA_AUTH_WINDOW >= now;
}

/*
 * Remember a proof of time and nonce in seen[PMEM_RDMA_AUTH_REPLAY_MAX]
 * (zeroed to begin with), at wall time now and monotonic time mono (both
 * in seconds): 0, PMEM_RDMA_REJECT_REPLAY when it is there, or
 * PMEM_RDMA_REJECT_BUSY when every entry holds a young proof.  A proof
 * that is no longer young stays one more window, still refused as a
 * replay (a wall clock stepped back by up to a window reopens nothing),
 * but gives its entry to a new proof when there is no free one.  The
 * caller took the proof's time through pmem_rdma_auth_window() at now.
 */
static __inline__ __u16
pmem_rdma_replay_remember(struct pmem_rdma_replay_key *seen, __u64 time,
			  const __u8 *nonce, __u64 now, __u64 mono)
{
	unsigned int i, free = PMEM_RDMA_AUTH_REPLAY_MAX;
	unsigned int old = PMEM_RDMA_AUTH_REPLAY_MAX;

	for (i = 0; i < PMEM_RDMA_AUTH_REPLAY_MAX; i++) {
		struct pmem_rdma_replay_key *s = &seen[i];

		if (s->time && !pmem_rdma_replay_young(s, now, mono) &&
		    s->young_until + PMEM_RDMA_AUTH_WINDOW <= mono)
			s->time = 0;		/* forgotten */
		if (!s->time) {
			if (free == PMEM_RDMA_AUTH_REPLAY_MAX)
				free = i;
			continue;
		}
		if (s->time == time &&
		    pmem_rdma_bytes_equal(s->nonce, nonce,
					  PMEM_RDMA_AUTH_NONCE_LEN))
			return PMEM_RDMA_REJECT_REPLAY;
		if (!pmem_rdma_replay_young(s, now, mono) &&
		    (old == PMEM_RDMA_AUTH_REPLAY_MAX ||
		     s->young_until < seen[old].young_until))
			old = i;
	}
	if (free == PMEM_RDMA_AUTH_REPLAY_MAX)
		free = old;
	if (free == PMEM_RDMA_AUTH_REPLAY_MAX)
		return PMEM_RDMA_REJECT_BUSY;
	seen[free].time = time;
	/* what is left of its window on the wall clock, from now on: 0..2W */
	seen[free].young_until = mono + 1 +
		(time + PMEM_RDMA_AUTH_WINDOW >= now ?
		 time + PMEM_RDMA_AUTH_WINDOW - now : 0);
	pmem_rdma_bytes_copy(seen[free].nonce, nonce, PMEM_RDMA_AUTH_NONCE_LEN);
	return 0;
}

/*
 * A proof whose mac is good, at wall time now and monotonic time mono: 0
 * when it is taken (and remembered in seen, under the caller's lock),
 * else the reason, STALE before REPLAY and BUSY.
 */
static __inline__ __u16 pmem_rdma_auth_take(struct pmem_rdma_replay_key *seen,
					    const struct pmem_rdma_auth *au,
					    __u64 now, __u64 mono)
{
	__u64 time = PMEM_RDMA_GET(au->time);
	__u16 reason = pmem_rdma_auth_window(time, now);

	return reason ? reason :
	       pmem_rdma_replay_remember(seen, time, au->nonce, now, mono);
}

/* the FLUSH placement types that an export's access grants */
static __inline__ __u32 pmem_rdma_placement_types(__u32 access)
{
	__u32 placement = 0;

	if (access & PMEM_RDMA_ACCESS_FLUSH_GLOBAL)
		placement |= PMEM_RDMA_PLACEMENT_GLOBAL;
	if (access & PMEM_RDMA_ACCESS_FLUSH_PERSISTENT)
		placement |= PMEM_RDMA_PLACEMENT_PERSISTENT;
	return placement;
}

/*
 * The region descriptor of an accept: rkey reaches [iova, iova + length)
 * with access (PMEM_RDMA_ACCESS_*, which give the placement types) and
 * the VERIFY algorithms verify_algs; flags are the export's.
 */
static __inline__ void pmem_rdma_desc_encode(struct pmem_rdma_region_desc *d,
					     __u16 flags, __u64 iova,
					     __u64 length, __u32 rkey,
					     __u32 access, __u32 verify_algs)
{
	PMEM_RDMA_PUT(d->magic, PMEM_RDMA_DESC_MAGIC);
	PMEM_RDMA_PUT(d->abi_version, PMEM_RDMA_ABI_VERSION);
	PMEM_RDMA_PUT(d->flags, flags);
	PMEM_RDMA_PUT(d->iova, iova);
	PMEM_RDMA_PUT(d->length, length);
	PMEM_RDMA_PUT(d->rkey, rkey);
	PMEM_RDMA_PUT(d->access, access);
	PMEM_RDMA_PUT(d->placement_types, pmem_rdma_placement_types(access));
	PMEM_RDMA_PUT(d->verify_algs, verify_algs);
}

/*
 * The keyed peer's draw in a connect request's private data (len bytes at
 * data): 1 with it in draw (PMEM_RDMA_KEY_DRAW_LEN bytes), or 0 when the
 * peer is unkeyed (a short request, or a draw of all zeros).
 */
static __inline__ int pmem_rdma_connect_draw(__u8 *draw, const void *data,
					     __u32 len)
{
	unsigned int i;
	__u8 any = 0;

	for (i = 0; i < PMEM_RDMA_KEY_DRAW_LEN; i++)
		draw[i] = 0;
	if (!data || len < sizeof(struct pmem_rdma_connect_req))
		return 0;
	pmem_rdma_bytes_copy(draw, (const __u8 *)data +
			     sizeof(struct pmem_rdma_auth),
			     PMEM_RDMA_KEY_DRAW_LEN);
	for (i = 0; i < PMEM_RDMA_KEY_DRAW_LEN; i++)
		any |= draw[i];
	return any != 0;
}

/* the key check's input: k, PMEM_RDMA_KEY_CHECK_INPUT_LEN bytes */
#define PMEM_RDMA_KEY_CHECK_INPUT_LEN \
	(sizeof(PMEM_RDMA_KEY_CHECK_LABEL) - 1 + 2 * PMEM_RDMA_KEY_DRAW_LEN)

static __inline__ void pmem_rdma_key_check_input(__u8 *k,
						 const __u8 *peer_draw,
						 const __u8 *target_draw)
{
	unsigned int n = sizeof(PMEM_RDMA_KEY_CHECK_LABEL) - 1;

	pmem_rdma_bytes_copy(k, PMEM_RDMA_KEY_CHECK_LABEL, n);
	pmem_rdma_bytes_copy(k + n, peer_draw, PMEM_RDMA_KEY_DRAW_LEN);
	pmem_rdma_bytes_copy(k + n + PMEM_RDMA_KEY_DRAW_LEN, target_draw,
			     PMEM_RDMA_KEY_DRAW_LEN);
}

/*
 * Step 4 of the judgement: 0 when the request's draw (or its absence)
 * fits an export that is keyed or not, else the REJECT's reason.
 */
static __inline__ __u16 pmem_rdma_draw_judge(int has_draw, int keyed)
{
	if (keyed && !has_draw)
		return PMEM_RDMA_REJECT_KEYED;
	if (!keyed && has_draw)
		return PMEM_RDMA_REJECT_UNKEYED;
	return 0;
}

/* the private data of a REJECT with reason (PMEM_RDMA_REJECT_*) */
static __inline__ void pmem_rdma_reject_encode(struct pmem_rdma_reject *rej,
					       __u16 reason)
{
	PMEM_RDMA_PUT(rej->magic, PMEM_RDMA_DESC_MAGIC);
	PMEM_RDMA_PUT(rej->abi_version, PMEM_RDMA_ABI_VERSION);
	PMEM_RDMA_PUT(rej->reason, reason);
}

/* the reason in a REJECT's private data, or 0 when it is not a target's */
static __inline__ __u16 pmem_rdma_reject_reason(const void *data, __u32 len)
{
	struct pmem_rdma_reject rej;

	if (!data || len < sizeof(rej))
		return 0;
	pmem_rdma_bytes_copy(&rej, data, sizeof(rej));
	if (PMEM_RDMA_GET(rej.magic) != PMEM_RDMA_DESC_MAGIC)
		return 0;
	return (__u16)PMEM_RDMA_GET(rej.reason);
}

#endif /* _UAPI_LINUX_PMEM_RDMA_CONNECT_H */
