// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: remote persistent memory target - module and /dev/pmem_rdma.
 *
 * The control device carries the versioned ioctl API of
 * include/uapi/linux/pmem_rdma.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include <linux/pmem_rdma.h>

static long pmem_rdma_get_version(void __user *arg)
{
	struct pmem_rdma_version v = { .abi_version = PMEM_RDMA_ABI_VERSION };

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long pmem_rdma_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case PMEM_RDMA_IOC_GET_VERSION:
		return pmem_rdma_get_version((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

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

	err = misc_register(&pmem_rdma_misc);
	if (err)
		return err;
	pr_info("loaded, ABI version %u\n", PMEM_RDMA_ABI_VERSION);
	return 0;
}

static void __exit pmem_rdma_exit(void)
{
	misc_deregister(&pmem_rdma_misc);
}

module_init(pmem_rdma_init);
module_exit(pmem_rdma_exit);

MODULE_DESCRIPTION("Remote persistent memory target over RDMA");
MODULE_LICENSE("GPL");
