/* cmd_send.c - `ferry send [-r] FILE|DIR... [ID@]HOST[:PORT]`: push files
 * and trees to a peer. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry/xfer.h"

#include "cli.h"
#include "client.h"
#include "tree.h"

static const char usage[] =
    "send [-i IDDIR] [-r] [--links] [--force] [-p] [-q] [--json] "
    "[--no-resume] [--limit-rate RATE] [--timeout SECS] FILE|DIR... "
    "{[ID@]HOST[:PORT] | PEER:}";

int
cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_XFER,
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
	struct cli_xfer x = {0};
	struct tree *trees = NULL;
	size_t n = 0, nargs = 0, nitems = 0, nskipped = 0, nfiles = 0;
	unsigned walk_skipped = 0; /* fifos, bad names...: noted by the walk */
	uint64_t tree_bytes = 0; /* -r: the trees' files, for progress */
	int ch, code = EXIT_FAIL, r;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:" CLI_SHORTOPTS_XFER "h", opts,
	            NULL)) != -1) {
		if ((code = cli_xfer_opt(&x, ch)) == -1)
			code = cli_common_opt(&o, ch, argv);
		if (code != 0)
			return code;
	}
	flags = (x.force ? FERRY_PUT_FORCE : 0) |
	        (x.preserve ? FERRY_PUT_PRESERVE : 0) |
	        (x.no_resume ? FERRY_PUSH_NO_RESUME : 0);
	if (argc - optind < 2)
		return cli_usage(usage);
	if ((code = client_addr(
	         "send", argv[argc - 1], 0, &cfg, &a, &identity)) != 0)
		goto out;
	/* -i wins over the configuration file. */
	if (o.identity != NULL)
		identity = o.identity;
	code = EXIT_FAIL;
	nargs = (size_t)(argc - optind - 1);
	if ((names = calloc(nargs, sizeof(*names))) == NULL ||
	    (trees = calloc(nargs, sizeof(*trees))) == NULL)
		goto out;
	for (size_t i = 0; i < nargs; i++) {
		/* The peer receives the basename, as with scp. */
		if ((names[i] = strdup(argv[optind + (int)i])) == NULL)
			goto out;
		if (basename(names[i])[0] == '\0' ||
		    strcmp(basename(names[i]), "/") == 0) {
			cli_error("send: %s: not a file or directory name",
			    argv[optind + (int)i]);
			code = EXIT_USAGE;
			goto out;
		}
	}
	{
		const char **dst = malloc(nargs * sizeof(*dst));

		if (dst == NULL)
			goto out;
		for (size_t i = 0; i < nargs; i++)
			dst[i] = basename(names[i]);
		code = client_unique_names("send", dst, nargs);
		free(dst);
		if (code != 0)
			goto out;
		code = EXIT_FAIL;
	}
	/* Files stand for one item each; directories for their trees. */
	n = nargs;
	if (x.recursive) {
		for (size_t i = 0; i < nargs; i++) {
			struct stat st;

			/* Links are scanned always: without --links each is
			 * reported skipped. */
			if (stat(argv[optind + (int)i], &st) == 0 &&
			    S_ISDIR(st.st_mode) &&
			    (r = tree_scan(
			         argv[optind + (int)i], 1, &trees[i])) != 0) {
				code = cli_fail(
				    r, "send: %s", argv[optind + (int)i]);
				goto out;
			}
			n += trees[i].n;
			walk_skipped += trees[i].skipped;
		}
		code = EXIT_FAIL;
	}
	if ((items = calloc(n + 1, sizeof(*items))) == NULL)
		goto out;
	for (size_t i = 0; i < nargs; i++) {
		if (trees[i].n == 0) {
			nfiles++;
			items[nitems++] = (struct ferry_push_item){
			    .path = argv[optind + (int)i],
			    .name = basename(names[i]),
			    .kind = FERRY_KIND_FILE};
			continue;
		}
		for (size_t j = 0; j < trees[i].n; j++) {
			const struct tree_node *t = &trees[i].v[j];

			if (t->kind == 'l' && !x.links) {
				nskipped++;
				continue;
			}
			if (t->kind == 'f') {
				tree_bytes += t->size;
				nfiles++;
			}
			items[nitems++] = (struct ferry_push_item){
			    .path = t->local,
			    .name = t->remote,
			    .kind = t->kind == 'd'   ? FERRY_KIND_DIR
			            : t->kind == 'l' ? FERRY_KIND_LINK
			                             : FERRY_KIND_FILE,
			    .target = t->target,
			    .mode = t->mode,
			    .mtime = t->mtime,
			    /* Opened beneath the walked directory, checked. */
			    .dirfd = trees[i].fd,
			    .rel = t->kind == 'f' ? t->rel : NULL,
			    .dev = (uint64_t)t->dev,
			    .ino = (uint64_t)t->ino};
		}
	}
	n = nitems;
	cli_log_setup(0, 0);
	client_catch_signals();
	client_batch_init(&b, "send", x.quiet);
	b.json = x.json;
	b.limit = x.limit;
	b.total = (unsigned)(n + nskipped) + walk_skipped;
	b.nfiles = (unsigned)nfiles;
	/* Left out by the walk, each with its note already: exit 9. */
	b.skipped = walk_skipped;
	b.overall = x.recursive;
	b.all_total = tree_bytes;
	if ((code = client_open("send", identity, FERRY_TLS_CLIENT, &a,
	         o.timeout_ms, &tls, &c)) != 0) {
		b.failed = (unsigned)n;
		if (x.json) /* the one line said it all on a terminal */
			client_summary(&b, code);
		goto out;
	}
	b.peer = ferry_conn_peer_id(c);
	/* A peer from before SYNC takes single files only: one line says so. */
	if ((ferry_conn_features(c) & FERRY_FEATURE_SYNC) == 0)
		for (size_t i = 0; i < nargs; i++)
			if (trees[i].n > 0) {
				cli_error("send: %s: the peer cannot receive "
				          "directories (it lacks the SYNC "
				          "feature); nothing was sent",
				    argv[optind + (int)i]);
				code = EXIT_USAGE;
				goto out;
			}
	/* Links left out without --links: a note each, and in --json. */
	for (size_t i = 0; nskipped > 0 && i < nargs; i++)
		for (size_t j = 0; j < trees[i].n; j++)
			if (trees[i].v[j].kind == 'l') {
				struct ferry_xfer_result res = {
				    .name = trees[i].v[j].remote,
				    .kind = FERRY_KIND_LINK,
				    .skipped = 1};

				client_report(&res, &b);
			}
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
	for (size_t i = 0; names != NULL && i < nargs; i++)
		free(names[i]);
	for (size_t i = 0; trees != NULL && i < nargs; i++)
		tree_free(&trees[i]);
	free(trees);
	free(names);
	free(items);
	return code;
}
