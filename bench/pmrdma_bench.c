// SPDX-License-Identifier: GPL-2.0
/*
 * pmrdma_bench - the seed's claims measured side by side through
 * libpmrdma, run by scripts/bench on the initiator.  Each section
 * interleaves its methods per iteration, so that drift hits all alike, and
 * prints a Markdown table of medians and 99th percentiles with the ratios
 * in their own column; every figure also goes to the CSV file as
 * "section,case,size,median_us,p99_us,n".  On the delayed wire (-w
 * delayed) a goal line follows the figures it judges:
 * "GOAL name (label): measured X, goal Y, met|not met".
 *
 * Usage: pmrdma_bench -a ADDR -t LABEL [-n ITERS] [-c CSV]
 *   ADDR       the target: the kernel exports and pmrdmactl serve on the
 *              ports of bench/bench.conf - scripts/bench-target makes them
 *   -l DAX     a local devdax device for the replicated maps
 *   -K FILE    the data key of the keyed export (section 13)
 *   -s LIST    only these sections, by name, comma-separated (see sections[])
 *
 * The ports and the goals' thresholds come from bench/bench.conf, the one
 * table, as build/bench/bench_conf.h.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_conf.h"
#include "pmlog.h"
#include "pmrdma.h"
#include "pmrdma_conn.h"

#define MAX_ITERS	2000

static const char *addr, *label, *dax, *data_key_path;
static unsigned int iters = 100;
static FILE *csv;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static _Noreturn void die_map(struct pmrdma_map *map, const char *what,
			      int err)
{
	fprintf(stderr, "pmrdma_bench: %s: %s: %s\n", what, strerror(-err),
		pmrdma_errormsg(map));
	exit(1);
}

static _Noreturn void die(const char *what, int err)
{
	die_map(NULL, what, err);
}

/* what a remote map asks of its config beyond the default; zero: nothing */
struct map_opts {
	uint64_t off, len;		/* a window; len 0: all of the export */
	unsigned int lanes;		/* 0: the default */
	bool no_group_commit;
	const void *key;		/* a data key of key_len bytes */
	size_t key_len;
	bool tclass_set;		/* the connections' traffic class */
	uint8_t tclass;
	uint32_t rate_kbps;		/* each connection's rate limit */
};

/* a map of the export at port with method m, as o says */
static struct pmrdma_map *map_remote_opts(uint16_t port, enum pmrdma_method m,
					  const struct map_opts *o)
{
	struct pmrdma_remote r = { .addr = addr, .port = port, .method = m };
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	int err;

	err = pmrdma_config_new(&cfg);
	if (!err)
		err = pmrdma_config_set_remote(cfg, &r);
	if (!err && o->key)
		err = pmrdma_config_set_data_key(cfg, o->key, o->key_len);
	if (!err && o->len)
		err = pmrdma_config_set_range(cfg, o->off, o->len);
	if (!err && o->lanes)
		err = pmrdma_config_set_lanes(cfg, o->lanes);
	if (!err)
		err = pmrdma_config_set_group_commit(cfg, !o->no_group_commit);
	if (!err && o->tclass_set)
		err = pmrdma_config_set_traffic_class(cfg, o->tclass);
	if (!err && o->rate_kbps)
		err = pmrdma_config_set_rate(cfg, o->rate_kbps);
	if (!err)
		err = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	if (err)
		die("map", err);
	return map;
}

/*
 * A map of the export at port: [off, off + len) of it (len 0: all of it),
 * with lanes lanes (0: the default), method m and group commit or not.
 */
static struct pmrdma_map *map_remote_group(uint16_t port,
					   enum pmrdma_method m,
					   uint64_t off, uint64_t len,
					   unsigned int lanes, bool group)
{
	struct map_opts o = {
		.off = off, .len = len, .lanes = lanes,
		.no_group_commit = !group,
	};

	return map_remote_opts(port, m, &o);
}

static struct pmrdma_map *map_remote_with(uint16_t port, enum pmrdma_method m,
					  uint64_t off, uint64_t len,
					  unsigned int lanes)
{
	return map_remote_group(port, m, off, len, lanes, true);
}

static struct pmrdma_map *map_remote(uint16_t port, enum pmrdma_method m)
{
	return map_remote_with(port, m, 0, 0, 0);
}

/* a config of [off, off + len) of the local devdax: 0, or *cfg NULL */
static int dax_config(struct pmrdma_config **cfg, uint64_t off, uint64_t len)
{
	int err = pmrdma_config_new(cfg);

	if (err)
		return err;
	err = pmrdma_config_set_path(*cfg, dax);
	if (!err)
		err = pmrdma_config_set_range(*cfg, off, len);
	if (err)
		pmrdma_config_delete(cfg);
	return err;
}

/* a replicated map: [off, off + size) of the local devdax, n replicas */
struct replicated {
	unsigned int n;
	uint64_t off;
	size_t size;
	uint16_t port;		/* the first replica's export; the next on */
	bool metadata;		/* in each copy */
	bool discard;		/* replica 0 is given all of the view */
	uint64_t rate;		/* the resync's bytes a second; 0: unpaced */
};

static int map_replicated_try(struct pmrdma_map **map,
			      const struct replicated *o)
{
	struct pmrdma_config *cfg;
	unsigned int i;
	int err = dax_config(&cfg, o->off, o->size);

	if (!err)
		err = pmrdma_config_set_metadata(cfg, o->metadata);
	for (i = 0; !err && i < o->n; i++) {
		struct pmrdma_remote r = { .addr = addr, .port = o->port + i };

		err = pmrdma_config_add_replica(cfg, &r);
	}
	if (!err && o->discard)
		err = pmrdma_config_discard_replica(cfg, 0);
	if (!err && o->rate)
		err = pmrdma_config_set_resync_rate(cfg, o->rate);
	if (!err)
		err = pmrdma_map_new(map, cfg);
	pmrdma_config_delete(&cfg);
	return err;
}

static struct pmrdma_map *map_replicated_at(const struct replicated *o)
{
	struct pmrdma_map *map;
	int err = map_replicated_try(&map, o);

	if (err)
		die("replicated map", err);
	return map;
}

static struct pmrdma_map *map_replicated(unsigned int n, size_t size)
{
	return map_replicated_at(&(struct replicated){
		.n = n, .size = size, .port = PORT_REPLICA });
}

/* ---- statistics ---- */

