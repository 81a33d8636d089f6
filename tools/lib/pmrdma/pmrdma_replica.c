// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: a replicated map's copies over their lives - connected when
 * the map is made, dropped out when one fails, rejoined and resynced (as
 * DRBD and md raid1 bring a mirror back), and their state for any thread.
 *
 * Which regions a replica lacks is kept in pmrdma_dirty.c's bitmaps.  The
 * rules that make the resync exact:
 *   - a flush marks its regions in intent before it posts (pmrdma_map.c);
 *   - intent is cleared only here, holding every lane with every live
 *     link idle, after it was folded into each out copy's oos;
 *   - a rejoin folds intent into the copy's oos before its new links take
 *     flushes, holding every lane;
 *   - the resync copies a run of regions holding every lane, clearing
 *     them first and setting them again if the copy fails; a step the
 *     device paces is posted holding every lane and lands without them,
 *     and a flush over its regions meanwhile waits for it (in intend()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pmrdma_internal.h"

/*
 * The most bytes one resync step copies, and the most runs of regions it
 * takes them from; a step the device paces is the bytes of RESYNC_STEP_NS
 * at the rate, which a flush over its regions may wait for.
 */
#define RESYNC_STEP_BYTES	(256UL << 10)
#define RESYNC_STEP_RUNS	64
#define RESYNC_STEP_NS		50000000ULL

int pmrdma_replica_connect(struct pmrdma_map *map, unsigned int i,
			   struct pmrdma_link *links)
{
	const struct pmrdma_remote *r = &map->replica_cfg[i];
	struct pmrdma_link_params lp;
	struct pmrdma_link *l = &links[0];
	int err;

	/* a copy with metadata has it after the view, as the local one */
	uint64_t size = map->has_md ? map->copy_size : map->size;

	map_link_params(map, &lp);
	err = pmrdma_link_open(l, r, &lp);
	if (err)
		return pmrdma_fail(map, err, "%s", l->msg);
	if (l->conn.r.length != size)
		return pmrdma_fail(map, -EMSGSIZE,
				   "%s: the export has %llu bytes, the map's copies %llu",
				   l->name, (unsigned long long)l->conn.r.length,
				   (unsigned long long)size);
	err = pmrdma_link_attach(l, map->addr, size);
	if (!err)
		err = pmrdma_link_open_lanes(l, map->nlanes, r, &lp);
	return err ? pmrdma_fail(map, err, "%s", l->msg) : 0;
}

void pmrdma_replica_changed(struct pmrdma_map *map)
{
	uint64_t one = 1;

	/* a full counter (2^64 - 2 unread changes) is readable anyway */
	if (map->state_fd >= 0 && write(map->state_fd, &one, sizeof(one)) < 0)
		return;
	pthread_mutex_lock(&map->rejoin_lock);
	pthread_cond_broadcast(&map->rejoin_wake);
	pthread_mutex_unlock(&map->rejoin_lock);
}

int pmrdma_replica_get_fd(struct pmrdma_map *map, int *fd)
{
	if (!fd || !map->local || !map->nlinks)
		return pmrdma_fail(map, -EINVAL,
				   "replica fd: %s", fd ? "the map has no replicas" :
							  "nowhere to put it");
	*fd = map->state_fd;
	return 0;
}

int pmrdma_replica_status(struct pmrdma_map *map, unsigned int i,
			  struct pmrdma_replica_status *st)
{
	if (!st || !map->local || i >= map_copies(map))
		return pmrdma_fail(map, -EINVAL,
				   "replica status: the map has no replica %u", i);
	st->state = !copy_live(map, i) ? PMRDMA_REPLICA_OUT :
		    copy_in_sync(map, i) ? PMRDMA_REPLICA_IN_SYNC :
					   PMRDMA_REPLICA_RESYNCING;
	/* an out copy lacks what intent holds too, folded in or not yet */
	st->out_of_sync = pmrdma_dirty_bytes(&map->dirty, i,
					     st->state == PMRDMA_REPLICA_OUT);
	st->resync_total = __atomic_load_n(&map->resync_total[i],
					   __ATOMIC_RELAXED);
	st->resync_done = __atomic_load_n(&map->resync_done[i],
					  __ATOMIC_RELAXED);
	return 0;
}

/* every copy out of sync keeps what intent holds; the caller has every lane */
static void fold_out_copies(struct pmrdma_map *map)
{
	unsigned int i;

	for (i = 0; i < map->nlinks; i++)
		if (!copy_live(map, i))
			pmrdma_dirty_fold(&map->dirty, i);
}

/* every live copy's link on lane k is idle */
static bool lane_idle(const struct pmrdma_map *map, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < map->nlinks; i++)
		if (copy_live(map, i) && !pmrdma_link_idle(copy_link(map, i, k)))
			return false;
	return true;
}

