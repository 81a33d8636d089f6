// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: identification of the patched Soft-RoCE driver.
 *
 * The in-tree rdma_rxe and ours register the same link type and driver id,
 * so user space tells them apart by the device's firmware version string,
 * /sys/class/infiniband/<dev>/fw_ver (ibv_devinfo shows it as fw_ver).
 */
#include <linux/string.h>

#include "rxe_flush.h"

void rxe_flush_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	strscpy(str, "rxe_flush-" RXE_FLUSH_VERSION, IB_FW_VERSION_NAME_MAX);
}
