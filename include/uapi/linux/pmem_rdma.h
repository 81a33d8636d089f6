/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * pmem_rdma: user API of /dev/pmem_rdma.
 *
 * Versioned: PMEM_RDMA_ABI_VERSION is bumped on any incompatible change and
 * user space checks it with PMEM_RDMA_IOC_GET_VERSION before anything else.
 * Every structure has a fixed size; reserved fields must be zero (EINVAL
 * otherwise) and come back zero.  Every ioctl may fail with EFAULT; an
 * unknown one fails with ENOTTY.
 *
 * ABI version 1: the version query only.
 * ABI version 2: EXPORT, UNEXPORT, LIST, STATS, POWER_FAIL and the region
 * descriptor that peers receive in the RDMA CM private data.
 * ABI version 3: who may connect - every EXPORT names its peers (an
 * allow-list, a key they prove, or explicitly any peer); the proof in the
 * connect request; more REJECT reasons.
 * ABI version 4: the proof is bound to the target's address too, and a
 * target with a key proves it back in the accept (struct pmem_rdma_accept).
 *
 * Changing exports (EXPORT, UNEXPORT, POWER_FAIL) needs CAP_SYS_ADMIN;
 * LIST and STATS need only an open file descriptor (the node is 0600 root).
 */
#ifndef _UAPI_LINUX_PMEM_RDMA_H
#define _UAPI_LINUX_PMEM_RDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PMEM_RDMA_ABI_VERSION	4

/* ioctl type byte; not registered in ioctl-number.rst (out-of-tree module) */
#define PMEM_RDMA_IOC_MAGIC	0xCE

struct pmem_rdma_version {
	__u32 abi_version;	/* out: PMEM_RDMA_ABI_VERSION of the module */
	__u32 reserved0;	/* out: zero */
	__u64 reserved[3];	/* out: zero */
};

#define PMEM_RDMA_IOC_GET_VERSION \
	_IOR(PMEM_RDMA_IOC_MAGIC, 0x00, struct pmem_rdma_version)

#define PMEM_RDMA_PATH_MAX	128	/* with the terminating NUL */
#define PMEM_RDMA_IBDEV_MAX	64	/* IB_DEVICE_NAME_MAX */

/* What peers may do with an export (the access of their remote keys). */
#define PMEM_RDMA_ACCESS_READ			(1U << 0)
#define PMEM_RDMA_ACCESS_WRITE			(1U << 1)	/* WRITE, ATOMIC WRITE */
#define PMEM_RDMA_ACCESS_FLUSH_GLOBAL		(1U << 2)
#define PMEM_RDMA_ACCESS_FLUSH_PERSISTENT	(1U << 3)
#define PMEM_RDMA_ACCESS_VERIFY			(1U << 4)	/* with verify_algs */
#define PMEM_RDMA_ACCESS_ALL			0x1fU

/*
 * VERIFY algorithms, as a set in verify_algs: bit N is the algorithm that
 * VERIFY names N on the wire (RXE_FLUSH_VERIFY_ALG_* in rdma/rxe_flush.h).
 */
#define PMEM_RDMA_VERIFY_CRC32C			(1U << 1)
#define PMEM_RDMA_VERIFY_SHA256			(1U << 2)
#define PMEM_RDMA_VERIFY_XXH64			(1U << 3)
#define PMEM_RDMA_VERIFY_ALL			0xeU

/*
 * Peers connected to one export at once: a connect request beyond them is
 * rejected (PMEM_RDMA_REJECT_FULL) before anything is allocated for it.
 * max_peers was reserved (zero) before, so 0 means the default.
 */
#define PMEM_RDMA_MAX_PEERS_DEFAULT	8
#define PMEM_RDMA_MAX_PEERS_LIMIT	1024

/* Export flags */
#define PMEM_RDMA_EXPORT_EMULATED	(1U << 0)	/* emulated persistence domain */
#define PMEM_RDMA_EXPORT_ANY_PEER	(1U << 1)	/* no allow-list, no key */
#define PMEM_RDMA_EXPORT_KEYED_128	(1U << 2)	/* keyed MRs, AES-128-GCM */
#define PMEM_RDMA_EXPORT_KEYED_256	(1U << 3)	/* keyed MRs, AES-256-GCM */
#define PMEM_RDMA_EXPORT_FLAGS_ALL	0xfU

