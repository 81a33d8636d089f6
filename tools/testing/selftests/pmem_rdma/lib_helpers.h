/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixtures of libpmrdma's remote tests: exports of the fsdax namespace
 * (PMEM_RDMA_PMEM) made through /dev/pmem_rdma, emulated so that a power
 * failure shows what a flush made durable, each with a key, and the
 * struct pmrdma_remote that reaches one over the rxe device's link-local
 * address.
 *
 * Header only: the setup asserts with kselftest_harness.h.
 */
#ifndef PMEM_RDMA_LIB_HELPERS_H
#define PMEM_RDMA_LIB_HELPERS_H

#include <dirent.h>
#include <libgen.h>
#include <sys/wait.h>

#include "target_helpers.h"
#include "pmrdma.h"

#define LIB_KEY_LEN	32

struct lib_export {
	uint32_t id;
	uint16_t port;
	uint64_t off;
	uint8_t key[LIB_KEY_LEN];
	char addr[96];
	struct pmrdma_remote remote;
};

/*
 * An emulated export of [off, off + EXP_LEN) of the namespace with access
 * (PMEM_RDMA_ACCESS_*), keyed, or open to any peer: the target remembers
 * 256 proofs a minute per export, more connects than a test that
 * reconnects a thousand times may make.
 */
static inline int lib_export_access(int fd, const char *pmem, uint16_t port,
				    uint64_t off, bool keyed, uint32_t access,
				    struct lib_export *x)
{
	struct pmem_rdma_export_req e = {
		.abi_version = PMEM_RDMA_ABI_VERSION,
		.flags = PMEM_RDMA_EXPORT_EMULATED,
		.offset = off,
		.length = EXP_LEN,
		.access = access,
		.verify_algs = PMEM_RDMA_VERIFY_ALL,
		.port = port,
		.policy.key_len = LIB_KEY_LEN,
	};
	unsigned int i;
	int ret;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < LIB_KEY_LEN; i++)
		x->key[i] = port * 7 + i;
	memcpy(e.policy.key, x->key, LIB_KEY_LEN);
	if (!keyed) {
		memset(&e.policy, 0, sizeof(e.policy));
		e.flags |= PMEM_RDMA_EXPORT_ANY_PEER;
	}
	snprintf(e.path, sizeof(e.path), "%s", pmem);
	snprintf(e.ib_dev, sizeof(e.ib_dev), "%s",
		 getenv("PMEM_RDMA_IBDEV") ?: PT_DEV_DEFAULT);
	ret = pt_peer_device_addr_str(x->addr, sizeof(x->addr));
	if (ret)
		return ret;
	ret = ctl(fd, PMEM_RDMA_IOC_EXPORT, &e);
	x->id = e.id;
	x->port = port;
	x->off = off;
	x->remote = (struct pmrdma_remote){
		.addr = x->addr, .port = port,
		.key = keyed ? x->key : NULL, .key_len = keyed ? LIB_KEY_LEN : 0,
	};
	return ret;
}

static inline int lib_export_keyed(int fd, const char *pmem, uint16_t port,
				   uint64_t off, bool keyed,
				   struct lib_export *x)
{
	return lib_export_access(fd, pmem, port, off, keyed,
				 ACCESS_RWF | PMEM_RDMA_ACCESS_VERIFY, x);
}

static inline int lib_export(int fd, const char *pmem, uint16_t port,
			     uint64_t off, struct lib_export *x)
{
	return lib_export_keyed(fd, pmem, port, off, true, x);
}

static inline int lib_power(int fd, uint32_t id, uint32_t flags,
			    uint32_t ppm, uint64_t seed,
			    struct pmem_rdma_power_fail *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->id = id;
	pf->flags = flags;
	pf->eviction_ppm = ppm;
	pf->seed = seed;
	return ctl(fd, PMEM_RDMA_IOC_POWER_FAIL, pf);
}

/*
 * A map of one config: the remote x, or path with the replicas, with lanes
 * lanes (0: the default).
 */
