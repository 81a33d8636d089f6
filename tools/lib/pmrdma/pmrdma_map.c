// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the map and the calls of pmrdma.h.  Every range is checked
 * against the view before anything is flushed, so that a call with a bad
 * range does nothing at all.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pmrdma_internal.h"

/* what a link's call that returned err said, as the map's message */
static int link_said(struct pmrdma_map *map, const struct pmrdma_link *l,
		     int err)
{
	return err ? pmrdma_fail(map, err, "%s", l->msg) : 0;
}

/* log2 of the default resync region */
#define REGION_SHIFT	12

/* a local map: the view is the pmem itself, but for its metadata */
static int local_map(struct pmrdma_map *map, const struct pmrdma_config *cfg)
{
	int err = pmrdma_local_open(&map->lc, cfg->path, cfg->offset,
				    cfg->length);

	if (err)
		return pmrdma_fail(map, err, "%s", map->lc.msg);
	map->local = true;
	map->addr = map->lc.addr;
	map->size = map->lc.size;
	map->granularity = map->lc.granularity;
	map->discard = cfg->discard;
	return cfg->metadata ?
	       pmrdma_gen_open(map, cfg->region_shift ?: REGION_SHIFT) : 0;
}

/*
 * A remote map: a window of the export (the whole of it, or the config's
 * range), its view on the heap, filled from it unless the config says not.
 */
static int remote_map(struct pmrdma_map *map, const struct pmrdma_config *cfg)
{
	struct pmrdma_link *l = copy_link(map, 0, 0);
	struct pmrdma_link_params lp;
	uint64_t elen;
	int err;

	map_link_params(map, &lp);
	err = pmrdma_link_open(l, &cfg->remote, &lp);
	if (err)
		return link_said(map, l, err);
	elen = l->conn.r.length;
	if (cfg->length &&
	    (cfg->offset > elen || cfg->length > elen - cfg->offset))
		return pmrdma_fail(map, -EINVAL,
				   "%s: range [%llu, +%llu) beyond the export's %llu bytes",
				   l->name, (unsigned long long)cfg->offset,
				   (unsigned long long)cfg->length,
				   (unsigned long long)elen);
	l->window = cfg->offset;
	map->size = cfg->length ? cfg->length : elen;
	map->granularity = PMRDMA_GRANULARITY_CACHE_LINE;
	if (posix_memalign((void **)&map->addr, 4096, map->size ?: 1))
		return pmrdma_fail(map, -ENOMEM, "no memory for a %zu-byte view",
				   map->size);
	err = pmrdma_link_attach(l, map->addr, map->size);
	if (!err)
		err = pmrdma_link_open_lanes(l, map->nlanes, &cfg->remote, &lp);
	if (err)
		return link_said(map, l, err);
	copy_caps_set(map, 0, l);
	if (cfg->view_fill == PMRDMA_VIEW_ZEROED) {
		memset(map->addr, 0, map->size);
		return 0;
	}
	return link_said(map, l, pmrdma_link_read(l, 0, map->size));
}

/* the live maps, for the Windows layer's tokens */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pmrdma_map *live;

static void live_add(struct pmrdma_map *map)
{
	pthread_mutex_lock(&live_lock);
	map->next = live;
	live = map;
	pthread_mutex_unlock(&live_lock);
}

static void live_del(struct pmrdma_map *map)
{
	struct pmrdma_map **p;

	pthread_mutex_lock(&live_lock);
	for (p = &live; *p; p = &(*p)->next) {
		if (*p == map) {
			*p = map->next;
			break;
		}
	}
	pthread_mutex_unlock(&live_lock);
}

struct pmrdma_map *pmrdma_map_find(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	struct pmrdma_map *m;

	pthread_mutex_lock(&live_lock);
	for (m = live; m; m = m->next) {
		uintptr_t v = (uintptr_t)m->addr;

		if (a >= v && a - v <= m->size && len <= m->size - (a - v))
			break;
	}
	pthread_mutex_unlock(&live_lock);
	return m;
}

static void map_free(struct pmrdma_map *map)
{
	unsigned int i, k;

	pmrdma_replica_auto_stop(map);
	pmrdma_gen_close(map);
	/* a copy's first lane last: it holds the PD and the registration */
	for (i = 0; i < map->nlinks; i++)
		for (k = map->nlanes; k-- > 0; )
			pmrdma_link_close(copy_link(map, i, k));
	free(map->links);
	pmrdma_lanes_free(map);
	if (map->event_fd >= 0)
		close(map->event_fd);
	if (map->local)
		pmrdma_local_close(&map->lc);
	else
		free(map->addr);
	for (i = 0; i < map->nlinks; i++)
		if (map->local)
			pmrdma_remote_free(&map->replica_cfg[i]);
	pmrdma_dirty_free(&map->dirty);
	if (map->state_fd >= 0)
		close(map->state_fd);
	pthread_mutex_destroy(&map->rejoin_lock);
	pthread_cond_destroy(&map->rejoin_wake);
	pthread_mutex_destroy(&map->flight_lock);
	pthread_cond_destroy(&map->flight_done);
	pthread_mutex_destroy(&map->bufs_lock);
	pthread_mutex_destroy(&map->md_lock);
	pthread_mutex_destroy(&map->rtl_lock);
	explicit_bzero(map->data_key, sizeof(map->data_key));
	free(map);
}

