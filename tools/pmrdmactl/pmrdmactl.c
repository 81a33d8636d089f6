// SPDX-License-Identifier: GPL-2.0
/*
 * pmrdmactl - manage the exports of the pmem_rdma target (/dev/pmem_rdma),
 * or serve a devdax device from user space where the module is not loaded
 * (serve, in pmrdmactl_serve.c).
 *
 * The manual is pmrdmactl(8) and pmrdmactl-serve(8), Documentation/man/:
 * every command, option, default and exit status; usage_text below is
 * the summary 'pmrdmactl --help' prints.  Documentation/pmem-target.rst
 * explains exports; include/uapi/linux/pmem_rdma.h has the ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <linux/pmem_rdma.h>

#include "pmrdma.h"
#include "pmrdma_target.h"
#include "cli_size.h"
#include "pmrdmactl.h"

#define CTL_PATH	PMRDMA_TARGET_PATH
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const char *cmd_name = "";

static const char usage_text[] =
"usage: pmrdmactl COMMAND [OPTIONS]\n"
"\n"
"Manage the exports of the pmem_rdma target (" CTL_PATH "), or serve\n"
"without it (serve).\n"
"\n"
"commands:\n"
"  export -p PATH -l LENGTH -P PORT (-A WHO... | -k KEYFILE | -A any)\n"
"         [-o OFFSET] [-a ACCESS] [-V ALGS] [-d IBDEV] [-m N] [-e]\n"
"                        export [OFFSET, OFFSET + LENGTH) of an fsdax pmem\n"
"                        block device to RDMA peers connecting to PORT;\n"
"                        say who may: an allow-list, a key, or both; or any\n"
"      -p, --path PATH   the block device, e.g. /dev/pmem0\n"
"      -o, --offset N    where the export starts (default 0)\n"
"      -l, --length N    its length; N, NK, NM or NG, a multiple of 4K\n"
"      -a, --access LIST comma-separated: read, write, flush-global,\n"
"                        flush-persistent, verify, all (default all but\n"
"                        verify)\n"
"      -V, --verify ALGS peers may VERIFY with these algorithms,\n"
"                        comma-separated: crc32c, sha256, xxh64 (adds\n"
"                        verify to the access; verify without -V means\n"
"                        all three)\n"
"      -d, --dev IBDEV   the RDMA device (default rxe0)\n"
"      -P, --port PORT   the RDMA CM port to listen on\n"
"      -m, --max-peers N peers connected at once, 1..1024 (default 8);\n"
"                        one more is rejected\n"
"      -e, --emulated    emulated persistence domain (see power-fail)\n"
"      -A, --allow WHO   peers from this address or prefix may connect:\n"
"                        ADDR or ADDR/LEN, IPv6 (the RoCE v2 GID) or\n"
"                        IPv4; up to 16 times; or 'any' (alone): every\n"
"                        peer that reaches the port\n"
"      -k, --key-file F  peers must prove the key held in file F (16 to\n"
"                        64 bytes, readable by its owner only; e.g.\n"
"                        head -c 32 /dev/urandom >F), see pmem-target.rst\n"
"      -K, --data-key F  a keyed export: payloads cross encrypted and\n"
"                        authenticated with the data key in file F (16 or\n"
"                        32 bytes; not the -k key); no VERIFY\n"
"  unexport ID           disconnect the peers and remove export ID\n"
"  list                  the exports\n"
"  stats ID              the counters of export ID\n"
"  power-fail ID [-E PPM] [-s SEED]\n"
"                        emulated exports: lose every line not flushed to\n"
"                        persistence, but those that reach the media early\n"
"      -E, --eviction PPM  that many per million lines (default 0)\n"
"      -s, --seed SEED   chosen by SEED (default 0)\n"
"      -D, --stay-down   then refuse every request, as a target without\n"
"                        power, until power-on\n"
"  power-on ID           power a stayed-down export on again: what it\n"
"                        still stored while down is lost\n"
"  status -p PATH [-o OFFSET] [-l LENGTH]\n"
"                        a copy of a replicated map with metadata (a\n"
"                        devdax device, a DAX file, a pmem block device,\n"
"                        or that range of it): its role, whether it is\n"
"                        whole, its generations and bitmap, its exports\n"
"  promote -p PATH [-o OFFSET] [-l LENGTH]\n"
"                        refuse a copy that is not whole, remove its\n"
"                        exports: a primary may then map it\n"
"  demote [-f] EXPORT-OPTIONS\n"
"                        export a copy as a replica; refused while its\n"
"                        metadata says a primary has it (-f: it crashed)\n"
"  serve -p PATH -P PORT (-k KEYFILE | -A any) [-o OFFSET] [-l LENGTH]\n"
"        [-a ADDR] [-m N] [-K DATAKEYFILE]\n"
"                        the user-space target, without the module: serve\n"
"                        [OFFSET, OFFSET + LENGTH) of a devdax device to\n"
"                        libpmrdma's peers (FLUSH where the device can,\n"
"                        GPSPM and APM) until\n"
"                        SIGINT or SIGTERM; -a: the address to listen on\n"
"      -K, --data-key F  a keyed export: payloads cross encrypted and\n"
"                        authenticated with the data key in file F (16 or\n"
"                        32 bytes: AES-128 or -256-GCM; not the -k key);\n"
"                        only peers with the same key read or write\n"
"\n"
"options of every command:\n"
"  -j, --json            JSON output (export, list, stats, power-fail,\n"
"                        power-on, status, promote, demote)\n"
"  -h, --help            this text\n"
"\n"
"exit status: 0 done; 1 failed, with one line on stderr: the errno text\n"
"and what it means for the command; 2 bad usage\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

_Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pmrdmactl: %s%s", cmd_name, *cmd_name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

_Noreturn void bad_usage(const char *what)
{
	fprintf(stderr, "pmrdmactl: %s%s%s\n", cmd_name, *cmd_name ? ": " : "",
		what);
	fprintf(stderr, "try 'pmrdmactl --help'\n");
	exit(2);
}

/* the target, opened with its ABI checked, or exit */
static struct pmrdma_target *target_open(void)
{
	struct pmrdma_target *t;
	char msg[256];

