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

/* What the command line asked for. */
struct send_args {
	struct cli_common o;
	struct cli_xfer x;
	char **paths; /* FILE|DIR... */
	size_t n;
	const char *dest; /* the last argument */
};

/* What goes: the arguments' names, their trees, and the items to push. */
struct send_plan {
	struct ferry_config *cfg;
	const char *identity;
	struct ferry_addr addr;
	char **names; /* copies of the arguments, for basename() */
	struct tree *trees; /* -r: a directory argument's walk, else empty */
	struct ferry_push_item *items;
	size_t nitems, nskipped, nfiles;
	unsigned walk_skipped; /* fifos, bad names...: noted by the walk */
	uint64_t tree_bytes; /* -r: the trees' files, for progress */
};

static int
send_parse(int argc, char **argv, struct send_args *a)
{
	static const struct option opts[] = {
	    CLI_LONGOPTS_COMMON,
	    CLI_LONGOPTS_XFER,
	    {NULL, 0, NULL, 0},
	};
	int ch, code;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:" CLI_SHORTOPTS_XFER "h", opts,
	            NULL)) != -1) {
		if ((code = cli_xfer_opt(&a->x, ch)) == -1)
			code = cli_common_opt(&a->o, ch, argv);
		if (code != 0)
			return code;
	}
	if (argc - optind < 2)
		return cli_usage(usage);
	a->paths = argv + optind;
	a->n = (size_t)(argc - optind - 1);
	a->dest = argv[argc - 1];
	return 0;
}