/* a replicated map's copies: their configs, to rejoin, and the bitmaps */
static int replicas_map(struct pmrdma_map *map,
			const struct pmrdma_config *cfg)
{
	unsigned int i;
	int err;

	for (i = 0; i < cfg->nreplicas; i++)
		if (pmrdma_remote_copy(&map->replica_cfg[i], &cfg->replicas[i]))
			return pmrdma_fail(map, -ENOMEM, "no memory for the replicas");
	map->resync_rate = cfg->resync_rate;
	map->resync_tos = cfg->resync_tos;
	map->rejoin_min_ms = cfg->rejoin_min_ms;
	map->rejoin_max_ms = cfg->rejoin_max_ms;
	map->state_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (map->state_fd < 0)
		return pmrdma_fail(map, -errno, "eventfd: %s", strerror(errno));
	if (pmrdma_dirty_new(&map->dirty, map->size,
			     map->has_md ? map->md.shift :
			     cfg->region_shift ?: REGION_SHIFT, cfg->nreplicas))
		return pmrdma_fail(map, -ENOMEM, "no memory for the replicas' bitmaps");
	if (map->has_md) {
		/* what the persistent bitmap holds, every replica may lack */
		if (pmrdma_dirty_persist(&map->dirty, &map->lc,
					 (uint64_t *)(map->addr + map->size)))
			return pmrdma_fail(map, -ENOMEM, "no memory for the replicas' bitmaps");
		for (i = 0; i < cfg->nreplicas; i++)
			pmrdma_dirty_add(&map->dirty, i, map->dirty.pmem);
	}
	/* every replica judged before any is written to */
	for (i = 0; i < cfg->nreplicas; i++) {
		err = pmrdma_replica_open(map, i);
		if (err)
			return err;
	}
	err = pmrdma_gen_start(map);
	for (i = 0; i < cfg->nreplicas && !err; i++)
		err = pmrdma_replica_fill(map, i);
	if (err)
		return err;
	/* made: the replicas are what they were judged, discarded or not */
	map->discard = 0;
	return pmrdma_replica_auto_start(map);
}

/* the maps' ids: a thread's lane and message name a map by it */
static uint64_t map_ids;

