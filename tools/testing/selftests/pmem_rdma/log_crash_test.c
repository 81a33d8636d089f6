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
 *
 * The second test is the same log replicated, with metadata: its writer a
 * pmlog process on a devdax range with two replicas on exports, which
 * rejoin on their own; the test fails replicas' power and takes their
 * exports away and back at random moments - during resyncs too - then
 * kills the writer (its host gone), as many rounds.
 */
#include <pthread.h>
#include <signal.h>
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

/* ---- the replicated log: every copy fails, the primary's host too ---- */

#define HA_NREP		2
#define HA_LOCAL_OFF	(32UL << 20)	/* the primary's copy, on devdax */
#define HA_SCRATCH_OFF	(36UL << 20)	/* where a replica's bytes are read */
#define HA_OUT		"/tmp/log_crash_ha.out"

FIXTURE(ha)
{
	int fd;
	const char *pmem, *dax;
	struct lib_export x[HA_NREP];
	unsigned char *buf;
};

FIXTURE_SETUP(ha)
{
	int i;

	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->pmem = getenv("PMEM_RDMA_PMEM");
	self->dax = getenv("PMEM_RDMA_DAX");
	if (!self->pmem || !self->pmem[0] || !self->dax || !self->dax[0])
		SKIP(return, "needs the devdax device and the fsdax namespace");
	for (i = 0; i < HA_NREP; i++)
		ASSERT_EQ(0, lib_export(self->fd, self->pmem, TARGET_PORT + i,
					EXP_OFF + i * EXP_LEN, &self->x[i]));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, 4096, EXP_LEN));
}

FIXTURE_TEARDOWN(ha)
{
	int i;

	for (i = 0; i < HA_NREP; i++)
		if (self->x[i].id)
			unexport(self->fd, self->x[i].id);
	free(self->buf);
	close(self->fd);
}

/*
 * The log in the copy whose bytes are at off of the devdax device (the
 * primary's, or a replica's read into the scratch range): whole, and
 * holding every record acknowledged
 */
#define check_log(self, off, acked, what, pointer)	\
	__check_log(_metadata, (self)->dax, off, acked, what, pointer)

static void __check_log(struct __test_metadata *_metadata, const char *dax,
			uint64_t off, uint64_t acked, const char *what,
			uint64_t *pointer)
{
	struct pmlog_recovery rec;
	struct pmrdma_map *map;
	struct pmlog *log;
	char want[SLOT];
	const void *p;
	uint64_t n;
	size_t len;
	int ret;

	ASSERT_EQ(0, lib_map_range(&map, dax, off, EXP_LEN, false));
	ret = pmlog_open(&log, map, &rec);
	ASSERT_EQ(0, ret) TH_LOG("%s: the log does not recover: %d, record %llu",
				 what, ret, (unsigned long long)rec.first_invalid);
	ASSERT_LE(acked, rec.pointer) TH_LOG("%s: an acknowledged record was lost: %llu of %llu",
					     what, (unsigned long long)rec.pointer,
					     (unsigned long long)acked);
	for (n = rec.first; n < rec.pointer; n++) {
		p = pmlog_record(log, n, &len);
		ASSERT_NE(NULL, p) TH_LOG("%s: record %llu", what, (unsigned long long)n);
		ASSERT_EQ(pmlog_sample(n, want, pmlog_max_record(log)), len);
		ASSERT_EQ(0, memcmp(p, want, len)) TH_LOG("%s: record %llu", what,
							 (unsigned long long)n);
	}
	*pointer = rec.pointer;
	pmlog_close(&log);
	pmrdma_map_delete(&map);
}

/* replica i's media, after a power failure of its own, into the scratch range */
#define replica_to_scratch(self, i)	\
	__replica_to_scratch(_metadata, self, i)

