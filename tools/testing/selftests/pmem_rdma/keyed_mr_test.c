// SPDX-License-Identifier: GPL-2.0
/*
 * Data keys and keyed MRs through the rxe_flush direct verbs (rdma-core
 * patch 0005, <infiniband/rxe_flush_dv.h>): the device offers them; the
 * driver refuses a key of another length than its algorithm takes, and
 * an MR bound to a key of another PD; a keyed MR is reached over a QP
 * pair bound to its key only (keyed_wire_test has the wire); a key is not
 * destroyed while an MR is bound to it, nor its PD freed; a key goes with
 * the process that made it, after its MRs; and the library keeps no copy
 * of a key's bytes.  A pair of QPs on rxe0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <infiniband/rxe_flush_dv.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"

#define BUF	(64 * 1024)
#define ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		 IBV_ACCESS_REMOTE_READ)

FIXTURE(keyed)
{
	struct pt_ctx c;
	char *buf, *src;
	struct ibv_mr *src_mr;
	uint8_t bytes[32];
};

FIXTURE_SETUP(keyed)
{
	int ret = pt_open(&self->c);

	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, pt_connect_pair(&self->c, ACCESS));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, 4096, BUF));
	ASSERT_EQ(0, posix_memalign((void **)&self->src, 4096, BUF));
	self->src_mr = ibv_reg_mr(self->c.pd, self->src, BUF, ACCESS);
	ASSERT_NE(NULL, self->src_mr);
	ASSERT_EQ(sizeof(self->bytes),
		  getrandom(self->bytes, sizeof(self->bytes), 0));
}

FIXTURE_TEARDOWN(keyed)
{
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	pt_close(&self->c);
	free(self->buf);
	free(self->src);
}

static struct rxe_flush_dv_key *key_on(struct ibv_pd *pd, uint32_t alg,
				       const void *bytes, uint32_t len)
{
	struct rxe_flush_dv_key_init_attr a = {
		.pd = pd, .alg = alg, .key_len = len, .key = bytes,
	};

	return rxe_flush_dv_key_create(pd->context, &a);
}

TEST_F(keyed, the_device_offers_keyed_mrs)
{
	struct rxe_flush_dv_device_attr attr = { 0 };

	ASSERT_EQ(0, rxe_flush_dv_query_device(self->c.ctx, &attr));
	EXPECT_TRUE(attr.flags & RXE_FLUSH_DV_DEVICE_KEYED_MR);
	EXPECT_LE(0x000600, attr.version);
}

/*
 * Each refusal is the kernel's (the library passes the algorithm and the
 * length on): the core's for a length no algorithm takes (0, 8, 15, 33),
 * the driver's for an unknown algorithm or a key of the other one's
 * length - a key is exactly as long as its algorithm says.
 */
TEST_F(keyed, a_key_not_of_its_algorithm_is_refused)
{
	static const struct { uint32_t alg, len; } bad[] = {
		{ RXE_FLUSH_KEY_AES_128_GCM, 0 },
		{ RXE_FLUSH_KEY_AES_128_GCM, 8 },
		{ RXE_FLUSH_KEY_AES_128_GCM, 15 },
		{ RXE_FLUSH_KEY_AES_128_GCM, 24 },
		{ RXE_FLUSH_KEY_AES_128_GCM, 32 },
		{ RXE_FLUSH_KEY_AES_256_GCM, 16 },
		{ RXE_FLUSH_KEY_AES_256_GCM, 24 },
		{ RXE_FLUSH_KEY_AES_256_GCM, 31 },
		{ 0, 16 },
		{ 3, 32 },
	};
	struct rxe_flush_dv_key_init_attr a = {
		.comp_mask = 1, .pd = self->c.pd,
		.alg = RXE_FLUSH_KEY_AES_128_GCM, .key_len = 16,
		.key = self->bytes,
	};
	uint8_t big[33] = { 0 };
	struct rxe_flush_dv_key *k;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		k = key_on(self->c.pd, bad[i].alg, self->bytes, bad[i].len);
		EXPECT_EQ(NULL, k) TH_LOG("alg %u, %u bytes", bad[i].alg,
					  bad[i].len);
		EXPECT_EQ(EINVAL, errno) TH_LOG("alg %u, %u bytes", bad[i].alg,
						bad[i].len);
		if (k)
			rxe_flush_dv_key_destroy(k);
	}
	/* longer than any key, even if what follows is zero */
	memcpy(big, self->bytes, 32);
	EXPECT_EQ(NULL, key_on(self->c.pd, RXE_FLUSH_KEY_AES_256_GCM, big, 33));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, rxe_flush_dv_key_create(self->c.ctx, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(EINVAL, rxe_flush_dv_key_destroy(NULL));
}