int pmrdma_map_new(struct pmrdma_map **mapp, const struct pmrdma_config *cfg)
{
	pthread_condattr_t ca;
	struct pmrdma_map *map;
	unsigned int i, k;
	int err;

	*mapp = NULL;
	pmrdma_crypto_once();
	pmrdma_fail_nomap(0, "%s", "");
	if (!cfg || (!cfg->path && !cfg->nremote) ||
	    (cfg->path && cfg->nremote) || (cfg->nreplicas && !cfg->path))
		return pmrdma_fail_nomap(-EINVAL,
					 "the config names no path and no remote, or both");
	if (cfg->min_in_sync != UINT_MAX && cfg->min_in_sync > cfg->nreplicas)
		return pmrdma_fail_nomap(-EINVAL,
					 "the config asks for %u replicas in sync and has %u",
					 cfg->min_in_sync, cfg->nreplicas);
	if (cfg->metadata && !cfg->path)
		return pmrdma_fail_nomap(-EINVAL,
					 "metadata is kept by a map with a local copy");
	if (cfg->discard >> cfg->nreplicas)
		return pmrdma_fail_nomap(-EINVAL,
					 "the config discards a replica it does not have");
	if (cfg->discard && !cfg->metadata)
		return pmrdma_fail_nomap(-EINVAL,
					 "only a map with metadata discards a replica: the others get a full copy anyway");
	/* a local view is the memory itself: nothing to fill */
	if (!cfg->nremote && cfg->view_fill != PMRDMA_VIEW_READ)
		return pmrdma_fail_nomap(-EINVAL,
					 "only a remote map's view can start zeroed: a local view is the memory");
	map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	map->id = __atomic_add_fetch(&map_ids, 1, __ATOMIC_RELAXED);
	map->lc.fd = -1;
	pthread_mutex_init(&map->rtl_lock, NULL);
	pthread_mutex_init(&map->bufs_lock, NULL);
	pthread_mutex_init(&map->md_lock, NULL);
	map->nlinks = cfg->nremote + cfg->nreplicas;
	map->nlanes = cfg->lanes ?: 1;
	map->group_commit = !cfg->no_group_commit;
	map->min_in_sync = cfg->min_in_sync != UINT_MAX ? cfg->min_in_sync :
			   cfg->nreplicas ? 1 : 0;
	map->connect_ms = cfg->connect_ms ?: PMRDMA_CONNECT_MS;
	map->wait_ms = cfg->wait_ms ?: PMRDMA_WAIT_MS;
	map->wait_rate = cfg->wait_rate ?: PMRDMA_WAIT_RATE;
	map->sq_size = cfg->sq_size ?: PMRDMA_SQ_SIZE;
	map->inline_size = cfg->inline_size != UINT_MAX ? cfg->inline_size :
			   PMRDMA_INLINE_SIZE;
	map->event_fd = -1;
	map->state_fd = -1;
	pthread_mutex_init(&map->rejoin_lock, NULL);
	pthread_mutex_init(&map->flight_lock, NULL);
	pthread_cond_init(&map->flight_done, NULL);
	/* the automatic rejoin's waits are on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&map->rejoin_wake, &ca);
	pthread_condattr_destroy(&ca);
	/* a replicated map may take more replicas (pmrdma_replica_add()) */
	map->links = calloc((size_t)(cfg->nreplicas ? PMRDMA_REPLICAS_MAX :
				     map->nlinks ?: 1) * map->nlanes,
			    sizeof(*map->links));
	if (!map->links || pmrdma_lanes_new(map)) {
		free(map->links);
		pthread_mutex_destroy(&map->rejoin_lock);
		pthread_cond_destroy(&map->rejoin_wake);
		pthread_mutex_destroy(&map->flight_lock);
		pthread_cond_destroy(&map->flight_done);
		pthread_mutex_destroy(&map->bufs_lock);
		pthread_mutex_destroy(&map->md_lock);
		pthread_mutex_destroy(&map->rtl_lock);
		free(map);
		return -ENOMEM;
	}
	/* wiped by map_free() */
	memcpy(map->data_key, cfg->data_key, cfg->data_key_len);
	map->data_key_len = cfg->data_key_len;
	map->tos = cfg->tos;
	map->rate_kbps = cfg->rate_kbps;
	for (i = 0; i < map->nlinks; i++)
		for (k = 0; k < map->nlanes; k++)
			copy_link(map, i, k)->copy_err = &map->copy_err[i];
	if (cfg->nremote) {
		err = remote_map(map, cfg);
	} else {
		err = local_map(map, cfg);
		if (!err && cfg->nreplicas)
			err = replicas_map(map, cfg);
		else if (!err)
			err = pmrdma_gen_start(map);
	}
	if (err) {
		pmrdma_fail_nomap(err, "%s", pmrdma_errormsg(map));
		map_free(map);
		return err;
	}
	live_add(map);
	*mapp = map;
	return 0;
}

/* what a layer above wants done as a map goes (the Windows tokens) */
static void (*map_gone_hook)(struct pmrdma_map *map);

void pmrdma_map_on_delete(void (*hook)(struct pmrdma_map *map))
{
	__atomic_store_n(&map_gone_hook, hook, __ATOMIC_RELEASE);
}

void pmrdma_map_delete(struct pmrdma_map **map)
{
	void (*hook)(struct pmrdma_map *map);

	if (!*map)
		return;
	live_del(*map);
	/* after live_del: a hook set before the map was found is seen */
	hook = __atomic_load_n(&map_gone_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook(*map);
	map_free(*map);
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
	const struct pmrdma_copy_caps *c;
	unsigned int i;

	memset(caps, 0, sizeof(*caps));
	caps->granularity = map->granularity;
	caps->method = map->nlinks ?
		       __atomic_load_n(&map->copy_caps[0].method, __ATOMIC_RELAXED) :
		       PMRDMA_METHOD_AUTO;
	/* local memory is both visible and persistent once flushed */
	caps->placement_types = PMRDMA_PLACEMENT_GLOBAL | PMRDMA_PLACEMENT_PERSISTENT;
	caps->verify_algs = PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_CRC32C) |
			    PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_SHA256) |
			    PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_XXH64);
	/* the copies' caps, not their links: a rejoin may be swapping them */
	for (i = 0; i < map_copies(map); i++) {
		c = &map->copy_caps[i];
		caps->placement_types &= __atomic_load_n(&c->placement,
							 __ATOMIC_RELAXED);
		caps->verify_algs &= __atomic_load_n(&c->algs, __ATOMIC_RELAXED);
	}
	caps->replicas = map->local ? map_copies(map) : 0;
}

/* a remote failure made the map refuse work */
static bool map_failed(const struct pmrdma_map *map)
{
	return __atomic_load_n(&map->failed, __ATOMIC_ACQUIRE);
}

