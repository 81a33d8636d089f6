/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * pmem_rdma: the metadata a replicated map keeps in each of its copies
 * (libpmrdma, pmrdma_config_set_metadata()), as DRBD keeps "internal
 * meta-data" at the end of its backing device.  A copy of size bytes -
 * the local range, and each replica's export, all of the same size -
 * holds, in this order:
 *
 *   [0, data_size)                 the map's view
 *   [data_size, size - HEADER)     the write-intent bitmap: bit r of
 *                                  64-bit little-endian word r / 64 set
 *                                  when region r (1 << region_shift
 *                                  bytes at r << region_shift) may differ
 *                                  on some copy
 *   [size - HEADER, size)          the header page: two slots of
 *                                  PMEM_RDMA_MD_SLOT bytes at its start
 *
 * A header is written to the slot its valid predecessor is not in, with
 * the next seq; a reader takes the valid slot (magic, version, csum) with
 * the higher seq, so a header torn by a power failure leaves the one
 * before it.  Every field is little-endian.
 *
 * Generations are DRBD's UUIDs: gen[0] is the copy's current one, a
 * random number the primary draws when a copy in sync drops out while the
 * map is written; gen[1..] are the ones before, newest first (0: none).
 * The bitmap holds every region written since gen[bitmap_gens] (0: only
 * those whose flush may not have reached every copy).  When a map is
 * opened, a replica whose gen[0] is the local copy's is current; one whose
 * gen[0] is the local gen[k] is stale, and the bitmap has what it lacks
 * if k <= bitmap_gens; a local gen[0] found in the replica's gen[1..]
 * makes the local copy the stale one; anything else has diverged.
 *
 * flags (DRBD's md flags): PRIMARY while a map has the copy as its local
 * copy, so one still set when no map has it open says the primary
 * crashed; CLOSED when the last primary deleted its map (on its local
 * copy and every replica then in sync): with neither, a replica's
 * primary went with writes in flight, which may have reached one
 * replica and not another; INCONSISTENT from the moment a replica is
 * judged until its resync ends: a copy cut off in between is not whole,
 * and gen[0] is 0 when it had no generation before (a new copy).
 */
#ifndef _UAPI_LINUX_PMEM_RDMA_MD_H
#define _UAPI_LINUX_PMEM_RDMA_MD_H

#include <linux/types.h>

#define PMEM_RDMA_MD_MAGIC	"PMRDMAMD"	/* 8 bytes, no NUL */
#define PMEM_RDMA_MD_VERSION	2	/* 2: the flags */
#define PMEM_RDMA_MD_HEADER	4096	/* the header page */
#define PMEM_RDMA_MD_SLOT	512	/* each of its two slots */
#define PMEM_RDMA_MD_GENS	16

#define PMEM_RDMA_MD_PRIMARY		(1U << 0)
#define PMEM_RDMA_MD_CLOSED		(1U << 1)
#define PMEM_RDMA_MD_INCONSISTENT	(1U << 2)
#define PMEM_RDMA_MD_FLAGS		0x7	/* all of them */

struct pmem_rdma_md_header {
	__u8 magic[8];
	__le32 version;
	__le32 region_shift;	/* log2 of a region's bytes, 12..30 */
	__le64 seq;		/* of the header: the higher valid one wins */
	__le64 size;		/* of the copy */
	__le64 data_size;	/* the view: where the bitmap starts */
	__le32 flags;		/* PMEM_RDMA_MD_* */
	__le32 bitmap_gens;	/* gen[1..bitmap_gens] are in the bitmap */
	__le64 gen[PMEM_RDMA_MD_GENS];
	__le64 csum;		/* XXH64, seed 0, of the bytes before it */
};

#endif /* _UAPI_LINUX_PMEM_RDMA_MD_H */