void pmrdma_replica_sweep(struct pmrdma_map *map, unsigned int lane)
{
	unsigned int k, held;
	bool idle = true;

	if (!map->dirty.nregions ||
	    __atomic_load_n(&map->dirty.lo, __ATOMIC_RELAXED) >=
	    __atomic_load_n(&map->dirty.hi, __ATOMIC_RELAXED))
		return;
	/* the other lanes, if no thread is in them: never wait here */
	for (held = 0; held < map->nlanes && idle; held++)
		if (held != lane && !pmrdma_lane_try(map, held))
			break;
	for (k = 0; k < held && idle; k++)
		idle = lane_idle(map, k);
	if (held == map->nlanes && idle) {
		fold_out_copies(map);
		pmrdma_dirty_clear_intent(&map->dirty);
		pmrdma_dirty_sync(&map->dirty, false);
	}
	while (held-- > 0)
		if (held != lane)
			pmrdma_lane_leave(map, held);
}

/*
 * Register every buffer of the map on the new links of copy i (first
 * lane's PD) into mr[]: 0, or the failure with the ones made deregistered.
 * The caller holds bufs_lock.
 */
static int bufs_register(struct pmrdma_map *map, struct pmrdma_link *first,
			 struct ibv_mr **mr)
{
	struct pmrdma_buf *b;
	size_t n = 0;
	int err;

	for (b = map->bufs; b; b = b->next, n++) {
		err = pmrdma_link_reg_buf(first, b->addr, b->len, &mr[n]);
		if (err) {
			while (n-- > 0) {
				ibv_dereg_mr(mr[n]);
				mr[n] = NULL;
			}
			return pmrdma_fail(map, err, "%s", first->msg);
		}
	}
	return 0;
}

/*
 * Put the new links of copy i in place of its old ones, and the new
 * registrations of the buffers; the old go into links and mr.  The caller
 * holds every lane.
 */
static void swap_in(struct pmrdma_map *map, unsigned int i,
		    struct pmrdma_link *links, struct ibv_mr **mr)
{
	struct pmrdma_link tmp;
	struct pmrdma_buf *b;
	struct ibv_mr *old;
	unsigned int k;
	int efd = __atomic_load_n(&map->event_fd, __ATOMIC_ACQUIRE);
	size_t n = 0;

	for (k = 0; k < map->nlanes; k++) {
		tmp = *copy_link(map, i, k);
		*copy_link(map, i, k) = links[k];
		links[k] = tmp;
		copy_link(map, i, k)->copy_err = &map->copy_err[i];
		if (efd >= 0)
			pmrdma_link_watch(copy_link(map, i, k), efd);
	}
	for (b = map->bufs; b; b = b->next, n++) {
		old = b->mr[i];
		b->mr[i] = mr[n];
		mr[n] = old;
	}
	copy_caps_set(map, i, copy_link(map, i, 0));
	map->copy_gen[i]++;
	__atomic_store_n(&map->copy_resyncing[i], true, __ATOMIC_RELEASE);
	__atomic_store_n(&map->copy_err[i], 0, __ATOMIC_RELEASE);
}

