// SPDX-License-Identifier: GPL-2.0
/*
 * Keyed maps: libpmrdma's remote maps with a data key
 * (pmrdma_config_set_data_key()) against the user-space target serving a
 * keyed export of the devdax device (PMEM_RDMA_DAX), over two rxe devices
 * on a veth pair, where a capture sees every frame.  What the map flushes
 * arrives, what it reads comes back, and no frame carries the plaintext;
 * a keyed map and an unkeyed export (and the reverse) are refused at
 * connect, each saying why; another data key is refused at connect.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/random.h>

#include "keyed_helpers.h"
#include "lib_helpers.h"
#include "pmrdma_serve.h"
#include "roce_helpers.h"

#define NET0		"ptm_ve0"
#define NET1		"ptm_ve1"
#define DEV0		"ptm_rxe0"
#define DEV1		"ptm_rxe1"
#define KEYED_PORT	7611
#define PLAIN_PORT	7612
#define KEYED_OFF	(16UL << 20)
#define PLAIN_OFF	(18UL << 20)
#define SERVE_LEN	(1UL << 20)
#define MARK		"PLAINTEXT-MARKER"
#define MSG		4000		/* four packets at an MTU of 1024 */
#define LINKS_LOCK	"/run/pmem_rdma_keyed_map.lock"

struct server {
	struct pmrdma_server *s;
	pthread_t th;
	char *v;
};

FIXTURE(keyed_map)
{
	struct server keyed, plain;
	uint8_t data_key[32];
	char addr[96];			/* the target's, from NET0 */
	struct pmrdma_remote r;
	struct pmrdma_map *map;
	int cap;
	struct pt_frame fr[64];
	int nfr;
};

static void *serve_thread(void *arg)
{
	pmrdma_server_run(arg, -1);
	return NULL;
}

/* serve [off, +SERVE_LEN) of the devdax device on port, keyed with key */
static int serve_start(struct server *sv, uint64_t off, uint16_t port,
		       const uint8_t *key, size_t len, char *msg,
		       size_t msglen)
{
	struct pmrdma_serve_config c = {
		.path = getenv("PMEM_RDMA_DAX"), .offset = off,
		.length = SERVE_LEN, .port = port, .any_peer = true,
		.data_key = key, .data_key_len = len,
	};
	int ret = pmrdma_server_new(&sv->s, &c, msg, msglen);

	if (ret)
		return ret;
	sv->v = pmrdma_server_get_address(sv->s);
	memset(sv->v, 0, SERVE_LEN);
	return -pthread_create(&sv->th, NULL, serve_thread, sv->s);
}

static void serve_end(struct server *sv)
{
	if (!sv->s)
		return;
	pmrdma_server_stop(sv->s);
	pthread_join(sv->th, NULL);
	pmrdma_server_delete(&sv->s);
}

/*
 * ifname's link-local address, once it is usable (not tentative), as an
 * address string scoped to scope: "fe80::...%scope"; 0 or -EAGAIN.
 */
static int link_local(const char *ifname, const char *scope, char *buf,
		      size_t len)
{
	unsigned int idx, plen, sc, flags;
	char hex[33], name[IF_NAMESIZE + 1], line[128];
	FILE *f = fopen("/proc/net/if_inet6", "r");
	int ret = -EAGAIN, i;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %x %x %x %16s", hex, &idx, &plen, &sc,
			   &flags, name) != 6 || strcmp(name, ifname) ||
		    sc != 0x20 || (flags & 0x40))	/* link, not tentative */
			continue;
		for (i = 0; i < 8; i++)
			len -= snprintf(buf + 5 * i, len, "%.4s%s", hex + 4 * i,
					i < 7 ? ":" : "");
		snprintf(buf + 39, len, "%%%s", scope);
		ret = 0;
		break;
	}
	if (f)
		fclose(f);
	return ret;
}

/*
 * NET1's address as NET0 reaches it, once both ends are usable and NET0
 * knows its neighbour: the CM's resolution misses a neighbour that
 * answers as fast as a veth peer does, and waits for its timeout.
 */
static int target_addr(char *buf, size_t len)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = 9 };
	char mine[96], out[256] = "";
	int tries, fd;

	for (tries = 0; tries < 100; tries++) {
		if (!link_local(NET0, NET0, mine, sizeof(mine)) &&
		    !link_local(NET1, NET0, buf, len))
			break;
		usleep(50000);
	}
	if (!strchr(buf, '%'))
		return -EADDRNOTAVAIL;
	*strchr(buf, '%') = 0;
	if (inet_pton(AF_INET6, buf, &sa.sin6_addr) != 1)
		return -EADDRNOTAVAIL;
	sa.sin6_scope_id = if_nametoindex(NET0);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	for (tries = 0; fd >= 0 && tries < 100; tries++) {
		sendto(fd, "", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
		if (!pt_sh_out(out, sizeof(out), "ip -6 neigh show %s dev %s",
			       buf, NET0) && strstr(out, "REACHABLE"))
			break;
		usleep(50000);
	}
	if (fd >= 0)
		close(fd);
	snprintf(buf + strlen(buf), len - strlen(buf), "%%%s", NET0);
	return strstr(out, "REACHABLE") ? 0 : -EADDRNOTAVAIL;
}