static void __replica_to_scratch(struct __test_metadata *_metadata,
				 FIXTURE_DATA(ha) *self, int i)
{
	struct pmem_rdma_power_fail pf;
	struct pmrdma_map *map;

	ASSERT_EQ(0, lib_power(self->fd, self->x[i].id, 0, 0, 7, &pf));
	ASSERT_EQ(0, read_pmem(self->pmem, self->x[i].off, self->buf, EXP_LEN));
	ASSERT_EQ(0, lib_map_range(&map, self->dax, HA_SCRATCH_OFF, EXP_LEN, false));
	memcpy(pmrdma_map_get_address(map), self->buf, EXP_LEN);
	ASSERT_EQ(0, pmrdma_flush(map, pmrdma_map_get_address(map), EXP_LEN));
	pmrdma_map_delete(&map);
}

/* what the writer printed but its acks, into buf (4 KiB), as a string */
static const char *writer_said(unsigned char *buf)
{
	char line[256], *out = (char *)buf;
	size_t len = 0;
	FILE *f = fopen(HA_OUT, "r");

	out[0] = 0;
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "acked ", 6) && len + strlen(line) < 4096) {
			strcpy(out + len, line);
			len += strlen(line);
		}
	fclose(f);
	return out;
}

/* the writer's exit within a minute: 0; or -1, and it is killed */
static int wait_exit(pid_t pid, int *st)
{
	int i;

	for (i = 0; i < 60000; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 0;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return -1;
}

/* wait until the writer acknowledged a record, or stopped: 0, or -1 */
static int first_ack(pid_t pid)
{
	int i, st;

	for (i = 0; i < 30000; i++) {
		if (pt_pmlog_acked(HA_OUT))
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		usleep(1000);
	}
	return -1;
}

/*
 * Replica 1 is written as a primary on its own: its copy made a primary's
 * local copy (in the scratch range), written and put back.  It then is
 * newer than the primary's copy if it had the primary's generation (it
 * was promoted), or has diverged from it (split brain) if not: *newer
 * says which.  Its header may say it is not whole (cut off in a resync):
 * no primary then, and false.
 */
#define diverge(self, newer)	__diverge(_metadata, self, newer)

static bool __diverge(struct __test_metadata *_metadata, FIXTURE_DATA(ha) *self,
		      bool *newer)
{
	struct pmrdma_metadata md, rmd;
	struct pmrdma_map *map;
	char *v;
	int ret;

	replica_to_scratch(self, 1);
	ASSERT_EQ(0, lib_metadata(self->dax, HA_LOCAL_OFF, &md));
	ASSERT_EQ(0, lib_metadata(self->dax, HA_SCRATCH_OFF, &rmd));
	*newer = rmd.gen[0] == md.gen[0];
	ret = lib_map_range(&map, self->dax, HA_SCRATCH_OFF, EXP_LEN, true);
	if (ret == -ESTALE)
		return false;
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	if (ret)
		return false;
	v = pmrdma_map_get_address(map);
	memset(v + (1UL << 20), 0x5a, 64);
	EXPECT_EQ(0, pmrdma_flush(map, v + (1UL << 20), 64));
	pmrdma_map_delete(&map);
	ASSERT_EQ(0, lib_map_range(&map, self->dax, HA_SCRATCH_OFF, EXP_LEN, false));
	EXPECT_EQ(0, lib_put_export(&self->x[1], 0, pmrdma_map_get_address(map),
				EXP_LEN));
	pmrdma_map_delete(&map);
	return true;
}

/*
 * A session of the primary with the replicas in mask, replica 1 discarded
 * if it is one: made and deleted.  With replica 0 alone, the primary has
 * written (a generation of its own) while replica 1 was apart.
 */
static int primary_session(const FIXTURE_DATA(ha) *self, uint32_t mask)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map = NULL;
	int i, ret = lib_range_config(&cfg, self->dax, HA_LOCAL_OFF, EXP_LEN);

	for (i = 0; i < HA_NREP && !ret; i++)
		if (mask & 1U << i)
			ret = pmrdma_config_add_replica(cfg, &self->x[i].remote);
	if (!ret)
		ret = pmrdma_config_set_metadata(cfg, true);
	if (!ret && mask & 2)
		ret = pmrdma_config_discard_replica(cfg, 1);
	if (!ret)
		ret = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	pmrdma_map_delete(&map);
	return ret;
}

