// SPDX-License-Identifier: GPL-2.0
/*
 * pmrdmactl, the command line of the target: help and usage errors, an
 * export's life in JSON (checked by Python's json module), and the
 * one-line errors with their errno text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "peer_helpers.h"

#define PORT	7491

static char tool[512];

/* a shell command's exit status, its output in out */
#define run	pt_sh_out

FIXTURE(cli)
{
	const char *pmem;
	char out[8192];	/* the whole --help */
};

FIXTURE_SETUP(cli)
{
	const char *top = getenv("PMEM_RDMA_TOP");

	ASSERT_NE(NULL, top);
	snprintf(tool, sizeof(tool), "%s/build/tools/pmrdmactl", top);
	self->pmem = getenv("PMEM_RDMA_PMEM");
}

FIXTURE_TEARDOWN(cli)
{
	char out[256];

	/* leave no export behind */
	run(out, sizeof(out), "for i in $(%s list | cut -d' ' -f1); do %s unexport $i; done",
	    tool, tool);
}

TEST_F(cli, help_and_usage_errors)
{
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s --help", tool));
	EXPECT_NE(NULL, strstr(self->out, "usage: pmrdmactl COMMAND"));
	EXPECT_NE(NULL, strstr(self->out, "power-fail ID"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s export --help", tool));

	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s 2>&1", tool));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s frobnicate 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "unknown command 'frobnicate'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s export -p /dev/x 2>&1",
			 tool));
	EXPECT_NE(NULL, strstr(self->out, "needs --path, --length and --port"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2Q -P 1 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "bad length '2Q'"));
	/* 2^34 G is 2^64: it does not fit, and is not taken modulo */
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 17179869184G -P 1 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "bad length '17179869184G'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -a read,fly 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "unknown access 'fly'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -V sha256,md5 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "unknown algorithm 'md5'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -m 0 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "--max-peers takes 1 or more"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s stats 2>&1", tool));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s power-fail 1 -E 1000001 2>&1", tool));

	/* the log writer takes sizes as pmrdmactl does, never a prefix */
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s/build/tools/pmlog write -p /dev/x -o 16X 2>&1",
			 getenv("PMEM_RDMA_TOP")));
	EXPECT_NE(NULL, strstr(self->out, "pmlog: -o: bad number '16X'"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s/build/tools/pmlog write -a ::1 -P 65536 2>&1",
			 getenv("PMEM_RDMA_TOP")));
	EXPECT_NE(NULL, strstr(self->out, "pmlog: -P: bad number '65536'"))
		TH_LOG("%s", self->out);
}

TEST_F(cli, export_list_stats_power_fail_in_json)
{
	const char *py = "python3 -c 'import json,sys; d=json.load(sys.stdin); ";
	int id;

	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s export -p %s -o 2M -l 2M -P %d -A any -e -V sha256 -m 3 -j | %s print(d[\"id\"])'",
			 tool, self->pmem, PORT, py));
	id = atoi(self->out);
	ASSERT_LT(0, id);

	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s list -j | %s e=d[0]; print(len(d), e[\"id\"], e[\"path\"], e[\"offset\"], e[\"length\"], \",\".join(e[\"access\"]), e[\"emulated\"], e[\"dev\"], e[\"port\"], e[\"peers\"], e[\"max_peers\"], \",\".join(e[\"verify\"]), e[\"any_peer\"], e[\"allow\"], e[\"key\"])'",
			 tool, py));
	snprintf(self->out + 2048, 2048,
		 "1 %d %s 2097152 2097152 read,write,flush-global,flush-persistent,verify True rxe0 %d 0 3 sha256 True 0 False\n",
		 id, self->pmem, PORT);
	EXPECT_STREQ(self->out + 2048, self->out);

	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s stats %d -j | %s print(d[\"id\"], d[\"peers\"], d[\"power_failures\"], d[\"dirty_lines\"], d[\"refused\"], len(d))'",
			 tool, id, py));
	snprintf(self->out + 2048, 2048, "%d 0 0 0 0 10\n", id);
	EXPECT_STREQ(self->out + 2048, self->out);

	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s power-fail %d -E 500000 -s 3 -j | %s print(d[\"lines_lost\"], d[\"lines_evicted\"])'",
			 tool, id, py));
	EXPECT_STREQ("0 0\n", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s stats %d", tool, id));
	EXPECT_NE(NULL, strstr(self->out, "power_failures  1"));

	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s unexport %d", tool, id));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s list -j | %s print(len(d))'",
			 tool, py));
	EXPECT_STREQ("0\n", self->out);
}