/*
 * Who may connect to an export.  A connect request is accepted when its
 * peer address is in one of the allow-list's prefixes (or the list is
 * empty) and it carries a valid proof of the key (or the key is empty),
 * see struct pmem_rdma_auth.  An export with neither must say so with
 * PMEM_RDMA_EXPORT_ANY_PEER: there is no open default.
 *
 * The peer address is the one the connect request names as its source: on
 * RoCE v2 its IPv6 address, which is its GID (an IPv4 peer as
 * ::ffff:a.b.c.d), on InfiniBand its GID.  The scope of a link-local
 * address is not compared.  Anyone who can send on the network can claim
 * any address; what the allow-list adds is that the target answers - and
 * sends its keys - to that address only.  The key is the authentication.
 */
#define PMEM_RDMA_ALLOW_MAX	16
#define PMEM_RDMA_KEY_MIN	16	/* bytes */
#define PMEM_RDMA_KEY_MAX	64

#define PMEM_RDMA_ADDR_LEN	16	/* bytes of a peer address (IPv6, GID) */

struct pmem_rdma_prefix {
	__u8 addr[PMEM_RDMA_ADDR_LEN];	/* IPv6 address or GID, network
					 * byte order
					 */
	__u8 len;		/* bits of addr that must match, 0..128 */
	__u8 reserved[7];	/* zero */
};

struct pmem_rdma_policy {
	__u32 nallow;		/* entries of allow[] used; 0: any address */
	__u32 key_len;		/* 0 (no key) or KEY_MIN..KEY_MAX */
	/* the first key_len bytes, the rest zero; never given back */
	__u8 key[PMEM_RDMA_KEY_MAX];
	/* the first nallow entries, the others zero */
	struct pmem_rdma_prefix allow[PMEM_RDMA_ALLOW_MAX];
	__u64 reserved[2];	/* zero */
};

/*
 * PMEM_RDMA_IOC_EXPORT: export [offset, offset + length) of an fsdax pmem
 * block device to RDMA peers that connect to 'port' (RDMA CM, TCP port
 * space, any address of ib_dev).  offset and length are multiples of the
 * page size.  Errors: EPERM (no CAP_SYS_ADMIN), EPROTO (abi_version),
 * EINVAL (flags, access, reserved fields, zero or unaligned length, range
 * beyond the device, max_peers above PMEM_RDMA_MAX_PEERS_LIMIT, VERIFY
 * without verify_algs or the reverse, unknown algorithm bits; a policy
 * with neither allow-list nor key and without PMEM_RDMA_EXPORT_ANY_PEER,
 * or one with either and the flag, nallow over PMEM_RDMA_ALLOW_MAX, a
 * prefix len over 128, a key_len out of range, non-zero unused bytes),
 * ENOENT (path), ENOTBLK (not a block device),
 * EOPNOTSUPP (no DAX on the device; FLUSH_PERSISTENT on a disk that is
 * not an NVDIMM region's, or on an asynchronous region; EMULATED or VERIFY
 * without rdma_rxe_flush loaded; a disk whose driver's device is on no
 * bus, so that its going away could not be seen), ENOMEM (the
 * emulated media image), ENODEV (ib_dev, or the disk's driver is going
 * away), EBUSY (overlaps an export),
 * EADDRINUSE (port), E2BIG (more pages than one fast-registration MR of
 * ib_dev maps - 2 MiB pages when offset and length are 2 MiB aligned,
 * else 4 KiB ones - or an emulated export of 2^31 lines of 64 bytes).
 */