FIXTURE_SETUP(keyed_map)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	char msg[256] = "";
	int ret;

	self->cap = -1;
	if (!dax || !dax[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	/* the last test's links are gone */
	ASSERT_EQ(0, pt_sh("flock " LINKS_LOCK " true"));
	ASSERT_EQ(0, pt_veth_up(NET0, NET1, DEV0, DEV1));
	/* the link-local addresses come up with the link */
	ASSERT_EQ(0, target_addr(self->addr, sizeof(self->addr)));
	ASSERT_EQ(sizeof(self->data_key),
		  getrandom(self->data_key, sizeof(self->data_key), 0));
	ret = serve_start(&self->keyed, KEYED_OFF, KEYED_PORT, self->data_key,
			  sizeof(self->data_key), msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", msg);
	ret = serve_start(&self->plain, PLAIN_OFF, PLAIN_PORT, NULL, 0, msg,
			  sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", msg);
	self->r = (struct pmrdma_remote){
		.addr = self->addr, .port = KEYED_PORT,
	};
	self->cap = pt_packet_socket(NET1);
	ASSERT_LE(0, self->cap);
}

FIXTURE_TEARDOWN(keyed_map)
{
	pmrdma_map_delete(&self->map);
	serve_end(&self->keyed);
	serve_end(&self->plain);
	if (self->cap >= 0)
		close(self->cap);
	/*
	 * librdmacm keeps its devices open until the process ends, and rxe's
	 * unregistration waits for them: the links go once this test's
	 * process is gone, under a lock the next setup waits for.
	 */
	pt_sh("flock " LINKS_LOCK " sh -c 'rdma link del %s; rdma link del %s; ip link del %s' >/dev/null 2>&1 &",
	      DEV0, DEV1, NET0);
}

/* the bytes of p[0, len) that are not zero */
static size_t nonzero(const char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] != 0;
	return n;
}

/*
 * a map of r with data key (len bytes, or none) and lanes (0: one), as
 * pmrdma_map_new() says
 */
static int keyed_map_lanes(struct pmrdma_map **map,
			   const struct pmrdma_remote *r,
			   enum pmrdma_method method, const void *key,
			   size_t len, unsigned int lanes)
{
	struct pmrdma_remote rm = *r;
	struct lib_map_opts o = {
		.data_key = key, .data_key_len = len, .lanes = lanes,
	};

	rm.method = method;
	return lib_map_remote(map, &rm, &o);
}

static int keyed_map(struct pmrdma_map **map, const struct pmrdma_remote *r,
		     enum pmrdma_method method, const void *key, size_t len)
{
	return keyed_map_lanes(map, r, method, key, len, 0);
}

static void fill_marked(char *p, size_t len)
{
	size_t i;

	for (i = 0; i + sizeof(MARK) - 1 <= len; i += sizeof(MARK) - 1)
		memcpy(p + i, MARK, sizeof(MARK) - 1);
}

/* the frames that carry the marker, of the first n of fr */
static int marked_frames(const struct pt_frame *fr, int n)
{
	int i, hits = 0;

	for (i = 0; i < n; i++)
		if (memmem(fr[i].b, fr[i].len, MARK, 8))
			hits++;
	return hits;
}

/*
 * FLUSH (chosen by itself: rxe can FLUSH, so the keyed MR has the flush
 * access), GPSPM and APM: a flush of marked bytes lands on the target
 * equal, a read brings them back, an atomic write's value lands, and of
 * the frames the capture saw none holds the marker.
 */
static void crosses_sealed(struct __test_metadata *_metadata,
			   FIXTURE_DATA(keyed_map) *self,
			   enum pmrdma_method method, unsigned int lanes)
{
	char *v;
	uint64_t word;
	struct pmrdma_caps caps;
	int ret;

	ret = keyed_map_lanes(&self->map, &self->r, method, self->data_key,
			      sizeof(self->data_key), lanes);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_EQ(method == PMRDMA_METHOD_AUTO ? PMRDMA_METHOD_FLUSH : method,
		  caps.method);
	EXPECT_EQ(0, caps.verify_algs);
	v = pmrdma_map_get_address(self->map);
	pt_capture(self->cap, self->fr, 64, 50);	/* the connect's */

	fill_marked(v + 64, MSG);
	ASSERT_EQ(0, pmrdma_flush(self->map, v + 64, MSG))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	memcpy(&word, MARK, 8);		/* what marked_frames() looks for */
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, 4096 * 2, word))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0, memcmp(self->keyed.v + 64, v + 64, MSG));
	EXPECT_EQ(0, memcmp(self->keyed.v + 4096 * 2, &word, 8));

	/* the target's bytes, changed there, read back over the wire */
	memset(self->keyed.v + 64, 0, MSG);
	fill_marked(self->keyed.v + 96, MSG - 64);
	memset(v + 64, 0, MSG);
	ASSERT_EQ(0, pmrdma_read(self->map, v + 64, MSG))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, memcmp(self->keyed.v + 64, v + 64, MSG));

	self->nfr = pt_capture(self->cap, self->fr, 64, 300);
	/*
	 * the WRITEs, the READ's responses, and GPSPM's request and answer
	 * or the FLUSHes and ATOMIC WRITE
	 */
	EXPECT_LE(8, self->nfr);
	EXPECT_EQ(0, marked_frames(self->fr, self->nfr > 0 ? self->nfr : 0));
}

