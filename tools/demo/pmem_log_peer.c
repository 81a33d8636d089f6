// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_log_peer - the demo's log writer: a librdmacm peer of a pmem_rdma
 * export appends one record the way a remote-persistence log does, with
 * four requests posted at once and no wait in between:
 *
 *   RDMA WRITE    the record at RECORD_OFFSET
 *   FLUSH         the record, to persistence   (left out with --no-flush)
 *   ATOMIC WRITE  the log pointer at offset 0: the record's end
 *   FLUSH         the pointer, to persistence
 *
 * Usage: pmem_log_peer PORT RECORD_OFFSET TEXT [--no-flush]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pmem_rdma.h>

#include "flush_helpers.h"
#include "peer_helpers.h"

int main(int argc, char **argv)
{
	struct pr_peer p;
	struct ibv_qp_ex *qx;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	const char *what = "";
	char rec[256] = "";
	uint64_t off, end;
	bool flush_rec;
	int ret, i, n;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--no-flush"))) {
		fprintf(stderr, "usage: pmem_log_peer PORT RECORD_OFFSET TEXT [--no-flush]\n");
		return 2;
	}
	flush_rec = argc == 4;
	off = strtoull(argv[2], NULL, 0);
	snprintf(rec, sizeof(rec), "%s", argv[3]);

	ret = pr_peer_connect(&p, atoi(argv[1]), &what);
	if (ret) {
		fprintf(stderr, "pmem_log_peer: %s: %s\n", what, strerror(-ret));
		pr_peer_close(&p);
		return 1;
	}
	printf("connected: descriptor iova 0x%llx length %llu rkey 0x%x%s\n",
	       (unsigned long long)p.r.iova, (unsigned long long)p.r.length,
	       p.r.rkey, p.r.flags & PMEM_RDMA_EXPORT_EMULATED ?
	       ", emulated persistence" : "");

	mr = ibv_reg_mr(p.pd, rec, sizeof(rec), IBV_ACCESS_LOCAL_WRITE);
	if (!mr || off < 8 || off + sizeof(rec) > p.r.length) {
		fprintf(stderr, "pmem_log_peer: %s\n",
			mr ? "record offset out of the region" : strerror(errno));
		return 1;
	}
	end = off + strlen(rec) + 1;

	qx = ibv_qp_to_qp_ex(p.c.qp[0]);
	ibv_wr_start(qx);
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qx, p.r.rkey, p.r.iova + off);
	ibv_wr_set_sge(qx, mr->lkey, (uintptr_t)rec, strlen(rec) + 1);
	if (flush_rec)
		ibv_wr_flush(qx, p.r.rkey, p.r.iova + off, strlen(rec) + 1,
			     IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE);
	ibv_wr_atomic_write(qx, p.r.rkey, p.r.iova, &end);
	ibv_wr_flush(qx, p.r.rkey, p.r.iova, 8, IBV_FLUSH_PERSISTENT,
		     IBV_FLUSH_RANGE);
	ret = ibv_wr_complete(qx);
	if (ret) {
		fprintf(stderr, "pmem_log_peer: post: %s\n", strerror(ret));
		return 1;
	}
	n = flush_rec ? 4 : 3;
	for (i = 0; i < n; i++) {
		ret = pr_poll_one(p.cq, &wc, PR_WC_TIMEOUT_MS);
		if (ret || wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "pmem_log_peer: completion: %s\n",
				ret ? strerror(-ret) : ibv_wc_status_str(wc.status));
			return 1;
		}
	}
	printf("appended \"%s\" at %llu, pointer %llu: %s\n", rec,
	       (unsigned long long)off, (unsigned long long)end,
	       flush_rec ? "record and pointer flushed" :
	       "only the pointer flushed");
	ibv_dereg_mr(mr);
	pr_peer_close(&p);
	return 0;
}
