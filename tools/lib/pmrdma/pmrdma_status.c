// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: what a copy's metadata says, read without making a map - for
 * a cluster manager's status and promote, as drbdadm reads DRBD's.  A
 * devdax device or a DAX file is mapped; a pmem block device (what the
 * kernel target exports) is read with O_DIRECT, so that nothing in the
 * page cache stands in for what the target wrote through DAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "pmrdma_internal.h"

#define HEADER	PMEM_RDMA_MD_HEADER

_Static_assert(PMRDMA_METADATA_GENS == PMEM_RDMA_MD_GENS, "the same history");
_Static_assert(PMRDMA_METADATA_PRIMARY == PMEM_RDMA_MD_PRIMARY &&
	       PMRDMA_METADATA_CLOSED == PMEM_RDMA_MD_CLOSED &&
	       PMRDMA_METADATA_INCONSISTENT == PMEM_RDMA_MD_INCONSISTENT,
	       "the uapi's flags");

/* [off, off + len) of a block device into buf (page-aligned), O_DIRECT */
static int block_read(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, off + done);
		if (n <= 0)
			return n ? -errno : -EIO;
		done += n;
	}
	return 0;
}

/* the header page and the bitmap before it, of the copy at [off, off + size) */
static int block_copy(const char *path, uint64_t off, uint64_t len,
		      char **copy_end, uint64_t *size, uint64_t want)
{
	uint64_t dev;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return pmrdma_fail_nomap(-errno, "%s: %s", path, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &dev)) {
		err = pmrdma_fail_nomap(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len ? off > dev || len > dev - off : off >= dev) {
		err = pmrdma_fail_nomap(-EINVAL, "%s: range beyond its %llu bytes",
					path, (unsigned long long)dev);
		goto out;
	}
	*size = len ?: dev - off;
	if (*size < want || *size % HEADER || off % HEADER) {
		err = pmrdma_fail_nomap(-ENODATA, "%s: no metadata in a range of %llu bytes",
					path, (unsigned long long)*size);
		goto out;
	}
	if (posix_memalign((void **)&buf, HEADER, want)) {
		err = pmrdma_fail_nomap(-ENOMEM, "no memory for the metadata");
		goto out;
	}
	err = block_read(fd, buf, want, off + *size - want);
	if (err) {
		free(buf);
		pmrdma_fail_nomap(err, "%s: %s", path, strerror(-err));
		goto out;
	}
	*copy_end = buf + want;
out:
	close(fd);
	return err;
}

static void status_of(const struct pmrdma_md *md, const uint64_t *bits,
		      struct pmrdma_metadata *st)
{
	uint64_t regions = ((md->data_size - 1) >> md->shift) + 1, r;
	unsigned int k;

	memset(st, 0, sizeof(*st));
	for (k = 0; k < PMRDMA_METADATA_GENS; k++)
		st->gen[k] = md->gen[k];
	st->bitmap_gens = md->bitmap_gens;
	st->flags = md->flags;
	st->region_size = 1ULL << md->shift;
	st->view_size = md->data_size;
	st->seq = md->seq;
	for (r = 0; r < regions; r += 64) {
		uint64_t w = le64toh(bits[r / 64]);

		if (regions - r < 64)
			w &= (1ULL << (regions - r)) - 1;
		st->dirty_regions += __builtin_popcountll(w);
	}
}

int pmrdma_metadata_read(const struct pmrdma_config *cfg,
			 struct pmrdma_metadata *st)
{
	struct pmrdma_local lc;
	struct pmrdma_md md;
	struct stat sb;
	uint64_t size, bm;
	char *end = NULL, *page;
	int err;

	pmrdma_fail_nomap(0, "%s", "");
	if (!cfg || !cfg->path || !st)
		return pmrdma_fail_nomap(-EINVAL, "the config names no local copy");
	if (stat(cfg->path, &sb))
		return pmrdma_fail_nomap(-errno, "%s: %s", cfg->path,
					 strerror(errno));
	if (S_ISBLK(sb.st_mode)) {
		/* the header first: it says how long the bitmap is */
		err = block_copy(cfg->path, cfg->offset, cfg->length, &end,
				 &size, HEADER);
		if (err)
			return err;
		page = end - HEADER;
		err = pmrdma_md_parse(page, size, &md);
		free(page);
		if (!err) {
			bm = size - HEADER - md.data_size;
			err = block_copy(cfg->path, cfg->offset, cfg->length,
					 &end, &size, bm + HEADER);
			if (err)
				return err;
			page = end - HEADER;
			status_of(&md, (const uint64_t *)(page - bm), st);
			free(page - bm);
		}
	} else {
		err = pmrdma_local_open(&lc, cfg->path, cfg->offset, cfg->length);
		if (err)
			return pmrdma_fail_nomap(err, "%s", lc.msg);
		size = lc.size;
		err = size < HEADER || size % HEADER ? -ENODATA :
		      pmrdma_md_parse(lc.addr + size - HEADER, size, &md);
		if (!err)
			status_of(&md, (const uint64_t *)(lc.addr + md.data_size),
				  st);
		pmrdma_local_close(&lc);
	}
	if (err == -ENODATA)
		return pmrdma_fail_nomap(err, "%s: no metadata in the last page of its %llu bytes",
					 cfg->path, (unsigned long long)size);
	if (err)
		return pmrdma_fail_nomap(err, "%s: metadata not of a copy of %llu bytes (%s)",
					 cfg->path, (unsigned long long)size,
					 pmrdma_md_fault(&md, size));
	return 0;
}
