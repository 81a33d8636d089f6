/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * pmem_rdma: user API of /dev/pmem_rdma.
 *
 * Versioned: PMEM_RDMA_ABI_VERSION is bumped on any incompatible change and
 * user space checks it with PMEM_RDMA_IOC_GET_VERSION before anything else.
 * Every structure has a fixed size; reserved fields must be zero and are
 * checked by the kernel.
 *
 * ABI version 1: the version query only.  Export management comes later
 * (see Documentation/uapi.rst).
 */
#ifndef _UAPI_LINUX_PMEM_RDMA_H
#define _UAPI_LINUX_PMEM_RDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PMEM_RDMA_ABI_VERSION	1

/* ioctl type byte; not registered in ioctl-number.rst (out-of-tree module) */
#define PMEM_RDMA_IOC_MAGIC	0xCE

struct pmem_rdma_version {
	__u32 abi_version;	/* out: PMEM_RDMA_ABI_VERSION of the module */
	__u32 reserved0;	/* out: zero */
	__u64 reserved[3];	/* out: zero */
};

#define PMEM_RDMA_IOC_GET_VERSION \
	_IOR(PMEM_RDMA_IOC_MAGIC, 0x00, struct pmem_rdma_version)

#endif /* _UAPI_LINUX_PMEM_RDMA_H */
