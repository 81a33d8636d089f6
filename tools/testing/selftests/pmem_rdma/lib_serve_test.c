// SPDX-License-Identifier: GPL-2.0
/*
 * libpmrdma's user-space target (pmrdma_serve.h) on the devdax device
 * (PMEM_RDMA_DAX), served from a thread of this process, and the
 * library's remote maps against it: FLUSH chosen by itself (the device
 * can FLUSH, so the region's MR has the flush access), GPSPM when asked
 * for, with requests of up to eight ranges answered by the target's CPU
 * and the atomic write as a STORE8 behind them, APM when asked for, the
 * log writer on it, and the same refusals as the kernel target.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "lib_helpers.h"
#include "peer_helpers.h"
#include "pmlog.h"
#include "pmrdma_serve.h"

#define SERVE_PORT	7601
#define SERVE_OFF	(8UL << 20)
#define SERVE_LEN	(2UL << 20)

FIXTURE(serve)
{
	struct pmrdma_server *s;
	pthread_t th;
	uint8_t key[32];
	char addr[96];
	struct pmrdma_remote r;
	struct pmrdma_map *map;
	char *v, *sv;
};

static void *serve_thread(void *arg)
{
	pmrdma_server_run(arg, -1);
	return NULL;
}

static int serve_map(struct pmrdma_map **map, const struct pmrdma_remote *r)
{
	return lib_map_remote(map, r, NULL);
}

FIXTURE_SETUP(serve)
{
	const char *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_serve_config c = {
		.path = dax, .offset = SERVE_OFF, .length = SERVE_LEN,
		.port = SERVE_PORT, .key = self->key, .key_len = 32,
	};
	char msg[256] = "";
	int i, ret;

	if (!dax || !dax[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	for (i = 0; i < 32; i++)
		self->key[i] = 0xc0 + i;
	ret = pmrdma_server_new(&self->s, &c, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", msg);
	self->sv = pmrdma_server_get_address(self->s);
	memset(self->sv, 0, SERVE_LEN);
	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
	ASSERT_EQ(0, pt_peer_device_addr_str(self->addr, sizeof(self->addr)));
	self->r = (struct pmrdma_remote){
		.addr = self->addr, .port = SERVE_PORT,
		.key = self->key, .key_len = 32,
		.method = PMRDMA_METHOD_GPSPM,	/* most tests are GPSPM's */
	};
	ret = serve_map(&self->map, &self->r);
	ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(NULL));
	self->v = pmrdma_map_get_address(self->map);
}

/* the map, then the server (thread th) and its mapping of the device, gone */
static void serve_end(struct pmrdma_map **map, struct pmrdma_server **s,
		      pthread_t th)
{
	pmrdma_map_delete(map);
	if (*s) {
		pmrdma_server_stop(*s);
		pthread_join(th, NULL);
		pmrdma_server_delete(s);
	}
}

FIXTURE_TEARDOWN(serve)
{
	serve_end(&self->map, &self->s, self->th);
}

/*
 * The served range of the devdax device through a mapping of the test's
 * own, not the server's: MAP_FAILED or the range's first byte.  The
 * mapping starts at the device's start, which every alignment allows.
 */
static char *dax_range(void)
{
	int fd = open(getenv("PMEM_RDMA_DAX"), O_RDWR);
	char *p;

	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, SERVE_OFF + SERVE_LEN, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? p : p + SERVE_OFF;
}

/*
 * Through m, whose method places and persists without the target's CPU
 * (FLUSH, APM): 64 KiB of pattern seed flushed, then word atomically
 * written behind it, both in the served range, and no GPSPM request.
 */
static void lands_without_the_cpu(struct __test_metadata *_metadata,
				  FIXTURE_DATA(serve) *self,
				  struct pmrdma_map *m, uint32_t seed,
				  uint64_t word)
{
	struct pmrdma_server_stats st0, st;
	char *v = pmrdma_map_get_address(m);

	pmrdma_server_get_stats(self->s, &st0);
	pt_fill_pattern(v, 65536, seed);
	ASSERT_EQ(0, pmrdma_flush(m, v, 65536)) TH_LOG("%s", pmrdma_errormsg(m));
	ASSERT_EQ(0, pmrdma_atomic_write(m, 65536, word));
	ASSERT_EQ(0, pmrdma_flush(m, v + 65536, 8));
	EXPECT_EQ(0, pt_check_pattern(self->sv, 65536, seed));
	EXPECT_EQ(word, pt_load64(self->sv + 65536));
	pmrdma_server_get_stats(self->s, &st);
	EXPECT_EQ(st0.requests, st.requests);	/* the target's CPU did nothing */
}

/*
 * A map left to choose takes FLUSH: the device can, and the descriptor
 * grants it.  Its WRITEs and FLUSHes, and the atomic write behind them,
 * land in the device with no request to the target's CPU.
 */
