/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A size on a command line, as pmrdmactl and pmlog take one: a number in
 * C's notation (decimal, 0x hex, 0 octal) with an optional K, M or G
 * (binary).  Header-only, for the installed programs; the library takes
 * numbers, not strings.
 */
#ifndef CLI_SIZE_H
#define CLI_SIZE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* 0 with *v, or -1: not a size, or one that does not fit 64 bits */
static inline int cli_parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	}
	if (shift)
		end++;
	if (*end || n > UINT64_MAX >> shift)
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

#endif /* CLI_SIZE_H */
