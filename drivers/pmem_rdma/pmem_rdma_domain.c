// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma: the persistence domain of an export, attached to every peer's
 * MR on an rxe_flush device (include/rdma/rxe_flush_domain.h).  The
 * responder reports each RDMA WRITE and ATOMIC WRITE before it stores, and
 * hands each persistent FLUSH to us.
 *
 * The export's mode picks one of two tables, real (pmem_rdma_domain_real.c)
 * or emulated (pmem_rdma_domain_emulated.c), when the export is made
 * (pmem_rdma_domain_init()); nothing tests the mode later: what a mode
 * needs is decided then, and the calls go through its table.
 *
 * VERIFY: the domain names the algorithms peers may use (the export's
 * verify_algs, whatever its READ access) and counts each VERIFY.
 *
 * debugfs: <debugfs>/pmem_rdma/<export id>/ holds what a mode shows of
 * its work (the emulated one: flush_scan_*), for tests; optional, the
 * target works without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <rdma/ib_verbs.h>
#include <rdma/rxe_flush.h>

#include "pmem_rdma_domain.h"

/* verify_algs is the wire's algorithm numbers as bits */
static_assert(PMEM_RDMA_VERIFY_CRC32C ==
	      RXE_FLUSH_VERIFY_ALG_BIT(RXE_FLUSH_VERIFY_ALG_CRC32C));
static_assert(PMEM_RDMA_VERIFY_SHA256 ==
	      RXE_FLUSH_VERIFY_ALG_BIT(RXE_FLUSH_VERIFY_ALG_SHA256));
static_assert(PMEM_RDMA_VERIFY_ALL == RXE_FLUSH_VERIFY_ALGS);

int pmem_rdma_domain_power_fail(struct pmem_rdma_exp *exp,
				struct pmem_rdma_power_fail *pf)
{
	if (!exp->dom.mode->power_fail)
		return -EOPNOTSUPP;
	return exp->dom.mode->power_fail(exp, pf);
}

u64 pmem_rdma_domain_dirty_lines(struct pmem_rdma_exp *exp)
{
	if (!exp->dom.mode->dirty_lines)
		return 0;
	return exp->dom.mode->dirty_lines(exp);
}

static struct dentry *pmem_rdma_debugfs_dir;

void pmem_rdma_debugfs_init(void)
{
	pmem_rdma_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void pmem_rdma_debugfs_exit(void)
{
	debugfs_remove_recursive(pmem_rdma_debugfs_dir);
	pmem_rdma_debugfs_dir = NULL;
}

/* once the export has its id; removed by pmem_rdma_domain_free() */
void pmem_rdma_domain_debugfs(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;
	char name[16];

	if (!d->mode->debugfs || IS_ERR_OR_NULL(pmem_rdma_debugfs_dir))
		return;
	snprintf(name, sizeof(name), "%u", exp->id);
	d->debugfs = debugfs_create_dir(name, pmem_rdma_debugfs_dir);
	d->mode->debugfs(exp, d->debugfs);
}

int pmem_rdma_domain_init(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	spin_lock_init(&d->lock);
	d->mode = exp->req.flags & PMEM_RDMA_EXPORT_EMULATED ?
		  &pmem_rdma_domain_emulated : &pmem_rdma_domain_real;
	d->rd.ops = &d->mode->rd_ops;
	if (exp->req.access & PMEM_RDMA_ACCESS_VERIFY)
		d->rd.verify_algs = exp->req.verify_algs;
	/*
	 * Without rdma_rxe_flush there is no one to tell us about writes or
	 * to ask us about VERIFY: an emulated or a verifiable export cannot
	 * work, a real one runs on the device's own FLUSH and counts no
	 * bytes.
	 */
	d->needs_rxe_flush = d->mode != &pmem_rdma_domain_real ||
			     d->rd.verify_algs;
	/* pins rdma_rxe_flush while the export lives, if it is loaded */
	d->attach = symbol_get(rxe_flush_domain_attach);
	if (!d->attach && d->needs_rxe_flush)
		return -EOPNOTSUPP;
	return d->mode->init(exp);
}

void pmem_rdma_domain_free(struct pmem_rdma_exp *exp)
{
	struct pmem_rdma_domain *d = &exp->dom;

	/* waits for its readers: nothing reads the counters after this */
	debugfs_remove_recursive(d->debugfs);
	d->debugfs = NULL;
	if (d->attach)
		symbol_put(rxe_flush_domain_attach);
	d->attach = NULL;
	if (d->mode && d->mode->free)
		d->mode->free(exp);
}

/* attach the domain to a peer's MR, where the device is rdma_rxe_flush */
int pmem_rdma_domain_attach(struct pmem_rdma_exp *exp, struct ib_mr *mr)
{
	int err = -EOPNOTSUPP;

	if (exp->dom.attach)
		err = exp->dom.attach(mr, &exp->dom.rd);
	return exp->dom.needs_rxe_flush ? err : 0;
}