/*
 * How a resync holds to the map's rate: over a connection of its own
 * that the device paces (when it can, at that rate), or over the copy's
 * first lane at full speed with waits between the steps.
 */
struct resync_pacer {
	struct pmrdma_link own;		/* the device paces it; or unused */
	struct pmrdma_link *link;	/* the steps go over it */
	bool by_device;
	uint64_t step_bytes;		/* the most a step copies */
	uint64_t start, done;		/* ns; and bytes copied since */
};

/*
 * The map's device paces an RC QP at kbps, and a step of one region at
 * the rate lands within a second (a flush over it, and the map's delete,
 * wait for it)
 */
static bool device_paces(const struct pmrdma_map *map,
			 const struct pmrdma_link *l, uint64_t kbps)
{
	const struct ibv_packet_pacing_caps *c = &l->conn.pacing;

	return c->supported_qpts & 1U << IBV_QPT_RC &&
	       kbps >= c->qp_rate_limit_min && kbps <= c->qp_rate_limit_max &&
	       (1ULL << map->dirty.shift) <= map->resync_rate;
}

/*
 * Copy i's pacer, with no lane held: a connection of its own, paced by
 * the device, when the map has a rate the device can keep; the first
 * lane otherwise (no rate, a device without pacing, a connect that
 * failed: the first lane is the copy's all the same).
 */
static void pacer_open(struct pmrdma_map *map, unsigned int i,
		       struct resync_pacer *p)
{
	struct pmrdma_link *first = copy_link(map, i, 0);
	/* at most: rounded down (bytes/s to kbit/s, no product overflows) */
	uint64_t kbps = map->resync_rate / 125;
	struct pmrdma_link_params lp;

	memset(p, 0, sizeof(*p));
	p->link = first;
	p->step_bytes = RESYNC_STEP_BYTES;
	p->start = pmrdma_now_ns();
	if (!map->resync_rate || !device_paces(map, first, kbps))
		return;
	map_link_params(map, &lp);
	/* no faster than the map's own connections may go */
	lp.rate_kbps = map->rate_kbps && map->rate_kbps < kbps ?
		       map->rate_kbps : kbps;
	/* and its waits allow for that rate */
	if (lp.wait_rate > map->resync_rate)
		lp.wait_rate = map->resync_rate;
	if (map->resync_tos >= 0)
		lp.tos = map->resync_tos;
	if (pmrdma_link_open_lane(&p->own, &map->replica_cfg[i], &lp,
				  first)) {
		pmrdma_link_close(&p->own);
		memset(&p->own, 0, sizeof(p->own));
		return;
	}
	pmrdma_link_attach_lane(&p->own, first);
	p->own.copy_err = &map->copy_err[i];
	p->link = &p->own;
	p->by_device = true;
	p->step_bytes = map->resync_rate / (1000000000ULL / RESYNC_STEP_NS);
	if (p->step_bytes > RESYNC_STEP_BYTES)
		p->step_bytes = RESYNC_STEP_BYTES;
}

static void pacer_close(struct resync_pacer *p)
{
	if (p->by_device)
		pmrdma_link_close(&p->own);
}

/*
 * Hold the resync to the map's rate when the device does not: the bytes
 * done since start may not be ahead of it.  Called with no lane held.
 */
static void pacer_wait(const struct pmrdma_map *map,
		       const struct resync_pacer *p)
{
	uint64_t due, now;
	struct timespec t;

	if (!map->resync_rate || p->by_device)
		return;
	/* done / rate seconds, in 128 bits: no product overflows */
	due = p->start + (uint64_t)((__uint128_t)p->done * 1000000000 /
				    map->resync_rate);
	/* in slices, so that a map being deleted stops its resync soon */
	while ((now = pmrdma_now_ns()) < due &&
	       !__atomic_load_n(&map->rejoin_stop, __ATOMIC_RELAXED)) {
		t.tv_sec = 0;
		t.tv_nsec = due - now < 100000000 ? due - now : 100000000;
		nanosleep(&t, NULL);
	}
}