TEST_F(serve, flush_chosen_where_the_device_can)
{
	struct pmrdma_remote any = self->r;
	struct pmrdma_caps caps;
	struct pmrdma_map *m;

	if (!self->map)
		return;
	any.method = PMRDMA_METHOD_AUTO;
	ASSERT_EQ(0, serve_map(&m, &any)) TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(PMRDMA_METHOD_FLUSH, caps.method);
	EXPECT_STREQ("FLUSH", pmrdma_method_name(caps.method));
	EXPECT_EQ(PMRDMA_PLACEMENT_GLOBAL | PMRDMA_PLACEMENT_PERSISTENT,
		  caps.placement_types);
	lands_without_the_cpu(_metadata, self, m, 231, 0x1234);
	pmrdma_map_delete(&m);
}

TEST_F(serve, gpspm_persisted_by_the_target)
{
	struct pmrdma_server_stats st0, st;
	struct pmrdma_range r[20];
	struct pmrdma_caps caps;
	char *dax, *want;
	int i;

	if (!self->map)
		return;
	pmrdma_map_get_caps(self->map, &caps);
	EXPECT_EQ(PMRDMA_METHOD_GPSPM, caps.method);
	EXPECT_STREQ("GPSPM", pmrdma_method_name(caps.method));
	EXPECT_EQ(0, caps.verify_algs);

	/* the device itself, zeroed whatever an earlier run left there */
	dax = dax_range();
	ASSERT_NE(MAP_FAILED, dax) TH_LOG("mapping %s: %s",
					  getenv("PMEM_RDMA_DAX"),
					  strerror(errno));
	memset(dax, 0, SERVE_LEN);
	want = malloc(SERVE_LEN);
	ASSERT_NE(NULL, want);
	pt_fill_pattern(want, SERVE_LEN, 201);

	pmrdma_server_get_stats(self->s, &st0);
	pt_fill_pattern(self->v, SERVE_LEN, 201);
	for (i = 0; i < 20; i++)
		r[i] = (struct pmrdma_range){ self->v + i * 8192, 4096 };
	ASSERT_EQ(0, pmrdma_flush_ranges(self->map, r, 20))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	pmrdma_server_get_stats(self->s, &st);
	/* eight ranges a request */
	EXPECT_EQ(st0.requests + 3, st.requests);
	EXPECT_EQ(st0.bytes_persisted + 20 * 4096, st.bytes_persisted);
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, memcmp(self->sv + i * 8192, self->v + i * 8192, 4096));
	EXPECT_EQ(0, self->sv[4096]);	/* not flushed, never sent */

	/* a record, then its pointer, stored by the target's CPU behind it */
	ASSERT_EQ(0, pmrdma_flush_async(self->map, r, 1));
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, SERVE_LEN - 8, 0x77));
	ASSERT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0x77, pt_load64(self->sv + SERVE_LEN - 8));
	EXPECT_EQ(-EOPNOTSUPP, pmrdma_flush_verify(self->map, r, 1,
						   PMRDMA_VERIFY_ALG_CRC32C));

	/*
	 * What the server persisted is in the device: seen through the
	 * test's own mapping, once the server has unmapped it and gone.
	 */
	serve_end(&self->map, &self->s, self->th);
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0, memcmp(dax + i * 8192, want + i * 8192, 4096))
			TH_LOG("range %d is not in the device", i);
	EXPECT_EQ(0, dax[4096]);
	EXPECT_EQ(0x77, pt_load64(dax + SERVE_LEN - 8));
	munmap(dax - SERVE_OFF, SERVE_OFF + SERVE_LEN);
	free(want);
}

/*
 * GPSPM's target CPU stores each atomic write behind the requests before
 * it: a flush of the words must not WRITE them ahead of that, however many
 * atomic writes came since.  With the server paused, what the NIC places
 * shows at once and what the CPU stores does not.
 */
TEST_F(serve, atomic_writes_wait_for_the_targets_cpu)
{
	struct pmrdma_range r[2];
	int i;

	if (!self->map)
		return;
	/* the server's thread stopped: requests wait in its receive queue */
	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	pt_fill_pattern(self->v + 65536, 4096, 221);
	r[0] = (struct pmrdma_range){ self->v + 65536, 4096 };
	ASSERT_EQ(0, pmrdma_flush_async(self->map, r, 1));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pmrdma_atomic_write(self->map, i * 8, 0x100 + i));
	/* the pointers' flush, and a marker the NIC places behind them */
	pt_fill_pattern(self->v + 131072, 64, 222);
	r[0] = (struct pmrdma_range){ self->v, 24 };
	r[1] = (struct pmrdma_range){ self->v + 131072, 64 };
	ASSERT_EQ(0, pmrdma_flush_async(self->map, r, 2));
	for (i = 0; i < 5000 && pt_check_pattern(self->sv + 131072, 64, 222); i++)
		usleep(1000);
	ASSERT_EQ(0, pt_check_pattern(self->sv + 131072, 64, 222));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, pt_load64(self->sv + i * 8))
			TH_LOG("pointer %d landed before the target stored it", i);

	/* the server again: each stored, behind its record */
	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
	ASSERT_EQ(0, pmrdma_drain(self->map)) TH_LOG("%s", pmrdma_errormsg(self->map));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0x100 + i, pt_load64(self->sv + i * 8));
	EXPECT_EQ(0, pt_check_pattern(self->sv + 65536, 4096, 221));

	/* more than the link remembers: the extra one waits, none is lost */
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, pmrdma_atomic_write(self->map, i * 8, 0x200 + i));
	ASSERT_EQ(0, pmrdma_flush(self->map, self->v, 40 * 8));
	for (i = 0; i < 40; i++)
		EXPECT_EQ(0x200 + i, pt_load64(self->sv + i * 8));
}

