// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * pmlog - the seed's log writer on libpmrdma, as a command (pmlog.h).
 *
 * The synopsis and options are usage_text below, printed by --help.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_size.h"
#include "pmlog.h"

static const char usage_text[] =
"usage: pmlog COMMAND [OPTIONS]\n"
"\n"
"A circular log of records in persistent memory, local, remote or\n"
"replicated, through libpmrdma: each record durable before the log\n"
"pointer that covers it.\n"
"\n"
"commands:\n"
"  format                make an empty log\n"
"  write -n N            append N sample records (see pmlog.h), then say\n"
"                        how many and how fast; stops at the first failure,\n"
"                        saying how many were acknowledged\n"
"  recover               recover the log: the pointer, the records it\n"
"                        covers, and whether each is the sample it should\n"
"                        be (exit 1 if not)\n"
"  bench -n N            format, then N records in each mode, side by side\n"
"\n"
"where the log is (one of):\n"
"  -a, --addr ADDR -P, --port PORT [-k, --key-file F]\n"
"                        an export of the pmem_rdma target (or pmrdma\n"
"                        serve); the key file as the export's\n"
"  -p, --path PATH [-o OFFSET] [-l LENGTH] [-a ADDR -P PORT [-k F]]...\n"
"                        a devdax device or a file on fsdax (or that\n"
"                        range of it), and its replicas\n"
"options:\n"
"  -M, --metadata        with -p: the copies keep metadata (generations,\n"
"                        a write-intent bitmap; pmrdma(7), High\n"
"                        availability), as a primary keeps them\n"
"  -R, --auto-rejoin MS  with replicas: one that drops out rejoins on its\n"
"                        own, first tried after MS ms, then up to 8 times\n"
"                        longer apart\n"
"  -v, --verbose         write: a line 'acked N' once record N is durable\n"
"  -m, --mode MODE       pipelined (default), wait, verify\n"
"  -s, --slot BYTES      format: the slot size (default 256)\n"
"  -S, --slots N         format: that many slots (default: as many as fit)\n"
"  -q, --quiet           no progress line\n"
"  -h, --help            this text\n"
"\n"
"exit status: 0 done; 1 failed, with one line on stderr; 2 bad usage\n";

#define MAX_REMOTES	(PMRDMA_REPLICAS_MAX + 1)

struct opts {
	const char *path;
	uint64_t offset, length;
	unsigned int rejoin_ms;
	bool metadata, verbose;
	struct pmrdma_remote remote[MAX_REMOTES];
	uint8_t key[MAX_REMOTES][PMRDMA_KEY_MAX];
	unsigned int nremote;
	enum pmlog_mode mode;
	size_t slot;
	uint32_t nslots;
	uint64_t n;
	bool quiet;
};

static _Noreturn void bad_usage(const char *what)
{
	fprintf(stderr, "pmlog: %s\ntry 'pmlog --help'\n", what);
	exit(2);
}

/* opt's argument, a size (K, M, G) up to max, or exit 2 */
static uint64_t size_arg(const char *s, char opt, uint64_t max)
{
	uint64_t v;

	if (cli_parse_size(s, &v) || v > max) {
		fprintf(stderr, "pmlog: -%c: bad number '%s' (0..%llu, K, M or G after it)\ntry 'pmlog --help'\n",
			opt, s, (unsigned long long)max);
		exit(2);
	}
	return v;
}

static _Noreturn void fail(const char *what, int err, struct pmrdma_map *map)
{
	fprintf(stderr, "pmlog: %s: %s%s%s\n", what, strerror(-err),
		map && *pmrdma_errormsg(map) ? ": " : "",
		map ? pmrdma_errormsg(map) : "");
	exit(1);
}

