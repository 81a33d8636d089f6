// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: identification of the patched Soft-RoCE driver.
 *
 * The in-tree rdma_rxe and ours register the same link type and driver id,
 * so user space tells them apart by the device's firmware version: the
 * string /sys/class/infiniband/<dev>/fw_ver ("rxe_flush-0.9.0"), and the
 * number that rdma-core's rxe provider derives from the same version and
 * that ibv_devinfo prints as fw_ver ("0.9.0"; the in-tree driver's is
 * "0.0.0").
 */
#include <linux/string.h>

#include "rxe_flush.h"

void rxe_flush_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	strscpy(str, "rxe_flush-" RXE_FLUSH_VERSION, IB_FW_VERSION_NAME_MAX);
}
