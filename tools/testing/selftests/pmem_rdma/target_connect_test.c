// SPDX-License-Identifier: GPL-2.0
/*
 * The connect protocol, once: both targets - the kernel's (an export of
 * PMEM_RDMA_PMEM) and libpmrdma's user-space one (a server on
 * PMEM_RDMA_DAX, in a thread of this process) - get the same connect
 * requests and must answer each the same, as the protocol says: an accept
 * with the region descriptor, or a REJECT with the same reason.  The
 * proofs are laid out here by hand, from the table of <linux/pmem_rdma.h>,
 * not with the helpers of <linux/pmem_rdma_connect.h> that both targets
 * share, so that a wrong helper cannot agree with itself.  The helpers
 * alone get fixed vectors and a clock of the test's own first.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <linux/pmem_rdma_connect.h>

#include "target_helpers.h"
#include "pmrdma_serve.h"

#define SERVE_PORT	7611
#define SERVE_OFF	(8UL << 20)
#define SERVE_LEN	(2UL << 20)
#define KEY_LEN		32
#define WINDOW		PMEM_RDMA_AUTH_WINDOW
#define AUTH		PMEM_RDMA_REJECT_AUTH
#define STALE		PMEM_RDMA_REJECT_STALE
#define REPLAY		PMEM_RDMA_REJECT_REPLAY
#define BUSY		PMEM_RDMA_REJECT_BUSY
#define FULL		PMEM_RDMA_REJECT_FULL

/*
 * The proof as the uapi header's table has it: magic 0..3, abi_version
 * 4..5, alg 6..7, time 8..15, nonce 16..23, mac 24..39; the MAC's input is
 * bytes 0..23, the port (2), the peer's address (16) and the target's
 * (16).  The target's accept: the descriptor (40), its mac (16) over
 * "PMRT", the proof (40) and the descriptor.  Written out on purpose.
 */
#define P_ABI		4
#define P_ALG		6
#define P_TIME		8
#define P_NONCE		16
#define P_MAC		24
#define P_SIZE		40
#define M_SIZE		(P_MAC + 2 + 16 + 16)
#define D_SIZE		40
#define A_SIZE		(D_SIZE + 16 + 16 + 16)
#define R_SIZE		56	/* a REQ's private data in the TCP port space */
#define AM_SIZE		(4 + P_SIZE + D_SIZE)

_Static_assert(offsetof(struct pmem_rdma_auth, mac) == P_MAC &&
	       offsetof(struct pmem_rdma_auth, nonce) == P_NONCE &&
	       sizeof(struct pmem_rdma_auth) == P_SIZE &&
	       PMEM_RDMA_AUTH_MAC_INPUT_LEN == M_SIZE,
	       "struct pmem_rdma_auth is not the documented layout");
_Static_assert(sizeof(struct pmem_rdma_region_desc) == D_SIZE &&
	       offsetof(struct pmem_rdma_accept, mac) == D_SIZE &&
	       offsetof(struct pmem_rdma_accept, key_draw) == D_SIZE + 16 &&
	       offsetof(struct pmem_rdma_accept, key_check) == D_SIZE + 32 &&
	       sizeof(struct pmem_rdma_accept) == A_SIZE &&
	       PMEM_RDMA_ACCEPT_MAC_INPUT_LEN == AM_SIZE,
	       "struct pmem_rdma_accept is not the documented layout");
_Static_assert(offsetof(struct pmem_rdma_connect_req, key_draw) == P_SIZE &&
	       sizeof(struct pmem_rdma_connect_req) == R_SIZE,
	       "struct pmem_rdma_connect_req is not the documented layout");

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/*
 * the first 16 bytes of HMAC-SHA256(key, head[0..24) || port || addr ||
 * target)
 */
