// SPDX-License-Identifier: GPL-2.0
/*
 * Who may connect to an export: the allow-list of peer addresses, the
 * proof of the export's key in the connect request (struct pmem_rdma_auth)
 * and its replay protection.  Every refusal is an RDMA CM REJECT with its
 * documented reason, counted in STATS as refused, never a connect.  The
 * peer is on the target's own rxe device, so its address is the device's.
 */
#include <arpa/inet.h>
#include <time.h>

#include "target_helpers.h"

FIXTURE(access)
{
	int fd;
	const char *pmem;
	uint32_t id;
	struct pmem_rdma_policy policy;
	uint8_t me[16];		/* the peer's address */
	uint8_t key[32];
};

FIXTURE_SETUP(access)
{
	struct sockaddr_in6 sin6;
	size_t i;

	self->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->pmem = getenv("PMEM_RDMA_PMEM");
	if (!self->pmem || !self->pmem[0])
		SKIP(return, "no fsdax namespace (PMEM_RDMA_PMEM)");
	ASSERT_EQ(0, pt_peer_device_addr(&sin6, TARGET_PORT));
	memcpy(self->me, sin6.sin6_addr.s6_addr, 16);
	for (i = 0; i < sizeof(self->key); i++)
		self->key[i] = 0x30 + i;
}

FIXTURE_TEARDOWN(access)
{
	if (self->id)
		unexport(self->fd, self->id);
	close(self->fd);
}

static void allow(struct pmem_rdma_policy *p, const uint8_t addr[16],
		  uint8_t len)
{
	memcpy(p->allow[p->nallow].addr, addr, 16);
	p->allow[p->nallow].len = len;
	p->nallow++;
}

/* (re)export with policy p, as *id */
static int export_with(int fd, const char *pmem,
		       const struct pmem_rdma_policy *p, uint32_t *id)
{
	if (*id)
		unexport(fd, *id);
	*id = 0;
	return export_range_policy(fd, pmem, 0, ACCESS_RWF, 0, 0, p, id);
}

#define export_as(self) \
	export_with((self)->fd, (self)->pmem, &(self)->policy, &(self)->id)

/* connect with k (NULL: no proof): 0, or the REJECT's reason */
static int try_connect(struct pt_peer_key *k)
{
	struct pt_peer p;
	const char *what = "";
	int ret;

	ret = pt_peer_connect_key(&p, TARGET_PORT, k, &what);
	if (ret)
		ret = p.conn.rejected ? p.conn.reject_reason : ret;
	pt_peer_close(&p);
	return ret;
}

static void expect_stats(struct __test_metadata *_metadata, int fd,
			 uint32_t id, uint64_t connects, uint64_t refused)
{
	struct pmem_rdma_stats st;

	ASSERT_EQ(0, export_stats(fd, id, &st));
	EXPECT_EQ(connects, st.connects);
	EXPECT_EQ(refused, st.refused);
}

#define expect_counts(_metadata, self, connects, refused) \
	expect_stats(_metadata, (self)->fd, (self)->id, connects, refused)

TEST_F(access, allow_list_of_addresses_and_prefixes)
{
	uint8_t other[16], doc[16];

	if (!self->pmem || !self->pmem[0])
		return;
	ASSERT_EQ(1, inet_pton(AF_INET6, "2001:db8::", doc));
	memcpy(other, self->me, 16);
	other[15] ^= 1;

	/* the peer's own address */
	allow(&self->policy, self->me, 128);
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(0, try_connect(NULL));
	expect_counts(_metadata, self, 1, 0);

	/* others only: refused, with the reason */
	memset(&self->policy, 0, sizeof(self->policy));
	allow(&self->policy, doc, 32);
	allow(&self->policy, other, 128);
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(PMEM_RDMA_REJECT_ADDRESS, try_connect(NULL));
	/* the prefix bits beyond len do not count: other/127 has me */
	self->policy.allow[1].len = 127;
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(0, try_connect(NULL));

	/* the link-local prefix */
	memset(&self->policy, 0, sizeof(self->policy));
	allow(&self->policy, doc, 32);
	self->policy.allow[0].addr[0] = 0xfe;
	self->policy.allow[0].addr[1] = 0x80;
	self->policy.allow[0].addr[2] = self->policy.allow[0].addr[3] = 0;
	self->policy.allow[0].len = 10;
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(0, try_connect(NULL));
	expect_counts(_metadata, self, 1, 0);
}

