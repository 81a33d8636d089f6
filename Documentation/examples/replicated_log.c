// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * replicated_log - a complete libpmrdma program: a log of fixed-size
 * records in local persistent memory, replicated to remote exports, and
 * its recovery from any one copy, local or remote (after losing the
 * primary's host, a replica is all there is).
 *
 *   replicated_log append PATH N ADDR PORT [PORT...]
 *	map the first LOG_SIZE bytes of PATH (a devdax device or a file on
 *	a DAX filesystem) with one replica per PORT at ADDR, each an export
 *	of LOG_SIZE bytes, and append N records after those already there
 *   replicated_log recover PATH
 *   replicated_log recover ADDR PORT
 *	read the log from that one copy and check every record
 *
 * Layout: [0, 8) the number of records, stored with pmrdma_atomic_write()
 * so that it is never torn and never lands before the records it covers;
 * [8, 16) a magic; record i at 4096 + 64 i: its CRC32C, then its number
 * and its text.  Build: cc -std=c11 replicated_log.c $(pkg-config --cflags
 * --libs libpmrdma).  Documentation/libpmrdma.rst walks through it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmrdma.h>

#define LOG_SIZE	(2UL << 20)
#define LOG_MAGIC	0x31676f6c616d7270ULL	/* "pmralog1" */
#define REC_OFF		4096
#define REC_SIZE	64
#define REC_MAX		((LOG_SIZE - REC_OFF) / REC_SIZE)

struct record {
	uint32_t crc;		/* of the rest of the record */
	uint32_t pad;
	uint64_t n;		/* the record's number */
	char text[48];
};

static int usage(void)
{
	fprintf(stderr, "usage: replicated_log append PATH N ADDR PORT [PORT...]\n"
			"       replicated_log recover PATH | ADDR PORT\n");
	return 2;
}

static int fail(const struct pmrdma_map *map, const char *what, int err)
{
	fprintf(stderr, "replicated_log: %s: %s: %s\n", what, strerror(-err),
		pmrdma_errormsg(map));
	return 1;
}

static uint32_t record_crc(const struct record *r)
{
	return pmrdma_crc32c((const char *)r + 4, sizeof(*r) - 4);
}

/* a flush's result: go on while the data is durable on enough copies */
static int durable(const struct pmrdma_map *map, int err, const char *what)
{
	if (err == -ENOLINK) {
		/* on the local copy and the replicas still in sync */
		fprintf(stderr, "replicated_log: %s: a replica dropped out (%s); going on\n",
			what, pmrdma_errormsg(map));
		return 0;
	}
	return err;
}

/* map what cfg names, or NULL with the reason on stderr */
static struct pmrdma_map *map_or_fail(struct pmrdma_config *cfg, int err)
{
	struct pmrdma_map *map = NULL;

	if (!err)
		err = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	if (err)
		fail(NULL, "map", err);
	return map;
}

static int append(const char *path, uint64_t n, const char *addr,
		  char **ports, int nports)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	struct pmrdma_range r;
	uint64_t *hdr, i;
	char *log;
	int err, k;

	err = pmrdma_config_new(&cfg);
	if (err)
		return fail(NULL, "config", err);
	err = pmrdma_config_set_path(cfg, path);
	if (!err)
		err = pmrdma_config_set_range(cfg, 0, LOG_SIZE);
	for (k = 0; !err && k < nports; k++) {
		struct pmrdma_remote rep = {
			.addr = addr, .port = (uint16_t)atoi(ports[k]),
		};

		err = pmrdma_config_add_replica(cfg, &rep);
	}
	/* made, the map has pushed the local copy to every replica */
	map = map_or_fail(cfg, err);
	if (!map)
		return 1;
	log = pmrdma_map_get_address(map);
	hdr = (uint64_t *)log;
	if (hdr[1] != LOG_MAGIC) {
		err = pmrdma_atomic_write(map, 0, 0);
		if (!err)
			err = pmrdma_atomic_write(map, 8, LOG_MAGIC);
		if (!err)
			err = durable(map, pmrdma_flush(map, log, 16), "format");
		if (err)
			return fail(map, "format", err);
	}
	if (hdr[0] > REC_MAX || n > REC_MAX - hdr[0]) {
		fprintf(stderr, "replicated_log: the log holds %llu records, room for %lu\n",
			(unsigned long long)hdr[0], REC_MAX);
		return 1;
	}
	for (i = hdr[0]; !err && n--; i++) {
		struct record *rec = (struct record *)(log + REC_OFF + i * REC_SIZE);

		memset(rec, 0, sizeof(*rec));
		rec->n = i;
		snprintf(rec->text, sizeof(rec->text), "record %llu",
			 (unsigned long long)i);
		rec->crc = record_crc(rec);
		/*
		 * The record, then the count over it, posted back to back
		 * with one wait: on each copy, the count's atomic write lands
		 * only after the record is durable there.
		 */
		r = (struct pmrdma_range){ rec, sizeof(*rec) };
		err = durable(map, pmrdma_flush_async(map, &r, 1), "append");
		if (!err)
			err = pmrdma_atomic_write(map, 0, i + 1);
		r = (struct pmrdma_range){ hdr, 8 };
		if (!err)
			err = durable(map, pmrdma_flush_async(map, &r, 1), "commit");
		if (!err)
			err = durable(map, pmrdma_drain(map), "commit");
	}
	if (err)
		return fail(map, "append", err);
	printf("replicated_log: %llu records\n", (unsigned long long)hdr[0]);
	pmrdma_map_delete(&map);
	return 0;
}

