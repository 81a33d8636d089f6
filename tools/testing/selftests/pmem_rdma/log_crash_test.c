// SPDX-License-Identifier: GPL-2.0
/*
 * The seed's log writer (tools/pmlog) on libpmrdma over the kernel target,
 * and power failures at random points of it: a writer thread appends
 * records to an emulated export while the test fails the export's power
 * (PMEM_RDMA_POWER_FAIL_STAY_DOWN, seeded early eviction), so that the
 * writer's traffic stops exactly there.  After each failure the export is
 * powered on, mapped again and recovered; the pointer must cover only
 * complete, valid records - each the one the writer wrote under that
 * number - and at least every record whose append returned.  The writer
 * must still be appending when the power fails, and each mode must get
 * records acknowledged over the run: a writer that stops by itself writes
 * nothing that recovery could get wrong.
 *
 * PMEM_RDMA_CRASH_COUNT failures (default 100; make crash runs 1000),
 * PMEM_RDMA_CRASH_SEED to replay a run.  The modes take turns: pipelined,
 * waiting after the record's flush, flush-and-verify.
 */
#include <pthread.h>
#include <time.h>

#include "lib_helpers.h"
#include "pmlog.h"

#define SLOT	256
#define SLOTS	64	/* the log wraps every 64 records */

struct writer {
	struct pmlog *log;
	enum pmlog_mode mode;
	uint64_t acked;		/* records whose append returned 0 */
	uint64_t started;	/* records whose append began */
	int err;		/* how the writer stopped */
	bool stop;
	bool done;		/* it stopped, told to or not */
};

