/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's Windows-compatible layer: the Rtl*NonVolatile* calls of
 * Windows 10 1703 and later (ntddk.h / wdm.h), with their signatures, over
 * any map of <pmrdma.h> - local, remote or replicated - so that code
 * written for Windows runs with only the mapping set-up changed.
 *
 * A token names the map that holds [NvBuffer, NvBuffer + Size): the library
 * keeps its live maps, and RtlGetNonVolatileToken() finds the one whose view
 * contains the buffer (STATUS_INVALID_PARAMETER if none does).  A token is
 * a handle, not a pointer: once freed, or once its map is deleted (which
 * frees the map's tokens), every call with it gets STATUS_INVALID_PARAMETER.
 * Threads may share a token: the calls on one map, through any of its
 * tokens, run one at a time, and pmrdma_map_delete() waits for the one
 * running.  The calls map to the library's (in parentheses); a negative
 * errno of theirs comes back as the NTSTATUS below.
 */
#ifndef PMRDMA_RTL_H
#define PMRDMA_RTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Windows' own type names: the point of this header (checkpatch's
 * NEW_TYPEDEFS does not apply)
 */
typedef int32_t NTSTATUS;
typedef void *PVOID;
typedef void VOID;
typedef size_t SIZE_T;
typedef uint32_t ULONG;
typedef uint8_t UCHAR;

#define STATUS_SUCCESS			((NTSTATUS)0x00000000)
#define STATUS_INFO_LENGTH_MISMATCH	((NTSTATUS)0xC0000004)	/* -ERANGE */
#define STATUS_INVALID_PARAMETER	((NTSTATUS)0xC000000D)	/* -EINVAL */
#define STATUS_ACCESS_DENIED		((NTSTATUS)0xC0000022)	/* -EACCES */
#define STATUS_INSUFFICIENT_RESOURCES	((NTSTATUS)0xC000009A)	/* -ENOMEM */
#define STATUS_IO_DEVICE_ERROR		((NTSTATUS)0xC0000185)	/* -EIO and
								 * the rest
								 */

#define FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN	0x00000001
#define WRITE_NV_MEMORY_FLAG_FLUSH		0x00000001
#define FILL_NV_MEMORY_FLAG_FLUSH		0x00000001
#define FILL_NV_MEMORY_FLAG_NON_TEMPORAL	0x00000002
#define FILL_NV_MEMORY_FLAG_PERSIST		(FILL_NV_MEMORY_FLAG_FLUSH | \
						 FILL_NV_MEMORY_FLAG_NON_TEMPORAL)
#define FILL_NV_MEMORY_FLAG_NO_DRAIN		0x00000100

typedef struct _NV_MEMORY_RANGE {
	PVOID BaseAddress;
	SIZE_T Length;
} NV_MEMORY_RANGE, *PNV_MEMORY_RANGE;

/* a token for [NvBuffer, NvBuffer + Size) of one map */
NTSTATUS RtlGetNonVolatileToken(PVOID NvBuffer, SIZE_T Size, PVOID *NvToken);
NTSTATUS RtlFreeNonVolatileToken(PVOID NvToken);

/*
 * pmrdma_flush(), or with FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN
 * pmrdma_flush_async() of the one range
 */
NTSTATUS RtlFlushNonVolatileMemory(PVOID NvToken, PVOID NvBuffer, SIZE_T Size,
				   ULONG Flags);

/* pmrdma_flush_async() of the ranges, then pmrdma_drain() unless NO_DRAIN */
NTSTATUS RtlFlushNonVolatileMemoryRanges(PVOID NvToken,
					 PNV_MEMORY_RANGE NvRanges,
					 SIZE_T NumRanges, ULONG Flags);

/* pmrdma_drain() */
NTSTATUS RtlDrainNonVolatileFlush(PVOID NvToken);

/*
 * pmrdma_memcpy() / pmrdma_memset(): stored only (0), or durable on return
 * with WRITE_NV_MEMORY_FLAG_FLUSH (Write) or FILL_NV_MEMORY_FLAG_FLUSH,
 * _NON_TEMPORAL or _PERSIST (Fill); FILL_NV_MEMORY_FLAG_FLUSH |
 * FILL_NV_MEMORY_FLAG_NO_DRAIN starts the flush, RtlDrainNonVolatileFlush()
 * waits for it
 */
NTSTATUS RtlWriteNonVolatileMemory(PVOID NvToken, PVOID NvDestination,
				   const VOID *Source, SIZE_T Size,
				   ULONG Flags);
NTSTATUS RtlFillNonVolatileMemory(PVOID NvToken, VOID *NvDestination,
				  SIZE_T Size, const UCHAR Value, ULONG Flags);

#ifdef __cplusplus
}
#endif

#endif /* PMRDMA_RTL_H */