TEST_F(keyed_map, flush_crosses_sealed)
{
	crosses_sealed(_metadata, self, PMRDMA_METHOD_AUTO, 0);
}

TEST_F(keyed_map, gpspm_crosses_sealed)
{
	crosses_sealed(_metadata, self, PMRDMA_METHOD_GPSPM, 0);
}

TEST_F(keyed_map, apm_crosses_sealed)
{
	crosses_sealed(_metadata, self, PMRDMA_METHOD_APM, 0);
}

/* lanes share the first's PD and data key: each its own keyed QP */
TEST_F(keyed_map, two_lanes_cross_sealed)
{
	crosses_sealed(_metadata, self, PMRDMA_METHOD_AUTO, 2);
}

/*
 * An unkeyed map of the keyed export, and the reverse: refused by the
 * target, which says why, and counts it.
 */
TEST_F(keyed_map, keyed_and_unkeyed_are_refused_at_connect)
{
	struct pmrdma_remote plain = self->r;
	struct pmrdma_server_stats st;
	int ret;

	ret = keyed_map(&self->map, &self->r, PMRDMA_METHOD_AUTO, NULL, 0);
	EXPECT_EQ(-ECONNREFUSED, ret);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the target refused the connection (the export is keyed: connect with its data key)"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_delete(&self->map);
	pmrdma_server_get_stats(self->keyed.s, &st);
	EXPECT_EQ(1, st.refused);
	EXPECT_EQ(0, st.connects);

	plain.port = PLAIN_PORT;
	ret = keyed_map(&self->map, &plain, PMRDMA_METHOD_AUTO,
			self->data_key, 16);
	EXPECT_EQ(-ECONNREFUSED, ret);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the target refused the connection (the export has no data key: connect without one)"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_delete(&self->map);
	pmrdma_server_get_stats(self->plain.s, &st);
	EXPECT_EQ(1, st.refused);
	EXPECT_EQ(0, st.connects);

	/* the plain export still serves an unkeyed map */
	ret = keyed_map(&self->map, &plain, PMRDMA_METHOD_AUTO, NULL, 0);
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));

	/* and a data key of another length never reaches the wire */
	EXPECT_EQ(-EINVAL, keyed_map(&self->map, &self->r, PMRDMA_METHOD_AUTO,
				     self->data_key, 24));
}

/* another data key than the export's is refused at connect, saying so */
TEST_F(keyed_map, another_data_key_is_refused_at_connect)
{
	uint8_t wrong[32];
	int ret;

	memcpy(wrong, self->data_key, sizeof(wrong));
	wrong[31] ^= 1;
	ret = keyed_map(&self->map, &self->r, PMRDMA_METHOD_AUTO, wrong,
			sizeof(wrong));
	EXPECT_EQ(-EKEYREJECTED, ret);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the export is keyed with another data key"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(0, nonzero(self->keyed.v, SERVE_LEN));
	/* the right one after it */
	ret = keyed_map(&self->map, &self->r, PMRDMA_METHOD_AUTO,
			self->data_key, sizeof(self->data_key));
	EXPECT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
}

/*
 * The keyed frames of a capture on NET1 into ledger: requests (WRITE,
 * SEND) from NET0's MAC, READ responses from NET1's; GPSPM's answers, the
 * target's SENDs, are not keyed.
 */
static void take_keyed(int cap, const unsigned char *mac0,
		       struct pt_nonce_ledger *ledger)
{
	static struct pt_frame fr[512];
	int i, got, op;
	bool from0;

