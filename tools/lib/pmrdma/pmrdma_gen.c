// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: a replicated map's generations, as DRBD's UUIDs tell a
 * current copy from a stale or a diverged one (<linux/pmem_rdma_md.h>).
 *
 *   - The local copy's metadata is read when the map is made, or made
 *     for a copy that has none: a new primary, whose replicas all get a
 *     full copy.
 *   - Each replica's header is read when it connects and judged against
 *     the local one: current and stale ones are resynced (from the
 *     bitmaps, or in full); a newer one, or one that diverged, is refused.
 *   - A replica's header gets the current generation once it has every
 *     range (pmrdma_gen_in_sync()), and only then: a copy cut off in the
 *     middle of a resync is never taken for a current one.
 *   - When a copy with the current generation is no longer in sync, a
 *     new generation is written to the local copy and pushed to every
 *     copy in sync before any call of the map returns
 *     (pmrdma_gen_settle()): the one that dropped out is then stale, by
 *     its header, whatever host opens it next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pmrdma_internal.h"

#define HEADER	PMEM_RDMA_MD_HEADER

int pmrdma_gen_open(struct pmrdma_map *map, unsigned int shift)
{
	struct pmrdma_local *lc = &map->lc;
	uint64_t size = lc->size;
	char *page;
	int err;

	if (size < HEADER || size % HEADER)
		return pmrdma_fail(map, -EINVAL,
				   "metadata: the local copy's %llu bytes are not whole pages",
				   (unsigned long long)size);
	page = lc->addr + size - HEADER;
	err = pmrdma_md_parse(page, size, &map->md);
	if (err == -EUCLEAN)
		return pmrdma_fail(map, err,
				   "metadata: the local copy's header is not one of a copy of %llu bytes (%s): it is another map's, or damaged",
				   (unsigned long long)size,
				   pmrdma_md_fault(&map->md, size));
	if (!err && map->md.flags & PMEM_RDMA_MD_INCONSISTENT)
		return pmrdma_fail(map, -ESTALE,
				   "metadata: the local copy was cut off in a resync (from generation %016llx): it is not whole; make a current copy the primary, and this one its replica",
				   (unsigned long long)map->md.gen[0]);
	/* a replica whose primary went with writes in flight */
	if (!err && !(map->md.flags & (PMEM_RDMA_MD_PRIMARY | PMEM_RDMA_MD_CLOSED)))
		map->md_unclean_gen = map->md.gen[0];
	if (err) {
		/* none: a new primary's, with an empty bitmap */
		if (pmrdma_md_layout(&map->md, size, shift))
			return pmrdma_fail(map, -EINVAL,
					   "metadata: %llu bytes leave no room for a view, a bitmap of %llu-byte regions and a header",
					   (unsigned long long)size,
					   1ULL << shift);
		memset(lc->addr + map->md.data_size, 0,
		       size - HEADER - map->md.data_size);
		pmrdma_local_flush(lc, lc->addr + map->md.data_size,
				   size - HEADER - map->md.data_size);
		err = pmrdma_md_new_gen(&map->md);
		if (err)
			return pmrdma_fail(map, err, "metadata: getrandom: %s",
					   strerror(-err));
		map->md.bitmap_gens = 0;
		pmrdma_md_store(lc, &map->md);
		map->md_new = true;
	}
	map->has_md = true;
	map->copy_size = size;
	map->size = map->md.data_size;
	return 0;
}

/* READ [off, off + len) of the copy behind l into dst, as the map's failure */
static int read_md(struct pmrdma_map *map, struct pmrdma_link *l,
		   uint64_t off, uint64_t len, void *dst, uint32_t lkey)
{
	int err = pmrdma_link_read_into(l, off, len, dst, lkey);

	return err ? pmrdma_fail(map, err, "%s", l->msg) : 0;
}

/*
 * replica i's relation to local, from its header page in buf; rep has
 * its header's seq whatever it is (0: none)
 */
static enum pmrdma_md_rel judge(const struct pmrdma_map *map, unsigned int i,
				const struct pmrdma_md *local, const char *buf,
				struct pmrdma_md *rep)
{
	int err = pmrdma_md_parse(buf, map->copy_size, rep);

