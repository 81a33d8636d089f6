/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libpmrdma's objects, shared by its files:
 *
 *   pmrdma_config.c  what to map
 *   pmrdma_map.c     the map: making, the calls of pmrdma.h, errors
 *   pmrdma_lane.c    lanes: which thread takes which connections, and the
 *                    tokens of the flushes started on each
 *   pmrdma_replica.c a replicated map's copies: connecting, rejoining,
 *                    resync, their state
 *   pmrdma_dirty.c   the regions a replica may lack: the bitmaps
 *   pmrdma_gen.c     the copies' generations: current, stale, diverged
 *   pmrdma_md.c      a copy's metadata: its layout, its header
 *   pmrdma_local.c   local pmem: the mapping and the CPU's flush
 *   pmrdma_link.c    one remote copy: its connection, the requests that
 *                    push and persist ranges
 *   pmrdma_queue.c   a link's send queue: batches posted, their completions
 *   pmrdma_persist_flush.c, _apm.c, _gpspm.c
 *                    the remote persistence methods (pmrdma_queue.h)
 *   pmrdma_conn.c    the connection to an export (pmrdma_conn.h)
 *   pmrdma_digest.c  VERIFY's digests
 *   pmrdma_rtl.c     the Windows-compatible calls (pmrdma_rtl.h)
 */
#ifndef PMRDMA_INTERNAL_H
#define PMRDMA_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include <linux/pmem_rdma_md.h>

#include "pmrdma.h"
#include "pmrdma_conn.h"

struct pmrdma_config {
	char *path;
	uint64_t offset, length;	/* length 0: the whole path */
	struct pmrdma_remote remote;
	unsigned int nremote;		/* 0 or 1 */
	struct pmrdma_remote replicas[PMRDMA_REPLICAS_MAX];
	unsigned int nreplicas;
	unsigned int region_shift;	/* log2 of the resync region; 0: 4 KiB */
	uint64_t resync_rate;		/* bytes/s; 0: as fast as it goes */
	int resync_tos;			/* its connection's; -1: tos */
	unsigned int rejoin_min_ms;	/* automatic rejoin's first wait, */
	unsigned int rejoin_max_ms;	/* and its longest; 0: none */
	unsigned int min_in_sync;	/* replicas; UINT_MAX: the default */
	bool metadata;			/* each copy keeps metadata */
	uint32_t discard;		/* replicas whose content goes */
	unsigned int connect_ms;	/* 0: the defaults */
	unsigned int wait_ms;
	uint64_t wait_rate;
	enum pmrdma_view_fill view_fill;
	unsigned int lanes;		/* 0: one */
	bool no_group_commit;		/* set: each flush on its own */
	unsigned int sq_size;		/* 0: the default */
	unsigned int inline_size;	/* UINT_MAX: the default */
	uint8_t data_key[PMRDMA_DATA_KEY_MAX];	/* keyed copies: their key */
	size_t data_key_len;		/* 0: unkeyed */
	int tos;			/* the connections' ToS; -1: rdma_cm's */
	uint32_t rate_kbps;		/* each connection's; 0: none */
};

/* the CPU's way to write a cache line back */
enum pmrdma_cpu_flush {
	PMRDMA_CPU_CLFLUSH,
	PMRDMA_CPU_CLFLUSHOPT,
	PMRDMA_CPU_CLWB,
};

/* local pmem: a mapping of a devdax device or a DAX file (pmrdma_local.c) */
struct pmrdma_local {
	char *base;			/* the mapping, or NULL */
	size_t mapped;			/* its length */
	char *addr;			/* the view: base + offset */
	size_t size;
	uint64_t offset;		/* of the view in the file or device */
	enum pmrdma_granularity granularity;
	enum pmrdma_cpu_flush cpu_flush;
	int fd;				/* a mapped file, or -1 */
	char msg[256];			/* why the last call failed */
};

/*
 * The regions (a power of two of bytes each) of a replicated map that a
 * replica may lack, a bit each (pmrdma_dirty.c).  intent: a flush posted
 * to them may not be durable on every copy yet; oos[i]: replica i may
 * differ from the local copy there.  Bits are read and set with __atomic.
 */
struct pmrdma_dirty {
	uint64_t size;			/* the map's bytes */
	unsigned int shift;		/* log2 of a region's */
	uint64_t nregions;
	size_t words;			/* of each bitmap */
	uint64_t *intent;
	uint64_t lo, hi;		/* the intent words set since the last
					 * clear: [lo, hi), __atomic
					 */
	uint64_t *oos[PMRDMA_REPLICAS_MAX];
	uint64_t *flying[PMRDMA_REPLICAS_MAX];	/* a resync step's, not landed */
	/* a map with metadata: the local copy's persistent bitmap, or NULL */
	uint64_t *pmem;
	uint64_t *known;		/* its bits known durable */
	const struct pmrdma_local *lc;	/* the local pmem it is in */
	uint64_t synced;		/* ns of its last rewrite */
};

