// SPDX-License-Identifier: GPL-2.0
/*
 * One direction of the interop matrix (tools/testing/host/interop_test.sh):
 * this VM's rxe as the requester, the other VM's (PMEM_RDMA_WIRE_PEER) as
 * the responder, over the two-VM wire.  The other VM serves its devdax
 * device with pmrdmactl serve on PMEM_RDMA_INTEROP_SERVE_PORT - on a stock
 * kernel too - and, where it runs our rxe, a kernel export with VERIFY on
 * PMEM_RDMA_INTEROP_EXPORT_PORT (PMEM_RDMA_INTEROP_PEER_OURS=1).
 *
 * Through libpmrdma's FLUSH method: WRITEs, a FLUSH to persistence behind
 * them and an ATOMIC WRITE behind that, read back by a map of its own;
 * where both rxe are ours, a flush-and-verify of the written ranges.  The peer is not up
 * when this starts: each map is retried until the peer has been given its
 * time to boot.
 */
#include <net/ethernet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib_helpers.h"
#include "roce_helpers.h"

#define DATA_LEN	(64UL << 10)
#define WINDOW		(128UL << 10)	/* of the 2 MiB exports: fewer frames */
#define MAX_FRAMES	4096
#define WORD_OFF	(DATA_LEN + 4096)
#define PEER_BOOT_S	240	/* two TCG guests boot side by side */

static const char *peer_addr(void)
{
	return getenv("PMEM_RDMA_WIRE_PEER");
}

/* the peer runs our rxe, and a kernel export with VERIFY */
static bool peer_ours(void)
{
	const char *v = getenv("PMEM_RDMA_INTEROP_PEER_OURS");

	return peer_addr() && v && !strcmp(v, "1");
}

/* VERIFY needs our rxe at both ends: a stock requester cannot send it */
static bool both_ours(void)
{
	return peer_ours() && !access("/sys/module/rdma_rxe_flush", F_OK);
}

static uint16_t env_port(const char *name)
{
	const char *v = getenv(name);

	return v ? (uint16_t)atoi(v) : 0;
}

/*
 * A map of a window of the peer's port, its view zeroed (no READ), tried
 * again while the peer is still booting.
 */
static int map_peer(struct pmrdma_map **map, uint16_t port)
{
	struct pmrdma_remote r = {
		.addr = peer_addr(), .port = port,
		.method = PMRDMA_METHOD_AUTO,
	};
	time_t end = time(NULL) + PEER_BOOT_S;
	int ret;

	for (;;) {
		ret = lib_map_window(map, &r, 0, WINDOW, PMRDMA_VIEW_ZEROED);
		if (!ret || time(NULL) >= end)
			return ret;
		sleep(1);
	}
}

/* what this VM sends on the wire NIC, from now on */
struct wire_cap {
	int fd;
	unsigned char mac[ETH_ALEN];
	struct pt_frame *fr;
	int n;
};

/* rxe0's netdev and its MAC, and a capture on it: 0 or -1 */
static int cap_open(struct wire_cap *c)
{
	char ndev[32], path[128], line[32];
	int rcvbuf = 16 << 20;

	c->fd = -1;
	c->fr = calloc(MAX_FRAMES, sizeof(*c->fr));
	if (!c->fr ||
	    pt_read_line("/sys/class/infiniband/rxe0/ports/1/gid_attrs/ndevs/0",
			 ndev, sizeof(ndev)))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ndev);
	if (pt_read_line(path, line, sizeof(line)) ||
	    sscanf(line, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &c->mac[0],
		   &c->mac[1], &c->mac[2], &c->mac[3], &c->mac[4],
		   &c->mac[5]) != 6)
		return -1;
	c->fd = pt_packet_socket(ndev);
	if (c->fd < 0)
		return -1;
	/*
	 * The frames wait here until cap_stop() reads them, beside the other
	 * VM's traffic: past net.core.rmem_max (we are root in the VM).
	 */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

/* the frames seen since cap_open(), until 300 ms of quiet: their number */
static int cap_stop(struct wire_cap *c)
{
	c->n = pt_capture(c->fd, c->fr, MAX_FRAMES, 300);
	return c->n;
}

/* of them, those this VM sent (its source MAC) with opcode op */
static int cap_sent(const struct wire_cap *c, unsigned char op)
{
	int i, hits = 0;

	for (i = 0; i < c->n; i++)
		hits += !memcmp(c->fr[i].b + ETH_ALEN, c->mac, ETH_ALEN) &&
			c->fr[i].b[PT_ROCE_OFF] == op;
	return hits;
}

/* the opcodes this VM sent, for a failure's log */
static const char *cap_opcodes(const struct wire_cap *c)
{
	static char buf[512];
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < c->n && o < sizeof(buf) - 4; i++)
		if (!memcmp(c->fr[i].b + ETH_ALEN, c->mac, ETH_ALEN))
			o += snprintf(buf + o, sizeof(buf) - o, "%02x ",
				      c->fr[i].b[PT_ROCE_OFF]);
	return buf;
}

static void cap_close(struct wire_cap *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->fr);
}

/* a seed no earlier run left on the peer's device */
static uint32_t fresh_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)(ts.tv_sec ^ ts.tv_nsec) | 1;
}