static void *write_log(void *arg)
{
	struct writer *w = arg;
	char buf[SLOT];
	size_t max = pmlog_max_record(w->log);

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t n = pmlog_next(w->log);
		size_t len = pmlog_sample(n, buf, max);

		__atomic_store_n(&w->started, n + 1, __ATOMIC_RELEASE);
		w->err = pmlog_append(w->log, buf, len, w->mode);
		if (w->err)
			break;
		__atomic_store_n(&w->acked, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

FIXTURE(crash)
{
	int fd;
	struct lib_export x;
};

FIXTURE_SETUP(crash)
{
	const char *pmem = getenv("PMEM_RDMA_PMEM");

	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	if (!pmem || !pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, lib_export_keyed(self->fd, pmem, TARGET_PORT, EXP_OFF, false,
				      &self->x));
}

FIXTURE_TEARDOWN(crash)
{
	if (self->x.id)
		unexport(self->fd, self->x.id);
	close(self->fd);
}

/* recovery after a failure: what the pointer covers must check out */
static void check_recovery(struct __test_metadata *_metadata,
			   struct pmlog *log, const struct pmlog_recovery *rec,
			   const struct writer *w)
{
	char want[SLOT];
	uint64_t n;

	ASSERT_EQ(0, rec->invalid) TH_LOG("record %llu of %llu covered is not whole",
					  (unsigned long long)rec->first_invalid,
					  (unsigned long long)rec->pointer);
	ASSERT_LE(w->acked, rec->pointer) TH_LOG("an acknowledged record was lost");
	ASSERT_GE(w->started, rec->pointer) TH_LOG("a record never written is covered");
	for (n = rec->first; n < rec->pointer; n++) {
		size_t len, wlen = pmlog_sample(n, want, pmlog_max_record(log));
		const void *p = pmlog_record(log, n, &len);

		ASSERT_NE(NULL, p);
		ASSERT_EQ(wlen, len);
		ASSERT_EQ(0, memcmp(p, want, len)) TH_LOG("record %llu",
							 (unsigned long long)n);
	}
}

TEST_F_TIMEOUT(crash, power_failures_under_a_running_log_writer, 3000)
{
	const char *c = getenv("PMEM_RDMA_CRASH_COUNT");
	const char *sd = getenv("PMEM_RDMA_CRASH_SEED");
	unsigned int count = c ? strtoul(c, NULL, 0) : 100, i;
	uint64_t seed = sd ? strtoull(sd, NULL, 0) : (uint64_t)time(NULL);
	uint64_t rng = seed, records = 0, unacked_kept = 0, lost_lines = 0;
	uint64_t by_mode[3] = { 0 };
	struct writer w = { .acked = 0 };
	struct pmlog_recovery rec;
	struct pmem_rdma_power_fail pf;
	struct pmrdma_map *map;
	struct pmlog *log;
	pthread_t th;
	bool early;
	int ret;

	if (!self->x.id)
		return;
	ksft_print_msg("crash: %u power failures, seed %llu\n", count,
		       (unsigned long long)seed);
	fflush(stdout);	/* the harness's child leaves with _exit() */
	ASSERT_EQ(0, lib_map(&map, NULL, &self->x, 1));
	ASSERT_EQ(0, pmlog_format(map, SLOT, SLOTS));
	pmrdma_map_delete(&map);

	for (i = 0; i < count; i++) {
		uint64_t delay_us = splitmix(&rng) % 4000;
		struct timespec ts = {
			.tv_sec = 0, .tv_nsec = delay_us * 1000,
		};

		ret = lib_map(&map, NULL, &self->x, 1);
		ASSERT_EQ(0, ret) TH_LOG("failure %u: map: %s", i, pmrdma_errormsg(NULL));
		ret = pmlog_open(&log, map, &rec);
		ASSERT_TRUE(ret == 0 || ret == -EUCLEAN) TH_LOG("open: %d", ret);
		if (i)
			check_recovery(_metadata, log, &rec, &w);
		if (i && rec.pointer > w.acked)
			unacked_kept++;

		w = (struct writer){ .log = log, .mode = i % 3,
				     .acked = rec.pointer, .started = rec.pointer };
		ASSERT_EQ(0, pthread_create(&th, NULL, write_log, &w));
		nanosleep(&ts, NULL);
		early = __atomic_load_n(&w.done, __ATOMIC_ACQUIRE);
		ASSERT_EQ(0, lib_power(self->fd, self->x.id,
				       PMEM_RDMA_POWER_FAIL_STAY_DOWN,
				       300000, splitmix(&rng), &pf));
		lost_lines += pf.lines_lost;
		/* the writer stops at its first refused request */
		__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		records += w.acked - rec.pointer;
		by_mode[w.mode] += w.acked - rec.pointer;
		ASSERT_EQ(0, lib_power(self->fd, self->x.id,
				       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
		pmlog_close(&log);
		pmrdma_map_delete(&map);
		ASSERT_FALSE(early) TH_LOG("failure %u: the writer (mode %d) stopped before the power failed, %llu records in: %s",
					   i, w.mode,
					   (unsigned long long)(w.acked - rec.pointer),
					   strerror(-w.err));
	}
	/* and the last one's recovery */
	ASSERT_EQ(0, lib_map(&map, NULL, &self->x, 1));
	ret = pmlog_open(&log, map, &rec);
	EXPECT_EQ(0, ret);
	check_recovery(_metadata, log, &rec, &w);
	for (i = 0; i < 3 && i < count; i++)
		EXPECT_LT(0, by_mode[i]) TH_LOG("mode %u: no record acknowledged in %u rounds",
						i, (count - i + 2) / 3);
	ksft_print_msg("crash: %u power failures, %llu records acknowledged (%llu pipelined, %llu waiting, %llu verified), pointer at %llu (the log wrapped %llu times), %llu recoveries kept a record not yet acknowledged, %llu lines lost, seed %llu\n",
		       count, (unsigned long long)records,
		       (unsigned long long)by_mode[0],
		       (unsigned long long)by_mode[1],
		       (unsigned long long)by_mode[2],
		       (unsigned long long)rec.pointer,
		       (unsigned long long)rec.pointer / SLOTS,
		       (unsigned long long)unacked_kept,
		       (unsigned long long)lost_lines, (unsigned long long)seed);
	fflush(stdout);
	pmlog_close(&log);
	pmrdma_map_delete(&map);
}

TEST_HARNESS_MAIN
