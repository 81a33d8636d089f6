/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verbs helpers shared by the pmem_rdma selftests: two RC QPs on one rxe
 * device (rxe loops packets for its own GID back to itself), connected
 * through GID index 0, with bounded completion polling; and the file and
 * command helpers around them (sysfs, debugfs, module parameters, shell).
 */
#ifndef PMEM_RDMA_RDMA_HELPERS_H
#define PMEM_RDMA_RDMA_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#define PT_DEV_DEFAULT	"rxe0"
#define PT_PORT		1
#define PT_GID_INDEX	0

/* RC retransmission: local ACK timeout 4.096 us * 2^timeout, retry count */
#define PT_RC_TIMEOUT	14
#define PT_RC_RETRY_CNT	7	/* rxe: 7 retries for ever */

/*
 * qp[0] and cq[0] are on ctx/pd.  qp[1] and cq[1] are there too, unless
 * pt_open_two() opened a second device: then they are on rctx/rpd, whose
 * GID is rgid.
 */
struct pt_ctx {
	struct ibv_context *ctx, *rctx;
	struct ibv_pd *pd, *rpd;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	union ibv_gid gid, rgid;
	enum ibv_mtu mtu;
	/*
	 * The QPs' timeout and retry_cnt; timeout 0 (no timeout, which no
	 * test wants) stands for PT_RC_TIMEOUT and PT_RC_RETRY_CNT.  Set
	 * them between pt_open*() and the connect.
	 */
	uint8_t timeout, retry_cnt;
	/* the QPs' GRH traffic class (0 unless set before the connect) */
	uint8_t tclass;
};

static inline struct ibv_context *pt_side_ctx(struct pt_ctx *c, int side)
{
	return side && c->rctx ? c->rctx : c->ctx;
}

static inline struct ibv_pd *pt_side_pd(struct pt_ctx *c, int side)
{
	return side && c->rpd ? c->rpd : c->pd;
}

/* Open the device (PMEM_RDMA_IBDEV or rxe0); 0 or -errno. */
int pt_open(struct pt_ctx *c);
/* Open dev0 for qp[0] and dev1 for qp[1]; 0 or -errno. */
int pt_open_two(struct pt_ctx *c, const char *dev0, const char *dev1);
/* Open the named device alone (ctx, pd, gid, mtu of c): 0 or -errno. */
int pt_open_dev(struct pt_ctx *c, const char *name);
/* Create two RC QPs, each with its own CQ, and connect them to each other. */
int pt_connect_pair(struct pt_ctx *c, int access);
/* The same with extended QPs taking the ibv_wr_* operations in send_ops. */
int pt_connect_pair_ex(struct pt_ctx *c, int access, uint64_t send_ops);
/*
 * qp (of c's device, in RESET) to RTS towards QP dqpn at dgid, with c's
 * MTU and timing: for a peer in another process.  0 or -errno.
 */
int pt_qp_connect(struct pt_ctx *c, struct ibv_qp *qp, uint32_t dqpn,
		  const union ibv_gid *dgid, int access);
/* qp[side] through RESET back to RTS, as connected: 0 or -errno. */
int pt_qp_rearm(struct pt_ctx *c, int side, int access);
void pt_close(struct pt_ctx *c);

/* Poll one completion from cq within timeout_ms: 0, -ETIMEDOUT or -EIO. */
/* CLOCK_MONOTONIC in seconds */
double pt_now_s(void);
int pt_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int timeout_ms);

/*
 * Post one signaled RDMA WRITE or READ of [local, local + len) on c->qp[0]
 * and wait for its completion in *wc: 0 once a completion arrived (check
 * wc->status), else -errno.
 */
int pt_rdma_sync(struct pt_ctx *c, enum ibv_wr_opcode op, void *local,
		 uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey,
		 struct ibv_wc *wc);

/*
 * Fill buf with a pattern derived from seed; pt_check_pattern finds it.
 * The patterns of two different seeds differ within their first 8 bytes.
 */
void pt_fill_pattern(void *buf, size_t len, uint32_t seed);
int pt_check_pattern(const void *buf, size_t len, uint32_t seed);

/* Read a one-line sysfs or proc file into buf without the newline. */
int pt_read_line(const char *path, char *buf, size_t len);
/* Write line to a sysfs, debugfs or module parameter file: 0 or -errno. */
int pt_write_line(const char *path, const char *line);
/* Whether path exists. */
int pt_exists(const char *path);
/* the last record pmlog -v said acknowledged in file path, plus one; 0: none */
unsigned long long pt_pmlog_acked(const char *path);
/* Run the shell command fmt makes: its exit status, or -1. */
int pt_sh(const char *fmt, ...);
/*
 * The same, with what it prints on stdout (add 2>&1 for stderr) in out
 * (len bytes, NUL-terminated, cut there).
 */
int pt_sh_out(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* how many times s occurs in out */
int pt_count_of(const char *out, const char *s);

/*
 * A DAX filesystem (ext4 -o dax) made afresh on the VM's small fsdax
 * namespace (PMEM_RDMA_FSDAX), mounted at PT_FSDAX_DIR, with a file of
 * size bytes at PT_FSDAX_FILE: 0, 1 when there is no such namespace
 * (skip), -1 on failure.  pt_fsdax_down() unmounts it.
 */
#define PT_FSDAX_DIR	"/run/pmrdma-fsdax"
#define PT_FSDAX_FILE	PT_FSDAX_DIR "/f"
int pt_fsdax_up(size_t size);
void pt_fsdax_down(void);
/*
 * Put back what the VM's tests expect (scripts/vm-guest set it up), whatever
 * a test took away: rdma_rxe_flush and pmem_rdma from PMEM_RDMA_RXE_KO and
 * PMEM_RDMA_KO, and rxe0 on d0.  0, or -EIO if a step failed.
 */
int pt_restore_stack(void);

/* A hw_counters value of the device's port, or -1. */
long long pt_read_counter(const char *name);
long long pt_read_dev_counter(const char *dev, const char *name);
/* The QP's state (enum ibv_qp_state), or -errno. */
int pt_qp_state(struct ibv_qp *qp);

#endif /* PMEM_RDMA_RDMA_HELPERS_H */