	while ((got = pt_capture(cap, fr, 512, 0)) > 0) {
		for (i = 0; i < got; i++) {
			op = pt_frame_opcode(&fr[i]);
			from0 = !memcmp(fr[i].b + 6, mac0, 6);
			if ((from0 && op >= PT_OP_SEND_FIRST &&
			     op <= PT_OP_WRITE_ONLY_IMM) ||
			    (!from0 && op >= PT_OP_READ_RESPONSE_FIRST &&
			     op <= PT_OP_READ_RESPONSE_ONLY))
				pt_nonce_take(ledger, &fr[i]);
		}
	}
}

#define LOSSY_NETEM	"loss 5% duplicate 5% delay 1ms reorder 25% 50%"
#define LOSSY_ROUNDS	48
#define LOSSY_SLOTS	8
#define LOSSY_MSG	3000		/* three packets */

/*
 * A keyed map over a wire that loses, duplicates and reorders: each round
 * starts a flush of a slot and flips the slot's bytes while its WRITEs may
 * be sent again; every flush completes, every target byte is the old or
 * the new one, and at the end the target equals the view and reads back
 * equal.  In the capture no (stream, counter) carries two tags or PSNs,
 * and some PSNs went again under a fresh counter.
 */
TEST_F_TIMEOUT(keyed_map, a_keyed_map_over_a_lossy_wire, 300)
{
	static const struct lib_map_opts o0 = { .wait_ms = 60000 };
	struct pmrdma_remote rm = self->r;
	struct lib_map_opts o = o0;
	struct pmrdma_range range = { .len = LOSSY_MSG };
	struct pt_nonce_ledger ledger;
	unsigned char mac0[6], old[LOSSY_MSG];
	char line[32], *v, *slot;
	int r, i, rcvbuf = 8 << 20;

	ASSERT_EQ(0, pt_nonce_ledger_init(&ledger));
	ASSERT_EQ(0, pt_read_line("/sys/class/net/" NET0 "/address", line,
				  sizeof(line)));
	ASSERT_EQ(6, sscanf(line, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac0[0],
			    &mac0[1], &mac0[2], &mac0[3], &mac0[4], &mac0[5]));
	o.data_key = self->data_key;
	o.data_key_len = sizeof(self->data_key);
	rm.method = PMRDMA_METHOD_GPSPM;
	ASSERT_EQ(0, lib_map_remote(&self->map, &rm, &o))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	v = pmrdma_map_get_address(self->map);
	setsockopt(self->cap, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		   sizeof(rcvbuf));
	ASSERT_EQ(0, pt_sh("modprobe sch_netem && tc qdisc add dev %s root netem %s && tc qdisc add dev %s root netem %s",
			   NET0, LOSSY_NETEM, NET1, LOSSY_NETEM));
	for (r = 0; r < LOSSY_ROUNDS; r++) {
		slot = v + (r % LOSSY_SLOTS) * 4096;
		pt_fill_pattern(slot, LOSSY_MSG, r);
		memcpy(old, slot, LOSSY_MSG);
		range.addr = slot;
		ASSERT_EQ(0, pmrdma_flush_async(self->map, &range, 1))
			TH_LOG("round %d: %s", r, pmrdma_errormsg(self->map));
		/* the source changes while its packets may be sent again */
		usleep(500);
		for (i = 0; i < LOSSY_MSG; i++)
			slot[i] ^= 0xff;
		ASSERT_EQ(0, pmrdma_drain(self->map))
			TH_LOG("round %d: %s", r, pmrdma_errormsg(self->map));
		for (i = 0; i < LOSSY_MSG; i++) {
			unsigned char b = self->keyed.v[slot - v + i];

			ASSERT_TRUE(b == old[i] || b == (old[i] ^ 0xff))
				TH_LOG("round %d, byte %d: %#x, neither %#x nor %#x",
				       r, i, b, old[i], old[i] ^ 0xff);
		}
		take_keyed(self->cap, mac0, &ledger);
	}
	/* the model: the view, flushed whole once more, then read back */
	ASSERT_EQ(0, pmrdma_flush(self->map, v, LOSSY_SLOTS * 4096))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, memcmp(self->keyed.v, v, LOSSY_SLOTS * 4096));
	memset(v, 0, LOSSY_SLOTS * 4096);
	ASSERT_EQ(0, pmrdma_read(self->map, v, LOSSY_SLOTS * 4096))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, memcmp(self->keyed.v, v, LOSSY_SLOTS * 4096));
	pt_sh("tc qdisc del dev %s root; tc qdisc del dev %s root", NET0, NET1);
	usleep(200000);
	take_keyed(self->cap, mac0, &ledger);
	TH_LOG("%ld keyed frames, %ld PSNs sent again under a fresh counter",
	       ledger.frames, ledger.resent_psns);
	EXPECT_EQ(0, ledger.reused);
	EXPECT_LT(LOSSY_ROUNDS * 3, ledger.frames);
	EXPECT_LT(0, ledger.resent_psns);
	pt_nonce_ledger_free(&ledger);
}

TEST_HARNESS_MAIN
