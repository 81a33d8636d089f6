/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FLUSH and ATOMIC WRITE helpers shared by the selftests that drive them:
 * the devdax target mapping, one signaled request on qp[0] and its
 * completion, through ibv_wr_* or the classic ibv_post_send().
 */
#ifndef PMEM_RDMA_FLUSH_HELPERS_H
#define PMEM_RDMA_FLUSH_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "rdma_helpers.h"

#define PT_WC_TIMEOUT_MS	20000
#define PT_PM_SIZE		(2UL << 20)	/* one devdax page */
#define PT_SRC_SIZE		(512UL << 10)

#define PT_FLUSH_QP_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
				 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_FLUSH_GLOBAL | \
				 IBV_ACCESS_FLUSH_PERSISTENT)
#define PT_FLUSH_SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_FLUSH | \
				 IBV_QP_EX_WITH_ATOMIC_WRITE | IBV_QP_EX_WITH_RDMA_READ)

/* the patched rxe's transmit faults (debugfs) and FLUSH ICRC parameter */
#define PT_FAULT_PATH		"/sys/kernel/debug/rxe_flush/fault"
#define PT_FLUSH_ICRC_PARAM	"/sys/module/rdma_rxe_flush/parameters/flush_icrc"
/* its default on both kernel lines: upstream rxe's */
#define PT_FLUSH_ICRC_DEFAULT	"rxe6"

/*
 * The fault knob is in test builds only (make RXE_FLUSH_FAULT=y, the top
 * Makefile's default; never in the packages): a test that needs it skips
 * without it, e.g. if (!pt_has_fault()) SKIP(return, PT_NO_FAULT);
 */
#define PT_NO_FAULT \
	"needs " PT_FAULT_PATH ": rdma_rxe_flush built with RXE_FLUSH_FAULT=y, debugfs"

static inline int pt_has_fault(void)
{
	return !access(PT_FAULT_PATH, W_OK);
}

/*
 * Two connected extended QPs on the device, a zeroed local source buffer
 * registered for local access, and the devdax target (zeroed, registered
 * with PT_FLUSH_QP_ACCESS) when there is one: pm is NULL otherwise.
 */
struct pt_flush_env {
	struct pt_ctx c;
	unsigned char *pm, *src;
	struct ibv_mr *pm_mr, *src_mr;
};

/* the SKIP reason of a test that needs pm */
#define PT_NO_DEVDAX		"needs the NVDIMM in devdax mode"

/* 0, or -errno with the step that failed in *what */
int pt_flush_env_open(struct pt_flush_env *e, const char **what);
/* the same with other QP access flags (the target MR keeps its access) */
int pt_flush_env_open_qp(struct pt_flush_env *e, int qp_access,
			 const char **what);
void pt_flush_env_close(struct pt_flush_env *e);

/* The 8 bytes at p as the target sees them now (an acquire load). */
static inline uint64_t pt_load64(const void *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE);
}

/* The first PT_PM_SIZE bytes of PMEM_RDMA_DAX in devdax mode, or NULL. */
void *pt_map_pmem(void);

/* Wait for one completion of qp[0]: 0 (check wc->status) or -errno. */
int pt_wait_wc(struct pt_ctx *c, struct ibv_wc *wc);

/* Post with ibv_wr_flush() / ibv_wr_atomic_write() and wait. */
int pt_wr_flush(struct pt_ctx *c, uint32_t rkey, uint64_t raddr, size_t len,
		uint8_t type, uint8_t level, struct ibv_wc *wc);
int pt_wr_atomic_write(struct pt_ctx *c, uint32_t rkey, uint64_t raddr,
		       const void *val, struct ibv_wc *wc);

/*
 * Post with ibv_post_send(): one sge [buf, buf + len), wr.rdma, and for
 * IBV_WR_FLUSH the FETH word in imm_data.  Waits for the completion.
 */
int pt_post_send(struct pt_ctx *c, enum ibv_wr_opcode op, void *buf,
		 uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey,
		 uint32_t feth, struct ibv_wc *wc);

#endif /* PMEM_RDMA_FLUSH_HELPERS_H */
