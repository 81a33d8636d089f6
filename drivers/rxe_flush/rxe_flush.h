/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: the hooks that Debian's rxe calls into, through the patches in
 * patches/series (6.1) or patches-6.12/series (6.12).  Everything declared
 * here is implemented in the rxe_flush_*.c files beside this header, one
 * concern per file, the same files for both kernel lines (what differs
 * between the two rxe's is in rxe_flush_compat.h):
 *
 *   rxe_flush_ident.c    module and firmware version
 *   rxe_flush_mr.c       MR flush access: uapi driver data, pmem-only rule
 *   rxe_flush_icrc.c     FLUSH ICRC: upstream rxe's (the default) or IBA's
 *   rxe_flush_req.c      requester and completer of FLUSH, ATOMIC WRITE
 *                        and VERIFY
 *   rxe_flush_resp.c     responder: the three requests from one table -
 *                        checks, the target lookup, execution, answer
 *   rxe_flush_hash.c     VERIFY's hashes of a range, a step at a time
 *   rxe_flush_persist.c  the persistence write-back and its counters
 *   rxe_flush_fault.c    debugfs transmit faults: drop, dup, cut short
 *                        (test builds only: CONFIG_RDMA_RXE_FLUSH_FAULT)
 *   rxe_flush_domain.c   persistence domains of kernel MRs (pmem_rdma)
 *   rxe_flush_guard.c    the responder's guards against malformed requests
 *   rxe_flush_key.c      data keys (a uverbs object) and keyed MRs
 *   rxe_flush_seal.c     the keyed wire: per-connection subkeys, and the
 *                        payloads of keyed MRs sealed and opened
 *   rxe_flush_uapi.c     the device's uverbs definitions (driver_def)
 *   rxe_flush_qos.c      a QP's rate limit, paced in the requester
 *   rxe_flush_share.c    a device's rate shared by traffic class weight
 *   rxe_flush_cc.c       congestion notification: ECT, CNPs, DCQCN
 *
 * rxe's files test RXE_FLUSH_OPS_MASK (or WR_FLUSH_OPS_MASK) and call one
 * hook; the hook tells the three requests apart.  The wire format and its
 * accessors are in rxe_flush_hdr.h, which the files that parse packets
 * include (its accessors need the header indexes of rxe_opcode.h, which
 * the series adds after the first patch).
 */
#ifndef RXE_FLUSH_H
#define RXE_FLUSH_H

#include <crypto/sha2.h>
#include <linux/hrtimer.h>
#include <linux/sizes.h>
#include <linux/xxhash.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>
#include <rdma/rxe_flush.h>
#include <rdma/rxe_flush_domain.h>

/*
 * Identifies the patched driver: the module version, the device's fw_ver
 * string in sysfs ("rxe_flush-0.4.0") and the numeric fw_ver that
 * rdma-core's rxe provider prints as major.minor.sub (the in-tree driver
 * reports 0.0.0).  Keep the three numbers and the string in step.
 * 0.3.0: VERIFY; 0.4.0: XXH64, flush-and-verify, long requests in steps;
 * 0.5.0: data keys and keyed MRs; 0.6.0: the keyed wire; 0.7.0: ATOMIC
 * WRITE and VERIFY of keyed MRs sealed; 0.8.0: a QP's rate limit, a
 * device's rate shared by weight; 0.9.0: congestion notification.
 */
#define RXE_FLUSH_VERSION_MAJOR	0
#define RXE_FLUSH_VERSION_MINOR	9
#define RXE_FLUSH_VERSION_SUB	0
#define RXE_FLUSH_VERSION	"0.9.0"
#define RXE_FLUSH_FW_VER	(((u64)RXE_FLUSH_VERSION_MAJOR << 32) | \
				 ((u64)RXE_FLUSH_VERSION_MINOR << 16) | \
				 RXE_FLUSH_VERSION_SUB)

/* device_cap_flags the patched driver adds to rxe's own */
#define RXE_FLUSH_DEVICE_CAP_FLAGS	(RXE_FLUSH_DEVICE_FLUSH_GLOBAL | \
					 RXE_FLUSH_DEVICE_FLUSH_PERSISTENT | \
					 RXE_FLUSH_DEVICE_ATOMIC_WRITE)

struct ib_umem;
struct resp_res;
struct rxe_dev;
struct rxe_mr;
struct rxe_qp;
struct rxe_pkt_info;
struct rxe_send_wqe;
struct sk_buff;

