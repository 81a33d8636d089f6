// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: local persistent memory - a devdax device or a file on an
 * fsdax filesystem, mapped whole, and the CPU's cache write-back: clwb
 * where the CPU has it, else clflushopt, else clflush, with one sfence per
 * drain; large copies with non-temporal stores (movnti), which need the
 * drain's sfence and no write-back.  The granularity is the region's
 * persistence domain: byte when the CPU caches are in it (eADR), cache
 * line otherwise.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pmrdma_internal.h"

#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif

#define CACHE_LINE	64

static enum pmrdma_cpu_flush cpu_flush(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return PMRDMA_CPU_CLFLUSH;
	if (b & bit_CLWB)
		return PMRDMA_CPU_CLWB;
	if (b & bit_CLFLUSHOPT)
		return PMRDMA_CPU_CLFLUSHOPT;
	return PMRDMA_CPU_CLFLUSH;
}

/* the first line of a sysfs file, without its newline */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -errno;
	ok = fgets(buf, len, f);
	fclose(f);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * A devdax device's size, and its region's persistence domain: the
 * region is a few directories up from the device in sysfs.
 */
static int devdax_info(dev_t rdev, uint64_t *size,
		       enum pmrdma_granularity *g)
{
	char path[PATH_MAX + 32], dir[PATH_MAX], line[64];
	int i, err;

	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/size", major(rdev),
		 minor(rdev));
	err = read_line(path, line, sizeof(line));
	if (err)
		return err == -ENOENT ? -ENODEV : err;
	*size = strtoull(line, NULL, 0);

	*g = PMRDMA_GRANULARITY_CACHE_LINE;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device", major(rdev),
		 minor(rdev));
	if (!realpath(path, dir))
		return 0;
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/persistence_domain", dir);
		if (!read_line(path, line, sizeof(line))) {
			if (!strcmp(line, "cpu_cache"))
				*g = PMRDMA_GRANULARITY_BYTE;
			break;
		}
		*strrchr(dir, '/') = '\0';
	}
	return 0;
}

/* say why a call failed, in lc->msg */
static int local_fail(struct pmrdma_local *lc, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int local_fail(struct pmrdma_local *lc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lc->msg, sizeof(lc->msg), fmt, ap);
	va_end(ap);
	return err;
}

int pmrdma_local_open(struct pmrdma_local *lc, const char *path,
		      uint64_t offset, uint64_t length)
{
	int fd, flags = MAP_SHARED, err, e;
	uint64_t size;
	struct stat st;
	void *p;

	*lc = (struct pmrdma_local){ .fd = -1 };
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return local_fail(lc, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		e = errno;
		err = local_fail(lc, -e, "%s: %s", path, strerror(e));
		goto out;
	}
	if (S_ISCHR(st.st_mode)) {
		err = devdax_info(st.st_rdev, &size, &lc->granularity);
		if (err) {
			local_fail(lc, err, "%s: not a devdax device", path);
			goto out;
		}
	} else if (S_ISREG(st.st_mode)) {
		/* a file: DAX and synchronous page faults, or no persistence */
		size = st.st_size;
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
		lc->granularity = PMRDMA_GRANULARITY_CACHE_LINE;
	} else {
		err = local_fail(lc, -EINVAL,
				 "%s: neither a devdax device nor a file", path);
		goto out;
	}
	if (length ? offset + length > size : offset >= size) {
		err = local_fail(lc, -EINVAL,
				 "%s: range beyond its %llu bytes", path,
				 (unsigned long long)size);
		goto out;
	}

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		local_fail(lc, err, "%s: mmap: %s%s", path, strerror(-err),
			   err == -EOPNOTSUPP ? " (not on a DAX filesystem?)" : "");
		goto out;
	}
	lc->base = p;
	lc->mapped = size;
	lc->offset = offset;
	lc->addr = lc->base + offset;
	lc->size = length ? length : size - offset;
	lc->cpu_flush = cpu_flush();
	/* a file is read back through it by flush-and-verify */
	if (S_ISREG(st.st_mode)) {
		lc->fd = fd;
		return 0;
	}
	err = 0;
out:
	close(fd);
	return err;
}

void pmrdma_local_close(struct pmrdma_local *lc)
{
	if (lc->base)
		munmap(lc->base, lc->mapped);
	if (lc->fd >= 0)
		close(lc->fd);
	lc->base = NULL;
	lc->addr = NULL;
	lc->fd = -1;
}

/*
 * A file on fsdax is read back through the filesystem: its DAX read path
 * copies from the media with machine-check recovery, so a poisoned line
 * is -EIO there instead of a SIGBUS here.  A devdax device has no other
 * path than the mapping itself: the flush is all there is to check.
 */
int pmrdma_local_verify(struct pmrdma_local *lc, uint64_t off, size_t len)
{
	char buf[64 << 10];
	size_t n;
	ssize_t got;

	if (lc->fd < 0)
		return 0;
	for (; len; len -= n, off += n) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		got = pread(lc->fd, buf, n, lc->offset + off);
		if (got != (ssize_t)n)
			return local_fail(lc, got < 0 ? -errno : -EIO,
					  "flush-and-verify: reading back [%llu, +%zu): %s",
					  (unsigned long long)off, n,
					  got < 0 ? strerror(errno) : "short read");
		if (memcmp(buf, lc->addr + off, n))
			return local_fail(lc, -EBADMSG,
					  "flush-and-verify: the media's [%llu, +%zu) differs from the view",
					  (unsigned long long)off, n);
	}
	return 0;
}

void pmrdma_local_flush(const struct pmrdma_local *lc, const void *addr,
			size_t len)
{
	uintptr_t p = (uintptr_t)addr & ~(uintptr_t)(CACHE_LINE - 1);
	uintptr_t end = (uintptr_t)addr + len;

	if (lc->granularity == PMRDMA_GRANULARITY_BYTE)
		return;
	for (; p < end; p += CACHE_LINE) {
		switch (lc->cpu_flush) {
		case PMRDMA_CPU_CLWB:
			__asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
			break;
		case PMRDMA_CPU_CLFLUSHOPT:
			__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
			break;
		default:
			__asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
		}
	}
}

void pmrdma_local_memcpy_nt(const struct pmrdma_local *lc, void *dst,
			    const void *src, size_t len)
{
	size_t head = (8 - ((uintptr_t)dst & 7)) & 7;
	const char *s = src;
	char *d = dst;
	long long v;

	if (head > len)
		head = len;
	memcpy(d, s, head);
	pmrdma_local_flush(lc, d, head);
	for (d += head, s += head, len -= head; len >= 8; d += 8, s += 8, len -= 8) {
		memcpy(&v, s, 8);
		__builtin_ia32_movnti64((long long *)d, v);
	}
	memcpy(d, s, len);
	pmrdma_local_flush(lc, d, len);
}

void pmrdma_local_drain(void)
{
	__asm__ volatile("sfence" ::: "memory");
}