/*
 * Over the pair not bound to a key, a WRITE into a keyed MR is refused
 * (the responder has no subkey to open it) and places nothing; bound to
 * an AES-256-GCM key with each other's draw (the two QPs of one device:
 * the loopback path), keyed MRs are written and read back.
 */
TEST_F(keyed, a_keyed_mr_is_reached_over_a_bound_pair_only)
{
	struct rxe_flush_dv_key_init_attr a = {
		.alg = RXE_FLUSH_KEY_AES_128_GCM, .key_len = 16,
		.key = self->bytes,
	};
	uint8_t draw[2][RXE_FLUSH_DV_KEY_DRAW_BYTES];
	struct rxe_flush_dv_key *k[2];
	struct ibv_mr *mr, *src;
	struct ibv_context *ctx2;
	struct ibv_pd *other;
	struct ibv_wc wc;
	unsigned int i;

	k[0] = key_on(self->c.pd, RXE_FLUSH_KEY_AES_128_GCM, self->bytes, 16);
	k[1] = key_on(self->c.pd, RXE_FLUSH_KEY_AES_256_GCM, self->bytes, 32);
	ASSERT_NE(NULL, k[0]) TH_LOG("%s", strerror(errno));
	ASSERT_NE(NULL, k[1]) TH_LOG("%s", strerror(errno));
	mr = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->buf, BUF, ACCESS,
				       k[0]);
	ASSERT_NE(NULL, mr) TH_LOG("%s", strerror(errno));
	/* what ibv_reg_mr() would have set */
	EXPECT_EQ(self->c.pd, mr->pd);
	EXPECT_EQ(self->buf, mr->addr);
	EXPECT_EQ(BUF, mr->length);
	EXPECT_EQ(self->c.ctx, mr->context);
	memset(self->buf, 0, BUF);
	pt_fill_pattern(self->src, BUF, 301);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, BUF,
				  self->src_mr->lkey, (uintptr_t)self->buf,
				  mr->rkey, &wc));
	EXPECT_EQ(IBV_WC_REM_INV_RD_REQ_ERR, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	for (i = 0; i < BUF; i++)
		ASSERT_EQ(0, self->buf[i]) TH_LOG("byte %u placed", i);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, rxe_flush_dv_key_destroy(k[0]));

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pt_qp_rearm(&self->c, i, ACCESS));
		ASSERT_EQ(0, rxe_flush_dv_qp_key_draw(self->c.qp[i], draw[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, rxe_flush_dv_qp_key_bind(self->c.qp[i], k[1],
						      draw[!i]));
	mr = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->buf, BUF, ACCESS,
				       k[1]);
	src = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->src, BUF, ACCESS,
					k[1]);
	ASSERT_NE(NULL, mr);
	ASSERT_NE(NULL, src);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_WRITE, self->src, BUF,
				  src->lkey, (uintptr_t)self->buf, mr->rkey,
				  &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, pt_check_pattern(self->buf, BUF, 301));
	memset(self->src, 0, BUF);
	ASSERT_EQ(0, pt_rdma_sync(&self->c, IBV_WR_RDMA_READ, self->src, BUF,
				  src->lkey, (uintptr_t)self->buf, mr->rkey,
				  &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
		ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, pt_check_pattern(self->src, BUF, 301));
	EXPECT_EQ(0, ibv_dereg_mr(src));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
	/*
	 * No remote atomics (their operands would cross unsealed), no memory
	 * windows (they would grant access beside the MR's key check)
	 */
	errno = 0;
	EXPECT_EQ(NULL, rxe_flush_dv_reg_keyed_mr(self->c.pd, self->buf, BUF,
						  ACCESS |
						  IBV_ACCESS_REMOTE_ATOMIC,
						  k[1]));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, rxe_flush_dv_reg_keyed_mr(self->c.pd, self->buf, BUF,
						  ACCESS | IBV_ACCESS_MW_BIND,
						  k[1]));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, rxe_flush_dv_key_destroy(k[1]));

	/* a key is of its PD: an MR of another is not bound to it */
	other = ibv_alloc_pd(self->c.ctx);
	ASSERT_NE(NULL, other);
	k[0] = key_on(self->c.pd, RXE_FLUSH_KEY_AES_128_GCM, self->bytes, 16);
	ASSERT_NE(NULL, k[0]);
	EXPECT_EQ(NULL, rxe_flush_dv_reg_keyed_mr(other, self->buf, BUF,
						  ACCESS, k[0]));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, rxe_flush_dv_key_destroy(k[0]));
	EXPECT_EQ(0, ibv_dealloc_pd(other));

	/* nor is a key made on a PD of another context */
	ctx2 = ibv_open_device(self->c.ctx->device);
	ASSERT_NE(NULL, ctx2);
	other = ibv_alloc_pd(ctx2);
	ASSERT_NE(NULL, other);
	a.pd = other;
	EXPECT_EQ(NULL, rxe_flush_dv_key_create(self->c.ctx, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ibv_dealloc_pd(other));
	EXPECT_EQ(0, ibv_close_device(ctx2));
}

