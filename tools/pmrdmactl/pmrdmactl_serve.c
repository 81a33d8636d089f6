// SPDX-License-Identifier: GPL-2.0
/*
 * pmrdmactl serve - the user-space target's front end: serve a devdax
 * device to libpmrdma's peers (pmrdma_serve.h) where the pmem_rdma module
 * is not loaded, until SIGINT or SIGTERM.  Its options are in usage_text
 * (pmrdmactl.c), with every other command's.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pmrdma_serve.h"
#include "pmrdmactl.h"

static struct pmrdma_server *serving;

static void stop_serving(int sig)
{
	(void)sig;
	pmrdma_server_stop(serving);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		DEV_RANGE_OPTIONS,
		{ "port", required_argument, NULL, 'P' },
		{ "addr", required_argument, NULL, 'a' },
		{ "max-peers", required_argument, NULL, 'm' },
		{ "allow", required_argument, NULL, 'A' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "data-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct pmrdma_serve_config cfg = { 0 };
	struct pmem_rdma_policy key = { 0 }, data_key = { 0 };
	struct dev_range r = { 0 };
	struct pmrdma_server_stats st;
	struct sigaction sa = { .sa_handler = stop_serving };
	bool json = false;
	char msg[256];
	int c, err;

	while ((c = getopt_long(argc, argv, "p:o:l:P:a:m:A:k:K:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'P':
			cfg.port = parse_u32(optarg, "port", 65535);
			break;
		case 'a':
			cfg.addr = optarg;
			break;
		case 'm':
			cfg.max_peers = parse_u32(optarg, "max-peers",
						  PMEM_RDMA_MAX_PEERS_LIMIT);
			break;
		case 'A':
			if (strcmp(optarg, "any"))
				bad_usage("serve takes -A any only");
			cfg.any_peer = true;
			break;
		case 'k':
			read_key(&key, optarg);
			cfg.key = key.key;
			cfg.key_len = key.key_len;
			break;
		case 'K':
			/* a file as the connect key's; the server checks its length */
			read_key(&data_key, optarg);
			cfg.data_key = data_key.key;
			cfg.data_key_len = data_key.key_len;
			break;
		default:
			if (!dev_range_opt(c, &r))
				common_opt(c, &json);
		}
	}
	cfg.path = r.path;
	cfg.offset = r.offset;
	cfg.length = r.length;
	if (!cfg.path || !cfg.port)
		bad_usage("needs --path and --port");
	if (!cfg.any_peer == !cfg.key)
		bad_usage("say who may connect: -k KEYFILE or -A any");
	err = pmrdma_server_new(&serving, &cfg, msg, sizeof(msg));
	/* the server has its copy */
	explicit_bzero(&key, sizeof(key));
	explicit_bzero(&data_key, sizeof(data_key));
	if (err)
		die("%s", msg);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("serving %s on port %u: FLUSH where the device can, GPSPM and APM, %s%s\n",
	       cfg.path, cfg.port, cfg.key ? "peers with the key" : "any peer",
	       cfg.data_key ? ", keyed MRs" : "");
	fflush(stdout);
	err = pmrdma_server_run(serving, -1);
	pmrdma_server_get_stats(serving, &st);
	printf("served: %" PRIu64 " peers, %" PRIu64 " refused, %" PRIu64
	       " requests, %" PRIu64 " bytes persisted\n", st.connects,
	       st.refused, st.requests, st.bytes_persisted);
	if (err)
		die("%s", pmrdma_server_errormsg(serving));
	pmrdma_server_delete(&serving);
	return 0;
}