/* -a all is every access of PMEM_RDMA_ACCESS_ALL; the default is all but verify */
TEST_F(cli, access_all_and_the_default)
{
	int id;

	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s export -p %s -l 2M -P %d -A any -a all -j | cut -d: -f2 | tr -d '}'",
			 tool, self->pmem, PORT));
	id = atoi(self->out);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s list", tool));
	EXPECT_NE(NULL, strstr(self->out,
			       " access=read,write,flush-global,flush-persistent,verify verify=crc32c,sha256,xxh64 "))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s unexport %d", tool, id));

	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s export -p %s -l 2M -P %d -A any -j | cut -d: -f2 | tr -d '}'",
			 tool, self->pmem, PORT));
	id = atoi(self->out);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s list", tool));
	EXPECT_NE(NULL, strstr(self->out,
			       " access=read,write,flush-global,flush-persistent dev="))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s unexport %d", tool, id));
}

/* an export names who may connect; the key stays in its file */
TEST_F(cli, who_may_connect)
{
	const char *py = "python3 -c 'import json,sys; d=json.load(sys.stdin); ";
	const char *key = "/tmp/pt_cli_key";
	int id;

	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "say who may connect: --allow ADDR[/LEN], --key-file FILE, or --allow any"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -A any -A fe80::1 2>&1",
			 tool));
	EXPECT_NE(NULL, strstr(self->out, "--allow any goes alone"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -A fe80::/129 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "bad prefix length '129'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -A 192.0.2.0/33 2>&1",
			 tool));
	EXPECT_NE(NULL, strstr(self->out, "bad prefix length '33'"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -A fe80::zz 2>&1", tool));
	EXPECT_NE(NULL, strstr(self->out, "bad address 'fe80::zz'"));

	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "rm -f %s; head -c 32 /dev/urandom >%s; chmod 644 %s",
			 key, key, key));
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -k %s 2>&1", tool, key));
	EXPECT_NE(NULL, strstr(self->out, "the key is readable by others (chmod 600 it)"));
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "head -c 8 /dev/urandom >%s; chmod 600 %s", key, key));
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s export -p /dev/x -l 2M -P 1 -k %s 2>&1", tool, key));
	EXPECT_NE(NULL, strstr(self->out, "a key has 16 to 64 bytes, this file 8"));

	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "head -c 32 /dev/urandom >%s", key));
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s export -p %s -l 2M -P %d -A fe80::/64 -A 192.0.2.0/24 -k %s -j | %s print(d[\"id\"])'",
			 tool, self->pmem, PORT, key, py));
	id = atoi(self->out);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s list -j | %s e=d[0]; print(e[\"any_peer\"], e[\"allow\"], e[\"key\"])'",
			 tool, py));
	EXPECT_STREQ("False 2 True\n", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s list", tool));
	EXPECT_NE(NULL, strstr(self->out, " allow=2 key\n")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s unexport %d", tool, id));
	unlink(key);
}

TEST_F(cli, errors_are_one_line_with_errno_text)
{
	char want[512];
	int id;

	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s export -p /dev/pmem-missing -l 2M -P %d -A any 2>&1", tool, PORT));
	EXPECT_STREQ("pmrdmactl: export: No such file or directory (no such device path)\n",
		     self->out);

	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s export -p %s -l 2M -P %d -A any -j",
			 tool, self->pmem, PORT));
	id = strncmp(self->out, "{\"id\":", 6) ? 0 : atoi(self->out + 6);
	ASSERT_LT(0, id);
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s export -p %s -o 1M -l 2M -P %d -A any 2>&1", tool, self->pmem,
			 PORT + 1));
	EXPECT_STREQ("pmrdmactl: export: Device or resource busy (overlaps an export, or the device is in use)\n",
		     self->out);
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s export -p %s -o 4M -l 2M -P %d -A any 2>&1", tool, self->pmem,
			 PORT));
	EXPECT_STREQ("pmrdmactl: export: Address already in use (the port is taken)\n",
		     self->out);
	EXPECT_EQ(1, run(self->out, sizeof(self->out), "%s power-fail %d 2>&1", tool, id));
	EXPECT_STREQ("pmrdmactl: power-fail: Operation not supported (not an emulated export)\n",
		     self->out);
	EXPECT_EQ(1, run(self->out, sizeof(self->out), "%s stats %d 2>&1", tool, id + 100));
	EXPECT_STREQ("pmrdmactl: stats: No such file or directory (no such export)\n",
		     self->out);
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "setpriv --reuid=65534 --regid=65534 --clear-groups %s list 2>&1",
			 tool));
	snprintf(want, sizeof(want), "pmrdmactl: list: /dev/pmem_rdma: Permission denied\n");
	EXPECT_STREQ(want, self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s unexport %d", tool, id));
}