bool pmrdma_map_replica_in_sync(const struct pmrdma_map *map, unsigned int i)
{
	return map->local && i < map_copies(map) && copy_in_sync(map, i);
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

	if (map_failed(map))
		return pmrdma_fail(map, -EIO, "%s: the map failed before", what);
	if (n && !r)
		return pmrdma_fail(map, -EINVAL, "%s: no ranges", what);
	if (n > SIZE_MAX / sizeof(*r))
		return pmrdma_fail(map, -EINVAL, "%s: %zu ranges cannot be", what, n);
	for (i = 0; i < n; i++) {
		err = in_view(map, r[i].addr, r[i].len, what);
		if (err)
			return err;
	}
	return 0;
}

/*
 * A step over the map's links, as one call's result: the links live at its
 * start, and the first failure of a remote map's only link.
 */
struct links_step {
	unsigned int live;
	int err;
	unsigned int lane;		/* the caller's */
};

static void links_begin(const struct pmrdma_map *map, struct links_step *st,
			unsigned int lane)
{
	unsigned int i;

	st->live = 0;
	st->err = 0;
	st->lane = lane;
	for (i = 0; i < map->nlinks; i++)
		st->live += copy_live(map, i);
}

/*
 * fold link l's result e into the step (a replica's is in l->err), its
 * message the map's
 */
static void links_fold(struct pmrdma_map *map, struct links_step *st,
		       const struct pmrdma_link *l, int e)
{
	link_said(map, l, e);
	if (e && !map->local && !st->err)
		st->err = e;
}

/*
 * The call's result: a remote map's failure is the map's.  A replicated
 * map's call that saw a replica drop out says so, -ENOLINK, or -ENOTCONN
 * when too few are left in sync; the failed replica's message stays.
 */
static int links_end(struct pmrdma_map *map, const struct links_step *st)
{
	unsigned int i, live = 0, in_sync = 0;
	int err;

	if (st->err) {
		__atomic_store_n(&map->failed, true, __ATOMIC_RELEASE);
		return st->err;
	}
	if (!map->local)
		return 0;
	/*
	 * a copy that dropped out is stale by its header before anything is
	 * acknowledged; and a copy that fails meanwhile is counted below
	 */
	err = pmrdma_gen_settle(map, st->lane);
	if (err)
		return err;
	for (i = 0; i < map->nlinks; i++) {
		live += copy_live(map, i);
		in_sync += copy_in_sync(map, i);
	}
	if (live < st->live)
		pmrdma_replica_changed(map);
	if (in_sync < map->min_in_sync) {
		if (live == st->live)
			return pmrdma_fail(map, -ENOTCONN,
					   "%u replicas in sync, the config asks for %u",
					   in_sync, map->min_in_sync);
		return -ENOTCONN;
	}
	return live < st->live ? -ENOLINK : 0;
}

/* a replicated map's call lost a replica, and finished on the rest */
static bool replica_lost(int err)
{
	return err == -ENOLINK || err == -ENOTCONN;
}

/* of two steps' results, the one the call returns */
static int worse(int first, int then)
{
	if (then && (!replica_lost(then) || !first || then == -ENOTCONN))
		return then;
	return first;
}

/*
 * A replicated map's flush of ranges is about to be posted: a replica that
 * drops out before they are durable on it lacks them (pmrdma_dirty.c); a
 * resync step in flight over them lands first (pmrdma_replica.c).
 */
static void intend(struct pmrdma_map *map, const struct pmrdma_range *r,
		   size_t n)
{
	size_t j;

	if (!map->dirty.nregions)
		return;
	pmrdma_replica_flight_wait(map, r, n);
	for (j = 0; j < n; j++)
		pmrdma_dirty_intend(&map->dirty,
				    (uint64_t)((char *)r[j].addr - map->addr),
				    r[j].len);
}

/* the remote copies' part, on lane, of an async flush of checked ranges */
static int links_flush_async(struct pmrdma_map *map, unsigned int lane,
			     const struct pmrdma_range *ranges, size_t n)
{
	struct pmrdma_link *l;
	struct links_step st;
	unsigned int i;

	intend(map, ranges, n);
	links_begin(map, &st, lane);
	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i)) {
			l = copy_link(map, i, lane);
			links_fold(map, &st, l, pmrdma_link_flush(l, ranges, n));
		}
	return links_end(map, &st);
}

static int flush_async_on(struct pmrdma_map *map, unsigned int lane,
			  const struct pmrdma_range *ranges, size_t n)
{
	size_t i;

	if (map->local)
		for (i = 0; i < n; i++)
			pmrdma_local_flush(&map->lc, ranges[i].addr, ranges[i].len);
	return links_flush_async(map, lane, ranges, n);
}

static int drain_on(struct pmrdma_map *map, unsigned int lane)
{
	struct pmrdma_link *l;
	struct links_step st;
	unsigned int i;
	int err;

	if (map_failed(map))
		return pmrdma_fail(map, -EIO, "drain: the map failed before");
	if (map->local)
		pmrdma_local_drain();
	links_begin(map, &st, lane);
	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i)) {
			l = copy_link(map, i, lane);
			links_fold(map, &st, l, pmrdma_link_drain(l));
		}
	err = links_end(map, &st);
	if (map->dirty.nregions)
		pmrdma_replica_sweep(map, lane);
	return err;
}

