// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the one error channel.  Every layer of a map (pmrdma_map.c,
 * pmrdma_local.c, pmrdma_link.c) says why a call failed through
 * pmrdma_fail(), which pmrdma_errormsg() reads back; it lives apart so that
 * the lower layers need not call up into the map's file.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pmrdma_internal.h"

int pmrdma_fail(struct pmrdma_map *map, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(map->msg, sizeof(map->msg), fmt, ap);
	va_end(ap);
	return err;
}