	if (pmrdma_target_open(&t, msg, sizeof(msg)))
		die("%s", msg);
	return t;
}

/* a call's result: done, or exit with the library's message */
static void check(struct pmrdma_target *t, int err)
{
	if (err)
		die("%s", pmrdma_target_errormsg(t));
}

uint64_t parse_size(const char *s, const char *what)
{
	uint64_t v;

	if (!cli_parse_size(s, &v))
		return v;
	fprintf(stderr, "pmrdmactl: %s: bad %s '%s'\n", cmd_name, what, s);
	exit(2);
}

bool dev_range_opt(int c, struct dev_range *r)
{
	switch (c) {
	case 'p':
		r->path = optarg;
		return true;
	case 'o':
		r->offset = parse_size(optarg, "offset");
		return true;
	case 'l':
		r->length = parse_size(optarg, "length");
		r->have_len = true;
		return true;
	}
	return false;
}

uint32_t parse_u32(const char *s, const char *what, uint32_t max)
{
	uint64_t v = parse_size(s, what);

	if (v > max || strpbrk(s, "kKmMgG")) {
		fprintf(stderr, "pmrdmactl: %s: bad %s '%s'\n", cmd_name, what, s);
		exit(2);
	}
	return v;
}

#define ACCESS_DEFAULT	(PMEM_RDMA_ACCESS_READ | PMEM_RDMA_ACCESS_WRITE | \
			 PMEM_RDMA_ACCESS_FLUSH_GLOBAL | \
			 PMEM_RDMA_ACCESS_FLUSH_PERSISTENT)

struct name_bit {
	const char *name;
	uint32_t bit;
};

static const struct name_bit access_names[] = {
	{ "read", PMEM_RDMA_ACCESS_READ },
	{ "write", PMEM_RDMA_ACCESS_WRITE },
	{ "flush-global", PMEM_RDMA_ACCESS_FLUSH_GLOBAL },
	{ "flush-persistent", PMEM_RDMA_ACCESS_FLUSH_PERSISTENT },
	{ "verify", PMEM_RDMA_ACCESS_VERIFY },
	{ "all", PMEM_RDMA_ACCESS_ALL },
	{ }
};

