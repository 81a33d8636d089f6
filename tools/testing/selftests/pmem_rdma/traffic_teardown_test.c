// SPDX-License-Identifier: GPL-2.0
/*
 * The devices and the module go away under traffic.  Two patched rxe
 * devices on a veth pair (IPv6 link-local only, netem duplicating and
 * reordering behind a 1 ms delay); a responder process owns a region on
 * DEV1 and a requester process posts the WRITE / FLUSH / ATOMIC WRITE /
 * VERIFY stream (stream_helpers.h) to it from DEV0, with a short retry
 * count so that losing its peer ends in an error completion.
 *
 * rxe has no disassociate_ucontext: an open verbs context pins the module
 * and makes an unregister wait for the process to close it.  So, under
 * the traffic, "rdma link delete" of the responder's device must wait for
 * the responder process and end once it dies, rmmod must be refused
 * without disturbing the traffic, and once the processes are gone the
 * module must unload and load again.  The requester must end with an
 * error completion (retries exceeded, or a remote access error when the
 * dying responder's MR goes before its QP), never hang; no oops or WARN (rxe's pools WARN when a
 * device goes with objects left: scripts/vm-run checks the kernel log);
 * and the objects of "rdma res" must come back to what they were.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rdma_helpers.h"
#include "roce_helpers.h"
#include "stream_helpers.h"

#define NET0		"ptt_ve0"
#define NET1		"ptt_ve1"
#define DEV0		"ptt_rxe0"	/* requester */
#define DEV1		"ptt_rxe1"	/* responder */

/* no loss: only the teardown may exhaust the retries */
#define NETEM		"duplicate 5% delay 1ms reorder 25% 50%"
#define RC_TIMEOUT	12	/* ~16.8 ms */
#define RC_RETRY_CNT	3
#define WARM_OPS	500	/* completed before the teardown starts */
#define CHUNK		100	/* ops between two progress reports */
#define WAIT_MS		30000

#define RXE_MOD		"rdma_rxe_flush"

/*
 * What the requester tells the test, in memory both share: ret and status
 * are written before done, and read after it (atomics order them).
 */
struct shared {
	long completed;
	int done, ret, status;
};

#define SH_GET(sh, f)		__atomic_load_n(&(sh)->f, __ATOMIC_ACQUIRE)
#define SH_SET(sh, f, v)	__atomic_store_n(&(sh)->f, (v), __ATOMIC_RELEASE)

/* what each side tells the other to connect */
struct side_info {
	uint32_t qpn;
	union ibv_gid gid;
	uint64_t raddr;
	uint32_t rkey;
};

/* the objects of "rdma res show" on dev, or on every device if NULL */
struct res {
	long pd, cq, qp, mr, ctx;
};

FIXTURE(traffic)
{
	struct res base, base_dev0;
	struct shared *sh;
	pid_t resp, req;
};

static int res_count(const char *dev, struct res *r)
{
	char line[512], name[64], key[32];
	const char *p;
	long v;
	int n;
	FILE *f = popen("rdma res show 2>/dev/null", "r");

	if (!f)
		return -1;
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		/* "0: rxe0: pd 1 cq 1 qp 1 cm_id 0 mr 0 ctx 0 srq 0" */
		if (sscanf(line, "%*d: %63[^:]:%n", name, &n) != 1)
			continue;
		if (dev && strcmp(name, dev))
			continue;
		for (p = line + n; sscanf(p, " %31s %ld%n", key, &v, &n) == 2; p += n) {
			if (!strcmp(key, "pd"))
				r->pd += v;
			else if (!strcmp(key, "cq"))
				r->cq += v;
			else if (!strcmp(key, "qp"))
				r->qp += v;
			else if (!strcmp(key, "mr"))
				r->mr += v;
			else if (!strcmp(key, "ctx"))
				r->ctx += v;
		}
	}
	return pclose(f) ? -1 : 0;
}