static void mac_of(uint8_t *mac, const void *key, size_t klen,
		   const uint8_t *head, uint16_t port, const uint8_t *addr,
		   const uint8_t *target)
{
	uint8_t m[M_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int n;

	memcpy(m, head, P_MAC);
	put_be(m + P_MAC, port, 2);
	memcpy(m + P_MAC + 2, addr, 16);
	memcpy(m + P_MAC + 2 + 16, target, 16);
	HMAC(EVP_sha256(), key, klen, m, sizeof(m), md, &n);
	memcpy(mac, md, 16);
}

/* the target's: the first 16 bytes of HMAC-SHA256(key, "PMRT" || proof || desc) */
static void accept_mac_of(uint8_t *mac, const void *key, size_t klen,
			  const void *proof, const void *desc)
{
	uint8_t a[AM_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int n;

	memcpy(a, "PMRT", 4);
	memcpy(a + 4, proof, P_SIZE);
	memcpy(a + 4 + P_SIZE, desc, D_SIZE);
	HMAC(EVP_sha256(), key, klen, a, sizeof(a), md, &n);
	memcpy(mac, md, 16);
}

/* a proof with these fields, signed as it is */
static void proof_make(struct pmem_rdma_auth *au, uint32_t magic, uint16_t abi,
		       uint16_t alg, uint64_t time, const uint8_t *nonce,
		       const void *key, size_t klen, uint16_t port,
		       const uint8_t *addr, const uint8_t *target)
{
	uint8_t *b = (uint8_t *)au;

	put_be(b, magic, 4);
	put_be(b + P_ABI, abi, 2);
	put_be(b + P_ALG, alg, 2);
	put_be(b + P_TIME, time, 8);
	memcpy(b + P_NONCE, nonce, 8);
	mac_of(b + P_MAC, key, klen, b, port, addr, target);
}

/* ---- the shared helpers alone ---- */

static const uint8_t kat_nonce[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
static const uint8_t kat_addr[16] = {
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55,
};
static const uint8_t kat_target[16] = {
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x66, 0x77, 0xff, 0xfe, 0x88, 0x99, 0xaa,
};

TEST(mac_input_bytes)
{
	static const uint8_t want[M_SIZE] = {
		0x50, 0x4d, 0x52, 0x41, 0x00, PMEM_RDMA_ABI_VERSION, 0x00, 0x01,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0x1d, 0x3b,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x66, 0x77, 0xff, 0xfe, 0x88, 0x99, 0xaa,
	};
	uint8_t m[PMEM_RDMA_AUTH_MAC_INPUT_LEN], key[KEY_LEN];
	struct pmem_rdma_auth au, hand;

	memset(&au, 0x5a, sizeof(au));
	pmem_rdma_auth_init(&au, 0x0102030405060708ULL, kat_nonce);
	pmem_rdma_auth_mac_input(m, &au, 0x1d3b, kat_addr, kat_target);
	EXPECT_EQ(0, memcmp(want, m, sizeof(want)));
	EXPECT_EQ(0, memcmp(want, &au, P_MAC));
	/* the library's proof is the one made by hand */
	memset(key, 0x42, sizeof(key));
	ASSERT_EQ(0, pmrdma_auth_make(&au, key, sizeof(key), 0x1d3b, kat_addr,
				      kat_target, 0x0102030405060708ULL,
				      kat_nonce));
	proof_make(&hand, PMEM_RDMA_AUTH_MAGIC, PMEM_RDMA_ABI_VERSION,
		   PMEM_RDMA_AUTH_HMAC_SHA256_128, 0x0102030405060708ULL,
		   kat_nonce, key, sizeof(key), 0x1d3b, kat_addr, kat_target);
	EXPECT_EQ(0, memcmp(&hand, &au, sizeof(au)));
}

/*
 * The target's proof: its MAC's input, and the library's check of an
 * accept - the peer uses a descriptor only from a holder of the key that
 * answers its own proof.
 */
TEST(accept_proof)
{
	uint8_t a[PMEM_RDMA_ACCEPT_MAC_INPUT_LEN], want[AM_SIZE], key[KEY_LEN];
	uint8_t buf[A_SIZE + 140] = { 0 };	/* the CM pads a REP's data */
	struct pmem_rdma_accept *acc = (struct pmem_rdma_accept *)(buf + 0);
	struct pmem_rdma_auth au, other;

	memset(key, 0x42, sizeof(key));
	proof_make(&au, PMEM_RDMA_AUTH_MAGIC, PMEM_RDMA_ABI_VERSION,
		   PMEM_RDMA_AUTH_HMAC_SHA256_128, 7, kat_nonce, key,
		   sizeof(key), 1, kat_addr, kat_target);
	pmem_rdma_desc_encode(&acc->desc, 0, 0, 0x200000, 0xdeadbeef,
			      PMEM_RDMA_ACCESS_WRITE, 0);
	memcpy(want, "PMRT", 4);
	memcpy(want + 4, &au, P_SIZE);
	memcpy(want + 4 + P_SIZE, &acc->desc, D_SIZE);
	pmem_rdma_accept_mac_input(a, &au, &acc->desc);
	EXPECT_EQ(0, memcmp(want, a, sizeof(want)));

	/* none: the descriptor alone, padded by the CM */
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, sizeof(buf), key,
					       sizeof(key), &au));
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, D_SIZE, key, sizeof(key),
					       &au));
	accept_mac_of(acc->mac, key, sizeof(key), &au, &acc->desc);
	EXPECT_EQ(0, pmrdma_accept_check(buf, sizeof(buf), key, sizeof(key),
					 &au));
	EXPECT_EQ(0, pmrdma_accept_check(buf, A_SIZE, key, sizeof(key), &au));
	/* a keyless export's accept ends at the proof; one byte short is not one */
	EXPECT_EQ(0, pmrdma_accept_check(buf, D_SIZE + 16, key, sizeof(key),
					 &au));
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, D_SIZE + 16 - 1, key,
					       sizeof(key), &au));
	/* an answer to another proof, with another key, for another descriptor */
	other = au;
	other.nonce[0] ^= 1;
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, A_SIZE, key, sizeof(key),
					       &other));
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, A_SIZE, key,
					       sizeof(key) - 1, &au));
	buf[14] ^= 1;
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, A_SIZE, key, sizeof(key),
					       &au));
	buf[14] ^= 1;
	buf[D_SIZE + 15] ^= 0x80;
	EXPECT_EQ(-EACCES, pmrdma_accept_check(buf, A_SIZE, key, sizeof(key),
					       &au));
}

