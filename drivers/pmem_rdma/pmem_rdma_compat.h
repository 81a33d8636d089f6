/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmem_rdma: what differs between the kernels it builds for (Debian's 6.1
 * and 6.12), in this one place; the other files call these and no
 * version test of their own.
 */
#ifndef PMEM_RDMA_COMPAT_H
#define PMEM_RDMA_COMPAT_H

#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/version.h>

/*
 * An export's block device, held exclusively (ndctl cannot disable the
 * namespace under it).  From 6.9 the holder opens it as a file
 * (bdev_file_open_by_path()) and gives the claim back with bdev_fput();
 * before, blkdev_get_by_path() with FMODE_EXCL and blkdev_put().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
struct pmem_rdma_bdev_hold {
	struct file *file;
};

static inline struct block_device *
pmem_rdma_bdev_open(const char *path, void *holder,
		    struct pmem_rdma_bdev_hold *h)
{
	h->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
					 holder, NULL);
	if (IS_ERR(h->file))
		return ERR_CAST(h->file);
	return file_bdev(h->file);
}

static inline void pmem_rdma_bdev_close(struct pmem_rdma_bdev_hold *h)
{
	if (!IS_ERR_OR_NULL(h->file))
		bdev_fput(h->file);
	h->file = NULL;
}
#else
struct pmem_rdma_bdev_hold {
	struct block_device *bdev;
};

static inline struct block_device *
pmem_rdma_bdev_open(const char *path, void *holder,
		    struct pmem_rdma_bdev_hold *h)
{
	h->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE | FMODE_EXCL,
				     holder);
	return h->bdev;
}

static inline void pmem_rdma_bdev_close(struct pmem_rdma_bdev_hold *h)
{
	if (!IS_ERR_OR_NULL(h->bdev))
		blkdev_put(h->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
	h->bdev = NULL;
}
#endif

#endif /* PMEM_RDMA_COMPAT_H */
