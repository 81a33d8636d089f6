// SPDX-License-Identifier: GPL-2.0
/*
 * Verbs helpers shared by the pmem_rdma selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rdma_helpers.h"

int pt_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int pt_write_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	n = n < 0 ? -errno : n == (ssize_t)strlen(line) ? 0 : -EIO;
	close(fd);
	return n;
}

int pt_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

unsigned long long pt_pmlog_acked(const char *path)
{
	unsigned long long n, acked = 0;
	char line[128];
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "acked %llu", &n) == 1)
			acked = n + 1;
	fclose(f);
	return acked;
}

int pt_restore_stack(void)
{
	int err = 0;

	if (!pt_exists("/sys/module/rdma_rxe_flush"))
		err |= pt_sh("insmod %s", getenv("PMEM_RDMA_RXE_KO"));
	if (!pt_exists("/sys/module/pmem_rdma"))
		err |= pt_sh("insmod %s", getenv("PMEM_RDMA_KO"));
	if (!pt_exists("/sys/class/infiniband/rxe0"))
		err |= pt_sh("rdma link add rxe0 type rxe netdev d0");
	return err ? -EIO : 0;
}

int pt_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return -1;
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int pt_sh_out(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	size_t n = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	st = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (st < 0 || st >= (int)sizeof(cmd))
		return -1;
	f = popen(cmd, "r");
	if (!f)
		return -1;
	out[0] = '\0';
	while (n + 1 < len && fgets(out + n, len - n, f))
		n += strlen(out + n);
	st = pclose(f);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int pt_count_of(const char *out, const char *s)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

/* open the named device: its context, a PD, the GID and the active MTU */
static int pt_open_one(const char *name, struct ibv_context **ctx,
		       struct ibv_pd **pd, union ibv_gid *gid, enum ibv_mtu *mtu)
{
	struct ibv_device **list;
	struct ibv_port_attr pa;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return -errno;
	for (i = 0; i < n && !*ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			*ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!*ctx)
		return -ENODEV;
	errno = 0;
	if (ibv_query_port(*ctx, PT_PORT, &pa) ||
	    ibv_query_gid(*ctx, PT_PORT, PT_GID_INDEX, gid))
		return errno ? -errno : -EIO;
	if (pa.active_mtu < *mtu || !*mtu)
		*mtu = pa.active_mtu;
	*pd = ibv_alloc_pd(*ctx);
	return *pd ? 0 : -errno;
}

int pt_open(struct pt_ctx *c)
{
	const char *name = getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = pt_open_one(name, &c->ctx, &c->pd, &c->gid, &c->mtu);
	if (ret)
		pt_close(c);
	return ret;
}

int pt_open_dev(struct pt_ctx *c, const char *name)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = pt_open_one(name, &c->ctx, &c->pd, &c->gid, &c->mtu);
	if (ret)
		pt_close(c);
	return ret;
}

int pt_open_two(struct pt_ctx *c, const char *dev0, const char *dev1)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = pt_open_one(dev0, &c->ctx, &c->pd, &c->gid, &c->mtu);
	if (!ret)
		ret = pt_open_one(dev1, &c->rctx, &c->rpd, &c->rgid, &c->mtu);
	if (ret)
		pt_close(c);
	return ret;
}

static int pt_qp_to_rts(struct pt_ctx *c, struct ibv_qp *qp, uint32_t dqpn,
			const union ibv_gid *dgid, int access)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = PT_PORT,
		.qp_access_flags = access,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -errno;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = c->mtu;
	a.dest_qp_num = dqpn;
	a.rq_psn = 0x1000;
	a.max_dest_rd_atomic = 8;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *dgid;
	a.ah_attr.grh.sgid_index = PT_GID_INDEX;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.grh.traffic_class = c->tclass;
	a.ah_attr.port_num = PT_PORT;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -errno;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = c->timeout ?: PT_RC_TIMEOUT;
	a.retry_cnt = c->timeout ? c->retry_cnt : PT_RC_RETRY_CNT;
	a.rnr_retry = 7;
	a.sq_psn = 0x1000;
	a.max_rd_atomic = 8;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return -errno;
	return 0;
}

int pt_qp_connect(struct pt_ctx *c, struct ibv_qp *qp, uint32_t dqpn,
		  const union ibv_gid *dgid, int access)
{
	return pt_qp_to_rts(c, qp, dqpn, dgid, access);
}

int pt_connect_pair(struct pt_ctx *c, int access)
{
	return pt_connect_pair_ex(c, access, 0);
}