static void expect_res(struct __test_metadata *_metadata, const char *what,
		       const struct res *base, const struct res *now)
{
	TH_LOG("%s: pd %ld cq %ld qp %ld mr %ld ctx %ld (baseline pd %ld cq %ld qp %ld mr %ld ctx %ld)",
	       what, now->pd, now->cq, now->qp, now->mr, now->ctx,
	       base->pd, base->cq, base->qp, base->mr, base->ctx);
	EXPECT_EQ(0, memcmp(base, now, sizeof(*now)));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* waitpid() for at most ms: the exit status, or -1 if pid still runs */
static int wait_for(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	} while (now_ms() < end);
	return -1;
}

static struct ibv_qp *create_qp(struct pt_ctx *c, struct ibv_cq **cq)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = 64, .max_recv_wr = 1,
			.max_send_sge = 1, .max_recv_sge = 1,
			.max_inline_data = 64,
		},
	};

	*cq = ibv_create_cq(c->ctx, 128, NULL, NULL, 0);
	if (!*cq)
		return NULL;
	ia.send_cq = *cq;
	ia.recv_cq = *cq;
	return ibv_create_qp(c->pd, &ia);
}

static int xfer(int fd, void *buf, size_t len, int out)
{
	ssize_t n = out ? write(fd, buf, len) : read(fd, buf, len);

	return n == (ssize_t)len ? 0 : -1;
}

/* The responder process: a region on DEV1 for the requester, until killed. */
static void responder(int out, int in)
{
	struct side_info me = { 0 }, peer;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct pt_ctx c;
	unsigned char *region;
	char ok = 1;

	if (pt_open_dev(&c, DEV1))
		_exit(1);
	c.timeout = RC_TIMEOUT;
	c.retry_cnt = RC_RETRY_CNT;
	qp = create_qp(&c, &cq);
	region = aligned_alloc(4096, PT_STREAM_REGION + 4096);
	if (!qp || !region)
		_exit(1);
	memset(region, 0, PT_STREAM_REGION);
	mr = ibv_reg_mr(c.pd, region, PT_STREAM_REGION, PT_STREAM_ACCESS);
	if (!mr)
		_exit(1);
	me = (struct side_info){
		.qpn = qp->qp_num, .gid = c.gid,
		.raddr = (uintptr_t)region, .rkey = mr->rkey,
	};
	if (xfer(out, &me, sizeof(me), 1) || xfer(in, &peer, sizeof(peer), 0) ||
	    pt_qp_connect(&c, qp, peer.qpn, &peer.gid, PT_STREAM_ACCESS) ||
	    xfer(out, &ok, 1, 1))
		_exit(1);
	/* rxe serves the requests in the kernel; nothing to do here */
	for (;;)
		pause();
}

