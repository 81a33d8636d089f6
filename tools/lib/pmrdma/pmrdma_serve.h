/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's user-space target: serve a devdax device (or a range of it)
 * to the library's remote maps over RDMA CM where the pmem_rdma module is
 * not loaded - a host with a hardware RNIC, a stock kernel.  A peer
 * connects, proves the key and gets the region descriptor exactly as from
 * the kernel target (<linux/pmem_rdma.h>).  The descriptor offers FLUSH
 * where the device can (the region's MR has the flush access), and always
 * GPSPM (PMEM_RDMA_DESC_GPSPM): the peer WRITEs, then asks this process
 * to persist, which it does with the CPU's cache write-back and answers.
 * APM works too, where the platform makes it durable.
 *
 * One thread serves every peer: pmrdma_server_run() waits for CM events
 * and requests and handles them in order, so a peer's requests run in the
 * order they came.
 */
#ifndef PMRDMA_SERVE_H
#define PMRDMA_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The least a server serves, one page: every op of a request is then
 * bounded by the range without a wrap, whatever offset a peer sends.
 */
#define PMRDMA_SERVE_MIN_LEN	4096

struct pmrdma_serve_config {
	const char *path;		/* a devdax device (else -EINVAL) */
	uint64_t offset, length;	/* the range; length 0: to the end;
					 * at least PMRDMA_SERVE_MIN_LEN
					 */
	const char *addr;		/* the address to listen on, NULL: all */
	uint16_t port;
	const void *key;		/* peers must prove it (16..64 bytes) */
	size_t key_len;
	bool any_peer;			/* or: no key, anyone who reaches us */
	unsigned int max_peers;		/* 0: 8; at most 1024 */
	const void *data_key;		/* a keyed export: its MR is bound to
					 * this data key (16 or 32 bytes,
					 * pmrdma_config_set_data_key()):
					 * a peer without it can neither read
					 * nor write the region (the target
					 * cannot tell it at connect; the
					 * peer can, by the key check)
					 */
	size_t data_key_len;
};

struct pmrdma_server;

/* the counters of a server */
struct pmrdma_server_stats {
	uint64_t connects;		/* peers accepted */
	uint64_t refused;		/* connect requests rejected */
	uint64_t requests;		/* GPSPM requests answered */
	uint64_t bytes_persisted;	/* by them */
	unsigned int peers;		/* connected now */
};

/*
 * Map the range and listen.  -EINVAL (no port, neither key nor any_peer,
 * a key length out of range, max_peers above 1024, a range under
 * PMRDMA_SERVE_MIN_LEN, a data key of another length), the local map's
 * errors, -EADDRINUSE, and the RDMA CM's.  On failure *s is NULL and msg
 * (msglen) says why.
 */
int pmrdma_server_new(struct pmrdma_server **s,
		      const struct pmrdma_serve_config *cfg, char *msg,
		      size_t msglen);

/*
 * Serve until timeout_ms pass (-1: until pmrdma_server_stop()): 0, or a
 * negative errno for a failure of the server itself (a peer's is that
 * peer's end).
 */
int pmrdma_server_run(struct pmrdma_server *s, int timeout_ms);

/* make pmrdma_server_run() return, from a signal handler or a thread */
void pmrdma_server_stop(struct pmrdma_server *s);

void pmrdma_server_get_stats(const struct pmrdma_server *s,
			     struct pmrdma_server_stats *st);
/* the view served: for the server's own checks */
void *pmrdma_server_get_address(const struct pmrdma_server *s);
const char *pmrdma_server_errormsg(const struct pmrdma_server *s);

/* disconnect every peer, unmap, free */
void pmrdma_server_delete(struct pmrdma_server **s);

#ifdef __cplusplus
}
#endif

#endif /* PMRDMA_SERVE_H */