/* the server again, a moment from now */
static void *serve_later(void *arg)
{
	usleep(300000);
	pmrdma_server_run(arg, -1);
	return NULL;
}

/*
 * GPSPM: a write from a registered buffer is WRITEs of its bytes and a
 * request that the target's CPU persists them; the view keeps what it
 * held.  Over the 8 bytes of an atomic write that the target's CPU has not
 * stored yet (its thread stopped), the buffer's bytes are the last to
 * land, not the atomic write's older value.
 */
TEST_F(serve, write_from_a_registered_buffer)
{
	struct pmrdma_server_stats st0, st;
	struct pmrdma_buf *buf;
	char *src;

	if (!self->map)
		return;
	memset(self->sv, 0, SERVE_LEN);
	pt_fill_pattern(self->v, SERVE_LEN, 261);	/* never flushed */
	ASSERT_EQ(0, posix_memalign((void **)&src, 4096, 16384));
	pt_fill_pattern(src, 16384, 262);
	ASSERT_EQ(0, pmrdma_buf_register(self->map, src, 16384, &buf))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	pmrdma_server_get_stats(self->s, &st0);
	ASSERT_EQ(0, pmrdma_write(self->map, self->v + 8195, buf, 100, 5000));
	ASSERT_EQ(0, pmrdma_drain(self->map)) TH_LOG("%s", pmrdma_errormsg(self->map));
	pmrdma_server_get_stats(self->s, &st);
	EXPECT_EQ(st0.requests + 1, st.requests);
	EXPECT_EQ(st0.bytes_persisted + 5000, st.bytes_persisted);
	EXPECT_EQ(0, memcmp(self->sv + 8195, src + 100, 5000));
	EXPECT_EQ(0, self->sv[8194]);
	EXPECT_EQ(0, self->sv[8195 + 5000]);
	EXPECT_EQ(0, pt_check_pattern(self->v, SERVE_LEN, 261))
		TH_LOG("the write touched the view");

	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	ASSERT_EQ(0, pmrdma_atomic_write(self->map, 0, 0x5555555555555555ULL));
	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_later, self->s));
	ASSERT_EQ(0, pmrdma_write(self->map, self->v, buf, 0, 64))
		TH_LOG("%s", pmrdma_errormsg(self->map));
	ASSERT_EQ(0, pmrdma_drain(self->map)) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(-1, lib_first_diff(self->sv, src, 64))
		TH_LOG("the atomic write landed over the buffer's bytes: %#llx",
		       (unsigned long long)pt_load64(self->sv));
	EXPECT_EQ(0, pmrdma_buf_deregister(&buf));
	free(src);
}

/*
 * A window of the served range: GPSPM's requests name export offsets, so
 * the target's CPU persists and stores at the window's place.
 */
TEST_F(serve, gpspm_in_a_window)
{
	struct pmrdma_map *w;
	char *wv;

	if (!self->map)
		return;
	memset(self->sv, 0, SERVE_LEN);
	ASSERT_EQ(0, lib_map_window(&w, &self->r, 65536, 8192,
				    PMRDMA_VIEW_ZEROED))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	wv = pmrdma_map_get_address(w);
	pt_fill_pattern(wv + 512, 1024, 231);
	ASSERT_EQ(0, pmrdma_flush(w, wv + 512, 1024)) TH_LOG("%s", pmrdma_errormsg(w));
	ASSERT_EQ(0, pmrdma_atomic_write(w, 8184, 0x99));
	ASSERT_EQ(0, pmrdma_drain(w));
	EXPECT_EQ(0, pt_check_pattern(self->sv + 65536 + 512, 1024, 231));
	EXPECT_EQ(0x99, pt_load64(self->sv + 65536 + 8184));
	EXPECT_EQ(0, pt_load64(self->sv + 8184));
	EXPECT_EQ(0, self->sv[512]);
	pmrdma_map_delete(&w);
}

/*
 * A lane serves one call at a time: while a thread waits in a flush on
 * the only lane (the target's CPU is stopped, GPSPM answers nothing), a
 * second thread's async flush waits for the lane, sending nothing, until
 * the first call is done.
 */
struct lane_call {
	struct pmrdma_map *map;
	char *addr;
	bool async;
	int err;
	int done;	/* __atomic */
};

