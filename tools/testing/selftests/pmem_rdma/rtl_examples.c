// SPDX-License-Identifier: GPL-2.0
/*
 * The two usage patterns of Windows' Rtl*NonVolatile* calls (the shape of
 * Microsoft's own examples), written as Windows code: they see only
 * pmrdma_rtl.h, and a base and size inside a mapping.  lib_rtl_test runs
 * them over local and remote maps of libpmrdma.
 */
#include "pmrdma_rtl.h"
#include "rtl_examples.h"

/* explicit flush: each store flushed, and drained, before the next */
NTSTATUS ExplicitFlushExample(PVOID Base, SIZE_T Size)
{
	PVOID Token;
	NTSTATUS Status;
	int *p = Base;
	SIZE_T i;

	Status = RtlGetNonVolatileToken(Base, Size, &Token);
	if (Status != STATUS_SUCCESS)
		return Status;
	for (i = 0; i < Size / sizeof(int); i++) {
		*p = (int)(i * 3 + 1);
		Status = RtlFlushNonVolatileMemory(Token, p, sizeof(int), 0);
		if (Status != STATUS_SUCCESS)
			break;
		p++;
	}
	RtlFreeNonVolatileToken(Token);
	return Status;
}

/* asynchronous flush: the flushes started, other work, then one drain */
NTSTATUS AsyncFlushExample(PVOID Base, SIZE_T Size)
{
	PVOID Token;
	NTSTATUS Status;
	int *p = Base;
	SIZE_T i;

	Status = RtlGetNonVolatileToken(Base, Size, &Token);
	if (Status != STATUS_SUCCESS)
		return Status;
	for (i = 0; i < Size / sizeof(int); i++) {
		*p = (int)(i * 5 + 2);
		Status = RtlFlushNonVolatileMemory(Token, p, sizeof(int),
						   FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN);
		if (Status != STATUS_SUCCESS)
			break;
		p++;
	}
	/* ... other work ... */
	if (Status == STATUS_SUCCESS)
		Status = RtlDrainNonVolatileFlush(Token);
	RtlFreeNonVolatileToken(Token);
	return Status;
}
