// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: exports.  An export is a page-aligned range of an fsdax pmem
 * block device, mapped in the kernel through the DAX API and handed to
 * pmem_rdma_cm.c, which registers it with the RDMA device and listens for
 * peers.  Every request comes checked in full (pmem_rdma_ioctl.c) before
 * anything is taken.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <rdma/ib_verbs.h>

#include "pmem_rdma.h"

static DEFINE_MUTEX(pmem_rdma_exports_lock);
static LIST_HEAD(pmem_rdma_exports);
static u32 pmem_rdma_next_id = 1;

/* the holder of our exclusive opens: a mounted filesystem cannot share */
static char pmem_rdma_holder;

/* the bus of the devices whose driver our exports' disks come from */
static DEFINE_MUTEX(pmem_rdma_bus_lock);
/* const from 6.4: whatever struct device says a bus is */
static typeof(((struct device *)NULL)->bus) pmem_rdma_bus;
static struct notifier_block pmem_rdma_bus_nb;

static bool pmem_rdma_overlaps(const struct pmem_rdma_exp *a,
			       const struct block_device *bdev,
			       u64 offset, u64 length)
{
	return a->bdev->bd_dev == bdev->bd_dev &&
	       offset < a->req.offset + a->req.length &&
	       a->req.offset < offset + length;
}

/* map [offset, offset + length) of the device in the kernel */
static int pmem_rdma_export_map(struct pmem_rdma_exp *exp)
{
	long pages = exp->req.length >> PAGE_SHIFT;
	u64 start_off;
	long got;
	int id;

	exp->dax_dev = fs_dax_get_by_bdev(exp->bdev, &start_off, NULL, NULL);
	if (!exp->dax_dev)
		return -EOPNOTSUPP;
	if (exp->req.offset + exp->req.length > bdev_nr_bytes(exp->bdev))
		return -EINVAL;

	id = dax_read_lock();
	got = dax_direct_access(exp->dax_dev,
				(start_off + exp->req.offset) >> PAGE_SHIFT,
				pages, DAX_ACCESS, &exp->kaddr, &exp->pfn);
	dax_read_unlock(id);
	if (got < 0)
		return got;
	/* a namespace is one linear range; anything else is not for us */
	if (got < pages)
		return -EOPNOTSUPP;
	return 0;
}

static void pmem_rdma_export_free(struct pmem_rdma_exp *exp)
{
	pmem_rdma_access_free(exp);
	pmem_rdma_domain_free(exp);
	if (exp->dax_dev)
		fs_put_dax(exp->dax_dev, NULL);
	pmem_rdma_bdev_close(&exp->bdev_hold);
	/* the request holds the key */
	kfree_sensitive(exp);
}

static void pmem_rdma_export_destroy(struct pmem_rdma_exp *exp)
{
	pmem_rdma_cm_stop(exp);
	pr_info("export %u removed\n", exp->id);
	pmem_rdma_export_free(exp);
}

/*
 * The namespace goes away: an unbind of its driver (sysfs unbind, a region
 * disabled) asks no holder of the block device.  The bus tells us first,
 * with the device locked, before the driver unmaps the pmem: the exports
 * of its disk go there and then, their peers' QPs and MRs with them, so
 * that the responder never reaches the pmem once it is gone.
 */
static int pmem_rdma_bus_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	struct pmem_rdma_exp *exp, *tmp;
	struct device *dev = data;
	LIST_HEAD(gone);

	if (action != BUS_NOTIFY_UNBIND_DRIVER)
		return NOTIFY_DONE;
	mutex_lock(&pmem_rdma_exports_lock);
	list_for_each_entry_safe(exp, tmp, &pmem_rdma_exports, node)
		if (exp->disk_dev == dev)
			list_move_tail(&exp->node, &gone);
	mutex_unlock(&pmem_rdma_exports_lock);

	list_for_each_entry_safe(exp, tmp, &gone, node) {
		pr_warn("export %u: %s goes away with %s, export removed\n",
			exp->id, exp->req.path, dev_name(dev));
		pmem_rdma_export_destroy(exp);
	}
	return NOTIFY_OK;
}

/* watch the bus of dev (one for every NVDIMM); no other lock held */
static int pmem_rdma_watch_bus(struct device *dev)
{
	int err = 0;

	if (!dev || !dev->bus)
		return -EOPNOTSUPP;
	mutex_lock(&pmem_rdma_bus_lock);
	if (!pmem_rdma_bus) {
		pmem_rdma_bus_nb.notifier_call = pmem_rdma_bus_notify;
		err = bus_register_notifier(dev->bus, &pmem_rdma_bus_nb);
		if (!err)
			pmem_rdma_bus = dev->bus;
	} else if (pmem_rdma_bus != dev->bus) {
		err = -EOPNOTSUPP;
	}
	mutex_unlock(&pmem_rdma_bus_lock);
	return err;
}