static void *lane_call(void *arg)
{
	struct lane_call *c = arg;
	struct pmrdma_range r = { c->addr, 4096 };

	c->err = c->async ? pmrdma_flush_async(c->map, &r, 1) :
			    pmrdma_flush(c->map, c->addr, 4096);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F(serve, a_lane_serves_one_call_at_a_time)
{
	struct lane_call a = { .map = self->map, .addr = self->v };
	struct lane_call b = {
		.map = self->map, .addr = self->v + 65536, .async = true,
	};
	pthread_t ta, tb;
	int i;

	if (!self->map)
		return;
	memset(self->sv, 0, 2 * 65536);
	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	pt_fill_pattern(a.addr, 4096, 241);
	pt_fill_pattern(b.addr, 4096, 242);
	ASSERT_EQ(0, pthread_create(&ta, NULL, lane_call, &a));
	/* a's WRITE placed: a waits for the target's answer, on the lane */
	for (i = 0; i < 5000 && pt_check_pattern(self->sv, 4096, 241); i++)
		usleep(1000);
	ASSERT_EQ(0, pt_check_pattern(self->sv, 4096, 241));
	ASSERT_EQ(0, pthread_create(&tb, NULL, lane_call, &b));
	usleep(500000);
	EXPECT_EQ(0, __atomic_load_n(&a.done, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, __atomic_load_n(&b.done, __ATOMIC_ACQUIRE))
		TH_LOG("a second call went out on a busy lane");
	EXPECT_NE(0, pt_check_pattern(self->sv + 65536, 4096, 242));

	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_EQ(0, a.err) TH_LOG("%s", pmrdma_errormsg(self->map));
	EXPECT_EQ(0, b.err);
	EXPECT_EQ(0, pmrdma_drain(self->map));
	EXPECT_EQ(0, pt_check_pattern(self->sv + 65536, 4096, 242));
}

/*
 * A thread keeps its lane on a map however many maps it uses in between:
 * a drain waits on the lane its async flush went out on.  With the
 * target's CPU stopped and short timeouts, that drain fails for want of
 * an answer; on another lane it would find nothing to wait for.
 */
TEST_F(serve, a_thread_keeps_its_lane_across_many_maps)
{
	struct lib_map_opts o = { .lanes = 2, .wait_ms = 300 };
	const char *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_map *m, *lm;
	struct pmrdma_range r;
	char *lv;
	int i;

	if (!self->map)
		return;
	ASSERT_EQ(0, lib_map_remote(&m, &self->r, &o))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	r = (struct pmrdma_range){ pmrdma_map_get_address(m), 4096 };
	pt_fill_pattern(r.addr, 4096, 170);
	ASSERT_EQ(0, pmrdma_flush_async(m, &r, 1));
	/* more maps of two lanes than a thread was once said to keep */
	for (i = 0; i < 12; i++) {
		ASSERT_EQ(0, lib_map_lanes(&lm, dax, NULL, 0, 2))
			TH_LOG("%s", pmrdma_errormsg(NULL));
		lv = pmrdma_map_get_address(lm);
		ASSERT_EQ(0, pmrdma_flush(lm, lv, 64));
		pmrdma_map_delete(&lm);
	}
	EXPECT_EQ(-ETIMEDOUT, pmrdma_drain(m))
		TH_LOG("the drain went to another lane: %s", pmrdma_errormsg(m));
	pmrdma_map_delete(&m);
	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
}

/*
 * Group commit: threads that share a lane and flush while another
 * thread's flush waits on it are sent as one flush when it is done - one
 * GPSPM request for the three, not three; with group commit off, each its
 * own.  Four threads flush on map, one first, with the server stopped:
 * the requests the server then answers.
 */
static uint64_t waiting_flushes(struct __test_metadata *_metadata,
				FIXTURE_DATA(serve) *self, struct pmrdma_map *map)
{
	char *v = pmrdma_map_get_address(map);
	struct pmrdma_server_stats st0, st;
	struct lane_call c[4];
	pthread_t t[4];
	int i;

	memset(self->sv, 0, 4 * 65536);
	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	for (i = 0; i < 4; i++) {
		c[i] = (struct lane_call){ .map = map, .addr = v + i * 65536 };
		pt_fill_pattern(c[i].addr, 4096, 180 + i);
	}
	EXPECT_EQ(0, pthread_create(&t[0], NULL, lane_call, &c[0]));
	/* the first flush's WRITE placed: it waits for the target's answer */
	for (i = 0; i < 5000 && pt_check_pattern(self->sv, 4096, 180); i++)
		usleep(1000);
	EXPECT_EQ(0, pt_check_pattern(self->sv, 4096, 180));
	for (i = 1; i < 4; i++)
		EXPECT_EQ(0, pthread_create(&t[i], NULL, lane_call, &c[i]));
	usleep(300000);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, __atomic_load_n(&c[i].done, __ATOMIC_ACQUIRE));
	pmrdma_server_get_stats(self->s, &st0);

	EXPECT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, c[i].err) TH_LOG("%s", pmrdma_errormsg(map));
		EXPECT_EQ(0, pt_check_pattern(self->sv + i * 65536, 4096, 180 + i));
	}
	pmrdma_server_get_stats(self->s, &st);
	return st.requests - st0.requests;
}

TEST_F(serve, flushes_waiting_for_a_lane_go_as_one)
{
	struct lib_map_opts off = { .no_group_commit = true };
	struct pmrdma_map *m;

	if (!self->map)
		return;
	EXPECT_EQ(2, waiting_flushes(_metadata, self, self->map))
		TH_LOG("the waiting flushes were not sent as one");
	ASSERT_EQ(0, lib_map_remote(&m, &self->r, &off))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	EXPECT_EQ(4, waiting_flushes(_metadata, self, m))
		TH_LOG("group commit off, and the flushes went as one");
	pmrdma_map_delete(&m);
}

