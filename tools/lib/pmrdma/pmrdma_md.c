// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: a copy's metadata (<linux/pmem_rdma_md.h>) - its layout, its
 * header read and written, and what two copies' generations say of each
 * other.  Pure but for pmrdma_md_store(), which writes the local copy's.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include "pmrdma_internal.h"

#define HEADER	PMEM_RDMA_MD_HEADER
#define SLOT	PMEM_RDMA_MD_SLOT

_Static_assert(sizeof(struct pmem_rdma_md_header) <= SLOT,
	       "a header fits its slot");
_Static_assert(2 * SLOT <= HEADER, "both slots fit the header page");

/* the bitmap's bytes for a copy of size: a bit a region, whole pages */
static uint64_t bitmap_bytes(uint64_t size, unsigned int shift)
{
	uint64_t regions = ((size - 1) >> shift) + 1;
	uint64_t bytes = (regions + 63) / 64 * 8;

	return (bytes + HEADER - 1) / HEADER * HEADER;
}

int pmrdma_md_layout(struct pmrdma_md *md, uint64_t size, unsigned int shift)
{
	uint64_t bm;

	memset(md, 0, sizeof(*md));
	if (!size || size % HEADER)
		return -EINVAL;
	bm = bitmap_bytes(size, shift);
	/* room for one page of data at least, without a subtraction wrapping */
	if (size / HEADER < bm / HEADER + 2)
		return -EINVAL;
	md->size = size;
	md->shift = shift;
	md->data_size = size - bm - HEADER;
	return 0;
}

/* slot's header, if whole and of this version: 0, else -ENODATA */
static int slot_parse(const struct pmem_rdma_md_header *h,
		      struct pmrdma_md *md)
{
	unsigned int k;

	if (memcmp(h->magic, PMEM_RDMA_MD_MAGIC, sizeof(h->magic)) ||
	    le32toh(h->version) != PMEM_RDMA_MD_VERSION ||
	    le64toh(h->csum) != pmrdma_xxh64(h, offsetof(struct pmem_rdma_md_header, csum), 0))
		return -ENODATA;
	md->seq = le64toh(h->seq);
	md->shift = le32toh(h->region_shift);
	md->size = le64toh(h->size);
	md->data_size = le64toh(h->data_size);
	md->bitmap_gens = le32toh(h->bitmap_gens);
	md->flags = le32toh(h->flags);
	for (k = 0; k < PMEM_RDMA_MD_GENS; k++)
		md->gen[k] = le64toh(h->gen[k]);
	return 0;
}

const char *pmrdma_md_fault(const struct pmrdma_md *md, uint64_t size)
{
	struct pmrdma_md want;

	if (md->shift < 12 || md->shift > 30)
		return "its region size is not a power of two from 4 KiB to 1 GiB";
	if (md->size != size)
		return "it is of a copy of another size";
	if (pmrdma_md_layout(&want, size, md->shift) ||
	    md->data_size != want.data_size)
		return "its view does not end where its bitmap begins";
	if (md->bitmap_gens >= PMEM_RDMA_MD_GENS)
		return "its bitmap covers more generations than it keeps";
	if (md->flags & ~PMEM_RDMA_MD_FLAGS)
		return "it has flags this version does not know";
	if (!md->gen[0] && !(md->flags & PMEM_RDMA_MD_INCONSISTENT))
		return "it has no generation, yet says it is whole";
	return NULL;
}

int pmrdma_md_parse(const void *page, uint64_t size, struct pmrdma_md *md)
{
	struct pmrdma_md s[2];
	int ok0, ok1;

	ok0 = !slot_parse(page, &s[0]);
	ok1 = !slot_parse((const void *)((const char *)page + SLOT), &s[1]);
	if (!ok0 && !ok1)
		return -ENODATA;
	*md = ok0 && (!ok1 || s[0].seq > s[1].seq) ? s[0] : s[1];
	/* a header that does not describe this copy's layout is not one */
	return pmrdma_md_fault(md, size) ? -EUCLEAN : 0;
}

void pmrdma_md_encode(const struct pmrdma_md *md, void *slot)
{
	struct pmem_rdma_md_header *h = slot;
	unsigned int k;

	memset(h, 0, SLOT);
	memcpy(h->magic, PMEM_RDMA_MD_MAGIC, sizeof(h->magic));
	h->version = htole32(PMEM_RDMA_MD_VERSION);
	h->region_shift = htole32(md->shift);
	h->seq = htole64(md->seq);
	h->size = htole64(md->size);
	h->data_size = htole64(md->data_size);
	h->bitmap_gens = htole32(md->bitmap_gens);
	h->flags = htole32(md->flags);
	for (k = 0; k < PMEM_RDMA_MD_GENS; k++)
		h->gen[k] = htole64(md->gen[k]);
	h->csum = htole64(pmrdma_xxh64(h, offsetof(struct pmem_rdma_md_header, csum), 0));
}

uint64_t pmrdma_md_slot_offset(const struct pmrdma_md *md)
{
	return md->size - HEADER + (md->seq & 1) * SLOT;
}

void pmrdma_md_store(const struct pmrdma_local *lc, struct pmrdma_md *md)
{
	char *slot;

	md->seq++;
	slot = lc->addr + pmrdma_md_slot_offset(md);
	pmrdma_md_encode(md, slot);
	pmrdma_local_flush(lc, slot, SLOT);
	pmrdma_local_drain();
}

int pmrdma_md_new_gen(struct pmrdma_md *md)
{
	uint64_t g = 0;

	/* a generation is never 0: that is "none" */
	while (!g)
		if (getrandom(&g, sizeof(g), 0) != sizeof(g))
			return -errno;
	memmove(&md->gen[1], &md->gen[0],
		(PMEM_RDMA_MD_GENS - 1) * sizeof(md->gen[0]));
	md->gen[0] = g;
	/* the bitmap goes on covering what it did, and the one just left */
	if (md->bitmap_gens < PMEM_RDMA_MD_GENS - 1)
		md->bitmap_gens++;
	return 0;
}

/* g's place in md's generations, 0 for the current; or -1 */
static int gen_at(const struct pmrdma_md *md, uint64_t g)
{
	int k;

	for (k = 0; k < PMEM_RDMA_MD_GENS && md->gen[k]; k++)
		if (md->gen[k] == g)
			return k;
	return -1;
}

enum pmrdma_md_rel pmrdma_md_compare(const struct pmrdma_md *local,
				     const struct pmrdma_md *rep)
{
	int k = gen_at(local, rep->gen[0]);

	if (k == 0)
		return PMRDMA_MD_SAME;
	if (k > 0)
		return (unsigned int)k <= local->bitmap_gens ?
		       PMRDMA_MD_BEHIND : PMRDMA_MD_FAR_BEHIND;
	return gen_at(rep, local->gen[0]) > 0 ? PMRDMA_MD_AHEAD :
						PMRDMA_MD_DIVERGED;
}
