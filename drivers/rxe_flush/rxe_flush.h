/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: the hooks that Debian's 6.1 rxe calls into, through the
 * patches in patches/series.  Everything declared here is implemented in
 * the rxe_flush_*.c files beside this header.
 */
#ifndef RXE_FLUSH_H
#define RXE_FLUSH_H

#include <rdma/ib_verbs.h>

/*
 * Identifies the patched driver: the module version, the device's fw_ver
 * string in sysfs ("rxe_flush-0.1.0") and the numeric fw_ver that
 * rdma-core's rxe provider prints as major.minor.sub (the in-tree driver
 * reports 0.0.0).  Keep the three numbers and the string in step.
 */
#define RXE_FLUSH_VERSION_MAJOR	0
#define RXE_FLUSH_VERSION_MINOR	1
#define RXE_FLUSH_VERSION_SUB	0
#define RXE_FLUSH_VERSION	"0.1.0"
#define RXE_FLUSH_FW_VER	(((u64)RXE_FLUSH_VERSION_MAJOR << 32) | \
				 ((u64)RXE_FLUSH_VERSION_MINOR << 16) | \
				 RXE_FLUSH_VERSION_SUB)

void rxe_flush_get_dev_fw_str(struct ib_device *ibdev, char *str);

#endif /* RXE_FLUSH_H */
