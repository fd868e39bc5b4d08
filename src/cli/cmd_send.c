/* cmd_send.c - `ferry send FILE... [ID@]HOST[:PORT]`: push files to a peer. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/xfer.h"

#include "cli.h"
#include "client.h"

static const char usage[] = "send [-i IDDIR] [--force] [-p] [-q] [--json] "
                            "[--limit-rate RATE] [--timeout SECS] FILE... "
                            "{[ID@]HOST[:PORT] | PEER:}";

int
cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    {"force", no_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"preserve", no_argument, NULL, 'p'},
	    {"json", no_argument, NULL, CLI_OPT_JSON},
	    {"limit-rate", required_argument, NULL, CLI_OPT_LIMIT_RATE},
	    {NULL, 0, NULL, 0},
	};
	struct cli_common o = {
	    .cmd = "send", .usage = usage, .timeout_ms = 30000};
	struct batch b;
	struct ferry_push_item *items = NULL;
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	struct ferry_config *cfg = NULL;
	const char *identity = NULL;
	struct ferry_addr a;
	char **names = NULL;
	uint32_t flags = 0;
	uint64_t limit = 0;
	int quiet = 0, json = 0;
	size_t n = 0;
	int ch, code = EXIT_FAIL, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:fpqh", opts, NULL)) != -1) {
		if (ch == 'f')
			flags |= FERRY_PUT_FORCE;
		else if (ch == 'p')
			flags |= FERRY_PUT_PRESERVE;
		else if (ch == 'q')
			quiet = 1;
		else if (ch == CLI_OPT_JSON)
			json = 1;
		else if (ch == CLI_OPT_LIMIT_RATE) {
			/* Below this a frame takes longer than a peer waits. */
			if (cli_parse_rate(
			        "--limit-rate", optarg, 32 * 1024, &limit) != 0)
				return EXIT_USAGE;
		} else if ((code = cli_common_opt(&o, ch, argv)) != 0)
			return code;
	}
	if (argc - optind < 2)
		return cli_usage(usage);
	if ((code = client_addr(
	         "send", argv[argc - 1], 0, &cfg, &a, &identity)) != 0)
		goto out;
	/* -i wins over the configuration file. */
	if (o.identity != NULL)
		identity = o.identity;
	code = EXIT_FAIL;
	n = (size_t)(argc - optind - 1);
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *path = argv[optind + (int)i];

		/* The peer receives the basename, as with scp. */
		if ((names[i] = strdup(path)) == NULL)
			goto out;
		items[i].path = path;
		items[i].name = basename(names[i]);
	}
	{
		const char **dst = malloc(n * sizeof(*dst));

		if (dst == NULL)
			goto out;
		for (size_t i = 0; i < n; i++)
			dst[i] = items[i].name;
		code = client_unique_names("send", dst, n);
		free(dst);
		if (code != 0)
			goto out;
		code = EXIT_FAIL;
	}
	cli_log_setup(0, 0);
	client_catch_signals();
	client_batch_init(&b, "send", quiet);
	b.json = json;
	b.limit = limit;
	b.total = (unsigned)n;
	if ((code = client_open("send", identity, FERRY_TLS_CLIENT, &a,
	         o.timeout_ms, &tls, &c)) != 0) {
		b.failed = (unsigned)n;
		if (json) /* the one line said it all on a terminal */
			client_summary(&b, code);
		goto out;
	}
	b.peer = ferry_conn_peer_id(c);
	r = ferry_xfer_push(
	    c, items, n, flags, client_progress, client_report, &b);
	if (r == 0)
		r = ferry_conn_close(c);
	code = client_batch_exit(&b, r, (unsigned)n);
	client_summary(&b, code);
out:
	ferry_config_free(cfg);
	ferry_conn_free(c);
	ferry_tls_free(tls);
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(items);
	return code;
}