struct series {
	const char *name;
	double v[MAX_ITERS];
	unsigned int n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(struct series *s, double q)
{
	unsigned int i;

	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	i = (unsigned int)(q * (s->n - 1) + 0.5);
	return s->v[i];
}

/* one table row: each series' median and p99, and median ratios to the first */
static void row(const char *section, size_t size, struct series *s,
		unsigned int n, double *ratio)
{
	double m0 = quantile(&s[0], 0.5);
	unsigned int i;

	printf("| %zu |", size);
	for (i = 0; i < n; i++) {
		double m = quantile(&s[i], 0.5), p = quantile(&s[i], 0.99);

		printf(" %.1f / %.1f |", m, p);
		fprintf(csv, "%s,%s,%s,%zu,%.2f,%.2f,%u\n", label, section,
			s[i].name, size, m, p, s[i].n);
	}
	for (i = 1; i < n; i++) {
		ratio[i] = m0 / quantile(&s[i], 0.5);
		printf(" %.2f |", ratio[i]);
	}
	printf("\n");
}

static void header(const char *title, struct series *s, unsigned int n)
{
	unsigned int i;

	printf("\n### %s (%s)\n\nmedian / p99 in us, %u iterations\n\n| bytes |",
	       title, label, iters);
	for (i = 0; i < n; i++)
		printf(" %s |", s[i].name);
	for (i = 1; i < n; i++)
		printf(" %s/%s |", s[0].name, s[i].name);
	printf("\n|---|");
	for (i = 0; i < 2 * n - 1; i++)
		printf("---|");
	printf("\n");
}

/*
 * Goals only on the delayed wire (-w delayed): there the round trip
 * dominates and a ratio measures the design.  On the bare wire and on
 * loopback, under TCG, a ratio measures the emulator's CPU and moves from
 * run to run, so those runs print the figures alone.
 */
static bool with_goals;
/* the bare wire (-w wire): where a goal on the CPU's cost is judged */
static bool bare_wire;

static void goal_if(bool judged, const char *name, double measured,
		    const char *op, double want)
{
	bool met = op[0] == '>' ? measured >= want : measured <= want;

	if (!judged)
		return;
	printf("GOAL %s (%s): measured %.2f, goal %s %.2f, %s\n", name, label,
	       measured, op, want, met ? "met" : "not met");
}

static void goal(const char *name, double measured, const char *op,
		 double want)
{
	goal_if(with_goals, name, measured, op, want);
}

/* ---- 1. remote persistence methods ---- */

static const size_t sizes[] = { 8, 256, 4096, 65536, 1 << 20 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))

/*
 * pmrdma_flush() of the first nsizes sizes on n maps taking turns, a row
 * a size; the ratios of the 4 KiB row into r4k
 */
static void flush_interleaved(const char *section, struct pmrdma_map **m,
			      struct series *s, unsigned int n,
			      unsigned int nsizes, double *r4k)
{
	double ratio[4];
	unsigned int z, it, k;

	for (z = 0; z < nsizes; z++) {
		for (k = 0; k < n; k++)
			s[k].n = 0;
		for (it = 0; it < iters; it++) {
			for (k = 0; k < n; k++) {
				char *v = pmrdma_map_get_address(m[k]);
				double t0;
				int err;

				memset(v, it, sizes[z]);
				t0 = now_us();
				err = pmrdma_flush(m[k], v, sizes[z]);
				s[k].v[s[k].n++] = now_us() - t0;
				if (err)
					die_map(m[k], "flush", err);
			}
		}
		row(section, sizes[z], s, n, ratio);
		if (sizes[z] == 4096)
			memcpy(r4k, ratio, n * sizeof(*r4k));
	}
}

static void methods(void)
{
	static struct series s[3] = {
		{ .name = "FLUSH" }, { .name = "APM" }, { .name = "GPSPM" },
	};
	struct pmrdma_map *m[3];
	double r4k[3] = { 0 };
	unsigned int k;

	m[0] = map_remote(PORT_FLUSH, PMRDMA_METHOD_FLUSH);
	m[1] = map_remote(PORT_FLUSH, PMRDMA_METHOD_APM);
	m[2] = map_remote(PORT_SERVE, PMRDMA_METHOD_GPSPM);
	header("1. remote persistence: WRITE + FLUSH vs APM vs GPSPM", s, 3);
	flush_interleaved("methods", m, s, 3, NSIZES, r4k);
	/* FLUSH's median / APM's */
	goal("FLUSH/APM at 4 KiB", r4k[1], "<=", GOAL_FLUSH_APM_MAX);
	for (k = 0; k < 3; k++)
		pmrdma_map_delete(&m[k]);
}

/* ---- 2. the log writer ---- */

static void log_writer(void)
{
	struct pmrdma_map *map = map_remote(PORT_FLUSH, PMRDMA_METHOD_FLUSH);
	double t[2] = { 0, 0 }, t0;
	uint64_t recs[2] = { 0, 0 };
	struct pmlog_recovery rec;
	struct pmlog *log;
	unsigned int round, i, mode;
	char buf[256];
	int err;

	err = pmlog_format(map, 256, 0);
	if (!err)
		err = pmlog_open(&log, map, &rec);
	if (err)
		die("log", err);
	/* blocks of 20 records, the two modes taking turns */
	for (round = 0; round < iters; round++) {
		for (mode = 0; mode < 2; mode++) {
			t0 = now_us();
			for (i = 0; i < 20; i++) {
				size_t len = pmlog_sample(pmlog_next(log), buf,
							  200);

				err = pmlog_append(log, buf, len,
						   mode ? PMLOG_WAIT : PMLOG_PIPELINED);
				if (err)
					die("append", err);
			}
			t[mode] += now_us() - t0;
			recs[mode] += 20;
		}
	}
	printf("\n### 2. the log writer through the library (%s)\n\n", label);
	printf("| mode | records | records/s |\n|---|---|---|\n");
	printf("| pipelined | %llu | %.0f |\n| waiting after each FLUSH | %llu | %.0f |\n",
	       (unsigned long long)recs[0], recs[0] / t[0] * 1e6,
	       (unsigned long long)recs[1], recs[1] / t[1] * 1e6);
	printf("\npipelined / waiting: %.2f (the limit is 2.00)\n",
	       (recs[0] / t[0]) / (recs[1] / t[1]));
	fprintf(csv, "%s,log,pipelined,256,%.2f,,%llu\n", label, t[0] / recs[0],
		(unsigned long long)recs[0]);
	fprintf(csv, "%s,log,waiting,256,%.2f,,%llu\n", label, t[1] / recs[1],
		(unsigned long long)recs[1]);
	goal("log writer waiting/pipelined", (recs[0] / t[0]) / (recs[1] / t[1]),
	     ">=", GOAL_LOG_MIN);
	pmlog_close(&log);
	pmrdma_map_delete(&map);
}

/* ---- 3. integrity: flush-and-verify vs FLUSH then VERIFY vs READ-back ---- */

/* the wire's bytes both ways, from the netdev under rxe0 */
static unsigned long long wire_bytes(void)
{
	char path[256], ndev[64];
	unsigned long long v, sum = 0;
	static const char *const dir[] = { "rx_bytes", "tx_bytes" };
	FILE *f;
	int i;

	f = fopen("/sys/class/infiniband/rxe0/ports/1/gid_attrs/ndevs/0", "r");
	if (!f || !fgets(ndev, sizeof(ndev), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	ndev[strcspn(ndev, "\n")] = '\0';
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
			 ndev, dir[i]);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &v) == 1)
			sum += v;
		if (f)
			fclose(f);
	}
	return sum;
}

/* one signaled request on c and its completion */
static void post_wait(struct pmrdma_conn *c, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;

	wr->send_flags |= IBV_SEND_SIGNALED;
	if (ibv_post_send(pmrdma_conn_qp(c), wr, &bad) ||
	    pmrdma_conn_wait_wc(c, &wc, 30000) != 1 || wc.status)
		die("raw request", -EIO);
}

/* the requests of section 3 on the raw connection c */
struct raw {
	struct pmrdma_conn c;
	struct ibv_mr *src_mr, *back_mr, *dig_mr;
	char *src, *back;
	uint8_t digest[PMRDMA_DIGEST_MAX];
};

static void raw_rdma(struct raw *r, enum ibv_wr_opcode op, char *buf,
		     struct ibv_mr *mr, size_t len)
{
	struct ibv_sge sge = { .addr = (uintptr_t)buf, .length = len, .lkey = mr->lkey };
	struct ibv_send_wr wr = {
		.opcode = op, .sg_list = &sge, .num_sge = 1,
		.wr.rdma = { .remote_addr = r->c.r.iova, .rkey = r->c.r.rkey },
	};

	post_wait(&r->c, &wr);
}

