// SPDX-License-Identifier: GPL-2.0
/*
 * rdma_write_read - the demo's data path, on libpmrdma alone: this process
 * serves 2 MiB of a devdax device with the user-space target
 * (pmrdma_serve.h) and maps them remotely through the RDMA device at ADDR.
 * A message stored into the map's view goes over with RDMA WRITE on
 * pmrdma_flush() (the target persists it and answers), the target reads
 * it through its own mapping, and a second map, filled from the export
 * with RDMA READ, fetches it back.
 *
 * Usage: rdma_write_read ADDR [DAX]
 *   ADDR  the RDMA device's address, e.g. fe80::5054:ff:fe12:3456%eth0
 *   DAX   the devdax device (default: $PMEM_RDMA_DAX)
 * It listens on port DEMO_PORT of ADDR while it runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmrdma.h"
#include "pmrdma_serve.h"

#define DEMO_PORT	7470
#define SERVE_LEN	(2UL << 20)	/* devdax mappings are 2 MiB aligned */
#define MSG_LEN		128

static void *serve(void *s)
{
	pmrdma_server_run(s, -1);
	return NULL;
}

/* a remote map of the export: its view is filled with RDMA READ */
static struct pmrdma_map *map_export(const char *addr)
{
	struct pmrdma_remote r = { .addr = addr, .port = DEMO_PORT };
	struct pmrdma_config *cfg;
	struct pmrdma_map *map = NULL;
	int err;

	err = pmrdma_config_new(&cfg);
	if (!err)
		err = pmrdma_config_set_remote(cfg, &r);
	if (!err)
		err = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	if (err)
		fprintf(stderr, "rdma_write_read: map: %s\n",
			pmrdma_errormsg(NULL));
	return map;
}

int main(int argc, char **argv)
{
	const char *addr, *dax = getenv("PMEM_RDMA_DAX");
	struct pmrdma_serve_config sc = { .length = SERVE_LEN,
					  .port = DEMO_PORT, .any_peer = true };
	struct pmrdma_map *w = NULL, *r = NULL;
	struct pmrdma_server *s;
	struct pmrdma_caps caps;
	char msg[256], *target, *view, *back;
	pthread_t th;
	int ret = 1, err;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: rdma_write_read ADDR [DAX]\n");
		return 2;
	}
	addr = argv[1];
	if (argc > 2)
		dax = argv[2];
	if (!dax || !*dax) {
		fprintf(stderr, "rdma_write_read: no devdax device (DAX or PMEM_RDMA_DAX)\n");
		return 1;
	}
	sc.path = dax;
	sc.addr = addr;
	err = pmrdma_server_new(&s, &sc, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "rdma_write_read: %s\n", msg);
		return 1;
	}
	target = pmrdma_server_get_address(s);
	memset(target, 0, MSG_LEN);
	if (pthread_create(&th, NULL, serve, s)) {
		fprintf(stderr, "rdma_write_read: no thread to serve\n");
		pmrdma_server_delete(&s);
		return 1;
	}
	printf("target: %s served on port %u, mapped at %p\n", dax, DEMO_PORT,
	       (void *)target);

	w = map_export(addr);
	if (!w)
		goto out;
	view = pmrdma_map_get_address(w);
	pmrdma_map_get_caps(w, &caps);
	snprintf(view, MSG_LEN, "hello over RDMA WRITE to %s, pid %d", dax,
		 (int)getpid());
	err = pmrdma_flush(w, view, MSG_LEN);
	if (err) {
		fprintf(stderr, "rdma_write_read: flush: %s\n",
			pmrdma_errormsg(w));
		goto out;
	}
	printf("RDMA WRITE and %s done; the target reads: \"%s\"\n",
	       pmrdma_method_name(caps.method), target);

	r = map_export(addr);
	if (!r)
		goto out;
	back = pmrdma_map_get_address(r);
	printf("RDMA READ done; the initiator got: \"%s\"\n", back);

	ret = strcmp(view, target) || strcmp(view, back);
	printf("%s\n", ret ? "MISMATCH" : "bytes match on both sides");
out:
	pmrdma_map_delete(&w);
	pmrdma_map_delete(&r);
	pmrdma_server_stop(s);
	pthread_join(th, NULL);
	pmrdma_server_delete(&s);
	return ret;
}