static const struct name_bit verify_names[] = {
	{ "crc32c", PMEM_RDMA_VERIFY_CRC32C },
	{ "sha256", PMEM_RDMA_VERIFY_SHA256 },
	{ "xxh64", PMEM_RDMA_VERIFY_XXH64 },
	{ }
};

/* "a,b,..." of the names in table as their bits; what names the list */
static uint32_t parse_set(const char *s, const struct name_bit *table,
			  const char *what)
{
	char *copy = strdup(s), *tok, *save;
	const struct name_bit *n;
	uint32_t bits = 0;

	if (!copy)
		die("%s", strerror(ENOMEM));
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (n = table; n->name; n++)
			if (!strcmp(tok, n->name))
				break;
		if (!n->name) {
			fprintf(stderr, "pmrdmactl: %s: unknown %s '%s'\n",
				cmd_name, what, tok);
			exit(2);
		}
		bits |= n->bit;
	}
	free(copy);
	if (!bits) {
		fprintf(stderr, "pmrdmactl: %s: empty %s list\n", cmd_name,
			what);
		exit(2);
	}
	return bits;
}

/* the bits as "a,b,..." or a JSON array, by the single-bit names */
static void print_set(uint32_t bits, const struct name_bit *table, bool json)
{
	const char *sep = "";

	if (json)
		putchar('[');
	for (; table->name; table++) {
		if (!(bits & table->bit) || (table->bit & (table->bit - 1)))
			continue;
		printf(json ? "%s\"%s\"" : "%s%s", sep, table->name);
		sep = json ? ", " : ",";
	}
	if (json)
		putchar(']');
}

/* a string as JSON: the paths and names we print need only these escapes */
void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

void common_opt(int c, bool *json)
{
	switch (c) {
	case 'j':
		*json = true;
		return;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		bad_usage("bad option");
	}
}

static const struct option json_help_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ }
};

/* the one argument left after the options: an export ID */
static uint32_t one_id(int argc, char **argv)
{
	if (optind != argc - 1)
		bad_usage("needs one export ID");
	return parse_u32(argv[optind], "export ID", UINT32_MAX);
}

/* parse -j/-h only, and the one ID argument if id */
static bool simple_args(int argc, char **argv, uint32_t *id)
{
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "jh", json_help_opts, NULL)) != -1)
		common_opt(c, &json);
	if (id)
		*id = one_id(argc, argv);
	else if (optind != argc)
		bad_usage("takes no arguments");
	return json;
}

/* ADDR or ADDR/LEN, IPv6 or IPv4 (as ::ffff:a.b.c.d), into the policy */
static void parse_allow(struct pmem_rdma_policy *p, const char *s)
{
	struct pmem_rdma_prefix *a = &p->allow[p->nallow];
	char addr[INET6_ADDRSTRLEN], *slash;
	unsigned int max = 128, len;
	struct in_addr v4;

	if (p->nallow == PMEM_RDMA_ALLOW_MAX)
		bad_usage("at most 16 --allow");
	snprintf(addr, sizeof(addr), "%s", s);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, addr, &v4) == 1) {
		a->addr[10] = a->addr[11] = 0xff;
		memcpy(&a->addr[12], &v4, sizeof(v4));
		max = 32;
	} else if (inet_pton(AF_INET6, addr, a->addr) != 1) {
		fprintf(stderr, "pmrdmactl: %s: bad address '%s'\n", cmd_name, s);
		exit(2);
	}
	len = slash ? parse_u32(slash + 1, "prefix length", max) : max;
	a->len = len + 128 - max;
	p->nallow++;
}

void read_key(struct pmem_rdma_policy *p, const char *path)
{
	char msg[256];
	size_t len;

	if (pmrdma_key_read(path, p->key, &len, msg, sizeof(msg)))
		die("%s", msg);
	p->key_len = len;
}