	if (map->md_new || map->discard & 1U << i || err == -ENODATA)
		return PMRDMA_MD_NONE;
	/* another layout is another map's */
	if (err || rep->shift != local->shift)
		return PMRDMA_MD_FOREIGN;
	/*
	 * cut off in a resync that was to give it all; or a fellow replica
	 * of the primary that went with writes in flight, which may differ
	 * from the local copy where no bitmap says
	 */
	if (!rep->gen[0] ||
	    (map->md_unclean_gen && rep->gen[0] == map->md_unclean_gen))
		return PMRDMA_MD_FAR_BEHIND;
	return pmrdma_md_compare(local, rep);
}

/*
 * What replica i's header says once it is judged, before anything is
 * written to it (pmrdma_gen_mark()): INCONSISTENT, with its generations
 * if it is to get only what it lacks, or none if all of the view, so
 * that a copy cut off in its resync is never taken for a whole one (as
 * DRBD's Inconsistent).
 */
static void prepare_mark(struct pmrdma_map *map, unsigned int i,
			 const struct pmrdma_md *local,
			 const struct pmrdma_md *rep, bool all)
{
	struct pmrdma_md *m = &map->copy_md[i].mark;

	*m = all ? *local : *rep;
	if (all)
		memset(m->gen, 0, sizeof(m->gen));
	m->bitmap_gens = 0;
	m->flags = PMEM_RDMA_MD_INCONSISTENT;
}

/* why a replica's header judged PMRDMA_MD_FOREIGN is not one of the map */
static const char *foreign_why(const struct pmrdma_map *map,
			       const struct pmrdma_md *local,
			       const struct pmrdma_md *rep)
{
	return pmrdma_md_fault(rep, map->copy_size) ?:
	       rep->shift > local->shift ?
	       "its regions are larger than this map's" :
	       "its regions are smaller than this map's";
}

int pmrdma_gen_judge(struct pmrdma_map *map, unsigned int i,
		     struct pmrdma_link *l)
{
	uint64_t bm = map->copy_size - HEADER - map->size;
	enum pmrdma_md_rel rel;
	struct pmrdma_md rep = { 0 }, local;
	struct ibv_mr *mr = NULL;
	char *buf = NULL;
	int err;

	if (!map->has_md)
		return 0;
	if (posix_memalign((void **)&buf, HEADER, HEADER + bm))
		return pmrdma_fail(map, -ENOMEM, "no memory for replica %u's metadata",
				   i);
	err = pmrdma_link_reg_dst(l, buf, HEADER + bm, &mr);
	if (err) {
		pmrdma_fail(map, err, "%s", l->msg);
		goto out;
	}
	err = read_md(map, l, map->copy_size - HEADER, HEADER, buf, mr->lkey);
	if (err)
		goto out;
	/* another thread's settle may be drawing a generation */
	pthread_mutex_lock(&map->md_lock);
	local = map->md;
	pthread_mutex_unlock(&map->md_lock);
	rel = judge(map, i, &local, buf, &rep);
	map->copy_md[i].seq = rep.seq;
	switch (rel) {
	case PMRDMA_MD_NONE:
	case PMRDMA_MD_FAR_BEHIND:
		pmrdma_dirty_fill(&map->dirty, i);
		break;
	case PMRDMA_MD_SAME:
	case PMRDMA_MD_BEHIND:
		/* what it wrote as a primary once, and did not pass on */
		err = read_md(map, l, map->size, bm, buf + HEADER, mr->lkey);
		if (!err)
			pmrdma_dirty_add(&map->dirty, i,
					 (const uint64_t *)(buf + HEADER));
		break;
	case PMRDMA_MD_AHEAD:
		err = pmrdma_fail(map, -ESTALE,
				  "%s: replica %u is newer than the local copy (its generation %016llx follows the local %016llx): make it the primary, or discard the local copy",
				  l->name, i, (unsigned long long)rep.gen[0],
				  (unsigned long long)local.gen[0]);
		break;
	case PMRDMA_MD_DIVERGED:
		err = pmrdma_fail(map, -EUCLEAN,
				  "%s: replica %u and the local copy have diverged (generations %016llx and %016llx, each written as a primary since they parted): choose the survivor, and discard the other (pmrdma_config_discard_replica())",
				  l->name, i, (unsigned long long)rep.gen[0],
				  (unsigned long long)local.gen[0]);
		break;
	case PMRDMA_MD_FOREIGN:
		err = pmrdma_fail(map, -EUCLEAN,
				  "%s: replica %u's header is not one of this map (%s): it is another map's copy, or damaged; discard it to give it all of the view (pmrdma_config_discard_replica())",
				  l->name, i, foreign_why(map, &local, &rep));
		break;
	}
	if (!err)
		prepare_mark(map, i, &local, &rep,
			     rel == PMRDMA_MD_NONE || rel == PMRDMA_MD_FAR_BEHIND);
out:
	if (mr)
		ibv_dereg_mr(mr);
	free(buf);
	return err;
}

