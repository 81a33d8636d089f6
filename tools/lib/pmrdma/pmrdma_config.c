// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: what to map (pmrdma.h).  The config keeps copies of what it
 * is given, keys included, and wipes them when deleted.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmrdma_internal.h"

int pmrdma_config_new(struct pmrdma_config **cfg)
{
	*cfg = calloc(1, sizeof(**cfg));
	if (!*cfg)
		return -ENOMEM;
	(*cfg)->min_in_sync = UINT_MAX;
	(*cfg)->inline_size = UINT_MAX;
	(*cfg)->tos = -1;
	(*cfg)->resync_tos = -1;
	return 0;
}

void pmrdma_remote_free(struct pmrdma_remote *r)
{
	/* not memset(): a store before free() may be left out */
	if (r->key)
		explicit_bzero((void *)r->key, r->key_len);
	free((void *)r->key);
	free((void *)r->addr);
	free((void *)r->ibdev);
	memset(r, 0, sizeof(*r));
}

void pmrdma_config_delete(struct pmrdma_config **cfg)
{
	unsigned int i;

	if (!*cfg)
		return;
	free((*cfg)->path);
	if ((*cfg)->nremote)
		pmrdma_remote_free(&(*cfg)->remote);
	for (i = 0; i < (*cfg)->nreplicas; i++)
		pmrdma_remote_free(&(*cfg)->replicas[i]);
	explicit_bzero((*cfg)->data_key, sizeof((*cfg)->data_key));
	free(*cfg);
	*cfg = NULL;
}

int pmrdma_config_set_path(struct pmrdma_config *cfg, const char *path)
{
	if (!path || !*path || cfg->path)
		return -EINVAL;
	cfg->path = strdup(path);
	return cfg->path ? 0 : -ENOMEM;
}

/*
 * The view starts at a page of the path, as libpmem2 wants an offset of
 * the mapping's alignment: an 8-byte aligned offset of the view is then
 * an aligned word of memory, which pmrdma_atomic_write() stores in one
 * piece.
 */
int pmrdma_config_set_range(struct pmrdma_config *cfg, uint64_t offset,
			    uint64_t length)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!length || offset + length < offset)
		return pmrdma_fail_nomap(-EINVAL,
					 "range [%llu, +%llu): empty, or beyond 2^64",
					 (unsigned long long)offset,
					 (unsigned long long)length);
	if (offset % page)
		return pmrdma_fail_nomap(-EINVAL,
					 "range offset %llu is not a multiple of the page size (%ld)",
					 (unsigned long long)offset, page);
	cfg->offset = offset;
	cfg->length = length;
	return 0;
}