/* a copy's metadata header (<linux/pmem_rdma_md.h>), in host order */
struct pmrdma_md {
	uint64_t seq;
	unsigned int shift;
	uint64_t size, data_size;
	unsigned int bitmap_gens;
	uint32_t flags;			/* PMEM_RDMA_MD_* */
	uint64_t gen[PMEM_RDMA_MD_GENS];
};

/* what a replica's metadata says of it, to the local copy's */
enum pmrdma_md_rel {
	PMRDMA_MD_NONE,		/* it has none: a new copy */
	PMRDMA_MD_SAME,		/* the same generation: current */
	PMRDMA_MD_BEHIND,	/* stale; the bitmap holds what it lacks */
	PMRDMA_MD_FAR_BEHIND,	/* stale beyond the bitmap */
	PMRDMA_MD_AHEAD,	/* the local copy is the stale one */
	PMRDMA_MD_DIVERGED,	/* both written as primary since they parted */
	PMRDMA_MD_FOREIGN,	/* not a header of this map's layout */
};

/* the atomic writes a link remembers; one more waits for a drain */
#define PMRDMA_LINK_ATOMICS	16

/* a signaled batch of requests, posted and not known done */
struct pmrdma_link_batch {
	uint64_t bytes;			/* that its requests move or touch */
	unsigned int wrs;		/* the send queue slots it frees */
};

struct pmrdma_persist_ops;

/* One remote copy of the map: a remote map's only one, or a replica. */
struct pmrdma_link {
	struct pmrdma_conn conn;
	char name[80];			/* its address, for messages */
	enum pmrdma_method method;
	const struct pmrdma_persist_ops *ops;	/* the method's calls */
	uint64_t window;		/* the view's offset in the export */
	char *view;			/* the map's view, and its size */
	size_t view_size;
	unsigned int wait_ms;		/* a batch may take this, and its */
	uint64_t wait_rate;		/* bytes at this many per s */
	bool atomic_write;		/* the device has ATOMIC WRITE (a
					 * keyed link: sealed)
					 */
	unsigned int aw_flags;		/* RXE_FLUSH_SEND_KEYED on a keyed link */
	uint32_t verify_algs;		/* the device's flush-and-verify
					 * algorithms (RXE_FLUSH_VERIFY_ALG_BIT)
					 */
	uint64_t verify_max;		/* and its longest VERIFY */
	char *src;			/* what the view is pushed from */
	struct ibv_mr *src_mr;
	char *shadow;			/* src when the view cannot be registered */
	bool src_shared;		/* src, src_mr and shadow are lane 0's */
	uint8_t *scratch;		/* APM READs and VERIFY digests */
	struct ibv_mr *scratch_mr;
	/* atomic writes that may be on their way, neither flushed nor drained */
	uint64_t atomics[PMRDMA_LINK_ATOMICS];	/* their offsets */
	unsigned int natomics;
	uint64_t posted, done;		/* signaled batches */
	unsigned int inflight;		/* WRs posted and not known done */
	/*
	 * batch i at i % the send depth: each holds a slot of the send
	 * queue at least, so no more are ever in flight
	 */
	struct pmrdma_link_batch *batches;
	/* atomic writes sent from the scratch buffer, for want of inline room */
	uint64_t aw_batch[PMRDMA_LINK_ATOMICS];	/* the batch of each slot */
	unsigned int aw_next;		/* the slot the next one takes */
	/* GPSPM: requests to the target's CPU, and its responses */
	struct pmem_rdma_gpspm_req *gp_req;	/* PMRDMA_GPSPM_DEPTH of each */
	struct pmem_rdma_gpspm_resp *gp_resp;
	struct ibv_mr *gp_req_mr;	/* the requests' */
	struct ibv_mr *gp_mr;		/* the responses' */
	struct pmem_rdma_gpspm_req *gp_cur;	/* being filled, or NULL */
	uint64_t gp_sent;		/* requests ever sent */
	unsigned int gp_inflight;	/* sent, not answered */
	uint64_t wait_start;		/* CLOCK_MONOTONIC ns of the last
					 * completion, or of a post to an idle
					 * link: how long the oldest batch has
					 * been waited for
					 */
	int err;			/* the failure, once it failed */
	char msg[200];			/* why, or why the last call failed */
	int *copy_err;			/* the copy's, which all its lanes
					 * share: read from any thread with
					 * __atomic
					 */
};