/* The peer receives each argument's basename, as with scp: one each. */
static int
send_names(const struct send_args *a, struct send_plan *p)
{
	const char **dst;
	int code;

	if ((p->names = calloc(a->n, sizeof(*p->names))) == NULL ||
	    (p->trees = calloc(a->n, sizeof(*p->trees))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "send");
	for (size_t i = 0; i < a->n; i++) {
		if ((p->names[i] = strdup(a->paths[i])) == NULL)
			return cli_fail(FERRY_E_NOMEM, "send");
		if (basename(p->names[i])[0] == '\0' ||
		    strcmp(basename(p->names[i]), "/") == 0) {
			cli_error("send: %s: not a file or directory name",
			    a->paths[i]);
			return EXIT_USAGE;
		}
	}
	if ((dst = malloc(a->n * sizeof(*dst))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "send");
	for (size_t i = 0; i < a->n; i++)
		dst[i] = basename(p->names[i]);
	code = client_unique_names("send", dst, a->n);
	free(dst);
	return code;
}

/* The items of one walked tree; links without --links are counted out. */
static void
send_tree_items(
    const struct send_args *a, struct send_plan *p, const struct tree *t)
{
	for (size_t j = 0; j < t->n; j++) {
		const struct tree_node *v = &t->v[j];

		if (v->kind == 'l' && !a->x.links) {
			p->nskipped++;
			continue;
		}
		if (v->kind == 'f') {
			p->tree_bytes += v->size;
			p->nfiles++;
		}
		p->items[p->nitems++] =
		    (struct ferry_push_item){.path = v->local,
		        .name = v->remote,
		        .kind = v->kind == 'd'   ? FERRY_KIND_DIR
		                : v->kind == 'l' ? FERRY_KIND_LINK
		                                 : FERRY_KIND_FILE,
		        .target = v->target,
		        .mode = v->mode,
		        .mtime = v->mtime,
		        /* Opened beneath the walked directory, checked. */
		        .dirfd = t->fd,
		        .rel = v->kind == 'f' ? v->rel : NULL,
		        .dev = (uint64_t)v->dev,
		        .ino = (uint64_t)v->ino};
	}
}

/* Files stand for one item each; directories (-r) for their trees. */
static int
send_plan(const struct send_args *a, struct send_plan *p)
{
	size_t n = a->n;
	int code, r;

	if ((code = client_addr(
	         "send", a->dest, 0, &p->cfg, &p->addr, &p->identity)) != 0)
		return code;
	/* -i wins over the configuration file. */
	if (a->o.identity != NULL)
		p->identity = a->o.identity;
	if ((code = send_names(a, p)) != 0)
		return code;
	for (size_t i = 0; a->x.recursive && i < a->n; i++) {
		struct stat st;

		/* Links are scanned always: without --links each is reported
		 * skipped. */
		if (stat(a->paths[i], &st) == 0 && S_ISDIR(st.st_mode) &&
		    (r = tree_scan(a->paths[i], 1, &p->trees[i])) != 0)
			return cli_fail(r, "send: %s", a->paths[i]);
		n += p->trees[i].n;
		p->walk_skipped += p->trees[i].skipped;
	}
	if ((p->items = calloc(n + 1, sizeof(*p->items))) == NULL)
		return cli_fail(FERRY_E_NOMEM, "send");
	for (size_t i = 0; i < a->n; i++) {
		if (p->trees[i].n > 0) {
			send_tree_items(a, p, &p->trees[i]);
			continue;
		}
		p->nfiles++;
		p->items[p->nitems++] =
		    (struct ferry_push_item){.path = a->paths[i],
		        .name = basename(p->names[i]),
		        .kind = FERRY_KIND_FILE};
	}
	return 0;
}

/*
 * Said before anything moves: a peer from before SYNC takes single files
 * only (one line, EXIT_USAGE), and each link left out gets its note.
 */
static int
send_preflight(const struct send_args *a, const struct send_plan *p,
    struct ferry_conn *c, struct batch *b)
{
	if ((ferry_conn_features(c) & FERRY_FEATURE_SYNC) == 0)
		for (size_t i = 0; i < a->n; i++)
			if (p->trees[i].n > 0) {
				cli_error("send: %s: the peer cannot receive "
				          "directories (it lacks the SYNC "
				          "feature); nothing was sent",
				    a->paths[i]);
				return EXIT_USAGE;
			}
	for (size_t i = 0; p->nskipped > 0 && i < a->n; i++)
		for (size_t j = 0; j < p->trees[i].n; j++)
			if (p->trees[i].v[j].kind == 'l') {
				struct ferry_xfer_result res = {
				    .name = p->trees[i].v[j].remote,
				    .kind = FERRY_KIND_LINK,
				    .skipped = 1};

				client_report(&res, b);
			}
	return 0;
}

static int
send_run(const struct send_args *a, const struct send_plan *p)
{
	uint32_t flags = (a->x.force ? FERRY_PUT_FORCE : 0) |
	                 (a->x.preserve ? FERRY_PUT_PRESERVE : 0) |
	                 (a->x.no_resume ? FERRY_PUSH_NO_RESUME : 0);
	struct ferry_tls *tls = NULL;
	struct ferry_conn *c = NULL;
	struct batch b;
	int code, r;

	cli_log_setup(0, 0);
	client_catch_signals();
	client_batch_init(&b, "send", a->x.quiet);
	b.json = a->x.json;
	b.limit = a->x.limit;
	b.total = (unsigned)(p->nitems + p->nskipped) + p->walk_skipped;
	b.nfiles = (unsigned)p->nfiles;
	/* Left out by the walk, each with its note already: exit 9. */
	b.skipped = p->walk_skipped;
	b.overall = a->x.recursive;
	b.all_total = p->tree_bytes;
	if ((code = client_open("send", p->identity, FERRY_TLS_CLIENT, &p->addr,
	         a->o.timeout_ms, &tls, &c)) != 0) {
		b.failed = (unsigned)p->nitems;
		if (a->x.json) /* the one line said it all on a terminal */
			client_summary(&b, code);
		return code;
	}
	b.peer = ferry_conn_peer_id(c);
	if ((code = send_preflight(a, p, c, &b)) == 0) {
		r = ferry_xfer_push(c, p->items, p->nitems, flags,
		    client_progress, client_report, &b);
		if (r == 0)
			r = ferry_conn_close(c);
		code = client_batch_exit(&b, r, (unsigned)p->nitems);
		client_summary(&b, code);
	}
	ferry_conn_free(c);
	ferry_tls_free(tls);
	return code;
}

static void
send_plan_free(const struct send_args *a, struct send_plan *p)
{
	ferry_config_free(p->cfg);
	for (size_t i = 0; p->names != NULL && i < a->n; i++)
		free(p->names[i]);
	for (size_t i = 0; p->trees != NULL && i < a->n; i++)
		tree_free(&p->trees[i]);
	free(p->trees);
	free(p->names);
	free(p->items);
}

int
cmd_send(int argc, char **argv)
{
	struct send_args a = {
	    .o = {.cmd = "send", .usage = usage, .timeout_ms = 30000}};
	struct send_plan p = {0};
	int code = send_parse(argc, argv, &a);

	if (code == 0 && (code = send_plan(&a, &p)) == 0)
		code = send_run(&a, &p);
	send_plan_free(&a, &p);
	return code;
}