struct pmem_rdma_export_req {
	__u32 abi_version;		/* in: PMEM_RDMA_ABI_VERSION */
	__u32 flags;			/* in: PMEM_RDMA_EXPORT_* */
	char path[PMEM_RDMA_PATH_MAX];	/* in: /dev/pmemN, NUL-terminated */
	__u64 offset;			/* in: bytes into the device */
	__u64 length;			/* in: bytes */
	__u32 access;			/* in: PMEM_RDMA_ACCESS_* */
	__u32 verify_algs;		/* in: PMEM_RDMA_VERIFY_*, with VERIFY */
	char ib_dev[PMEM_RDMA_IBDEV_MAX];	/* in: e.g. "rxe0" */
	__u16 port;			/* in: RDMA CM port, not 0 */
	__u16 max_peers;		/* in: peers connected at once, at most
					 * PMEM_RDMA_MAX_PEERS_LIMIT; 0 for
					 * PMEM_RDMA_MAX_PEERS_DEFAULT
					 */
	__u32 id;			/* out: the export's id, > 0 */
	/*
	 * in: with PMEM_RDMA_EXPORT_KEYED_128 (_256), the data key in the
	 * first 16 (32) bytes, the rest zero: the user's AES-GCM key of the
	 * export's keyed MRs (not policy.key, which proves who connects);
	 * never given back.  Else zero.
	 */
	__u8 data_key[32];
	struct pmem_rdma_policy policy;	/* in: who may connect */
};

/* PMEM_RDMA_IOC_UNEXPORT: disconnect the peers and drop the export (ENOENT). */
struct pmem_rdma_unexport {
	__u32 id;		/* in */
	__u32 reserved0;	/* in: zero */
	__u64 reserved[3];	/* in: zero */
};

/* One export, as LIST reports it. */
struct pmem_rdma_export_info {
	__u32 id;
	__u32 flags;
	char path[PMEM_RDMA_PATH_MAX];
	__u64 offset;
	__u64 length;
	__u32 access;
	__u32 verify_algs;
	char ib_dev[PMEM_RDMA_IBDEV_MAX];
	__u16 port;
	__u16 max_peers;	/* in effect */
	__u32 peers;		/* connected now */
	__u32 nallow;		/* prefixes in the allow-list */
	__u32 key_len;		/* bytes of the key, 0 for none */
	__u64 reserved[3];
};

/*
 * PMEM_RDMA_IOC_LIST: up to 'count' entries into the array at 'entries';
 * 'count' comes back as the number of exports (which may be more).
 */
struct pmem_rdma_list {
	__u32 count;		/* in: room; out: exports */
	__u32 reserved0;	/* in: zero */
	__u64 entries;		/* in: user pointer to pmem_rdma_export_info[] */
	__u64 reserved[2];	/* in: zero */
};

/* PMEM_RDMA_IOC_STATS: one export's counters since it was made (ENOENT). */
struct pmem_rdma_stats {
	__u32 id;		/* in */
	__u32 peers;		/* out: connected now */
	__u64 connects;		/* out: peers accepted */
	__u64 bytes_written;	/* out: by RDMA WRITE and ATOMIC WRITE */
	__u64 flushes;		/* out: persistent FLUSHes executed */
	__u64 bytes_flushed;	/* out: bytes they covered */
	__u64 verifies;		/* out: VERIFYs executed */
	__u64 power_failures;	/* out: POWER_FAIL calls */
	__u64 dirty_lines;	/* out: emulated: 64-byte lines not yet persistent */
	__u64 refused;		/* out: connect requests rejected */
	__u64 reserved[3];	/* in: zero */
};

/*
 * PMEM_RDMA_IOC_POWER_FAIL (emulated exports only, else EOPNOTSUPP): every
 * 64-byte line written and not yet persistent is lost - the visible memory
 * goes back to the media image - except a seeded share of them
 * (eviction_ppm per million) that reached the media early, as dirty cache
 * lines do.  The same seed and writes give the same result.
 *
 * flags (ABI 3; zero before, with the same meaning as 0):
 *   PMEM_RDMA_POWER_FAIL_STAY_DOWN  the export stays without power: every
 *       request of every peer from now on is refused (remote operational
 *       error NAK, so the peers' QPs fail), a FLUSH that was under way
 *       makes nothing persistent, until
 *   PMEM_RDMA_POWER_FAIL_POWER_ON   powers it on again: what the responder
 *       still stored after the failure (a request it had begun) is lost
 *       too, as it was never acknowledged; eviction_ppm and seed unused.
 * A peer's crash test fails the power at a random point of its traffic,
 * reconnects after POWER_ON and recovers from exactly what a real failure
 * would have left.
 *
 * Errors: EINVAL (eviction_ppm over 1000000, an out field not zero,
 * unknown or both flags, POWER_ON of an export that is not down), ENOENT
 * (id).
 */