/*
 * A FLUSH or VERIFY of more than this is done in steps of it, and the
 * responder lets the CPU go between two (it runs in softirq): about a
 * millisecond of SHA-256 in generic C at native speed.
 */
#define RXE_FLUSH_STEP_BYTES	SZ_256K

/* the longest digest (SHA-256) */
#define RXE_FLUSH_DIGEST_MAX	RXE_FLUSH_VERIFY_SHA256_BYTES

/* a VERIFY's hash, from one step to the next */
struct rxe_flush_hash {
	u32 alg;
	union {
		u32 crc;
		struct sha256_state sha;
		struct xxh64_state xxh;
	};
};

/*
 * The execution of a FLUSH, ATOMIC WRITE or VERIFY, kept in its responder
 * resource (struct resp_res): while a long request is done in steps, how
 * far it got; once it is done, what the RDMA READ RESPONSE ONLY that
 * acknowledges it carries (nothing, or a VERIFY's digest), so that a
 * duplicate gets the same answer and is never executed again.
 */
/*
 * A request as its packet states it: RETH, FETH or VETH (0 for ATOMIC
 * WRITE) and payload (ATOMIC WRITE's 8 bytes, a compare-mode VERIFY's
 * digest).  A duplicate is answered from the resource only if it states
 * the same request: a forged packet that took the PSN first must not make
 * the real request's answer.
 */
struct rxe_flush_req_id {
	u64 va;
	u32 rkey;
	u32 len;
	u32 ext;
	u8 payload_len;
	u8 payload[RXE_FLUSH_DIGEST_MAX];
};

struct rxe_flush_exec {
	struct rxe_flush_req_id req;	/* the request executed */
	u64 iova;		/* the range, set at the first step */
	u64 len;
	u64 done;		/* bytes of the range done */
	bool flushed;		/* flush-and-verify: the flush is done */
	bool sealed;		/* its payload came sealed (a keyed MR) */
	bool seal_answer;	/* its answer goes sealed (a keyed VERIFY) */
	const void *image;	/* VERIFY: the domain's image, or NULL */
	struct rxe_flush_hash hash;
	u8 answer_len;
	u8 answer[RXE_FLUSH_DIGEST_MAX];
};

/*
 * A QP's place in its device's shared rate (rxe_flush_share.c), in
 * rxe_qp: zeroed with it, so that it needs no init.
 */
struct rxe_flush_share {
	struct list_head node;	/* on the device's waiters while waiting */
	bool waiting;
	u64 finish;		/* virtual time its last packet finished */
	u64 throttled;		/* packets that waited for the device */
};

/* a device's shared rate and its waiting QPs, in rxe_dev */
struct rxe_flush_share_dev {
	spinlock_t lock;	/* all of it, and each QP's rxe_flush_share */
	u64 bytes_per_s;	/* 0: not limited */
	u32 rate_kbps;
	u64 burst_ns;
	u64 next_ns;		/* the schedule: when the next packet may go */
	u64 vtime;		/* virtual time: the start of the last packet */
	u8 weight[RXE_FLUSH_QOS_CLASSES];
	struct list_head waiters;
	struct hrtimer timer;
};

/* rxe_flush_ident.c */
void rxe_flush_get_dev_fw_str(struct ib_device *ibdev, char *str);

/* rxe_flush_mr.c */
int rxe_flush_reg_mr_access(struct ib_udata *udata, int *access);
int rxe_flush_mr_check_pages(struct ib_umem *umem, int access);
int rxe_flush_mr_walk(struct rxe_mr *mr, u64 iova, u64 length,
		      void (*fn)(void *addr, size_t len, void *ctx), void *ctx);

/*
 * rxe_flush_key.c: the driver's uverbs objects, and an MR's data key.  A
 * key's memory lives while its object, a bound MR or a bound QP holds it.
 */
struct rxe_flush_key {
	struct kref ref;
	u32 id;
	u32 alg;
	u32 len;
	struct ib_pd *pd;
	struct crypto_aead *tfm;
	unsigned int mrs;		/* bound MRs, under the xarray's lock */
	u32 gen;			/* re-keys so far */
	atomic64_t sealed;		/* packets sealed since the last */
	u8 bytes[RXE_FLUSH_KEY_MAX_BYTES];
};