/* an async flush, then its drain unless it failed for good */
static int flush_on(struct pmrdma_map *map, unsigned int lane,
		    const struct pmrdma_range *ranges, size_t n)
{
	int err = flush_async_on(map, lane, ranges, n);

	if (err && !replica_lost(err))
		return err;
	return worse(err, drain_on(map, lane));
}

typedef int flush_step(struct pmrdma_map *map, unsigned int lane,
		       const struct pmrdma_range *ranges, size_t n);

/* step over the ranges, once checked, on the calling thread's lane */
static int flush_on_lane(struct pmrdma_map *map,
			 const struct pmrdma_range *ranges, size_t n,
			 flush_step *step)
{
	unsigned int lane;
	int err;

	err = ranges_in_view(map, ranges, n, "flush");
	if (err)
		return err;
	lane = pmrdma_lane_enter(map);
	err = step(map, lane, ranges, n);
	pmrdma_lane_leave(map, lane);
	return err;
}

int pmrdma_flush_async(struct pmrdma_map *map,
		       const struct pmrdma_range *ranges, size_t n)
{
	return flush_on_lane(map, ranges, n, flush_async_on);
}

int pmrdma_drain(struct pmrdma_map *map)
{
	unsigned int lane = pmrdma_lane_enter(map);
	int err = drain_on(map, lane);

	pmrdma_lane_leave(map, lane);
	return err;
}

/* ---- the event loop's calls ---- */