#define PMEM_RDMA_POWER_FAIL_STAY_DOWN	(1U << 0)
#define PMEM_RDMA_POWER_FAIL_POWER_ON	(1U << 1)

struct pmem_rdma_power_fail {
	__u32 id;		/* in */
	__u32 eviction_ppm;	/* in: 0..1000000 */
	__u64 seed;		/* in */
	__u64 lines_lost;	/* out */
	__u64 lines_evicted;	/* out: reached the media early */
	__u32 flags;		/* in: PMEM_RDMA_POWER_FAIL_* */
	__u32 reserved0;	/* in: zero */
	__u64 reserved;		/* in: zero */
};

#define PMEM_RDMA_IOC_EXPORT \
	_IOWR(PMEM_RDMA_IOC_MAGIC, 0x01, struct pmem_rdma_export_req)
#define PMEM_RDMA_IOC_UNEXPORT \
	_IOW(PMEM_RDMA_IOC_MAGIC, 0x02, struct pmem_rdma_unexport)
#define PMEM_RDMA_IOC_LIST \
	_IOWR(PMEM_RDMA_IOC_MAGIC, 0x03, struct pmem_rdma_list)
#define PMEM_RDMA_IOC_STATS \
	_IOWR(PMEM_RDMA_IOC_MAGIC, 0x04, struct pmem_rdma_stats)
#define PMEM_RDMA_IOC_POWER_FAIL \
	_IOWR(PMEM_RDMA_IOC_MAGIC, 0x05, struct pmem_rdma_power_fail)

/*
 * The region descriptor: the private data of the RDMA CM accept (REP) that
 * every peer receives.  Big-endian, 40 bytes.
 */
#define PMEM_RDMA_DESC_MAGIC	0x504d5244	/* "PMRD" */

#define PMEM_RDMA_PLACEMENT_GLOBAL	(1U << 0)	/* FLUSH placement types */
#define PMEM_RDMA_PLACEMENT_PERSISTENT	(1U << 1)

struct pmem_rdma_region_desc {
	__be32 magic;		/* PMEM_RDMA_DESC_MAGIC */
	__be16 abi_version;	/* PMEM_RDMA_ABI_VERSION */
	__be16 flags;		/* PMEM_RDMA_EXPORT_* of the export */
	__be64 iova;		/* first byte of the region in the peer's rkey:
				 * 0 (zero-based), no kernel address
				 */
	__be64 length;
	__be32 rkey;
	__be32 access;		/* PMEM_RDMA_ACCESS_* */
	__be32 placement_types;	/* PMEM_RDMA_PLACEMENT_* */
	__be32 verify_algs;
};

/*
 * The private data of the RDMA CM REJECT with which the target refuses a
 * connect request (IB_CM_REJ_CONSUMER_DEFINED).  Big-endian, 8 bytes.
 */
#define PMEM_RDMA_REJECT_FULL		1	/* max_peers are connected */
#define PMEM_RDMA_REJECT_DEVICE		2	/* not the export's RDMA device */
#define PMEM_RDMA_REJECT_SETUP		3	/* no QP, CQ or MR for the peer */
#define PMEM_RDMA_REJECT_ADDRESS	4	/* not in the allow-list */
#define PMEM_RDMA_REJECT_AUTH		5	/* no proof, or a wrong one */
#define PMEM_RDMA_REJECT_STALE		6	/* the proof's time is off by more
						 * than PMEM_RDMA_AUTH_WINDOW:
						 * check both clocks
						 */
#define PMEM_RDMA_REJECT_REPLAY		7	/* the proof was used before */
#define PMEM_RDMA_REJECT_BUSY		8	/* more proofs in the window than
						 * the target remembers; retry
						 */
#define PMEM_RDMA_REJECT_KEYED		9	/* the export is keyed: the peer
						 * brought no data key
						 */
#define PMEM_RDMA_REJECT_UNKEYED	10	/* the peer brought a data key:
						 * the export has none
						 */

struct pmem_rdma_reject {
	__be32 magic;		/* PMEM_RDMA_DESC_MAGIC */
	__be16 abi_version;	/* PMEM_RDMA_ABI_VERSION */
	__be16 reason;		/* PMEM_RDMA_REJECT_* */
};