extern const struct uapi_definition rxe_flush_key_defs[];
int rxe_flush_key_reg_mr(struct ib_udata *udata, struct rxe_mr *mr);
void rxe_flush_key_mr_cleanup(struct rxe_mr *mr);
void rxe_flush_key_get(struct rxe_flush_key *key);
void rxe_flush_key_put(struct rxe_flush_key *key);
int rxe_flush_key_charge(struct rxe_flush_key *key, u32 gen, u64 ahead);
/* a kernel user's key (rxe_flush_keyed.c): ERR_PTR on failure */
struct rxe_flush_key *rxe_flush_key_new(struct ib_pd *pd, u32 alg,
					const u8 *bytes, u32 len);
void rxe_flush_key_drop(struct rxe_flush_key *key);
int rxe_flush_key_bind_kmr(struct rxe_mr *mr, struct rxe_flush_key *key);

/*
 * rxe_flush_gcm.c: a stream's AES-GCM, synchronous: the CPU's (AES-NI)
 * where the FPU may be used, else the generic.
 */
struct scatterlist;

struct rxe_flush_gcm {
	struct crypto_aead *cpu;	/* or NULL: the CPU has none */
	struct aead_request *cpu_req;
	struct crypto_aead *any;
	struct aead_request *any_req;
};

int rxe_flush_gcm_init(struct rxe_flush_gcm *g, const u8 *key, u32 len,
		       u32 authsize);
void rxe_flush_gcm_free(struct rxe_flush_gcm *g);
/* in place over sg: assoclen bytes of AAD, then cryptlen (tag included to open) */
int rxe_flush_gcm_crypt(struct rxe_flush_gcm *g, struct scatterlist *sg,
			u32 assoclen, u32 cryptlen, u8 *iv, bool encrypt);

/*
 * rxe_flush_seal.c: the keyed wire.  A keyed packet carries a trailer of
 * RXE_FLUSH_SEAL_LEN bytes (KCTR and tag) before its ICRC.
 *   _req_trailer()   the requester's packet: the trailer's length or 0
 *   _req()           seal it once its payload is copied; -EFAULT when the
 *                    WR's MRs are not all of the QP's key, -EKEYEXPIRED or
 *                    -EKEYREVOKED when the key's usage refuses it
 *   _resp_open()     the responder's WRITE packet into mr, before its
 *                    length is checked: 0, -EALREADY (a replay: drop it),
 *                    -EKEYREJECTED (NAK: authentication failure) or
 *                    -EINVAL (NAK: invalid request)
 *   _send_open()     the responder's SEND packet, before it is placed in
 *                    the receive buffer: as _resp_open()
 *   _flush_ops()     a FLUSH, ATOMIC WRITE or VERIFY once its target MR
 *                    is found: -EINVAL for a sealed payload into a plain
 *                    MR; a keyed MR's sealed payload opened, as
 *                    _resp_open(); -EACCES when a VERIFY's answer cannot
 *                    be sealed (past the key's limit)
 *   _executed()      such a request executed: note what its answer and
 *                    its duplicates need
 *   _dup_open()      its duplicate, before it is compared: 0, -EALREADY
 *                    or -EKEYREJECTED
 *   _answer_len(), _answer()   a keyed VERIFY's answer: its trailer, and
 *                    sealed in place
 *   _resp_trailer(), _read_resp()   the READ RESPONSE from mr
 *   _comp_is_ack()   the completer's rxe_flush_comp_is_ack(), keyed
 *                    VERIFY answers included
 *   _comp_open()     the completer's READ RESPONSE or VERIFY answer: 0,
 *                    -EALREADY, or -EFAULT (a local protection error)
 */
#define RXE_FLUSH_SEAL_LEN	RXE_FLUSH_KEY_TRAILER_BYTES
/* the NAK of a keyed packet that fails (IBA reserves the code) */
#define RXE_FLUSH_AETH_NAK_KEY	0x65

extern const struct uapi_definition rxe_flush_seal_defs[];
/* rxe_flush_uapi.c: the root the device's driver_def points to */
extern const struct uapi_definition rxe_flush_uapi_defs[];
u32 rxe_flush_seal_req_trailer(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			       u32 mask, u32 payload);
int rxe_flush_seal_req(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
		       struct rxe_pkt_info *pkt, u32 payload);
