// SPDX-License-Identifier: GPL-2.0
/*
 * The documentation's example program, Documentation/examples/
 * replicated_log.c, built as a user builds it (build/examples), run
 * against two emulated exports of the kernel target as its replicas: the
 * records it appends survive a power failure of a replica and are
 * recovered from that replica alone (the failover path); a replica that
 * stays down drops out and the log goes on on the rest.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib_helpers.h"

#define EX_PORT		7591
#define LOG_SIZE	EXP_LEN		/* the example's LOG_SIZE */

FIXTURE(example)
{
	int fd;
	const char *dax;
	struct lib_export x[2];
	char prog[512], peer[96], out[4096];
};

/* [0, LOG_SIZE) of the devdax device zeroed: no log there yet */
static int zero_log(const char *dax)
{
	int fd = open(dax, O_RDWR);
	char *p;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, LOG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, LOG_SIZE);
	munmap(p, LOG_SIZE);
	return 0;
}

FIXTURE_SETUP(example)
{
	const char *pmem = getenv("PMEM_RDMA_PMEM"), *top = getenv("PMEM_RDMA_TOP");
	int i;

	self->dax = getenv("PMEM_RDMA_DAX");
	if (!pmem || !*pmem || !self->dax || !*self->dax)
		SKIP(return, "no devdax and fsdax namespaces");
	ASSERT_NE(NULL, top);
	snprintf(self->prog, sizeof(self->prog), "%s/build/examples/replicated_log",
		 top);
	ASSERT_EQ(0, zero_log(self->dax));
	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, lib_export_keyed(self->fd, pmem, EX_PORT + i,
					      EXP_OFF + i * EXP_LEN, false,
					      &self->x[i]));
	snprintf(self->peer, sizeof(self->peer), "%s", self->x[0].addr);
}

FIXTURE_TEARDOWN(example)
{
	int i;

	if (!self->dax || !*self->dax)
		return;
	for (i = 0; i < 2; i++)
		if (self->x[i].id)
			unexport(self->fd, self->x[i].id);
	close(self->fd);
}

/* the example appending n records, replicated to both exports */
static int append(FIXTURE_DATA(example) *self, unsigned int n)
{
	return pt_sh_out(self->out, sizeof(self->out), "%s append %s %u %s %u %u 2>&1",
			 self->prog, self->dax, n, self->peer, EX_PORT,
			 EX_PORT + 1);
}

/* the example recovering from export i, or from the local copy (-1) */
static int recover(FIXTURE_DATA(example) *self, int i)
{
	if (i < 0)
		return pt_sh_out(self->out, sizeof(self->out), "%s recover %s 2>&1",
				 self->prog, self->dax);
	return pt_sh_out(self->out, sizeof(self->out), "%s recover %s %u 2>&1",
			 self->prog, self->peer, EX_PORT + i);
}

TEST_F(example, a_replica_alone_recovers_the_log)
{
	struct pmem_rdma_power_fail pf;

	if (!self->dax || !*self->dax)
		return;
	ASSERT_EQ(0, append(self, 300)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 300 records\n", self->out);
	/* a second run goes on where the log is */
	ASSERT_EQ(0, append(self, 200)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 500 records\n", self->out);

	/* replica 0 loses what was not durable; the log was */
	ASSERT_EQ(0, lib_power(self->fd, self->x[0].id, 0, 0, 1, &pf));
	EXPECT_EQ(0, recover(self, 0)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 500 records, 0 damaged\n", self->out);
	EXPECT_EQ(0, recover(self, -1)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 500 records, 0 damaged\n", self->out);
}

/*
 * A replica that fails for good in the middle of a run drops out, and the
 * run goes on with the other: every record is on it.  A run that starts
 * with it down cannot make its map.
 */
TEST_F(example, the_log_goes_on_without_a_replica)
{
	struct pmem_rdma_power_fail pf;
	struct pmem_rdma_stats st;
	char cmd[1024];
	size_t n = 0;
	FILE *f;
	int i;

	if (!self->dax || !*self->dax)
		return;
	ASSERT_EQ(0, append(self, 100)) TH_LOG("%s", self->out);
	snprintf(cmd, sizeof(cmd), "%s append %s 20000 %s %u %u 2>&1", self->prog,
		 self->dax, self->peer, EX_PORT, EX_PORT + 1);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	/* its appends under way: more FLUSHes than making the map takes */
	for (i = 0; i < 3000; i++) {
		ASSERT_EQ(0, export_stats(self->fd, self->x[1].id, &st));
		if (st.flushes > 200 + 100 * 2)
			break;
		usleep(10000);
	}
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_STAY_DOWN, 0, 1, &pf));
	self->out[0] = '\0';
	while (n + 1 < sizeof(self->out) &&
	       fgets(self->out + n, sizeof(self->out) - n, f))
		n += strlen(self->out + n);
	EXPECT_EQ(0, pclose(f)) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "a replica dropped out")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "replicated_log: 20100 records\n"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, recover(self, 0)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 20100 records, 0 damaged\n", self->out);

	/* down from the start: the map is not made, nothing is appended */
	EXPECT_NE(0, append(self, 1));
	EXPECT_NE(NULL, strstr(self->out, "replicated_log: map: ")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, recover(self, -1)) TH_LOG("%s", self->out);
	EXPECT_STREQ("replicated_log: 20100 records, 0 damaged\n", self->out);
	ASSERT_EQ(0, lib_power(self->fd, self->x[1].id,
			       PMEM_RDMA_POWER_FAIL_POWER_ON, 0, 0, &pf));
}

TEST_HARNESS_MAIN
