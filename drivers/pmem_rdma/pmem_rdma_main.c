// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: remote persistent memory target - module and /dev/pmem_rdma.
 *
 * The control device carries the versioned ioctl API of
 * include/uapi/linux/pmem_rdma.h: one table says, for each command, who
 * may call it and what runs it (pmem_rdma_export.c); the fixed-size
 * struct is copied in and out as the command's number says.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pmem_rdma.h"

static int pmem_rdma_ioc_get_version(void *arg)
{
	struct pmem_rdma_version *v = arg;

	v->abi_version = PMEM_RDMA_ABI_VERSION;
	return 0;
}

static int pmem_rdma_ioc_unexport(void *arg)
{
	struct pmem_rdma_unexport *req = arg;

	if (req->reserved0 ||
	    !pmem_rdma_zero(req->reserved, sizeof(req->reserved)))
		return -EINVAL;
	return pmem_rdma_export_remove(req->id);
}

static int pmem_rdma_ioc_export(void *arg)
{
	return pmem_rdma_export_add(arg);
}

static int pmem_rdma_ioc_list(void *arg)
{
	return pmem_rdma_export_list(arg);
}

static int pmem_rdma_ioc_stats(void *arg)
{
	return pmem_rdma_export_stats(arg);
}

static int pmem_rdma_ioc_power_fail(void *arg)
{
	return pmem_rdma_export_power_fail(arg);
}

/* the export is made, but its id could not reach the caller */
static void pmem_rdma_ioc_export_undo(void *arg)
{
	pmem_rdma_export_remove(((struct pmem_rdma_export_req *)arg)->id);
}

/*
 * One entry per ioctl: the argument is copied in (for _IOW) into a zeroed
 * buffer of the command's size (every size fits union pmem_rdma_ioctl_arg),
 * run, and copied out (for _IOR); undo is called when the copy out fails
 * after run changed something.
 */
struct pmem_rdma_ioctl {
	unsigned int cmd;
	bool admin;			/* needs CAP_SYS_ADMIN */
	int (*run)(void *arg);
	void (*undo)(void *arg);
};

union pmem_rdma_ioctl_arg {
	struct pmem_rdma_version version;
	struct pmem_rdma_export_req export;
	struct pmem_rdma_unexport unexport;
	struct pmem_rdma_list list;
	struct pmem_rdma_stats stats;
	struct pmem_rdma_power_fail power_fail;
};

static const struct pmem_rdma_ioctl pmem_rdma_ioctls[] = {
	{ PMEM_RDMA_IOC_GET_VERSION, false, pmem_rdma_ioc_get_version },
	{ PMEM_RDMA_IOC_EXPORT, true, pmem_rdma_ioc_export,
	  pmem_rdma_ioc_export_undo },
	{ PMEM_RDMA_IOC_UNEXPORT, true, pmem_rdma_ioc_unexport },
	{ PMEM_RDMA_IOC_LIST, false, pmem_rdma_ioc_list },
	{ PMEM_RDMA_IOC_STATS, false, pmem_rdma_ioc_stats },
	{ PMEM_RDMA_IOC_POWER_FAIL, true, pmem_rdma_ioc_power_fail },
};

static long pmem_rdma_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct pmem_rdma_ioctl *ioc = NULL;
	unsigned int size = _IOC_SIZE(cmd);
	union pmem_rdma_ioctl_arg *buf;
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(pmem_rdma_ioctls); i++)
		if (pmem_rdma_ioctls[i].cmd == cmd)
			ioc = &pmem_rdma_ioctls[i];
	if (!ioc)
		return -ENOTTY;
	if (ioc->admin && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	/* too big for the stack with an export's policy */
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = -EFAULT;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(buf, uarg, size))
		goto out;
	err = ioc->run(buf);
	if (err)
		goto out;
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, buf, size)) {
		if (ioc->undo)
			ioc->undo(buf);
		err = -EFAULT;
	}
out:
	/* an export's key */
	kfree_sensitive(buf);
	return err;
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
	pmem_rdma_export_exit();
	pmem_rdma_cm_exit();
}

module_init(pmem_rdma_init);
module_exit(pmem_rdma_exit);

MODULE_DESCRIPTION("Remote persistent memory target over RDMA");
MODULE_LICENSE("GPL");