int rxe_flush_seal_resp_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_mr *mr);
u32 rxe_flush_seal_resp_trailer(struct rxe_mr *mr, u32 payload);
int rxe_flush_seal_read_resp(struct rxe_qp *qp, struct rxe_mr *mr,
			     struct resp_res *res, struct rxe_pkt_info *ack,
			     u32 payload);
int rxe_flush_seal_comp_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			     struct rxe_send_wqe *wqe);
int rxe_flush_seal_send_open(struct rxe_qp *qp, struct rxe_pkt_info *pkt);
int rxe_flush_seal_flush_ops(struct rxe_qp *qp, struct rxe_pkt_info *pkt);
int rxe_flush_seal_executed(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			    struct resp_res *res);
int rxe_flush_seal_dup_open(struct rxe_qp *qp, struct resp_res *res,
			    struct rxe_pkt_info *pkt);
u32 rxe_flush_seal_answer_len(const struct resp_res *res);
void rxe_flush_seal_answer(struct rxe_qp *qp, const struct resp_res *res,
			   struct rxe_pkt_info *ack);
bool rxe_flush_seal_comp_is_ack(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
				struct rxe_pkt_info *pkt);
void rxe_flush_seal_qp_cleanup(struct rxe_qp *qp);
bool rxe_flush_seal_qp_bound(struct rxe_qp *qp);
/* a QP's draw and bind, for uverbs and kernel users alike */
int rxe_flush_seal_draw(struct rxe_qp *qp, u8 *draw);
int rxe_flush_seal_bind(struct rxe_qp *qp, struct rxe_flush_key *key,
			const u8 *peer_draw);

/*
 * A pacing schedule (rxe_flush_qos.c, rxe_flush_share.c), a virtual
 * clock: each packet moves next_ns on by the time its bytes take at the
 * rate, and a packet waits while next_ns is ahead of now; a schedule that
 * lags now by more than a burst is brought up to it.  A packet is charged
 * its size on the wire: BTH..ICRC and RXE_FLUSH_QOS_WIRE_OVERHEAD.
 */
#define RXE_FLUSH_QOS_WIRE_OVERHEAD	(40 + 8 + 14)	/* IPv6, UDP, Ethernet */
/* the largest packet, in .c files that know rxe_hdr.h */
#define RXE_FLUSH_QOS_MAX_WIRE		(4096 + RXE_MAX_HDR_LENGTH + \
					 RXE_FLUSH_QOS_WIRE_OVERHEAD)
/* a timer may fire this much late, so that a wake sends a few packets */
#define RXE_FLUSH_QOS_SLACK_NS		(100 * NSEC_PER_USEC)

/* 0 if a packet may go at now, else how long it must wait */
static inline u64 rxe_flush_qos_delay(u64 *next_ns, u64 burst_ns, u64 now)
{
	if (*next_ns + burst_ns < now)
		*next_ns = now - burst_ns;
	return *next_ns > now ? *next_ns - now : 0;
}

/* how far wire bytes move a schedule at bytes_per_s */
static inline u64 rxe_flush_qos_cost_ns(u64 wire, u64 bytes_per_s)
{
	return div64_u64(wire * NSEC_PER_SEC, bytes_per_s);
}

/* a burst: at_least_ns at the rate, and at least bytes */
static inline u64 rxe_flush_qos_burst_ns(u64 bytes_per_s, u64 at_least_ns,
					 u64 bytes)
{
	return max_t(u64, at_least_ns,
		     rxe_flush_qos_cost_ns(bytes, bytes_per_s));
}

/* a packet's bytes on the wire, where rxe_opcode[] is known */
#define RXE_FLUSH_QOS_WIRE(opcode, payload)				\
	((u64)rxe_opcode[opcode].length + (payload) + RXE_ICRC_SIZE +	\
	 RXE_FLUSH_QOS_WIRE_OVERHEAD)

/* a soft hrtimer for a wait of delay ns, with a little slack */
static inline void rxe_flush_qos_arm(struct hrtimer *t, u64 delay)
{
	hrtimer_start_range_ns(t, ns_to_ktime(delay),
			       min_t(u64, delay / 4, RXE_FLUSH_QOS_SLACK_NS),
			       HRTIMER_MODE_REL_SOFT);
}