static void raw_flush(struct raw *r, size_t len)
{
	struct ibv_send_wr wr = { 0 };
	struct ibv_sge sge;

	pmrdma_wr_flush(&wr, &sge, r->c.r.rkey, r->c.r.iova, len,
			RXE_FLUSH_POST_SEND_FETH(RXE_FLUSH_TYPE_PERSISTENT,
						 RXE_FLUSH_LEVEL_RANGE));
	post_wait(&r->c, &wr);
}

/* VERIFY (XXH64), with flush set a flush-and-verify; checks the digest */
static void raw_verify(struct raw *r, size_t len, bool flush)
{
	struct ibv_send_wr wr = { 0 };
	uint8_t want[PMRDMA_DIGEST_MAX];
	struct ibv_sge sge;

	pmrdma_wr_verify(&wr, &sge, r->c.r.rkey, r->c.r.iova, len,
			 RXE_FLUSH_VERIFY_WORD(PMRDMA_VERIFY_ALG_XXH64,
					       flush ? RXE_FLUSH_VERIFY_FLUSH(RXE_FLUSH_TYPE_PERSISTENT) : 0),
			 r->digest, 8, r->dig_mr->lkey);
	post_wait(&r->c, &wr);
	pmrdma_digest(PMRDMA_VERIFY_ALG_XXH64, r->src, len, want);
	if (memcmp(want, r->digest, 8))
		die("VERIFY's digest differs", -EBADMSG);
}

static void integrity(void)
{
	static struct series s[5] = {
		{ .name = "FLUSH" }, { .name = "flush+verify" },
		{ .name = "FLUSH,VERIFY" }, { .name = "VERIFY" },
		{ .name = "READ-back" },
	};
	struct sockaddr_storage ss;
	struct pmrdma_conn_params p = { .dst = (struct sockaddr *)&ss };
	unsigned long long bytes[5], b0;
	double ratio[5], t0, m[5];
	unsigned int it, k, z, i;
	char name[80];
	static struct raw r;
	size_t len;

	if (pmrdma_resolve(addr, PORT_FLUSH, &ss) || pmrdma_conn_open(&r.c, &p))
		die("raw connection", -EIO);
	r.src = malloc(1 << 20);
	r.back = malloc(1 << 20);
	if (!r.src || !r.back)
		die("malloc", -ENOMEM);
	r.src_mr = ibv_reg_mr(r.c.pd, r.src, 1 << 20, IBV_ACCESS_LOCAL_WRITE);
	r.back_mr = ibv_reg_mr(r.c.pd, r.back, 1 << 20, IBV_ACCESS_LOCAL_WRITE);
	r.dig_mr = ibv_reg_mr(r.c.pd, r.digest, sizeof(r.digest),
			      IBV_ACCESS_LOCAL_WRITE);
	if (!r.src_mr || !r.back_mr || !r.dig_mr)
		die("ibv_reg_mr", -ENOMEM);
	header("3. integrity, on data already WRITTEN: a FLUSH; a flush-and-verify; a FLUSH, its answer, then a VERIFY; a VERIFY; a READ back and compare (XXH64)",
	       s, 5);
	for (z = 2; z < NSIZES; z++) {
		len = sizes[z];
		memset(bytes, 0, sizeof(bytes));
		for (k = 0; k < 5; k++)
			s[k].n = 0;
		for (it = 0; it < iters; it++) {
			for (k = 0; k < 5; k++) {
				/* new data, written and not yet flushed */
				memset(r.src, it * 5 + k, len);
				raw_rdma(&r, IBV_WR_RDMA_WRITE, r.src, r.src_mr, len);
				b0 = wire_bytes();
				t0 = now_us();
				switch (k) {
				case 0:
					raw_flush(&r, len);
					break;
				case 1:
					raw_verify(&r, len, true);
					break;
				case 2:
					raw_flush(&r, len);
					raw_verify(&r, len, false);
					break;
				case 3:
					raw_verify(&r, len, false);
					break;
				default:
					raw_rdma(&r, IBV_WR_RDMA_READ, r.back, r.back_mr, len);
					if (memcmp(r.back, r.src, len))
						die("READ-back differs", -EBADMSG);
				}
				s[k].v[s[k].n++] = now_us() - t0;
				bytes[k] += wire_bytes() - b0;
			}
		}
		row("integrity", len, s, 5, ratio);
		for (i = 0; i < 5; i++)
			m[i] = quantile(&s[i], 0.5);
		/* the round-trip claims where hashing costs little, and at 1 MiB */
		if (len == 4096 || len == (1 << 20)) {
			snprintf(name, sizeof(name), "flush-and-verify / one FLUSH at %s",
				 len == 4096 ? "4 KiB" : "1 MiB");
			goal(name, m[1] / m[0], "<=", GOAL_FV_FLUSH_MAX);
			snprintf(name, sizeof(name),
				 "(FLUSH then VERIFY) / flush-and-verify at %s",
				 len == 4096 ? "4 KiB" : "1 MiB");
			goal(name, m[2] / m[1], ">=", GOAL_FV_SPEEDUP_MIN);
		}
		if (len != (1 << 20))
			continue;
		printf("\nbytes on the wire per 1 MiB operation (the netdev's counters, both ways): FLUSH %llu, flush+verify %llu, FLUSH,VERIFY %llu, VERIFY %llu, READ-back %llu\n",
		       bytes[0] / iters, bytes[1] / iters, bytes[2] / iters,
		       bytes[3] / iters, bytes[4] / iters);
		goal("READ-back-and-compare / VERIFY time at 1 MiB",
		     m[4] / m[3], ">=", GOAL_READBACK_TIME_MIN);
		if (bytes[3] && bytes[4])
			goal("READ-back / VERIFY bytes on the wire at 1 MiB",
			     (double)bytes[4] / bytes[3], ">=",
			     GOAL_READBACK_BYTES_MIN);
		else
			printf("(no bytes counted on this netdev: loopback)\n");
	}
	ibv_dereg_mr(r.src_mr);
	ibv_dereg_mr(r.back_mr);
	ibv_dereg_mr(r.dig_mr);
	pmrdma_conn_close(&r.c);
	free(r.src);
	free(r.back);
}

/* ---- 4. FLUSH cost vs range size; range vs whole MR; n ranges vs n calls ---- */

static void raw_open(struct pmrdma_conn *c, uint16_t port)
{
	struct sockaddr_storage ss;
	struct pmrdma_conn_params p = { .dst = (struct sockaddr *)&ss };

	if (pmrdma_resolve(addr, port, &ss) || pmrdma_conn_open(c, &p))
		die("raw connection", -EIO);
}

/* one FLUSH of [0, len) at level (RXE_FLUSH_LEVEL_*) on c, waited for */
static double raw_flush_level(struct pmrdma_conn *c, size_t len, int level)
{
	struct ibv_send_wr wr = { 0 };
	struct ibv_sge sge;
	double t0 = now_us();

	pmrdma_wr_flush(&wr, &sge, c->r.rkey, c->r.iova, len,
			RXE_FLUSH_POST_SEND_FETH(RXE_FLUSH_TYPE_PERSISTENT, level));
	post_wait(c, &wr);
	return now_us() - t0;
}

