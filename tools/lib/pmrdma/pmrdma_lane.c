// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma's lanes.  A remote copy of a map has a connection per lane; a
 * thread takes a lane on its first call and keeps it, and holds the lane
 * for the length of each call, so that its requests keep their order on
 * one send queue (as librpmem's nlanes did).
 *
 * A lane also keeps the tokens of pmrdma_flush_start(): for each, what
 * every link of the lane had posted when the flush was started (a mark).
 * Completions on one RC connection come in the order of its posts, so a
 * link that has passed a mark has passed every older one, and the tokens
 * of a lane become durable in the order they were handed out: the lane
 * need only keep the newest durable one.
 */
#include <errno.h>
#include <stdlib.h>

#include "pmrdma_internal.h"

/* a token: the lane in its low bits, the lane's sequence number above */
#define TOKEN_LANE_BITS	6
_Static_assert(PMRDMA_LANES_MAX <= 1U << TOKEN_LANE_BITS,
	       "a token has room for every lane");

int pmrdma_lanes_new(struct pmrdma_map *map)
{
	unsigned int k;

	map->lanes = calloc(map->nlanes, sizeof(*map->lanes));
	if (!map->lanes)
		return -ENOMEM;
	for (k = 0; k < map->nlanes; k++) {
		pthread_mutex_init(&map->lanes[k].lock, NULL);
		pthread_mutex_init(&map->lanes[k].group_lock, NULL);
		pthread_cond_init(&map->lanes[k].group_done, NULL);
		map->lanes[k].group_tail = &map->lanes[k].group;
	}
	return 0;
}

void pmrdma_lanes_free(struct pmrdma_map *map)
{
	unsigned int k;

	if (!map->lanes)
		return;
	for (k = 0; k < map->nlanes; k++) {
		pthread_mutex_destroy(&map->lanes[k].lock);
		pthread_mutex_destroy(&map->lanes[k].group_lock);
		pthread_cond_destroy(&map->lanes[k].group_done);
	}
	free(map->lanes);
	map->lanes = NULL;
}

/*
 * The lane of the calling thread: its number (threads are numbered as
 * they first ask) plus the map's, modulo the lanes.  The same for the life
 * of the map, however many maps the thread uses, since a thread's calls
 * are ordered only on one lane; consecutive threads take consecutive
 * lanes, so that threads spread over the lanes and share them when there
 * are more threads.
 */
static unsigned int thread_count;
static _Thread_local unsigned int thread_no;	/* 0: none yet */

static unsigned int lane_of(const struct pmrdma_map *map)
{
	if (map->nlanes == 1)
		return 0;
	if (!thread_no)
		thread_no = __atomic_add_fetch(&thread_count, 1,
					       __ATOMIC_RELAXED);
	return (unsigned int)((thread_no + map->id) % map->nlanes);
}

/* local memory needs no lane: the CPU's flushes are the thread's own */
unsigned int pmrdma_lane_enter(struct pmrdma_map *map)
{
	unsigned int lane = lane_of(map);

	if (map->nlinks)
		pthread_mutex_lock(&map->lanes[lane].lock);
	return lane;
}

void pmrdma_lane_take(struct pmrdma_map *map, unsigned int lane)
{
	if (map->nlinks)
		pthread_mutex_lock(&map->lanes[lane].lock);
}

bool pmrdma_lane_try(struct pmrdma_map *map, unsigned int lane)
{
	return !map->nlinks || !pthread_mutex_trylock(&map->lanes[lane].lock);
}

void pmrdma_lane_leave(struct pmrdma_map *map, unsigned int lane)
{
	if (map->nlinks)
		pthread_mutex_unlock(&map->lanes[lane].lock);
}

/* in lane order, the one order in which any thread holds several */
void pmrdma_lanes_take(struct pmrdma_map *map)
{
	unsigned int k;

	for (k = 0; k < map->nlanes; k++)
		pmrdma_lane_take(map, k);
}

void pmrdma_lanes_leave(struct pmrdma_map *map)
{
	unsigned int k;

	for (k = map->nlanes; k-- > 0; )
		pmrdma_lane_leave(map, k);
}

/*
 * Group commit, as a database's log does it: while one thread's flush
 * waits on the lane, the flushes of the threads that share the lane
 * queue up, and the next leader sends them as one - one round trip for
 * them all instead of one each.  A lone thread leads a group of one.
 */
int pmrdma_lane_group(struct pmrdma_map *map, struct pmrdma_lane_req *req,
		      pmrdma_lane_work *work)
{
	unsigned int lane = lane_of(map);
	struct pmrdma_lane *ln = &map->lanes[lane];
	struct pmrdma_lane_req *group, *next;

	req->next = NULL;
	req->done = false;
	pthread_mutex_lock(&ln->group_lock);
	*ln->group_tail = req;
	ln->group_tail = &req->next;
	while (!req->done) {
		if (ln->leading) {
			pthread_cond_wait(&ln->group_done, &ln->group_lock);
			continue;
		}
		ln->leading = true;
		group = ln->group;
		ln->group = NULL;
		ln->group_tail = &ln->group;
		pthread_mutex_unlock(&ln->group_lock);

		pmrdma_lane_take(map, lane);
		work(map, lane, group);
		pmrdma_lane_leave(map, lane);

		pthread_mutex_lock(&ln->group_lock);
		/* a request's thread may free it once done: next first */
		for (; group; group = next) {
			next = group->next;
			group->done = true;
		}
		ln->leading = false;
		pthread_cond_broadcast(&ln->group_done);
	}
	pthread_mutex_unlock(&ln->group_lock);
	return req->err;
}

static struct pmrdma_lane_mark *mark_at(struct pmrdma_lane *ln, unsigned int i)
{
	return &ln->marks[(ln->head + i) % PMRDMA_LANE_MARKS];
}

uint64_t pmrdma_lane_mark(struct pmrdma_map *map, unsigned int lane)
{
	struct pmrdma_lane *ln = &map->lanes[lane];
	struct pmrdma_lane_mark *m;
	unsigned int i;

	/* a local map's flush is durable when it returns: nothing to mark */
	if (!map->nlinks)
		return __atomic_add_fetch(&ln->started, 1, __ATOMIC_RELAXED)
		       << TOKEN_LANE_BITS | lane;
	/*
	 * A full ring takes the new flush into its newest mark: that token
	 * then becomes durable with the new one, later but never early.
	 */
	if (ln->n == PMRDMA_LANE_MARKS)
		m = mark_at(ln, ln->n - 1);
	else
		m = mark_at(ln, ln->n++);
	m->seq = __atomic_add_fetch(&ln->started, 1, __ATOMIC_RELAXED);
	m->live = 0;
	m->in_sync = 0;
	for (i = 0; i < map->nlinks; i++) {
		pmrdma_link_mark(copy_link(map, i, lane), &m->copy[i]);
		m->gen[i] = map->copy_gen[i];
		m->live |= copy_live(map, i) << i;
		m->in_sync |= copy_in_sync(map, i) << i;
	}
	return m->seq << TOKEN_LANE_BITS | lane;
}

/* what became of the flush a mark stands for */
enum mark_state {
	MARK_PENDING,		/* a copy it needs has not passed it yet */
	MARK_DURABLE,
	MARK_SHORT,		/* settled on too few replicas in sync */
};

/*
 * The mark is durable where the map needs it: on a remote map's only
 * copy; on a replicated map's local memory (flushed when the mark was
 * made) and every replica that took the flush and is still live, and at
 * least min_in_sync replicas that were in sync then.  A replica that
 * dropped out after it passed the mark still counts; one that was out
 * then, or has rejoined since (its links are another generation), never
 * had the flush.  Once no live copy is left to pass it, a mark that too
 * few passed never will be: it is short.  The caller holds the lane:
 * generations stay.
 */
static enum mark_state mark_state(const struct pmrdma_map *map,
				  unsigned int lane,
				  const struct pmrdma_lane_mark *m)
{
	unsigned int i, passed = 0;

	if (!map->local)
		return pmrdma_link_passed(copy_link(map, 0, lane), &m->copy[0]) ?
		       MARK_DURABLE : MARK_PENDING;
	for (i = 0; i < map->nlinks; i++) {
		if (!(m->live & 1U << i) || m->gen[i] != map->copy_gen[i])
			continue;
		if (pmrdma_link_passed(copy_link(map, i, lane), &m->copy[i]))
			passed += !!(m->in_sync & 1U << i);
		else if (copy_live(map, i))
			return MARK_PENDING;
	}
	return passed >= map->min_in_sync ? MARK_DURABLE : MARK_SHORT;
}

/*
 * The tokens a short mark of seq settles are those after the last one
 * settled: the newest run of short ones grows, or a new run starts, the
 * oldest falling out of the ring into short_floor.
 */
static void short_run(struct pmrdma_lane *ln, uint64_t seq)
{
	unsigned int newest = (ln->nshorts - 1) % PMRDMA_LANE_SHORTS;

	if (ln->nshorts && ln->shorts[newest].last == ln->durable) {
		ln->shorts[newest].last = seq;
		return;
	}
	newest = ln->nshorts++ % PMRDMA_LANE_SHORTS;
	if (ln->nshorts > PMRDMA_LANE_SHORTS)
		ln->short_floor = ln->shorts[newest].last;
	ln->shorts[newest].first = ln->durable + 1;
	ln->shorts[newest].last = seq;
}

void pmrdma_lane_retire(struct pmrdma_map *map, unsigned int lane)
{
	struct pmrdma_lane *ln = &map->lanes[lane];
	enum mark_state st;

	while (ln->n && (st = mark_state(map, lane, mark_at(ln, 0))) !=
			MARK_PENDING) {
		if (st == MARK_SHORT)
			short_run(ln, mark_at(ln, 0)->seq);
		ln->durable = mark_at(ln, 0)->seq;
		ln->head = (ln->head + 1) % PMRDMA_LANE_MARKS;
		ln->n--;
	}
}

int pmrdma_lane_of_token(const struct pmrdma_map *map, uint64_t token)
{
	unsigned int lane = token & ((1U << TOKEN_LANE_BITS) - 1);

	if (lane >= map->nlanes || !(token >> TOKEN_LANE_BITS) ||
	    token >> TOKEN_LANE_BITS > __atomic_load_n(&map->lanes[lane].started,
						       __ATOMIC_RELAXED))
		return -1;
	return lane;
}

bool pmrdma_lane_token_settled(const struct pmrdma_map *map, uint64_t token)
{
	const struct pmrdma_lane *ln =
		&map->lanes[token & ((1U << TOKEN_LANE_BITS) - 1)];

	return !map->nlinks || token >> TOKEN_LANE_BITS <= ln->durable;
}

bool pmrdma_lane_token_short(const struct pmrdma_map *map, uint64_t token)
{
	const struct pmrdma_lane *ln =
		&map->lanes[token & ((1U << TOKEN_LANE_BITS) - 1)];
	uint64_t seq = token >> TOKEN_LANE_BITS;
	unsigned int k;

	if (!map->nlinks)
		return false;
	if (seq <= ln->short_floor)
		return true;
	for (k = 0; k < ln->nshorts && k < PMRDMA_LANE_SHORTS; k++)
		if (seq >= ln->shorts[k].first && seq <= ln->shorts[k].last)
			return true;
	return false;
}