/*
 * Every program takes a key as pmrdmactl does (pmrdma_key_read()): a file
 * group or others may read is refused, and so is a key too short or too
 * long - never cut to its first 64 bytes.
 */
TEST_F(cli, keys_are_read_alike_by_every_program)
{
	const char *top = getenv("PMEM_RDMA_TOP");
	char pmlog[512], key[] = "/tmp/cli_test_key_read";

	snprintf(pmlog, sizeof(pmlog), "%s/build/tools/pmlog", top);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "rm -f %s; head -c 32 /dev/urandom >%s; chmod 640 %s",
			 key, key, key));
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s recover -a ::1 -P %d -k %s 2>&1", pmlog, PORT, key));
	EXPECT_STREQ("pmlog: /tmp/cli_test_key_read: the key is readable by others (chmod 600 it)\n",
		     self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "head -c 65 /dev/urandom >%s; chmod 600 %s", key, key));
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s recover -a ::1 -P %d -k %s 2>&1", pmlog, PORT, key));
	EXPECT_STREQ("pmlog: /tmp/cli_test_key_read: a key has 16 to 64 bytes, this file more than 64\n",
		     self->out);
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s serve -p /dev/x -P 1 -k %s 2>&1", tool, key));
	EXPECT_NE(NULL, strstr(self->out, "pmrdmactl: serve: /tmp/cli_test_key_read: a key has 16 to 64 bytes"))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "head -c 15 /dev/urandom >%s", key));
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s recover -a ::1 -P %d -k %s 2>&1", pmlog, PORT, key));
	EXPECT_NE(NULL, strstr(self->out, "this file 15")) TH_LOG("%s", self->out);
	unlink(key);
}

/* pmlog's options for the export on PORT of rxe0's address, with key */
static int pmlog_remote(char *buf, size_t len, const char *key)
{
	char addr[96];
	int ret = pt_peer_device_addr_str(addr, sizeof(addr));

	if (!ret)
		snprintf(buf, len, "-a %s -P %d -k %s", addr, PORT, key);
	return ret;
}

/*
 * pmlog, the log writer on libpmrdma, against an export with a key; the
 * export stays down after a power failure until power-on
 */
TEST_F(cli, log_writer_and_power_failure_that_stays_down)
{
	const char *top = getenv("PMEM_RDMA_TOP");
	char pmlog[512], remote[256], key[] = "/tmp/cli_test_key";
	int id;

	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	snprintf(pmlog, sizeof(pmlog), "%s/build/tools/pmlog", top);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "umask 077; head -c 32 /dev/urandom >%s && %s export -p %s -l 2M -P %d -e -k %s -j",
			 key, tool, self->pmem, PORT, key));
	id = strncmp(self->out, "{\"id\":", 6) ? 0 : atoi(self->out + 6);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, pmlog_remote(remote, sizeof(remote), key));

	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s 2>&1", pmlog));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s write 2>&1", pmlog));
	EXPECT_NE(NULL, strstr(self->out, "say where the log is"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s format %s", pmlog, remote));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s write -n 50 -q -m wait %s",
			 pmlog, remote));
	EXPECT_NE(NULL, strstr(self->out, "wait: 50 records in")) TH_LOG("%s", self->out);

	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s power-fail %d --stay-down",
			 tool, id));
	EXPECT_NE(NULL, strstr(self->out, "down until power-on"));
	EXPECT_EQ(1, run(self->out, sizeof(self->out), "%s write -n 10 -q %s 2>&1",
			 pmlog, remote));
	/* the map's first READ of the export is refused */
	EXPECT_NE(NULL, strstr(self->out, "pmlog: map: Remote I/O error: "))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "a request failed: remote operation error"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s power-on %d -j", tool, id));
	EXPECT_EQ(1, run(self->out, sizeof(self->out), "%s power-on %d 2>&1", tool, id));
	EXPECT_STREQ("pmrdmactl: power-on: Invalid argument (bad eviction, flags, or power-on of an export that is not down)\n",
		     self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s recover %s", pmlog, remote));
	EXPECT_STREQ("recovered: pointer 50; records 0..49 covered, 50 whole, 0 torn or lost, 0 not the record written\n",
		     self->out);
	unlink(key);
}

