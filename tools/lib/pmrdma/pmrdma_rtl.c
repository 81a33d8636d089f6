// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the Windows-compatible layer (pmrdma_rtl.h).
 *
 * A token is a handle, never a pointer: the index of a slot in this
 * layer's table and the slot's generation.  A slot holds the map that has
 * the buffer and the part of its view the token was made for; every call
 * checks its ranges against that part.  Freeing the token, or deleting its
 * map (pmrdma_map_delete() calls map_gone(), set with
 * pmrdma_map_on_delete()), empties the slot
 * and moves its generation on: a stale token then matches no slot, and
 * gets STATUS_INVALID_PARAMETER instead of a freed map.
 *
 * Threads: a call holds its slot busy (counted under the table's lock)
 * and the map's rtl_lock, which serializes every Rtl call on that map -
 * a map is for one thread at a time.  Deleting a map waits until no call
 * is inside it.  Lock order: table_lock, then the live maps' lock
 * (pmrdma_map_find()); a map's rtl_lock is never taken under table_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "pmrdma_internal.h"
#include "pmrdma_rtl.h"

struct nv_slot {
	struct pmrdma_map *map;		/* NULL: free and idle */
	char *addr;
	size_t size;
	uint32_t gen;			/* of the token that names it */
	bool used;			/* a live token names it */
	unsigned int busy;		/* calls inside it */
};

/* the handle: generation above, index + 1 below (never NULL) */
#define SLOTS_MAX	(1U << 24)
_Static_assert(sizeof(uintptr_t) >= 8, "a token holds 64 bits");

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_idle = PTHREAD_COND_INITIALIZER;
static struct nv_slot *slots;
static uint32_t nslots;

/* what a call needs of its slot, copied out under table_lock */
struct nv_call {
	uint32_t idx;
	struct pmrdma_map *map;
	char *addr;
	size_t size;
};

/* the pmrdma ranges and Windows' have the same layout: passed as they are */
_Static_assert(sizeof(NV_MEMORY_RANGE) == sizeof(struct pmrdma_range) &&
	       offsetof(NV_MEMORY_RANGE, Length) ==
	       offsetof(struct pmrdma_range, len), "NV_MEMORY_RANGE layout");

static NTSTATUS status(int err)
{
	switch (err) {
	case 0:
		return STATUS_SUCCESS;
	case -EINVAL:
		return STATUS_INVALID_PARAMETER;
	case -EACCES:
		return STATUS_ACCESS_DENIED;
	case -ENOMEM:
		return STATUS_INSUFFICIENT_RESOURCES;
	case -ERANGE:
		return STATUS_INFO_LENGTH_MISMATCH;
	default:
		return STATUS_IO_DEVICE_ERROR;
	}
}

static PVOID token_of(uint32_t idx, uint32_t gen)
{
	return (PVOID)(((uintptr_t)gen << 32) | (idx + 1));
}

/* the live slot a token names, or NULL; under table_lock */
static struct nv_slot *slot_of(PVOID token, uint32_t *idx)
{
	uintptr_t v = (uintptr_t)token;
	uint64_t low = v & 0xffffffffU;
	struct nv_slot *s;

	if (!low || low > nslots)
		return NULL;
	*idx = low - 1;
	s = &slots[*idx];
	return s->used && s->gen == (uint32_t)(v >> 32) ? s : NULL;
}

/* a free, idle slot's index, the table grown for it if need be */
static int slot_new(uint32_t *idx)
{
	struct nv_slot *more;
	uint32_t i, n;

	for (i = 0; i < nslots; i++)
		if (!slots[i].used && !slots[i].busy) {
			*idx = i;
			return 0;
		}
	if (nslots == SLOTS_MAX)
		return -ENOMEM;
	n = nslots ? 2 * nslots : 16;
	more = realloc(slots, n * sizeof(*slots));
	if (!more)
		return -ENOMEM;
	for (i = nslots; i < n; i++)
		more[i] = (struct nv_slot){ .gen = 1 };
	slots = more;
	*idx = nslots;
	nslots = n;
	return 0;
}

/* empty a slot: its token is stale from now on; under table_lock */
static void slot_drop(struct nv_slot *s)
{
	s->used = false;
	s->gen++;
	if (!s->busy)
		s->map = NULL;
}

/*
 * Enter a call through token: false for a stale or bad token.  On true
 * the map stays alive and is this thread's until call_end().
 */
static bool call_begin(PVOID token, struct nv_call *c)
{
	struct nv_slot *s;

	pthread_mutex_lock(&table_lock);
	s = slot_of(token, &c->idx);
	if (s) {
		s->busy++;
		c->map = s->map;
		c->addr = s->addr;
		c->size = s->size;
	}
	pthread_mutex_unlock(&table_lock);
	if (s)
		pthread_mutex_lock(&c->map->rtl_lock);
	return s;
}

static NTSTATUS call_end(struct nv_call *c, NTSTATUS st)
{
	struct nv_slot *s;

	pthread_mutex_unlock(&c->map->rtl_lock);
	pthread_mutex_lock(&table_lock);
	s = &slots[c->idx];
	if (!--s->busy) {
		if (!s->used)
			s->map = NULL;
		pthread_cond_broadcast(&table_idle);
	}
	pthread_mutex_unlock(&table_lock);
	return st;
}

/* the map is going: drop its tokens, wait until no call is inside it */
static void map_gone(struct pmrdma_map *map)
{
	bool busy;
	uint32_t i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < nslots; i++)
		if (slots[i].map == map && slots[i].used)
			slot_drop(&slots[i]);
	do {
		busy = false;
		for (i = 0; i < nslots; i++)
			busy |= slots[i].map == map && slots[i].busy;
		if (busy)
			pthread_cond_wait(&table_idle, &table_lock);
	} while (busy);
	pthread_mutex_unlock(&table_lock);
}