int pt_connect_pair_ex(struct pt_ctx *c, int access, uint64_t send_ops)
{
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = 64, .max_recv_wr = 64,
			.max_send_sge = 4, .max_recv_sge = 4,
			.max_inline_data = 64,
		},
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = c->pd,
	};
	int i, ret;

	if (send_ops) {
		ia.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		ia.send_ops_flags = send_ops;
	}
	for (i = 0; i < 2; i++) {
		c->cq[i] = ibv_create_cq(pt_side_ctx(c, i), 128, NULL, NULL, 0);
		if (!c->cq[i])
			return -errno;
		ia.send_cq = c->cq[i];
		ia.recv_cq = c->cq[i];
		ia.pd = pt_side_pd(c, i);
		c->qp[i] = ibv_create_qp_ex(pt_side_ctx(c, i), &ia);
		if (!c->qp[i])
			return -errno;
	}
	for (i = 0; i < 2; i++) {
		ret = pt_qp_to_rts(c, c->qp[i], c->qp[!i]->qp_num,
				   !i && c->rctx ? &c->rgid : &c->gid, access);
		if (ret)
			return ret;
	}
	return 0;
}

int pt_qp_rearm(struct pt_ctx *c, int side, int access)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	if (ibv_modify_qp(c->qp[side], &a, IBV_QP_STATE))
		return -errno;
	return pt_qp_to_rts(c, c->qp[side], c->qp[!side]->qp_num,
			    !side && c->rctx ? &c->rgid : &c->gid, access);
}

void pt_close(struct pt_ctx *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (c->qp[i])
			ibv_destroy_qp(c->qp[i]);
		if (c->cq[i])
			ibv_destroy_cq(c->cq[i]);
	}
	if (c->rpd)
		ibv_dealloc_pd(c->rpd);
	if (c->rctx)
		ibv_close_device(c->rctx);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->ctx)
		ibv_close_device(c->ctx);
	memset(c, 0, sizeof(*c));
}

double pt_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long pt_now_ms(void)
{
	return (long long)(pt_now_s() * 1000);
}

int pt_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int timeout_ms)
{
	long long end = pt_now_ms() + timeout_ms;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n == 1)
			return 0;
	} while (pt_now_ms() < end);
	return -ETIMEDOUT;
}

int pt_rdma_sync(struct pt_ctx *c, enum ibv_wr_opcode op, void *local,
		 uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey,
		 struct ibv_wc *wc)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = op, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	}, *bad;

	if (ibv_post_send(c->qp[0], &wr, &bad))
		return -errno;
	return pt_poll_one(c->cq[0], wc, 20000);
}

/*
 * splitmix64 from the seed itself: its mix is a bijection, so the first 8
 * bytes of two seeds' patterns always differ (0 is a seed like any other),
 * and a test that writes seed n + 1 over seed n always changes the bytes.
 */
static uint64_t pt_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* byte i of seed's pattern, for i = 0, 1, 2 ... in turn */
static unsigned char pt_pattern_byte(uint64_t *s, uint64_t *word, size_t i)
{
	if (i % 8 == 0)
		*word = pt_next(s);
	return *word >> (i % 8 * 8);
}

void pt_fill_pattern(void *buf, size_t len, uint32_t seed)
{
	uint64_t s = seed, word = 0;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pt_pattern_byte(&s, &word, i);
}

int pt_check_pattern(const void *buf, size_t len, uint32_t seed)
{
	uint64_t s = seed, word = 0;
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pt_pattern_byte(&s, &word, i))
			return -1;
	return 0;
}

long long pt_read_counter(const char *name)
{
	return pt_read_dev_counter(getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT,
				   name);
}

long long pt_read_dev_counter(const char *dev, const char *name)
{
	char path[256], line[64];
	FILE *f;

	/*
	 * ib_core caches the counters for 'lifespan' ms (10 by default) and,
	 * even at 0, for the rest of the jiffy: make the lifespan 0 and let a
	 * jiffy pass, so that the value read is fresh.
	 */
	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/hw_counters/lifespan",
		 dev, PT_PORT);
	f = fopen(path, "w");
	if (f) {
		fputs("0", f);
		fclose(f);
	}
	usleep(20 * 1000);
	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/hw_counters/%s",
		 dev, PT_PORT, name);
	if (pt_read_line(path, line, sizeof(line)))
		return -1;
	return strtoll(line, NULL, 0);
}

int pt_qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -errno;
	return a.qp_state;
}

int pt_fsdax_up(size_t size)
{
	const char *dev = getenv("PMEM_RDMA_FSDAX");

	if (!dev || !dev[0])
		return 1;
	return pt_sh("mkfs.ext4 -q -F -b 4096 %s", dev) ||
	       pt_sh("mkdir -p %s && mount -o dax %s %s", PT_FSDAX_DIR, dev,
		     PT_FSDAX_DIR) ||
	       pt_sh("fallocate -l %zu %s", size, PT_FSDAX_FILE) ? -1 : 0;
}

void pt_fsdax_down(void)
{
	pt_sh("umount " PT_FSDAX_DIR " 2>/dev/null");
}