TEST_F_TIMEOUT(ha, a_replicated_log_survives_every_copy_failing, 3000)
{
	static const char *const fmt[] = { "format", "-S", "64", NULL };
	static const char *const wr[] = { "write", "-q", "-v", "-R", "20", "-n",
					  "100000000", NULL };
	const char *c = getenv("PMEM_RDMA_CRASH_COUNT");
	const char *sd = getenv("PMEM_RDMA_CRASH_SEED");
	unsigned int count = c ? strtoul(c, NULL, 0) : 100, i, e, r;
	uint64_t seed = sd ? strtoull(sd, NULL, 0) : (uint64_t)time(NULL) + 1;
	uint64_t rng = seed, acked, records = 0, claims = 0, faults = 0;
	uint64_t pointer = 0, rp;
	int ret;
	uint64_t unexports = 0, diverged = 0, promoted = 0, stops = 0;
	struct pmem_rdma_power_fail pf;
	struct pmrdma_metadata md, rmd;
	struct pmrdma_map *map;
	char *v;
	pid_t pid;
	int st;

	if (!self->x[0].id)
		return;
	ksft_print_msg("ha crash: %u rounds, seed %llu\n", count,
		       (unsigned long long)seed);
	fflush(stdout);
	/* no copy keeps metadata from before: a new primary's */
	ASSERT_EQ(0, lib_map_range(&map, self->dax, HA_LOCAL_OFF, EXP_LEN, false));
	v = pmrdma_map_get_address(map);
	memset(v + EXP_LEN - 4096, 0, 4096);
	ASSERT_EQ(0, pmrdma_flush(map, v + EXP_LEN - 4096, 4096));
	for (r = 0; r < HA_NREP; r++)
		ASSERT_EQ(0, lib_put_export(&self->x[r], EXP_LEN - 4096,
					v + EXP_LEN - 4096, 4096));
	pmrdma_map_delete(&map);
	ASSERT_EQ(0, lib_pmlog(self->x, HA_NREP, HA_LOCAL_OFF, fmt, HA_OUT,
			       true, &pid));

	for (i = 0; i < count; i++) {
		bool newer = false, split = false;

		/*
		 * every tenth round replica 1 is written as a primary on its
		 * own: every other time after the primary wrote without it
		 * (a split brain), else as it was (promoted, maybe)
		 */
		if (i % 20 == 19)
			ASSERT_EQ(0, primary_session(self, 1))
				TH_LOG("%s", pmrdma_errormsg(NULL));
		if (i % 10 == 9)
			split = diverge(self, &newer);

		/* no ack of the round before is taken for this one's */
		unlink(HA_OUT);
		ASSERT_EQ(0, lib_pmlog(self->x, HA_NREP, HA_LOCAL_OFF, wr, HA_OUT,
				       false, &pid));
		if (split) {
			/* refused, until the survivor is chosen */
			ret = wait_exit(pid, &st);
			ASSERT_EQ(0, ret) TH_LOG("round %u: a %s replica was not refused: the writer writes",
						 i, newer ? "newer" : "diverged");
			EXPECT_EQ(1, WEXITSTATUS(st));
			ASSERT_NE(NULL, strstr(writer_said(self->buf),
					       newer ? "replica 1 is newer than the local copy" :
						       "have diverged"))
				TH_LOG("round %u: a %s replica was not refused: %s",
				       i, newer ? "newer" : "diverged",
				       (char *)self->buf);
			ASSERT_EQ(0, primary_session(self, 3))
				TH_LOG("%s", pmrdma_errormsg(NULL));
			if (newer)
				promoted++;
			else
				diverged++;
			continue;
		}
		ASSERT_EQ(0, first_ack(pid)) TH_LOG("round %u: the writer did not write: %s",
						    i, writer_said(self->buf));
		for (e = splitmix(&rng) % 4; e > 0; e--) {
			unsigned int k = splitmix(&rng) % HA_NREP;

			usleep(splitmix(&rng) % 200000);
			switch (splitmix(&rng) % 3) {
			case 0:		/* a replica's power, during a resync or not */
				ASSERT_EQ(0, lib_power(self->fd, self->x[k].id,
						       PMEM_RDMA_POWER_FAIL_STAY_DOWN,
						       splitmix(&rng) % 300000,
						       splitmix(&rng), &pf));
				usleep(splitmix(&rng) % 100000);
				ASSERT_EQ(0, lib_power(self->fd, self->x[k].id,
						       PMEM_RDMA_POWER_FAIL_POWER_ON,
						       0, 0, &pf));
				faults++;
				break;
			case 1:		/* its export taken away, and back */
				ASSERT_EQ(0, unexport(self->fd, self->x[k].id));
				self->x[k].id = 0;
				usleep(splitmix(&rng) % 100000);
				ASSERT_EQ(0, lib_export(self->fd, self->pmem,
							TARGET_PORT + k,
							EXP_OFF + k * EXP_LEN,
							&self->x[k]));
				unexports++;
				break;
			default:
				break;
			}
		}
		/* the primary's host is gone */
		usleep(splitmix(&rng) % 100000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		/*
		 * or the writer stopped first, as it should with no replica
		 * in sync for a while (pmrdma_config_set_min_in_sync())
		 */
		/* a writer that died of anything else crashed */
		ASSERT_FALSE(WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			TH_LOG("round %u: the writer died of signal %d: %s", i,
			       WTERMSIG(st), writer_said(self->buf));
		if (!WIFSIGNALED(st)) {
			ASSERT_NE(NULL, strstr(writer_said(self->buf),
					       "append: Transport endpoint is not connected"))
				TH_LOG("round %u: the writer stopped: %s", i,
				       (char *)self->buf);
			stops++;
		}
		acked = pt_pmlog_acked(HA_OUT);
		/* the records of this round: after the pointer it began at */
		records += acked > pointer ? acked - pointer : 0;

		/* every copy that says it is current holds every record */
		ASSERT_EQ(0, lib_metadata(self->dax, HA_LOCAL_OFF, &md));
		EXPECT_EQ(PMRDMA_METADATA_PRIMARY, md.flags);
		check_log(self, HA_LOCAL_OFF, acked, "the primary", &pointer);
		for (r = 0; r < HA_NREP; r++) {
			replica_to_scratch(self, r);
			ASSERT_EQ(0, lib_metadata(self->dax, HA_SCRATCH_OFF, &rmd));
			if (rmd.gen[0] != md.gen[0] ||
			    rmd.flags & PMRDMA_METADATA_INCONSISTENT)
				continue;
			check_log(self, HA_SCRATCH_OFF, acked,
				  r ? "replica 1" : "replica 0", &rp);
			claims++;
		}
		if (!_metadata->passed) {
			TH_LOG("round %u of seed %llu", i, (unsigned long long)seed);
			break;
		}
	}
	ksft_print_msg("ha crash: %u rounds, %llu records acknowledged, %llu replicas claiming the current generation checked, %llu replica power failures, %llu exports taken away, %llu writers stopped with no replica in sync, %llu split brains and %llu newer replicas refused, seed %llu\n",
		       count, (unsigned long long)records,
		       (unsigned long long)claims, (unsigned long long)faults,
		       (unsigned long long)unexports, (unsigned long long)stops,
		       (unsigned long long)diverged, (unsigned long long)promoted,
		       (unsigned long long)seed);
	fflush(stdout);
	EXPECT_LT(count / 2, claims);
	if (count >= 20)
		EXPECT_LT(0, diverged);
	unlink(HA_OUT);
}

TEST_HARNESS_MAIN