int pmem_rdma_export_add(struct pmem_rdma_export_req *req)
{
	struct pmem_rdma_exp *exp, *other;
	int err;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return -ENOMEM;
	exp->req = *req;
	if (!exp->req.max_peers)
		exp->req.max_peers = PMEM_RDMA_MAX_PEERS_DEFAULT;
	mutex_init(&exp->peers_lock);
	INIT_LIST_HEAD(&exp->peers);
	err = pmem_rdma_access_init(exp);
	if (err)
		goto out_free;

	/*
	 * Held exclusively while exported: ndctl then refuses to disable the
	 * namespace (EBUSY), whose DAX mapping the responder writes through.
	 */
	exp->bdev = pmem_rdma_bdev_open(req->path, &pmem_rdma_holder,
					&exp->bdev_hold);
	if (IS_ERR(exp->bdev)) {
		err = PTR_ERR(exp->bdev);
		/* a path that is there but no block device */
		goto out_free;
	}
	exp->disk_dev = disk_to_dev(exp->bdev->bd_disk)->parent;
	err = pmem_rdma_watch_bus(exp->disk_dev);
	if (err)
		goto out_free;

	/* no unbind from here until the export is listed, nor before it */
	device_lock(exp->disk_dev);
	err = exp->disk_dev->driver ? pmem_rdma_export_map(exp) : -ENODEV;
	if (!err)
		err = pmem_rdma_domain_init(exp);
	if (err)
		goto out_dev;

	mutex_lock(&pmem_rdma_exports_lock);
	list_for_each_entry(other, &pmem_rdma_exports, node) {
		if (pmem_rdma_overlaps(other, exp->bdev, req->offset,
				       req->length)) {
			err = -EBUSY;
			goto out_unlock;
		}
	}
	exp->id = pmem_rdma_next_id++;
	exp->req.id = exp->id;
	err = pmem_rdma_cm_start(exp);
	if (err)
		goto out_unlock;
	pmem_rdma_domain_debugfs(exp);
	list_add_tail(&exp->node, &pmem_rdma_exports);
	mutex_unlock(&pmem_rdma_exports_lock);
	device_unlock(exp->disk_dev);

	req->id = exp->id;
	pr_info("export %u: %s [%llu, +%llu) on %s port %u\n", exp->id,
		req->path, req->offset, req->length, req->ib_dev, req->port);
	return 0;

out_unlock:
	mutex_unlock(&pmem_rdma_exports_lock);
out_dev:
	device_unlock(exp->disk_dev);
out_free:
	pmem_rdma_export_free(exp);
	return err;
}

/* the export with this id, or NULL; under pmem_rdma_exports_lock */
static struct pmem_rdma_exp *pmem_rdma_export_find(u32 id)
{
	struct pmem_rdma_exp *exp;

	lockdep_assert_held(&pmem_rdma_exports_lock);
	list_for_each_entry(exp, &pmem_rdma_exports, node)
		if (exp->id == id)
			return exp;
	return NULL;
}

int pmem_rdma_export_remove(u32 id)
{
	struct pmem_rdma_exp *exp;

	mutex_lock(&pmem_rdma_exports_lock);
	exp = pmem_rdma_export_find(id);
	if (exp)
		list_del(&exp->node);
	mutex_unlock(&pmem_rdma_exports_lock);
	if (!exp)
		return -ENOENT;
	pmem_rdma_export_destroy(exp);
	return 0;
}

void pmem_rdma_export_remove_all(void)
{
	struct pmem_rdma_exp *exp, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&pmem_rdma_exports_lock);
	list_splice_init(&pmem_rdma_exports, &gone);
	mutex_unlock(&pmem_rdma_exports_lock);
	list_for_each_entry_safe(exp, tmp, &gone, node)
		pmem_rdma_export_destroy(exp);
}

/*
 * An RDMA device goes away (rdma link delete, driver unload): stop the
 * RDMA side of its exports, so that its unregistration, which waits for
 * our reference, can finish.  The exports stay until UNEXPORT.
 */
static void pmem_rdma_ib_remove(struct ib_device *ibdev, void *client_data)
{
	struct pmem_rdma_exp *exp;

	mutex_lock(&pmem_rdma_exports_lock);
	list_for_each_entry(exp, &pmem_rdma_exports, node) {
		if (exp->ibdev != ibdev)
			continue;
		pmem_rdma_cm_stop(exp);
		pr_info("export %u: %s is gone, no more peers\n", exp->id,
			exp->req.ib_dev);
	}
	mutex_unlock(&pmem_rdma_exports_lock);
}

