// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the ioctls of /dev/pmem_rdma, the versioned API of
 * include/uapi/linux/pmem_rdma.h.  One table says, for each command, who
 * may call it, how its argument is checked and what runs it
 * (pmem_rdma_export.c); the fixed-size struct is copied in and out as the
 * command's number says.  Every field of an argument is checked here, and
 * only here, before anything is looked up or allocated for it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pmem_rdma.h"

/* the checks: the argument alone, before anything is looked up or taken */

static bool pmem_rdma_terminated(const char *s, size_t len)
{
	return strnlen(s, len) < len;
}

/* who may connect: an allow-list, a key, or an export open to any peer */
static int pmem_rdma_check_policy(const struct pmem_rdma_export_req *req)
{
	const struct pmem_rdma_policy *p = &req->policy;
	bool any = req->flags & PMEM_RDMA_EXPORT_ANY_PEER;
	u32 i;

	if (p->nallow > PMEM_RDMA_ALLOW_MAX ||
	    !pmem_rdma_zero(p->reserved, sizeof(p->reserved)))
		return -EINVAL;
	if (p->key_len && (p->key_len < PMEM_RDMA_KEY_MIN ||
			   p->key_len > PMEM_RDMA_KEY_MAX))
		return -EINVAL;
	if (!pmem_rdma_zero(p->key + p->key_len,
			    PMEM_RDMA_KEY_MAX - p->key_len))
		return -EINVAL;
	for (i = 0; i < PMEM_RDMA_ALLOW_MAX; i++) {
		const struct pmem_rdma_prefix *a = &p->allow[i];

		if (i >= p->nallow ? !pmem_rdma_zero(a, sizeof(*a)) :
		    a->len > 128 || !pmem_rdma_zero(a->reserved,
						    sizeof(a->reserved)))
			return -EINVAL;
	}
	/* there is no open default: an open export says so */
	if (any == (p->nallow || p->key_len))
		return -EINVAL;
	return 0;
}

static int pmem_rdma_check_export(const void *arg)
{
	const struct pmem_rdma_export_req *req = arg;

	if (req->abi_version != PMEM_RDMA_ABI_VERSION)
		return -EPROTO;
	if (req->flags & ~PMEM_RDMA_EXPORT_FLAGS_ALL)
		return -EINVAL;
	if (!req->access || req->access & ~PMEM_RDMA_ACCESS_ALL)
		return -EINVAL;
	if (req->max_peers > PMEM_RDMA_MAX_PEERS_LIMIT || req->id)
		return -EINVAL;
	/* one cipher, the key's bytes and nothing after them */
	if ((req->flags & PMEM_RDMA_EXPORT_KEYED_128) &&
	    (req->flags & PMEM_RDMA_EXPORT_KEYED_256))
		return -EINVAL;
	if (!pmem_rdma_zero(req->data_key + pmem_rdma_data_key_len(req),
			    sizeof(req->data_key) - pmem_rdma_data_key_len(req)))
		return -EINVAL;
	if (!pmem_rdma_terminated(req->path, sizeof(req->path)) ||
	    !pmem_rdma_terminated(req->ib_dev, sizeof(req->ib_dev)) ||
	    !req->path[0] || !req->ib_dev[0] || !req->port)
		return -EINVAL;
	if (!req->length || !PAGE_ALIGNED(req->length) ||
	    !PAGE_ALIGNED(req->offset) ||
	    req->offset + req->length < req->offset)
		return -EINVAL;
	/* VERIFY comes with its algorithms, and they with it */
	if (!(req->access & PMEM_RDMA_ACCESS_VERIFY) != !req->verify_algs ||
	    req->verify_algs & ~PMEM_RDMA_VERIFY_ALL)
		return -EINVAL;
	return pmem_rdma_check_policy(req);
}

static int pmem_rdma_check_unexport(const void *arg)
{
	const struct pmem_rdma_unexport *req = arg;

	return req->reserved0 ||
	       !pmem_rdma_zero(req->reserved, sizeof(req->reserved)) ?
	       -EINVAL : 0;
}

static int pmem_rdma_check_list(const void *arg)
{
	const struct pmem_rdma_list *l = arg;

	return l->reserved0 || !pmem_rdma_zero(l->reserved, sizeof(l->reserved)) ?
	       -EINVAL : 0;
}

static int pmem_rdma_check_stats(const void *arg)
{
	const struct pmem_rdma_stats *st = arg;

	return pmem_rdma_zero(st->reserved, sizeof(st->reserved)) ? 0 : -EINVAL;
}

static int pmem_rdma_check_power_fail(const void *arg)
{
	const struct pmem_rdma_power_fail *pf = arg;

	if (pf->eviction_ppm > 1000000 || pf->lines_lost ||
	    pf->lines_evicted || pf->reserved0 || pf->reserved ||
	    (pf->flags & ~(PMEM_RDMA_POWER_FAIL_STAY_DOWN |
			   PMEM_RDMA_POWER_FAIL_POWER_ON)) ||
	    hweight32(pf->flags) > 1)
		return -EINVAL;
	return 0;
}

/* what runs them */

static int pmem_rdma_ioc_get_version(void *arg)
{
	struct pmem_rdma_version *v = arg;

	v->abi_version = PMEM_RDMA_ABI_VERSION;
	return 0;
}

static int pmem_rdma_ioc_unexport(void *arg)
{
	return pmem_rdma_export_remove(((struct pmem_rdma_unexport *)arg)->id);
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
 * checked (check: the one place its fields are validated), run, and copied
 * out (for _IOR); undo is called when the copy out fails after run changed
 * something.
 */
struct pmem_rdma_ioctl {
	unsigned int cmd;
	bool admin;			/* needs CAP_SYS_ADMIN */
	int (*check)(const void *arg);	/* may be NULL: nothing to check */
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
	{ PMEM_RDMA_IOC_GET_VERSION, false, NULL, pmem_rdma_ioc_get_version },
	{ PMEM_RDMA_IOC_EXPORT, true, pmem_rdma_check_export,
	  pmem_rdma_ioc_export, pmem_rdma_ioc_export_undo },
	{ PMEM_RDMA_IOC_UNEXPORT, true, pmem_rdma_check_unexport,
	  pmem_rdma_ioc_unexport },
	{ PMEM_RDMA_IOC_LIST, false, pmem_rdma_check_list, pmem_rdma_ioc_list },
	{ PMEM_RDMA_IOC_STATS, false, pmem_rdma_check_stats,
	  pmem_rdma_ioc_stats },
	{ PMEM_RDMA_IOC_POWER_FAIL, true, pmem_rdma_check_power_fail,
	  pmem_rdma_ioc_power_fail },
};

long pmem_rdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
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
	err = ioc->check ? ioc->check(buf) : 0;
	if (!err)
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