/*
 * Write m to copy i through l, with the seq after its own header's (so
 * in the slot its newest header is not in), durably.  With clear, its
 * bitmap is zeroed first.  The seq counts only once written: a header
 * that did not land is never followed into the slot of the newest.  0 or
 * -errno, the message in l->msg.
 */
static int write_header(struct pmrdma_map *map, unsigned int i,
			struct pmrdma_link *l, struct pmrdma_md m, bool clear)
{
	uint64_t bm = map->copy_size - HEADER - map->size;
	uint64_t len = clear ? bm + PMEM_RDMA_MD_SLOT : PMEM_RDMA_MD_SLOT;
	struct ibv_mr *mr;
	char *buf;
	int err;

	if (posix_memalign((void **)&buf, HEADER, len))
		return -ENOMEM;
	memset(buf, 0, len);
	m.seq = map->copy_md[i].seq + 1;
	pmrdma_md_encode(&m, buf + len - PMEM_RDMA_MD_SLOT);
	err = pmrdma_link_reg_buf(l, buf, len, &mr);
	if (!err) {
		if (clear)
			err = pmrdma_link_write(l, map->size, bm, buf, mr->lkey);
		if (!err)
			err = pmrdma_link_write(l, pmrdma_md_slot_offset(&m),
						PMEM_RDMA_MD_SLOT,
						buf + len - PMEM_RDMA_MD_SLOT,
						mr->lkey);
		if (!err)
			err = pmrdma_link_drain(l);
		ibv_dereg_mr(mr);
	}
	free(buf);
	if (!err)
		map->copy_md[i].seq = m.seq;
	return err;
}

/*
 * Stamp copy i through l with the local header as a replica's: its
 * bitmap_gens 0, since its own bitmap covers nothing (a replica promoted
 * later must not take the primary's bitmap for its own); CLOSED if the
 * primary is closing, else no flag.  With clear, its bitmap is zeroed
 * first: what it kept as a primary once was merged into its oos when it
 * joined.  The caller holds md_lock.
 */
static int stamp(struct pmrdma_map *map, unsigned int i, struct pmrdma_link *l,
		 bool clear)
{
	struct pmrdma_md rep = map->md;

	rep.bitmap_gens = 0;
	rep.flags = map->md.flags & PMEM_RDMA_MD_CLOSED;
	return write_header(map, i, l, rep, clear);
}

int pmrdma_gen_mark(struct pmrdma_map *map, unsigned int i,
		    struct pmrdma_link *l)
{
	int err;

	if (!map->has_md)
		return 0;
	err = write_header(map, i, l, map->copy_md[i].mark, false);
	if (err)
		return pmrdma_fail(map, err, "%s",
				   err == -ENOMEM ? "no memory to mark a replica" :
						    l->msg);
	return 0;
}

/* the copies in sync now, a bit each */
static uint32_t in_sync_mask(const struct pmrdma_map *map)
{
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < map->nlinks; i++)
		m |= (uint32_t)copy_in_sync(map, i) << i;
	return m;
}

int pmrdma_gen_start(struct pmrdma_map *map)
{
	int err;

	if (!map->has_md)
		return 0;
	/*
	 * A primary's session is a generation of its own, as DRBD's new
	 * current UUID: a copy that was current when it began and takes no
	 * part in it is stale by its header, even if no replica drops out
	 */
	err = pmrdma_md_new_gen(&map->md);
	if (err)
		return pmrdma_fail(map, err, "metadata: getrandom: %s",
				   strerror(-err));
	/*
	 * a replica whose primary went with writes in flight: its bitmap
	 * says nothing of them, so that no later session takes it for one
	 * that covers the generation before (a copy still at it is stale
	 * beyond the bitmap, and gets all of the view)
	 */
	if (map->md_unclean_gen)
		map->md.bitmap_gens = 0;
	map->md.flags = PMEM_RDMA_MD_PRIMARY;
	pmrdma_md_store(&map->lc, &map->md);
	map->md_new = false;
	map->md_started = true;
	return 0;
}

