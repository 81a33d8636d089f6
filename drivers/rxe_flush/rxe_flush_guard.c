// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: the responder's guards against packets that no correct
 * requester sends.  Debian 6.1's rxe trusts some header fields that a
 * stranger on the network sets: an RDMA WRITE ONLY whose RETH length is 0
 * but which carries payload skips the R_Key check (a zero-length WRITE
 * needs none) and then copies its payload through no MR at all - a NULL
 * pointer dereference in softirq, with no key needed.  rxe_resp.c's
 * check_length() asks here first; a packet refused here is NAKed as an
 * invalid request (RC) or dropped (UC), before anything is looked up or
 * written.
 *
 * rxe_flush_range_within() is the one range check of rxe's MRs and of
 * its duplicate READs: Debian's 6.1 sums a peer's VA and length (or an
 * MR's), and a sum that wraps past 2^64 lands a range inside one it is
 * not in.
 */

#include "rxe.h"
#include "rxe_flush.h"

/*
 * A request that carries a RETH says how long its message is; its first
 * packet must fit that length:
 *   RDMA WRITE ONLY (with or without immediate)  payload == length
 *   RDMA WRITE FIRST                              payload <  length
 *   RDMA READ REQUEST                             no payload
 * A WRITE of a keyed MR carries a trailer besides (rxe_flush_seal.c), and
 * a zero-length WRITE, keyed or not, carries nothing.  Whether the MR is
 * keyed is known only once it is looked up: rxe holds the payload to the
 * length again then, with the trailer taken off a keyed packet.  Later
 * packets of a WRITE are held to what is left of the length by rxe.
 * rxe_flush's own requests (FLUSH, ATOMIC WRITE, VERIFY) have checks of
 * their own.
 */
bool rxe_flush_resp_length_ok(struct rxe_pkt_info *pkt)
{
	u64 len, paylen, trailer;

	if (!(pkt->mask & RXE_RETH_MASK) || (pkt->mask & RXE_FLUSH_OPS_MASK))
		return true;

	len = reth_len(pkt);
	paylen = payload_size(pkt);
	if (pkt->mask & RXE_READ_MASK)
		return !paylen && !bth_pad(pkt);
	if (!(pkt->mask & RXE_WRITE_MASK))
		return true;
	trailer = len ? RXE_FLUSH_SEAL_LEN : 0;
	if (pkt->mask & RXE_END_MASK)
		return paylen == len || paylen == len + trailer;
	return paylen < len + trailer;	/* rxe_flush_resp_first_ok() */
}

/*
 * A WRITE FIRST once a keyed packet's trailer is off (rxe_flush_seal.c):
 * its payload is shorter than its RETH length.
 */
bool rxe_flush_resp_first_ok(struct rxe_pkt_info *pkt)
{
	if ((pkt->mask & (RXE_RETH_MASK | RXE_END_MASK)) != RXE_RETH_MASK)
		return true;
	return payload_size(pkt) < reth_len(pkt);
}

/*
 * Whether [iova, iova + len) lies in [start, start + size), with no sum
 * that can wrap: each subtraction is of a smaller or equal value.
 */
bool rxe_flush_range_within(u64 start, u64 size, u64 iova, u64 len)
{
	return iova >= start && len <= size && iova - start <= size - len;
}