#define PMRDMA_GPSPM_DEPTH	16

/* what a link had posted when a flush was started: done once both passed */
struct pmrdma_link_mark {
	uint64_t batch;			/* its last signaled batch */
	uint64_t gp;			/* the GPSPM requests sent */
};

/* the flushes started on a lane with a token, oldest first */
#define PMRDMA_LANE_MARKS	32
/* the runs of tokens that settled short a lane remembers */
#define PMRDMA_LANE_SHORTS	8

struct pmrdma_lane_mark {
	uint64_t seq;			/* the token's sequence number */
	struct pmrdma_link_mark copy[PMRDMA_REPLICAS_MAX];
	uint32_t gen[PMRDMA_REPLICAS_MAX];	/* of each copy's links */
	uint16_t live;			/* the copies that took the flush */
	uint16_t in_sync;		/* and of them, those in sync */
};

/*
 * A lane: a connection to each remote copy (the links copy_link() finds),
 * used by one thread at a time, and the tokens of the flushes started on
 * it (pmrdma_flush_start()), which become durable in the order they were
 * started.
 */
struct pmrdma_lane {
	pthread_mutex_t lock;
	uint64_t started;		/* the last token's sequence number */
	uint64_t durable;		/* every one up to it is settled:
					 * durable, or short
					 */
	/*
	 * the last runs of short ones (settled on too few replicas), a ring;
	 * every token up to short_floor counts as short, for the runs that
	 * fell out of it
	 */
	struct {
		uint64_t first, last;
	} shorts[PMRDMA_LANE_SHORTS];
	unsigned int nshorts;		/* runs ever: the newest at
					 * (nshorts - 1) % PMRDMA_LANE_SHORTS
					 */
	uint64_t short_floor;
	struct pmrdma_lane_mark marks[PMRDMA_LANE_MARKS];	/* a ring */
	unsigned int head, n;		/* its oldest, and how many */
	bool dropped;			/* a replica dropped out since a
					 * token's test last said so
					 */
	/* group commit: the blocking flushes waiting for the lane */
	pthread_mutex_t group_lock;
	pthread_cond_t group_done;
	struct pmrdma_lane_req *group, **group_tail;	/* a queue */
	bool leading;			/* a thread flushes a group */
};

/*
 * A blocking flush queued for its lane: the thread that leads the group
 * it joins flushes it with the rest, and says how it went.
 */
struct pmrdma_lane_req {
	const struct pmrdma_range *ranges;
	size_t n;
	int err;
	bool done;
	char msg[256];			/* why, if err */
	struct pmrdma_lane_req *next;
};

/* flush a group of requests, each one's err and msg set, on lane */
typedef void pmrdma_lane_work(struct pmrdma_map *map, unsigned int lane,
			      struct pmrdma_lane_req *group);

/*
 * A map's remote copies (its links) each have nlanes connections, one per
 * lane, sharing the copy's PD and registration; a thread takes a lane and
 * keeps it (pmrdma_map.c), and a lane serves one thread at a time.
 */