int pmrdma_map_get_fd(struct pmrdma_map *map, int *fd)
{
	int efd = __atomic_load_n(&map->event_fd, __ATOMIC_ACQUIRE), old = -1;
	unsigned int i;
	int err;

	if (efd < 0) {
		efd = epoll_create1(EPOLL_CLOEXEC);
		if (efd < 0)
			return pmrdma_fail(map, -errno, "epoll_create1: %s",
					   strerror(errno));
		/* every lane: a rejoin swaps links in only under them all */
		pmrdma_lanes_take(map);
		for (i = 0; i < map->nlinks * map->nlanes; i++) {
			err = pmrdma_link_watch(&map->links[i], efd);
			if (err) {
				pmrdma_lanes_leave(map);
				close(efd);
				return pmrdma_fail(map, err, "epoll_ctl: %s",
						   strerror(-err));
			}
		}
		/* two threads may ask at once: the first one's stays */
		if (!__atomic_compare_exchange_n(&map->event_fd, &old, efd,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			close(efd);
			efd = old;
		}
		pmrdma_lanes_leave(map);
	}
	*fd = efd;
	return 0;
}

int pmrdma_flush_start(struct pmrdma_map *map,
		       const struct pmrdma_range *ranges, size_t n,
		       uint64_t *token)
{
	unsigned int lane;
	int err;

	if (!token)
		return pmrdma_fail(map, -EINVAL, "flush_start: no token");
	*token = 0;
	err = ranges_in_view(map, ranges, n, "flush");
	if (err)
		return err;
	lane = pmrdma_lane_enter(map);
	/* the local part is done at once: a token is for what takes time */
	err = flush_async_on(map, lane, ranges, n);
	if (map->local)
		pmrdma_local_drain();
	if (!err || err == -ENOLINK)
		*token = pmrdma_lane_mark(map, lane);
	pmrdma_lane_leave(map, lane);
	return err;
}

/*
 * Take the completions lane has without waiting, as one step over the
 * links; a copy that failed before only has its channels quieted.
 */
static int progress_on(struct pmrdma_map *map, unsigned int lane)
{
	struct pmrdma_link *l;
	struct links_step st;
	unsigned int i;
	bool live;
	int err;

	if (map_failed(map))
		return pmrdma_fail(map, -EIO, "progress: the map failed before");
	links_begin(map, &st, lane);
	for (i = 0; i < map->nlinks; i++) {
		live = copy_live(map, i);
		l = copy_link(map, i, lane);
		err = pmrdma_link_progress(l);
		if (live)
			links_fold(map, &st, l, err);
	}
	err = links_end(map, &st);
	if (err == -ENOLINK)
		map->lanes[lane].dropped = true;
	/* an event loop may never drain: intent is cleared here as well */
	if (map->dirty.nregions)
		pmrdma_replica_sweep(map, lane);
	pmrdma_lane_retire(map, lane);
	return err;
}

int pmrdma_progress(struct pmrdma_map *map)
{
	unsigned int lane;
	int err = 0;

	/* a lane another thread holds is that thread's to progress */
	for (lane = 0; lane < map->nlanes; lane++)
		if (pmrdma_lane_try(map, lane)) {
			err = worse(err, progress_on(map, lane));
			pmrdma_lane_leave(map, lane);
		}
	return err;
}

int pmrdma_flush_test(struct pmrdma_map *map, uint64_t token)
{
	int lane = pmrdma_lane_of_token(map, token);
	int err = 0;

	if (lane < 0)
		return pmrdma_fail(map, -EINVAL,
				   "flush_test: %#llx is not a token of the map",
				   (unsigned long long)token);
	pmrdma_lane_take(map, lane);
	if (!pmrdma_lane_token_settled(map, token))
		err = progress_on(map, lane);
	if (pmrdma_lane_token_short(map, token)) {
		err = pmrdma_fail(map, -ENOTCONN,
				  "flush_test: the flush is durable on fewer replicas in sync than the config asks for");
	} else if (pmrdma_lane_token_settled(map, token)) {
		/* the first durable token after a drop tells of it */
		err = map->lanes[lane].dropped ? -ENOLINK : 0;
		map->lanes[lane].dropped = false;
	} else if (!err || err == -ENOLINK) {
		err = -EAGAIN;
	}
	pmrdma_lane_leave(map, lane);
	return err;
}

/* the most ranges a group flushes at once; a bigger group, one by one */
#define GROUP_RANGES	64

/*
 * The group's flushes as one (pmrdma_lane_group()): every range in one
 * flush, so behind them one persistence request of the method (one
 * GPSPM request, one APM READ) and one wait, and one result for all.
 */
static void flush_group(struct pmrdma_map *map, unsigned int lane,
			struct pmrdma_lane_req *group)
{
	struct pmrdma_range all[GROUP_RANGES] = { { 0 } };
	struct pmrdma_lane_req *q;
	size_t n = 0;
	int err;

	for (q = group; q && n <= GROUP_RANGES; q = q->next)
		n += q->n < GROUP_RANGES + 1 ? q->n : GROUP_RANGES + 1;
	if (n <= GROUP_RANGES) {
		for (n = 0, q = group; q; n += q->n, q = q->next)
			memcpy(&all[n], q->ranges, q->n * sizeof(all[0]));
		err = flush_on(map, lane, all, n);
		for (q = group; q; q = q->next)
			q->err = err;
	} else {
		for (q = group; q; q = q->next)
			q->err = flush_on(map, lane, q->ranges, q->n);
	}
	/* the leader's message: the others' threads take it from here */
	for (q = group; q; q = q->next)
		if (q->err)
			snprintf(q->msg, sizeof(q->msg), "%s",
				 pmrdma_errormsg(map));
}

int pmrdma_flush_ranges(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n)
{
	struct pmrdma_lane_req req = { .ranges = ranges, .n = n };
	int err;

	/* local memory: the CPU's flushes are the thread's own */
	if (!map->nlinks || !map->group_commit)
		return flush_on_lane(map, ranges, n, flush_on);
	err = ranges_in_view(map, ranges, n, "flush");
	if (err)
		return err;
	err = pmrdma_lane_group(map, &req, flush_group);
	return err ? pmrdma_fail(map, err, "%s", req.msg) : 0;
}

int pmrdma_flush(struct pmrdma_map *map, void *addr, size_t len)
{
	struct pmrdma_range r = { addr, len };

	return pmrdma_flush_ranges(map, &r, 1);
}

int pmrdma_read(struct pmrdma_map *map, void *addr, size_t len)
{
	struct pmrdma_link *l;
	struct pmrdma_range r = { addr, len };
	struct links_step st;
	unsigned int lane;
	int err;

	err = ranges_in_view(map, &r, 1, "read");
	if (err || map->local || !len)
		return err;	/* a local view is the memory */
	lane = pmrdma_lane_enter(map);
	links_begin(map, &st, lane);
	l = copy_link(map, 0, lane);
	links_fold(map, &st, l,
		   pmrdma_link_read(l, (uint64_t)((char *)addr - map->addr),
				    len));
	err = links_end(map, &st);
	pmrdma_lane_leave(map, lane);
	return err;
}

/* a buffer's registrations, and the buffer: 0, or the first failure */
static int buf_free(struct pmrdma_buf *buf)
{
	unsigned int i;
	int e, err = 0;

	for (i = 0; i < PMRDMA_REPLICAS_MAX; i++) {
		e = buf->mr[i] ? ibv_dereg_mr(buf->mr[i]) : 0;
		if (e && !err)
			err = pmrdma_fail(buf->map, -e,
					  "deregister: ibv_dereg_mr of copy %u: %s",
					  i, strerror(e));
	}
	free(buf);
	return err;
}

int pmrdma_buf_register(struct pmrdma_map *map, void *addr, size_t len,
			struct pmrdma_buf **bufp)
{
	struct pmrdma_link *l;
	struct pmrdma_buf *buf;
	unsigned int i;
	int err;

	if (!bufp)
		return pmrdma_fail(map, -EINVAL, "register: nowhere to put the buffer");
	*bufp = NULL;
	if (!addr || !len)
		return pmrdma_fail(map, -EINVAL,
				   "register: [%p, +%zu) is no buffer", addr, len);
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return pmrdma_fail(map, -ENOMEM, "register: no memory");
	buf->map = map;
	buf->addr = addr;
	buf->len = len;
	/*
	 * Each copy's lanes share its PD: one registration a copy.  A copy
	 * out of sync takes no more work, and its device may be gone: a
	 * rejoin registers the map's buffers on it (bufs_lock).
	 */
	pthread_mutex_lock(&map->bufs_lock);
	for (i = 0; i < map->nlinks; i++) {
		if (!copy_live(map, i))
			continue;
		l = copy_link(map, i, 0);
		err = link_said(map, l,
				pmrdma_link_reg_buf(l, addr, len, &buf->mr[i]));
		if (err) {
			pthread_mutex_unlock(&map->bufs_lock);
			buf_free(buf);
			return err;
		}
	}
	buf->next = map->bufs;
	map->bufs = buf;
	pthread_mutex_unlock(&map->bufs_lock);
	*bufp = buf;
	return 0;
}

int pmrdma_buf_deregister(struct pmrdma_buf **bufp)
{
	struct pmrdma_buf *buf = bufp ? *bufp : NULL, **p;
	struct pmrdma_map *map;

	if (!buf)
		return 0;
	map = buf->map;
	pthread_mutex_lock(&map->bufs_lock);
	for (p = &map->bufs; *p; p = &(*p)->next)
		if (*p == buf) {
			*p = buf->next;
			break;
		}
	pthread_mutex_unlock(&map->bufs_lock);
	*bufp = NULL;
	return buf_free(buf);
}

int pmrdma_write(struct pmrdma_map *map, void *dst,
		 const struct pmrdma_buf *buf, size_t src_off, size_t len)
{
	struct pmrdma_link *l;
	struct pmrdma_range r = { dst, len };
	struct links_step st;
	unsigned int i, lane;
	const char *src;
	uint64_t off;
	int err;

	err = ranges_in_view(map, &r, 1, "write");
	if (err)
		return err;
	if (!buf || buf->map != map)
		return pmrdma_fail(map, -EINVAL,
				   "write: %s", buf ? "the buffer is registered on another map" :
						     "no buffer");
	if (src_off > buf->len || len > buf->len - src_off)
		return pmrdma_fail(map, -EINVAL,
				   "write: [%zu, +%zu) is outside the buffer's %zu bytes",
				   src_off, len, buf->len);
	if (!len)
		return 0;
	src = buf->addr + src_off;
	off = (uint64_t)((char *)dst - map->addr);
	lane = pmrdma_lane_enter(map);
	/* the local copy is the view: the bytes go there, written back */
	if (map->local)
		pmrdma_local_memcpy_nt(&map->lc, dst, src, len);
	intend(map, &r, 1);
	links_begin(map, &st, lane);
	/* a copy live now was live at registration: it has its MR */
	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i)) {
			l = copy_link(map, i, lane);
			links_fold(map, &st, l,
				   pmrdma_link_write(l, off, len, src,
						     buf->mr[i]->lkey));
		}
	err = links_end(map, &st);
	pmrdma_lane_leave(map, lane);
	return err;
}