/* The requester process: the stream from DEV0 until an error. */
static void requester(struct shared *sh, int out, int in)
{
	struct side_info me = { 0 }, peer;
	struct pt_stream *s = malloc(sizeof(*s));
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct pt_ctx c;
	unsigned char *src;
	char ok;
	int ret;

	if (!s || pt_open_dev(&c, DEV0))
		_exit(1);
	c.timeout = RC_TIMEOUT;
	c.retry_cnt = RC_RETRY_CNT;
	qp = create_qp(&c, &cq);
	src = aligned_alloc(4096, PT_STREAM_SRC);
	if (!qp || !src)
		_exit(1);
	mr = ibv_reg_mr(c.pd, src, PT_STREAM_SRC, IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		_exit(1);
	me.qpn = qp->qp_num;
	me.gid = c.gid;
	if (xfer(in, &peer, sizeof(peer), 0) || xfer(out, &me, sizeof(me), 1) ||
	    pt_qp_connect(&c, qp, peer.qpn, &peer.gid, PT_STREAM_ACCESS) ||
	    xfer(in, &ok, 1, 0))
		_exit(1);
	pt_stream_init(s, qp, cq, src, mr->lkey, peer.raddr, peer.rkey);
	do {
		ret = pt_stream_run(s, s->completed + CHUNK);
		SH_SET(sh, completed, s->completed);
	} while (!ret);
	SH_SET(sh, ret, ret);
	SH_SET(sh, status, (int)s->bad.status);
	SH_SET(sh, done, 1);
	ibv_destroy_qp(qp);
	ibv_destroy_cq(cq);
	ibv_dereg_mr(mr);
	pt_close(&c);
	_exit(0);
}

FIXTURE_SETUP(traffic)
{
	int r2q[2], q2r[2];
	long long end;

	self->resp = self->req = 0;
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset((void *)self->sh, 0, sizeof(*self->sh));
	ASSERT_EQ(0, res_count(NULL, &self->base));
	ASSERT_EQ(0, pt_sh("modprobe sch_netem"));
	ASSERT_EQ(0, pt_veth_up(NET0, NET1, DEV0, DEV1));
	ASSERT_EQ(0, res_count(DEV0, &self->base_dev0));
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET0, NETEM));
	ASSERT_EQ(0, pt_sh("tc qdisc add dev %s root netem %s", NET1, NETEM));

	ASSERT_EQ(0, pipe(r2q));
	ASSERT_EQ(0, pipe(q2r));
	self->resp = fork();
	ASSERT_LE(0, self->resp);
	if (!self->resp)
		responder(r2q[1], q2r[0]);
	self->req = fork();
	ASSERT_LE(0, self->req);
	if (!self->req)
		requester(self->sh, q2r[1], r2q[0]);
	close(r2q[0]);
	close(r2q[1]);
	close(q2r[0]);
	close(q2r[1]);

	end = now_ms() + 60000;
	while (SH_GET(self->sh, completed) < WARM_OPS &&
	       !SH_GET(self->sh, done) && now_ms() < end)
		usleep(10000);
	ASSERT_LE(WARM_OPS, SH_GET(self->sh, completed))
		TH_LOG("the stream did not start: %ld ops, ret %d, status %s",
		       self->sh->completed, self->sh->ret,
		       ibv_wc_status_str(self->sh->status));
	ASSERT_EQ(0, SH_GET(self->sh, done));
}

FIXTURE_TEARDOWN(traffic)
{
	if (self->req > 0 && !kill(self->req, SIGKILL))
		waitpid(self->req, NULL, 0);
	if (self->resp > 0 && !kill(self->resp, SIGKILL))
		waitpid(self->resp, NULL, 0);
	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET0);
	pt_sh("tc qdisc del dev %s root 2>/dev/null", NET1);
	pt_veth_pair_close(NULL, NET0, DEV0, DEV1);
	/* what the tests after this one expect, whatever happened here */
	pt_restore_stack();
	munmap((void *)self->sh, sizeof(*self->sh));
}

/*
 * The responder process dies (the peer's QP and MR go with it): the
 * requester must end with an error completion within its retries, and its
 * own objects must go when it exits.
 */
static void end_traffic(struct __test_metadata *_metadata, struct shared *sh,
			pid_t *resp, pid_t *req)
{
	long at = SH_GET(sh, completed);
	int st;

	ASSERT_EQ(0, kill(*resp, SIGKILL));
	ASSERT_LE(0, wait_for(*resp, WAIT_MS));
	*resp = 0;
	st = wait_for(*req, WAIT_MS);
	ASSERT_LE(0, st) TH_LOG("the requester hangs after %ld ops",
				SH_GET(sh, completed));
	*req = 0;
	ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	ASSERT_EQ(1, SH_GET(sh, done));
	TH_LOG("the stream ended after %ld ops (%ld before the responder died): %s%s%s",
	       sh->completed, at, strerror(-sh->ret), sh->ret == -EIO ? ", " : "",
	       sh->ret == -EIO ? ibv_wc_status_str(sh->status) : "");
	/*
	 * The first error says why: retries exhausted once the QP is gone,
	 * or a NAK from a QP that outlived its MR for a moment; a flushed
	 * WR would mean the cause went unreported.
	 */
	EXPECT_EQ(-EIO, sh->ret);
	EXPECT_NE(IBV_WC_SUCCESS, sh->status);
	EXPECT_NE(IBV_WC_WR_FLUSH_ERR, sh->status);
}

