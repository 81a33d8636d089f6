// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the ICRC of RDMA FLUSH.
 *
 * IBA (A17.8) ends the ICRC of a FLUSH at its headers, since it carries no
 * payload.  Upstream rxe (Linux >= 6.2) gives RC_FLUSH no payload offset in
 * its opcode table, so after the masked headers it runs the CRC over the
 * packet again from the BTH on, unmasked: BTH, FETH and RETH (32 bytes) are
 * counted twice.  See Documentation/wire-format.rst.
 *
 * We send the IBA ICRC unless flush_icrc=rxe6, and accept either on receive.
 * On 6.12, whose own rxe sends and checks upstream's, rxe6 is the default,
 * so that a stock 6.12 peer takes our FLUSH (rxe_flush_compat.h).
 */

#include <linux/module.h>
#include <linux/string.h>

#include "rxe.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"
#include "rxe_flush_hdr.h"

enum rxe_flush_icrc_mode {
	RXE_FLUSH_ICRC_IBA,
	RXE_FLUSH_ICRC_RXE6,
};

static const char * const rxe_flush_icrc_names[] = {
	[RXE_FLUSH_ICRC_IBA]	= "iba",
	[RXE_FLUSH_ICRC_RXE6]	= "rxe6",
};

static int rxe_flush_icrc_mode = RXE_FLUSH_ICRC_DEFAULT;

static int rxe_flush_icrc_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(rxe_flush_icrc_names, val);

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(rxe_flush_icrc_mode, i);
	return 0;
}

static int rxe_flush_icrc_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  rxe_flush_icrc_names[READ_ONCE(rxe_flush_icrc_mode)]);
}

static const struct kernel_param_ops rxe_flush_icrc_ops = {
	.set = rxe_flush_icrc_set,
	.get = rxe_flush_icrc_get,
};

module_param_cb(flush_icrc, &rxe_flush_icrc_ops, NULL, 0644);
MODULE_PARM_DESC(flush_icrc,
		 "ICRC of sent FLUSH requests: iba (IBA's; the default on 6.1) or rxe6 (upstream rxe's, to interoperate with it; the default on 6.12); both are accepted");

bool rxe_flush_icrc_tx_rxe6(const struct rxe_pkt_info *pkt)
{
	return pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH &&
	       READ_ONCE(rxe_flush_icrc_mode) == RXE_FLUSH_ICRC_RXE6;
}

bool rxe_flush_icrc_rx_may_be_rxe6(const struct rxe_pkt_info *pkt)
{
	return pkt->opcode == RXE_FLUSH_OPCODE_RC_FLUSH;
}

void rxe_flush_icrc_rx_rxe6_seen(const struct rxe_pkt_info *pkt)
{
	rxe_counter_inc(pkt->rxe, RXE_CNT_FLUSH_ICRC_RXE6);
}