/* a resync step: the runs of regions it copies, in one flush */
struct resync_step {
	struct pmrdma_range r[RESYNC_STEP_RUNS];
	uint64_t first[RESYNC_STEP_RUNS], n[RESYNC_STEP_RUNS];
	unsigned int runs;
	uint64_t bytes;
};

/*
 * Take the next runs of copy i's regions at or after *from, up to the
 * step's bytes in all: scattered regions cost one round trip together,
 * not one each.  The caller holds every lane.
 */
static void step_take(struct pmrdma_map *map, unsigned int i, uint64_t *from,
		      uint64_t bytes, struct resync_step *st)
{
	struct pmrdma_dirty *d = &map->dirty;
	uint64_t left = bytes >> d->shift ?: 1, off, len;

	st->runs = 0;
	st->bytes = 0;
	while (left && st->runs < RESYNC_STEP_RUNS &&
	       pmrdma_dirty_next(d, i, *from, left,
				 &st->first[st->runs], &st->n[st->runs])) {
		pmrdma_dirty_take(d, i, st->first[st->runs], st->n[st->runs]);
		pmrdma_dirty_range(d, st->first[st->runs], st->n[st->runs],
				   &off, &len);
		st->r[st->runs] = (struct pmrdma_range){ map->addr + off, len };
		st->bytes += len;
		left -= st->n[st->runs];
		*from = st->first[st->runs] + st->n[st->runs];
		st->runs++;
	}
}

/* does a step in flight overlap any of r (n of them) */
static bool flight_overlaps(const struct pmrdma_map *map,
			    const struct pmrdma_range *r, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (pmrdma_dirty_flying(&map->dirty,
					(uint64_t)((char *)r[j].addr - map->addr),
					r[j].len))
			return true;
	return false;
}

void pmrdma_replica_flight_wait(struct pmrdma_map *map,
				const struct pmrdma_range *r, size_t n)
{
	/*
	 * A step is taken under every lane, and the caller holds one: a step
	 * posted before is seen here.  Its landing clears its bits and then
	 * broadcasts under the lock, so no wake-up is missed.
	 */
	if (!flight_overlaps(map, r, n))
		return;
	pthread_mutex_lock(&map->flight_lock);
	while (flight_overlaps(map, r, n))
		pthread_cond_wait(&map->flight_done, &map->flight_lock);
	pthread_mutex_unlock(&map->flight_lock);
}

/* the step landed on replica i (or not: put back), and flushes may go */
static void step_end(struct pmrdma_map *map, unsigned int i,
		     const struct resync_step *st, bool landed)
{
	unsigned int k;

	for (k = 0; k < st->runs; k++)
		if (landed)
			pmrdma_dirty_landed(&map->dirty, i, st->first[k],
					    st->n[k]);
		else
			pmrdma_dirty_put(&map->dirty, i, st->first[k],
					 st->n[k]);
	pthread_mutex_lock(&map->flight_lock);
	pthread_cond_broadcast(&map->flight_done);
	pthread_mutex_unlock(&map->flight_lock);
}

/*
 * Copy a step, taken and posted holding every lane (the caller's), and
 * leave the lanes: a step the device paces lands without them, flushes
 * over its regions waiting for it meanwhile; one on the copy's first lane
 * lands under them (other threads use that link).  0, or the copy's
 * failure, the step's regions its again.
 */
static int step_copy(struct pmrdma_map *map, unsigned int i,
		     const struct resync_pacer *p, const struct resync_step *st)
{
	struct pmrdma_link *l = p->link;
	int err = pmrdma_link_flush(l, st->r, st->runs);

	if (!err && p->by_device) {
		pmrdma_lanes_leave(map);
		err = pmrdma_link_drain(l);
		step_end(map, i, st, !err);
	} else {
		if (!err)
			err = pmrdma_link_drain(l);
		step_end(map, i, st, !err);
		pmrdma_lanes_leave(map);
	}
	return err ? pmrdma_fail(map, err, "%s", l->msg) : 0;
}