struct pmrdma_map {
	uint64_t id;			/* never reused: names the map in a
					 * thread's message and lane
					 */
	char *addr;			/* the view: lc.addr, or on the heap */
	size_t size;
	enum pmrdma_granularity granularity;
	bool failed;			/* a remote failure: refuse work;
					 * __atomic
					 */
	bool local;			/* the view is local pmem, lc's */
	struct pmrdma_local lc;
	unsigned int min_in_sync;	/* replicas a call needs in sync */
	unsigned int connect_ms;	/* each step of a connect */
	unsigned int wait_ms;		/* a batch of requests may take this */
	uint64_t wait_rate;		/* and its bytes at this many per s */
	unsigned int sq_size;		/* each connection's send queue */
	unsigned int inline_size;	/* and the inline data it asks for */
	uint8_t data_key[PMRDMA_DATA_KEY_MAX];	/* keyed copies: their key */
	size_t data_key_len;		/* 0: unkeyed */
	int tos;			/* the connections' ToS; -1: rdma_cm's */
	uint32_t rate_kbps;		/* each connection's; 0: none */
	struct pmrdma_map *next;	/* in the list of live maps */
	pthread_mutex_t rtl_lock;	/* one Windows-layer call at a time */
	struct pmrdma_link *links;	/* copy i's lane k: i * nlanes + k;
					 * a replicated map has room for
					 * PMRDMA_REPLICAS_MAX copies
					 */
	unsigned int nlinks;		/* the remote copies: one more only
					 * under every lane
					 */
	unsigned int nlanes;
	struct pmrdma_lane *lanes;	/* nlanes */
	bool group_commit;		/* blocking flushes queue on a lane */
	int event_fd;			/* an epoll of every link's channels,
					 * or -1 until asked for; __atomic
					 */
	int copy_err[PMRDMA_REPLICAS_MAX];	/* each copy's failure */
	/*
	 * A replicated map's copies: each one's config, to rejoin; the
	 * generation of its links (one more at every rejoin); whether it is
	 * resyncing (live, not yet in sync) or being rejoined; its resync's
	 * progress.  Changed under every lane, read with __atomic.
	 */
	struct pmrdma_remote replica_cfg[PMRDMA_REPLICAS_MAX];
	uint32_t copy_gen[PMRDMA_REPLICAS_MAX];
	bool copy_resyncing[PMRDMA_REPLICAS_MAX];
	bool copy_rejoining[PMRDMA_REPLICAS_MAX];
	uint64_t resync_total[PMRDMA_REPLICAS_MAX];	/* bytes */
	uint64_t resync_done[PMRDMA_REPLICAS_MAX];
	uint64_t resync_rate;		/* bytes/s, or 0 */
	int resync_tos;			/* its connection's; -1: tos */
	int state_fd;			/* an eventfd: a replica's state
					 * changed; or -1
					 */
	/* the automatic rejoin's thread, and what wakes it or stops it */
	unsigned int rejoin_min_ms, rejoin_max_ms;
	bool rejoin_running, rejoin_stop;
	pthread_t rejoin_thread;
	pthread_mutex_t rejoin_lock;
	pthread_cond_t rejoin_wake;
	/*
	 * A flush over a resync step in flight (dirty.flying) waits for
	 * flight_done, which each step's landing broadcasts
	 */
	pthread_mutex_t flight_lock;
	pthread_cond_t flight_done;
	/*
	 * what each remote copy offers, as its links found it when they
	 * connected: set under every lane, read by any thread with __atomic
	 */
	struct pmrdma_copy_caps {
		uint32_t placement, algs;	/* as pmrdma_link_caps() */
		uint32_t method;		/* enum pmrdma_method */
		uint64_t verify_max;		/* pmrdma_link_verify_max() */
	} copy_caps[PMRDMA_REPLICAS_MAX];
	struct pmrdma_dirty dirty;	/* nregions 0: not replicated */
	/*
	 * A map with metadata (pmrdma_gen.c): the local copy's, the size of
	 * each copy (the view, the bitmap and the header), and the copies
	 * whose header has the current generation; changed under md_lock,
	 * holders read with __atomic.
	 */
	bool has_md;
	bool md_new;			/* made at open: every replica is new */
	uint32_t discard;		/* replicas whose content goes */
	struct pmrdma_md md;
	uint64_t copy_size;
	pthread_mutex_t md_lock;
	uint32_t md_holders;
	/* each replica's header, as the map knows it */
	struct {
		/* its seq, as judged and written since: the next goes after */
		uint64_t seq;
		/* what it says once judged, before anything else is written */
		struct pmrdma_md mark;
	} copy_md[PMRDMA_REPLICAS_MAX];
	bool md_started;		/* a generation drawn: the map's */
	/*
	 * the local copy's generation at open when it was a replica whose
	 * primary went with writes in flight (its header neither PRIMARY nor
	 * CLOSED), or 0: a replica with that generation may hold writes the
	 * local copy lacks, or lack some it holds
	 */
	uint64_t md_unclean_gen;
	pthread_mutex_t bufs_lock;	/* the registered buffers, and */
	struct pmrdma_buf *bufs;	/* a rejoin's registering them */
};

/*
 * A buffer of the caller's, registered on the PD of each remote copy of
 * map that was live then (pmrdma_buf_register()): WRITEs take their bytes
 * from it.
 */
struct pmrdma_buf {
	struct pmrdma_map *map;
	char *addr;
	size_t len;
	struct ibv_mr *mr[PMRDMA_REPLICAS_MAX];	/* copy i's, or NULL */
	struct pmrdma_buf *next;	/* in the map's list */
};

/* CLOCK_MONOTONIC, in ns */
static inline uint64_t pmrdma_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* copy i's link on lane k */
static inline struct pmrdma_link *copy_link(const struct pmrdma_map *map,
					    unsigned int i, unsigned int k)
{
	return &map->links[i * map->nlanes + k];
}

/* the map's remote copies, for a thread that holds no lane */
static inline unsigned int map_copies(const struct pmrdma_map *map)
{
	return __atomic_load_n(&map->nlinks, __ATOMIC_ACQUIRE);
}

