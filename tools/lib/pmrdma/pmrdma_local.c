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

int pmrdma_local_map(struct pmrdma_map *map, const struct pmrdma_config *cfg)
{
	int fd, flags = MAP_SHARED, err;
	uint64_t size;
	struct stat st;
	void *p;

	fd = open(cfg->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pmrdma_fail(map, -errno, "%s: %s", cfg->path,
				   strerror(errno));
	if (fstat(fd, &st)) {
		err = pmrdma_fail(map, -errno, "%s: %s", cfg->path,
				  strerror(errno));
		goto out;
	}
	if (S_ISCHR(st.st_mode)) {
		err = devdax_info(st.st_rdev, &size, &map->granularity);
		if (err) {
			pmrdma_fail(map, err, "%s: not a devdax device",
				    cfg->path);
			goto out;
		}
	} else if (S_ISREG(st.st_mode)) {
		/* a file: DAX and synchronous page faults, or no persistence */
		size = st.st_size;
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
		map->granularity = PMRDMA_GRANULARITY_CACHE_LINE;
	} else {
		err = pmrdma_fail(map, -EINVAL, "%s: neither a devdax device nor a file",
				  cfg->path);
		goto out;
	}
	if (cfg->length ? cfg->offset + cfg->length > size : cfg->offset >= size) {
		err = pmrdma_fail(map, -EINVAL,
				  "%s: range beyond its %llu bytes", cfg->path,
				  (unsigned long long)size);
		goto out;
	}

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		pmrdma_fail(map, err == -EOPNOTSUPP ? -EOPNOTSUPP : err,
			    "%s: mmap: %s%s", cfg->path, strerror(-err),
			    err == -EOPNOTSUPP ? " (not on a DAX filesystem?)" : "");
		goto out;
	}
	map->base = p;
	map->mapped = size;
	map->addr = map->base + cfg->offset;
	map->size = cfg->length ? cfg->length : size - cfg->offset;
	map->cpu_flush = cpu_flush();
	map->local = true;
	map->file_offset = cfg->offset;
	/* a file is read back through it by flush-and-verify */
	if (S_ISREG(st.st_mode)) {
		map->fd = fd;
		return 0;
	}
	err = 0;
out:
	close(fd);
	return err;
}

void pmrdma_local_unmap(struct pmrdma_map *map)
{
	if (map->base)
		munmap(map->base, map->mapped);
	if (map->fd >= 0)
		close(map->fd);
	map->base = NULL;
	map->fd = -1;
}

/*
 * A file on fsdax is read back through the filesystem: its DAX read path
 * copies from the media with machine-check recovery, so a poisoned line
 * is -EIO there instead of a SIGBUS here.  A devdax device has no other
 * path than the mapping itself: the flush is all there is to check.
 */
int pmrdma_local_verify(struct pmrdma_map *map, const void *addr, size_t len)
{
	uint64_t off = (uint64_t)((const char *)addr - map->addr);
	char buf[64 << 10];
	size_t n;
	ssize_t got;

	if (map->fd < 0)
		return 0;
	for (; len; len -= n, off += n) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		got = pread(map->fd, buf, n, map->file_offset + off);
		if (got != (ssize_t)n)
			return pmrdma_fail(map, got < 0 ? -errno : -EIO,
					   "flush-and-verify: reading back [%llu, +%zu): %s",
					   (unsigned long long)off, n,
					   got < 0 ? strerror(errno) : "short read");
		if (memcmp(buf, map->addr + off, n))
			return pmrdma_fail(map, -EBADMSG,
					   "flush-and-verify: the media's [%llu, +%zu) differs from the view",
					   (unsigned long long)off, n);
	}
	return 0;
}

void pmrdma_local_flush(const struct pmrdma_map *map, const void *addr,
			size_t len)
{
	uintptr_t p = (uintptr_t)addr & ~(uintptr_t)(CACHE_LINE - 1);
	uintptr_t end = (uintptr_t)addr + len;

	if (map->granularity == PMRDMA_GRANULARITY_BYTE)
		return;
	for (; p < end; p += CACHE_LINE) {
		switch (map->cpu_flush) {
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

void pmrdma_local_memcpy_nt(const struct pmrdma_map *map, void *dst,
			    const void *src, size_t len)
{
	size_t head = (8 - ((uintptr_t)dst & 7)) & 7;
	const char *s = src;
	char *d = dst;
	long long v;

	if (head > len)
		head = len;
	memcpy(d, s, head);
	pmrdma_local_flush(map, d, head);
	for (d += head, s += head, len -= head; len >= 8; d += 8, s += 8, len -= 8) {
		memcpy(&v, s, 8);
		__builtin_ia32_movnti64((long long *)d, v);
	}
	memcpy(d, s, len);
	pmrdma_local_flush(map, d, len);
}

void pmrdma_local_drain(void)
{
	__asm__ volatile("sfence" ::: "memory");
}