/* a deep copy of src into dst */
int pmrdma_remote_copy(struct pmrdma_remote *dst,
		       const struct pmrdma_remote *src)
{
	void *key = NULL;

	if (!src->addr || !src->port ||
	    (src->key && (src->key_len < 16 || src->key_len > PMRDMA_KEY_MAX)) ||
	    src->method > PMRDMA_METHOD_GPSPM)
		return -EINVAL;
	*dst = *src;
	dst->addr = strdup(src->addr);
	dst->ibdev = src->ibdev ? strdup(src->ibdev) : NULL;
	if (src->key) {
		key = malloc(src->key_len);
		if (key)
			memcpy(key, src->key, src->key_len);
	}
	dst->key = key;
	if (!dst->addr || (src->ibdev && !dst->ibdev) || (src->key && !key)) {
		pmrdma_remote_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int pmrdma_config_set_remote(struct pmrdma_config *cfg,
			     const struct pmrdma_remote *remote)
{
	int err;

	if (cfg->nremote)
		return -EINVAL;
	err = pmrdma_remote_copy(&cfg->remote, remote);
	if (!err)
		cfg->nremote = 1;
	return err;
}

int pmrdma_config_add_replica(struct pmrdma_config *cfg,
			      const struct pmrdma_remote *replica)
{
	int err;

	if (cfg->nreplicas == PMRDMA_REPLICAS_MAX)
		return -E2BIG;
	err = pmrdma_remote_copy(&cfg->replicas[cfg->nreplicas], replica);
	if (!err)
		cfg->nreplicas++;
	return err;
}

int pmrdma_config_set_resync_granularity(struct pmrdma_config *cfg,
					 size_t bytes)
{
	unsigned int shift;

	if (bytes < PMRDMA_RESYNC_GRANULARITY_MIN ||
	    bytes > PMRDMA_RESYNC_GRANULARITY_MAX || bytes & (bytes - 1))
		return -EINVAL;
	for (shift = 0; (size_t)1 << shift < bytes; shift++)
		;
	cfg->region_shift = shift;
	return 0;
}

int pmrdma_config_set_resync_rate(struct pmrdma_config *cfg,
				  uint64_t bytes_per_s)
{
	/* under 4 KiB/s a region would wait more than a second */
	if (bytes_per_s && bytes_per_s < PMRDMA_RESYNC_GRANULARITY_MIN)
		return -EINVAL;
	cfg->resync_rate = bytes_per_s;
	return 0;
}

/* a traffic class, or -1 for the default one: 0 or -EINVAL */
static int tos_check(int traffic_class, const char *dflt)
{
	if (traffic_class < -1 || traffic_class > 255)
		return pmrdma_fail_nomap(-EINVAL,
					 "a traffic class is 0..255 (or -1 for %s), not %d",
					 dflt, traffic_class);
	return 0;
}

int pmrdma_config_set_resync_traffic_class(struct pmrdma_config *cfg,
					   int traffic_class)
{
	int err = tos_check(traffic_class, "the map's");

	if (!err)
		cfg->resync_tos = traffic_class;
	return err;
}

int pmrdma_config_set_auto_rejoin(struct pmrdma_config *cfg,
				  unsigned int min_ms, unsigned int max_ms)
{
	if ((min_ms || max_ms) && (!min_ms || max_ms < min_ms))
		return -EINVAL;
	cfg->rejoin_min_ms = min_ms;
	cfg->rejoin_max_ms = max_ms;
	return 0;
}

int pmrdma_config_set_metadata(struct pmrdma_config *cfg, bool on)
{
	cfg->metadata = on;
	return 0;
}

int pmrdma_config_discard_replica(struct pmrdma_config *cfg, unsigned int i)
{
	/* against the replicas once they are all added: pmrdma_map_new() */
	if (i >= PMRDMA_REPLICAS_MAX)
		return -EINVAL;
	cfg->discard |= 1U << i;
	return 0;
}

int pmrdma_config_set_min_in_sync(struct pmrdma_config *cfg, unsigned int n)
{
	/* against the replicas once they are all added: pmrdma_map_new() */
	if (n > PMRDMA_REPLICAS_MAX)
		return -EINVAL;
	cfg->min_in_sync = n;
	return 0;
}

int pmrdma_config_set_timeouts(struct pmrdma_config *cfg,
			       unsigned int connect_ms, unsigned int wait_ms,
			       uint64_t wait_rate)
{
	/* poll() takes an int; a rate under 1 kB/s would wait for days */
	if (connect_ms > INT_MAX || wait_ms > INT_MAX ||
	    (wait_rate && wait_rate < 1000))
		return -EINVAL;
	cfg->connect_ms = connect_ms;
	cfg->wait_ms = wait_ms;
	cfg->wait_rate = wait_rate;
	return 0;
}

int pmrdma_config_set_view_fill(struct pmrdma_config *cfg,
				enum pmrdma_view_fill fill)
{
	if (fill != PMRDMA_VIEW_READ && fill != PMRDMA_VIEW_ZEROED)
		return -EINVAL;
	cfg->view_fill = fill;
	return 0;
}

int pmrdma_config_set_lanes(struct pmrdma_config *cfg, unsigned int lanes)
{
	if (!lanes || lanes > PMRDMA_LANES_MAX)
		return -EINVAL;
	cfg->lanes = lanes;
	return 0;
}

int pmrdma_config_set_group_commit(struct pmrdma_config *cfg, bool on)
{
	cfg->no_group_commit = !on;
	return 0;
}

int pmrdma_config_set_sq_size(struct pmrdma_config *cfg, unsigned int sq_size)
{
	/* the map posts its requests in batches of up to the minimum */
	if (sq_size && (sq_size < PMRDMA_SQ_SIZE_MIN ||
			sq_size > PMRDMA_SQ_SIZE_MAX))
		return pmrdma_fail_nomap(-EINVAL,
					 "a send queue of %u requests is outside %u..%u",
					 sq_size, PMRDMA_SQ_SIZE_MIN,
					 PMRDMA_SQ_SIZE_MAX);
	cfg->sq_size = sq_size;
	return 0;
}

int pmrdma_config_set_inline_size(struct pmrdma_config *cfg,
				  unsigned int inline_size)
{
	if (inline_size > PMRDMA_INLINE_SIZE_MAX)
		return pmrdma_fail_nomap(-EINVAL,
					 "%u bytes inline is more than %u",
					 inline_size, PMRDMA_INLINE_SIZE_MAX);
	cfg->inline_size = inline_size;
	return 0;
}

int pmrdma_config_set_traffic_class(struct pmrdma_config *cfg,
				    int traffic_class)
{
	int err = tos_check(traffic_class, "rdma_cm's");

	if (!err)
		cfg->tos = traffic_class;
	return err;
}

int pmrdma_config_set_rate(struct pmrdma_config *cfg, uint32_t rate_kbps)
{
	/* the device's range is checked at the connect, where it is known */
	cfg->rate_kbps = rate_kbps;
	return 0;
}

int pmrdma_config_set_data_key(struct pmrdma_config *cfg, const void *key,
			       size_t len)
{
	if (key && len != PMRDMA_DATA_KEY_MIN && len != PMRDMA_DATA_KEY_MAX)
		return pmrdma_fail_nomap(-EINVAL,
					 "a data key has %d or %d bytes (AES-128 or AES-256), not %zu",
					 PMRDMA_DATA_KEY_MIN, PMRDMA_DATA_KEY_MAX,
					 len);
	explicit_bzero(cfg->data_key, sizeof(cfg->data_key));
	cfg->data_key_len = key ? len : 0;
	if (key)
		memcpy(cfg->data_key, key, len);
	return 0;
}