/*
 * WRITE + FLUSH, then an ATOMIC WRITE behind a FLUSH, on port: the map
 * must have chosen FLUSH, a capture on the wire NIC must see this VM send
 * the FLUSHes and the ATOMIC WRITE, and a second map reads both back.
 */
static void write_flush_atomic_write(struct __test_metadata *_metadata,
				     uint16_t port)
{
	uint32_t seed = fresh_seed();
	uint64_t word = 0x5a5a000000000000ULL | seed;
	struct pmrdma_map *m = NULL, *back = NULL;
	struct pmrdma_caps caps;
	struct wire_cap c;
	char *v;
	int ret;

	ret = map_peer(&m, port);
	ASSERT_EQ(0, ret) TH_LOG("[%s]:%u: %s", peer_addr(), port,
				 pmrdma_errormsg(NULL));
	ASSERT_EQ(0, cap_open(&c));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(PMRDMA_METHOD_FLUSH, caps.method)
		TH_LOG("the map took %s", pmrdma_method_name(caps.method));
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, DATA_LEN, seed);
	ret = pmrdma_flush(m, v, DATA_LEN);
	EXPECT_EQ(0, ret) TH_LOG("WRITE + FLUSH: %s", pmrdma_errormsg(m));
	ret = pmrdma_atomic_write(m, WORD_OFF, word);
	EXPECT_EQ(0, ret) TH_LOG("ATOMIC WRITE: %s", pmrdma_errormsg(m));
	ret = pmrdma_flush(m, v + WORD_OFF, 8);
	EXPECT_EQ(0, ret) TH_LOG("FLUSH of the word: %s", pmrdma_errormsg(m));
	EXPECT_LT(0, cap_stop(&c));
	EXPECT_LE(2, cap_sent(&c, PT_OP_FLUSH))
		TH_LOG("sent: %s", cap_opcodes(&c));
	EXPECT_LE(1, cap_sent(&c, PT_OP_ATOMIC_WRITE))
		TH_LOG("sent: %s", cap_opcodes(&c));
	cap_close(&c);

	/* what the peer holds, through a view of another map */
	ASSERT_EQ(0, map_peer(&back, port)) TH_LOG("%s", pmrdma_errormsg(NULL));
	v = pmrdma_map_get_address(back);
	memset(v, 0, WORD_OFF + 8);
	ret = pmrdma_read(back, v, WORD_OFF + 8);
	EXPECT_EQ(0, ret) TH_LOG("READ: %s", pmrdma_errormsg(back));
	EXPECT_EQ(0, pt_check_pattern(v, DATA_LEN, seed));
	EXPECT_EQ(word, pt_load64(v + WORD_OFF));
	pmrdma_map_delete(&back);
	pmrdma_map_delete(&m);
}

/* no state: a fixture for the time-out, which covers the peer's boot */
FIXTURE(peer) {};
FIXTURE_SETUP(peer) {}
FIXTURE_TEARDOWN(peer) {}

TEST_F_TIMEOUT(peer, user_space_target_write_flush_atomic_write,
	       PEER_BOOT_S + 60)
{
	if (!peer_addr())
		SKIP(return, "no wire (vm-run --wire)");
	write_flush_atomic_write(_metadata,
				 env_port("PMEM_RDMA_INTEROP_SERVE_PORT"));
}

TEST_F_TIMEOUT(peer, kernel_target_write_flush_atomic_write,
	       PEER_BOOT_S + 60)
{
	if (!peer_ours())
		SKIP(return, "the peer runs no kernel target of ours");
	write_flush_atomic_write(_metadata,
				 env_port("PMEM_RDMA_INTEROP_EXPORT_PORT"));
}

/* VERIFY: the peer digests what it made durable, and it is what was sent */
TEST_F_TIMEOUT(peer, kernel_target_flush_and_verify, PEER_BOOT_S + 60)
{
	uint32_t seed = fresh_seed();
	struct pmrdma_range r[4];
	struct pmrdma_map *m = NULL;
	struct pmrdma_caps caps;
	struct wire_cap c;
	char *v;
	int i, ret;

	if (!both_ours())
		SKIP(return, "a stock rxe at one end: no VERIFY");
	ret = map_peer(&m, env_port("PMEM_RDMA_INTEROP_EXPORT_PORT"));
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_NE(0, caps.verify_algs &
		     PMRDMA_VERIFY_BIT(PMRDMA_VERIFY_ALG_XXH64))
		TH_LOG("the export offers no XXH64");
	v = pmrdma_map_get_address(m);
	pt_fill_pattern(v, DATA_LEN, seed);
	for (i = 0; i < 4; i++)
		r[i] = (struct pmrdma_range){ v + i * (DATA_LEN / 4), 8192 };
	ASSERT_EQ(0, cap_open(&c));
	ret = pmrdma_flush_verify(m, r, 4, PMRDMA_VERIFY_ALG_XXH64);
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(m));
	EXPECT_LT(0, cap_stop(&c));
	EXPECT_LE(4, cap_sent(&c, PT_OP_VERIFY))
		TH_LOG("sent: %s", cap_opcodes(&c));
	cap_close(&c);
	pmrdma_map_delete(&m);
}

TEST_HARNESS_MAIN