/*
 * The proof of the key: the private data of the peer's RDMA CM connect
 * request (REQ) to an export with a key.  Big-endian, 40 bytes.  mac is
 * the first 16 bytes of HMAC-SHA256(key, m), where m (58 bytes) is
 *
 *   bytes  0..23  this structure up to mac: magic, abi_version, alg,
 *                 time, nonce, as sent
 *   bytes 24..25  the export's port, big-endian
 *   bytes 26..41  the peer address the target sees (see the policy)
 *   bytes 42..57  the target's address the peer connects to, in the same
 *                 form
 *
 * The target accepts a proof whose time is within PMEM_RDMA_AUTH_WINDOW
 * seconds of its own clock (CLOCK_REALTIME) and whose nonce it has not
 * seen with that time before; it remembers the proofs it accepted for as
 * long as they could be replayed (their time is within the window, on its
 * monotonic clock as well as on the wall clock) and one window more, up to
 * PMEM_RDMA_AUTH_REPLAY_MAX young ones per port: one more is
 * PMEM_RDMA_REJECT_BUSY.  The kernel target keeps a port's memory across
 * exports of the port, for as long as it holds a proof.
 * The key never crosses the wire, and a proof is bound to one export: one
 * target address and port, and one peer address.
 *
 * The target proves the key back: its accept carries struct
 * pmem_rdma_accept, the descriptor and the first 16 bytes of
 * HMAC-SHA256(key, a), where a (84 bytes) is
 *
 *   bytes  0..3   PMEM_RDMA_ACCEPT_MAGIC, big-endian
 *   bytes  4..43  the peer's proof, as received
 *   bytes 44..83  the descriptor, as sent
 *
 * so that a peer uses a descriptor only from a holder of the key that
 * answers its own connect request.  <linux/pmem_rdma_connect.h> encodes
 * and judges both.
 */
#define PMEM_RDMA_AUTH_MAGIC		0x504d5241	/* "PMRA" */
#define PMEM_RDMA_AUTH_HMAC_SHA256_128	1
#define PMEM_RDMA_AUTH_WINDOW		60		/* seconds */
#define PMEM_RDMA_AUTH_REPLAY_MAX	256		/* proofs remembered */
#define PMEM_RDMA_AUTH_NONCE_LEN	8		/* bytes */
#define PMEM_RDMA_AUTH_MAC_LEN		16		/* bytes */

struct pmem_rdma_auth {
	__be32 magic;		/* PMEM_RDMA_AUTH_MAGIC */
	__be16 abi_version;	/* PMEM_RDMA_ABI_VERSION */
	__be16 alg;		/* PMEM_RDMA_AUTH_HMAC_SHA256_128 */
	__be64 time;		/* seconds since the epoch, the peer's clock */
	__u8 nonce[PMEM_RDMA_AUTH_NONCE_LEN];	/* random, new for every
						 * connect
						 */
	__u8 mac[PMEM_RDMA_AUTH_MAC_LEN];
};

#define PMEM_RDMA_ACCEPT_MAGIC		0x504d5254	/* "PMRT" */

/*
 * Keyed exports.  The export's MR is bound to a data key (the user's
 * AES-GCM key of rdma_rxe_flush's keyed MRs, <rdma/rxe_flush.h>), which
 * is not the key of the proof; its payloads cross the wire sealed under
 * subkeys of each connection.  A peer that brings the data key asks for a
 * keyed connection with the draw of its QP (RXE_FLUSH_METHOD_QP_KEY_DRAW)
 * in struct pmem_rdma_connect_req; the target answers with the draw of its
 * QP in struct pmem_rdma_accept and PMEM_RDMA_DESC_KEYED in the
 * descriptor's flags.  Each end binds its QP to its data key and the
 * other's draw (RXE_FLUSH_METHOD_QP_KEY_BIND), the target before its
 * accept leaves, the peer before its first request.
 *
 * The accept also carries the key check: the first 16 bytes of
 * HMAC-SHA256(data key, k), where k (56 bytes) is
 *
 *   bytes  0..23  PMEM_RDMA_KEY_CHECK_LABEL, without its NUL
 *   bytes 24..39  the peer's draw
 *   bytes 40..55  the target's draw
 *
 * so that a peer with another data key is told so at connect rather than
 * by its first request; the draws make it new for every connection, and
 * it says nothing of the key to whoever lacks it.
 *
 * A draw of all zeros is no draw: the CM pads private data with zeros,
 * and an unkeyed peer sends none.  A keyed export refuses a peer without
 * a draw (PMEM_RDMA_REJECT_KEYED), an export without a data key a peer
 * with one (PMEM_RDMA_REJECT_UNKEYED); a peer refuses an accept whose
 * descriptor does not say what it asked for.  The draws carry no MAC of
 * their own: a changed draw gives the two ends different subkeys, and
 * every keyed packet then fails its tag and places nothing.
 */