TEST(proof_header)
{
	uint8_t buf[P_SIZE + 16] = { 0 }, key[KEY_LEN] = { 0 };
	struct pmem_rdma_auth au;

	proof_make((struct pmem_rdma_auth *)(buf + 1), PMEM_RDMA_AUTH_MAGIC,
		   PMEM_RDMA_ABI_VERSION, PMEM_RDMA_AUTH_HMAC_SHA256_128, 7,
		   kat_nonce, key, sizeof(key), 1, kat_addr, kat_target);
	/* unaligned, and longer than a proof: taken as it is */
	EXPECT_EQ(0, pmem_rdma_auth_parse(&au, buf + 1, sizeof(buf) - 1));
	EXPECT_EQ(0, memcmp(&au, buf + 1, P_SIZE));
	EXPECT_EQ(AUTH, pmem_rdma_auth_parse(&au, buf + 1, P_SIZE - 1));
	EXPECT_EQ(AUTH, pmem_rdma_auth_parse(&au, NULL, 0));
	buf[1 + P_ABI + 1]++;
	EXPECT_EQ(AUTH, pmem_rdma_auth_parse(&au, buf + 1, P_SIZE));
	buf[1 + P_ABI + 1]--;
	buf[1 + P_ALG + 1]++;
	EXPECT_EQ(AUTH, pmem_rdma_auth_parse(&au, buf + 1, P_SIZE));
	buf[1 + P_ALG + 1]--;
	buf[1]++;
	EXPECT_EQ(AUTH, pmem_rdma_auth_parse(&au, buf + 1, P_SIZE));
}

TEST(window_edges)
{
	uint64_t now = 1700000000;

	EXPECT_EQ(0, pmem_rdma_auth_window(now, now));
	EXPECT_EQ(0, pmem_rdma_auth_window(now - WINDOW, now));
	EXPECT_EQ(0, pmem_rdma_auth_window(now + WINDOW, now));
	EXPECT_EQ(STALE, pmem_rdma_auth_window(now - WINDOW - 1, now));
	EXPECT_EQ(STALE, pmem_rdma_auth_window(now + WINDOW + 1, now));
	EXPECT_EQ(STALE, pmem_rdma_auth_window(0, now));
	EXPECT_EQ(STALE, pmem_rdma_auth_window(UINT64_MAX, now));
}

/* the monotonic clock of the tests below: M at wall time T */
#define T	1700000000ull
#define M	5000ull

/* a proof of time with nonce n (its first byte i) taken at now, mono */
static uint16_t take_at(struct pmem_rdma_replay_key *seen, uint64_t time,
			unsigned int i, uint64_t now, uint64_t mono)
{
	struct pmem_rdma_auth au;
	uint8_t n[8] = { i, i >> 8, 0x77 };

	pmem_rdma_auth_init(&au, time, n);
	return pmem_rdma_auth_take(seen, &au, now, mono);
}

/* ... with a wall clock that never steps */
static uint16_t take(struct pmem_rdma_replay_key *seen, uint64_t time,
		     unsigned int i, uint64_t now)
{
	return take_at(seen, time, i, now, now - T + M);
}

