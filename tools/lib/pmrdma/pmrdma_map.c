// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the map and the calls of pmrdma.h.  Every range is checked
 * against the view before anything is flushed, so that a call with a bad
 * range does nothing at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmrdma_internal.h"

int pmrdma_fail(struct pmrdma_map *map, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(map->msg, sizeof(map->msg), fmt, ap);
	va_end(ap);
	return err;
}

const char *pmrdma_errormsg(const struct pmrdma_map *map)
{
	return map ? map->msg : "no map";
}

int pmrdma_map_new(struct pmrdma_map **mapp, const struct pmrdma_config *cfg)
{
	struct pmrdma_map *map;
	int err;

	*mapp = NULL;
	if (!cfg || (!cfg->path && !cfg->nremote) ||
	    (cfg->path && cfg->nremote) || (cfg->nreplicas && !cfg->path))
		return -EINVAL;
	map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	if (cfg->nremote || cfg->nreplicas) {
		/* issue 13: the remote half is the next to be built */
		free(map);
		return -EOPNOTSUPP;
	}
	err = pmrdma_local_map(map, cfg);
	if (err) {
		free(map);
		return err;
	}
	*mapp = map;
	return 0;
}

void pmrdma_map_delete(struct pmrdma_map **map)
{
	if (!*map)
		return;
	pmrdma_local_unmap(*map);
	free(*map);
	*map = NULL;
}

void *pmrdma_map_get_address(const struct pmrdma_map *map)
{
	return map->addr;
}

size_t pmrdma_map_get_size(const struct pmrdma_map *map)
{
	return map->size;
}

void pmrdma_map_get_caps(const struct pmrdma_map *map, struct pmrdma_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->granularity = map->granularity;
	caps->method = PMRDMA_METHOD_AUTO;
	/* local memory is both globally visible and persistent when flushed */
	caps->placement_types = 0x3;
}

bool pmrdma_map_replica_in_sync(const struct pmrdma_map *map, unsigned int i)
{
	(void)map;
	(void)i;
	return false;
}

/* 0 when [addr, addr + len) is in the view (an empty range anywhere) */
static int in_view(struct pmrdma_map *map, const void *addr, size_t len,
		   const char *what)
{
	uintptr_t a = (uintptr_t)addr, v = (uintptr_t)map->addr;

	if (!len)
		return 0;
	if (a < v || a - v > map->size || len > map->size - (a - v))
		return pmrdma_fail(map, -EINVAL,
				   "%s: [%p, +%zu) is outside the map [%p, +%zu)",
				   what, addr, len, map->addr, map->size);
	return 0;
}

/* all the ranges are in the view, or the first that is not, as an error */
static int ranges_in_view(struct pmrdma_map *map,
			  const struct pmrdma_range *r, size_t n,
			  const char *what)
{
	size_t i;
	int err;

	if (map->failed)
		return pmrdma_fail(map, -EIO, "%s: the map failed before", what);
	if (n && !r)
		return pmrdma_fail(map, -EINVAL, "%s: no ranges", what);
	for (i = 0; i < n; i++) {
		err = in_view(map, r[i].addr, r[i].len, what);
		if (err)
			return err;
	}
	return 0;
}

int pmrdma_flush_async(struct pmrdma_map *map,
		       const struct pmrdma_range *ranges, size_t n)
{
	size_t i;
	int err;

	err = ranges_in_view(map, ranges, n, "flush");
	if (err)
		return err;
	for (i = 0; i < n; i++)
		pmrdma_local_flush(map, ranges[i].addr, ranges[i].len);
	return 0;
}

int pmrdma_drain(struct pmrdma_map *map)
{
	if (map->failed)
		return pmrdma_fail(map, -EIO, "drain: the map failed before");
	pmrdma_local_drain();
	return 0;
}

int pmrdma_flush_ranges(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n)
{
	int err = pmrdma_flush_async(map, ranges, n);

	return err ? err : pmrdma_drain(map);
}

int pmrdma_flush(struct pmrdma_map *map, void *addr, size_t len)
{
	struct pmrdma_range r = { addr, len };

	return pmrdma_flush_ranges(map, &r, 1);
}

int pmrdma_flush_verify(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n,
			uint32_t alg)
{
	(void)ranges;
	(void)n;
	(void)alg;
	return pmrdma_fail(map, -EOPNOTSUPP,
			   "flush-and-verify: not built yet (issue 13)");
}

int pmrdma_atomic_write(struct pmrdma_map *map, size_t offset, uint64_t value)
{
	if (map->failed)
		return pmrdma_fail(map, -EIO, "atomic write: the map failed before");
	if (offset % 8 || offset > map->size - 8 || map->size < 8)
		return pmrdma_fail(map, -EINVAL,
				   "atomic write: offset %zu is not an 8-byte aligned offset of the map",
				   offset);
	/* after every write-back started before it, in one store */
	pmrdma_local_drain();
	__atomic_store_n((uint64_t *)(map->addr + offset), value,
			 __ATOMIC_RELEASE);
	return 0;
}

#define PMRDMA_F_ALL	(PMRDMA_F_NODRAIN | PMRDMA_F_NOFLUSH | \
			 PMRDMA_F_NONTEMPORAL)

/* may what store [dst, dst + len) with flags */
static bool store_ok(struct pmrdma_map *map, void *dst, size_t len,
		     unsigned int flags, const char *what)
{
	struct pmrdma_range r = { dst, len };

	if (flags & ~PMRDMA_F_ALL) {
		pmrdma_fail(map, -EINVAL, "%s: unknown flags %#x", what, flags);
		return false;
	}
	return !ranges_in_view(map, &r, 1, what);
}

/* the flush and drain that flags ask for after a store of [dst, +len) */
static void *stored(struct pmrdma_map *map, void *dst, size_t len,
		    unsigned int flags)
{
	if (!(flags & PMRDMA_F_NOFLUSH))
		pmrdma_local_flush(map, dst, len);
	if (!(flags & (PMRDMA_F_NOFLUSH | PMRDMA_F_NODRAIN)))
		pmrdma_local_drain();
	return dst;
}

void *pmrdma_memcpy(struct pmrdma_map *map, void *dst, const void *src,
		    size_t len, unsigned int flags)
{
	if (!store_ok(map, dst, len, flags, "memcpy"))
		return NULL;
	memcpy(dst, src, len);
	return stored(map, dst, len, flags);
}

void *pmrdma_memset(struct pmrdma_map *map, void *dst, int c, size_t len,
		    unsigned int flags)
{
	if (!store_ok(map, dst, len, flags, "memset"))
		return NULL;
	memset(dst, c, len);
	return stored(map, dst, len, flags);
}