TEST_F_TIMEOUT(traffic, responder_link_delete, 300)
{
	struct res now;
	pid_t del;
	int st;

	del = fork();
	ASSERT_LE(0, del);
	if (!del)
		_exit(pt_sh("rdma link delete %s", DEV1));
	/* no disassociate_ucontext in rxe: the responder's context holds it */
	st = wait_for(del, 2000);
	TH_LOG("rdma link delete %s under traffic: %s", DEV1,
	       st < 0 ? "waits for the responder process" : "returned at once");
	if (st >= 0)
		ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	end_traffic(_metadata, self->sh, &self->resp, &self->req);
	if (st < 0)
		st = wait_for(del, WAIT_MS);
	ASSERT_LE(0, st) TH_LOG("rdma link delete hangs with the responder gone");
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	EXPECT_FALSE(pt_exists("/sys/class/infiniband/" DEV1));

	ASSERT_EQ(0, res_count(DEV0, &now));
	expect_res(_metadata, DEV0 " after the requester", &self->base_dev0, &now);
	ASSERT_EQ(0, pt_sh("rdma link delete %s", DEV0));
	ASSERT_EQ(0, res_count(NULL, &now));
	expect_res(_metadata, "every device", &self->base, &now);
}

TEST_F_TIMEOUT(traffic, module_reload, 300)
{
	const char *rxe_ko = getenv("PMEM_RDMA_RXE_KO");
	const char *pmem_ko = getenv("PMEM_RDMA_KO");
	char refcnt[32];
	int pmem_holds;
	struct res now;
	long at;

	ASSERT_NE(NULL, rxe_ko);
	ASSERT_NE(NULL, pmem_ko);
	ASSERT_EQ(0, pt_read_line("/sys/module/" RXE_MOD "/refcnt", refcnt,
				  sizeof(refcnt)));
	TH_LOG(RXE_MOD " refcnt under traffic: %s", refcnt);
	/* the open contexts pin the module: refused, and harmless */
	EXPECT_NE(0, pt_sh("rmmod " RXE_MOD " 2>/dev/null"));
	EXPECT_TRUE(pt_exists("/sys/class/infiniband/" DEV1));
	at = SH_GET(self->sh, completed);
	usleep(500 * 1000);
	EXPECT_LT(at, SH_GET(self->sh, completed));
	EXPECT_EQ(0, SH_GET(self->sh, done));

	end_traffic(_metadata, self->sh, &self->resp, &self->req);

	/* pmem_rdma holds the module only while it uses its domain hook */
	ASSERT_EQ(0, pt_read_line("/sys/module/" RXE_MOD "/refcnt", refcnt,
				  sizeof(refcnt)));
	pmem_holds = strcmp(refcnt, "0") && pt_exists("/sys/module/pmem_rdma");
	TH_LOG(RXE_MOD " refcnt with the processes gone: %s%s", refcnt,
	       pmem_holds ? ", unloading pmem_rdma first" : "");
	if (pmem_holds)
		ASSERT_EQ(0, pt_sh("rmmod pmem_rdma"));
	ASSERT_EQ(0, pt_sh("rmmod " RXE_MOD));
	EXPECT_FALSE(pt_exists("/sys/class/infiniband/" DEV0));
	EXPECT_FALSE(pt_exists("/sys/class/infiniband/rxe0"));
	ASSERT_EQ(0, pt_sh("insmod %s", rxe_ko));
	if (pmem_holds)
		ASSERT_EQ(0, pt_sh("insmod %s", pmem_ko));
	ASSERT_EQ(0, pt_sh("rdma link add rxe0 type rxe netdev d0"));
	ASSERT_EQ(0, res_count(NULL, &now));
	expect_res(_metadata, "every device after the reload", &self->base, &now);
}

TEST_HARNESS_MAIN