/*
 * An event loop: one thread, two maps, each flush started with a token.
 * While the target's CPU is stopped the maps' fds wake the loop (GPSPM's
 * SEND completes) but no token is durable: each waits for its answer.
 * Then the tokens become durable through the loop alone, the data is on
 * the device, and the fds go quiet.  A map with short timeouts fails its
 * unanswered flush from the loop, without a blocking call.
 */
static int serve_map_timeouts(struct pmrdma_map **map,
			      const struct pmrdma_remote *r,
			      unsigned int wait_ms)
{
	struct lib_map_opts o = { .wait_ms = wait_ms };

	return lib_map_remote(map, r, &o);
}

TEST_F(serve, an_event_loop_drives_two_maps)
{
	struct epoll_event ev[4];
	struct pmrdma_map *m[3] = { self->map };
	struct pmrdma_range r;
	uint64_t tok[3], bad;
	int ep, fd, i, n, left, wakes = 0, ret;
	char *v[3];

	if (!self->map)
		return;
	memset(self->sv, 0, 3 * 65536);
	ASSERT_EQ(0, serve_map(&m[1], &self->r)) TH_LOG("%s", pmrdma_errormsg(NULL));
	ASSERT_EQ(0, serve_map_timeouts(&m[2], &self->r, 300))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pmrdma_map_get_fd(m[i], &fd))
			TH_LOG("%s", pmrdma_errormsg(m[i]));
		ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev[0]));
		v[i] = pmrdma_map_get_address(m[i]);
	}
	r = (struct pmrdma_range){ v[0], 4096 };
	EXPECT_EQ(-EINVAL, pmrdma_flush_start(m[0], &r, 1, NULL));
	EXPECT_EQ(-EINVAL, pmrdma_flush_test(m[0], 0));

	pmrdma_server_stop(self->s);
	pthread_join(self->th, NULL);
	for (i = 0; i < 3; i++) {
		pt_fill_pattern(v[i] + i * 65536, 4096, 250 + i);
		r = (struct pmrdma_range){ v[i] + i * 65536, 4096 };
		ASSERT_EQ(0, pmrdma_flush_start(m[i], &r, 1, &tok[i]))
			TH_LOG("%s", pmrdma_errormsg(m[i]));
		ASSERT_NE(0, tok[i]);
	}
	bad = tok[0] + (1ULL << 20);
	EXPECT_EQ(-EINVAL, pmrdma_flush_test(m[0], bad));
	/* the SENDs complete and wake the loop; the answers do not come */
	n = epoll_wait(ep, ev, 4, 5000);
	EXPECT_LT(0, n) TH_LOG("no completion woke the loop");
	usleep(100000);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pmrdma_progress(m[i]));
		EXPECT_EQ(-EAGAIN, pmrdma_flush_test(m[i], tok[i]))
			TH_LOG("map %d: durable before the target answered", i);
	}
	/* the short-timeout map fails from the loop, after its wait */
	for (i = 0; i < 300 && (ret = pmrdma_flush_test(m[2], tok[2])) == -EAGAIN; i++)
		usleep(10000);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s", pmrdma_errormsg(m[2]));
	pmrdma_map_delete(&m[2]);

	ASSERT_EQ(0, pthread_create(&self->th, NULL, serve_thread, self->s));
	for (left = 2; left && wakes < 1000; wakes++) {
		n = epoll_wait(ep, ev, 4, 10000);
		ASSERT_LT(0, n) TH_LOG("the loop was not woken (%d durable)", 2 - left);
		for (i = 0; i < 2; i++) {
			if (!tok[i])
				continue;
			ret = pmrdma_flush_test(m[i], tok[i]);
			if (ret == -EAGAIN)
				continue;
			ASSERT_EQ(0, ret) TH_LOG("%s", pmrdma_errormsg(m[i]));
			tok[i] = 0;
			left--;
		}
	}
	EXPECT_EQ(0, left);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, pt_check_pattern(self->sv + i * 65536, 4096, 250 + i));
	/* nothing in flight: after a last progress, the fds are quiet */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, pmrdma_progress(m[i]));
	EXPECT_EQ(0, epoll_wait(ep, ev, 4, 300)) TH_LOG("an fd stays readable");
	close(ep);
	pmrdma_map_delete(&m[1]);
}

TEST_F(serve, apm_when_asked_for)
{
	struct pmrdma_remote apm = self->r;
	struct pmrdma_caps caps;
	struct pmrdma_map *m;

	if (!self->map)
		return;
	apm.method = PMRDMA_METHOD_APM;
	ASSERT_EQ(0, serve_map(&m, &apm));
	pmrdma_map_get_caps(m, &caps);
	EXPECT_EQ(PMRDMA_METHOD_APM, caps.method);
	lands_without_the_cpu(_metadata, self, m, 211, 5);
	pmrdma_map_delete(&m);
}

