// SPDX-License-Identifier: GPL-2.0
/*
 * pmem_log_peer - the demo's log writer: a librdmacm peer of a pmem_rdma
 * export appends one record the way a remote-persistence log does, with
 * four requests posted at once and no wait in between:
 *
 *   RDMA WRITE    the record at RECORD_OFFSET
 *   FLUSH         the record, to persistence   (left out with --no-flush)
 *   VERIFY        the record's CRC32C against the persistent copy (with
 *                 --verify): a mismatch ends the connection, so the
 *                 pointer is never written
 *   ATOMIC WRITE  the log pointer at offset 0: the record's end
 *   FLUSH         the pointer, to persistence
 *
 * Usage: pmem_log_peer PORT RECORD_OFFSET TEXT [--no-flush] [--verify]
 *                      [--key-file F]
 *
 * With --key-file, the connect request proves the key held in F, as an
 * export made with pmrdmactl export --key-file F asks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pmem_rdma.h>
#include <rdma/rxe_flush.h>

#include "flush_helpers.h"
#include "peer_helpers.h"
#include "verify_helpers.h"

enum { WR_RECORD = 1, WR_RECORD_FLUSH, WR_VERIFY, WR_POINTER, WR_POINTER_FLUSH };

/* a comparing VERIFY of [off, off + len) with the expected CRC32C, inline */
static int post_verify(struct pt_peer *p, uint64_t off, uint64_t len,
		       uint8_t *crc)
{
	struct pt_verify v = {
		.rkey = p->conn.r.rkey, .raddr = p->conn.r.iova + off, .len = len,
		.word = RXE_FLUSH_VERIFY_WORD(RXE_FLUSH_VERIFY_ALG_CRC32C,
					      RXE_FLUSH_VERIFY_COMPARE),
		.buf = crc, .buflen = 4,
	};
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;

	pt_verify_wr(&v, &wr, &sge);
	wr.wr_id = WR_VERIFY;
	return ibv_post_send(p->c.qp[0], &wr, &bad);
}

int main(int argc, char **argv)
{
	struct pt_peer p;
	struct ibv_qp_ex *qx;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	const char *what = "";
	char rec[256] = "";
	uint8_t crc[4];
	uint64_t off, end;
	bool flush_rec = true, verify = false;
	struct pt_peer_key k = { 0 };
	const char *key_file = NULL;
	uint8_t key[PMEM_RDMA_KEY_MAX];
	int ret, i, n;

	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--no-flush"))
			flush_rec = false;
		else if (!strcmp(argv[i], "--verify"))
			verify = true;
		else if (!strcmp(argv[i], "--key-file") && i + 1 < argc)
			key_file = argv[++i];
		else
			break;
	}
	if (argc < 4 || i < argc) {
		fprintf(stderr, "usage: pmem_log_peer PORT RECORD_OFFSET TEXT [--no-flush] [--verify] [--key-file F]\n");
		return 2;
	}
	if (key_file) {
		FILE *f = fopen(key_file, "r");

		k.key = key;
		k.len = f ? fread(key, 1, sizeof(key), f) : 0;
		if (f)
			fclose(f);
		if (k.len < PMEM_RDMA_KEY_MIN) {
			fprintf(stderr, "pmem_log_peer: %s: no key of %u bytes or more\n",
				key_file, PMEM_RDMA_KEY_MIN);
			return 1;
		}
	}
	off = strtoull(argv[2], NULL, 0);
	snprintf(rec, sizeof(rec), "%s", argv[3]);

	ret = pt_peer_connect_key(&p, atoi(argv[1]), key_file ? &k : NULL,
				  &what);
	if (ret && p.conn.rejected) {
		fprintf(stderr, "pmem_log_peer: refused by the target: %s\n",
			pmrdma_reject_text(p.conn.reject_reason));
		pt_peer_close(&p);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "pmem_log_peer: %s: %s\n", what, strerror(-ret));
		pt_peer_close(&p);
		return 1;
	}
	printf("connected: descriptor iova 0x%llx length %llu rkey 0x%x%s\n",
	       (unsigned long long)p.conn.r.iova, (unsigned long long)p.conn.r.length,
	       p.conn.r.rkey, p.conn.r.flags & PMEM_RDMA_EXPORT_EMULATED ?
	       ", emulated persistence" : "");

	/* the record, and its expected CRC32C after it */
	mr = ibv_reg_mr(p.conn.pd, rec, sizeof(rec), IBV_ACCESS_LOCAL_WRITE);
	if (!mr || off < 8 || off + sizeof(rec) > p.conn.r.length) {
		fprintf(stderr, "pmem_log_peer: %s\n",
			mr ? "record offset out of the region" : strerror(errno));
		return 1;
	}
	end = off + strlen(rec) + 1;

	qx = ibv_qp_to_qp_ex(p.c.qp[0]);
	ibv_wr_start(qx);
	qx->wr_flags = IBV_SEND_SIGNALED;
	qx->wr_id = WR_RECORD;
	ibv_wr_rdma_write(qx, p.conn.r.rkey, p.conn.r.iova + off);
	ibv_wr_set_sge(qx, mr->lkey, (uintptr_t)rec, strlen(rec) + 1);
	if (flush_rec) {
		qx->wr_id = WR_RECORD_FLUSH;
		ibv_wr_flush(qx, p.conn.r.rkey, p.conn.r.iova + off, strlen(rec) + 1,
			     IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE);
	}
	ret = ibv_wr_complete(qx);
	if (!ret && verify)
		ret = post_verify(&p, off, strlen(rec) + 1,
				  pmrdma_digest(RXE_FLUSH_VERIFY_ALG_CRC32C, rec,
					    strlen(rec) + 1, crc) ? crc : NULL);
	if (!ret) {
		ibv_wr_start(qx);
		qx->wr_id = WR_POINTER;
		ibv_wr_atomic_write(qx, p.conn.r.rkey, p.conn.r.iova, &end);
		qx->wr_id = WR_POINTER_FLUSH;
		ibv_wr_flush(qx, p.conn.r.rkey, p.conn.r.iova, 8, IBV_FLUSH_PERSISTENT,
			     IBV_FLUSH_RANGE);
		ret = ibv_wr_complete(qx);
	}
	if (ret) {
		fprintf(stderr, "pmem_log_peer: post: %s\n", strerror(ret));
		return 1;
	}
	n = 3 + flush_rec + verify;
	for (i = 0; i < n; i++) {
		ret = pt_poll_one(p.conn.cq, &wc, PT_WC_TIMEOUT_MS);
		if (!ret && wc.wr_id == WR_VERIFY &&
		    wc.status == IBV_WC_REM_OP_ERR) {
			printf("VERIFY: the record is not what the persistence domain holds\n"
			       "(remote operational error): the connection ended, the pointer\n"
			       "was never written\n");
			return 3;
		}
		if (ret || wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "pmem_log_peer: completion: %s\n",
				ret ? strerror(-ret) : ibv_wc_status_str(wc.status));
			return 1;
		}
	}
	printf("appended \"%s\" at %llu, pointer %llu: %s%s\n", rec,
	       (unsigned long long)off, (unsigned long long)end,
	       flush_rec ? "record and pointer flushed" :
	       "only the pointer flushed",
	       verify ? ", record verified persistent" : "");
	ibv_dereg_mr(mr);
	pt_peer_close(&p);
	return 0;
}