static void flush_cost(void)
{
	static const size_t big[] = { 4096, 65536, 1 << 20, 16 << 20, 64 << 20 };
	static struct series s[2] = { { .name = "FLUSH range" }, { .name = "4 KiB" } };
	static struct series sel[2] = { { .name = "range 4 KiB" }, { .name = "whole MR" } };
	static struct series nr[2] = { { .name = "one call" }, { .name = "64 calls" } };
	struct pmrdma_range r[64];
	struct pmrdma_map *map;
	struct pmrdma_conn c;
	double ratio[2];
	unsigned int z, it, i;
	char *v;

	raw_open(&c, PORT_BIG);
	header("4a. FLUSH to persistence of [0, bytes) of a 64 MiB export (the second column: 4 KiB, taking turns)",
	       s, 2);
	for (z = 0; z < sizeof(big) / sizeof(big[0]); z++) {
		s[0].n = s[1].n = 0;
		for (it = 0; it < iters; it++) {
			s[0].v[s[0].n++] = raw_flush_level(&c, big[z], RXE_FLUSH_LEVEL_RANGE);
			s[1].v[s[1].n++] = raw_flush_level(&c, 4096, RXE_FLUSH_LEVEL_RANGE);
		}
		row("flush-size", big[z], s, 2, ratio);
	}
	header("4b. selectivity: a FLUSH of 4 KiB vs a FLUSH of the whole 64 MiB MR", sel, 2);
	sel[0].n = sel[1].n = 0;
	for (it = 0; it < iters; it++) {
		sel[0].v[sel[0].n++] = raw_flush_level(&c, 4096, RXE_FLUSH_LEVEL_RANGE);
		sel[1].v[sel[1].n++] = raw_flush_level(&c, 4096, RXE_FLUSH_LEVEL_MR);
	}
	row("selectivity", 4096, sel, 2, ratio);
	pmrdma_conn_close(&c);

	map = map_remote(PORT_FLUSH, PMRDMA_METHOD_FLUSH);
	v = pmrdma_map_get_address(map);
	for (i = 0; i < 64; i++)
		r[i] = (struct pmrdma_range){ v + i * 8192, 64 };
	header("4c. the library: 64 ranges of 64 bytes in one pmrdma_flush_ranges() vs 64 pmrdma_flush() calls",
	       nr, 2);
	nr[0].n = nr[1].n = 0;
	for (it = 0; it < iters; it++) {
		double t0 = now_us();

		if (pmrdma_flush_ranges(map, r, 64))
			die("flush ranges", -EIO);
		nr[0].v[nr[0].n++] = now_us() - t0;
		t0 = now_us();
		for (i = 0; i < 64; i++)
			if (pmrdma_flush(map, r[i].addr, r[i].len))
				die("flush", -EIO);
		nr[1].v[nr[1].n++] = now_us() - t0;
	}
	row("n-ranges", 64, nr, 2, ratio);
	pmrdma_map_delete(&map);
}

/* ---- 5. the library vs hand-written verbs; replicas ---- */

