/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_flush: the hooks that Debian's 6.1 rxe calls into, through the
 * patches in patches/series.  Everything declared here is implemented in
 * the rxe_flush_*.c files beside this header.
 */
#ifndef RXE_FLUSH_H
#define RXE_FLUSH_H

#include <rdma/ib_verbs.h>

/* Identifies the patched driver in /sys/module and in the device's fw_ver. */
#define RXE_FLUSH_VERSION	"0.1.0"

void rxe_flush_get_dev_fw_str(struct ib_device *ibdev, char *str);

#endif /* RXE_FLUSH_H */
