// SPDX-License-Identifier: GPL-2.0
/*
 * pmrdmactl status, promote, demote - what a cluster manager runs on a
 * host to learn and change what its copy of a replicated map is, as
 * Pacemaker runs drbdadm: the copy's metadata (pmrdma_metadata_read()),
 * and the kernel target's exports of it.  pmrdmactl(8) has the commands,
 * pmrdma(7) "High availability" the failover they make.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmrdma.h"
#include "pmrdma_target.h"
#include "pmrdmactl.h"

struct copy_args {
	struct dev_range r;
	bool json;
};

/* -p PATH [-o OFFSET] [-l LENGTH] [-j] */
static void copy_parse(int argc, char **argv, struct copy_args *a)
{
	static const struct option opts[] = {
		DEV_RANGE_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	*a = (struct copy_args){ 0 };
	while ((c = getopt_long(argc, argv, "p:o:l:jh", opts, NULL)) != -1)
		if (!dev_range_opt(c, &a->r))
			common_opt(c, &a->json);
	if (optind != argc)
		bad_usage("unexpected argument");
	if (!a->r.path)
		bad_usage("needs --path");
}

/* the copy's metadata; 0, or -errno with msg set */
static int copy_metadata(const struct dev_range *r,
			 struct pmrdma_metadata *md)
{
	struct pmrdma_config *cfg;
	int err = pmrdma_config_new(&cfg);

	if (!err)
		err = pmrdma_config_set_path(cfg, r->path);
	if (!err && (r->offset || r->length))
		err = pmrdma_config_set_range(cfg, r->offset, r->length);
	if (!err)
		err = pmrdma_metadata_read(cfg, md);
	pmrdma_config_delete(&cfg);
	return err;
}

/* [a, a + alen) and [b, b + blen) overlap (alen 0: to the end) */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return (!alen || b < a + alen) && a < b + blen;
}

/*
 * The kernel target's exports of the copy's device that overlap its range
 * (length 0: from the offset to the end) - an export takes any spelling of
 * the device's path - their ids in ids (up to max): how many; none when
 * the module is not loaded.  Exit 1 when the target cannot say.
 */
static unsigned int copy_exports(const struct copy_args *a, uint32_t *ids,
				 unsigned int max)
{
	struct pmem_rdma_export_info *info = NULL;
	struct pmrdma_target *t;
	struct stat want, st;
	uint32_t i, count;
	unsigned int n = 0;
	char msg[256];

	if (stat(a->r.path, &want) || !S_ISBLK(want.st_mode) ||
	    access(PMRDMA_TARGET_PATH, F_OK))
		return 0;
	if (pmrdma_target_open(&t, msg, sizeof(msg)))
		die("%s", msg);
	if (pmrdma_target_list(t, &info, &count))
		die("%s", pmrdma_target_errormsg(t));
	for (i = 0; i < count && n < max; i++)
		if (!stat(info[i].path, &st) && S_ISBLK(st.st_mode) &&
		    st.st_rdev == want.st_rdev &&
		    overlap(a->r.offset, a->r.length, info[i].offset, info[i].length))
			ids[n++] = info[i].id;
	pmrdma_target_close(&t);
	free(info);
	return n;
}

#define MAX_EXPORTS	16

/*
 * Print the copy's status: its role (secondary while the kernel target
 * exports it, primary while its metadata says a map has it or had it
 * when it crashed, else none), whether it is whole, its generations and
 * bitmap.  0, or -errno of the metadata (none: -ENODATA, printed too).
 */