/*
 * rxe_flush_qos.c: a per-QP rate limit (IB_QP_RATE_LIMIT, kbps) that the
 * requester paces by, from RXE_FLUSH_QOS_RATE_MIN to _MAX (uapi), and the
 * requester's one entry to QoS, its own rate's and its device's.
 *   _modify_qp()  from rxe_modify_qp(): takes IB_QP_RATE_LIMIT off *mask
 *   _wait()       the requester, before it builds a packet: true to stop
 *                 (a timer runs it again when the packet may go)
 *   _fill_res_qp_entry()   rxe's ops: the QP's QoS for the rdma tool
 */
int rxe_flush_qos_modify_qp(struct rxe_qp *qp, struct ib_qp_attr *attr,
			    int *mask);
bool rxe_flush_qos_wait(struct rxe_qp *qp, int opcode, u32 payload);
void rxe_flush_qos_paced_sent(struct rxe_qp *qp);
void rxe_flush_qos_qp_cleanup(struct rxe_qp *qp);
int rxe_flush_qos_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp);
int rxe_flush_qos_fill_res_attrs(struct sk_buff *msg, struct rxe_qp *qp);

/*
 * rxe_flush_share.c: a device's rate shared by weight, for
 * rxe_flush_qos.c, and its sysfs attributes (in rxe's own group).
 *   _wait()        true when the device holds the QP's next packet
 *   _qp_cleanup()  the QP off the device's waiters
 *   _dev_init(), _dev_cleanup()   from rxe_init() and rxe_dealloc()
 */
bool rxe_flush_share_wait(struct rxe_qp *qp, u64 wire, u64 now);
void rxe_flush_share_qp_cleanup(struct rxe_qp *qp);
void rxe_flush_share_dev_init(struct rxe_dev *rxe);
void rxe_flush_share_dev_cleanup(struct rxe_dev *rxe);
/* in rxe_dev_attributes[] */
extern struct device_attribute rxe_flush_attr_qos_rate_kbps;
extern struct device_attribute rxe_flush_attr_qos_tc_weights;

/*
 * rxe_flush_cc.c: congestion notification, end to end.
 *   _tos()          the IP TOS of a packet: ECT(0) on RC requests
 *   _cnp_rcv()      rxe_rcv(), first: true for a CNP (the caller frees it)
 *   _rcv_ce()       rxe_rcv(), a checked packet: CE answered with a CNP
 *   _wait()         the requester, before a packet (and before QoS): true
 *                   to stop while the QP's cut rate holds it
 *   _sent()         the requester, the packet going: measured, charged
 *   _fill_res_qp_entry()   rxe's ops: QoS and congestion for the rdma tool
 *   _qp_reset()     rxe_qp_reset(): the QP starts again uncut
 */
struct rxe_flush_cc;
u8 rxe_flush_cc_tos(struct rxe_pkt_info *pkt, u8 tclass);
bool rxe_flush_cc_cnp_rcv(struct rxe_pkt_info *pkt, struct sk_buff *skb);
void rxe_flush_cc_rcv_ce(struct rxe_pkt_info *pkt, struct sk_buff *skb);
bool rxe_flush_cc_wait(struct rxe_qp *qp, int opcode, u32 payload);
void rxe_flush_cc_sent(struct rxe_qp *qp, int opcode, u32 payload);
int rxe_flush_cc_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp);
void rxe_flush_cc_qp_reset(struct rxe_qp *qp);
void rxe_flush_cc_qp_cleanup(struct rxe_qp *qp);

/* rxe_flush_icrc.c */
bool rxe_flush_icrc_tx_rxe6(const struct rxe_pkt_info *pkt);
bool rxe_flush_icrc_rx_may_be_rxe6(const struct rxe_pkt_info *pkt);
void rxe_flush_icrc_rx_rxe6_seen(const struct rxe_pkt_info *pkt);

/* rxe_flush_req.c: the requester's hooks */
/* a VERIFY WQE's VETH word (wr.atomic.swap: rxe_flush_req.c) */
#define rxe_flush_verify_word(wqe)	lower_32_bits((wqe)->wr.wr.atomic.swap)

int rxe_flush_req_opcode(u32 wr_opcode);
void rxe_flush_req_init_headers(struct rxe_pkt_info *pkt,
				struct rxe_send_wqe *wqe);
