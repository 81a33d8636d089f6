/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmem_rdma: the objects of the target, shared by its files:
 *
 *   pmem_rdma_main.c    module, /dev/pmem_rdma and its ioctls
 *   pmem_rdma_ioctl.c   every ioctl's argument, checked in one place
 *   pmem_rdma_export.c  exports: the DAX mapping, list and stats, and the
 *                       RDMA devices that go away under them
 *   pmem_rdma_cm.c      the RDMA side: listener, peers, keys, descriptor
 *   pmem_rdma_access.c  who may connect: allow-list, proof of the key
 *   pmem_rdma_domain.c  the persistence domain, one of two modes:
 *     pmem_rdma_domain_real.c      real write-back
 *     pmem_rdma_domain_emulated.c  a media image and power failure
 *   pmem_rdma_compat.h  what differs between the kernels it builds for
 */
#ifndef PMEM_RDMA_H
#define PMEM_RDMA_H

#include <linux/atomic.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pfn_t.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include <linux/pmem_rdma.h>
#include <linux/pmem_rdma_connect.h>
#include <rdma/rxe_flush_domain.h>

#include "pmem_rdma_compat.h"

struct dax_device;
struct dentry;
struct file;
struct ib_device;
struct ib_mr;
struct nd_region;
struct ib_pd;
struct rdma_cm_id;

struct pmem_rdma_counters {
	atomic64_t connects;
	atomic64_t bytes_written;
	atomic64_t flushes;
	atomic64_t bytes_flushed;
	atomic64_t verifies;
	atomic64_t power_failures;
	atomic64_t refused;
};

struct pmem_rdma_access;
struct pmem_rdma_exp;
struct pmem_rdma_power_fail;
struct rdma_conn_param;

/* pmem_rdma_domain.c: the calls of one mode, real or emulated */
struct pmem_rdma_domain_mode {
	struct rxe_flush_domain_ops rd_ops;	/* what the responder calls */
	int (*init)(struct pmem_rdma_exp *exp);
	void (*free)(struct pmem_rdma_exp *exp);	/* may be NULL */
	/* NULL in real mode: -EOPNOTSUPP, and no dirty lines */
	int (*power_fail)(struct pmem_rdma_exp *exp,
			  struct pmem_rdma_power_fail *pf);
	u64 (*dirty_lines)(struct pmem_rdma_exp *exp);
	/* its files in the export's debugfs directory; may be NULL */
	void (*debugfs)(struct pmem_rdma_exp *exp, struct dentry *dir);
};

/* pmem_rdma_domain.c: what is persistent, and how it gets there */
struct pmem_rdma_domain {
	struct rxe_flush_domain rd;	/* attached to every peer's MR */
	const struct pmem_rdma_domain_mode *mode;
	int (*attach)(struct ib_mr *mr, struct rxe_flush_domain *d);
	bool needs_rxe_flush;		/* attach must succeed */

	/* real mode */
	struct nd_region *region;	/* for FLUSH_PERSISTENT exports */

	/* emulated mode */
	spinlock_t lock;		/* dirty, dirty_words, dirty_lines,
					 * down, scan_*
					 */
	void *media;			/* the image of what is persistent */
	unsigned long *dirty;		/* a bit per 64-byte line */
	unsigned long *dirty_words;	/* a bit per non-zero word of dirty */
	unsigned long nwords;		/* words in dirty */
	u64 dirty_lines;
	bool down;			/* failed, not powered on yet */
	/* bitmap words FLUSHes examined (debugfs flush_scan_*) */
	u64 scan_cur, scan_last, scan_total;
	struct dentry *debugfs;		/* <debugfs>/pmem_rdma/<id>/ */
};

/* first member of every RDMA CM id's context: listener or peer */
struct pmem_rdma_cm_ctx {
	bool is_peer;
};

/* One exported range of an fsdax block device. */
struct ib_qp;
struct rxe_flush_keyed_ops;
struct rxe_flush_key;

/* a keyed export's data key in rdma_rxe_flush (pmem_rdma_keyed.c) */
struct pmem_rdma_keyed {
	const struct rxe_flush_keyed_ops *ops;	/* held while keyed */
	struct rxe_flush_key *key;
};

struct pmem_rdma_exp {
	struct pmem_rdma_cm_ctx ctx;	/* first: the listener's context */
	struct list_head node;		/* pmem_rdma_exports, under its lock */
	u32 id;
	struct pmem_rdma_export_req req;	/* as asked for, id filled in */