TEST_F(serve, log_writer_on_the_user_space_target)
{
	struct pmlog_recovery rec;
	struct pmrdma_map *again;
	struct pmlog *log;
	char buf[256];
	uint64_t n;

	if (!self->map)
		return;
	ASSERT_EQ(0, pmlog_format(self->map, 256, 0));
	ASSERT_EQ(0, pmlog_open(&log, self->map, &rec));
	for (n = 0; n < 300; n++) {
		size_t len = pmlog_sample(n, buf, pmlog_max_record(log));

		ASSERT_EQ(0, pmlog_append(log, buf, len, n % 2 ? PMLOG_WAIT :
					  PMLOG_PIPELINED));
	}
	pmlog_close(&log);
	ASSERT_EQ(0, serve_map(&again, &self->r));
	ASSERT_EQ(0, pmlog_open(&log, again, &rec));
	EXPECT_EQ(300, rec.pointer);
	EXPECT_EQ(300, rec.valid);
	EXPECT_EQ(0, rec.invalid);
	pmlog_close(&log);
	pmrdma_map_delete(&again);
}

TEST_F(serve, the_kernel_targets_refusals)
{
	struct pmrdma_remote bad = self->r;
	struct pmrdma_server_stats st;
	struct pmrdma_map *m = NULL;
	uint8_t key[32];
	int fds;

	if (!self->map)
		return;
	fds = lib_fds();
	memcpy(key, self->key, 32);
	key[31] ^= 1;
	bad.key = key;
	EXPECT_EQ(-ECONNREFUSED, serve_map(&m, &bad));
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "a wrong one"));
	bad.key = NULL;
	EXPECT_EQ(-ECONNREFUSED, serve_map(&m, &bad));
	pmrdma_server_get_stats(self->s, &st);
	EXPECT_EQ(2, st.refused);
	EXPECT_EQ(1, st.peers);
	EXPECT_EQ(fds, lib_fds());
}

/*
 * A peer with the key uses a descriptor only from a target that proves the
 * key back: one without the key (here a server that lets anyone in) is
 * refused by the library, with nothing of its accept used.
 */
TEST_F(serve, the_target_must_prove_the_key)
{
	struct pmrdma_serve_config c = {
		.path = getenv("PMEM_RDMA_DAX"), .offset = SERVE_OFF,
		.length = SERVE_LEN, .port = SERVE_PORT + 1, .any_peer = true,
	};
	struct pmrdma_remote r = self->r;
	struct pmrdma_server *open_door;
	struct pmrdma_server_stats st;
	struct pmrdma_map *m = NULL;
	char msg[256] = "";
	pthread_t th;
	int fds;

	if (!self->map)
		return;
	fds = lib_fds();
	ASSERT_EQ(0, pmrdma_server_new(&open_door, &c, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, pthread_create(&th, NULL, serve_thread, open_door));
	r.port = SERVE_PORT + 1;
	EXPECT_EQ(-EACCES, serve_map(&m, &r));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL),
			       "the target's accept has no proof of the key"))
		TH_LOG("%s", pmrdma_errormsg(NULL));
	/* without the key, that target is the one asked for */
	r.key = NULL;
	r.key_len = 0;
	EXPECT_EQ(0, serve_map(&m, &r)) TH_LOG("%s", pmrdma_errormsg(NULL));
	pmrdma_map_delete(&m);
	serve_end(&m, &open_door, th);
	/* and the server with the key proves it: the fixture's map */
	pmrdma_server_get_stats(self->s, &st);
	EXPECT_EQ(1, st.connects);
	EXPECT_EQ(fds, lib_fds());
}

/* a peer of the server that speaks GPSPM by hand */
struct raw_peer {
	struct pmrdma_conn conn;
	struct pmem_rdma_gpspm_req req;
	struct pmem_rdma_gpspm_resp resp;
	struct ibv_mr *req_mr, *resp_mr;
};

static int raw_connect(struct raw_peer *p, const uint8_t *key)
{
	struct sockaddr_in6 dst;
	struct pmrdma_conn_params cp = {
		.dst = (struct sockaddr *)&dst, .key = key, .key_len = 32,
		.send_depth = 4, .recv_depth = 1,
	};
	int ret = pt_peer_device_addr(&dst, SERVE_PORT);

	memset(p, 0, sizeof(*p));
	if (ret)
		return ret;
	ret = pmrdma_conn_open(&p->conn, &cp);
	if (ret)
		return ret;
	p->req_mr = ibv_reg_mr(p->conn.pd, &p->req, sizeof(p->req), 0);
	p->resp_mr = ibv_reg_mr(p->conn.pd, &p->resp, sizeof(p->resp),
				IBV_ACCESS_LOCAL_WRITE);
	return p->req_mr && p->resp_mr ? 0 : -ENOMEM;
}

static void raw_close(struct raw_peer *p)
{
	if (p->req_mr)
		ibv_dereg_mr(p->req_mr);
	if (p->resp_mr)
		ibv_dereg_mr(p->resp_mr);
	pmrdma_conn_close(&p->conn);
}

