// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: remote persistent memory target - module and /dev/pmem_rdma.
 *
 * The control device carries the versioned ioctl API of
 * include/uapi/linux/pmem_rdma.h: each ioctl copies its fixed-size struct
 * in, checks privilege, and hands it to pmem_rdma_export.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "pmem_rdma.h"

static long pmem_rdma_get_version(void __user *arg)
{
	struct pmem_rdma_version v = { .abi_version = PMEM_RDMA_ABI_VERSION };

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long pmem_rdma_do_export(void __user *arg)
{
	struct pmem_rdma_export_req req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = pmem_rdma_export_add(&req);
	if (err)
		return err;
	if (copy_to_user(arg, &req, sizeof(req))) {
		pmem_rdma_export_remove(req.id);
		return -EFAULT;
	}
	return 0;
}

static long pmem_rdma_do_unexport(void __user *arg)
{
	struct pmem_rdma_unexport req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.reserved0 || !pmem_rdma_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	return pmem_rdma_export_remove(req.id);
}

static long pmem_rdma_do_list(void __user *arg)
{
	struct pmem_rdma_list l;
	int err;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	err = pmem_rdma_export_list(&l);
	if (err)
		return err;
	return copy_to_user(arg, &l, sizeof(l)) ? -EFAULT : 0;
}

static long pmem_rdma_do_stats(void __user *arg)
{
	struct pmem_rdma_stats st;
	int err;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	err = pmem_rdma_export_stats(&st);
	if (err)
		return err;
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long pmem_rdma_do_power_fail(void __user *arg)
{
	struct pmem_rdma_power_fail pf;
	int err;

	if (copy_from_user(&pf, arg, sizeof(pf)))
		return -EFAULT;
	err = pmem_rdma_export_power_fail(&pf);
	if (err)
		return err;
	return copy_to_user(arg, &pf, sizeof(pf)) ? -EFAULT : 0;
}

static long pmem_rdma_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case PMEM_RDMA_IOC_EXPORT:
	case PMEM_RDMA_IOC_UNEXPORT:
	case PMEM_RDMA_IOC_POWER_FAIL:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		break;
	}

	switch (cmd) {
	case PMEM_RDMA_IOC_GET_VERSION:
		return pmem_rdma_get_version(uarg);
	case PMEM_RDMA_IOC_EXPORT:
		return pmem_rdma_do_export(uarg);
	case PMEM_RDMA_IOC_UNEXPORT:
		return pmem_rdma_do_unexport(uarg);
	case PMEM_RDMA_IOC_LIST:
		return pmem_rdma_do_list(uarg);
	case PMEM_RDMA_IOC_STATS:
		return pmem_rdma_do_stats(uarg);
	case PMEM_RDMA_IOC_POWER_FAIL:
		return pmem_rdma_do_power_fail(uarg);
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

	err = pmem_rdma_cm_init();
	if (err)
		return err;
	err = misc_register(&pmem_rdma_misc);
	if (err) {
		pmem_rdma_cm_exit();
		return err;
	}
	pr_info("loaded, ABI version %u\n", PMEM_RDMA_ABI_VERSION);
	return 0;
}

static void __exit pmem_rdma_exit(void)
{
	misc_deregister(&pmem_rdma_misc);
	pmem_rdma_export_remove_all();
	pmem_rdma_cm_exit();
}

module_init(pmem_rdma_init);
module_exit(pmem_rdma_exit);

MODULE_DESCRIPTION("Remote persistent memory target over RDMA");
MODULE_LICENSE("GPL");