TEST_F(access, key_proof)
{
	struct pt_peer_key k = { .key = self->key, .len = sizeof(self->key) };
	struct pt_peer_key wrong = k, replay = { 0 };
	uint8_t bad[32];

	if (!self->pmem || !self->pmem[0])
		return;
	self->policy.key_len = sizeof(self->key);
	memcpy(self->policy.key, self->key, sizeof(self->key));
	ASSERT_EQ(0, export_as(self));

	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(NULL));
	memcpy(bad, self->key, sizeof(bad));
	bad[31] ^= 0x80;
	wrong.key = bad;
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(&wrong));
	/* a shorter key is another key */
	wrong.key = self->key;
	wrong.len = 31;
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(&wrong));
	expect_counts(_metadata, self, 0, 3);

	EXPECT_EQ(0, try_connect(&k));
	expect_counts(_metadata, self, 1, 3);
	/* the same proof again, as someone who saw it would send it */
	replay.replay = &k.sent;
	EXPECT_EQ(PMEM_RDMA_REJECT_REPLAY, try_connect(&replay));
	/* a new one is fine */
	EXPECT_EQ(0, try_connect(&k));

	/* the clock: a minute and more either side is too far */
	k.time = time(NULL) - 2 * PMEM_RDMA_AUTH_WINDOW;
	EXPECT_EQ(PMEM_RDMA_REJECT_STALE, try_connect(&k));
	k.time = time(NULL) + 2 * PMEM_RDMA_AUTH_WINDOW;
	EXPECT_EQ(PMEM_RDMA_REJECT_STALE, try_connect(&k));
	k.time = time(NULL) - PMEM_RDMA_AUTH_WINDOW / 2;
	EXPECT_EQ(0, try_connect(&k));
	expect_counts(_metadata, self, 3, 6);
}

/*
 * The replay memory is the port's: the same key exported again on the
 * port within the window still knows the proofs the first export took.
 */
TEST_F(access, replay_memory_outlives_the_export)
{
	struct pt_peer_key k = { .key = self->key, .len = sizeof(self->key) };
	struct pt_peer_key replay = { .key = self->key, .len = sizeof(self->key) };

	if (!self->pmem || !self->pmem[0])
		return;
	self->policy.key_len = sizeof(self->key);
	memcpy(self->policy.key, self->key, sizeof(self->key));
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(0, try_connect(&k));

	/* unexported and exported again at once */
	ASSERT_EQ(0, export_as(self));
	replay.replay = &k.sent;
	EXPECT_EQ(PMEM_RDMA_REJECT_REPLAY, try_connect(&replay));
	EXPECT_EQ(0, try_connect(&k));
	expect_counts(_metadata, self, 1, 1);
}

/*
 * A proof holds for one export: its port and its target address, and one
 * peer address.  The peer and the target share the device here: the
 * peer's address is the target's too.
 */
TEST_F(access, proof_bound_to_port_and_addresses)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pmem_rdma_auth au;
	struct pt_peer_key k = { .replay = &au };
	uint8_t other[16];

	if (!self->pmem || !self->pmem[0])
		return;
	self->policy.key_len = sizeof(self->key);
	memcpy(self->policy.key, self->key, sizeof(self->key));
	ASSERT_EQ(0, export_as(self));

	pmrdma_auth_make(&au, self->key, sizeof(self->key), TARGET_PORT + 1,
			 self->me, self->me, time(NULL), nonce);
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(&k));
	memcpy(other, self->me, 16);
	other[15] ^= 1;
	pmrdma_auth_make(&au, self->key, sizeof(self->key), TARGET_PORT, other,
			 self->me, time(NULL), nonce);
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(&k));
	/* a proof captured on its way to another target with the key */
	pmrdma_auth_make(&au, self->key, sizeof(self->key), TARGET_PORT,
			 self->me, other, time(NULL), nonce);
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(&k));
	/* the same, right: accepted (and the test's proof is a good one) */
	pmrdma_auth_make(&au, self->key, sizeof(self->key), TARGET_PORT, self->me,
			 self->me, time(NULL), nonce);
	EXPECT_EQ(0, try_connect(&k));
}

/* with both, a peer needs both */
TEST_F(access, allow_list_and_key)
{
	struct pt_peer_key k = { .key = self->key, .len = sizeof(self->key) };
	uint8_t doc[16];

	if (!self->pmem || !self->pmem[0])
		return;
	ASSERT_EQ(1, inet_pton(AF_INET6, "2001:db8::", doc));
	self->policy.key_len = sizeof(self->key);
	memcpy(self->policy.key, self->key, sizeof(self->key));
	allow(&self->policy, doc, 32);
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(PMEM_RDMA_REJECT_ADDRESS, try_connect(&k));

	self->policy.allow[0].len = 0;	/* ::/0, every address */
	ASSERT_EQ(0, export_as(self));
	EXPECT_EQ(PMEM_RDMA_REJECT_AUTH, try_connect(NULL));
	EXPECT_EQ(0, try_connect(&k));
	expect_counts(_metadata, self, 1, 1);
}

TEST_HARNESS_MAIN