/* the user-space target, and the log writer through it */
TEST_F(cli, serve_without_the_module)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	const char *top = getenv("PMEM_RDMA_TOP");
	char pmlog[512], remote[256], cmd[1024];
	char key[] = "/tmp/cli_test_serve_key";

	if (!dax || !dax[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	snprintf(pmlog, sizeof(pmlog), "%s/build/tools/pmlog", top);
	EXPECT_EQ(2, run(self->out, sizeof(self->out), "%s serve -p %s -P %d 2>&1",
			 tool, dax, PORT));
	EXPECT_NE(NULL, strstr(self->out, "say who may connect"));
	ASSERT_EQ(0, pmlog_remote(remote, sizeof(remote), key));
	/* the server in the background, the log writer against it */
	snprintf(cmd, sizeof(cmd),
		 "umask 077; head -c 24 /dev/urandom >%s; %s serve -p %s -o 8M -l 2M -P %d -k %s >/tmp/cli_serve.out 2>&1 &",
		 key, tool, dax, PORT, key);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s sleep 1; %s format %s && %s write -n 100 -q %s && %s recover %s; r=$?; kill -INT $!; wait $!; cat /tmp/cli_serve.out; exit $r",
			 cmd, pmlog, remote, pmlog, remote, pmlog, remote));
	EXPECT_NE(NULL, strstr(self->out, "serving ")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "pipelined: 100 records in"));
	EXPECT_NE(NULL, strstr(self->out, "recovered: pointer 100; records 0..99 covered, 100 whole, 0 torn or lost, 0 not the record written"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "served: 3 peers, 0 refused")) TH_LOG("%s", self->out);
	unlink(key);
}

/* the value of "generation" in a status -j, or "" */
static void json_generation(const char *out, char gen[17])
{
	const char *p = strstr(out, "\"generation\":\"");

	gen[0] = 0;
	if (p)
		snprintf(gen, 17, "%s", p + 14);
}

/*
 * Failover with the commands a cluster manager runs (pmrdma(7),
 * "Failover").  Host A writes a log with metadata on devdax, replicated to
 * B (pmrdmactl serve, devdax) and C (the kernel target); A is killed with
 * records in flight.  The status of each copy tells B and C current; B is
 * promoted, recovers every record A acknowledged and writes on with C.
 * A's copy, which says a primary had it, is not demoted by mistake; served
 * again, it is judged and made whole.  C goes through promote and demote.
 */