static void overhead(void)
{
	static struct series s[2] = { { .name = "library" }, { .name = "verbs" } };
	struct pmrdma_map *map = map_remote(PORT_FLUSH, PMRDMA_METHOD_FLUSH);
	struct sockaddr_storage ss;
	struct pmrdma_conn_params p = { .dst = (struct sockaddr *)&ss };
	static char buf[65536];
	struct pmrdma_conn c;
	struct ibv_mr *mr;
	double ratio[2], t0, lib4k = 0;
	char *v = pmrdma_map_get_address(map);
	unsigned int it, z;

	if (pmrdma_resolve(addr, PORT_FLUSH, &ss) || pmrdma_conn_open(&c, &p))
		die("raw connection", -EIO);
	mr = ibv_reg_mr(c.pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		die("ibv_reg_mr", -ENOMEM);
	header("5a. pmrdma_flush() vs the same WRITE + FLUSH in hand-written verbs", s, 2);
	for (z = 0; z < 4; z++) {
		size_t len = sizes[z];

		s[0].n = s[1].n = 0;
		for (it = 0; it < iters; it++) {
			struct ibv_sge sw = {
				.addr = (uintptr_t)buf, .length = len, .lkey = mr->lkey,
			}, sf;
			struct ibv_send_wr w = {
				.opcode = IBV_WR_RDMA_WRITE, .sg_list = &sw, .num_sge = 1,
			}, f = { 0 };

			memset(v, it, len);
			t0 = now_us();
			if (pmrdma_flush(map, v, len))
				die("flush", -EIO);
			s[0].v[s[0].n++] = now_us() - t0;

			memset(buf, it, len);
			t0 = now_us();
			w.wr.rdma.remote_addr = c.r.iova;
			w.wr.rdma.rkey = c.r.rkey;
			pmrdma_wr_flush(&f, &sf, c.r.rkey, c.r.iova, len,
					RXE_FLUSH_POST_SEND_FETH(RXE_FLUSH_TYPE_PERSISTENT,
								 RXE_FLUSH_LEVEL_RANGE));
			w.next = &f;
			post_wait(&c, &w);
			s[1].v[s[1].n++] = now_us() - t0;
		}
		row("overhead", len, s, 2, ratio);
		if (len == 4096)
			lib4k = ratio[1];	/* the library's median / verbs' */
	}
	goal("library / hand-written verbs at 4 KiB", lib4k, "<=",
	     GOAL_LIBRARY_MAX);
	ibv_dereg_mr(mr);
	pmrdma_conn_close(&c);
	pmrdma_map_delete(&map);
}

static void replicas(void)
{
	static struct series s[3] = {
		{ .name = "remote" }, { .name = "1 replica" }, { .name = "2 replicas" },
	};
	struct pmrdma_map *m[3];
	double r4k[3] = { 0, 0, 1 };
	unsigned int k;

	if (!dax) {
		printf("\n### 5b. replicated maps (%s): skipped, no local devdax (-l)\n",
		       label);
		return;
	}
	m[0] = map_remote(PORT_REPLICA, PMRDMA_METHOD_FLUSH);
	m[1] = map_replicated(1, pmrdma_map_get_size(m[0]));
	m[2] = map_replicated(2, pmrdma_map_get_size(m[0]));
	header("5b. one remote map vs a local map with 1 and 2 replicas", s, 3);
	flush_interleaved("replicas", m, s, 3, 4, r4k);
	/* 2 replicas' median / the remote map's */
	goal("2 replicas / one remote map at 4 KiB", 1 / r4k[2], "<=",
	     GOAL_REPLICAS_MAX);
	for (k = 0; k < 3; k++)
		pmrdma_map_delete(&m[k]);
}

/*
 * The write-intent bitmap's cost: a map with metadata makes a region's
 * bit durable in local pmem before the first flush that dirties it, and
 * rewrites the bitmap at most once a second; flushing the same 4 KiB over
 * and over, that is what the flush pays.  Each map has its own local
 * range and replica, so neither's content is the other's.
 */
static void bitmap_cost(void)
{
	static struct series s[2] = {
		{ .name = "no metadata" }, { .name = "metadata" },
	};
	struct pmrdma_map *m[2];
	double r4k[2] = { 0 };
	size_t size;

	if (!dax) {
		printf("\n### 5c. the write-intent bitmap (%s): skipped, no local devdax (-l)\n",
		       label);
		return;
	}
	m[0] = map_remote(PORT_REPLICA, PMRDMA_METHOD_FLUSH);
	size = pmrdma_map_get_size(m[0]);
	pmrdma_map_delete(&m[0]);
	m[0] = map_replicated_at(&(struct replicated){
		.n = 1, .size = size, .port = PORT_REPLICA });
	m[1] = map_replicated_at(&(struct replicated){
		.n = 1, .off = size, .size = size, .port = PORT_REPLICA + 1,
		.metadata = true });
	header("5c. a replicated map's flush without and with the write-intent bitmap", s, 2);
	flush_interleaved("bitmap", m, s, 2, 4, r4k);
	/* with the bitmap's median / without */
	goal("write-intent bitmap on / off at 4 KiB", 1 / r4k[1], "<=",
	     GOAL_BITMAP_MAX);
	pmrdma_map_delete(&m[0]);
	pmrdma_map_delete(&m[1]);
}

/*
 * A resync's cost against what it copies, as DRBD's bitmap earns its
 * keep: a map with metadata of 64 MiB (the PORT_BIG export its replica)
 * opened with nothing to resync, with 1 % of its regions dirty in the
 * local copy's bitmap (every hundredth, set there by hand, as a primary
 * that crashed leaves them), and with the replica discarded (all of it).
 * What the first open takes - connecting, judging - is taken from both.
 */
#define RESYNC_OFF	(8UL << 20)	/* the local copy, on devdax */
#define RESYNC_LEN	(64UL << 20)	/* PORT_BIG's export */
#define RESYNC_ITERS	8

/* open a map with metadata of the 64 MiB copies: us; its resync's bytes */
static double resync_open(bool discard, uint64_t *total)
{
	const struct replicated o = {
		.n = 1, .off = RESYNC_OFF, .size = RESYNC_LEN, .port = PORT_BIG,
		.metadata = true, .discard = discard,
	};
	struct pmrdma_replica_status st;
	struct pmrdma_map *map;
	double t0, t;
	int err;

	t0 = now_us();
	err = map_replicated_try(&map, &o);
	t = now_us() - t0;
	if (err)
		die("a map with metadata of 64 MiB", err);
	if (pmrdma_replica_status(map, 0, &st))
		die("replica status", -EIO);
	*total = st.resync_total;
	pmrdma_map_delete(&map);
	return t;
}

/* every hundredth region dirty in the local copy's bitmap: how many */
static uint64_t dirty_one_percent(void)
{
	struct pmrdma_metadata md;
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	uint64_t *bits, r, n = 0, regions;
	int err;

	err = dax_config(&cfg, RESYNC_OFF, RESYNC_LEN);
	if (!err)
		err = pmrdma_metadata_read(cfg, &md);
	/* the copy's raw bytes: a map without metadata */
	if (!err)
		err = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	if (err)
		die("the 64 MiB copy's bitmap", err);
	bits = (uint64_t *)((char *)pmrdma_map_get_address(map) + md.view_size);
	regions = md.view_size / md.region_size;
	for (r = 0; r < regions; r += 100, n++)
		bits[r / 64] |= htole64(1ULL << (r % 64));
	if (pmrdma_flush(map, bits, (regions + 63) / 64 * 8))
		die("flush the bitmap", -EIO);
	pmrdma_map_delete(&map);
	return n * md.region_size;
}

static void resync_cost(void)
{
	static struct series s[3] = {
		{ .name = "nothing" }, { .name = "1 % dirty" }, { .name = "all" },
	};
	uint64_t total, want;
	double ratio[3], m[3];
	unsigned int it, n = iters < RESYNC_ITERS ? iters : RESYNC_ITERS, k;

	if (!dax) {
		printf("\n### 5d. resync (%s): skipped, no local devdax (-l)\n",
		       label);
		return;
	}
	header("5d. opening a map with metadata of 64 MiB: nothing to resync, 1 % of it, all of it", s, 3);
	s[0].n = s[1].n = s[2].n = 0;
	for (it = 0; it < n; it++) {
		s[2].v[s[2].n++] = resync_open(true, &total);
		if (total < RESYNC_LEN / 2)
			die("a full resync copied little", -EIO);
		s[0].v[s[0].n++] = resync_open(false, &total);
		if (total)
			die("a resync with nothing dirty copied", -EIO);
		want = dirty_one_percent();
		s[1].v[s[1].n++] = resync_open(false, &total);
		if (total != want)
			die("the resync of 1 % copied another amount", -EIO);
	}
	row("resync", RESYNC_LEN, s, 3, ratio);
	for (k = 0; k < 3; k++)
		m[k] = quantile(&s[k], 0.5);
	printf("\nthe resync alone (the open with nothing to resync taken away): 1 %% in %.1f ms, all in %.1f ms, 1 %% / all: %.3f\n",
	       (m[1] - m[0]) / 1000, (m[2] - m[0]) / 1000,
	       (m[1] - m[0]) / (m[2] - m[0]));
	goal("resync of 1 % / all of 64 MiB", (m[1] - m[0]) / (m[2] - m[0]),
	     "<=", GOAL_RESYNC_MAX);
}

/*
 * A 4 KiB flush while a replica is given all of the view at a paced rate
 * (pmrdma_replica_add() at 1 MiB/s), against the same flush once both
 * replicas are in sync: the pacing leaves the flushes their latency.
 */
#define PACED_OFF	(72UL << 20)	/* the local copy, on devdax */
#define PACED_RATE	(1UL << 20)

struct adder {
	struct pmrdma_map *map;
	int err;
	bool done;
};

static void *add_replica(void *arg)
{
	struct pmrdma_remote r = { .addr = addr, .port = PORT_REPLICA + 1 };
	struct adder *a = arg;
	unsigned int i;

	a->err = pmrdma_replica_add(a->map, &r, &i);
	__atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void paced_resync(void)
{
	static struct series s[2] = {
		{ .name = "in sync" }, { .name = "during a paced resync" },
	};
	struct pmrdma_replica_status st;
	struct adder a = { 0 };
	double ratio[2], t0;
	size_t size;
	unsigned int it;
	pthread_t th;
	char *v;
	int err;

	if (!dax) {
		printf("\n### 5e. flushes during a resync (%s): skipped, no local devdax (-l)\n",
		       label);
		return;
	}
	a.map = map_remote(PORT_REPLICA, PMRDMA_METHOD_FLUSH);
	size = pmrdma_map_get_size(a.map);
	pmrdma_map_delete(&a.map);
	err = map_replicated_try(&a.map, &(struct replicated){
		.n = 1, .off = PACED_OFF, .size = size, .port = PORT_REPLICA,
		.metadata = true, .discard = true, .rate = PACED_RATE });
	if (err)
		die("a map with metadata and a paced resync", err);
	v = pmrdma_map_get_address(a.map);
	header("5e. a 4 KiB flush with both replicas in sync vs while one is given all of 2 MiB at 1 MiB/s", s, 2);
	s[0].n = s[1].n = 0;
	if (pthread_create(&th, NULL, add_replica, &a))
		die("pthread_create", -EAGAIN);
	for (it = 0; !__atomic_load_n(&a.done, __ATOMIC_ACQUIRE) &&
		     s[1].n < MAX_ITERS; it++) {
		memset(v + (it % 64) * 4096, it, 4096);
		t0 = now_us();
		err = pmrdma_flush(a.map, v + (it % 64) * 4096, 4096);
		if (err)
			die_map(a.map, "flush during the resync", err);
		if (!pmrdma_replica_status(a.map, 1, &st) &&
		    st.state == PMRDMA_REPLICA_RESYNCING)
			s[1].v[s[1].n++] = now_us() - t0;
	}
	pthread_join(th, NULL);
	if (a.err || !s[1].n)
		die_map(a.map, "add a replica", a.err ?: -EIO);
	for (it = 0; it < iters; it++) {
		memset(v + (it % 64) * 4096, it, 4096);
		t0 = now_us();
		err = pmrdma_flush(a.map, v + (it % 64) * 4096, 4096);
		if (err)
			die_map(a.map, "flush in sync", err);
		s[0].v[s[0].n++] = now_us() - t0;
	}
	row("paced", 4096, s, 2, ratio);
	printf("\n%u flushes during the resync\n", s[1].n);
	/* during / in sync */
	goal("4 KiB flush during a paced resync / in sync", 1 / ratio[1], "<=",
	     GOAL_PACED_FLUSH_MAX);
	pmrdma_map_delete(&a.map);
}

/* ---- 6. windows into big exports ---- */

/*
 * The memory this process holds, in KiB: the heap's bytes in use
 * (mallinfo2(), whatever pages they sit on) and the pages pinned for RDMA
 * (VmPin), which a view registered for the whole export would show.
 */
static long held_kib(void)
{
	struct mallinfo2 mi = mallinfo2();
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long pin = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &pin) == 1)
			break;
	if (f)
		fclose(f);
	if (pin < 0)
		return -1;
	return (long)((mi.uordblks + mi.hblkhd) / 1024) + pin;
}