u32 rxe_flush_req_payload_len(const struct rxe_send_wqe *wqe);
int rxe_flush_req_payload(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			  struct rxe_pkt_info *pkt, u32 payload);
/* the completer's */
int rxe_flush_wr_to_wc_opcode(u32 wr_opcode);
bool rxe_flush_comp_is_ack(const struct rxe_send_wqe *wqe,
			   struct rxe_pkt_info *pkt);

/*
 * rxe_flush_resp.c: the responder's hooks.  They return 0, or the errno of
 * the NAK to send, memory untouched:
 *   -EINVAL   invalid request           (requester: IBV_WC_REM_INV_REQ_ERR)
 *   -EACCES   remote access error       (requester: IBV_WC_REM_ACCESS_ERR)
 *   -EBADMSG  remote operational error  (requester: IBV_WC_REM_OP_ERR), a
 *             VERIFY whose digest differs or a range the MR's owner knows
 *             to be poisoned, at the check or at any step of the
 *             execution; the QP goes to the error state
 * rxe_flush_resp_execute() keeps the execution and its answer in res (struct
 * rxe_flush_exec) and, on success, makes res the QP's current resource and
 * completes the request's PSN.  It may also return -EINPROGRESS: one step
 * of a long request is done, res is the QP's current resource, the
 * responder task is scheduled again, and the responder hands res back to
 * it with the same packet.
 * rxe_flush_resp_dup_matches() says whether a duplicate may be answered
 * from res: same type, R_Key, VA, length, FETH/VETH and payload as the
 * request executed; any other duplicate is dropped (Class D).
 */
bool rxe_flush_resp_qp_access_ok(struct rxe_qp *qp, struct rxe_pkt_info *pkt);
int rxe_flush_resp_check(struct rxe_qp *qp, struct rxe_pkt_info *pkt);
int rxe_flush_resp_execute(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			   struct resp_res *res);
bool rxe_flush_resp_dup_matches(const struct resp_res *res,
				struct rxe_pkt_info *pkt);
u32 rxe_flush_resp_ack_len(const struct resp_res *res);
void rxe_flush_resp_ack_payload(const struct resp_res *res,
				struct rxe_pkt_info *ack);

/* rxe_flush_guard.c: false for a packet to refuse as an invalid request */
bool rxe_flush_resp_length_ok(struct rxe_pkt_info *pkt);
bool rxe_flush_resp_first_ok(struct rxe_pkt_info *pkt);
bool rxe_flush_range_within(u64 start, u64 size, u64 iova, u64 len);

/* rxe_flush_persist.c: one step of a FLUSH, last for its last one */
int rxe_flush_persist(struct rxe_dev *rxe, struct rxe_mr *mr, u64 iova,
		      u64 length, bool last);

/*
 * rxe_flush_fault.c, for tests only: built with CONFIG_RDMA_RXE_FLUSH_FAULT
 * (Kbuild; the top Makefile's RXE_FLUSH_FAULT), else the hooks do nothing
 */
#ifdef CONFIG_RDMA_RXE_FLUSH_FAULT
void rxe_flush_fault_init(void);
void rxe_flush_fault_exit(void);
bool rxe_flush_fault_xmit(struct rxe_qp *qp, struct rxe_pkt_info *pkt,
			  struct sk_buff *skb);
#else
static inline void rxe_flush_fault_init(void) {}
static inline void rxe_flush_fault_exit(void) {}
static inline bool rxe_flush_fault_xmit(struct rxe_qp *qp,
					struct rxe_pkt_info *pkt,
					struct sk_buff *skb)
{
	return false;
}
#endif

/* rxe_flush_domain.c */
void rxe_flush_domain_write(struct rxe_mr *mr, u64 iova, u64 len);
void rxe_flush_domain_stored(struct rxe_mr *mr, u64 iova, u64 len);
bool rxe_flush_domain_range_ok(struct rxe_mr *mr, u64 iova, u64 len);
struct rxe_flush_domain *rxe_flush_domain_of(struct rxe_mr *mr);
bool rxe_flush_mr_has_rkey(struct rxe_mr *mr, int access);

/* rxe_flush_hash.c, for the responder's VERIFY */
void rxe_flush_hash_init(struct rxe_flush_hash *h, u32 alg);
int rxe_flush_hash_range(struct rxe_flush_hash *h, struct rxe_mr *mr,
			 const void *image, u64 iova, u32 len);
unsigned int rxe_flush_hash_final(struct rxe_flush_hash *h, u8 *digest);

#endif /* RXE_FLUSH_H */