/* a key goes after its MRs, and its PD after it */
TEST_F(keyed, a_key_outlives_no_mr_bound_to_it)
{
	struct rxe_flush_dv_key *k;
	struct ibv_mr *mr[2];
	struct ibv_pd *pd;
	unsigned int i;

	pd = ibv_alloc_pd(self->c.ctx);
	ASSERT_NE(NULL, pd);
	k = key_on(pd, RXE_FLUSH_KEY_AES_256_GCM, self->bytes, 32);
	ASSERT_NE(NULL, k) TH_LOG("%s", strerror(errno));
	for (i = 0; i < 2; i++) {
		mr[i] = rxe_flush_dv_reg_keyed_mr(pd, self->buf + i * 4096,
						  4096, ACCESS, k);
		ASSERT_NE(NULL, mr[i]) TH_LOG("%s", strerror(errno));
	}
	EXPECT_EQ(EBUSY, ibv_dealloc_pd(pd));
	EXPECT_EQ(EBUSY, rxe_flush_dv_key_destroy(k));
	EXPECT_EQ(0, ibv_dereg_mr(mr[0]));
	EXPECT_EQ(EBUSY, rxe_flush_dv_key_destroy(k));
	EXPECT_EQ(0, ibv_dereg_mr(mr[1]));
	EXPECT_EQ(EBUSY, ibv_dealloc_pd(pd));
	EXPECT_EQ(0, rxe_flush_dv_key_destroy(k));
	EXPECT_EQ(0, ibv_dealloc_pd(pd));
}

/* the sum of the use counts of the kernel's gcm template modules */
static int gcm_users(void)
{
	char v[32];

	if (pt_read_line("/sys/module/gcm/refcnt", v, sizeof(v)))
		return -1;
	return atoi(v);
}


/*
 * A process that ends with a key and MRs bound to it leaves nothing
 * behind: the key's cipher, which holds the gcm module, is freed once the
 * MRs are.  A live key holding it is the control.
 */