static inline int lib_map_lanes(struct pmrdma_map **map, const char *path,
				const struct lib_export *x, unsigned int n,
				unsigned int lanes)
{
	struct pmrdma_config *cfg;
	unsigned int i;
	int ret;

	ret = pmrdma_config_new(&cfg);
	if (ret)
		return ret;
	if (lanes)
		ret = pmrdma_config_set_lanes(cfg, lanes);
	if (ret) {
		/* the config is refused */
	} else if (path) {
		ret = pmrdma_config_set_path(cfg, path);
		for (i = 0; !ret && i < n; i++)
			ret = pmrdma_config_add_replica(cfg, &x[i].remote);
	} else {
		ret = pmrdma_config_set_remote(cfg, &x->remote);
	}
	if (!ret)
		ret = pmrdma_map_new(map, cfg);
	pmrdma_config_delete(&cfg);
	return ret;
}

static inline int lib_map(struct pmrdma_map **map, const char *path,
			  const struct lib_export *x, unsigned int n)
{
	return lib_map_lanes(map, path, x, n, 0);
}

/* this process's memory pinned for RDMA, in KiB (VmPin), or -1 */
static inline long lib_pinned_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* what a test's remote map asks of its config; zero is the default */
struct lib_map_opts {
	uint64_t off, len;		/* a window; len 0: the whole export */
	enum pmrdma_view_fill fill;
	unsigned int lanes, sq_size, wait_ms;
	uint64_t wait_rate;
	bool inline_set;		/* inline_size is asked for */
	unsigned int inline_size;
	bool no_group_commit;
	const void *data_key;		/* keyed copies, data_key_len bytes */
	size_t data_key_len;
	bool tclass_set;		/* the connections' traffic class */
	uint8_t tclass;
	uint32_t rate_kbps;		/* each connection's rate limit */
};

/* a remote map of r as o says (NULL: the defaults): pmrdma_map_new()'s */
static inline int lib_map_remote(struct pmrdma_map **map,
				 const struct pmrdma_remote *r,
				 const struct lib_map_opts *o)
{
	static const struct lib_map_opts none;
	struct pmrdma_config *cfg;
	int ret;

	if (!o)
		o = &none;
	ret = pmrdma_config_new(&cfg);
	if (ret)
		return ret;
	ret = pmrdma_config_set_remote(cfg, r);
	if (!ret && o->len)
		ret = pmrdma_config_set_range(cfg, o->off, o->len);
	if (!ret && o->fill)
		ret = pmrdma_config_set_view_fill(cfg, o->fill);
	if (!ret && o->lanes)
		ret = pmrdma_config_set_lanes(cfg, o->lanes);
	if (!ret && o->sq_size)
		ret = pmrdma_config_set_sq_size(cfg, o->sq_size);
	if (!ret && o->inline_set)
		ret = pmrdma_config_set_inline_size(cfg, o->inline_size);
	if (!ret && o->no_group_commit)
		ret = pmrdma_config_set_group_commit(cfg, false);
	if (!ret && o->data_key)
		ret = pmrdma_config_set_data_key(cfg, o->data_key,
						 o->data_key_len);
	if (!ret && o->tclass_set)
		ret = pmrdma_config_set_traffic_class(cfg, o->tclass);
	if (!ret && o->rate_kbps)
		ret = pmrdma_config_set_rate(cfg, o->rate_kbps);
	if (!ret && (o->wait_ms || o->wait_rate))
		ret = pmrdma_config_set_timeouts(cfg, 0, o->wait_ms, o->wait_rate);
	if (!ret)
		ret = pmrdma_map_new(map, cfg);
	pmrdma_config_delete(&cfg);
	return ret;
}

/* a remote map of r's [off, off + len) whose view starts as fill says */
static inline int lib_map_window(struct pmrdma_map **map,
				 const struct pmrdma_remote *r, uint64_t off,
				 uint64_t len, enum pmrdma_view_fill fill)
{
	struct lib_map_opts o = { .off = off, .len = len, .fill = fill };

	return lib_map_remote(map, r, &o);
}

/*
 * The remote fixture's start: the control device in *fd, an export of
 * [EXP_OFF, +EXP_LEN) of the namespace (*pmem) and a map of it: 0, 1 when
 * there is no namespace (skip), or -errno.
 */
static inline int lib_remote_open(int *fd, const char **pmem,
				  struct lib_export *x, struct pmrdma_map **map)
{
	int ret;

	*fd = open(CTL, O_RDWR);
	if (*fd < 0)
		return -errno;
	*pmem = getenv("PMEM_RDMA_PMEM");
	if (!*pmem || !**pmem)
		return 1;
	ret = lib_export(*fd, *pmem, TARGET_PORT, EXP_OFF, x);
	return ret ? ret : lib_map(map, NULL, x, 1);
}