/*
 * Opening a map of 4 KiB: of a 4 KiB export, and a window in the middle
 * of a 1 GiB one, taking turns; each reads its 4 KiB (the default view).
 * The window's map must cost what the small one does, in time and in
 * memory: what WINDOW_MAPS of them, open at once, hold, per map.
 */
#define WINDOW_MAPS	4

/*
 * -R: the KiB that WINDOW_MAPS window maps hold, on stdout.  A fresh
 * process, so that nothing the earlier rows left counts; one map first,
 * so that the libraries' own (the device's context, the CM) does not.
 */
static int window_rss_probe(void)
{
	struct pmrdma_map *m[WINDOW_MAPS + 1];
	long rss0, rss1;
	unsigned int k;

	m[0] = map_remote_with(PORT_HUGE, PMRDMA_METHOD_AUTO, 0, 4096, 0);
	rss0 = held_kib();
	for (k = 1; k <= WINDOW_MAPS; k++)
		m[k] = map_remote_with(PORT_HUGE, PMRDMA_METHOD_AUTO,
				       (uint64_t)k << 27, 4096, 0);
	rss1 = held_kib();
	if (rss0 < 0 || rss1 < 0)
		return 1;
	for (k = 0; k <= WINDOW_MAPS; k++)
		pmrdma_map_delete(&m[k]);
	printf("%ld\n", rss1 - rss0);
	return 0;
}

static char **bench_argv;

/* window_rss_probe() in a new process of this program: KiB per map */
static double window_rss(void)
{
	char cmd[4096] = "", *p = cmd, self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;
	long kib = -1;
	int i;

	if (n <= 0) {
		perror("/proc/self/exe");
		exit(1);
	}
	self[n] = 0;

	/* the same options, quoted, and -R */
	for (i = 0; bench_argv[i]; i++) {
		if (strchr(bench_argv[i], '\'')) {
			fprintf(stderr, "pmrdma_bench: a quote in an argument\n");
			exit(1);
		}
		p += snprintf(p, cmd + sizeof(cmd) - p, "'%s' ",
			      i ? bench_argv[i] : self);
		if (p >= cmd + sizeof(cmd) - 8) {
			fprintf(stderr, "pmrdma_bench: arguments too long\n");
			exit(1);
		}
	}
	strcat(cmd, "-R");
	fflush(stdout);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%ld", &kib) != 1 || pclose(f) || kib < 0) {
		fprintf(stderr, "pmrdma_bench: the memory probe failed\n");
		exit(1);
	}
	return kib / (double)WINDOW_MAPS;
}

static void windows(void)
{
	static struct series s[2] = {
		{ .name = "4 KiB export" }, { .name = "4 KiB of 1 GiB" },
	};
	struct pmrdma_map *m;
	double ratio[2], t0, rss;
	unsigned int it;

	header("6. opening a map: a 4 KiB export vs a 4 KiB window at 512 MiB of a 1 GiB export",
	       s, 2);
	s[0].n = s[1].n = 0;
	for (it = 0; it < iters; it++) {
		t0 = now_us();
		m = map_remote(PORT_SMALL, PMRDMA_METHOD_AUTO);
		s[0].v[s[0].n++] = now_us() - t0;
		pmrdma_map_delete(&m);

		t0 = now_us();
		m = map_remote_with(PORT_HUGE, PMRDMA_METHOD_AUTO, 512 << 20,
				    4096, 0);
		s[1].v[s[1].n++] = now_us() - t0;
		pmrdma_map_delete(&m);
	}
	row("open", 4096, s, 2, ratio);
	rss = window_rss();
	printf("\nmemory a 4 KiB window's map holds (%d open at once, a fresh process; heap in use and pinned): %.1f KiB each\n",
	       WINDOW_MAPS, rss);
	fprintf(csv, "%s,open,window map KiB held,4096,%.1f,%.1f,%d\n",
		label, rss, rss, WINDOW_MAPS);
	/* the window's median / the small export's */
	goal("open of 4 KiB of a 1 GiB export / of a 4 KiB export",
	     1 / ratio[1], "<=", GOAL_OPEN_WINDOW_MAX);
	goal("MiB a 4 KiB window's map holds", rss / 1024, "<=",
	     GOAL_WINDOW_RSS_MAX);
}

/* ---- 7. lanes: threads flushing at once ---- */

#define LANE_FLUSHES	20	/* by each thread, an iteration */

struct lane_run {
	struct pmrdma_map *map;
	char *addr;
	int err;
};

static void *lane_flusher(void *arg)
{
	struct lane_run *r = arg;
	unsigned int i;

	for (i = 0; i < LANE_FLUSHES && !r->err; i++) {
		memset(r->addr, i, 4096);
		r->err = pmrdma_flush(r->map, r->addr, 4096);
	}
	return NULL;
}

#define LANE_THREADS	4

/* threads, LANE_FLUSHES 4 KiB flushes each: us per flush, all told */
static double lanes_flush_us(struct pmrdma_map *map, unsigned int threads)
{
	struct lane_run r[LANE_THREADS];
	pthread_t th[LANE_THREADS];
	char *v = pmrdma_map_get_address(map);
	double t0 = now_us();
	unsigned int k;

	for (k = 0; k < threads; k++) {
		r[k] = (struct lane_run){ .map = map, .addr = v + k * 65536 };
		if (pthread_create(&th[k], NULL, lane_flusher, &r[k]))
			die("pthread_create", -EAGAIN);
	}
	for (k = 0; k < threads; k++) {
		pthread_join(th[k], NULL);
		if (r[k].err)
			die_map(map, "flush on a lane", r[k].err);
	}
	return (now_us() - t0) / (threads * LANE_FLUSHES);
}

/*
 * threads flushing 4 KiB on the maps m[0] and m[1], taking turns: the
 * table's row, the ratio of the times per flush (that of the flushes per
 * second, m[1]'s / m[0]'s) judged against goal_min, and both maps gone
 */
static void threads_row(const char *title, const char *section,
			struct series *s, struct pmrdma_map **m,
			unsigned int threads, const char *goal_name,
			double goal_min)
{
	double ratio[2];
	unsigned int it;

	header(title, s, 2);
	s[0].n = s[1].n = 0;
	for (it = 0; it < iters; it++) {
		s[0].v[s[0].n++] = lanes_flush_us(m[0], threads);
		s[1].v[s[1].n++] = lanes_flush_us(m[1], threads);
	}
	row(section, 4096, s, 2, ratio);
	goal(goal_name, ratio[1], ">=", goal_min);
	pmrdma_map_delete(&m[0]);
	pmrdma_map_delete(&m[1]);
}

/*
 * Two threads flushing 4 KiB each, on a map of one lane (they take turns
 * on its connection) and of two (a connection each).  Group commit off,
 * on both: the row measures the connections, not the sharing of a round
 * trip (row 8).
 */