void pmrdma_gen_close(struct pmrdma_map *map)
{
	bool clean = true;
	unsigned int i, k;
	uint32_t holders;

	if (!map->md_started)
		return;
	/*
	 * nothing in flight, or no CLOSED: what this thread or another
	 * started and did not drain may reach one copy and not another
	 */
	for (i = 0; i < map->nlinks; i++)
		for (k = 0; k < map->nlanes; k++)
			if (copy_live(map, i) &&
			    pmrdma_link_drain(copy_link(map, i, k)))
				clean = false;
	/* a copy that dropped out unnoticed is made stale first */
	if (pmrdma_gen_settle(map, 0))
		clean = false;
	pmrdma_dirty_sync(&map->dirty, true);
	pthread_mutex_lock(&map->md_lock);
	map->md.flags = clean ? PMEM_RDMA_MD_CLOSED : 0;
	holders = __atomic_load_n(&map->md_holders, __ATOMIC_ACQUIRE);
	/* only copies that were given the current generation */
	for (i = 0; i < map->nlinks && clean; i++)
		if (holders & 1U << i && copy_in_sync(map, i))
			stamp(map, i, copy_link(map, i, 0), false);
	pmrdma_md_store(&map->lc, &map->md);
	pthread_mutex_unlock(&map->md_lock);
}

int pmrdma_gen_in_sync(struct pmrdma_map *map, unsigned int i)
{
	uint32_t all = (1U << map->nlinks) - 1, holders;
	struct pmrdma_link *l = copy_link(map, i, 0);
	unsigned int j;
	int err;

	if (!map->has_md)
		return 0;
	pthread_mutex_lock(&map->md_lock);
	err = stamp(map, i, l, true);
	if (err) {
		pthread_mutex_unlock(&map->md_lock);
		return pmrdma_fail(map, err, "%s",
				   err == -ENOMEM ? "no memory to stamp a replica" :
						    l->msg);
	}
	map->discard &= ~(1U << i);
	holders = __atomic_or_fetch(&map->md_holders, 1U << i, __ATOMIC_RELEASE);
	/*
	 * every copy current: the bitmap need not cover old generations.  A
	 * copy the new header does not reach stays a holder, and out of
	 * sync: the next call's settle makes it stale.
	 */
	if (holders == all && map->md.bitmap_gens) {
		map->md.bitmap_gens = 0;
		pmrdma_md_store(&map->lc, &map->md);
		for (j = 0; j < map->nlinks; j++)
			if (copy_in_sync(map, j))
				stamp(map, j, copy_link(map, j, 0), false);
	}
	pthread_mutex_unlock(&map->md_lock);
	pmrdma_dirty_sync(&map->dirty, true);
	return 0;
}

int pmrdma_gen_settle(struct pmrdma_map *map, unsigned int lane)
{
	uint32_t in_sync;
	unsigned int i;
	int err = 0;

	if (!map->has_md ||
	    !(__atomic_load_n(&map->md_holders, __ATOMIC_ACQUIRE) &
	      ~in_sync_mask(map)))
		return 0;
	pthread_mutex_lock(&map->md_lock);
	/*
	 * Every copy stamped counts as a holder, reached or not: one that
	 * failed while being stamped may hold the new generation, and is
	 * made stale by the next one
	 */
	while (!err && map->md_holders & ~(in_sync = in_sync_mask(map))) {
		err = pmrdma_md_new_gen(&map->md);
		if (err) {
			pmrdma_fail(map, err, "metadata: getrandom: %s",
				    strerror(-err));
			break;
		}
		pmrdma_md_store(&map->lc, &map->md);
		for (i = 0; i < map->nlinks; i++)
			if (in_sync & 1U << i)
				stamp(map, i, copy_link(map, i, lane), false);
		__atomic_store_n(&map->md_holders, in_sync, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&map->md_lock);
	return err;
}