TEST(replay_memory)
{
	static struct pmem_rdma_replay_key seen[PMEM_RDMA_AUTH_REPLAY_MAX];
	static const uint8_t one[8] = { 1, 0, 0x77 };	/* take()'s nonce 1 */
	uint64_t t = T;
	unsigned int i;
	uint16_t got;

	EXPECT_EQ(0, take(seen, t, 1, t));
	EXPECT_EQ(REPLAY, take(seen, t, 1, t));
	/* the key is time and nonce: either one new is a new proof */
	EXPECT_EQ(0, take(seen, t + 1, 1, t));
	EXPECT_EQ(0, take(seen, t, 2, t));
	/* remembered for as long as the window takes it */
	EXPECT_EQ(REPLAY, take(seen, t, 1, t + WINDOW));
	EXPECT_EQ(STALE, take(seen, t, 1, t + WINDOW + 1));
	/* and one window more, in case the wall clock goes back */
	EXPECT_EQ(REPLAY, pmem_rdma_replay_remember(seen, t, one, t + WINDOW + 1,
						    M + WINDOW + 1));
	EXPECT_EQ(REPLAY, take_at(seen, t, 1, t + 1, M + 2 * WINDOW));
	/* then forgotten: the memory alone would take it again */
	EXPECT_EQ(0, pmem_rdma_replay_remember(seen, t, one, t + 2 * WINDOW + 1,
					       M + 2 * WINDOW + 1));

	/* the wall clock a day ahead: still remembered, by the monotonic one */
	memset(seen, 0, sizeof(seen));
	EXPECT_EQ(0, take(seen, t, 1, t));
	EXPECT_EQ(REPLAY, pmem_rdma_replay_remember(seen, t, one, t + 86400,
						    M + 1));
	/* and back again: the proof passes the window, the memory refuses it */
	EXPECT_EQ(REPLAY, take_at(seen, t, 1, t + 2, M + 3));

	/* room for PMEM_RDMA_AUTH_REPLAY_MAX young proofs, then BUSY */
	memset(seen, 0, sizeof(seen));
	for (i = 0, got = 0; i < PMEM_RDMA_AUTH_REPLAY_MAX && !got; i++)
		got = take(seen, t, i, t);
	ASSERT_EQ(0, got) TH_LOG("proof %u", i - 1);
	EXPECT_EQ(BUSY, take(seen, t, i, t));
	EXPECT_EQ(REPLAY, take(seen, t, 0, t));
	EXPECT_EQ(BUSY, take(seen, t + WINDOW, i, t + WINDOW));
	/* a second later none is young: a new proof takes the oldest entry */
	EXPECT_EQ(0, take(seen, t + WINDOW, i, t + WINDOW + 1));
	/* the others are still refused as replays */
	EXPECT_EQ(REPLAY, pmem_rdma_replay_remember(seen, t, one, t + WINDOW + 1,
						    M + WINDOW + 1));
}

TEST(descriptor_and_reject_bytes)
{
	static const uint8_t want_desc[sizeof(struct pmem_rdma_region_desc)] = {
		0x50, 0x4d, 0x52, 0x44, 0x00, PMEM_RDMA_ABI_VERSION, 0x80, 0x02,
		0, 0, 0, 0, 0, 0, 0x10, 0x00,
		0, 0, 0, 0, 0x00, 0x20, 0x00, 0x00,
		0xde, 0xad, 0xbe, 0xef,
		0, 0, 0, 0x0f,
		0, 0, 0, 0x03,
		0, 0, 0, 0x0e,
	};
	static const uint8_t want_rej[sizeof(struct pmem_rdma_reject)] = {
		0x50, 0x4d, 0x52, 0x44, 0x00, PMEM_RDMA_ABI_VERSION, 0x00, BUSY,
	};
	struct pmem_rdma_region_desc d;
	struct pmem_rdma_reject rej;
	uint8_t buf[sizeof(rej) + 1];

	memset(&d, 0x5a, sizeof(d));
	pmem_rdma_desc_encode(&d, PMEM_RDMA_DESC_GPSPM | PMEM_RDMA_EXPORT_ANY_PEER,
			      0x1000, 0x200000, 0xdeadbeef,
			      PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
			      PMEM_RDMA_ACCESS_FLUSH_GLOBAL |
			      PMEM_RDMA_ACCESS_FLUSH_PERSISTENT,
			      PMEM_RDMA_VERIFY_ALL);
	EXPECT_EQ(0, memcmp(want_desc, &d, sizeof(d)));
	EXPECT_EQ(0, pmem_rdma_placement_types(PMEM_RDMA_ACCESS_READ |
					       PMEM_RDMA_ACCESS_WRITE));

	memset(&rej, 0x5a, sizeof(rej));
	pmem_rdma_reject_encode(&rej, BUSY);
	EXPECT_EQ(0, memcmp(want_rej, &rej, sizeof(rej)));
	memcpy(buf + 1, want_rej, sizeof(want_rej));
	EXPECT_EQ(BUSY, pmem_rdma_reject_reason(buf + 1, sizeof(rej)));
	EXPECT_EQ(0, pmem_rdma_reject_reason(buf + 1, sizeof(rej) - 1));
	buf[1] ^= 1;
	EXPECT_EQ(0, pmem_rdma_reject_reason(buf + 1, sizeof(rej)));
}