/* the request's first len bytes sent: the answer's status, or -errno */
static int raw_request(struct raw_peer *p, uint32_t len)
{
	struct ibv_sge rs = {
		.addr = (uintptr_t)&p->resp, .length = sizeof(p->resp),
		.lkey = p->resp_mr->lkey,
	}, ss = {
		.addr = (uintptr_t)&p->req, .length = len,
		.lkey = p->req_mr->lkey,
	};
	struct ibv_recv_wr rw = { .wr_id = 1, .sg_list = &rs, .num_sge = 1 },
			   *rbad;
	struct ibv_send_wr sw = {
		.wr_id = 2, .opcode = IBV_WR_SEND, .sg_list = &ss,
		.num_sge = 1, .send_flags = IBV_SEND_SIGNALED,
	}, *sbad;
	struct ibv_qp *qp = pmrdma_conn_qp(&p->conn);
	struct ibv_wc wc;
	int got = 0;

	if (ibv_post_recv(qp, &rw, &rbad) || ibv_post_send(qp, &sw, &sbad))
		return -EIO;
	while (got != 3) {
		if (pmrdma_conn_wait_wc(&p->conn, &wc, 5000) != 1)
			return -ETIMEDOUT;
		if (wc.status)
			return -EIO;
		got |= wc.wr_id;
	}
	return be16toh(p->resp.status);
}

/* a request of one op, laid out, not sent */
static void raw_fill(struct raw_peer *p, uint32_t op, uint64_t off, uint32_t len)
{
	p->req = (struct pmem_rdma_gpspm_req){
		.magic = htobe32(PMEM_RDMA_GPSPM_MAGIC),
		.version = htobe16(PMEM_RDMA_GPSPM_VERSION),
		.nops = htobe16(1), .id = htobe64(op),
	};
	p->req.ops[0] = (struct pmem_rdma_gpspm_op){
		.op = htobe32(op), .len = htobe32(len), .off = htobe64(off),
		.value = htobe64(0x5a5a5a5a5a5a5a5aULL),
	};
}

/* a request of one op, sent: the answer's status, or -errno */
static int raw_op(struct raw_peer *p, uint32_t op, uint64_t off, uint32_t len)
{
	raw_fill(p, op, off, len);
	return raw_request(p, offsetof(struct pmem_rdma_gpspm_req, ops[1]));
}

/*
 * Every field of a request is the peer's: offsets and lengths that would
 * wrap a bound, a count of ops above the most, a request shorter than it
 * says, are refused and nothing is stored; the descriptor has no address
 * of the server's process (iova 0, as the kernel target's).
 */
TEST_F(serve, hostile_requests_are_bounded)
{
	const uint64_t top = ~0ULL & ~7ULL;
	struct pmrdma_server_stats st0, st;
	struct raw_peer p;

	if (!self->map)
		return;
	ASSERT_EQ(0, raw_connect(&p, self->key)) TH_LOG("%s", p.conn.msg);
	EXPECT_EQ(0, p.conn.r.iova);
	EXPECT_EQ(SERVE_LEN, p.conn.r.length);
	memset(self->sv, 0, SERVE_LEN);
	pmrdma_server_get_stats(self->s, &st0);

	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_STORE8, SERVE_LEN, 0));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_STORE8, top, 0));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_STORE8, top - SERVE_LEN, 0));
	EXPECT_EQ(EINVAL, raw_op(&p, PMEM_RDMA_GPSPM_STORE8, SERVE_LEN - 4, 0));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_PERSIST, SERVE_LEN, 1));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_PERSIST, SERVE_LEN - 8, 9));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_PERSIST, top, 4096));
	EXPECT_EQ(ERANGE, raw_op(&p, PMEM_RDMA_GPSPM_PERSIST, 8, ~0U));
	EXPECT_EQ(EINVAL, raw_op(&p, PMEM_RDMA_GPSPM_PERSIST, 0, 0));
	EXPECT_EQ(EINVAL, raw_op(&p, 99, 0, 8));
	pmrdma_server_get_stats(self->s, &st);
	EXPECT_EQ(st0.bytes_persisted, st.bytes_persisted);

	/* more ops than a request holds, fewer bytes than it says, no header */
	raw_fill(&p, PMEM_RDMA_GPSPM_STORE8, 0, 0);
	p.req.nops = htobe16(PMEM_RDMA_GPSPM_OPS + 1);
	EXPECT_EQ(EINVAL, raw_request(&p, sizeof(p.req)));
	p.req.nops = htobe16(2);
	EXPECT_EQ(EINVAL, raw_request(&p, offsetof(struct pmem_rdma_gpspm_req,
						    ops[1])));
	EXPECT_EQ(EPROTO, raw_request(&p, 4));
	EXPECT_EQ(0, pt_load64(self->sv));
	EXPECT_EQ(0, memchr(self->sv, 0x5a, SERVE_LEN) != NULL);

	/* the last word is inside: stored */
	EXPECT_EQ(0, raw_op(&p, PMEM_RDMA_GPSPM_STORE8, SERVE_LEN - 8, 0));
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, pt_load64(self->sv + SERVE_LEN - 8));
	raw_close(&p);
}