static int copy_print(const struct copy_args *a)
{
	static const char *const disk[] = {
		"consistent", "inconsistent", "none", "foreign",
	};
	uint32_t ids[MAX_EXPORTS];
	struct pmrdma_metadata md = { 0 };
	unsigned int n, k, d;
	const char *role;
	int err;

	err = copy_metadata(&a->r, &md);
	/* no metadata, or another copy's: the exports are still the copy's */
	if (err && err != -ENODATA && err != -EUCLEAN)
		return err;
	if (err)
		memset(&md, 0, sizeof(md));
	n = copy_exports(a, ids, MAX_EXPORTS);
	role = n ? "secondary" : md.flags & PMRDMA_METADATA_PRIMARY ?
	       "primary" : "none";
	d = err == -ENODATA ? 2 : err ? 3 :
	    md.flags & PMRDMA_METADATA_INCONSISTENT ? 1 : 0;
	if (a->json) {
		printf("{\"path\":");
		print_json_string(a->r.path);
		printf(", \"offset\":%" PRIu64 ", \"role\":\"%s\", \"disk\":\"%s\", \"exports\":[",
		       a->r.offset, role, disk[d]);
		for (k = 0; k < n; k++)
			printf("%s%u", k ? ", " : "", ids[k]);
		printf("], \"closed\":%s, \"generation\":\"%016" PRIx64
		       "\", \"history\":[",
		       md.flags & PMRDMA_METADATA_CLOSED ? "true" : "false",
		       md.gen[0]);
		for (k = 1; k < PMRDMA_METADATA_GENS && md.gen[k]; k++)
			printf("%s\"%016" PRIx64 "\"", k > 1 ? ", " : "",
			       md.gen[k]);
		printf("], \"bitmap_gens\":%u, \"dirty_regions\":%" PRIu64
		       ", \"region_size\":%" PRIu64 ", \"view_size\":%" PRIu64
		       "}\n", md.bitmap_gens, md.dirty_regions, md.region_size,
		       md.view_size);
		return err;
	}
	printf("copy: %s offset %" PRIu64 "\nrole: %s\ndisk: %s\nexports:",
	       a->r.path, a->r.offset, role, disk[d]);
	for (k = 0; k < n; k++)
		printf(" %u", ids[k]);
	if (err) {
		printf("\n");
		return err;
	}
	printf("\nclosed: %s\ngeneration: %016" PRIx64 "\nhistory:",
	       md.flags & PMRDMA_METADATA_CLOSED ? "yes" : "no", md.gen[0]);
	for (k = 1; k < PMRDMA_METADATA_GENS && md.gen[k]; k++)
		printf(" %016" PRIx64, md.gen[k]);
	printf("\nbitmap: %" PRIu64 " regions of %" PRIu64
	       " bytes dirty, covering %u generations\nview: %" PRIu64
	       " bytes\n", md.dirty_regions, md.region_size, md.bitmap_gens,
	       md.view_size);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct copy_args a;
	int err;

	copy_parse(argc, argv, &a);
	err = copy_print(&a);
	if (err && err != -ENODATA && err != -EUCLEAN)
		die("%s", pmrdma_errormsg(NULL));
	return 0;
}

int cmd_promote(int argc, char **argv)
{
	uint32_t ids[MAX_EXPORTS];
	struct pmrdma_metadata md;
	struct pmrdma_target *t;
	struct copy_args a;
	char msg[256];
	unsigned int n, k;
	int err;

	copy_parse(argc, argv, &a);
	/*
	 * fenced first: the old primary's connections go with the exports,
	 * so that nothing it does (a rejoin's judging) changes what is
	 * checked next
	 */
	n = copy_exports(&a, ids, MAX_EXPORTS);
	if (n && pmrdma_target_open(&t, msg, sizeof(msg)))
		die("%s", msg);
	for (k = 0; k < n; k++)
		if (pmrdma_target_unexport(t, ids[k]))
			die("unexport %u: %s", ids[k], pmrdma_target_errormsg(t));
	if (n)
		pmrdma_target_close(&t);
	err = copy_metadata(&a.r, &md);
	if (err == -ENODATA)
		die("%s: a copy without metadata is no replica to promote%s",
		    pmrdma_errormsg(NULL), n ? " (its exports are gone)" : "");
	if (err)
		die("%s%s", pmrdma_errormsg(NULL),
		    n ? " (its exports are gone)" : "");
	if (md.flags & PMRDMA_METADATA_INCONSISTENT)
		die("%s: cut off in a resync, the copy is not whole: promote a consistent one%s",
		    a.r.path, n ? " (its exports are gone)" : "");
	copy_print(&a);
	return 0;
}

void copy_demote_check(const struct dev_range *r, bool force)
{
	struct pmrdma_metadata md;

	if (copy_metadata(r, &md) ||
	    !(md.flags & PMRDMA_METADATA_PRIMARY) || force)
		return;
	die("%s: the copy's metadata says a map has it as its local copy, or had when it crashed: stop the application first; --force if it crashed",
	    r->path);
}