TEST_F(cli, failover_with_the_commands_a_cluster_manager_runs)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	const char *top = getenv("PMEM_RDMA_TOP");
	char pmlog[512], repl[512], c_only[256], addr[96], ga[17], g[17];
	char key[] = "/tmp/cli_fo_key", acked_file[] = "/tmp/cli_fo_acked";
	char a_copy[256], b_copy[256];
	unsigned long long acked, pointer = 0;
	const char *p;
	int id;

	if (!self->pmem || !self->pmem[0] || !dax || !dax[0])
		SKIP(return, "needs the devdax device and the fsdax namespace");
	snprintf(pmlog, sizeof(pmlog), "%s/build/tools/pmlog", top);
	ASSERT_EQ(0, pt_peer_device_addr_str(addr, sizeof(addr)));
	snprintf(c_only, sizeof(c_only), "-a %s -P %d -k %s", addr, PORT + 1, key);
	snprintf(repl, sizeof(repl), "-a %s -P %d -k %s %s", addr, PORT, key,
		 c_only);
	snprintf(a_copy, sizeof(a_copy), "-p %s -o 0x1000000 -l 0x200000", dax);
	snprintf(b_copy, sizeof(b_copy), "-p %s -o 0x1400000 -l 0x200000", dax);

	/* C exported by the kernel target, B served from its devdax range */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "umask 077; head -c 32 /dev/urandom >%s && %s export -p %s -l 2M -P %d -e -k %s -j",
			 key, tool, self->pmem, PORT + 1, key));
	id = strncmp(self->out, "{\"id\":", 6) ? 0 : atoi(self->out + 6);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s serve %s -P %d -k %s >/dev/null 2>&1 & echo $! >/tmp/cli_fo_serve; sleep 1",
			 tool, b_copy, PORT, key));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s format -M %s %s 2>&1",
			 pmlog, a_copy, repl)) TH_LOG("%s", self->out);
	/* A writes, and its host is gone */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s write -M -q -v -n 100000000 %s %s >%s 2>&1 & p=$!; sleep 2; kill -9 $p; wait $p; [ $? = 137 ]",
			 pmlog, a_copy, repl, acked_file)) TH_LOG("%s", self->out);
	acked = pt_pmlog_acked(acked_file);
	ASSERT_LT(10, acked);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "p=$(cat /tmp/cli_fo_serve); kill -INT $p; while kill -0 $p 2>/dev/null; do sleep 0.1; done"));

	/* the status of each copy */
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -j %s", tool,
			 a_copy));
	EXPECT_NE(NULL, strstr(self->out, "\"role\":\"primary\", \"disk\":\"consistent\""))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"closed\":false"));
	json_generation(self->out, ga);
	EXPECT_EQ(16, strlen(ga));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -j %s", tool,
			 b_copy));
	EXPECT_NE(NULL, strstr(self->out, "\"role\":\"none\", \"disk\":\"consistent\""))
		TH_LOG("%s", self->out);
	json_generation(self->out, g);
	EXPECT_STREQ(ga, g);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -j -p %s -l 2M",
			 tool, self->pmem));
	EXPECT_NE(NULL, strstr(self->out, "\"role\":\"secondary\", \"disk\":\"consistent\""))
		TH_LOG("%s", self->out);
	json_generation(self->out, g);
	EXPECT_STREQ(ga, g);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -p %s -o 24M -l 2M",
			 tool, dax));
	EXPECT_NE(NULL, strstr(self->out, "disk: none")) TH_LOG("%s", self->out);

	/* A's copy is not exported by mistake; B is promoted */
	EXPECT_EQ(1, run(self->out, sizeof(self->out),
			 "%s demote %s -P %d -A any 2>&1", tool, a_copy, PORT + 2));
	EXPECT_NE(NULL, strstr(self->out, "says a map has it as its local copy"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(2, run(self->out, sizeof(self->out),
			 "%s export %s -P %d -A any -f 2>&1", tool, a_copy, PORT + 2));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s promote %s 2>&1", tool, b_copy))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s recover -M %s %s 2>&1", pmlog,
			 b_copy, c_only)) TH_LOG("%s", self->out);
	p = strstr(self->out, "recovered: pointer ");
	ASSERT_NE(NULL, p);
	pointer = strtoull(p + 19, NULL, 10);
	EXPECT_LE(acked, pointer) TH_LOG("an acknowledged record was lost");
	EXPECT_NE(NULL, strstr(self->out, " 0 torn or lost, 0 not the record written"))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s write -M -q -n 100 %s %s 2>&1",
			 pmlog, b_copy, c_only)) TH_LOG("%s", self->out);

	/* A's host back: its copy served, judged and made whole */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s serve %s -P %d -k %s >/dev/null 2>&1 & p=$!; sleep 1; %s write -M -q -n 10 %s %s; r=$?; kill -INT $p; while kill -0 $p 2>/dev/null; do sleep 0.1; done; exit $r",
			 tool, a_copy, PORT, key, pmlog, b_copy, repl))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -j %s", tool,
			 b_copy));
	json_generation(self->out, g);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s status -j %s", tool,
			 a_copy));
	EXPECT_NE(NULL, strstr(self->out, "\"role\":\"none\", \"disk\":\"consistent\""))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"closed\":true"));
	json_generation(self->out, ga);
	EXPECT_STREQ(g, ga);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s recover -M %s", pmlog,
			 a_copy)) TH_LOG("%s", self->out);
	snprintf(g, sizeof(g), "%llu", pointer + 110);
	EXPECT_NE(NULL, strstr(self->out, g)) TH_LOG("%s", self->out);

	/* C: promoted, its export goes; demoted, it is back */
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s promote -p %s -l 2M && %s list",
			 tool, self->pmem, tool));
	EXPECT_EQ(NULL, strstr(self->out, "port=7492")) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s demote -p %s -l 2M -P %d -e -k %s && %s status -p %s -l 2M",
			 tool, self->pmem, PORT + 1, key, tool, self->pmem));
	EXPECT_NE(NULL, strstr(self->out, "role: secondary")) TH_LOG("%s", self->out);
	unlink(key);
	unlink(acked_file);
}