/*
 * Without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK the range cannot
 * be pinned: this process (a child, the test's own caps untouched) then
 * fails to register it for every peer.
 */
static int serve_cannot_pin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { 64 << 10, 64 << 10 };

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(1U << CAP_IPC_LOCK);
	d[0].permitted &= ~(1U << CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, d) || setrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	return 0;
}

/*
 * The server runs in a child that cannot register its range; each peer is
 * refused (SETUP), and the server's descriptors after the second refusal
 * are those after the first: nothing of the failed device set-up (its
 * completion channel) is left behind.
 */
TEST(serve_setup_failure_leaks_nothing)
{
	struct pmrdma_serve_config c = {
		.path = getenv("PMEM_RDMA_DAX"), .offset = SERVE_OFF,
		.length = SERVE_LEN, .port = SERVE_PORT + 2, .any_peer = true,
	};
	struct pmrdma_remote r = { .port = SERVE_PORT + 2 };
	int up[2], go[2], fds[3] = { -1, -1, -1 }, i, st;
	struct pmrdma_map *m = NULL;
	char addr[96], msg[256], x;
	pid_t pid;

	if (!c.path || !c.path[0])
		SKIP(return, "no devdax device (PMEM_RDMA_DAX)");
	ASSERT_EQ(0, pt_peer_device_addr_str(addr, sizeof(addr)));
	r.addr = addr;
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pmrdma_server *s;
		pthread_t th;

		/* fds[0]: 0 or -errno of the set-up, then the counts */
		fds[0] = serve_cannot_pin();
		if (!fds[0])
			fds[0] = pmrdma_server_new(&s, &c, msg, sizeof(msg));
		if (!fds[0] && pthread_create(&th, NULL, serve_thread, s))
			fds[0] = -EAGAIN;
		if (write(up[1], fds, sizeof(int)) != sizeof(int) || fds[0])
			_exit(1);
		/* a count after each refusal the parent saw */
		for (i = 1; i < 3; i++) {
			if (read(go[0], &x, 1) != 1)
				_exit(1);
			fds[i] = lib_fds();
			if (write(up[1], &fds[i], sizeof(int)) != sizeof(int))
				_exit(1);
		}
		pmrdma_server_stop(s);
		pthread_join(th, NULL);
		pmrdma_server_delete(&s);
		_exit(0);
	}
	ASSERT_EQ(sizeof(int), read(up[0], &fds[0], sizeof(int)));
	ASSERT_EQ(0, fds[0]);
	for (i = 1; i < 3; i++) {
		EXPECT_EQ(-ECONNREFUSED, serve_map(&m, &r));
		EXPECT_NE(NULL, strstr(pmrdma_errormsg(NULL), "could not set the peer up"))
			TH_LOG("%s", pmrdma_errormsg(NULL));
		pmrdma_map_delete(&m);
		ASSERT_EQ(1, write(go[1], "g", 1));
		ASSERT_EQ(sizeof(int), read(up[0], &fds[i], sizeof(int)));
	}
	EXPECT_EQ(fds[1], fds[2]) TH_LOG("the server's descriptors grew by %d",
					 fds[2] - fds[1]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
}

TEST(serve_config_refusals)
{
	struct pmrdma_serve_config c = { .path = getenv("PMEM_RDMA_DAX") };
	struct pmrdma_server *s = (void *)1;
	char msg[256], file[] = "/tmp/serve_test.XXXXXX";
	int fd = mkstemp(file);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 << 20));
	close(fd);

	EXPECT_EQ(-EINVAL, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_EQ(NULL, s);
	c.port = SERVE_PORT;
	EXPECT_EQ(-EINVAL, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "any_peer"));
	c.any_peer = true;
	c.path = "/dev/no-such-dax";
	EXPECT_EQ(-ENOENT, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "/dev/no-such-dax")) TH_LOG("%s", msg);
	/* memory it could map but not keep registered: refused at the start */
	c.path = file;
	EXPECT_EQ(-EINVAL, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "not a devdax device")) TH_LOG("%s", msg);
	EXPECT_EQ(NULL, s);
	unlink(file);
	/* less than a page: no op of a peer could be bounded without a wrap */
	c.path = getenv("PMEM_RDMA_DAX");
	if (!c.path || !c.path[0])
		return;
	c.length = 4;
	EXPECT_EQ(-EINVAL, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "at least 4096 bytes")) TH_LOG("%s", msg);
	EXPECT_EQ(NULL, s);
	/* off a page: a STORE8 at an aligned offset would tear */
	c.offset = SERVE_OFF + 8;
	c.length = SERVE_LEN;
	EXPECT_EQ(-EINVAL, pmrdma_server_new(&s, &c, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "not a multiple of the page size")) TH_LOG("%s", msg);
	EXPECT_EQ(NULL, s);
	pmrdma_server_delete(&s);
	c.offset = 0;
	c.length = PMRDMA_SERVE_MIN_LEN;
	EXPECT_EQ(0, pmrdma_server_new(&s, &c, msg, sizeof(msg))) TH_LOG("%s", msg);
	pmrdma_server_delete(&s);
}

TEST_HARNESS_MAIN
