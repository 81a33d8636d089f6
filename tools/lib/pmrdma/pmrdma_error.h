/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's one way to say why a call failed: a line into the caller's
 * message buffer, and the -errno handed back.
 */
#ifndef PMRDMA_ERROR_H
#define PMRDMA_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* fmt into msg (nothing when msg is NULL or len 0); returns err */
int pmrdma_vfail(char *msg, size_t len, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
int pmrdma_fail_msg(char *msg, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