static int pmem_rdma_ib_add(struct ib_device *ibdev)
{
	return 0;
}

static struct ib_client pmem_rdma_ib_client = {
	.name = "pmem_rdma",
	.add = pmem_rdma_ib_add,
	.remove = pmem_rdma_ib_remove,
};

int pmem_rdma_export_init(void)
{
	return ib_register_client(&pmem_rdma_ib_client);
}

void pmem_rdma_export_exit(void)
{
	pmem_rdma_export_remove_all();
	ib_unregister_client(&pmem_rdma_ib_client);
	if (pmem_rdma_bus)
		bus_unregister_notifier(pmem_rdma_bus, &pmem_rdma_bus_nb);
}

static void pmem_rdma_export_info(struct pmem_rdma_exp *exp,
				  struct pmem_rdma_export_info *info)
{
	info->id = exp->id;
	info->flags = exp->req.flags;
	memcpy(info->path, exp->req.path, sizeof(info->path));
	info->offset = exp->req.offset;
	info->length = exp->req.length;
	info->access = exp->req.access;
	info->verify_algs = exp->req.verify_algs;
	memcpy(info->ib_dev, exp->req.ib_dev, sizeof(info->ib_dev));
	info->port = exp->req.port;
	info->max_peers = exp->req.max_peers;
	info->peers = pmem_rdma_cm_peers(exp);
	info->nallow = exp->req.policy.nallow;
	info->key_len = exp->req.policy.key_len;
}

/* the entries are taken under the lock and copied out after it */
int pmem_rdma_export_list(struct pmem_rdma_list *l)
{
	struct pmem_rdma_export_info __user *out = u64_to_user_ptr(l->entries);
	struct pmem_rdma_export_info *infos = NULL;
	struct pmem_rdma_exp *exp;
	u32 n = 0, want = 0;
	int err = 0;

	mutex_lock(&pmem_rdma_exports_lock);
	list_for_each_entry(exp, &pmem_rdma_exports, node)
		want++;
	want = min(want, l->count);
	if (want) {
		infos = kvcalloc(want, sizeof(*infos), GFP_KERNEL);
		if (!infos) {
			mutex_unlock(&pmem_rdma_exports_lock);
			return -ENOMEM;
		}
	}
	list_for_each_entry(exp, &pmem_rdma_exports, node) {
		if (n < want)
			pmem_rdma_export_info(exp, &infos[n]);
		n++;
	}
	mutex_unlock(&pmem_rdma_exports_lock);

	if (want && copy_to_user(out, infos, array_size(want, sizeof(*infos))))
		err = -EFAULT;
	kvfree(infos);
	l->count = n;
	return err;
}

int pmem_rdma_export_stats(struct pmem_rdma_stats *st)
{
	struct pmem_rdma_exp *exp;
	u32 id = st->id;

	mutex_lock(&pmem_rdma_exports_lock);
	exp = pmem_rdma_export_find(id);
	if (exp) {
		memset(st, 0, sizeof(*st));
		st->id = id;
		st->peers = pmem_rdma_cm_peers(exp);
		st->connects = atomic64_read(&exp->cnt.connects);
		st->bytes_written = atomic64_read(&exp->cnt.bytes_written);
		st->flushes = atomic64_read(&exp->cnt.flushes);
		st->bytes_flushed = atomic64_read(&exp->cnt.bytes_flushed);
		st->verifies = atomic64_read(&exp->cnt.verifies);
		st->power_failures = atomic64_read(&exp->cnt.power_failures);
		st->dirty_lines = pmem_rdma_domain_dirty_lines(exp);
		st->refused = atomic64_read(&exp->cnt.refused);
	}
	mutex_unlock(&pmem_rdma_exports_lock);
	return exp ? 0 : -ENOENT;
}

int pmem_rdma_export_power_fail(struct pmem_rdma_power_fail *pf)
{
	struct pmem_rdma_exp *exp;
	int err = -ENOENT;

	mutex_lock(&pmem_rdma_exports_lock);
	exp = pmem_rdma_export_find(pf->id);
	if (exp)
		err = pmem_rdma_domain_power_fail(exp, pf);
	mutex_unlock(&pmem_rdma_exports_lock);
	if (!err)
		pr_info("export %u: %s, %llu lines lost, %llu evicted early\n",
			pf->id, pf->flags & PMEM_RDMA_POWER_FAIL_POWER_ON ?
			"power on" : pf->flags & PMEM_RDMA_POWER_FAIL_STAY_DOWN ?
			"power failure, staying down" : "power failure",
			pf->lines_lost, pf->lines_evicted);
	return err;
}
