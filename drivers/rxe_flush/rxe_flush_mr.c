// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_flush: flush access on memory regions.
 *
 * Linux 6.1's ib_core rejects IB_ACCESS_FLUSH_GLOBAL/PERSISTENT (bits 8, 9)
 * in REG_MR before a driver sees them, so the provider repeats the complete
 * access set in the command's driver data (struct rxe_flush_reg_mr_cmd).
 * Persistence access is granted on persistent memory pages only, as
 * upstream does: a DRAM buffer is refused with EINVAL.  The same data
 * may bind the MR to a data key, which rxe_flush_key.c does once the MR
 * is made.
 *
 * rxe_flush_mr_walk() visits a range of an MR the way FLUSH writes it back
 * and VERIFY hashes it: a kernel-mapped piece at a time.
 */

#include <linux/ioport.h>
#include <linux/minmax.h>
#include <linux/scatterlist.h>
#include <rdma/ib_umem.h>

#include "rxe.h"
#include "rxe_flush.h"
#include "rxe_flush_compat.h"

int rxe_flush_reg_mr_access(struct ib_udata *udata, int *access)
{
	struct rxe_flush_reg_mr_cmd cmd;
	size_t len = sizeof(cmd);

	if (!udata || !udata->inlen)
		return 0;	/* stock provider: no flush access */

	if (udata->inlen < len)
		return -EINVAL;
	if (udata->inlen > len &&
	    !ib_is_udata_cleared(udata, len, udata->inlen - len))
		return -EINVAL;
	if (ib_copy_from_udata(&cmd, udata, len))
		return -EFAULT;

	if (cmd.abi_version != RXE_FLUSH_ABI_VERSION ||
	    cmd.flags & ~RXE_FLUSH_REG_MR_FLAGS ||
	    (!(cmd.flags & RXE_FLUSH_REG_MR_KEYED) && cmd.key_id))
		return -EINVAL;
	/*
	 * only the flush bits may differ from what ib_core checked (6.1's
	 * passes none of them, 6.12's may pass them too)
	 */
	if ((cmd.access_flags ^ (u32)*access) & ~RXE_FLUSH_ACCESS_FLUSH)
		return -EINVAL;

	*access = cmd.access_flags;

	/* tell the provider the driver took them */
	if (udata->outlen) {
		struct rxe_flush_reg_mr_resp resp = {
			.access_flags = cmd.access_flags,
		};

		if (ib_copy_to_udata(udata, &resp,
				     min(udata->outlen, sizeof(resp))))
			return -EFAULT;
	}
	return 0;
}

static bool rxe_flush_page_is_pmem(struct page *page)
{
	return region_intersects(page_to_phys(page), PAGE_SIZE, IORESOURCE_MEM,
				 IORES_DESC_PERSISTENT_MEMORY) ==
	       REGION_INTERSECTS;
}

int rxe_flush_mr_check_pages(struct ib_umem *umem, int access)
{
	struct sg_page_iter iter;

	if (!(access & RXE_FLUSH_ACCESS_FLUSH_PERSISTENT))
		return 0;

	for_each_sgtable_page(&umem->sgt_append.sgt, &iter, 0)
		if (!rxe_flush_page_is_pmem(sg_page_iter_page(&iter)))
			return -EINVAL;

	return 0;
}

/*
 * Call fn on [iova, iova + length) of mr, one kernel-mapped piece (a page
 * of the MR) at a time; -EFAULT if a piece is not mapped.
 */
int rxe_flush_mr_walk(struct rxe_mr *mr, u64 iova, u64 length,
		      void (*fn)(void *addr, size_t len, void *ctx), void *ctx)
{
	u64 done = 0;

	while (done < length) {
		u64 chunk = length - done;
		void *addr;

		addr = rxe_flush_mr_map(mr, iova + done, &chunk);
		if (!addr)
			return -EFAULT;
		fn(addr, chunk, ctx);
		rxe_flush_mr_unmap(addr);
		done += chunk;
	}
	return 0;
}