static void lanes(void)
{
	static struct series s[2] = { { .name = "1 lane" }, { .name = "2 lanes" } };
	struct pmrdma_map *m[2] = {
		map_remote_group(PORT_FLUSH, PMRDMA_METHOD_AUTO, 0, 0, 1, false),
		map_remote_group(PORT_FLUSH, PMRDMA_METHOD_AUTO, 0, 0, 2, false),
	};

	threads_row("7. two threads flushing 4 KiB: one lane vs two (us per flush, both threads told)",
		    "lanes", s, m, 2,
		    "4 KiB flushes per second, 2 threads: 2 lanes / 1 lane",
		    GOAL_LANES_MIN);
}

/* ---- 8. group commit: threads sharing a lane ---- */

/*
 * LANE_THREADS threads flushing 4 KiB on a map of one lane, with group
 * commit off (each flush its own round trip, in turn) and on (the flushes
 * that queue while the lane is busy go out as one).
 */
static void group_commit(void)
{
	static struct series s[2] = { { .name = "off" }, { .name = "on" } };
	struct pmrdma_map *m[2] = {
		map_remote_group(PORT_FLUSH, PMRDMA_METHOD_AUTO, 0, 0, 1, false),
		map_remote_group(PORT_FLUSH, PMRDMA_METHOD_AUTO, 0, 0, 1, true),
	};

	threads_row("8. group commit: 4 threads flushing 4 KiB on one lane, off vs on (us per flush, all threads told)",
		    "group", s, m, LANE_THREADS,
		    "4 KiB flushes per second, 4 threads on one lane: group commit on / off",
		    GOAL_GROUP_MIN);
}

/* ---- 13. keyed maps ---- */

/* what sealed the initiator's keyed packets: the driver says, per cipher */
static void seal_cipher(char *buf, size_t len)
{
	FILE *f = fopen("/sys/module/rdma_rxe_flush/parameters/seal_cipher",
			"r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = 0;
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ';' : 0;
	if (f)
		fclose(f);
}

/*
 * GPSPM maps of the user-space target, plain and keyed (the payloads
 * sealed with AES-GCM both ways), taking turns: 4 KiB WRITE + persist
 * latency, and 1 MiB throughput.  The cipher's cost is what the 1 MiB
 * row measures, so its goal is judged on the bare wire, where the delay
 * does not hide it; the 4 KiB one on the delayed wire, as the others.
 */
static void keyed(void)
{
	static const size_t ksizes[] = { 4096, 1 << 20 };
	static struct series s[2] = { { .name = "plain" }, { .name = "keyed" } };
	uint8_t key[PMRDMA_KEY_MAX];
	struct pmrdma_map *m[2];
	char msg[256], cipher[256];
	double ratio[2][2] = { { 0 } };
	unsigned int z, it, k;
	size_t key_len;
	int err;

	if (!data_key_path)
		return;
	err = pmrdma_key_read(data_key_path, key, &key_len, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "pmrdma_bench: %s\n", msg);
		exit(1);
	}
	m[0] = map_remote(PORT_SERVE, PMRDMA_METHOD_GPSPM);
	m[1] = map_remote_opts(PORT_SERVE_KEYED, PMRDMA_METHOD_GPSPM,
			       &(struct map_opts){ .key = key,
						   .key_len = key_len });
	explicit_bzero(key, sizeof(key));
	header("13. keyed maps: GPSPM, payloads plain vs sealed", s, 2);
	for (z = 0; z < 2; z++) {
		s[0].n = s[1].n = 0;
		for (it = 0; it < iters; it++) {
			for (k = 0; k < 2; k++) {
				char *v = pmrdma_map_get_address(m[k]);
				double t0;

				memset(v, it, ksizes[z]);
				t0 = now_us();
				err = pmrdma_flush(m[k], v, ksizes[z]);
				s[k].v[s[k].n++] = now_us() - t0;
				if (err)
					die_map(m[k], "keyed flush", err);
			}
		}
		row("keyed", ksizes[z], s, 2, ratio[z]);
	}
	seal_cipher(cipher, sizeof(cipher));
	printf("\nAES-GCM on this host (packets sealed or opened): %s\n",
	       cipher[0] ? cipher : "unknown");
	/* keyed / plain latency; keyed / plain throughput = plain / keyed time */
	goal("keyed/plain 4 KiB WRITE + persist", 1 / ratio[0][1], "<=",
	     GOAL_KEYED_4K_MAX);
	goal_if(bare_wire, "keyed/plain 1 MiB throughput", ratio[1][1], ">=",
		GOAL_KEYED_1M_MIN);
	for (k = 0; k < 2; k++)
		pmrdma_map_delete(&m[k]);
}

/* ---- 14. QoS: the device's rate shared by class, a map's own rate ---- */

#define QOS_DEV_RATE	"/sys/class/infiniband/rxe0/qos_rate_kbps"
#define QOS_WEIGHTS	"/sys/class/infiniband/rxe0/qos_tc_weights"
#define QOS_DEV_KBPS	32000		/* well under what the wire carries */
#define QOS_MAP_KBPS	16000		/* a map's own rate */
#define QOS_LOG_TCLASS	0xe0		/* class 7, weight 16 */
#define QOS_BULK_TCLASS	0x00		/* class 0, weight 1 */
#define QOS_FLOOD	(1 << 20)	/* a flood's flushes */
#define QOS_SHARE_S	4.0		/* two floods sharing the device */

static void qos_write(const char *path, const char *line)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f))
		die(path, -errno);
}

/* the device's rate (0: none) and its weights, QoS_LOG_TCLASS's 16 */
static void qos_device(unsigned int kbps)
{
	char line[32];

	snprintf(line, sizeof(line), "%u", kbps);
	qos_write(QOS_DEV_RATE, line);
	qos_write(QOS_WEIGHTS, kbps ? "1 1 1 1 1 1 1 16" : "1 1 1 1 1 1 1 1");
}

/* a map of [off, off + len) of the export at port, of tclass, at kbps */
static struct pmrdma_map *map_qos(uint16_t port, uint64_t off, uint64_t len,
				  uint8_t tclass, uint32_t kbps)
{
	struct map_opts o = {
		.off = off, .len = len, .tclass_set = true, .tclass = tclass,
		.rate_kbps = kbps,
	};

	return map_remote_opts(port, PMRDMA_METHOD_AUTO, &o);
}

/* a thread flushing QOS_FLOOD bytes of its map over and over */
struct flood {
	struct pmrdma_map *map;
	pthread_t th;
	bool stop;		/* __atomic */
	uint64_t bytes;		/* flushed */
	int err;
};