/* ---- both targets ---- */

enum { KERNEL, USER, NTARGETS };
static const char *const target_name[NTARGETS] = { "kernel", "user-space" };

/* the two targets, with one key, and what a peer needs of them */
struct targets {
	int fd;
	uint32_t id;
	struct pmrdma_server *s;
	pthread_t th;
	uint8_t key[KEY_LEN];
	uint8_t me[16];		/* the peer's address, as both targets see it */
	uint16_t port[NTARGETS];
	struct sockaddr_in6 dst[NTARGETS];
	struct pmrdma_region want[NTARGETS];	/* the descriptors expected */
	uint8_t nonce[8];	/* this run's: proof i has nonce[7] ^ i */
};

FIXTURE(both)
{
	struct targets x;
};

static void *serve_thread(void *arg)
{
	pmrdma_server_run(arg, -1);
	return NULL;
}

FIXTURE_SETUP(both)
{
	self->x.fd = -1;
}

FIXTURE_TEARDOWN(both)
{
	struct targets *x = &self->x;

	if (x->s) {
		pmrdma_server_stop(x->s);
		pthread_join(x->th, NULL);
		pmrdma_server_delete(&x->s);
	}
	if (x->id)
		unexport(x->fd, x->id);
	if (x->fd >= 0)
		close(x->fd);
}

/*
 * Both targets with the same key and max_peers, the kernel's on port:
 * false to skip the test.  The kernel target's replay memory is the
 * port's, across exports: a test that counts on an empty one takes a
 * port of its own.
 */