/* every range fits one VERIFY of every remote copy */
static int verify_lengths_ok(struct pmrdma_map *map,
			     const struct pmrdma_range *r, size_t n)
{
	uint64_t max = UINT64_MAX, m;
	unsigned int i;
	size_t j;

	for (i = 0; i < map->nlinks; i++) {
		m = __atomic_load_n(&map->copy_caps[i].verify_max,
				    __ATOMIC_RELAXED);
		max = m < max ? m : max;
	}
	for (j = 0; j < n; j++)
		if (r[j].len > max)
			return pmrdma_fail(map, -EINVAL,
					   "flush-and-verify: range %zu has %zu bytes, more than the %llu a remote copy verifies at once",
					   j, r[j].len, (unsigned long long)max);
	return 0;
}

/* the local copy's media against the view over r */
static int local_verify(struct pmrdma_map *map, const struct pmrdma_range *r)
{
	int err = pmrdma_local_verify(&map->lc,
				      (uint64_t)((const char *)r->addr - map->addr),
				      r->len);

	return err ? pmrdma_fail(map, err, "%s", map->lc.msg) : 0;
}

int pmrdma_flush_verify(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n,
			uint32_t alg)
{
	struct pmrdma_link *l;
	struct links_step st;
	struct pmrdma_caps caps;
	unsigned int lane;
	size_t i;
	int err;

	err = ranges_in_view(map, ranges, n, "flush-and-verify");
	if (err)
		return err;
	pmrdma_map_get_caps(map, &caps);
	if (!pmrdma_digest_len(alg) || !(caps.verify_algs & PMRDMA_VERIFY_BIT(alg)))
		return pmrdma_fail(map, -EOPNOTSUPP,
				   "flush-and-verify: algorithm %u is not offered by the map",
				   alg);
	err = verify_lengths_ok(map, ranges, n);
	if (err)
		return err;
	if (map->local) {
		for (i = 0; i < n; i++)
			pmrdma_local_flush(&map->lc, ranges[i].addr, ranges[i].len);
		pmrdma_local_drain();
		for (i = 0; i < n && !err; i++)
			err = local_verify(map, &ranges[i]);
		if (err)
			return err;
	}
	lane = pmrdma_lane_enter(map);
	intend(map, ranges, n);
	links_begin(map, &st, lane);
	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i)) {
			l = copy_link(map, i, lane);
			links_fold(map, &st, l,
				   pmrdma_link_flush_verify(l, ranges, n, alg));
		}
	err = links_end(map, &st);
	pmrdma_lane_leave(map, lane);
	return err;
}