/*
 * Recovery from one copy: its header, then the records it covers, each
 * checked.  A remote copy is mapped with a zeroed view and read by ranges,
 * as a server would read a big export: only what the count covers.
 */
static int recover(const char *path, const char *addr, const char *port)
{
	struct pmrdma_remote src = { .addr = addr };
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	uint64_t *hdr, i, bad = 0;
	char *log;
	int err;

	err = pmrdma_config_new(&cfg);
	if (err)
		return fail(NULL, "config", err);
	if (path) {
		err = pmrdma_config_set_path(cfg, path);
		if (!err)
			err = pmrdma_config_set_range(cfg, 0, LOG_SIZE);
	} else {
		src.port = (uint16_t)atoi(port);
		err = pmrdma_config_set_remote(cfg, &src);
		if (!err)
			err = pmrdma_config_set_view_fill(cfg, PMRDMA_VIEW_ZEROED);
	}
	map = map_or_fail(cfg, err);
	if (!map)
		return 1;
	log = pmrdma_map_get_address(map);
	hdr = (uint64_t *)log;
	err = pmrdma_read(map, hdr, 16);
	if (err)
		return fail(map, "read the header", err);
	if (hdr[1] != LOG_MAGIC || hdr[0] > REC_MAX) {
		fprintf(stderr, "replicated_log: no log there\n");
		return 1;
	}
	err = pmrdma_read(map, log + REC_OFF, hdr[0] * REC_SIZE);
	if (err)
		return fail(map, "read the records", err);
	for (i = 0; i < hdr[0]; i++) {
		struct record *rec = (struct record *)(log + REC_OFF + i * REC_SIZE);

		if (rec->crc != record_crc(rec) || rec->n != i) {
			if (!bad++)
				fprintf(stderr, "replicated_log: record %llu is damaged\n",
					(unsigned long long)i);
		}
	}
	printf("replicated_log: %llu records, %llu damaged\n",
	       (unsigned long long)hdr[0], (unsigned long long)bad);
	pmrdma_map_delete(&map);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "append"))
		return append(argv[2], strtoull(argv[3], NULL, 0), argv[4],
			      argv + 5, argc - 5);
	if (argc == 3 && !strcmp(argv[1], "recover"))
		return recover(argv[2], NULL, NULL);
	if (argc == 4 && !strcmp(argv[1], "recover"))
		return recover(NULL, argv[2], argv[3]);
	return usage();
}