/* copy i still takes work, on every lane; any thread may ask */
static inline bool copy_live(const struct pmrdma_map *map, unsigned int i)
{
	return !__atomic_load_n(&map->copy_err[i], __ATOMIC_ACQUIRE);
}

/* copy i takes work and has every range flushed so far */
static inline bool copy_in_sync(const struct pmrdma_map *map, unsigned int i)
{
	return copy_live(map, i) &&
	       !__atomic_load_n(&map->copy_resyncing[i], __ATOMIC_ACQUIRE);
}

/* pmrdma_lane.c */
int pmrdma_lanes_new(struct pmrdma_map *map);
void pmrdma_lanes_free(struct pmrdma_map *map);
/* the calling thread's lane, for it alone until pmrdma_lane_leave() */
unsigned int pmrdma_lane_enter(struct pmrdma_map *map);
/* the same for lane, which another thread may have: waiting for it */
void pmrdma_lane_take(struct pmrdma_map *map, unsigned int lane);
/* the same without waiting: false if another thread has it */
bool pmrdma_lane_try(struct pmrdma_map *map, unsigned int lane);
void pmrdma_lane_leave(struct pmrdma_map *map, unsigned int lane);
/* every lane, in order: nothing else is posted while they are held */
void pmrdma_lanes_take(struct pmrdma_map *map);
void pmrdma_lanes_leave(struct pmrdma_map *map);
/* a token for what the lane's links have posted so far */
uint64_t pmrdma_lane_mark(struct pmrdma_map *map, unsigned int lane);
/* move the lane's settled token past the marks its links have passed */
void pmrdma_lane_retire(struct pmrdma_map *map, unsigned int lane);
/* token's lane, or -1 for a token the map never gave */
int pmrdma_lane_of_token(const struct pmrdma_map *map, uint64_t token);
/*
 * Join req to the group waiting for the calling thread's lane; the first
 * to come leads, taking the lane and every request queued so far to
 * work() at once: one flush for several threads (group commit).  req's
 * err, once a leader has done it.
 */
int pmrdma_lane_group(struct pmrdma_map *map, struct pmrdma_lane_req *req,
		      pmrdma_lane_work *work);
/* token is settled: its lane's settled token has passed it */
bool pmrdma_lane_token_settled(const struct pmrdma_map *map, uint64_t token);
/*
 * and it settled short: durable locally and on the replicas that took it,
 * but on fewer in sync than the config asks for
 */
bool pmrdma_lane_token_short(const struct pmrdma_map *map, uint64_t token);

/* pmrdma_map.c: the live map whose view holds [addr, addr + len), or NULL */
struct pmrdma_map *pmrdma_map_find(const void *addr, size_t len);

