// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the Windows-compatible layer (pmrdma_rtl.h).  A token is the
 * map that holds the buffer, and the part of its view the token was made
 * for; every call checks its range against that part.
 */
#include <errno.h>
#include <stdlib.h>

#include "pmrdma_internal.h"
#include "pmrdma_rtl.h"

struct nv_token {
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

/* [p, p + len) inside the token's part of the view */
static bool in_token(const struct nv_token *t, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)t->addr;

	return a >= b && a - b <= t->size && len <= t->size - (a - b);
}

NTSTATUS RtlGetNonVolatileToken(PVOID NvBuffer, SIZE_T Size, PVOID *NvToken)
{
	struct pmrdma_map *map;
	struct nv_token *t;

	if (!NvToken)
		return STATUS_INVALID_PARAMETER;
	*NvToken = NULL;
	map = pmrdma_map_find(NvBuffer, Size);
	if (!map)
		return STATUS_INVALID_PARAMETER;
	t = malloc(sizeof(*t));
	if (!t)
		return STATUS_INSUFFICIENT_RESOURCES;
	*t = (struct nv_token){ .map = map, .addr = NvBuffer, .size = Size };
	*NvToken = t;
	return STATUS_SUCCESS;
}

NTSTATUS RtlFreeNonVolatileToken(PVOID NvToken)
{
	if (!NvToken)
		return STATUS_INVALID_PARAMETER;
	free(NvToken);
	return STATUS_SUCCESS;
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
	struct nv_token *t = NvToken;
	SIZE_T i;

	if (!t || (NumRanges && !NvRanges) ||
	    (Flags & ~FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN))
		return STATUS_INVALID_PARAMETER;
	for (i = 0; i < NumRanges; i++)
		if (!in_token(t, NvRanges[i].BaseAddress, NvRanges[i].Length))
			return STATUS_INVALID_PARAMETER;
	if (Flags & FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN)
		return status(pmrdma_flush_async(t->map, r, NumRanges));
	return status(pmrdma_flush_ranges(t->map, r, NumRanges));
}

NTSTATUS RtlDrainNonVolatileFlush(PVOID NvToken)
{
	struct nv_token *t = NvToken;

	return t ? status(pmrdma_drain(t->map)) : STATUS_INVALID_PARAMETER;
}

NTSTATUS RtlWriteNonVolatileMemory(PVOID NvToken, PVOID NvDestination,
				   const VOID *Source, SIZE_T Size,
				   ULONG Flags)
{
	struct nv_token *t = NvToken;

	if (!t || (Flags & ~WRITE_NV_MEMORY_FLAG_FLUSH) ||
	    !in_token(t, NvDestination, Size))
		return STATUS_INVALID_PARAMETER;
	if (!pmrdma_memcpy(t->map, NvDestination, Source, Size,
			   Flags ? 0 : PMRDMA_F_NOFLUSH))
		return STATUS_IO_DEVICE_ERROR;
	return STATUS_SUCCESS;
}

NTSTATUS RtlFillNonVolatileMemory(PVOID NvToken, VOID *NvDestination,
				  SIZE_T Size, const UCHAR Value, ULONG Flags)
{
	struct nv_token *t = NvToken;

	if (!t || Flags || !in_token(t, NvDestination, Size))
		return STATUS_INVALID_PARAMETER;
	if (!pmrdma_memset(t->map, NvDestination, Value, Size, PMRDMA_F_NOFLUSH))
		return STATUS_IO_DEVICE_ERROR;
	return STATUS_SUCCESS;
}
