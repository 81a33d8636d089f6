// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libpmrdma: the one error channel.  Every layer of a map (pmrdma_map.c,
 * pmrdma_local.c, pmrdma_link.c) says why a call failed through
 * pmrdma_fail(), which pmrdma_errormsg() reads back; it lives apart so that
 * the lower layers need not call up into the map's file.  The message is
 * the thread's, as libpmem2's is, so that threads using one map each read
 * their own failure: it names the map it is about.  A config call
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

/* why this thread's last call on a map failed, and which map (its id) */
static _Thread_local char map_msg[256];
static _Thread_local uint64_t map_msg_id;

const char *pmrdma_errormsg(const struct pmrdma_map *map)
{
	if (!map)
		return nomap_msg;
	return map->id == map_msg_id ? map_msg : "";
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
	map_msg_id = map->id;
	pmrdma_vfail(map_msg, sizeof(map_msg), err, fmt, ap);
	va_end(ap);
	return err;
}
