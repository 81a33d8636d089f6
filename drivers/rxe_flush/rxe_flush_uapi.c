// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the device's uverbs definitions (ib_device.driver_def), the
 * root of the driver's ioctl interface: the data key object
 * (rxe_flush_key.c) and the keyed-wire methods of the QP object
 * (rxe_flush_seal.c).  Kept apart so that neither file names the other's.
 */

#include <rdma/uverbs_ioctl.h>

#include "rxe.h"
#include "rxe_flush.h"

const struct uapi_definition rxe_flush_uapi_defs[] = {
	UAPI_DEF_CHAIN(rxe_flush_key_defs),
	UAPI_DEF_CHAIN(rxe_flush_seal_defs),
	{}
};
