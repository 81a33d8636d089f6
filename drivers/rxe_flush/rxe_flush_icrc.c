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
 * We accept either on receive.  We send upstream's unless flush_icrc=iba:
 * every Linux >= 6.2 rxe drops a FLUSH with IBA's, and those are the
 * peers a soft-RoCE host meets; a peer that follows A17.8 needs iba.
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

static int rxe_flush_icrc_mode = RXE_FLUSH_ICRC_RXE6;

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
		 "ICRC of sent FLUSH requests: rxe6 (upstream rxe's, which every Linux >= 6.2 peer checks; the default) or iba (IBA A17.8's); both are accepted");

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
