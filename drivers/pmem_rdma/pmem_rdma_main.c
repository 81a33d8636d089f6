// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: remote persistent memory target - module and /dev/pmem_rdma,
 * whose ioctls are pmem_rdma_ioctl.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "pmem_rdma.h"

static const struct file_operations pmem_rdma_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= pmem_rdma_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice pmem_rdma_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "pmem_rdma",
	.fops	= &pmem_rdma_fops,
	.mode	= 0600,
};

static int __init pmem_rdma_init(void)
{
	int err;

	err = pmem_rdma_cm_init();
	if (err)
		return err;
	pmem_rdma_debugfs_init();
	err = pmem_rdma_export_init();
	if (err)
		goto out_cm;
	err = misc_register(&pmem_rdma_misc);
	if (err)
		goto out_export;
	pr_info("loaded, ABI version %u\n", PMEM_RDMA_ABI_VERSION);
	return 0;

out_export:
	pmem_rdma_export_exit();
out_cm:
	pmem_rdma_debugfs_exit();
	pmem_rdma_cm_exit();
	return err;
}

static void __exit pmem_rdma_exit(void)
{
	misc_deregister(&pmem_rdma_misc);
	pmem_rdma_export_exit();
	pmem_rdma_access_exit();
	pmem_rdma_debugfs_exit();
	pmem_rdma_cm_exit();
}

module_init(pmem_rdma_init);
module_exit(pmem_rdma_exit);

MODULE_DESCRIPTION("Remote persistent memory target over RDMA");
MODULE_LICENSE("GPL");
