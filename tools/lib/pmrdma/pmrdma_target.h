/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's control of the kernel target: /dev/pmem_rdma opened with its
 * ABI checked, and its ioctls (<linux/pmem_rdma.h>) with errors that say
 * what they mean for the call.  pmrdmactl is built on it; so can be any
 * program that makes its own exports.
 *
 * Every call returns 0 or a negative errno, and pmrdma_target_errormsg()
 * then has one line: the errno's text and, where it helps, what it means
 * ("needs CAP_SYS_ADMIN", "the port is taken", ...).
 */
#ifndef PMRDMA_TARGET_H
#define PMRDMA_TARGET_H

#include <stdint.h>
#include <linux/pmem_rdma.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PMRDMA_TARGET_PATH	"/dev/pmem_rdma"

struct pmrdma_target;

/*
 * Open the target and check that it speaks this library's ABI.  -ENOENT
 * (the module is not loaded), -EACCES, -EPROTO (another ABI version),
 * -ENOMEM.  On failure *t is NULL and the message is in msg (of msglen).
 */
int pmrdma_target_open(struct pmrdma_target **t, char *msg, size_t msglen);
void pmrdma_target_close(struct pmrdma_target **t);
const char *pmrdma_target_errormsg(const struct pmrdma_target *t);

/* EXPORT: e->id is set on success.  The errors are the ioctl's. */
int pmrdma_target_export(struct pmrdma_target *t,
			 struct pmem_rdma_export_req *e);
int pmrdma_target_unexport(struct pmrdma_target *t, uint32_t id);
/*
 * LIST: *info (freed with free()) holds *count exports, as they were at
 * one moment.
 */
int pmrdma_target_list(struct pmrdma_target *t,
		       struct pmem_rdma_export_info **info, uint32_t *count);
int pmrdma_target_stats(struct pmrdma_target *t, struct pmem_rdma_stats *st);
int pmrdma_target_power_fail(struct pmrdma_target *t,
			     struct pmem_rdma_power_fail *pf);

#ifdef __cplusplus
}
#endif

#endif /* PMRDMA_TARGET_H */
