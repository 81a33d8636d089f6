/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's objects, shared by its files:
 *
 *   pmrdma_config.c  what to map
 *   pmrdma_map.c     the map: making, the calls of pmrdma.h, errors
 *   pmrdma_local.c   local pmem: the mapping and the CPU's flush
 *
 * Remote and replicated maps are not built yet (issue 13): making one
 * fails with -EOPNOTSUPP and says so.
 */
#ifndef PMRDMA_INTERNAL_H
#define PMRDMA_INTERNAL_H

#include <stdarg.h>

#include "pmrdma.h"

struct pmrdma_config {
	char *path;
	uint64_t offset, length;	/* length 0: the whole path */
	struct pmrdma_remote remote;
	unsigned int nremote;		/* 0 or 1 */
	struct pmrdma_remote replicas[PMRDMA_REPLICAS_MAX];
	unsigned int nreplicas;
};

/* the CPU's way to write a cache line back */
enum pmrdma_cpu_flush {
	PMRDMA_CPU_CLFLUSH,
	PMRDMA_CPU_CLFLUSHOPT,
	PMRDMA_CPU_CLWB,
};

struct pmrdma_map {
	char *base;			/* the mapping */
	size_t mapped;			/* its length */
	char *addr;			/* the view: base + the range's offset */
	size_t size;
	enum pmrdma_granularity granularity;
	enum pmrdma_cpu_flush cpu_flush;
	bool failed;			/* a remote failure: refuse work */
	char msg[256];
};

/* pmrdma_map.c: set the map's message; returns err */
int pmrdma_fail(struct pmrdma_map *map, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pmrdma_local.c */
int pmrdma_local_map(struct pmrdma_map *map, const struct pmrdma_config *cfg);
void pmrdma_local_unmap(struct pmrdma_map *map);
/* write [addr, addr + len) back to the persistence domain, no fence */
void pmrdma_local_flush(const struct pmrdma_map *map, const void *addr,
			size_t len);
/* order every write-back started before it */
void pmrdma_local_drain(void);

#endif /* PMRDMA_INTERNAL_H */
