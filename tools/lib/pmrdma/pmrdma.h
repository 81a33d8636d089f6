/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma - the SNIA NVM Programming Model over local, remote and
 * replicated persistent memory.
 *
 * Companions: pmrdma_rtl.h (Windows' Rtl*NonVolatile* calls over any map),
 * pmrdma_serve.h (the user-space target), pmrdma_target.h (the kernel
 * target's control calls).
 *
 * The comments here summarize; each call's contract, every error included,
 * is its man page (pmrdma(7), then section 3: Documentation/man/).
 *
 * The shape is libpmem2's: a config says what to map, a map is the handle,
 * and durability is flush + drain.  What a map can be:
 *
 *   local       a devdax device (/dev/daxX.Y) or a file on fsdax (mapped
 *               MAP_SYNC), flushed with the best of clwb / clflushopt /
 *               clflush and one sfence per drain;
 *   remote      an export of the pmem_rdma target (or of the user-space
 *               target, pmrdma_serve.h), whole or a window of it: the
 *               application stores into a local view, a registered
 *               buffer of the window's size, filled from it when the map
 *               is made (or zeroed, and read by ranges: pmrdma_read());
 *               a flush pushes the ranges with RDMA WRITE and makes them
 *               durable with the map's method (below), posted back to
 *               back, one wait;
 *   replicated  a local map and 1..PMRDMA_REPLICAS_MAX remote replicas of
 *               the same size: the local mapping is the view, each replica
 *               gets its content when the map is made, and one flush
 *               persists locally and pushes + flushes to every replica in
 *               parallel.
 *
 * Remote persistence methods (enum pmrdma_method), chosen per connection
 * from what the peer offers or forced by the caller:
 *
 *   FLUSH   RDMA WRITE then RDMA FLUSH to persistence (IBA 1.5): the peer's
 *           NIC makes the data durable before it answers; the only method
 *           that needs no assumption about the target platform;
 *   APM     RDMA WRITE then an 8-byte RDMA READ (librpma's "Appliance
 *           Persistency Method"): durable only on a target whose PCIe writes
 *           land in a persistence domain (ADR with DDIO off, or eADR), which
 *           the library cannot check - the caller's claim;
 *   GPSPM   RDMA WRITE then a SEND naming the ranges; the target's CPU
 *           persists them and answers ("General Purpose Server Persistency
 *           Method"): durable on any target, at the cost of its CPU.
 *
 * Errors: every call that can fail returns 0 or a negative errno, and
 * pmrdma_errormsg() then says what happened on that map, in one line.  A
 * remote failure (an access error, a digest that differs, a disconnect) is
 * reported by the call that observes it - a flush, a drain - and the map
 * refuses further work with -EIO until it is deleted and opened again.
 * A replicated map instead drops the failed replica out of sync
 * (pmrdma_map_replica_in_sync()) and finishes the call on the local map
 * and the other replicas.  The call then returns -ENOLINK when at least
 * the config's minimum of replicas is still in sync (the data is durable
 * on the local map and on those), and -ENOTCONN when fewer are: that call
 * and every later one, until the map is made again.  A call that makes
 * data durable never returns 0 after a replica dropped out in it.
 *
 * Threads (Documentation/THREAD_SAFETY.md): every call on a map may be
 * made from any number of threads at once.  A remote or replicated map
 * has lanes (pmrdma_config_set_lanes(), 1 by default), each a connection
 * to every remote copy, sharing the copy's registration: a thread takes a
 * lane on its first call and keeps it, threads beyond the lanes share
 * them, and a lane serves one call at a time.  A thread's flushes, writes,
 * atomic writes and drains are ordered on its lane, as one thread's are on
 * a map of one lane; pmrdma_drain() waits for what the calling thread's
 * lane started.  pmrdma_errormsg() gives the calling thread's message.
 */
#ifndef PMRDMA_H
#define PMRDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PMRDMA_REPLICAS_MAX	8
#define PMRDMA_KEY_MIN		16	/* bytes, as the target's */
#define PMRDMA_KEY_MAX		64

/*
 * verify algorithms: the numbers of the wire (RXE_FLUSH_VERIFY_ALG_* of
 * <rdma/rxe_flush.h>); PMRDMA_VERIFY_BIT() makes their bits, which are the
 * PMEM_RDMA_VERIFY_* of <linux/pmem_rdma.h>
 */
#define PMRDMA_VERIFY_ALG_CRC32C	1	/* 4 bytes, big-endian */
#define PMRDMA_VERIFY_ALG_SHA256	2	/* 32 bytes */
#define PMRDMA_VERIFY_ALG_XXH64		3	/* 8 bytes, big-endian, seed 0 */
#define PMRDMA_VERIFY_BIT(alg)		(1U << (alg))
#define PMRDMA_DIGEST_MAX		32

/* placement types: the FLUSH's (<linux/pmem_rdma.h>) */
#define PMRDMA_PLACEMENT_GLOBAL		(1U << 0)	/* visible */
#define PMRDMA_PLACEMENT_PERSISTENT	(1U << 1)	/* durable */

struct pmrdma_config;
struct pmrdma_map;

/* ---- what to map ---- */

enum pmrdma_method {
	PMRDMA_METHOD_AUTO = 0,	/* FLUSH where the peer has it, else GPSPM
				 * where it has that; never APM
				 */
	PMRDMA_METHOD_FLUSH,
	PMRDMA_METHOD_APM,	/* the caller vouches for the target platform */
	PMRDMA_METHOD_GPSPM,
};

/* A remote export: where it listens and how to get in. */
struct pmrdma_remote {
	const char *addr;	/* the target's IPv6 (fe80::1%eth0) or IPv4
				 * address, or a host name
				 */
	uint16_t port;		/* the export's RDMA CM port */
	const void *key;	/* the export's key (pmrdmactl --key-file),
				 * or NULL for an export without one
				 */
	size_t key_len;		/* 16..PMRDMA_KEY_MAX, with key */
	const char *ibdev;	/* the local RDMA device, or NULL: the one the
				 * route to addr takes
				 */
	enum pmrdma_method method;
};

/*
 * A config, empty, or -ENOMEM.  It names exactly one of: a local path, a
 * remote export, or a local path and replicas.  It may be deleted once a
 * map is made from it.
 */
int pmrdma_config_new(struct pmrdma_config **cfg);
void pmrdma_config_delete(struct pmrdma_config **cfg);

/*
 * A devdax device or a file on an fsdax filesystem (whole, or [offset,
 * offset + length) of it with pmrdma_config_set_range()).  The range is
 * also a remote map's window of its export: the view is length bytes,
 * whatever the export's size, and its offset 0 is the export's offset.
 * The offset is a multiple of the page size, so that the view's aligned
 * words are the memory's.  -EINVAL for NULL or a second path, an empty
 * range or an offset off a page; pmrdma_errormsg(NULL) says why the range
 * was refused.  A range beyond the path or the export fails
 * pmrdma_map_new() with -EINVAL.
 */
int pmrdma_config_set_path(struct pmrdma_config *cfg, const char *path);
int pmrdma_config_set_range(struct pmrdma_config *cfg, uint64_t offset,
			    uint64_t length);

/*
 * How a remote map's view starts: READ (the default), as the export holds
 * it, one RDMA READ of the window when the map is made; ZEROED, zeroes,
 * nothing read, so that opening costs the same whatever the window's
 * size, and pmrdma_read() brings in the ranges the application needs.
 * -EINVAL for another value; pmrdma_map_new() refuses ZEROED for a local
 * path (its view is the memory itself).
 */
enum pmrdma_view_fill {
	PMRDMA_VIEW_READ = 0,
	PMRDMA_VIEW_ZEROED,
};
int pmrdma_config_set_view_fill(struct pmrdma_config *cfg,
				enum pmrdma_view_fill fill);

/*
 * The remote export to map (without a path), or one more replica (with a
 * path): the config keeps a copy, key included.  -EINVAL (no addr, a
 * port of 0, a key length out of range), -E2BIG (more than
 * PMRDMA_REPLICAS_MAX replicas), -ENOMEM.
 */
int pmrdma_config_set_remote(struct pmrdma_config *cfg,
			     const struct pmrdma_remote *remote);
int pmrdma_config_add_replica(struct pmrdma_config *cfg,
			      const struct pmrdma_remote *replica);

/*
 * The fewest replicas that must stay in sync for a call of a replicated
 * map to succeed (DRBD's and md's "degraded" below it): 0..the number of
 * replicas, checked by pmrdma_map_new() (-EINVAL).  Default 1: a flush
 * makes data durable on the local map and on one remote copy at least.
 */
int pmrdma_config_set_min_in_sync(struct pmrdma_config *cfg, unsigned int n);

/*
 * The size of a replicated map's regions, a power of two of
 * PMRDMA_RESYNC_GRANULARITY_MIN (4 KiB, the default) to
 * PMRDMA_RESYNC_GRANULARITY_MAX (1 GiB) bytes: while a replica is out of
 * sync the map records which regions changed, and a rejoin copies only
 * those (pmrdma_replica_rejoin()).  Smaller regions copy less and keep a
 * bigger bitmap (a bit per region and replica).  -EINVAL otherwise.
 */
#define PMRDMA_RESYNC_GRANULARITY_MIN	4096
#define PMRDMA_RESYNC_GRANULARITY_MAX	(1UL << 30)
int pmrdma_config_set_resync_granularity(struct pmrdma_config *cfg,
					 size_t bytes);

/*
 * The rate at which pmrdma_replica_rejoin() copies what a replica lacks,
 * in bytes a second, so that the flushes of the map's other threads keep
 * their latency during a large resync (DRBD's c-max-rate); 0, the
 * default, copies as fast as it goes.  -EINVAL under
 * PMRDMA_RESYNC_GRANULARITY_MIN a second.  Where the map's RDMA device
 * paces RC QPs at that rate (packet_pacing_caps) and a region takes at
 * most a second at it, the resync copies over a connection of its own
 * that the device paces (no faster than pmrdma_config_set_rate()), in the
 * traffic class set below, in steps of about 50 ms of the rate: other
 * traffic on the wire meets no burst, and only a flush over the regions
 * of the step in flight waits for it.  Elsewhere it copies over the map's first lane,
 * at full speed a step of up to 256 KiB at a time under every lane, and
 * waits between the steps.
 */
int pmrdma_config_set_resync_rate(struct pmrdma_config *cfg,
				  uint64_t bytes_per_s);

/*
 * The traffic class (rdma_cm's ToS) of the resync's own connection: a
 * class of lower weight on the device (Documentation/qos.rst) lets the
 * device's other traffic go first.  -1, the default, takes the map's
 * (pmrdma_config_set_traffic_class()).  -EINVAL outside -1..255.
 */
int pmrdma_config_set_resync_traffic_class(struct pmrdma_config *cfg,
					   int traffic_class);

/*
 * Keep metadata in each copy of a replicated map, as DRBD's internal
 * meta-data (<linux/pmem_rdma_md.h>): the last pages of the local range
 * and of every replica's export (all of one size) hold a write-intent
 * bitmap and a header with the copy's generations, and the view is what
 * comes before them (pmrdma_map_get_size()).  Then a primary that crashes
 * resyncs only the regions its bitmap holds, a stale replica is never
 * taken for a current one, and a replica that is newer than the local
 * copy (-ESTALE) or diverged from it (-EUCLEAN) is refused.  A local copy
 * without metadata is a new primary's: its metadata is made, and every
 * replica gets a full copy.  Off by default.
 */
int pmrdma_config_set_metadata(struct pmrdma_config *cfg, bool on);

/*
 * Replica i (in the order of pmrdma_config_add_replica()) loses its
 * content whatever its generation says, and gets a full copy: how the
 * survivor of a split brain is chosen (DRBD's --discard-my-data, on the
 * victim).  Only with metadata; -EINVAL for i >= PMRDMA_REPLICAS_MAX,
 * and pmrdma_map_new() refuses an i the config has no replica for.
 */
int pmrdma_config_discard_replica(struct pmrdma_config *cfg, unsigned int i);

/*
 * Rejoin a replica that drops out on its own (pmrdma_replica_rejoin()),
 * from a thread of the map's: the first try min_ms after it dropped out,
 * each failed one doubling the wait up to max_ms.  0, 0 (the default):
 * only the caller rejoins.  -EINVAL: min_ms 0 with max_ms, or max_ms
 * under min_ms.
 */
int pmrdma_config_set_auto_rejoin(struct pmrdma_config *cfg,
				  unsigned int min_ms, unsigned int max_ms);

/*
 * How long a map waits for the network, 0 for each default: connect_ms
 * for each step of a connect (PMRDMA_CONNECT_MS); then a batch of requests
 * on a connection may take wait_ms plus its bytes at wait_rate bytes a
 * second (PMRDMA_WAIT_MS, PMRDMA_WAIT_RATE), so that a wait is bounded by
 * what it waits for and a slow healthy link is not taken for a dead one.
 * -EINVAL for a time over INT_MAX ms or a rate under 1000 bytes a second.
 * A link that takes longer fails with -ETIMEDOUT.
 */
#define PMRDMA_CONNECT_MS	5000
#define PMRDMA_WAIT_MS		30000
#define PMRDMA_WAIT_RATE	(1ULL << 20)
int pmrdma_config_set_timeouts(struct pmrdma_config *cfg,
			       unsigned int connect_ms, unsigned int wait_ms,
			       uint64_t wait_rate);

/*
 * How many lanes a remote or replicated map has, 1..PMRDMA_LANES_MAX
 * (-EINVAL otherwise); the default is 1.  Each lane is a connection to each
 * remote copy, and so one of the peers an export takes (its max_peers).
 */
#define PMRDMA_LANES_MAX	64
int pmrdma_config_set_lanes(struct pmrdma_config *cfg, unsigned int lanes);

/*
 * Whether the blocking flushes of threads that share a lane commit as a
 * group (the default): those queued while the lane is busy go out as one
 * flush, one wait for all.  Off, each waits for the lane and its own round
 * trip.  0.
 */
int pmrdma_config_set_group_commit(struct pmrdma_config *cfg, bool on);

/*
 * Each connection's send queue: sq_size requests, PMRDMA_SQ_SIZE_MIN (a
 * batch of the map's requests) to PMRDMA_SQ_SIZE_MAX, 0 for
 * PMRDMA_SQ_SIZE; a flush of more waits for room.  inline_size: the bytes
 * a request may carry in itself, up to PMRDMA_INLINE_SIZE_MAX, 0 for none
 * (a device without inline data), PMRDMA_INLINE_SIZE until set; only the
 * fenced 8-byte WRITE of an atomic write on a device without ATOMIC WRITE
 * uses it, and goes from a registered buffer without it.  -EINVAL out of
 * bounds, pmrdma_errormsg(NULL) saying why; a queue the device cannot
 * give fails pmrdma_map_new().
 */
#define PMRDMA_SQ_SIZE		256
#define PMRDMA_SQ_SIZE_MIN	32
#define PMRDMA_SQ_SIZE_MAX	(1U << 15)
#define PMRDMA_INLINE_SIZE	64
#define PMRDMA_INLINE_SIZE_MAX	1024
int pmrdma_config_set_sq_size(struct pmrdma_config *cfg, unsigned int sq_size);
int pmrdma_config_set_inline_size(struct pmrdma_config *cfg,
				  unsigned int inline_size);

/*
 * Keyed copies: every remote copy of the map (the remote export, each
 * replica) is reached through MRs bound to this data key, the user's
 * AES-GCM key (16 bytes: AES-128, 32: AES-256), not an export's connect
 * key.  Its payloads - WRITEs, READs, GPSPM requests - cross the wire
 * encrypted and authenticated under subkeys of each connection
 * (rdma_rxe_flush's keyed MRs, rxe_flush_dv_qp_key_bind(3)).  The export
 * must be keyed with the same key: a target refuses a keyed peer of an
 * unkeyed export and the reverse (-ECONNREFUSED), and a map with another
 * data key than the export's is told so at connect (-EKEYREJECTED).  A
 * keyed map sends nothing inline and has no flush-and-verify.  NULL:
 * unkeyed, the default.  0, or -EINVAL (another length),
 * pmrdma_errormsg(NULL) saying why.
 */
#define PMRDMA_DATA_KEY_MIN	16
#define PMRDMA_DATA_KEY_MAX	32
int pmrdma_config_set_data_key(struct pmrdma_config *cfg, const void *key,
			       size_t len);

/*
 * QoS of the map's connections (Documentation/qos.rst): traffic_class is
 * their IP traffic class (DSCP and ECN, rdma_cm's ToS), whose top three
 * bits are the class a device's shared rate weighs them by; -1, the
 * default, leaves rdma_cm's (configfs default_roce_tos).  rate_kbps limits
 * each of them - each lane to each remote copy - to that many kbit/s on
 * the wire, paced by the device (ibv_modify_qp_rate_limit(3)); 0, the
 * default, for none.  A device that cannot pace RC QPs, or a rate outside
 * its packet_pacing_caps, fails pmrdma_map_new() (-EOPNOTSUPP, -ERANGE).
 * -EINVAL for a traffic class outside -1..255.  pmrdma_errormsg(NULL)
 * says why.
 */
int pmrdma_config_set_traffic_class(struct pmrdma_config *cfg,
				    int traffic_class);
int pmrdma_config_set_rate(struct pmrdma_config *cfg, uint32_t rate_kbps);

/*
 * Read the key file at path into key (room for PMRDMA_KEY_MAX bytes) and
 * its length into *len, for struct pmrdma_remote or a server: 0, or
 * -EACCES (group or others have any permission on the file), -EINVAL (not
 * PMRDMA_KEY_MIN..PMRDMA_KEY_MAX bytes: a longer key is refused, never
 * cut), or open(2)'s and read(2)'s errors, with msg (msglen) saying why in
 * one line.  The caller wipes the key with explicit_bzero() after use.
 */
int pmrdma_key_read(const char *path, void *key, size_t *len, char *msg,
		    size_t msglen);

/* ---- the map ---- */

/*
 * Map what cfg names: open and map the local path, connect to each remote
 * export and check its descriptor.  Errors: -EINVAL (an incomplete or
 * contradictory config, a send queue the device cannot give), -ENOENT /
 * -EACCES / -ENODEV (the path), -EOPNOTSUPP (a path without DAX or
 * MAP_SYNC, a method the peer cannot do), -ECONNREFUSED (the target
 * refused the peer: pmrdma_errormsg() gives its reason), -ETIMEDOUT /
 * -EHOSTUNREACH (the route or the connect), -EPROTO (a descriptor of
 * another ABI), -EMSGSIZE (the replicas' sizes differ from the local
 * map's), -ENOMEM.  Nothing is left behind on failure.
 */
int pmrdma_map_new(struct pmrdma_map **map, const struct pmrdma_config *cfg);

/* Disconnect, unmap and free; *map becomes NULL.  Does not flush. */
void pmrdma_map_delete(struct pmrdma_map **map);

/* the view the application stores into, and its size in bytes */
void *pmrdma_map_get_address(const struct pmrdma_map *map);
size_t pmrdma_map_get_size(const struct pmrdma_map *map);

/* the smallest unit a power failure leaves whole, as libpmem2 names them */
enum pmrdma_granularity {
	PMRDMA_GRANULARITY_BYTE,	/* eADR: stores are durable when visible */
	PMRDMA_GRANULARITY_CACHE_LINE,	/* ADR: flush cache lines */
	PMRDMA_GRANULARITY_PAGE,	/* page cache: msync */
};

/*
 * What a map offers.  Remote and replicated: what every remote copy
 * offers (the intersection), and the method of the first; a local map
 * has both placement types and every algorithm (it checks by reading back).
 */
struct pmrdma_caps {
	enum pmrdma_granularity granularity;
	enum pmrdma_method method;	/* AUTO for a local map */
	uint32_t placement_types;	/* PMRDMA_PLACEMENT_* */
	uint32_t verify_algs;		/* PMRDMA_VERIFY_BIT() set */
	unsigned int replicas;		/* 0 for a local or remote map */
};

void pmrdma_map_get_caps(const struct pmrdma_map *map, struct pmrdma_caps *caps);

/* "FLUSH", "APM", "GPSPM" ("auto" for a local map), for messages */
const char *pmrdma_method_name(enum pmrdma_method method);

/*
 * Whether replica i (0..replicas - 1) has every range flushed so far;
 * from any thread.
 */
bool pmrdma_map_replica_in_sync(const struct pmrdma_map *map, unsigned int i);

/* ---- replicas that heal ---- */

enum pmrdma_replica_state {
	PMRDMA_REPLICA_IN_SYNC,		/* takes every flush, counts for it */
	PMRDMA_REPLICA_OUT,		/* dropped out: takes nothing */
	PMRDMA_REPLICA_RESYNCING,	/* rejoined: takes every flush, and the
					 * regions it lacks are being copied;
					 * does not count until they are
					 */
};

struct pmrdma_replica_status {
	enum pmrdma_replica_state state;
	uint64_t out_of_sync;		/* bytes it may lack now */
	uint64_t resync_total;		/* bytes the current (or last)
					 * resync copies
					 */
	uint64_t resync_done;		/* and has copied */
};

/*
 * Replica i's state, from any thread at any time: 0, or -EINVAL (not a
 * replicated map, no replica i, no status).
 */
int pmrdma_replica_status(struct pmrdma_map *map, unsigned int i,
			  struct pmrdma_replica_status *st);

/*
 * Bring replica i back, online: connect to it again (every lane), let it
 * take every flush from then on, and copy to it the regions that changed
 * while it was out (pmrdma_config_set_resync_granularity()); then it is in
 * sync.  Other threads go on writing and flushing meanwhile; each region
 * is copied under every lane, so a flush of it either precedes the copy or
 * follows it, never crosses it.  Blocks until the replica is in sync: 0,
 * -EBUSY (it is in sync, resyncing, or being rejoined by another thread),
 * -EINVAL (not a replicated map, no replica i), the connect's failure (the
 * replica stays out), or the failure during resync (the replica is out
 * again, and keeps what it still lacks for the next rejoin).
 */
int pmrdma_replica_rejoin(struct pmrdma_map *map, unsigned int i);

/*
 * Add a replica to a replicated map while it is in use, as a new, empty
 * copy: an export of the copies' size (with metadata, of the local
 * range's), whatever it holds overwritten.  It is numbered after the
 * others (*i), starts out of sync, and is given all of the view online
 * as pmrdma_replica_rejoin() resyncs, then is in sync.  0; -EINVAL (a map
 * made without replicas, a bad remote), -E2BIG (PMRDMA_REPLICAS_MAX
 * already); or the rejoin's failure, the replica out (rejoin it later).
 */
int pmrdma_replica_add(struct pmrdma_map *map, const struct pmrdma_remote *r,
		       unsigned int *i);

/* ---- a copy's metadata, for a cluster manager ---- */

#define PMRDMA_METADATA_GENS		16
#define PMRDMA_METADATA_PRIMARY		(1U << 0)	/* a map has it as its
							 * local copy, or had
							 * when it crashed
							 */
#define PMRDMA_METADATA_CLOSED		(1U << 1)	/* its last primary
							 * closed the map
							 */
#define PMRDMA_METADATA_INCONSISTENT	(1U << 2)	/* cut off in a resync:
							 * not whole
							 */

/* what a copy's metadata says (<linux/pmem_rdma_md.h>) */
struct pmrdma_metadata {
	uint64_t gen[PMRDMA_METADATA_GENS];	/* the current generation,
						 * then older ones; 0: none
						 */
	unsigned int bitmap_gens;	/* the bitmap covers gen[1..this] */
	uint32_t flags;			/* PMRDMA_METADATA_* */
	uint64_t region_size;		/* a bitmap bit's bytes */
	uint64_t view_size;		/* the view before the metadata */
	uint64_t dirty_regions;		/* bits set in the bitmap */
	uint64_t seq;			/* of the header */
};

/*
 * Read the metadata of the local copy cfg names (its path and range: a
 * devdax device, a DAX file, or a pmem block device a target exports),
 * without making a map, while a map or a target may be using it: 0;
 * -ENODATA (none), -EUCLEAN (not of a copy of this size), -EINVAL (no
 * path), or the device's errno; pmrdma_errormsg(NULL) says which.
 */
int pmrdma_metadata_read(const struct pmrdma_config *cfg,
			 struct pmrdma_metadata *md);

/*
 * A descriptor that becomes readable (poll(2) POLLIN) when a replica's
 * state changes: it drops out, starts resyncing, gets in sync.  Read its
 * 8 bytes (an eventfd(2) count of changes) to wait for the next one, then
 * ask pmrdma_replica_status().  The map's: do not close it.  0, or
 * -EINVAL (not a replicated map, fd NULL).
 */
int pmrdma_replica_get_fd(struct pmrdma_map *map, int *fd);

/* ---- making stores durable ---- */

/* One range of the view. */
struct pmrdma_range {
	void *addr;
	size_t len;
};

/*
 * Make [addr, addr + len) durable: on return it survives a power failure
 * of the map's every copy (local, remote, each replica in sync).  Ranges
 * may overlap and be empty; -EINVAL for a range outside the view, -EIO for a
 * map that failed before, or the errno of the failure it observes.
 */
int pmrdma_flush(struct pmrdma_map *map, void *addr, size_t len);
int pmrdma_flush_ranges(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n);

/*
 * Start making the ranges durable and return (SNIA's async flush;
 * Windows' FLUSH_NV_MEMORY_IN_FLAG_NO_DRAIN): they are durable once a later
 * pmrdma_drain() returns 0.  Stores made to them before the call are
 * covered; stores after it are not.  The same errors as pmrdma_flush(),
 * reported here or by the drain.
 */
int pmrdma_flush_async(struct pmrdma_map *map,
		       const struct pmrdma_range *ranges, size_t n);

/* Wait until everything pmrdma_flush_async() started before is durable. */
int pmrdma_drain(struct pmrdma_map *map);

/* ---- an event loop: one thread, many maps ---- */

/*
 * A file descriptor to wait on with poll() or epoll (level-triggered,
 * EPOLLIN), readable when a completion or a connection event may be
 * waiting on one of the map's connections; then call pmrdma_progress() or
 * pmrdma_flush_test().  It may be readable with nothing to do.  The map's
 * own: do not read or close it; it lasts until pmrdma_map_delete().  0, or
 * -errno with the map's message.
 */
int pmrdma_map_get_fd(struct pmrdma_map *map, int *fd);

/*
 * pmrdma_flush_async() that hands back a token for the flush (nonzero, the
 * map's, of the calling thread's lane) to pass to pmrdma_flush_test().  The
 * local part of the flush is done when it returns; the remote part goes on
 * while the caller does other work.  The tokens of one lane become durable
 * in the order they were started.  0 (or -ENOLINK: a replica dropped out,
 * the flush goes on on the rest), with *token set; otherwise *token is 0
 * and the errors are pmrdma_flush_async()'s.  Like it, it may wait for room
 * in a full send queue (pmrdma_config_set_sq_size()).
 */
int pmrdma_flush_start(struct pmrdma_map *map,
		       const struct pmrdma_range *ranges, size_t n,
		       uint64_t *token);

/*
 * Whether the flush of token is durable, taking what has completed
 * without waiting: 0 when it is (-ENOLINK: it is, on the copies in sync,
 * and a replica dropped out since a test last said so), -EAGAIN when not
 * yet, -EINVAL for a token the map did not give, or the failure that means
 * it never will be, as pmrdma_drain() reports it (-ENOTCONN: too few
 * replicas are left in sync).
 */
int pmrdma_flush_test(struct pmrdma_map *map, uint64_t token);

/*
 * Take whatever has completed on the map's lanes, without waiting (a
 * lane another thread is in is left to it), and fail a connection whose
 * oldest request has waited longer than the config's timeouts allow: 0,
 * -ENOLINK when a replica dropped out, or the failure as pmrdma_drain()
 * reports it.
 */
int pmrdma_progress(struct pmrdma_map *map);

/*
 * Make the ranges durable, then check that what is durable is what the
 * view holds (SNIA OptimizedFlushAndVerify): remote, one flush-and-verify
 * request per range (a round trip), each range shorter than 1 GiB;
 * local, a flush, then a file on fsdax read back through the filesystem
 * and compared (on a devdax device the flush is the whole check).
 * alg is a PMRDMA_VERIFY_ALG_* the map offers (-EOPNOTSUPP otherwise).
 * -EBADMSG when a digest differs: the data is not what was written.
 */
int pmrdma_flush_verify(struct pmrdma_map *map,
			const struct pmrdma_range *ranges, size_t n,
			uint32_t alg);

/*
 * Store the 8 bytes value at offset (8-byte aligned, -EINVAL otherwise) in
 * one piece, ordered after every flush started before it without waiting
 * for them (the seed's non-posted write: a log pointer after its record);
 * remote, an RDMA ATOMIC WRITE behind them on the connection.  Durable once
 * a flush (or drain) of its 8 bytes that started after it has returned.
 * That flush makes the value written here durable without pushing the
 * view's 8 bytes again (a WRITE of them could overtake the atomic write),
 * so they must not be stored to in between.
 */
int pmrdma_atomic_write(struct pmrdma_map *map, size_t offset,
			uint64_t value);

/*
 * Read [addr, addr + len) of the view from the map's memory: a remote map
 * READs it from the export, over whatever the view held there (stores not
 * flushed yet are lost), after every flush and atomic write started
 * before it; a local or replicated map's view is its memory, and the call
 * returns 0 at once.  -EINVAL for a range outside the view, -EIO for a map
 * that failed before, or the errno of the failure it observes, as
 * pmrdma_flush() reports them.
 */
int pmrdma_read(struct pmrdma_map *map, void *addr, size_t len);

/*
 * A buffer of the caller's that writes take their bytes from, without a
 * copy into the view (librpma's rpma_mr_reg() + rpma_write()): [addr,
 * addr + len) registered on every remote copy of map (LOCAL access only),
 * none for a local map.  It stays the caller's memory; deregister it
 * before the map is deleted, and only when no write uses it.  -EINVAL for
 * NULL or an empty range, -ENOMEM, or ibv_reg_mr(3)'s -errno, with the
 * map's message.  Deregister: NULL-safe, *buf becomes NULL; 0 or
 * ibv_dereg_mr(3)'s -errno (the buffer is gone either way).
 */
struct pmrdma_buf;
int pmrdma_buf_register(struct pmrdma_map *map, void *addr, size_t len,
			struct pmrdma_buf **buf);
int pmrdma_buf_deregister(struct pmrdma_buf **buf);

/*
 * Start making buf's [src_off, src_off + len) durable at dst, an address
 * of the view, on every copy of the map, as pmrdma_flush_async() does for
 * the view's bytes: durable once a later pmrdma_drain() returns 0.  A
 * remote copy gets WRITEs from buf and the method's persistence; a local
 * copy (the view of a local or replicated map) a non-temporal copy.  A
 * remote map's view is not written: it keeps what it held at dst, and a
 * later flush of the range would push that over the written bytes
 * (pmrdma_read() brings them into the view).  The bytes of buf must not
 * change until the drain.  -EINVAL (dst's range outside the view,
 * [src_off, +len) outside buf, buf of another map), posting nothing;
 * else pmrdma_flush_async()'s errors.
 */
int pmrdma_write(struct pmrdma_map *map, void *dst,
		 const struct pmrdma_buf *buf, size_t src_off, size_t len);

/* pmrdma_memcpy() / pmrdma_memset() flags */
#define PMRDMA_F_NODRAIN	(1U << 0)	/* flush started, not waited for */
#define PMRDMA_F_NOFLUSH	(1U << 1)	/* only stored */
#define PMRDMA_F_NONTEMPORAL	(1U << 2)	/* bypass the cache (local);
						 * copies of 256 KiB and more
						 * do anyway
						 */

/*
 * memcpy() / memset() into the view, then flush (and drain) the range as
 * flags say; dst, as memcpy() returns it, or NULL with errno set to what
 * pmrdma_flush() would return (ENOLINK: a replica dropped out, the bytes
 * are durable on the rest) and the map's message.
 */
void *pmrdma_memcpy(struct pmrdma_map *map, void *dst, const void *src,
		    size_t len, unsigned int flags);
void *pmrdma_memset(struct pmrdma_map *map, void *dst, int c, size_t len,
		    unsigned int flags);

/*
 * Why the calling thread's last failed call on map failed, in one line;
 * "" if none.  With NULL: why this thread's last pmrdma_map_new(),
 * pmrdma_config_set_range(), pmrdma_config_set_sq_size() or
 * pmrdma_config_set_inline_size() failed.
 */
const char *pmrdma_errormsg(const struct pmrdma_map *map);

/* ---- digests, as VERIFY computes them ---- */

/*
 * The digest of alg (PMRDMA_VERIFY_ALG_*) over [buf, buf + len) into out
 * (room for pmrdma_digest_len(alg) bytes), as
 * the wire carries it: its size, or 0 for an unknown alg.
 */
size_t pmrdma_digest(uint32_t alg, const void *buf, size_t len,
		     uint8_t *out);
/* the digest size of alg, 0 for an unknown one */
size_t pmrdma_digest_len(uint32_t alg);
/* CRC32C (Castagnoli) and XXH64 (seed) of [buf, buf + len) */
uint32_t pmrdma_crc32c(const void *buf, size_t len);
uint64_t pmrdma_xxh64(const void *buf, size_t len, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif /* PMRDMA_H */
