// SPDX-License-Identifier: GPL-2.0
/*
 * rdma_write_read - the demo's data path: one RC QP writes a message into
 * memory registered on another QP's side with RDMA WRITE, the target reads
 * it through its own mapping, and the initiator fetches it back with RDMA
 * READ.  The target memory is the emulated NVDIMM (a devdax mapping of
 * $PMEM_RDMA_DAX) when there is one, anonymous memory otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rdma_helpers.h"

#define MAP_LEN	(2UL << 20)	/* devdax mappings are 2 MiB aligned */
#define MSG_LEN	128

static int rdma_sync(struct pt_ctx *c, enum ibv_wr_opcode op, void *local,
		     uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	struct ibv_wc wc;
	int ret = pt_rdma_sync(c, op, local, MSG_LEN, lkey, raddr, rkey, &wc);

	if (ret) {
		fprintf(stderr, "RDMA: %s\n", strerror(-ret));
		return ret;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "completion: %s\n", ibv_wc_status_str(wc.status));
		return -EIO;
	}
	return 0;
}

int main(void)
{
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		  IBV_ACCESS_REMOTE_READ;
	const char *dev = getenv("PMEM_RDMA_DAX");
	char msg[MSG_LEN], back[MSG_LEN];
	struct ibv_mr *tmr, *mmr, *bmr;
	const char *where = "anonymous memory";
	struct pt_ctx c;
	char *target;
	int fd = -1, ret;

	ret = pt_open(&c);
	if (!ret)
		ret = pt_connect_pair(&c, acc);
	if (ret) {
		fprintf(stderr, "rxe0: %s\n", strerror(-ret));
		return 1;
	}
	if (dev && !strncmp(dev, "/dev/dax", 8)) {
		fd = open(dev, O_RDWR);
		if (fd < 0) {
			perror(dev);
			return 1;
		}
		target = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		where = dev;
	} else {
		target = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (target == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(target, 0, MSG_LEN);
	memset(back, 0, sizeof(back));
	snprintf(msg, sizeof(msg), "hello over RDMA WRITE from QP %u to QP %u, pid %d",
		 c.qp[0]->qp_num, c.qp[1]->qp_num, (int)getpid());

	tmr = ibv_reg_mr(c.pd, target, MAP_LEN, acc);
	mmr = ibv_reg_mr(c.pd, msg, sizeof(msg), acc);
	bmr = ibv_reg_mr(c.pd, back, sizeof(back), acc);
	if (!tmr || !mmr || !bmr) {
		perror("ibv_reg_mr");
		return 1;
	}
	printf("target: %s mapped at %p, registered with rkey 0x%x\n",
	       where, (void *)target, tmr->rkey);

	ret = rdma_sync(&c, IBV_WR_RDMA_WRITE, msg, mmr->lkey,
			    (uintptr_t)target, tmr->rkey);
	if (ret)
		return 1;
	printf("RDMA WRITE done; the target reads: \"%s\"\n", target);

	ret = rdma_sync(&c, IBV_WR_RDMA_READ, back, bmr->lkey,
			    (uintptr_t)target, tmr->rkey);
	if (ret)
		return 1;
	printf("RDMA READ done; the initiator got: \"%s\"\n", back);

	ret = strcmp(msg, target) || strcmp(msg, back);
	printf("%s\n", ret ? "MISMATCH" : "bytes match on both sides");
	ibv_dereg_mr(tmr);
	ibv_dereg_mr(mmr);
	ibv_dereg_mr(bmr);
	pt_close(&c);
	return ret;
}
