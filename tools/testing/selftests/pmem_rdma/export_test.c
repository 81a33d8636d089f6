// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_rdma exports of the fsdax namespace (PMEM_RDMA_PMEM): the ioctl
 * refusals, each with its errno and nothing left behind, the policies that
 * say who may connect and how LIST shows them, overlapping
 * exports, a port in use, an unprivileged caller, and the RDMA device
 * going away under an export.
 */
#include <sys/wait.h>

#include "target_helpers.h"

#define PORT		7471

static void export_req(struct pmem_rdma_export_req *e, const char *path,
		       uint64_t off, uint64_t len, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->abi_version = PMEM_RDMA_ABI_VERSION;
	e->flags = PMEM_RDMA_EXPORT_ANY_PEER;
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->offset = off;
	e->length = len;
	e->access = ACCESS_RWF;
	snprintf(e->ib_dev, sizeof(e->ib_dev), "%s", PT_DEV_DEFAULT);
	e->port = port;
}

FIXTURE(control_device)
{
	int fd;
	const char *pmem;
};

FIXTURE_SETUP(control_device)
{
	self->pmem = getenv("PMEM_RDMA_PMEM");
	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
}

FIXTURE_TEARDOWN(control_device)
{
	struct pmem_rdma_export_info info[8];
	struct pmem_rdma_list l = {
		.count = 8, .entries = (uintptr_t)info,
	};
	uint32_t i;

	/* leave no export behind for the next test */
	if (!ctl(self->fd, PMEM_RDMA_IOC_LIST, &l))
		for (i = 0; i < l.count && i < 8; i++)
			unexport(self->fd, info[i].id);
	close(self->fd);
}

TEST_F(control_device, refusals)
{
	struct pmem_rdma_export_req e;

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.abi_version = 1;
	EXPECT_EQ(-EPROTO, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.flags = 1U << 7;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.access |= 1U << 9;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	/* a data key without its flag, beyond its length, or two ciphers */
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.data_key[31] = 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	e.flags |= PMEM_RDMA_EXPORT_KEYED_128;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	e.flags |= PMEM_RDMA_EXPORT_KEYED_256;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.max_peers = PMEM_RDMA_MAX_PEERS_LIMIT + 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, 0, PORT);
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, 4096 + 1, PORT);
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 1ULL << 40, EXP_LEN, PORT);
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, 1ULL << 40, PORT);
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, "/dev/pmem-missing", 0, EXP_LEN, PORT);
	EXPECT_EQ(-ENOENT, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, "/dev/null", 0, EXP_LEN, PORT);
	EXPECT_EQ(-ENOTBLK, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	snprintf(e.ib_dev, sizeof(e.ib_dev), "nosuchdev");
	EXPECT_EQ(-ENODEV, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	/* VERIFY comes with its algorithms, and they with it */
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.access |= PMEM_RDMA_ACCESS_VERIFY;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.verify_algs = PMEM_RDMA_VERIFY_CRC32C;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.access |= PMEM_RDMA_ACCESS_VERIFY;
	e.verify_algs = PMEM_RDMA_VERIFY_CRC32C | (1U << 4);
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	/* nothing was left behind by any of them */
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	EXPECT_LT(0, e.id);
	EXPECT_EQ(0, unexport(self->fd, e.id));
	EXPECT_EQ(-ENOENT, unexport(self->fd, e.id));
}

/*
 * One fast-registration MR maps the whole export for every peer: rxe's
 * holds 512 pages, so 8 MiB in 4 KiB pages (an offset that is not 2 MiB
 * aligned) cannot be mapped, while in 2 MiB pages it can.
 */
/* the entry of export id in LIST, or -ENOENT */
static int list_entry(int fd, uint32_t id, struct pmem_rdma_export_info *out)
{
	struct pmem_rdma_export_info info[8];
	struct pmem_rdma_list l = { .count = 8, .entries = (uintptr_t)info };
	uint32_t i;

	if (ctl(fd, PMEM_RDMA_IOC_LIST, &l))
		return -EIO;
	for (i = 0; i < l.count && i < 8; i++) {
		if (info[i].id == id) {
			*out = info[i];
			return 0;
		}
	}
	return -ENOENT;
}

TEST_F(control_device, policy_refusals)
{
	struct pmem_rdma_export_info info;
	struct pmem_rdma_export_req e;
	struct pmem_rdma_policy *p = &e.policy;

	/* no open default: neither list nor key needs ANY_PEER */
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.flags = 0;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	/* and ANY_PEER goes alone */
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	p->nallow = 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	p->key_len = 32;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	e.flags = 0;
	p->nallow = PMEM_RDMA_ALLOW_MAX + 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->nallow = 1;
	p->allow[0].len = 129;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->allow[0].len = 128;
	p->allow[0].reserved[6] = 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->allow[0].reserved[6] = 0;
	p->allow[1].addr[0] = 0xfe;	/* an unused entry */
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->allow[1].addr[0] = 0;
	p->reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->reserved[1] = 0;

	p->nallow = 0;
	p->key_len = PMEM_RDMA_KEY_MIN - 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->key_len = PMEM_RDMA_KEY_MAX + 1;
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->key_len = 32;
	p->key[40] = 1;			/* beyond key_len */
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	p->key[40] = 0;

	/* what is left is good: a key, then a key and two prefixes */
	EXPECT_EQ(-EINVAL, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e))
		TH_LOG("the unused allow[0] is not zero");
	memset(&p->allow[0], 0, sizeof(p->allow[0]));
	memset(p->key, 0xa5, 32);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	ASSERT_EQ(0, list_entry(self->fd, e.id, &info));
	EXPECT_EQ(0, info.nallow);
	EXPECT_EQ(32, info.key_len);
	EXPECT_EQ(0, info.flags & PMEM_RDMA_EXPORT_ANY_PEER);
	EXPECT_EQ(0, unexport(self->fd, e.id));

	e.id = 0;
	p->nallow = 2;
	p->allow[0].len = 64;
	p->allow[0].addr[0] = 0xfe;
	p->allow[0].addr[1] = 0x80;
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	ASSERT_EQ(0, list_entry(self->fd, e.id, &info));
	EXPECT_EQ(2, info.nallow);
	EXPECT_EQ(32, info.key_len);
	EXPECT_EQ(0, unexport(self->fd, e.id));
}