/* the first offset where a and b differ in their len bytes, or -1 */
static inline ssize_t lib_first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (ssize_t)i;
	return -1;
}

/* the process's open descriptors, to see that nothing leaks */
static inline int lib_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* a config of [off, off + len) of path: 0; or its error, *cfg NULL */
static inline int lib_range_config(struct pmrdma_config **cfg, const char *path,
				   uint64_t off, uint64_t len)
{
	int ret = pmrdma_config_new(cfg);

	if (ret)
		return ret;
	ret = pmrdma_config_set_path(*cfg, path);
	if (!ret)
		ret = pmrdma_config_set_range(*cfg, off, len);
	if (ret)
		pmrdma_config_delete(cfg);
	return ret;
}

/* a local map of [off, off + len) of path, keeping metadata if md */
static inline int lib_map_range(struct pmrdma_map **map, const char *path,
				uint64_t off, uint64_t len, bool md)
{
	struct pmrdma_config *cfg;
	int ret = lib_range_config(&cfg, path, off, len);

	if (!ret && md)
		ret = pmrdma_config_set_metadata(cfg, true);
	if (!ret)
		ret = pmrdma_map_new(map, cfg);
	pmrdma_config_delete(&cfg);
	return ret;
}

/* the metadata of the copy at [off, off + EXP_LEN) of path (devdax, the namespace) */
static inline int lib_metadata(const char *path, uint64_t off,
			       struct pmrdma_metadata *md)
{
	struct pmrdma_config *cfg;
	int ret = lib_range_config(&cfg, path, off, EXP_LEN);

	if (!ret)
		ret = pmrdma_metadata_read(cfg, md);
	pmrdma_config_delete(&cfg);
	return ret;
}

/* len bytes of src written into export x at off, through a remote map */
static inline int lib_put_export(const struct lib_export *x, size_t off,
				 const void *src, size_t len)
{
	struct pmrdma_map *m;
	char *v;
	int ret = lib_map_remote(&m, &x->remote, NULL);

	if (ret)
		return ret;
	v = pmrdma_map_get_address(m);
	memcpy(v + off, src, len);
	ret = pmrdma_flush(m, v + off, len);
	pmrdma_map_delete(&m);
	return ret;
}

/*
 * build/tools/pmlog with args, then -M and the devdax range [off, off +
 * EXP_LEN) with the n replicas x, its stdout and stderr to out: started
 * (*pid), or waited for (its exit status returned, 128 if killed).  An
 * exec: a forked child cannot use its parent's RDMA CM and verbs files.
 */
static inline int lib_pmlog(const struct lib_export *x, unsigned int n,
			    uint64_t off, const char *const *args,
			    const char *out, bool wait, pid_t *pidp)
{
	char exe[4096], tool[4200], offs[32], lens[32], port[8][8];
	char key[8][64];
	const char *argv[64];
	unsigned int i;
	int k = 0, fd, st;
	ssize_t l;
	pid_t pid;

	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l < 0 || n > 8)
		return -EINVAL;
	exe[l] = 0;
	snprintf(tool, sizeof(tool), "%s/../tools/pmlog", dirname(exe));
	argv[k++] = tool;
	while (*args && k < 32)
		argv[k++] = *args++;
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)off);
	snprintf(lens, sizeof(lens), "%lu", (unsigned long)EXP_LEN);
	argv[k++] = "-M";
	argv[k++] = "-p";
	argv[k++] = getenv("PMEM_RDMA_DAX");
	argv[k++] = "-o";
	argv[k++] = offs;
	argv[k++] = "-l";
	argv[k++] = lens;
	for (i = 0; i < n; i++) {
		snprintf(port[i], sizeof(port[i]), "%u", x[i].port);
		argv[k++] = "-a";
		argv[k++] = x[i].addr;
		argv[k++] = "-P";
		argv[k++] = port[i];
		if (!x[i].remote.key)
			continue;
		snprintf(key[i], sizeof(key[i]), "/tmp/pmlog-key.%d.%u", getpid(), i);
		fd = open(key[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return -errno;
		l = write(fd, x[i].key, LIB_KEY_LEN);
		close(fd);
		if (l != LIB_KEY_LEN)
			return -EIO;
		argv[k++] = "-k";
		argv[k++] = key[i];
	}
	argv[k] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	*pidp = pid;
	if (!wait)
		return 0;
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif /* PMEM_RDMA_LIB_HELPERS_H */