	struct block_device *bdev;
	struct pmem_rdma_bdev_hold bdev_hold;	/* what holds bdev */
	struct device *disk_dev;	/* its disk's parent, the driver's */
	struct dax_device *dax_dev;
	void *kaddr;			/* kernel mapping of the range */
	pfn_t pfn;			/* its first page */

	/* RDMA side, pmem_rdma_cm.c */
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct rdma_cm_id *listen_id;
	struct mutex peers_lock;	/* peers, npeers, nsetup */
	struct list_head peers;
	unsigned int npeers;		/* listed: connected */
	unsigned int nsetup;		/* being set up: not listed yet */
	struct pmem_rdma_access *access;	/* pmem_rdma_access.c */

	struct pmem_rdma_domain dom;
	struct pmem_rdma_keyed keyed;
	struct pmem_rdma_counters cnt;
};

static inline bool pmem_rdma_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* the bytes of an export's data key: 0 for an unkeyed export */
static inline u32 pmem_rdma_data_key_len(const struct pmem_rdma_export_req *req)
{
	if (req->flags & PMEM_RDMA_EXPORT_KEYED_256)
		return 32;
	return req->flags & PMEM_RDMA_EXPORT_KEYED_128 ? 16 : 0;
}

/* pmem_rdma_keyed.c */
struct rdma_conn_param;
struct pmem_rdma_accept;
int pmem_rdma_keyed_init(struct pmem_rdma_exp *exp);
void pmem_rdma_keyed_free(struct pmem_rdma_exp *exp);
u16 pmem_rdma_keyed_judge(struct pmem_rdma_exp *exp,
			  const struct rdma_conn_param *conn);
int pmem_rdma_keyed_bind_qp(struct pmem_rdma_exp *exp, struct ib_qp *qp,
			    const struct rdma_conn_param *req, u8 *draw);
int pmem_rdma_keyed_bind_mr(struct pmem_rdma_exp *exp, struct ib_mr *mr);
int pmem_rdma_keyed_accept(struct pmem_rdma_exp *exp,
			   const struct rdma_conn_param *req, const u8 *draw,
			   struct pmem_rdma_accept *acc, int len);

/* pmem_rdma_ioctl.c */
long pmem_rdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* pmem_rdma_export.c */
int pmem_rdma_export_add(struct pmem_rdma_export_req *req);
int pmem_rdma_export_remove(u32 id);
int pmem_rdma_export_list(struct pmem_rdma_list *l);
int pmem_rdma_export_stats(struct pmem_rdma_stats *st);
int pmem_rdma_export_power_fail(struct pmem_rdma_power_fail *pf);
void pmem_rdma_export_remove_all(void);
int pmem_rdma_export_init(void);
void pmem_rdma_export_exit(void);

/* pmem_rdma_cm.c */
int pmem_rdma_cm_start(struct pmem_rdma_exp *exp);
void pmem_rdma_cm_stop(struct pmem_rdma_exp *exp);
unsigned int pmem_rdma_cm_peers(struct pmem_rdma_exp *exp);
int pmem_rdma_cm_init(void);
void pmem_rdma_cm_exit(void);

/* pmem_rdma_access.c */
int pmem_rdma_access_init(struct pmem_rdma_exp *exp);
void pmem_rdma_access_free(struct pmem_rdma_exp *exp);
void pmem_rdma_access_exit(void);
/* 0 to accept the connect request, else its PMEM_RDMA_REJECT_* reason */
u16 pmem_rdma_access_judge(struct pmem_rdma_exp *exp, struct rdma_cm_id *id,
			   const struct rdma_conn_param *conn);
/*
 * The accept's private data for the peer of request req, whose descriptor
 * is in acc: with a key, the target's proof added.  Its length, or -errno.
 */
int pmem_rdma_access_accept(struct pmem_rdma_exp *exp,
			    const struct rdma_conn_param *req,
			    struct pmem_rdma_accept *acc);

/* pmem_rdma_domain.c */
int pmem_rdma_domain_init(struct pmem_rdma_exp *exp);
void pmem_rdma_domain_free(struct pmem_rdma_exp *exp);
int pmem_rdma_domain_attach(struct pmem_rdma_exp *exp, struct ib_mr *mr);
int pmem_rdma_domain_power_fail(struct pmem_rdma_exp *exp,
				struct pmem_rdma_power_fail *pf);
u64 pmem_rdma_domain_dirty_lines(struct pmem_rdma_exp *exp);
void pmem_rdma_domain_debugfs(struct pmem_rdma_exp *exp);
void pmem_rdma_debugfs_init(void);
void pmem_rdma_debugfs_exit(void);

#endif /* PMEM_RDMA_H */