TEST_F(control_device, too_large_for_one_mr)
{
	struct pmem_rdma_export_req e;

	export_req(&e, self->pmem, 4096, 8UL << 20, PORT);
	EXPECT_EQ(-E2BIG, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	export_req(&e, self->pmem, 2UL << 20, 8UL << 20, PORT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	EXPECT_EQ(0, unexport(self->fd, e.id));
}

TEST_F(control_device, overlap_and_port_in_use)
{
	struct pmem_rdma_export_req a, b;

	export_req(&a, self->pmem, 0, EXP_LEN, PORT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &a));
	export_req(&b, self->pmem, EXP_LEN - 4096, EXP_LEN, PORT + 1);
	EXPECT_EQ(-EBUSY, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &b));
	export_req(&b, self->pmem, EXP_LEN, EXP_LEN, PORT);
	EXPECT_EQ(-EADDRINUSE, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &b));
	export_req(&b, self->pmem, EXP_LEN, EXP_LEN, PORT + 1);
	EXPECT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &b));
	EXPECT_NE(a.id, b.id);
}

TEST_F(control_device, unprivileged_export_refused)
{
	struct pmem_rdma_export_req e;
	struct pmem_rdma_stats st = {};
	int status;
	pid_t pid;

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the open fd stays; the privilege goes */
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		if (ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e) != -EPERM)
			_exit(3);
		if (unexport(self->fd, 1) != -EPERM)
			_exit(4);
		/* looking is allowed */
		st.id = 12345;
		_exit(ctl(self->fd, PMEM_RDMA_IOC_STATS, &st) == -ENOENT ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(control_device, rdma_device_goes_away)
{
	struct pmem_rdma_export_info info[2];
	struct pmem_rdma_list l = { .count = 2, .entries = (uintptr_t)info };
	struct pmem_rdma_stats st = {};
	struct pmem_rdma_export_req e;

	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));

	/* the export pins the driver: no unload under it */
	EXPECT_NE(0, pt_sh("rmmod rdma_rxe_flush 2>/dev/null"));
	EXPECT_EQ(0, access("/sys/module/rdma_rxe_flush", F_OK));

	/* but the device may go: the export lets go of it, and stays */
	ASSERT_EQ(0, pt_sh("timeout 30 rdma link delete rxe0"));
	EXPECT_NE(0, access("/sys/class/infiniband/rxe0", F_OK));
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_LIST, &l));
	EXPECT_EQ(1, l.count);
	EXPECT_EQ(e.id, info[0].id);
	EXPECT_EQ(0, info[0].peers);
	st.id = e.id;
	EXPECT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_STATS, &st));
	EXPECT_EQ(0, unexport(self->fd, e.id));

	/* the same device again, and an export on it */
	ASSERT_EQ(0, pt_sh("rdma link add rxe0 type rxe netdev d0"));
	export_req(&e, self->pmem, 0, EXP_LEN, PORT);
	ASSERT_EQ(0, ctl(self->fd, PMEM_RDMA_IOC_EXPORT, &e));
	EXPECT_EQ(0, unexport(self->fd, e.id));
}

TEST_HARNESS_MAIN
