// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA CM interop: an rping-style librdmacm server that calls nothing
 * special - rdma_create_qp() with a plain RC QP, rdma_accept() - and a
 * client that WRITEs, FLUSHes and ATOMIC WRITEs into its memory, both on
 * the patched rxe.  Linux >= 6.2's CM makes such a server's QP flushable;
 * on Debian's 6.1 the client's FLUSH used to fail with a remote invalid
 * request error, since the CM's INIT attributes replace the QP's access
 * (librdmacm patch 0003).  A QP brought up by hand without flush access
 * still refuses FLUSH: flush_test's flush_refused_without_qp_access.
 *
 * The server hands its buffer's address and key to the client in a
 * region descriptor (the layout pmem_rdma's target uses), so that the
 * client is peer_helpers' librdmacm peer as it is.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pmem_rdma.h>
#include <rdma/rxe_flush.h>

#include "kselftest_harness.h"
#include "flush_helpers.h"
#include "peer_helpers.h"

#define PORT		7501
#define BUF_LEN		(64UL << 10)
#define MR_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_FLUSH_GLOBAL)

struct server {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *listen, *conn;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	unsigned char *buf;
	pthread_t thread;
	int ret;
	const char *what;
};

/* the next CM event of the server, which must be want; its id */
static int server_event(struct server *s, enum rdma_cm_event_type want,
			struct rdma_cm_id **id)
{
	struct pollfd pfd = { .fd = s->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int ret;

	if (poll(&pfd, 1, 10000) != 1)
		return -ETIMEDOUT;
	if (rdma_get_cm_event(s->ch, &ev))
		return -errno;
	ret = ev->event == want ? 0 : -EPROTO;
	if (id)
		*id = ev->id;
	rdma_ack_cm_event(ev);
	return ret;
}

/* accept one client, as rping does, with the buffer's descriptor */
static void *server_run(void *arg)
{
	struct server *s = arg;
	struct pmem_rdma_region_desc d = { 0 };
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct rdma_conn_param cp = {
		.responder_resources = 4, .initiator_depth = 0,
		.private_data = &d, .private_data_len = sizeof(d),
	};

	s->what = "connect request";
	s->ret = server_event(s, RDMA_CM_EVENT_CONNECT_REQUEST, &s->conn);
	if (s->ret)
		return NULL;
	s->what = "pd, cq, mr";
	s->pd = ibv_alloc_pd(s->conn->verbs);
	s->cq = s->pd ? ibv_create_cq(s->conn->verbs, 8, NULL, NULL, 0) : NULL;
	s->mr = s->cq ? ibv_reg_mr(s->pd, s->buf, BUF_LEN, MR_ACCESS) : NULL;
	if (!s->mr) {
		s->ret = -errno;
		return NULL;
	}
	qa.send_cq = s->cq;
	qa.recv_cq = s->cq;
	s->what = "rdma_create_qp";
	if (rdma_create_qp(s->conn, s->pd, &qa)) {
		s->ret = -errno;
		return NULL;
	}

	d.magic = htobe32(PMEM_RDMA_DESC_MAGIC);
	d.abi_version = htobe16(PMEM_RDMA_ABI_VERSION);
	d.iova = htobe64((uintptr_t)s->buf);
	d.length = htobe64(BUF_LEN);
	d.rkey = htobe32(s->mr->rkey);
	d.access = htobe32(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE |
			   PMEM_RDMA_ACCESS_FLUSH_GLOBAL);
	d.placement_types = htobe32(PMEM_RDMA_PLACEMENT_GLOBAL);
	s->what = "rdma_accept";
	if (rdma_accept(s->conn, &cp)) {
		s->ret = -errno;
		return NULL;
	}
	s->what = "established";
	s->ret = server_event(s, RDMA_CM_EVENT_ESTABLISHED, NULL);
	return NULL;
}

FIXTURE(cm)
{
	struct server s;
	struct pt_peer p;
	bool up;
};

FIXTURE_SETUP(cm)
{
	struct sockaddr_in6 sin6;
	const char *what = "";
	int ret;

	memset(&self->s, 0, sizeof(self->s));
	self->s.buf = aligned_alloc(4096, BUF_LEN);
	ASSERT_NE(NULL, self->s.buf);
	memset(self->s.buf, 0, BUF_LEN);
	ASSERT_EQ(0, pt_peer_device_addr(&sin6, PORT));
	self->s.ch = rdma_create_event_channel();
	ASSERT_NE(NULL, self->s.ch);
	ASSERT_EQ(0, rdma_create_id(self->s.ch, &self->s.listen, NULL,
				    RDMA_PS_TCP));
	ASSERT_EQ(0, rdma_bind_addr(self->s.listen, (struct sockaddr *)&sin6));
	ASSERT_EQ(0, rdma_listen(self->s.listen, 1));
	ASSERT_EQ(0, pthread_create(&self->s.thread, NULL, server_run,
				    &self->s));

	ret = pt_peer_connect(&self->p, PORT, &what);
	ASSERT_EQ(0, pthread_join(self->s.thread, NULL));
	ASSERT_EQ(0, self->s.ret) TH_LOG("server: %s: %s", self->s.what,
					 strerror(-self->s.ret));
	ASSERT_EQ(0, ret) TH_LOG("client: %s: %s", what, strerror(-ret));
	self->up = true;
}

FIXTURE_TEARDOWN(cm)
{
	pt_peer_close(&self->p);
	if (self->s.conn) {
		if (self->s.conn->qp)
			rdma_destroy_qp(self->s.conn);
		rdma_destroy_id(self->s.conn);
	}
	if (self->s.mr)
		ibv_dereg_mr(self->s.mr);
	if (self->s.cq)
		ibv_destroy_cq(self->s.cq);
	if (self->s.pd)
		ibv_dealloc_pd(self->s.pd);
	if (self->s.listen)
		rdma_destroy_id(self->s.listen);
	if (self->s.ch)
		rdma_destroy_event_channel(self->s.ch);
	free(self->s.buf);
}

TEST_F(cm, server_qp_is_flushable)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr attr;

	if (!self->up)
		return;
	ASSERT_EQ(0, ibv_query_qp(self->s.conn->qp, &attr, IBV_QP_ACCESS_FLAGS,
				  &init));
	EXPECT_EQ(IBV_ACCESS_FLUSH_GLOBAL | IBV_ACCESS_FLUSH_PERSISTENT,
		  attr.qp_access_flags & (IBV_ACCESS_FLUSH_GLOBAL |
					  IBV_ACCESS_FLUSH_PERSISTENT));
}

TEST_F(cm, client_writes_flushes_and_atomic_writes)
{
	const uint64_t val = 0x5555aaaa12345678ULL;
	unsigned char *src;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	uint64_t got;

	if (!self->up)
		return;
	src = aligned_alloc(4096, 4096);
	ASSERT_NE(NULL, src);
	pt_fill_pattern(src, 4096, 9);
	mr = ibv_reg_mr(self->p.conn.pd, src, 4096, IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, mr);

	EXPECT_EQ(0, pt_peer_write(&self->p, 4096, src, 4096, mr->lkey));
	EXPECT_EQ(0, pt_peer_flush(&self->p, 4096, 4096, RXE_FLUSH_TYPE_GLOBAL));
	ASSERT_EQ(0, pt_wr_atomic_write(&self->p.c, self->p.conn.r.rkey,
					self->p.conn.r.iova + 64, &val, &wc));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(0, pt_peer_flush(&self->p, 64, 8, RXE_FLUSH_TYPE_GLOBAL));
	EXPECT_EQ(0, pt_check_pattern(self->s.buf + 4096, 4096, 9));
	memcpy(&got, self->s.buf + 64, 8);
	EXPECT_EQ(val, got);
	ibv_dereg_mr(mr);
	free(src);
}

TEST_HARNESS_MAIN