int pmrdma_atomic_write(struct pmrdma_map *map, size_t offset, uint64_t value)
{
	struct pmrdma_range r;
	struct pmrdma_link *l;
	struct links_step st;
	unsigned int i, lane;
	int err;

	if (map_failed(map))
		return pmrdma_fail(map, -EIO, "atomic write: the map failed before");
	if (offset % 8 || map->size < 8 || offset > map->size - 8)
		return pmrdma_fail(map, -EINVAL,
				   "atomic write: offset %zu is not an 8-byte aligned offset of the map",
				   offset);
	lane = pmrdma_lane_enter(map);
	/* after every write-back started before it, in one store */
	if (map->local)
		pmrdma_local_drain();
	__atomic_store_n((uint64_t *)(map->addr + offset), value,
			 __ATOMIC_RELEASE);
	r = (struct pmrdma_range){ map->addr + offset, 8 };
	intend(map, &r, 1);
	links_begin(map, &st, lane);
	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i)) {
			l = copy_link(map, i, lane);
			links_fold(map, &st, l,
				   pmrdma_link_atomic_write(l, offset, value));
		}
	err = links_end(map, &st);
	pmrdma_lane_leave(map, lane);
	return err;
}

#define PMRDMA_F_ALL	(PMRDMA_F_NODRAIN | PMRDMA_F_NOFLUSH | \
			 PMRDMA_F_NONTEMPORAL)

/* 0 when what may store [dst, dst + len) with flags */
static int store_ok(struct pmrdma_map *map, void *dst, size_t len,
		    unsigned int flags, const char *what)
{
	struct pmrdma_range r = { dst, len };

	if (flags & ~PMRDMA_F_ALL)
		return pmrdma_fail(map, -EINVAL, "%s: unknown flags %#x", what,
				   flags);
	return ranges_in_view(map, &r, 1, what);
}

/* memcpy()'s failure: NULL, errno saying why, as the map's message does */
static void *store_failed(int err)
{
	errno = -err;
	return NULL;
}

/* local copies of this size and more bypass the cache */
#define NONTEMPORAL_MIN	(256UL << 10)

/*
 * The flush and drain that flags ask for after a store of [dst, +len);
 * a local non-temporal store wrote the lines back itself.
 */
static void *stored(struct pmrdma_map *map, void *dst, size_t len,
		    unsigned int flags, bool written_back)
{
	struct pmrdma_range r = { dst, len };
	unsigned int lane;
	int err = 0;

	if (flags & PMRDMA_F_NOFLUSH)
		return dst;
	lane = pmrdma_lane_enter(map);
	err = written_back ? links_flush_async(map, lane, &r, 1) :
			     flush_async_on(map, lane, &r, 1);
	if ((!err || replica_lost(err)) && !(flags & PMRDMA_F_NODRAIN))
		err = worse(err, drain_on(map, lane));
	pmrdma_lane_leave(map, lane);
	return err ? store_failed(err) : dst;
}

void *pmrdma_memcpy(struct pmrdma_map *map, void *dst, const void *src,
		    size_t len, unsigned int flags)
{
	int err = store_ok(map, dst, len, flags, "memcpy");
	bool nt;

	if (err)
		return store_failed(err);
	nt = map->local && !(flags & PMRDMA_F_NOFLUSH) &&
	     ((flags & PMRDMA_F_NONTEMPORAL) || len >= NONTEMPORAL_MIN);
	if (nt)
		pmrdma_local_memcpy_nt(&map->lc, dst, src, len);
	else
		memcpy(dst, src, len);
	return stored(map, dst, len, flags, nt);
}

void *pmrdma_memset(struct pmrdma_map *map, void *dst, int c, size_t len,
		    unsigned int flags)
{
	int err = store_ok(map, dst, len, flags, "memset");

	if (err)
		return store_failed(err);
	memset(dst, c, len);
	return stored(map, dst, len, flags, false);
}