/* [p, p + len) inside the token's part of the view */
static bool in_token(const struct nv_call *c, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)c->addr;

	return a >= b && a - b <= c->size && len <= c->size - (a - b);
}

NTSTATUS RtlGetNonVolatileToken(PVOID NvBuffer, SIZE_T Size, PVOID *NvToken)
{
	struct pmrdma_map *map;
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	uint32_t i;

	if (!NvToken)
		return STATUS_INVALID_PARAMETER;
	*NvToken = NULL;
	/* under table_lock: a map deleted now finds its token and drops it */
	pthread_mutex_lock(&table_lock);
	pmrdma_map_on_delete(map_gone);
	map = pmrdma_map_find(NvBuffer, Size);
	if (map) {
		st = slot_new(&i) ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
		if (st == STATUS_SUCCESS) {
			slots[i] = (struct nv_slot){
				.map = map, .addr = NvBuffer, .size = Size,
				.gen = slots[i].gen, .used = true,
			};
			*NvToken = token_of(i, slots[i].gen);
		}
	}
	pthread_mutex_unlock(&table_lock);
	return st;
}

NTSTATUS RtlFreeNonVolatileToken(PVOID NvToken)
{
	struct nv_slot *s;
	uint32_t i;

	pthread_mutex_lock(&table_lock);
	s = slot_of(NvToken, &i);
	if (s)
		slot_drop(s);
	pthread_mutex_unlock(&table_lock);
	return s ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS RtlFlushNonVolatileMemory(PVOID NvToken, PVOID NvBuffer, SIZE_T Size,
				   ULONG Flags)
{
	NV_MEMORY_RANGE r = { NvBuffer, Size };

	return RtlFlushNonVolatileMemoryRanges(NvToken, &r, 1, Flags);
}

NTSTATUS RtlFlushNonVolatileMemoryRanges(PVOID NvToken,
					 PNV_MEMORY_RANGE NvRanges,
					 SIZE_T NumRanges, ULONG Flags)
{
	const struct pmrdma_range *r = (const struct pmrdma_range *)NvRanges;
	struct nv_call c;
	SIZE_T i;

	if ((NumRanges && !NvRanges) ||
	    (Flags & ~FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN))
		return STATUS_INVALID_PARAMETER;
	if (!call_begin(NvToken, &c))
		return STATUS_INVALID_PARAMETER;
	for (i = 0; i < NumRanges; i++)
		if (!in_token(&c, NvRanges[i].BaseAddress, NvRanges[i].Length))
			return call_end(&c, STATUS_INVALID_PARAMETER);
	if (Flags & FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN)
		return call_end(&c, status(pmrdma_flush_async(c.map, r, NumRanges)));
	return call_end(&c, status(pmrdma_flush_ranges(c.map, r, NumRanges)));
}

NTSTATUS RtlDrainNonVolatileFlush(PVOID NvToken)
{
	struct nv_call c;

	if (!call_begin(NvToken, &c))
		return STATUS_INVALID_PARAMETER;
	return call_end(&c, status(pmrdma_drain(c.map)));
}

NTSTATUS RtlWriteNonVolatileMemory(PVOID NvToken, PVOID NvDestination,
				   const VOID *Source, SIZE_T Size,
				   ULONG Flags)
{
	struct nv_call c;

	if (Flags & ~WRITE_NV_MEMORY_FLAG_FLUSH)
		return STATUS_INVALID_PARAMETER;
	if (!call_begin(NvToken, &c))
		return STATUS_INVALID_PARAMETER;
	if (!in_token(&c, NvDestination, Size))
		return call_end(&c, STATUS_INVALID_PARAMETER);
	if (!pmrdma_memcpy(c.map, NvDestination, Source, Size,
			   Flags ? 0 : PMRDMA_F_NOFLUSH))
		return call_end(&c, STATUS_IO_DEVICE_ERROR);
	return call_end(&c, STATUS_SUCCESS);
}

/*
 * Windows' fill flags as pmrdma_memset() flags, or -1 for a combination
 * Windows refuses: NO_DRAIN goes with FLUSH alone.  0 only stores; FLUSH
 * makes durable (drained unless NO_DRAIN); NON_TEMPORAL and PERSIST make
 * durable the cheapest way, which for a memset is a flush and a drain.
 */
static int fill_flags(ULONG f)
{
	const ULONG all = FILL_NV_MEMORY_FLAG_PERSIST | FILL_NV_MEMORY_FLAG_NO_DRAIN;

	if (f & ~all)
		return -1;
	if (f & FILL_NV_MEMORY_FLAG_NO_DRAIN)
		return (f & FILL_NV_MEMORY_FLAG_PERSIST) == FILL_NV_MEMORY_FLAG_FLUSH ?
		       (int)PMRDMA_F_NODRAIN : -1;
	if (f & FILL_NV_MEMORY_FLAG_NON_TEMPORAL)
		return PMRDMA_F_NONTEMPORAL;
	return f & FILL_NV_MEMORY_FLAG_FLUSH ? 0 : PMRDMA_F_NOFLUSH;
}

NTSTATUS RtlFillNonVolatileMemory(PVOID NvToken, VOID *NvDestination,
				  SIZE_T Size, const UCHAR Value, ULONG Flags)
{
	int flags = fill_flags(Flags);
	struct nv_call c;

	if (flags < 0 || !call_begin(NvToken, &c))
		return STATUS_INVALID_PARAMETER;
	if (!in_token(&c, NvDestination, Size))
		return call_end(&c, STATUS_INVALID_PARAMETER);
	if (!pmrdma_memset(c.map, NvDestination, Value, Size, flags))
		return call_end(&c, STATUS_IO_DEVICE_ERROR);
	return call_end(&c, STATUS_SUCCESS);
}
