/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What pmrdmactl's commands share: the exits with a message, the parsers
 * of numbers, keys and the common options.  pmrdmactl.c has them and the
 * commands of the kernel target; pmrdmactl_serve.c has serve, the
 * user-space target; pmrdmactl_copy.c status, promote and demote's check.
 */
#ifndef PMRDMACTL_H
#define PMRDMACTL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/pmem_rdma.h>

/* the command being run, for the messages ("" before one is chosen) */
extern const char *cmd_name;

/* exit 1 with one line on stderr */
_Noreturn void die(const char *fmt, ...);
/* exit 2 with what was wrong and where to look */
_Noreturn void bad_usage(const char *what);

/* N, NK, NM or NG, or exit 2 naming what */
uint64_t parse_size(const char *s, const char *what);
/* a number up to max, without a suffix, or exit 2 naming what */
uint32_t parse_u32(const char *s, const char *what, uint32_t max);
/* -p PATH [-o OFFSET] [-l LENGTH]: the range of a device a command names */
struct dev_range {
	const char *path;
	uint64_t offset, length;
	bool have_len;
};
#define DEV_RANGE_OPTIONS \
	{ "path", required_argument, NULL, 'p' }, \
	{ "offset", required_argument, NULL, 'o' }, \
	{ "length", required_argument, NULL, 'l' }
/* c's argument into r when c is -p, -o or -l: true; else false */
bool dev_range_opt(int c, struct dev_range *r);
/* -j, -h and anything unknown, the same for every command */
void common_opt(int c, bool *json);
/* the key: every byte of a file that only its owner may read */
void read_key(struct pmem_rdma_policy *p, const char *path);

/* a string as JSON, quoted and escaped */
void print_json_string(const char *s);

int cmd_serve(int argc, char **argv);

/* pmrdmactl_copy.c: a copy of a replicated map, for a cluster manager */
int cmd_status(int argc, char **argv);
int cmd_promote(int argc, char **argv);
/* demote's check before its export: exit 1 while a primary has the copy */
void copy_demote_check(const struct dev_range *r, bool force);

#endif /* PMRDMACTL_H */