static void read_key(struct opts *o, const char *path)
{
	struct pmrdma_remote *r;
	char msg[256];
	size_t len;

	if (!o->nremote)
		bad_usage("-k comes after the -a it is for");
	r = &o->remote[o->nremote - 1];
	if (pmrdma_key_read(path, o->key[o->nremote - 1], &len, msg,
			    sizeof(msg))) {
		fprintf(stderr, "pmlog: %s\n", msg);
		exit(1);
	}
	r->key = o->key[o->nremote - 1];
	r->key_len = len;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "metadata", no_argument, NULL, 'M' },
		{ "auto-rejoin", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "mode", required_argument, NULL, 'm' },
		{ "slot", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'S' },
		{ "records", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	o->slot = 256;
	while ((c = getopt_long(argc, argv, "a:P:k:p:o:l:MR:vm:s:S:n:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (o->nremote == MAX_REMOTES)
				bad_usage("too many -a");
			o->remote[o->nremote++].addr = optarg;
			break;
		case 'P':
			if (!o->nremote)
				bad_usage("-P comes after the -a it is for");
			o->remote[o->nremote - 1].port = size_arg(optarg, c, UINT16_MAX);
			break;
		case 'k':
			read_key(o, optarg);
			break;
		case 'p':
			o->path = optarg;
			break;
		case 'o':
			o->offset = size_arg(optarg, c, UINT64_MAX);
			break;
		case 'l':
			o->length = size_arg(optarg, c, UINT64_MAX);
			break;
		case 'M':
			o->metadata = true;
			break;
		case 'R':
			o->rejoin_ms = size_arg(optarg, c, UINT32_MAX / 8);
			if (!o->rejoin_ms)
				bad_usage("-R takes a number of ms, 1 or more");
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'm':
			if (!strcmp(optarg, "pipelined"))
				o->mode = PMLOG_PIPELINED;
			else if (!strcmp(optarg, "wait"))
				o->mode = PMLOG_WAIT;
			else if (!strcmp(optarg, "verify"))
				o->mode = PMLOG_VERIFY;
			else
				bad_usage("a mode is pipelined, wait or verify");
			break;
		case 's':
			o->slot = size_arg(optarg, c, SIZE_MAX);
			break;
		case 'S':
			o->nslots = size_arg(optarg, c, UINT32_MAX);
			break;
		case 'n':
			o->n = size_arg(optarg, c, UINT64_MAX);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			bad_usage("bad option");
		}
	}
	if (!o->path && o->nremote != 1)
		bad_usage("say where the log is: -a ADDR -P PORT, or -p PATH");
	if (!o->path && (o->offset || o->length || o->metadata))
		bad_usage("-o, -l and -M are for a log in -p PATH");
}

static struct pmrdma_map *map_open(struct opts *o)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	unsigned int i;
	int err;

	err = pmrdma_config_new(&cfg);
	if (!err && o->path)
		err = pmrdma_config_set_path(cfg, o->path);
	if (!err && (o->offset || o->length))
		err = pmrdma_config_set_range(cfg, o->offset, o->length);
	if (!err && o->metadata)
		err = pmrdma_config_set_metadata(cfg, true);
	if (!err && o->rejoin_ms)
		err = pmrdma_config_set_auto_rejoin(cfg, o->rejoin_ms,
						    8 * o->rejoin_ms);
	for (i = 0; !err && i < o->nremote; i++)
		err = o->path ? pmrdma_config_add_replica(cfg, &o->remote[i]) :
				pmrdma_config_set_remote(cfg, &o->remote[i]);
	/* the config has its copies */
	explicit_bzero(o->key, sizeof(o->key));
	if (err)
		fail("config", err, NULL);
	err = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	if (err) {
		fprintf(stderr, "pmlog: map: %s: %s\n", strerror(-err),
			pmrdma_errormsg(NULL));
		exit(1);
	}
	return map;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const mode_name[] = {
	[PMLOG_PIPELINED] = "pipelined", [PMLOG_WAIT] = "wait",
	[PMLOG_VERIFY] = "verify",
};

/* n records in mode: records/s, or exit at the first failure */
static double write_records(struct pmrdma_map *map, struct pmlog *log,
			    const struct opts *o, enum pmlog_mode mode)
{
	double t0 = now(), shown = t0, t;
	uint64_t i, first = pmlog_next(log);
	char buf[4096];
	int err;

	for (i = 0; i < o->n; i++) {
		size_t len = pmlog_sample(pmlog_next(log), buf,
					  pmlog_max_record(log) < sizeof(buf) ?
					  pmlog_max_record(log) : sizeof(buf));

		err = pmlog_append(log, buf, len, mode);
		if (err == -ENOLINK) {
			/* committed; the map goes on with the other replicas */
			fprintf(stderr, "pmlog: record %llu: %s\n",
				(unsigned long long)pmlog_next(log) - 1,
				pmrdma_errormsg(map));
			err = 0;
		}
		if (err) {
			if (!o->quiet)
				printf("\r%60s\r", "");
			printf("stopped at record %llu; records %llu..%llu acknowledged\n",
			       (unsigned long long)pmlog_next(log),
			       (unsigned long long)first,
			       (unsigned long long)pmlog_next(log) - 1);
			fflush(stdout);
			fail("append", err, map);
		}
		if (o->verbose) {
			printf("acked %llu\n",
			       (unsigned long long)pmlog_next(log) - 1);
			fflush(stdout);
		}
		t = now();
		if (!o->quiet && t - shown >= 0.5) {
			printf("\r  %s: %llu records, %.0f/s ", mode_name[mode],
			       (unsigned long long)i + 1, (i + 1) / (t - t0));
			fflush(stdout);
			shown = t;
		}
	}
	t = now() - t0;
	if (!o->quiet)
		printf("\r%60s\r", "");
	printf("  %s: %llu records in %.2f s, %.0f records/s\n",
	       mode_name[mode], (unsigned long long)o->n, t, o->n / t);
	return o->n / t;
}

static struct pmlog *log_open(struct pmrdma_map *map, struct pmlog_recovery *rec)
{
	struct pmlog *log;
	int err = pmlog_open(&log, map, rec);

	if (err == -EBADMSG)
		fail("open", err, NULL);
	return log;
}

static int cmd_recover(struct pmrdma_map *map)
{
	struct pmlog_recovery rec;
	struct pmlog *log = log_open(map, &rec);
	uint64_t n, wrong = 0;
	char want[4096];

	for (n = rec.first; n < rec.pointer; n++) {
		size_t len, wlen = pmlog_sample(n, want, pmlog_max_record(log) <
						sizeof(want) ? pmlog_max_record(log) :
						sizeof(want));
		const void *p = pmlog_record(log, n, &len);

		if (p && (len != wlen || memcmp(p, want, len)))
			wrong++;
	}
	printf("recovered: pointer %llu; records %llu..%llu covered, %llu whole, %llu torn or lost, %llu not the record written\n",
	       (unsigned long long)rec.pointer, (unsigned long long)rec.first,
	       (unsigned long long)(rec.pointer ? rec.pointer - 1 : 0),
	       (unsigned long long)rec.valid, (unsigned long long)rec.invalid,
	       (unsigned long long)wrong);
	pmlog_close(&log);
	return rec.invalid || wrong;
}

int main(int argc, char **argv)
{
	struct pmlog_recovery rec;
	struct opts o = { .mode = PMLOG_PIPELINED };
	struct pmrdma_map *map;
	struct pmlog *log;
	const char *cmd;
	double piped, waiting;
	int err, ret = 0;

	if (argc < 2)
		bad_usage("no command");
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	parse(argc - 1, argv + 1, &o);
	map = map_open(&o);
	if (!strcmp(cmd, "format") || !strcmp(cmd, "bench")) {
		err = pmlog_format(map, o.slot, o.nslots);
		if (err)
			fail("format", err, map);
	}
	if (!strcmp(cmd, "format")) {
		printf("formatted: %zu-byte slots\n", o.slot);
	} else if (!strcmp(cmd, "write")) {
		log = log_open(map, &rec);
		write_records(map, log, &o, o.mode);
		pmlog_close(&log);
	} else if (!strcmp(cmd, "bench")) {
		log = log_open(map, &rec);
		piped = write_records(map, log, &o, PMLOG_PIPELINED);
		waiting = write_records(map, log, &o, PMLOG_WAIT);
		printf("  pipelined / waiting: %.2f (the limit is 2.00: one round trip per record instead of two)\n",
		       piped / waiting);
		pmlog_close(&log);
	} else if (!strcmp(cmd, "recover")) {
		ret = cmd_recover(map);
	} else {
		bad_usage("unknown command");
	}
	pmrdma_map_delete(&map);
	return ret;
}
