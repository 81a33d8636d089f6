/* SPDX-License-Identifier: GPL-2.0 */
/* The Windows examples of rtl_examples.c. */
#ifndef PMEM_RDMA_RTL_EXAMPLES_H
#define PMEM_RDMA_RTL_EXAMPLES_H

#include "pmrdma_rtl.h"

NTSTATUS ExplicitFlushExample(PVOID Base, SIZE_T Size);
NTSTATUS AsyncFlushExample(PVOID Base, SIZE_T Size);

#endif /* PMEM_RDMA_RTL_EXAMPLES_H */