static bool both_open(struct __test_metadata *_metadata, struct targets *x,
		      uint16_t max_peers, uint16_t port)
{
	const char *pmem = getenv("PMEM_RDMA_PMEM"), *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_serve_config c = {
		.path = dax, .offset = SERVE_OFF, .length = SERVE_LEN,
		.port = SERVE_PORT, .key = x->key, .key_len = KEY_LEN,
		.max_peers = max_peers,
	};
	struct pmem_rdma_policy policy = { .key_len = KEY_LEN };
	char msg[256] = "";
	struct sockaddr_in6 sin6;
	int t, ret;

	if (!pmem || !pmem[0] || !dax || !dax[0])
		SKIP(return false, "needs fsdax and devdax (PMEM_RDMA_PMEM, PMEM_RDMA_DAX)");
	for (t = 0; t < KEY_LEN; t++)
		x->key[t] = 0x90 + t * 3;
	ASSERT_EQ(sizeof(x->nonce), getrandom(x->nonce, sizeof(x->nonce), 0));
	memcpy(policy.key, x->key, KEY_LEN);
	x->fd = open(CTL, O_RDWR);
	ASSERT_LE(0, x->fd);
	ASSERT_EQ(0, export_range_port(x->fd, pmem, 0, ACCESS_RWF, 0,
				       max_peers, &policy, port, &x->id));
	ret = pmrdma_server_new(&x->s, &c, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", msg);
	ASSERT_EQ(0, pthread_create(&x->th, NULL, serve_thread, x->s));

	ASSERT_EQ(0, pt_peer_device_addr(&sin6, 0));
	memcpy(x->me, sin6.sin6_addr.s6_addr, 16);
	x->port[KERNEL] = port;
	x->port[USER] = SERVE_PORT;
	for (t = 0; t < NTARGETS; t++) {
		x->dst[t] = sin6;
		x->dst[t].sin6_port = htons(x->port[t]);
	}
	/*
	 * what each offers: the export's access; the server's GPSPM, and the
	 * flush access of the device (rxe can FLUSH to both placements)
	 */
	x->want[KERNEL] = (struct pmrdma_region){
		.length = EXP_LEN, .access = ACCESS_RWF,
		.placement_types = PMEM_RDMA_PLACEMENT_GLOBAL |
				   PMEM_RDMA_PLACEMENT_PERSISTENT,
	};
	x->want[USER] = (struct pmrdma_region){
		.flags = PMEM_RDMA_DESC_GPSPM,
		.iova = 0,		/* zero-based, as the kernel's */
		.length = SERVE_LEN,
		.access = ACCESS_RWF,
		.placement_types = PMEM_RDMA_PLACEMENT_GLOBAL |
				   PMEM_RDMA_PLACEMENT_PERSISTENT,
	};
	return true;
}

/*
 * Connect to dst with len bytes of pd as the private data (pd NULL: none):
 * 0 with the descriptor in *r and the accept's private data in *acc, the
 * REJECT's reason, or -errno.  With keep, the connection stays open in
 * *keep.
 */
static int knock(const struct sockaddr_in6 *dst, const struct pmem_rdma_auth *pd,
		 size_t len, struct pmrdma_region *r, struct pmem_rdma_accept *acc,
		 struct pmrdma_conn *keep)
{
	struct pmrdma_conn_params p = {
		.dst = (const struct sockaddr *)dst, .send_depth = 4,
		.replay = pd, .replay_len = len,
	};
	struct pmrdma_conn local, *c = keep ?: &local;
	int ret = pmrdma_conn_open(c, &p);

	if (ret && c->rejected)
		ret = c->reject_reason ?: -EPROTO;
	if (!ret && r)
		*r = c->r;
	if (!ret && acc)
		*acc = c->rep;
	if (ret || !keep)
		pmrdma_conn_close(c);
	return ret;
}

/* the descriptor of an accept is the one the target offers */
static void check_desc(struct __test_metadata *_metadata,
		       const struct pmrdma_region *want,
		       const struct pmrdma_region *r, const char *what)
{
	EXPECT_EQ(PMEM_RDMA_DESC_MAGIC, r->magic) TH_LOG("%s", what);
	EXPECT_EQ(PMEM_RDMA_ABI_VERSION, r->abi_version) TH_LOG("%s", what);
	EXPECT_EQ(want->flags, r->flags) TH_LOG("%s", what);
	EXPECT_EQ(want->iova, r->iova) TH_LOG("%s", what);
	EXPECT_EQ(want->length, r->length) TH_LOG("%s", what);
	EXPECT_EQ(want->access, r->access) TH_LOG("%s", what);
	EXPECT_EQ(want->placement_types, r->placement_types) TH_LOG("%s", what);
	EXPECT_EQ(0, r->verify_algs) TH_LOG("%s", what);
	EXPECT_NE(0, r->rkey) TH_LOG("%s", what);
}

/* one connect request, and what both targets must answer it */
struct vector {
	const char *what;
	int expect;		/* 0: accepted, else the REJECT's reason */
	bool none;		/* no private data */
	size_t len;		/* bytes of the proof sent; 0: all */
	uint32_t magic_xor;	/* fields as sent, and signed so */
	int abi_delta, alg_delta;
	int abi_unsigned;	/* sent so, signed as PMEM_RDMA_ABI_VERSION */
	bool time_zero;
	int dt;			/* time: now + dt */
	int key_edit;		/* signed with 1: another key, 2: one byte less */
	int port_delta;		/* signed for another port */
	bool other_addr;	/* signed for another address */
	bool other_target;	/* signed for another target address */
	bool mac_bit;		/* one bit of the mac flipped */
	int like;		/* > 0: nonce and time (+ dt) of vector like - 1 */
	int again;		/* > 0: what vector again - 1 sent, as it is */
};

/* a cut proof reaches a target padded with zeros by the CM: a zero mac */
static const struct vector vectors[] = {
	{ "a good proof", 0, .none = false },
	{ "no private data", AUTH, .none = true },
	{ "the proof up to its mac", AUTH, .len = P_MAC },
	{ "magic, abi_version and alg alone", AUTH, .len = P_TIME },
	{ "another magic", AUTH, .magic_xor = 1 },
	{ "abi_version - 1, signed as sent", AUTH, .abi_delta = -1 },
	{ "abi_version + 1, signed as sent", AUTH, .abi_delta = 1 },
	{ "abi_version - 1, signed as the right one", AUTH, .abi_unsigned = -1 },
	{ "another alg, signed as sent", AUTH, .alg_delta = 1 },
	{ "a wrong bit in the mac", AUTH, .mac_bit = true },
	{ "another key", AUTH, .key_edit = 1 },
	{ "the key but its last byte", AUTH, .key_edit = 2 },
	{ "signed for another port", AUTH, .port_delta = 1 },
	{ "signed for another address", AUTH, .other_addr = true },
	{ "signed for another target", AUTH, .other_target = true },
	{ "time 0", STALE, .time_zero = true },
	{ "older than the window", STALE, .dt = -WINDOW - 5 },
	{ "ahead of the window", STALE, .dt = WINDOW + 5 },
	{ "old, still in the window", 0, .dt = -WINDOW + 10 },
	{ "ahead, still in the window", 0, .dt = WINDOW - 10 },
	{ "the good proof again", REPLAY, .again = 1 },
	{ "its nonce at another time", 0, .like = 1, .dt = -1 },
	{ "the wrong mac's time and nonce, signed right", 0, .like = 10 },
};

#define NVECTORS	ARRAY_SIZE(vectors)

/* vector i's private data for target t, as sent[t][...] has the others */
static size_t vector_make(struct targets *x, unsigned int i, int t,
			  uint64_t now, struct pmem_rdma_auth sent[][NVECTORS],
			  struct pmem_rdma_auth *au)
{
	const struct vector *v = &vectors[i];
	uint8_t nonce[8], key[KEY_LEN], addr[16], target[16];
	uint64_t time = now + v->dt;
	size_t klen = KEY_LEN;
	uint8_t *b = (uint8_t *)au;

	if (v->again) {
		*au = sent[t][v->again - 1];
		return P_SIZE;
	}
	memcpy(nonce, x->nonce, 8);
	nonce[7] ^= i;
	if (v->like) {
		const uint8_t *o = (const uint8_t *)&sent[t][v->like - 1];

		memcpy(nonce, o + P_NONCE, 8);
		time = 0;
		for (int k = 0; k < 8; k++)
			time = time << 8 | o[P_TIME + k];
		time += v->dt;
	}
	if (v->time_zero)
		time = 0;
	memcpy(key, x->key, KEY_LEN);
	if (v->key_edit == 1)
		key[0] ^= 1;
	if (v->key_edit == 2)
		klen--;
	memcpy(addr, x->me, 16);
	if (v->other_addr)
		addr[15] ^= 1;
	/* the peer and the targets share the device: the same address */
	memcpy(target, x->me, 16);
	if (v->other_target)
		target[0] ^= 0x02;
	proof_make(au, PMEM_RDMA_AUTH_MAGIC ^ v->magic_xor,
		   PMEM_RDMA_ABI_VERSION + v->abi_delta + v->abi_unsigned,
		   PMEM_RDMA_AUTH_HMAC_SHA256_128 + v->alg_delta, time, nonce,
		   key, klen, x->port[t] + v->port_delta, addr, target);
	if (v->abi_unsigned) {
		uint8_t head[P_MAC];

		memcpy(head, b, P_MAC);
		put_be(head + P_ABI, PMEM_RDMA_ABI_VERSION, 2);
		mac_of(b + P_MAC, key, klen, head, x->port[t], addr, target);
	}
	if (v->mac_bit)
		b[P_MAC + 5] ^= 0x10;
	return v->len ?: P_SIZE;
}

TEST_F_TIMEOUT(both, same_answers_to_the_same_requests, 300)
{
	static struct pmem_rdma_auth sent[NTARGETS][NVECTORS];
	struct targets *x = &self->x;
	unsigned int i;

	if (!both_open(_metadata, x, PMEM_RDMA_MAX_PEERS_LIMIT, TARGET_PORT))
		return;
	for (i = 0; i < NVECTORS; i++) {
		const struct vector *v = &vectors[i];
		uint64_t now = time(NULL);
		int t, got[NTARGETS];

		for (t = 0; t < NTARGETS; t++) {
			struct pmem_rdma_auth au;
			struct pmem_rdma_accept acc;
			struct pmrdma_region r;
			uint8_t mac[16];
			char what[160];
			size_t len;

			len = vector_make(x, i, t, now, sent, &au);
			sent[t][i] = au;
			got[t] = knock(&x->dst[t], v->none ? NULL : &au, len,
				       &r, &acc, NULL);
			snprintf(what, sizeof(what), "%s target, %s", target_name[t],
				 v->what);
			EXPECT_EQ(v->expect, got[t]) TH_LOG("%s: %s", what,
							    got[t] > 0 ? pmrdma_reject_text(got[t]) :
							    strerror(-got[t]));
			if (got[t])
				continue;
			check_desc(_metadata, &x->want[t], &r, what);
			/* the target proves the key back, for this proof */
			accept_mac_of(mac, x->key, KEY_LEN, &au, &acc.desc);
			EXPECT_EQ(0, memcmp(mac, acc.mac, 16)) TH_LOG("%s", what);
		}
		EXPECT_EQ(got[KERNEL], got[USER]) TH_LOG("%s", v->what);
	}
}

/* a fresh proof of time for target t, with nonce number n */
static int knock_proof(struct targets *x, int t, uint64_t time,
		       unsigned int n, bool bad, struct pmrdma_conn *keep)
{
	struct pmem_rdma_auth au;
	uint8_t nonce[8];

	memcpy(nonce, x->nonce, 8);
	put_be(nonce + 4, n, 4);
	proof_make(&au, PMEM_RDMA_AUTH_MAGIC, PMEM_RDMA_ABI_VERSION,
		   PMEM_RDMA_AUTH_HMAC_SHA256_128, time, nonce, x->key,
		   KEY_LEN, x->port[t], x->me, x->me);
	if (bad)
		((uint8_t *)&au)[P_MAC] ^= 1;
	return knock(&x->dst[t], &au, P_SIZE, NULL, NULL, keep);
}

/* both targets answer proof n of time when (0: now) with want: 0 or -1 */
static int both_answer(struct __test_metadata *_metadata,
		       struct targets *x, uint64_t when, unsigned int n,
		       int want, const char *phase)
{
	int t, got, fails = 0;

	for (t = 0; t < NTARGETS; t++) {
		got = knock_proof(x, t, when ?: (uint64_t)time(NULL), n, false,
				  NULL);
		if (got != want) {
			TH_LOG("%s, proof %u: the %s target answered %d (%s), not %d",
			       phase, n, target_name[t], got,
			       got > 0 ? pmrdma_reject_text(got) : strerror(-got),
			       want);
			fails++;
		}
	}
	return fails ? -1 : 0;
}

#define GRACE	5	/* seconds a proof of the first phase has left */

/*
 * The replay memory, through the targets: with max_peers 1 and a peer
 * connected, a good proof is taken (remembered) and then refused FULL, a
 * bad one is refused for itself.  Proofs that leave the window GRACE
 * seconds after they are sent fill the memory once; once they have left,
 * the memory takes PMEM_RDMA_AUTH_REPLAY_MAX young ones, and one more is
 * BUSY.
 */
TEST_F_TIMEOUT(both, replay_memory_forgets_what_left_the_window, 600)
{
	struct pmrdma_conn holder[NTARGETS];
	struct targets *x = &self->x;
	unsigned int n = 0, i;
	int t, fails = 0;
	time_t t0, t1;

	if (!both_open(_metadata, x, 1, TARGET_PORT + 2))
		return;
	for (t = 0; t < NTARGETS; t++) {
		ASSERT_EQ(0, knock_proof(x, t, time(NULL) - WINDOW + GRACE, n, false,
					 &holder[t]))
			TH_LOG("%s target", target_name[t]);
		/* full: the proof is judged first, and a bad one is AUTH */
		EXPECT_EQ(AUTH, knock_proof(x, t, time(NULL), n + 1, true, NULL))
			TH_LOG("%s target", target_name[t]);
	}
	n += 2;

	t0 = time(NULL);
	for (i = 1; i < PMEM_RDMA_AUTH_REPLAY_MAX && !fails; i++, n++)
		fails = both_answer(_metadata, x, time(NULL) - WINDOW + GRACE, n,
				    FULL, "leaving the window soon");
	ASSERT_EQ(0, fails);
	t1 = time(NULL);
	TH_LOG("%u proofs to each target in %lld s", i, (long long)(t1 - t0));
	ASSERT_GT(WINDOW - GRACE, t1 - t0)
		TH_LOG("too slow to tell a window's memory from a longer one");
	/* the last one has left the window */
	sleep(GRACE + 2);

	for (i = 0; i < PMEM_RDMA_AUTH_REPLAY_MAX && !fails; i++, n++)
		fails = both_answer(_metadata, x, 0, n, FULL, "young");
	ASSERT_EQ(0, fails);
	ASSERT_GT(WINDOW, time(NULL) - t1);
	EXPECT_EQ(0, both_answer(_metadata, x, 0, n, BUSY, "one more"));
	for (t = 0; t < NTARGETS; t++)
		pmrdma_conn_close(&holder[t]);
}

TEST_HARNESS_MAIN