static void *flooder(void *arg)
{
	struct flood *f = arg;
	char *v = pmrdma_map_get_address(f->map);

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED) && !f->err) {
		f->err = pmrdma_flush(f->map, v, QOS_FLOOD);
		if (!f->err)
			__atomic_add_fetch(&f->bytes, QOS_FLOOD, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void flood_start(struct flood *f, struct pmrdma_map *map)
{
	*f = (struct flood){ .map = map };
	if (pthread_create(&f->th, NULL, flooder, f))
		die("pthread_create", -EAGAIN);
}

static void flood_stop(struct flood *f)
{
	__atomic_store_n(&f->stop, true, __ATOMIC_RELAXED);
	pthread_join(f->th, NULL);
	if (f->err)
		die_map(f->map, "flood", f->err);
}

/* iters 4 KiB flushes of map, their times into s */
static void log_flushes(struct pmrdma_map *map, struct series *s)
{
	char *v = pmrdma_map_get_address(map);
	unsigned int it;
	int err;

	s->n = 0;
	for (it = 0; it < iters; it++) {
		double t0;

		memset(v, it, 4096);
		t0 = now_us();
		err = pmrdma_flush(map, v, 4096);
		s->v[s->n++] = now_us() - t0;
		if (err)
			die_map(map, "log flush", err);
	}
}

/*
 * A log map of class 7 (weight 16) flushing 4 KiB, alone and beside a
 * bulk map of class 0 (weight 1) flushing 1 MiB over and over, with the
 * device's rate shared by those weights and with no QoS at all; a map's
 * own rate against what it achieves; and two bulk maps of one class
 * sharing the device (Jain's fairness index).
 */
static void qos(void)
{
	static struct series s[3] = {
		{ .name = "alone" }, { .name = "flood, QoS" },
		{ .name = "flood, no QoS" },
	};
	struct pmrdma_map *log = map_qos(PORT_FLUSH, 0, 0, QOS_LOG_TCLASS, 0);
	struct pmrdma_map *bulk[2] = {
		map_qos(PORT_BIG, 0, 32 << 20, QOS_BULK_TCLASS, 0),
		map_qos(PORT_BIG, 32 << 20, 32 << 20, QOS_BULK_TCLASS, 0),
	};
	struct pmrdma_map *paced;
	double ratio[3], secs, wire_kbps, x, y, jain;
	struct flood f[2];
	unsigned int it;
	char *v;

	header("14. QoS: a class-7 map's 4 KiB flush alone and beside a class-0 flood of 1 MiB flushes, the device at 32 Mbit/s shared 16 : 1, and with no QoS",
	       s, 3);
	qos_device(QOS_DEV_KBPS);
	log_flushes(log, &s[0]);
	flood_start(&f[0], bulk[0]);
	log_flushes(log, &s[1]);
	flood_stop(&f[0]);
	qos_device(0);
	flood_start(&f[0], bulk[0]);
	log_flushes(log, &s[2]);
	flood_stop(&f[0]);
	row("qos", 4096, s, 3, ratio);
	printf("\nbeside the flood / alone: %.2f with QoS, %.2f without\n",
	       1 / ratio[1], 1 / ratio[2]);
	goal("4 KiB flush of class 7 beside a class-0 flood / alone, QoS on",
	     1 / ratio[1], "<=", GOAL_QOS_LATENCY_MAX);

	/* a map's own rate: 1 MiB flushes, on the wire with its headers */
	paced = map_qos(PORT_BIG, 0, 32 << 20, QOS_BULK_TCLASS, QOS_MAP_KBPS);
	v = pmrdma_map_get_address(paced);
	secs = now_us();
	for (it = 0; it < (iters < 8 ? iters : 8); it++) {
		int err = pmrdma_flush(paced, v, QOS_FLOOD);

		if (err)
			die_map(paced, "paced flush", err);
	}
	secs = (now_us() - secs) / 1e6;
	/* 1024-byte packets carry 78 bytes of headers on the wire */
	wire_kbps = (double)it * QOS_FLOOD * 1102 / 1024 * 8 / 1000 / secs;
	printf("a map limited to %u kbit/s: %.0f kbit/s on the wire, %.2f of its limit\n",
	       QOS_MAP_KBPS, wire_kbps, wire_kbps / QOS_MAP_KBPS);
	fprintf(csv, "%s,qos,achieved/limit,%d,%.3f,,%u\n", label, QOS_FLOOD,
		wire_kbps / QOS_MAP_KBPS, it);
	goal("a map's achieved / its rate limit, at least",
	     wire_kbps / QOS_MAP_KBPS, ">=", GOAL_QOS_RATE_MIN);
	goal("a map's achieved / its rate limit, at most",
	     wire_kbps / QOS_MAP_KBPS, "<=", GOAL_QOS_RATE_MAX);
	pmrdma_map_delete(&paced);

	/* two floods of one class sharing the device's rate */
	qos_device(QOS_DEV_KBPS);
	flood_start(&f[0], bulk[0]);
	flood_start(&f[1], bulk[1]);
	usleep(QOS_SHARE_S * 1e6);
	flood_stop(&f[0]);
	flood_stop(&f[1]);
	qos_device(0);
	x = f[0].bytes;
	y = f[1].bytes;
	jain = x + y > 0 ? (x + y) * (x + y) / (2 * (x * x + y * y)) : 0;
	printf("two class-0 floods sharing 32 Mbit/s for %.0f s: %.1f and %.1f MiB, Jain's index %.3f\n",
	       QOS_SHARE_S, x / (1 << 20), y / (1 << 20), jain);
	fprintf(csv, "%s,qos,fairness,%d,%.3f,,2\n", label, QOS_FLOOD, jain);
	goal("Jain's fairness index of two equal floods", jain, ">=",
	     GOAL_QOS_FAIRNESS_MIN);
	pmrdma_map_delete(&bulk[0]);
	pmrdma_map_delete(&bulk[1]);
	pmrdma_map_delete(&log);
}

/* the sections in the order they run; -s picks some by these names */
static const struct {
	const char *name;
	void (*run)(void);
} sections[] = {
	{ "methods", methods },		{ "log", log_writer },
	{ "integrity", integrity },	{ "flush_cost", flush_cost },
	{ "overhead", overhead },	{ "replicas", replicas },
	{ "bitmap", bitmap_cost },	{ "resync", resync_cost },
	{ "paced_resync", paced_resync }, { "windows", windows },
	{ "lanes", lanes },		{ "group", group_commit },
	{ "keyed", keyed },		{ "qos", qos },
};

/* is NAME in the comma-separated LIST (NULL: every section is) */
static bool section_picked(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return !list;
}

/* does every name in the comma-separated LIST name a section */
static bool sections_known(const char *list)
{
	const size_t count = sizeof(sections) / sizeof(sections[0]);
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < count; i++)
			if (strlen(sections[i].name) == n &&
			    !strncmp(p, sections[i].name, n))
				break;
		if (i == count) {
			fprintf(stderr, "pmrdma_bench: no section '%.*s'\n",
				(int)n, p);
			return false;
		}
		if (!p[n])
			return true;
		p += n + 1;
	}
}

int main(int argc, char **argv)
{
	const char *csv_path = "/dev/null", *only = NULL;
	bool rss_probe = false;
	unsigned int i;
	int c;

	bench_argv = argv;
	while ((c = getopt(argc, argv, "a:t:n:c:l:w:RK:s:")) != -1) {
		switch (c) {
		case 'R':
			rss_probe = true;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'w':	/* the run: loopback, wire, delayed */
			with_goals = !strcmp(optarg, "delayed");
			bare_wire = !strcmp(optarg, "wire");
			break;
		case 't':
			label = optarg;
			break;
		case 'n':
			iters = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			csv_path = optarg;
			break;
		case 'l':
			dax = optarg;
			break;
		case 'K':	/* the keyed export's data key, in a file */
			data_key_path = optarg;
			break;
		case 's':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: pmrdma_bench -a ADDR -t LABEL [-w loopback|wire|delayed] [-n ITERS] [-c CSV] [-l DAX] [-K DATAKEYFILE] [-s SECTIONS]\n");
			return 2;
		}
	}
	if (!addr || !label || !iters || iters > MAX_ITERS) {
		fprintf(stderr, "pmrdma_bench: -a and -t are needed; -n 1..%d\n",
			MAX_ITERS);
		return 2;
	}
	if (rss_probe)
		return window_rss_probe();
	if (only && !sections_known(only))
		return 2;
	csv = fopen(csv_path, "a");
	if (!csv) {
		perror(csv_path);
		return 1;
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (section_picked(only, sections[i].name))
			sections[i].run();
	fclose(csv);
	printf("\n");
	return 0;
}