/*
 * Copy i's resync: the regions it lacks, a step at a time, each taken
 * under every lane.  0 when it has them all, or the copy's failure (it
 * is out again).
 */
static int resync(struct pmrdma_map *map, unsigned int i)
{
	struct resync_pacer p;
	struct resync_step st;
	uint64_t from = 0;
	int err = 0;

	__atomic_store_n(&map->resync_done[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&map->resync_total[i],
			 pmrdma_dirty_bytes(&map->dirty, i, false),
			 __ATOMIC_RELAXED);
	pacer_open(map, i, &p);
	for (;;) {
		pacer_wait(map, &p);
		pmrdma_lanes_take(map);
		/* the map is being deleted: its automatic rejoin ends here */
		if (__atomic_load_n(&map->rejoin_stop, __ATOMIC_RELAXED)) {
			err = pmrdma_fail(map, -ECANCELED,
					  "rejoin: the map is being deleted");
			break;
		}
		if (!copy_live(map, i)) {
			err = pmrdma_fail(map, -ENOLINK,
					  "rejoin: replica %u dropped out again",
					  i);
			break;
		}
		step_take(map, i, &from, p.step_bytes, &st);
		/*
		 * all of it: the copy's header says it is current, then; a
		 * copy that cannot be told so is out (it has every region, and
		 * the next rejoin judges its header again)
		 */
		if (!st.runs) {
			err = pmrdma_gen_in_sync(map, i);
			if (err)
				__atomic_store_n(&map->copy_err[i], err,
						 __ATOMIC_RELEASE);
			else
				__atomic_store_n(&map->copy_resyncing[i], false,
						 __ATOMIC_RELEASE);
			break;
		}
		err = step_copy(map, i, &p, &st);
		if (err)
			goto out;
		__atomic_add_fetch(&map->resync_done[i], st.bytes,
				   __ATOMIC_RELAXED);
		p.done += st.bytes;
	}
	pmrdma_lanes_leave(map);
out:
	pacer_close(&p);
	return err;
}

/* close links (nlanes of them, a copy's), its first lane last */
static void links_close(struct pmrdma_map *map, struct pmrdma_link *links)
{
	unsigned int k;

	for (k = map->nlanes; k-- > 0; )
		pmrdma_link_close(&links[k]);
}

/*
 * Rejoin copy i, which is out, for the thread that set its
 * copy_rejoining: connected, judged, put in place, resynced
 */
static int rejoin(struct pmrdma_map *map, unsigned int i)
{
	struct pmrdma_link *links = NULL;
	struct ibv_mr **mr = NULL;
	struct pmrdma_buf *b;
	size_t nbufs = 0;
	int err = -ENOMEM;

	links = calloc(map->nlanes, sizeof(*links));
	pthread_mutex_lock(&map->bufs_lock);
	for (b = map->bufs; b; b = b->next)
		nbufs++;
	mr = calloc(nbufs ?: 1, sizeof(*mr));
	if (!links || !mr) {
		pmrdma_fail(map, err, "rejoin: no memory");
		goto unlock;
	}
	/*
	 * connect with no lane held: the map's calls go on meanwhile; a copy
	 * that is not what it was when it dropped out is judged again
	 */
	err = pmrdma_replica_connect(map, i, links);
	if (!err)
		err = pmrdma_gen_judge(map, i, &links[0]);
	if (!err)
		err = pmrdma_gen_mark(map, i, &links[0]);
	if (!err)
		err = bufs_register(map, &links[0], mr);
	if (err)
		goto unlock;
	pmrdma_lanes_take(map);
	/* what was flushed while it was out, and may be in flight now */
	pmrdma_dirty_fold(&map->dirty, i);
	pmrdma_dirty_sync(&map->dirty, true);
	swap_in(map, i, links, mr);
	pmrdma_lanes_leave(map);
	pmrdma_replica_changed(map);
	err = 0;
unlock:
	pthread_mutex_unlock(&map->bufs_lock);
	/* the old links and registrations, or the new ones that failed */
	while (nbufs-- > 0)
		if (mr && mr[nbufs])
			ibv_dereg_mr(mr[nbufs]);
	if (links)
		links_close(map, links);
	free(links);
	free(mr);
	if (!err) {
		err = resync(map, i);
		pmrdma_replica_changed(map);
	}
	return err;
}

int pmrdma_replica_rejoin(struct pmrdma_map *map, unsigned int i)
{
	bool no = false;
	int err;

	if (!map->local || i >= map_copies(map))
		return pmrdma_fail(map, -EINVAL, "rejoin: the map has no replica %u",
				   i);
	if (!__atomic_compare_exchange_n(&map->copy_rejoining[i], &no, true,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return pmrdma_fail(map, -EBUSY,
				   "rejoin: another thread is rejoining replica %u",
				   i);
	if (copy_live(map, i))
		err = pmrdma_fail(map, -EBUSY, "rejoin: replica %u is %s", i,
				  copy_in_sync(map, i) ? "in sync" : "resyncing");
	else
		err = rejoin(map, i);
	__atomic_store_n(&map->copy_rejoining[i], false, __ATOMIC_RELEASE);
	return err;
}

int pmrdma_replica_add(struct pmrdma_map *map, const struct pmrdma_remote *r,
		       unsigned int *idx)
{
	struct pmrdma_copy_caps *c;
	unsigned int i;
	int err;

	if (!map->local || !map->dirty.nregions || !r || !idx)
		return pmrdma_fail(map, -EINVAL,
				   "add a replica: %s", !r || !idx ? "nothing to add, or nowhere to say where" :
				   "only a map made with replicas takes more");
	/* one add at a time: the next copy's slot is this one's */
	pthread_mutex_lock(&map->bufs_lock);
	i = map->nlinks;
	if (i == PMRDMA_REPLICAS_MAX) {
		pthread_mutex_unlock(&map->bufs_lock);
		return pmrdma_fail(map, -E2BIG, "add a replica: the map has %u",
				   i);
	}
	err = pmrdma_remote_copy(&map->replica_cfg[i], r);
	if (!err && pmrdma_dirty_new_replica(&map->dirty, i)) {
		pmrdma_remote_free(&map->replica_cfg[i]);
		err = -ENOMEM;
	}
	if (err) {
		pthread_mutex_unlock(&map->bufs_lock);
		return pmrdma_fail(map, err, "add a replica: %s",
				   err == -EINVAL ? "no address, no port, a bad key or method" :
						    "no memory");
	}
	/* out, and being rejoined, before any other thread can see it */
	map->copy_err[i] = -ENOLINK;
	map->copy_rejoining[i] = true;
	/* whatever the export holds goes: a new copy gets all of the view */
	map->discard |= 1U << i;
	/* offers anything until it connects: the others' caps stand */
	c = &map->copy_caps[i];
	c->placement = c->algs = UINT32_MAX;
	c->verify_max = UINT64_MAX;
	pmrdma_lanes_take(map);
	__atomic_store_n(&map->nlinks, i + 1, __ATOMIC_RELEASE);
	pmrdma_lanes_leave(map);
	pthread_mutex_unlock(&map->bufs_lock);
	*idx = i;
	pmrdma_replica_changed(map);
	err = rejoin(map, i);
	__atomic_store_n(&map->copy_rejoining[i], false, __ATOMIC_RELEASE);
	return err;
}

int pmrdma_replica_open(struct pmrdma_map *map, unsigned int i)
{
	struct pmrdma_link *l = copy_link(map, i, 0);
	int err;

	err = pmrdma_replica_connect(map, i, l);
	if (err)
		return err;
	copy_caps_set(map, i, l);
	err = pmrdma_gen_judge(map, i, l);
	/* not in sync until filled: it counts for no generation before */
	if (!err && map->has_md)
		__atomic_store_n(&map->copy_resyncing[i], true, __ATOMIC_RELEASE);
	return err;
}

int pmrdma_replica_fill(struct pmrdma_map *map, unsigned int i)
{
	struct pmrdma_range all = { map->addr, map->size };
	struct pmrdma_link *l = copy_link(map, i, 0);
	int err;

	if (map->has_md) {
		err = pmrdma_gen_mark(map, i, l);
		return err ?: resync(map, i);
	}
	err = pmrdma_link_flush(l, &all, 1);
	if (!err)
		err = pmrdma_link_drain(l);
	return err ? pmrdma_fail(map, err, "%s", l->msg) : 0;
}

/* ---- the automatic rejoin: a thread, as DRBD's connect retries ---- */

static uint64_t now_ms(void)
{
	return pmrdma_now_ns() / 1000000;
}

/*
 * Rejoin every replica that is out once its wait is over; a failed try
 * doubles its wait up to the config's longest, a success resets it.
 */
static void *auto_rejoin(void *arg)
{
	struct pmrdma_map *map = arg;
	uint64_t wait[PMRDMA_REPLICAS_MAX], next[PMRDMA_REPLICAS_MAX];
	uint64_t now, soonest;
	struct timespec t;
	unsigned int i;

	/* every slot: a replica may be added while the thread runs */
	for (i = 0; i < PMRDMA_REPLICAS_MAX; i++) {
		wait[i] = map->rejoin_min_ms;
		next[i] = 0;
	}
	pthread_mutex_lock(&map->rejoin_lock);
	while (!map->rejoin_stop) {
		now = now_ms();
		soonest = now + map->rejoin_max_ms;
		for (i = 0; i < map_copies(map) && !map->rejoin_stop; i++) {
			if (copy_live(map, i)) {
				wait[i] = map->rejoin_min_ms;
				next[i] = 0;
				continue;
			}
			/* a copy newly out waits the shortest time first */
			if (!next[i])
				next[i] = now + wait[i];
			if (next[i] > now) {
				soonest = next[i] < soonest ? next[i] : soonest;
				continue;
			}
			pthread_mutex_unlock(&map->rejoin_lock);
			if (pmrdma_replica_rejoin(map, i) && !copy_live(map, i)) {
				wait[i] = wait[i] * 2 < map->rejoin_max_ms ?
					  wait[i] * 2 : map->rejoin_max_ms;
				next[i] = now_ms() + wait[i];
				soonest = next[i] < soonest ? next[i] : soonest;
			}
			pthread_mutex_lock(&map->rejoin_lock);
			now = now_ms();
		}
		if (map->rejoin_stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		soonest = soonest > now ? soonest - now : 0;
		t.tv_sec += soonest / 1000;
		t.tv_nsec += (soonest % 1000) * 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&map->rejoin_wake, &map->rejoin_lock, &t);
	}
	pthread_mutex_unlock(&map->rejoin_lock);
	return NULL;
}

int pmrdma_replica_auto_start(struct pmrdma_map *map)
{
	int err;

	if (!map->rejoin_min_ms)
		return 0;
	err = pthread_create(&map->rejoin_thread, NULL, auto_rejoin, map);
	if (err)
		return pmrdma_fail(map, -err, "automatic rejoin: pthread_create: %s",
				   strerror(err));
	map->rejoin_running = true;
	return 0;
}

void pmrdma_replica_auto_stop(struct pmrdma_map *map)
{
	if (!map->rejoin_running)
		return;
	pthread_mutex_lock(&map->rejoin_lock);
	__atomic_store_n(&map->rejoin_stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&map->rejoin_wake);
	pthread_mutex_unlock(&map->rejoin_lock);
	pthread_join(map->rejoin_thread, NULL);
	map->rejoin_running = false;
}
