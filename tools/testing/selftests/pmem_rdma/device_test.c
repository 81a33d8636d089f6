// SPDX-License-Identifier: GPL-2.0
/*
 * The test VM as the other tests expect it: the patched rxe is the loaded
 * Soft-RoCE driver and rxe0 belongs to it, user space sees rxe0, the
 * emulated NVDIMM is a DAX device of the requested size, and /dev/pmem_rdma
 * answers the ABI version query.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pmem_rdma.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"

#define SZ_2M	(2UL << 20)

/* Run a command; return its output with every run of blanks made one space. */
static char *run_squeezed(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, cap = 1 << 16;
	char *out = calloc(1, cap);
	int c, blank = 0;

	if (!p || !out)
		return NULL;
	while ((c = fgetc(p)) != EOF && n < cap - 1) {
		if (c == ' ' || c == '\t') {
			blank = 1;
			continue;
		}
		if (blank && n && out[n - 1] != '\n')
			out[n++] = ' ';
		blank = 0;
		out[n++] = c;
	}
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

TEST(patched_rxe_loaded)
{
	char ver[64];

	ASSERT_TRUE(pt_exists("/sys/module/rdma_rxe_flush"));
	ASSERT_EQ(0, pt_read_line("/sys/module/rdma_rxe_flush/version",
				  ver, sizeof(ver)));
	EXPECT_NE(0, strlen(ver));
	/* the in-tree driver must never be loaded beside ours */
	EXPECT_FALSE(pt_exists("/sys/module/rdma_rxe"));
}

TEST(rxe0_bound_to_patched_rxe)
{
	char ver[64], fw[128], want[128], ndev[64];

	ASSERT_TRUE(pt_exists("/sys/class/infiniband/rxe0"));
	ASSERT_EQ(0, pt_read_line("/sys/module/rdma_rxe_flush/version",
				  ver, sizeof(ver)));
	ASSERT_EQ(0, pt_read_line("/sys/class/infiniband/rxe0/fw_ver",
				  fw, sizeof(fw)));
	snprintf(want, sizeof(want), "rxe_flush-%s", ver);
	EXPECT_STREQ(want, fw);
	ASSERT_EQ(0, pt_read_line("/sys/class/infiniband/rxe0/ports/1/gid_attrs/ndevs/0",
				  ndev, sizeof(ndev)));
	EXPECT_STREQ("d0", ndev);
}

TEST(ibv_devinfo_sees_rxe0)
{
	char *out = run_squeezed("ibv_devinfo -d rxe0 2>&1");
	char ver[64], want[96];

	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, pt_read_line("/sys/module/rdma_rxe_flush/version",
				  ver, sizeof(ver)));
	/* the provider prints the numeric fw_ver: the module's version */
	snprintf(want, sizeof(want), "fw_ver: %s\n", ver);
	EXPECT_NE(NULL, strstr(out, "hca_id: rxe0\n"));
	EXPECT_NE(NULL, strstr(out, "transport: InfiniBand"));
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, "state: PORT_ACTIVE"));
	EXPECT_NE(NULL, strstr(out, "link_layer: Ethernet"));
	free(out);
}

TEST(devdax_of_requested_size)
{
	const char *mode = getenv("PMEM_RDMA_MODE");
	const char *dev = getenv("PMEM_RDMA_DAX");
	const char *req = getenv("PMEM_RDMA_DAX_SIZE");
	unsigned long long want, size;
	char path[128], line[64];
	unsigned char *p;
	int fd;

	if (!mode || strcmp(mode, "devdax"))
		SKIP(return, "the VM's NVDIMM is not in devdax mode");
	ASSERT_NE(NULL, dev);
	ASSERT_NE(NULL, req);
	want = strtoull(req, NULL, 0);
	ASSERT_EQ(0, strncmp(dev, "/dev/dax", 8));
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/size", dev + 5);
	ASSERT_EQ(0, pt_read_line(path, line, sizeof(line)));
	size = strtoull(line, NULL, 0);
	TH_LOG("%s: %llu bytes of a %llu-byte namespace", dev, size, want);
	/* labels and the struct page reservation come off the NVDIMM */
	EXPECT_LE(size, want);
	EXPECT_GE(size, want / 100 * 90);
	EXPECT_EQ(0, size % SZ_2M);

	/* and it is usable memory: map it, store, map again, load */
	fd = open(dev, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pt_fill_pattern(p, SZ_2M, 42);
	ASSERT_EQ(0, munmap(p, SZ_2M));
	p = mmap(NULL, SZ_2M, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, pt_check_pattern(p, SZ_2M, 42));
	munmap(p, SZ_2M);
	close(fd);
}

TEST(pmem_rdma_abi_version)
{
	struct pmem_rdma_version v;
	int fd = open("/dev/pmem_rdma", O_RDWR);

	ASSERT_LE(0, fd);
	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, ioctl(fd, PMEM_RDMA_IOC_GET_VERSION, &v));
	EXPECT_EQ(PMEM_RDMA_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0, v.reserved0);
	EXPECT_EQ(0, v.reserved[0] | v.reserved[1] | v.reserved[2]);
	/* an unknown command is refused, not ignored */
	EXPECT_EQ(-1, ioctl(fd, _IO(PMEM_RDMA_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST_HARNESS_MAIN