/* export's options as given, checked for what they need of each other */
struct export_args {
	struct dev_range r;
	const char *dev;
	uint32_t access, verify_algs, port, max_peers;
	bool emulated, any, json, force;
	struct pmem_rdma_policy policy;		/* the allow-list and key */
	struct pmem_rdma_policy data_key;	/* --data-key's, in .key */
};

static void export_parse(int argc, char **argv, struct export_args *a)
{
	static const struct option opts[] = {
		DEV_RANGE_OPTIONS,
		{ "access", required_argument, NULL, 'a' },
		{ "verify", required_argument, NULL, 'V' },
		{ "dev", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'P' },
		{ "emulated", no_argument, NULL, 'e' },
		{ "max-peers", required_argument, NULL, 'm' },
		{ "allow", required_argument, NULL, 'A' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "data-key", required_argument, NULL, 'K' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	*a = (struct export_args){ .dev = "rxe0", .access = ACCESS_DEFAULT };
	while ((c = getopt_long(argc, argv, "p:o:l:a:V:d:P:m:A:k:K:fejh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(cmd_name, "demote"))
				bad_usage("--force is demote's");
			a->force = true;
			break;
		case 'a':
			a->access = parse_set(optarg, access_names, "access");
			break;
		case 'V':
			a->verify_algs = parse_set(optarg, verify_names,
						   "algorithm");
			break;
		case 'd':
			a->dev = optarg;
			break;
		case 'P':
			a->port = parse_u32(optarg, "port", 65535);
			break;
		case 'e':
			a->emulated = true;
			break;
		case 'm':
			a->max_peers = parse_u32(optarg, "max-peers",
						 PMEM_RDMA_MAX_PEERS_LIMIT);
			if (!a->max_peers)
				bad_usage("--max-peers takes 1 or more");
			break;
		case 'A':
			if (!strcmp(optarg, "any"))
				a->any = true;
			else
				parse_allow(&a->policy, optarg);
			break;
		case 'k':
			if (a->policy.key_len)
				bad_usage("one --key-file");
			read_key(&a->policy, optarg);
			break;
		case 'K':
			read_key(&a->data_key, optarg);
			if (a->data_key.key_len != 16 &&
			    a->data_key.key_len != 32)
				die("%s: a data key has 16 or 32 bytes (AES-128 or AES-256)",
				    optarg);
			break;
		default:
			if (!dev_range_opt(c, &a->r))
				common_opt(c, &a->json);
		}
	}
	if (optind != argc)
		bad_usage("unexpected argument");
	if (!a->r.path || !a->r.have_len || !a->port)
		bad_usage("needs --path, --length and --port");
	/* no open default: an export open to all says so */
	if (a->any && (a->policy.nallow || a->policy.key_len))
		bad_usage("--allow any goes alone");
	if (!a->any && !a->policy.nallow && !a->policy.key_len)
		bad_usage("say who may connect: --allow ADDR[/LEN], --key-file FILE, or --allow any");
	if (strlen(a->r.path) >= PMEM_RDMA_PATH_MAX)
		bad_usage("path too long");
	if (strlen(a->dev) >= PMEM_RDMA_IBDEV_MAX)
		bad_usage("RDMA device name too long");
}

/* the EXPORT ioctl's request for the checked options */
static void export_request(const struct export_args *a,
			   struct pmem_rdma_export_req *e)
{
	memset(e, 0, sizeof(*e));	/* reserved and padding too */
	e->abi_version = PMEM_RDMA_ABI_VERSION;
	e->offset = a->r.offset;
	e->length = a->r.length;
	e->access = a->access;
	e->verify_algs = a->verify_algs;
	e->port = a->port;
	e->max_peers = a->max_peers;
	e->policy = a->policy;
	if (a->data_key.key_len) {
		memcpy(e->data_key, a->data_key.key, a->data_key.key_len);
		e->flags |= a->data_key.key_len == 32 ?
			    PMEM_RDMA_EXPORT_KEYED_256 :
			    PMEM_RDMA_EXPORT_KEYED_128;
	}
	/* -V implies verify; verify alone allows every algorithm */
	if (e->verify_algs)
		e->access |= PMEM_RDMA_ACCESS_VERIFY;
	else if (e->access & PMEM_RDMA_ACCESS_VERIFY)
		e->verify_algs = PMEM_RDMA_VERIFY_ALL;
	if (a->emulated)
		e->flags |= PMEM_RDMA_EXPORT_EMULATED;
	if (a->any)
		e->flags |= PMEM_RDMA_EXPORT_ANY_PEER;
	strcpy(e->path, a->r.path);
	strcpy(e->ib_dev, a->dev);
}

static void export_print(const struct pmem_rdma_export_req *e, bool json)
{
	if (json)
		printf("{\"id\":%u}\n", e->id);
	else
		printf("export %u: %s [%" PRIu64 ", +%" PRIu64 ") on %s port %u\n",
		       e->id, e->path, (uint64_t)e->offset, (uint64_t)e->length,
		       e->ib_dev, e->port);
}

static int cmd_export(int argc, char **argv)
{
	struct pmem_rdma_export_req e;
	struct export_args a;
	struct pmrdma_target *t;
	int err;

	export_parse(argc, argv, &a);
	/* a copy a primary still has is no replica */
	if (!strcmp(cmd_name, "demote"))
		copy_demote_check(&a.r, a.force);
	export_request(&a, &e);
	t = target_open();
	err = pmrdma_target_export(t, &e);
	explicit_bzero(a.policy.key, sizeof(a.policy.key));
	explicit_bzero(e.policy.key, sizeof(e.policy.key));
	check(t, err);
	pmrdma_target_close(&t);
	export_print(&e, a.json);
	return 0;
}

static int cmd_unexport(int argc, char **argv)
{
	struct pmrdma_target *t;
	uint32_t id;

	simple_args(argc, argv, &id);
	t = target_open();
	check(t, pmrdma_target_unexport(t, id));
	pmrdma_target_close(&t);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	bool json = simple_args(argc, argv, NULL);
	struct pmem_rdma_export_info *info = NULL;
	struct pmrdma_target *t;
	uint32_t i, count;

	t = target_open();
	check(t, pmrdma_target_list(t, &info, &count));
	pmrdma_target_close(&t);

	if (json)
		putchar('[');
	for (i = 0; i < count; i++) {
		struct pmem_rdma_export_info *x = &info[i];
		bool emu = x->flags & PMEM_RDMA_EXPORT_EMULATED;

		if (!json) {
			printf("%u %s offset=%" PRIu64 " length=%" PRIu64
			       " access=", x->id, x->path, (uint64_t)x->offset,
			       (uint64_t)x->length);
			print_set(x->access, access_names, false);
			if (x->verify_algs) {
				printf(" verify=");
				print_set(x->verify_algs, verify_names, false);
			}
			printf(" dev=%s port=%u peers=%u/%u", x->ib_dev,
			       x->port, x->peers, x->max_peers);
			if (x->flags & PMEM_RDMA_EXPORT_ANY_PEER)
				printf(" allow=any");
			if (x->nallow)
				printf(" allow=%u", x->nallow);
			printf("%s%s\n", x->key_len ? " key" : "",
			       emu ? " emulated" : "");
			continue;
		}
		printf("%s\n  {\"id\":%u, \"path\":", i ? "," : "", x->id);
		print_json_string(x->path);
		printf(", \"offset\":%" PRIu64 ", \"length\":%" PRIu64
		       ", \"access\":", (uint64_t)x->offset, (uint64_t)x->length);
		print_set(x->access, access_names, true);
		printf(", \"verify\":");
		print_set(x->verify_algs, verify_names, true);
		printf(", \"emulated\":%s, \"dev\":", emu ? "true" : "false");
		print_json_string(x->ib_dev);
		printf(", \"port\":%u, \"peers\":%u, \"max_peers\":%u",
		       x->port, x->peers, x->max_peers);
		printf(", \"any_peer\":%s, \"allow\":%u, \"key\":%s}",
		       x->flags & PMEM_RDMA_EXPORT_ANY_PEER ? "true" : "false",
		       x->nallow, x->key_len ? "true" : "false");
	}
	if (json)
		printf("%s]\n", count ? "\n" : "");
	free(info);
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const char *const names[] = {
		"peers", "connects", "bytes_written", "flushes",
		"bytes_flushed", "verifies", "power_failures", "dirty_lines",
		"refused",
	};
	struct pmem_rdma_stats st = {};
	uint64_t v[ARRAY_SIZE(names)];
	bool json;
	struct pmrdma_target *t;
	int i;

	json = simple_args(argc, argv, &st.id);
	t = target_open();
	check(t, pmrdma_target_stats(t, &st));
	pmrdma_target_close(&t);

	v[0] = st.peers;
	v[1] = st.connects;
	v[2] = st.bytes_written;
	v[3] = st.flushes;
	v[4] = st.bytes_flushed;
	v[5] = st.verifies;
	v[6] = st.power_failures;
	v[7] = st.dirty_lines;
	v[8] = st.refused;
	if (json)
		printf("{\"id\":%u", st.id);
	else
		printf("export %u\n", st.id);
	for (i = 0; i < (int)ARRAY_SIZE(names); i++)
		printf(json ? ", \"%s\":%" PRIu64 : "  %-15s %" PRIu64 "\n",
		       names[i], v[i]);
	if (json)
		printf("}\n");
	return 0;
}

static int cmd_power_fail(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eviction", required_argument, NULL, 'E' },
		{ "seed", required_argument, NULL, 's' },
		{ "stay-down", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct pmem_rdma_power_fail pf = {};
	bool json = false;
	struct pmrdma_target *t;
	int c;

	while ((c = getopt_long(argc, argv, "E:s:Djh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			pf.flags = PMEM_RDMA_POWER_FAIL_STAY_DOWN;
			break;
		case 'E':
			pf.eviction_ppm = parse_u32(optarg, "eviction (ppm)",
						    1000000);
			break;
		case 's':
			pf.seed = parse_size(optarg, "seed");
			break;
		default:
			common_opt(c, &json);
		}
	}
	pf.id = one_id(argc, argv);

	t = target_open();
	check(t, pmrdma_target_power_fail(t, &pf));
	pmrdma_target_close(&t);
	if (json)
		printf("{\"id\":%u, \"lines_lost\":%" PRIu64
		       ", \"lines_evicted\":%" PRIu64 "}\n", pf.id,
		       (uint64_t)pf.lines_lost, (uint64_t)pf.lines_evicted);
	else
		printf("export %u: power failure: %" PRIu64 " lines lost, %"
		       PRIu64 " reached the media early%s\n", pf.id,
		       (uint64_t)pf.lines_lost, (uint64_t)pf.lines_evicted,
		       pf.flags ? "; down until power-on" : "");
	return 0;
}

static int cmd_power_on(int argc, char **argv)
{
	struct pmem_rdma_power_fail pf = {
		.flags = PMEM_RDMA_POWER_FAIL_POWER_ON,
	};
	struct pmrdma_target *t;
	bool json;

	json = simple_args(argc, argv, &pf.id);
	t = target_open();
	check(t, pmrdma_target_power_fail(t, &pf));
	pmrdma_target_close(&t);
	if (json)
		printf("{\"id\":%u, \"lines_lost\":%" PRIu64 "}\n", pf.id,
		       (uint64_t)pf.lines_lost);
	else
		printf("export %u: power on: %" PRIu64
		       " lines stored while down lost\n", pf.id,
		       (uint64_t)pf.lines_lost);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "export", cmd_export },
		{ "unexport", cmd_unexport },
		{ "list", cmd_list },
		{ "stats", cmd_stats },
		{ "power-fail", cmd_power_fail },
		{ "power-on", cmd_power_on },
		{ "status", cmd_status },
		{ "promote", cmd_promote },
		{ "demote", cmd_export },
		{ "serve", cmd_serve },
	};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		cmd_name = cmds[i].name;
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "pmrdmactl: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "try 'pmrdmactl --help'\n");
	return 2;
}