#define PMEM_RDMA_DESC_KEYED		(1U << 14)
#define PMEM_RDMA_KEY_DRAW_LEN		16		/* bytes */
#define PMEM_RDMA_KEY_CHECK_LEN		16		/* bytes */
#define PMEM_RDMA_KEY_CHECK_LABEL	"pmem-rdma data key check"

/*
 * The private data of the connect request (REQ), 56 bytes: all the CM
 * carries in a REQ of the TCP port space.  Up to 40 bytes (the proof
 * alone, or nothing without a key) for an unkeyed peer.
 */
struct pmem_rdma_connect_req {
	struct pmem_rdma_auth auth;	/* zero for an export without a key */
	__u8 key_draw[PMEM_RDMA_KEY_DRAW_LEN];	/* zero: an unkeyed peer */
};

/*
 * The private data of the accept (REP): 88 bytes from a keyed export, 56
 * from an export with a key, the descriptor alone from one without.
 */
struct pmem_rdma_accept {
	struct pmem_rdma_region_desc desc;
	__u8 mac[PMEM_RDMA_AUTH_MAC_LEN];	/* the target's proof */
	__u8 key_draw[PMEM_RDMA_KEY_DRAW_LEN];	/* a keyed export's QP's */
	__u8 key_check[PMEM_RDMA_KEY_CHECK_LEN];	/* and its data key's */
};

/*
 * The user-space target (libpmrdma's pmrdma_serve()) speaks the same
 * connect, proof, descriptor and REJECT as the kernel one.  Its descriptor
 * has PMEM_RDMA_DESC_GPSPM in flags (a bit no export flag uses), and the
 * flush access and placement types where its device can FLUSH: a peer
 * makes its WRITEs durable with FLUSHes, by asking the target's CPU
 * (GPSPM), or, where the platform puts PCIe writes in the persistence
 * domain, with a READ behind them (APM).
 *
 * GPSPM: after its WRITEs the peer SENDs a request; the target runs its
 * ops in order, requests in the order they came, then SENDs the response.
 * Big-endian; a request has 1..PMEM_RDMA_GPSPM_OPS ops:
 *   PERSIST  make [off, off + len) of the region durable (len > 0)
 *   STORE8   store value at off (8-byte aligned) in one piece, then make
 *            it durable: the non-posted write, behind the ops before it
 * status is 0 or a positive errno: EINVAL (a bad op), ERANGE (outside the
 * region), EPROTO (a bad magic or version); ops after a failed one are
 * not run.
 */
#define PMEM_RDMA_DESC_GPSPM		(1U << 15)

#define PMEM_RDMA_GPSPM_MAGIC		0x504d5247	/* "PMRG" */
#define PMEM_RDMA_GPSPM_VERSION		1
#define PMEM_RDMA_GPSPM_OPS		8
#define PMEM_RDMA_GPSPM_PERSIST		1
#define PMEM_RDMA_GPSPM_STORE8		2

struct pmem_rdma_gpspm_op {
	__be32 op;		/* PMEM_RDMA_GPSPM_* */
	__be32 len;		/* PERSIST */
	__be64 off;		/* from the region's start */
	__be64 value;		/* STORE8 */
};

struct pmem_rdma_gpspm_req {
	__be32 magic;		/* PMEM_RDMA_GPSPM_MAGIC */
	__be16 version;		/* PMEM_RDMA_GPSPM_VERSION */
	__be16 nops;
	__be64 id;		/* the peer's, echoed */
	struct pmem_rdma_gpspm_op ops[PMEM_RDMA_GPSPM_OPS];
};

struct pmem_rdma_gpspm_resp {
	__be32 magic;
	__be16 version;
	__be16 status;
	__be64 id;
};

#endif /* _UAPI_LINUX_PMEM_RDMA_H */