/*
 * The OCF resource agent (tools/ocf/pmrdma) as Pacemaker runs it: its
 * actions move a copy exported by the kernel target between the roles,
 * monitor says which role, and a copy without metadata is not promoted.
 */
TEST_F(cli, ocf_agent_moves_a_copy_between_roles)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	const char *top = getenv("PMEM_RDMA_TOP");
	char env[1024], agent[1200], pmlog[512], addr[96];
	char key[] = "/tmp/cli_ocf_key";

	if (!self->pmem || !self->pmem[0] || !dax || !dax[0])
		SKIP(return, "needs the devdax device and the fsdax namespace");
	ASSERT_EQ(0, pt_peer_device_addr_str(addr, sizeof(addr)));
	snprintf(pmlog, sizeof(pmlog), "%s/build/tools/pmlog", top);
	snprintf(env, sizeof(env),
		 "env PMRDMACTL=%s HA_RSCTMP=/tmp/cli_ocf OCF_RESOURCE_INSTANCE=copy OCF_RESKEY_path=%s OCF_RESKEY_offset=0x600000 OCF_RESKEY_length=0x200000 OCF_RESKEY_port=%d OCF_RESKEY_key_file=%s OCF_RESKEY_emulated=true",
		 tool, self->pmem, PORT + 1, key);
	snprintf(agent, sizeof(agent), "%s %s/tools/ocf/pmrdma", env, top);
	/* [6M, 8M) of the namespace, its last page (a header) wiped */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "umask 077; rm -rf /tmp/cli_ocf; head -c 32 /dev/urandom >%s && dd if=/dev/zero of=%s bs=4096 seek=2047 count=1 oflag=direct status=none",
			 key, self->pmem));

	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s meta-data", agent));
	EXPECT_NE(NULL, strstr(self->out, "<resource-agent name=\"pmrdma\""));
	EXPECT_EQ(6, run(self->out, sizeof(self->out),
			 "%s OCF_RESKEY_port= %s/tools/ocf/pmrdma validate-all 2>&1",
			 env, top));
	EXPECT_NE(NULL, strstr(self->out, "are required")) TH_LOG("%s", self->out);
	EXPECT_EQ(3, run(self->out, sizeof(self->out), "%s migrate_to", agent));
	EXPECT_EQ(7, run(self->out, sizeof(self->out), "%s monitor", agent));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s start 2>&1", agent))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s monitor", agent));
	/* a copy without metadata is no replica to promote */
	EXPECT_EQ(1, run(self->out, sizeof(self->out), "%s promote 2>&1", agent));
	EXPECT_NE(NULL, strstr(self->out, "no metadata: not promoted")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s monitor", agent));
	/* a primary elsewhere gives it metadata */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "%s format -M -p %s -o 0x1000000 -l 0x200000 -a %s -P %d -k %s 2>&1",
			 pmlog, dax, addr, PORT + 1, key)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s promote 2>&1", agent))
		TH_LOG("%s", self->out);
	EXPECT_EQ(8, run(self->out, sizeof(self->out), "%s monitor", agent));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s list", tool));
	EXPECT_EQ(NULL, strstr(self->out, "port=7492")) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s demote 2>&1", agent))
		TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, sizeof(self->out), "%s monitor", agent));
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s list", tool));
	EXPECT_NE(NULL, strstr(self->out, "port=7492")) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), "%s stop 2>&1", agent))
		TH_LOG("%s", self->out);
	EXPECT_EQ(7, run(self->out, sizeof(self->out), "%s monitor", agent));
	unlink(key);
}

TEST_HARNESS_MAIN
