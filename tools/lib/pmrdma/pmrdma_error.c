// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the one error channel.  Every layer of a map (pmrdma_map.c,
 * pmrdma_local.c, pmrdma_link.c) says why a call failed through
 * pmrdma_fail(), which pmrdma_errormsg() reads back; it lives apart so that
 * the lower layers need not call up into the map's file.  A config call
 * or pmrdma_map_new() that fails has no map yet: it says why in the
 * thread's message, pmrdma_errormsg(NULL).  The calls without a map (the
 * key file, the target's control device, the user-space target) write
 * their own message buffers the same way.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pmrdma_error.h"
#include "pmrdma_internal.h"

int pmrdma_vfail(char *msg, size_t len, int err, const char *fmt, va_list ap)
{
	if (msg && len)
		vsnprintf(msg, len, fmt, ap);
	return err;
}

int pmrdma_fail_msg(char *msg, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmrdma_vfail(msg, len, err, fmt, ap);
	va_end(ap);
	return err;
}

/* why the last config call or pmrdma_map_new() of this thread failed */
static _Thread_local char nomap_msg[256];

const char *pmrdma_errormsg(const struct pmrdma_map *map)
{
	return map ? map->msg : nomap_msg;
}

int pmrdma_fail_nomap(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmrdma_vfail(nomap_msg, sizeof(nomap_msg), err, fmt, ap);
	va_end(ap);
	return err;
}

int pmrdma_fail(struct pmrdma_map *map, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pmrdma_vfail(map->msg, sizeof(map->msg), err, fmt, ap);
	va_end(ap);
	return err;
}