/* pmrdma_error.c: set the map's message; returns err */
int pmrdma_fail(struct pmrdma_map *map, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* set the thread's message, pmrdma_errormsg(NULL), for a call without a map */
int pmrdma_fail_nomap(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * pmrdma_map.c: hook is called by pmrdma_map_delete() with each map that
 * goes, out of the live list and before it is freed; set before the map
 * is looked up (pmrdma_map_find()).  The Windows layer drops its tokens
 * there, without the map's file calling up into it.
 */
void pmrdma_map_on_delete(void (*hook)(struct pmrdma_map *map));

/*
 * pmrdma_local.c.  Local pmem knows nothing of the map: it holds its own
 * mapping and its own message (struct pmrdma_local, above), and is given
 * addresses in its view.
 */
/* map [offset, offset + length) of path; length 0: to its end */
int pmrdma_local_open(struct pmrdma_local *lc, const char *path,
		      uint64_t offset, uint64_t length);
void pmrdma_local_close(struct pmrdma_local *lc);
/* write [addr, addr + len) back to the persistence domain, no fence */
void pmrdma_local_flush(const struct pmrdma_local *lc, const void *addr,
			size_t len);
/* order every write-back started before it */
void pmrdma_local_drain(void);
/* copy with non-temporal stores, writing back the lines it cannot cover */
void pmrdma_local_memcpy_nt(const struct pmrdma_local *lc, void *dst,
			    const void *src, size_t len);
/* read the view's [off, off + len) back from the media and compare */
int pmrdma_local_verify(struct pmrdma_local *lc, uint64_t off, size_t len);

/*
 * pmrdma_link.c.  A link knows nothing of the map it serves: it is given
 * what it needs when it is opened and attached, takes ranges of the view
 * it was attached to, and says why a call failed in l->msg, naming
 * itself, for the map to pass on.  Each call returns 0 or a negative
 * errno; a failed link stays failed (l->err).
 */
struct pmrdma_link_params {
	unsigned int connect_ms;	/* each step of a connect */
	unsigned int sq_size;		/* the send queue */
	unsigned int inline_size;	/* the inline data asked for */
	unsigned int wait_ms;		/* a batch may take this */
	uint64_t wait_rate;		/* and its bytes at this many per s */
	const void *data_key;		/* a keyed link: the data key */
	size_t data_key_len;
	int tos;			/* its ToS; -1: rdma_cm's */
	uint32_t rate_kbps;		/* its rate limit; 0: none */
};

/*
 * connect to r and check the export; the caller then sets l->window, the
 * view's offset in the export, once it has checked the view fits
 */
int pmrdma_link_open(struct pmrdma_link *l, const struct pmrdma_remote *r,
		     const struct pmrdma_link_params *lp);
/* the same, another lane of the copy first: its PD, the same export */
int pmrdma_link_open_lane(struct pmrdma_link *l,
			  const struct pmrdma_remote *r,
			  const struct pmrdma_link_params *lp,
			  const struct pmrdma_link *first);
/* push to the export from the view (size bytes); ranges are of it */
int pmrdma_link_attach(struct pmrdma_link *l, char *view, size_t size);
/* push from what the copy's first lane registered, of its view */
void pmrdma_link_attach_lane(struct pmrdma_link *l,
			     const struct pmrdma_link *first);
void pmrdma_link_close(struct pmrdma_link *l);
/* READ the view's [off, off + len) from the export, and wait */
int pmrdma_link_read(struct pmrdma_link *l, uint64_t off, uint64_t len);
/* post the pushes and the persistence of ranges of the view */
int pmrdma_link_flush(struct pmrdma_link *l,
		      const struct pmrdma_range *ranges, size_t n);
/*
 * post WRITEs of the view's [off, off + len) from src (lkey, registered on
 * the copy's PD) and their persistence, as pmrdma_link_flush() does
 */
int pmrdma_link_write(struct pmrdma_link *l, uint64_t off, uint64_t len,
		      const void *src, uint32_t lkey);
/*
 * register [addr, addr + len) on the copy's PD, for WRITEs from it; a
 * failure is the buffer's, in l->msg: the link goes on
 */
int pmrdma_link_reg_buf(struct pmrdma_link *l, void *addr, size_t len,
			struct ibv_mr **mr);
/* the same for READs into [addr, addr + len) */
int pmrdma_link_reg_dst(struct pmrdma_link *l, void *addr, size_t len,
			struct ibv_mr **mr);
/* post an ATOMIC WRITE (or a fenced 8-byte WRITE) of value at offset */
int pmrdma_link_atomic_write(struct pmrdma_link *l, size_t offset,
			     uint64_t value);
/* wait for everything posted */
int pmrdma_link_drain(struct pmrdma_link *l);
/*
 * take the completions there are without waiting, and fail the link
 * whose oldest batch has waited too long; on a failed link, only quiet
 * its channels
 */
int pmrdma_link_progress(struct pmrdma_link *l);
/* what has been posted so far, and whether it is done */
void pmrdma_link_mark(const struct pmrdma_link *l, struct pmrdma_link_mark *m);
bool pmrdma_link_passed(const struct pmrdma_link *l,
			const struct pmrdma_link_mark *m);
/* add the link's channels to the epoll instance epfd: 0 or -errno */
int pmrdma_link_watch(const struct pmrdma_link *l, int epfd);
/*
 * push, flush-and-verify each range with alg, wait, compare; the caller
 * has checked every range against pmrdma_link_verify_max()
 */
int pmrdma_link_flush_verify(struct pmrdma_link *l,
			     const struct pmrdma_range *ranges, size_t n,
			     uint32_t alg);
/* the export's placement types and verify algorithms, as caps gives them */
void pmrdma_link_caps(const struct pmrdma_link *l, uint32_t *placement,
		      uint32_t *algs);
/* the longest range that pmrdma_link_flush_verify() takes */
uint64_t pmrdma_link_verify_max(const struct pmrdma_link *l);

/* what a link needs of the map when it connects */
static inline void map_link_params(const struct pmrdma_map *map,
				   struct pmrdma_link_params *lp)
{
	*lp = (struct pmrdma_link_params){
		.connect_ms = map->connect_ms,
		.sq_size = map->sq_size,
		.inline_size = map->inline_size,
		.wait_ms = map->wait_ms,
		.wait_rate = map->wait_rate,
		.data_key = map->data_key_len ? map->data_key : NULL,
		.data_key_len = map->data_key_len,
		.tos = map->tos,
		.rate_kbps = map->rate_kbps,
	};
}

/* copy i offers what its link l does; the caller holds every lane */
static inline void copy_caps_set(struct pmrdma_map *map, unsigned int i,
				 const struct pmrdma_link *l)
{
	struct pmrdma_copy_caps *c = &map->copy_caps[i];
	uint32_t placement, algs;

	pmrdma_link_caps(l, &placement, &algs);
	__atomic_store_n(&c->placement, placement, __ATOMIC_RELAXED);
	__atomic_store_n(&c->algs, algs, __ATOMIC_RELAXED);
	__atomic_store_n(&c->method, l->method, __ATOMIC_RELAXED);
	__atomic_store_n(&c->verify_max, pmrdma_link_verify_max(l),
			 __ATOMIC_RELAXED);
}

/* the other lanes of a copy, on first's PD and registration, to r */
int pmrdma_link_open_lanes(struct pmrdma_link *first, unsigned int nlanes,
			   const struct pmrdma_remote *r,
			   const struct pmrdma_link_params *lp);
/* nothing posted is waiting for its completion */
bool pmrdma_link_idle(const struct pmrdma_link *l);

/*
 * READ the export's [off, off + len) of the view's offsets into dst
 * (lkey, registered on the copy's PD), and wait
 */
int pmrdma_link_read_into(struct pmrdma_link *l, uint64_t off, uint64_t len,
			  void *dst, uint32_t lkey);

/* pmrdma_config.c: a deep copy of a remote's config, and its freeing */
int pmrdma_remote_copy(struct pmrdma_remote *dst,
		       const struct pmrdma_remote *src);
void pmrdma_remote_free(struct pmrdma_remote *r);

/* pmrdma_dirty.c */
int pmrdma_dirty_new(struct pmrdma_dirty *d, uint64_t size, unsigned int shift,
		     unsigned int nreplicas);
void pmrdma_dirty_free(struct pmrdma_dirty *d);
/* a flush of [off, off + len) is about to be posted */
void pmrdma_dirty_intend(struct pmrdma_dirty *d, uint64_t off, uint64_t len);
/* replica i may lack what intent holds: add it to oos[i] */
void pmrdma_dirty_fold(struct pmrdma_dirty *d, unsigned int i);
/* everything intended is durable on every copy that took it */
void pmrdma_dirty_clear_intent(struct pmrdma_dirty *d);
/* the bytes of oos[i] and flying[i], with those of intent if asked */
uint64_t pmrdma_dirty_bytes(const struct pmrdma_dirty *d, unsigned int i,
			    bool intent);
/*
 * the first run of oos[i]'s regions at or after region from, at most max
 * long: [*first, *first + *n), or false when there is none
 */
bool pmrdma_dirty_next(const struct pmrdma_dirty *d, unsigned int i,
		       uint64_t from, uint64_t max, uint64_t *first,
		       uint64_t *n);
/* regions [first, first + n) as bytes of the map */
void pmrdma_dirty_range(const struct pmrdma_dirty *d, uint64_t first,
			uint64_t n, uint64_t *off, uint64_t *len);
/*
 * A resync step takes regions [first, first + n) of oos[i] (flying[i]
 * then), and they land on the replica (cleared) or are put back (oos[i]
 * again)
 */
void pmrdma_dirty_take(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		       uint64_t n);
void pmrdma_dirty_landed(struct pmrdma_dirty *d, unsigned int i,
			 uint64_t first, uint64_t n);
void pmrdma_dirty_put(struct pmrdma_dirty *d, unsigned int i, uint64_t first,
		      uint64_t n);
/* does a resync step of any copy fly over [off, off + len) */
bool pmrdma_dirty_flying(const struct pmrdma_dirty *d, uint64_t off,
			 uint64_t len);

/*
 * The local copy's metadata is in pmem: make the bitmap at pmem the
 * persistent one, its bits known durable
 */
int pmrdma_dirty_persist(struct pmrdma_dirty *d, const struct pmrdma_local *lc,
			 uint64_t *pmem);
/*
 * rewrite the persistent bitmap from intent, every oos and flying: now, or if a
 * second has gone by since the last time.  The caller holds every lane.
 */
void pmrdma_dirty_sync(struct pmrdma_dirty *d, bool now);
/* oos[i] gains the bits of a bitmap of the same layout, or every region */
void pmrdma_dirty_add(struct pmrdma_dirty *d, unsigned int i,
		      const uint64_t *bits);
void pmrdma_dirty_fill(struct pmrdma_dirty *d, unsigned int i);
/* a new replica i lacks every region: 0 or -ENOMEM */
int pmrdma_dirty_new_replica(struct pmrdma_dirty *d, unsigned int i);

/* pmrdma_digest.c: libcrypto set up once, with no cleanup at exit */
void pmrdma_crypto_once(void);

/* pmrdma_md.c: a copy of size bytes, regions of 1 << shift: -EINVAL */
int pmrdma_md_layout(struct pmrdma_md *md, uint64_t size, unsigned int shift);
/*
 * the header of a copy of size bytes from its header page: 0; -ENODATA
 * when it has none, -EUCLEAN when it is not of this copy's layout (md is
 * then what it says, and pmrdma_md_fault() why it is not one)
 */
int pmrdma_md_parse(const void *page, uint64_t size, struct pmrdma_md *md);
/* what makes md not a header of a copy of size bytes, or NULL */
const char *pmrdma_md_fault(const struct pmrdma_md *md, uint64_t size);
/* into a slot, PMEM_RDMA_MD_SLOT bytes */
void pmrdma_md_encode(const struct pmrdma_md *md, void *slot);
/* where in the copy the header of md's seq goes */
uint64_t pmrdma_md_slot_offset(const struct pmrdma_md *md);
/* write md, with the next seq, to the local copy's header, durably */
void pmrdma_md_store(const struct pmrdma_local *lc, struct pmrdma_md *md);
/* a new current generation, the old one kept in the history: -errno */
int pmrdma_md_new_gen(struct pmrdma_md *md);
enum pmrdma_md_rel pmrdma_md_compare(const struct pmrdma_md *local,
				     const struct pmrdma_md *rep);

/*
 * pmrdma_gen.c.  The local copy's metadata at open: read, or made for a
 * copy that has none; the view is then the data before it.
 */
int pmrdma_gen_open(struct pmrdma_map *map, unsigned int shift);
/*
 * Read replica i's metadata through its first link l and judge it: 0,
 * its oos given what it lacks; or why it may not join (the local copy
 * stale, or the two diverged), as the map's failure
 */
int pmrdma_gen_judge(struct pmrdma_map *map, unsigned int i,
		     struct pmrdma_link *l);
/*
 * Replica i has every range: its header gets the current generation.
 * The caller holds every lane.  0, or the copy's failure.
 */
int pmrdma_gen_in_sync(struct pmrdma_map *map, unsigned int i);
/*
 * A call on lane is about to return: a copy whose header has the current
 * generation and is no longer in sync makes a new one, written to the
 * local copy and pushed to every copy in sync before any call returns.
 * 0, or the failure to draw one, as the map's.
 */
int pmrdma_gen_settle(struct pmrdma_map *map, unsigned int lane);
/*
 * The primary's session begins, every replica judged: a new generation,
 * which replicas get once in sync.  0, or the failure as the map's.
 */
int pmrdma_gen_start(struct pmrdma_map *map);
/*
 * Replica i, judged, is about to be written (resynced, or to take
 * flushes): its header says INCONSISTENT until it is in sync.  0, or the
 * copy's failure as the map's.
 */
int pmrdma_gen_mark(struct pmrdma_map *map, unsigned int i,
		    struct pmrdma_link *l);
/*
 * The primary's map goes, no other thread in it: every link drained, the
 * local copy and every replica given the current generation say CLOSED;
 * with anything failing, the local copy says neither PRIMARY nor CLOSED
 * (writes may have been in flight).
 */
void pmrdma_gen_close(struct pmrdma_map *map);

/*
 * pmrdma_replica.c.  Connect replica i into links (nlanes of them), of
 * the map's size, pushing from its view: 0, or the failure as the map's.
 */
int pmrdma_replica_connect(struct pmrdma_map *map, unsigned int i,
			   struct pmrdma_link *links);
/* replica i, as the map is made: connected, and judged by its generation */
int pmrdma_replica_open(struct pmrdma_map *map, unsigned int i);
/* then given what it lacks (everything, without metadata) */
int pmrdma_replica_fill(struct pmrdma_map *map, unsigned int i);
/* a replica's state changed: tell the state fd and the rejoin thread */
void pmrdma_replica_changed(struct pmrdma_map *map);
/* start the automatic rejoin, if the config asked for it; and stop it */
int pmrdma_replica_auto_start(struct pmrdma_map *map);
void pmrdma_replica_auto_stop(struct pmrdma_map *map);
/*
 * After a drain on lane (held): when every other lane is idle, what was
 * intended is durable on every live copy; a copy out of sync keeps it.
 */
void pmrdma_replica_sweep(struct pmrdma_map *map, unsigned int lane);
/*
 * Before ranges are posted, on a lane (held): wait for the resync steps
 * in flight that overlap them, so that no step lands over them after.
 */
void pmrdma_replica_flight_wait(struct pmrdma_map *map,
				const struct pmrdma_range *r, size_t n);

#endif /* PMRDMA_INTERNAL_H */