TEST_F(keyed, a_key_goes_with_its_process)
{
	struct rxe_flush_dv_key *k;
	int base, n, st, i;
	pid_t pid;

	if (gcm_users() < 0)
		SKIP(return, "gcm is built in: no use count to watch");
	k = key_on(self->c.pd, RXE_FLUSH_KEY_AES_128_GCM, self->bytes, 16);
	ASSERT_NE(NULL, k) TH_LOG("%s", strerror(errno));
	n = gcm_users();
	ASSERT_LE(1, n) TH_LOG("no use of the gcm module by a key");
	ASSERT_EQ(0, rxe_flush_dv_key_destroy(k));
	base = gcm_users();
	ASSERT_EQ(n - 1, base);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pt_ctx c = { 0 };
		struct ibv_mr *mr[2];

		if (pt_open(&c))
			_exit(2);
		k = key_on(c.pd, RXE_FLUSH_KEY_AES_256_GCM, self->bytes, 32);
		for (i = 0; k && i < 2; i++)
			mr[i] = rxe_flush_dv_reg_keyed_mr(c.pd,
							  self->buf + i * 4096,
							  4096, ACCESS, k);
		if (!k || !mr[0] || !mr[1] || gcm_users() != base + 1)
			_exit(3);
		/* gone with all of it still there, as a process is killed */
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFSIGNALED(st)) TH_LOG("the child exited %d",
					    WEXITSTATUS(st));
	/* the context's cleanup may finish after the parent is told */
	for (i = 0; i < 100 && (n = gcm_users()) != base; i++)
		usleep(20000);
	EXPECT_EQ(base, n);
}

/*
 * How many times the 32 bytes that masked holds XORed with 0x5a occur in
 * the process's writable memory: the search never holds them in clear.
 */
static int occurrences(const uint8_t *masked)
{
	char line[512], *chunk = malloc(1 << 20);
	unsigned long lo, hi, a, n;
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY);
	char perm[8];
	int found = 0;
	ssize_t got;
	size_t k, j;

	if (!maps || mem < 0 || !chunk)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 ||
		    perm[1] != 'w' || strstr(line, "[vvar]"))
			continue;
		for (a = lo; a < hi; a += n) {
			n = hi - a < (1 << 20) ? hi - a : (1 << 20);
			got = pread(mem, chunk, n, a);
			for (k = 0; got >= 32 && k + 32 <= (size_t)got; k++) {
				for (j = 0; j < 32; j++)
					if ((uint8_t)(chunk[k + j] ^ 0x5a) !=
					    masked[j])
						break;
				found += j == 32;
			}
			/* so that the mapping of chunk itself is not a find */
			memset(chunk, 0, n);
		}
	}
	fclose(maps);
	close(mem);
	free(chunk);
	return found;
}

/*
 * No copy of a key stays in the process: once the caller wipes its
 * buffer, the bytes are nowhere in its writable memory.  The test keeps
 * them masked, so that its own copy is not found.
 */
TEST_F(keyed, the_library_keeps_no_copy_of_a_key)
{
	uint8_t *bytes = malloc(32), masked[32];
	struct rxe_flush_dv_key *k;
	struct ibv_mr *mr;
	unsigned int i;

	ASSERT_NE(NULL, bytes);
	for (i = 0; i < 32; i++) {
		masked[i] = self->bytes[i] ^ 0x5a;
		bytes[i] = masked[i] ^ 0x5a;
	}
	explicit_bzero(self->bytes, sizeof(self->bytes));
	k = key_on(self->c.pd, RXE_FLUSH_KEY_AES_256_GCM, bytes, 32);
	ASSERT_NE(NULL, k) TH_LOG("%s", strerror(errno));
	mr = rxe_flush_dv_reg_keyed_mr(self->c.pd, self->buf, BUF, ACCESS, k);
	ASSERT_NE(NULL, mr);

	/* the control: the caller's buffer is found */
	EXPECT_EQ(1, occurrences(masked));
	explicit_bzero(bytes, 32);
	EXPECT_EQ(0, occurrences(masked));

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, rxe_flush_dv_key_destroy(k));
	free(bytes);
}

TEST_HARNESS_MAIN
