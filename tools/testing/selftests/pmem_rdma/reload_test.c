// SPDX-License-Identifier: GPL-2.0
/*
 * Module unload and reload leave nothing behind: removing the patched rxe
 * removes rxe0 with it, loading it again brings no stale device back, and
 * a device created afterwards works.  The same for pmem_rdma and its
 * control device.  Runs last among the selftests; it leaves rxe0 in place
 * for what follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"

static int rdma_link_lists_rxe0(void)
{
	char line[256];
	int found = 0;
	FILE *p = popen("rdma link show 2>/dev/null", "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "link rxe0/"))
			found = 1;
	pclose(p);
	return found;
}

/* A one-page RDMA WRITE between two fresh QPs on rxe0. */
static int rxe0_moves_data(void)
{
	static unsigned char a[4096], b[4096];
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_mr *ma = NULL, *mb = NULL;
	struct pt_ctx c;
	struct ibv_wc wc;
	int ok = 0;

	if (pt_open(&c))
		return 0;
	if (pt_connect_pair(&c, acc))
		goto out;
	ma = ibv_reg_mr(c.pd, a, sizeof(a), acc);
	mb = ibv_reg_mr(c.pd, b, sizeof(b), acc);
	if (!ma || !mb)
		goto out;
	pt_fill_pattern(a, sizeof(a), 99);
	memset(b, 0, sizeof(b));
	if (pt_rdma_sync(&c, IBV_WR_RDMA_WRITE, a, sizeof(a), ma->lkey,
			 (uintptr_t)b, mb->rkey, &wc) ||
	    wc.status != IBV_WC_SUCCESS)
		goto out;
	ok = !pt_check_pattern(b, sizeof(b), 99);
out:
	if (ma)
		ibv_dereg_mr(ma);
	if (mb)
		ibv_dereg_mr(mb);
	pt_close(&c);
	return ok;
}

TEST(rxe_unload_reload)
{
	const char *ko = getenv("PMEM_RDMA_RXE_KO");

	ASSERT_NE(NULL, ko);
	ASSERT_TRUE(pt_exists("/sys/class/infiniband/rxe0"));

	ASSERT_EQ(0, pt_sh("rmmod rdma_rxe_flush"));
	EXPECT_FALSE(pt_exists("/sys/module/rdma_rxe_flush"));
	EXPECT_FALSE(pt_exists("/sys/class/infiniband/rxe0"));
	EXPECT_EQ(0, rdma_link_lists_rxe0());

	ASSERT_EQ(0, pt_sh("insmod %s", ko));
	EXPECT_TRUE(pt_exists("/sys/module/rdma_rxe_flush"));
	/* nothing stale came back with the module */
	EXPECT_FALSE(pt_exists("/sys/class/infiniband/rxe0"));
	EXPECT_EQ(0, rdma_link_lists_rxe0());

	ASSERT_EQ(0, pt_sh("rdma link add rxe0 type rxe netdev d0"));
	EXPECT_EQ(1, rdma_link_lists_rxe0());
	EXPECT_TRUE(rxe0_moves_data());
}

TEST(pmem_rdma_unload_reload)
{
	const char *ko = getenv("PMEM_RDMA_KO");

	ASSERT_NE(NULL, ko);
	ASSERT_TRUE(pt_exists("/dev/pmem_rdma"));
	ASSERT_EQ(0, pt_sh("rmmod pmem_rdma"));
	EXPECT_FALSE(pt_exists("/sys/module/pmem_rdma"));
	EXPECT_FALSE(pt_exists("/sys/class/misc/pmem_rdma"));
	ASSERT_EQ(0, pt_sh("insmod %s", ko));
	EXPECT_TRUE(pt_exists("/sys/class/misc/pmem_rdma"));
}

TEST_HARNESS_MAIN
